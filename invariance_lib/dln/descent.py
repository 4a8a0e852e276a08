"""Gradient descent on the factors of a deep linear network (chapter 3), in NumPy.

A deep linear network ``W = W_L ⋯ W_1`` turns ``ℓ_Z(W) = ‖Z − W‖²_F`` into
``f(W_1, …, W_L) = ‖Z − W_L ⋯ W_1‖²_F``. :func:`loss_and_gradients` and
:func:`gradient_descent` evaluate and minimise it with plain full-batch gradient
descent (deterministic, and vectorised over many starts at once); starts come from
:func:`~invariance_lib.dln.architecture.random_factors`; :func:`parameter_hessian`
gives the second-order picture at a critical point.

Conventions: factors are listed in the order they act, ``[W_1, …, W_L]`` with
``W_i`` of shape ``(d_i, d_{i−1})``; the target ``Z`` is ``(d_L, d_0)``. A leading
batch axis ``(S, d_i, d_{i−1})`` on every factor runs ``S`` starts together.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

import numpy as np

from ..core.linalg import blas_threads
from ..core.validation import as_matrix, check_int, check_scalar
from .architecture import chain_product

__all__ = ["DescentResult", "loss_and_gradients", "parameter_hessian", "gradient_descent"]



@dataclass(frozen=True)
class DescentResult:
    """The outcome of :func:`gradient_descent`.

    Attributes
    ----------
    factors : list of ndarray
        The final ``[W_1, …, W_L]`` (with the batch axis if the starts had one).
    losses : ndarray of shape (len(steps),) or (len(steps), S)
        ``‖Z − W_L ⋯ W_1‖²_F`` at the recorded steps.
    steps : ndarray of int
        The recorded step numbers, from 0 (the start) to the last step.
    products : ndarray of shape (len(steps), [S,] d_L, d_0), or None
        The end-to-end matrices at the recorded steps, if ``record_products=True``.
    """

    factors: list
    losses: np.ndarray
    steps: np.ndarray
    products: np.ndarray | None = None

    @property
    def end_to_end(self) -> np.ndarray:
        """The end-to-end matrix ``W_L ⋯ W_1`` at the end of training."""
        return chain_product(self.factors)


def loss_and_gradients(Z, factors: Sequence[np.ndarray]):
    """``f = ‖Z − W_L ⋯ W_1‖²_F`` and its gradients with respect to every factor.

    .. math:: ∂f/∂W_i = −2 (W_L ⋯ W_{i+1})ᵀ (Z − W) (W_{i−1} ⋯ W_1)ᵀ,
              \\quad W = W_L ⋯ W_1.

    Parameters
    ----------
    Z : array (d_L, d_0)
    factors : sequence of arrays ``[W_1, …, W_L]``
        ``W_i`` has shape ``(d_i, d_{i−1})``, or ``(S, d_i, d_{i−1})`` for ``S`` starts.

    Returns
    -------
    loss : float, or ndarray of shape (S,)
    grads : list of ndarray, shaped like ``factors``
    """
    Z = as_matrix(Z, "Z")
    factors = _check_factors(Z, factors)
    return _loss_and_grads(Z, factors)


def parameter_hessian(Z, factors: Sequence[np.ndarray]) -> np.ndarray:
    """Exact Hessian of ``f = ‖Z − W_L ⋯ W_1‖²_F`` with respect to all factor entries.

    With ``R = Z − W``, ``S_i = W_L ⋯ W_{i+1}`` and ``P_i = W_{i−1} ⋯ W_1`` (identities
    when empty), a perturbation ``δ = (δ_1, …, δ_L)`` changes the product by
    ``dW = Σ_i S_i δ_i P_i`` to first order and by
    ``Q = Σ_{i<j} S_j δ_j (W_{j−1} ⋯ W_{i+1}) δ_i P_i`` to second order, so

    .. math:: δᵀ H δ = 2‖dW‖² − 4⟨R, Q⟩ .

    The first term is ``2 JᵀJ`` with the Jacobian ``J`` of ``(W_1, …, W_L) ↦ W``; the
    second couples different layers only. Parameters are ordered ``W_1, …, W_L``, each
    flattened row by row (as ``np.concatenate([W.ravel() for W in factors])``).

    Use it to count the descent directions (negative eigenvalues) at a critical point,
    or as the Jacobian of the gradient when solving ``∇f = 0``.

    Parameters
    ----------
    Z : array (d_L, d_0)
    factors : sequence of 2-D arrays ``[W_1, …, W_L]`` (no batch axis)

    Returns
    -------
    ndarray of shape (P, P), ``P`` the total number of factor entries; symmetric.
    """
    Z = as_matrix(Z, "Z")
    factors = _check_factors(Z, factors)
    if any(f.ndim != 2 for f in factors):
        raise ValueError("parameter_hessian takes one point: pass 2-D factors without a "
                         "batch axis.")
    L = len(factors)
    dims = [factors[0].shape[1]] + [f.shape[0] for f in factors]  # d_0, …, d_L

    def prod(a: int, b: int) -> np.ndarray:  # W_b ⋯ W_a (1-based); identity if b < a
        out = np.eye(dims[a - 1])
        for i in range(a, b + 1):
            out = factors[i - 1] @ out
        return out

    R = Z - prod(1, L)
    offsets = np.concatenate([[0], np.cumsum([f.size for f in factors])])
    # J[(p, q), (i; a, b)] = ∂W[p, q] / ∂W_i[a, b] = S_i[p, a] · P_i[b, q]
    J = np.concatenate([np.einsum("pa,bq->pqab", prod(i + 1, L), prod(1, i - 1))
                        .reshape(Z.size, -1) for i in range(1, L + 1)], axis=1)
    H = 2.0 * J.T @ J
    for i in range(1, L + 1):
        for j in range(i + 1, L + 1):
            M = prod(i + 1, j - 1)                       # (d_{j−1}, d_i)
            G = prod(j + 1, L).T @ R @ prod(1, i - 1).T  # (d_j, d_{i−1})
            block = -2.0 * np.einsum("bc,ad->abcd", M, G).reshape(
                factors[j - 1].size, factors[i - 1].size)
            H[offsets[j - 1]:offsets[j], offsets[i - 1]:offsets[i]] += block
            H[offsets[i - 1]:offsets[i], offsets[j - 1]:offsets[j]] += block.T
    return (H + H.T) / 2  # exactly symmetric (JᵀJ is only so up to rounding)


def gradient_descent(Z, factors: Sequence[np.ndarray], *, lr: float, steps: int,
                     record_every: int = 1, record_products: bool = False) -> DescentResult:
    """Plain gradient descent ``W_i ← W_i − lr · ∂f/∂W_i`` on ``f = ‖Z − W_L⋯W_1‖²_F``.

    All factors are updated simultaneously from the same gradient evaluation; a leading
    batch axis runs many starts at once (they do not interact). Deterministic: no
    randomness is used after the starts.

    Parameters
    ----------
    Z : array (d_L, d_0)
    factors : sequence of arrays ``[W_1, …, W_L]``, see :func:`loss_and_gradients`
        The starts; they are copied, not modified.
    lr : float > 0
        The step size. Stability needs roughly ``lr < 1 / (L · σ_1(Z)^{2 − 2/L})``.
    steps : int >= 0
    record_every : int >= 1
        Record the loss every this many steps (the start and the last step always).
    record_products : bool
        Also record the end-to-end matrix ``W_L ⋯ W_1`` at those steps.

    Returns
    -------
    DescentResult

    Raises
    ------
    FloatingPointError
        If the loss becomes infinite or NaN (the step size is too large).
    """
    Z = as_matrix(Z, "Z")
    factors = [f.copy() for f in _check_factors(Z, factors)]
    lr = check_scalar(lr, "lr", min_val=0.0, include_boundaries="neither")
    steps = check_int(steps, "steps", minimum=0)
    record_every = check_int(record_every, "record_every", minimum=1)
    record = set(range(0, steps + 1, record_every)) | {steps}
    losses, recorded, products = [], [], []
    # Overflow is caught below as a non-finite loss, with a better message.
    with blas_threads(1), np.errstate(over="ignore", invalid="ignore"):
        for t in range(steps + 1):
            loss, grads = _loss_and_grads(Z, factors)
            if not np.all(np.isfinite(loss)):
                raise FloatingPointError(
                    f"gradient descent diverged at step {t}: lr = {lr:g} is too large for "
                    f"this target and these starts. Lower lr (try lr / 10) or start from "
                    f"smaller weights.")
            if t in record:
                losses.append(loss)
                recorded.append(t)
                if record_products:
                    products.append(chain_product(factors))
            if t < steps:
                for f, g in zip(factors, grads):
                    f -= lr * g
    return DescentResult(factors, np.array(losses), np.array(recorded),
                         np.array(products) if record_products else None)


def _loss_and_grads(Z, factors):
    L = len(factors)
    # prefix[i] = W_i ⋯ W_1 (prefix[0] = None), suffix[i] = W_L ⋯ W_{i+2}
    prefix = [None] * (L + 1)
    P = None
    for i, f in enumerate(factors):
        P = f if P is None else f @ P
        prefix[i + 1] = P
    R = Z - prefix[L]
    loss = np.sum(R * R, axis=(-2, -1))
    grads = [None] * L
    S = None  # W_L ⋯ W_{i+2}
    for i in range(L - 1, -1, -1):
        left = R if S is None else np.swapaxes(S, -1, -2) @ R
        g = left if i == 0 else left @ np.swapaxes(prefix[i], -1, -2)
        grads[i] = -2.0 * g
        S = factors[i] if S is None else S @ factors[i]
    return (float(loss) if np.ndim(loss) == 0 else loss), grads


def _check_factors(Z, factors):
    if isinstance(factors, np.ndarray) or not isinstance(factors, (list, tuple)):
        raise TypeError("factors must be a list [W_1, ..., W_L] of arrays (W_1 acts first), "
                        f"got {type(factors).__name__}.")
    if len(factors) == 0:
        raise ValueError("factors is empty; pass at least one layer [W_1].")
    arrs = []
    for i, f in enumerate(factors, start=1):
        a = np.asarray(f, dtype=np.float64)
        if a.ndim not in (2, 3) or not np.all(np.isfinite(a)):
            raise ValueError(f"W_{i} must be a finite array of shape (d_{i}, d_{i - 1}) or "
                             f"(S, d_{i}, d_{i - 1}), got shape {a.shape}.")
        arrs.append(a)
    batch = {a.shape[0] for a in arrs if a.ndim == 3}
    if len(batch) > 1 or (batch and any(a.ndim == 2 for a in arrs)):
        raise ValueError(f"the factors have different batch sizes {sorted(batch)} (or some have "
                         f"none); give all of them the same leading axis S.")
    if arrs[0].shape[-1] != Z.shape[1]:
        raise ValueError(f"W_1 has {arrs[0].shape[-1]} columns but Z has d_0 = {Z.shape[1]} "
                         f"columns; W_1 must have shape (d_1, {Z.shape[1]}).")
    for i in range(1, len(arrs)):
        if arrs[i].shape[-1] != arrs[i - 1].shape[-2]:
            raise ValueError(f"W_{i + 1} has shape {arrs[i].shape[-2:]} but W_{i} has "
                             f"{arrs[i - 1].shape[-2]} rows: the chain W_L ⋯ W_1 does not "
                             f"multiply (W_{i + 1} needs {arrs[i - 1].shape[-2]} columns).")
    if arrs[-1].shape[-2] != Z.shape[0]:
        raise ValueError(f"W_L has {arrs[-1].shape[-2]} rows but Z has d_L = {Z.shape[0]} "
                         f"rows; the product must have the shape of Z, {Z.shape}.")
    return arrs

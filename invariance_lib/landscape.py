"""The loss landscape of low-rank approximation, in function space and parameter space.

Function space. On the determinantal variety ``M_r = {W : rank W <= r}`` the loss
``ℓ_Z(W) = ‖Z − W‖²_F`` has a first-order descent direction at ``W`` exactly when the
residual ``R = Z − W`` has a non-zero projection onto the tangent cone of ``M_r`` at
``W``. :func:`stationarity_residual` measures that projection:

* at a smooth point (``rank W = r``, column space ``U``, row space ``V``) the tangent
  space is ``{X : (I − P_U) X (I − P_V) = 0}`` and the projection is
  ``P_U R + R P_V − P_U R P_V``; it vanishes iff ``Uᵀ R = 0`` and ``R V = 0``, i.e. iff
  ``R`` lies in the normal space (the definition of a critical point);
* at a singular point (``rank W = k < r``) the tangent cone adds every matrix
  ``(I − P_U) X (I − P_V)`` of rank ``<= r − k`` (Schneider & Uschmajew 2015), and the
  projection adds the best rank-``(r − k)`` approximation of ``(I − P_U) R (I − P_V)``.

Parameter space. A deep linear network ``W = W_L ⋯ W_1`` turns ``ℓ_Z`` into
``f(W_1, …, W_L) = ‖Z − W_L ⋯ W_1‖²_F``. :func:`loss_and_gradients` and
:func:`gradient_descent` evaluate and minimise it with plain full-batch gradient
descent in NumPy (deterministic, and vectorised over many starts at once);
:func:`init_factors` draws seeded starts and :func:`critical_factors` builds the
balanced factorisation of ``U Σ_J Vᵀ``, a critical point of ``f`` for every index set
``J`` with ``|J| <= r``.

Conventions: factors are listed in the order they act, ``[W_1, …, W_L]`` with
``W_i`` of shape ``(d_i, d_{i−1})``; the target ``Z`` is ``(d_L, d_0)``. A leading
batch axis ``(S, d_i, d_{i−1})`` on every factor runs ``S`` starts together.
"""

from __future__ import annotations

import contextlib
import itertools
import numbers
from dataclasses import dataclass
from typing import Sequence

import numpy as np

from ._validation import as_matrix
from .linalg import rank_tolerance, svd
from .varieties import check_widths

try:  # one BLAS thread is much faster for the tiny products of these loops
    from threadpoolctl import threadpool_limits as _threadpool_limits
except ImportError:  # pragma: no cover
    _threadpool_limits = None

__all__ = ["stationarity_residual", "loss_and_gradients", "gradient_descent",
           "DescentResult", "init_factors", "critical_factors", "visited_critical_points",
           "parameter_hessian"]


# ----------------------------------------------------------------------------------------
# Function space
# ----------------------------------------------------------------------------------------

def stationarity_residual(Z, W, r: int) -> float:
    """Size of the steepest first-order descent of ``‖Z − W‖²`` on ``M_r`` at ``W``.

    Returns ``‖Π(Z − W)‖_F / ‖Z‖_F``, where ``Π`` is the projection onto the tangent
    cone of ``M_r = {rank <= r}`` at ``W``. With ``U`` and ``V`` orthonormal bases of the
    column and row space of ``W`` (numerical rank ``k``), ``P_U = UUᵀ``, ``P_V = VVᵀ``
    and ``R = Z − W``:

    .. math:: ‖Π R‖² = ‖P_U R + R P_V − P_U R P_V‖² + ‖[(I − P_U) R (I − P_V)]_{r−k}‖²,

    the second term (the best rank-``(r − k)`` part) present only at singular points,
    ``k < r``. The derivative of the loss along the best unit direction on ``M_r`` is
    ``−2‖ΠR‖``, so ``W`` is a critical point (first-order stationary) iff the value is 0.
    At a rank-``r`` point this is the normal-space condition ``Uᵀ R = 0``,
    ``R V = 0``; at a point of rank ``< r`` it forces ``W = Z``.

    Parameters
    ----------
    Z, W : array (m, k)
        Target and candidate point; ``W`` must have rank ``<= r``.
    r : int
        The rank bound, ``1 <= r <= min(m, k)``.

    Returns
    -------
    float
        0 (up to rounding) exactly at critical points; relative to ``‖Z‖_F``.
    """
    Z = as_matrix(Z, "Z")
    W = as_matrix(W, "W")
    if W.shape != Z.shape:
        raise ValueError(f"W has shape {W.shape} but Z has shape {Z.shape}; the candidate "
                         f"point must be a matrix of the same shape as the target.")
    r = _check_int(r, "r", maximum=min(Z.shape))
    U, s, Vt = svd(W)
    k = int(np.sum(s > max(rank_tolerance(s, max(W.shape)) * 10,
                           1e-12 * max(np.linalg.norm(Z), 1e-300))))
    if k > r:
        raise ValueError(f"W has rank {k} > r = {r}, so it is not a point of M_{r}; "
                         f"truncate it first (e.g. truncated_svd(W, {r})).")
    U, V = U[:, :k], Vt[:k].T
    R = Z - W
    PR = U @ (U.T @ R)
    RP = (R @ V) @ V.T
    tangent = PR + RP - U @ (U.T @ R @ V) @ V.T
    total = float(np.sum(tangent ** 2))
    if k < r:
        rest = R - tangent  # (I − P_U) R (I − P_V)
        sv = np.linalg.svd(rest, compute_uv=False)
        total += float(np.sum(sv[: r - k] ** 2))
    scale = float(np.linalg.norm(Z))
    return float(np.sqrt(total) / scale) if scale > 0 else float(np.sqrt(total))


# ----------------------------------------------------------------------------------------
# Parameter space
# ----------------------------------------------------------------------------------------

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
        return _chain(self.factors)


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
    if isinstance(lr, (bool, np.bool_)) or not isinstance(lr, numbers.Real) \
            or not np.isfinite(lr) or lr <= 0:
        raise ValueError(f"lr == {lr!r}, must be a finite number > 0 (the step size).")
    steps = _check_int(steps, "steps", minimum=0)
    record_every = _check_int(record_every, "record_every", minimum=1)
    record = set(range(0, steps + 1, record_every)) | {steps}
    losses, recorded, products = [], [], []
    # Overflow is caught below as a non-finite loss, with a better message.
    with _one_blas_thread(), np.errstate(over="ignore", invalid="ignore"):
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
                    products.append(_chain(factors))
            if t < steps:
                for f, g in zip(factors, grads):
                    f -= lr * g
    return DescentResult(factors, np.array(losses), np.array(recorded),
                         np.array(products) if record_products else None)


def init_factors(widths: Sequence[int], *, scale: float, rng: np.random.Generator,
                 starts: int | None = None) -> list[np.ndarray]:
    """Random factors ``[W_1, …, W_L]`` with i.i.d. ``N(0, scale²)`` entries.

    Parameters
    ----------
    widths : sequence of int ``(d_0, d_1, …, d_L)``
        ``W_i`` gets shape ``(d_i, d_{i−1})``; ``Z`` must be ``(d_L, d_0)``.
    scale : float > 0
    rng : numpy.random.Generator
        Pass ``np.random.default_rng(seed)``; the global state is never used.
    starts : int, optional
        If given, a leading batch axis of that many independent starts.
    """
    widths = check_widths(widths)
    if not isinstance(rng, np.random.Generator):
        raise TypeError(f"rng must be a numpy.random.Generator (np.random.default_rng(seed)), "
                        f"got {type(rng).__name__}.")
    if not (isinstance(scale, numbers.Real) and np.isfinite(scale) and scale > 0):
        raise ValueError(f"scale == {scale!r}, must be a finite number > 0.")
    batch = () if starts is None else (_check_int(starts, "starts", minimum=1),)
    return [scale * rng.normal(size=batch + (widths[i + 1], widths[i]))
            for i in range(len(widths) - 1)]


def critical_factors(Z, index_set: Sequence[int], widths: Sequence[int]) -> list[np.ndarray]:
    """Balanced factors of ``U Σ_J Vᵀ``: a critical point of ``‖Z − W_L⋯W_1‖²``.

    With the sign-fixed SVD ``Z = U Σ Vᵀ`` and ``J`` (0-based, ``|J| = j``), puts
    ``S = Σ_J^{1/L}`` on every layer: ``W_1 = [S V_Jᵀ; 0]``, ``W_i = [S 0; 0 0]``,
    ``W_L = [U_J S, 0]``, padded with zeros to the given widths. The product is
    ``U Σ_J Vᵀ`` and every gradient vanishes: ``(Z − W) v_i = 0`` and
    ``u_iᵀ (Z − W) = 0`` for ``i ∈ J``. ``J = ()`` gives all-zero factors.

    Parameters
    ----------
    Z : array (d_L, d_0)
    index_set : sequence of int
        Distinct 0-based positions in the descending singular values, at most the
        narrowest hidden width.
    widths : sequence of int ``(d_0, …, d_L)`` with ``d_0, d_L`` the shape of ``Z``.
    """
    Z = as_matrix(Z, "Z")
    widths = check_widths(widths)
    if (widths[0], widths[-1]) != (Z.shape[1], Z.shape[0]):
        raise ValueError(f"widths must run from d_0 = {Z.shape[1]} to d_L = {Z.shape[0]} "
                         f"(Z has shape {Z.shape}), got {tuple(widths)}.")
    U, s, Vt = svd(Z)
    J = [int(i) for i in index_set]
    if len(set(J)) != len(J) or any(i < 0 or i >= s.size for i in J):
        raise ValueError(f"index_set {tuple(J)} must hold distinct positions between 0 and "
                         f"{s.size - 1} (0-based).")
    r = min(widths[1:-1]) if len(widths) > 2 else min(widths)
    if len(J) > r:
        raise ValueError(f"index_set has {len(J)} entries but the narrowest layer has width "
                         f"{r}: the product has rank <= {r}.")
    L = len(widths) - 1
    root = s[J] ** (1.0 / L)
    j = len(J)
    out = []
    for i in range(L):
        W = np.zeros((widths[i + 1], widths[i]))
        if L == 1:
            W[:] = (U[:, J] * s[J]) @ Vt[J]
        elif i == 0:
            W[:j] = root[:, None] * Vt[J]
        elif i == L - 1:
            W[:, :j] = U[:, J] * root
        else:
            W[:j, :j] = np.diag(root)
        out.append(W)
    return out


def visited_critical_points(Z, products, r: int, *, tol: float = 0.01) -> list[tuple[int, ...]]:
    """The critical points ``U Σ_J Vᵀ`` (``|J| <= r``) that a trajectory passes, in order.

    A recorded matrix ``W`` "is at" ``U Σ_J Vᵀ`` when
    ``‖W − U Σ_J Vᵀ‖_F <= tol · ‖Z‖_F``; consecutive repeats are merged. Use it on the
    ``products`` of :func:`gradient_descent` (one run, no batch axis) to read off the
    saddles that the plateaus of a loss curve correspond to.

    Parameters
    ----------
    Z : array (m, k)
    products : array (T, m, k)
        End-to-end matrices along one trajectory.
    r : int
        Largest index-set size considered (the narrowest width).
    tol : float in (0, 1)

    Returns
    -------
    list of tuple of int
        0-based index sets, ``()`` for ``W = 0``.
    """
    Z = as_matrix(Z, "Z")
    Ws = as_matrix(products, "products", ndim=3)
    if Ws.shape[1:] != Z.shape:
        raise ValueError(f"products has shape {Ws.shape}; each recorded matrix must have the "
                         f"shape of Z, {Z.shape} (pass one run, not a batch of starts).")
    r = _check_int(r, "r", maximum=min(Z.shape))
    if not (isinstance(tol, numbers.Real) and 0 < tol < 1):
        raise ValueError(f"tol == {tol!r}, must be a number in (0, 1).")
    U, s, Vt = svd(Z)
    sets = [J for j in range(r + 1) for J in itertools.combinations(range(s.size), j)]
    points = np.array([(U[:, list(J)] * s[list(J)]) @ Vt[list(J)] for J in sets])
    dist = np.linalg.norm(Ws[:, None] - points[None], axis=(-2, -1))
    out: list[tuple[int, ...]] = []
    for row in dist:
        k = int(np.argmin(row))
        if row[k] <= tol * np.linalg.norm(Z) and (not out or out[-1] != sets[k]):
            out.append(sets[k])
    return out


# ----------------------------------------------------------------------------------------
# Helpers
# ----------------------------------------------------------------------------------------

def _one_blas_thread():
    if _threadpool_limits is None:  # pragma: no cover
        return contextlib.nullcontext()
    return _threadpool_limits(limits=1, user_api="blas")


def _chain(factors):
    W = factors[0]
    for f in factors[1:]:
        W = f @ W
    return W


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


def _check_int(v, name: str, minimum: int = 1, maximum: int | None = None) -> int:
    if isinstance(v, (bool, np.bool_)) or not isinstance(v, numbers.Integral):
        raise TypeError(f"{name} must be an integer, got {v!r} of type {type(v).__name__}.")
    v = int(v)
    if v < minimum:
        raise ValueError(f"{name} == {v}, must be >= {minimum}.")
    if maximum is not None and v > maximum:
        raise ValueError(f"{name} == {v}, must be <= {maximum}.")
    return v

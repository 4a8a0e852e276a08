"""Critical points in function space (Proposition B.9 and Proposition 13).

For a target ``Z = U Σ Vᵀ`` with ``rank Z > r`` and pairwise distinct non-zero
singular values, the critical points of ``ℓ_Z(W) = ‖Z − W‖²`` on the smooth part of
``M_r = {rank W ≤ r}`` are exactly ``U Σ_I Vᵀ`` for index sets ``I`` of size ``r``
(Trager, Kohn & Bruna 2020). The loss there is ``Σ_{i∉I} σ_i²``; only the top-``r``
set is a local (and the global) minimum, every other one is a saddle.

Each of the paper's three problems is such a problem after whitening
(:mod:`invariance_lib.theory.problems`), so its critical points are ``U Σ_I Vᵀ Fᵀ`` from the
SVD of its whitened target ``Z = C F`` (Proposition 13). There are
``C(rank Z, r)`` of them.
"""

from __future__ import annotations

import itertools
import math
import warnings
from dataclasses import dataclass

import numpy as np

from ..core.validation import (AssumptionWarning, as_matrix, check_rank_bound,
                          check_samples)
from ..core.linalg import COMPUTED_MARGIN, rank_of_values, svd
from .problems import build_problem

__all__ = ["CriticalPoint", "low_rank_critical_points", "critical_points", "escape_curve"]


@dataclass(frozen=True)
class CriticalPoint:
    """One critical point ``W = U Σ_I Vᵀ Fᵀ``.

    Attributes
    ----------
    W : ndarray
        The critical point as a matrix (for problems with data: mapped back to ``W``).
    loss : float
        The problem's loss at ``W``.
    index_set : tuple of int
        Positions, **0-based**, in the descending singular values of the target that
        ``W`` keeps (the paper's ``I``, which is 1-based).
    is_global_minimum : bool
        True for the top-``r`` set ``(0, …, r−1)``, the only local minimum.
    """

    W: np.ndarray
    loss: float
    index_set: tuple[int, ...]
    is_global_minimum: bool


def _enumerate(U, s, Vt, r: int, label: str, max_points: int):
    rank = rank_of_values(s, max(U.shape[0], Vt.shape[1]), margin=COMPUTED_MARGIN)
    nz = s[:rank]
    if rank <= r:
        warnings.warn(
            f"the {label} target has rank {rank} <= r = {r}: the rank bound is inactive, the "
            f"target itself is the only minimiser and Proposition B.9 (which assumes rank > r) "
            f"does not apply; returning that single point.", AssumptionWarning, stacklevel=3)
        yield tuple(range(rank))
        return
    if np.any(np.diff(nz) >= -1e-10 * nz[0]):
        warnings.warn(
            f"the {label} target has repeated non-zero singular values, so its critical points "
            f"form continuous families; Proposition B.9 assumes them distinct. The index-set "
            f"points returned are critical but not all of them.", AssumptionWarning, stacklevel=3)
    count = math.comb(rank, r)
    if count > max_points:
        raise ValueError(f"there are C({rank}, {r}) = {count} critical points, more than "
                         f"max_points={max_points}; raise max_points or lower the rank of the target.")
    yield from itertools.combinations(range(rank), r)


def low_rank_critical_points(Z, r: int, *, max_points: int = 100_000) -> list[CriticalPoint]:
    """Every critical point of ``‖Z − W‖²_F`` on ``M_r`` (Proposition B.9).

    Parameters
    ----------
    Z : array (m, k)
    r : int, ``1 <= r <= min(m, k)``

    Returns
    -------
    list of CriticalPoint
        In lexicographic order of the index sets (the global minimum first), each with
        loss ``Σ_{i∉I} σ_i²``, computed as ``‖Z − W‖²``.
    """
    Z = as_matrix(Z, "Z")
    r = check_rank_bound(r, *Z.shape)
    U, s, Vt = svd(Z)
    out = []
    for I in _enumerate(U, s, Vt, r, "matrix", max_points):
        idx = list(I)
        W = (U[:, idx] * s[idx]) @ Vt[idx]
        out.append(CriticalPoint(W, float(np.sum((Z - W) ** 2)), tuple(I),
                                 tuple(I) == tuple(range(len(I)))))
    return out


def critical_points(X, Y, r: int, method: str, *, G=None, elements=None, lam=None,
                    weights=None, normalization: str = "paper",
                    max_points: int = 100_000) -> list[CriticalPoint]:
    """Every critical point of one of the paper's problems, mapped back to ``W``
    (Proposition 13).

    1. hard-wired: ``U Σ_I Vᵀ P⁻¹`` from the SVD of ``Z_inv``;
    2. augmented: ``U Σ_I Vᵀ Q⁻¹`` from ``Z_da`` — the same maps as (1) for a
       finite group with the whole group as augmentation set;
    3. regularised: ``U Σ_I Vᵀ B(λ)⁻¹ P⁻¹`` from ``Z_reg(λ)``.

    There are ``C(rank of the target, r)`` of them: ``Z_inv`` and ``Z_da`` have rank at
    most ``min(d, dL)`` (``d`` the invariant dimension), ``Z_reg`` rank ``min(d0, dL)``.

    Parameters
    ----------
    X, Y, r
        Data ``(d0, n)``, ``(dL, n)`` and the rank bound.
    method : {"hardwired", "augmented", "regularized", "plain"}
    G, elements, lam, weights, normalization
        As for :func:`build_problem`.

    Returns
    -------
    list of CriticalPoint
        Lexicographic in the index sets (the global minimum first); ``loss`` is the
        method's own loss (for augmentation, averaged over the augmented samples).
    """
    X, Y = check_samples(X, Y)
    r = check_rank_bound(r, X.shape[0], Y.shape[0])
    prob = build_problem(X, Y, method, G=G, elements=elements, lam=lam, weights=weights,
                         normalization=normalization)
    U, s, Vt = prob.target_svd()
    out = []
    for I in _enumerate(U, s, Vt, r, prob.method, max_points):
        idx = list(I)
        Wt = (U[:, idx] * s[idx]) @ Vt[idx]
        out.append(CriticalPoint(Wt @ prob.F.T, prob.whitened_loss(Wt), tuple(I),
                                 tuple(I) == tuple(range(len(I)))))
    return out


def escape_curve(Z, index_set, drop: int, add: int, t) -> np.ndarray:
    """A curve on ``M_r`` leaving the critical point ``U Σ_I Vᵀ`` (a saddle test).

    Rotates the kept component ``drop ∈ I`` towards the discarded ``add ∉ I``:
    ``W(t) = U Σ_I Vᵀ − σ_i u_i v_iᵀ + σ_i a(t) b(t)ᵀ`` with
    ``a = cos t·u_i + sin t·u_j``, ``b = cos t·v_i + sin t·v_j`` (``i = drop``,
    ``j = add``). Every ``W(t)`` has rank ``r``, and

    .. math:: ‖Z − W(t)‖² = ‖Z − W(0)‖² − 2σ_i(σ_j − σ_i)\\sin^2 t,

    so the loss decreases along the curve whenever ``σ_j > σ_i``: a critical point
    that drops a larger singular value than it keeps is not a local minimum.

    Returns
    -------
    ndarray of shape (len(t), m, k) (or (m, k) for a scalar ``t``)
    """
    Z = as_matrix(Z, "Z")
    U, s, Vt = svd(Z)
    I = list(index_set)
    if drop not in I or add in I:
        raise ValueError(f"drop must be in the index set {tuple(I)} and add outside it; got "
                         f"drop={drop}, add={add}.")
    base = (U[:, I] * s[I]) @ Vt[I] - s[drop] * np.outer(U[:, drop], Vt[drop])
    ts = np.atleast_1d(np.asarray(t, dtype=np.float64))
    c, sn = np.cos(ts)[:, None], np.sin(ts)[:, None]
    a = c * U[:, drop] + sn * U[:, add]
    b = c * Vt[drop] + sn * Vt[add]
    W = base + s[drop] * np.einsum("ti,tj->tij", a, b)
    return W[0] if np.ndim(t) == 0 else W

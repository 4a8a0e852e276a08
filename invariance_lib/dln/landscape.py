"""The loss landscape of low-rank approximation in function space (chapter 3).

On the determinantal variety ``M_r = {W : rank W <= r}`` the loss
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

The critical points are the matrices ``U Σ_J Vᵀ`` with ``|J| <= r``:
:func:`critical_factors` gives balanced factors of each (a critical point of the
parameter-space loss of :mod:`invariance_lib.dln.descent`) and
:func:`visited_critical_points` reads off which of them a trajectory passes.
"""

from __future__ import annotations

import itertools
from typing import Sequence

import numpy as np

from ..core.linalg import COMPUTED_MARGIN, rank_tolerance, svd, truncate_to_index_set
from ..core.validation import as_matrix, check_int, check_tolerance
from .architecture import check_widths

__all__ = ["stationarity_residual", "critical_factors", "visited_critical_points"]


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
    r = check_int(r, "r", maximum=min(Z.shape))
    U, s, Vt = svd(W)
    k = int(np.sum(s > max(rank_tolerance(s, max(W.shape), margin=COMPUTED_MARGIN),
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
    r = check_int(r, "r", maximum=min(Z.shape))
    tol = check_tolerance(tol, "tol")
    U, s, Vt = svd(Z)
    sets = [J for j in range(r + 1) for J in itertools.combinations(range(s.size), j)]
    points = np.array([truncate_to_index_set(U, s, Vt, J) for J in sets])
    dist = np.linalg.norm(Ws[:, None] - points[None], axis=(-2, -1))
    out: list[tuple[int, ...]] = []
    for row in dist:
        k = int(np.argmin(row))
        if row[k] <= tol * np.linalg.norm(Z) and (not out or out[-1] != sets[k]):
            out.append(sets[k])
    return out

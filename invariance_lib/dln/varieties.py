"""Function spaces of deep linear networks: determinantal varieties (chapter 2).

A deep linear network with widths ``(d0, d1, …, dL)`` computes ``x ↦ W_L ⋯ W_1 x``.
Its *parametrization map* is ``μ(W_1, …, W_L) = W_L ⋯ W_1`` and its image, the
network's function space, is the determinantal variety

    ``M_r = {W ∈ R^{dL×d0} : rank W ≤ r}``,   ``r = min(d0, d1, …, dL)``,

the common zero set of all ``(r+1)×(r+1)`` minors. This module computes ``μ`` and its
Jacobian, explicit preimages (factorisations) of a matrix, the symmetry of the
parametrization, minors and their gradients, and the two tangent-space dimensions
that show where ``M_r`` is smooth and where it is singular.

Conventions
-----------
``factors`` is a list ``[W_1, …, W_L]`` in the order the layers are applied, with
``W_i`` of shape ``(d_i, d_{i-1})`` (as ``DeepLinear.layers`` in
:mod:`invariance_lib.experiments.networks`). Matrices are vectorised row by row (numpy's
``ravel``), so that ``vec(A Δ B) = (A ⊗ Bᵀ) vec(Δ)``; the parameters are the
concatenation ``(vec W_1, …, vec W_L)``.
"""

from __future__ import annotations

import itertools
import math
from typing import Sequence

import numpy as np

from ..core.linalg import AmbiguousRankError, gapped_rank, svd
from ..core.validation import as_matrix, check_int, check_rng
from .architecture import check_factors, check_widths, end_to_end, widths_of

__all__ = [
    "variety_dimension",
    "random_matrix_of_rank",
    "factorize",
    "change_hidden_basis",
    "jacobian",
    "jacobian_rank",
    "minors",
    "minors_vanish",
    "minor_gradients",
    "tangent_space_dimension",
]


def variety_dimension(m: int, n: int, r: int) -> int:
    """Dimension ``r(m + n − r)`` of ``M_r ⊂ R^{m×n}``, for ``0 <= r <= min(m, n)``.

    Near a matrix of rank ``r`` whose top-left ``r×r`` block ``A`` is invertible,
    ``W = [[A, B], [C, D]]`` lies in ``M_r`` iff ``D = C A⁻¹ B``: the free entries
    are those of ``A``, ``B`` and ``C``, ``r² + r(n − r) + (m − r)r`` of them.
    """
    m, n, r = check_int(m, "m", None), check_int(n, "n", None), check_int(r, "r", None)
    if m < 1 or n < 1:
        raise ValueError(f"the matrix size must be at least 1x1, got m == {m}, n == {n}.")
    if not 0 <= r <= min(m, n):
        raise ValueError(f"r == {r} must satisfy 0 <= r <= min(m, n) == {min(m, n)}: an "
                         f"{m}x{n} matrix has rank at most {min(m, n)}.")
    return int(r * (m + n - r))


def random_matrix_of_rank(m: int, n: int, k: int, rng: np.random.Generator) -> np.ndarray:
    """A random ``m×n`` matrix of rank ``k`` (with probability one): ``A B`` with
    standard normal ``A`` (``m×k``) and ``B`` (``k×n``)."""
    variety_dimension(m, n, k)  # validates m, n and 0 <= k <= min(m, n)
    check_rng(rng)
    return rng.normal(size=(m, k)) @ rng.normal(size=(k, n))


def factorize(W, widths: Sequence[int], *, rtol: float = 1e-10) -> list[np.ndarray]:
    """Explicit factors ``[W_1, …, W_L]`` with the given widths and ``W_L ⋯ W_1 = W``.

    With the SVD ``W = U Σ Vᵀ`` and ``r = min(widths)``, put ``P = U_r Σ_r^{1/2}`` and
    ``Q = Σ_r^{1/2} V_rᵀ``, and let ``E_d`` be the ``d×r`` matrix with ``I_r`` on top
    of zeros. Then ``W_1 = E_{d1} Q``, ``W_i = E_{d_i} E_{d_(i-1)}ᵀ`` in between and
    ``W_L = P E_{d_(L-1)}ᵀ``; since ``E_dᵀ E_d = I_r`` the product is ``P Q = W``.
    This proves that every matrix of rank ``<= r`` is in the image of ``μ``.

    Parameters
    ----------
    W : ndarray of shape (dL, d0)
    widths : sequence of int
        ``(d0, d1, …, dL)``.
    rtol : float
        Singular values below ``rtol · σ_max`` count as zero (and are dropped).

    Raises
    ------
    ValueError
        If ``W`` has the wrong shape, or rank above ``r`` (it is not in ``M_r``).
    """
    ws = check_widths(widths)
    W = as_matrix(W, "W")
    if W.shape != (ws[-1], ws[0]):
        raise ValueError(f"W has shape {W.shape} but widths == {ws} need (dL, d0) == "
                         f"{(ws[-1], ws[0])}.")
    if len(ws) == 2:
        return [W.copy()]
    r = min(ws)
    U, s, Vt = svd(W)
    cut = rtol * (s[0] if s.size else 0.0)
    k = int(np.sum(s > cut))
    if k > r:
        raise ValueError(
            f"W has rank {k} > r = {r} = min{ws}: it is not in M_{r}, the image of the "
            f"network, so no factors exist. The closest matrix in M_{r} is the truncated "
            f"SVD linalg.truncated_svd(W, {r}) (Eckart-Young).")
    root = np.sqrt(s[:r])
    P, Q = U[:, :r] * root, root[:, None] * Vt[:r]
    E = [np.eye(d, r) for d in ws]
    factors = [E[1] @ Q]
    factors += [E[i] @ E[i - 1].T for i in range(2, len(ws) - 1)]
    factors.append(P @ E[-2].T)
    return factors


def change_hidden_basis(factors, changes) -> list[np.ndarray]:
    """Act by invertible matrices on the hidden layers: the symmetry of ``μ``.

    For ``changes = [A_1, …, A_(L-1)]``, ``A_i`` invertible of size ``d_i×d_i``,
    returns ``[A_1 W_1, A_2 W_2 A_1⁻¹, …, W_L A_(L-1)⁻¹]``. The end-to-end matrix
    is unchanged, so every fibre of ``μ`` contains these orbits.
    """
    fs = check_factors(factors)
    ws = widths_of(fs)
    chs = [as_matrix(A, f"A_{i + 1}") for i, A in enumerate(changes)]
    if len(chs) != len(fs) - 1:
        raise ValueError(f"a network with {len(fs)} layers has {len(fs) - 1} hidden "
                         f"layer(s), so it needs {len(fs) - 1} change(s) of basis, got "
                         f"{len(chs)}.")
    for i, A in enumerate(chs):
        d = ws[i + 1]
        if A.shape != (d, d):
            raise ValueError(f"A_{i + 1} has shape {A.shape} but hidden layer {i + 1} has "
                             f"width {d}: it must be {d}x{d}.")
        if np.linalg.cond(A) > 1e12:
            raise ValueError(f"A_{i + 1} is (numerically) singular (condition number "
                             f"{np.linalg.cond(A):.1e}); a change of basis must be "
                             f"invertible.")
    out = []
    for i, F in enumerate(fs):
        G = F
        if i > 0:  # right-multiply by A_i⁻¹
            G = np.linalg.solve(chs[i - 1].T, G.T).T
        if i < len(chs):
            G = chs[i] @ G
        out.append(G)
    return out


# ------------------------------------------------------------------- Jacobian
def jacobian(factors) -> np.ndarray:
    """Jacobian of ``μ`` at ``factors``, of shape ``(dL·d0, Σ_i d_i d_(i-1))``.

    ``dμ(Δ_1, …, Δ_L) = Σ_i (W_L ⋯ W_(i+1)) Δ_i (W_(i-1) ⋯ W_1)``, and with row-major
    vectorisation ``vec(A Δ B) = (A ⊗ Bᵀ) vec(Δ)``, so the block of layer ``i`` is
    ``(W_L ⋯ W_(i+1)) ⊗ (W_(i-1) ⋯ W_1)ᵀ``.
    """
    fs = check_factors(factors)
    ws = widths_of(fs)
    blocks = []
    for i in range(len(fs)):
        left = np.eye(ws[i + 1]) if i == len(fs) - 1 else end_to_end(fs[i + 1:])
        right = np.eye(ws[0]) if i == 0 else end_to_end(fs[:i])
        blocks.append(np.kron(left, right.T))
    return np.hstack(blocks)


def jacobian_rank(factors, *, rtol: float = 1e-9, gap: float = 1e-7) -> int:
    """Rank of the Jacobian of ``μ``: the dimension of the image of ``dμ``.

    Singular values below ``rtol · σ_max`` count as zero, those above ``gap · σ_max``
    as non-zero, and a value in between raises :class:`AmbiguousRankError`.
    It equals ``dim M_r = r(dL + d0 − r)`` where ``rank μ(θ) = r``, and is smaller
    where ``rank μ(θ) < r`` in the non-filling case.
    """
    J = jacobian(factors)
    s = np.linalg.svd(J, compute_uv=False)
    return gapped_rank(s, float(s.max()) if s.size else 0.0, rtol, gap,
                        "rank of the Jacobian")


# --------------------------------------------------------------------- minors
def _check_order(W: np.ndarray, k, max_minors: int) -> int:
    k = check_int(k, "k", None)
    m, n = W.shape
    if not 1 <= k <= min(m, n):
        raise ValueError(f"k == {k}: an {m}x{n} matrix has k x k minors only for "
                         f"1 <= k <= {min(m, n)}.")
    count = math.comb(m, k) * math.comb(n, k)
    if count > max_minors:
        raise ValueError(
            f"an {m}x{n} matrix has C({m},{k})·C({n},{k}) = {count:.3g} minors of size "
            f"{k}, more than max_minors={max_minors}. Test the rank with singular values "
            f"(numpy.linalg.matrix_rank) instead, or raise max_minors.")
    return int(k)


def _submatrices(W: np.ndarray, k: int) -> np.ndarray:
    m, n = W.shape
    rows = list(itertools.combinations(range(m), k))
    cols = list(itertools.combinations(range(n), k))
    return np.stack([W[np.ix_(I, J)] for I in rows for J in cols])


def minors(W, k: int, *, max_minors: int = 200_000) -> np.ndarray:
    """All ``k×k`` minors ``det W[I, J]`` of ``W``.

    Ordered by row set ``I``, then column set ``J``, each in lexicographic order
    (``itertools.combinations``). There are ``C(m, k) · C(n, k)`` of them.
    """
    W = as_matrix(W, "W")
    k = _check_order(W, k, max_minors)
    return np.linalg.det(_submatrices(W, k))


def minors_vanish(W, k: int, *, rtol: float = 1e-9, max_minors: int = 200_000) -> bool:
    """Whether every ``k×k`` minor of ``W`` is zero, i.e. ``rank W < k``.

    A ``k×k`` minor is at most ``σ_1 ⋯ σ_k <= ‖W‖₂^k`` in size (Cauchy–Binet), so
    minors count as zero when ``|det W[I, J]| <= rtol · ‖W‖₂^k``.
    """
    W = as_matrix(W, "W")
    scale = float(np.linalg.norm(W, 2)) ** k
    return bool(np.abs(minors(W, k, max_minors=max_minors)).max() <= rtol * scale)


def minor_gradients(W, k: int, *, max_minors: int = 200_000) -> np.ndarray:
    """Gradients of all ``k×k`` minors with respect to ``W``, one row each.

    The derivative of ``det W[I, J]`` with respect to the entry ``W[I_a, J_b]`` is the
    cofactor ``(−1)^(a+b) det W[I∖I_a, J∖J_b]``, a ``(k−1)×(k−1)`` minor (``1`` for
    ``k = 1``). Rows follow the order of :func:`minors`; columns are the entries of
    ``W`` row by row, so the result has shape ``(C(m,k)·C(n,k), m·n)``.
    """
    W = as_matrix(W, "W")
    k = _check_order(W, k, max_minors)
    m, n = W.shape
    rows = list(itertools.combinations(range(m), k))
    cols = list(itertools.combinations(range(n), k))
    out = np.zeros((len(rows) * len(cols), m * n))
    idx = 0
    for I in rows:
        for J in cols:
            sub = W[np.ix_(I, J)]
            for a in range(k):
                for b in range(k):
                    if k == 1:
                        cof = 1.0
                    else:
                        rest = np.delete(np.delete(sub, a, axis=0), b, axis=1)
                        cof = (-1) ** (a + b) * np.linalg.det(rest)
                    out[idx, I[a] * n + J[b]] = cof
            idx += 1
    return out


def tangent_space_dimension(W, r: int, *, rtol: float = 1e-9, gap: float = 1e-7,
                            max_minors: int = 200_000) -> int:
    """Dimension of the (Zariski) tangent space of ``M_r`` at ``W``.

    The tangent space is the common kernel of the gradients of the equations, the
    ``(r+1)×(r+1)`` minors: ``m·n − rank(minor_gradients(W, r+1))``. It equals
    ``dim M_r = r(m + n − r)`` at a smooth point and is larger at a singular one. For
    ``r = min(m, n)`` there are no equations and the answer is ``m·n``.

    The gradients of ``(r+1)``-minors scale like ``‖W‖₂^r``; singular values of the
    gradient matrix below ``rtol · ‖W‖₂^r`` count as zero and a value between ``rtol``
    and ``gap`` (relative) raises :class:`~invariance_lib.core.linalg.AmbiguousRankError`.
    """
    W = as_matrix(W, "W")
    m, n = W.shape
    r = check_int(r, "r", None)
    if not 0 <= r <= min(m, n):
        raise ValueError(f"r == {r} must satisfy 0 <= r <= min(m, n) == {min(m, n)}.")
    if r == min(m, n):
        return m * n
    if not minors_vanish(W, r + 1, max_minors=max_minors):
        raise ValueError(f"W has rank > {r}: it is not in M_{r}, so M_{r} has no tangent "
                         f"space at W.")
    grads = minor_gradients(W, r + 1, max_minors=max_minors)
    s = np.linalg.svd(grads, compute_uv=False)
    scale = float(np.linalg.norm(W, 2)) ** r
    return m * n - gapped_rank(s, scale, rtol, gap, "dimension of the tangent space")

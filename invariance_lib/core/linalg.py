"""Linear-algebra building blocks: sign-fixed SVDs, PSD roots, null spaces, ranks.

Every routine here is deterministic: singular vectors carry a fixed sign
(the convention of scikit-learn's ``svd_flip``), so critical points, bases and
plots come out identical on every run.
"""

from __future__ import annotations

import contextlib

import numpy as np
import scipy.linalg as sla

from .validation import check_tolerance

try:  # installed with scikit-learn (a dependency of mlxtend); optional
    from threadpoolctl import threadpool_limits as _threadpool_limits
except ImportError:  # pragma: no cover
    _threadpool_limits = None

__all__ = [
    "blas_threads",
    "svd",
    "truncated_svd",
    "truncate_to_index_set",
    "numerical_rank",
    "rank_tolerance",
    "rank_of_values",
    "gapped_rank",
    "COMPUTED_MARGIN",
    "TIE_MARGIN",
    "psd_root",
    "support_eigh",
    "support_whitener",
    "augmented_moment",
    "orbit_stack",
    "left_null_space",
    "AmbiguousRankError",
]


class AmbiguousRankError(ValueError):
    """A rank decision has no clear gap between "zero" and "non-zero" values."""


def svd(A: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Thin SVD ``A = U diag(s) Vt`` with a deterministic sign convention.

    Each left singular vector ``U[:, i]`` is flipped so that its entry of largest
    absolute value is positive (and ``Vt[i]`` with it), so ``U diag(s) Vt`` is
    unchanged.

    Parameters
    ----------
    A : ndarray of shape (m, k)

    Returns
    -------
    U : ndarray of shape (m, q), q = min(m, k)
    s : ndarray of shape (q,), descending
    Vt : ndarray of shape (q, k)
    """
    U, s, Vt = np.linalg.svd(A, full_matrices=False)
    if U.shape[1]:
        idx = np.argmax(np.abs(U), axis=0)
        signs = np.sign(U[idx, np.arange(U.shape[1])])
        signs[signs == 0] = 1.0
        U = U * signs
        Vt = Vt * signs[:, None]
    return U, s, Vt


def truncated_svd(A: np.ndarray, r: int) -> np.ndarray:
    """Best rank-``r`` approximation ``[A]_r = U_r Σ_r V_rᵀ`` (Eckart–Young–Mirsky).

    Keeps the ``r`` largest singular values. When ``σ_r = σ_{r+1}`` the best
    approximation is not unique and this returns one of them.
    """
    U, s, Vt = svd(A)
    r = min(r, s.size)
    return (U[:, :r] * s[:r]) @ Vt[:r]


def truncate_to_index_set(U: np.ndarray, s: np.ndarray, Vt: np.ndarray, index_set) -> np.ndarray:
    """``U Σ_I Vᵀ``: the SVD ``U Σ Vᵀ`` keeping only the singular values in ``index_set``.

    The critical points of ``‖Z − W‖²`` on ``M_r`` (Proposition B.9) are exactly these
    matrices for the index sets ``I`` with ``|I| <= r``; ``I = {1, …, r}`` gives
    :func:`truncated_svd`. ``index_set`` holds 0-based positions into ``s``.
    """
    I = np.asarray(sorted(int(i) for i in index_set), dtype=np.int64)
    if I.size == 0:
        return np.zeros((U.shape[0], Vt.shape[1]))
    return (U[:, I] * s[I]) @ Vt[I]


# ------------------------------------------------------------ the rank policy
# Every rank decision of the library follows one of two rules, stated here once.
#
# 1. The relative cut-off (numpy's ``matrix_rank``, scipy's ``null_space``): a value
#    of a set with largest value ``v_max``, from a problem of size ``d``, is zero when
#    it is at most ``margin · d · eps · v_max`` (:func:`rank_tolerance`). ``margin`` is
#    1 for the singular values of a matrix that was given, and COMPUTED_MARGIN for
#    values computed through a whitening or a product (their rounding is larger);
#    a tie at the rank bound is reported only above TIE_MARGIN times the cut-off.
# 2. The gap rule, for subspaces the user defines (invariant subspaces, Jacobian
#    images, tangent spaces): values below ``rtol · scale`` are zero, above
#    ``gap · scale`` non-zero, and one in between raises AmbiguousRankError
#    (:func:`gapped_rank`).
#: Margin of rule 1 for computed values (whitened targets, critical points).
COMPUTED_MARGIN = 10.0
#: Margin of rule 1 below which a tie between two singular values is not reported.
TIE_MARGIN = 1e4


def rank_tolerance(values: np.ndarray, size: int, *, margin: float = 1.0) -> float:
    """Cut-off below which values count as zero: ``margin · size · eps · v_max`` (rule 1).

    The same rule as :func:`numpy.linalg.matrix_rank` and
    :func:`scipy.linalg.null_space` for ``margin=1``.
    """
    vmax = float(np.max(values)) if np.size(values) else 0.0
    return margin * size * np.finfo(np.float64).eps * vmax


def rank_of_values(values: np.ndarray, size: int, *, margin: float = 1.0) -> int:
    """How many of ``values`` are non-zero under rule 1 (:func:`rank_tolerance`)."""
    values = np.asarray(values)
    return int(np.sum(values > rank_tolerance(values, size, margin=margin)))


def gapped_rank(s: np.ndarray, scale: float, rtol: float, gap: float, what: str,
                hint: str = "") -> int:
    """Count values above ``rtol · scale`` (rule 2); raise if one lies in ``(rtol, gap) · scale``.

    Raises
    ------
    AmbiguousRankError
        Naming ``what`` is ambiguous and the relative sizes of the offending values.
    """
    rtol, gap = check_tolerance(rtol, "rtol"), check_tolerance(gap, "gap")
    if rtol > gap:
        raise ValueError(f"rtol == {rtol} exceeds gap == {gap}; need 0 < rtol <= gap < 1.")
    if scale == 0.0:
        return 0
    rel = np.asarray(s) / scale
    ambiguous = (rel > rtol) & (rel < gap)
    if ambiguous.any():
        raise AmbiguousRankError(
            f"the {what} is ambiguous: {int(ambiguous.sum())} singular value(s) lie between "
            f"rtol and gap relative to the scale (relative sizes "
            f"{', '.join(f'{v:.1e}' for v in rel[ambiguous][:4])}). " + (hint or (
                "The point is close to a lower-rank one; decide by passing rtol above "
                "(zero) or gap below (non-zero) these values.")))
    return int(np.sum(rel > rtol))


def numerical_rank(A: np.ndarray) -> int:
    """Rank of ``A`` with the relative tolerance of :func:`rank_tolerance`."""
    s = np.linalg.svd(A, compute_uv=False)
    return int(np.sum(s > rank_tolerance(s, max(A.shape))))


def support_eigh(K: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Eigendecomposition of a symmetric matrix and its numerical support, in one place.

    Symmetrises ``K`` (``(K + Kᵀ)/2``), computes ``K = V diag(e) Vᵀ`` with ``eigh``
    and marks the support: eigenvalues above :func:`rank_tolerance` (rule 1 of the
    rank policy, relative to ``max |e|``). Returns ``(e, V, keep)``.
    """
    K = (K + K.T) / 2.0
    e, V = np.linalg.eigh(K)
    return e, V, e > rank_tolerance(np.abs(e), K.shape[0])


def augmented_moment(K: np.ndarray, elements: np.ndarray, weights=None) -> np.ndarray:
    """The augmented moment ``Σ_g w_g ρ(g) K ρ(g)ᵀ`` (symmetrised), stated once.

    ``elements`` is ``(m, d, d)``; ``weights`` default to 1 each (the sum over the
    group; pass ``1/|G|`` weights for the average).
    """
    E = np.asarray(elements)
    w = np.ones(len(E)) if weights is None else np.asarray(weights, dtype=np.float64)
    M = np.tensordot(w, E @ K @ E.transpose(0, 2, 1), axes=1)
    return (M + M.T) / 2.0


def orbit_stack(X: np.ndarray, elements) -> np.ndarray:
    """``[ρ(g_1)X, …, ρ(g_m)X]`` as an array ``(m, d0, n)``: every input's orbit."""
    return np.stack([E @ X for E in elements])


def psd_root(K: np.ndarray) -> tuple[np.ndarray, np.ndarray, int]:
    """Square root and pseudo-inverse square root of a symmetric PSD matrix.

    With the eigendecomposition ``K = V diag(e) Vᵀ`` (computed with ``eigh``, not
    ``sqrtm``), returns ``K^{1/2} = V diag(√e) Vᵀ`` and
    ``K^{+1/2} = V diag(1/√e on the numerical support) Vᵀ``. Eigenvalues below the
    relative tolerance ``d · eps · e_max`` count as zero.

    Returns
    -------
    root, pinv_root : ndarray of shape (d, d)
    rank : int
        The numerical rank of ``K``.
    """
    e, V, keep = support_eigh(K)
    if e.size and e.min() < -1e-8 * max(e.max(), 1e-300):
        raise ValueError(f"the moment matrix is not positive semidefinite (smallest eigenvalue "
                         f"{e.min():.3g}, largest {e.max():.3g}); it must be of the form X Xᵀ.")
    sq = np.sqrt(np.where(keep, e, 0.0))
    inv_sq = np.where(keep, 1.0 / np.where(keep, sq, 1.0), 0.0)
    return (V * sq) @ V.T, (V * inv_sq) @ V.T, int(keep.sum())


def support_whitener(K: np.ndarray) -> tuple[np.ndarray, int]:
    """A whitener ``F`` with ``Fᵀ K F = I_s`` and ``range F = range K``.

    ``F = V_s diag(e_s^{-1/2})`` from the eigenvectors with non-zero eigenvalue,
    so ``K^{+1/2} = F V_sᵀ``. Working with the ``s`` support columns only
    keeps the solvers' matrices small when ``K`` is singular.
    """
    e, V, keep = support_eigh(K)
    return V[:, keep] / np.sqrt(e[keep]), int(keep.sum())


def left_null_space(G: np.ndarray, rtol: float = 1e-8, gap: float = 1e-4, *,
                    canonical: bool = True) -> np.ndarray:
    """Orthonormal rows spanning ``{w : w G = 0}``.

    Singular values of ``G`` below ``rtol · σ_max`` count as zero and those above
    ``gap · σ_max`` as non-zero. A singular value between the two makes the
    dimension of the null space ambiguous and raises :class:`AmbiguousRankError`:
    the generators are then probably inaccurate (a rounded rotation angle, say).

    Parameters
    ----------
    G : ndarray of shape (d, k)
    rtol, gap : float
        Relative cut-offs, ``0 < rtol <= gap < 1``.
    canonical : bool, default True
        Rotate the rows to a canonical basis (see :func:`_canonical_rows`), so the
        result does not depend on LAPACK's choice; the solvers, which only need the
        subspace, skip this.

    Returns
    -------
    B : ndarray of shape (m, d)
        ``B Bᵀ = I_m`` and ``B G ≈ 0``; ``m = d − rank G``.
    """
    d = G.shape[0]
    if G.shape[1] == 0:
        return np.eye(d)
    U, s, _ = np.linalg.svd(G, full_matrices=True)
    smax = s.max() if s.size else 0.0
    if smax == 0.0:
        return np.eye(d)
    sv = np.zeros(d)
    sv[: s.size] = s
    rank = gapped_rank(sv, smax, rtol, gap, "dimension of the invariant subspace",
                       hint="The generators are probably not exact (e.g. a rounded rotation "
                            "angle). Fix them, or decide explicitly by passing rtol above "
                            "(treat as zero) or gap below (treat as non-zero) these values.")
    null = np.arange(d) >= rank  # sv is sorted: the last d − rank columns span the null space
    B = U[:, null].T
    # Deterministic basis: canonical sign per row, as in svd().
    if canonical and B.shape[0]:
        B = _canonical_rows(B)
    return B


def _canonical_rows(B: np.ndarray) -> np.ndarray:
    """A canonical orthonormal basis of the row space of ``B``.

    Runs a column-pivoted QR on the orthogonal projector ``P = BᵀB``, which does
    not depend on which basis LAPACK returned. For a permutation representation
    ``P`` is the group average and the result is the normalised orbit indicators,
    the "average over each orbit" rows of the paper's hard-wired architecture.
    """
    m = B.shape[0]
    P = np.round(B.T @ B, 12)  # exact ties between equal columns -> first one wins
    Q, _, _ = sla.qr(P, pivoting=True, mode="economic")
    Q = Q[:, :m]
    Q[np.abs(Q) < 1e-14] = 0.0
    idx = np.argmax(np.abs(Q), axis=0)
    signs = np.sign(Q[idx, np.arange(m)])
    signs[signs == 0] = 1.0
    return (Q * signs).T + 0.0  # no negative zeros in printed bases


def blas_threads(n: int = 1):
    """A context limiting numpy's BLAS and the OpenMP pools to ``n`` threads (restored on exit).

    The library's matrices are small: one thread is fastest, and two-thread BLAS next
    to torch was measured several times slower. The one place the limit is set
    (training, the descent loops, the notebooks). Without threadpoolctl it does
    nothing.
    """
    if _threadpool_limits is None:  # pragma: no cover
        return contextlib.nullcontext()
    return _threadpool_limits(limits=int(n))

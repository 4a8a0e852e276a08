"""The split of the augmented loss into an invariant part and a part in ``W⊥`` alone.

For a finite group with representation ``ρ``, weights ``w_g`` summing to one and a
projector ``P`` (``W = W P + W (I − P)``), the weighted augmented loss

.. math::  L(W) = s \\sum_g w_g \\|W\\rho(g)X - Y\\|_F^2

(``s = 1/n`` as in the paper's eq. (7), or ``1/(n d_L)`` for PyTorch's ``MSELoss``)
is written as

.. math::  L(W) = \\underbrace{s\\|W P X - Y\\|_F^2}_{\\text{invariant}}
           + \\underbrace{s \\sum_g w_g \\|W_\\perp \\rho(g) X\\|_F^2}_{\\text{perp}}
           + \\text{cross},

with ``W⊥ = W (I − P)`` and the remainder

.. math::  \\text{cross} = s\\sum_g w_g\\big(\\|WP\\rho(g)X - Y\\|^2 - \\|WPX - Y\\|^2\\big)
           + 2s \\sum_g w_g \\langle W P\\rho(g) X - Y,\\; W_\\perp \\rho(g) X\\rangle .

**Chapter 11, Proposition "the split".** With the *whole* group, *equal* weights
and ``P = Ḡ`` (the group average) the cross term is zero for every representation,
unitary or not: ``Ḡρ(g) = Ḡ`` kills the first sum, and
``Σ_g ρ(g)/|G| = Ḡ`` with ``(I − Ḡ)Ḡ = 0`` kills the second. The quadratic form
``s Σ_g w_g ‖W⊥ρ(g)X‖² = tr(W⊥ K W⊥ᵀ)`` uses the augmented second moment ``K``.
With the orthogonal projector ``P = BᵀB`` onto the invariant rows (what
:func:`invariance_lib.measures.non_invariant_part` removes) the cross term vanishes
for all data iff ``BᵀB = Ḡ``, i.e. iff ``Ḡ`` is symmetric (true for unitary ``ρ``).

:func:`split_terms` computes the three terms from the moments (no augmented sample
is formed); :func:`single_matrix_perp_norms` gives ``‖W⊥‖`` along gradient descent
or gradient flow on a single matrix in closed form.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from invariance_lib.core.linalg import augmented_moment
from invariance_lib.core.validation import as_matrix, check_weights

__all__ = ["SplitTerms", "split_terms", "group_average", "single_matrix_perp_norms"]

_PROJECTORS = ("average", "orthogonal")


@dataclass(frozen=True)
class SplitTerms:
    """The terms of the augmented loss: ``total = invariant + perp + cross``.

    ``total`` is computed here from the moments as well (for convenience); an
    independent check compares ``invariant + perp`` with the loss over the
    materialised augmented samples.
    """

    invariant: float
    perp: float
    cross: float
    total: float


def group_average(elements, weights=None) -> np.ndarray:
    """``Σ_g w_g ρ(g)`` (``Ḡ`` for equal weights over a whole group), ``(d0, d0)``."""
    E = np.asarray(elements, dtype=np.float64)
    if E.ndim != 3 or E.shape[1] != E.shape[2]:
        raise ValueError(f"elements must be a stack of square matrices (m, d, d), got "
                         f"shape {E.shape}.")
    w = check_weights(weights, len(E))
    return np.tensordot(w, E, axes=1)


def split_terms(W, X, Y, elements, *, weights=None, projector="average",
                normalization: str = "paper", invariant_basis=None) -> SplitTerms:
    """The invariant term, the ``W⊥`` term and the cross term of the augmented loss.

    Parameters
    ----------
    W : array (dL, d0)
    X, Y : arrays (d0, n), (dL, n)
        Columns are samples.
    elements : array (m, d0, d0)
        The matrices ``ρ(g)`` augmented with (a whole group, or any subset).
    weights : array (m,), optional
        ``w_g`` (default equal). They are normalised to sum to one.
    projector : {"average", "orthogonal"} or array (d0, d0)
        ``P`` of the split: ``"average"`` the weighted average ``Σ_g w_g ρ(g)``
        (``Ḡ``); ``"orthogonal"`` ``BᵀB`` with ``invariant_basis`` ``B``
        (orthonormal rows); or a matrix.
    normalization : {"paper", "mean"}
        ``s = 1/n`` (eq. (7)) or ``1/(n·dL)`` (``MSELoss``).
    invariant_basis : array (k, d0), optional
        Needed for ``projector="orthogonal"``
        (:meth:`~invariance_lib.core.groups.Representation.invariant_basis`).

    Returns
    -------
    SplitTerms
    """
    W, X, Y = as_matrix(W, "W"), as_matrix(X, "X"), as_matrix(Y, "Y")
    d0, n = X.shape
    dL = Y.shape[0]
    if Y.shape[1] != n:
        raise ValueError(f"X has {n} samples (columns) but Y has {Y.shape[1]}.")
    if W.shape != (dL, d0):
        raise ValueError(f"W has shape {W.shape}; it must be (dL, d0) == ({dL}, {d0}).")
    E = np.asarray(elements, dtype=np.float64)
    if E.ndim != 3 or E.shape[1:] != (d0, d0):
        raise ValueError(f"elements must have shape (m, {d0}, {d0}), got {E.shape}.")
    w = check_weights(weights, len(E))
    if normalization not in ("paper", "mean"):
        raise ValueError(f"normalization must be 'paper' (1/n) or 'mean' (1/(n·dL)), got "
                         f"{normalization!r}.")
    s = 1.0 / n if normalization == "paper" else 1.0 / (n * dL)
    if isinstance(projector, str):
        if projector not in _PROJECTORS:
            raise ValueError(f"projector must be 'average', 'orthogonal' or a (d0, d0) "
                             f"matrix, got {projector!r}.")
        if projector == "average":
            P = np.tensordot(w, E, axes=1)
        else:
            if invariant_basis is None:
                raise ValueError("projector='orthogonal' needs invariant_basis=B (rows an "
                                 "orthonormal basis of the invariant row vectors).")
            B = as_matrix(invariant_basis, "invariant_basis")
            if B.shape[1] != d0:
                raise ValueError(f"invariant_basis must be (k, {d0}), got {B.shape}.")
            P = B.T @ B
    else:
        P = as_matrix(projector, "projector")
        if P.shape != (d0, d0):
            raise ValueError(f"projector must be ({d0}, {d0}), got {P.shape}.")
    # Moments: K0 = XXᵀ, C0 = YXᵀ; augmented K = Σ w ρ K0 ρᵀ.
    K0, C0, yy = X @ X.T, Y @ X.T, float(np.sum(Y * Y))
    K = augmented_moment(K0, E, w)
    A = W @ P                                                 # the "invariant" part
    Wp = W - A                                                # W⊥ = W (I − P)

    def plain(M: np.ndarray) -> float:                        # ‖M X − Y‖², from moments
        return float(np.sum((M @ K0) * M) - 2.0 * np.sum(M * C0) + yy)

    invariant = s * plain(A)
    perp = s * float(np.sum((Wp @ K) * Wp))
    # cross: Σ w (‖Aρ X − Y‖² − ‖A X − Y‖²) + 2 Σ w ⟨Aρ X − Y, W⊥ ρ X⟩
    first = sum(wg * (plain(A @ g) - plain(A)) for wg, g in zip(w, E))
    second = sum(wg * (np.sum((A @ g @ K0 @ g.T) * Wp) - np.sum(C0 @ g.T * Wp))
                 for wg, g in zip(w, E))
    cross = float(s * (first + 2.0 * float(second)))
    total = float(s * sum(wg * plain(W @ g) for wg, g in zip(w, E)))
    return SplitTerms(invariant=invariant, perp=perp, cross=cross, total=total)


def single_matrix_perp_norms(W0, K, Gbar, times, *, lr: float | None = None) -> np.ndarray:
    """``‖W⊥(t)‖_F`` of gradient flow or descent on ``tr(WKWᵀ) − 2tr(WCᵀ)``, ``C = CḠ``.

    When ``Ḡ`` is symmetric and commutes with ``K`` and ``C(I − Ḡ) = 0`` (augmentation
    with a unitary ``ρ``), the non-invariant part evolves on its own:
    ``Ẇ⊥ = −2 W⊥ K``. So

    * gradient flow (``lr=None``): ``W⊥(t) = W⊥(0) e^{−2Kt}``;
    * gradient descent with step ``lr`` after ``k`` steps: ``W⊥(0)(I − 2 lr K)^k``

    (``times`` are ``t`` or ``k``), computed from one eigendecomposition of ``K``.
    """
    W0, K, Gbar = as_matrix(W0, "W0"), as_matrix(K, "K"), as_matrix(Gbar, "Gbar")
    d0 = K.shape[0]
    if K.shape != (d0, d0) or Gbar.shape != (d0, d0) or W0.shape[1] != d0:
        raise ValueError(f"K and Gbar must be (d0, d0) and W0 (dL, d0); got {K.shape}, "
                         f"{Gbar.shape} and {W0.shape}.")
    lam, V = np.linalg.eigh((K + K.T) / 2.0)
    A = (W0 - W0 @ Gbar) @ V
    times = np.asarray(times, dtype=np.float64).ravel()
    if lr is None:
        factors = np.exp(-2.0 * np.outer(times, lam))
    else:
        if not lr > 0:
            raise ValueError(f"lr must be positive, got {lr!r}.")
        factors = (1.0 - 2.0 * lr * lam)[None, :] ** times[:, None]
    col = np.sum(A * A, axis=0)                              # ‖column j of W⊥ V‖²
    return np.sqrt(factors ** 2 @ col)

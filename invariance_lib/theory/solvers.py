"""Closed-form global optima of the three ways to make a deep linear network invariant.

Conventions (the paper's): ``X`` has shape ``(d0, n)`` (columns are samples), ``Y``
``(dL, n)``, ``W`` ``(dL, d0)``, the constraint matrix ``G`` ``(d0, k)``; the rank
bound ``r`` is the width of the narrowest layer. Every function returns the
**minimum-norm** optimum, which is the paper's formula whenever ``XXᵀ`` is invertible
and the meaningful answer when it is not (dead pixels in MNIST): the optimum is then
unique as a function on the span of the data, not as a matrix.

See :mod:`invariance_lib.theory.problems` for the shared reduced-rank regression and
:mod:`invariance_lib.theory.paper` for the paper's formulas written out literally.
"""

from __future__ import annotations

import numpy as np

from ..core.validation import check_lam, check_rank_bound, check_samples
from .problems import (augmented_problem, hardwired_problem, plain_problem,
                       regularized_problems)

__all__ = ["plain_optimum", "hardwired_optimum", "regularized_optimum", "augmented_optimum"]


def plain_optimum(X, Y, r: int) -> np.ndarray:
    """Rank-``r`` least squares ``min (1/n)‖WX − Y‖²`` s.t. ``rank W ≤ r``.

    ``W = [Z]_r P⁻¹`` with ``P = (XXᵀ)^{1/2}`` and ``Z = YXᵀP⁻¹`` (no invariance;
    the ``λ = 0`` end of the regularisation path).
    """
    X, Y = check_samples(X, Y)
    r = check_rank_bound(r, X.shape[0], Y.shape[0])
    return plain_problem(X, Y).solve(r)


def hardwired_optimum(X, Y, G, r: int) -> np.ndarray:
    """Global optimum with hard-wired invariance (Theorem 6).

    Solves ``min (1/n)‖WX − Y‖²`` s.t. ``WG = 0`` and ``rank W ≤ r``. With
    ``P = (XXᵀ)^{1/2}``, ``Z = YXᵀP⁻¹``, ``G̃ = P⁻¹G`` and
    ``Z_inv = Z(I − G̃G̃⁺) = UΣVᵀ``, Theorem 6 gives ``W_inv = U_rΣ_rV_rᵀP⁻¹``.
    Computed in the coordinates ``W = V B`` of an orthonormal invariant basis ``B``
    (Lemma B.2 keeps the truncation invariant).

    Parameters
    ----------
    X : array (d0, n)
    Y : array (dL, n)
    G : array (d0, k) or Representation
        Constraint matrix (``Representation.constraint_matrix()``).
    r : int
        Rank bound, ``1 <= r <= min(d0, dL)``.

    Returns
    -------
    W_inv : ndarray (dL, d0)
        Invariant (``W_inv G = 0``) and of rank at most ``r``.
    """
    X, Y = check_samples(X, Y)
    r = check_rank_bound(r, X.shape[0], Y.shape[0])
    return hardwired_problem(X, Y, G).solve(r)


def regularized_optimum(X, Y, G, r: int, lam, *, normalization: str = "paper") -> np.ndarray:
    """Global optimum of the regularised problem (Proposition 8, Theorem 9).

    Solves ``min (1/n)‖WX − Y‖² + λ‖WG‖²`` s.t. ``rank W ≤ r``. With
    ``B(λ) = (I + nλG̃G̃ᵀ)^{1/2}`` and ``Z_reg(λ) = Z B(λ)⁻¹`` the paper's solution
    is ``W_reg(λ) = [Z_reg(λ)]_r B(λ)⁻¹ P⁻¹``.

    Parameters
    ----------
    X, Y, G, r
        As in :func:`hardwired_optimum`.
    lam : float or 1-D array of floats, ``>= 0``
        Penalty strength. For an array the whole regularisation path is returned,
        computed from one generalised eigendecomposition.
    normalization : {"paper", "mean"}
        ``"paper"``: data term ``(1/n)‖WX − Y‖²`` (eq. (7)). ``"mean"``:
        ``(1/(n·dL))‖WX − Y‖²`` as PyTorch's ``MSELoss``, i.e. the paper's problem
        with ``λ`` replaced by ``dL·λ``.

    Returns
    -------
    ndarray (dL, d0), or (len(lam), dL, d0) for an array ``lam``
        ``lam = 0`` gives the plain rank-``r`` regression; ``lam → ∞`` tends to
        :func:`hardwired_optimum` (Theorem 9).
    """
    X, Y = check_samples(X, Y)
    r = check_rank_bound(r, X.shape[0], Y.shape[0])
    lams, scalar = check_lam(lam)
    Ws = np.stack([p.solve(r) for p in regularized_problems(X, Y, G, lams, normalization)])
    return Ws[0] if scalar else Ws


def augmented_optimum(X, Y, elements, r: int, *, weights=None) -> np.ndarray:
    """Global optimum with data augmentation (Proposition 11).

    Solves ``min (1/(n|G|)) Σ_g ‖W ρ(g) X − Y‖²`` s.t. ``rank W ≤ r``: training on the
    whole orbit of every sample. With ``Q = (Σ_g ρ(g)XXᵀρ(g)ᵀ)^{1/2}`` and
    ``Z_da = |G|·YXᵀḠᵀQ⁻¹`` the paper's solution is ``W_da = [Z_da]_r Q⁻¹``. For a
    finite group it equals :func:`hardwired_optimum` (Theorem 12; the paper assumes
    ``ρ`` unitary, but any representation of a finite group will do, see the book).

    Parameters
    ----------
    X, Y, r
        As in :func:`hardwired_optimum`.
    elements : sequence of (d0, d0) arrays, or array (m, d0, d0)
        The augmentation matrices, normally ``Representation.elements()``. Any set is
        accepted; Theorem 12 needs the whole group with equal weights.
    weights : array (m,), optional
        Non-negative weights per element (normalised to sum to one); default equal.
        Unequal weights model sampling augmentations with unequal probabilities.

    Returns
    -------
    W_da : ndarray (dL, d0)
    """
    X, Y = check_samples(X, Y)
    r = check_rank_bound(r, X.shape[0], Y.shape[0])
    return augmented_problem(X, Y, elements, weights=weights).solve(r)

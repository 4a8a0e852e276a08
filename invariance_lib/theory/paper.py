"""The paper's formulas, written out literally.

Theorem 6, Proposition 8 and Proposition 11 are stated for invertible ``XXᵀ``, via
the whitening ``P = (XXᵀ)^{1/2}``. This module computes them exactly as written, as
an independent check of :mod:`invariance_lib.theory.solvers` and for teaching. It refuses a
singular ``XXᵀ`` unless ``pinv=True``, which plugs in pseudo-inverses — a natural
guess that is **not** optimal in general (the constraint ``W̃G̃ = 0`` with
``G̃ = P⁺G`` no longer matches ``WG = 0``); chapter 4 shows the gap.

Normalisation: the paper's, ``(1/n)‖WX − Y‖²`` and ``Z = YXᵀP⁻¹`` (not divided by
``√n``).
"""

from __future__ import annotations

import numpy as np

from ..core.validation import (check_constraint, check_lam, check_rank_bound, check_samples,
                          check_square_stack)
from ..core.linalg import numerical_rank, psd_root, truncated_svd

_PINV_RCOND = 1e-10  # relative cut-off for the pseudo-inverse of G̃ = P⁻¹G

__all__ = [
    "whitening",
    "Z_plain",
    "Z_inv",
    "Z_reg",
    "Z_da",
    "theorem6_optimum",
    "proposition8_optimum",
    "proposition11_optimum",
]


def whitening(X, *, pinv: bool = False) -> tuple[np.ndarray, np.ndarray]:
    """``P = (XXᵀ)^{1/2}`` and ``P⁻¹`` (or ``P⁺`` with ``pinv=True``).

    Raises
    ------
    ValueError
        If ``XXᵀ`` is singular and ``pinv`` is False.
    """
    X = np.asarray(X, dtype=np.float64)
    P, Pinv, rank = psd_root(X @ X.T)
    if rank < X.shape[0] and not pinv:
        raise ValueError(
            f"X Xᵀ is singular (rank {rank} < {X.shape[0]}): the paper's formula needs full "
            f"row rank. Add samples, drop the constant (e.g. always-zero) coordinates, or use "
            f"invariance_lib.theory.solvers, which returns the minimum-norm optimum; pinv=True plugs "
            f"in pseudo-inverses, which is not optimal in general.")
    return P, Pinv


def Z_plain(X, Y, *, pinv: bool = False) -> np.ndarray:
    """The whitened target ``Z = Y Xᵀ P⁻¹`` (``dL × d0``)."""
    X, Y = check_samples(X, Y)
    _, Pinv = whitening(X, pinv=pinv)
    return Y @ X.T @ Pinv


def Z_inv(X, Y, G, *, pinv: bool = False) -> np.ndarray:
    """``Z_inv = Z (I − G̃ G̃⁺)`` with ``G̃ = P⁻¹ G`` (Theorem 6)."""
    X, Y = check_samples(X, Y)
    G = check_constraint(G, X.shape[0])
    _, Pinv = whitening(X, pinv=pinv)
    Gt = Pinv @ G
    # A relative cut-off: with pinv=True, P⁺ amplifies rounding and G̃ picks up tiny
    # spurious singular values that NumPy's default (1e-15) would invert.
    return Y @ X.T @ Pinv @ (np.eye(X.shape[0]) - Gt @ np.linalg.pinv(Gt, rcond=_PINV_RCOND))


def _B_inv(X, G, lam: float, Pinv: np.ndarray) -> np.ndarray:
    """``B(λ)⁻¹ = (I + nλ G̃G̃ᵀ)^{-1/2}`` (Proposition 8)."""
    n = X.shape[1]
    Gt = Pinv @ G
    e, V = np.linalg.eigh(np.eye(X.shape[0]) + n * lam * (Gt @ Gt.T))
    return (V / np.sqrt(e)) @ V.T


def Z_reg(X, Y, G, lam: float, *, pinv: bool = False) -> np.ndarray:
    """``Z_reg(λ) = Z B(λ)⁻¹`` with ``B(λ) = (I + nλ G̃G̃ᵀ)^{1/2}`` (Proposition 8)."""
    X, Y = check_samples(X, Y)
    G = check_constraint(G, X.shape[0])
    lam_v, scalar = check_lam(lam, allow_array=False)
    _, Pinv = whitening(X, pinv=pinv)
    return Y @ X.T @ Pinv @ _B_inv(X, G, float(lam_v[0]), Pinv)


def _Q(X, E: np.ndarray, pinv: bool) -> tuple[np.ndarray, np.ndarray]:
    S = np.sum(E @ (X @ X.T) @ E.transpose(0, 2, 1), axis=0)
    Q, Qinv, rank = psd_root(S)
    if rank < X.shape[0] and not pinv:
        raise ValueError(
            f"Σ_g ρ(g) X Xᵀ ρ(g)ᵀ is singular (rank {rank} < {X.shape[0]}): Proposition 11's "
            f"formula needs it invertible. Use invariance_lib.theory.solvers.augmented_optimum "
            f"(minimum-norm optimum) or pass pinv=True.")
    return Q, Qinv


def Z_da(X, Y, elements, *, pinv: bool = False) -> np.ndarray:
    """``Z_da = |G| · Y Xᵀ Ḡᵀ Q⁻¹`` with ``Q = (Σ_g ρ(g)XXᵀρ(g)ᵀ)^{1/2}`` (Proposition 11)."""
    X, Y = check_samples(X, Y)
    E = check_square_stack(elements, "elements", d=X.shape[0])
    _, Qinv = _Q(X, E, pinv)
    return len(E) * Y @ X.T @ E.mean(axis=0).T @ Qinv


def theorem6_optimum(X, Y, G, r: int, *, pinv: bool = False) -> np.ndarray:
    """``W_inv = U_r Σ_r V_rᵀ P⁻¹`` from the SVD of ``Z_inv`` (Theorem 6, literally)."""
    X, Y = check_samples(X, Y)
    r = check_rank_bound(r, X.shape[0], Y.shape[0])
    _, Pinv = whitening(X, pinv=pinv)
    return truncated_svd(Z_inv(X, Y, G, pinv=pinv), r) @ Pinv


def proposition8_optimum(X, Y, G, r: int, lam: float, *, pinv: bool = False) -> np.ndarray:
    """``W_reg(λ) = [Z_reg(λ)]_r B(λ)⁻¹ P⁻¹`` (Proposition 8, literally)."""
    X, Y = check_samples(X, Y)
    r = check_rank_bound(r, X.shape[0], Y.shape[0])
    G = check_constraint(G, X.shape[0])
    lam_v, _ = check_lam(lam, allow_array=False)
    _, Pinv = whitening(X, pinv=pinv)
    Binv = _B_inv(X, G, float(lam_v[0]), Pinv)
    return truncated_svd(Y @ X.T @ Pinv @ Binv, r) @ Binv @ Pinv


def proposition11_optimum(X, Y, elements, r: int, *, pinv: bool = False) -> np.ndarray:
    """``W_da = [Z_da]_r Q⁻¹`` (Proposition 11, literally)."""
    X, Y = check_samples(X, Y)
    r = check_rank_bound(r, X.shape[0], Y.shape[0])
    E = check_square_stack(elements, "elements", d=X.shape[0])
    _, Qinv = _Q(X, E, pinv)
    return truncated_svd(Z_da(X, Y, E, pinv=pinv), r) @ Qinv


def data_rank(X) -> int:
    """Numerical rank of ``X Xᵀ`` (``d0`` when the paper's whitening exists)."""
    return numerical_rank(np.asarray(X, dtype=np.float64))

"""The three problems as one reduced-rank regression.

Every problem of the paper (Theorem 6, Propositions 8 and 11) has the form

.. math::

    \\min_W \\; \\operatorname{tr}(W K W^\\top) - 2\\operatorname{tr}(W C^\\top) + c
    \\quad\\text{s.t.}\\quad \\operatorname{rank} W \\le r,

with its own second moment ``K`` (``d0 × d0``, PSD) and cross moment ``C``
(``dL × d0``):

=================  ============================================  ===========================
problem            ``K``                                         ``C``
=================  ============================================  ===========================
plain              ``XXᵀ/n``                                     ``YXᵀ/n``
regularised (λ)    ``XXᵀ/n + λ GGᵀ``                             ``YXᵀ/n``
augmented          ``Σ_g w_g ρ(g) XXᵀ ρ(g)ᵀ / n``                ``Σ_g w_g YXᵀρ(g)ᵀ / n``
hard-wired         plain, restricted to ``W = V B`` (``B`` an orthonormal invariant basis)
=================  ============================================  ===========================

(``w_g = 1/|G|`` for augmentation with the whole group.) Given any *whitener* ``F``
(``d0 × s``) with ``Fᵀ K F = I_s`` and ``range F = range K``, the objective equals
``‖W K F − C F‖² − ‖C F‖² + c`` and its minimum-norm solution is

.. math::  W = [C F]_r \\, F^\\top ,

where ``[·]_r`` is the rank-``r`` truncated SVD (Eckart–Young–Mirsky). With the
symmetric root ``F = K^{+1/2}`` this is ``W = [C K^{+1/2}]_r K^{+1/2}``; when ``K``
is invertible it is exactly the paper's formula (Theorem 6, Propositions 8 and 11),
and when ``K`` is singular (dead pixels) it is the minimum-norm optimum. ``Z = C F``
is the *whitened target*; its singular values are the same for every whitener.

``normalization`` sets the data term: ``"paper"`` is ``(1/n)‖WX − Y‖²`` as in eq. (7);
``"mean"`` is ``(1/(n·dL))‖WX − Y‖²``, PyTorch's ``MSELoss``. With a penalty
``λ‖WG‖²`` the two differ by ``λ ↔ dL·λ``.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field

import numpy as np
import scipy.linalg as sla

from ..core.validation import (AssumptionWarning, check_constraint, check_lam, check_samples,
                               check_weights,
                               check_square_stack, is_representation)
from ..core.linalg import (COMPUTED_MARGIN, TIE_MARGIN, augmented_moment, left_null_space,
                           rank_tolerance, support_eigh, support_whitener, svd)

__all__ = [
    "ReducedRankProblem",
    "plain_problem",
    "hardwired_problem",
    "regularized_problems",
    "augmented_problem",
    "NORMALIZATIONS",
    "canonical_method",
    "build_problem",
]

NORMALIZATIONS = ("paper", "mean")

_METHOD_ALIASES = {
    "plain": "plain",
    "hardwired": "hardwired", "hard-wired": "hardwired", "hard_wired": "hardwired",
    "constrained": "hardwired",
    "augmented": "augmented", "augmentation": "augmented",
    "regularized": "regularized", "regularised": "regularized",
    "regularization": "regularized", "regularisation": "regularized",
}


def canonical_method(method: str) -> str:
    """Map a method name (``"hard-wired"``, ``"augmentation"``, …) to its canonical form."""
    key = str(method).lower().strip()
    if key not in _METHOD_ALIASES:
        raise ValueError(f"unknown method {method!r}; use one of 'plain', 'hardwired', "
                         f"'augmented' or 'regularized' (aliases: 'hard-wired', "
                         f"'augmentation', 'regularisation').")
    return _METHOD_ALIASES[key]


def _scale(normalization: str, n: int, dL: int) -> float:
    if normalization not in NORMALIZATIONS:
        raise ValueError(f"normalization must be 'paper' ((1/n)·‖WX − Y‖², eq. (7)) or 'mean' "
                         f"((1/(n·dL))·‖WX − Y‖², PyTorch's MSELoss), got {normalization!r}.")
    return 1.0 / n if normalization == "paper" else 1.0 / (n * dL)


@dataclass(frozen=True)
class ReducedRankProblem:
    """``min tr(W K Wᵀ) − 2 tr(W Cᵀ) + const`` s.t. ``rank W ≤ r``, with a whitener.

    Attributes
    ----------
    method : str
        ``"plain"``, ``"hardwired"``, ``"regularized"`` or ``"augmented"``.
    K : ndarray (d0, d0)
        Second-moment matrix (for hard-wiring, the plain one; the restriction to
        invariant maps is carried by ``F``).
    C : ndarray (dL, d0)
        Cross moment.
    const : float
        Constant making :meth:`loss` equal to the method's loss.
    F : ndarray (d0, s)
        Whitener: ``Fᵀ K F = I_s``; the feasible maps are ``W̃ Fᵀ``.
    lam : float or None
        The regularisation strength, for ``"regularized"``.
    """

    method: str
    K: np.ndarray
    C: np.ndarray
    const: float
    F: np.ndarray
    lam: float | None = None
    info: dict = field(default_factory=dict, compare=False)

    @property
    def Z(self) -> np.ndarray:
        """The whitened target ``Z = C F`` (``dL × s``)."""
        return self.C @ self.F

    def target_svd(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Sign-fixed thin SVD of the whitened target."""
        return svd(self.Z)

    def solve(self, r: int, *, warn: bool = True) -> np.ndarray:
        """The minimum-norm optimum ``W = [Z]_r Fᵀ`` of shape ``(dL, d0)``.

        Warns (:class:`~invariance_lib.AssumptionWarning`) when ``σ_r = σ_{r+1} > 0``:
        then the optimum is not unique and this is one of them.
        """
        U, s, Vt = self.target_svd()
        if warn:
            _warn_if_tied(s, r, self.method)
        k = min(r, s.size)
        return ((U[:, :k] * s[:k]) @ Vt[:k]) @ self.F.T

    def loss(self, W: np.ndarray) -> float:
        """The method's loss at ``W``, from the moments: ``tr(WKWᵀ) − 2tr(WCᵀ) + const``."""
        return float(np.sum((W @ self.K) * W) - 2.0 * np.sum(W * self.C) + self.const)

    def whitened_loss(self, Wt: np.ndarray) -> float:
        """The loss at the feasible map ``W = W̃ Fᵀ``, from whitened coordinates:
        ``‖W̃‖² − 2⟨W̃, Z⟩ + const`` (because ``FᵀKF = I`` and ``CF = Z``).

        Equal to :meth:`loss` of ``W̃ Fᵀ`` in exact arithmetic, and the one to use when
        ``K`` has huge entries (the regularised problem at large ``λ``): there
        ``tr(WKWᵀ)`` and ``2tr(WCᵀ)`` are large and nearly cancel, while here no
        product with ``K`` is formed.
        """
        Wt = np.asarray(Wt, dtype=np.float64)
        return float(np.sum(Wt * Wt) - 2.0 * np.sum(Wt * self.Z) + self.const)


def _warn_if_tied(s: np.ndarray, r: int, method: str) -> None:
    if r < s.size and s[r] > rank_tolerance(s, 1, margin=TIE_MARGIN) and s[r - 1] - s[r] <= 1e-10 * s[0]:
        warnings.warn(
            f"the {method} problem's whitened target has tied singular values at the rank "
            f"bound (σ_{r} = σ_{r + 1} = {s[r]:.6g}), so its rank-{r} optimum is not unique; "
            f"returning one of the optima. Statements that assume distinct singular values "
            f"(Theorem 6's uniqueness, Propositions 13 and B.9) do not apply.",
            AssumptionWarning, stacklevel=3)


# --------------------------------------------------------------- builders
def _data_moments(X, Y, normalization: str):
    X, Y = check_samples(X, Y)
    n, dL = X.shape[1], Y.shape[0]
    a = _scale(normalization, n, dL)
    K = a * (X @ X.T)
    C = a * (Y @ X.T)
    const = a * float(np.sum(Y * Y))
    return X, Y, K, C, const


def plain_problem(X, Y, normalization: str = "paper") -> ReducedRankProblem:
    """Plain rank-``r`` regression: ``K = XXᵀ/n``, ``C = YXᵀ/n``."""
    X, Y, K, C, const = _data_moments(X, Y, normalization)
    F, s = support_whitener(K)
    return ReducedRankProblem("plain", K, C, const, F, info={"rank_K": s})


def hardwired_problem(X, Y, G, normalization: str = "paper", *, rtol: float = 1e-8,
                      gap: float = 1e-4) -> ReducedRankProblem:
    """Hard-wired invariance ``W G = 0`` (Theorem 6).

    With an orthonormal basis ``B`` of ``{w : wG = 0}``, the feasible maps are
    ``W = V B`` and ``rank W = rank V``; the problem in ``V`` is a plain
    reduced-rank regression with inputs ``BX``. Its whitener is ``F = Bᵀ F_B``,
    where ``F_B = V_s diag(e_s^{-1/2})`` comes from the eigendecomposition
    ``B K Bᵀ = V diag(e) Vᵀ`` on its support (``e_s > 0``;
    :func:`~invariance_lib.core.linalg.support_whitener`). Then ``Fᵀ K F = I_s`` and
    ``range F = Bᵀ range(B K Bᵀ)``: the whitener of the problem in ``V``, lifted back
    to ``ℝ^{d0}``.
    """
    X, Y, K, C, const = _data_moments(X, Y, normalization)
    if is_representation(G):
        check_constraint(G, X.shape[0])
        B = G.invariant_basis(rtol=rtol, gap=gap)  # cached on the representation
    else:
        B = left_null_space(check_constraint(G, X.shape[0]), rtol=rtol, gap=gap,
                            canonical=False)
    if B.shape[0] == 0:
        F = np.zeros((X.shape[0], 0))
        s = 0
    else:
        FB, s = support_whitener(B @ K @ B.T)
        F = B.T @ FB
    return ReducedRankProblem("hardwired", K, C, const, F,
                              info={"rank_K": s, "invariant_dim": B.shape[0], "basis": B})


def augmented_problem(X, Y, elements, normalization: str = "paper",
                      weights=None) -> ReducedRankProblem:
    """Data augmentation (Proposition 11): every sample with every ``ρ(g)X``.

    ``K = Σ_g w_g ρ(g) XXᵀ ρ(g)ᵀ / n`` and ``C = Σ_g w_g Y Xᵀ ρ(g)ᵀ / n`` with
    weights ``w_g`` summing to one (default ``1/|G|``: the whole orbit, equally).
    """
    X, Y, K0, C0, const = _data_moments(X, Y, normalization)
    E = check_square_stack(elements, "elements", d=X.shape[0])
    w = check_weights(weights, len(E))
    # K = Σ w ρ K0 ρᵀ and C = C0 · Σ w ρᵀ.
    K = augmented_moment(K0, E, w)
    C = C0 @ np.tensordot(w, E, axes=1).T
    F, s = support_whitener(K)
    return ReducedRankProblem("augmented", K, C, const, F,
                              info={"rank_K": s, "n_elements": len(E), "weights": w})


def regularized_problems(X, Y, G, lams, normalization: str = "paper") -> list[ReducedRankProblem]:
    """The regularised problems ``(1/n)‖WX − Y‖² + λ‖WG‖²`` for every λ (Theorem 9).

    One generalised eigendecomposition serves every λ. On ``S = range(XXᵀ) +
    range(GGᵀ)`` (orthonormal basis ``U_S``) let ``A = U_Sᵀ (XXᵀ/n) U_S`` and
    ``H = U_Sᵀ GGᵀ U_S``, and solve ``H v = μ (A + cH) v`` with ``Vᵀ(A + cH)V = I``.
    Then ``Vᵀ K(λ) V = D(λ) = diag(1 − μ + (λ/c) μ)`` and
    ``F(λ) = U_S V D(λ)^{-1/2}`` is a whitener for ``K(λ) = XXᵀ/n + λGGᵀ`` — the
    same role as the paper's ``B(λ)⁻¹ P⁻¹``, without assuming ``XXᵀ`` invertible.
    Only a diagonal rescaling and a small SVD change with λ.
    """
    X, Y, A0, C, const = _data_moments(X, Y, normalization)
    G = check_constraint(G, X.shape[0])
    H0 = G @ G.T
    # Balance the two terms of A + cH (any c > 0 works; traces are cheap scales).
    tA, tH = float(np.trace(A0)), float(np.trace(H0))
    c = tA / tH if tH > 0 and tA > 0 else 1.0
    M0 = A0 + c * H0
    _, U, support = support_eigh(M0)
    US = U[:, support]
    A, H = US.T @ A0 @ US, US.T @ H0 @ US
    mu, V = sla.eigh(c * H, A + c * H)
    mu = np.clip(mu, 0.0, 1.0)
    # μ ∈ [0, 1]: μ = 0 on directions the penalty does not see (invariant, exactly
    # unpenalised), μ = 1 on directions only the penalty sees (no data). Both are
    # snapped by the rank policy, so that D(λ) is exact on them for every λ.
    snap = rank_tolerance(np.ones(1), mu.size, margin=COMPUTED_MARGIN)
    mu[mu <= snap] = 0.0
    mu[mu >= 1.0 - snap] = 1.0
    base = US @ V
    problems = []
    for lam in lams:
        # D > 0 on every direction when λ > 0 (D >= min(1, λ/c)); at λ = 0 only the
        # penalty-only directions (μ = 1) have D = 0 and leave the support of K(0).
        # No cut-off relative to max D: for large λ that dropped the unpenalised
        # directions (D = 1 ≪ λ/c) and returned W ≈ 0 instead of W_reg(λ) → W_inv.
        D = (1.0 - mu) + (lam / c) * mu
        keep = D > 0.0
        F = base[:, keep] / np.sqrt(D[keep])
        K = A0 + lam * H0
        problems.append(ReducedRankProblem("regularized", K, C, const, F, lam=float(lam),
                                           info={"rank_K": int(keep.sum())}))
    return problems


def build_problem(X, Y, method: str, *, G=None, elements=None, lam=None, weights=None,
                  normalization: str = "paper") -> ReducedRankProblem:
    """The :class:`~invariance_lib.theory.problems.ReducedRankProblem` of one method.

    ``method`` is ``"plain"``, ``"hardwired"`` (needs ``G``), ``"regularized"`` (needs
    ``G`` and a scalar ``lam``) or ``"augmented"`` (needs ``elements``).
    """
    method = canonical_method(method)
    X, Y = check_samples(X, Y)
    if method in ("hardwired", "regularized") and G is None:
        raise ValueError(f"method {method!r} needs the constraint matrix: pass G=rho.constraint_matrix().")
    if method == "augmented" and elements is None:
        raise ValueError("method 'augmented' needs the augmentation matrices: pass elements=rho.elements().")
    if method == "plain":
        return plain_problem(X, Y, normalization)
    if method == "hardwired":
        return hardwired_problem(X, Y, G, normalization)
    if method == "augmented":
        return augmented_problem(X, Y, elements, normalization, weights=weights)
    if lam is None:
        raise ValueError("method 'regularized' needs the penalty strength: pass lam=... (a number >= 0).")
    lams, _ = check_lam(lam, allow_array=False)
    return regularized_problems(X, Y, G, lams, normalization)[0]

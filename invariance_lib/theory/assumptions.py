"""Which of the paper's hypotheses hold for a given problem, and what follows if not.

>>> print(assumptions_report(X, Y, r=5, rep=c4_rotations(14)))   # doctest: +SKIP

The report never refuses a problem: every solver still returns the (minimum-norm)
global optimum. It tells the reader which statements apply as stated.
"""

from __future__ import annotations

import math
import textwrap
from dataclasses import dataclass

import numpy as np

from ..core.validation import (check_lam, check_rank_bound, check_representation,
                               check_samples, check_square_stack)
from ..core.groups import Representation, is_group
from ..core.linalg import COMPUTED_MARGIN, numerical_rank, rank_of_values, rank_tolerance
from .problems import augmented_problem, hardwired_problem

__all__ = ["Check", "AssumptionsReport", "assumptions_report"]


@dataclass(frozen=True)
class Check:
    """One hypothesis: whether it holds, the measurement, and the consequence if not."""

    key: str
    statement: str
    holds: bool
    detail: str
    consequence: str
    used_by: str

    def __str__(self) -> str:
        mark = " ok " if self.holds else "FAIL"
        text = textwrap.fill(f"[{mark}] {self.statement}: {self.detail} ({self.used_by})",
                             width=77, subsequent_indent="       ")
        if not self.holds:
            text += "\n" + textwrap.fill(self.consequence, width=77,
                                        initial_indent="       -> ",
                                        subsequent_indent="          ")
        return text


class AssumptionsReport:
    """A printable list of :class:`Check` results. Index it by key, e.g.
    ``report["full_rank_data"].holds``."""

    def __init__(self, header: str, checks: list[Check]) -> None:
        self.header = header
        self.checks = checks

    def __getitem__(self, key: str) -> Check:
        for c in self.checks:
            if c.key == key:
                return c
        raise KeyError(f"no check {key!r}; available: {', '.join(c.key for c in self.checks)}")

    def __iter__(self):
        return iter(self.checks)

    @property
    def all_hold(self) -> bool:
        """True when every checked hypothesis holds."""
        return all(c.holds for c in self.checks)

    def failed(self) -> list[str]:
        """Keys of the hypotheses that fail."""
        return [c.key for c in self.checks if not c.holds]

    def __str__(self) -> str:
        return "\n".join([textwrap.fill(self.header, width=79)] + [str(c) for c in self.checks])

    __repr__ = __str__


def _sv(prob) -> np.ndarray:
    return np.linalg.svd(prob.Z, compute_uv=False)


def _rank(s: np.ndarray, shape) -> int:
    return rank_of_values(s, max(shape), margin=COMPUTED_MARGIN)


def _distinct(s: np.ndarray, rank: int, rtol: float = 1e-8) -> tuple[bool, float]:
    nz = s[:rank]
    if nz.size < 2:
        return True, math.inf
    gap = abs(float(np.min(-np.diff(nz)) / nz[0]))
    return gap > rtol, gap


def assumptions_report(X, Y, r: int, rep: Representation | None = None, *, G=None,
                       elements=None, weights=None, lam=None) -> AssumptionsReport:
    """Check the hypotheses of Theorems 6, 9, 12 and Propositions 8, 11, 13, B.9.

    Parameters
    ----------
    X, Y : arrays (d0, n), (dL, n)
    r : int
        Rank bound.
    rep : Representation, optional
        Supplies ``G``, the augmentation set (its elements, if the group is finite)
        and unitarity.
    G : array (d0, k), optional
        Constraint matrix, if ``rep`` is not given.
    elements : sequence of (d0, d0) arrays, optional
        Augmentation set (default: ``rep.elements()``).
    weights : array, optional
        Augmentation weights (default equal).
    lam : float or 1-D array, optional
        Penalty strengths at which to check the regularised problem.

    Returns
    -------
    AssumptionsReport
        ``print`` it; index it by key: ``full_rank_data``, ``non_filling``,
        ``rank_below_invariant_dim``, ``target_rank_above_r``,
        ``distinct_singular_values``, ``unitary``, ``augmentation_is_group``,
        ``target_rank_above_r_da`` (the augmented target, when elements are known),
        ``reg_full_rank``, ``reg_gap_at_r`` (with ``lam``).
    """
    X, Y = check_samples(X, Y)
    d0, n = X.shape
    dL = Y.shape[0]
    r = check_rank_bound(r, d0, dL)
    rep = check_representation(rep, allow_none=True)
    if rep is not None:
        G = rep.constraint_matrix() if G is None else G
        if elements is None and not rep.is_lie:
            elements = rep.elements()
    checks: list[Check] = []

    rk = numerical_rank(X)
    checks.append(Check(
        "full_rank_data", "X Xᵀ has full rank", rk == d0, f"rank {rk} of {d0}",
        f"the optimum is unique only as a function on the {rk}-dimensional span of the data; "
        f"the solvers return the minimum-norm optimum. The paper's formulas with P⁻¹ do not "
        f"exist, and plugging in pseudo-inverses is not optimal in general. The loss does not "
        f"depend on the {d0 - rk} unseen input direction(s): first-layer weights on "
        f"always-zero inputs get no gradient and keep their initial values, so compare "
        f"trained and optimal maps on the data (function distance), not entry by entry.",
        "Theorem 6, Propositions 8 and 11"))
    m = min(d0, dL)
    checks.append(Check(
        "non_filling", "the rank bound is below min(d0, dL)", r < m, f"r = {r}, min(d0, dL) = {m}",
        "filling case: M_r is the whole (convex) space of matrices, so the rank bound does "
        "nothing and the optimum is the ordinary least-squares solution.",
        "setting of the paper"))

    if G is not None:
        hw = hardwired_problem(X, Y, G)
        dinv = hw.info["invariant_dim"]
        checks.append(Check(
            "rank_below_invariant_dim", "r < d, the invariant dimension", r < dinv,
            f"r = {r}, d = {dinv}",
            f"the rank bound does nothing for hard-wiring: rank W ≤ min(d, dL) = "
            f"{min(dinv, dL)} already; W_inv is the invariant least-squares solution.",
            "Theorem 6 (rank bound active)"))
        s = _sv(hw)
        rz = _rank(s, hw.Z.shape)
        checks.append(Check(
            "target_rank_above_r", "rank(Z_inv) > r", rz > r, f"rank(Z_inv) = {rz}",
            "the rank bound is inactive for the invariant target: the optimum is the "
            "unconstrained invariant one, and there is a single critical point.",
            "Theorem 6, Proposition 13"))
        ok, gap = _distinct(s, rz)
        checks.append(Check(
            "distinct_singular_values", "non-zero singular values of Z_inv are distinct", ok,
            f"smallest relative gap {gap:.2e}",
            "critical points come in continuous families, so the count C(rank, r) and the "
            "uniqueness of the optimum (if σ_r = σ_{r+1}) are lost.",
            "Propositions 13 and B.9"))

    if elements is not None:
        E = check_square_stack(elements, "elements", d=d0)
        orth = all(np.allclose(g.T @ g, np.eye(d0), atol=1e-10) for g in E)
        checks.append(Check(
            "unitary", "ρ is unitary (orthogonal)", orth,
            "ρ(g)ᵀρ(g) = I for all elements" if orth else "some ρ(g)ᵀρ(g) ≠ I",
            "Theorem 12 is stated for unitary ρ and its proof (Q commuting with ρ, Z_da "
            "invariant) fails. For a finite group the conclusion W_da = W_inv still holds, "
            "by a change of basis that makes ρ orthogonal (chapter 6); with singular X Xᵀ it "
            "holds as functions on the data, not necessarily as minimum-norm matrices.",
            "Proposition 11 (invariance of W_da), Theorem 12"))
        grp = is_group(E)
        w = np.full(len(E), 1.0) if weights is None else np.asarray(weights, dtype=float)
        equal = bool(np.allclose(w, w.mean()))
        checks.append(Check(
            "augmentation_is_group", "augmentation uses a whole group, equally weighted",
            grp and equal,
            f"{len(E)} matrices, {'closed' if grp else 'not closed'} under products, "
            f"{'equal' if equal else 'unequal'} weights",
            "Theorem 12 does not apply: the augmented optimum W_da is in general not "
            "invariant and differs from W_inv.",
            "Theorem 12"))
        da = augmented_problem(X, Y, E, weights=weights)
        sd = _sv(da)
        rd = _rank(sd, da.Z.shape)
        checks.append(Check(
            "target_rank_above_r_da", "rank(Z_da) > r", rd > r, f"rank(Z_da) = {rd}",
            "the rank bound is inactive for augmentation; a single critical point.",
            "Proposition 11, Proposition 13"))

    if lam is not None and G is not None:
        from .paths import regularization_path  # paths imports this package's solvers

        lams, _ = check_lam(lam)
        # The user's values plus a wide grid; λ = 0 and λ → ∞ are added by certify().
        grid = np.unique(np.concatenate([lams[lams > 0], np.logspace(-8, 8, 81)]))
        path = regularization_path(X, Y, G, r, grid, warn=False)
        q = path.sigma.shape[1]
        ranks = np.sum(path.sigma > rank_tolerance(path.sigma, max(d0, dL),
                                                    margin=COMPUTED_MARGIN), axis=1)
        full = bool(np.all(ranks == q))
        checks.append(Check(
            "reg_full_rank", "Z_reg(λ) has full rank", full,
            f"rank {int(ranks.min())} of {q} (B(λ) is invertible, so this is the rank of "
            f"the whitened target Z, the same for every λ)",
            "Theorem 9's hypothesis fails: the target has rank below min(d0, dL).",
            "Theorem 9"))
        cert = path.certify()
        lo, hi = cert.worst_cell
        checks.append(Check(
            "reg_gap_at_r", "σ_r > σ_{r+1} for Z_reg(λ) at every λ in [0, ∞)", cert.holds,
            f"certified on {grid.size + 2} values of λ (each σ_i(λ) is non-increasing); "
            f"smallest relative margin {cert.margin:.2e}, in the cell λ ∈ [{lo:.3g}, {hi:.3g}]",
            "the r-th and (r+1)-th singular values may meet in that cell: the top-r set can "
            "change there and the regularisation path jumps, although Z_reg(λ) keeps full "
            "rank (a gap in the proof of Theorem 9; chapter 5). Refine the grid there, e.g. "
            "with invariance_lib.closest_approach.",
            "Theorem 9 (continuity)"))

    header = (f"Assumptions report: d0 = {d0}, dL = {dL}, n = {n}, r = {r}"
              + (f", group {rep.name}" if rep is not None else ""))
    return AssumptionsReport(header, checks)

"""The regularisation path ``λ ↦ W_reg(λ)`` and where it can jump (Theorem 9, chapter 5).

For ``λ ≥ 0`` the regularised problem (Proposition 8) is

.. math::  \\min_W \\; s\\,\\|WX - Y\\|_F^2 + \\lambda \\|WG\\|_F^2
           \\quad\\text{s.t.}\\quad \\operatorname{rank} W \\le r,

with ``s = 1/n`` (``normalization="paper"``, eq. (7)) or ``s = 1/(n·dL)``
(``"mean"``, PyTorch's ``MSELoss``). Its minimum-norm optimum is
``W_reg(λ) = [Z(λ)]_r F(λ)ᵀ``, where ``F(λ)`` whitens ``K(λ) = s·XXᵀ + λGGᵀ`` and
``Z(λ) = s·YXᵀ F(λ)`` is the whitened target (see :mod:`invariance_lib.theory.problems`).
With the paper's normalisation and full-rank ``XXᵀ``, the singular values of
``Z(λ)`` are those of the paper's ``Z_reg(λ) = Z B(λ)⁻¹`` divided by ``√n``.

Two facts make the path easy to study:

* ``Z(λ)Z(λ)ᵀ = C K(λ)⁺ Cᵀ`` (``C = s·YXᵀ``) decreases in the Loewner order as ``λ``
  grows, so **every singular value** ``σ_i(Z(λ))`` **is non-increasing in** ``λ``.
  It tends to ``σ_i(Z_inv)``, the whitened target of the hard-wired problem.
* ``[·]_r`` is continuous (indeed real-analytic) wherever ``σ_r > σ_{r+1}``, so the
  path is continuous on every interval where the two do not meet.

Together they give a certificate: on a grid ``0 = λ_0 < λ_1 < … < λ_m < λ_{m+1} = ∞``,
if ``σ_r(λ_{k+1}) > σ_{r+1}(λ_k)`` for every ``k`` then ``σ_r(λ) > σ_{r+1}(λ)`` for
every ``λ ∈ [0, ∞)`` (monotonicity squeezes both between the grid values), and the
path is continuous on all of ``[0, ∞)`` — not only at the grid points.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from ..core.validation import check_constraint, check_lam, check_rank_bound, check_samples
from .problems import _scale, hardwired_problem, regularized_problems

__all__ = ["RegularizationPath", "ContinuityCertificate", "regularization_path",
           "closest_approach"]


@dataclass(frozen=True)
class ContinuityCertificate:
    """Result of :meth:`RegularizationPath.certify`.

    Attributes
    ----------
    holds : bool
        ``σ_r(λ_{k+1}) > σ_{r+1}(λ_k)`` on every cell of the extended grid
        ``[0, λ_1, …, λ_m, ∞]``: then ``σ_r > σ_{r+1}`` on all of ``[0, ∞)`` and the
        path is continuous there. ``False`` does not prove a jump: refine the grid
        around ``worst_cell`` (or use :func:`closest_approach`).
    margin : float
        ``min_k (σ_r(λ_{k+1}) − σ_{r+1}(λ_k)) / σ_1(0)``; ``inf`` when ``r`` is at
        least the number of singular values (no truncation ever happens).
    worst_cell : (float, float)
        The cell ``(λ_k, λ_{k+1})`` with the smallest margin (``inf`` stands for the
        limit ``λ → ∞``).
    """

    holds: bool
    margin: float
    worst_cell: tuple[float, float]


@dataclass(frozen=True)
class RegularizationPath:
    """The regularised optima for a grid of ``λ``, with what chapter 5 measures.

    Attributes
    ----------
    lams : ndarray (m,)
        The strictly increasing, non-negative grid.
    W : ndarray (m, dL, d0)
        ``W_reg(λ)``, the minimum-norm optima.
    sigma : ndarray (m, q)
        Singular values (descending) of the whitened target ``Z(λ)``, ``q = min(dL, s)``.
    sigma_plain, sigma_inv : ndarray (q,)
        The same at ``λ = 0`` (plain regression) and in the limit ``λ → ∞`` (the
        hard-wired target ``Z_inv``, padded with zeros).
    W_inv : ndarray (dL, d0)
        The hard-wired optimum (Theorem 6), the limit of the path (Theorem 9).
    distance : ndarray (m,)
        ``‖W_reg(λ) − W_inv‖_F``.
    non_invariance : ndarray (m,)
        ``‖W_reg(λ) G‖_F``.
    data_loss : ndarray (m,)
        ``s·‖W_reg(λ)X − Y‖²`` (computed from the moments).
    loss : ndarray (m,)
        The regularised objective at the optimum, ``data_loss + λ·non_invariance²``.
    loss_inv : float
        ``s·‖W_inv X − Y‖²``, the limit of ``loss`` and ``data_loss``.
    r : int
    normalization : str
    """

    lams: np.ndarray
    W: np.ndarray
    sigma: np.ndarray
    sigma_plain: np.ndarray
    sigma_inv: np.ndarray
    W_inv: np.ndarray
    distance: np.ndarray
    non_invariance: np.ndarray
    data_loss: np.ndarray
    loss: np.ndarray
    loss_inv: float
    r: int
    normalization: str

    @property
    def relative_distance(self) -> np.ndarray:
        """``‖W_reg(λ) − W_inv‖_F / ‖W_inv‖_F``."""
        norm = float(np.linalg.norm(self.W_inv))
        if norm == 0.0:
            raise ValueError("W_inv is the zero map (the target has no invariant part), so "
                             "the relative distance is undefined; use .distance instead.")
        return self.distance / norm

    @property
    def gap(self) -> np.ndarray:
        """Relative gap ``(σ_r − σ_{r+1}) / σ_1`` of ``Z(λ)`` at each ``λ``.

        ``inf`` where ``r`` is at least the number of singular values.
        """
        return _relative_gap(self.sigma, self.r)

    def jumps(self) -> np.ndarray:
        """``‖W_reg(λ_{k+1}) − W_reg(λ_k)‖_F`` for consecutive grid points, shape (m − 1,).

        On a continuous path these shrink when the grid is refined; across a jump
        they do not.
        """
        return np.linalg.norm(np.diff(self.W, axis=0), axis=(1, 2))

    def certify(self, rtol: float = 1e-10) -> ContinuityCertificate:
        """Certify ``σ_r(λ) > σ_{r+1}(λ)`` for **every** ``λ ∈ [0, ∞)``, from the grid.

        Uses that each ``σ_i(Z(λ))`` is non-increasing in ``λ``: on a cell
        ``[λ_k, λ_{k+1}]``, ``σ_r(λ) ≥ σ_r(λ_{k+1})`` and ``σ_{r+1}(λ) ≤ σ_{r+1}(λ_k)``.
        The grid is extended by ``λ = 0`` (``sigma_plain``) and ``λ = ∞``
        (``sigma_inv``). A cell passes when its margin exceeds ``rtol·σ_1(0)``.
        """
        q = self.sigma.shape[1]
        lams = np.concatenate([[0.0], self.lams, [np.inf]])
        if self.r >= q:
            return ContinuityCertificate(True, math.inf, (0.0, math.inf))
        S = np.vstack([self.sigma_plain, self.sigma, self.sigma_inv])
        scale = float(S[0, 0]) if S[0, 0] > 0 else 1.0
        margins = (S[1:, self.r - 1] - S[:-1, self.r]) / scale
        k = int(np.argmin(margins))
        margin = float(margins[k])
        return ContinuityCertificate(bool(margin > rtol), margin,
                                     (float(lams[k]), float(lams[k + 1])))


def _relative_gap(sigma: np.ndarray, r: int) -> np.ndarray:
    sigma = np.atleast_2d(sigma)
    if r >= sigma.shape[1]:
        return np.full(sigma.shape[0], np.inf)
    top = np.where(sigma[:, 0] > 0, sigma[:, 0], 1.0)
    return (sigma[:, r - 1] - sigma[:, r]) / top


def _check_grid(lams) -> np.ndarray:
    vals, scalar = check_lam(lams)
    if scalar or vals.size < 2:
        raise ValueError(f"lams must be a 1-D array of at least two values, got {lams!r}; "
                         f"for a single λ use invariance_lib.theory.solvers.regularized_optimum.")
    if np.any(np.diff(vals) <= 0):
        raise ValueError("lams must be strictly increasing (a path is a curve in λ); "
                         "pass np.unique(lams) to sort them and drop repeats.")
    return vals


def _sigmas(problems, q: int) -> np.ndarray:
    out = np.zeros((len(problems), q))
    for i, p in enumerate(problems):
        s = np.linalg.svd(p.Z, compute_uv=False)[:q]
        out[i, :s.size] = s
    return out


def regularization_path(X, Y, G, r: int, lams, *, normalization: str = "paper",
                        warn: bool = True) -> RegularizationPath:
    """The whole regularisation path from one generalised eigendecomposition.

    Parameters
    ----------
    X : array (d0, n)
    Y : array (dL, n)
    G : array (d0, k) or Representation
        Constraint matrix.
    r : int
        Rank bound, ``1 <= r <= min(d0, dL)``.
    lams : 1-D array
        Strictly increasing penalty strengths ``>= 0`` (may start at 0).
    normalization : {"paper", "mean"}
        Data term ``(1/n)‖WX − Y‖²`` or ``(1/(n·dL))‖WX − Y‖²``; the ``"mean"`` path
        at ``λ`` is the ``"paper"`` path at ``dL·λ``.
    warn : bool
        Warn (:class:`~invariance_lib.AssumptionWarning`) at grid points where
        ``σ_r = σ_{r+1}``, i.e. the optimum is not unique.

    Returns
    -------
    RegularizationPath

    Notes
    -----
    The optima are those of :func:`invariance_lib.theory.solvers.regularized_optimum`
    (the same :func:`~invariance_lib.theory.problems.regularized_problems`); this function
    adds the singular values of ``Z(λ)``, the limit ``W_inv`` and the measures.
    """
    X, Y = check_samples(X, Y)
    d0, n = X.shape
    dL = Y.shape[0]
    r = check_rank_bound(r, d0, dL)
    G = check_constraint(G, d0)
    lams = _check_grid(lams)
    problems = regularized_problems(X, Y, G, np.concatenate([[0.0], lams]), normalization)
    q = min(dL, max(p.Z.shape[1] for p in problems))
    sig = _sigmas(problems, q)
    problems = problems[1:]
    W = np.stack([p.solve(r, warn=warn) for p in problems])
    hw = hardwired_problem(X, Y, G, normalization)
    W_inv = hw.solve(r, warn=warn)
    sigma_inv = _sigmas([hw], q)[0]
    penalty = np.sum((W @ G) ** 2, axis=(1, 2))
    a = _scale(normalization, n, dL)
    # the data loss on the samples, the penalty added after: forming the total from the
    # moments, tr(WKWᵀ) − 2tr(WCᵀ) + const with K ∋ λGGᵀ, and subtracting λ·penalty
    # would cancel catastrophically at large λ
    data_loss = a * np.sum((W @ X - Y) ** 2, axis=(1, 2))
    total = data_loss + lams * penalty
    loss_inv = a * float(np.sum((W_inv @ X - Y) ** 2))
    return RegularizationPath(
        lams=lams, W=W, sigma=sig[1:], sigma_plain=sig[0], sigma_inv=sigma_inv,
        W_inv=W_inv, distance=np.linalg.norm(W - W_inv, axis=(1, 2)),
        non_invariance=np.sqrt(penalty), data_loss=data_loss, loss=total,
        loss_inv=loss_inv, r=r, normalization=normalization)


def closest_approach(X, Y, G, r: int, lo: float, hi: float, *,
                     normalization: str = "paper", points: int = 21,
                     rounds: int = 12) -> tuple[float, float]:
    """The ``λ ∈ [lo, hi]`` where ``σ_r`` and ``σ_{r+1}`` of ``Z(λ)`` come closest.

    Evaluates the relative gap ``(σ_r − σ_{r+1})/σ_1`` on ``points`` log-spaced
    values, then zooms in on the neighbours of the smallest one, ``rounds`` times
    (each round shrinks the bracket by a factor ``(points − 1)/2``). At a crossing
    the gap has a V-shaped zero and the result converges to the crossing ``λ*``; at
    an avoided crossing, to the point of closest approach. The gap may have several
    local minima: keep ``[lo, hi]`` around one (e.g. the ``worst_cell`` of
    :meth:`RegularizationPath.certify`).

    Returns
    -------
    lam : float
    gap : float
        The relative gap at ``lam``; ``0`` up to rounding at an exact crossing.
    """
    X, Y = check_samples(X, Y)
    r = check_rank_bound(r, X.shape[0], Y.shape[0])
    if r >= min(X.shape[0], Y.shape[0]):
        raise ValueError(f"r == {r} is the filling case: Z(λ) has no (r+1)-th singular "
                         f"value, so nothing can cross. Use r < min(d0, dL).")
    for name, v in (("lo", lo), ("hi", hi)):
        if not (isinstance(v, (int, float, np.floating, np.integer)) and np.isfinite(v)
                and v > 0):
            raise ValueError(f"{name} == {v!r}, must be a finite number > 0 (the search "
                             f"runs on a logarithmic grid).")
    if not lo < hi:
        raise ValueError(f"need lo < hi, got lo == {lo:g} and hi == {hi:g}.")
    if not (isinstance(points, int) and points >= 5 and isinstance(rounds, int)
            and rounds >= 1):
        raise ValueError(f"points must be an integer >= 5 and rounds >= 1, got "
                         f"points == {points!r}, rounds == {rounds!r}.")
    a, b = math.log(lo), math.log(hi)
    for _ in range(rounds):
        grid = np.exp(np.linspace(a, b, points))
        probs = regularized_problems(X, Y, G, grid, normalization)
        gaps = _relative_gap(_sigmas(probs, min(X.shape[0], Y.shape[0])), r)
        k = int(np.argmin(gaps))
        a = math.log(grid[max(k - 1, 0)])
        b = math.log(grid[min(k + 1, points - 1)])
    return float(grid[k]), float(gaps[k])

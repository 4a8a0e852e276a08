"""Figures of chapters 2 and 3 (varieties and low-rank approximation): the
rank-one cone with a chord, and loss curves between critical values.

The notebooks compute; these functions only draw. Each returns the matplotlib
``Figure`` and never calls ``plt.show()``. Legends use at least 9 pt and are placed
below the axes whenever a curve could run under them.
"""

from __future__ import annotations

from typing import Sequence

import matplotlib.pyplot as plt
import numpy as np

from ._common import FONT as _FONT

__all__ = [
    "plot_cone_chord",
    "plot_escape_losses",
    "plot_descent_runs",
]


def _draw_cone(ax, mesh, path, point) -> None:
    # The cone, its lines through the apex, the chord, its ends M0 and M1, and
    # the point (1 - t)M0 + tM1.
    ax.plot_surface(*mesh, color="tab:blue", alpha=0.15, linewidth=0)
    for psi in np.linspace(0, 2 * np.pi, 24, endpoint=False):
        u = np.array([-1.0, 1.0])
        ax.plot(u * (1 + np.cos(psi)), u * np.sin(psi), u * (1 - np.cos(psi)),
                color="tab:blue", lw=0.5, alpha=0.5)
    abc = np.array([[M[0, 0], M[0, 1], M[1, 1]] for M in path])
    ax.plot(*abc.T, color="tab:red", lw=2.5)
    ax.scatter(*abc[[0, -1]].T, color="black", s=25, depthshade=False)
    ax.text(*abc[0], "  M₀", fontsize=10)
    ax.text(*abc[-1], "  M₁", fontsize=10)
    a, b, c = point[0, 0], point[0, 1], point[1, 1]
    ax.scatter(a, b, c, color="tab:red", s=40, depthshade=False)
    ax.text(a, b, c, f"  rank {np.linalg.matrix_rank(point)}",
            color="tab:red", fontsize=_FONT)
    ax.scatter(0, 0, 0, color="black", marker="*", s=120, depthshade=False)
    ax.text(0, 0, -0.35, "apex 0\n(singular)", fontsize=8, ha="center", va="top")
    ax.set(xlabel="a", ylabel="b", zlabel="c", yticks=[-1, 0, 1],
           title="Rank ≤ 1 symmetric matrices:\nthe cone ac = b²")
    ax.set_box_aspect((2, 1, 2))  # true proportions: a circular cone
    ax.view_init(elev=20, azim=-50)


def plot_cone_chord(M0, M1, t: float, mesh, n_points: int = 201):
    """The chord from ``M0`` to ``M1`` through the cone of rank-one 2×2 symmetric matrices.

    Left: the cone ``ac = b²`` of the matrices ``[[a, b], [b, c]]`` of rank at most 1
    (``mesh`` = three arrays for ``plot_surface``), the chord and the point
    ``(1 − t)M0 + tM1`` with its rank. Right: the two singular values along the chord;
    the smaller is zero exactly on the cone (chapter 2, non-convexity).
    """
    grid = np.linspace(0, 1, n_points)
    path = [(1 - s) * M0 + s * M1 for s in grid]
    fig = plt.figure(figsize=(8.4, 4.6))
    gs = fig.add_gridspec(1, 2, width_ratios=(1.3, 1))
    _draw_cone(fig.add_subplot(gs[0], projection="3d"), mesh, path, (1 - t) * M0 + t * M1)
    s = np.array([np.linalg.svd(M, compute_uv=False) for M in path])
    ax = fig.add_subplot(gs[1])
    ax.plot(grid, s[:, 0], label="σ₁")
    ax.plot(grid, s[:, 1], label="σ₂ (zero on the cone)")
    ax.axvline(t, color="tab:red", ls="--", lw=1, label=f"t = {t:.2f}")
    ax.set(xlabel="position t on the chord", ylabel="singular value",
           title="Singular values of (1−t)M₀ + tM₁")
    # below the axes: t moves the red line across the whole panel
    ax.legend(fontsize=_FONT, loc="upper center", bbox_to_anchor=(0.5, -0.15), ncol=2)
    fig.tight_layout()
    return fig


def _critical_levels(ax, levels, names) -> None:
    """Dotted lines at the critical values, named on a right-hand axis."""
    for v in levels:
        ax.axhline(v, color="0.7", ls=":", lw=1)
    ax.set_yticks(list(levels), [f"{v:.3g}" for v in levels])
    right = ax.twinx()
    right.set_ylim(ax.get_ylim())
    right.set_yticks(list(levels), list(names))
    right.set_ylabel("critical point")


def plot_escape_losses(t, curves: Sequence[tuple], levels, names, *,
                       rising: tuple | None = None):
    """The loss along escape curves from critical points (chapter 3, Lemma B.10).

    Parameters
    ----------
    t : array
        The angles of the curves, from 0 to π/2.
    curves : sequence of (label, loss, formula)
        The computed loss along each curve (line) and the closed form
        ``ℓ(W_I) − 2σ_i(σ_j − σ_i) sin²t`` (dots), both at ``t``.
    levels, names : sequences
        The critical values (dotted lines) and the names of their critical points.
    rising : (label, loss, formula), optional
        A curve from the global minimum, drawn in red (its loss goes up).
    """
    fig, ax = plt.subplots(figsize=(8, 4.8))
    colors = plt.cm.viridis(np.linspace(0, 0.85, max(len(curves), 1)))
    runs = [(c, *curve) for c, curve in zip(colors, curves)]
    if rising is not None:
        runs.append(("tab:red", *rising))
    for c, label, loss, formula in runs:
        ax.plot(t, loss, color=c, label=label)
        ax.plot(t[::7], np.asarray(formula)[::7], "o", color=c, ms=3)
    ax.set(xlabel="angle t of the escape curve (radians)", ylabel="loss ‖Z − W(t)‖²",
           title="Leaving each critical point along a rank-2 curve", xlim=(0, np.pi / 2))
    _critical_levels(ax, levels, names)
    ax.legend(fontsize=_FONT, ncol=3, loc="upper center", bbox_to_anchor=(0.5, -0.15))
    fig.tight_layout()
    return fig


def plot_descent_runs(steps, losses, levels, names, *, title: str,
                      labels: Sequence[str] | None = None,
                      ylabel: str = "loss ‖Z − W_2 W_1‖²", ax=None):
    """Loss curves of gradient-descent runs between critical values (chapter 3).

    Parameters
    ----------
    steps : array, shape (T,)
    losses : array, shape (T, runs)
        One column per run.
    levels, names : sequences
        Critical values (dotted lines) and the names of their critical points.
    title, ylabel : str
    labels : sequence of str, optional
        One legend entry per run (none when omitted).
    ax : Axes, optional
        Draw here instead of a new figure.

    Returns
    -------
    Axes
    """
    if ax is None:
        _, ax = plt.subplots(figsize=(8, 4.2))
    losses = np.asarray(losses)
    colors = plt.cm.viridis(np.linspace(0, 0.85, losses.shape[1]))
    for k in range(losses.shape[1]):
        ax.plot(steps, losses[:, k], color=colors[k] if labels else None, lw=1.3,
                label=labels[k] if labels else None)
    ax.set(xlabel="gradient descent step", ylabel=ylabel, title=title,
           xlim=(0, steps[-1]))
    _critical_levels(ax, levels, names)
    if labels:
        ax.legend(fontsize=_FONT, loc="center right")
    ax.figure.tight_layout()
    return ax

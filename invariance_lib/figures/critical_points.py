"""Figures of chapter 7 (critical points of the three problems): index sets on
a grid, the regularised critical losses along λ, and the sorted critical losses.

The notebooks compute; these functions only draw. Each returns the matplotlib
``Figure`` and never calls ``plt.show()``. Legends use at least 9 pt and are placed
below the axes whenever a curve could run under them.
"""

from __future__ import annotations

from typing import Mapping, Sequence

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.colors import ListedColormap

from ._common import EXTRA as _EXTRA, FONT as _FONT, KEPT as _KEPT

__all__ = [
    "plot_index_set_grids",
    "plot_regularised_critical_losses",
    "plot_sorted_critical_losses",
]


def _draw_index_sets(ax, points, rank: int, k_inv: int, n_values: int, title: str) -> None:
    points = sorted(points, key=lambda cp: cp.loss)
    grid = np.zeros((n_values, len(points)))
    grid[rank:] = 1  # zero singular values: no critical point keeps them
    for col, cp in enumerate(points):
        for i in cp.index_set:
            grid[i, col] = 2 if i < k_inv else 3
    colours = ListedColormap(["white", "0.85", _KEPT, _EXTRA])
    ax.imshow(grid, cmap=colours, vmin=-0.5, vmax=3.5)
    ax.set_xticks(range(len(points)), [f"{cp.loss:.2f}" for cp in points],
                  rotation=90, fontsize=_FONT)
    ax.set_yticks(range(n_values), [f"σ{i + 1}" for i in range(n_values)])
    ax.set_xticks(np.arange(len(points)) - 0.5, minor=True)
    ax.set_yticks(np.arange(n_values) - 0.5, minor=True)
    ax.grid(which="minor", color="0.6", lw=0.5)
    ax.tick_params(which="minor", length=0)
    ax.set_xlabel("loss at the critical point")
    ax.set_title(title, fontsize=10)


def plot_index_set_grids(panels: Sequence[tuple], k_inv: int, n_values: int,
                         suptitle: str):
    """Critical points as index sets, one grid per problem (chapter 7).

    Parameters
    ----------
    panels : sequence of ``(points, rank, title)``
        ``points`` are :class:`~invariance_lib.theory.critical.CriticalPoint` objects
        (with ``index_set`` and ``loss``); ``rank`` is the rank of that problem's
        target: rows from ``rank`` on are grey (zero singular values).
    k_inv : int
        Rank of the invariant target ``Z_inv``; a kept index ``i >= k_inv`` is drawn
        orange (a singular value only the regularised target has).
    n_values : int
        Number of singular values (rows) to draw.
    suptitle : str
        Title of the figure.

    Columns are the critical points sorted by loss, a coloured cell a kept singular
    value: the critical point ``U Σ_I Vᵀ`` of Proposition B.9.
    """
    widths = [max(len(p), 1) for p, _, _ in panels]
    fig, axes = plt.subplots(1, len(panels), figsize=(8.4, 3.3), width_ratios=widths,
                             squeeze=False)
    for ax, (points, rank, title) in zip(axes[0], panels):
        _draw_index_sets(ax, points, rank, k_inv, n_values, title)
    fig.suptitle(suptitle, y=0.98)
    fig.tight_layout()
    return fig


def plot_regularised_critical_losses(lams, path: Sequence[Mapping], hw_losses, here,
                                     limits: Mapping, k_inv: int, lam: float,
                                     best=(0, 1)):
    """The regularised critical losses along λ, and where each one goes (chapter 7).

    Parameters
    ----------
    lams : array
        The grid of penalties.
    path : sequence of dict
        For each λ of ``lams``, ``{index_set: loss}`` of the regularised critical points.
    hw_losses : sequence of float
        The hard-wired critical losses (black triangles: the limits as λ → ∞).
    here : sequence of CriticalPoint
        The regularised critical points at the marked ``lam``.
    limits : dict
        ``{index_set: (W, loss)}``, the predicted λ → ∞ limit of each critical point
        (Proposition "Regularised critical points as λ → ∞").
    k_inv : int
        Rank of ``Z_inv``: index sets with an index ``>= k_inv`` are dashed orange.
    lam : float
        The penalty marked by a vertical line (left) and used on the right.
    best : tuple
        The global minimum's index set, drawn thicker.
    """
    fig, (ax, ax2) = plt.subplots(1, 2, figsize=(8.4, 4.5), width_ratios=[2, 1])
    for index_set in path[0]:
        extra = max(index_set) >= k_inv
        ax.plot(lams, [p[index_set] for p in path], ls="--" if extra else "-",
                color=_EXTRA if extra else _KEPT, lw=2.5 if index_set == best else 1.2)
    n_values = 1 + max(max(index_set) for index_set in path[0])
    extra_names = " or ".join(f"σ{i + 1}" for i in range(k_inv, n_values))
    ax.plot([], [], color=_KEPT, label=f"I ⊆ {{1,…,{k_inv}}}")
    ax.plot([], [], color=_EXTRA, ls="--", label=f"I uses {extra_names}")
    ax.scatter([lams[-1] * 3] * len(hw_losses), hw_losses, marker="<", color="k",
               label="hard-wired critical losses", zorder=3)
    ax.axvline(lam, color="grey", lw=0.8)
    ax.set(xscale="log", xlabel="penalty λ", ylabel="loss (1/n)‖WX − Y‖² + λ‖WG‖²",
           title="Regularised critical losses along λ")
    fig.legend(loc="lower center", ncol=3, fontsize=_FONT)
    for cp in here:
        extra = max(cp.index_set) >= k_inv
        ax2.plot([0, 1], [cp.loss, limits[cp.index_set][1]],
                 color=_EXTRA if extra else _KEPT, ls="--" if extra else "-",
                 marker="o", ms=4, lw=0.8)
    ax2.scatter([1] * len(hw_losses), hw_losses, marker="<", color="k", zorder=3)
    ax2.set_xticks([0, 1], [f"λ = {lam:.3g}", "λ → ∞"])
    ax2.set_xlim(-0.3, 1.3)
    ax2.set_title("where each loss goes", fontsize=10)
    fig.tight_layout(rect=(0, 0.07, 1, 1))
    return fig


_STYLES = {"hardwired": dict(marker="o", mfc="none", color="tab:blue"),
           "augmented": dict(marker="x", color="tab:green", ms=4),
           "regularized": dict(marker=".", color="tab:orange"),
           "plain": dict(marker=".", color="tab:grey")}


def plot_sorted_critical_losses(points_by_problem: Mapping, labels: Mapping,
                                zero_loss: float, title: str, r: int):
    """Every problem's critical losses, sorted, with the global minima starred (chapter 7).

    Parameters
    ----------
    points_by_problem : dict
        ``{"hardwired" | "augmented" | "regularized" | "plain": critical points}``,
        each list with the global minimum first (as ``critical_points`` returns it).
    labels : dict
        Legend label of each problem.
    zero_loss : float
        The loss of the zero map, drawn dotted.
    title : str
        Axes title.
    r : int
        The rank bound (for the legend of the stars: the top-``r`` index set).
    """
    fig, ax = plt.subplots(figsize=(8, 4.8))
    for method, points in points_by_problem.items():
        style = _STYLES[method]
        losses = sorted(cp.loss for cp in points)
        ax.plot(range(1, len(losses) + 1), losses, ls="none", label=labels[method],
                **style)
        ax.plot(1, points[0].loss, marker="*", ms=13, color=style["color"], mec="k",
                ls="none")
    ax.plot([], [], marker="*", ms=11, color="w", mec="k", ls="none",
            label=f"global minimum (top-{r} index set)")
    ax.axhline(zero_loss, color="k", lw=0.8, ls=":", label="loss of the zero map")
    ax.set(xlabel="critical point, sorted by loss",
           ylabel="loss (1/n)‖WX − Y‖² (+ penalty)", title=title)
    # the legend goes below the axes, where it cannot cover a curve
    fig.legend(loc="lower center", ncol=3, fontsize=_FONT)
    fig.tight_layout(rect=(0, 0.12, 1, 1))
    return fig

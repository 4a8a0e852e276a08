"""Figures of chapter 11: when does ‖W⊥‖ rise and fall, and why.

Every function draws into a new figure and returns it (the notebook calls
``plt.show()``). Curves are medians over seeds with a band from the smallest to
the largest seed.
"""

from __future__ import annotations

from typing import Mapping, Sequence

import matplotlib.pyplot as plt
import numpy as np

__all__ = ["plot_bump_grid", "plot_mechanism", "plot_figure3", "plot_parts"]


def _band(ax, x, Y, color, label, ls="-"):
    Y = np.asarray(Y)
    ax.plot(x, np.median(Y, axis=1), ls, color=color, label=label, lw=1.6)
    ax.fill_between(x, Y.min(axis=1), Y.max(axis=1), color=color, alpha=0.18, lw=0)


def plot_bump_grid(results: Mapping, *, metric: str = "w_perp", relative: bool = True,
                   title: str | None = None):
    """A grid of ``‖W⊥‖`` curves: rows are optimisers, columns depths, colours scales.

    Parameters
    ----------
    results : mapping ``(optimizer, depth_label) -> MomentRuns``
        E.g. ``{("Adam", "1 layer"): runs, ...}``; rows and columns follow the
        order of first appearance.
    metric : str, default "w_perp"
        A metric of :meth:`MomentRuns.series` (``"w_perp_data"``, …).
    relative : bool, default True
        Divide every run by its initial value (so that scales are comparable).
    """
    rows = list(dict.fromkeys(k[0] for k in results))
    cols = list(dict.fromkeys(k[1] for k in results))
    fig, axes = plt.subplots(len(rows), len(cols), figsize=(3.2 * len(cols) + 0.6,
                                                            2.7 * len(rows) + 0.6),
                             squeeze=False, sharey=relative)
    cmap = plt.get_cmap("viridis")
    for (opt, depth), runs in results.items():
        ax = axes[rows.index(opt)][cols.index(depth)]
        n = len(runs.scales)
        for k, a in enumerate(runs.scales):
            Y = runs.series(metric, a)
            if relative:
                Y = Y / Y[0]
            _band(ax, runs.epochs, Y, cmap(k / max(n - 1, 1) * 0.9), f"α = {a:g}")
        ax.set_yscale("log")
        ax.set_title(f"{opt}, {depth}", fontsize=10)
        ax.set_xlabel("epoch", fontsize=9)
        if relative:
            ax.axhline(1.0, color="0.5", lw=0.8, ls=":")
        ax.tick_params(labelsize=8)
    ylab = r"$\|W_\perp(t)\|_F \,/\, \|W_\perp(0)\|_F$" if relative else r"$\|W_\perp\|_F$"
    for r in range(len(rows)):
        axes[r][0].set_ylabel(ylab, fontsize=9)
    axes[0][-1].legend(fontsize=9, loc="lower left", title="initial scale",
                       title_fontsize=9)
    fig.suptitle(title or "Non-invariant part during training (augmentation, MNIST)",
                 fontsize=11)
    fig.tight_layout()
    return fig


def plot_mechanism(runs, reduced, scales: Sequence[float], *, lr: float):
    """Gradient descent on two layers against the reduced model, for a few scales.

    Left: ``‖W⊥‖`` (solid: training; dashed: reduced model). Middle: the scale of
    the second layer ``‖T‖_F``. Right: the first layer's non-invariant part
    ``‖W1⊥‖_F``. The x-axis is gradient-flow time ``t = lr · epoch``.
    """
    fig, axes = plt.subplots(1, 3, figsize=(10.5, 3.3))
    cmap = plt.get_cmap("viridis")
    keys = (("w_perp", r"$\|W_\perp\|_F$"), ("upper_norm", r"$\|W_2\|_F$ (second layer)"),
            ("first_perp", r"$\|W_1(I-\bar G)\|_F$ (first layer)"))
    for k, a in enumerate(scales):
        color = cmap(k / max(len(scales) - 1, 1) * 0.9)
        idx = runs.runs_of(a)
        for ax, (key, lab) in zip(axes, keys):
            _band(ax, lr * runs.epochs, getattr(runs, key)[:, idx], color,
                  f"α = {a:g}, training")
            ax.plot(lr * reduced.epochs, np.median(getattr(reduced, key)[:, idx], axis=1),
                    "--", color="k" if k == 0 else color, lw=1.2,
                    label=f"α = {a:g}, reduced model")
            ax.set_title(lab, fontsize=10)
    for ax in axes:
        ax.set_yscale("log")
        ax.set_xlabel("gradient-flow time t = lr · epoch", fontsize=9)
        ax.tick_params(labelsize=8)
    axes[0].legend(fontsize=8, loc="lower right")
    fig.suptitle("Gradient descent on two layers: W⊥ = W₂ · W₁(I − Ḡ)", fontsize=11)
    fig.tight_layout()
    return fig


def plot_figure3(curves: Mapping, *, paper_start: float = 0.85):
    """``‖W⊥‖`` under several conventions, beside the paper's initial value.

    ``curves`` maps a label to ``(epochs, values (T, seeds))``.
    """
    fig, ax = plt.subplots(figsize=(6.4, 3.6))
    cmap = plt.get_cmap("tab10")
    for k, (label, (x, Y)) in enumerate(curves.items()):
        _band(ax, x, Y, cmap(k), label)
    ax.axhline(paper_start, color="k", ls=":", lw=1,
               label=f"paper's initial value ≈ {paper_start}")
    ax.set_yscale("log")
    ax.set_xlabel("epoch", fontsize=9)
    ax.set_ylabel(r"$\|W_\perp\|_F$", fontsize=9)
    ax.set_title("Reconciling Figure 3: Adam, two layers, augmentation", fontsize=10)
    ax.legend(fontsize=8, loc="lower left")
    fig.tight_layout()
    return fig


def plot_parts(runs, scale: float, *, title: str | None = None):
    """``‖W⊥‖`` split into the data span and the dead pixels, for one initial scale.

    Also draws the scale of the upper layers ``‖W_L⋯W_2‖_F`` (right axis) when
    the network has more than one layer.
    """
    fig, ax = plt.subplots(figsize=(6.4, 3.5))
    for key, color, label in (("w_perp", "k", r"$\|W_\perp\|_F$ (all)"),
                              ("w_perp_data", "tab:blue", r"$\|W_\perp\Pi\|_F$ (data span)"),
                              ("w_perp_dead", "tab:red",
                               r"$\|W_\perp(I-\Pi)\|_F$ (dead pixels)")):
        _band(ax, runs.epochs, runs.series(key, scale), color, label)
    ax.set_yscale("log")
    ax.set_xlabel("epoch", fontsize=9)
    ax.set_ylabel("norm", fontsize=9)
    up = runs.series("upper_norm", scale)
    if np.all(np.isfinite(up)):
        ax2 = ax.twinx()
        ax2.plot(runs.epochs, np.median(up, axis=1), ":", color="tab:green",
                 label="upper layers (right axis)")
        ax2.set_ylabel(r"$\|W_L\cdots W_2\|_F$", fontsize=9, color="tab:green")
        ax2.tick_params(labelsize=8)
        ax2.legend(fontsize=8, loc="lower right")
    ax.legend(fontsize=8, loc="upper right")
    ax.set_title(title or f"Where the non-invariant part lives (α = {scale:g})", fontsize=10)
    fig.tight_layout()
    return fig

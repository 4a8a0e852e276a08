"""Figures of chapter 6 (data augmentation): optima of partial and weighted
augmentation sets, and random augmentation against the number of samples.

The notebooks compute; these functions only draw. Each returns the matplotlib
``Figure`` and never calls ``plt.show()``. Legends use at least 9 pt and are placed
below the axes whenever a curve could run under them.
"""

from __future__ import annotations

from typing import Mapping, Sequence

import matplotlib.pyplot as plt
import numpy as np

from ._common import FONT as _FONT

__all__ = [
    "plot_augmentation_sets",
    "plot_sampling_figure",
]


def plot_augmentation_sets(W_cases: Mapping, distance, non_invariance, orbit):
    """The augmented optimum for several augmentation sets (chapter 6).

    Left: bars of ``distance(W)`` (to ``W_inv`` on the data) and
    ``non_invariance(W)`` (``‖WG‖/‖W‖``) per case; right: the weights of output 0 on
    the pixels of one ``orbit`` (equal weights = invariant).
    """
    names = list(W_cases)
    colors = ["tab:green", "tab:red", "tab:orange", "tab:purple"]
    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(8.6, 3.4))
    x = np.arange(len(names))
    ax1.bar(x - 0.2, [distance(W_cases[k]) for k in names], 0.4,
            label="distance to $W_{inv}$ on the data", color="0.55")
    ax1.bar(x + 0.2, [non_invariance(W_cases[k]) for k in names], 0.4,
            label="non-invariance $\\|WG\\|/\\|W\\|$", color="0.2")
    ax1.text(0, 0.03, "both ≈ 0", ha="center", fontsize=8)
    ax1.set_xticks(x, names, fontsize=8)
    ax1.set(ylabel="relative size", ylim=(0, 1.9))
    ax1.set_title(f"Augmented optimum, {len(names)} augmentation sets", fontsize=10)
    ax1.legend(fontsize=_FONT, loc="upper left")
    for k, c in zip(names, colors):
        ax2.plot(range(len(orbit)), W_cases[k][0, orbit], "o-", color=c, label=k)
    ax2.set_xticks(range(len(orbit)), [f"pixel {p}" for p in orbit], fontsize=8)
    ax2.set(xlabel="pixels of one orbit", ylabel="weight of output 0 (digit 0)")
    ax2.set_title("Weights on one orbit (equal = invariant)", fontsize=10)
    ax2.legend(fontsize=_FONT)
    fig.tight_layout()
    return fig


def plot_sampling_figure(s_values, runs: Sequence[tuple], levels: Sequence[float],
                         anchor: int = 64, limit_color: str = "tab:orange"):
    """Random augmentation: the optimum of the sampled data set against ``s`` (chapter 6).

    Parameters
    ----------
    s_values : sequence of int
        Rotations sampled per image, the x axis (log scale).
    runs : sequence of ``(label, colour, values)``
        ``values`` has shape ``(2, n_seeds, len(s_values))``: the non-invariance and
        the distance to ``W_inv`` of each seed's optimum. Dots are seeds, lines the
        mean. The first run is the uniform one: the dotted ``1/√s`` reference passes
        through its mean at ``s = anchor``.
    levels : pair of float
        The limits of the biased run (the weighted augmented optimum), drawn dashed;
        a level below ``1e-6`` is not drawn (uniform weights have limit 0).
    """
    s_values = np.asarray(s_values)
    fig, axes = plt.subplots(1, 2, figsize=(8.6, 3.9))
    ylabels = ["non-invariance $\\|WG\\|/\\|W\\|$", "distance to $W_{inv}$ on the data"]
    at = int(np.flatnonzero(s_values == anchor)[0])
    for i, (ax, ylabel) in enumerate(zip(axes, ylabels)):
        for label, color, values in runs:
            for row in values[i]:
                ax.plot(s_values, row, ".", color=color, alpha=0.5)
            ax.plot(s_values, values[i].mean(axis=0), "-", color=color, label=label)
        if levels[i] > 1e-6:
            ax.axhline(levels[i], ls="--", color=limit_color, lw=1,
                       label="weighted augmentation (limit)")
        s = s_values[1:]
        ref = runs[0][2][i].mean(axis=0)[at]
        ax.plot(s, ref * np.sqrt(anchor / s), ":", color="0.4", label="slope $1/\\sqrt{s}$")
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.set_xlabel("rotations sampled per image, s")
        ax.set_ylabel(ylabel)
    # one legend below both panels, where it cannot cover a curve
    fig.legend(*axes[0].get_legend_handles_labels(), loc="lower center", ncol=4,
               fontsize=_FONT)
    fig.suptitle("Random augmentation: the optimum of the sampled data set", fontsize=11)
    fig.tight_layout(rect=(0, 0.09, 1, 1))
    return fig

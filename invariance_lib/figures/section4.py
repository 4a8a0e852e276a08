"""Figures of chapter 8: the paper's Figures 1–5 over seeds, and the cost of each method.

Every curve is the **median over seeds** with a band from the smallest to the
largest seed (:func:`invariance_lib.experiments.section4.median_band`). The inputs
are a :class:`~invariance_lib.experiments.section4.Section4Sweep` (Figures 1–4), the
dict of :func:`~invariance_lib.experiments.section4.paper_singular_values`
(Figure 5) and the rows of
:func:`~invariance_lib.experiments.section4.measure_cost` (cost). Functions return
the matplotlib ``Figure`` and never call ``plt.show()``.
"""

from __future__ import annotations

from typing import Sequence

import matplotlib.pyplot as plt
import numpy as np

from invariance_lib.experiments.section4 import (PAPER_EPOCHS, PAPER_REPORTED, RunKey,
                                                 Section4Sweep, dead_part, median_band)
from invariance_lib.measures import w_perp_norm

__all__ = [
    "plot_band",
    "plot_entries_figure",
    "plot_accuracy_figure",
    "plot_w_perp_figure",
    "plot_share_figure",
    "plot_singular_values_figure",
    "plot_cost_figure",
]

_FONT = 9
_COLORS = {"augmented": "C0", "hardwired": "C1"}
_REG_COLORS = ("C2", "C3", "C4", "C5", "C6")


def _check_sweep(sweep) -> Section4Sweep:
    if not isinstance(sweep, Section4Sweep):
        raise TypeError(f"sweep must be a Section4Sweep from run_section4(), got "
                        f"{type(sweep).__name__}.")
    return sweep


def _color(sweep: Section4Sweep, key: RunKey) -> str:
    if key.method in _COLORS:
        return _COLORS[key.method]
    lams = list(sweep.settings["lams"])
    return _REG_COLORS[lams.index(key.lam) % len(_REG_COLORS)]


def _seed_index(sweep: Section4Sweep, seed) -> int | None:
    if seed is None:
        return None
    if seed not in sweep.seeds:
        raise ValueError(f"highlight_seed {seed!r} is not one of the sweep's seeds "
                         f"{list(sweep.seeds)}.")
    return list(sweep.seeds).index(seed)


def _mark_paper_epochs(ax) -> None:
    ax.axvline(PAPER_EPOCHS, color="0.5", lw=0.8, ls="--")


def plot_band(ax, x, curves, *, label: str | None = None, color: str = "C0",
              ls: str = "-", highlight: int | None = None):
    """Median over the first axis of ``curves`` with a min–max band; returns ``ax``.

    ``highlight`` draws that curve (a seed's index) as a thin black line on top.
    """
    med, lo, hi = median_band(curves)
    ax.fill_between(x, lo, hi, color=color, alpha=0.22, lw=0)
    ax.plot(x, med, color=color, ls=ls, lw=1.6, label=label)
    if highlight is not None:
        ax.plot(x, np.asarray(curves)[highlight], color="k", lw=0.7)
    return ax


def _reg_keys(sweep: Section4Sweep, normalization: str) -> list[RunKey]:
    return [k for k in sweep.keys if k.method == "regularized"
            and k.normalization == normalization]


def _main_keys(sweep: Section4Sweep, normalization: str | None, hardwired: bool = True):
    norm = normalization or sweep.settings["normalizations"][0]
    keys = [sweep.key("augmentation")]
    if hardwired:
        keys.append(sweep.key("hard-wired"))
    return keys + _reg_keys(sweep, norm)


# ---------------------------------------------------------------- Figure 1
def plot_entries_figure(sweep: Section4Sweep, rows: Sequence[int] = (0, 1),
                        highlight_seed: int | None = None):
    """The paper's Figure 1: entries ``W[i, j]`` on the orbit of pixel 45, augmentation.

    Left: the four entries of each output row ``i`` in ``rows`` for one seed
    (``highlight_seed``, default the first), as the paper draws one run — the seeds
    train on different data subsets, so their entries converge to different values
    and a band over seeds of the raw entries says little. Right: what all seeds
    share, the spread of the orbit ``(max_j W[i, j] − min_j W[i, j]) / mean_j
    |W[i, j]|`` (median and range over the seeds, log scale).
    """
    sweep = _check_sweep(sweep)
    key = sweep.key("augmentation")
    epochs, E = sweep.series(key, "entries")           # (S, T, dL, 4)
    cols = sweep.histories(key)[0].entry_columns
    for row in rows:
        if not 0 <= row < E.shape[2]:
            raise ValueError(f"row {row} is out of range: W has {E.shape[2]} rows.")
    hi = _seed_index(sweep, highlight_seed)
    one = 0 if hi is None else hi
    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(11.0, 3.9))
    styles = ["-", "--", ":", "-."]
    for r_i, row in enumerate(rows):
        for c, col in enumerate(cols):
            ax1.plot(epochs, E[one, :, row, c], color=f"C{c}",
                     ls=styles[r_i % len(styles)], lw=1.3, label=f"W[{row}, {col}]")
    _mark_paper_epochs(ax1)
    ax1.set_xlabel("epoch", fontsize=_FONT)
    ax1.set_ylabel("entry of W", fontsize=_FONT)
    ax1.set_title(f"Entries of outputs {', '.join(map(str, rows))} on one orbit "
                  f"(seed {sweep.seeds[one]})", fontsize=10)
    ax1.legend(fontsize=_FONT, loc="center right", ncol=len(rows))
    for r_i, row in enumerate(rows):
        W = E[:, :, row, :]
        spread = (W.max(axis=-1) - W.min(axis=-1)) / np.abs(W).mean(axis=-1)
        plot_band(ax2, epochs, spread, label=f"output {row}", color=f"C{r_i + 4}",
                  highlight=hi)
    _mark_paper_epochs(ax2)
    ax2.set_yscale("log")
    ax2.set_xlabel("epoch", fontsize=_FONT)
    ax2.set_ylabel("(max − min) / mean |entry|", fontsize=_FONT)
    ax2.set_title(f"Spread of the four entries ({len(sweep.seeds)} seeds)", fontsize=10)
    ax2.legend(fontsize=_FONT, loc="lower left")
    fig.suptitle("Augmentation: entries of W on the orbit {45, 52, 143, 150}",
                 fontsize=11)
    fig.tight_layout()
    return fig


# ---------------------------------------------------------------- Figure 2
def plot_accuracy_figure(sweep: Section4Sweep, normalization: str | None = None,
                         highlight_seed: int | None = None, paper_marks: bool = True):
    """The paper's Figure 2: accuracy on the augmented training set over epochs.

    Augmentation, hard-wiring and regularisation for every λ (under
    ``normalization``, default the sweep's first). ``paper_marks`` puts the values
    read off the paper's figure at epoch 2,000 (crosses).
    """
    sweep = _check_sweep(sweep)
    hi = _seed_index(sweep, highlight_seed)
    fig, ax = plt.subplots(figsize=(7.2, 4.2))
    for key in _main_keys(sweep, normalization):
        epochs, acc = sweep.series(key, "aug_train_acc")
        color = _color(sweep, key)
        plot_band(ax, epochs, acc, label=key.label, color=color, highlight=hi)
        ref = PAPER_REPORTED.get(("aug_train_acc", key.method, key.lam))
        if paper_marks and ref is not None:
            ax.plot([PAPER_EPOCHS], [ref], "x", color=color, ms=8, mew=2)
    ax.plot([], [], "kx", ms=8, mew=2, label="the paper (read off its Figure 2)")
    _mark_paper_epochs(ax)
    ax.set_xlabel("epoch", fontsize=_FONT)
    ax.set_ylabel("accuracy on the augmented training set", fontsize=_FONT)
    ax.set_ylim(0.0, 0.7)
    ax.set_title(f"Accuracy on the 4,000 augmented training images "
                 f"({len(sweep.seeds)} seeds)", fontsize=10)
    ax.legend(fontsize=_FONT, loc="lower right", ncol=2)
    fig.tight_layout()
    return fig


# ---------------------------------------------------------------- Figure 3
def _closed_form_w_perp(sweep: Section4Sweep, key: RunKey) -> float:
    vals = [w_perp_norm(r.optima[key], sweep.rep) for r in sweep.results]
    return float(np.median(vals))


def plot_w_perp_figure(sweep: Section4Sweep, normalization: str | None = None,
                       highlight_seed: int | None = None, paper_marks: bool = True):
    """The paper's Figure 3: ``‖W_⊥‖_F`` over epochs, and the augmented run's split.

    Left: every run except hard-wiring (whose ``W_⊥`` is exactly 0), with the
    closed-form optimum's ``‖W_⊥‖`` of each run as a dotted line (median over
    seeds) and the paper's plateaus at epoch 2,000 (crosses). Right: the augmented
    run's ``‖W_⊥‖`` split into its part on the span of the augmented data,
    ``‖W_⊥Π‖``, and the rest, on pixels black in every rotated training image
    (:func:`~invariance_lib.experiments.section4.dead_part`).
    """
    sweep = _check_sweep(sweep)
    hi = _seed_index(sweep, highlight_seed)
    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(11.0, 4.0))
    for key in _main_keys(sweep, normalization, hardwired=False):
        epochs, wp = sweep.series(key, "w_perp")
        color = _color(sweep, key)
        plot_band(ax1, epochs, wp, label=key.label, color=color, highlight=hi)
        ax1.axhline(_closed_form_w_perp(sweep, key), color=color, ls=":", lw=1.4)
        ref = PAPER_REPORTED.get(("w_perp", key.method, key.lam))
        if paper_marks and ref is not None:
            ax1.plot([PAPER_EPOCHS], [ref], "x", color=color, ms=8, mew=2)
    ax1.plot([], [], "k:", label="closed-form optimum")
    ax1.plot([], [], "kx", ms=8, mew=2, label="the paper (its Figure 3)")
    _mark_paper_epochs(ax1)
    ax1.set_ylim(0.0, 1.6)
    ax1.set_xlabel("epoch", fontsize=_FONT)
    ax1.set_ylabel(r"$\|W_\perp\|_F$", fontsize=_FONT)
    ax1.set_title(r"Non-invariant part $\|W_\perp\|_F$ (hard-wired: exactly 0)",
                  fontsize=10)
    ax1.legend(fontsize=_FONT, loc="upper right", ncol=2)
    key = sweep.key("augmentation")
    epochs, total = sweep.series(key, "w_perp")
    _, on_data = sweep.series(key, "w_perp_data")
    plot_band(ax2, epochs, total, label=r"all of $W_\perp$", color="C0", highlight=hi)
    plot_band(ax2, epochs, on_data, label=r"on the data span, $\|W_\perp\Pi\|$",
              color="C9", ls="--", highlight=hi)
    plot_band(ax2, epochs, dead_part(total, on_data),
              label="on always-black pixels", color="C7", ls="-.", highlight=hi)
    _mark_paper_epochs(ax2)
    ax2.set_ylim(bottom=0.0)
    ax2.set_xlabel("epoch", fontsize=_FONT)
    ax2.set_ylabel("Frobenius norm", fontsize=_FONT)
    ax2.set_title(r"Augmentation: where $W_\perp$ lives", fontsize=10)
    ax2.legend(fontsize=_FONT, loc="upper right")
    fig.tight_layout()
    return fig


# ---------------------------------------------------------------- Figure 4
def plot_share_figure(sweep: Section4Sweep, normalization: str | None = None,
                      highlight_seed: int | None = None):
    """The paper's Figure 4: the invariant share ``‖W − W_⊥‖²/‖W‖²`` over epochs.

    Left: the share itself; right: ``1 − share`` on a log scale, which separates
    the runs near 1.
    """
    sweep = _check_sweep(sweep)
    hi = _seed_index(sweep, highlight_seed)
    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(11.0, 3.8))
    for key in _main_keys(sweep, normalization, hardwired=False):
        epochs, share = sweep.series(key, "invariant_share")
        color = _color(sweep, key)
        plot_band(ax1, epochs, share, label=key.label, color=color, highlight=hi)
        plot_band(ax2, epochs, np.clip(1.0 - share, 1e-12, None), label=key.label,
                  color=color, highlight=hi)
    for ax in (ax1, ax2):
        _mark_paper_epochs(ax)
        ax.set_xlabel("epoch", fontsize=_FONT)
    ax1.set_ylabel(r"$\|W - W_\perp\|_F^2 / \|W\|_F^2$", fontsize=_FONT)
    ax1.set_title("Share of the invariant part", fontsize=10)
    ax1.legend(fontsize=_FONT, loc="lower right")
    ax2.set_yscale("log")
    ax2.set_ylabel("1 − share", fontsize=_FONT)
    ax2.set_title("The same, distance from 1 (log scale)", fontsize=10)
    ax2.legend(fontsize=_FONT, loc="upper right")
    fig.tight_layout()
    return fig


# ---------------------------------------------------------------- Figure 5
def plot_singular_values_figure(sv: dict, order: int = 4,
                                paper_ratios: tuple[float, float] = (1.55, 1.99)):
    """The paper's Figure 5: singular values of ``Z_inv``, ``Z_da``, ``Z_reg(λ)``.

    Left: the singular values (paper's normalisation) against their index. Right:
    ``σ_i(Z_da)/σ_i(Z_inv)`` with the exact value ``√|G|`` and the range of ratios
    in the paper's own figure (shaded).
    """
    if not isinstance(sv, dict) or not {"inv", "da", "reg"} <= set(sv):
        raise TypeError("sv must be the dict returned by paper_singular_values().")
    k = min(len(sv["inv"]), len(sv["da"]))
    idx = np.arange(1, k + 1)
    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(11.0, 3.8))
    ax1.semilogy(idx, sv["da"][:k], "o-", color="C0", label=r"$Z_{da}$")
    ax1.semilogy(idx, sv["inv"][:k], "s-", color="C1", label=r"$Z_{inv}$")
    for i, (lam, s) in enumerate(sv["reg"].items()):
        ax1.semilogy(idx, s[:k], "^--", color=_REG_COLORS[i % len(_REG_COLORS)],
                     ms=4, label=rf"$Z_{{reg}}(\lambda={lam:g})$")
    ax1.set_xlabel("index i", fontsize=_FONT)
    ax1.set_ylabel(r"singular value $\sigma_i$", fontsize=_FONT)
    ax1.set_title("Singular values (the paper's normalisation)", fontsize=10)
    ax1.set_xticks(idx)
    ax1.legend(fontsize=_FONT, loc="lower left", ncol=2)
    ratio = sv["da"][:k] / sv["inv"][:k]
    ax2.axhspan(*paper_ratios, color="0.85", label="ratios in the paper's Figure 5")
    ax2.axhline(np.sqrt(order), color="k", ls=":", label=rf"$\sqrt{{|G|}} = {np.sqrt(order):g}$")
    ax2.plot(idx, ratio, "o-", color="C0", label=r"ours: $\sigma_i(Z_{da})/\sigma_i(Z_{inv})$")
    ax2.set_ylim(1.4, 2.2)
    ax2.set_xticks(idx)
    ax2.set_xlabel("index i", fontsize=_FONT)
    ax2.set_ylabel("ratio", fontsize=_FONT)
    ax2.set_title(r"$\sigma(Z_{da}) = \sqrt{|G|}\,\sigma(Z_{inv})$", fontsize=10)
    ax2.legend(fontsize=_FONT, loc="lower right")
    fig.tight_layout()
    return fig


# -------------------------------------------------------------------- cost
_PATH_LABELS = {"moments": "moment fast path", "samples": "full batch on samples",
                "mini-batch": "mini-batches of 64"}
_METHOD_LABELS = {"augmented": "augmentation", "hardwired": "hard-wired",
                  "regularized": "regularisation"}


def plot_cost_figure(cost_rows: Sequence[dict], settle: dict):
    """Time per epoch and time until the accuracy settles, per method and path.

    Parameters
    ----------
    cost_rows : rows of :func:`~invariance_lib.experiments.section4.measure_cost`
    settle : dict (method, path) -> epochs until the accuracy settles
        Time to convergence is ``seconds_per_epoch × epochs``.
    """
    rows = list(cost_rows)
    if not rows:
        raise ValueError("cost_rows is empty; pass the rows of measure_cost().")
    labels = [f"{_METHOD_LABELS.get(r['method'], r['method'])}\n"
              f"{_PATH_LABELS.get(r['path'], r['path'])}" for r in rows]
    per_epoch = np.array([r["seconds_per_epoch"] for r in rows]) * 1e3
    to_conv = np.array([r["seconds_per_epoch"] * settle.get((r["method"], r["path"]),
                                                            np.nan) for r in rows])
    colors = [{"moments": "C0", "samples": "C1", "mini-batch": "C3"}.get(r["path"], "C7")
              for r in rows]
    y = np.arange(len(rows))
    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(11.0, 4.2), sharey=True)
    ax1.barh(y, per_epoch, color=colors)
    ax1.set_xscale("log")
    ax1.set_yticks(y, labels, fontsize=_FONT)
    ax1.invert_yaxis()
    ax1.set_xlabel("milliseconds per epoch (log scale)", fontsize=_FONT)
    ax1.set_title("Time per epoch", fontsize=10)
    ax2.barh(y, to_conv, color=colors)
    ax2.set_xscale("log")
    ax2.set_xlabel("seconds until the accuracy settles (log scale)", fontsize=_FONT)
    ax2.set_title("Time to convergence (per epoch × epochs to settle)", fontsize=10)
    fig.tight_layout()
    return fig

"""Figures of chapters 9 and 10 (the paper's Appendix C): seed bands and grids.

Every function draws into matplotlib axes, sets titles, labels and legends
(fontsize >= 9) and returns the axes or figure; none calls ``plt.show()``.
Runs repeated over seeds are drawn as their median (line) and the band between the
smallest and largest seed (shaded).
"""

from __future__ import annotations

from typing import Callable, Sequence

import matplotlib.pyplot as plt
import numpy as np

from invariance_lib.experiments.history import METRICS, History, method_label

__all__ = ["seed_bands", "plot_seed_bands", "plot_cross_entropy_figures",
           "plot_loss_grid", "plot_eps_inv_bars", "plot_eps_inv_vs_n"]

ACTIVATION_NAMES = {"leaky_relu": "Leaky ReLU", "relu": "ReLU", "silu": "Swish",
                    "tanh": "Tanh"}


def _key(h: History) -> str:
    return method_label(h.method, h.lam)


def seed_bands(histories: Sequence[History], metric: str,
               key: Callable[[History], str] = _key):
    """Group runs by ``key`` and return ``{key: (x, median, low, high)}`` of ``metric``."""
    groups: dict[str, list] = {}
    for h in histories:
        groups.setdefault(key(h), []).append(h.series(metric))
    out = {}
    for k, series in groups.items():
        x = series[0][0]
        Y = np.stack([s[1] for s in series])
        out[k] = (x, np.median(Y, axis=0), Y.min(axis=0), Y.max(axis=0))
    return out


def plot_seed_bands(histories: Sequence[History], metric: str, ax=None, *,
                    key: Callable[[History], str] = _key, title: str | None = None,
                    ylabel: str | None = None, logy: bool = False,
                    legend: bool = True):
    """Median over seeds and the min–max band of ``metric`` for each group of runs."""
    if ax is None:
        _, ax = plt.subplots(figsize=(6, 4))
    for i, (k, (x, med, lo, hi)) in enumerate(seed_bands(histories, metric, key).items()):
        ax.plot(x, med, color=f"C{i}", label=k)
        ax.fill_between(x, lo, hi, color=f"C{i}", alpha=0.25, linewidth=0)
    default_y, default_title = ((r"median $\varepsilon_{inv}$", "Invariance error")
                                if metric.startswith("eps_inv") else METRICS[metric][:2])
    ax.set_xlabel("epoch")
    ax.set_ylabel(ylabel or default_y)
    ax.set_title(title or default_title, fontsize=10)
    if logy:
        ax.set_yscale("log")
    if legend:
        ax.legend(fontsize=9)
    return ax


def plot_cross_entropy_figures(histories: Sequence[History], *, rows=(0, 1)):
    """The paper's Figures 6–9 (cross-entropy) in one figure of four panels.

    (a) entries of ``W`` on one orbit for the first augmentation run (Figure 6),
    (b) accuracy on the augmented training set (Figure 7), (c) ``‖W_⊥‖_F``
    (Figure 8), (d) the invariant share (Figure 9); (b)–(d) as seed bands.
    """
    fig, axes = plt.subplots(2, 2, figsize=(11, 7.5))
    aug = next(h for h in histories if h.method == "augmented")
    aug.plot_entries(ax=axes[0, 0], rows=rows,
                     title=f"(a) entries of W on one orbit (augmentation, seed {aug.seed})")
    axes[0, 0].legend(fontsize=9, ncol=2)
    plot_seed_bands(histories, "aug_train_acc", axes[0, 1],
                    title="(b) accuracy on the augmented training set")
    plot_seed_bands(histories, "w_perp", axes[1, 0], title=r"(c) $\|W_\perp\|_F$",
                    legend=False)
    plot_seed_bands(histories, "invariant_share", axes[1, 1],
                    title="(d) share of the invariant part", legend=False)
    fig.tight_layout()
    return fig


def _config_key(h: History) -> str:
    return method_label(h.method, h.lam)


def plot_loss_grid(histories: Sequence[History], *, title: str = ""):
    """The paper's Figure 10: training loss, augmentation vs hard-wired, per network.

    One panel per (hidden width, activation): rows are the hidden widths, columns
    the activations; median over seeds with the min–max band, log scale.
    """
    acts = sorted({h.settings["activation"] for h in histories},
                  key=list(ACTIVATION_NAMES).index)
    widths = sorted({h.settings["hidden"][0] for h in histories})
    fig, axes = plt.subplots(len(widths), len(acts), figsize=(3.2 * len(acts),
                                                              2.9 * len(widths)),
                             squeeze=False, sharex=True)
    for i, w in enumerate(widths):
        for j, a in enumerate(acts):
            sub = [h for h in histories if h.settings["activation"] == a
                   and h.settings["hidden"][0] == w]
            ax = axes[i, j]
            plot_seed_bands(sub, "loss", ax, key=_config_key, logy=True,
                            title=f"{ACTIVATION_NAMES[a]}, {w} hidden",
                            ylabel="training MSE" if j == 0 else "",
                            legend=(i == 0 and j == 0))
            if i < len(widths) - 1:
                ax.set_xlabel("")
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    return fig


def plot_eps_inv_bars(table: dict, *, title: str = ""):
    """The paper's Figure 11: median ``ε_inv`` of augmented networks, per network.

    ``table[(input_set, N)][(activation, hidden)]`` is an array over seeds of the
    final median ``ε_inv``; one panel per input set, bars grouped by network,
    one bar (median over seeds, whiskers min–max) per ``N``; log scale.
    """
    sets = sorted({s for s, _ in table}, key=lambda s: (s != "test images", s))
    Ns = sorted({n for _, n in table})
    configs = list(next(iter(table.values())))
    fig, axes = plt.subplots(1, len(sets), figsize=(6.2 * len(sets), 3.8), squeeze=False)
    width = 0.8 / len(Ns)
    x = np.arange(len(configs))
    for ax, s in zip(axes[0], sets):
        for k, n in enumerate(Ns):
            vals = [np.asarray(table[(s, n)][c]) for c in configs]
            med = np.array([np.median(v) for v in vals])
            err = np.array([[m - v.min(), v.max() - m] for m, v in zip(med, vals)]).T
            ax.bar(x + (k - (len(Ns) - 1) / 2) * width, med, width, yerr=err,
                   capsize=2, label=f"N = {n:,}", color=f"C{k}")
        ax.set_xticks(x, [f"{ACTIVATION_NAMES[a]}\n{h} hidden" for a, h in configs],
                      fontsize=9)
        ax.set_yscale("log")
        ax.set_ylabel(r"median $\varepsilon_{inv}$")
        ax.set_title(f"augmented networks on {s}", fontsize=10)
        ax.legend(fontsize=9)
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    return fig


def plot_eps_inv_vs_n(Ns: Sequence[int], curves: dict, ax=None, *,
                      title: str = "Invariance error against the training-set size"):
    """``curves[label] = (median, low, high)`` arrays over ``Ns``; log-log."""
    if ax is None:
        _, ax = plt.subplots(figsize=(6, 4))
    for i, (label, (med, lo, hi)) in enumerate(curves.items()):
        ax.plot(Ns, med, "o-", color=f"C{i}", label=label)
        ax.fill_between(Ns, lo, hi, color=f"C{i}", alpha=0.2, linewidth=0)
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("training images N (before augmentation)")
    ax.set_ylabel(r"final median $\varepsilon_{inv}$")
    ax.set_title(title, fontsize=10)
    ax.legend(fontsize=9)
    return ax


def plot_first_layer_split(epochs, split: dict, eps: dict, *, eps_epochs=None):
    """Open question 3: the non-invariant part of ``W_1`` and ``ε_inv`` over training.

    ``split[label] = (median, low, high)`` of ``‖W_1(I − P)‖_F`` over ``epochs``;
    ``eps[label]`` the same for the median ``ε_inv`` on Gaussian inputs over
    ``eps_epochs``. Two panels, log scale, one colour per label.
    """
    fig, axes = plt.subplots(1, 2, figsize=(11, 3.8))
    eps_epochs = epochs if eps_epochs is None else eps_epochs
    for ax, data, x, ylab, ttl in (
            (axes[0], split, epochs, r"$\|W_1(I-P)\|_F$",
             "(a) non-invariant part of the first layer"),
            (axes[1], eps, eps_epochs, r"median $\varepsilon_{inv}$ (Gaussian)",
             "(b) invariance error on Gaussian inputs")):
        for i, (label, (med, lo, hi)) in enumerate(data.items()):
            ax.plot(x, med, color=f"C{i}", label=label)
            ax.fill_between(x, lo, hi, color=f"C{i}", alpha=0.25, linewidth=0)
        ax.set_yscale("log")
        ax.set_xlabel("epoch")
        ax.set_ylabel(ylab)
        ax.set_title(ttl, fontsize=10)
        ax.legend(fontsize=9)
    fig.tight_layout()
    return fig


__all__ += ["plot_first_layer_split"]


def _band(values: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Median, minimum and maximum over the runs (axis 1) of ``(time, runs)``."""
    values = np.asarray(values, dtype=float)
    return np.median(values, axis=1), values.min(axis=1), values.max(axis=1)


def plot_split_by_start(epochs, first_layer: dict, histories: Sequence[History],
                        runs, *, input_set: str = "Gaussian inputs",
                        floors: tuple[float, float] = (1e-12, 1e-30)):
    """Open question 3 (chapter 10): :func:`plot_first_layer_split` by initialisation.

    Groups the runs by their ``init`` (``"default"`` and ``"invariant"`` starts of
    :class:`~invariance_lib.experiments.stacked.NetRun`) and draws, for each group,
    the median and min–max band of ``‖W_1(I − P)‖_F`` (from a trainer's
    ``first_layer["perp"]``, shape ``(len(epochs), runs)``) and of the median
    invariance error ``ε_inv`` on ``input_set`` (``History.eps_inv``).

    Parameters
    ----------
    epochs : array
        Epochs of ``first_layer`` (``StackedTrainer.record_epochs``).
    first_layer : dict
        ``StackedTrainer.first_layer`` (trained with ``record_first_layer=True``).
    histories : sequence of History
        The trainer's histories, in the order of ``runs``.
    runs : sequence of NetRun
    input_set : str, default "Gaussian inputs"
        Key of ``History.eps_inv``.
    floors : (float, float), default (1e-12, 1e-30)
        Values below these are drawn at them (log scale: an invariant start keeps
        ``‖W_1(I − P)‖`` and ``ε_inv`` at rounding level, or exactly 0).

    Returns
    -------
    matplotlib.figure.Figure
        Two panels; legend labels ``"default start"``, ``"invariant start"``.
    """
    runs = list(runs)
    if len(runs) != len(histories) or first_layer["perp"].shape[1] != len(runs):
        raise ValueError(f"runs ({len(runs)}), histories ({len(histories)}) and "
                         f"first_layer['perp'] ({first_layer['perp'].shape[1]} runs) "
                         f"must describe the same runs.")
    eps = np.stack([h.eps_inv[input_set] for h in histories], axis=1)
    split, err = {}, {}
    for init in ("default", "invariant"):
        cols = [i for i, r in enumerate(runs) if r.init == init]
        if cols:
            split[f"{init} start"] = _band(np.maximum(first_layer["perp"][:, cols],
                                                      floors[0]))
            err[f"{init} start"] = _band(np.maximum(eps[:, cols], floors[1]))
    return plot_first_layer_split(epochs, split, err, eps_epochs=histories[0].eval_epochs)


def final_eps_curves(results: dict, runs, grid_table: dict | None = None, *,
                     activations: Sequence[str] = ("relu", "tanh"),
                     input_sets: Sequence[str] = ("test images", "Gaussian inputs"),
                     hidden: int = 7, init: str = "default") -> dict:
    """Final median ``ε_inv`` against ``N``: ``{label: (median, low, high)}`` over seeds.

    ``results[N]`` is the list of histories of ``runs`` trained on ``N`` images
    (:func:`~invariance_lib.experiments.nonlinear.run_appendix_c3`), or ``None``
    when size ``N`` is taken from the grid's ``grid_table[(input_set, N)]``
    (:func:`~invariance_lib.experiments.nonlinear.final_eps_table`, default starts
    only). Sizes in increasing order; labels ``"ReLU, test images"`` etc., the
    input for :func:`plot_eps_inv_vs_n`.
    """
    Ns = sorted(results)
    curves = {}
    for a in activations:
        for s in input_sets:
            cols = []
            for N in Ns:
                if results[N] is None:
                    if grid_table is None or init != "default":
                        raise ValueError(f"results[{N}] is None: pass the grid's "
                                         f"grid_table (default starts only).")
                    cols.append(np.asarray(grid_table[(s, N)][(a, hidden)], dtype=float))
                else:
                    cols.append(np.array([
                        h.eps_inv[s][-1] for h, r in zip(results[N], runs)
                        if r.activation == a and r.init == init and r.hidden == hidden]))
            curves[f"{ACTIVATION_NAMES[a]}, {s}"] = _band(np.stack(cols))
    return curves


__all__ += ["plot_split_by_start", "final_eps_curves"]


def plot_loss_gap(epochs, gaps: dict, ax=None, *, marks: Sequence[int] = (300,),
                  title: str = "Augmentation below hard-wiring: relative loss gap"):
    """The relative loss gap of :func:`~invariance_lib.experiments.nonlinear.loss_gaps`.

    ``gaps[(activation, hidden)]`` is ``1 − median L_aug / median L_hw`` over
    ``epochs`` (chapter 10, the paper's first observation on Appendix C.3). One
    line per network, in per cent: a colour per activation, solid for 15 hidden
    units and dashed for 7 (any other width dotted); log epoch axis (epoch 0 is
    left out), a line at zero gap and a dotted vertical line at each epoch of
    ``marks``; the legend is outside the axes, on the right.
    """
    if ax is None:
        _, ax = plt.subplots(figsize=(8, 4))
    epochs = np.asarray(epochs)
    keep = epochs > 0
    acts = list(ACTIVATION_NAMES)
    for (a, w), g in gaps.items():
        colour = f"C{acts.index(a)}" if a in acts else "k"
        style = {15: "-", 7: "--"}.get(w, ":")
        ax.plot(epochs[keep], 100 * np.asarray(g)[keep], style, color=colour,
                label=f"{ACTIVATION_NAMES.get(a, a)}, {w} hidden")
    ax.axhline(0.0, color="0.4", linewidth=0.8)
    for m in marks:
        ax.axvline(m, color="0.4", linestyle=":", linewidth=1)
    ax.set_xscale("log")
    ax.set_xlabel("epoch")
    ax.set_ylabel(r"gap $1 - L_{aug}/L_{hw}$ (%)")
    ax.set_title(title, fontsize=10)
    ax.legend(fontsize=9, loc="center left", bbox_to_anchor=(1.02, 0.5))
    ax.figure.tight_layout()
    return ax


__all__ += ["plot_loss_gap"]

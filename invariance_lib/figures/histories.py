"""The paper's Section 4 figures drawn from training histories.

Plot functions return the matplotlib ``Axes`` (or ``Figure``) and never call
``plt.show()``.
"""

from __future__ import annotations

from typing import Sequence

import numpy as np

from ..experiments.history import METRICS

__all__ = ["plot_histories", "plot_entries", "plot_section4"]


def _axes(ax):
    if ax is None:
        import matplotlib.pyplot as plt

        _, ax = plt.subplots(figsize=(6, 4))
    return ax


def plot_histories(histories: Sequence, metric: str, ax=None, *,
                   labels: Sequence[str] | None = None, title: str | None = None,
                   logy: bool = False):
    """Draw ``metric`` of several runs over epochs in one axes, with a legend.

    Parameters
    ----------
    histories : sequence of History
    metric : str
        One of :data:`METRICS` (``"loss"``, ``"aug_train_acc"``, ``"test_acc"``,
        ``"w_perp"``, ``"w_perp_data"``, ``"invariant_share"``) or
        ``"eps_inv[name]"``.
    ax : matplotlib Axes, optional
    labels : sequence of str, optional
        Legend entries (default: each history's ``label``).
    title : str, optional
    logy : bool
        Logarithmic y axis.

    Returns
    -------
    matplotlib.axes.Axes
    """
    histories = list(histories)
    if not histories:
        raise ValueError("histories is empty; pass at least one History.")
    if labels is not None and len(labels) != len(histories):
        raise ValueError(f"{len(labels)} labels for {len(histories)} histories.")
    ax = _axes(ax)
    for i, h in enumerate(histories):
        x, y = h.series(metric)
        ax.plot(x, y, label=labels[i] if labels is not None else h.label)
    if metric.startswith("eps_inv"):
        ylabel, default_title = r"median $\varepsilon_{inv}$", "Invariance error"
    else:
        ylabel, default_title, _ = METRICS[metric]
    ax.set_xlabel("epoch")
    ax.set_ylabel(ylabel)
    ax.set_title(title or default_title)
    if logy:
        ax.set_yscale("log")
    ax.legend(fontsize="small")
    return ax


def plot_section4(histories: Sequence, *, rows: Sequence[int] = (0,), fig=None):
    """The four panels of Section 4 in one figure.

    (1) entries of ``W`` on one orbit for the first augmentation run (Figure 1),
    (2) accuracy on the augmented training set (Figure 2), (3) ``‖W_⊥‖_F``
    (Figure 3), (4) the invariant share (Figure 4), for all runs.

    Returns
    -------
    matplotlib.figure.Figure
    """
    import matplotlib.pyplot as plt

    histories = list(histories)
    if fig is None:
        fig, axes = plt.subplots(2, 2, figsize=(12, 8))
    else:
        axes = np.array(fig.subplots(2, 2))
    axes = np.asarray(axes).ravel()
    aug = [h for h in histories if h.method == "augmented"]
    first = aug[0] if aug else histories[0]
    first.plot_entries(ax=axes[0], rows=rows)
    plot_histories(histories, "aug_train_acc", ax=axes[1])
    plot_histories(histories, "w_perp", ax=axes[2])
    plot_histories(histories, "invariant_share", ax=axes[3])
    fig.tight_layout()
    return fig


def plot_entries(history, ax=None, rows: Sequence[int] = (0,), title: str | None = None):
    """Figure 1: the entries ``W[i, j]`` of one run for its recorded columns ``j`` (one orbit).

    Parameters
    ----------
    history : History
    rows : sequence of int
        Output rows ``i`` to draw (each in its own line style).
    """
    if history.entries is None:
        raise ValueError("no entries were recorded in this run (nonlinear network, or no "
                         "entry columns); pass entry_columns=... to train().")
    ax = _axes(ax)
    styles = ["-", "--", ":", "-."]
    for r_i, row in enumerate(rows):
        if not 0 <= row < history.entries.shape[1]:
            raise ValueError(f"row {row} is out of range: W has {history.entries.shape[1]} rows.")
        for c_i, col in enumerate(history.entry_columns):
            ax.plot(history.epochs, history.entries[:, row, c_i], color=f"C{c_i}",
                    linestyle=styles[r_i % len(styles)], label=f"W[{row}, {col}]")
    ax.set_xlabel("epoch")
    ax.set_ylabel("entry of $W$")
    ax.set_title(title or f"Entries of $W$ on one orbit ({history.label})")
    ax.legend(fontsize="small", ncol=max(1, len(rows)))
    return ax


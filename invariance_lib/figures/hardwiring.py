"""Figures of chapter 4 (hard-wiring) and of the appendix on a singular ``XXᵀ``:
the closed-form optimum on MNIST for each rank bound, training against the closed
form, and the error per data direction.

The notebooks compute; these functions only draw. Each returns the matplotlib
``Figure`` and never calls ``plt.show()``. Legends use at least 9 pt and are placed
below the axes whenever a curve could run under them.
"""

from __future__ import annotations

from typing import Mapping

import matplotlib.pyplot as plt
import numpy as np

from ._common import FONT as _FONT, weight_image as _weight_image

__all__ = [
    "plot_rank_explorer",
    "plot_hardwired_training",
    "plot_error_per_direction",
]


def plot_rank_explorer(ranks, acc_train, acc_test, W, pixel_scale, r: int,
                       side: int = 14):
    """The hard-wired optimum for one rank bound (chapter 4's explorer).

    Left: training and test accuracy against the rank bound (``ranks``), with ``r``
    marked. Right: the rows of ``W`` (one per digit) times ``pixel_scale``, the
    typical size of each pixel, as ``side × side`` images, each on its own colour
    scale (red positive, blue negative).
    """
    fig = plt.figure(figsize=(8.4, 4.4))
    grid = fig.add_gridspec(3, 6)
    ax = fig.add_subplot(grid[:, :3])
    ax.plot(ranks, acc_train, "o-", label="training images")
    ax.plot(ranks, acc_test, "s-", label="test images")
    ax.axvline(r, color="k", ls=":")
    ax.set(xlabel="rank bound r", ylabel="accuracy", title=f"Hard-wired optimum, r = {r}")
    ax.legend(fontsize=_FONT)
    for digit, w in enumerate(np.asarray(W) * pixel_scale):
        a = fig.add_subplot(grid[digit // 3, 3 + digit % 3])
        _weight_image(a, w, np.abs(w).max(), side, f"digit {digit}", fontsize=8)
    fig.tight_layout()
    return fig


def plot_hardwired_training(histories: Mapping, loss_star: float, acc_star: float):
    """Training the hard-wired network against its closed form (chapter 4).

    Parameters
    ----------
    histories : mapping lr -> sequence of History
        Runs per learning rate (``epochs``, ``loss``, ``eval_epochs``, ``test_acc``).
    loss_star, acc_star : float
        The optimal loss ``L*`` and the test accuracy of the closed form ``W*``.

    Left: the relative gap ``(L − L*)/L*`` on a log axis; right: test accuracy with
    the closed form's as a dotted line.
    """
    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(8.4, 3.6))
    for (lr, hs), c in zip(histories.items(), ("C0", "C1", "C2", "C3")):
        for i, h in enumerate(hs):
            label = f"Adam, lr {lr:g}" if i == 0 else None
            ax1.semilogy(h.epochs, (np.asarray(h.loss) - loss_star) / loss_star, c,
                         lw=0.8, label=label)
            ax2.plot(h.eval_epochs, h.test_acc, c, lw=0.8, label=label)
    ax2.axhline(acc_star, color="k", ls=":", label="closed form W*")
    ax1.set(xlabel="epoch", ylabel="(L − L*) / L*",
            title="Relative loss gap to the closed form")
    ax2.set(xlabel="epoch", ylabel="test accuracy", ylim=(0.3, 0.6), title="Test accuracy")
    ax1.legend(fontsize=_FONT)
    ax2.legend(fontsize=_FONT, loc="lower right")
    fig.tight_layout()
    return fig


def plot_error_per_direction(variances, errors: Mapping, *, rel_zero: float = 1e-12):
    """The error of trained maps per direction of the data (appendix, singular XXᵀ).

    Parameters
    ----------
    variances : array, shape (d,)
        The eigenvalues ``e_i`` of the feature covariance: the variance of the data
        along each eigenvector ``u_i``.
    errors : mapping label -> array, shape (d,)
        ``‖(V − V*) u_i‖`` of a trained map, per direction.
    rel_zero : float
        Directions with ``e_i < rel_zero · max e`` are unseen: drawn as crosses at the
        left edge of the raw panel (a log axis cannot show 0).

    Left: the raw error; right: ``√e_i`` times it, as the function distance weighs it.
    """
    e = np.asarray(variances, dtype=float)
    zero = e < rel_zero * e.max()
    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(8.4, 3.6), sharex=True)
    for (label, err), c in zip(errors.items(), ("C0", "C1", "C2", "C3")):
        err = np.asarray(err)
        for ax, y in ((ax1, err), (ax2, err * np.sqrt(np.clip(e, 0, None)))):
            ax.loglog(e[~zero], y[~zero], "o", color=c, ms=3, label=f"{label}, seen")
        ax1.loglog(np.full(zero.sum(), 2e-8), err[zero], "x", color=c, ms=7,
                   label=f"{label}, unseen")
    ax1.axvline(5e-8, color="0.6", lw=0.8)
    ax1.set(xlabel="variance e_i of the data along u_i (unseen: left)",
            ylabel="‖(V − V*) u_i‖", title="Raw error per direction")
    ax2.set(xlabel="variance e_i of the data along u_i", ylabel="√e_i ‖(V − V*) u_i‖",
            title="Error as the function distance sees it")
    ax1.legend(fontsize=_FONT)
    fig.tight_layout()
    return fig

"""Figures of chapter 5 (regularisation): the path λ ↦ W_reg(λ) arriving at the
invariant optimum, a crossing of singular values, and the path on MNIST.

The notebooks compute; these functions only draw. Each returns the matplotlib
``Figure`` and never calls ``plt.show()``. Legends use at least 9 pt and are placed
below the axes whenever a curve could run under them.
"""

from __future__ import annotations

from typing import Mapping, Sequence

import matplotlib.pyplot as plt
import numpy as np

from ._common import FONT as _FONT, weight_image as _weight_image

__all__ = [
    "plot_path_explorer",
    "plot_path_arrival",
    "plot_path_crossing",
    "plot_path_on_mnist",
]


def plot_path_explorer(lams, distance, index: int, W_row, W_inv_row, pixel_scale,
                       digit: int, side: int = 14):
    """One point of the regularisation path (chapter 5's explorer).

    Left: ``distance`` (the function distance to ``W_inv``) against ``lams``, with the
    point ``index`` marked. Middle and right: the digit's row of ``W_reg(λ)`` and of
    ``W_inv``, times ``pixel_scale``, on one shared colour scale.
    """
    fig, axes = plt.subplots(1, 3, figsize=(8.4, 2.8),
                             gridspec_kw={"width_ratios": [1.6, 1, 1]})
    axes[0].loglog(lams, distance)
    axes[0].plot(lams[index], distance[index], "ro")
    axes[0].set(xlabel="penalty strength λ", ylabel="function distance to W_inv",
                title=f"λ = {lams[index]:.2g}")
    rows = (np.asarray(W_row) * pixel_scale, np.asarray(W_inv_row) * pixel_scale)
    vmax = max(np.abs(w).max() for w in rows)
    for ax, w, title in zip(axes[1:], rows,
                            (f"W_reg(λ), digit {digit}", f"W_inv, digit {digit}")):
        _weight_image(ax, w, vmax, side, title)
    fig.tight_layout()
    return fig


def plot_path_arrival(lams, measures: Mapping, large, sigma, sigma_inv, r: int):
    """How the regularisation path reaches ``W_inv`` (chapter 5, Proposition 8).

    Parameters
    ----------
    lams : array
        The penalties λ.
    measures : mapping name -> array
        Distances to the λ → ∞ limit along the path; drawn relative to their first
        value, on log axes, with a ``1/λ`` reference over ``lams[large]``.
    large : index or boolean mask
        Where the ``1/λ`` line is drawn.
    sigma : array, shape (len(lams), q)
        The singular values of ``Z_reg(λ)/√n``; ``σ_r`` and ``σ_{r+1}`` are bold.
    sigma_inv : array
        Their λ → ∞ limits (dotted).
    r : int
        The rank bound.
    """
    lams = np.asarray(lams)
    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(8.4, 3.6))
    for name, values in measures.items():
        values = np.asarray(values)
        ax1.loglog(lams, values / values[0], label=name)
    ax1.loglog(lams[large], 0.5e3 / lams[large], "k:", label="slope −1")
    ax1.set(xlabel="penalty strength λ", ylabel="relative to its value at λ = 1e-4",
            title="The path arrives at W_inv like 1/λ")
    ax1.legend(fontsize=_FONT)
    for i, s in enumerate(np.asarray(sigma).T):
        bold = i in (r - 1, r)
        ax2.semilogx(lams, s, label=f"σ_{i + 1}" if bold else None,
                     **(dict(lw=2.2) if bold else dict(color="0.6", lw=1)))
    ax2.semilogx(lams[[0, -1]], np.outer([1, 1], sigma_inv), "k:", lw=0.8)
    ax2.set(xlabel="penalty strength λ", ylabel="singular value of Z_reg(λ)/√n",
            title=f"Z_reg(λ): σ_{r} and σ_{r + 1} stay apart (r = {r})")
    ax2.legend(fontsize=_FONT)
    fig.tight_layout()
    return fig


def plot_path_crossing(lams, paths: Sequence[tuple]):
    """A crossing and an avoided crossing of singular values along the path (ch. 5).

    ``paths`` holds ``(path, linestyle, name)`` with ``path`` a
    ``regularization_path`` result for rank 1 (``sigma``, ``relative_distance``).
    Left: ``σ_1, σ_2`` of ``Z_reg(λ)/√n``; right: ``‖W_reg(λ) − W_inv‖/‖W_inv‖``.
    """
    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(8.4, 3.4))
    for path, style, name in paths:
        ax1.plot(lams, path.sigma[:, 0], "C0" + style, label=f"σ_1, {name}")
        ax1.plot(lams, path.sigma[:, 1], "C1" + style, label=f"σ_2, {name}")
        ax2.plot(lams, path.relative_distance, "k" + style, label=name)
    ax1.set(xlabel="penalty strength λ", ylabel="singular value of Z_reg(λ)/√n",
            title="Crossing (exact) vs avoided crossing")
    ax2.set(xlabel="penalty strength λ", ylabel="‖W_reg(λ) − W_inv‖ / ‖W_inv‖",
            title="The exact path jumps at λ* = 2")
    ax1.legend(fontsize=_FONT)
    ax2.legend(fontsize=_FONT)
    fig.tight_layout()
    return fig


def plot_path_on_mnist(lams, distances: Sequence[tuple], marks, accuracies: Sequence[tuple],
                       acc_inv: Sequence[float]):
    """The regularisation path on MNIST in two λ conventions (chapter 5).

    Parameters
    ----------
    lams : array
        The penalties λ of eq. (7).
    distances : sequence of (values, linestyle, label)
        Function distances ``‖(W_reg(λ) − W_inv)X‖ / ‖W_inv X‖`` along ``lams``.
    marks : (lams, values)
        Points drawn as black dots (the paper's λ_exp).
    accuracies : sequence of (values, label)
        Test accuracies along ``lams``; ``acc_inv`` are those of ``W_inv`` (dotted).
    """
    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(8.4, 3.6))
    for values, style, label in distances:
        ax1.loglog(lams, values, style, label=label)
    ax1.loglog(*marks, "ko", ms=4, label="the paper's λ_exp")
    ax1.set(xlabel="penalty strength λ", ylabel="‖(W_reg(λ) − W_inv)X‖ / ‖W_inv X‖",
            title="Same path, shifted by log10(9)")
    ax1.legend(fontsize=_FONT)
    for (values, label), a, c in zip(accuracies, acc_inv, ("C0", "C1", "C2")):
        ax2.semilogx(lams, values, color=c, label=label)
        ax2.axhline(a, color=c, ls=":", lw=1)
    ax2.set(xlabel="penalty strength λ (eq. (7))", ylabel="test accuracy",
            title="Accuracy along the path (dotted: W_inv)")
    ax2.legend(fontsize=_FONT, loc="lower right")
    fig.tight_layout()
    return fig

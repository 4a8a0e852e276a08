"""Figures for the book: images, orbits on a pixel grid, matrices.

Every function draws into a matplotlib ``Axes`` (a new figure when none is given),
sets a title and axis labels, and returns the ``Axes``; it never calls
``plt.show()``, so notebooks decide when a figure is shown.
"""

from __future__ import annotations

from typing import Sequence

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.axes import Axes
from matplotlib.patches import Circle

from ..core.groups import Representation, c4_rotations, d4_symmetries

__all__ = ["show_images", "plot_orbits", "plot_matrix", "group_for_grid",
           "plot_first_moment"]


def show_images(images: Sequence[np.ndarray], titles: Sequence[str] | None = None, *,
                suptitle: str = "", cmap: str = "gray_r", vmin: float | None = None,
                vmax: float | None = None) -> np.ndarray:
    """Draw flattened or 2-D square images side by side.

    Parameters
    ----------
    images : sequence of arrays of shape (k*k,) or (k, k)
    titles : sequence of str, optional

    Returns
    -------
    ndarray of Axes
    """
    n = len(images)
    fig, axes = plt.subplots(1, n, figsize=(1.9 * n + 0.4, 2.4), squeeze=False)
    axes = axes[0]
    for i, (ax, img) in enumerate(zip(axes, images)):
        img = np.asarray(img, dtype=float)
        if img.ndim == 1:
            k = int(round(np.sqrt(img.size)))
            img = img.reshape(k, k)
        ax.imshow(img, cmap=cmap, vmin=vmin, vmax=vmax)
        ax.set_xticks([])
        ax.set_yticks([])
        if titles is not None:
            ax.set_title(titles[i], fontsize=10)
    if suptitle:
        fig.suptitle(suptitle)
    fig.tight_layout()
    return axes


def group_for_grid(k: int, group: str = "C4") -> Representation:
    """C4 or D4 acting on a ``k×k`` grid, by name."""
    if group.upper() == "C4":
        return c4_rotations(k)
    if group.upper() == "D4":
        return d4_symmetries(k)
    raise ValueError(f"group must be 'C4' or 'D4', got {group!r}.")


def plot_orbits(k: int = 14, pixel: int = 45, group: str = "C4", ax: Axes | None = None) -> Axes:
    """Colour each orbit of C4 (or D4) on a ``k×k`` grid; circle the orbit of ``pixel``.

    Pixels are numbered row by row (row-major flattening): pixel ``i·k + j`` sits in
    row ``i``, column ``j``.
    """
    if not (0 <= pixel < k * k):
        raise ValueError(f"pixel must be between 0 and {k * k - 1} on a {k}x{k} grid, got {pixel}.")
    rep = group_for_grid(k, group)
    orbits = rep.orbits()
    label = np.empty(k * k, dtype=int)
    for i, orb in enumerate(orbits):
        label[orb] = i
    # Shuffle colours deterministically so that neighbouring orbits differ.
    perm = np.random.default_rng(0).permutation(len(orbits))
    if ax is None:
        _, ax = plt.subplots(figsize=(5.2, 5.2))
    ax.imshow(perm[label].reshape(k, k), cmap="tab20", interpolation="nearest", alpha=0.55)
    mine = next(o for o in orbits if pixel in o)
    for p in mine:
        i, j = divmod(p, k)
        ax.add_patch(Circle((j, i), 0.42, fill=False, lw=2.2, color="black"))
        ax.text(j, i, str(p), ha="center", va="center", fontsize=7 if k > 10 else 9,
                fontweight="bold")
    ax.set_xticks(range(0, k, max(1, k // 7)))
    ax.set_yticks(range(0, k, max(1, k // 7)))
    ax.set_xlabel("column j")
    ax.set_ylabel("row i")
    ax.set_title(f"{len(orbits)} orbits of {group.upper()} on a {k}×{k} grid\n"
                 f"orbit of pixel {pixel}: {mine}", fontsize=10)
    return ax


def plot_matrix(M: np.ndarray, title: str, ax: Axes | None = None, *, xlabel: str = "column",
                ylabel: str = "row", cmap: str = "RdBu_r") -> Axes:
    """Heat map of a matrix with a symmetric colour scale and a colour bar."""
    M = np.asarray(M, dtype=float)
    if ax is None:
        _, ax = plt.subplots(figsize=(5, 4))
    v = np.abs(M).max() or 1.0
    im = ax.imshow(M, cmap=cmap, vmin=-v, vmax=v, interpolation="nearest", aspect="auto")
    ax.figure.colorbar(im, ax=ax, shrink=0.8)
    ax.set_title(title)
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    return ax


def plot_first_moment(elements: Sequence[np.ndarray], M: np.ndarray, x: np.ndarray,
                      titles: Sequence[str] = ("identity", "90°", "180°", "270°"),
                      side: int = 14):
    """An equivariant map at work: the image ``ρ(g)x`` and its first moment ``Mρ(g)x``.

    One panel per group element (``elements``, the matrices ``ρ(g)``): the image,
    drawn on ``[-side/2, side/2]²``, and a red arrow from the centre in the direction
    of ``M ρ(g) x`` (``M`` maps images to the plane, chapter 1). For an equivariant
    ``M``, the arrow turns with the image. Returns the ``Figure``.
    """
    elements = list(elements)
    fig, axes = plt.subplots(1, len(elements), figsize=(2.1 * len(elements), 2.5),
                             squeeze=False)
    h = side / 2
    for ax, g, title in zip(axes[0], elements, titles):
        img = np.asarray(g) @ x
        m = np.asarray(M) @ img
        mx, my = 5 * m / np.linalg.norm(m)  # the direction of the first moment
        ax.imshow(img.reshape(side, side), cmap="gray_r", extent=(-h, h, -h, h))
        ax.arrow(0, 0, mx, my, width=0.35, color="tab:red", length_includes_head=True)
        ax.set_title(title, fontsize=10)
        ax.set(xticks=[], yticks=[])
    fig.suptitle("An equivariant map: the first moment (red arrow, its direction) "
                 "turns with the image")
    fig.tight_layout()
    return fig

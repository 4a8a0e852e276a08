"""What the theory chapters' figure modules share: the font size of legends and
labels (at least 9 pt, readable at page width), the two colours of kept and extra
index sets, and a weight row drawn as an image."""

from __future__ import annotations

import numpy as np

__all__ = ["FONT", "KEPT", "EXTRA", "weight_image"]

FONT = 9
KEPT, EXTRA = "tab:blue", "tab:orange"


def weight_image(ax, w, vmax, side: int, title: str, fontsize=None) -> None:
    """One row of a weight matrix drawn as a ``side × side`` image (red positive,
    blue negative, colour scale ±``vmax``), without ticks."""
    ax.imshow(np.asarray(w).reshape(side, side), cmap="RdBu_r", vmin=-vmax, vmax=vmax)
    ax.set(xticks=[], yticks=[])
    ax.set_title(title, fontsize=fontsize)

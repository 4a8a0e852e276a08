"""Interactive explorers that also leave a static figure in the notebook.

``explore(f, **controls)`` is ``ipywidgets.interact(f, **controls)`` with one
difference: the cell's stored output is a single mime bundle holding

* ``application/vnd.jupyter.widget-view+json`` -- the live widget (sliders and the
  figure, redrawn as they move), rendered by any front end with a kernel;
* ``image/png`` -- the figure ``f`` draws at the controls' default values, which a
  static page (the HTML book, the editions, GitHub) can show without JavaScript;
* ``text/plain`` -- one line telling the reader to run the notebook, never the raw
  ``interactive(children=...)`` repr.

``f`` is called once, at the default values; the figure of that call is both stored
as the PNG and shown inside the widget, so an explorer costs no more than ``interact``.
"""
from __future__ import annotations

import base64
import functools
import io
from typing import Any, Callable

import matplotlib.pyplot as plt

__all__ = ["Explorer", "build_explorer", "explore", "EXPLORER_TEXT"]

EXPLORER_TEXT = "Explorer: run this notebook to move the sliders"


def _figure_png(fig) -> bytes:
    """PNG bytes of a matplotlib figure, as the inline backend would draw it."""
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", bbox_inches="tight")
    return buffer.getvalue()


class Explorer:
    """An ``ipywidgets.interactive`` with the PNG of its default view.

    Attributes
    ----------
    widget : ipywidgets.interactive
        The live explorer (controls and an output area).
    png : bytes
        The figure drawn by the first call of ``f``, at the default values.
    defaults : dict
        The keyword arguments of that first call.
    """

    def __init__(self, widget, png: bytes, defaults: dict[str, Any]):
        self.widget = widget
        self.png = png
        self.defaults = defaults

    def _repr_mimebundle_(self, include=None, exclude=None):
        data = dict(self.widget._repr_mimebundle_() or {})
        data["image/png"] = base64.b64encode(self.png).decode("ascii")
        data["text/plain"] = EXPLORER_TEXT
        return data

    def __repr__(self) -> str:
        return EXPLORER_TEXT


def build_explorer(f: Callable[..., Any], **controls: Any) -> Explorer:
    """Build an explorer of ``f`` without displaying it (see :func:`explore`).

    Parameters
    ----------
    f : callable
        Draws one matplotlib figure for given keyword arguments (it may end with
        ``plt.show()``).
    **controls
        The ``ipywidgets.interact`` abbreviations or widgets, one per argument of ``f``.

    Returns
    -------
    Explorer

    Raises
    ------
    TypeError
        If ``f`` is not callable.
    ValueError
        If ``f`` draws no figure at the default values.
    """
    if not callable(f):
        raise TypeError(f"f must be a callable that draws a figure, got "
                        f"{type(f).__name__}; pass the plotting function itself, "
                        f"e.g. explore(plot_orbits, k=...)")
    from ipywidgets import interactive

    first: dict[str, Any] = {}
    show = plt.show

    @functools.wraps(f)
    def draw(**kwargs):
        if first:  # a slider moved: behave exactly as f
            return f(**kwargs)
        before = set(plt.get_fignums())
        plt.show = lambda *args, **kw: None  # keep the figure open to save it
        try:
            result = f(**kwargs)
        finally:
            plt.show = show
        new = [n for n in plt.get_fignums() if n not in before]
        first["defaults"] = dict(kwargs)
        first["png"] = _figure_png(plt.figure(new[-1])) if new else None
        show()  # the inline backend puts the figure into the widget's output
        return result

    widget = interactive(draw, **controls)  # calls draw once, at the defaults
    if not first:
        raise RuntimeError("ipywidgets did not call f at the default values")
    if first["png"] is None:
        raise ValueError(f"f ({getattr(f, '__name__', f)!r}) drew no matplotlib "
                         f"figure at the default values {first['defaults']}; an "
                         f"explorer needs a figure (create it with plt.subplots)")
    return Explorer(widget, first["png"], first["defaults"])


def explore(f: Callable[..., Any], **controls: Any) -> None:
    """Show an interactive explorer of ``f`` whose stored output is also a figure.

    Like ``ipywidgets.interact(f, **controls)``, but the displayed output is a mime
    bundle with the widget view, the PNG of the figure at the default control values
    and the text :data:`EXPLORER_TEXT` (see the module docstring).

    Parameters
    ----------
    f : callable
        Draws one matplotlib figure for given keyword arguments.
    **controls
        ``ipywidgets.interact`` abbreviations or widgets, one per argument of ``f``.

    Raises
    ------
    TypeError
        If ``f`` is not callable.
    ValueError
        If ``f`` draws no figure at the default values.
    """
    from IPython.display import display

    display(build_explorer(f, **controls))

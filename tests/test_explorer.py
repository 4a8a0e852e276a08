"""The explorers: one mime bundle with the widget view, a PNG of the default figure
and a plain-text line (never the ``interactive(children=...)`` repr)."""
import base64
import io

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import pytest  # noqa: E402

pytest.importorskip("ipywidgets")
from ipywidgets import Dropdown, FloatSlider  # noqa: E402

from invariance_lib.figures.explorer import (EXPLORER_TEXT,  # noqa: E402
                                              build_explorer, explore)

WIDGET = "application/vnd.jupyter.widget-view+json"


CALLS = []


def _line(slope=1.0, colour="C0"):
    CALLS.append((slope, colour))
    fig, ax = plt.subplots(figsize=(3, 2))
    ax.plot([0, 1], [0, slope], color=colour)
    ax.set(title="a line", xlabel="x", ylabel="y")
    plt.show()


def test_bundle_has_widget_png_and_text():
    exp = build_explorer(_line, slope=FloatSlider(value=2.0, min=0, max=3),
                         colour=Dropdown(options=["C0", "C1"], value="C1"))
    bundle = exp._repr_mimebundle_()
    assert set(bundle) == {WIDGET, "image/png", "text/plain"}
    assert bundle["text/plain"] == EXPLORER_TEXT
    assert "interactive(" not in bundle["text/plain"]
    assert bundle[WIDGET]["model_id"] == exp.widget.model_id
    png = base64.b64decode(bundle["image/png"])
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    image = plt.imread(io.BytesIO(png), format="png")
    assert image.ndim == 3 and image.shape[0] > 50 and image.shape[1] > 50
    plt.close("all")


def test_default_values_are_drawn_once():
    CALLS.clear()
    exp = build_explorer(_line, slope=FloatSlider(value=2.5, min=0, max=3))
    assert CALLS == [(2.5, "C0")]            # one call, at the slider's value
    assert exp.defaults == {"slope": 2.5, "colour": "C0"}
    exp.widget.children[0].value = 1.0       # moving the slider calls f again
    assert CALLS[-1] == (1.0, "C0")
    plt.close("all")


def test_png_is_the_default_figure():
    flat = build_explorer(_line, slope=FloatSlider(value=0.0, min=0, max=3))
    steep = build_explorer(_line, slope=FloatSlider(value=3.0, min=0, max=3))
    assert flat.png != steep.png
    plt.close("all")


def test_explore_displays_without_error(capsys):
    assert explore(_line, slope=FloatSlider(value=1.0, min=0, max=3)) is None
    assert EXPLORER_TEXT in capsys.readouterr().out
    plt.close("all")


@pytest.mark.parametrize("bad", [None, 3, "plot"])
def test_non_callable_is_a_type_error(bad):
    with pytest.raises(TypeError, match="f must be a callable"):
        build_explorer(bad, x=FloatSlider())


def test_a_function_without_figure_is_refused():
    with pytest.raises(ValueError, match="drew no matplotlib figure"):
        build_explorer(lambda x=1.0: None, x=FloatSlider(value=1.0))

"""book/_ext/static_explorers.py: explorers render as their default figure, no CDN script.

A synthetic notebook (stored outputs, not executed) with an explorer-like output (widget
view + PNG + text), an ``interact``-like output (widget view + text only) and the
notebook's widget state is built to HTML with myst-nb, once with the extension and once
without, so the test also shows that without it the page would load CDN scripts.
"""
import base64
import io
import re
import sys
from pathlib import Path

import nbformat
import pytest

sphinx_app = pytest.importorskip("sphinx.application")

ROOT = Path(__file__).resolve().parents[1]
VIEW = "application/vnd.jupyter.widget-view+json"
STATE = "application/vnd.jupyter.widget-state+json"


def _png() -> str:
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    fig, ax = plt.subplots(figsize=(2, 2))
    ax.plot([0, 1], [0, 1])
    buf = io.BytesIO()
    fig.savefig(buf, format="png")
    plt.close(fig)
    return base64.b64encode(buf.getvalue()).decode()


def _notebook() -> nbformat.NotebookNode:
    nb = nbformat.v4.new_notebook()
    view = {"version_major": 2, "version_minor": 0, "model_id": "abc123"}
    explorer = nbformat.v4.new_code_cell("explore(f)", execution_count=1, outputs=[
        nbformat.v4.new_output("display_data", data={
            VIEW: view, "image/png": _png(), "text/plain": "Explorer(...)"})])
    explorer.metadata["mystnb"] = {"image": {"alt": "The explorer's default figure"}}
    interact = nbformat.v4.new_code_cell("interact(g)", execution_count=2, outputs=[
        nbformat.v4.new_output("display_data", data={
            VIEW: view, "text/plain": "interactive(children=(IntSlider(value=1)))"})])
    nb.cells = [nbformat.v4.new_markdown_cell("# Page"), explorer, interact]
    nb.metadata["widgets"] = {STATE: {"state": {"abc123": {"model_name": "VBoxModel"}},
                                      "version_major": 2, "version_minor": 0}}
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3",
                                 "language": "python"}
    return nb


def _build(tmp_path: Path, with_extension: bool) -> str:
    src = tmp_path / "src"
    src.mkdir()
    nbformat.write(_notebook(), src / "index.ipynb")
    extensions = ["myst_nb"] + (["static_explorers"] if with_extension else [])
    (src / "conf.py").write_text(
        f"import sys\nsys.path.insert(0, {str(ROOT / 'book' / '_ext')!r})\n"
        f"extensions = {extensions!r}\nnb_execution_mode = 'off'\n"
        "html_theme = 'basic'\n")
    out = tmp_path / "html"
    app = sphinx_app.Sphinx(str(src), str(src), str(out), str(tmp_path / "doctrees"),
                            "html", status=None, warning=sys.stderr, freshenv=True)
    app.build()
    return (out / "index.html").read_text(encoding="utf-8")


def test_explorer_renders_as_its_image_and_loads_no_cdn_script(tmp_path):
    html = _build(tmp_path, with_extension=True)
    assert re.search(r'<img [^>]*alt="The explorer(&#39;|\')s default figure"', html), \
        "the default figure is shown, with the cell's alt text"
    assert "widget-view+json" not in html, "the widget view is dropped"
    assert "widget-state+json" not in html, "the widget state is not embedded"
    assert "require.js" not in html and "cdn.jsdelivr" not in html
    assert "interactive(children=" not in html
    assert "Interactive explorer: open this chapter in Jupyter" in html


def test_without_the_extension_the_page_needs_cdn_scripts(tmp_path):
    # The problem the extension solves is real: myst-nb alone loads both scripts.
    html = _build(tmp_path, with_extension=False)
    assert "require.js" in html and "cdn.jsdelivr" in html
    assert "widget-view+json" in html

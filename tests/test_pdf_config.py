"""The PDF's configuration (the build itself is ``bash tools/build_pdf.sh DIR``, minutes).

Checked here without TeX: the extension that gives the PDF the online numbers and
labels (``book/_ext/pdf_numbers.py``) on small docutils trees, and the font settings
that give the PDF the glyphs FreeMono and FreeSerif Italic lack.
"""
import sys
from pathlib import Path
from types import SimpleNamespace

import yaml
from docutils import nodes

ROOT = Path(__file__).resolve().parents[1]
CONFIG = yaml.safe_load((ROOT / "_config.yml").read_text(encoding="utf-8"))
sys.path.insert(0, str(ROOT / "book" / "_ext"))
import pdf_numbers  # noqa: E402


def test_pdf_extension_and_fonts_are_configured():
    assert "pdf_numbers" in CONFIG["sphinx"]["local_extensions"]
    fonts = CONFIG["sphinx"]["config"]["latex_elements"]["fontpkg"]
    assert r"\setmonofont{DejaVu Sans Mono}" in fonts
    # unicode-math (loaded later by sphinx-jupyterbook-latex) redefines ᵀ: the
    # text meanings must be set at \begin{document}
    assert r"\AtBeginDocument{\newunicodechar{⊥}" in fonts and "{ᵀ}" in fonts
    assert CONFIG["latex"]["latex_engine"] == "xelatex"


def _tree():
    outer = nodes.section(docname="book/08_section4_experiment",
                          names=["the paper's experiment"])
    inner = nodes.section(docname="book/08_section4_experiment", names=["sub"])
    statement = nodes.container()
    inner += statement
    outer += inner
    return outer, statement


def test_label_document_is_the_enclosing_sections():
    _, statement = _tree()
    assert pdf_numbers._section_docname(None, statement, "section") == "book/08_section4_experiment"
    assert pdf_numbers._section_docname(None, nodes.container(), "section") is None


class _LaTeX(pdf_numbers.LaTeXBuilder):
    def __init__(self):  # no Sphinx application needed
        pass


def test_numbers_use_depth_one_only_while_assigned_and_only_for_latex():
    env = SimpleNamespace()
    app = SimpleNamespace(builder=_LaTeX(), config=SimpleNamespace(numfig_secnum_depth=2))
    pdf_numbers._numbers_as_online(app, env)
    assert app.config.numfig_secnum_depth == 1      # while Sphinx assigns the numbers
    pdf_numbers._restore_depth(app, env)
    assert app.config.numfig_secnum_depth == 2      # LaTeX's numfigreset: per chapter
    html = SimpleNamespace(builder=object(), config=SimpleNamespace(numfig_secnum_depth=2))
    pdf_numbers._numbers_as_online(html, env)
    assert html.config.numfig_secnum_depth == 2


def test_exercise_gets_the_label_that_ref_targets():
    from sphinx_exercise.nodes import exercise_enumerable_node
    from docutils.utils import new_document
    from docutils.frontend import get_default_settings
    from docutils.parsers.rst import Parser
    doc = new_document("x", get_default_settings(Parser))
    ex = exercise_enumerable_node(label="ex-d4", docname="book/04_hardwiring")
    doc += ex
    transform = pdf_numbers.ExerciseRefLabels(doc)
    transform.run()
    raw = doc.children[0]
    assert isinstance(raw, nodes.raw) and raw["format"] == "latex"
    assert raw.astext() == r"\phantomsection\label{\detokenize{book/04_hardwiring:ex-d4}}"
    assert doc.children[1] is ex

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
    # text meanings must be set at \begin{document}, and before the .aux file is
    # read (begindocument/before, not \AtBeginDocument): a label title with ⊥ read
    # as a plain character differs from the active one at the end, and LaTeX's
    # last pass said "Label(s) may have changed"
    assert r"\AddToHook{begindocument/before}{\newunicodechar{⊥}" in fonts
    assert "{ᵀ}" in fonts and r"\AtBeginDocument" not in fonts
    # ℓ (chapter 2's code) is missing from DejaVu Sans Mono
    assert r"\newunicodechar{ℓ}{\bookell}" in fonts and '\\symbol{"2113}' in fonts
    # unicode-math makes its Greek math letters "other" at \AtBeginDocument, after the
    # .aux is read: the same must hold when it is read (a label titled with λ)
    hook = fonts[fonts.index(r"\AddToHook{begindocument/before}"):]
    assert r"\bookgreekother" in hook.splitlines()[0]
    assert '="370' in fonts and '<"3FF' in fonts and r"\catcode\bookcharcode=12" in fonts
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


def _document(env=None):
    from docutils.utils import new_document
    from docutils.frontend import get_default_settings
    from docutils.parsers.rst import Parser
    doc = new_document("x", get_default_settings(Parser))
    doc.settings.env = env
    return doc


def _part(*docnames):
    from sphinx import addnodes
    part = nodes.compound(classes=["toctree-wrapper"])
    for name in docnames:
        part += addnodes.start_of_file(docname=name)
    return part


def test_back_matter_starts_at_the_first_unnumbered_part_after_a_numbered_one():
    numbered = {"ch1": {"": (1,)}, "ch2": {"": (2,), "#s": (2, 1)}}
    start = pdf_numbers.back_matter_start
    assert start([["ch1"], ["ch2"], ["app"], ["guide"]], numbered) == 2
    # a page with an empty number, or none at all, is unnumbered
    assert start([["ch1"], ["app"]], {**numbered, "app": {"": ()}}) == 1
    assert start([["front"], ["ch1"], ["app"]], numbered) == 2   # front matter is not back
    assert start([["ch1"], ["ch2"]], numbered) is None
    assert start([["app"], ["guide"]], numbered) is None
    assert start([["ch1"], [], ["app"]], numbered) == 2          # an empty part is skipped


def test_toc_has_no_numbered_part_after_the_back_matter():
    # \bookbackmatter switches chapter numbers off for the rest of the PDF: a numbered
    # part after an unnumbered one would lose its numbers there (not online)
    toc = yaml.safe_load((ROOT / "_toc.yml").read_text(encoding="utf-8"))
    flags = [bool(part.get("numbered")) for part in toc["parts"]]
    first_unnumbered = flags.index(False)
    assert any(flags[:first_unnumbered])
    assert not any(flags[first_unnumbered:])
    assert toc["parts"][first_unnumbered]["caption"] == "Appendices"
    parts = [[c["file"] for c in part["chapters"]] for part in toc["parts"]]
    secnumbers = {f: {"": (1,)} for docs, flag in zip(parts, flags) if flag for f in docs}
    assert pdf_numbers.back_matter_start(parts, secnumbers) == first_unnumbered


def test_back_matter_macro_goes_before_the_appendix_part():
    env = SimpleNamespace(all_docs={"ch1": 0, "app": 0, "guide": 0},
                          toc_secnumbers={"ch1": {"": (1,)}})
    doc = _document(env)
    numbered, appendix, reference = _part("Foundations", "ch1"), _part("app"), _part("guide")
    doc += [numbered, appendix, reference]
    pdf_numbers.BackMatter(doc).run()
    assert doc.children[0] is numbered and doc.children[2] is appendix
    raw = doc.children[1]
    assert isinstance(raw, nodes.raw) and raw["format"] == "latex"
    assert raw.astext() == pdf_numbers.BACK_MATTER == "\\bookbackmatter\n"
    assert len(doc.children) == 4                   # inserted once, not per part


def test_proof_box_has_no_empty_title_and_titled_boxes_are_kept():
    doc = _document()
    proof = nodes.admonition(classes=["proof", "proof"])
    text = nodes.paragraph(text="Proof. Obvious.")
    proof += text
    titled = nodes.admonition("", nodes.title(text="Learning objectives"),
                              nodes.paragraph(text="x"))
    doc += [proof, titled]
    pdf_numbers.UntitledBoxes(doc).run()
    begin, body, end, kept = doc.children
    assert begin.astext().strip() == r"\begin{bookuntitledbox}"
    assert body is text and end.astext().strip() == r"\end{bookuntitledbox}"
    assert kept is titled and isinstance(kept.children[0], nodes.title)


def test_preamble_defines_what_the_transforms_write_and_is_added_once():
    pre = pdf_numbers.PREAMBLE
    assert r"\newcommand\bookbackmatter" in pre and r"\newenvironment{bookuntitledbox}" in pre
    assert pre.count("{") == pre.count("}")
    # unnumbered chapters and sections; the chapter counter 0 drops sphinx.sty's
    # chapter prefix of \thefigure (Fig. 1 as online, not Fig. 12.1)
    assert r"\setcounter{secnumdepth}{-1}" in pre and r"\setcounter{chapter}{0}" in pre
    assert "figure,table,literalblock,equation" in pre
    config = SimpleNamespace(latex_elements={"preamble": "% mine\n"})
    pdf_numbers._add_preamble(None, config)
    pdf_numbers._add_preamble(None, config)
    assert config.latex_elements["preamble"] == "% mine\n" + pre
    empty = SimpleNamespace(latex_elements={})
    pdf_numbers._add_preamble(None, empty)
    assert empty.latex_elements["preamble"] == pre

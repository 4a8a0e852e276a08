r"""The PDF numbers statements as the online book does, and finds their labels.

Five fixes for the LaTeX builder (``jupyter-book build . --builder pdflatex``, and
``tools/build_pdf.sh``); the HTML builders are left alone.

1. **Numbers.** sphinx-jupyterbook-latex turns the book's parts into LaTeX parts and
   sets ``numfig_secnum_depth = 2`` so that LaTeX resets its figure and equation
   counters per chapter (Sphinx passes ``numfigreset`` to ``sphinx.sty`` from it).
   Sphinx also numbers the statements that sphinx-proof and sphinx-exercise title
   (``env.toc_fignumbers``) with that depth, as *chapter.section.n*: the PDF said
   "Definition 4.1.1" where the online book says "Definition 4.1". This extension
   assigns ``toc_fignumbers`` with depth 1 (chapter.n, as online) and gives the
   LaTeX writer back depth 2 (LaTeX's own figure numbers, Fig. 4.1): it sets the
   depth to 1 just before Sphinx's toctree collector assigns the numbers
   (``env-get-updated``, priority 400 < 500) and restores it just after (600).
2. **Labels.** sphinx-proof writes ``\label{DOC:LABEL}`` and finds ``DOC`` by
   comparing a section's ``names`` with the page title as text; a title with an
   apostrophe ("The paper's experiment") is curled by smart quotes in the title
   text and not in ``names``, so the label came out as ``None:LABEL`` and LaTeX
   reported the references to it undefined. The nearest enclosing section carries
   its document name (``sphinx.util.nodes.inline_all_toctrees`` sets ``docname`` on
   every section), so that is used instead.
3. **Exercise references.** sphinx-exercise labels an exercise ``exercise:LABEL`` in
   LaTeX and resolves only its own numbered references to that; a ``{ref}`` to an
   exercise (the instructor guide has one per exercise) is Sphinx's
   ``\hyperref[DOC:LABEL]``, which had no target ("Hyper reference undefined", 31
   of them). A LaTeX post-transform adds the label ``DOC:LABEL`` beside sphinx-exercise's.
4. **Back matter.** Online, only the parts whose toctree is ``numbered`` have chapter
   numbers (1-11); the appendix and the Reference pages have none, and their figures
   and statements are counted book-wide without a chapter prefix (Sphinx's
   ``assign_figure_numbers`` counts the unnumbered pages under the empty section
   number: Fig. 1, Proposition 1). LaTeX numbered them as chapters 12-16 (Fig. 12.1).
   A post-transform puts ``\bookbackmatter`` (:data:`PREAMBLE`) before the first part
   whose pages the online book leaves unnumbered: from there chapters and sections
   are unnumbered (``secnumdepth`` -1, they stay in the contents) and the chapter
   counter is 0, so ``sphinx.sty``'s ``\thefigure`` (chapter prefix only if the
   chapter counter is positive) gives Fig. 1, 2, as online.
5. **Proof boxes.** sphinx-proof's ``prf:proof`` is an admonition without a title
   (the text starts "Proof. "); Sphinx's LaTeX writer opens
   ``\begin{sphinxadmonition}{note}`` and the next token, ``\sphinxAtStartPar``,
   became the heading: an empty title bar above "Proof.". Such an admonition is
   written as ``bookuntitledbox`` instead, Sphinx's note box without the title row.
"""
from __future__ import annotations

from docutils import nodes
from sphinx import addnodes
from sphinx.application import Sphinx
from sphinx.builders.latex import LaTeXBuilder
from sphinx.transforms.post_transforms import SphinxPostTransform

#: Depth of the statement numbers online (Sphinx's default): chapter.n
ONLINE_DEPTH = 1

#: LaTeX the extension adds to ``latex_elements["preamble"]``.
#: ``\bookbackmatter``: unnumbered chapters and sections from here on, and
#: figures, tables, code blocks and equations counted 1, 2, ... without a chapter
#: prefix (the chapter counter is 0; their hyperref anchors get their own prefix,
#: so that they cannot clash with the front matter's). ``bookuntitledbox``: the
#: note box of ``sphinxadmonition`` without its title row.
PREAMBLE = r"""
% book/_ext/pdf_numbers.py: the back matter and the proof boxes
\makeatletter
\newcommand\bookbackmatter{%
  \setcounter{secnumdepth}{-1}%
  \setcounter{chapter}{0}%
  \@for\book@counter:=figure,table,literalblock,equation\do{%
    \@ifundefined{c@\book@counter}{}{%
      \setcounter{\book@counter}{0}%
      \expandafter\xdef\csname theH\book@counter\endcsname{%
        backmatter.\noexpand\arabic{\book@counter}}}}%
}
\newenvironment{bookuntitledbox}
  {\def\spx@noticetype{note}\begin{sphinxheavybox}}
  {\end{sphinxheavybox}}
\makeatother
"""

#: What marks the start of the back matter in the LaTeX source.
BACK_MATTER = "\\bookbackmatter\n"


def _is_latex(app: Sphinx) -> bool:
    return isinstance(app.builder, LaTeXBuilder)


def _numbers_as_online(app: Sphinx, env) -> list[str]:
    if _is_latex(app) and app.config.numfig_secnum_depth != ONLINE_DEPTH:
        env._pdf_numbers_depth = app.config.numfig_secnum_depth
        app.config.numfig_secnum_depth = ONLINE_DEPTH
    return []


def _restore_depth(app: Sphinx, env) -> list[str]:
    depth = getattr(env, "_pdf_numbers_depth", None)
    if depth is not None:
        app.config.numfig_secnum_depth = depth
        del env._pdf_numbers_depth
    return []


def _section_docname(env, node, parent_tag="section"):
    """The document of the nearest enclosing section (sphinx-proof's ``find_parent``)."""
    while node is not None:
        node = node.parent
        if node is not None and node.tagname == parent_tag and node.get("docname"):
            return node["docname"]
    return None


def _fix_proof_labels(app: Sphinx) -> None:
    if not _is_latex(app):
        return
    import sphinx_proof.nodes
    sphinx_proof.nodes.find_parent = _section_docname


def exercise_label(docname: str, label: str) -> nodes.raw:
    """The LaTeX label Sphinx's ``{ref}`` to exercise ``label`` of ``docname`` targets."""
    return nodes.raw("", r"\phantomsection\label{\detokenize{%s:%s}}" % (docname, label),
                     format="latex")


class ExerciseRefLabels(SphinxPostTransform):
    r"""Add ``\label{DOC:LABEL}`` before every labelled exercise (LaTeX only)."""

    default_priority = 900
    builders = ("latex",)

    def run(self, **kwargs) -> None:
        from sphinx_exercise.nodes import exercise_enumerable_node, exercise_node
        for node in list(self.document.findall(
                lambda n: isinstance(n, (exercise_enumerable_node, exercise_node)))):
            label, docname = node.get("label"), node.get("docname")
            if label and docname:
                node.parent.insert(node.parent.index(node), exercise_label(docname, label))


def _part_documents(part: nodes.Element, env) -> list[str]:
    return [n["docname"] for n in part.findall(addnodes.start_of_file)
            if n.get("docname") in env.all_docs]


class BackMatter(SphinxPostTransform):
    r"""Put ``\bookbackmatter`` before the first part the online book leaves unnumbered.

    Acts on the assembled root document after sphinx-jupyterbook-latex has made the
    top-level toctrees into parts (its priority 700): each part is a document-level
    ``compound`` (class ``toctree-wrapper``). A part is numbered if one of its pages
    has a section number online (``env.toc_secnumbers``, from ``numbered: true`` in
    ``_toc.yml``); the back matter starts at the first unnumbered part after a
    numbered one.
    """

    default_priority = 800
    builders = ("latex",)

    def run(self, **kwargs) -> None:
        parts = [n for n in self.document.children if isinstance(n, nodes.compound)
                 and "toctree-wrapper" in n.get("classes", [])]
        index = back_matter_start(
            [_part_documents(part, self.env) for part in parts],
            self.env.toc_secnumbers)
        if index is not None:
            part = parts[index]
            part.parent.insert(part.parent.index(part),
                               nodes.raw("", BACK_MATTER, format="latex"))


def back_matter_start(parts: list[list[str]], secnumbers: dict) -> int | None:
    """Index of the first part, after a numbered one, none of whose pages is numbered.

    Parameters
    ----------
    parts : list of list of str
        The documents of each part, in the order of ``_toc.yml``.
    secnumbers : dict
        ``env.toc_secnumbers``: document -> {anchor: section number}; a page of a
        ``numbered`` part has a non-empty number.

    Returns
    -------
    int or None
        None if no part is unnumbered after a numbered one (no back matter).
    """
    def numbered(doc: str) -> bool:
        return any(secnumbers.get(doc, {}).values())

    seen_numbered = False
    for i, docs in enumerate(parts):
        if any(numbered(doc) for doc in docs):
            seen_numbered = True
        elif seen_numbered and docs:
            return i
    return None


class UntitledBoxes(SphinxPostTransform):
    r"""Write a titleless admonition (sphinx-proof's proof) as ``bookuntitledbox``.

    Sphinx's LaTeX writer expects an admonition's first child to be its title
    (``\begin{sphinxadmonition}{note}{TITLE}``); without one the first paragraph's
    ``\sphinxAtStartPar`` is taken as the title, an empty title bar.
    """

    default_priority = 800
    builders = ("latex",)

    def run(self, **kwargs) -> None:
        for node in list(self.document.findall(nodes.admonition)):
            if node.children and isinstance(node.children[0], nodes.title):
                continue
            node.replace_self(
                [nodes.raw("", "\n\\begin{bookuntitledbox}\n", format="latex"),
                 *node.children,
                 nodes.raw("", "\\end{bookuntitledbox}\n", format="latex")])


def _add_preamble(app: Sphinx, config) -> None:
    elements = config.latex_elements
    if PREAMBLE not in elements.get("preamble", ""):
        elements["preamble"] = elements.get("preamble", "") + PREAMBLE


def setup(app: Sphinx) -> dict:
    app.connect("config-inited", _add_preamble)
    app.add_post_transform(BackMatter)
    app.add_post_transform(UntitledBoxes)
    app.add_post_transform(ExerciseRefLabels)
    app.connect("env-get-updated", _numbers_as_online, priority=400)
    app.connect("env-get-updated", _restore_depth, priority=600)
    app.connect("builder-inited", _fix_proof_labels)
    return {"parallel_read_safe": True, "parallel_write_safe": True}

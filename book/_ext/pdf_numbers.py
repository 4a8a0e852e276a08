r"""The PDF numbers statements as the online book does, and finds their labels.

Three fixes for the LaTeX builder (``jupyter-book build . --builder pdflatex``, and
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
"""
from __future__ import annotations

from docutils import nodes
from sphinx.application import Sphinx
from sphinx.builders.latex import LaTeXBuilder
from sphinx.transforms.post_transforms import SphinxPostTransform

#: Depth of the statement numbers online (Sphinx's default): chapter.n
ONLINE_DEPTH = 1


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


def setup(app: Sphinx) -> dict:
    app.add_post_transform(ExerciseRefLabels)
    app.connect("env-get-updated", _numbers_as_online, priority=400)
    app.connect("env-get-updated", _restore_depth, priority=600)
    app.connect("builder-inited", _fix_proof_labels)
    return {"parallel_read_safe": True, "parallel_write_safe": True}

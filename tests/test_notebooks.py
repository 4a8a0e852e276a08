"""Structural checks of the book's chapters, complementing nbval.

nbval re-runs every notebook and compares the cells carrying the cell tag
``nbval-check-output`` (in ``metadata.tags``) with the outputs stored in the
repository; the tag is the only marker (``test_no_nbval_comments``), so readers see
code, not test plumbing. That only means something if the stored notebook was
executed top to bottom in one fresh kernel: these tests fail when a chapter is
committed unexecuted, partly executed, out of order, with an error, or without the
parts every chapter must have.
"""
import re
from pathlib import Path

import nbformat
import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
TOC = yaml.safe_load((ROOT / "_toc.yml").read_text())


def _toc_files(node):
    if isinstance(node, dict):
        if "file" in node:
            yield node["file"]
        for value in node.values():
            yield from _toc_files(value)
    elif isinstance(node, list):
        for item in node:
            yield from _toc_files(item)


TOC_FILES = [TOC["root"], *_toc_files(TOC.get("parts", TOC.get("chapters", [])))]
CHAPTERS = sorted(p for p in (ROOT / "book").glob("*.ipynb"))


def test_toc_and_files_agree():
    for f in TOC_FILES:
        assert any((ROOT / f).with_suffix(s).exists() for s in (".md", ".ipynb")), f"{f} is in _toc.yml but missing"
    listed = {str(Path(f).with_suffix("")) for f in TOC_FILES}
    for nb in CHAPTERS:
        assert str(nb.relative_to(ROOT).with_suffix("")) in listed, f"{nb.name} is not in _toc.yml"
    assert CHAPTERS, "no chapter notebooks found"


@pytest.fixture(params=CHAPTERS, ids=[p.stem for p in CHAPTERS])
def chapter(request):
    return request.param, nbformat.read(request.param, as_version=4)


def _code(nb):
    return [c for c in nb.cells if c.cell_type == "code"]


def _is_checked(cell) -> bool:
    """nbval compares this cell's output: it carries the ``nbval-check-output`` tag."""
    return "nbval-check-output" in cell.metadata.get("tags", [])


def test_no_nbval_comments(chapter):
    """Checked cells are marked by the tag only: the ``# NBVAL_CHECK_OUTPUT`` comment
    would show on the page (and nbval would still compare the cell, untagged)."""
    path, nb = chapter
    for i, c in enumerate(nb.cells):
        assert "NBVAL_CHECK_OUTPUT" not in c.source, (
            f"{path.name}, cell {i}: contains NBVAL_CHECK_OUTPUT; remove the comment and "
            f"give the cell the tag nbval-check-output (metadata.tags) instead")


def test_executed_top_to_bottom_in_one_kernel(chapter):
    path, nb = chapter
    counts = [c.execution_count for c in _code(nb)]
    assert all(c is not None for c in counts), f"{path.name}: some code cells were never executed"
    assert counts == list(range(1, len(counts) + 1)), (
        f"{path.name}: execution counts {counts[:12]}... are not 1, 2, 3, ...: re-run the notebook "
        f"top to bottom in a fresh kernel (Kernel > Restart & Run All) and commit it with outputs")


def test_no_errors_or_warnings_in_outputs(chapter):
    path, nb = chapter
    for i, c in enumerate(_code(nb)):
        for o in c.outputs:
            assert o.output_type != "error", f"{path.name}, code cell {i}: stored output is an error"
            if o.output_type == "stream" and o.name == "stderr":
                pytest.fail(f"{path.name}, code cell {i}: prints to stderr: {o.text[:200]!r}")


def test_checked_cells_have_outputs(chapter):
    path, nb = chapter
    checked = [c for c in _code(nb) if _is_checked(c)]
    assert len(checked) >= 3, f"{path.name}: fewer than 3 cells tagged nbval-check-output"
    for c in checked:
        text = "".join(o.get("text", "") for o in c.outputs if o.output_type == "stream")
        text += "".join(o.get("data", {}).get("text/plain", "") for o in c.outputs if "data" in o)
        assert text.strip(), f"{path.name}: a checked cell has no stored output to compare:\n{c.source[:200]}"
        assert "0x" not in text, f"{path.name}: a checked cell prints a memory address"


def test_chapter_shape(chapter):
    path, nb = chapter
    text = "\n".join(c.source for c in nb.cells if c.cell_type == "markdown")
    assert nb.cells[0].source.startswith("# "), f"{path.name}: must start with a '# Title' cell"
    assert "Learning objectives" in nb.cells[0].source, f"{path.name}: objectives belong in the first cell"
    assert "## Summary" in text, f"{path.name}: no '## Summary' section"
    assert text.count("{exercise}") >= 2, f"{path.name}: fewer than two exercises"
    for label in [line.split(":label:")[1].strip() for line in text.splitlines() if ":label: ex-" in line]:
        assert f"{{solution-start}} {label}" in text or f"{{solution}} {label}" in text, \
            f"{path.name}: exercise {label} has no solution"
    assert "{prf:" in text, f"{path.name}: no prf: statement"
    assert "{cite}" in text or "{cite:" in text, f"{path.name}: no citation"


def test_figures_have_alt_text(chapter):
    path, nb = chapter
    for i, c in enumerate(_code(nb)):
        if any("image/png" in o.get("data", {}) for o in c.outputs):
            alt = c.metadata.get("mystnb", {}).get("image", {}).get("alt", "")
            assert len(alt) > 20, f"{path.name}, code cell {i}: a figure without alt text (mystnb.image.alt)"


def test_code_fits_the_page(chapter):
    """Code lines longer than 79 characters are cut off on the book's pages."""
    path, nb = chapter
    for i, c in enumerate(_code(nb)):
        for line in c.source.splitlines():
            assert len(line) <= 79, f"{path.name}, code cell {i}: line longer than 79 characters:\n{line}"


def test_no_stray_reprs(chapter):
    """No output shows an object's default repr (``<... at 0x7f...>``): end such lines
    with ``;`` or assign the result."""
    path, nb = chapter
    for i, c in enumerate(_code(nb)):
        for o in c.outputs:
            text = o.get("text", "") + o.get("data", {}).get("text/plain", "")
            assert " at 0x" not in text, f"{path.name}, code cell {i}: stray repr {text[:80]!r}"


_PLOTTING = re.compile(r"\b(plt\.\w+|fig\.\w+|ax\w*\.\w+\(|plot_\w+\(|show_images\(|"
                       r"explore\(|\.imshow\(|\.legend\()")


def test_plotting_cells_are_short(chapter):
    """A code cell that draws (matplotlib, a figure function, an explorer) has at most
    12 lines: the drawing lives in ``invariance_lib.figures`` and the notebook keeps
    the call; computation goes in a cell of its own."""
    path, nb = chapter
    for i, c in enumerate(nb.cells):
        lines = c.source.rstrip("\n").splitlines()
        if c.cell_type == "code" and _PLOTTING.search(c.source) and len(lines) > 12:
            pytest.fail(f"{path.name}, cell {i}: a plotting cell of {len(lines)} lines; move "
                        f"the drawing into invariance_lib.figures and the computation into "
                        f"its own cell")

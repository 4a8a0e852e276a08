"""The argument parsing of ``tools/check_jupyterlab.py`` (the check itself needs
JupyterLab, Playwright and Chromium and is run by hand; see CONTRIBUTING.md)."""
from __future__ import annotations

import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tools"))
import check_jupyterlab as cj  # noqa: E402


def _edition(tmp_path, *names):
    d = tmp_path / "jupyter"
    d.mkdir(exist_ok=True)
    for n in names:
        (d / n).write_text("{}")
    return [str(d / n) for n in names]


def test_default_is_the_books_chapter_4_with_myst(tmp_path):
    args = cj.parse_args(["--screenshot-dir", str(tmp_path)])
    assert args.edition == "book" and args.myst is True
    assert args.notebooks == [ROOT / "book" / "04_hardwiring.ipynb"]


def test_editions_default_to_myst_disabled(tmp_path):
    nbs = _edition(tmp_path, "04_hardwiring.ipynb", "09_cross_entropy.ipynb")
    args = cj.parse_args(["--edition", "jupyter", *nbs,
                          "--screenshot-dir", str(tmp_path)])
    assert args.myst is False and len(args.notebooks) == 2
    args = cj.parse_args(["--edition", "student", "--myst", nbs[0],
                          "--screenshot-dir", str(tmp_path)])
    assert args.myst is True


@pytest.mark.parametrize("argv, message", [
    (["--no-myst"], "needs --myst"),
    (["--edition", "notes"], "invalid choice"),
    (["missing.ipynb"], "not an existing .ipynb"),
    (["--myst", "--no-myst"], "not allowed with"),
])
def test_bad_arguments_are_refused(argv, message, capsys, tmp_path):
    with pytest.raises(SystemExit):
        cj.parse_args([*argv, "--screenshot-dir", str(tmp_path)])
    assert message in capsys.readouterr().err


def test_edition_notebooks_need_a_source_chapter_and_one_directory(
        capsys, tmp_path):
    stray = _edition(tmp_path, "99_nothing.ipynb")
    with pytest.raises(SystemExit):
        cj.parse_args(["--edition", "jupyter", *stray])
    assert "no source book/99_nothing.ipynb" in capsys.readouterr().err
    other = tmp_path / "student"
    other.mkdir()
    (other / "04_hardwiring.ipynb").write_text("{}")
    nbs = _edition(tmp_path, "04_hardwiring.ipynb")
    with pytest.raises(SystemExit):
        cj.parse_args(["--edition", "jupyter", nbs[0],
                       str(other / "04_hardwiring.ipynb")])
    assert "one directory" in capsys.readouterr().err


def test_source_counts_and_numbering_rules():
    """The counts the editions are checked against, read from the source."""
    assert cj.source_counts("04_hardwiring") == (9, 2)
    assert cj.titles_in_order(["Lemma 4.1 (A).", "Theorem 4.1.", "Lemma 4.2."]) \
        == []
    assert cj.titles_in_order(["Lemma 4.2.", "Lemma 4.1."]) == [
        "Lemma 4.1 follows Lemma 4.2"]
    # an unnumbered page (the appendix) numbers 1, 2, ... (a false failure
    # of the first run on the appendix)
    assert cj.titles_in_order(["Proposition 1 (A).", "Proposition 2 (B)."]) == []
    assert cj.titles_in_order(["Exercise 2.", "Exercise 1."]) == [
        "Exercise 1 follows Exercise 2"]
    assert cj.CITATION.findall("as shown [Duan and Montúfar, 2026] and "
                               "(Baldi and Hornik, 1989); not [x](y)") == [
        "[Duan and Montúfar, 2026]", "(Baldi and Hornik, 1989)"]

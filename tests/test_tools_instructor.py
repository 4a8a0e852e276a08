"""Tools for instructors and forks: exercises data, the guide's tables, subsets, the URL."""
import shutil
import sys
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tools"))

import build_subset  # noqa: E402
import instructor_tables  # noqa: E402
import set_repository  # noqa: E402

EXERCISES = yaml.safe_load((ROOT / "book" / "_data" / "exercises.yml").read_text())


def test_every_exercise_has_an_entry_and_every_entry_an_exercise():
    labels = [label for _, label, _ in instructor_tables.book_exercises()]
    assert len(labels) == len(set(labels)), "exercise labels are unique in the book"
    missing = sorted(set(labels) - set(EXERCISES))
    stale = sorted(set(EXERCISES) - set(labels))
    assert not missing, f"book/_data/exercises.yml: add entries for {missing}"
    assert not stale, f"book/_data/exercises.yml: {stale} name no exercise of the book"


@pytest.mark.parametrize("label", sorted(EXERCISES))
def test_exercise_entry_is_complete(label):
    entry = EXERCISES[label]
    assert entry.get("difficulty") in (1, 2, 3), f"{label}: difficulty is 1, 2 or 3"
    assert len(str(entry.get("checks", ""))) > 20, f"{label}: say what it checks"


def test_exercise_parser_finds_a_known_exercise():
    found = {label: (stem, title) for stem, label, title in
             instructor_tables.book_exercises()}
    assert found["ex-truncate"] == ("04_hardwiring", "Truncate the right matrix")


def test_instructor_guide_tables_are_up_to_date():
    text = instructor_tables.GUIDE.read_text(encoding="utf-8")
    assert instructor_tables.render(text) == text, \
        "book/instructor_guide.md is out of date: run python tools/instructor_tables.py"
    for path in instructor_tables.toc_notebooks():
        assert instructor_tables.chapter_title(path) in text, \
            f"the guide's tables have no row for {path.name}"


def test_guide_is_in_the_toc_first_in_reference():
    toc = yaml.safe_load((ROOT / "_toc.yml").read_text())
    ref = next(p for p in toc["parts"] if p["caption"] == "Reference")
    assert ref["chapters"][0]["file"] == "book/instructor_guide"


def test_subset_toc_keeps_places_and_stubs_the_rest(tmp_path):
    toc = yaml.safe_load((ROOT / "_toc.yml").read_text())
    new = build_subset.subset_toc(toc, {"04_hardwiring"}, "https://x.example/", tmp_path)
    old_files = [c["file"] for p in toc["parts"] for c in p["chapters"]]
    new_files = [c["file"] for p in new["parts"] for c in p["chapters"]]
    assert len(new_files) == len(old_files), "every chapter keeps its place"
    assert new["root"] == toc["root"]
    for a, b in zip(old_files, new_files):
        notebook = (ROOT / (a + ".ipynb")).exists()
        if a == "book/04_hardwiring" or not notebook:
            assert b == a            # selected chapter, or a page such as references
        else:
            assert b == f"{build_subset.STUBS}/{Path(a).name}"
            stub = (tmp_path / f"{Path(a).name}.md").read_text()
            assert stub.startswith("# ") and f"https://x.example/{a}.html" in stub


def test_subset_rejects_an_unknown_chapter(capsys):
    with pytest.raises(SystemExit):
        build_subset.main(["99_nothing"])
    assert "99_nothing" in capsys.readouterr().err


def _copy_repo(tmp_path: Path) -> Path:
    for name in ("_config.yml", "CITATION.cff", "README.md", "CHANGELOG.md",
                 "CONTRIBUTING.md"):
        shutil.copy(ROOT / name, tmp_path / name)
    (tmp_path / "book").mkdir()
    for nb in (ROOT / "book").glob("0[14]*.ipynb"):
        shutil.copy(nb, tmp_path / "book" / nb.name)
    return tmp_path


def test_set_repository_rewrites_every_copy(tmp_path):
    root = _copy_repo(tmp_path)
    old = yaml.safe_load((root / "_config.yml").read_text())["repository"]["url"]
    new = "https://github.com/SomeFork/invariance-deep-linear-networks-fork"
    changed = set_repository.set_repository(root, new)
    assert {p.name for p in changed} >= {"_config.yml", "CITATION.cff", "README.md"}
    config = yaml.safe_load((root / "_config.yml").read_text())
    citation = yaml.safe_load((root / "CITATION.cff").read_text())
    book = "https://somefork.github.io/invariance-deep-linear-networks-fork/"
    assert config["repository"]["url"] == new and config["html"]["baseurl"] == book
    assert citation["repository-code"] == new and citation["url"] == book
    for path in root.rglob("*"):
        if path.is_file():
            text = path.read_text()
            assert old + "/" not in text and old + '"' not in text, path
            assert "-fork-fork" not in text, f"{path}: replaced twice"
    nb = (root / "book" / "04_hardwiring.ipynb").read_text()
    assert f'REPO = \\"{new}\\"' in nb, "the Colab install cell points at the fork"


def test_set_repository_after_editing_the_config(tmp_path):
    root = _copy_repo(tmp_path)
    cfg = root / "_config.yml"
    old = yaml.safe_load(cfg.read_text())["repository"]["url"]
    new = "https://github.com/other/book"
    cfg.write_text(cfg.read_text().replace(f"url: {old}", f"url: {new}"))
    set_repository.set_repository(root)
    assert yaml.safe_load((root / "CITATION.cff").read_text())["repository-code"] == new
    assert old not in (root / "README.md").read_text()


def test_set_repository_rejects_a_non_github_url(tmp_path):
    with pytest.raises(ValueError, match="OWNER/NAME"):
        set_repository.set_repository(_copy_repo(tmp_path), "ftp://example.org/x")


def test_chapter_costs_reads_memory_and_the_toc():
    import os

    import chapter_costs
    rss = chapter_costs._rss_kib(os.getpid())
    with open(f"/proc/{os.getpid()}/status") as status:
        expected = next(int(line.split()[1]) for line in status if line.startswith("VmRSS:"))
    assert abs(rss - expected) <= max(2048, expected // 10), "this process's RSS, in KiB"
    assert chapter_costs.toc_notebooks() == instructor_tables.toc_notebooks()


def test_chapter_costs_has_every_chapter():
    import json
    data = json.loads(instructor_tables.COSTS.read_text())
    missing = [p.stem for p in instructor_tables.toc_notebooks()
               if p.stem not in data["chapters"]]
    assert not missing, f"run python tools/chapter_costs.py {' '.join(missing)}"


def test_pages_url():
    assert set_repository.pages_url("https://github.com/Ab/c-d") == "https://ab.github.io/c-d/"


def test_set_launch_branch_edits_only_that_line(tmp_path):
    root = _copy_repo(tmp_path)
    before = (root / "_config.yml").read_text()
    assert set_repository.set_launch_branch(root, "jupyter-edition")
    after = (root / "_config.yml").read_text()
    config = yaml.safe_load(after)
    assert config["launch_buttons"]["branch"] == "jupyter-edition"
    assert config["repository"]["branch"] == "main"
    changed = [(a, b) for a, b in zip(before.splitlines(), after.splitlines()) if a != b]
    assert len(changed) == 1 and "branch:" in changed[0][1], changed
    assert "#" in changed[0][1], "the line's comment is kept"
    assert not set_repository.set_launch_branch(root, "jupyter-edition")


@pytest.mark.parametrize("bad", ["main", "two words", "a..b"])
def test_set_launch_branch_rejects(tmp_path, bad):
    root = _copy_repo(tmp_path)
    with pytest.raises(ValueError, match="--launch-branch"):
        set_repository.set_launch_branch(root, bad)

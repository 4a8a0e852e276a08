"""Build the HTML book with only some chapters, keeping citations and numbering.

``jupyter-book build book/04_hardwiring.ipynb`` builds one notebook outside the book:
its citations are lost (``bibtex_bibfiles`` is relative to the repository root) and its
statements and chapter lose their numbers. This tool builds from the repository root
with a generated table of contents instead:

- every chapter of ``_toc.yml`` keeps its place, so chapter 4 is still chapter 4 and its
  Theorem 4.x keeps its number; a chapter that is not selected is replaced by a short
  page with its title and a link to the online book;
- the landing page and the Reference part (references, notation, ...) are kept, so
  ``{cite}`` resolves against ``book/references.bib``.

Usage::

    python tools/build_subset.py 04_hardwiring 05_regularisation [--out _build/subset]

Chapters are named by file stem (``04_hardwiring``) or path (``book/04_hardwiring.ipynb``).
Only the selected chapters are executed. Cross-references into a chapter that is left
out show as plain text (Sphinx warns about them).
"""
from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
from pathlib import Path

import nbformat
import yaml

ROOT = Path(__file__).resolve().parents[1]
STUBS = "_subset_stubs"          # inside the root: Sphinx reads only the source dir


def _stem(name: str) -> str:
    return Path(name).name.removesuffix(".ipynb").removesuffix(".md")


def subset_toc(toc: dict, keep: set[str], book_url: str, stub_dir: Path) -> dict:
    """A copy of ``toc`` in which unselected notebook chapters point to stub pages."""
    out = {k: v for k, v in toc.items() if k != "parts"}
    parts = []
    for part in toc["parts"]:
        new_part = {k: v for k, v in part.items() if k != "chapters"}
        chapters = []
        for entry in part["chapters"]:
            path = ROOT / (entry["file"] + ".ipynb")
            stem = _stem(entry["file"])
            if not path.exists() or stem in keep:
                chapters.append(entry)
                continue
            title = nbformat.read(path, as_version=4).cells[0].source.splitlines()[0]
            stub = stub_dir / f"{stem}.md"
            stub.write_text(
                f"{title}\n\nThis chapter is not part of this selection. Read it in the "
                f"online book: <{book_url}{entry['file']}.html>.\n", encoding="utf-8")
            chapters.append({"file": f"{STUBS}/{stem}"})
        new_part["chapters"] = chapters
        parts.append(new_part)
    out["parts"] = parts
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("chapters", nargs="+", help="chapter stems or paths to build")
    parser.add_argument("--out", type=Path, default=ROOT / "_build" / "subset",
                        help="output directory (default _build/subset)")
    parser.add_argument("--builder", default="html", help="a jupyter-book builder (default html)")
    args = parser.parse_args(argv)
    toc = yaml.safe_load((ROOT / "_toc.yml").read_text(encoding="utf-8"))
    config = yaml.safe_load((ROOT / "_config.yml").read_text(encoding="utf-8"))
    known = {_stem(c["file"]) for p in toc["parts"] for c in p["chapters"]}
    keep = {_stem(c) for c in args.chapters}
    if unknown := sorted(keep - known):
        parser.error(f"chapters: {unknown} are not in _toc.yml; choose from "
                     f"{sorted(known)}")
    stub_dir = ROOT / STUBS
    if stub_dir.exists():
        shutil.rmtree(stub_dir)
    stub_dir.mkdir()
    toc_file = stub_dir / "_toc.yml"
    try:
        toc_file.write_text(yaml.safe_dump(
            subset_toc(toc, keep, config["html"]["baseurl"], stub_dir), sort_keys=False))
        jb = Path(sys.executable).with_name("jupyter-book")
        cmd = [str(jb), "build", str(ROOT), "--toc", str(toc_file),
               "--path-output", str(args.out.resolve()), "--builder", args.builder]
        print(" ".join(cmd), flush=True)
        return subprocess.run(cmd, cwd=ROOT).returncode
    finally:
        shutil.rmtree(stub_dir, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())

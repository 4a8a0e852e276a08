"""Regenerate the tables of book/instructor_guide.md from the book's data files.

- between ``<!-- costs:start -->`` and ``<!-- costs:end -->``: execution time and peak
  memory per chapter, from ``book/_data/chapter_costs.json`` (``tools/chapter_costs.py``);
- between ``<!-- exercises:start -->`` and ``<!-- exercises:end -->``: every exercise
  with its chapter, title, difficulty and what it checks, from the chapters and
  ``book/_data/exercises.yml``.

Usage::

    python tools/instructor_tables.py          # rewrite the guide
    python tools/instructor_tables.py --check  # exit 1 if the guide is out of date
"""
from __future__ import annotations

import argparse
import json
import re
import sys
from pathlib import Path

import nbformat
import yaml

ROOT = Path(__file__).resolve().parents[1]
GUIDE = ROOT / "book" / "instructor_guide.md"
COSTS = ROOT / "book" / "_data" / "chapter_costs.json"
EXERCISES = ROOT / "book" / "_data" / "exercises.yml"
STARS = {1: "★", 2: "★★", 3: "★★★"}
_EXERCISE = re.compile(r"^(`{3,}|:{3,})\{exercise\}[ \t]*(.*)\n:label:[ \t]*(\S+)", re.M)


def toc_notebooks(root: Path = ROOT) -> list[Path]:
    """The notebooks listed in ``_toc.yml``, in book order."""
    toc = yaml.safe_load((root / "_toc.yml").read_text(encoding="utf-8"))
    files = [root / (c["file"] + ".ipynb")
             for part in toc.get("parts", []) for c in part.get("chapters", [])]
    return [f for f in files if f.exists()]


def chapter_title(path: Path) -> str:
    """The ``# Title`` of a notebook's first cell."""
    first = nbformat.read(path, as_version=4).cells[0].source
    return first.splitlines()[0].lstrip("# ").strip()


def book_exercises(root: Path = ROOT) -> list[tuple[str, str, str]]:
    """``(chapter stem, label, title)`` of every ``{exercise}`` in the book's notebooks."""
    found = []
    for path in toc_notebooks(root):
        for cell in nbformat.read(path, as_version=4).cells:
            if cell.cell_type == "markdown":
                for m in _EXERCISE.finditer(cell.source):
                    found.append((path.stem, m.group(3), m.group(2).strip()))
    return found


def costs_table() -> str:
    data = json.loads(COSTS.read_text(encoding="utf-8"))
    rows = ["| Chapter | Execution (s) | Peak memory (MiB) |", "|---|---:|---:|"]
    total = 0.0
    for path in toc_notebooks():
        row = data["chapters"].get(path.stem)
        if row is None:
            rows.append(f"| {chapter_title(path)} | not measured | |")
            continue
        total += row["seconds"]
        rows.append(f"| {chapter_title(path)} | {row['seconds']:.0f} | "
                    f"{row['peak_rss_mib']} |")
    rows.append(f"| **All chapters, one after another** | **{total:.0f}** | |")
    return "\n".join(rows) + (f"\n\nMeasured {data['measured']} on {data['machine']}, "
                              "one chapter at a time in a fresh kernel "
                              "(`python tools/chapter_costs.py`).")


def exercises_table() -> str:
    meta = yaml.safe_load(EXERCISES.read_text(encoding="utf-8")) or {}
    rows = ["| Chapter | Exercise | Difficulty | What it checks |", "|---|---|---|---|"]
    titles = {p.stem: chapter_title(p) for p in toc_notebooks()}
    for stem, label, title in book_exercises():
        entry = meta.get(label, {})
        stars = STARS.get(entry.get("difficulty"), "?")
        rows.append(f"| {titles[stem]} | {{ref}}`{title} <{label}>` | {stars} | "
                    f"{entry.get('checks', 'missing from book/_data/exercises.yml')} |")
    return "\n".join(rows)


def render(text: str) -> str:
    for name, table in (("costs", costs_table()), ("exercises", exercises_table())):
        pattern = re.compile(rf"(<!-- {name}:start -->\n).*?(<!-- {name}:end -->)", re.S)
        if not pattern.search(text):
            raise SystemExit(f"{GUIDE}: markers <!-- {name}:start/end --> not found")
        text = pattern.sub(lambda m: m.group(1) + table + "\n" + m.group(2), text)
    return text


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true",
                        help="exit 1 if the guide differs from the generated tables")
    args = parser.parse_args(argv)
    text = GUIDE.read_text(encoding="utf-8")
    new = render(text)
    if args.check:
        if new != text:
            print(f"{GUIDE} is out of date: run python tools/instructor_tables.py")
            return 1
        return 0
    GUIDE.write_text(new, encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())

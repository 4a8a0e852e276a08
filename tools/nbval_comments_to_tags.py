"""Turn ``# NBVAL_CHECK_OUTPUT`` comment lines into the ``nbval-check-output`` cell tag.

One-off migration (issue 11). For every code cell whose source starts with the comment,
the first line is removed and the tag added to ``metadata.tags``; outputs, execution
counts and every other byte of the notebook stay as they are. The JSON is rewritten
with the layout nbconvert uses (indent 1, keys sorted as stored, trailing newline).

Usage: ``python tools/nbval_comments_to_tags.py book/01_*.ipynb ...``
"""
import json
import sys
from pathlib import Path

MARK = "# NBVAL_CHECK_OUTPUT"
TAG = "nbval-check-output"


def convert(path: Path) -> int:
    nb = json.loads(path.read_text(encoding="utf-8"))
    n = 0
    for cell in nb["cells"]:
        if cell["cell_type"] != "code":
            continue
        src = cell["source"]
        lines = src if isinstance(src, list) else src.splitlines(keepends=True)
        if not lines or lines[0].rstrip("\n").strip() != MARK:
            if any(MARK in line for line in lines):
                raise ValueError(f"{path}: {MARK} not on the first line of a cell")
            continue
        rest = lines[1:]
        cell["source"] = rest if isinstance(src, list) else "".join(rest)
        tags = cell["metadata"].setdefault("tags", [])
        if TAG not in tags:
            tags.append(TAG)
        n += 1
    path.write_text(json.dumps(nb, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    return n


if __name__ == "__main__":
    total = 0
    for arg in sys.argv[1:]:
        k = convert(Path(arg))
        print(f"{arg}: {k} cells")
        total += k
    print("total", total)

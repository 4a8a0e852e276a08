"""Measure each chapter's execution time and peak memory; write book/_data/chapter_costs.json.

Every notebook in ``_toc.yml`` is executed in a fresh kernel with nbclient (as
``jupyter execute`` and the book build do), one at a time, and the wall time and the
kernel's peak resident memory (``ru_maxrss`` of the finished kernel process, read from
``/proc`` while it runs) are recorded. The instructor guide's table is generated from
the JSON file by ``tools/instructor_tables.py``.

Usage (run it under ``flock /tmp/heavy.lock`` on a shared machine)::

    python tools/chapter_costs.py [CHAPTER.ipynb ...]

With chapters named, only their entries are re-measured; the others are kept.
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import threading
import time
from pathlib import Path

import nbformat
import yaml
from nbclient import NotebookClient

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "book" / "_data" / "chapter_costs.json"


def toc_notebooks(root: Path = ROOT) -> list[Path]:
    """The notebooks of ``_toc.yml``, in book order."""
    toc = yaml.safe_load((root / "_toc.yml").read_text(encoding="utf-8"))
    files = []
    for part in toc.get("parts", []):
        for chapter in part.get("chapters", []):
            path = root / (chapter["file"] + ".ipynb")
            if path.exists():
                files.append(path)
    return files


def _rss_kib(pid: int) -> int:
    """Resident memory of ``pid`` and its children now, in KiB (from /proc)."""
    total = 0
    pids = [pid]
    try:
        children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
        pids += [int(c) for c in children]
    except OSError:
        pass
    for p in pids:
        try:
            for line in Path(f"/proc/{p}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1])
        except OSError:
            pass
    return total


def measure(path: Path) -> dict:
    """Execute one notebook in a fresh kernel; wall seconds and peak RSS (MiB)."""
    nb = nbformat.read(path, as_version=4)
    client = NotebookClient(nb, timeout=600, kernel_name="python3",
                            resources={"metadata": {"path": str(path.parent)}})
    peak = [0]
    stop = threading.Event()

    def sample():
        while not stop.is_set():
            km = client.km
            pid = getattr(getattr(km, "provisioner", None), "pid", None) if km else None
            if pid:
                peak[0] = max(peak[0], _rss_kib(pid))
            stop.wait(0.2)

    watcher = threading.Thread(target=sample, daemon=True)
    watcher.start()
    start = time.perf_counter()
    client.execute()
    seconds = time.perf_counter() - start
    stop.set()
    watcher.join()
    return {"seconds": round(seconds, 1), "peak_rss_mib": round(peak[0] / 1024),
            "code_cells": sum(c.cell_type == "code" for c in nb.cells)}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("chapters", nargs="*", type=Path,
                        help="notebooks to re-measure (default: every chapter)")
    args = parser.parse_args(argv)
    chapters = [p.resolve() for p in args.chapters] or toc_notebooks()
    data = json.loads(OUT.read_text()) if OUT.exists() and args.chapters else {}
    entries = data.get("chapters", {})
    os.environ.setdefault("PYTHONPATH", str(ROOT))
    print(f"{'chapter':40s} {'seconds':>8s} {'peak MiB':>9s}")
    for path in chapters:
        row = measure(path)
        entries[path.stem] = row
        print(f"{path.stem:40s} {row['seconds']:8.1f} {row['peak_rss_mib']:9d}",
              flush=True)
    data = {"machine": f"{platform.machine()}, {os.cpu_count()} cores, "
                       f"Python {platform.python_version()}",
            "measured": time.strftime("%Y-%m-%d"),
            "chapters": {k: entries[k] for k in sorted(entries)}}
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text(json.dumps(data, indent=1) + "\n", encoding="utf-8")
    print(json.dumps({"total_seconds": round(sum(r["seconds"] for r in entries.values()), 1),
                      "max_peak_rss_mib": max(r["peak_rss_mib"] for r in entries.values())}))
    return 0


if __name__ == "__main__":
    sys.exit(main())

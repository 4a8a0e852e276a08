"""Open a chapter in a real JupyterLab and check that jupyterlab-myst renders it.

Starts ``jupyter lab`` from the project's venv on 127.0.0.1 (random token, no
browser, a throw-away settings and workspace directory), opens the chapter in the
system Chromium driven by Playwright, and checks that

- the statements render as jupyterlab-myst's theorem boxes (``aside.myst-proof``),
  with their titles ("Definition 1 (...)"), and no ``{prf:...}`` source is shown;
- every solution is a closed ``<details class="myst-exercise">`` whose body is hidden;

then saves a screenshot. Exits non-zero when a check fails. Needs a browser, so it is
not part of the test suite; run it by hand (Playwright lives in its own venv)::

    apt-get install -y chromium
    python3.11 -m venv /work/pw-venv && /work/pw-venv/bin/pip install playwright
    /work/pw-venv/bin/python tools/check_jupyterlab.py [book/04_hardwiring.ipynb]
        [--venv .venv] [--screenshot jupyterlab.png]
"""
from __future__ import annotations

import argparse
import json
import secrets
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_lab(venv: Path, workdir: Path) -> tuple[subprocess.Popen, str]:
    """Start JupyterLab; return the process and the base URL with its token."""
    jupyter = venv / "bin" / "jupyter"
    if not jupyter.exists():
        raise SystemExit(f"--venv: {jupyter} not found; install requirements.txt into "
                         f"{venv} first")
    settings = workdir / "settings" / "@jupyterlab" / "notebook-extension"
    settings.mkdir(parents=True)
    # Render every cell (JupyterLab 4 otherwise renders only the visible ones).
    (settings / "tracker.jupyterlab-settings").write_text(
        json.dumps({"windowingMode": "none"}))
    token, port = secrets.token_hex(16), _free_port()
    proc = subprocess.Popen(
        [str(jupyter), "lab", "--no-browser", "--allow-root", "--ip=127.0.0.1",
         f"--port={port}", f"--IdentityProvider.token={token}",
         f"--ServerApp.root_dir={ROOT}",
         f"--LabApp.user_settings_dir={workdir / 'settings'}",
         f"--LabApp.workspaces_dir={workdir / 'workspaces'}"],
        stdout=open(workdir / "lab.log", "w"), stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    for _ in range(120):
        if proc.poll() is not None:
            raise SystemExit(f"jupyter lab exited: see {workdir / 'lab.log'}")
        try:
            urllib.request.urlopen(f"{base}/api/status?token={token}", timeout=2)
            return proc, f"{base}|{token}"
        except OSError:
            time.sleep(0.5)
    proc.terminate()
    raise SystemExit("jupyter lab did not answer within 60 s")


def check(page) -> list[str]:
    """The failed checks on the opened notebook page (empty when all pass)."""
    failures = []
    proofs = page.locator("aside.myst-proof")
    titles = [t.strip() for t in page.locator(".myst-proof-title").all_inner_texts()]
    if proofs.count() == 0:
        failures.append("no theorem box (aside.myst-proof): jupyterlab-myst not active?")
    statements = [t for t in titles if t.split(" ")[0] in
                  {"Theorem", "Lemma", "Definition", "Proposition", "Corollary"}]
    if not statements:
        failures.append(f"no numbered statement among the box titles {titles[:5]}")
    rendered = page.locator(".jp-MarkdownCell.jp-mod-rendered .jp-RenderedMarkdown, "
                            ".jp-MarkdownCell.jp-mod-rendered .myst")
    text = "\n".join(rendered.all_inner_texts())
    for raw in ("{prf:", "{exercise}", "{solution-start}", ":label:"):
        if raw in text:
            failures.append(f"directive source {raw!r} is shown in a rendered cell")
    solutions = page.locator("details.myst-exercise")
    if solutions.count() == 0:
        failures.append("no solution rendered as <details class='myst-exercise'>")
    for i in range(solutions.count()):
        sol = solutions.nth(i)
        if sol.get_attribute("open") is not None:
            failures.append(f"solution {i + 1} is open")
        body = sol.locator(".myst-exercise-body")
        if body.count() and body.first.is_visible():
            failures.append(f"solution {i + 1}'s body is visible")
    print(f"theorem boxes: {proofs.count()} (statements: {len(statements)}, e.g. "
          f"{statements[:2]}); solutions: {solutions.count()}, all closed: "
          f"{not any('solution' in f for f in failures)}")
    return failures


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("chapter", nargs="?", default="book/04_hardwiring.ipynb")
    parser.add_argument("--venv", type=Path, default=ROOT / ".venv",
                        help="the project's venv (with jupyterlab, jupyterlab-myst)")
    parser.add_argument("--screenshot", type=Path, default=Path("jupyterlab.png"))
    args = parser.parse_args(argv)
    chapter = (ROOT / args.chapter).resolve()
    if not chapter.is_file():
        parser.error(f"chapter: {chapter} does not exist")
    from playwright.sync_api import sync_playwright

    with tempfile.TemporaryDirectory() as tmp:
        proc, url = start_lab(args.venv, Path(tmp))
        base, token = url.split("|")
        try:
            with sync_playwright() as pw:
                browser = pw.chromium.launch(executable_path="/usr/bin/chromium",
                                             args=CHROMIUM_ARGS)
                page = browser.new_page(viewport={"width": 1280, "height": 1600})
                rel = chapter.relative_to(ROOT).as_posix()
                page.goto(f"{base}/lab/tree/{rel}?token={token}&reset")
                page.wait_for_selector("aside.myst-proof, .jp-MarkdownCell",
                                       timeout=90_000)
                page.wait_for_timeout(5000)   # let every markdown cell render
                failures = check(page)
                page.screenshot(path=str(args.screenshot))
                browser.close()
        finally:
            proc.terminate()
            proc.wait(timeout=30)
    print(f"screenshot: {args.screenshot}")
    for f in failures:
        print("FAIL:", f)
    print("JupyterLab check:", "passed" if not failures else "FAILED")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())

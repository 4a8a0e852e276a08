"""Open notebooks in a real JupyterLab and check how they render.

Starts ``jupyter lab`` from the project's venv on 127.0.0.1 (random token, no
browser, a throw-away settings, workspace and config directory), opens each
notebook in the system Chromium driven by Playwright, runs the checks of its
``--edition`` and saves screenshots. Exits non-zero when a check fails.

``--edition book`` (the default; jupyterlab-myst enabled) checks a chapter of the
book itself:

- the statements render as jupyterlab-myst's theorem boxes (``aside.myst-proof``),
  with their titles ("Definition 1 (...)"), and no ``{prf:...}`` source is shown;
- every solution is a closed ``<details class="myst-exercise">`` whose body is hidden.

``--edition jupyter`` and ``--edition student`` check the notebooks written by
``tools/editions.py --out DIR`` (``DIR/jupyter/*.ipynb``, ``DIR/student/*.ipynb``).
They are meant to render without extensions, as in Colab, so these editions are
opened with jupyterlab-myst disabled (``--no-myst`` is implied; ``--myst`` keeps
it). The extension is disabled by a temporary ``JUPYTER_CONFIG_DIR`` holding
``labconfig/page_config.json`` = ``{"disabledExtensions": {"jupyterlab-myst":
true}}``; the script checks that the page's config data lists it as disabled and
that no jupyterlab-myst element is on the page. Checks, on the rendered
Markdown cells:

- no MyST source is visible (``{prf:``, ``:label:``, ``{cite``, ``{numref`` ...);
- every ``prf:`` statement and exercise of the book's source chapter (counted
  from ``book/<chapter>.ipynb`` itself, independently of the converter) shows as
  a bold title "Kind N.M" inside a block quote, with the numbers of each kind
  increasing;
- MathJax rendered formulas and none is a MathJax error (``mjx-merror``), and no
  ``$$``, ``\\tag{`` or other LaTeX command (outside formulas and code) is left
  as text;
- every stored figure (``img`` in an output) has loaded;
- links to the online book (``html.baseurl`` of ``_config.yml``) are present;
- an author-year citation such as "[Duan and Montúfar, 2026]" is visible, and a
  "References" section ends the notebook (when the chapter cites anything);
- Jupyter edition: one ``<details>`` per solution of the source chapter, all
  closed with their body hidden, and the solution code cells collapsed;
- student edition: no ``<details>``, no "Solution to" text, and at least one
  visible code cell that raises ``NotImplementedError`` (when the chapter has
  an exercise with code).

Screenshots go to ``--screenshot-dir`` as ``jlab-<edition>-<chapter>-<what>.png``
(the top of the notebook, the first statement, the first solution closed and
opened, the first figure, the first stub, the references). Needs a browser, so it
is not part of the test suite; run it by hand (Playwright lives in its own venv)::

    apt-get install -y chromium
    python3.11 -m venv /work/pw-venv && /work/pw-venv/bin/pip install playwright
    /work/pw-venv/bin/python tools/check_jupyterlab.py [book/04_hardwiring.ipynb]
        [--venv .venv] [--screenshot-dir /tmp]
    python tools/editions.py --out /tmp/ed
    /work/pw-venv/bin/python tools/check_jupyterlab.py --edition jupyter \\
        /tmp/ed/jupyter/04_hardwiring.ipynb /tmp/ed/jupyter/09_cross_entropy.ipynb
    /work/pw-venv/bin/python tools/check_jupyterlab.py --edition student \\
        /tmp/ed/student/04_hardwiring.ipynb
"""
from __future__ import annotations

import argparse
import json
import os
import re
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
EDITIONS = ("book", "jupyter", "student")
MYST = "jupyterlab-myst"
KINDS = ("Axiom", "Theorem", "Lemma", "Algorithm", "Definition", "Remark",
         "Conjecture", "Corollary", "Criterion", "Example", "Property",
         "Observation", "Proposition", "Assumption", "Notation", "Exercise")
#: MyST source that must never be visible in a rendered Markdown cell.
RAW = ("{prf:", "{exercise}", "{solution", ":label:", "{cite", "{numref}",
       "{ref}", "{doc}", "{term}", "{eq}", "{admonition}", "{note}", "{math}",
       "```{", ":::{")
TITLE = re.compile(rf"^({'|'.join(KINDS)}) ([A-Z]?\d*(?:\.\d+)*)\b")
CITATION = re.compile(r"[\[(][A-Z][^\[\]()]*?(?: and | et al\.)?[^\[\]()]*?, "
                      r"\d{4}[a-z]?[\])]")
SOURCE_STATEMENT = re.compile(r"^ {0,3}(`{3,}|:{3,})\{(prf:(?!proof)[a-z]+|"
                              r"exercise)\}", re.M)
SOURCE_SOLUTION = re.compile(r"^ {0,3}(`{3,}|:{3,})\{(solution|solution-start)\}",
                             re.M)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_lab(venv: Path, workdir: Path, root_dir: Path = ROOT,
              myst: bool = True) -> tuple[subprocess.Popen, str]:
    """Start JupyterLab serving ``root_dir``; return the process and
    ``"<base URL>|<token>"``. With ``myst=False`` jupyterlab-myst is disabled
    through a temporary ``JUPYTER_CONFIG_DIR`` (``labconfig/page_config.json``)."""
    jupyter = venv / "bin" / "jupyter"
    if not jupyter.exists():
        raise SystemExit(f"--venv: {jupyter} not found; install requirements.txt into "
                         f"{venv} first")
    settings = workdir / "settings" / "@jupyterlab" / "notebook-extension"
    settings.mkdir(parents=True)
    # Render every cell (JupyterLab 4 otherwise renders only the visible ones).
    (settings / "tracker.jupyterlab-settings").write_text(
        json.dumps({"windowingMode": "none"}))
    config = workdir / "config" / "labconfig"
    config.mkdir(parents=True)
    if not myst:
        (config / "page_config.json").write_text(
            json.dumps({"disabledExtensions": {MYST: True}}))
    env = dict(os.environ, JUPYTER_CONFIG_DIR=str(workdir / "config"))
    token, port = secrets.token_hex(16), _free_port()
    proc = subprocess.Popen(
        [str(jupyter), "lab", "--no-browser", "--allow-root", "--ip=127.0.0.1",
         f"--port={port}", f"--IdentityProvider.token={token}",
         f"--ServerApp.root_dir={root_dir}",
         f"--LabApp.user_settings_dir={workdir / 'settings'}",
         f"--LabApp.workspaces_dir={workdir / 'workspaces'}"],
        stdout=open(workdir / "lab.log", "w"), stderr=subprocess.STDOUT, env=env)
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


def _rendered(page):
    return page.locator(".jp-MarkdownCell.jp-mod-rendered .jp-RenderedMarkdown, "
                        ".jp-MarkdownCell.jp-mod-rendered .myst")


def _raw_shown(text: str) -> list[str]:
    return [f"directive source {raw!r} is shown in a rendered cell"
            for raw in RAW if raw in text]


def check(page) -> list[str]:
    """The failed checks of ``--edition book`` on the opened notebook page
    (jupyterlab-myst enabled; empty when all pass)."""
    failures = []
    proofs = page.locator("aside.myst-proof")
    titles = [t.strip() for t in page.locator(".myst-proof-title").all_inner_texts()]
    if proofs.count() == 0:
        failures.append("no theorem box (aside.myst-proof): jupyterlab-myst not active?")
    statements = [t for t in titles if t.split(" ")[0] in
                  {"Theorem", "Lemma", "Definition", "Proposition", "Corollary"}]
    if not statements:
        failures.append(f"no numbered statement among the box titles {titles[:5]}")
    text = "\n".join(_rendered(page).all_inner_texts())
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


def source_counts(chapter: str, root: Path = ROOT) -> tuple[int, int]:
    """(statements and exercises, solutions) in the book's own ``chapter``
    (``book/<chapter>.ipynb``), counted from its MyST source."""
    nb = json.loads((root / "book" / f"{chapter}.ipynb").read_text())
    text = "\n".join("".join(c["source"]) for c in nb["cells"]
                     if c["cell_type"] == "markdown")
    return len(SOURCE_STATEMENT.findall(text)), len(SOURCE_SOLUTION.findall(text))


def _baseurl(root: Path = ROOT) -> str:
    m = re.search(r"^\s*baseurl:\s*(\S+)", (root / "_config.yml").read_text(), re.M)
    if not m:
        raise SystemExit("_config.yml has no html.baseurl")
    return m.group(1)


def titles_in_order(titles: list[str]) -> list[str]:
    """The failures of the numbering: per kind, numbers must increase."""
    failures, last = [], {}
    for t in titles:
        m = TITLE.match(t)
        kind, number = m.group(1), m.group(2)
        # "4.2" -> (2,): within a chapter; an unnumbered page's "2" -> (2,)
        parts = number.split(".")
        key = tuple(int(p) for p in (parts[1:] or parts) if p.isdigit())
        if kind in last and key <= last[kind][1]:
            failures.append(f"{kind} {number} follows {kind} {last[kind][0]}")
        last[kind] = (number, key)
    return failures


def check_edition(page, edition: str, chapter: str, myst: bool) -> list[str]:
    """The failed checks of ``--edition jupyter`` or ``student`` (empty when all
    pass); ``chapter`` is the notebook's stem, its source is ``book/<chapter>``."""
    failures = []
    config = json.loads(page.locator("#jupyter-config-data").text_content())
    disabled = config.get("disabledExtensions", [])
    if not myst and MYST not in disabled:
        failures.append(f"{MYST} is not in the page's disabledExtensions "
                        f"{disabled}")
    if not myst and page.locator("aside.myst-proof, .myst").count():
        failures.append(f"{MYST} elements on the page although it is disabled")
    rendered = _rendered(page)
    text = "\n".join(rendered.all_inner_texts())
    failures += _raw_shown(text)
    for raw in ("$$", "\\tag{", "\\begin{"):
        if raw in text:
            failures.append(f"unrendered math {raw!r} in a rendered cell")
    # LaTeX left as text, outside formulas and code (e.g. a reference's "\\url")
    plain = page.evaluate("""() => Array.from(document.querySelectorAll(
        '.jp-MarkdownCell .jp-RenderedMarkdown')).map(e => {
          const c = e.cloneNode(true);
          c.querySelectorAll('mjx-container, code, pre').forEach(x => x.remove());
          return c.textContent; }).join('\\n')""")
    latex = sorted(set(re.findall(r"\\[A-Za-z]+", plain)))
    if latex:
        failures.append(f"LaTeX commands shown as text: {latex[:5]}")
    n_math = page.locator(".jp-RenderedMarkdown mjx-container").count()
    n_err = page.locator(".jp-RenderedMarkdown mjx-merror").count()
    if n_math == 0:
        failures.append("no formula rendered by MathJax (mjx-container)")
    if n_err:
        errs = page.locator(".jp-RenderedMarkdown mjx-merror").all_inner_texts()
        failures.append(f"{n_err} MathJax errors, e.g. {errs[:3]}")
    # statements: a bold title "Kind N.M" in a block quote
    strong = page.locator(".jp-RenderedMarkdown blockquote strong").all_inner_texts()
    titles = [t.strip() for t in strong if TITLE.match(t.strip())]
    n_source, n_solutions = source_counts(chapter)
    if len(titles) != n_source:
        failures.append(f"{len(titles)} titled statements in block quotes, the "
                        f"source has {n_source} prf: statements and exercises")
    if any(not TITLE.match(t).group(2) for t in titles):
        failures.append(f"a statement without its number: {titles}")
    failures += titles_in_order(titles)
    # figures
    imgs = page.locator(".jp-OutputArea-output img")
    loaded = page.evaluate("""() => Array.from(document.querySelectorAll(
        '.jp-OutputArea-output img')).filter(i => i.complete && i.naturalWidth > 0)
        .length""")
    if loaded != imgs.count():
        failures.append(f"{imgs.count() - loaded} of {imgs.count()} figures did "
                        f"not load")
    # links and citations
    base = _baseurl()
    links = page.locator(f".jp-RenderedMarkdown a[href^='{base}']").count()
    if links == 0:
        failures.append(f"no link to the online book ({base})")
    cites = CITATION.findall(text)
    refs = page.locator(".jp-RenderedMarkdown h2", has_text="References").count()
    if cites and not refs:
        failures.append("citations but no References section")
    if not cites and refs:
        failures.append("a References section but no author-year citation shown")
    details = page.locator(".jp-RenderedMarkdown details")
    if edition == "jupyter":
        summaries = details.locator(":scope > summary").all_inner_texts()
        firsts = [t for t in summaries if t.startswith("Solution to")
                  and "(continued)" not in t]
        if len(firsts) != n_solutions:
            failures.append(f"{len(firsts)} <details> 'Solution to ...', the "
                            f"source has {n_solutions} solutions")
        for i in range(details.count()):
            d = details.nth(i)
            if d.get_attribute("open") is not None:
                failures.append(f"solution {i + 1} is open")
            inner = d.locator(":scope > :not(summary)")
            if any(inner.nth(k).is_visible() for k in range(inner.count())):
                failures.append(f"solution {i + 1}'s body is visible")
        hidden = page.locator(".jp-CodeCell .jp-InputPlaceholder").count()
        print(f"collapsed code inputs: {hidden}")
    else:
        if details.count():
            failures.append(f"{details.count()} <details> in the student edition")
        if "Solution to" in text:
            failures.append("solution text ('Solution to') in the student edition")
        stubs = page.locator(".jp-CodeCell .jp-InputArea-editor",
                             has_text="NotImplementedError")
        visible = sum(stubs.nth(k).is_visible() for k in range(stubs.count()))
        if n_solutions and not visible:
            failures.append("no visible stub cell raising NotImplementedError")
        print(f"stub cells: {stubs.count()} ({visible} visible)")
    print(f"statements: {len(titles)} of {n_source} (e.g. {titles[:3]}); "
          f"formulas: {n_math}, MathJax errors: {n_err}; figures: {loaded}/"
          f"{imgs.count()}; links to the book: {links}; citations: "
          f"{len(cites)} (e.g. {cites[:2]}), References: {bool(refs)}; "
          f"<details>: {details.count()} (source solutions: {n_solutions})")
    return failures


def _shoot(page, locator, path: Path, shots: list[Path]) -> None:
    if locator.count():
        locator.first.scroll_into_view_if_needed()
        page.wait_for_timeout(500)
        page.screenshot(path=str(path))
        shots.append(path)


def screenshots(page, edition: str, stem: str, out: Path) -> list[Path]:
    """Viewport screenshots of the parts worth looking at."""
    shots: list[Path] = []
    pre = out / f"jlab-{edition}-{stem}"
    page.screenshot(path=f"{pre}-top.png")
    shots.append(Path(f"{pre}-top.png"))
    if edition == "book":
        _shoot(page, page.locator("aside.myst-proof"), Path(f"{pre}-theorem.png"),
               shots)
        _shoot(page, page.locator("details.myst-exercise"),
               Path(f"{pre}-solution.png"), shots)
        return shots
    _shoot(page, page.locator(".jp-RenderedMarkdown blockquote strong",
                              has_text=re.compile(r"^(Theorem|Proposition) ")),
           Path(f"{pre}-theorem.png"), shots)
    _shoot(page, page.locator(".jp-OutputArea-output img"),
           Path(f"{pre}-figure.png"), shots)
    details = page.locator(".jp-RenderedMarkdown details")
    if details.count():
        _shoot(page, details, Path(f"{pre}-solution-closed.png"), shots)
        details.first.locator("summary").click()
        page.wait_for_timeout(1000)
        _shoot(page, details, Path(f"{pre}-solution-open.png"), shots)
    _shoot(page, page.locator(".jp-CodeCell", has_text="NotImplementedError"),
           Path(f"{pre}-stub.png"), shots)
    _shoot(page, page.locator(".jp-RenderedMarkdown h2", has_text="References"),
           Path(f"{pre}-references.png"), shots)
    return shots


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    """The command line; ``notebooks`` are resolved against the current
    directory and must exist and share one directory."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("notebooks", nargs="*", type=Path,
                        default=[ROOT / "book" / "04_hardwiring.ipynb"],
                        help="notebooks in one directory (default: the book's "
                             "chapter 4)")
    parser.add_argument("--edition", choices=EDITIONS, default="book",
                        help="which checks: the book's chapters with "
                             "jupyterlab-myst, or an edition of tools/editions.py")
    myst = parser.add_mutually_exclusive_group()
    myst.add_argument("--myst", dest="myst", action="store_true", default=None,
                      help="keep jupyterlab-myst enabled (default for --edition "
                           "book)")
    myst.add_argument("--no-myst", dest="myst", action="store_false",
                      help="disable jupyterlab-myst, as Colab renders (default "
                           "for the editions)")
    parser.add_argument("--venv", type=Path, default=ROOT / ".venv",
                        help="the project's venv (with jupyterlab, jupyterlab-myst)")
    parser.add_argument("--screenshot-dir", type=Path, default=Path("."),
                        help="where the jlab-*.png screenshots go")
    args = parser.parse_args(argv)
    if args.myst is None:
        args.myst = args.edition == "book"
    if args.edition == "book" and not args.myst:
        parser.error("--edition book checks jupyterlab-myst's boxes; it needs "
                     "--myst")
    args.notebooks = [p.resolve() for p in args.notebooks]
    for p in args.notebooks:
        if not p.is_file() or p.suffix != ".ipynb":
            parser.error(f"notebooks: {p} is not an existing .ipynb file")
    if len({p.parent for p in args.notebooks}) != 1:
        parser.error("notebooks: give notebooks of one directory per run")
    if args.edition != "book":
        for p in args.notebooks:
            if not (ROOT / "book" / f"{p.stem}.ipynb").is_file():
                parser.error(f"notebooks: {p.name} has no source book/{p.stem}"
                             f".ipynb to count its statements against")
    if not args.screenshot_dir.is_dir():
        parser.error(f"--screenshot-dir: {args.screenshot_dir} is not a directory")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    from playwright.sync_api import sync_playwright

    root = args.notebooks[0].parent if args.edition != "book" else ROOT
    results = {}
    with tempfile.TemporaryDirectory() as tmp:
        proc, url = start_lab(args.venv, Path(tmp), root, args.myst)
        base, token = url.split("|")
        try:
            with sync_playwright() as pw:
                browser = pw.chromium.launch(executable_path="/usr/bin/chromium",
                                             args=CHROMIUM_ARGS)
                for nb in args.notebooks:
                    page = browser.new_page(viewport={"width": 1280,
                                                      "height": 1600})
                    rel = nb.relative_to(root).as_posix()
                    page.goto(f"{base}/lab/tree/{rel}?token={token}&reset")
                    page.wait_for_selector("aside.myst-proof, .jp-MarkdownCell",
                                           timeout=90_000)
                    page.wait_for_timeout(8000)   # let every cell and formula render
                    print(f"== {args.edition}: {nb} (jupyterlab-myst "
                          f"{'enabled' if args.myst else 'disabled'})")
                    if args.edition == "book":
                        failures = check(page)
                    else:
                        failures = check_edition(page, args.edition, nb.stem,
                                                 args.myst)
                    shots = screenshots(page, args.edition, nb.stem,
                                        args.screenshot_dir)
                    print("screenshots:", " ".join(str(s) for s in shots))
                    for f in failures:
                        print("FAIL:", f)
                    results[nb] = failures
                    page.close()
                browser.close()
        finally:
            proc.terminate()
            proc.wait(timeout=30)
    failed = [nb.name for nb, f in results.items() if f]
    print("JupyterLab check:", "passed" if not failed else f"FAILED ({failed})")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())

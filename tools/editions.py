"""Write the Jupyter and student editions of every chapter in ``_toc.yml``.

Usage::

    python tools/editions.py --out DIR [--branch-tree TREE]

writes ``DIR/jupyter/<chapter>.ipynb`` (plain notebooks: every MyST construct the
book uses becomes Markdown that JupyterLab and Colab render without extensions) and
``DIR/student/<chapter>.ipynb`` (the same notebooks without solutions). With
``--branch-tree``, also the tree that ``.github/workflows/publish.yml`` pushes to
the editions branch (``launch_buttons.branch`` in ``_config.yml``), which the
book's Binder and Colab buttons open: the Jupyter edition at ``book/<chapter>.ipynb``,
the library, ``binder/`` and ``requirements.txt``. The editions' install cell
installs the library from that branch.

Conventions (the chapters are read as they are; nothing has to be tagged):

* Numbers are those of the built book: ``prf:`` statements, exercises, figures and
  labelled equations are counted per type (sphinx-proof's default, no
  ``prf_realtyp_to_countertyp``), prefixed by the chapter number; chapters are
  numbered consecutively over the ``numbered`` parts of ``_toc.yml``
  (``use_multitoc_numbering``); unnumbered pages share one counter per type, in
  table-of-contents order, as Sphinx's ``numfig`` does.
* A gated solution (``solution-start`` ... ``solution-end``) becomes, in the Jupyter
  edition, ``<details>`` blocks for its markdown and its code cells stay runnable,
  collapsed in JupyterLab, input and output (``jupyter.source_hidden`` and
  ``jupyter.outputs_hidden``), tagged ``solution``, with a first line
  ``# Solution to Exercise 4.1`` (what the folded cell shows).
* In the student edition the solution's markdown is removed.  A solution code cell
  is split: its top-level ``print(...)`` statements (the checks) stay, as a cell
  tagged ``exercise-check``; the rest becomes a stub that keeps imports, function
  signatures and docstrings and the names the solution assigns, and raises
  ``NotImplementedError("Exercise 4.1: ...")``.  A code cell that a chapter tags
  ``exercise-check`` is kept whole; one tagged ``exercise-solution`` is stubbed whole.
"""
from __future__ import annotations

import argparse
import ast
import copy
import importlib.util
import re
import shutil
import sys
import textwrap
from dataclasses import dataclass, field
from pathlib import Path

import nbformat
import yaml

ROOT = Path(__file__).resolve().parents[1]

PRF_TYPES = ("axiom", "theorem", "lemma", "algorithm", "definition", "remark",
             "conjecture", "corollary", "criterion", "example", "property",
             "observation", "proposition", "assumption", "notation")
ADMONITIONS = ("note", "warning", "tip", "important", "hint", "caution",
               "attention", "danger", "error", "seealso")
#: Every directive the converter renders; any other one is an error.
DIRECTIVES = frozenset({*(f"prf:{t}" for t in PRF_TYPES), "prf:proof",
                        "exercise", "solution", "solution-start", "solution-end",
                        "admonition", "dropdown", *ADMONITIONS, "math"})
#: Every role the converter renders; any other one is an error.
ROLES = frozenset({"prf:ref", "numref", "ref", "doc", "eq", "term", "cite",
                   "cite:p", "cite:t", "cite:ps", "cite:ts", "math"})
WIDGET = "application/vnd.jupyter.widget-view+json"
EXPLORER_NOTE = ("*Run the cell to use the explorer (it needs a running "
                 "kernel).*")
FENCE = re.compile(r"^(?P<indent> {0,3})(?P<fence>`{3,}|:{3,}|~{3,})"
                   r"(?:\{(?P<name>[^}]+)\})?(?P<arg>.*)$")
ROLE = re.compile(r"\{(?P<role>[a-z][a-z:-]*)\}`(?P<text>[^`]*)`")
TARGET = re.compile(r"^\((?P<label>[^)\s]+)\)=\s*$")
EQ_LABEL = re.compile(r"\$\$\s*\((?P<label>[^)\s]+)\)\s*$")


class EditionError(ValueError):
    """A chapter uses a construct the converter cannot render."""


# ----------------------------------------------------------------- the book
@dataclass
class Target:
    """One cross-reference target of the built book."""
    doc: str            # e.g. "book/04_hardwiring"
    kind: str           # "theorem", "exercise", "figure", "equation", "section"
    number: str | None  # "4.1", or None if unnumbered
    title: str = ""

    @property
    def name(self) -> str:
        """The text ``{numref}`` shows: "Theorem 4.1", "Fig. 4.2", "(4.1)"."""
        if self.kind == "figure":
            return f"Fig. {self.number}"
        if self.kind == "equation":
            return f"({self.number})"
        if self.number is None:
            return self.title or self.kind.capitalize()
        return f"{self.kind.capitalize()} {self.number}"


@dataclass
class Book:
    """What the converter needs to know about the whole book."""
    root: Path
    baseurl: str
    repository: str
    #: the branch the install cell installs the library from: the editions
    #: branch (``launch_buttons.branch``), which carries the library beside the
    #: notebooks, or else ``repository.branch``
    branch: str
    chapters: list[str]                      # notebook docs, toc order
    titles: dict[str, str] = field(default_factory=dict)
    targets: dict[str, Target] = field(default_factory=dict)
    glossary: dict[str, str] = field(default_factory=dict)   # lower -> term
    glossary_doc: str = ""
    bib: dict | None = None
    #: the number of every captioned figure, named or not, by (doc, cell index)
    figure_numbers: dict[tuple[str, int], str] = field(default_factory=dict)

    def url(self, doc: str, anchor: str = "") -> str:
        """Address of ``doc`` (and ``#anchor``) in the online book."""
        return f"{self.baseurl}{doc}.html" + (f"#{anchor}" if anchor else "")


def _toc_entries(toc: dict):
    """Yield ``(file, numbered)`` in the order of the table of contents."""
    yield toc["root"], False

    def walk(items, numbered):
        for item in items or []:
            if "file" in item:
                yield item["file"], numbered
            for key in ("sections", "chapters"):
                yield from walk(item.get(key), numbered)

    if "parts" in toc:
        for part in toc["parts"]:
            yield from walk(part.get("chapters"), bool(part.get("numbered")))
    else:
        yield from walk(toc.get("chapters"), bool(toc.get("numbered")))


def _doc_source(root: Path, doc: str) -> tuple[Path, list[str]]:
    """The file of ``doc`` and its markdown texts (cells or the whole page)."""
    for suffix in (".ipynb", ".md"):
        path = root / f"{doc}{suffix}"
        if path.exists():
            if suffix == ".md":
                return path, [path.read_text(encoding="utf-8")]
            nb = nbformat.read(path, as_version=4)
            return path, [c.source for c in nb.cells]
    raise FileNotFoundError(f"_toc.yml lists {doc!r}, but neither {doc}.ipynb "
                            f"nor {doc}.md exists under {root}")


def sphinx_id(text: str) -> str:
    """The HTML id Sphinx gives a glossary term (``sphinx.util.nodes._make_id``)."""
    return re.sub(r"[^a-zA-Z0-9]+", "-", " ".join(text.split())).strip("-")


def load_book(root: Path = ROOT) -> Book:
    """Read ``_config.yml``, ``_toc.yml`` and every page, and number the targets.

    Parameters
    ----------
    root : Path
        The repository root (holding ``_config.yml`` and ``_toc.yml``).

    Returns
    -------
    Book
        Chapters (the notebooks of the table of contents, in order), titles, the
        numbered targets, the glossary and the bibliography.
    """
    if not isinstance(root, Path):
        raise TypeError(f"root must be a pathlib.Path, got {type(root).__name__}")
    config = yaml.safe_load((root / "_config.yml").read_text(encoding="utf-8"))
    toc = yaml.safe_load((root / "_toc.yml").read_text(encoding="utf-8"))
    baseurl = config.get("html", {}).get("baseurl", "")
    repo = config.get("repository", {})
    if not baseurl or not repo.get("url"):
        raise EditionError("_config.yml needs html.baseurl and repository.url: "
                           "the editions link to the online book and install "
                           "the library from the repository")
    branch = ((config.get("launch_buttons") or {}).get("branch")
              or repo.get("branch", "main"))
    book = Book(root, baseurl.rstrip("/") + "/", repo["url"], branch, [])
    counters: dict[tuple[str, str], int] = {}
    chapter = 0
    for doc, numbered in _toc_entries(toc):
        doc = str(Path(doc).with_suffix(""))
        path, texts = _doc_source(root, doc)
        if path.suffix == ".ipynb":
            book.chapters.append(doc)
        if numbered:
            chapter += 1
        prefix = str(chapter) if numbered else ""
        nb = nbformat.read(path, as_version=4) if path.suffix == ".ipynb" else None

        def number(kind: str) -> str:
            counters[kind, prefix] = counters.get((kind, prefix), 0) + 1
            n = counters[kind, prefix]
            return f"{prefix}.{n}" if prefix else str(n)

        pending_targets: list[str] = []
        cells = nb.cells if nb is not None else None
        for i, text in enumerate(texts):
            is_code = cells is not None and cells[i].cell_type == "code"
            if is_code:
                fig = cells[i].metadata.get("mystnb", {}).get("figure", {})
                # Sphinx numbers every figure with a caption, named or not (an
                # explorer's default view has a caption and no name)
                if fig.get("name") or fig.get("caption"):
                    num = number("figure")
                    book.figure_numbers[doc, i] = num
                    if fig.get("name"):
                        book.targets[fig["name"]] = Target(
                            doc, "figure", num, fig.get("caption", ""))
                continue
            for line in text.splitlines():
                m = FENCE.match(line)
                heading = re.match(r"^(#{1,6})\s+(.*)", line)
                t = TARGET.match(line)
                if t:
                    pending_targets.append(t.group("label"))
                elif heading:
                    title = heading.group(2).strip()
                    if doc not in book.titles and heading.group(1) == "#":
                        book.titles[doc] = title
                    for label in pending_targets:
                        book.targets[label] = Target(doc, "section", None, title)
                    pending_targets = []
                elif m and m.group("name"):
                    name = m.group("name")
                    kind = name[4:] if name.startswith("prf:") else name
                    if kind in (*PRF_TYPES, "exercise"):
                        _Pending.start(kind, m.group("arg").strip())
                elif EQ_LABEL.search(line):
                    label = EQ_LABEL.search(line).group("label")
                    book.targets[label] = Target(doc, "equation",
                                                 number("displaymath"))
                if _Pending.kind and line.startswith(":label:"):
                    _Pending.label = line.split(":label:", 1)[1].strip()
                if _Pending.kind and line.startswith(":nonumber:"):
                    _Pending.nonumber = True
                if _Pending.kind and not line.startswith(":") and not m:
                    _Pending.flush(book, doc, number)
            _Pending.flush(book, doc, number)
        if doc.endswith(("notation", "glossary")) or "{glossary}" in "".join(texts):
            _read_glossary(book, doc, "\n".join(texts))
    bibfiles = config.get("bibtex_bibfiles", [])
    book.bib = _read_bib(root, bibfiles) if bibfiles else {}
    return book


class _Pending:
    """The statement whose options are being read (numbering happens at the
    first line after the options, as the directive is then complete)."""
    kind: str | None = None
    title = ""
    label: str | None = None
    nonumber = False

    @classmethod
    def start(cls, kind, title):
        cls.kind, cls.title, cls.label, cls.nonumber = kind, title, None, False

    @classmethod
    def flush(cls, book, doc, number):
        if cls.kind is None:
            return
        num = None if cls.nonumber else number(cls.kind)
        if cls.label:
            book.targets[cls.label] = Target(doc, cls.kind, num, cls.title)
        cls.kind = None


def _read_glossary(book: Book, doc: str, text: str) -> None:
    m = re.search(r"^(`{3,}|:{3,})\{glossary\}.*?\n(.*?)^\1\s*$", text, re.M | re.S)
    if not m:
        return
    book.glossary_doc = doc
    for line in m.group(2).splitlines():
        if line.strip() and not line[0].isspace() and not line.startswith(":"):
            book.glossary[line.strip().lower()] = line.strip()


def _read_bib(root: Path, bibfiles: list[str]) -> dict:
    """Entries of the bibliography with the book's author–year labels."""
    from pybtex.database import parse_file
    from pybtex.plugin import find_plugin

    ext = root / "book" / "_ext" / "author_year_labels.py"
    if ext.exists():  # registers the book's style "plain_author_year"
        spec = importlib.util.spec_from_file_location("_author_year", ext)
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        style = find_plugin("pybtex.style.formatting", "plain_author_year")()
    else:
        style = find_plugin("pybtex.style.formatting", "plain")()
    data = None
    for bib in bibfiles:
        parsed = parse_file(str(root / bib))
        if data is None:
            data = parsed
        else:
            data.entries.update(parsed.entries)
    formatted = style.format_entries(data.entries.values())
    return {e.key: (e.label, _url_links(e.text.render_as("markdown")))
            for e in formatted}


def _url_links(text: str) -> str:
    """pybtex leaves a field's ``\\url{...}`` as the text "\\url" and the
    escaped address (JupyterLab showed "\\url http://yann\\.lecun\\.com/...");
    make it a Markdown link, as pybtex does for a ``url`` field."""
    def link(m: re.Match) -> str:
        url = re.sub(r"\\(.)", r"\1", m.group(1))
        return f"[{m.group(1)}]({url})"
    # the backslash of \\url itself comes escaped for Markdown (two of them)
    return re.sub(r"\\?\\url\s+((?:\\.|[^\s,;\\])+)", link, text)


# ----------------------------------------------------------- markdown -> md
@dataclass
class Context:
    """Where the converter is: for error messages and citations."""
    book: Book
    doc: str
    cell: int = 0
    cited: list[str] = field(default_factory=list)

    def where(self) -> str:
        return f"{self.doc}, cell {self.cell}"


def _role(ctx: Context, m: re.Match) -> str:
    role, text = m.group("role"), m.group("text")
    book = ctx.book
    if role not in ROLES:
        raise EditionError(f"{ctx.where()}: the role {{{role}}} is not supported "
                           f"by tools/editions.py; add its rendering there")
    if role == "math":
        return f"${text}$"
    explicit = re.match(r"^(?P<text>.*?)\s*<(?P<target>[^<>]+)>$", text, re.S)
    label = explicit.group("target") if explicit else text
    shown = explicit.group("text") if explicit else None
    if role.startswith("cite"):
        keys = [k.strip() for k in label.split(",")]
        parts = []
        for key in keys:
            if key not in book.bib:
                raise EditionError(f"{ctx.where()}: {{cite}} of {key!r}, which is "
                                   f"not in the bibliography")
            if key not in ctx.cited:
                ctx.cited.append(key)
            who, year = book.bib[key][0].rsplit(", ", 1)
            parts.append((who, year))
        if role in ("cite:t", "cite:ts"):
            return ", ".join(f"{w} [{y}]" for w, y in parts)
        return "[" + ", ".join(f"{w}, {y}" for w, y in parts) + "]"
    if role == "doc":
        target = label.lstrip("/") if label.startswith("/") else str(
            (Path(ctx.doc).parent / label))
        target = str(Path(target).with_suffix("")) if target.endswith(
            (".md", ".ipynb")) else target
        if target not in book.titles:
            raise EditionError(f"{ctx.where()}: {{doc}} of {label!r}: no such "
                               f"page in _toc.yml")
        return f"[{shown or book.titles[target]}]({book.url(target)})"
    if role == "term":
        key = label.lower()
        if key not in book.glossary:
            raise EditionError(f"{ctx.where()}: {{term}} {label!r} is not in the "
                               f"glossary of {book.glossary_doc or 'the book'}")
        term = book.glossary[key]
        return (f"[{shown or text}]"
                f"({book.url(book.glossary_doc, 'term-' + sphinx_id(term))})")
    if label not in book.targets:
        raise EditionError(f"{ctx.where()}: {{{role}}} of the unknown label "
                           f"{label!r}")
    t = book.targets[label]
    anchor = f"equation-{label}" if t.kind == "equation" else label
    if shown:
        link = shown.replace("%s", t.number or "").replace(
            "{number}", t.number or "").replace("{name}", t.title)
    elif role == "ref" and t.kind in ("section", "figure"):
        link = t.title
    else:
        link = t.name
    return f"[{link}]({book.url(t.doc, anchor)})"


def convert_inline(text: str, ctx: Context) -> str:
    """Replace every MyST role in ``text`` by Markdown.

    A role written inside an inline code span (to show the syntax) would be
    converted too; the chapters do not do that.
    """
    out = []
    pos = 0
    for m in ROLE.finditer(text):
        out.append(text[pos:m.start()])
        out.append(_role(ctx, m))
        pos = m.end()
    out.append(text[pos:])
    return "".join(out)


def _quote(text: str) -> str:
    """Prefix every line with ``> ``; display math is joined onto one line so
    that the quote marks never end up inside the TeX."""
    lines = _join_display_math(text).splitlines()
    return "\n".join(f"> {line}" if line.strip() else ">" for line in lines)


def _join_display_math(text: str) -> str:
    out, buf = [], None
    for line in text.splitlines():
        if buf is None:
            if line.strip().startswith("$$") and line.strip().count("$$") == 1:
                buf = [line.strip()]
            else:
                out.append(line)
        else:
            buf.append(line.strip())
            if "$$" in line:
                out.append(" ".join(buf))
                buf = None
    if buf is not None:
        out.append(" ".join(buf))
    return "\n".join(out)


def _parse_options(lines: list[str]) -> tuple[dict, list[str]]:
    opts = {}
    while lines and re.match(r"^:[a-z-]+:", lines[0]):
        key, _, value = lines.pop(0)[1:].partition(":")
        opts[key] = value.strip()
    return opts, lines


def convert_markdown(text: str, ctx: Context) -> str:
    """Convert one markdown cell (or directive body) to plain Markdown.

    Directives are rendered as described in the module docstring; roles become
    links to the online book (``{cite}`` an author–year label); a labelled
    display equation ``$$ ... $$ (label)`` gets ``\\tag{4.1}``.

    Raises
    ------
    EditionError
        For a directive or role outside :data:`DIRECTIVES` / :data:`ROLES`, an
        unknown label, a citation missing from the bibliography.
    """
    lines = text.splitlines()
    out: list[str] = []
    i = 0
    while i < len(lines):
        line = lines[i]
        m = FENCE.match(line)
        t = TARGET.match(line)
        if t:
            out.append(f'<a id="{t.group("label")}"></a>')
            i += 1
            continue
        if not m:
            eq = EQ_LABEL.search(line)
            if eq and eq.group("label") in ctx.book.targets:
                num = ctx.book.targets[eq.group("label")].number
                line = line[:eq.start()] + f"\\tag{{{num}}} $$"
            out.append(convert_inline(line, ctx))
            i += 1
            continue
        fence, name = m.group("fence"), m.group("name")
        j = i + 1
        while j < len(lines) and not re.match(
                rf"^ {{0,3}}{re.escape(fence[0])}{{{len(fence)},}}\s*$", lines[j]):
            j += 1
        body = lines[i + 1:j]
        i = j + 1
        if not name:  # a literal code block: kept verbatim
            out.extend([line, *body, fence])
            continue
        if name not in DIRECTIVES:
            raise EditionError(f"{ctx.where()}: the directive {{{name}}} is not "
                               f"supported by tools/editions.py; add its "
                               f"rendering there")
        opts, body = _parse_options(list(body))
        out.append(_directive(name, m.group("arg").strip(), opts,
                              "\n".join(body), ctx))
    return "\n".join(out)


def _directive(name: str, arg: str, opts: dict, body: str, ctx: Context) -> str:
    inner = convert_markdown(body, ctx).strip("\n")
    anchor = f'<a id="{opts["label"]}"></a> ' if "label" in opts else ""
    title = convert_inline(arg, ctx)
    if name == "math":
        tag = ""
        if "label" in opts and opts["label"] in ctx.book.targets:
            tag = f" \\tag{{{ctx.book.targets[opts['label']].number}}}"
        return f"$$ {' '.join(body.split())}{tag} $$"
    if name.startswith("prf:") or name == "exercise":
        kind = name[4:] if name.startswith("prf:") else name
        if kind == "proof":
            return _quote(f"**Proof.** {inner} $\\blacksquare$")
        number = None
        if "label" in opts and opts["label"] in ctx.book.targets:
            number = ctx.book.targets[opts["label"]].number
        head = kind.capitalize() + (f" {number}" if number else "")
        head += f" ({title})" if title else ""
        return _quote(f"{anchor}**{head}.**\n\n{inner}")
    if name in ("solution", "solution-start", "solution-end"):
        raise AssertionError("solutions are handled by convert_notebook")
    # admonitions
    classes = opts.get("class", "").split()
    head = title if name == "admonition" else name.capitalize()
    if name == "dropdown" or "dropdown" in classes:
        return (f"<details><summary>{head}</summary>\n\n"
                f"{_join_display_math(inner)}\n\n</details>")
    return _quote(f"**{head}**\n\n{inner}")


# ------------------------------------------------------------- solutions
SOLUTION_START = re.compile(r"^(`{3,}|:{3,})\{solution-start\}\s*(\S+)[^\n]*\n"
                            r"(?::[a-z-]+:[^\n]*\n)*\1[ \t]*$", re.M)
SOLUTION_END = re.compile(r"^(`{3,}|:{3,})\{solution-end\}[^\n]*\n\1[ \t]*$", re.M)
SOLUTION = re.compile(r"^(`{3,}|:{3,})\{solution\}\s*(\S+)[^\n]*\n"
                      r"(?P<body>.*?)^\1[ \t]*$", re.M | re.S)


@dataclass
class Segment:
    """A piece of a notebook: ``kind`` is "text" or "solution"."""
    kind: str
    cells: list
    label: str = ""


def split_solutions(nb) -> list[Segment]:
    """Split a notebook into text and gated-solution segments.

    A markdown cell holding ``solution-start`` (or ``solution-end``) is cut at the
    directive, so that the text before and after it stays where it is.
    """
    segs: list[Segment] = [Segment("text", [])]
    for cell in nb.cells:
        if cell.cell_type != "markdown":
            segs[-1].cells.append(cell)
            continue
        src = cell.source
        while True:
            inside = segs[-1].kind == "solution"
            m = (SOLUTION_END if inside else SOLUTION_START).search(src)
            if not m:
                break
            before, src = src[:m.start()], src[m.end():]
            if before.strip():
                segs[-1].cells.append(_md(before, cell))
            segs.append(Segment("text", []) if inside else
                        Segment("solution", [], m.group(2)))
        if src.strip():
            segs[-1].cells.append(_md(src, cell))
    if segs[-1].kind == "solution":
        raise EditionError(f"solution-start {segs[-1].label} has no solution-end")
    return segs


def _md(source: str, like) -> nbformat.NotebookNode:
    cell = nbformat.v4.new_markdown_cell(source.strip("\n"))
    cell.metadata = copy.deepcopy(like.metadata)
    return cell


def _install_cell(book: Book) -> nbformat.NotebookNode:
    url = book.repository.rstrip("/")
    src = ("# Colab only: install the book's library (does nothing anywhere "
           "else).\n"
           "import subprocess\nimport sys\n\n"
           f'REPO = "git+{url}@{book.branch}"\n'
           'if "google.colab" in sys.modules:\n'
           '    subprocess.run([sys.executable, "-m", "pip", "install", "-q",'
           ' REPO],\n                   check=True)')
    return nbformat.v4.new_code_cell(src, metadata={"tags": ["colab-install"]})


def _is_install_cell(cell) -> bool:
    return cell.cell_type == "code" and "google.colab" in cell.source


def _clean_outputs(cell) -> None:
    outputs = []
    for out in cell.get("outputs", []):
        data = out.get("data", {})
        if WIDGET in data:
            if "image/png" in data:
                out = copy.deepcopy(out)
                del out["data"][WIDGET]
                out["data"].pop("text/plain", None)
            else:
                out = nbformat.v4.new_output(
                    "display_data", data={"text/markdown": EXPLORER_NOTE,
                                          "text/plain": EXPLORER_NOTE})
        outputs.append(out)
    if "outputs" in cell:
        cell.outputs = outputs


def _exercise_number(book: Book, label: str) -> str:
    t = book.targets.get(label)
    return t.number if t and t.number else label


@dataclass
class Edition:
    """The two editions of one chapter, and what the tests need to check them."""
    jupyter: nbformat.NotebookNode
    student: nbformat.NotebookNode
    #: student cell index -> the solution code it stands for
    solutions: dict[int, str]
    #: (student cell indices, the solution cell they come from, whose stored
    #: outputs they print together once the solutions are put back)
    checks: list[tuple[list[int], nbformat.NotebookNode]]


def convert_notebook(book: Book, doc: str) -> Edition:
    """Both editions of the chapter ``doc`` (e.g. ``"book/04_hardwiring"``).

    Parameters
    ----------
    book : Book
        From :func:`load_book`.
    doc : str
        A notebook chapter of ``book.chapters``.

    Returns
    -------
    Edition
    """
    if doc not in book.chapters:
        raise ValueError(f"doc={doc!r} is not a notebook chapter of _toc.yml; "
                         f"choose one of {book.chapters}")
    nb = nbformat.read(book.root / f"{doc}.ipynb", as_version=4)
    ctx = Context(book, doc)
    jup, stu = [], []
    solutions, checks = {}, []
    installed = False
    for seg in split_solutions(nb):
        if seg.kind == "text":
            for cell in seg.cells:
                ctx.cell = nb.cells.index(cell) if cell in nb.cells else ctx.cell
                if _is_install_cell(cell):
                    if not installed:
                        jup.append(_install_cell(book))
                        stu.append(_install_cell(book))
                        installed = True
                    continue
                if cell.cell_type == "code" and not installed:
                    jup.append(_install_cell(book))
                    stu.append(_install_cell(book))
                    installed = True
                new = _convert_cell(cell, ctx)
                jup.extend(new)
                stu.extend(copy.deepcopy(new))
            continue
        number = _exercise_number(book, seg.label)
        where = f"Exercise {number}"
        for k, cell in enumerate(seg.cells):
            if cell.cell_type == "markdown":
                body = convert_markdown(cell.source, ctx)
                first = k == 0
                summary = f"Solution to {where}" + ("" if first else " (continued)")
                n_code = sum(c.cell_type == "code" for c in seg.cells[k + 1:])
                note = (f"\n\n*The solution's code is in the next code cell"
                        f"{'s' if n_code > 1 else ''} (collapsed: click to "
                        f"expand).*" if first and n_code else "")
                md = nbformat.v4.new_markdown_cell(
                    f"<details><summary>{summary}</summary>\n\n"
                    f"{_join_display_math(body)}{note}\n\n</details>")
                jup.append(md)
                continue
            sol = copy.deepcopy(cell)
            # its output is part of the solution too (a printed check can give
            # the answer away): both fold in JupyterLab, "•••" to click
            sol.metadata.setdefault("jupyter", {}).update(
                source_hidden=True, outputs_hidden=True)
            # a folded cell shows its first line: let that be a title, not code
            sol.source = f"# Solution to {where}\n{sol.source}"
            tags = sol.metadata.setdefault("tags", [])
            if "solution" not in tags:
                tags.append("solution")
            _clean_outputs(sol)
            jup.append(sol)
            ctx.cell = nb.cells.index(cell)
            caption = _caption(cell, ctx)
            if caption:  # a figure of the solution: its caption folds too
                jup.append(nbformat.v4.new_markdown_cell(
                    f"<details><summary>Solution to {where} (continued)"
                    f"</summary>\n\n{caption}\n\n</details>"))
            indices = []
            for new, code in student_cells(cell, where):
                if code is not None:
                    solutions[len(stu)] = code
                indices.append(len(stu))
                stu.append(new)
            checks.append((indices, cell))
        if not any(c.cell_type == "code" for c in seg.cells):
            stu.append(nbformat.v4.new_markdown_cell(
                f"*{where}: write your answer here.*"))
    refs = _references(book, ctx.cited)
    if refs:
        jup.append(refs)
        stu.append(copy.deepcopy(refs))
    out = []
    for cells in (jup, stu):
        new = nbformat.v4.new_notebook(cells=cells)
        new.metadata = copy.deepcopy(nb.metadata)
        new.metadata.pop("widgets", None)
        for k, c in enumerate(new.cells):  # deterministic ids
            c["id"] = f"cell-{k}"
        out.append(new)
    for c in out[1].cells:
        if c.cell_type == "code" and ("exercise-check" in c.metadata.get("tags", [])
                                      or "exercise-stub" in c.metadata.get(
                                          "tags", [])):
            c.outputs, c.execution_count = [], None
    return Edition(out[0], out[1], solutions, checks)


def _convert_cell(cell, ctx: Context) -> list:
    cell = copy.deepcopy(cell)
    if cell.cell_type == "markdown":
        cell.source = convert_markdown(cell.source, ctx)
        return [cell]
    if cell.cell_type != "code":
        return [cell]
    _clean_outputs(cell)
    tags = cell.metadata.get("tags", [])
    if "hide-input" in tags:
        cell.metadata.setdefault("jupyter", {})["source_hidden"] = True
    cells = [cell]
    caption = _caption(cell, ctx)
    if caption:
        cells.append(nbformat.v4.new_markdown_cell(caption))
    return cells


def _caption(cell, ctx: Context) -> str:
    """The Markdown caption "*Fig. 4.1: ...*" of a code cell's figure, with the
    book's number (``ctx.cell`` is the cell's index in the chapter), or ""."""
    fig = cell.metadata.get("mystnb", {}).get("figure", {})
    if not fig.get("caption"):
        return ""
    name = fig.get("name")
    t = ctx.book.targets.get(name) if name else None
    num = t.number if t else ctx.book.figure_numbers.get((ctx.doc, ctx.cell))
    head = f"Fig. {num}" if num else "Figure"
    anchor = f'<a id="{name}"></a>' if name else ""
    return f"{anchor}*{head}: {convert_inline(fig['caption'], ctx)}*"


def _references(book: Book, keys: list[str]):
    if not keys:
        return None
    items = sorted((book.bib[k][0], book.bib[k][1]) for k in keys)
    lines = [f"- **[{label}]** {' '.join(text.split())}"
             for label, text in items]
    return nbformat.v4.new_markdown_cell("## References\n\n" + "\n".join(lines))


# ------------------------------------------------------------ student stubs
def _is_print(stmt: ast.stmt) -> bool:
    return (isinstance(stmt, ast.Expr) and isinstance(stmt.value, ast.Call)
            and isinstance(stmt.value.func, ast.Name)
            and stmt.value.func.id == "print")


def _targets(stmt: ast.stmt) -> list[str]:
    """Names a statement assigns."""
    names = []
    for node in ast.walk(stmt):
        if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store):
            names.append(node.id)
    return names


def _root(node: ast.AST) -> str | None:
    while isinstance(node, (ast.Attribute, ast.Subscript, ast.Call)):
        node = node.func if isinstance(node, ast.Call) else node.value
    return node.id if isinstance(node, ast.Name) else None


def _modified(stmt: ast.stmt) -> set[str]:
    """Names a statement may change: assigned, assigned into (``W[0] += 1``,
    ``a.b = c``), or handed to a call whose result is dropped (``x.fill_(0)``,
    ``f(x)``)."""
    names = set(_targets(stmt))
    for node in ast.walk(stmt):
        if isinstance(node, (ast.Assign, ast.AugAssign, ast.AnnAssign)):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            names |= {_root(t) for t in targets} - {None}
        if isinstance(node, ast.Expr) and isinstance(node.value, ast.Call):
            call = node.value
            names |= {_root(x) for x in [call.func, *call.args,
                                          *(k.value for k in call.keywords)]}
    return names - {None}


def _stub(stmts, text, lines, where) -> str:
    keep, names, defs = [], [], []
    for s in stmts:
        if isinstance(s, (ast.Import, ast.ImportFrom)):
            keep.append(text(s))
        elif isinstance(s, (ast.FunctionDef, ast.AsyncFunctionDef)):
            defs.append(_stub_function(s, lines, where))
        else:
            for n in _targets(s):
                if n not in names:
                    names.append(n)
    src = [f"# {where}: your code. The next cell checks it."]
    src += keep + defs
    if names or not defs:
        what = ", ".join(names) if names else "this step"
        message = textwrap.wrap(f"{where}: compute {what}; then delete this "
                                f"line", 70, drop_whitespace=False)
        src.append("raise NotImplementedError(\n" + "\n".join(
            f'    "{part}"' for part in message) + ")")
        src += [f"{n} = ..." for n in names]
    return "\n".join(src)


def student_cells(cell, where: str) -> list[tuple]:
    """Split a solution code cell into student stubs and check cells.

    The top-level ``print(...)`` statements are the checks. When no name they
    read is changed by a later statement, they are moved after the rest: one
    stub, then one check cell. Otherwise the cell is cut where it alternates
    between code and prints, so the order of execution stays that of the
    original cell. A cell tagged ``exercise-check`` is kept whole; one tagged
    ``exercise-solution`` is stubbed whole.

    Parameters
    ----------
    cell : NotebookNode
        A code cell of a gated solution.
    where : str
        "Exercise 4.1", used in the stub's message.

    Returns
    -------
    list of (NotebookNode, str or None)
        The student cells in order; for a stub, the solution code it stands for
        (what the student has to write), for a check cell None.
    """
    tags = cell.metadata.get("tags", [])
    meta = {k: v for k, v in cell.metadata.items() if k not in ("execution",)}
    if "exercise-check" in tags:
        return [(_code(cell.source, meta, "exercise-check"), None)]
    body = ast.parse(cell.source).body
    lines = cell.source.splitlines()

    def text(stmt):
        start = (stmt.decorator_list[0].lineno if getattr(
            stmt, "decorator_list", None) else stmt.lineno)
        return "\n".join(lines[start - 1:stmt.end_lineno])

    is_check = [_is_print(s) and "exercise-solution" not in tags for s in body]
    later: set[str] = set()
    safe = True
    for s, check in zip(reversed(body), reversed(is_check)):
        if check:
            loads = {n.id for n in ast.walk(s) if isinstance(n, ast.Name)}
            safe = safe and not (loads & later)
        else:
            later |= _modified(s)
    if safe:
        groups = [(False, [s for s, c in zip(body, is_check) if not c]),
                  (True, [s for s, c in zip(body, is_check) if c])]
    else:
        groups = []
        for s, c in zip(body, is_check):
            if groups and groups[-1][0] == c:
                groups[-1][1].append(s)
            else:
                groups.append((c, [s]))
    out = []
    for check, stmts in groups:
        if not stmts:
            continue
        src = "\n".join(text(s) for s in stmts)
        if check:
            out.append((_code(src, meta, "exercise-check"), None))
        else:
            out.append((_code(_stub(stmts, text, lines, where), meta,
                              "exercise-stub"), src))
    return out


def _stub_function(fn, lines, where) -> str:
    start = fn.decorator_list[0].lineno if fn.decorator_list else fn.lineno
    first = fn.body[0]
    head_end = first.lineno - 1
    has_doc = (isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant)
               and isinstance(first.value.value, str))
    keep = lines[start - 1:(first.end_lineno if has_doc else head_end)]
    indent = " " * (first.col_offset)
    keep.append(f'{indent}raise NotImplementedError("{where}: write '
                f'{fn.name}")')
    return "\n".join(keep)


def _code(source: str, meta: dict, tag: str):
    cell = nbformat.v4.new_code_cell(source)
    cell.metadata = copy.deepcopy(meta)
    cell.metadata.pop("jupyter", None)
    tags = [t for t in cell.metadata.get("tags", [])
            if t != "solution" and (tag != "exercise-stub"
                                    or t != "nbval-check-output")]
    cell.metadata["tags"] = [*tags, tag] if tag not in tags else tags
    return cell


# -------------------------------------------------------------------- main
#: What the editions branch carries beside the notebooks, so that Binder builds the
#: book's environment (``binder/`` reads ``requirements.txt``, whose ``-e .``
#: installs the library) and ``pip install git+URL@BRANCH`` works on Colab.
BRANCH_FILES = ("pyproject.toml", "requirements.txt", "LICENSE", "LICENSE-TEXT",
                "CITATION.cff")
BRANCH_DIRS = ("invariance_lib", "binder")

BRANCH_README = """# {title}: the Jupyter edition (generated branch)

This branch is written by `.github/workflows/publish.yml` from `{source}` with
`python tools/editions.py --out DIR --branch-tree TREE`; do not edit it, edit the
chapters on `{source}` instead: {repository}/tree/{source}

`book/*.ipynb` are the chapters as plain notebooks (theorems as numbered blocks,
solutions folded, references as links to the online book {baseurl}), which
JupyterLab, Binder and Colab render without extensions. The launch buttons of the
online book open them here. `binder/` and `requirements.txt` are the book's
environment; `invariance_lib/` is the book's library (`pip install .`).
"""


def _check_out_dir(out: Path, root: Path, option: str) -> Path:
    if not isinstance(out, Path):
        raise TypeError(f"{option.strip('-')} must be a pathlib.Path, got "
                        f"{type(out).__name__}")
    out = out.resolve()
    if out.exists() and not out.is_dir():
        raise ValueError(f"{option} {out} is a file; give a directory (it is "
                         f"created if it does not exist)")
    if (root / "book").resolve() in (out, *out.parents):
        raise ValueError(f"{option} {out} is inside book/: the book would build the "
                         f"editions as pages; choose a directory outside book/")
    return out


def write_branch_tree(tree: Path, book: Book,
                      jupyter: dict[str, nbformat.NotebookNode]) -> list[Path]:
    """Write the tree of the editions branch (``launch_buttons.branch``).

    The Jupyter edition at the chapters' own paths (``book/XX.ipynb``, the paths the
    launch buttons open), the library, Binder's environment, the licences and a
    README saying the branch is generated.

    Parameters
    ----------
    tree : Path
        Empty or missing directory outside ``book/``.
    book : Book
        From :func:`load_book`.
    jupyter : dict
        The Jupyter edition, chapter doc (``"book/04_hardwiring"``) -> notebook.

    Returns
    -------
    list of Path
        The files written.
    """
    tree = _check_out_dir(tree, book.root, "--branch-tree")
    if tree.exists() and any(tree.iterdir()):
        raise ValueError(f"--branch-tree {tree} is not empty: the branch is written "
                         f"whole, so a stale file would be pushed; give a new or "
                         f"empty directory")
    written = []
    for doc, nb in jupyter.items():
        path = tree / f"{doc}.ipynb"
        path.parent.mkdir(parents=True, exist_ok=True)
        nbformat.write(nb, path)
        written.append(path)
    for name in BRANCH_FILES:
        shutil.copy2(book.root / name, tree / name)
        written.append(tree / name)
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc", "*.egg-info")
    for name in BRANCH_DIRS:
        shutil.copytree(book.root / name, tree / name, ignore=ignore)
        written += sorted(p for p in (tree / name).rglob("*") if p.is_file())
    config = yaml.safe_load((book.root / "_config.yml").read_text(encoding="utf-8"))
    source = (config.get("repository") or {}).get("branch", "main")
    (tree / "README.md").write_text(BRANCH_README.format(
        title=config.get("title", "The book"), source=source,
        repository=book.repository.rstrip("/"), baseurl=book.baseurl),
        encoding="utf-8")
    written.append(tree / "README.md")
    return written


def write_editions(out: Path, root: Path = ROOT,
                   branch_tree: Path | None = None) -> list[Path]:
    """Write ``out/jupyter/*.ipynb`` and ``out/student/*.ipynb``.

    Parameters
    ----------
    out : Path
        Output directory; created if missing. It must not be inside ``book/``
        (the book would then build the editions too).
    root : Path
        Repository root.
    branch_tree : Path, optional
        Also write there the tree of the editions branch (:func:`write_branch_tree`),
        which ``.github/workflows/publish.yml`` pushes to ``launch_buttons.branch``.

    Returns
    -------
    list of Path
        The files written.
    """
    out = _check_out_dir(out, root, "--out")
    book = load_book(root)
    written = []
    jupyter = {}
    for doc in book.chapters:
        ed = convert_notebook(book, doc)
        jupyter[doc] = ed.jupyter
        for name, nb in (("jupyter", ed.jupyter), ("student", ed.student)):
            path = out / name / f"{Path(doc).name}.ipynb"
            path.parent.mkdir(parents=True, exist_ok=True)
            nbformat.write(nb, path)
            written.append(path)
    if branch_tree is not None:
        written += write_branch_tree(branch_tree, book, jupyter)
    return written


def main(argv: list[str] | None = None) -> int:
    """Command line: ``python tools/editions.py --out DIR [--branch-tree TREE]``."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--out", required=True, type=Path,
                        help="directory for jupyter/ and student/")
    parser.add_argument("--branch-tree", type=Path, default=None,
                        help="also write the editions branch's tree here (a new or "
                             "empty directory): the Jupyter edition at book/XX.ipynb, "
                             "the library, binder/ and requirements.txt")
    args = parser.parse_args(argv)
    try:
        written = write_editions(args.out, branch_tree=args.branch_tree)
    except (ValueError, FileNotFoundError) as err:
        parser.error(str(err))
    notebooks = [p for p in written if args.out.resolve() in p.parents]
    print(f"wrote {len(notebooks)} notebooks to {args.out.resolve()}")
    if args.branch_tree is not None:
        print(f"wrote {len(written) - len(notebooks)} files (the editions branch) "
              f"to {args.branch_tree.resolve()}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Point every copy of the repository URL (and the book's URL) at a new repository.

The URL lives in ``_config.yml`` (``repository.url``); the book's address is its GitHub
Pages site (``html.baseurl``). Copies that cannot read the configuration repeat them:
``CITATION.cff``, the links in the README, CHANGELOG and CONTRIBUTING (Binder and
Colab links too), and the Colab install cell of every notebook (``REPO = "..."``).
``tests/test_repository_metadata.py`` checks that they agree. A fork changes them
once, either way:

    python tools/set_repository.py https://github.com/OWNER/NAME
    # or: edit repository.url in _config.yml, then
    python tools/set_repository.py

The old URL is read from ``CITATION.cff`` (``repository-code``), so the second form
works after ``_config.yml`` was edited. Files, notebooks included, are edited as
text, so comments, layout and outputs are kept.

The Binder and Colab buttons open the Jupyter edition on the branch named once, in
``_config.yml`` (``launch_buttons.branch``); ``.github/workflows/publish.yml`` pushes
it there from main, and the editions' install cell installs the library from it.
``--launch-branch NAME`` renames it (the fork's first push to main creates it)::

    python tools/set_repository.py https://github.com/OWNER/NAME --launch-branch editions
"""
from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path
from urllib.parse import urlparse

import yaml

ROOT = Path(__file__).resolve().parents[1]
_GITHUB = re.compile(r"^https://github\.com/([\w.-]+)/([\w.-]+)$")


def pages_url(repo_url: str) -> str:
    """GitHub Pages address of a repository: ``https://owner.github.io/name/``."""
    owner, name = urlparse(repo_url).path.strip("/").split("/")
    return f"https://{owner.lower()}.github.io/{name}/"


def files(root: Path) -> list[Path]:
    """Every file that may hold a copy of the URLs."""
    fixed = ["_config.yml", "CITATION.cff", "README.md", "CHANGELOG.md", "CONTRIBUTING.md",
             "pyproject.toml"]
    out = [root / f for f in fixed if (root / f).exists()]
    out += sorted((root / "book").glob("*.ipynb")) + sorted((root / "book").glob("*.md"))
    return out


def set_repository(root: Path, new: str | None = None) -> list[Path]:
    """Replace the old repository and book URLs by ``new``'s; return the changed files."""
    config = yaml.safe_load((root / "_config.yml").read_text(encoding="utf-8"))
    new = (new or config["repository"]["url"]).rstrip("/")
    if not _GITHUB.match(new):
        raise ValueError(f"URL: {new!r} is not of the form https://github.com/OWNER/NAME; "
                         "give the repository's address on GitHub")
    citation = yaml.safe_load((root / "CITATION.cff").read_text(encoding="utf-8"))
    old = str(citation["repository-code"]).rstrip("/")
    old_path, new_path = urlparse(old).path.strip("/"), urlparse(new).path.strip("/")
    mapping = {old: new, pages_url(old).rstrip("/"): pages_url(new).rstrip("/"),
               # launch links: Binder and Colab name the repository as OWNER/NAME
               f"mybinder.org/v2/gh/{old_path}/": f"mybinder.org/v2/gh/{new_path}/",
               f"colab.research.google.com/github/{old_path}/":
                   f"colab.research.google.com/github/{new_path}/"}
    # one pass, longest first: a new URL that contains the old one is not replaced again
    pattern = re.compile("|".join(re.escape(k) for k in sorted(mapping, key=len,
                                                                reverse=True)))
    changed = []
    for path in files(root):
        text = path.read_text(encoding="utf-8")
        updated = pattern.sub(lambda m: mapping[m.group(0)], text)
        if updated != text:
            path.write_text(updated, encoding="utf-8")
            changed.append(path)
    return changed


_LAUNCH_BRANCH = re.compile(r"^(launch_buttons:\n(?:[ \t]+.*\n|\n)*?[ \t]+branch:[ \t]*)"
                            r"([^\s#]+)", re.MULTILINE)
_BRANCH_NAME = re.compile(r"^(?!-)(?!.*\.\.)[A-Za-z0-9._/-]+$")


def set_launch_branch(root: Path, branch: str) -> bool:
    """Set ``launch_buttons.branch`` in ``_config.yml``; return whether it changed.

    Parameters
    ----------
    root : Path
        Repository root.
    branch : str
        The branch the launch buttons open (``book/_ext/launch_branch.py``); it must
        differ from ``repository.branch``, whose chapters are MyST sources.

    Raises
    ------
    ValueError
        If ``branch`` is not a branch name, equals ``repository.branch``, or
        ``_config.yml`` has no ``launch_buttons.branch`` line to edit.
    """
    if not isinstance(branch, str):
        raise TypeError(f"branch must be a str, got {type(branch).__name__}")
    if not _BRANCH_NAME.match(branch):
        raise ValueError(f"--launch-branch {branch!r} is not a branch name; use letters, "
                         "digits, '.', '_', '-' or '/'")
    path = root / "_config.yml"
    text = path.read_text(encoding="utf-8")
    source = (yaml.safe_load(text).get("repository") or {}).get("branch", "main")
    if branch == source:
        raise ValueError(f"--launch-branch {branch!r} is repository.branch, where the MyST "
                         "sources live; publish.yml force-pushes the generated edition "
                         "to the launch branch, so choose another name")
    if not _LAUNCH_BRANCH.search(text):
        raise ValueError("_config.yml has no 'branch:' line under launch_buttons; add "
                         "'  branch: editions' there and run this again")
    updated = _LAUNCH_BRANCH.sub(lambda m: m.group(1) + branch, text, count=1)
    if updated != text:
        path.write_text(updated, encoding="utf-8")
    return updated != text


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("url", nargs="?", help="https://github.com/OWNER/NAME "
                        "(default: _config.yml's repository.url)")
    parser.add_argument("--launch-branch", metavar="NAME", default=None,
                        help="the branch the Binder and Colab buttons open "
                             "(_config.yml's launch_buttons.branch)")
    parser.add_argument("--root", type=Path, default=ROOT, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    try:
        if args.launch_branch is not None and set_launch_branch(args.root,
                                                                 args.launch_branch):
            print(f"launch_buttons.branch set to {args.launch_branch} in _config.yml")
        changed = set_repository(args.root, args.url)
    except ValueError as err:
        parser.error(str(err))
    config = yaml.safe_load((args.root / "_config.yml").read_text(encoding="utf-8"))
    launch = (config.get("launch_buttons") or {}).get("branch")
    if launch:
        print(f"the launch buttons open branch {launch!r} of {config['repository']['url']}"
              " (publish.yml creates it on the next push to main)")
    for path in changed:
        print("updated", path.relative_to(args.root))
    print(f"{len(changed)} files updated")
    return 0


if __name__ == "__main__":
    sys.exit(main())

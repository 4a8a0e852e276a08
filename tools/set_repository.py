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


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("url", nargs="?", help="https://github.com/OWNER/NAME "
                        "(default: _config.yml's repository.url)")
    parser.add_argument("--root", type=Path, default=ROOT, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    try:
        changed = set_repository(args.root, args.url)
    except ValueError as err:
        parser.error(str(err))
    for path in changed:
        print("updated", path.relative_to(args.root))
    print(f"{len(changed)} files updated")
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""The launch buttons open the Jupyter edition's branch; the edit button opens main.

A one-page Sphinx build (a few seconds, no notebook executed) with the theme options
that Jupyter Book derives from the book's ``_config.yml`` and the extension
``book/_ext/launch_branch.py``; the Binder, Colab and edit links are read off the
written HTML and compared with URLs spelled out here from ``_config.yml``.
"""
import json
import re
import sys
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
CONFIG = yaml.safe_load((ROOT / "_config.yml").read_text(encoding="utf-8"))
REPO = CONFIG["repository"]["url"].rstrip("/")
OWNER_NAME = REPO.removeprefix("https://github.com/")
EDIT_BRANCH = CONFIG["repository"]["branch"]
LAUNCH_BRANCH = CONFIG["launch_buttons"]["branch"]

sys.path.insert(0, str(ROOT / "book" / "_ext"))
import launch_branch  # noqa: E402


def test_config_names_a_separate_launch_branch():
    assert LAUNCH_BRANCH != EDIT_BRANCH, (
        "_config.yml: launch_buttons.branch must differ from repository.branch (the "
        "Jupyter edition is generated; edits go to the MyST sources)")
    assert "launch_branch" in CONFIG["sphinx"]["local_extensions"]
    assert CONFIG["html"].get("use_edit_page_button") is True


@pytest.mark.parametrize("bad", [3, "two words", "-x", "a..b"])
def test_a_bad_branch_is_a_config_error(bad):
    from sphinx.errors import ConfigError
    with pytest.raises(ConfigError, match="launch_buttons.branch"):
        launch_branch.launch_branch({"launch_buttons": {"branch": bad}})


def test_no_branch_changes_nothing():
    assert launch_branch.launch_branch({"launch_buttons": {}}) is None
    assert launch_branch.launch_branch({}) is None


def _notebook(title):
    return {"cells": [{"cell_type": "markdown", "id": "a1", "metadata": {},
                       "source": f"# {title}"},
                      {"cell_type": "code", "id": "a2", "metadata": {},
                       "execution_count": None, "outputs": [], "source": "1 + 1"}],
            "metadata": {"kernelspec": {"name": "python3", "display_name": "Python 3",
                                        "language": "python"}},
            "nbformat": 4, "nbformat_minor": 5}


@pytest.fixture(scope="module")
def built_page(tmp_path_factory):
    from jupyter_book.config import get_final_config
    from sphinx.application import Sphinx

    src = tmp_path_factory.mktemp("src")
    out = tmp_path_factory.mktemp("out")
    (src / "book").mkdir()
    (src / "book" / "04_hardwiring.ipynb").write_text(json.dumps(_notebook("Chapter")))
    (src / "index.md").write_text("# Book\n\n```{toctree}\nbook/04_hardwiring\n```\n")
    final, _ = get_final_config(user_yaml=ROOT / "_config.yml", sourcedir=src,
                                cli_config={"latex_individualpages": False},
                                validate=True, raise_on_invalid=True,
                                use_external_toc=False)
    keep = ("html_theme", "html_theme_options", "html_context", "html_baseurl")
    overrides = {k: final[k] for k in keep if k in final}
    assert overrides["html_theme_options"]["launch_buttons"]["branch"] == LAUNCH_BRANCH
    overrides |= {"extensions": ["myst_nb", "launch_branch"],
                  "nb_execution_mode": "off", "master_doc": "index",
                  "exclude_patterns": ["_build"]}
    app = Sphinx(str(src), None, str(out), str(out / ".doctrees"), "html",
                 confoverrides=overrides, status=None, warning=None,
                 freshenv=True)
    app.build()
    return (out / "book" / "04_hardwiring.html").read_text(encoding="utf-8")


def test_launch_buttons_open_the_editions_branch_and_edit_opens_main(built_page):
    hrefs = re.findall(r'href="([^"]+)"', built_page)
    hrefs = [h.replace("&amp;", "&") for h in hrefs]
    binder = (f"https://mybinder.org/v2/gh/{OWNER_NAME}/{LAUNCH_BRANCH}"
              f"?urlpath=lab/tree/book/04_hardwiring.ipynb")
    colab = (f"https://colab.research.google.com/github/{OWNER_NAME}/blob/"
             f"{LAUNCH_BRANCH}/book/04_hardwiring.ipynb")
    edit = f"{REPO}/edit/{EDIT_BRANCH}/book/04_hardwiring.ipynb"
    for want, what in ((binder, "Binder"), (colab, "Colab"), (edit, "edit")):
        assert want in hrefs, (f"the {what} link of the page is not {want}; the "
                               f"page links to {[h for h in hrefs if 'http' in h]}")
    on_main = [h for h in hrefs if f"/{EDIT_BRANCH}/" in h or f"/{EDIT_BRANCH}?" in h]
    assert on_main == [edit], f"only the edit link points at {EDIT_BRANCH}: {on_main}"

"""Launch buttons open the Jupyter edition, on its own branch.

In Jupyter Book 1.x, sphinx-book-theme builds every repository link from one pair of
options, ``repository_url`` and ``repository_branch`` (``_config.yml``'s
``repository.url`` and ``repository.branch``): the edit and repository buttons, and
the Binder and Colab launch buttons. The chapters on ``main`` are MyST notebooks whose
theorems and exercises show as raw directives in Binder and Colab; the Jupyter edition
(``tools/editions.py``) renders there, and ``.github/workflows/publish.yml`` pushes it,
with the library and Binder's environment, at the same paths (``book/XX.ipynb``) to the
branch named by ``launch_buttons.branch`` in ``_config.yml``.

This Sphinx extension (registered in ``_config.yml``) points the launch buttons at that
branch and leaves the edit button on ``repository.branch``:

- the theme copies ``repository_branch`` into ``html_context`` (``github_version``,
  which the edit button reads) when the builder starts (``builder-inited``, default
  priority 500);
- afterwards (priority 900) this extension sets the theme option
  ``repository_branch``, which the launch buttons read when each page is written
  (``sphinx_book_theme.header_buttons.launch.add_launch_buttons``), to
  ``launch_buttons.branch``.

Without ``launch_buttons.branch`` nothing changes: the launch buttons open
``repository.branch``.
"""
from __future__ import annotations

import re

from sphinx.application import Sphinx
from sphinx.errors import ConfigError

#: A git branch name as this book accepts it (no spaces, no ``..``, no leading ``-``).
_BRANCH = re.compile(r"^(?!-)(?!.*\.\.)[A-Za-z0-9._/-]+$")


def launch_branch(theme_options: dict) -> str | None:
    """The branch the launch buttons open, from ``launch_buttons.branch``.

    Parameters
    ----------
    theme_options : dict
        Sphinx's ``html_theme_options`` (Jupyter Book copies ``_config.yml``'s
        ``launch_buttons`` into ``html_theme_options["launch_buttons"]``).

    Returns
    -------
    str or None
        The branch name, or None when ``launch_buttons.branch`` is not set.

    Raises
    ------
    ConfigError
        If the branch is not a string or not a valid branch name.
    """
    branch = (theme_options.get("launch_buttons") or {}).get("branch")
    if branch is None:
        return None
    if not isinstance(branch, str) or not _BRANCH.match(branch):
        raise ConfigError(f"_config.yml: launch_buttons.branch = {branch!r} is not a "
                          "branch name; give the branch that publish.yml pushes the "
                          "Jupyter edition to, e.g. 'editions'")
    return branch


def _point_launch_buttons_at_branch(app: Sphinx) -> None:
    options = app.config.html_theme_options
    branch = launch_branch(options)
    if branch is None:
        return
    edit_branch = options.get("repository_branch") or "main"
    context = app.config.html_context
    # The theme's handler ran first (priority 500): the edit button keeps this branch.
    context.setdefault("github_version", edit_branch)
    options["repository_branch"] = branch


def setup(app: Sphinx) -> dict:
    app.connect("builder-inited", _point_launch_buttons_at_branch, priority=900)
    return {"parallel_read_safe": True, "parallel_write_safe": True}

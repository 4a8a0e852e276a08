"""Explorers on the static page: their default figure, and no script from a CDN.

An explorer cell (``invariance_lib.figures.explorer.explore``) outputs a mime bundle
with the widget view (``application/vnd.jupyter.widget-view+json``), ``image/png`` of
the default figure and ``text/plain``. On a static page the widget cannot run (there
is no kernel), and myst-nb would load require.js and the ipywidgets bundle from
public CDNs to draw dead sliders. This Sphinx extension (registered in
``_config.yml``), for every builder:

- drops the widget view from a bundle that also has ``image/png``, so the page shows
  the default figure (with the cell's alt text);
- replaces a bundle that has the widget view and no image (an ``interact`` call) by a
  one-line note that the explorer runs in Jupyter, instead of the text
  ``interactive(children=...``;
- sets ``nb_ipywidgets_js`` to nothing and removes the embedded widget state, so no
  ipywidgets or require.js script is loaded.
"""
from __future__ import annotations

from docutils import nodes
from sphinx.application import Sphinx
from sphinx.transforms.post_transforms import SphinxPostTransform

WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"
IMAGES = ("image/png", "image/svg+xml", "image/jpeg", "image/gif")
NOTE = ("Interactive explorer: open this chapter in Jupyter, Binder or Colab "
        "to move its controls.")


def _mime_bundles(document):
    return [n for n in document.findall(nodes.container)
            if n.get("nb_element") == "mime_bundle"]


class StaticExplorers(SphinxPostTransform):
    """Runs before myst-nb's ``SelectMimeType`` (priority 4)."""

    default_priority = 3

    def run(self, **kwargs) -> None:
        for bundle in _mime_bundles(self.document):
            kinds = [child.get("mime_type") for child in bundle.children]
            if WIDGET_VIEW not in kinds:
                continue
            if any(k in IMAGES for k in kinds):
                for child in list(bundle.children):
                    if child.get("mime_type") == WIDGET_VIEW:
                        bundle.remove(child)
            else:
                note = nodes.paragraph(text=NOTE, classes=["static-explorer-note"])
                bundle.replace_self(note)


def _no_widget_scripts(app: Sphinx, doctree) -> None:
    metadata = getattr(app.env, "nb_metadata", {}).get(app.env.docname, {})
    js_files = metadata.get("js_files", {})
    for key in [k for k in js_files if k.startswith("ipywidgets")]:
        del js_files[key]


def _config_inited(app: Sphinx, config) -> None:
    config.nb_ipywidgets_js = {}


def setup(app: Sphinx) -> dict:
    app.connect("config-inited", _config_inited)
    app.connect("doctree-read", _no_widget_scripts)
    app.add_post_transform(StaticExplorers)
    return {"parallel_read_safe": True, "parallel_write_safe": True}

"""Author–year labels for the references page (Sphinx extension, loaded by _config.yml).

The text cites author–year (``bibtex_reference_style: author_year``); with pybtex's
``plain`` style the references page would number the entries [1], [2], ... instead.
This registers the formatting style ``plain_author_year``: pybtex's ``plain`` entries,
sorted by author and year, labelled "Duan and Montúfar, 2026", "Trager et al., 2020".
"""
from pybtex.plugin import register_plugin
from pybtex.richtext import Text
from pybtex.style.formatting.plain import Style as PlainStyle
from pybtex.style.labels import BaseLabelStyle


def _last_name(person) -> str:
    # "von Neumann": the particle belongs to the name in a label
    parts = [*person.rich_prelast_names, *person.rich_last_names]
    return " ".join(Text(part).render_as("text") for part in parts)


class AuthorYearLabelStyle(BaseLabelStyle):
    """``Last, year`` / ``Last and Last, year`` / ``Last et al., year``."""

    def format_labels(self, sorted_entries):
        for entry in sorted_entries:
            persons = entry.persons.get("author") or entry.persons.get("editor") or []
            names = [_last_name(p) for p in persons]
            if not names:
                who = entry.fields.get("key", entry.key)
            elif len(names) == 1:
                who = names[0]
            elif len(names) == 2:
                who = f"{names[0]} and {names[1]}"
            else:
                who = f"{names[0]} et al."
            yield f"{who}, {entry.fields.get('year', 'n.d.')}"


class PlainAuthorYearStyle(PlainStyle):
    default_label_style = AuthorYearLabelStyle
    default_sorting_style = "author_year_title"


register_plugin("pybtex.style.formatting", "plain_author_year", PlainAuthorYearStyle)


def setup(app):
    return {"parallel_read_safe": True, "parallel_write_safe": True}

"""Sphinx extension: the references page labels each work the way the text cites it.

The chapters cite author-year (``bibtex_reference_style: author_year``: "[Hu et al., 2025]"), so the
list of references labels each entry the same way ("[Hu et al., 2025] Jinbo Hu, Yin Cao, ...") and
sorts it by author and year, instead of numbering it [1]-[21]. It registers the pybtex style
``author_year`` (``bibtex_default_style`` in _config.yml): pybtex's plain formatting with the label
style ``author_year_labels`` below.
"""

from __future__ import annotations

from collections import Counter

from pybtex.plugin import register_plugin
from pybtex.style.formatting.plain import Style as PlainStyle
from pybtex.style.labels import BaseLabelStyle
from sphinx.application import Sphinx


def _surname(person) -> str:
    return " ".join(t.render_as("text") for t in person.rich_prelast_names + person.rich_last_names)


def author_year_label(entry) -> str:
    """"Hu et al., 2025", "Ganin and Lempitsky, 2015", "Cell778, 2025": as the author_year citations read."""
    persons = entry.persons.get("author") or entry.persons.get("editor") or []
    year = entry.fields.get("year", "n.d.")
    if not persons:
        return f"{entry.key}, {year}"
    if len(persons) == 1:
        names = _surname(persons[0])
    elif len(persons) == 2:
        names = f"{_surname(persons[0])} and {_surname(persons[1])}"
    else:
        names = f"{_surname(persons[0])} et al."
    return f"{names}, {year}"


class AuthorYearLabelStyle(BaseLabelStyle):
    """Author-year labels; two works with the same label get 2016a, 2016b in the order given."""

    def format_labels(self, sorted_entries):
        entries = list(sorted_entries)
        labels = [author_year_label(e) for e in entries]
        counts, seen = Counter(labels), Counter()
        for label in labels:
            if counts[label] > 1:
                seen[label] += 1
                label = f"{label}{chr(ord('a') + seen[label] - 1)}"
            yield label


class AuthorYearStyle(PlainStyle):
    default_label_style = "author_year_labels"
    default_sorting_style = "author_year_title"


register_plugin("pybtex.style.labels", "author_year_labels", AuthorYearLabelStyle)
register_plugin("pybtex.style.formatting", "author_year", AuthorYearStyle)


def setup(app: Sphinx) -> dict:
    return {"version": "1.0", "parallel_read_safe": True, "parallel_write_safe": True}

"""Sphinx extension: the book's page layout for reading, and one fix to the scripts every page loads.

* ``book/theme/reading.css`` (served as ``_static/reading.css``) gives the article one wide column: the
  page's own contents move from the right-hand sidebar into the left one (``html_sidebars`` and
  ``secondary_sidebar_items`` in _config.yml), code is set a little smaller and wraps at the column
  instead of running past it, outputs that are wide tables scroll inside their own box, prose lines
  keep a readable length, and the table in which ``sclap_nb.notebook.record`` shows a cell's numbers
  is compact. ``scripts/browser_check.py`` measures the result.
* Every script a page loads is loaded once. Sphinx registers an inline script added during the build
  (``app.add_js_file(None, body=...)``, as sphinx-thebe does with ``const THEBE_JS_URL``) under two
  names, ``None`` and ``''``, and writes it twice into each page, where the second ``const``
  declaration is a JavaScript error.
* ``book/theme/reading.js`` lets the vendored widget manager, written for MathJax 2, typeset through
  the MathJax 3 the book loads (it calls ``MathJax.Hub.Queue``, which MathJax 3 lacks, and throws).
"""

from __future__ import annotations

from pathlib import Path

from sphinx.application import Sphinx

THEME_DIR = Path(__file__).resolve().parents[1] / "theme"
CSS = "reading.css"
JS = "reading.js"


def _static_path(app: Sphinx, config) -> None:
    if str(THEME_DIR) not in config.html_static_path:
        config.html_static_path.append(str(THEME_DIR))


def _script_key(js) -> tuple:
    filename = getattr(js, "filename", js) or ""
    attributes = getattr(js, "attributes", {}) or {}
    return (str(filename), tuple(sorted((k, str(v)) for k, v in attributes.items())))


def unique_scripts(scripts) -> list:
    """``scripts`` in order, each (file name or inline body, and attributes) once."""
    seen, kept = set(), []
    for js in scripts:
        key = _script_key(js)
        if key not in seen:
            seen.add(key)
            kept.append(js)
    return kept


def _dedupe_scripts(app: Sphinx, pagename, templatename, context, doctree) -> None:
    if "script_files" in context:
        context["script_files"] = unique_scripts(context["script_files"])


def setup(app: Sphinx) -> dict:
    app.connect("config-inited", _static_path)
    app.add_css_file(CSS, priority=900)  # after the theme's own sheets
    app.add_js_file(JS, priority=900, defer="defer")  # after MathJax (deferred too), before the widgets render
    app.connect("html-page-context", _dedupe_scripts, priority=900)
    return {"version": "1.0", "parallel_read_safe": True, "parallel_write_safe": True}

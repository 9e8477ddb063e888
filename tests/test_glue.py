"""Every number glued into a chapter's prose exists in its executed notebook.

The prose of a chapter quotes numbers through myst-nb's glue roles ({glue:text}`name:.3f`,
{glue}`name`, {glue:md}`name`, {glue:figure}`name` or a cross-page `doc.ipynb::name`); the number
itself is an output of a cell (``sclap_nb.notebook.record`` or ``myst_nb.glue``). If a rerun drops or
renames it, the stored notebook no longer holds it and the book would print a stale or empty value:
this test fails first, naming the chapter and the key.
"""

from __future__ import annotations

import re
from pathlib import Path

import nbformat
import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
GLUE_ROLE = re.compile(r"\{glue(?::[a-z]*)?\}`([^`]+)`")


def glued_names(nb) -> set[str]:
    """Names of the glue outputs (myst-nb's ``scrapbook`` metadata) stored in a notebook."""
    names = set()
    for cell in nb.cells:
        for out in cell.get("outputs", []):
            book = out.get("metadata", {}).get("scrapbook")
            if book and "name" in book:
                names.add(book["name"])
    return names


def glue_references(text: str) -> list[tuple[str | None, str]]:
    """``(document or None, name)`` of every glue role in ``text``."""
    refs = []
    for target in GLUE_ROLE.findall(text):
        doc, _, name = target.rpartition("::")
        name = name.split(":", 1)[0].strip()  # drop a format spec such as ":.3f"
        refs.append((doc or None, name))
    return refs


def _chapter_text(ipynb: Path) -> str:
    """The markdown the book renders from ``ipynb``."""
    nb = nbformat.read(ipynb, as_version=4)
    return "\n".join(c.source for c in nb.cells if c.cell_type == "markdown")


def missing_glue(page: Path) -> list[str]:
    """Glue references of a book page (``.ipynb`` or ``.md``) whose key its target notebook lacks."""
    text = _chapter_text(page) if page.suffix == ".ipynb" else page.read_text(encoding="utf-8")
    missing = []
    for doc, name in glue_references(text):
        nb_path = page if doc is None else (page.parent / doc).with_suffix(".ipynb")
        if not nb_path.is_file():
            missing.append(f"{page.name}: glue {name!r} refers to {nb_path.name}, which does not exist")
        elif name not in glued_names(nbformat.read(nb_path, as_version=4)):
            missing.append(f"{page.name}: glue {name!r} is not among the outputs of {nb_path.name}")
    return missing


def book_pages() -> list[Path]:
    toc = yaml.safe_load((ROOT / "_toc.yml").read_text(encoding="utf-8"))
    pages = []
    for entry in [toc["root"]] + [c["file"] for c in toc.get("chapters", [])]:
        for suffix in (".ipynb", ".md"):
            if (ROOT / (entry + suffix)).is_file():
                pages.append(ROOT / (entry + suffix))
                break
    return pages


@pytest.mark.parametrize("page", book_pages(), ids=lambda p: p.stem)
def test_every_glued_number_is_in_the_executed_notebook(page):
    assert missing_glue(page) == []


def _notebook(glued: str) -> nbformat.NotebookNode:
    """A chapter whose prose quotes ``gap`` and whose one output glues ``glued``."""
    from sclap_nb.notebook import GLUE_PREFIX

    out = nbformat.v4.new_output(
        "display_data", data={GLUE_PREFIX + "text/plain": "0.5"}, metadata={"scrapbook": {"name": glued, "mime_prefix": GLUE_PREFIX}}
    )
    code = nbformat.v4.new_code_cell("glue('gap', 0.5)", outputs=[out])
    return nbformat.v4.new_notebook(cells=[nbformat.v4.new_markdown_cell("The gap is {glue:text}`gap:.2f`."), code])


def test_a_dropped_glue_output_is_found(tmp_path):
    """Prose that quotes a key the outputs no longer hold fails the check; the intact chapter passes."""
    nbformat.write(_notebook("gap"), tmp_path / "intact.ipynb")
    nbformat.write(_notebook("gap_renamed"), tmp_path / "planted.ipynb")
    assert missing_glue(tmp_path / "intact.ipynb") == []
    assert missing_glue(tmp_path / "planted.ipynb") == ["planted.ipynb: glue 'gap' is not among the outputs of planted.ipynb"]


def test_references_are_parsed():
    text = "R@1 {glue:text}`r1:.3f`, {glue}`le`, {glue:md}`other.ipynb::gap` and {glue:figure}`fig`"
    assert glue_references(text) == [(None, "r1"), (None, "le"), ("other.ipynb", "gap"), (None, "fig")]


@pytest.mark.parametrize("page", [p for p in book_pages() if p.suffix == ".ipynb"], ids=lambda p: p.stem)
def test_every_glued_number_can_be_formatted(page):
    """myst-nb formats {glue:text}`name:.3f` from the stored repr: it must be a plain number."""
    bad = []
    for cell in nbformat.read(page, as_version=4).cells:
        for out in cell.get("outputs", []):
            book = out.get("metadata", {}).get("scrapbook")
            if not book:
                continue
            text = "".join(v for k, v in out.get("data", {}).items() if k.endswith("text/plain"))
            if re.match(r"^\s*(np|numpy|torch)\.", text) or text.startswith("tensor("):
                bad.append(f"{book['name']} = {text}")
    assert bad == []



def test_a_glued_float_is_compared_within_its_relative_tolerance():
    """The notebook tests compare a float glued for the prose at a relative 1e-6: the last digits another
    CPU changes pass, a change the prose could show fails; a recorded number's glue twin counts once."""
    from sclap_nb.nbval_records import _records, compare_records
    from sclap_nb.notebook import GLUE_PREFIX, GLUE_RTOL, RECORD_KEY

    def glued(value, name="gap"):
        rec = {"name": name, "value": value, "tol": GLUE_RTOL * max(1.0, abs(value)), "glued": True}
        return {"metadata": {RECORD_KEY: rec, "scrapbook": {"name": name, "mime_prefix": GLUE_PREFIX}}}

    stored = _records([glued(0.025618821382522583)])
    assert compare_records(stored, _records([glued(0.025618823245167732)])) == []  # seen between two CPUs
    assert compare_records(stored, _records([glued(0.0257)]))  # a difference the prose could print
    twin = {"metadata": {RECORD_KEY: {"name": "le", "value": 1.0, "tol": 0.1}, "scrapbook": {"name": "le"}}}
    shown = {"metadata": {RECORD_KEY: {"name": "le", "value": 1.0, "tol": 0.1}}}
    assert [r["name"] for r in _records([shown, twin, glued(0.5)])] == ["le", "gap"]

"""Every chapter ends with exercises (at least two), and the parameters they tell you to change exist.

An exercise that says ``papermill ... -p epochs 30`` must name a parameter of the chapter's cell
tagged ``parameters`` (papermill would inject an unused variable without a word, and the reader
would compare two identical runs). Each chapter also says how to open it in JupyterLab.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = ROOT / "notebooks"


def chapters() -> list[str]:
    toc = yaml.safe_load((ROOT / "_toc.yml").read_text(encoding="utf-8"))
    names = [Path(entry["file"]).name for entry in toc.get("chapters", [])]
    return [n for n in names if (NOTEBOOKS / f"{n}.py").exists() and re.match(r"\d\d_", n)]


def cells(name: str) -> list[tuple[str, str, str]]:
    """(kind, header, text) of each cell of a percent-format chapter; markdown without its '# '."""
    text = (NOTEBOOKS / f"{name}.py").read_text(encoding="utf-8")
    out = []
    for block in re.split(r"^(?=# %%)", text, flags=re.M)[1:]:
        header, _, body = block.partition("\n")
        if "[markdown]" in header:
            body = "\n".join(line[2:] if line.startswith("# ") else line.lstrip("#") for line in body.splitlines())
            out.append(("markdown", header, body))
        else:
            out.append(("code", header, body))
    return out


def parameters(name: str) -> set[str]:
    """Names assigned in the chapter's cell tagged ``parameters``."""
    found = [body for kind, header, body in cells(name) if kind == "code" and "parameters" in header]
    assert len(found) == 1, f"{name}: {len(found)} cells tagged parameters"
    names = set()
    for node in ast.parse(found[0]).body:
        targets = node.targets if isinstance(node, ast.Assign) else [node.target] if isinstance(node, ast.AnnAssign) else []
        for t in targets:
            names |= {n.id for n in ast.walk(t) if isinstance(n, ast.Name)}
    return names


def exercises(name: str) -> str:
    prose = "\n".join(body for kind, _, body in cells(name) if kind == "markdown")
    m = re.search(r"^## Exercises\n(.*?)(?=^## )", prose, flags=re.M | re.S)
    return m.group(1) if m else ""


def named_parameters(text: str) -> set[str]:
    """Parameters a text tells papermill to set: ``-p NAME value`` and ``-y "NAME: value"``."""
    text = re.sub(r"mkdir\s+-p\s+\S+", "", text)  # mkdir's -p is not papermill's
    names = set(re.findall(r"(?:^|\s)-p\s+([A-Za-z_]\w*)", text))
    for y in re.findall(r"-y\s+[\"']([^\"']*)[\"']", text):
        names |= set(re.findall(r"([A-Za-z_]\w*)\s*:", y))
    return names


CHAPTERS = chapters()


def test_the_chapters_are_found():
    assert "02_scenes" in CHAPTERS and "12_try_it" in CHAPTERS


@pytest.mark.parametrize("name", CHAPTERS)
def test_each_chapter_has_exercises(name):
    body = exercises(name)
    assert body, f"{name}: no '## Exercises' section"
    solutions = re.findall(r"(?::::|```)\{dropdown\}(.*?)(?::::|```)", body, flags=re.S)
    questions = re.sub(r"(?::::|```)\{dropdown\}.*?(?::::|```)", "", body, flags=re.S)
    items = re.findall(r"^(\d+)\. ", questions, flags=re.M)
    assert len(items) >= 2, f"{name}: {len(items)} exercises"
    assert items == [str(i) for i in range(1, len(items) + 1)], f"{name}: exercises numbered {items}"
    for block in solutions:
        assert block.strip(), f"{name}: an empty solution"


@pytest.mark.parametrize("name", CHAPTERS)
def test_the_parameters_an_exercise_names_exist(name):
    prose = "\n".join(body for kind, _, body in cells(name) if kind == "markdown")
    named = named_parameters(prose)
    missing = named - parameters(name)
    assert not missing, f"{name}: the text tells papermill to set {sorted(missing)}, not in its parameters cell"


#: chapters whose first cell does not say yet how to open them in JupyterLab (strict: remove a chapter from
#: here when its note is written)
NO_LAB_NOTE_YET: set[str] = set()


@pytest.mark.parametrize(
    "name", [pytest.param(n, marks=pytest.mark.xfail(strict=True, reason="no JupyterLab note yet")) if n in NO_LAB_NOTE_YET
             else n for n in CHAPTERS])
def test_each_chapter_says_how_to_open_it(name):
    first = next(body for kind, _, body in cells(name) if kind == "markdown")
    assert "make lab" in first and f"notebooks/{name}.py" in first, f"{name}: its first cell does not say how to open it"


def test_the_parameter_reader_can_fail():
    assert named_parameters("papermill a.ipynb b.ipynb -p epochs 30 -y \"lambdas: [0, 1]\"") == {"epochs", "lambdas"}
    assert named_parameters("a range -p-value, no flag; mkdir -p runs") == set()

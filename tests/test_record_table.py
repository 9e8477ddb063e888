"""record() shows a cell's numbers as one table; the numbers are written for a reader (plain, verdict)."""

from __future__ import annotations

import nbformat
import numpy as np
import pytest
import torch
from nbclient import NotebookClient

from sclap_nb.nbval_records import _records, compare_records, output_records
from sclap_nb.notebook import GLUE_PREFIX, RECORD_KEY, plain, plain_table, verdict


def _run(*sources: str):
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(s) for s in sources])
    NotebookClient(nb, timeout=120, kernel_name="python3").execute()
    return nb


@pytest.fixture(scope="module")
def executed():
    return _run(
        "from sclap_nb.notebook import record\n"
        "print('before')\n"
        "_ = record('a', 0.5, tol=0.01, label='first number', unit='°')\n"
        "_ = record('steps', 178, tol=0, fmt='.4f')\n"
        "_ = record('arr', [0.25, 0.75], tol=0.01, label='two numbers\\n', fmt='.2f')\n"
        "print('after')",
        "print('no record here')",
        "_ = record('b', 2.0, tol=0.1)",
    )


@pytest.mark.slow
def test_a_cell_shows_its_recorded_numbers_in_one_table(executed):
    outs = executed.cells[0].outputs
    tables = [o for o in outs if isinstance((o.get("metadata") or {}).get(RECORD_KEY), list)]
    assert len(tables) == 1, outs
    table = tables[0]
    assert [r["name"] for r in output_records(table)] == ["a", "steps", "arr"]
    assert table is outs[-1], "the table comes when the cell ends"
    html = table["data"]["text/html"]
    assert html.count("<tr>") == 3 and 'class="sclap-records"' in html
    assert "first number" in html and "0.500 °" in html
    assert "<td>178</td>" in html, "an integer is shown as an integer, whatever fmt"
    assert "[0.25 0.75]" in table["data"]["text/plain"]
    # nothing else shows a number: the other outputs are the prints and the hidden glue twins
    shown = [o for o in outs if o.output_type == "display_data" and o is not table]
    assert all(set(o["data"]) == {GLUE_PREFIX + "text/plain"} for o in shown)
    assert "".join(o.get("text", "") for o in outs if o.output_type == "stream") == "before\nafter\n"


@pytest.mark.slow
def test_each_cell_gets_its_own_table(executed):
    assert all(not output_records(o) for o in executed.cells[1].outputs)
    assert [r["name"] for r in _records(executed.cells[2].outputs)] == ["b"]


@pytest.mark.slow
def test_table_and_one_output_per_number_compare_alike(executed):
    """A chapter stored with one output per number still compares with a fresh run that shows a table."""
    fresh = _records(executed.cells[0].outputs)
    stored = [{"metadata": {RECORD_KEY: dict(r)}} for r in fresh]
    assert [r["name"] for r in fresh] == ["a", "steps", "arr"]
    assert compare_records(_records(stored), fresh) == []
    stored[0]["metadata"][RECORD_KEY]["value"] = 0.6
    assert compare_records(_records(stored), fresh)


def test_plain_writes_numbers_for_a_reader():
    assert plain(np.float64(1.0)) == "1"
    assert plain([np.float64(178.0), 0.371234]) == "178, 0.371"
    assert plain(np.int64(37)) == "37"
    assert plain(torch.tensor([2.0, 0.5])) == "2, 0.5"
    assert plain(0.03252, digits=2) == "0.033"
    assert plain(True) == "True"
    frame = plain_table({"spec": {"leave step": 178.0, "mean": 1.0986123}, "default": {"leave step": 66, "mean": 1.386}})
    assert frame.loc["leave step", "spec"] == "178" and frame.loc["mean", "spec"] == "1.1"


@pytest.mark.parametrize(
    ("value", "expected"),
    [(4.0, "met"), (4.985, "met only within its tolerance"), (5.02, "missed only within its tolerance"), (5.2, "missed")],
)
def test_verdict_does_not_claim_more_than_the_tolerance_allows(value, expected):
    assert verdict(value, 5.0, tol=0.05) == expected


def test_verdict_higher_is_better_and_bad_input():
    assert verdict(0.9, 0.65, tol=0.01, lower_is_better=False) == "met"
    assert verdict(0.5, 0.65, tol=0.01, lower_is_better=False) == "missed"
    with pytest.raises(ValueError, match="tol"):
        verdict(1.0, 2.0, tol=-1)

"""nbval, extended: numbers that come out of training are compared at their stated tolerance.

nbval re-executes every chapter and compares each cell's outputs with the stored ones. Numbers
that come out of training differ in their last digits between CPUs and thread counts, so the
chapters show them with :func:`sclap_nb.notebook.record`, which stores the value and its
tolerance in the output's metadata. This plugin (``pytest -p sclap_nb.nbval_records``; the
repository's ``conftest.py`` loads it) extends nbval's comparison: recorded numbers are compared
with their stored values at the stored tolerance, under the same names in the same order, and so
are the floats a chapter glues for its prose (:func:`sclap_nb.notebook.glue`, at a relative 1e-6);
every other output is compared exactly, as nbval does, after the sanitizer of ``nbval.cfg``.
"""

from __future__ import annotations

import json
import math
import os

__all__ = ["compare_records", "output_records"]

RECORD_KEY = "sclap_record"  # sclap_nb.notebook.RECORD_KEY (not imported: keeps collection light)


def output_records(output) -> list[dict]:
    """The recorded numbers an output holds: its metadata's ``RECORD_KEY`` is one record (an output per
    number, or a hidden glue twin) or a list of them (the table in which ``record`` shows a cell's numbers)."""
    rec = (output.get("metadata") or {}).get(RECORD_KEY)
    if rec is None:
        return []
    return list(rec) if isinstance(rec, list) else [rec]


def _records(outputs) -> list[dict]:
    out = []
    for o in outputs:
        # a recorded number's hidden glue twin is the same number: counted once; a number glued alone
        # (``notebook.glue``) is counted
        twin = "scrapbook" in (o.get("metadata") or {})
        out.extend(rec for rec in output_records(o) if not twin or rec.get("glued"))
    return out


def _max_abs_diff(a, b) -> float:
    """Largest elementwise |a - b| of two numbers or equally shaped nested lists; inf if they do not match."""
    if isinstance(a, list) or isinstance(b, list):
        if not (isinstance(a, list) and isinstance(b, list)) or len(a) != len(b):
            return math.inf
        return max((_max_abs_diff(x, y) for x, y in zip(a, b)), default=0.0)
    try:
        d = abs(float(a) - float(b))
    except (TypeError, ValueError):
        return math.inf
    return d if math.isfinite(d) else math.inf


def compare_records(ref: list[dict], test: list[dict]) -> list[str]:
    """Problems between stored (``ref``) and fresh (``test``) recorded numbers; empty when they agree."""
    problems = []
    ref_names, test_names = [r["name"] for r in ref], [t["name"] for t in test]
    if ref_names != test_names:
        return [f"recorded numbers differ: stored {ref_names}, fresh run {test_names}"]
    report = os.environ.get("SCLAP_RECORD_REPORT")  # a file to append each comparison to (name, |diff|, tol)
    for r, t in zip(ref, test):
        tol = float(r.get("tol", 0.0))
        diff = _max_abs_diff(r["value"], t["value"])
        if report:
            with open(report, "a") as f:
                f.write(json.dumps({"name": r["name"], "diff": diff, "tol": tol}) + "\n")
        if not diff <= tol:
            why = f" ({r['why']})" if r.get("why") else ""
            problems.append(
                f"recorded number {r['name']!r}: fresh {t['value']} vs stored {r['value']}: "
                f"|difference| {diff:.4g} > tolerance {tol:g}{why}"
            )
    return problems


def _patch_nbval() -> None:
    try:
        from nbval.plugin import IPyNbCell
    except ImportError:  # nbval not installed: nothing to extend
        return
    if getattr(IPyNbCell.compare_outputs, "_sclap", False):
        return
    original = IPyNbCell.compare_outputs

    def compare_outputs(self, test, ref, skip_compare=None):
        problems = compare_records(_records(ref), _records(test))
        if problems:
            self.comparison_traceback = problems
            return False

        def rest(outputs):
            return [o for o in outputs if RECORD_KEY not in (o.get("metadata") or {})]

        return original(self, rest(test), rest(ref), skip_compare)

    compare_outputs._sclap = True
    IPyNbCell.compare_outputs = compare_outputs


_patch_nbval()

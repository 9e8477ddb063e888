"""Re-execute chapters in place in their quick setting, as the stored outputs must be for nbval.

    python scripts/execute_notebooks.py notebooks/04_temporal_chunking.ipynb [...]

Runs each notebook with papermill from the repository root (no parameters injected), then removes
papermill's per-cell metadata so the .py twin stays identical after `make sync`.

Widgets: the kernel's widget state is stored in the notebook's metadata
(``widgets/application/vnd.jupyter.widget-state+json``, nbclient's ``store_widget_state``), so the
book can show the widgets without a kernel. Only the models that a cell output shows, the models
they reference (children, layouts, styles) and the models that link kept ones (``jslink``) are
kept; a widget created but never shown does not bloat the file. A shown widget whose model is not
in the state is an error: the book would show an empty output there.
"""

from __future__ import annotations

import os
import re
import sys
from pathlib import Path

import nbformat
import papermill as pm

ROOT = Path(__file__).resolve().parents[1]
WIDGET_STATE = "application/vnd.jupyter.widget-state+json"
WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"
_MODEL_REF = re.compile(r"^IPY_MODEL_(.+)$")


def widget_views(nb) -> list[str]:
    """Model ids of the widgets that the notebook's outputs display, in order."""
    ids = []
    for cell in nb.cells:
        for out in cell.get("outputs", []):
            view = (out.get("data") or {}).get(WIDGET_VIEW)
            if view and view.get("model_id"):
                ids.append(view["model_id"])
    return ids


def _references(value) -> set[str]:
    """Model ids named (``IPY_MODEL_<id>``) anywhere in a widget's state."""
    if isinstance(value, str):
        m = _MODEL_REF.match(value)
        return {m.group(1)} if m else set()
    if isinstance(value, dict):
        return set().union(*(_references(v) for v in value.values())) if value else set()
    if isinstance(value, (list, tuple)):
        return set().union(*(_references(v) for v in value)) if value else set()
    return set()


def prune_widget_state(nb) -> tuple[int, int]:
    """Keep the widget models the outputs need (see the module docstring); drop the metadata when no
    output shows a widget. Returns (models kept, models stored by the kernel)."""
    state = ((nb.metadata.get("widgets") or {}).get(WIDGET_STATE) or {}).get("state") or {}
    views = widget_views(nb)
    if not views:
        nb.metadata.pop("widgets", None)
        return 0, len(state)
    missing = [v for v in views if v not in state]
    if missing:
        raise RuntimeError(f"widgets shown but not in the stored widget state: {missing}")
    keep: set[str] = set()
    todo = list(views)
    while todo:
        mid = todo.pop()
        if mid in keep or mid not in state:
            continue
        keep.add(mid)
        todo.extend(_references(state[mid].get("state")))
    grown = True
    while grown:  # links between kept models (jslink): they reference only kept models
        grown = False
        for mid, model in state.items():
            refs = _references(model.get("state"))
            if mid not in keep and refs and refs <= keep:
                keep.add(mid)
                grown = True
    meta = nb.metadata["widgets"][WIDGET_STATE]
    meta["state"] = {mid: model for mid, model in state.items() if mid in keep}
    return len(keep), len(state)


def execute(path: Path) -> None:
    """Execute into a temporary file beside ``path``, clean it, then rename it over ``path``."""
    tmp = path.with_name(f".{path.stem}.executing.ipynb")
    try:
        pm.execute_notebook(str(path), str(tmp), cwd=str(ROOT), kernel_name="python3", progress_bar=False,
                            store_widget_state=True)
        nb = nbformat.read(tmp, as_version=4)
        nb.metadata.pop("papermill", None)
        for cell in nb.cells:
            cell.metadata.pop("papermill", None)
            cell.metadata.pop("execution", None)
        kept, stored = prune_widget_state(nb)
        if stored:
            print(f"  widget state: {kept} of {stored} models kept", flush=True)
        nbformat.write(nb, tmp)
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


if __name__ == "__main__":
    for arg in sys.argv[1:]:
        print(f"executing {arg}", flush=True)
        execute(Path(arg))

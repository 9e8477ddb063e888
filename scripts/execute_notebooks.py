"""Re-execute chapters in place in their quick setting, as the stored outputs must be for nbval.

    python scripts/execute_notebooks.py notebooks/04_temporal_chunking.ipynb [...]

Runs each notebook with papermill from the repository root (no parameters injected), then removes
papermill's per-cell metadata so the .py twin stays identical after `make sync`.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import nbformat
import papermill as pm

ROOT = Path(__file__).resolve().parents[1]


def execute(path: Path) -> None:
    """Execute into a temporary file beside ``path``, clean it, then rename it over ``path``."""
    tmp = path.with_name(f".{path.stem}.executing.ipynb")
    try:
        pm.execute_notebook(str(path), str(tmp), cwd=str(ROOT), kernel_name="python3", progress_bar=False)
        nb = nbformat.read(tmp, as_version=4)
        nb.metadata.pop("papermill", None)
        for cell in nb.cells:
            cell.metadata.pop("papermill", None)
            cell.metadata.pop("execution", None)
        nbformat.write(nb, tmp)
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


if __name__ == "__main__":
    for arg in sys.argv[1:]:
        print(f"executing {arg}", flush=True)
        execute(Path(arg))

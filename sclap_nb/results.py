"""Reading stored runs and studies by name: the one reader of ``results/`` (and of ``runs/``).

A *run* is a folder with ``metrics.json`` and ``run.json`` (and, for some, ``metrics.csv``, Lightning's
log, and ``model/``, an export); :func:`load_run` reads one by its name under ``results/`` (``"train"``,
``"experiments/tokennorm_s2025"``) or by path, with its settings as a
:class:`~sclap_nb.config.RunConfig` whatever the age of its ``run.json``
(:func:`sclap_nb.config.migrate_run_json`). A *study* is a folder of runs named
``{config}_s{seed}``; :func:`load_study` reads them into one table, a row per run.
"""

from __future__ import annotations

import json
import os
import re
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from .config import RunConfig, migrate_run_json

__all__ = ["RESULTS", "Run", "load_run", "load_runs", "load_study", "results_dir"]

#: the committed results of this checkout (``sclap_nb`` installed in place, as ``make setup`` does)
RESULTS = Path(__file__).resolve().parents[1] / "results"


def results_dir(root: str | os.PathLike | None = None) -> Path:
    """``root/results`` (default: this checkout's ``results/``)."""
    return Path(root) / "results" if root is not None else RESULTS


@dataclass
class Run:
    """A finished run: its folder, settings (the tree), test metrics and, where stored, its training log."""

    name: str
    path: Path
    config: RunConfig
    metrics: dict = field(repr=False)
    stored: dict = field(repr=False, default_factory=dict)  # run.json as written

    @property
    def log(self) -> pd.DataFrame:
        """Lightning's log, one row per logged step or epoch (``metrics.csv``, or the run's ``logs/``)."""
        from .viz import read_log  # deferred: viz imports matplotlib, which a metrics reader does not need

        return read_log(self.path) if not (self.path / "metrics.csv").is_file() else pd.read_csv(self.path / "metrics.csv")

    @property
    def export(self) -> Path | None:
        """The run's model export (``model/``), if it has one."""
        return self.path / "model" if (self.path / "model" / "config.json").is_file() else None


def load_run(name: str | os.PathLike, root: str | os.PathLike | None = None) -> Run:
    """The run named ``name`` under ``results/`` (or at the path ``name``); a clear error when it is not there."""
    path = Path(name)
    if not path.is_dir():
        path = results_dir(root) / str(name)
    metrics_file = path / "metrics.json"
    if not metrics_file.is_file():
        raise FileNotFoundError(f"{path}: no metrics.json (not a finished run)")
    stored = json.loads((path / "run.json").read_text()) if (path / "run.json").is_file() else {}
    return Run(str(name), path, migrate_run_json(stored), json.loads(metrics_file.read_text()), stored)


def load_runs(pattern: str, root: str | os.PathLike | None = None) -> list[Run]:
    """Every finished run whose folder matches ``pattern`` under ``results/`` (e.g. ``"experiments/tokennorm_s*"``), in name order."""
    base = results_dir(root)
    return [load_run(p.parent.relative_to(base), root) for p in sorted(base.glob(f"{pattern}/metrics.json"))]


def load_study(name: str, root: str | os.PathLike | None = None, pattern: str = "*_s*") -> pd.DataFrame:
    """One row per run of the study ``results/<name>`` (folders ``{config}_s{seed}``): ``config``, ``seed``,
    ``path`` and every metric of its ``metrics.json``."""
    rows = []
    for run in load_runs(f"{name}/{pattern}", root):
        m = re.fullmatch(r"(.+)_s(\d+)", run.path.name)
        if not m:
            continue
        rows.append({"config": m.group(1), "seed": int(m.group(2)), "path": str(run.path), **run.metrics})
    return pd.DataFrame(rows)

"""Ablation: the main job over {SALM baseline, +temporal, +3-way, +GRL, all} x seeds.

``python -m sclap_nb.ablation --out runs/ablation`` runs every configuration (each run
in ``OUT/{config}_s{seed}/``, skipped if its ``metrics.json`` exists, so an interrupted ablation
resumes), then writes ``OUT/table.csv`` (one row per run) and ``OUT/table.md`` (mean +- std per
configuration over seeds, sample std). ``-p NAME VALUE`` passes any other run setting
(``sclap_nb.run.RunConfig``) to every run.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import pandas as pd

CONFIGS: dict[str, dict] = {
    "SALM baseline": dict(use_temporal=False, use_ts_loss=False, use_modality=False, mask_false_negatives=False),
    "+temporal": dict(use_temporal=True, use_ts_loss=False, use_modality=False, mask_false_negatives=False),
    "+3-way": dict(use_temporal=False, use_ts_loss=True, use_modality=False, mask_false_negatives=False),
    "+GRL": dict(use_temporal=False, use_ts_loss=False, use_modality=True, mask_false_negatives=False),
    "all": dict(use_temporal=True, use_ts_loss=True, use_modality=True, mask_false_negatives=True),
}
SEEDS = (2025, 2026, 2027)

# the metrics the table shows, in order (each present for the runs where it exists)
COLUMNS = [
    "joint/t2a/R@1", "joint/t2a/R@5", "joint/t2a/R@10", "joint/t2a/mAP@10",
    "joint/a2t/R@1", "joint/a2t/R@5", "joint/a2t/R@10", "joint/a2t/mAP@10",
    "joint/3way_temporal", "joint/3way_spatial",
    "triplet/t2a/R@1", "triplet/t2a/mAP@10", "triplet/a2t/R@1", "triplet/3way_temporal", "triplet/3way_spatial",
    "LE_deg", "modality_acc", "joint/zeroshot_direction", "train_seconds",
]


def slug(name: str) -> str:
    return name.lower().replace(" ", "_").replace("+", "plus_").replace("-", "")


def run_one(out: Path, params: dict) -> Path:
    """One training run (the training notebook's main job, ``sclap_nb.run``) into ``out``; return its metrics.json."""
    from .run import resolve_run, run

    params = dict(params)
    fast = bool(params.pop("fast", False))
    run(resolve_run(fast, **{**params, "out_dir": str(out)}), Path.cwd(), fast=fast)
    return out / "metrics.json"


def collect(out: Path) -> pd.DataFrame:
    """One row per finished run under ``out``."""
    rows = []
    for name in CONFIGS:
        for path in sorted(out.glob(f"{slug(name)}_s*/metrics.json")):
            m = json.loads(path.read_text())
            rows.append({"config": name, "seed": int(path.parent.name.rsplit("_s", 1)[1]), **m})
    return pd.DataFrame(rows)


def summary_markdown(table: pd.DataFrame) -> str:
    """Mean +- std over seeds per configuration, one column per metric."""
    cols = [c for c in COLUMNS if c in table]
    lines = ["| config | seeds | " + " | ".join(cols) + " |", "|---|---|" + "---|" * len(cols)]
    for name in CONFIGS:
        part = table[table["config"] == name]
        if part.empty:
            continue
        cells = []
        for c in cols:
            v = part[c].dropna()
            cells.append("n/a" if v.empty else f"{v.mean():.3f} ± {v.std(ddof=1):.3f}" if c != "train_seconds" else f"{v.mean():.0f}")
        lines.append(f"| {name} | {len(part)} | " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


def _value(text: str):
    """A parameter value from the command line: JSON (numbers, true/false, lists) or else a string."""
    try:
        return json.loads(text)
    except json.JSONDecodeError:
        return text


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", default="runs/ablation")
    ap.add_argument("--seeds", type=int, nargs="+", default=list(SEEDS))
    ap.add_argument("--configs", nargs="+", default=list(CONFIGS), choices=list(CONFIGS))
    ap.add_argument("-p", nargs=2, action="append", default=[], metavar=("NAME", "VALUE"), help="notebook parameter for every run")
    args = ap.parse_args(argv)
    out = Path(args.out)
    extra = {k: _value(v) for k, v in args.p}
    for name in args.configs:
        for seed in args.seeds:
            run_dir = out / f"{slug(name)}_s{seed}"
            if (run_dir / "metrics.json").exists():
                print(f"[skip] {name} seed {seed}: {run_dir}/metrics.json exists", flush=True)
                continue
            print(f"[run ] {name} seed {seed} -> {run_dir}", flush=True)
            params = {**CONFIGS[name], "seed": seed, **extra}
            run_one(run_dir, params)
    table = collect(out)
    table.to_csv(out / "table.csv", index=False)
    (out / "table.md").write_text(summary_markdown(table))
    print((out / "table.md").read_text())
    return 0


if __name__ == "__main__":
    sys.exit(main())

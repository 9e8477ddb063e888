"""The seed statistics of the studies in results/, written beside their runs as CSV.

``python scripts/summarise_results.py [--results results] [--check]`` writes, from the runs' own
``metrics.json``:

* ``results/ablation/means.csv``, ``paired.csv``: per configuration and metric the mean and sample sd
  (ddof 1) over seeds; the paired difference from the SALM baseline on the same seed with its 95 %
  t-interval (``sclap_nb.ablation.paired_differences``);
* ``results/sweep/means.csv``, ``paired.csv``: the same, paired with ``all``;
* ``results/experiments/means.csv``, ``paired.csv``: the multi-seed experiments (the token norm on
  cue-free clips and on the default corpus), each paired with the same settings without the option,
  and, within the runs of one setting, the triplet embedding against E_joint.

The READMEs quote their numbers from these files (``tests/test_readme.py`` checks that every number in
the README is found in a results file, and that these files follow from the runs). ``--check``
writes nothing: it exits 1 naming the first file that differs from what the runs give.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import pandas as pd

from sclap_nb.ablation import PAIRED, collect, collect_experiments, collect_named, paired_differences
from sclap_nb.files import atomic_write

# the metrics summarised (each where the runs have it)
METRICS = ["joint/t2a/R@1", "triplet/t2a/R@1", "best/t2a/R@1", "joint/a2t/R@1", "triplet/a2t/R@1",
           "joint/3way_temporal", "joint/3way_spatial", "triplet/3way_temporal", "triplet/3way_spatial",
           "joint/order_acc", "triplet/order_acc", "joint/place_acc", "triplet/place_acc",
           "joint/vs_neg_c", "triplet/vs_neg_c", "LE_deg", "modality/probe_acc",
           "reference/direction_only/order_acc", "reference/order_blind/order_acc", "reference/sound_order/order_acc",
           "reference/sound_order/place_acc"]  # fmt: skip
PAIRED_METRICS = list(dict.fromkeys([*PAIRED, "triplet/t2a/R@1", "triplet/place_acc"]))
# the experiments of several seeds: (label, folder pattern, the label of the same settings without the option)
EXPERIMENTS = [
    ("token norm, cue-free clips", "tokennorm_isolated_circular_s*", "no token norm, cue-free clips",
     "no_token_norm_isolated_circular_s*"),
    ("token norm, default corpus", "tokennorm_s*", "no token norm, default corpus", "no_token_norm_s*"),
]  # fmt: skip
# triplet embedding against E_joint within one run: the metric pairs
WITHIN = ["t2a/R@1", "order_acc", "place_acc"]


def _with_best(table: pd.DataFrame) -> pd.DataFrame:
    t = table.copy()
    cols = [c for c in ("joint/t2a/R@1", "triplet/t2a/R@1") if c in t]
    if cols:
        t["best/t2a/R@1"] = t[cols].max(axis=1)
    return t


def means(table: pd.DataFrame) -> pd.DataFrame:
    """config, metric, n, mean, sd (ddof 1; empty for one seed) over the seeds of each configuration."""
    t = _with_best(table)
    rows = []
    for config in dict.fromkeys(t["config"]):
        part = t[t["config"] == config]
        for m in METRICS:
            if m not in part:
                continue
            v = part[m].dropna()
            if v.empty:
                continue
            rows.append({"config": config, "metric": m, "n": len(v), "mean": float(v.mean()),
                         "sd": float(v.std(ddof=1)) if len(v) > 1 else float("nan")})  # fmt: skip
    return pd.DataFrame(rows)


def paired(table: pd.DataFrame, baseline: str, configs=None) -> pd.DataFrame:
    """config, baseline, metric, n, diff, ci_low, ci_high, ratio: ``paired_differences`` with its baseline named."""
    configs = list(dict.fromkeys(table["config"])) if configs is None else configs
    p = paired_differences(table, baseline, metrics=PAIRED_METRICS, configs=configs)
    p.insert(1, "baseline", baseline)
    return p


def within_run(table: pd.DataFrame, config: str) -> pd.DataFrame:
    """The triplet embedding against E_joint in the same runs of ``config``, paired by seed."""
    part = table[table["config"] == config]
    rows = []
    for emb, label in (("joint", "E_joint"), ("triplet", "triplet")):
        for _, r in part.iterrows():
            rows.append({"config": label, "seed": r["seed"], **{m: r.get(f"{emb}/{m}") for m in WITHIN}})
    t = pd.DataFrame(rows)
    p = paired_differences(t, "E_joint", metrics=WITHIN, configs=["E_joint", "triplet"])
    p["config"] = f"{config}: triplet"
    p.insert(1, "baseline", f"{config}: E_joint")
    return p


def study_tables(results: Path) -> dict[Path, pd.DataFrame]:
    """Every file this script writes, by path, computed from the runs under ``results``."""
    out: dict[Path, pd.DataFrame] = {}
    ablation = collect(results / "ablation" / "runs")
    if not ablation.empty:
        out[results / "ablation" / "means.csv"] = means(ablation)
        out[results / "ablation" / "paired.csv"] = paired(ablation, "SALM baseline")
    sweep = collect_named(results / "sweep" / "runs")
    if not sweep.empty:
        out[results / "sweep" / "means.csv"] = means(sweep)
        out[results / "sweep" / "paired.csv"] = paired(sweep, "all")
    exp_dir = results / "experiments"
    frames, pairs = [], []
    for label, pattern, base_label, base_pattern in EXPERIMENTS:
        with_it = collect_experiments(exp_dir, pattern, label)
        without = collect_experiments(exp_dir, base_pattern, base_label)
        if with_it.empty or without.empty:
            continue
        both = pd.concat([with_it, without], ignore_index=True)
        frames.append(both)
        pairs += [paired(both, base_label, [label]), within_run(both, label), within_run(both, base_label)]
    if frames:
        out[exp_dir / "means.csv"] = means(pd.concat(frames, ignore_index=True))
        out[exp_dir / "paired.csv"] = pd.concat(pairs, ignore_index=True)
    return out


def to_csv(frame: pd.DataFrame) -> str:
    return frame.to_csv(index=False, float_format="%.10g")


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--results", default="results", help="the results folder (default: results)")
    ap.add_argument("--check", action="store_true", help="write nothing; exit 1 if a file differs from the runs")
    args = ap.parse_args(argv)
    results = Path(args.results)
    if not results.is_dir():
        print(f"error: {results} is not a folder", file=sys.stderr)
        return 2
    for path, frame in study_tables(results).items():
        text = to_csv(frame)
        if args.check:
            if not path.exists() or path.read_text() != text:
                print(f"{path} does not follow from the runs beside it: run python scripts/summarise_results.py",
                      file=sys.stderr)
                return 1
        else:
            atomic_write(path, text)
            print(f"{path}: {len(frame)} rows")
    return 0


if __name__ == "__main__":
    sys.exit(main())

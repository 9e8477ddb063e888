"""The study of ``results/doa_study/PLAN.md``: a DOA head on every frame for the timed scenes.

    python scripts/doa_study.py run        # every run of MF, in the plan's order (scored, not printed)
    python scripts/doa_study.py analyse    # refuses until every run of MF and the reused runs of ML have their split file

What the plan fixes is fixed here: configuration ``MF`` (``CONFIGS``: ``ML`` of ``results/library_study`` with the
frame-wise DOA head, ``model.doa_pooling`` frames), the reused runs of ``ML`` (their scores in
``results/library_study/runs/``), the seeds and thread counts, the test splits (``results/library_study``'s, seed
9661, rebuilt by its ``splits``) and the comparisons D1-D5 (``COMPARISONS``).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent))

import library_study as ls  # noqa: E402
import timed_study as ts  # noqa: E402

from sclap_nb.ablation import planned_comparisons  # noqa: E402
from sclap_nb.files import write_json_atomic  # noqa: E402

ROOT = ts.ROOT
SPLIT = ls.SPLIT
CONFIGS = {"MF": {**ls.CONFIGS["ML"], "model.doa_pooling": "frames"}}
SEEDS, THREADS, RERUN_THREADS, RERUN_SEED = ts.SEEDS, ts.THREADS, ts.RERUN_THREADS, ts.RERUN_SEED
ORDER = [("MF", RERUN_SEED, THREADS), ("MF", RERUN_SEED, RERUN_THREADS)] + [("MF", s, THREADS) for s in SEEDS[1:]]
#: the runs of results/library_study this plan compares with (their split files are read, not rescored)
REUSED = [("ML", s, THREADS) for s in SEEDS] + [("ML", RERUN_SEED, RERUN_THREADS)]
LIBRARY_RESULTS = ROOT / "results" / "library_study"


def _cmp(name, metric, alternative, margin=0.0, b_metric=None):
    return {"name": name, "a": "MF", "b": "ML", "a_metric": metric, "b_metric": b_metric or metric,
            "alternative": alternative, "margin": margin}  # fmt: skip


COMPARISONS = [
    # localisation without onsets: the heads' per-event outputs, as sclap_nb.api returns them
    _cmp("D1", "mix/LE_blind_deg", "less", b_metric="mix/LE_deg"),
    _cmp("D2", "mix/triplet/place_acc", "greater"), _cmp("D3", "mix/triplet/motion_acc", "greater"),
    _cmp("D4", "mix/triplet/order_acc", "greater", 0.05), _cmp("D5", "mix/triplet/t2a/R@1", "greater", 0.05),
]  # fmt: skip
#: what the seed spread reports (primary and secondary); a key a configuration lacks is left empty
REPORTED = [
    "mix/LE_deg", "mix/LE_blind_deg", "mix/LE_frames_deg", "mix/triplet/place_acc", "mix/triplet/motion_acc",
    "mix/triplet/order_acc", "mix/triplet/t2a/R@1", "mix/joint/t2a/R@1", "sf/LE_deg", "sf/LE_blind_deg",
    "sf/triplet/order_acc", "sf/triplet/motion_acc", "sf/triplet/place_acc", "sf/triplet/t2a/R@1", "pkg/LE_deg",
    "pkg/LE_blind_deg", "pkg/triplet/t2a/R@1", "pkgcls/triplet/zero_shot_acc", "pkgcls/sed/zero_shot_acc",
]  # fmt: skip


def run_variant(args, order: list, configs: dict, split: str = SPLIT, split_dirs=None, score=None) -> None:
    """Train and score every run of ``order`` (a variant of ``ML``; ``configs`` its settings) that has no
    split file yet: each export scored on ``results/library_study``'s splits, written, not printed (or, for
    another plan, ``score(model_dir, split_dirs())`` written to its file ``split``)."""
    dirs = (split_dirs or ls.splits)()
    for config, seed, threads in order:
        where = ts.run_dir(args.out, config, seed, threads)
        kept = args.results / "runs" / where.name
        if (kept / split).is_file():
            print(f"[done] {where.name}", flush=True)
            continue
        if not (where / "metrics.json").is_file():
            print(f"[run ] {where}", flush=True)
            ts.run(ts.config_of(config, seed, threads, args.out, configs), ROOT)
        kept.mkdir(parents=True, exist_ok=True)
        ts.finish(where, args.results, threads, {}, ls.KEPT)
        write_json_atomic((score or ls.score)(where / "model", dirs), kept / split)
        print(f"[kept] {kept}", flush=True)


def analyse_variant(args, name: str, order: list, comparisons: list, reported: list, reused: list | None = None,
                    split: str = SPLIT) -> None:  # fmt: skip
    """The plan's analysis of variant ``name`` (its runs ``order``) against reused runs: ``reused``, a list of
    ``(config, seed, threads, results directory)`` (default: ``ML``'s runs in ``args.library_results``); refuses
    until every run of each has its split file ``split`` (nothing of the variant's scores is read before)."""
    reused = reused if reused is not None else [(c, s, t, args.library_results) for c, s, t in REUSED]
    runs = [(c, s, t, args.results) for c, s, t in order] + list(reused)
    missing = [f"{c}_s{s}_t{t}" for c, s, t, base in runs if not (base / "runs" / f"{c}_s{s}_t{t}" / split).is_file()]
    if missing:
        raise SystemExit(f"{len(missing)} runs have no {split} yet ({', '.join(missing[:4])}); analyse waits for all")
    rows = []
    for c, s, t, base in runs:
        rows.append({"config": c, "seed": s, "threads": t, **json.loads((base / "runs" / f"{c}_s{s}_t{t}" / split).read_text())})
    table = pd.DataFrame(rows)
    for k in reported:
        if k not in table:
            table[k] = float("nan")
    main = table[table["threads"] == THREADS]
    spread = main.groupby("config")[reported].agg(["mean", "std"]).stack(level=1, future_stack=True)
    rerun = []
    for config in dict.fromkeys([c for c, *_ in reused] + [name]):
        pair = table[(table["config"] == config) & (table["seed"] == RERUN_SEED)].set_index("threads")
        rerun.append({"config": config, **{m: abs(pair.loc[THREADS, m] - pair.loc[RERUN_THREADS, m]) for m in reported}})
    ts.write_analysis(args.results, table, planned_comparisons(main, comparisons), spread, rerun)


def cmd_run(args) -> None:
    run_variant(args, ORDER, CONFIGS)


def cmd_analyse(args) -> None:
    analyse_variant(args, "MF", ORDER, COMPARISONS, REPORTED)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("command", choices=("run", "analyse"))
    ap.add_argument("--out", type=Path, default=ROOT / "runs" / "doa_study", help="where the runs of MF go")
    ap.add_argument("--results", type=Path, default=ROOT / "results" / "doa_study", help="where they are kept")
    ap.add_argument("--library-results", type=Path, default=LIBRARY_RESULTS, help="results/library_study (the reused runs of ML)")
    args = ap.parse_args(argv)
    {"run": cmd_run, "analyse": cmd_analyse}[args.command](args)
    return 0


if __name__ == "__main__":
    sys.exit(main())

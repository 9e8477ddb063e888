"""The study of ``results/schedule_study/PLAN.md``: the main job's learning-rate schedule.

    python scripts/schedule_study.py select    # phase 1: the candidates on seed 2025, chosen on validation -> selection.json
    python scripts/schedule_study.py run       # phase 2: the chosen configuration and ML on seeds 2026-2029, then the rerun
    python scripts/schedule_study.py analyse   # refuses until every run of phase 2 has its test file

What the plan fixes is fixed here: the configurations (``CONFIGS``: the ``main`` preset with at most the
warm-up and the peak learning rate changed), the selection rule (:func:`choose`), the seeds and thread
counts, the test split (seed ``SPLIT_SEED``, timed scenes of the main job's mixed sounds, built and read
by nothing before ``analyse``) and the comparisons S1-S3 (``COMPARISONS``). Each finished run is scored on
the test split into ``test_9787.json`` (written, not printed) and its small files are kept in
``results/schedule_study/runs/<name>/``, so an interrupted study resumes where it stopped.
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
from pathlib import Path

import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent))

import timed_study as ts  # noqa: E402

from sclap_nb.ablation import planned_comparisons  # noqa: E402
from sclap_nb.config import MAIN, DataConfig, FeatureConfig  # noqa: E402
from sclap_nb.data import ensure_corpus  # noqa: E402
from sclap_nb.data.sounds import sound_source  # noqa: E402
from sclap_nb.evaluate import evaluate_corpus  # noqa: E402
from sclap_nb.files import write_json_atomic  # noqa: E402
from sclap_nb.training import NonFiniteLossError  # noqa: E402

ROOT = ts.ROOT
SPLIT_SEED = 9787
SPLIT = f"test_{SPLIT_SEED}.json"
CONFIGS = {  # the plan's table, in its order (a tie goes to the one listed first)
    "ML": dict(MAIN),
    "W0": {**MAIN, "optim.warmup_epochs": 0},
    "L2": {**MAIN, "optim.lr": 2e-3},
    "W0L2": {**MAIN, "optim.warmup_epochs": 0, "optim.lr": 2e-3},
}
CANDIDATES = ("W0", "L2", "W0L2")
SEEDS, THREADS, RERUN_THREADS, RERUN_SEED = ts.SEEDS, ts.THREADS, ts.RERUN_THREADS, ts.RERUN_SEED
#: the validation figures the rule reads, from the last epoch's row of metrics.csv
VAL = ("val/triplet/order_acc", "val/triplet/motion_acc", "val/triplet/t2a/R@1")
T2A_MARGIN = 0.05
KEPT = ("metrics.json", "metrics.csv", "run.json", SPLIT, "host.json")
COMPARISONS = [
    {"name": "S1", "metric": "triplet/order_acc", "alternative": "greater", "margin": 0.0},
    {"name": "S2", "metric": "triplet/motion_acc", "alternative": "greater", "margin": 0.0},
    {"name": "S3", "metric": "triplet/t2a/R@1", "alternative": "greater", "margin": 0.05},
]
REPORTED = [c["metric"] for c in COMPARISONS] + ["joint/order_acc", "joint/motion_acc", "triplet/place_acc", "LE_deg"]


def test_split() -> Path:
    """The plan's test split: 128 timed scenes of the main job's mixed sounds, seed ``SPLIT_SEED``, built once."""
    sr = FeatureConfig.sample_rate
    return ensure_corpus(ROOT / f"data/schedule-test-s{SPLIT_SEED}-4s", n_train=0, n_val=0, n_test=128, seed=SPLIT_SEED,
                         sample_rate=sr, clip_seconds=MAIN["data.clip_seconds"], layout="timed", progress=False,
                         source=sound_source("mixed", ROOT / DataConfig.library_dir, sr))  # fmt: skip


def finish(where: Path, results: Path, threads: int) -> None:
    """Score a finished run's export on the test split (written, not printed), keep its small files."""
    if not (where / SPLIT).is_file():
        write_json_atomic(evaluate_corpus(where / "model", test_split(), "test"), where / SPLIT)
    ts.finish(where, results, threads, {}, KEPT)


def train(config: str, seed: int, threads: int, out: Path, results: Path) -> Path:
    """Train one run of the plan (skipped when finished, resumed when interrupted), then ``finish`` it."""
    where = ts.run_dir(out, config, seed, threads)
    if (results / "runs" / where.name / SPLIT).is_file():  # kept already: a resumed study does not redo it
        print(f"[done] {where.name}", flush=True)
        return where
    if not (where / "metrics.json").is_file():
        print(f"[run ] {where}", flush=True)
        ts.run(ts.config_of(config, seed, threads, out, CONFIGS), ROOT)
    finish(where, results, threads)
    print(f"[kept] {results / 'runs' / where.name}", flush=True)
    return where


def last_validation(run: Path) -> dict[str, float]:
    """The plan's validation figures of a run: its last epoch's validation row of ``metrics.csv``."""
    log = pd.read_csv(run / "metrics.csv")
    rows = log.dropna(subset=[VAL[0]])
    if rows.empty:
        raise SystemExit(f"{run / 'metrics.csv'}: no validation row")
    last = rows.iloc[-1]
    return {"epoch": int(last["epoch"]), **{k: float(last[k]) for k in VAL}}


def choose(figures: dict[str, dict]) -> str:
    """The plan's rule: the candidate with the highest mean of validation order and motion, among the finished
    ones within ``T2A_MARGIN`` of ``ML``'s validation T2A R@1, if that mean is above ``ML``'s; else ``ML``."""
    def score(f):
        return (f["val/triplet/order_acc"] + f["val/triplet/motion_acc"]) / 2

    base = figures["ML"]
    best, best_score = "ML", score(base)
    for name in CANDIDATES:  # in the plan's order: a tie keeps the earlier one
        f = figures.get(name)
        if f is None or f["val/triplet/t2a/R@1"] < base["val/triplet/t2a/R@1"] - T2A_MARGIN:
            continue
        if score(f) > best_score:
            best, best_score = name, score(f)
    return best


def cmd_select(args) -> None:
    base = ts.run_dir(args.out, "ML", RERUN_SEED, THREADS)
    if not (args.results / "runs" / base.name / SPLIT).is_file():  # not kept yet
        if not (base / "metrics.json").is_file():  # make train's run of this code: the same settings, seed and threads
            src = ROOT / "runs" / "train"
            print(f"[copy] {src} -> {base} (make train's run; checkpoints left out)", flush=True)
            shutil.copytree(src, base, ignore=shutil.ignore_patterns("checkpoints"))
        finish(base, args.results, THREADS)
    figures = {"ML": last_validation(args.results / "runs" / base.name)}
    for name in CANDIDATES:
        try:
            where = train(name, RERUN_SEED, THREADS, args.out, args.results)
        except NonFiniteLossError as e:  # a run stopped by non-finite losses is out (the plan)
            print(f"[out ] {name}: {type(e).__name__}: {e}", flush=True)
            continue
        figures[name] = last_validation(args.results / "runs" / where.name)
    chosen = choose(figures)
    write_json_atomic({"rule": "PLAN.md, 'Choosing the candidate'", "validation": figures, "chosen": chosen},
                      args.results / "selection.json")  # fmt: skip
    print(json.dumps({"validation": figures, "chosen": chosen}, indent=1))


def chosen(results: Path) -> str:
    path = results / "selection.json"
    if not path.is_file():
        raise SystemExit(f"{path}: missing; run `select` first")
    return json.loads(path.read_text())["chosen"]


def phase2(c: str) -> list[tuple[str, int, int]]:
    return [(name, s, THREADS) for s in SEEDS[1:] for name in ("ML", c)] + [(c, RERUN_SEED, RERUN_THREADS)]


def cmd_run(args) -> None:
    c = chosen(args.results)
    if c == "ML":
        print("selection.json chose ML: the plan ends after phase 1 (no test split is read)")
        return
    for config, seed, threads in phase2(c):
        train(config, seed, threads, args.out, args.results)


def cmd_analyse(args) -> None:
    c = chosen(args.results)
    if c == "ML":
        raise SystemExit("selection.json chose ML: the plan reads no test split")
    runs = [("ML", RERUN_SEED, THREADS), (c, RERUN_SEED, THREADS)] + phase2(c)
    missing = [f"{n}_s{s}_t{t}" for n, s, t in runs if not (args.results / "runs" / f"{n}_s{s}_t{t}" / SPLIT).is_file()]
    if missing:  # the plan's rule: nothing of the test split is read before every run has its file
        raise SystemExit(f"{len(missing)} of {len(runs)} runs have no {SPLIT} yet ({', '.join(missing[:4])}); analyse waits for all")
    table = pd.DataFrame([{"config": n, "seed": s, "threads": t,
                           **json.loads((args.results / "runs" / f"{n}_s{s}_t{t}" / SPLIT).read_text())} for n, s, t in runs])  # fmt: skip
    main = table[table["threads"] == THREADS]
    comparisons = planned_comparisons(main, [{**x, "a": c, "b": "ML"} for x in COMPARISONS])
    spread = main.groupby("config")[REPORTED].agg(["mean", "std"]).stack(level=1, future_stack=True)
    pair = table[(table["config"] == c) & (table["seed"] == RERUN_SEED)].set_index("threads")
    rerun = [{"config": c, **{m: abs(pair.loc[THREADS, m] - pair.loc[RERUN_THREADS, m]) for m in REPORTED}}]
    ts.write_analysis(args.results, table, comparisons, spread, rerun)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("command", choices=("select", "run", "analyse"))
    ap.add_argument("--out", type=Path, default=ROOT / "runs" / "schedule_study", help="where the runs go")
    ap.add_argument("--results", type=Path, default=ROOT / "results" / "schedule_study", help="where they are kept")
    args = ap.parse_args(argv)
    {"select": cmd_select, "run": cmd_run, "analyse": cmd_analyse}[args.command](args)
    return 0


if __name__ == "__main__":
    sys.exit(main())

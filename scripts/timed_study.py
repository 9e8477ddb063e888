"""The timed-scenes study of ``results/timed_study/PLAN.md``: its runs, its held-out evaluation, its analysis.

    python scripts/timed_study.py run [--out runs/timed_study]            # every run, in the plan's order
    python scripts/timed_study.py run --configs A B --seeds 2025 [--threads 2]   # some of them
    python scripts/timed_study.py rerun [--out runs/timed_study]          # seed 2025 of each, 1 thread
    python scripts/timed_study.py evaluate [--out runs/timed_study]       # each export on the held-out split
    python scripts/timed_study.py analyse [--out runs/timed_study] [--results results/timed_study]

Everything the plan fixes is fixed here, as constants: the configurations (``CONFIGS``), the seeds,
the thread counts, the held-out split's seed (9103) and the comparisons C1-C7 with their metrics,
directions and margin (``COMPARISONS``). ``run`` trains each configuration and seed into
``OUT/{config}_s{seed}_t{threads}`` (a finished run is skipped, an interrupted one resumes), in the
order of the plan's amendment 1 (``ORDER``); as soon as a run ends it scores the run's export on the
held-out split (:func:`sclap_nb.evaluate.evaluate_corpus`, groups of all five clips) into
``heldout.json``, without printing it, writes ``host.json`` and copies the run's small files into
``results/timed_study/runs/<name>/`` (what a later session resumes from; the exports stay in ``OUT``).
``evaluate`` scores any run of ``OUT`` that has no ``heldout.json`` yet (and, amendment 2, no
``heldout_9311.json``: the reserved split, written for a later plan and read by nothing here). ``analyse`` refuses until
every planned run has its ``heldout.json``, then writes the table of runs, the planned comparisons
with Holm's correction (:func:`sclap_nb.ablation.planned_comparisons`), the seed spread and the
rerun noise, and ``analysis.md``: those tables in Markdown, as the study's README quotes them.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import sys
from pathlib import Path

import pandas as pd
import torch

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from sclap_nb.ablation import planned_comparisons  # noqa: E402
from sclap_nb.config import preset  # noqa: E402
from sclap_nb.data import ensure_corpus  # noqa: E402
from sclap_nb.evaluate import evaluate_corpus  # noqa: E402
from sclap_nb.files import write_json_atomic  # noqa: E402
from sclap_nb.run import run  # noqa: E402

TIMED = {"data.layout": "timed", "data.clip_seconds": 4.0}
CONFIGS = {  # on the default preset, as PLAN.md's table
    "A": {"model.use_temporal": False, "loss.use_ts_loss": False, "model.use_modality": False,
          "loss.triplet_contrastive": False},  # SALM baseline
    "A0": {"model.use_temporal": False, "loss.triplet_contrastive": False},  # the default run without the temporal path
    "S": {"model.temporal_readout": "mean", "model.temporal_token_norm": False},  # the specification's temporal encoder
    "B": {},  # the full model, the default run's encoder
}  # fmt: skip
EMBEDDING = {"A": "joint", "A0": "joint", "S": "triplet", "B": "triplet"}  # fixed in advance by the plan
SEEDS = (2025, 2026, 2027, 2028, 2029)
THREADS, RERUN_THREADS, RERUN_SEED = 2, 1, 2025
HELDOUT_SEED = 9103
RESERVED_SEED = 9311  # amendment 2: a second held-out split, scored for every run, read by no analysis of this plan


def _cmp(name, a, b, metric, alternative, margin=0.0):
    return {"name": name, "a": a, "b": b, "a_metric": f"{EMBEDDING[a]}/{metric}", "b_metric": f"{EMBEDDING[b]}/{metric}",
            "alternative": alternative, "margin": margin}  # fmt: skip


COMPARISONS = [
    _cmp("C1", "B", "A", "order_acc", "greater"), _cmp("C2", "B", "A", "motion_acc", "greater"),
    _cmp("C3", "B", "A0", "order_acc", "greater"), _cmp("C4", "B", "A0", "motion_acc", "greater"),
    _cmp("C5", "B", "S", "order_acc", "two-sided"), _cmp("C6", "B", "S", "motion_acc", "two-sided"),
    _cmp("C7", "B", "A", "t2a/R@1", "greater", margin=0.05),
]  # fmt: skip


# amendment 1: seed 2025 of A and B and their reruns first, then A and B's other seeds, then A0 and S
# (each rerun pair back to back, on one host)
ORDER = (
    [("A", RERUN_SEED, THREADS), ("B", RERUN_SEED, THREADS), ("A", RERUN_SEED, RERUN_THREADS), ("B", RERUN_SEED, RERUN_THREADS)]
    + [(c, s, THREADS) for s in SEEDS[1:] for c in ("A", "B")]
    + [(c, RERUN_SEED, t) for c in ("A0", "S") for t in (THREADS, RERUN_THREADS)]
    + [(c, s, THREADS) for s in SEEDS[1:] for c in ("A0", "S")]
)  # fmt: skip
KEPT = ("metrics.json", "metrics.csv", "run.json", "heldout.json", f"heldout_{RESERVED_SEED}.json", "host.json")  # into results/.../runs/


def run_dir(out: Path, config: str, seed: int, threads: int) -> Path:
    return out / f"{config}_s{seed}_t{threads}"


def config_of(config: str, seed: int, threads: int, out: Path, configs: dict = CONFIGS):
    return preset("default", {**TIMED, **configs[config], "runtime.seed": seed, "runtime.num_threads": threads,
                              "runtime.out_dir": str(run_dir(out, config, seed, threads))})  # fmt: skip


def host() -> dict:
    """The machine a run ran on (amendment 1): CPU model, cores, torch and its CPU kernel path."""
    cpuinfo = Path("/proc/cpuinfo")
    names = [line.split(":", 1)[1].strip() for line in cpuinfo.read_text().splitlines()
             if line.startswith("model name")] if cpuinfo.is_file() else []  # fmt: skip
    return {"cpu": names[0] if names else platform.processor(), "cores": os.cpu_count(), "torch": torch.__version__,
            "cpu_capability": torch.backends.cpu.get_cpu_capability(), "python": platform.python_version()}  # fmt: skip


#: the held-out splits a run of this plan is scored on, by file name: the plan's, and amendment 2's reserved one
SPLITS = {"heldout.json": HELDOUT_SEED, f"heldout_{RESERVED_SEED}.json": RESERVED_SEED}


def finish(where: Path, results: Path, threads: int, splits: dict = SPLITS, kept_files: tuple = KEPT) -> None:
    """Score a finished run on each held-out split (not printed), record the host, keep the small files."""
    for name, seed in splits.items():
        if not (where / name).is_file() and (where / "model").is_dir():
            write_json_atomic(evaluate_corpus(where / "model", heldout_corpus(seed), "test"), where / name)
    if not (where / "host.json").is_file():
        write_json_atomic({**host(), "num_threads": threads}, where / "host.json")
    kept = results / "runs" / where.name
    kept.mkdir(parents=True, exist_ok=True)
    for name in kept_files:
        found = sorted(where.glob(name)) or sorted(where.glob(f"logs/version_*/{name}"))  # the CSV log is under logs/
        if found:
            shutil.copyfile(found[-1], kept / name)


def cmd_run(args, runs, configs: dict = CONFIGS, splits: dict = SPLITS, kept_files: tuple = KEPT) -> None:
    """Train each run not yet kept (its first split's file in ``results/runs/<name>/``), then ``finish`` it."""
    for config, seed, threads in runs:
        where = run_dir(args.out, config, seed, threads)
        if (args.results / "runs" / where.name / next(iter(splits))).is_file():
            print(f"[done] {where.name}", flush=True)
            continue
        if not (where / "metrics.json").is_file():
            print(f"[run ] {where}", flush=True)
            run(config_of(config, seed, threads, args.out, configs), ROOT)
        finish(where, args.results, threads, splits, kept_files)
        print(f"[kept] {args.results / 'runs' / where.name}", flush=True)


def heldout_corpus(seed: int = HELDOUT_SEED) -> Path:
    return ensure_corpus(ROOT / f"data/timed-heldout-s{seed}", n_train=0, n_val=0, n_test=128, seed=seed,
                         clip_seconds=TIMED["data.clip_seconds"], layout="timed", progress=False)  # fmt: skip


def collect(kept: Path) -> pd.DataFrame:
    rows = []
    for path in sorted(kept.glob("*_s*_t*/heldout.json")):
        config, seed, threads = path.parent.name.rsplit("_", 2)
        rows.append({"config": config, "seed": int(seed[1:]), "threads": int(threads[1:]), **json.loads(path.read_text())})
    return pd.DataFrame(rows)


def cmd_analyse(args) -> None:
    missing = [f"{c}_s{s}_t{t}" for c, s, t in ORDER if not (args.results / "runs" / f"{c}_s{s}_t{t}" / "heldout.json").is_file()]
    if missing:  # the plan's rule: nothing of the held-out split is read before the last run has ended
        raise SystemExit(f"{args.results / 'runs'}: {len(missing)} of {len(ORDER)} planned runs have no heldout.json yet "
                         f"({', '.join(missing[:4])}{', ...' if len(missing) > 4 else ''}); analyse waits for all")  # fmt: skip
    table = collect(args.results / "runs")
    main = table[table["threads"] == THREADS]
    comparisons = planned_comparisons(main, COMPARISONS)
    metrics = sorted({c["a_metric"] for c in COMPARISONS} | {c["b_metric"] for c in COMPARISONS})
    # rows (configuration, mean / std), one column per metric: the shape of the other studies' tables
    spread = main.groupby("config")[metrics].agg(["mean", "std"]).stack(level=1, future_stack=True)
    rerun = []
    for config in CONFIGS:
        pair = table[(table["config"] == config) & (table["seed"] == RERUN_SEED)].set_index("threads")
        if {THREADS, RERUN_THREADS} <= set(pair.index):
            rerun.append({"config": config, **{m: abs(pair.loc[THREADS, m] - pair.loc[RERUN_THREADS, m]) for m in metrics}})
    write_analysis(args.results, table, comparisons, spread, rerun)


def write_analysis(results: Path, table: pd.DataFrame, comparisons: pd.DataFrame, spread: pd.DataFrame, rerun: list) -> None:
    """A study's analysis files: the runs, the planned comparisons, the seed spread (rows: configuration
    and ``mean`` / ``std``; a column per metric) and the rerun noise; and ``analysis.md``, the three
    tables as the study's README quotes them (:func:`sclap_nb.report.analysis_markdown`)."""
    from sclap_nb.report import analysis_markdown

    results.mkdir(parents=True, exist_ok=True)
    table.to_csv(results / "runs.csv", index=False)
    comparisons.to_csv(results / "comparisons.csv", index=False)
    spread.to_csv(results / "seed_spread.csv")
    pd.DataFrame(rerun).to_csv(results / "rerun_noise.csv", index=False)
    (results / "analysis.md").write_text(analysis_markdown(comparisons, spread, pd.DataFrame(rerun)))
    print(comparisons.round(4).to_string(index=False))


def cmd_evaluate(args, splits: dict = SPLITS, kept_files: tuple = KEPT) -> None:
    """``finish`` every run of ``args.out`` that has ended (scores what is missing, keeps the small files)."""
    for where in sorted(args.out.glob("*_s*_t*")):
        if (where / "metrics.json").is_file():
            finish(where, args.results, int(where.name.rsplit("_t", 1)[1]), splits, kept_files)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("command", choices=("run", "rerun", "evaluate", "analyse"))
    ap.add_argument("--out", type=Path, default=ROOT / "runs" / "timed_study", help="where the runs go")
    ap.add_argument("--results", type=Path, default=ROOT / "results" / "timed_study", help="where analyse writes")
    ap.add_argument("--configs", nargs="+", default=list(CONFIGS), choices=list(CONFIGS))
    ap.add_argument("--seeds", nargs="+", type=int, default=list(SEEDS))
    ap.add_argument("--threads", type=int, choices=(THREADS, RERUN_THREADS), help="only the runs with this thread count")
    args = ap.parse_args(argv)
    if args.command == "run":
        chosen = [(c, s, t) for c, s, t in ORDER if c in args.configs and s in args.seeds]
        cmd_run(args, chosen if args.threads is None else [(c, s, t) for c, s, t in chosen if t == args.threads])
    elif args.command == "rerun":
        cmd_run(args, [(c, RERUN_SEED, RERUN_THREADS) for c in args.configs])
    elif args.command == "evaluate":
        cmd_evaluate(args)
    else:
        cmd_analyse(args)
    return 0


if __name__ == "__main__":
    sys.exit(main())

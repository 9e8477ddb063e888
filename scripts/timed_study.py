"""The timed-scenes study of ``results/timed_study/PLAN.md``: its runs, its held-out evaluation, its analysis.

    python scripts/timed_study.py run [--configs A A0 S B] [--seeds 2025 ...] [--threads 2] [--out runs/timed_study]
    python scripts/timed_study.py rerun [--out runs/timed_study]          # seed 2025 of each, 1 thread
    python scripts/timed_study.py evaluate [--out runs/timed_study]       # each export on the held-out split
    python scripts/timed_study.py analyse [--out runs/timed_study] [--results results/timed_study]

Everything the plan fixes is fixed here, as constants: the configurations (``CONFIGS``), the seeds,
the thread counts, the held-out split's seed (9103) and the comparisons C1-C7 with their metrics,
directions and margin (``COMPARISONS``). ``run`` trains each configuration and seed into
``OUT/{config}_s{seed}_t{threads}`` (a finished run is skipped, an interrupted one resumes);
``evaluate`` builds the held-out split once and writes ``heldout.json`` beside each run's
``metrics.json`` (:func:`sclap_nb.evaluate.evaluate_corpus`, groups of all five clips); ``analyse``
writes the table of runs, the planned comparisons with Holm's correction
(:func:`sclap_nb.ablation.planned_comparisons`), the seed spread and the rerun noise.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import pandas as pd

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


def _cmp(name, a, b, metric, alternative, margin=0.0):
    return {"name": name, "a": a, "b": b, "a_metric": f"{EMBEDDING[a]}/{metric}", "b_metric": f"{EMBEDDING[b]}/{metric}",
            "alternative": alternative, "margin": margin}  # fmt: skip


COMPARISONS = [
    _cmp("C1", "B", "A", "order_acc", "greater"), _cmp("C2", "B", "A", "motion_acc", "greater"),
    _cmp("C3", "B", "A0", "order_acc", "greater"), _cmp("C4", "B", "A0", "motion_acc", "greater"),
    _cmp("C5", "B", "S", "order_acc", "two-sided"), _cmp("C6", "B", "S", "motion_acc", "two-sided"),
    _cmp("C7", "B", "A", "t2a/R@1", "greater", margin=0.05),
]  # fmt: skip


def run_dir(out: Path, config: str, seed: int, threads: int) -> Path:
    return out / f"{config}_s{seed}_t{threads}"


def config_of(config: str, seed: int, threads: int, out: Path):
    return preset("default", {**TIMED, **CONFIGS[config], "runtime.seed": seed, "runtime.num_threads": threads,
                              "runtime.out_dir": str(run_dir(out, config, seed, threads))})  # fmt: skip


def cmd_run(args, pairs) -> None:
    for config, seed, threads in pairs:
        where = run_dir(args.out, config, seed, threads)
        if (where / "metrics.json").is_file():
            print(f"[skip] {where}", flush=True)
            continue
        print(f"[run ] {where}", flush=True)
        run(config_of(config, seed, threads, args.out), ROOT)


def heldout_corpus() -> Path:
    return ensure_corpus(ROOT / f"data/timed-heldout-s{HELDOUT_SEED}", n_train=0, n_val=0, n_test=128, seed=HELDOUT_SEED,
                         clip_seconds=TIMED["data.clip_seconds"], layout="timed", progress=False)  # fmt: skip


def cmd_evaluate(args) -> None:
    corpus = heldout_corpus()
    for where in sorted(args.out.glob("*_s*_t*/model")):
        target = where.parent / "heldout.json"
        if target.is_file():
            continue
        print(f"[eval] {where.parent}", flush=True)
        write_json_atomic(evaluate_corpus(where, corpus, "test"), target)


def collect(out: Path) -> pd.DataFrame:
    rows = []
    for path in sorted(out.glob("*_s*_t*/heldout.json")):
        config, seed, threads = path.parent.name.rsplit("_", 2)
        rows.append({"config": config, "seed": int(seed[1:]), "threads": int(threads[1:]), **json.loads(path.read_text())})
    return pd.DataFrame(rows)


def cmd_analyse(args) -> None:
    table = collect(args.out)
    if table.empty:
        raise SystemExit(f"{args.out}: no heldout.json yet (run, then evaluate)")
    main = table[table["threads"] == THREADS]
    comparisons = planned_comparisons(main, COMPARISONS)
    metrics = sorted({c["a_metric"] for c in COMPARISONS} | {c["b_metric"] for c in COMPARISONS})
    spread = main.groupby("config")[metrics].agg(["mean", "std"])
    rerun = []
    for config in CONFIGS:
        pair = table[(table["config"] == config) & (table["seed"] == RERUN_SEED)].set_index("threads")
        if {THREADS, RERUN_THREADS} <= set(pair.index):
            rerun.append({"config": config, **{m: abs(pair.loc[THREADS, m] - pair.loc[RERUN_THREADS, m]) for m in metrics}})
    args.results.mkdir(parents=True, exist_ok=True)
    table.to_csv(args.results / "runs.csv", index=False)
    comparisons.to_csv(args.results / "comparisons.csv", index=False)
    spread.to_csv(args.results / "seed_spread.csv")
    pd.DataFrame(rerun).to_csv(args.results / "rerun_noise.csv", index=False)
    print(comparisons.round(4).to_string(index=False))


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("command", choices=("run", "rerun", "evaluate", "analyse"))
    ap.add_argument("--out", type=Path, default=ROOT / "runs" / "timed_study", help="where the runs go")
    ap.add_argument("--results", type=Path, default=ROOT / "results" / "timed_study", help="where analyse writes")
    ap.add_argument("--configs", nargs="+", default=list(CONFIGS), choices=list(CONFIGS))
    ap.add_argument("--seeds", nargs="+", type=int, default=list(SEEDS))
    args = ap.parse_args(argv)
    if args.command == "run":
        cmd_run(args, [(c, s, THREADS) for s in args.seeds for c in args.configs])
    elif args.command == "rerun":
        cmd_run(args, [(c, RERUN_SEED, RERUN_THREADS) for c in args.configs])
    elif args.command == "evaluate":
        cmd_evaluate(args)
    else:
        cmd_analyse(args)
    return 0


if __name__ == "__main__":
    sys.exit(main())

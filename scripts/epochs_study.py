"""The study of ``results/epochs_study/PLAN.md``: ``ME`` trained three times as long.

    python scripts/epochs_study.py check      # the rebuilt splits: MA_s2025's float16 export against its stored scores
    python scripts/epochs_study.py run        # every run of ME12, in the plan's order (scored, not printed)
    python scripts/epochs_study.py analyse    # refuses until every run of ME12 and the reused scores of ME and MT are there

What the plan fixes is fixed here: configuration ``ME12`` (``CONFIGS``: ``ME`` of ``results/ends_study`` with
``optim.epochs`` 12 instead of 4), the seeds and thread counts, the test splits of ``results/scorers_study`` (seed
4817, ``mix`` and ``pkg``), the reused scores of ``ME`` (``results/ends_study/runs/``) and ``MT``
(``results/scorers_study/runs/``) on them, and the comparisons L1-L5 (``COMPARISONS``). Runs are those of
``scripts/doa_study.py``; scoring that of ``scripts/scorers_study.py``.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import doa_study as ds  # noqa: E402
import ends_study as es  # noqa: E402
import scorers_study as ss  # noqa: E402

import pandas as pd  # noqa: E402

from sclap_nb.ablation import t_interval  # noqa: E402
from sclap_nb.files import atomic_write, write_json_atomic  # noqa: E402

ROOT = ds.ROOT
SPLIT = ss.SPLIT
EPOCHS = 12
CONFIGS = {"ME12": {**es.CONFIGS["ME"], "optim.epochs": EPOCHS}}
#: the five seeds first, the 1-thread rerun of seed 2025 last
ORDER = [("ME12", s, ds.THREADS) for s in ds.SEEDS] + [("ME12", ds.RERUN_SEED, ds.RERUN_THREADS)]
ENDS_RESULTS = ROOT / "results" / "ends_study"
SCORERS_RESULTS = ROOT / "results" / "scorers_study"


def _cmp(name, b, a_metric, b_metric, alternative="greater", margin=0.0):
    return {"name": name, "a": "ME12", "b": b, "a_metric": a_metric, "b_metric": b_metric, "alternative": alternative,
            "margin": margin}  # fmt: skip


COMPARISONS = [
    _cmp("L1", "ME", "mix/combined/order_acc", "mix/combined/order_acc"),  # longer training: the sum's order
    _cmp("L2", "ME", "mix/combined/motion_acc", "mix/combined/motion_acc"),  # ... its motion
    _cmp("L3", "ME", "mix/combined/t2a/R@1", "mix/combined/t2a/R@1"),  # ... its search
    _cmp("L4", "MT", "mix/combined/order_acc", "mix/triplet/order_acc"),  # the sum above MT's triplet embedding: order
    _cmp("L5", "MT", "mix/combined/motion_acc", "mix/triplet/motion_acc"),  # ... and motion
]
REPORTED = list(dict.fromkeys([c["a_metric"] for c in COMPARISONS] + [c["b_metric"] for c in COMPARISONS] + [
    "mix/triplet/order_acc", "mix/triplet/motion_acc", "mix/triplet/t2a/R@1", "mix/aligned/order_acc", "mix/aligned/motion_acc",
    "mix/aligned/t2a/R@1", "mix/combined/place_acc", "mix/LE_deg", "pkg/combined/order_acc", "pkg/combined/motion_acc",
    "pkg/combined/t2a/R@1", "pkg/triplet/order_acc", "pkg/triplet/motion_acc",
]))  # fmt: skip


#: the issue's goal (not a test): the seed mean of each, with its 95 % t-interval over the five seeds, against GOAL
GOAL_METRICS, GOAL = ("mix/combined/order_acc", "mix/combined/motion_acc"), 0.9


def goal_table(runs: pd.DataFrame, metrics=GOAL_METRICS, goal: float = GOAL) -> pd.DataFrame:
    """``ME12``'s seed mean of each of ``metrics`` (its runs at ``ds.THREADS`` threads) with its 95 % t-interval,
    and whether the goal is met (the mean at least ``goal``) and met with its interval (its lower end)."""
    main = runs[(runs["config"] == "ME12") & (runs["threads"] == ds.THREADS)]
    rows = []
    for m in metrics:
        lo, hi = t_interval(main[m])
        mean = float(main[m].mean())
        rows.append({"metric": m, "seeds": int(main[m].notna().sum()), "mean": mean, "ci_low": lo, "ci_high": hi,
                     "goal": goal, "met": mean >= goal, "met_with_interval": lo >= goal})  # fmt: skip
    return pd.DataFrame(rows)


def analyse(args) -> None:
    """The plan's analysis (``ds.analyse_variant``), then the goal: ``goal.csv``, and its table added to ``analysis.md``."""
    ds.analyse_variant(args, "ME12", ORDER, COMPARISONS, REPORTED, reused(args), split=SPLIT)
    goal = goal_table(pd.read_csv(args.results / "runs.csv"))
    goal.to_csv(args.results / "goal.csv", index=False)
    shown = goal.assign(**{"95 % interval": [f"[{a:.3f}, {b:.3f}]" for a, b in zip(goal["ci_low"], goal["ci_high"])]})
    text = (args.results / "analysis.md").read_text()
    text += ("\n## The goal (not a test)\n\n" + shown[["metric", "seeds", "mean", "95 % interval", "goal", "met", "met_with_interval"]]
             .to_markdown(index=False, floatfmt=".3f") + "\n\nME12's seed means (2 threads) with their t-intervals over the "
             "seeds; met: the mean at least the goal; met with its interval: the interval's lower end at least the goal.\n")
    atomic_write(args.results / "analysis.md", text)


def reused(args) -> list:
    """The scores this plan compares with: ``ME``'s (4 epochs) and ``MT``'s on the same splits, five seeds and a rerun each."""
    return [("ME", s, t, args.ends_results) for s, t in ss.RUNS] + [("MT", s, t, args.scorers_results) for s, t in ss.RUNS]


def check(args) -> dict:
    """``results/aligned_study/model_MA_s2025`` (float16) scored on the splits as rebuilt here, beside the scores
    that ``results/scorers_study`` stored for ``MA_s2025_t2`` (its full-precision export) on the splits as built
    then: ``{metric: {"stored", "rebuilt", "difference"}}`` for the plan's metrics, written to ``split_check.json``."""
    stored = json.loads((args.scorers_results / "runs" / "MA_s2025_t2" / SPLIT).read_text())
    rebuilt = ss.score(args.aligned_results / "model_MA_s2025", ss.splits())
    out = {k: {"stored": stored[k], "rebuilt": rebuilt[k], "difference": rebuilt[k] - stored[k]}
           for k in REPORTED if k in stored and k in rebuilt}  # fmt: skip
    args.results.mkdir(parents=True, exist_ok=True)
    write_json_atomic(out, args.results / "split_check.json")
    return out


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("command", choices=("check", "run", "analyse"))
    ap.add_argument("--out", type=Path, default=ROOT / "runs" / "epochs_study", help="where the runs of ME12 go")
    ap.add_argument("--results", type=Path, default=ROOT / "results" / "epochs_study", help="where they are kept")
    ap.add_argument("--ends-results", type=Path, default=ENDS_RESULTS, help="results/ends_study (ME)")
    ap.add_argument("--scorers-results", type=Path, default=SCORERS_RESULTS, help="results/scorers_study (MT)")
    ap.add_argument("--aligned-results", type=Path, default=ROOT / "results" / "aligned_study", help="its export model_MA_s2025")
    args = ap.parse_args(argv)
    if args.command == "check":
        for k, v in check(args).items():
            print(f"{k:28s} stored {v['stored']:.4f}  rebuilt {v['rebuilt']:.4f}  difference {v['difference']:+.4f}")
    elif args.command == "run":
        ds.run_variant(args, ORDER, CONFIGS, split=SPLIT, split_dirs=ss.splits, score=ss.score)
    else:
        analyse(args)
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""The study of ``results/ends_study/PLAN.md``: a moving source's origin and destination as items of their own.

    python scripts/ends_study.py run        # every run of ME, in the plan's order (scored, not printed)
    python scripts/ends_study.py analyse    # refuses until every run of ME and the reused scores of MA and MT are there

What the plan fixes is fixed here: configuration ``ME`` (``CONFIGS``: ``MA`` of ``results/aligned_study`` with
``model.align_path_items`` ends), the seeds and thread counts, the test splits of ``results/scorers_study`` (seed
4817, ``mix`` and ``pkg``), the reused scores of ``MA`` and ``MT`` on them (``results/scorers_study/runs/``) and the
comparisons E1-E5 (``COMPARISONS``). Runs are those of ``scripts/doa_study.py``; scoring that of
``scripts/scorers_study.py``.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import aligned_study as als  # noqa: E402
import doa_study as ds  # noqa: E402
import scorers_study as ss  # noqa: E402

ROOT = ds.ROOT
SPLIT = ss.SPLIT
CONFIGS = {"ME": {**als.CONFIGS["MA"], "model.align_path_items": "ends"}}
#: the five seeds first, the 1-thread rerun of seed 2025 last
ORDER = [("ME", s, ds.THREADS) for s in ds.SEEDS] + [("ME", ds.RERUN_SEED, ds.RERUN_THREADS)]
SCORERS_RESULTS = ROOT / "results" / "scorers_study"


def _cmp(name, b, a_metric, b_metric, alternative, margin=0.0):
    return {"name": name, "a": "ME", "b": b, "a_metric": a_metric, "b_metric": b_metric, "alternative": alternative,
            "margin": margin}  # fmt: skip


COMPARISONS = [
    _cmp("E1", "MA", "mix/aligned/motion_acc", "mix/aligned/motion_acc", "greater"),  # the ends as items: motion
    _cmp("E2", "MT", "mix/combined/motion_acc", "mix/triplet/motion_acc", "greater", 0.05),  # the sum keeps motion
    _cmp("E3", "MT", "mix/combined/order_acc", "mix/triplet/order_acc", "greater"),  # ... hears the order
    _cmp("E4", "MA", "mix/combined/order_acc", "mix/combined/order_acc", "greater", 0.05),  # ... as MA's sum did
    _cmp("E5", "MT", "mix/combined/t2a/R@1", "mix/triplet/t2a/R@1", "greater"),  # ... and searches
]
REPORTED = list(dict.fromkeys([c["a_metric"] for c in COMPARISONS] + [c["b_metric"] for c in COMPARISONS] + [
    "mix/aligned/order_acc", "mix/aligned/place_acc", "mix/aligned/t2a/R@1", "mix/combined/place_acc",
    "mix/triplet/order_acc", "mix/triplet/motion_acc", "mix/triplet/t2a/R@1", "mix/LE_deg", "pkg/combined/order_acc",
    "pkg/combined/motion_acc", "pkg/combined/t2a/R@1", "pkg/aligned/motion_acc",
]))  # fmt: skip


def reused(args) -> list:
    """The scores this plan compares with: ``MA``'s and ``MT``'s on the same splits (five seeds and a rerun each)."""
    return [(c, s, t, args.scorers_results) for c in ("MA", "MT") for s, t in ss.RUNS]


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("command", choices=("run", "analyse"))
    ap.add_argument("--out", type=Path, default=ROOT / "runs" / "ends_study", help="where the runs of ME go")
    ap.add_argument("--results", type=Path, default=ROOT / "results" / "ends_study", help="where they are kept")
    ap.add_argument("--scorers-results", type=Path, default=SCORERS_RESULTS, help="results/scorers_study (MA, MT)")
    args = ap.parse_args(argv)
    if args.command == "run":
        ds.run_variant(args, ORDER, CONFIGS, split=SPLIT, split_dirs=ss.splits, score=ss.score)
    else:
        ds.analyse_variant(args, "ME", ORDER, COMPARISONS, REPORTED, reused(args), split=SPLIT)
    return 0


if __name__ == "__main__":
    sys.exit(main())

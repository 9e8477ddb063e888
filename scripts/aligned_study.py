"""The study of ``results/aligned_study/PLAN.md``: a caption's events scored against the clip's frames in order.

    python scripts/aligned_study.py run        # every run of MA, in the plan's order (scored, not printed)
    python scripts/aligned_study.py analyse    # refuses until every run of MA and the reused runs of MT have their split file

What the plan fixes is fixed here: configuration ``MA`` (``CONFIGS``: ``MT`` of ``results/frames_study`` with the
aligned scoring, ``model.align_dim`` 256, trained by ``loss.w_align`` 1), the reused runs of ``MT``
(``results/frames_study/runs/``), the seeds and thread counts, the test splits (``results/library_study``'s, seed
9661) and the comparisons A1-A5 (``COMPARISONS``). Runs and scoring are those of ``scripts/doa_study.py``.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import doa_study as ds  # noqa: E402
import frames_study as fs  # noqa: E402

ROOT = ds.ROOT
CONFIGS = {"MA": {**fs.CONFIGS["MT"], "model.align_dim": 256, "loss.w_align": 1.0}}
#: the five seeds first, the 1-thread rerun of seed 2025 last
ORDER = [("MA", s, ds.THREADS) for s in ds.SEEDS] + [("MA", ds.RERUN_SEED, ds.RERUN_THREADS)]
FRAMES_RESULTS = ROOT / "results" / "frames_study"


def _cmp(name, a_metric, b_metric, alternative, margin=0.0):
    return {"name": name, "a": "MA", "b": "MT", "a_metric": a_metric, "b_metric": b_metric, "alternative": alternative,
            "margin": margin}  # fmt: skip


COMPARISONS = [
    _cmp("A1", "mix/aligned/order_acc", "mix/triplet/order_acc", "greater"),  # the aligned scores: which sound comes first
    _cmp("A2", "mix/aligned/place_acc", "mix/triplet/place_acc", "greater"),  # ... which sound is where
    _cmp("A3", "mix/aligned/t2a/R@1", "mix/triplet/t2a/R@1", "greater"),  # ... search
    _cmp("A4", "mix/triplet/order_acc", "mix/triplet/order_acc", "greater"),  # L_align's effect on the triplet embedding
    _cmp("A5", "mix/triplet/motion_acc", "mix/triplet/motion_acc", "greater", 0.05),  # motion not lost (margin 0.05)
]
REPORTED = list(dict.fromkeys([c["a_metric"] for c in COMPARISONS] + [c["b_metric"] for c in COMPARISONS] + [
    "mix/aligned/motion_acc", "mix/triplet/place_acc", "mix/joint/t2a/R@1", "sf/aligned/order_acc", "sf/triplet/order_acc",
    "pkg/aligned/order_acc", "pkg/triplet/order_acc", "pkg/aligned/t2a/R@1", "pkg/triplet/t2a/R@1", "mix/LE_deg",
    "pkgcls/sed/zero_shot_acc",
]))  # fmt: skip


def reused(args) -> list:
    """The runs this plan compares with: ``MT``'s five seeds and its 1-thread rerun."""
    seeds = [(s, ds.THREADS) for s in ds.SEEDS] + [(ds.RERUN_SEED, ds.RERUN_THREADS)]
    return [("MT", s, t, args.frames_results) for s, t in seeds]


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("command", choices=("run", "analyse"))
    ap.add_argument("--out", type=Path, default=ROOT / "runs" / "aligned_study", help="where the runs of MA go")
    ap.add_argument("--results", type=Path, default=ROOT / "results" / "aligned_study", help="where they are kept")
    ap.add_argument("--frames-results", type=Path, default=FRAMES_RESULTS, help="results/frames_study (MT)")
    args = ap.parse_args(argv)
    if args.command == "run":
        ds.run_variant(args, ORDER, CONFIGS)
    else:
        ds.analyse_variant(args, "MA", ORDER, COMPARISONS, REPORTED, reused(args))
    return 0


if __name__ == "__main__":
    sys.exit(main())

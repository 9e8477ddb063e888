"""The study of ``results/frames_study/PLAN.md``: aiSFX's frames in the temporal path.

    python scripts/frames_study.py run        # every run of MT, in the plan's order (scored, not printed)
    python scripts/frames_study.py analyse    # refuses until every run of MT and the reused runs of MP and ML have their split file

What the plan fixes is fixed here: configuration ``MT`` (``CONFIGS``: ``MP`` of ``results/pretrained_study`` with
``model.temporal_pretrained``), the reused runs of ``MP`` (``results/pretrained_study/runs/``) and ``ML``
(``results/library_study/runs/``), the seeds and thread counts, the test splits (``results/library_study``'s,
seed 9661) and the comparisons T1-T5 (``COMPARISONS``). Runs and scoring are those of ``scripts/doa_study.py``.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import doa_study as ds  # noqa: E402
import pretrained_study as ps  # noqa: E402

ROOT = ds.ROOT
CONFIGS = {"MT": {**ps.CONFIGS["MP"], "model.temporal_pretrained": True}}
#: the five seeds first, the 1-thread rerun of seed 2025 last
ORDER = [("MT", s, ds.THREADS) for s in ds.SEEDS] + [("MT", ds.RERUN_SEED, ds.RERUN_THREADS)]
PRETRAINED_RESULTS = ROOT / "results" / "pretrained_study"


def _cmp(name, metric, alternative, margin=0.0, b="MP"):
    return {"name": name, "a": "MT", "b": b, "a_metric": metric, "b_metric": metric, "alternative": alternative,
            "margin": margin}  # fmt: skip


COMPARISONS = [
    _cmp("T1", "mix/triplet/order_acc", "greater"),  # the frames: which sound comes first
    _cmp("T2", "mix/triplet/place_acc", "greater"),  # ... which sound is where
    _cmp("T3", "mix/triplet/motion_acc", "greater", 0.05),  # motion not lost (non-inferiority, margin 0.05)
    _cmp("T4", "mix/triplet/t2a/R@1", "greater", 0.05),  # search not lost (non-inferiority, margin 0.05)
    _cmp("T5", "mix/triplet/order_acc", "greater", b="ML"),  # order against the main job's configuration
]
REPORTED = list(dict.fromkeys(c["a_metric"] for c in COMPARISONS)) + [
    "mix/joint/order_acc", "mix/joint/t2a/R@1", "sf/triplet/order_acc", "sf/triplet/motion_acc", "sf/triplet/place_acc",
    "pkg/triplet/order_acc", "pkg/triplet/motion_acc", "pkg/triplet/t2a/R@1", "pkgcls/sed/zero_shot_acc",
    "pkgcls/triplet/zero_shot_acc", "mix/LE_deg",
]  # fmt: skip


def reused(args) -> list:
    """The runs this plan compares with: ``MP``'s and ``ML``'s five seeds and their 1-thread reruns."""
    seeds = [(s, ds.THREADS) for s in ds.SEEDS] + [(ds.RERUN_SEED, ds.RERUN_THREADS)]
    return [("MP", s, t, args.pretrained_results) for s, t in seeds] + [("ML", s, t, args.library_results) for s, t in seeds]


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("command", choices=("run", "analyse"))
    ap.add_argument("--out", type=Path, default=ROOT / "runs" / "frames_study", help="where the runs of MT go")
    ap.add_argument("--results", type=Path, default=ROOT / "results" / "frames_study", help="where they are kept")
    ap.add_argument("--pretrained-results", type=Path, default=PRETRAINED_RESULTS, help="results/pretrained_study (MP)")
    ap.add_argument("--library-results", type=Path, default=ds.LIBRARY_RESULTS, help="results/library_study (ML)")
    args = ap.parse_args(argv)
    if args.command == "run":
        ds.run_variant(args, ORDER, CONFIGS)
    else:
        ds.analyse_variant(args, "MT", ORDER, COMPARISONS, REPORTED, reused(args))
    return 0


if __name__ == "__main__":
    sys.exit(main())

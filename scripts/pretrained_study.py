"""The study of ``results/pretrained_study/PLAN.md``: pretrained sound-effects features in the semantic branch.

    python scripts/pretrained_study.py run        # every run of MP, in the plan's order (scored, not printed)
    python scripts/pretrained_study.py analyse    # refuses until every run of MP and the reused runs of ML have their split file

What the plan fixes is fixed here: configuration ``MP`` (``CONFIGS``: ``ML`` of ``results/library_study`` with
``model.semantic_pretrained`` aisfx), the reused runs of ``ML`` (their scores in ``results/library_study/runs/``),
the seeds and thread counts, the test splits (``results/library_study``'s, seed 9661) and the comparisons P1-P5
(``COMPARISONS``). Runs and scoring are those of ``scripts/doa_study.py`` (a variant of ``ML`` against ``ML``).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import doa_study as ds  # noqa: E402
import library_study as ls  # noqa: E402

ROOT = ds.ROOT
CONFIGS = {"MP": {**ls.CONFIGS["ML"], "model.semantic_pretrained": "aisfx"}}
#: the five seeds first, the 1-thread rerun of seed 2025 last
ORDER = [("MP", s, ds.THREADS) for s in ds.SEEDS] + [("MP", ds.RERUN_SEED, ds.RERUN_THREADS)]


def _cmp(name, metric, alternative, margin=0.0):
    return {"name": name, "a": "MP", "b": "ML", "a_metric": metric, "b_metric": metric, "alternative": alternative,
            "margin": margin}  # fmt: skip


COMPARISONS = [
    _cmp("P1", "pkgcls/sed/zero_shot_acc", "greater"),  # naming a never-heard recording: the semantic branch
    _cmp("P2", "pkgcls/triplet/zero_shot_acc", "greater"),  # ... and the triplet embedding
    _cmp("P3", "pkg/triplet/t2a/R@1", "greater"),  # search in scenes of never-heard packages
    _cmp("P4", "mix/triplet/t2a/R@1", "greater"),  # search in the main job's own kind of scene
    _cmp("P5", "mix/triplet/order_acc", "greater", 0.05),  # order not lost (non-inferiority, margin 0.05)
]
REPORTED = [c["a_metric"] for c in COMPARISONS] + [
    "pkgcls/joint/zero_shot_acc", "libcls/sed/zero_shot_acc", "libcls/triplet/zero_shot_acc", "mix/triplet/motion_acc",
    "mix/triplet/place_acc", "mix/joint/t2a/R@1", "pkg/triplet/order_acc", "pkg/triplet/motion_acc", "sf/triplet/t2a/R@1",
    "sf/triplet/order_acc", "sf/triplet/motion_acc", "mix/LE_deg",
]  # fmt: skip


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("command", choices=("run", "analyse"))
    ap.add_argument("--out", type=Path, default=ROOT / "runs" / "pretrained_study", help="where the runs of MP go")
    ap.add_argument("--results", type=Path, default=ROOT / "results" / "pretrained_study", help="where they are kept")
    ap.add_argument("--library-results", type=Path, default=ds.LIBRARY_RESULTS, help="results/library_study (the reused runs of ML)")
    args = ap.parse_args(argv)
    if args.command == "run":
        ds.run_variant(args, ORDER, CONFIGS)
    else:
        ds.analyse_variant(args, "MP", ORDER, COMPARISONS, REPORTED)
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""The study of ``results/main_study/PLAN.md``: the full model and the SALM baseline on timed scenes at the main job's size.

    python scripts/main_study.py run [--out runs/main_study]       # every run of M and MA, in the plan's order
    python scripts/main_study.py evaluate [--out runs/main_study]  # each export on the plan's held-out split
    python scripts/main_study.py analyse

What the plan fixes is fixed here: configurations ``M`` (``--preset timed``, configuration P of
``results/paths_study``, cut to ``EPOCHS`` epochs so that the main job fits its budget) and ``MA`` (the
SALM baseline ``A`` of ``results/timed_study`` at the same size), their seeds and thread counts, the
held-out split (seed ``HELDOUT_SEED``, built and read by nothing before ``analyse``) and the comparisons
F1-F5 (``COMPARISONS``). ``run``, ``evaluate`` and ``analyse`` work as in ``scripts/ordered_study.py``.
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import ordered_study as os_  # noqa: E402
import timed_study as ts  # noqa: E402

from sclap_nb.config import TIMED  # noqa: E402

EPOCHS = 4  # 4 x 32 steps: the main job's budget on this project's 2-core machine (PLAN.md, "Size")
HELDOUT_SEED = 9547
CONFIGS = {
    "M": {**TIMED, "optim.epochs": EPOCHS},  # configuration P of results/paths_study, at the main job's size
    "MA": {**ts.CONFIGS["A"], "optim.epochs": EPOCHS},  # the SALM baseline (A of results/timed_study), same size
}  # fmt: skip
SEEDS, THREADS, RERUN_THREADS, RERUN_SEED = ts.SEEDS, ts.THREADS, ts.RERUN_THREADS, ts.RERUN_SEED
SPLIT = f"heldout_{HELDOUT_SEED}.json"
SPLITS = {SPLIT: HELDOUT_SEED}
KEPT = ("metrics.json", "metrics.csv", "run.json", SPLIT, "host.json")
# seed 2025 of both and their reruns (each pair back to back, on one host), then the other seeds
ORDER = ([(c, RERUN_SEED, t) for c in ("M", "MA") for t in (THREADS, RERUN_THREADS)]
         + [(c, s, THREADS) for s in SEEDS[1:] for c in ("M", "MA")])  # fmt: skip
EMBEDDING = {"M": "triplet", "MA": "joint"}


def _cmp(name, a, b, metric, alternative, margin=0.0, b_emb=None):
    return {"name": name, "a": a, "b": b, "a_metric": f"{EMBEDDING[a]}/{metric}",
            "b_metric": f"{b_emb or EMBEDDING[b]}/{metric}", "alternative": alternative, "margin": margin}  # fmt: skip


COMPARISONS = [
    _cmp("F1", "M", "MA", "order_acc", "greater"), _cmp("F2", "M", "MA", "motion_acc", "greater"),
    _cmp("F3", "M", "MA", "t2a/R@1", "greater", margin=0.05),
    # within M: the triplet embedding (E_joint + the temporal path) against M's own E_joint
    _cmp("F4", "M", "M", "order_acc", "greater", b_emb="joint"),
    _cmp("F5", "M", "M", "motion_acc", "two-sided", b_emb="joint"),
]  # fmt: skip


def cmd_analyse(args) -> None:
    os_.analyse(args.results, [(args.results / "runs", ORDER)], COMPARISONS, EMBEDDING, ("M", "MA"), split=SPLIT)


def main(argv=None) -> int:
    return os_.study_cli(argv, __doc__, "main_study", {}, ORDER, CONFIGS, cmd_analyse, SPLITS, KEPT)


if __name__ == "__main__":
    sys.exit(main())

"""The study of ``results/paths_study/PLAN.md``: path slots on the text side and the temporal group term.

    python scripts/paths_study.py run [--out runs/paths_study]       # every run of configuration P, in order
    python scripts/paths_study.py evaluate [--out runs/paths_study]  # each export on the reserved split
    python scripts/paths_study.py analyse

What the plan fixes is fixed here: configuration ``P`` (``CONFIGS``), its seeds and thread counts, the
held-out split (seed 9311, reserved by amendment 2 of ``results/timed_study/PLAN.md`` and read by no
one yet), the runs it reuses (``REUSED``: ``A`` of ``results/timed_study`` and ``N`` of
``results/ordered_study``, already scored on that split) and the comparisons E1-E7 (``COMPARISONS``).
``run``, ``evaluate`` and ``analyse`` work as in ``scripts/ordered_study.py``.
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import ordered_study as os_  # noqa: E402
import timed_study as ts  # noqa: E402

#: configuration P of the plan: N of the ordered study, the path slots and the temporal group term
CONFIGS = {"P": {**os_.CONFIGS["N"], "model.text_pooling": "clause_paths", "loss.w_temporal_group": 1.0}}
SEEDS, THREADS, RERUN_THREADS, RERUN_SEED = ts.SEEDS, ts.THREADS, ts.RERUN_THREADS, ts.RERUN_SEED
ORDER = [("P", RERUN_SEED, THREADS), ("P", RERUN_SEED, RERUN_THREADS)] + [("P", s, THREADS) for s in SEEDS[1:]]
#: the runs of the two earlier studies this plan reads (on the reserved split only)
REUSED_TIMED = [("A", s, THREADS) for s in SEEDS] + [("A", RERUN_SEED, RERUN_THREADS)]
REUSED_ORDERED = [("N", s, THREADS) for s in SEEDS] + [("N", RERUN_SEED, RERUN_THREADS)]
EMBEDDING = {"P": "triplet", "N": "triplet", "A": "joint"}


def _cmp(name, a, b, metric, alternative, margin=0.0, a_emb=None, b_emb=None):
    return {"name": name, "a": a, "b": b, "a_metric": f"{a_emb or EMBEDDING[a]}/{metric}",
            "b_metric": f"{b_emb or EMBEDDING[b]}/{metric}", "alternative": alternative, "margin": margin}  # fmt: skip


COMPARISONS = [
    _cmp("E1", "P", "A", "order_acc", "greater"), _cmp("E2", "P", "A", "motion_acc", "greater"),
    _cmp("E3", "P", "A", "t2a/R@1", "greater", margin=0.05),
    _cmp("E4", "P", "N", "order_acc", "two-sided"), _cmp("E5", "P", "N", "motion_acc", "two-sided"),
    # within P: the triplet embedding (E_joint + the temporal path) against P's own E_joint
    _cmp("E6", "P", "P", "order_acc", "greater", b_emb="joint"),
    _cmp("E7", "P", "P", "motion_acc", "two-sided", b_emb="joint"),
]  # fmt: skip


def cmd_analyse(args) -> None:
    sources = [(args.results / "runs", ORDER), (args.timed_results / "runs", REUSED_TIMED),
               (args.ordered_results / "runs", REUSED_ORDERED)]  # fmt: skip
    os_.analyse(args.results, sources, COMPARISONS, EMBEDDING, ("P", "N", "A"))


def main(argv=None) -> int:
    reused = {"--timed-results": ("timed_study", "A"), "--ordered-results": ("ordered_study", "N")}
    return os_.study_cli(argv, __doc__, "paths_study", reused, ORDER, CONFIGS, cmd_analyse)


if __name__ == "__main__":
    sys.exit(main())

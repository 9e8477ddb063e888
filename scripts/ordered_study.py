"""The follow-up study of ``results/ordered_study/PLAN.md``: the ordered temporal encoder on timed scenes.

    python scripts/ordered_study.py run [--out runs/ordered_study]       # every run of configuration N, in order
    python scripts/ordered_study.py evaluate [--out runs/ordered_study]  # each export on the reserved split
    python scripts/ordered_study.py analyse

What the plan fixes is fixed here: configuration ``N`` (``CONFIGS``), its seeds and thread counts, the
held-out split (seed 9311, reserved by amendment 2 of ``results/timed_study/PLAN.md``), the runs of
that study it reuses (``REUSED``: configurations ``A``, ``B`` and ``S``, scored on the same split into
``heldout_9311.json`` by ``scripts/timed_study.py``) and the comparisons D1-D7 (``COMPARISONS``). ``run``
trains, scores (written, not printed) and keeps each run's small files in
``results/ordered_study/runs/<name>/`` as ``scripts/timed_study.py`` does; ``analyse`` refuses until
every run of N and every reused run has its ``heldout_9311.json``, then writes the table of runs, the
comparisons with Holm's correction, the seed spread and the rerun noise.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent))

import timed_study as ts  # noqa: E402

from sclap_nb.ablation import planned_comparisons  # noqa: E402

#: configuration N of the plan, on the default preset and the timed layout (scripts/timed_study.TIMED)
CONFIGS = {"N": {"model.temporal_readout": "ordered", "model.text_pooling": "clauses",
                 "loss.negatives": ("neg_t", "neg_s", "neg_c", "neg_m")}}
SEEDS, THREADS, RERUN_THREADS, RERUN_SEED = ts.SEEDS, ts.THREADS, ts.RERUN_THREADS, ts.RERUN_SEED
SPLIT = f"heldout_{ts.RESERVED_SEED}.json"
SPLITS = {SPLIT: ts.RESERVED_SEED}
KEPT = ("metrics.json", "metrics.csv", "run.json", SPLIT, "host.json")
ORDER = [("N", RERUN_SEED, THREADS), ("N", RERUN_SEED, RERUN_THREADS)] + [("N", s, THREADS) for s in SEEDS[1:]]
#: the runs of results/timed_study this plan reads (on the reserved split only)
REUSED = [(c, s, THREADS) for c in ("A", "B", "S") for s in SEEDS] + [("A", RERUN_SEED, RERUN_THREADS)]
EMBEDDING = {"N": "triplet", **ts.EMBEDDING}


def _cmp(name, a, b, metric, alternative, margin=0.0):
    return {"name": name, "a": a, "b": b, "a_metric": f"{EMBEDDING[a]}/{metric}", "b_metric": f"{EMBEDDING[b]}/{metric}",
            "alternative": alternative, "margin": margin}  # fmt: skip


COMPARISONS = [
    _cmp("D1", "N", "A", "order_acc", "greater"), _cmp("D2", "N", "A", "motion_acc", "greater"),
    _cmp("D3", "N", "A", "t2a/R@1", "greater", margin=0.05),
    _cmp("D4", "N", "S", "order_acc", "greater"), _cmp("D5", "N", "S", "motion_acc", "two-sided"),
    _cmp("D6", "N", "B", "order_acc", "greater"), _cmp("D7", "N", "B", "motion_acc", "two-sided"),
]  # fmt: skip
METRICS = ("order_acc", "motion_acc", "place_acc", "t2a/R@1")


def collect(sources: list[tuple[Path, list]], split: str = SPLIT) -> pd.DataFrame:
    """One row per run: ``sources`` pairs a folder of kept runs with the ``(config, seed, threads)`` read from it."""
    rows = []
    for folder, runs in sources:
        for config, seed, threads in runs:
            path = folder / f"{config}_s{seed}_t{threads}" / split
            rows.append({"config": config, "seed": seed, "threads": threads, **pd.read_json(path, typ="series").to_dict()})
    return pd.DataFrame(rows)


def analyse(results: Path, sources: list[tuple[Path, list]], comparisons: list, embedding: dict, rerun_configs: tuple,
            split: str = SPLIT) -> None:  # fmt: skip
    """A plan's analysis on one held-out split: refuse until every run of ``sources`` has its ``split``
    file, then write the table of runs, the comparisons (Holm), the seed spread of each configuration
    of ``embedding`` (read in its embedding) and the rerun noise of ``rerun_configs``."""
    missing = [f"{c}_s{s}_t{t}" for folder, runs in sources for c, s, t in runs if not (folder / f"{c}_s{s}_t{t}" / split).is_file()]
    wanted = sum(len(runs) for _, runs in sources)
    if missing:  # the plan's rule: nothing of the held-out split is read before every run it compares has ended
        raise SystemExit(f"{len(missing)} of {wanted} runs have no {split} yet ({', '.join(missing[:4])}"
                         f"{', ...' if len(missing) > 4 else ''}); analyse waits for all")  # fmt: skip
    table = collect(sources, split)
    main = table[table["threads"] == THREADS]
    spread = pd.concat({c: main[main["config"] == c][[f"{embedding[c]}/{m}" for m in METRICS]]
                        .set_axis(list(METRICS), axis=1).agg(["mean", "std"]) for c in embedding})  # fmt: skip
    rerun = []
    for config in rerun_configs:
        pair = table[(table["config"] == config) & (table["seed"] == RERUN_SEED)].set_index("threads")
        rerun.append({"config": config, **{m: abs(pair.loc[THREADS, f"{embedding[config]}/{m}"]
                                                  - pair.loc[RERUN_THREADS, f"{embedding[config]}/{m}"]) for m in METRICS}})  # fmt: skip
    ts.write_analysis(results, table, planned_comparisons(main, comparisons), spread, rerun)


def cmd_analyse(args) -> None:
    sources = [(args.results / "runs", ORDER), (args.timed_results / "runs", REUSED)]
    analyse(args.results, sources, COMPARISONS, {c: EMBEDDING[c] for c in ("N", "A", "B", "S")}, ("N", "A"))


def study_cli(argv, doc: str, name: str, reused: dict, order: list, configs: dict, analyse_args, splits: dict = SPLITS,
              kept: tuple = KEPT) -> int:  # fmt: skip
    """The command line of a study on the reserved split (or on ``splits``, file name to seed): ``run``, ``evaluate``
    or ``analyse`` (``analyse_args(args)``); ``reused`` maps a flag to the earlier study whose kept runs it names
    and what they are."""
    ap = argparse.ArgumentParser(description=doc.splitlines()[0])
    ap.add_argument("command", choices=("run", "evaluate", "analyse"))
    ap.add_argument("--out", type=Path, default=ts.ROOT / "runs" / name, help="where the runs go")
    ap.add_argument("--results", type=Path, default=ts.ROOT / "results" / name, help="where they are kept")
    for flag, (study, what) in reused.items():
        ap.add_argument(flag, type=Path, default=ts.ROOT / "results" / study, help=f"the kept runs of results/{study} ({what})")
    args = ap.parse_args(argv)
    if args.command == "run":
        ts.cmd_run(args, order, configs, splits, kept)
    elif args.command == "evaluate":
        ts.cmd_evaluate(args, splits, kept)
    else:
        analyse_args(args)
    return 0


def main(argv=None) -> int:
    return study_cli(argv, __doc__, "ordered_study", {"--timed-results": ("timed_study", "A, B, S")}, ORDER, CONFIGS, cmd_analyse)


if __name__ == "__main__":
    sys.exit(main())

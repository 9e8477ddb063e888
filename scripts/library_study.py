"""The study of ``results/library_study/PLAN.md``: recorded sounds in the main job's corpus.

    python scripts/library_study.py run        # every run of ML, in the plan's order (scored, not printed)
    python scripts/library_study.py evaluate   # score the reused exports of M (results/main_study) and any ML not yet scored
    python scripts/library_study.py analyse    # refuses until every run of M and ML has its split file

What the plan fixes is fixed here: configuration ``ML`` (``CONFIGS``: ``M`` of ``results/main_study`` with
the mixed sounds and the class term), the reused runs of ``M`` (``REUSED``), the seeds and thread counts,
the test splits of seed ``SPLIT_SEED`` (``splits``: soundfont scenes ``sf``, scenes of the held-out
packages ``pkg``, mixed in-domain scenes ``mix``, and the held-out and in-domain recordings alone in their
clips, ``pkgcls`` and ``libcls``) and the comparisons L1-L5 (``COMPARISONS``).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent))

import main_study as ms  # noqa: E402
import timed_study as ts  # noqa: E402

from sclap_nb.ablation import planned_comparisons  # noqa: E402
from sclap_nb.config import DataConfig, FeatureConfig  # noqa: E402
from sclap_nb.data import ensure_corpus  # noqa: E402
from sclap_nb.data.event_clips import ensure_event_clips  # noqa: E402
from sclap_nb.data.sounds import heldout_source, sound_source  # noqa: E402
from sclap_nb.evaluate import evaluate_model  # noqa: E402
from sclap_nb.export import load_model, resolve_device  # noqa: E402
from sclap_nb.files import write_json_atomic  # noqa: E402
from sclap_nb.heldout import classification_metrics  # noqa: E402

ROOT = ts.ROOT
SPLIT_SEED = 9661
SPLIT = f"split_{SPLIT_SEED}.json"
CONFIGS = {"ML": {**ms.CONFIGS["M"], "data.sounds": "mixed", "loss.w_class": 1.0}}
SEEDS, THREADS, RERUN_THREADS, RERUN_SEED = ts.SEEDS, ts.THREADS, ts.RERUN_THREADS, ts.RERUN_SEED
ORDER = [("ML", RERUN_SEED, THREADS), ("ML", RERUN_SEED, RERUN_THREADS)] + [("ML", s, THREADS) for s in SEEDS[1:]]
#: the runs of results/main_study this plan scores (their exports in runs/main_study)
REUSED = [("M", s, THREADS) for s in SEEDS] + [("M", RERUN_SEED, RERUN_THREADS)]
KEPT = ("metrics.json", "metrics.csv", "run.json", "host.json")
CLIP_SECONDS = ms.CONFIGS["M"]["data.clip_seconds"]


def _cmp(name, metric, alternative, margin=0.0):
    return {"name": name, "a": "ML", "b": "M", "metric": metric, "alternative": alternative, "margin": margin}


COMPARISONS = [
    _cmp("L1", "pkgcls/triplet/zero_shot_acc", "greater"), _cmp("L2", "pkg/triplet/t2a/R@1", "greater"),
    _cmp("L3", "sf/triplet/order_acc", "greater", 0.05), _cmp("L4", "sf/triplet/motion_acc", "greater", 0.05),
    _cmp("L5", "sf/triplet/t2a/R@1", "greater", 0.05),
]  # fmt: skip
#: what the seed spread reports (primary and secondary)
REPORTED = [c["metric"] for c in COMPARISONS] + [
    "pkgcls/sed/zero_shot_acc", "pkgcls/joint/zero_shot_acc", "libcls/sed/zero_shot_acc", "libcls/triplet/zero_shot_acc",
    "mix/triplet/t2a/R@1", "mix/triplet/order_acc", "mix/triplet/motion_acc", "pkg/triplet/order_acc",
    "pkg/triplet/motion_acc", "sf/triplet/place_acc", "sf/LE_deg", "mix/LE_deg", "pkg/LE_deg",
]  # fmt: skip


def splits(library_dir: Path = ROOT / DataConfig.library_dir, sr: int = FeatureConfig.sample_rate) -> dict[str, Path]:
    """The plan's five test sets of seed ``SPLIT_SEED``, each built once under ``data/``."""
    scenes = dict(n_train=0, n_val=0, n_test=128, seed=SPLIT_SEED, sample_rate=sr, clip_seconds=CLIP_SECONDS,
                  layout="timed", progress=False)  # fmt: skip
    tag = f"s{SPLIT_SEED}-{CLIP_SECONDS:g}s"
    return {
        "sf": ensure_corpus(ROOT / f"data/libstudy-sf-{tag}", **scenes),
        "pkg": ensure_corpus(ROOT / f"data/libstudy-pkg-{tag}", **scenes, source=heldout_source(library_dir, sr)),
        "mix": ensure_corpus(ROOT / f"data/libstudy-mix-{tag}", **scenes, source=sound_source("mixed", library_dir, sr)),
        "pkgcls": ensure_event_clips(ROOT / f"data/libstudy-pkgcls-{tag}", heldout_source(library_dir, sr), "test",
                                     SPLIT_SEED, sr, CLIP_SECONDS, False),  # fmt: skip
        "libcls": ensure_event_clips(ROOT / f"data/libstudy-libcls-{tag}", sound_source("library", library_dir, sr), "test",
                                     SPLIT_SEED, sr, CLIP_SECONDS, False),  # fmt: skip
    }


def score(model_dir: Path, where: dict[str, Path]) -> dict[str, float]:
    """Every figure of the plan for one export: the scenes' metrics (``sf/``, ``pkg/``, ``mix/``) and the
    zero-shot classification of the recordings alone (``pkgcls/``, ``libcls/``)."""
    model, _ = load_model(model_dir, resolve_device("cpu"))
    out: dict[str, float] = {}
    for name in ("sf", "pkg", "mix"):
        out.update({f"{name}/{k}": v for k, v in evaluate_model(model, where[name], "test", references=False).items()
                    if isinstance(v, (int, float))})  # fmt: skip
    for name in ("pkgcls", "libcls"):
        out.update(classification_metrics(model, where[name], name))
    return out


def finish(where: Path, results: Path, threads: int, split_dirs: dict[str, Path]) -> None:
    """Score a run's export on the plan's splits (written, not printed), record the host, keep the small files."""
    kept = results / "runs" / where.name
    kept.mkdir(parents=True, exist_ok=True)
    if not (kept / SPLIT).is_file():
        write_json_atomic(score(where / "model", split_dirs), kept / SPLIT)
    if where.name.startswith("ML_"):
        ts.finish(where, results, threads, {}, KEPT)


def cmd_run(args) -> None:
    split_dirs = splits()
    for config, seed, threads in ORDER:
        where = ts.run_dir(args.out, config, seed, threads)
        if (args.results / "runs" / where.name / SPLIT).is_file():
            print(f"[done] {where.name}", flush=True)
            continue
        if not (where / "metrics.json").is_file():
            print(f"[run ] {where}", flush=True)
            ts.run(ts.config_of(config, seed, threads, args.out, CONFIGS), ROOT)
        finish(where, args.results, threads, split_dirs)
        print(f"[kept] {args.results / 'runs' / where.name}", flush=True)


def cmd_evaluate(args) -> None:
    split_dirs = splits()
    for config, seed, threads in REUSED:
        finish(ts.run_dir(args.main_runs, config, seed, threads), args.results, threads, split_dirs)
    for where in sorted(args.out.glob("ML_s*_t*")):
        if (where / "metrics.json").is_file():
            finish(where, args.results, int(where.name.rsplit("_t", 1)[1]), split_dirs)


def cmd_analyse(args) -> None:
    runs = ORDER + REUSED
    missing = [f"{c}_s{s}_t{t}" for c, s, t in runs if not (args.results / "runs" / f"{c}_s{s}_t{t}" / SPLIT).is_file()]
    if missing:  # the plan's rule: nothing of the splits is read before every run it compares has its file
        raise SystemExit(f"{len(missing)} of {len(runs)} runs have no {SPLIT} yet ({', '.join(missing[:4])}"
                         f"{', ...' if len(missing) > 4 else ''}); analyse waits for all")  # fmt: skip
    table = pd.DataFrame([{"config": c, "seed": s, "threads": t,
                           **json.loads((args.results / "runs" / f"{c}_s{s}_t{t}" / SPLIT).read_text())} for c, s, t in runs])  # fmt: skip
    main = table[table["threads"] == THREADS]
    spread = main.groupby("config")[REPORTED].agg(["mean", "std"]).stack(level=1, future_stack=True)
    rerun = []
    for config in ("M", "ML"):
        pair = table[(table["config"] == config) & (table["seed"] == RERUN_SEED)].set_index("threads")
        rerun.append({"config": config, **{m: abs(pair.loc[THREADS, m] - pair.loc[RERUN_THREADS, m]) for m in REPORTED}})
    ts.write_analysis(args.results, table, planned_comparisons(main, COMPARISONS), spread, rerun)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("command", choices=("run", "evaluate", "analyse"))
    ap.add_argument("--out", type=Path, default=ROOT / "runs" / "library_study", help="where the runs of ML go")
    ap.add_argument("--main-runs", type=Path, default=ROOT / "runs" / "main_study", help="the runs of M (results/main_study), with their exports")
    ap.add_argument("--results", type=Path, default=ROOT / "results" / "library_study", help="where they are kept")
    args = ap.parse_args(argv)
    {"run": cmd_run, "evaluate": cmd_evaluate, "analyse": cmd_analyse}[args.command](args)
    return 0


if __name__ == "__main__":
    sys.exit(main())

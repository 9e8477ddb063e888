"""The study of ``results/scorers_study/PLAN.md``: the triplet cosine plus the aligned scores, one scorer.

    python scripts/scorers_study.py score      # each reused export of MT and MA on the plan's splits (written, not printed)
    python scripts/scorers_study.py analyse    # refuses until every export has its split file

What the plan fixes is fixed here: nothing is trained; the exports of ``MT`` (``runs/frames_study``) and ``MA``
(``runs/aligned_study``), five seeds and a 1-thread rerun each, are scored on the test splits of seed 4817
(``splits``: ``mix`` and ``pkg``, 128 timed scenes each, built once) with every scorer the metrics know (the
combined one, ``sclap_nb.model.combined_scores``, among them), and compared by S1-S6 (``COMPARISONS``).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import doa_study as ds  # noqa: E402

from sclap_nb.config import DataConfig, FeatureConfig  # noqa: E402
from sclap_nb.data import ensure_corpus  # noqa: E402
from sclap_nb.data.sounds import heldout_source, sound_source  # noqa: E402
from sclap_nb.evaluate import evaluate_model  # noqa: E402
from sclap_nb.export import load_model, resolve_device  # noqa: E402
from sclap_nb.files import write_json_atomic  # noqa: E402

ROOT = ds.ROOT
SPLIT_SEED = 4817
SPLIT = f"split_{SPLIT_SEED}.json"
CLIP_SECONDS = 4.0
#: each configuration's runs: (seed, threads), the five seeds first, the 1-thread rerun of seed 2025 last
RUNS = [(s, ds.THREADS) for s in ds.SEEDS] + [(ds.RERUN_SEED, ds.RERUN_THREADS)]
EXPORTS = {"MT": ROOT / "runs" / "frames_study", "MA": ROOT / "runs" / "aligned_study"}


def _cmp(name, a, b, a_metric, b_metric, alternative, margin=0.0):
    return {"name": name, "a": a, "b": b, "a_metric": a_metric, "b_metric": b_metric, "alternative": alternative,
            "margin": margin}  # fmt: skip


COMPARISONS = [
    _cmp("S1", "MA", "MT", "mix/combined/order_acc", "mix/triplet/order_acc", "greater"),
    _cmp("S2", "MA", "MT", "mix/combined/motion_acc", "mix/triplet/motion_acc", "greater", 0.05),  # non-inferiority
    _cmp("S3", "MA", "MT", "mix/combined/t2a/R@1", "mix/triplet/t2a/R@1", "greater"),
    _cmp("S4", "MA", "MA", "mix/combined/motion_acc", "mix/aligned/motion_acc", "greater"),
    _cmp("S5", "MA", "MA", "mix/combined/t2a/R@1", "mix/aligned/t2a/R@1", "greater"),
    _cmp("S6", "MA", "MA", "mix/combined/order_acc", "mix/triplet/order_acc", "greater"),
]
REPORTED = list(dict.fromkeys([c["a_metric"] for c in COMPARISONS] + [c["b_metric"] for c in COMPARISONS] + [
    "mix/triplet/place_acc", "mix/aligned/place_acc", "mix/combined/place_acc", "mix/aligned/order_acc",
    "mix/triplet/motion_acc", "mix/LE_deg", "pkg/triplet/order_acc", "pkg/triplet/motion_acc", "pkg/triplet/t2a/R@1",
    "pkg/combined/order_acc", "pkg/combined/motion_acc", "pkg/combined/t2a/R@1",
]))  # fmt: skip


def splits(library_dir: Path = ROOT / DataConfig.library_dir, sr: int = FeatureConfig.sample_rate) -> dict[str, Path]:
    """The plan's two test splits of seed ``SPLIT_SEED``, each built once under ``data/``."""
    scenes = dict(n_train=0, n_val=0, n_test=128, seed=SPLIT_SEED, sample_rate=sr, clip_seconds=CLIP_SECONDS,
                  layout="timed", progress=False)  # fmt: skip
    tag = f"s{SPLIT_SEED}-{CLIP_SECONDS:g}s"
    return {
        "mix": ensure_corpus(ROOT / f"data/scorers-mix-{tag}", **scenes, source=sound_source("mixed", library_dir, sr)),
        "pkg": ensure_corpus(ROOT / f"data/scorers-pkg-{tag}", **scenes, source=heldout_source(library_dir, sr)),
    }


def score(model_dir: Path, where: dict[str, Path]) -> dict[str, float]:
    """Every scene metric of one export on the plan's splits (``mix/...``, ``pkg/...``), every scorer it has."""
    model, _ = load_model(model_dir, resolve_device("cpu"))
    out: dict[str, float] = {}
    for name, corpus in where.items():
        out.update({f"{name}/{k}": v for k, v in evaluate_model(model, corpus, "test", references=False).items()
                    if isinstance(v, (int, float))})  # fmt: skip
    return out


def cmd_score(args) -> None:
    where = splits()
    for config, base in EXPORTS.items():
        for seed, threads in RUNS:
            name = f"{config}_s{seed}_t{threads}"
            kept = args.results / "runs" / name / SPLIT
            if kept.is_file():
                print(f"[done] {name}", flush=True)
                continue
            model_dir = base / name / "model"
            if not model_dir.is_dir():
                raise SystemExit(f"{model_dir}: no export (the plan scores the runs of results/frames_study and results/aligned_study)")
            kept.parent.mkdir(parents=True, exist_ok=True)
            write_json_atomic(score(model_dir, where), kept)
            print(f"[kept] {kept}", flush=True)


def cmd_analyse(args) -> None:
    runs = [("MA", s, t) for s, t in RUNS]
    reused = [("MT", s, t, args.results) for s, t in RUNS]
    ds.analyse_variant(args, "MA", runs, COMPARISONS, REPORTED, reused, split=SPLIT)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("command", choices=("score", "analyse"))
    ap.add_argument("--results", type=Path, default=ROOT / "results" / "scorers_study", help="where the scores are kept")
    args = ap.parse_args(argv)
    {"score": cmd_score, "analyse": cmd_analyse}[args.command](args)
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Copy a finished main-job run and ablation into ``results/``, the stored results the book reads.

    python -m sclap_nb.publish --train runs/train --ablation runs/ablation --results results
    python -m sclap_nb.publish --train runs/default --as default     # the halves layout's run -> results/default

Only this explicit command writes ``results/``; nothing else does. A run is published only when it
finished (its ``metrics.json`` exists); each file is written to a temporary name and renamed.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from . import viz
from .export import WEIGHTS, export_model
from .files import atomic_write, copy_atomic

__all__ = ["publish_train", "publish_ablation", "publish_experiment", "main"]


# the committed model export: stored in float16 when its float32 weights would be larger than this
COMMIT_MAX_BYTES = 25_000_000


def publish_train(run: Path, results: Path, name: str = "train") -> list[Path]:
    """``metrics.json``, ``run.json``, the joined CSV log, the figures and the model export (``model/``, in
    float16 when its float32 weights exceed ``COMMIT_MAX_BYTES``) of a finished run into ``results/<name>``
    (``train``: the main job's; ``default``: the halves layout's)."""
    run, dest = Path(run), Path(results) / name
    if not (run / "metrics.json").is_file():
        raise FileNotFoundError(f"{run}: no metrics.json, the run has not finished")
    written = [copy_atomic(run / n, dest / n) for n in ("metrics.json", "run.json") if (run / n).is_file()]
    written.append(atomic_write(dest / "metrics.csv", viz.read_log(run).to_csv(index=False)))
    written += [copy_atomic(p, dest / p.name) for p in sorted((run / "figures").glob("*.png"))]
    if (run / "model").is_dir():
        written += _export_small(run / "model", dest / "model")
    return written


def _export_small(src: Path, dest: Path) -> list[Path]:
    """The model export ``src`` into ``dest``, in float16 when its float32 weights exceed ``COMMIT_MAX_BYTES``."""

    small = (src / WEIGHTS).stat().st_size <= COMMIT_MAX_BYTES
    return sorted(export_model(src, dest, dtype="float32" if small else "float16", overwrite=True).iterdir())


def publish_experiment(run: Path, results: Path, name: str, with_model: bool = False) -> list[Path]:
    """A finished one-off run's ``metrics.json``, ``run.json``, its joined CSV log where it has one (``metrics.csv``:
    the validation figures of each epoch) and its model export when ``with_model``, into ``results/experiments/<name>``."""
    run, dest = Path(run), Path(results) / "experiments" / name
    if not (run / "metrics.json").is_file():
        raise FileNotFoundError(f"{run}: no metrics.json, the run has not finished")
    written = [copy_atomic(run / n, dest / n) for n in ("metrics.json", "run.json")]
    if (run / "metrics.csv").is_file() or any(run.glob("logs/version_*/metrics.csv")):
        written.append(atomic_write(dest / "metrics.csv", viz.read_log(run).to_csv(index=False)))
    if with_model:
        if not (run / "model").is_dir():
            raise FileNotFoundError(f"{run}: no model/ export")
        written += _export_small(run / "model", dest / "model")
    return written


def publish_ablation(ablation: Path, results: Path) -> list[Path]:
    """The ablation table and every finished run's ``metrics.json`` into ``results/ablation``."""
    ablation, dest = Path(ablation), Path(results) / "ablation"
    if not (ablation / "table.csv").is_file():
        raise FileNotFoundError(f"{ablation}: no table.csv")
    written = [copy_atomic(ablation / n, dest / n) for n in ("table.csv", "table.md") if (ablation / n).is_file()]
    for m in sorted(ablation.glob("*/metrics.json")):
        written.append(copy_atomic(m, dest / "runs" / m.parent.name / "metrics.json"))
    return written


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(prog="python -m sclap_nb.publish", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--train", help="a finished run directory (metrics.json inside)")
    ap.add_argument("--as", dest="name", default="train", choices=("train", "default"),
                    help="with --train: the folder of results/ it goes to (train: the main job; default: the halves layout's run)")
    ap.add_argument("--ablation", help="an ablation directory (table.csv inside)")
    ap.add_argument("--experiment", nargs=2, metavar=("RUN", "NAME"), help="a finished one-off run into results/experiments/NAME")
    ap.add_argument("--with-model", action="store_true", help="with --experiment: its model export too")
    ap.add_argument("--results", default="results")
    args = ap.parse_args(argv)
    if not args.train and not args.ablation and not args.experiment:
        ap.error("nothing to publish: give --train, --ablation and/or --experiment")
    try:
        written = []
        if args.train:
            written += publish_train(Path(args.train), Path(args.results), args.name)
        if args.ablation:
            written += publish_ablation(Path(args.ablation), Path(args.results))
        if args.experiment:
            run, name = args.experiment
            written += publish_experiment(Path(run), Path(args.results), name, args.with_model)
    except FileNotFoundError as e:
        print(f"error: {e}", file=sys.stderr)
        return 1
    for p in written:
        print(f"wrote {p}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Score a trained model on a corpus: ``python -m sclap_nb.evaluate MODEL CORPUS [--split test]``.

``MODEL`` is a model export (``model/``), a checkpoint (``best.ckpt``) or a run directory;
``CORPUS`` a corpus in the package's layout (the embedded corpus, ``python -m sclap_nb.data build``,
or the imports of recorded FOA datasets: ``sclap_nb.data.dcase``, ``sclap_nb.data.spatial_clotho``).
Every metric of a run's ``metrics.json`` is computed on the split's groups, as a run computes it
(:func:`sclap_nb.evaluation.evaluation_metrics`): retrieval, the 3-way tests, ``order_acc`` and
``place_acc`` (where the corpus has neg_c), the localisation error, the zero-shot direction
accuracy, the modality probe, and the reference scorers that need no training
(:mod:`sclap_nb.reference`). The metrics are printed and written as JSON (``--out``; an existing file
is not overwritten unless ``--overwrite``).

Features: where the corpus holds a feature cache for the model's feature settings (``CORPUS/cache``,
written by a run), it is read, so a run's own test split scores exactly as its ``metrics.json`` says;
otherwise features are computed from the audio and nothing is written into the corpus.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from torch.utils.data import DataLoader

from .data import CorpusError, StClothoDataset, collate_groups, read_metadata
from .evaluation import evaluate
from .export import ExportError, load_model, resolve_device
from .files import write_json_atomic
from .reference import reference_metrics

__all__ = ["evaluate_corpus", "evaluate_model", "main"]


def evaluate_corpus(model_path: str | Path, corpus: str | Path, split: str = "test", batch_size: int = 16,
                    device: str | None = None, references: bool = True) -> dict:  # fmt: skip
    """Every metric of ``metrics.json`` for the model at ``model_path`` on ``split`` of ``corpus``."""
    t0 = time.time()
    _check_split(Path(corpus), split)  # before loading the model: a wrong corpus fails at once
    model, _ = load_model(model_path, resolve_device(device))
    metrics = evaluate_model(model, corpus, split, batch_size, references)
    metrics.update(model=str(model_path), seconds=time.time() - t0)
    return metrics


def _check_split(corpus: Path, split: str) -> None:
    if not (corpus / "metadata" / f"{split}.csv").is_file():
        raise CorpusError(f"{corpus}: no metadata/{split}.csv (not a corpus in the package's layout, or no {split} split)")
    if not read_metadata(corpus, split):
        raise CorpusError(f"{corpus}/metadata/{split}.csv: the {split} split has no scenes")


def evaluate_model(model, corpus: str | Path, split: str = "test", batch_size: int = 16, references: bool = True) -> dict:
    """Every metric of ``metrics.json`` for a loaded model (``SpatialTemporalCLAP``, on its device) on
    ``split`` of ``corpus``, with groups of all the clips each scene has."""
    corpus = Path(corpus)
    _check_split(corpus, split)
    cache = corpus / "cache"
    dataset = StClothoDataset(corpus, split, "triplet", model.cfg.features, cache if cache.is_dir() else None, roles="all",
                              pretrained=model.cfg.pretrained_input)  # fmt: skip
    loader = DataLoader(dataset, batch_size=batch_size, collate_fn=collate_groups)
    metrics = evaluate(model, loader)
    if references:
        metrics.update(reference_metrics(corpus, split))
    metrics.update(corpus=str(corpus), split=split, scenes=len(dataset), roles=list(dataset.roles))
    return metrics


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m sclap_nb.evaluate", description=__doc__.splitlines()[0],
                                epilog="Example: python -m sclap_nb.evaluate results/train/model "
                                "data/stclotho-512-64-128-s2025-16000hz-2s-rooms --split test")  # fmt: skip
    p.add_argument("model", help="a model export directory, a checkpoint (best.ckpt) or a run directory")
    p.add_argument("corpus", help="a corpus directory in the package's layout (audio/, metadata/)")
    p.add_argument("--split", default="test", choices=("train", "val", "test"), help="the split to score (default: test)")
    p.add_argument("--out", help="write the metrics here as JSON (default: evaluate-<corpus>-<split>.json in the "
                   "current directory)")  # fmt: skip
    p.add_argument("--overwrite", action="store_true", help="replace the --out file if it exists")
    p.add_argument("--batch-size", type=int, default=16, help="scenes per batch (memory only; the metrics do not change)")
    p.add_argument("--device", help="cpu, cuda, cuda:1, ... (default: a GPU where there is one)")
    p.add_argument("--no-references", action="store_true", help="skip the reference scorers (they read the audio again)")
    return p


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    out = Path(args.out or f"evaluate-{Path(args.corpus).name}-{args.split}.json")
    if out.exists() and not args.overwrite:
        print(f"error: {out} exists: pass another --out, or --overwrite to replace it", file=sys.stderr)
        return 2
    if args.batch_size < 1:
        print(f"error: --batch-size {args.batch_size}: must be >= 1", file=sys.stderr)
        return 2
    try:
        metrics = evaluate_corpus(args.model, args.corpus, args.split, args.batch_size, args.device,
                                  references=not args.no_references)  # fmt: skip
    except (ExportError, CorpusError, ValueError, FileNotFoundError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    width = max(len(k) for k in metrics)
    for k in sorted(metrics):
        v = metrics[k]
        print(f"{k:{width}s}  {v:.4f}" if isinstance(v, float) else f"{k:{width}s}  {v}")
    write_json_atomic(metrics, out)
    print(f"wrote {out}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Throughput of the training DataLoader (clips/s), from the feature cache and from WAV files.

    python benchmarks/bench_loader.py [--corpus DIR] [--quick] [--epochs 3] [--batch 16] [--threads N]

Builds a corpus (``ensure_corpus(dir, n_train=512, n_val=64, n_test=128, seed=2025)``; reused
when ``--corpus DIR`` already holds it, else in a temporary directory removed afterwards) and its
feature cache, then iterates the train loader of ``StClothoDataModule`` (``--batch`` triplets per
batch) for several epochs and prints the median clips/s of each configuration:

* features from the memory-mapped cache, no WAV read, with 0, 1 and 2 workers;
* the same, item by item (the loader without ``__getitems__``);
* cache plus waveforms (``load_audio=True``), batched and item by item (the former default path);
* features computed on the fly from the WAV files (no cache).

``--quick`` uses a tiny corpus (a smoke run, not a measurement). On a small machine shared
with other work the figures vary with its load (printed): with 2 cores, torch's 2 intra-op
threads stall when another process holds a core (``--threads 1`` shows the difference).
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import torch  # noqa: E402
from torch.utils.data import DataLoader, Dataset  # noqa: E402

from sclap_nb.data import EpochShuffleSampler, StClothoDataModule, StClothoDataset, collate_groups, ensure_corpus, feature_cache  # noqa: E402
from sclap_nb.features import FeatureConfig  # noqa: E402

SIZES = {"full": dict(n_train=512, n_val=64, n_test=128), "quick": dict(n_train=16, n_val=4, n_test=4)}


class PerItem(Dataset):
    """A dataset seen item by item: the DataLoader calls ``__getitem__`` once per group."""

    def __init__(self, dataset: StClothoDataset):
        self.dataset = dataset

    def __len__(self) -> int:
        return len(self.dataset)

    def __getitem__(self, i: int) -> dict:
        return self.dataset[i]


def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def epoch_rate(loader: DataLoader, epoch: int) -> tuple[float, int]:
    """clips/s of one full pass (the sampler's epoch set as Lightning does) and its clip count."""
    if hasattr(loader.sampler, "set_epoch"):
        loader.sampler.set_epoch(epoch)
    t0 = time.perf_counter()
    clips = sum(len(b["ids"]) for b in loader)
    return clips / (time.perf_counter() - t0), clips


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--corpus", type=Path, help="corpus directory (built there when missing; default: a temporary one)")
    ap.add_argument("--quick", action="store_true", help="tiny corpus, for a smoke run")
    ap.add_argument("--epochs", type=int, default=3)
    ap.add_argument("--batch", type=int, default=16, help="triplets per batch")
    ap.add_argument("--seed", type=int, default=2025)
    ap.add_argument("--threads", type=int, default=0, help="torch threads of the main process (0: torch's default)")
    args = ap.parse_args()
    if args.threads > 0:
        torch.set_num_threads(args.threads)
    sizes = SIZES["quick" if args.quick else "full"]
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    print(f"CPU: {cpu_model()}, {cores} cores usable ({os.cpu_count()} online)")
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads; python {platform.python_version()}")

    with tempfile.TemporaryDirectory() as tmp:
        root = args.corpus or Path(tmp) / "corpus"
        t0 = time.perf_counter()
        root = ensure_corpus(root, **sizes, seed=args.seed, progress=False)
        print(f"corpus {root} ({sizes}) ready in {time.perf_counter() - t0:.1f} s")
        cfg, cache = FeatureConfig(), Path(tmp) / "cache" if args.corpus is None else root / "cache"
        t0 = time.perf_counter()
        feature_cache(root, "train", cfg, cache_dir=cache)
        print(f"feature cache of train ready in {time.perf_counter() - t0:.1f} s ({cache})")
        for check in (True, False):
            t0 = time.perf_counter()
            ds = StClothoDataset(root, "train", features=cfg, cache_dir=cache, check_headers=check)
            print(f"StClothoDataset(train, cached, check_headers={check}): {len(ds.rows)} clips in {1e3 * (time.perf_counter() - t0):.0f} ms")

        def module(workers: int, cached: bool = True, **kw) -> DataLoader:
            dm = StClothoDataModule(root, batch_size=args.batch, features=cfg, cache_dir=cache if cached else None,
                                    num_workers=workers, seed=args.seed, **kw)
            dm.setup("fit")
            return dm.train_dataloader()

        def per_item(**kw) -> DataLoader:
            ds = PerItem(StClothoDataset(root, "train", features=cfg, cache_dir=cache, **kw))
            return DataLoader(ds, batch_size=args.batch, sampler=EpochShuffleSampler(len(ds), args.seed), collate_fn=collate_groups)

        runs = [
            ("cache, no WAV (default)", 0, lambda: module(0)),
            ("cache, no WAV (default)", 1, lambda: module(1)),
            ("cache, no WAV (default)", 2, lambda: module(2)),
            ("cache, no WAV, item by item", 0, lambda: per_item()),
            ("cache + wave (load_audio=True)", 0, lambda: module(0, load_audio=True)),
            ("cache + wave, item by item (old)", 0, lambda: per_item(load_audio=True)),
            ("features on the fly (no cache)", 0, lambda: module(0, cached=False)),
            ("features on the fly (no cache)", 2, lambda: module(2, cached=False)),
        ]
        loaders = [make() for _, _, make in runs]
        for loader in loaders:  # warm-up: start the workers, open the memmap, build the extractor
            next(iter(loader))
        # epochs interleaved across the configurations, so that a change of the machine's load
        # (other processes) hits all of them alike
        rates: list[list[float]] = [[] for _ in runs]
        clips = [0] * len(runs)
        load = os.getloadavg()[0]
        for e in range(args.epochs):
            for k, loader in enumerate(loaders):
                rate, clips[k] = epoch_rate(loader, e)
                rates[k].append(rate)
        print(f"\ntrain loader, {args.batch} triplets = {3 * args.batch} clips a batch, median of {args.epochs} epochs"
              f" (load average {load:.1f} -> {os.getloadavg()[0]:.1f})")
        print(f"{'path':34s} {'workers':>7s} {'clips':>6s} {'clips/s':>9s}   epochs (clips/s)")
        for (label, workers, _), n, r in zip(runs, clips, rates):
            print(f"{label:34s} {workers:7d} {n:6d} {statistics.median(r):9.0f}   {' '.join(f'{x:.0f}' for x in r)}")
        del loaders


if __name__ == "__main__":
    main()

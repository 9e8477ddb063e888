"""Throughput of the data pipeline: corpus building (scenes/s) and feature extraction (clips/s).

    python benchmarks/bench_data.py [--train 512 --val 64 --test 128] [--anechoic] [--batch 64]

Builds a corpus in a temporary directory (removed afterwards), then times
* building, in scenes/s (a scene = 3 clips);
* ``FOAFeatures`` on batches of clips already in memory, in clips/s;
* ``feature_cache`` of the training split (read WAVs + features + float16 store), in clips/s;
* one epoch of the training loader, from the cache and with on-the-fly features, in clips/s.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import numpy as np  # noqa: E402
import torch  # noqa: E402

from sclap_nb.data import StClothoDataModule, build_corpus, feature_cache, load_clip, read_metadata  # noqa: E402
from sclap_nb.features import FeatureConfig, FOAFeatures  # noqa: E402


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--train", type=int, default=512)
    ap.add_argument("--val", type=int, default=64)
    ap.add_argument("--test", type=int, default=128)
    ap.add_argument("--seed", type=int, default=2025)
    ap.add_argument("--anechoic", action="store_true")
    ap.add_argument("--batch", type=int, default=64, help="clips per feature batch")
    ap.add_argument("--loader-scenes", type=int, default=128, help="training scenes for the loader timings")
    args = ap.parse_args()
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads")
    cfg = FeatureConfig()
    FOAFeatures(cfg)  # import librosa and build the filterbank outside the timings

    with tempfile.TemporaryDirectory() as tmp:
        n = args.train + args.val + args.test
        t0 = time.perf_counter()
        root = build_corpus(Path(tmp) / "corpus", args.train, args.val, args.test, seed=args.seed, anechoic=args.anechoic, progress=False)
        dt = time.perf_counter() - t0
        print(f"build   {n} scenes ({3 * n} clips) in {dt:6.2f} s: {n / dt:7.1f} scenes/s  {'anechoic' if args.anechoic else 'rooms'}")

        rows = read_metadata(root, "train")
        waves = torch.from_numpy(np.stack([load_clip(root, r) for r in rows[: args.batch]]))
        fe = FOAFeatures(cfg).eval()
        with torch.no_grad():
            fe(waves)
            t0 = time.perf_counter()
            reps = 3
            for _ in range(reps):
                fe(waves)
            dt = time.perf_counter() - t0
        print(f"FOAFeatures, batches of {len(waves)} in memory:        {reps * len(waves) / dt:7.1f} clips/s")

        t0 = time.perf_counter()
        feature_cache(root, "train", cfg, batch_size=args.batch)
        dt = time.perf_counter() - t0
        print(f"feature_cache(train): {len(rows)} clips in {dt:6.2f} s:  {len(rows) / dt:7.1f} clips/s")

        for label, cache in (("from the cache", root / "cache"), ("features on the fly", None)):
            dm = StClothoDataModule(root, batch_size=16, features=cfg, cache_dir=cache)
            dm.setup("fit")
            loader = dm.train_dataloader()
            t0 = time.perf_counter()
            clips = 0
            for i, batch in enumerate(loader):
                clips += len(batch["ids"])
                if clips >= 3 * args.loader_scenes:
                    break
            dt = time.perf_counter() - t0
            print(f"train loader, {label:20s} {clips} clips: {clips / dt:7.1f} clips/s")


if __name__ == "__main__":
    main()

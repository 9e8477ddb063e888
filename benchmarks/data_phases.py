"""Where the main job's data time goes: each piece it builds, from nothing but the library, timed alone.

    python benchmarks/data_phases.py [--out data_phases.json]

Builds, in a temporary folder (removed afterwards; the library is linked, not copied), what ``make train``
builds before and after training, in its order, with the main preset's settings (seed 2025):

* ``corpus``: the timed scenes of the train, validation and test splits, every clip of the five roles
  (rendered on the machine's cores, WAVs written);
* ``feature_cache``: the logmelIV of the train and validation splits' clips (``StClothoDataModule.setup``),
  of which ``feature_cache/extract`` is the cached ``FOAFeatures`` of one split (train) on its own,
  its WAVs already in memory;
* ``class_clips``: the class term's single-event clips of the library's train recordings;
* ``heldout_scenes``, ``heldout_clips``, ``library_clips``: what the evaluation builds for the held-out
  packages' figures.

Figures depend on the host; the sum is the data part of ``phase_seconds/data`` plus the building part of
``phase_seconds/evaluate`` of a run (start-up, the text model and the evaluation itself are not in it).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--out", default="", help="also write the figures to this JSON file (never overwritten)")
    a = p.parse_args(argv)
    if a.out and Path(a.out).exists():
        p.error(f"{a.out} exists; give another --out (a file is never overwritten)")
    import numpy as np
    import torch

    from sclap_nb.config import DataConfig, preset
    from sclap_nb.data import StClothoDataModule, ensure_corpus, load_clip, read_metadata
    from sclap_nb.data.event_clips import ensure_event_clips
    from sclap_nb.data.sounds import heldout_source, sound_source
    from sclap_nb.features import FOAFeatures
    from sclap_nb.heldout import heldout_dirs
    from sclap_nb.run import class_batches, corpus_dir_for

    library = ROOT / DataConfig.library_dir
    if not (library / "manifest.csv").is_file():
        p.error(f"{library}: no library (make library)")
    cfg = preset("main")
    d, sr, seed = cfg.data, cfg.model.features.sample_rate, cfg.runtime.seed
    work = Path(tempfile.mkdtemp(prefix="data-phases-"))
    seconds: dict[str, float] = {}
    try:
        (work / DataConfig.library_dir).parent.mkdir(parents=True)
        (work / DataConfig.library_dir).symlink_to(library)
        lib = work / DataConfig.library_dir

        def timed(name, fn):
            t = time.perf_counter()
            out = fn()
            seconds[name] = time.perf_counter() - t
            print(f"{name:24s} {seconds[name]:7.1f} s", flush=True)
            return out

        corpus = timed("corpus", lambda: ensure_corpus(
            work / corpus_dir_for(cfg), n_train=d.n_train, n_val=d.n_val, n_test=d.n_test, seed=seed, sample_rate=sr,
            clip_seconds=d.clip_seconds, anechoic=d.anechoic, layout=d.layout, progress=False,
            source=sound_source(d.sounds, lib, sr)))  # fmt: skip
        dm = StClothoDataModule(corpus, batch_size=cfg.optim.batch_size, mode=cfg.optim.mode, features=cfg.model.features,
                                cache_dir=corpus / "cache", seed=seed, num_workers=cfg.runtime.num_workers,
                                roles=("pos", *cfg.loss.negatives))  # fmt: skip
        timed("feature_cache", lambda: dm.setup("fit"))
        rows = read_metadata(corpus, "train")
        waves = [load_clip(corpus, r) for r in rows]
        extractor = FOAFeatures(cfg.model.features).eval()

        def extract():
            with torch.no_grad():
                for at in range(0, len(waves), 64):  # feature_cache's batches
                    extractor(torch.from_numpy(np.stack(waves[at : at + 64])))

        timed("feature_cache/extract", extract)
        del waves
        timed("class_clips", lambda: class_batches(cfg, work))
        where = heldout_dirs(cfg, work)
        held = heldout_source(lib, sr)
        timed("heldout_scenes", lambda: ensure_corpus(where["scenes"], 0, 0, d.n_test, seed=seed, sample_rate=sr,
                                                      clip_seconds=d.clip_seconds, anechoic=d.anechoic, layout=d.layout,
                                                      source=held, progress=False))  # fmt: skip
        for prefix, source in (("heldout", held), ("library", sound_source("library", lib, sr))):
            timed(f"{prefix}_clips", lambda: ensure_event_clips(where[f"{prefix}_clips"], source, "test", seed, sr,
                                                                 d.clip_seconds, d.anechoic))  # fmt: skip
    finally:
        shutil.rmtree(work, ignore_errors=True)
    total = sum(v for k, v in seconds.items() if "/" not in k)
    print(f"{'total':24s} {total:7.1f} s (the pieces, feature_cache/extract being part of feature_cache)")
    cpu = next((line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines() if line.startswith("model name")), "?")
    if a.out:
        Path(a.out).write_text(json.dumps({"cpu": f"{cpu}, {os.cpu_count()} cores, torch threads {torch.get_num_threads()}",
                                           "seconds": seconds, "total_seconds": total, "train_clips": len(rows)}, indent=1) + "\n")  # fmt: skip
    return 0


if __name__ == "__main__":
    sys.exit(main())

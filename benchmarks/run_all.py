"""Training benchmarks, printed as figures (goals in brackets).

1. step time of the full model vs the SALM baseline, same batch            [ratio <= 1.15]
2. scene synthesis rate vs the rate at which training consumes scenes      [>= 20x]
3. peak RSS of a default training run (one epoch of the default notebook)  [<= 4 GiB]

Usage: ``python benchmarks/run_all.py [--steps 6] [--skip-rss]``. Figures vary with the machine
and its load; the README quotes a run on 2 CPU cores.
"""

from __future__ import annotations

import argparse
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")

import torch
import torch.nn.functional as F

ROOT = Path(__file__).resolve().parents[1]


def synthetic_batch(groups: int, seconds: float = 2.0, seed: int = 0) -> dict:
    from sclap_nb.features import FOAFeatures

    g = torch.Generator().manual_seed(seed)
    n = 3 * groups
    wave = 0.1 * torch.randn(n, 4, int(16000 * seconds), generator=g)
    logmel, logmeliv = FOAFeatures()(wave)
    words = ["violin", "drum", "bird", "phone", "piano", "flute", "bell", "dog"]
    caps = [f"a {words[i % 8]} on the left, then a {words[(i + 3) % 8]} behind {i}" for i in range(n)]
    return {
        "logmel": logmel, "logmeliv": logmeliv, "text_comb": caps,
        "text": [c.rsplit(" ", 1)[0] for c in caps], "doa": F.normalize(torch.randn(n, 2, 3, generator=g), dim=-1),
        "group_size": 3,
    }


def step_times(configs: dict[str, dict], batch: dict, steps: int) -> dict[str, float]:
    """Median seconds of forward + backward + Adam step for each model configuration.

    The models take their steps in turn (A, B, A, B, ...), so a change in the machine's load
    during the measurement affects all of them alike.
    """
    from sclap_nb.config import LossConfig
    from sclap_nb.losses import total_loss
    from sclap_nb.model import ModelConfig, SpatialTemporalCLAP

    runs = {}
    for name, kw in configs.items():
        torch.manual_seed(0)
        model = SpatialTemporalCLAP(ModelConfig(**kw)).train()
        opt = torch.optim.Adam([p for p in model.parameters() if p.requires_grad], 1e-4)
        runs[name] = (model, opt, kw.get("use_temporal", True), [])
    for i in range(steps + 2):
        for name, (model, opt, full, times) in runs.items():
            t0 = time.perf_counter()
            losses = total_loss(model(batch), batch, 5, LossConfig(use_ts_loss=full, mask_false_negatives=full))
            opt.zero_grad()
            losses["total"].backward()
            opt.step()
            if i >= 2:  # the first steps fill the text cache and warm the allocator
                times.append(time.perf_counter() - t0)
    return {name: sorted(r[3])[len(r[3]) // 2] for name, r in runs.items()}


def synthesis_rate(n_scenes: int = 48) -> float:
    from sclap_nb.data import build_corpus

    with tempfile.TemporaryDirectory() as d:
        t0 = time.perf_counter()
        build_corpus(Path(d) / "c", n_train=n_scenes, n_val=0, n_test=0, seed=1, progress=False)
        return n_scenes / (time.perf_counter() - t0)


def peak_rss_of_default_run() -> tuple[float, float]:
    """Run the training notebook on its defaults for one epoch; return (peak RSS GiB, seconds)."""
    with tempfile.TemporaryDirectory() as d:
        cmd = [
            sys.executable, "-m", "papermill", str(ROOT / "notebooks" / "10_train.ipynb"), str(Path(d) / "out.ipynb"),
            "-p", "fast", "False", "-p", "epochs", "1", "-p", "out_dir", str(Path(d) / "run"), "-p", "corpus_dir", str(Path(d) / "corpus"),
            "--cwd", str(ROOT), "--no-progress-bar",
        ]
        t0 = time.perf_counter()
        subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        seconds = time.perf_counter() - t0
    # ru_maxrss of the largest descendant (the kernel), in KiB on Linux
    return resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 2**20, seconds


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--steps", type=int, default=6)
    ap.add_argument("--groups", type=int, default=16, help="triplets per batch (the default run's batch)")
    ap.add_argument("--skip-rss", action="store_true")
    args = ap.parse_args()
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads, batch {args.groups} triplets ({3 * args.groups} clips)")

    batch = synthetic_batch(args.groups)
    t = step_times({"baseline": dict(use_temporal=False, use_modality=False), "full": {}}, batch, args.steps)
    t_base, t_full = t["baseline"], t["full"]
    print(f"1. step time: baseline {t_base:.3f} s, full {t_full:.3f} s, ratio {t_full / t_base:.3f}  [goal <= 1.15]")

    rate = synthesis_rate()
    consume = args.groups / t_full
    print(f"2. synthesis {rate:.1f} scenes/s vs training consumption {consume:.1f} scenes/s: {rate / consume:.1f}x  [goal >= 20x]")

    if not args.skip_rss:
        rss, seconds = peak_rss_of_default_run()
        print(f"3. peak RSS of a default training run (1 epoch, {seconds:.0f} s): {rss:.2f} GiB  [goal <= 4 GiB]")
    return 0


if __name__ == "__main__":
    sys.exit(main())

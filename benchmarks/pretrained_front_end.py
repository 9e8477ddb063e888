"""What the pretrained semantic features cost (``model.semantic_pretrained`` aisfx, ``sclap_nb.pretrained``).

    python benchmarks/pretrained_front_end.py [--clips 64] [--seconds 4] [--rounds 3] [--out FILE]

Times, on ``--clips`` random FOA clips of ``--seconds`` at 16 kHz in batches of ``AISFX_BATCH``: aiSFX's input
(``aisfx_logmel``: resampling to 44.1 kHz, STFT, mel bands), and the whole embedder (input and network) in
float32 and in bf16 autocast (where the CPU has native bf16; elsewhere that row says so). Printed: milliseconds a
clip (median over ``--rounds``) and the bf16 / float32 ratio; with ``--out``, the same as JSON (never
overwritten). From these, the cost of a corpus: clips x ms. Figures depend on the host and its load.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import numpy as np  # noqa: E402
import torch  # noqa: E402

from sclap_nb.hardware import cpu_has_native_bf16  # noqa: E402
from sclap_nb.pretrained import AisfxEmbedder, aisfx_logmel  # noqa: E402


def ms_per_clip(fn, n: int, rounds: int) -> float:
    times = []
    for _ in range(rounds):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return 1000.0 * statistics.median(times) / n


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--clips", type=int, default=64, help="clips per timed call")
    p.add_argument("--seconds", type=float, default=4.0, help="length of a clip (the main job's: 4 s)")
    p.add_argument("--rounds", type=int, default=3, help="timed calls; the median is reported")
    p.add_argument("--out", default="", help="also write the figures to this JSON file (never overwritten)")
    args = p.parse_args(argv)
    if args.out and Path(args.out).exists():
        p.error(f"{args.out} exists; give another --out")
    rate = 16000
    waves = (0.1 * np.random.default_rng(0).standard_normal((args.clips, 4, int(rate * args.seconds)))).astype(np.float32)
    fig = {"clips": args.clips, "seconds": args.seconds, "threads": torch.get_num_threads(), "native_bf16": cpu_has_native_bf16()}
    fig["input_ms"] = ms_per_clip(lambda: aisfx_logmel(waves[:, 0], rate), args.clips, args.rounds)
    for name, bf16 in (("float32", False), ("bf16", True)):
        if bf16 and not fig["native_bf16"]:
            print("bf16: no native bf16 on this CPU (the embedder runs in float32 here)")
            continue
        embed = AisfxEmbedder(bf16=bf16)
        embed(waves[:2], rate)  # load the weights and warm up
        fig[f"{name}_ms"] = ms_per_clip(lambda: embed(waves, rate), args.clips, args.rounds)
    for k in ("input_ms", "float32_ms", "bf16_ms"):
        if k in fig:
            print(f"{k[:-3]:>8}: {fig[k]:.1f} ms a clip of {args.seconds:g} s")
    if "bf16_ms" in fig:
        fig["bf16_over_float32"] = fig["bf16_ms"] / fig["float32_ms"]
        print(f"bf16 / float32: x{fig['bf16_over_float32']:.2f}")
    if args.out:
        with open(args.out, "x") as f:
            json.dump(fig, f, indent=1)
    return 0


if __name__ == "__main__":
    sys.exit(main())

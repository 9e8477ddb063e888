"""The main job's training step with both CNN branches in the default (contiguous) and the channels-last
memory layout (``model.channels_last``).

    python benchmarks/cnn_layout.py [--steps 16] [--rounds 2] [--out benchmarks/cnn_layout_epyc.json]

Each variant runs ``--steps`` training steps of the main job (``--preset main``: 16 scenes x 5 clips of
4 s and 32 single-event clips for the class term a step, bf16 where the CPU has it; no validation) in a
process of its own, on the main job's corpus and feature cache (built first if missing, seed 2025). The
variants compute the same function; their floats differ in the last bits (the same convolutions and
batch norms, summed in another order), so their losses drift apart over the steps, as two CPUs' do.

Printed for each: the mean seconds a step (steps 3 to N), the first step's loss, and the ratio of the
two step times. The variants run in turn, ``--rounds`` times, and each figure is the median over the
rounds: a shared host's speed drifts by several percent within minutes. Figures depend on the host.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
sys.path.insert(0, str(Path(__file__).resolve().parent))

from main_steps import rounds_in_processes, train_steps  # noqa: E402

VARIANTS = {"contiguous": 0, "channels_last": 1}


def one_variant(channels_last: bool, steps: int) -> dict:
    """Run in a fresh process: ``steps`` training steps of the main job in one memory layout."""
    times, losses = train_steps({"model.channels_last": channels_last}, steps, "cnn-layout-")
    return {"steps": len(times), "mean_step_s": statistics.mean(times[2:]), "first_loss": losses[0], "last_loss": losses[-1]}


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--steps", type=int, default=16, help="training steps a variant runs (the first two are not timed)")
    p.add_argument("--rounds", type=int, default=2, help="run the variants in turn this many times; report medians")
    p.add_argument("--out", default="", help="also write the figures to this JSON file (never overwritten)")
    p.add_argument("--variant", type=int, default=None, help=argparse.SUPPRESS)  # internal: one variant in this process
    a = p.parse_args(argv)
    if a.variant is not None:
        print(json.dumps(one_variant(bool(a.variant), a.steps)))
        return 0
    if a.steps < 3:
        p.error("--steps must be at least 3 (the first two are not timed)")
    if a.out and Path(a.out).exists():
        p.error(f"{a.out} exists; give another --out (a file is never overwritten)")
    out = rounds_in_processes(__file__, a.steps, VARIANTS, a.rounds)
    for name, fig in out["variants"].items():
        print(f"{name:13s}: {fig['mean_step_s']:.3f} s a step (mean of steps 3-{fig['steps']:.0f}, median of {a.rounds} "
              f"rounds); loss at step 1 {fig['first_loss']:.6f}, at step {fig['steps']:.0f} {fig['last_loss']:.6f}")  # fmt: skip
    ratio = out["variants"]["channels_last"]["mean_step_s"] / out["variants"]["contiguous"]["mean_step_s"]
    out["channels_last_over_contiguous"] = ratio
    print(f"channels_last / contiguous: step time x{ratio:.3f}")
    if a.out:
        Path(a.out).write_text(json.dumps(out, indent=1) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())

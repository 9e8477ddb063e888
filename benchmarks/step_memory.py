"""Resident memory of the main job's training steps, with and without handing freed heap back.

    python benchmarks/step_memory.py [--steps 32] [--rounds 2] [--out benchmarks/step_memory_epyc.json]

Each variant runs ``--steps`` training steps of the main job (``--preset main``: 16 scenes x 5 clips
and 32 single-event clips for the class term a step, bf16 where the CPU has it; no validation) in a
process of its own, on the main job's corpus and feature cache (built first if missing, seed 2025):

* ``never``: glibc's heap as it is (freed blocks stay with the process, the heap fragments);
* ``every 4``: ``malloc_trim`` every 4 steps and around validation, what training does
  (``sclap_nb.training.ReleaseMemory``);
* ``every 1``: after every step.

Printed for each: the mean seconds a step (steps 3 to N, so the trimming steps count), the peak
resident memory of the process (``VmHWM``), and its anonymous and file-backed memory at the end.
The variants compute the same numbers; only memory and time differ. They run in turn, ``--rounds``
times (never, every 4, every 1, never, ...), and each figure is the median over the rounds: a
shared host's speed drifts by several percent within minutes. Figures depend on the host.
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

VARIANTS = {"never": 0, "every 4": 4, "every 1": 1}


def status_gib(keys=("VmHWM", "RssAnon", "RssFile")) -> dict[str, float]:
    fields = dict(line.split(":", 1) for line in Path("/proc/self/status").read_text().splitlines() if ":" in line)
    return {k: int(fields[k].split()[0]) / 2**20 for k in keys if k in fields}


def one_variant(every: int, steps: int) -> dict:
    """Run in a fresh process: ``steps`` training steps with trimming every ``every`` steps (0: never)."""
    def trim(trainer):
        from sclap_nb.training import ReleaseMemory  # importable once train_steps has set the path

        for c in [c for c in trainer.callbacks if isinstance(c, ReleaseMemory)]:
            if every:
                c.every = every
            else:
                trainer.callbacks.remove(c)

    times, _ = train_steps({}, steps, "step-memory-", adjust=trim)  # the clock runs after ReleaseMemory
    return {"steps": len(times), "mean_step_s": statistics.mean(times[2:]), "median_step_s": statistics.median(times[2:]),
            **{f"{k}_GiB": v for k, v in status_gib().items()}}  # fmt: skip


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--steps", type=int, default=32, help="training steps a variant runs (the first two are not timed)")
    p.add_argument("--rounds", type=int, default=2, help="run the variants in turn this many times; report medians")
    p.add_argument("--out", default="", help="also write the figures to this JSON file (never overwritten)")
    p.add_argument("--variant", type=int, default=None, help=argparse.SUPPRESS)  # internal: one variant in this process
    a = p.parse_args(argv)
    if a.variant is not None:
        print(json.dumps(one_variant(a.variant, a.steps)))
        return 0
    if a.steps < 3:
        p.error("--steps must be at least 3 (the first two are not timed)")
    if a.out and Path(a.out).exists():
        p.error(f"{a.out} exists; give another --out (a file is never overwritten)")
    out = rounds_in_processes(__file__, a.steps, VARIANTS, a.rounds, label="trim ")
    for name, fig in out["variants"].items():
        print(f"trim {name:8s}: {fig['mean_step_s']:.3f} s a step (mean of steps 3-{fig['steps']:.0f}), peak RSS "
              f"{fig['VmHWM_GiB']:.2f} GiB, at the end anonymous {fig['RssAnon_GiB']:.2f} GiB, file {fig['RssFile_GiB']:.2f} GiB"
              f" (medians of {a.rounds} rounds)", flush=True)  # fmt: skip
    base = out["variants"]["never"]
    for name in ("every 4", "every 1"):
        v = out["variants"][name]
        print(f"{name} vs never: step time x{v['mean_step_s'] / base['mean_step_s']:.3f}, peak RSS "
              f"{v['VmHWM_GiB'] - base['VmHWM_GiB']:+.2f} GiB")  # fmt: skip
    if a.out:
        Path(a.out).write_text(json.dumps(out, indent=1) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())

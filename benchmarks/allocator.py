"""The main job's training steps with glibc's allocator and with tcmalloc preloaded (``sclap_nb.allocator``).

    python benchmarks/allocator.py [--steps 16] [--rounds 2] [--out benchmarks/allocator_epyc_slow.json]

Each variant runs ``--steps`` training steps of the main job (``--preset main``, bf16 where the CPU has it; no
validation) in a process of its own, on the main job's corpus and feature cache (built first if missing, seed
2025): ``system`` without ``LD_PRELOAD`` (glibc's malloc, which maps and unmaps the large buffers of each step
afresh), ``tcmalloc`` with the library ``make setup`` installed preloaded. Printed for each: the mean seconds a
step (steps 3 to N), the process's minor page faults and system and user CPU seconds (``getrusage``, the
start-up included), its peak resident memory (``VmHWM``), and the last step's loss, which must be the same
in both (the allocator changes where tensors live, not what is computed). The variants run in turn,
``--rounds`` times, and each figure is the median over the rounds. Figures depend on the host.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import sys
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from main_steps import rounds_in_processes, train_steps  # noqa: E402
from step_memory import status_gib  # noqa: E402

from sclap_nb import allocator  # noqa: E402

VARIANTS = ("system", "tcmalloc")


def one_variant(steps: int) -> dict:
    """Run in a fresh process: ``steps`` training steps with whatever allocator this process started with."""
    times, losses = train_steps({}, steps, "allocator-")
    ru = resource.getrusage(resource.RUSAGE_SELF)
    return {"steps": len(times), "mean_step_s": statistics.mean(times[2:]), "median_step_s": statistics.median(times[2:]),
            "minor_page_faults_M": ru.ru_minflt / 1e6, "system_cpu_s": ru.ru_stime, "user_cpu_s": ru.ru_utime,
            "VmHWM_GiB": status_gib(("VmHWM",))["VmHWM"], "last_loss": losses[-1], "allocator": allocator.in_use()}  # fmt: skip


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--steps", type=int, default=16, help="training steps a variant runs (the first two are not timed)")
    p.add_argument("--rounds", type=int, default=2, help="run the variants in turn this many times; report medians")
    p.add_argument("--out", default="", help="also write the figures to this JSON file (never overwritten)")
    p.add_argument("--variant", default=None, help=argparse.SUPPRESS)  # internal: one variant in this process
    a = p.parse_args(argv)
    if a.variant is not None:
        print(json.dumps(one_variant(a.steps)))
        return 0
    if a.steps < 3:
        p.error("--steps must be at least 3 (the first two are not timed)")
    if a.out and Path(a.out).exists():
        p.error(f"{a.out} exists; give another --out (a file is never overwritten)")
    if allocator.path() is None:
        p.error("tcmalloc is not installed (python -m sclap_nb.allocator install)")
    plain = {k: v for k, v in os.environ.items() if k not in ("LD_PRELOAD", "SCLAP_ALLOCATOR")}
    envs = {"system": plain, "tcmalloc": allocator.environ(plain)}
    out = rounds_in_processes(__file__, a.steps, {k: k for k in VARIANTS}, a.rounds, label="", envs=envs)
    for name, fig in out["variants"].items():
        each = {f["allocator"] for f in fig["each_round"]}
        if each != {name}:
            raise SystemExit(f"variant {name} ran with {each}")
        print(f"{name:8s}: {fig['mean_step_s']:.3f} s a step (mean of steps 3-{fig['steps']:.0f}), "
              f"{fig['minor_page_faults_M']:.2f} M page faults, {fig['system_cpu_s']:.1f} s system / {fig['user_cpu_s']:.1f} s user CPU, "
              f"peak RSS {fig['VmHWM_GiB']:.2f} GiB, last loss {fig['last_loss']!r} (medians of {a.rounds} rounds)")  # fmt: skip
    s, t = out["variants"]["system"], out["variants"]["tcmalloc"]
    out["tcmalloc_over_system_step"] = t["mean_step_s"] / s["mean_step_s"]
    out["same_loss_every_round"] = len({f["last_loss"] for v in out["variants"].values() for f in v["each_round"]}) == 1
    print(f"tcmalloc / system, time a step: x{out['tcmalloc_over_system_step']:.3f}; the same last loss in every process: "
          f"{out['same_loss_every_round']}")  # fmt: skip
    if a.out:
        Path(a.out).write_text(json.dumps(out, indent=1) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())

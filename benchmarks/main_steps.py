"""What ``cnn_layout.py`` and ``step_memory.py`` share: training steps of the main job, timed, each variant in
a process of its own, the variants in turn over several rounds, medians reported.

Not a benchmark by itself; ``python benchmarks/cnn_layout.py`` and ``python benchmarks/step_memory.py`` use it.
"""

from __future__ import annotations

import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def train_steps(settings: dict, steps: int, prefix: str, adjust: Callable | None = None) -> tuple[list[float], list[float]]:
    """Run in a fresh process: ``steps`` training steps of the main job (preset ``main`` with ``settings``), no
    validation; ``adjust(trainer)`` may change the trainer's callbacks first. Returns each step's seconds (the
    step's callbacks included) and its loss."""
    sys.path.insert(0, str(ROOT))
    os.chdir(ROOT)
    import lightning.pytorch as pl

    from sclap_nb.config import preset
    from sclap_nb.run import build_data, class_batches
    from sclap_nb.training import SCLAPModule, build_trainer

    cfg = preset("main", settings)
    _, dm = build_data(cfg, ROOT)
    times: list[float] = []
    losses: list[float] = []

    class Clock(pl.Callback):
        def on_train_batch_start(self, *args):
            self.t = time.perf_counter()

        def on_train_batch_end(self, trainer, module, outputs, *args):
            times.append(time.perf_counter() - self.t)
            losses.append(float(outputs["loss"]))

    pl.seed_everything(cfg.runtime.seed)
    module = SCLAPModule(cfg)
    module.class_batches = class_batches(cfg, ROOT)
    logs = tempfile.mkdtemp(prefix=prefix)
    trainer = build_trainer(cfg, logs, enable_checkpoints=False)
    if adjust is not None:
        adjust(trainer)
    trainer.callbacks.append(Clock())  # last: a step's time includes what the other callbacks do after it
    trainer.limit_train_batches, trainer.limit_val_batches, trainer.fit_loop.max_epochs = steps, 0, 1
    trainer.fit(module, datamodule=dm)
    shutil.rmtree(logs, ignore_errors=True)
    return times, losses


def rounds_in_processes(script: str, steps: int, variants: dict[str, object], rounds: int, label: str = "",
                        envs: dict[str, dict] | None = None) -> dict:  # fmt: skip
    """Build the main job's corpus and class clips once, then run ``script --steps S --variant V`` for each
    variant in turn, ``rounds`` times, each in a process of its own (its last stdout line: a JSON object of
    figures; ``envs[name]``: that variant's environment, default this process's). Returns the machine, the
    steps and rounds, and per variant the median of each figure over the rounds with every round's figures
    (``each_round``)."""
    import torch

    sys.path.insert(0, str(ROOT))
    from sclap_nb.config import preset
    from sclap_nb.run import build_data, class_batches

    cfg = preset("main")  # built once, outside the timed processes
    build_data(cfg, ROOT)
    class_batches(cfg, ROOT)
    cpu = next((line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines() if line.startswith("model name")), "?")
    out = {"cpu": f"{cpu}, {os.cpu_count()} cores, torch threads {torch.get_num_threads()}", "steps": steps, "variants": {}}
    each: dict[str, list[dict]] = {name: [] for name in variants}
    for r in range(rounds):
        for name, value in variants.items():
            res = subprocess.run([sys.executable, script, "--steps", str(steps), "--variant", str(value)], cwd=ROOT,
                                 capture_output=True, text=True, check=True, env=(envs or {}).get(name))  # fmt: skip
            each[name].append(json.loads(res.stdout.strip().splitlines()[-1]))
            print(f"round {r + 1}, {label}{name}: {each[name][-1]['mean_step_s']:.3f} s a step", flush=True)
    out["rounds"] = rounds
    for name, figs in each.items():
        out["variants"][name] = {**{k: _median_or_same([f[k] for f in figs]) for k in figs[0]}, "each_round": figs}
    return out


def _median_or_same(values: list):
    """The median of numbers; a label (a str) when every round has the same one, else the list of them."""
    if all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in values):
        return statistics.median(values)
    return values[0] if all(v == values[0] for v in values) else values

"""A training step's compute rate as a share of the machine's bf16 matmul rate, measured in one run.

    python benchmarks/flops_share.py [--preset default|main] [--groups 16] [--reps 5] [--threads 0] [--out flops.json] [--profile]

Hosts of one kind differ in speed (the same step took 0.261 s on one machine and 0.537 s on
another), so seconds alone do not compare. This prints a figure that does not depend on the host:

* the FLOPs of one training step (forward and backward of every part that trains, counted by
  ``torch.utils.flop_counter.FlopCounterMode``: matmuls, convolutions, attention);
* the step's median time in each variant (fp32; bf16 autocast; bf16 with both CNN branches in the
  ``channels_last`` memory layout, weights and feature maps, as ``model.channels_last`` runs them; the
  last with the convolution stages of the two CNN branches compiled by ``torch.compile``, its compiling
  time printed apart), optimiser step included, on cached features as training reads them;
* the rate of a 2048 x 2048 bf16 matmul on the same threads, in the same run: the peak a step could
  reach; the step's share of it is ``FLOPs / time / peak``.

``--preset default``: the default model on ``--groups`` synthetic scenes of 4 clips of 2 s (pos, neg_t,
neg_s, neg_c: the default run's groups). ``--preset main``: the main job's model and its first training
batch (16 timed scenes x 5 clips of 4 s from its cached features, and the 32 single-event clips of the
class term, whose features are computed in the step as training computes them); its corpus and class
clips are built first where missing.
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
import torch
import torch.nn.functional as F
from torch.utils.flop_counter import FlopCounterMode

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
from profile_step import cpu_description  # noqa: E402

from sclap_nb.allocator import in_use as allocator_in_use  # noqa: E402
from sclap_nb.config import RunConfig  # noqa: E402
from sclap_nb.losses import total_loss  # noqa: E402
from sclap_nb.model import SpatialTemporalCLAP  # noqa: E402


def matmul_rate(n: int = 2048, reps: int = 10) -> float:
    """GFLOP/s of an ``n x n`` bf16 matmul (2 n^3 FLOPs), median of ``reps`` after a warm-up."""
    a, b = torch.randn(n, n, dtype=torch.bfloat16), torch.randn(n, n, dtype=torch.bfloat16)
    a @ b
    times = []
    for _ in range(reps):
        t0 = time.perf_counter()
        a @ b
        times.append(time.perf_counter() - t0)
    return 2 * n**3 / statistics.median(times) / 1e9


def operator_shares(step, title: str = "a step", steps: int = 3, top: int = 12) -> str:
    """The ``top`` operators of ``steps`` calls of ``step`` by their own CPU time (``torch.profiler``), each
    with its share of the total, forward and backward kernels apart (``aten::convolution_backward``)."""
    from torch.profiler import ProfilerActivity, profile

    step()  # warm-up
    with profile(activities=[ProfilerActivity.CPU]) as prof:
        for _ in range(steps):
            step()
    events = sorted(prof.key_averages(), key=lambda e: e.self_cpu_time_total, reverse=True)
    total = sum(e.self_cpu_time_total for e in events)
    lines = [f"where {title}'s time goes ({steps} steps, {total / steps / 1e3:.0f} ms of CPU time each):"]
    lines += [f"  {e.key:36s} {100 * e.self_cpu_time_total / total:5.1f}%" for e in events[:top]]
    return "\n".join(lines)


def synthetic_batch(model: SpatialTemporalCLAP, groups: int, seconds: float = 2.0, seed: int = 0) -> dict:
    """``groups`` scenes of 4 clips with their features computed once (training reads cached features)."""
    n = 4 * groups
    g = torch.Generator().manual_seed(seed)
    words = ["violin", "drum", "bird", "phone", "piano", "flute", "bell", "dog"]
    caps = [f"a {words[i % 8]} plays on the left, then a {words[(i + 3) % 8]} rolls behind {i}" for i in range(n)]
    wave = 0.1 * torch.randn(n, 4, int(seconds * model.cfg.features.sample_rate), generator=g)
    with torch.no_grad():
        logmel, logmeliv = model.features(wave)
    return {"logmel": logmel, "logmeliv": logmeliv, "text_comb": caps, "text": [c.rsplit(" ", 1)[0] for c in caps],
            "doa": F.normalize(torch.randn(n, 2, 3, generator=g), dim=-1), "group_size": 4}  # fmt: skip


def set_layout(model: SpatialTemporalCLAP, channels_last: bool) -> None:
    """Both CNN branches' weights and inputs in the channels-last (else the contiguous) memory layout."""
    fmt = torch.channels_last if channels_last else torch.contiguous_format
    for enc in (model.sed_encoder, model.doa_encoder):
        enc.memory_format = fmt
        enc.to(memory_format=fmt)


def main_job_step_inputs():
    """The main job's config, its first training batch and its first class-term batch (``--preset main``)."""
    from sclap_nb.config import preset
    from sclap_nb.run import build_data, class_batches

    cfg = preset("main", {"model.channels_last": False})  # the layout is each variant's
    _, dm = build_data(cfg, ROOT)
    batch = next(iter(dm.train_dataloader()))
    classes = class_batches(cfg, ROOT)
    return cfg, batch, classes(0) if classes is not None else None


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--preset", choices=("default", "main"), default="default",
                    help="default: the default model on synthetic 2 s scenes; main: the main job's model and first batch")
    ap.add_argument("--groups", type=int, default=RunConfig().optim.batch_size,
                    help="scenes per step (4 clips each) for --preset default")
    ap.add_argument("--reps", type=int, default=5, help="timed steps per variant, after a warm-up step")
    ap.add_argument("--threads", type=int, default=0, help="torch threads (0: torch's default)")
    ap.add_argument("--out", help="also write the figures here as JSON")
    ap.add_argument("--profile", action="store_true",
                    help="also print where the bf16 + channels_last step's time goes, by operator (torch.profiler, 3 steps)")
    args = ap.parse_args(argv)
    if args.out and Path(args.out).exists():
        ap.error(f"{args.out} exists; pass another --out")
    if args.threads:
        torch.set_num_threads(args.threads)
    if args.preset == "main":
        cfg, batch, class_batch = main_job_step_inputs()
        torch.manual_seed(0)
        model = SpatialTemporalCLAP(cfg.model).train()
        what = f"the main job's first batch ({len(batch['text_comb'])} clips of {cfg.data.clip_seconds:g} s in groups of " \
               f"{batch['group_size']}, {len(class_batch['text']) if class_batch else 0} class-term clips), main model"
    else:
        cfg, class_batch = RunConfig(), None
        torch.manual_seed(0)
        model = SpatialTemporalCLAP(cfg.model).train()
        batch = synthetic_batch(model, args.groups)
        what = f"{args.groups} groups x 4 clips of 2 s, default model"
    model.encode_text(batch["text_comb"] + batch["text"])  # fill the frozen-layer cache, as training does
    opt = torch.optim.Adam([p for p in model.parameters() if p.requires_grad], lr=1e-4)

    def step(bf16: bool, channels_last: bool):
        b = dict(batch)
        set_layout(model, channels_last)
        with torch.autocast("cpu", dtype=torch.bfloat16, enabled=bf16):
            out = model(b)
            cls = None
            if class_batch is not None:  # the class term's clips: features computed in the step (SCLAPModule)
                logmel, _ = model.features(class_batch["wave"])
                cls = (model.encode_semantic(logmel), model.encode_text(class_batch["text"]), class_batch["label"])
            loss = total_loss(out, b, cfg.optim.epochs - 1, cfg.loss, cls)["total"]  # the last epoch: every term on
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()

    counter = FlopCounterMode(display=False)
    with counter:
        step(False, False)
    gflop = counter.get_total_flops() / 1e9
    peak = matmul_rate()
    if args.profile:
        print(operator_shares(lambda: step(True, True), "a bf16 + channels_last step"))
    rows, compile_seconds = {}, None
    variants = (("fp32", False, False), ("bf16", True, False), ("bf16 + channels_last", True, True),
                ("bf16 + channels_last + compile", True, True))  # fmt: skip
    for name, bf16, cl in variants:
        if name.endswith("compile"):  # the last variant: the stages stay compiled from here on
            for branch in (model.sed_encoder, model.doa_encoder):  # not the input norms: see the README
                branch.stages.compile()
            t0 = time.perf_counter()
            step(bf16, cl)  # compiles forward and backward for this shape
            compile_seconds = time.perf_counter() - t0
        step(bf16, cl)  # warm-up (oneDNN primitives, allocator)
        times = []
        for _ in range(args.reps):
            t0 = time.perf_counter()
            step(bf16, cl)
            times.append(time.perf_counter() - t0)
        t = statistics.median(times)
        # the last step's gradients are still there: a variant that computes non-finite ones is no speed-up
        finite = all(bool(torch.isfinite(p.grad).all()) for p in model.parameters() if p.grad is not None)
        rows[name] = {"seconds": t, "gflop_per_s": gflop / t, "share_of_bf16_peak": gflop / t / peak, "finite_gradients": finite}
    print(cpu_description())
    print(f"step: {what}; {gflop:.1f} GFLOP (forward + backward)")
    print(f"bf16 2048^2 matmul on {torch.get_num_threads()} threads: {peak:.0f} GFLOP/s")
    print(f"{'variant':32s} {'s/step':>8s} {'GFLOP/s':>9s} {'share of peak':>14s}")
    for name, r in rows.items():
        flag = "" if r["finite_gradients"] else "  (non-finite gradients: not a valid step)"
        print(f"{name:32s} {r['seconds']:8.3f} {r['gflop_per_s']:9.1f} {100 * r['share_of_bf16_peak']:13.1f}%{flag}")
    print(f"compiling the stages (the first compiled step; less where inductor's cache holds them): {compile_seconds:.1f} s")
    print(f"allocator: {allocator_in_use()} (sclap_nb.allocator)")
    if args.out:
        Path(args.out).write_text(json.dumps({"cpu": cpu_description(), "gflop_per_step": gflop, "peak_gflop_per_s": peak,
                                              "preset": args.preset, "step": what, "groups": args.groups, "variants": rows, "compile_seconds": compile_seconds,
                                              "allocator": allocator_in_use()},
                                             indent=2))  # fmt: skip
    return 0


if __name__ == "__main__":
    sys.exit(main())

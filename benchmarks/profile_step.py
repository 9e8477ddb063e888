"""Where a training step's time goes, in fp32 and bf16 side by side, and the main job's phases.

    python benchmarks/profile_step.py [--reps 5] [--run runs/train]

Part 1, the step at the default size (16 triplets = 48 clips of 2 s, default model): each piece
is timed on its own (forward + backward where it trains; median of ``--reps`` after a warm-up):
features (FOAFeatures of the waveforms), the semantic CNN branch, the spatial CNN branch, the text
side (frozen layers cached, top layer fine-tuned), the temporal encoder and the triplet fusion, the
losses, the optimizer step, one batch from the cached-feature loader, and the validation pass
(embedding the 64 validation scenes and computing every metric). The bf16 column runs the same
under ``torch.autocast("cpu", dtype=torch.bfloat16)``; ratios are fp32 / bf16.

Part 2, the main job's phases, read from a finished run's ``metrics.json`` (``phase_seconds/*``):
corpus and feature cache, training, evaluation, and the whole notebook.

Prints the CPU model and the flags that decide the bf16 speed (avx512_bf16, amx_bf16).
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import statistics
import sys
import tempfile
import time
from contextlib import nullcontext
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
import torch
import torch.nn.functional as F

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def cpu_description() -> str:
    info = Path("/proc/cpuinfo").read_text() if Path("/proc/cpuinfo").exists() else ""
    model = next((line.split(":", 1)[1].strip() for line in info.splitlines() if line.startswith("model name")), "?")
    flags = set(next((line.split(":", 1)[1].split() for line in info.splitlines() if line.startswith("flags")), []))
    shown = [f for f in ("avx2", "avx512f", "avx512_bf16", "amx_bf16", "amx_tile") if f in flags]
    return f"{model}, {os.cpu_count()} cores, torch threads {torch.get_num_threads()}, flags: {' '.join(shown) or 'none of avx2/avx512/amx'}"


def timed(fn, reps: int) -> float:
    fn()  # warm-up (allocations, oneDNN primitive creation)
    out = []
    for _ in range(reps):
        t0 = time.perf_counter()
        fn()
        out.append(time.perf_counter() - t0)
    return statistics.median(out)


def synthetic(n: int, seed: int = 0) -> dict:
    g = torch.Generator().manual_seed(seed)
    words = ["violin", "drum", "bird", "phone", "piano", "flute", "bell", "dog"]
    caps = [f"a {words[i % 8]} plays on the left, then a {words[(i + 3) % 8]} rolls behind {i}" for i in range(n)]
    return {"wave": 0.1 * torch.randn(n, 4, 32000, generator=g), "text_comb": caps,
            "text": [c.rsplit(" ", 1)[0] for c in caps], "doa": F.normalize(torch.randn(n, 2, 3, generator=g), dim=-1),
            "group_size": 3}  # fmt: skip


def profile(reps: int, corpus: Path | None) -> dict[str, dict[str, float]]:
    from sclap_nb.losses import total_loss
    from sclap_nb.model import ModelConfig, SpatialTemporalCLAP

    torch.manual_seed(0)
    model = SpatialTemporalCLAP(ModelConfig()).train()
    batch = synthetic(48)
    with torch.no_grad():
        logmel, logmeliv = model.features(batch["wave"])
    batch.update(logmel=logmel, logmeliv=logmeliv)
    params = [p for p in model.parameters() if p.requires_grad]
    opt = torch.optim.Adam(params, lr=1e-4)
    model.encode_text(batch["text_comb"] + batch["text"])  # fill the frozen-layer cache, as training does

    def fb(fn):
        def run():
            out = fn()
            (out if torch.is_tensor(out) else sum(o.float().sum() for o in out)).float().sum().backward()
            model.zero_grad(set_to_none=True)

        return run

    with torch.no_grad():
        sed, sed_map = model.sed_encoder(logmel)
        doa, doa_map = model.doa_encoder(logmeliv)
        joint = model.sed_projection(sed)
        out0 = model(batch)
    rows = {}
    for precision in ("fp32", "bf16"):
        ctx = (lambda: torch.autocast("cpu", dtype=torch.bfloat16)) if precision == "bf16" else nullcontext

        def under(fn):
            def run():
                with ctx():
                    return fn()

            return run

        def features():
            with torch.no_grad():
                model.features(batch["wave"])  # always fp32: the FFT path

        def temporal():
            t = model.temporal_encoder(sed_map, doa_map, model.fusion_weight)
            return model.final_audio_projection(torch.cat([F.normalize(joint, dim=-1), F.normalize(t, dim=-1)], 1))

        def losses():  # the total loss and its backward on fixed embeddings (grad stops at them)
            fields = {k: getattr(out0, k) for k in ("e_sed", "e_joint", "e_triplet", "doa", "text_comb", "text", "modality_logits")}
            leaves = {k: v.detach().clone().requires_grad_() for k, v in fields.items()}
            out = dataclasses.replace(out0, **leaves)
            with ctx():
                loss = total_loss(out, batch, epoch=6)["total"]
            loss.backward()

        def whole_step():
            with ctx():
                out = model(batch)
                loss = total_loss(out, batch, epoch=6)["total"]
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()

        def optimizer():
            for p in params:
                p.grad = torch.zeros_like(p)
            opt.step()

        r = {
            "features (48 clips, fp32 always)": timed(features, reps),
            "semantic CNN fwd+bwd": timed(fb(under(lambda: model.sed_encoder(logmel.requires_grad_(False))[0])), reps),
            "spatial CNN fwd+bwd": timed(fb(under(lambda: model.doa_encoder(logmeliv)[0])), reps),
            "text top layer fwd+bwd (96 captions)": timed(fb(under(lambda: model.text_encoder(batch["text_comb"] + batch["text"]))), reps),
            "temporal encoder + fusion fwd+bwd": timed(fb(under(temporal)), reps),
            "losses fwd+bwd (all terms)": timed(losses, reps),
            "optimizer (Adam)": timed(optimizer, reps),
            "whole step (fwd+bwd+Adam)": timed(whole_step, reps),
        }
        rows[precision] = r
    if corpus is not None:
        from sclap_nb.data import StClothoDataModule
        from sclap_nb.features import FeatureConfig
        from sclap_nb.evaluation import embed_split, evaluation_metrics

        dm = StClothoDataModule(corpus, batch_size=16, features=FeatureConfig(), cache_dir=corpus / "cache", seed=1)
        dm.setup("fit")
        it = iter(dm.train_dataloader())
        load = timed(lambda: next(it), reps)
        for precision in ("fp32", "bf16"):
            ctx = (lambda: torch.autocast("cpu", dtype=torch.bfloat16)) if precision == "bf16" else nullcontext

            def validate():
                with ctx():
                    evaluation_metrics(embed_split(model, dm.val_dataloader()))

            rows[precision]["data loading (one cached batch)"] = load
            rows[precision]["validation (64 scenes, all metrics)"] = timed(validate, max(1, reps // 2))
            model.train()
    return rows


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--reps", type=int, default=5)
    ap.add_argument("--corpus", help="a built default corpus (with its feature cache) for loading and validation; "
                    "default: build the default one in a temporary directory")  # fmt: skip
    ap.add_argument("--no-corpus", action="store_true", help="skip data loading and validation")
    ap.add_argument("--run", default="runs/train", help="a finished run whose phases to print")
    args = ap.parse_args()
    print(cpu_description())
    corpus = None
    if not args.no_corpus:
        from sclap_nb.data import ensure_corpus, feature_cache
        from sclap_nb.features import FeatureConfig

        corpus = Path(args.corpus) if args.corpus else ensure_corpus(
            Path(tempfile.mkdtemp(prefix="sclap-profile-")) / "c", n_train=512, n_val=64, n_test=128, seed=2025, progress=False)
        for split in ("train", "val"):
            feature_cache(corpus, split, FeatureConfig(), corpus / "cache")
    rows = profile(args.reps, corpus)
    names = list(rows["fp32"])
    step32, step16 = rows["fp32"]["whole step (fwd+bwd+Adam)"], rows["bf16"]["whole step (fwd+bwd+Adam)"]
    print(f"\n| piece | fp32 s | bf16 s | fp32/bf16 | share of the fp32 step |\n|---|---|---|---|---|")
    for n in names:
        a, b = rows["fp32"][n], rows["bf16"][n]
        share = "" if n.startswith(("whole", "validation", "features")) else f"{a / step32:.0%}"
        print(f"| {n} | {a:.3f} | {b:.3f} | {a / b:.2f}x | {share} |")
    print(f"\nwhole step: fp32 {step32:.3f} s, bf16 {step16:.3f} s, {step32 / step16:.2f}x")
    m = Path(args.run) / "metrics.json"
    if m.is_file():
        metrics = json.loads(m.read_text())
        phases = {k.split("/", 1)[1]: v for k, v in metrics.items() if k.startswith("phase_seconds/")}
        print(f"\nmain job phases ({m}): " + ", ".join(f"{k} {v:.0f} s" for k, v in phases.items())
              + f"; whole notebook {metrics.get('total_seconds', float('nan')):.0f} s")
    else:
        print(f"\n(no finished run at {m}: `make train` first for the main job's phases)")
    return 0


if __name__ == "__main__":
    sys.exit(main())

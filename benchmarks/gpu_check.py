"""The GPU checks: unit checks on CUDA, a bf16-mixed fit, a DDP fit (NCCL, one device), resume from
``last.ckpt``, ``best.ckpt`` loaded on CUDA, step time, loader throughput and GPU utilisation.

    python benchmarks/gpu_check.py --out OUT [--text-model DIR] [--quick] [--device cpu]

``--text-model`` is a MiniLM-shaped model directory; one without weights gets random ones of the
same shape (the timings do not depend on them). ``--device cpu --quick`` runs the same steps on a
CPU (a smoke run of this script). Prints a table at the end and writes ``OUT/gpu_check.json``.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import threading
import time
import traceback
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import torch  # noqa: E402

RESULTS: dict = {}


def step(name):
    def wrap(fn):
        def run(*a, **k):
            t0 = time.perf_counter()
            try:
                out = fn(*a, **k)
                RESULTS[name] = {"ok": True, "seconds": round(time.perf_counter() - t0, 2), **(out or {})}
            except Exception as e:  # every check runs; the table says which failed
                traceback.print_exc()
                RESULTS[name] = {"ok": False, "seconds": round(time.perf_counter() - t0, 2), "error": f"{type(e).__name__}: {e}"[:400]}
            print(f"[{name}] {RESULTS[name]}", flush=True)

        return run

    return wrap


def text_model_dir(src: str | None, work: Path) -> str | None:
    """A MiniLM-shaped model: ``src`` as is if it holds weights, else random weights of its shape."""
    if not src:
        return None
    src = Path(src)
    if any(src.glob("*.safetensors")) or any(src.glob("*.bin")):
        return str(src)
    from transformers import AutoConfig, AutoModel

    dst = work / "text-model"
    dst.mkdir(parents=True, exist_ok=True)
    for f in src.iterdir():
        (dst / f.name).write_bytes(f.read_bytes())
    torch.manual_seed(0)
    AutoModel.from_config(AutoConfig.from_pretrained(src)).save_pretrained(dst)
    return str(dst)


class GpuSampler:
    """Samples GPU utilisation (NVML) every 50 ms while active."""

    def __init__(self):
        self.samples: list[int] = []
        self._stop = threading.Event()
        self._thread = None
        try:
            import pynvml

            pynvml.nvmlInit()
            self._h = pynvml.nvmlDeviceGetHandleByIndex(0)
            self._nvml = pynvml
        except Exception:
            self._nvml = None

    def __enter__(self):
        if self._nvml is not None:
            self._thread = threading.Thread(target=self._run, daemon=True)
            self._thread.start()
        return self

    def _run(self):
        while not self._stop.is_set():
            self.samples.append(self._nvml.nvmlDeviceGetUtilizationRates(self._h).gpu)
            time.sleep(0.05)

    def __exit__(self, *exc):
        self._stop.set()
        if self._thread:
            self._thread.join()

    @property
    def mean(self):
        return round(sum(self.samples) / len(self.samples), 1) if self.samples else None


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", default=os.environ.get("OUT", "runs/gpu_check"))
    ap.add_argument("--text-model", default=None)
    ap.add_argument("--quick", action="store_true", help="tiny corpus and model (a smoke run)")
    ap.add_argument("--device", default="cuda", choices=("cuda", "cpu"))
    args = ap.parse_args()
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix="sclap-gpu-check-"))
    accel = "gpu" if args.device == "cuda" else "cpu"
    RESULTS["env"] = {
        "torch": torch.__version__, "cuda": torch.version.cuda, "device": torch.cuda.get_device_name(0) if torch.cuda.is_available() else "cpu",
        "cpus": os.cpu_count(),
    }  # fmt: skip
    import lightning

    RESULTS["env"]["lightning"] = lightning.__version__
    text = text_model_dir(args.text_model, work)
    sizes = dict(n_train=24, n_val=8, n_test=8) if args.quick else dict(n_train=512, n_val=64, n_test=128)
    model = dict(dim=64, cnn_channels=(8, 16, 16, 32), temporal_ff=128, temporal_heads=4) if args.quick else {}
    if text:
        model["text_model"] = text
    batch = 4 if args.quick else 16

    from sclap_nb.data import StClothoDataModule, ensure_corpus
    from sclap_nb.features import FeatureConfig
    from sclap_nb.config import preset
    from sclap_nb.evaluation import evaluate
    from sclap_nb.training import SCLAPModule
    from sclap_nb.training import fit as fit_into

    @step("corpus")
    def build():
        t0 = time.perf_counter()
        root = ensure_corpus(work / "corpus", seed=1, progress=False, **sizes)
        dm = StClothoDataModule(root, batch_size=batch, features=FeatureConfig(), cache_dir=root / "cache", seed=1)
        dm.setup("fit")
        dm.setup("test")
        RESULTS["_dm"] = dm
        return {"scenes": sum(sizes.values()), "seconds_with_cache": round(time.perf_counter() - t0, 1)}

    build()
    dm = RESULTS.pop("_dm", None)
    env = {**os.environ}
    if text:
        env["SCLAP_TEXT_MODEL"] = text

    @step("unit_checks_on_device")
    def unit():
        res = subprocess.run([sys.executable, "-m", "pytest", str(ROOT / "tests" / "test_gpu.py"), "-q", "-p", "no:cacheprovider",
                              "--rootdir", str(ROOT)], env={**env, "SCLAP_TEST_DEVICE": args.device}, capture_output=True, text=True,
                             cwd=ROOT, timeout=400)  # fmt: skip
        tail = (res.stdout + res.stderr).strip().splitlines()[-1:]
        print(res.stdout[-3000:], res.stderr[-2000:])
        if res.returncode:
            raise RuntimeError(f"pytest exit {res.returncode}: {tail}")
        return {"summary": tail[0] if tail else ""}

    unit()

    def cfg(name, precision="auto", strategy="auto", epochs=2):
        """The specification's settings with this check's model, on the device; trained into work/name."""
        settings = {**{f"model.{k}": v for k, v in model.items()}, "optim.epochs": epochs, "optim.batch_size": batch,
                    "runtime.accelerator": accel, "runtime.devices": 1, "runtime.seed": 1, "runtime.precision": precision,
                    "runtime.strategy": strategy}  # fmt: skip
        return preset("specification", settings), work / name

    def fit(run, dm, **kw):
        return fit_into(run[0], dm, run[1], **kw)

    class StepTimer:
        """Wall time per training step, device-synchronised, after the first 5 steps."""

        def __init__(self):
            import lightning.pytorch as pl

            timer = self

            class CB(pl.Callback):
                def on_train_batch_start(self, trainer, module, b, i):
                    if args.device == "cuda":
                        torch.cuda.synchronize()
                    timer.t = time.perf_counter()

                def on_train_batch_end(self, trainer, module, o, b, i):
                    if args.device == "cuda":
                        torch.cuda.synchronize()
                    timer.times.append(time.perf_counter() - timer.t)

            self.times: list[float] = []
            self.callback = CB()

        def median(self):
            t = sorted(self.times[5:] or self.times)
            return round(t[len(t) // 2], 4) if t else None

    for precision in ("bf16-mixed", "32-true"):

        @step(f"fit_{precision}")
        def fit_precision():
            timer = StepTimer()
            if args.device == "cuda":
                torch.cuda.reset_peak_memory_stats()
            with GpuSampler() as gpu:
                t0 = time.perf_counter()
                module, trainer = fit(cfg(f"fit-{precision}", precision=precision), dm, callbacks=[timer.callback])
                wall = time.perf_counter() - t0
            mem = torch.cuda.max_memory_allocated() / 2**30 if args.device == "cuda" else None
            m = {k: float(v) for k, v in trainer.callback_metrics.items() if k.startswith("val/joint/t2a/R@1") or k == "train/total_epoch"}
            return {"step_s_median": timer.median(), "clips_per_step": 3 * batch, "steps": trainer.global_step, "fit_wall_s": round(wall, 1),
                    "gpu_util_mean_pct": gpu.mean, "peak_mem_gib": round(mem, 2) if mem else None, **m}  # fmt: skip

        fit_precision()

    @step("fit_ddp_nccl_1device")
    def ddp():
        strategy = "ddp" if args.device == "cuda" else "ddp"
        module, trainer = fit(cfg("fit-ddp", precision="bf16-mixed", strategy=strategy), dm)
        backend = torch.distributed.get_backend() if torch.distributed.is_initialized() else "n/a"
        return {"steps": trainer.global_step, "backend": backend}

    ddp()

    @step("resume_from_last")
    def resume():
        before = torch.load(work / "fit-bf16-mixed" / "checkpoints" / "last.ckpt", map_location="cpu", weights_only=True)["global_step"]
        module, trainer = fit(cfg("fit-bf16-mixed", precision="bf16-mixed", epochs=3), dm)
        if trainer.global_step <= before:
            raise RuntimeError(f"resumed run did not continue: step {trainer.global_step} after {before}")
        return {"step_before": before, "step_after": trainer.global_step}

    resume()

    @step("load_best_on_cuda_and_evaluate")
    def best():
        device = "cuda" if args.device == "cuda" else "cpu"
        module = SCLAPModule.load_from_checkpoint(work / "fit-bf16-mixed" / "checkpoints" / "best.ckpt", map_location=device)
        on = {p.device.type for p in module.parameters()}
        t0 = time.perf_counter()
        metrics = evaluate(module.model, dm.test_dataloader())
        return {"param_devices": sorted(on), "eval_s": round(time.perf_counter() - t0, 2),
                "joint/t2a/R@1": round(metrics["joint/t2a/R@1"], 3), "LE_deg": round(metrics["LE_deg"], 1)}

    best()

    @step("loader_throughput")
    def loader():
        res = {}
        for workers in (0, 2, 4):
            d = StClothoDataModule(dm.root, batch_size=batch, features=FeatureConfig(), cache_dir=dm.root / "cache", seed=1,
                                   num_workers=workers, pin_memory=args.device == "cuda")  # fmt: skip
            d.setup("fit")
            rates = []
            for _ in range(3):
                n, t0 = 0, time.perf_counter()
                for b in d.train_dataloader():
                    n += len(b["text_comb"])
                rates.append(n / (time.perf_counter() - t0))
            res[f"clips_per_s_workers{workers}"] = round(sorted(rates)[1])
        return res

    loader()

    (out / "gpu_check.json").write_text(json.dumps(RESULTS, indent=1, default=str))
    print("\n| check | ok | s | figures |\n|---|---|---|---|")
    for k, v in RESULTS.items():
        if k == "env":
            print(f"| env | | | {v} |")
            continue
        rest = {a: b for a, b in v.items() if a not in ("ok", "seconds")}
        print(f"| {k} | {v['ok']} | {v['seconds']} | {rest} |")
    return 0 if all(v.get("ok", True) for v in RESULTS.values()) else 1


if __name__ == "__main__":
    sys.exit(main())

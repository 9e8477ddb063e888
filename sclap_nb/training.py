"""Training: a LightningModule, its trainer, and :func:`fit`.

:class:`SCLAPModule` holds the model, the total loss and its schedule; :func:`build_trainer` makes
the Lightning Trainer of a :class:`~sclap_nb.config.RunConfig` (CSV logs, best/last checkpoints
written whole through :class:`AtomicCheckpointIO`); :func:`fit` trains, resuming from
``out_dir/checkpoints/last.ckpt`` when it is there. Evaluation lives in :mod:`sclap_nb.evaluation`,
the whole job (data, training, test metrics, export) in :mod:`sclap_nb.run`.

Determinism: ``runtime.seed`` fixes the model initialisation, the corpus, the order of batches (the
training sampler is re-seeded with ``seed + epoch`` each epoch) and dropout; checkpoints carry the
random-generator states, so a resumed run continues the same random streams. Not fixed: the
summation order of multithreaded CPU kernels across machines with different core counts, and
cuDNN kernels on a GPU unless ``runtime.deterministic`` is set.
"""

from __future__ import annotations

import logging
import math
import os
import random
import time
import warnings
from pathlib import Path

import lightning.pytorch as pl
import numpy as np
import torch
import torch.distributed as dist
from lightning.fabric.plugins.io.torch_io import TorchCheckpointIO
from lightning.pytorch.callbacks import ModelCheckpoint
from lightning.pytorch.loggers import CSVLogger, TensorBoardLogger

from .config import RunConfig, RuntimeConfig, migrate_run_json
from .allocator import in_use as allocator_in_use
from .evaluation import embed_batch, evaluation_metrics, gather_embeddings, join_batches
from .files import atomic_write
from .hardware import cpu_has_native_bf16
from .losses import grl_lambda_at, total_loss
from .memory import release_freed_memory
from .model import SpatialTemporalCLAP

__all__ = ["SCLAPModule", "NonFiniteLossError", "AtomicCheckpointIO", "EpochProgress", "ReleaseMemory", "build_trainer",
           "fit", "cpu_has_native_bf16", "resolve_precision", "terminal_stream", "seed_everything"]  # fmt: skip

log = logging.getLogger(__name__)


class NonFiniteLossError(RuntimeError):
    """Raised when too many training steps in a row had a non-finite loss or gradient."""


class SCLAPModule(pl.LightningModule):
    """The model, its losses and schedule; manual optimisation so a non-finite step never reaches Adam."""

    def __init__(self, config: RunConfig | dict | None = None):
        super().__init__()
        cfg = migrate_run_json(config) if isinstance(config, dict) else (config or RunConfig())
        self.cfg = cfg
        self.save_hyperparameters({"config": cfg.to_dict()})
        self.model = SpatialTemporalCLAP(cfg.model)
        self.automatic_optimization = False
        self.bad_steps = 0
        self.val_metrics: dict = {}  # the last validation's metrics
        self._val: list = []
        self.class_batches = None  # an EventClipBatches for the class term (loss.w_class), set by fit()

    @property
    def steps_per_epoch(self) -> int:
        """Optimiser steps per epoch on this process, from the trainer (1 outside one)."""
        trainer = self._trainer
        if trainer is None or not trainer.max_epochs:
            return 1
        return max(1, int(trainer.estimated_stepping_batches // trainer.max_epochs))

    # -- optimisation ---------------------------------------------------------------------
    def configure_optimizers(self):
        o = self.cfg.optim
        clf = self.model.modality_classifier
        own = {id(p) for p in clf.parameters()} if clf is not None and o.modality_lr_scale != 1.0 else set()
        groups = [{"params": [p for p in self.model.parameters() if p.requires_grad and id(p) not in own]}]
        if own:  # the classifier at its own pace (domain-adversarial practice)
            groups.append({"params": [p for p in clf.parameters() if p.requires_grad], "lr": o.lr * o.modality_lr_scale})
        opt = torch.optim.Adam(groups, lr=o.lr, weight_decay=o.weight_decay)
        per_epoch = self.steps_per_epoch
        warm = o.warmup_epochs * per_epoch
        total = max(o.epochs * per_epoch, warm + 1)  # the schedule spans optim.epochs, however far this fit goes

        def schedule(step: int) -> float:  # linear warm-up, then cosine to 0
            if step < warm:
                return (step + 1) / warm
            return 0.5 * (1 + math.cos(math.pi * (step - warm) / (total - warm)))

        sched = torch.optim.lr_scheduler.LambdaLR(opt, schedule)
        return {"optimizer": opt, "lr_scheduler": {"scheduler": sched, "interval": "step"}}

    def grl_lambda_now(self) -> float:
        """The GRL strength at the current step (``sclap_nb.losses.grl_lambda_at``)."""
        return grl_lambda_at(self.global_step, self.current_epoch, self.steps_per_epoch, self.cfg.optim.epochs,
                             self.cfg.loss)  # fmt: skip

    def _all_finite(self, x: torch.Tensor) -> bool:
        flag = torch.isfinite(x).all().float().reshape(1)
        if dist.is_available() and dist.is_initialized():
            dist.all_reduce(flag, op=dist.ReduceOp.MIN)  # every rank skips together
        return bool(flag.item())

    def _skip(self, what: str) -> None:
        self.bad_steps += 1
        log.warning("step %d: non-finite %s, skipped (%d in a row)", self.global_step, what, self.bad_steps)
        self.log("train/skipped_steps", float(self.bad_steps), on_step=True, sync_dist=False)
        if self.bad_steps >= self.cfg.optim.max_bad_steps:
            raise NonFiniteLossError(
                f"{self.bad_steps} training steps in a row had a non-finite {what} (last at step "
                f"{self.global_step}, epoch {self.current_epoch}); lower optim.lr, the loss's w_mod or loss.grl_lambda"
            )

    def training_step(self, batch, batch_idx):
        opt = self.optimizers()
        sched = self.lr_schedulers()
        lambd = self.grl_lambda_now()
        out = self.model(batch, lambd=lambd)
        losses = total_loss(out, batch, self.current_epoch, self.cfg.loss, self.class_term_inputs())
        if not self._all_finite(losses["total"].detach()):
            self._skip("loss")
            return None
        opt.zero_grad()
        self.manual_backward(losses["total"])
        grads = [p.grad.detach().flatten() for p in self.model.parameters() if p.grad is not None]
        if not self._all_finite(torch.cat(grads).sum().reshape(1)):
            opt.zero_grad()
            self._skip("gradient")
            return None
        if self.cfg.optim.grad_clip:
            self.clip_gradients(opt, gradient_clip_val=self.cfg.optim.grad_clip, gradient_clip_algorithm="norm")
        opt.step()
        sched.step()
        self.bad_steps = 0
        n = len(batch["text_comb"])
        # every logged tensor lives on the module's device: sync_dist reduces it there (NCCL needs CUDA tensors)
        logs = {f"train/{k}": torch.as_tensor(v).detach().float().to(self.device) for k, v in losses.items()}
        logs["train/lambda"] = torch.tensor(float(lambd), device=self.device)
        logs["train/logit_scale"] = out.logit_scale.detach().float()
        logs["train/lr"] = torch.tensor(sched.get_last_lr()[0], device=self.device)
        distributed = dist.is_available() and dist.is_initialized()
        self.log_dict(logs, on_step=True, on_epoch=True, batch_size=n, prog_bar=False, sync_dist=distributed)
        self.log("loss", losses["total"].detach(), prog_bar=True, on_step=True, batch_size=n)
        return losses["total"].detach()

    def class_term_inputs(self):
        """``(semantic embeddings, caption embeddings, labels)`` of this step's single-event clips for
        L_class (``loss.w_class``); None when the term is off."""
        if self.cfg.loss.w_class <= 0:
            return None
        if self.class_batches is None:
            raise RuntimeError("loss.w_class > 0 but the module has no class_batches (train through sclap_nb.run or fit)")
        rank = dist.get_rank() if dist.is_available() and dist.is_initialized() else 0
        b = self.class_batches(self.global_step, rank)
        logmel, _ = self.model.features(b["wave"].to(self.device))
        pretrained = b.get("aisfx")
        pretrained = None if pretrained is None else pretrained.to(self.device)
        return self.model.encode_semantic(logmel, pretrained), self.model.encode_text(b["text"]), b["label"].to(self.device)

    def on_train_epoch_start(self):
        # Lightning restores each submodule's mode as it found it; a module built in eval mode (a
        # pretrained text encoder) would train without dropout. Every trainable part trains here.
        self.model.train()

    # -- validation -----------------------------------------------------------------------
    def on_validation_epoch_start(self):
        self._val = []

    def validation_step(self, batch, batch_idx):
        # embedded in float32 whatever the training precision, as the test split is (sclap_nb.run)
        with torch.autocast(self.device.type, enabled=False):
            self._val.append(embed_batch(self.model, batch))

    def on_validation_epoch_end(self):
        emb = join_batches(self.model, self._val) if self._val else None
        self._val = []
        if dist.is_available() and dist.is_initialized() and dist.get_world_size() > 1:
            # each rank embedded its shard of the split: metrics need the whole gallery
            emb = gather_embeddings(emb)
        if emb is None:
            return
        metrics = evaluation_metrics(emb, full=False)
        # model selection: the best of the two embeddings (and of the aligned scores, align_dim) at text-to-audio
        # R@1 over all clips (negatives included, so order and position count)
        metrics["t2a_R@1_best"] = max(metrics.get(f"{k}/t2a/R@1", 0.0) for k in ("joint", "triplet", "aligned"))
        # identical on every rank (computed on the gathered split); sync_dist only keeps Lightning's
        # epoch-level logging consistent across ranks
        self.log_dict({f"val/{k}": float(v) for k, v in metrics.items()}, sync_dist=True)
        self.val_metrics = metrics

    # -- exact resume: random streams travel with the checkpoint --------------------------
    # (stored as tensors and plain numbers, so checkpoints load with torch.load(weights_only=True))
    def on_save_checkpoint(self, checkpoint):
        kind, keys, pos, has_gauss, cached = np.random.get_state()
        checkpoint["rng"] = {
            "torch": torch.get_rng_state(),
            "numpy": [kind, torch.from_numpy(keys.astype(np.int64)), int(pos), int(has_gauss), float(cached)],
            "python": random.getstate(),
        }
        if torch.cuda.is_available() and torch.cuda.is_initialized():
            checkpoint["rng"]["cuda"] = torch.cuda.get_rng_state_all()
        checkpoint["bad_steps"] = self.bad_steps

    def on_load_checkpoint(self, checkpoint):
        rng = checkpoint.get("rng")
        if rng:
            # map_location may have moved the state tensors to a GPU; generators take CPU byte tensors
            torch.set_rng_state(torch.as_tensor(rng["torch"]).cpu().to(torch.uint8))
            cuda = rng.get("cuda")
            if cuda and torch.cuda.is_available() and len(cuda) == torch.cuda.device_count():
                torch.cuda.set_rng_state_all([torch.as_tensor(t).cpu().to(torch.uint8) for t in cuda])
            kind, keys, pos, has_gauss, cached = rng["numpy"]
            np.random.set_state((kind, keys.cpu().numpy().astype(np.uint32), pos, has_gauss, cached))
            random.setstate(tuple(tuple(x) if isinstance(x, list) else x for x in rng["python"]))
        self.bad_steps = checkpoint.get("bad_steps", 0)


class AtomicCheckpointIO(TorchCheckpointIO):
    """Lightning's checkpoint writer, writing to a temporary file renamed into place: a checkpoint is whole or absent."""

    def save_checkpoint(self, checkpoint, path, storage_options=None):
        def write(f):
            torch.save(checkpoint, f)

        atomic_write(path, write)


# --------------------------------------------------------------------------- runtime


def seed_everything(seed: int) -> None:
    pl.seed_everything(seed, workers=True, verbose=False)


def quiet_lightning() -> None:
    """Silence Lightning's start-up banners and a deprecation warning inside Lightning. (Its
    warning about modules in eval mode stays on: only the text encoder's frozen layers may be.)"""
    for name in ("lightning.pytorch.utilities.rank_zero", "lightning.fabric.utilities.rank_zero"):
        logging.getLogger(name).setLevel(logging.WARNING)
    warnings.filterwarnings("ignore", message=r".*isinstance\(treespec, LeafSpec\).*")


def resolve_precision(precision: str, accelerator: str = RuntimeConfig.accelerator) -> tuple[str, str]:
    """``(precision, reason)``: ``auto`` becomes ``bf16-mixed`` on a CUDA GPU with bf16 or a CPU with
    native bf16 and ``32-true`` elsewhere; anything else is kept."""
    if precision != "auto":
        return precision, "as asked"
    on_gpu = accelerator in ("gpu", "cuda") or (accelerator == "auto" and torch.cuda.is_available())
    if on_gpu:
        if torch.cuda.is_available() and torch.cuda.is_bf16_supported():
            return "bf16-mixed", f"GPU {torch.cuda.get_device_name(0)} computes bf16"
        return "32-true", "GPU without bf16"
    if cpu_has_native_bf16():
        return "bf16-mixed", "CPU has native bf16 (AVX512-BF16/AMX)"
    return "32-true", "CPU without native bf16: fp32"


def terminal_stream():
    """A text stream to the terminal the process was started from.

    Inside a Jupyter kernel, ipykernel forwards file descriptors 1 and 2 into the notebook; its
    copy of the original stderr still reaches the terminal (papermill's, JupyterLab's log), so
    progress lines go there and the stored notebook stays short.
    """
    import sys

    fd = getattr(sys.stderr, "_original_stdstream_copy", None)
    if isinstance(fd, int):
        try:
            return os.fdopen(os.dup(fd), "w", buffering=1)
        except OSError:
            pass
    return sys.__stderr__


class ReleaseMemory(pl.Callback):
    """Hand the freed pages back to the system around validation and, with the C library's malloc, every
    ``every`` training steps (``sclap_nb.memory``): the main job's peak resident memory stays that of one
    step instead of growing with glibc's heap fragments. Changes no computed number.

    ``every`` None: 4 with glibc's malloc; 0 (not between steps) where tcmalloc is preloaded
    (``sclap_nb.allocator``), whose freed pages a step reuses: there a hand-back every 4 steps left a step's
    peak resident memory where it was (2.55 GiB against 2.44 without) and cost the steps after it their page
    faults (1.837 s a step against 1.646 s; ``benchmarks/step_memory.py``, 16 steps, the slower host)."""

    def __init__(self, every: int | None = None):
        if every is None:
            every = 4 if allocator_in_use() == "system" else 0
        if every < 0:
            raise ValueError(f"every must be >= 0 (0: only around validation), got {every}")
        self.every = int(every)

    def on_train_batch_end(self, trainer, pl_module, outputs, batch, batch_idx):
        if self.every and (batch_idx + 1) % self.every == 0:
            release_freed_memory()

    def on_validation_start(self, trainer, pl_module):
        release_freed_memory()

    def on_validation_end(self, trainer, pl_module):
        release_freed_memory()


class EpochProgress(pl.Callback):
    """One line per epoch on the terminal: losses, validation metrics, time.

    Written to the process's own stderr, so ``make train`` (papermill) shows it in the terminal
    while the notebook's stored outputs stay short.
    """

    KEYS = ("total", "loss_scl", "loss_cl", "loss_doa", "loss_ts", "loss_mod")
    VAL = ("joint/t2a/R@1", "triplet/t2a/R@1", "aligned/t2a/R@1", "joint/3way_temporal", "triplet/3way_temporal",
           "LE_deg", "modality_acc")

    def __init__(self, stream=None, precision_note: str = ""):
        self.stream = stream or terminal_stream()
        self.precision = precision_note
        self.t0 = self.t_epoch = 0.0
        self.validated = False  # this epoch validated (validation runs every optim.val_every epochs)

    def _print(self, text: str) -> None:
        if self.stream is not None:
            print(text, file=self.stream, flush=True)

    def on_train_start(self, trainer, module):
        self.t0 = time.perf_counter()
        if trainer.is_global_zero:
            self._print(f"precision {self.precision}; {trainer.num_training_batches} steps an epoch, "
                        f"{trainer.max_epochs} epochs")  # fmt: skip

    def on_train_epoch_start(self, trainer, module):
        self.t_epoch = time.perf_counter()
        self.validated = False

    def on_validation_end(self, trainer, module):
        self.validated = True

    def on_train_epoch_end(self, trainer, module):
        if not trainer.is_global_zero:
            return
        m = trainer.callback_metrics
        parts = [f"epoch {trainer.current_epoch + 1}/{trainer.max_epochs}"]
        keys = (*self.KEYS, *(("loss_class",) if module.cfg.loss.w_class > 0 else ()),
                *(("loss_tg",) if module.cfg.loss.w_temporal_group > 0 else ()),
                *(("loss_align",) if module.cfg.loss.w_align > 0 else ()),
                *(("loss_ag",) if module.cfg.loss.w_align_group > 0 else ()))
        parts += [f"{k} {float(m[f'train/{k}_epoch']):.3f}" for k in keys if f"train/{k}_epoch" in m]
        parts += [f"val {k} {float(m[f'val/{k}']):.3f}" for k in self.VAL if f"val/{k}" in m and self.validated]
        now = time.perf_counter()
        parts.append(f"{now - self.t_epoch:.0f} s (total {now - self.t0:.0f} s)")
        self._print("  ".join(parts))


def build_trainer(cfg: RunConfig, out_dir: str | os.PathLike, callbacks=(), max_epochs: int | None = None,
                  enable_checkpoints: bool = True) -> pl.Trainer:  # fmt: skip
    """A Lightning Trainer writing CSV logs (and TensorBoard with ``runtime.tensorboard``) and best/last
    checkpoints under ``out_dir``. ``max_epochs`` stops early without changing the schedule."""
    quiet_lightning()
    rt = cfg.runtime
    out = Path(out_dir)
    # a resumed run logs into a new version_k folder; sclap_nb.viz.read_log joins them
    loggers = [CSVLogger(str(out), name="logs")]
    if rt.tensorboard:
        loggers.append(TensorBoardLogger(str(out), name="tb"))
    precision, why = resolve_precision(rt.precision, rt.accelerator)
    cbs = [*callbacks, ReleaseMemory()]
    if rt.progress_log:
        cbs.append(EpochProgress(precision_note=f"{precision} ({why})"))
    if enable_checkpoints:
        # best.ckpt by the validation metric; last.ckpt after every epoch, whether or not it improved
        # (Lightning >= 2.6 writes save_last only when a top-k checkpoint was written at the same step)
        ckpt = str(out / "checkpoints")
        cbs.append(ModelCheckpoint(dirpath=ckpt, filename="best", monitor="val/t2a_R@1_best", mode="max", save_top_k=1))
        cbs.append(ModelCheckpoint(dirpath=ckpt, filename="last", monitor=None, save_top_k=1, enable_version_counter=False,
                                   save_on_train_epoch_end=True))  # fmt: skip
    return pl.Trainer(
        max_epochs=max_epochs or cfg.optim.epochs,
        accelerator="gpu" if rt.accelerator == "cuda" else rt.accelerator,
        devices=rt.devices,
        strategy=rt.strategy,
        precision=precision,
        check_val_every_n_epoch=cfg.optim.val_every,
        logger=loggers,
        callbacks=cbs,
        enable_checkpointing=enable_checkpoints,  # else Lightning adds a checkpoint of its own under logs/
        plugins=[AtomicCheckpointIO()],
        enable_progress_bar=rt.progress_bar,
        enable_model_summary=False,
        log_every_n_steps=1,
        num_sanity_val_steps=0,
        deterministic=rt.deterministic,
        use_distributed_sampler=True,
    )


def fit(cfg: RunConfig, datamodule, out_dir: str | os.PathLike, resume: bool = True, max_epochs: int | None = None,
        callbacks=(), class_batches=None, checkpoints: bool = True) -> tuple[SCLAPModule, pl.Trainer]:  # fmt: skip
    """Train into ``out_dir`` (resuming from ``out_dir/checkpoints/last.ckpt`` when present); return ``(module, trainer)``.

    ``max_epochs`` stops early (e.g. to simulate an interrupted run) without changing the schedule,
    which always spans ``optim.epochs``. ``class_batches`` (an ``EventClipBatches``) feeds the class
    term when ``loss.w_class > 0``. ``checkpoints=False`` writes the logs only (nothing to resume from).
    """
    if cfg.runtime.num_threads > 0:
        torch.set_num_threads(cfg.runtime.num_threads)
    seed_everything(cfg.runtime.seed)
    module = SCLAPModule(cfg)
    module.class_batches = class_batches
    trainer = build_trainer(cfg, out_dir, callbacks=callbacks, max_epochs=max_epochs, enable_checkpoints=checkpoints)
    last = Path(out_dir) / "checkpoints" / "last.ckpt"
    trainer.fit(module, datamodule=datamodule, ckpt_path=str(last) if resume and last.exists() else None)
    return module, trainer

"""Training and evaluation: a LightningModule, its trainer, and the evaluation of both audio embeddings.

:class:`TrainConfig` holds every knob of a run; :func:`fit` trains (resuming from ``out_dir`` if a
``last.ckpt`` is there) and :func:`evaluate` computes every metric of the book on a split.

Determinism: ``seed`` fixes the model initialisation, the corpus, the order of batches (the
training sampler is re-seeded with ``seed + epoch`` each epoch) and dropout; checkpoints carry the
random-generator states, so a resumed run continues the same random streams. Not fixed: the
summation order of multithreaded CPU kernels across machines with different core counts, and
cuDNN kernels on a GPU unless ``deterministic=True``.
"""

from __future__ import annotations

import json
import logging
import math
import os
import random
import tempfile
import warnings
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
import torch
import torch.distributed as dist
import torch.nn.functional as F

from .losses import loss_weights_at, total_loss
from .metrics import localization_error, modality_gap, order_place_accuracy, retrieval_metrics, three_way_accuracy
from .model import ModelConfig, SpatialTemporalCLAP

__all__ = [
    "TrainConfig",
    "SCLAPModule",
    "NonFiniteLossError",
    "AtomicCheckpoint",
    "DIRECTION_WORDS",
    "direction_prompts",
    "sector_of",
    "embed_split",
    "gather_embeddings",
    "evaluation_metrics",
    "check_train_config",
    "cpu_has_native_bf16",
    "resolve_precision",
    "fit",
    "evaluate",
]

log = logging.getLogger(__name__)

DIRECTION_WORDS = ["front", "front-left", "left", "back-left", "back", "back-right", "right", "front-right"]


def direction_prompts(words=DIRECTION_WORDS) -> list[str]:
    """Zero-shot prompts, one per azimuth sector (sector k centred on k * 45 deg, +90 = left)."""
    return [f"The sound is coming from the {w}." for w in words]


def sector_of(vectors: torch.Tensor) -> torch.Tensor:
    """Azimuth sector (0..7) of unit vectors ``(..., 3)`` (x front, y left)."""
    az = torch.rad2deg(torch.atan2(vectors[..., 1], vectors[..., 0]))
    return torch.round(az / 45.0).long() % 8


class NonFiniteLossError(RuntimeError):
    """Raised when too many training steps in a row had a non-finite loss or gradient."""


@dataclass
class TrainConfig:
    """Every knob of a training run (the ``parameters`` cell of notebooks/10_train.py mirrors it)."""

    out_dir: str = "runs/train"
    epochs: int = 18
    batch_size: int = 16  # triplets (groups of 3) per step; plain mode: clips per step
    lr: float = 1e-3
    weight_decay: float = 0.0
    warmup_epochs: int = 1
    grad_clip: float = 1.0
    loss_weights: tuple[float, float, float, float] = (1.0, 0.5, 0.2, 0.2)  # doa, sem, ts, mod
    sem_start: int = 3
    ts_ramp: int = 4
    grl_lambda: float = 1.0
    # "constant": lambda = grl_lambda throughout (the specification); "dann": Ganin & Lempitsky's
    # lambda(p) = grl_lambda * (2 / (1 + exp(-10 p)) - 1), p = training progress 0..1
    grl_schedule: str = "constant"
    grl_warmup_epochs: int = 0  # lambda = 0 (the classifier learns, the encoders feel nothing) for these first epochs
    modality_lr_scale: float = 1.0  # the modality classifier's learning rate, as a multiple of lr
    use_ts_loss: bool = True
    triplet_contrastive: bool = False  # L_sCL also on the triplet embedding (see losses.total_loss)
    mask_false_negatives: bool = True
    mode: str = "triplet"  # or "plain": groups of 1, the 3-way term is skipped
    seed: int = 2025
    devices: int = 1
    accelerator: str = "auto"
    strategy: str = "auto"  # "ddp" for several processes (gloo on CPU, nccl on GPU)
    precision: str = "32-true"  # "auto": bf16-mixed where the chip computes bf16 natively (sclap_nb.run's default)
    max_bad_steps: int = 5
    num_workers: int = 0
    num_threads: int = 0  # torch intra-op threads; 0 keeps torch's default (one per core)
    progress_bar: bool = True
    progress_log: bool = True  # one line per epoch (losses, validation metrics, time) on the terminal
    val_every: int = 1  # validate every n epochs
    tensorboard: bool = False
    model: dict = field(default_factory=dict)  # ModelConfig overrides

    def __post_init__(self):
        check_train_config(self)

    def model_config(self) -> ModelConfig:
        return ModelConfig.from_dict({"grl_lambda": self.grl_lambda, **self.model})


PRECISIONS = ("auto", "32-true", "32", "bf16-mixed", "bf16-true", "16-mixed", "64-true")


def _fail(name: str, value, need: str):
    raise ValueError(f"TrainConfig.{name} = {value!r}: {need}")


def check_train_config(cfg: "TrainConfig") -> None:
    """Check every knob where it enters; a bad one raises ``ValueError`` naming it."""

    def integer(name, low):
        v = getattr(cfg, name)
        if isinstance(v, bool) or not isinstance(v, int) or v < low:
            _fail(name, v, f"must be an integer >= {low}")

    def number(name, low, strict=False):
        v = getattr(cfg, name)
        ok = isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v)
        if not ok or v < low or (strict and v == low):
            _fail(name, v, f"must be a finite number {'>' if strict else '>='} {low}")

    for name, low in (("epochs", 1), ("batch_size", 1), ("warmup_epochs", 0), ("sem_start", 0), ("ts_ramp", 0),
                      ("seed", 0), ("devices", 1), ("max_bad_steps", 1), ("num_workers", 0), ("num_threads", 0),
                      ("val_every", 1), ("grl_warmup_epochs", 0)):
        integer(name, low)
    number("lr", 0.0, strict=True)
    for name in ("weight_decay", "grad_clip", "grl_lambda", "modality_lr_scale"):
        number(name, 0.0)
    w = cfg.loss_weights
    if not isinstance(w, (tuple, list)) or len(w) != 4:
        _fail("loss_weights", w, "must be 4 numbers (w_doa, w_sem, w_ts, w_mod)")
    if any(isinstance(x, bool) or not isinstance(x, (int, float)) or not math.isfinite(x) or x < 0 for x in w):
        _fail("loss_weights", w, "must be 4 finite numbers >= 0")
    if not 0 <= w[1] <= 1:
        _fail("loss_weights", w, "w_sem (the second) must be in [0, 1]: it mixes L_sCL and L_CL")
    cfg.loss_weights = tuple(float(x) for x in w)
    if cfg.grl_schedule not in ("constant", "dann"):
        _fail("grl_schedule", cfg.grl_schedule, "must be 'constant' or 'dann'")
    if cfg.mode not in ("triplet", "plain"):
        _fail("mode", cfg.mode, "must be 'triplet' or 'plain'")
    if str(cfg.precision) not in PRECISIONS:
        _fail("precision", cfg.precision, f"must be one of {PRECISIONS}")
    if not isinstance(cfg.model, dict):
        _fail("model", cfg.model, "must be a dict of ModelConfig fields")
    cfg.model_config()  # ModelConfig checks its own fields


# --------------------------------------------------------------------------- evaluation


@torch.no_grad()
def embed_split(model: SpatialTemporalCLAP, loader, device=None) -> dict[str, torch.Tensor | list]:
    """Run ``model`` over a loader; return every embedding, DOA prediction/target and caption, concatenated."""
    model.eval()
    device = device or next(model.parameters()).device
    keys = ("e_sed", "e_joint", "e_triplet", "text_comb", "text", "doa")
    acc: dict[str, list] = {k: [] for k in keys}
    acc.update(doa_target=[], mod_correct=[], captions=[], plain=[], roles=[], ids=[])
    group_size = 1
    for batch in loader:
        batch = {k: v.to(device) if torch.is_tensor(v) else v for k, v in batch.items()}
        out = model(batch)
        group_size = int(batch.get("group_size", 1))
        for k in keys:
            v = getattr(out, k)
            if v is not None:
                acc[k].append(v.float().cpu())
        acc["doa_target"].append(batch["doa"].float().cpu())
        if out.modality_logits is not None:  # (n, 2): the clip's and its caption's classifier verdicts
            correct = ((out.modality_logits > 0).float() == out.modality_labels).float().cpu()
            n = len(batch["text_comb"])
            acc["mod_correct"].append(torch.stack([correct[:n], correct[n:]], 1))
        acc["captions"] += list(batch["text_comb"])
        acc["plain"] += list(batch["text"])
        acc["roles"] += list(batch.get("roles", ["pos"] * len(batch["text_comb"])))
        acc["ids"] += list(batch.get("ids", [f"{len(acc['ids']) + i:09d}" for i in range(len(batch["text_comb"]))]))
    res = {k: (torch.cat(v) if v and torch.is_tensor(v[0]) else v) for k, v in acc.items()}
    res["group_size"] = group_size
    prompts = model.encode_text(direction_prompts())
    res["direction_prompts"] = prompts.float().cpu()
    return res


def gather_embeddings(emb: dict | None) -> dict | None:
    """Join the :func:`embed_split` outputs of every rank into the whole split, in split order.

    A distributed sampler gives rank ``r`` the items ``r, r + W, ...`` and pads the last round
    with repeats; groups stay whole (an item is a group). The parts are gathered, repeated
    groups dropped by clip id, and the groups put back in id order, so the metrics equal those
    of one process over the whole split.
    """
    parts: list = [None] * dist.get_world_size()
    dist.all_gather_object(parts, emb)
    parts = [p for p in parts if p is not None]
    if not parts:
        return None
    g = int(parts[0]["group_size"])
    per_clip = [k for k, v in parts[0].items() if k not in ("group_size", "direction_prompts")
                and (torch.is_tensor(v) or isinstance(v, list)) and len(v) == len(parts[0]["ids"])]
    groups: dict[str, tuple[dict, int]] = {}
    for p in parts:
        for start in range(0, len(p["ids"]), g):
            groups.setdefault(p["ids"][start], (p, start))
    out: dict = {k: [] for k in per_clip}
    for key in sorted(groups):
        p, start = groups[key]
        for k in per_clip:
            out[k].append(p[k][start : start + g])
    out = {k: torch.cat(v) if torch.is_tensor(v[0]) else [x for part in v for x in part] for k, v in out.items()}
    out.setdefault("mod_correct", [])
    out["group_size"] = g
    out["direction_prompts"] = parts[0]["direction_prompts"]
    return out


def evaluation_metrics(emb: dict, full: bool = True) -> dict[str, float]:
    """Every metric of the book from :func:`embed_split`'s output.

    For each audio embedding (``joint``: E_joint; ``triplet``: the temporal-path embedding when
    the model has one):

    * T2A/A2T R@1/5/10 and mAP@10 of the clips against their spatial captions, over every clip of
      the specification's roles (pos, neg_t, neg_s), so order and position must be right;
    * the temporal and spatial 3-way accuracies (``3way_*``: pos caption scores pos above neg_t /
      neg_s), where the groups hold those three roles;
    * where the groups hold the class-order negative neg_c too: ``order_acc`` (pos above neg_t and
      neg_c: needs the order of the sounds), ``place_acc`` (pos above neg_s and neg_c: needs where
      each sound is) and the pairwise ``vs_neg_t``, ``vs_neg_s``, ``vs_neg_c``;
    * the zero-shot direction accuracy (the best of the 8 prompts "The sound is coming from the
      {direction}." names the sector of one of the clip's two events; chance 0.25).

    Plus the localisation error (degrees), the modality classifier's accuracy, and (``full``) the
    modality gap of the held-out embeddings: ``modality/probe_acc`` (a freshly trained linear probe
    telling audio from text, cross-validated; 0.5 = no gap) and ``modality/centroid_dist``, on the
    triplet embedding (E_joint without a temporal path). Ties follow ``sclap_nb.metrics``' rule.
    """
    from .data import ROLES, SPEC_ROLES

    out: dict[str, float] = {}
    n, g = len(emb["captions"]), int(emb["group_size"])
    roles = list(emb.get("roles") or ((SPEC_ROLES if g == 3 else ROLES if g == 4 else ("pos",)) * (n // max(g, 1))))
    spec = [i for i, r in enumerate(roles) if r in SPEC_ROLES]
    # a caption may repeat across clips (rare): retrieval then keeps the first clip of each caption
    first_clip: dict[str, int] = {}
    for clip in spec:
        first_clip.setdefault(emb["captions"][clip], clip)
    rows = torch.tensor(list(first_clip.values()))
    text_of_rows = emb["text_comb"][rows]
    sectors = sector_of(emb["doa_target"])  # (N, 2)
    groups = [roles[i : i + g] for i in range(0, len(roles), g)] if g > 1 else []
    has_spec = bool(groups) and all(set(SPEC_ROLES) <= set(gr) for gr in groups)
    has_c = bool(groups) and all("neg_c" in gr for gr in groups)
    for name in ("joint", "triplet"):
        audio = emb.get(f"e_{name}")
        if audio is None or len(audio) == 0:
            continue
        r = retrieval_metrics(audio[rows], text_of_rows, torch.arange(len(rows)))
        out.update({f"{name}/{k}": v for k, v in r.items()})
        if has_spec:
            idx = torch.tensor(spec)
            acc = three_way_accuracy(audio[idx], emb["text_comb"][idx])
            out.update({f"{name}/3way_{k}": v for k, v in acc.items()})
        if has_c:
            op = order_place_accuracy(audio, emb["text_comb"], roles)
            out.update({f"{name}/{k}": v for k, v in op.items()})
        pred = (audio @ emb["direction_prompts"].T).argmax(1)
        out[f"{name}/zeroshot_direction"] = (pred[:, None] == sectors).any(1).double().mean().item()
    out["LE_deg"] = localization_error(emb["doa"], emb["doa_target"])
    if len(emb["mod_correct"]):
        out["modality_acc"] = emb["mod_correct"].mean().item()
    if full and len(spec) >= 10:
        audio = emb["e_triplet"] if torch.is_tensor(emb.get("e_triplet")) and len(emb["e_triplet"]) else emb["e_joint"]
        idx = torch.tensor(spec)
        gap = modality_gap(audio[idx], emb["text_comb"][idx])
        out["modality/probe_acc"] = gap["probe_accuracy"]
        out["modality/centroid_dist"] = gap["centroid_distance"]
    return out


# --------------------------------------------------------------------------- lightning


def _lightning():
    import lightning.pytorch as pl

    return pl


class SCLAPModule(_lightning().LightningModule):
    """The model, its losses and schedule; manual optimisation so a non-finite step never reaches Adam."""

    def __init__(self, cfg: TrainConfig | dict | None = None, steps_per_epoch: int = 1):
        super().__init__()
        cfg = TrainConfig(**cfg) if isinstance(cfg, dict) else (cfg or TrainConfig())
        self.cfg = cfg
        self.save_hyperparameters({"cfg": asdict(cfg), "steps_per_epoch": steps_per_epoch})
        self.model = SpatialTemporalCLAP(cfg.model_config())
        self.steps_per_epoch = max(1, steps_per_epoch)
        self.automatic_optimization = False
        self.bad_steps = 0
        self._val: list = []

    # -- optimisation ---------------------------------------------------------------------
    def configure_optimizers(self):
        clf = self.model.modality_classifier
        own = {id(p) for p in clf.parameters()} if clf is not None and self.cfg.modality_lr_scale != 1.0 else set()
        groups = [{"params": [p for p in self.model.parameters() if p.requires_grad and id(p) not in own]}]
        if own:  # the classifier at its own pace (domain-adversarial practice)
            groups.append({"params": [p for p in clf.parameters() if p.requires_grad], "lr": self.cfg.lr * self.cfg.modality_lr_scale})
        opt = torch.optim.Adam(groups, lr=self.cfg.lr, weight_decay=self.cfg.weight_decay)
        warm = self.cfg.warmup_epochs * self.steps_per_epoch
        total = max(self.cfg.epochs * self.steps_per_epoch, warm + 1)

        def schedule(step: int) -> float:  # linear warm-up, then cosine to 0
            if step < warm:
                return (step + 1) / warm
            return 0.5 * (1 + math.cos(math.pi * (step - warm) / (total - warm)))

        sched = torch.optim.lr_scheduler.LambdaLR(opt, schedule)
        return {"optimizer": opt, "lr_scheduler": {"scheduler": sched, "interval": "step"}}

    def grl_lambda_now(self) -> float:
        """The GRL strength at the current step (``grl_schedule``; 0 during ``grl_warmup_epochs``)."""
        if self.current_epoch < self.cfg.grl_warmup_epochs:
            return 0.0
        if self.cfg.grl_schedule == "constant":
            return float(self.cfg.grl_lambda)
        p = min(1.0, self.global_step / max(1, self.cfg.epochs * self.steps_per_epoch))
        return float(self.cfg.grl_lambda) * (2.0 / (1.0 + math.exp(-10.0 * p)) - 1.0)

    def _all_finite(self, x: torch.Tensor) -> bool:
        flag = torch.isfinite(x).all().float().reshape(1)
        if dist.is_available() and dist.is_initialized():
            dist.all_reduce(flag, op=dist.ReduceOp.MIN)  # every rank skips together
        return bool(flag.item())

    def _skip(self, what: str) -> None:
        self.bad_steps += 1
        log.warning("step %d: non-finite %s, skipped (%d in a row)", self.global_step, what, self.bad_steps)
        self.log("train/skipped_steps", float(self.bad_steps), on_step=True, sync_dist=False)
        if self.bad_steps >= self.cfg.max_bad_steps:
            raise NonFiniteLossError(
                f"{self.bad_steps} training steps in a row had a non-finite {what} (last at step "
                f"{self.global_step}, epoch {self.current_epoch}); lower lr, w_mod or grl_lambda"
            )

    def training_step(self, batch, batch_idx):
        opt = self.optimizers()
        sched = self.lr_schedulers()
        epoch = self.current_epoch
        lambd = self.grl_lambda_now()
        out = self.model(batch, lambd=lambd)
        losses = total_loss(
            out, batch, epoch, self.cfg.loss_weights, self.cfg.sem_start, self.cfg.ts_ramp,
            mask_false_negatives=self.cfg.mask_false_negatives, use_ts_loss=self.cfg.use_ts_loss,
            triplet_contrastive=self.cfg.triplet_contrastive,
        )
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
        if self.cfg.grad_clip:
            self.clip_gradients(opt, gradient_clip_val=self.cfg.grad_clip, gradient_clip_algorithm="norm")
        opt.step()
        sched.step()
        self.bad_steps = 0
        n = len(batch["text_comb"])
        # every logged tensor lives on the module's device: sync_dist reduces it there (NCCL needs CUDA tensors)
        logs = {f"train/{k}": torch.as_tensor(v).detach().float().to(self.device) for k, v in losses.items()}
        logs["train/lambda"] = torch.tensor(float(lambd), device=self.device)
        logs["train/logit_scale"] = out.logit_scale.detach().float()
        logs["train/lr"] = torch.tensor(sched.get_last_lr()[0], device=self.device)
        self._last_logs = logs
        distributed = dist.is_available() and dist.is_initialized()
        self.log_dict(logs, on_step=True, on_epoch=True, batch_size=n, prog_bar=False, sync_dist=distributed)
        self.log("loss", losses["total"].detach(), prog_bar=True, on_step=True, batch_size=n)
        return losses["total"].detach()

    def on_train_epoch_start(self):
        # Lightning restores each submodule's mode as it found it; a module built in eval mode (a
        # pretrained text encoder) would train without dropout. Every trainable part trains here.
        self.model.train()

    # -- validation -----------------------------------------------------------------------
    def on_validation_epoch_start(self):
        self._val = []

    def validation_step(self, batch, batch_idx):
        self._val.append(batch)

    def on_validation_epoch_end(self):
        emb = embed_split(self.model, self._val, self.device) if self._val else None
        self._val = []
        if dist.is_available() and dist.is_initialized() and dist.get_world_size() > 1:
            # each rank embedded its shard of the split: metrics need the whole gallery
            emb = gather_embeddings(emb)
        if emb is None:
            return
        metrics = evaluation_metrics(emb, full=False)
        # model selection: the better of the two embeddings at text-to-audio R@1 over all clips
        # (negatives included, so order and position count)
        metrics["t2a_R@1_best"] = max(metrics.get("joint/t2a/R@1", 0.0), metrics.get("triplet/t2a/R@1", 0.0))
        # identical on every rank (computed on the gathered split); sync_dist only keeps Lightning's
        # epoch-level logging consistent across ranks
        self.log_dict({f"val/{k}": float(v) for k, v in metrics.items()}, sync_dist=True)
        self._last_val = metrics
        self._val_fresh = True
        self.model.train(self.training)

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


def _checkpoint_class():
    from lightning.pytorch.callbacks import ModelCheckpoint

    class AtomicCheckpoint(ModelCheckpoint):
        """ModelCheckpoint that writes to a temporary file and renames it: a checkpoint is whole or absent."""

        def _save_checkpoint(self, trainer, filepath):
            directory = os.path.dirname(filepath) or "."
            os.makedirs(directory, exist_ok=True)
            tmp = os.path.join(directory, f".{os.path.basename(filepath)}.tmp")
            trainer.save_checkpoint(tmp, self.save_weights_only)
            if trainer.is_global_zero:
                os.replace(tmp, filepath)
            self._last_global_step_saved = trainer.global_step
            self._last_checkpoint_saved = filepath
            trainer.strategy.barrier()

    return AtomicCheckpoint


AtomicCheckpoint = _checkpoint_class()


# --------------------------------------------------------------------------- runs


def seed_everything(seed: int) -> None:
    _lightning().seed_everything(seed, workers=True, verbose=False)


def quiet_lightning() -> None:
    """Silence Lightning's start-up banners and a deprecation warning inside Lightning. (Its
    warning about modules in eval mode stays on: only the text encoder's frozen layers may be.)"""
    for name in ("lightning.pytorch.utilities.rank_zero", "lightning.fabric.utilities.rank_zero"):
        logging.getLogger(name).setLevel(logging.WARNING)
    warnings.filterwarnings("ignore", message=r".*isinstance\(treespec, LeafSpec\).*")


def cpu_has_native_bf16() -> bool:
    """True where the CPU computes bf16 in hardware (AVX512-BF16 or AMX-BF16)."""
    try:
        return bool(torch.cpu._is_avx512_bf16_supported() or torch.cpu._is_amx_tile_supported())
    except AttributeError:  # older torch: read the flags
        try:
            flags = Path("/proc/cpuinfo").read_text()
        except OSError:
            return False
        return "avx512_bf16" in flags or "amx_bf16" in flags


def resolve_precision(precision: str, accelerator: str = "auto") -> tuple[str, str]:
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


def _progress_callback():
    pl = _lightning()

    class EpochProgress(pl.Callback):
        """One line per epoch on the terminal: losses, validation metrics, time.

        Written to the process's own stderr, so ``make train`` (papermill) shows it in the
        terminal while the notebook's stored outputs stay short.
        """

        KEYS = ("total", "loss_scl", "loss_cl", "loss_doa", "loss_ts", "loss_mod")
        VAL = ("joint/t2a/R@1", "triplet/t2a/R@1", "joint/3way_temporal", "triplet/3way_temporal", "LE_deg", "modality_acc")

        def __init__(self, stream=None):
            import time

            self.stream = stream or terminal_stream()
            self.clock = time.perf_counter
            self.t0 = self.t_epoch = 0.0

        def on_train_start(self, trainer, module):
            self.t0 = self.clock()

        def on_train_epoch_start(self, trainer, module):
            self.t_epoch = self.clock()

        def on_train_epoch_end(self, trainer, module):
            if not trainer.is_global_zero:
                return
            m = trainer.callback_metrics
            parts = [f"epoch {trainer.current_epoch + 1}/{trainer.max_epochs}"]
            parts += [f"{k} {float(m[f'train/{k}_epoch']):.3f}" for k in self.KEYS if f"train/{k}_epoch" in m]
            parts += [f"val {k} {float(m[f'val/{k}']):.3f}" for k in self.VAL if f"val/{k}" in m and getattr(module, "_val_fresh", False)]
            module._val_fresh = False
            parts.append(f"{self.clock() - self.t_epoch:.0f} s (total {self.clock() - self.t0:.0f} s)")
            if self.stream is not None:
                print("  ".join(parts), file=self.stream, flush=True)

    return EpochProgress


def build_trainer(cfg: TrainConfig, callbacks=(), max_epochs: int | None = None, enable_checkpoints: bool = True):
    """A Lightning Trainer writing CSV logs (and optionally TensorBoard) and best/last checkpoints under ``out_dir``."""
    pl = _lightning()
    quiet_lightning()
    from lightning.pytorch.loggers import CSVLogger, TensorBoardLogger

    out = Path(cfg.out_dir)
    # a resumed run logs into a new version_k folder; sclap_nb.viz.read_log joins them
    loggers = [CSVLogger(str(out), name="logs")]
    if cfg.tensorboard:
        loggers.append(TensorBoardLogger(str(out), name="tb"))
    cbs = list(callbacks)
    if cfg.progress_log:
        cbs.append(_progress_callback()())
    if enable_checkpoints:
        # best.ckpt by the validation metric; last.ckpt after every epoch, whether or not it improved
        # (Lightning >= 2.6 writes save_last only when a top-k checkpoint was written at the same step)
        ckpt = str(out / "checkpoints")
        cbs.append(AtomicCheckpoint(dirpath=ckpt, filename="best", monitor="val/t2a_R@1_best", mode="max", save_top_k=1))
        cbs.append(AtomicCheckpoint(dirpath=ckpt, filename="last", monitor=None, save_top_k=1, enable_version_counter=False,
                                    save_on_train_epoch_end=True))
    return pl.Trainer(
        max_epochs=max_epochs or cfg.epochs,
        accelerator=cfg.accelerator,
        devices=cfg.devices,
        strategy=cfg.strategy,
        precision=resolve_precision(cfg.precision, cfg.accelerator)[0],
        check_val_every_n_epoch=cfg.val_every,
        logger=loggers,
        callbacks=cbs,
        enable_progress_bar=cfg.progress_bar,
        enable_model_summary=False,
        log_every_n_steps=1,
        num_sanity_val_steps=0,
        deterministic=False,
        use_distributed_sampler=True,
    )


def fit(cfg: TrainConfig, datamodule, resume: bool = True, max_epochs: int | None = None, callbacks=()):
    """Train (resuming from ``out_dir/checkpoints/last.ckpt`` when present); return ``(module, trainer)``.

    ``max_epochs`` stops early (e.g. to simulate an interrupted run) without changing the schedule,
    which always spans ``cfg.epochs``.
    """
    if cfg.num_threads > 0:
        torch.set_num_threads(cfg.num_threads)
    seed_everything(cfg.seed)
    datamodule.setup("fit")
    steps = len(datamodule.train_dataloader())
    steps = math.ceil(steps / max(cfg.devices, 1)) if cfg.strategy.startswith("ddp") else steps
    module = SCLAPModule(cfg, steps_per_epoch=steps)
    trainer = build_trainer(cfg, callbacks=callbacks, max_epochs=max_epochs)
    if cfg.progress_log and trainer.is_global_zero:
        precision, why = resolve_precision(cfg.precision, cfg.accelerator)
        print(f"precision {precision} ({why}); {steps} steps an epoch, {cfg.epochs} epochs", file=terminal_stream(), flush=True)
    last = Path(cfg.out_dir) / "checkpoints" / "last.ckpt"
    trainer.fit(module, datamodule=datamodule, ckpt_path=str(last) if resume and last.exists() else None)
    return module, trainer


def evaluate(model: SpatialTemporalCLAP, loader) -> dict[str, float]:
    """Every metric of :func:`evaluation_metrics` on one loader (e.g. the test split)."""
    return evaluation_metrics(embed_split(model, loader))


def write_json_atomic(obj, path: str | os.PathLike) -> None:
    """Write JSON to a temporary file beside ``path`` and rename it into place."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    with os.fdopen(fd, "w") as f:
        json.dump(obj, f, indent=2, sort_keys=True)
    os.replace(tmp, path)


if __name__ == "__main__":  # python -m sclap_nb.train: the command line of sclap_nb.run
    import sys

    from sclap_nb.run import main

    sys.exit(main())

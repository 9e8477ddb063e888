"""One training run, end to end: the settings the training notebook and the command line share.

:class:`RunConfig` holds every knob of the main job (data, model, optimisation, run); the
training notebook's ``parameters`` cell and ``python -m sclap_nb.train`` both fill it, so the
two cannot drift apart. The quick setting (``fast``) only fills the knobs the user did not set.

An output directory is never removed or overwritten behind the user's back: a new directory is
created; one that holds a run of the same settings (``run.json``) is resumed from its
``last.ckpt``; anything else is refused with a one-line error naming it. The quick setting with
no ``out_dir`` trains into a fresh temporary directory.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path

__all__ = ["RunConfig", "QUICK", "RunDirError", "resolve_run", "prepare_out_dir", "corpus_dir_for", "build_data",
           "evaluate_best", "test_metrics", "run", "main"]

# the quick setting: a tiny corpus and model, two epochs (the book's stored outputs and its tests)
# (in fp32, so that its stored outputs hold on CPUs with and without native bf16)
QUICK = dict(n_train=12, n_val=6, n_test=6, epochs=2, batch_size=4, warmup_epochs=0, dim=64,
             cnn_channels=(8, 16, 16, 32), temporal_ff=128, precision="32-true")  # fmt: skip

# settings that do not change what a run computes: a run resumed with other values is the same run
_NOT_IDENTITY = {"out_dir", "progress_bar", "progress_log", "num_workers", "data_dir", "corpus_dir", "accelerator",
                 "devices", "strategy", "num_threads"}  # fmt: skip


class RunDirError(RuntimeError):
    """An output directory that holds something this run must not touch."""


@dataclass
class RunConfig:
    """Every knob of the main job. Defaults are the default run (``make train``)."""

    # data
    data_dir: str = ""  # a corpus directory of your own; "" builds the embedded default corpus
    corpus_dir: str = "auto"  # where the embedded corpus is built; auto: data/stclotho-<its parameters>
    n_train: int = 512  # scenes (triplets) per split
    n_val: int = 64
    n_test: int = 128
    anechoic: bool = False
    layout: str = "spill"  # "isolated": each reverberant event confined to its half (no order cue in the tails)
    sample_rate: int = 16000
    clip_seconds: float = 2.0
    n_mels: int = 64
    # model
    dim: int = 512
    cnn_channels: tuple = (16, 32, 64, 128)
    text_trainable_layers: int = 1
    text_pooling: str = "segments"
    temporal_chunks: int = 4
    temporal_ff: int = 2048
    # departures from the specification, each measured over 3 seeds (results/sweep): the chunk tokens
    # concatenated in time order ("mean": the specification's mean over tokens) and the DOA head on each
    # time half of the spatial branch ("joint": the specification's head on E_joint)
    temporal_readout: str = "concat"
    doa_pooling: str = "halves"
    # each chunk token's content standardised over the batch before its position is added (False: the
    # specification, whose temporal embedding barely differs between clips; results/experiments)
    temporal_token_norm: bool = True
    # optimisation
    epochs: int = 18
    batch_size: int = 16  # triplets per step (48 clips)
    lr: float = 1e-3
    warmup_epochs: int = 1
    # doa, sem, ts, mod: the 4-way term at full weight from the first epoch (the specification: 0.2 with
    # ts_ramp 4 over the 3-way term; results/sweep measures the change)
    loss_weights: tuple = (1.0, 0.5, 1.0, 0.2)
    sem_start: int = 3
    ts_ramp: int = 0
    grl_lambda: float = 1.0
    grl_schedule: str = "constant"  # "dann": lambda ramps 0 -> grl_lambda as 2/(1+exp(-10p))-1
    # hard negatives of the group term, after pos: all three (neg_t, neg_s, neg_c: a 4-way term, so
    # the model must hear which sound comes first), the specification's (neg_t, neg_s), or (neg_t, neg_c)
    negatives: tuple = ("neg_t", "neg_s", "neg_c")
    triplet_contrastive: bool = True  # L_sCL on the triplet embedding too (a deviation from the specification)
    # ablation switches
    use_temporal: bool = True
    use_ts_loss: bool = True
    use_modality: bool = True
    mask_false_negatives: bool = True
    # run
    seed: int = 2025
    out_dir: str = "auto"  # auto: runs/train (quick setting: a new temporary directory)
    accelerator: str = "auto"  # auto, cpu, gpu
    devices: int = 1  # > 1: several processes (strategy ddp), launched by python -m sclap_nb.train
    strategy: str = "auto"
    precision: str = "auto"  # auto: bf16-mixed where the chip computes bf16 natively, else 32-true
    num_workers: int = 0
    num_threads: int = 0
    val_every: int = 1
    progress_bar: bool = False
    progress_log: bool = True
    extra: dict = field(default_factory=dict)  # further TrainConfig / ModelConfig fields: {"model": {...}, ...}

    def __post_init__(self):
        self.cnn_channels = tuple(self.cnn_channels)
        self.loss_weights = tuple(self.loss_weights)
        self.negatives = tuple(self.negatives)
        if self.negatives not in (("neg_t", "neg_s"), ("neg_t", "neg_c"), ("neg_t", "neg_s", "neg_c")):
            raise ValueError(f"RunConfig.negatives = {self.negatives!r}: one of ('neg_t', 'neg_s'), ('neg_t', 'neg_c'), "
                             "('neg_t', 'neg_s', 'neg_c')")
        for f in fields(self):
            v = getattr(self, f.name)
            if f.name in ("data_dir", "corpus_dir", "out_dir", "text_pooling", "accelerator", "strategy", "precision", "layout",
                          "temporal_readout", "doa_pooling"):
                if not isinstance(v, str):
                    raise ValueError(f"RunConfig.{f.name} = {v!r}: must be a string")
        for name in ("n_train", "n_val", "n_test", "sample_rate", "n_mels"):
            v = getattr(self, name)
            if isinstance(v, bool) or not isinstance(v, int) or v < (0 if name in ("n_val", "n_test") else 1):
                raise ValueError(f"RunConfig.{name} = {v!r}: must be a positive integer")
        if not (isinstance(self.clip_seconds, (int, float)) and self.clip_seconds > 0):
            raise ValueError(f"RunConfig.clip_seconds = {self.clip_seconds!r}: must be a number > 0")
        self.train_config()  # TrainConfig and ModelConfig check the rest, naming the knob

    def train_config(self, out_dir: str | None = None):
        from .features import FeatureConfig
        from .train import TrainConfig

        extra = dict(self.extra)
        model = dict(
            dim=self.dim, cnn_channels=self.cnn_channels, text_trainable_layers=self.text_trainable_layers,
            text_pooling=self.text_pooling, temporal_chunks=self.temporal_chunks, temporal_ff=self.temporal_ff,
            temporal_heads=8 if self.dim >= 128 and self.dim % 8 == 0 else 4, use_temporal=self.use_temporal,
            use_modality=self.use_modality, features=FeatureConfig(sample_rate=self.sample_rate, n_mels=self.n_mels),
            temporal_readout=self.temporal_readout, doa_pooling=self.doa_pooling,
            temporal_token_norm=self.temporal_token_norm,
        )  # fmt: skip
        model.update(extra.pop("model", {}))
        return TrainConfig(
            out_dir=out_dir or self.out_dir, epochs=self.epochs, batch_size=self.batch_size, lr=self.lr,
            warmup_epochs=self.warmup_epochs, loss_weights=tuple(self.loss_weights), sem_start=self.sem_start,
            ts_ramp=self.ts_ramp, grl_lambda=self.grl_lambda, grl_schedule=self.grl_schedule,
            triplet_contrastive=self.triplet_contrastive, use_ts_loss=self.use_ts_loss,
            mask_false_negatives=self.mask_false_negatives, seed=self.seed, accelerator=self.accelerator,
            devices=self.devices, strategy=self.strategy, precision=self.precision, num_workers=self.num_workers,
            num_threads=self.num_threads, val_every=self.val_every, progress_bar=self.progress_bar,
            progress_log=self.progress_log, model=model, **extra,
        )  # fmt: skip

    def identity(self) -> dict:
        """The settings that decide what the run computes (what ``run.json`` records and a resume compares)."""
        d = asdict(self)
        return {k: (list(v) if isinstance(v, tuple) else v) for k, v in d.items() if k not in _NOT_IDENTITY}


RUN_FIELDS = tuple(f.name for f in fields(RunConfig))


def resolve_run(fast: bool = False, **given) -> RunConfig:
    """A :class:`RunConfig` from the knobs a user set (``None`` = not set): the user's values win,
    the quick setting fills the rest when ``fast``, the defaults fill what is left."""
    unknown = sorted(set(given) - set(RUN_FIELDS))
    if unknown:
        raise ValueError(f"unknown run setting(s) {unknown}; known: {', '.join(RUN_FIELDS)}")
    chosen = {k: v for k, v in given.items() if v is not None}
    if fast:
        chosen = {**QUICK, **chosen}
    return RunConfig(**chosen)


def corpus_dir_for(cfg: RunConfig) -> str:
    """The embedded corpus's directory, named by the parameters it is built with."""
    if cfg.corpus_dir != "auto":
        return cfg.corpus_dir
    room = "anechoic" if cfg.anechoic else "rooms"
    layout = "" if cfg.layout == "spill" else f"-{cfg.layout}"
    return f"data/stclotho-{cfg.n_train}-{cfg.n_val}-{cfg.n_test}-s{cfg.seed}-{cfg.sample_rate}hz-{cfg.clip_seconds:g}s-{room}{layout}"


def prepare_out_dir(cfg: RunConfig, root: Path, fast: bool = False) -> Path:
    """Create the output directory, or accept one holding a run of the same settings (to resume it).

    Refuses (``RunDirError``, one line naming the directory) a directory with a run of other
    settings or with files that are not a run. Never removes anything.
    """
    if cfg.out_dir == "auto":
        if fast:  # the quick setting: always a new directory of its own
            return Path(tempfile.mkdtemp(prefix="sclap-train-quick-"))
        out = root / "runs" / "train"
    else:
        out = Path(cfg.out_dir) if Path(cfg.out_dir).is_absolute() else root / cfg.out_dir
    want = cfg.identity()
    manifest = out / "run.json"
    if manifest.is_file():
        have = json.loads(manifest.read_text())
        diff = [k for k in sorted(set(want) | set(have)) if have.get(k) != want.get(k)]
        if diff:
            shown = "; ".join(f"{k}: {have.get(k)!r} there, {want.get(k)!r} asked" for k in diff[:4])
            more = f" (+{len(diff) - 4} more)" if len(diff) > 4 else ""
            raise RunDirError(f"{out} holds a run with other settings ({shown}{more}): pass another out_dir")
        return out
    if out.exists() and (not out.is_dir() or any(out.iterdir())):
        raise RunDirError(f"{out} exists and holds no run.json of this package: pass a new or empty out_dir")
    out.mkdir(parents=True, exist_ok=True)
    from .train import write_json_atomic

    write_json_atomic(want, manifest)
    return out


def build_data(cfg: RunConfig, root: Path, progress: bool = False):
    """The corpus (built once, or yours) and its data module with cached features."""
    from .data import StClothoDataModule, ensure_corpus
    from .features import FeatureConfig

    if cfg.data_dir:
        corpus = Path(cfg.data_dir) if Path(cfg.data_dir).is_absolute() else root / cfg.data_dir
    else:
        corpus = ensure_corpus(
            root / corpus_dir_for(cfg), n_train=cfg.n_train, n_val=cfg.n_val, n_test=cfg.n_test, seed=cfg.seed,
            sample_rate=cfg.sample_rate, clip_seconds=cfg.clip_seconds, anechoic=cfg.anechoic, layout=cfg.layout,
            progress=progress,
        )  # fmt: skip
    features = FeatureConfig(sample_rate=cfg.sample_rate, n_mels=cfg.n_mels)
    dm = StClothoDataModule(corpus, batch_size=cfg.batch_size, mode="triplet", features=features,
                            cache_dir=corpus / "cache", seed=cfg.seed, num_workers=cfg.num_workers,
                            roles=("pos", *cfg.negatives))
    dm.setup("fit")
    return corpus, dm


def evaluate_best(out: Path, module, datamodule, accelerator: str = "auto"):
    """Load ``best.ckpt`` (else keep ``module``) onto the run's device and evaluate the test split."""
    import torch

    from .train import SCLAPModule, evaluate

    use_gpu = accelerator in ("gpu", "cuda") or (accelerator == "auto" and torch.cuda.is_available())
    device = torch.device("cuda" if use_gpu and torch.cuda.is_available() else "cpu")
    best = out / "checkpoints" / "best.ckpt"
    if best.exists():
        module = SCLAPModule.load_from_checkpoint(best, map_location=device)
    module = module.to(device)
    datamodule.setup("test")
    return module, evaluate(module.model, datamodule.test_dataloader())


def test_metrics(cfg: RunConfig, out: Path, module, datamodule, corpus: Path, phases: dict, t_start: float, steps: int):
    """Evaluate the best checkpoint on the test split, add the reference scorers and the run's facts
    (``phase_seconds/*``, seeds, steps), write ``out/metrics.json`` and the best model's export
    ``out/model/`` (``sclap_nb.export``); return ``(module, metrics)``.

    Called on rank 0 only (``run`` and the training notebook), after training."""
    from .export import export_model
    from .reference import reference_metrics
    from .train import write_json_atomic

    t0 = time.time()
    module, metrics = evaluate_best(out, module, datamodule, cfg.accelerator)
    metrics.update(reference_metrics(corpus, "test"))  # scorers that need no training
    phases = {**phases, "evaluate": time.time() - t0}
    metrics.update({f"phase_seconds/{k}": v for k, v in phases.items()})
    metrics.update(train_seconds=phases["train"], total_seconds=time.time() - t_start, epochs=cfg.epochs,
                   seed=cfg.seed, corpus=str(corpus), steps=int(steps))  # fmt: skip
    write_json_atomic(metrics, out / "metrics.json")
    # the run's own directory: a resumed run replaces its export, as it replaces metrics.json; exported
    # from best.ckpt where it exists, so that the export records the epoch and step it holds
    best = out / "checkpoints" / "best.ckpt"
    export_model(best if best.is_file() else module, out / "model", clip_seconds=cfg.clip_seconds, overwrite=True)
    return module, metrics


def run(cfg: RunConfig, root: Path | None = None, fast: bool = False) -> dict:
    """Prepare the output directory, build the data, train, evaluate on test, write ``metrics.json``
    and the model export ``model/`` (``sclap_nb.export``: what ``sclap_nb.api.load`` reads).

    Returns the metrics (on rank 0; other ranks of a distributed run return ``{}``).
    """
    from .train import fit

    root = Path(root or Path.cwd())
    t_start = time.time()
    out = prepare_out_dir(cfg, root, fast) if _rank() == 0 else Path(os.environ["SCLAP_OUT_DIR"])
    os.environ["SCLAP_OUT_DIR"] = str(out)  # ranks > 0 of a ddp run (started with this environment) share it
    phases = {}
    t0 = time.time()
    corpus, dm = build_data(cfg, root)
    phases["data"] = time.time() - t0
    t0 = time.time()
    module, trainer = fit(cfg.train_config(str(out)), dm)
    phases["train"] = time.time() - t0
    if not trainer.is_global_zero:
        return {}
    return test_metrics(cfg, out, module, dm, corpus, phases, t_start, trainer.global_step)[1]


def _rank() -> int:
    return int(os.environ.get("RANK", os.environ.get("LOCAL_RANK", 0)))


# --------------------------------------------------------------------------- command line


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="python -m sclap_nb.train",
        description="Train the spatial-temporal CLAP (the training notebook's main job) and evaluate it on the test split. "
        "Several devices: --devices N --strategy ddp (one process per device).",
    )
    p.add_argument("--fast", action="store_true", help="the quick setting for knobs not given (tiny corpus and model, 2 epochs)")
    p.add_argument("--config", help="a JSON or YAML file of settings (flags given on the command line win)")
    defaults = RunConfig()
    for f in fields(RunConfig):
        if f.name == "extra":
            p.add_argument("--extra", type=json.loads, help="JSON of further TrainConfig fields, e.g. '{\"model\": {\"temporal_layers\": 1}}'")
            continue
        d = getattr(defaults, f.name)
        flag = "--" + f.name.replace("_", "-")
        if isinstance(d, bool):
            p.add_argument(flag, type=_boolean, metavar="{true,false}", help=f"default {d}")
        elif isinstance(d, tuple):
            nargs = len(d) if f.name == "loss_weights" else "+"
            p.add_argument(flag, type=type(d[0]), nargs=nargs, help=f"default {' '.join(map(str, d))}")
        else:
            p.add_argument(flag, type=type(d), help=f"default {d!r}")
    return p


def _boolean(text: str) -> bool:
    t = text.strip().lower()
    if t in ("1", "true", "yes", "on"):
        return True
    if t in ("0", "false", "no", "off"):
        return False
    raise argparse.ArgumentTypeError(f"expected true or false, got {text!r}")


def _read_config(path: str) -> dict:
    text = Path(path).read_text()
    if path.endswith((".yaml", ".yml")):
        import yaml

        data = yaml.safe_load(text) or {}
    else:
        data = json.loads(text)
    if not isinstance(data, dict):
        raise ValueError(f"{path}: a config file holds a mapping of settings, got {type(data).__name__}")
    return data


def main(argv: list[str] | None = None) -> int:
    args = vars(_parser().parse_args(argv))
    fast, config = args.pop("fast"), args.pop("config")
    given = _read_config(config) if config else {}
    given.update({k: v for k, v in args.items() if v is not None})
    try:
        cfg = resolve_run(fast, **given)
        metrics = run(cfg, Path.cwd(), fast=fast)
    except (ValueError, RunDirError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    if metrics:
        print(json.dumps({k: v for k, v in metrics.items() if not k.startswith("phase_")}, indent=1, sort_keys=True))
        print(f"wrote {os.environ['SCLAP_OUT_DIR']}/metrics.json", file=sys.stderr)
    return 0

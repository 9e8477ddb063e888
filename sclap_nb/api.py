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
* **Errors name the file**: a wrong channel count, a file that is no audio, NaN samples, a WAV
  cut short (its header declares more frames than the file holds), a silent clip (its loudest
  50 ms window on every channel below ``sclap_nb.data.sources.SILENCE_DBFS``, -80 dBFS): a silent
  clip has nothing to embed and no direction, and none is made up. With ``skip_bad=True`` (``--skip-bad`` on the
  command lines) such clips are left out instead: each gets a :class:`SkippedAudio` warning naming
  it and why, and is listed in ``AudioEmbeddings.skipped``.
* **Cache**: ``cache=True`` (or a directory) keeps the embeddings of files by content (SHA-256 of
  the file's bytes) and model (its weights id, configuration and device type) in
  :func:`default_cache_dir` (``$XDG_CACHE_HOME/sclap_nb``, else ``~/.cache/sclap_nb``), or in the
  directory given, never beside the audio; each entry is written atomically. A file embedded
  before, under any name, is read back instead of embedded again; a changed file is embedded anew.
  The command lines cache by default (``--cache DIR``, ``--no-cache``).
* **Progress**: a tqdm bar on stderr while ``PROGRESS_MIN_CLIPS`` clips or more are embedded
  (``progress=True`` / ``False`` to choose; ``--quiet`` turns it off on the command lines).

Audio embeddings: ``"joint"`` (E_joint) or ``"triplet"`` (the temporal path's, models with
``use_temporal``); their retrieval scores are in ``results/train/metrics.json``. The default is
``"triplet"`` where the model has it, else ``"joint"``. A model trained with the aligned scores
(``model.align_dim``) also keeps ``"aligned"``: each clip's frame vectors, which a caption scores by the best
alignment of its events, in order, to the frames (``sclap_nb.model.aligned_scores``; a longer clip has more
frames, a shorter one's last frame is repeated, which leaves its scores unchanged), and ``"combined"``: the
triplet embedding's cosine plus ``w`` times the aligned score (``sclap_nb.model.combined_scores``; ``w``: the
weight the export records, ``embeddings.combined_weight`` in its ``config.json``, else ``COMBINED_WEIGHT``, 1;
``load(..., combined_weight=w)`` to choose), a scorer over those two rather than an embedding of its own, which
hears both the order of the events and the direction a source moves (``results/epochs_study``,
``results/weight_study``). ``"sed"`` is the semantic branch alone (the
omni log-mel, trained against the captions without directions, and by the class term
``loss.w_class`` where a run has it): what a sound is, not where or when, for :meth:`SCLAP.classify`
with ``embedding="sed"``. The embedding a method scores with: its
``embedding=`` argument, else the one given to :func:`load`, else the one the embeddings record
(``AudioEmbeddings.default``, what ``python -m sclap_nb.embed --embedding`` chose), which for clips
embedded in the call is the model's default. Scores are cosine similarities. The DOA head predicts
``n_events`` (2) unit vectors per clip: with ``doa_pooling="halves"`` (the default run) one per time
half, in time order; with ``doa_pooling="frames"`` one per run of sounding frames, in time order
(``sclap_nb.model.event_directions``), and :meth:`SCLAP.track` gives the direction frame by frame; with the
specification's head on E_joint in no particular event order (all are trained with a permutation-invariant
loss but the frame-wise head, whose frames are in time).
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import sys
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from tqdm import tqdm

from .data.sources import ACTIVE_FRAME_S, SILENCE_DBFS, frame_rms, truncation
from .data.spatial import SECTOR_WORDS, azimuth_of, sector_of
from .export import load_model, resolve_device, weights_id
from .features import check_foa
from .files import atomic_write
from .model import COMBINED_WEIGHT, SpatialTemporalCLAP, aligned_scores, combined_scores

__all__ = ["AUDIO_SUFFIXES", "AUDIO_EMBEDDINGS", "PROGRESS_MIN_CLIPS", "Match", "Direction", "Track", "AudioEmbeddings", "SkippedAudio", "BadAudio",
           "SCLAP", "load", "read_foa", "default_cache_dir"]  # fmt: skip

AUDIO_SUFFIXES = (".wav", ".flac")
#: the audio embeddings a clip gets (``"triplet"`` only from a model with the temporal path)
AUDIO_EMBEDDINGS = ("joint", "triplet", "sed", "aligned", "combined")
#: embedding this many clips or more shows a progress bar (unless ``progress=False``)
PROGRESS_MIN_CLIPS = 64


class SkippedAudio(UserWarning):
    """A clip that ``skip_bad=True`` left out; the message names it and why."""


class BadAudio(ValueError):
    """A clip that cannot be embedded (not audio, not 4 channels, truncated, silent, too short, NaN);
    the message names it. ``skip_bad=True`` leaves such clips out instead."""


def default_cache_dir() -> Path:
    """Where ``cache=True`` keeps embeddings: ``$XDG_CACHE_HOME/sclap_nb``, else ``~/.cache/sclap_nb``."""
    return Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "sclap_nb"


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


@dataclass(frozen=True)
class Track:
    """Where a clip's sound is, frame by frame, from a frame-wise DOA head (``doa_pooling`` frames): per frame
    of the spatial branch's map, its centre (seconds), the head's azimuth and elevation (degrees) and its
    ``activity``, the length of its vector (trained to 1 where one source sounds, 0 where none does)."""

    name: str
    times: np.ndarray  # (T,) seconds from the clip's start
    azimuth: np.ndarray  # (T,) degrees, 0 front, +90 left
    elevation: np.ndarray  # (T,) degrees, +90 up
    activity: np.ndarray  # (T,) in [0, sqrt(3)]

    def sounding(self, threshold: float = 0.5) -> np.ndarray:
        """``(T,)`` bool: the frames where the head says a source sounds (activity above ``threshold``)."""
        return self.activity > threshold


@dataclass
class AudioEmbeddings:
    """Embeddings and DOA predictions of ``N`` clips; ``save`` / ``load`` keep them in an ``.npz``."""

    names: list[str]
    joint: torch.Tensor  # (N, D), L2-normalised
    triplet: torch.Tensor | None  # (N, D), L2-normalised; None without a temporal path
    doa: torch.Tensor  # (N, n_events, 3) unit vectors
    default: str  # the embedding ``get()`` returns
    model_id: str  # ``sclap_nb.export.weights_id`` of the model that embedded them
    skipped: list[tuple[str, str]] = field(default_factory=list)  # (name, why) of clips ``skip_bad`` left out; not saved
    sed: torch.Tensor | None = None  # (N, D), L2-normalised: the semantic branch; None in files of older versions
    aligned: torch.Tensor | None = None  # (N, T', align_dim) unit frame vectors of the aligned scores (align_dim models)

    def __len__(self) -> int:
        return len(self.names)

    def get(self, embedding: str | None = None) -> torch.Tensor:
        """The ``"joint"``, ``"triplet"`` or ``"sed"`` embeddings ``(N, D)``, or the ``"aligned"`` frames
        ``(N, T', D')`` (default: ``self.default``)."""
        embedding = embedding or self.default
        if embedding not in AUDIO_EMBEDDINGS:
            raise ValueError(f"embedding must be one of {', '.join(AUDIO_EMBEDDINGS)}, got {embedding!r}")
        if embedding == "combined":
            raise ValueError("'combined' is a scorer, not an embedding: it adds the 'aligned' score to the 'triplet' "
                             "cosine; get('triplet') and get('aligned')")  # fmt: skip
        value = getattr(self, embedding)
        if value is None and embedding == "triplet":
            raise ValueError("these embeddings have no 'triplet' embedding (the model has no temporal path): use 'joint'")
        if value is None and embedding == "aligned":
            raise ValueError("these embeddings have no 'aligned' frames (the model has no aligned scores, model.align_dim 0): "
                             "use 'triplet' or 'joint'")  # fmt: skip
        if value is None:
            raise ValueError("these embeddings have no 'sed' embedding (written by an older version): embed the audio again")
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
        """Write an ``.npz``: ``names``, ``joint``, ``triplet``, ``sed`` and ``aligned`` (if any), ``doa``, ``sectors``,
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
        for name in ("triplet", "sed", "aligned"):
            if getattr(self, name) is not None:
                arrays[name] = getattr(self, name).numpy()
        return atomic_write(path, lambda f: np.savez(f, **arrays))

    @classmethod
    def load(cls, path: str | os.PathLike) -> "AudioEmbeddings":
        """Read what :meth:`save` wrote."""
        try:
            with np.load(path, allow_pickle=False) as d:
                return cls(
                    names=[str(n) for n in d["names"]], joint=torch.from_numpy(d["joint"]),
                    triplet=torch.from_numpy(d["triplet"]) if "triplet" in d else None, doa=torch.from_numpy(d["doa"]),
                    default=str(d["default"]), model_id=str(d["model_id"]),
                    sed=torch.from_numpy(d["sed"]) if "sed" in d else None,
                    aligned=torch.from_numpy(d["aligned"]) if "aligned" in d else None,
                )  # fmt: skip
        except (OSError, KeyError, ValueError) as e:
            raise ValueError(f"{path}: not an embeddings file of sclap_nb.embed ({e})") from e


def read_foa(path: str | os.PathLike, sample_rate: int) -> np.ndarray:
    """A 4-channel FOA file as float32 ``(4, samples)`` at ``sample_rate`` (resampled if the file's rate differs)."""
    import soundfile as sf

    try:
        cut = truncation(path)
        audio, sr = sf.read(str(path), dtype="float32", always_2d=True)
    except Exception as e:  # soundfile raises its own error types
        raise ValueError(f"{path}: cannot read it as audio: {e}") from e
    if cut:
        raise ValueError(f"{path}: {cut} (copy it again, or leave it out)")
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

    def __init__(self, model: SpatialTemporalCLAP, info: dict, embedding: str | None = None,
                 combined_weight: float | None = None):  # fmt: skip
        self.model = model.eval()
        self.info = info
        if combined_weight is None:
            combined_weight = _weight(info["embeddings"].get("combined_weight", COMBINED_WEIGHT), "config.json: embeddings.combined_weight")
        #: the weight of the aligned score in ``embedding="combined"`` (``sclap_nb.model.combined_scores``)
        self.combined_weight = _weight(combined_weight, "combined_weight")
        self._chosen = embedding  # None: embeddings given ready-made are scored with the one they record
        self.embedding = embedding or info["embeddings"]["default"]
        have = list(dict.fromkeys(["sed", *info["embeddings"]["audio"]]))  # every model has its semantic branch
        if "triplet" in have and "aligned" in have and "combined" not in have:  # exports older than the combined scorer
            have.append("combined")
        if self.embedding not in have:
            raise ValueError(f"embedding {self.embedding!r}: this model has {have}")

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

    def cache_key(self) -> str:
        """The part of an embedding cache that holds this model's embeddings: its weights id, its
        configuration and the device type (a GPU's embeddings differ from the CPU's in the last digits)."""
        what = json.dumps([self.model_id, self.info.get("model"), self.device.type], sort_keys=True, default=str)
        return f"{self.model_id}-{hashlib.sha256(what.encode()).hexdigest()[:12]}"

    # -- embeddings -------------------------------------------------------------------------
    def embed_audio(
        self,
        audio,
        sample_rate: int | None = None,
        batch_size: int = 32,
        *,
        skip_bad: bool = False,
        cache: bool | str | os.PathLike | None = None,
        progress: bool | None = None,
    ) -> AudioEmbeddings:
        """Embed clips (files, folders, arrays; see the module's notes) in batches of ``batch_size``.

        ``sample_rate``: the rate of arrays given directly (default: the model's); files carry their own.
        ``skip_bad``: leave out the clips that cannot be embedded (each with a :class:`SkippedAudio`
        warning naming it and why; listed in the result's ``skipped``) instead of raising the first
        one's :class:`BadAudio` (a ``ValueError``). ``cache``: ``True`` (:func:`default_cache_dir`)
        or a directory keeps the embeddings of files by content and reads them back (a cache that
        cannot be written is a warning, not an error); ``None`` / ``False`` embeds every clip.
        ``progress``: a tqdm bar on stderr (default: with ``PROGRESS_MIN_CLIPS`` clips or more).
        """
        if isinstance(batch_size, bool) or not isinstance(batch_size, int) or batch_size < 1:
            raise ValueError(f"batch_size must be an integer >= 1, got {batch_size!r}")
        sources = self._sources(audio, sample_rate or self.sample_rate)
        if not sources:
            raise ValueError("no audio given")
        store = None
        if cache is not None and cache is not False:
            store = _Cache(default_cache_dir() if cache is True else Path(cache), self.cache_key())
        done: list[dict | None] = [None] * len(sources)
        skipped: list[tuple[str, str]] = []
        show = progress if progress is not None else len(sources) >= PROGRESS_MIN_CLIPS
        with tqdm(total=len(sources), desc="embedding", unit="clip", file=sys.stderr, disable=not show) as bar:
            for start in range(0, len(sources), batch_size):
                todo, waves, keys = [], [], []
                for i in range(start, min(start + batch_size, len(sources))):
                    name, read, path = sources[i]
                    try:
                        key = store.key(path) if store is not None and path is not None else None
                        done[i] = store.get(key) if key is not None else None
                        if done[i] is None:
                            waves.append(self._checked(name, read()))
                            todo.append(i)
                            keys.append(key)
                    except (ValueError, OSError) as e:
                        why = str(e) if str(e).startswith(name) else f"{name}: {e}"
                        if not skip_bad:
                            raise BadAudio(why) from e
                        skipped.append((name, why))
                        warnings.warn(f"skipped {why}", SkippedAudio, stacklevel=2)
                for length in dict.fromkeys(w.shape[-1] for w in waves):  # equal lengths share a batch
                    group = [j for j, w in enumerate(waves) if w.shape[-1] == length]
                    out = self._encode(np.stack([waves[j] for j in group]))
                    for n, j in enumerate(group):
                        done[todo[j]] = {k: None if v is None else v[n] for k, v in out.items()}
                        if keys[j] is not None and store is not None:
                            try:
                                store.put(keys[j], done[todo[j]])
                            except OSError as e:
                                warnings.warn(f"{store.dir}: cannot write the embedding cache ({e}); embedding "
                                              "without it", stacklevel=2)  # fmt: skip
                                store = None
                bar.update(min(batch_size, len(sources) - start))
        kept = [i for i, d in enumerate(done) if d is not None]
        if not kept:
            raise ValueError(f"no clip left to embed: all {len(sources)} were skipped (the first: {skipped[0][1]})")
        parts = {k: [done[i].get(k) for i in kept] for k in ("joint", "triplet", "doa", "sed", "aligned")}
        triplet = torch.stack(parts["triplet"]) if parts["triplet"][0] is not None else None
        aligned = _pad_frames(parts["aligned"]) if all(x is not None for x in parts["aligned"]) else None
        return AudioEmbeddings([sources[i][0] for i in kept], torch.stack(parts["joint"]), triplet,
                               torch.stack(parts["doa"]), self.embedding, self.model_id, skipped,
                               torch.stack(parts["sed"]), aligned)  # fmt: skip

    def embed_text(self, captions: str | Sequence[str]) -> torch.Tensor:
        """L2-normalised caption embeddings ``(N, D)`` (on the CPU)."""
        captions = [captions] if isinstance(captions, str) else list(captions)
        with torch.no_grad():
            return self.model.encode_text(captions).float().cpu()

    # -- what the embeddings are for --------------------------------------------------------
    def search(
        self, caption: str, audio, k: int = 5, embedding: str | None = None, *,
        skip_bad: bool = False, cache: bool | str | os.PathLike | None = None, progress: bool | None = None,
    ) -> list[Match]:  # fmt: skip
        """The ``k`` clips of ``audio`` (any audio input, or :class:`AudioEmbeddings`) closest to ``caption``,
        best first. ``skip_bad``, ``cache``, ``progress``: as :meth:`embed_audio`'s."""
        if not isinstance(caption, str):
            raise TypeError(f"caption must be a string, got {type(caption).__name__}")
        clips = self._embedded(audio, skip_bad=skip_bad, cache=cache, progress=progress)
        scores = self._scores(clips, self._which(embedding, clips), [caption])[:, 0]
        return _top(scores, clips.names, k)

    def rank_captions(self, clip, captions: Sequence[str], k: int | None = None, embedding: str | None = None) -> list[Match]:
        """``captions`` ordered by their similarity to one clip (the best ``k``, default all)."""
        clips = self._embedded(clip)
        if len(clips) != 1:
            raise ValueError(f"rank_captions ranks captions for one clip, got {len(clips)}: {clips.names[:3]}")
        captions = [captions] if isinstance(captions, str) else list(captions)
        scores = self._scores(clips, self._which(embedding, clips), captions)[0]
        return _top(scores, captions, k or len(captions))

    def direction(self, audio, sample_rate: int | None = None, *, skip_bad: bool = False) -> list[Direction]:
        """The predicted direction (unit vectors, azimuth, elevation, sector) of each clip's sound events.
        A silent clip has none: ``ValueError`` naming it (with ``skip_bad``, a warning and no entry)."""
        return self._embedded(audio, sample_rate, skip_bad=skip_bad).directions()

    def track(self, audio, sample_rate: int | None = None, *, skip_bad: bool = False) -> list[Track]:
        """Where each clip's sound is over time: one :class:`Track` per clip, from a model whose DOA head reads
        every frame (``--model.doa_pooling frames``); a model with another head is a ``ValueError`` that says so.
        Bad clips as :meth:`embed_audio` (with ``skip_bad``, a warning and no entry)."""
        if self.model.cfg.doa_pooling != "frames":
            raise ValueError(f"this model's DOA head reads {'each half of the clip' if self.model.cfg.doa_pooling == 'halves' else 'E_joint'} "
                             f"(doa_pooling {self.model.cfg.doa_pooling!r}), not each frame: no track; train with "
                             "--model.doa_pooling frames")  # fmt: skip
        tracks = []
        for name, read, _ in self._sources(audio, sample_rate or self.sample_rate):
            try:
                wave = self._checked(name, read())
            except (ValueError, OSError) as e:
                why = str(e) if str(e).startswith(name) else f"{name}: {e}"
                if not skip_bad:
                    raise BadAudio(why) from e
                warnings.warn(f"skipped {why}", SkippedAudio, stacklevel=2)
                continue
            with torch.no_grad():
                frames = self.model.encode_wave(torch.from_numpy(wave[None]).to(self.device))["doa_frames"]
            v = frames[0].float().cpu().double()
            az = torch.rad2deg(torch.atan2(v[:, 1], v[:, 0]))
            el = torch.rad2deg(torch.atan2(v[:, 2], v[:, :2].norm(dim=-1)))
            tracks.append(Track(name, self.model.frame_times(len(v)).double().numpy(), az.numpy(), el.numpy(), v.norm(dim=-1).numpy()))
        return tracks

    def classify(
        self, audio, labels: Sequence[str], embedding: str | None = None, sample_rate: int | None = None, *,
        skip_bad: bool = False,
    ) -> torch.Tensor:  # fmt: skip
        """Zero-shot classification with your own labels: ``(N, K)`` probabilities, the softmax over the
        ``K`` label captions of the model's learned similarity scale times the cosine similarity (with
        ``embedding="aligned"``, its own scale times the aligned score; with ``"combined"``, the cosine's
        scale times the combined score)."""
        if isinstance(labels, str) or not labels:
            raise ValueError("labels must be a non-empty list of captions")
        clips = self._embedded(audio, sample_rate, skip_bad=skip_bad)
        which = self._which(embedding, clips)
        with torch.no_grad():
            scale = (self.model.align_scale() if which == "aligned" else self.model.scale()).float().cpu()
        return F.softmax(scale * self._scores(clips, which, list(labels)), dim=1)

    # -- internals --------------------------------------------------------------------------
    def _scores(self, clips: AudioEmbeddings, which: str, captions: list[str]) -> torch.Tensor:
        """``(N clips, N captions)``: cosine similarities of embedding ``which``, the aligned scores
        (``sclap_nb.model.aligned_scores`` of the captions' items against the clips' frames), or for
        ``"combined"`` the triplet cosine plus ``combined_weight`` times the aligned score (``sclap_nb.model.combined_scores``)."""
        if which not in ("aligned", "combined"):
            return clips.get(which) @ self.embed_text(captions).T
        frames = clips.get("aligned")
        if self.model.align_text is None:
            raise ValueError("this model has no aligned scores (model.align_dim 0): use 'triplet' or 'joint'")
        with torch.no_grad():
            items = self.model.encode_text_items(captions)[1].float().cpu()
            if which == "aligned":
                return aligned_scores(items, frames).T
            return combined_scores(self.embed_text(captions), items, clips.get("triplet"), frames, self.combined_weight).T

    def _which(self, embedding: str | None, clips: AudioEmbeddings) -> str:
        """The embedding to score with: the argument, else ``load``'s, else the one ``clips`` record."""
        return embedding or self._chosen or clips.default

    def _embedded(self, audio, sample_rate: int | None = None, **options) -> AudioEmbeddings:
        if not isinstance(audio, AudioEmbeddings):
            return self.embed_audio(audio, sample_rate, **options)
        if audio.model_id != self.model_id:
            raise ValueError(f"these embeddings come from another model (id {audio.model_id}, this model {self.model_id}): "
                             "embed the audio again with this model")  # fmt: skip
        return audio

    def _sources(self, audio, rate: int) -> list[tuple[str, Callable[[], np.ndarray], Path | None]]:
        """``(name, reader, file or None)`` per clip; readers return float32 ``(4, samples)`` at the model's rate."""
        if isinstance(audio, (str, os.PathLike)):
            path = Path(audio)
            if path.is_dir():
                files = sorted(p for p in path.iterdir() if p.is_file() and p.suffix.lower() in AUDIO_SUFFIXES)
                if not files:
                    raise ValueError(f"{path}: no {' or '.join(AUDIO_SUFFIXES)} files in this folder")
                return [(str(p), lambda p=p: read_foa(p, self.sample_rate), p) for p in files]
            if not path.is_file():
                raise FileNotFoundError(f"{path}: no such file or folder")
            return [(str(path), lambda: read_foa(path, self.sample_rate), path)]
        if isinstance(audio, (np.ndarray, torch.Tensor)):
            wave = audio.detach().cpu().float().numpy() if torch.is_tensor(audio) else np.asarray(audio, dtype=np.float32)
            if wave.ndim not in (2, 3) or wave.shape[-2] != 4:
                raise ValueError(f"array of shape {wave.shape}: expected (4, samples) or (N, 4, samples), 4 FOA channels "
                                 "(W, Y, Z, X) on the second-to-last axis")  # fmt: skip
            if wave.ndim == 2:
                return [("array", lambda: _resample(wave, rate, self.sample_rate), None)]
            return [(f"array[{i}]", lambda w=w: _resample(w, rate, self.sample_rate), None) for i, w in enumerate(wave)]
        if isinstance(audio, Sequence):
            sources = []
            for i, item in enumerate(audio):
                named = self._sources(item, rate)
                sources += [(n.replace("array", f"array[{i}]", 1) if n.startswith("array") else n, r, p) for n, r, p in named]
            return sources
        raise TypeError(f"cannot embed a {type(audio).__name__}: give file or folder paths, arrays or tensors")

    def _checked(self, name: str, wave: np.ndarray) -> np.ndarray:
        check_foa(torch.from_numpy(wave)[None], self.model.cfg.features, name)
        if wave.shape[-1] < self.min_samples:
            rate = self.sample_rate
            raise ValueError(f"{name}: clip too short: {wave.shape[-1]} samples ({wave.shape[-1] / rate:.3f} s at {rate} Hz); "
                             f"the model needs at least {self.min_samples} ({self.min_samples / rate:.3f} s)")  # fmt: skip
        hop = max(1, int(round(ACTIVE_FRAME_S * self.sample_rate)))
        loudest = max(float(frame_rms(channel, hop).max()) for channel in wave)
        if not loudest > 10 ** (SILENCE_DBFS / 20):
            level = 20 * np.log10(loudest) if loudest > 0 else -np.inf
            raise ValueError(f"{name}: silent (its loudest {ACTIVE_FRAME_S * 1e3:.0f} ms window is at {level:.0f} dBFS, "
                             f"below {SILENCE_DBFS:.0f} dBFS): no sound to embed, and no direction")  # fmt: skip
        return wave

    def _encode(self, waves: np.ndarray) -> dict[str, torch.Tensor | None]:
        with torch.no_grad():
            out = self.model.encode_wave(torch.from_numpy(waves).to(self.device))
        triplet, aligned = out["e_triplet"], out["a_frames"]
        return {"joint": out["e_joint"].float().cpu(), "triplet": None if triplet is None else triplet.float().cpu(),
                "doa": F.normalize(out["doa"], dim=-1).float().cpu(), "sed": out["e_sed"].float().cpu(),
                "aligned": None if aligned is None else aligned.float().cpu()}


def _pad_frames(frames: list[torch.Tensor]) -> torch.Tensor:
    """Clips' aligned frames ``(T_i, D)`` as one ``(N, max T_i, D)``: a shorter clip's last frame repeated, which
    leaves its aligned scores as they are (items may share a frame, so a repeated one offers nothing new)."""
    t = max(f.shape[0] for f in frames)
    return torch.stack([torch.cat([f, f[-1:].expand(t - f.shape[0], -1)]) for f in frames])


def _top(scores: torch.Tensor, names: Sequence[str], k: int) -> list[Match]:
    if isinstance(k, bool) or not isinstance(k, int) or k < 1:
        raise ValueError(f"k must be an integer >= 1, got {k!r}")
    order = torch.sort(scores, descending=True, stable=True).indices[:k]
    return [Match(names[i], float(scores[i])) for i in order.tolist()]


def load(path: str | os.PathLike, device: str | torch.device | None = None, embedding: str | None = None,
         combined_weight: float | None = None) -> SCLAP:  # fmt: skip
    """A trained model from an export directory, a Lightning checkpoint (``best.ckpt``) or a run directory.

    ``device``: ``"cpu"``, ``"cuda"``, ... (default: a GPU where there is one); one this PyTorch cannot
    use is a ``ValueError`` of one line (``sclap_nb.export.resolve_device``). ``embedding``: the audio
    embedding its methods use (default ``"triplet"`` where the model has a temporal path, else
    ``"joint"``; embeddings given ready-made are then scored with the one they record). ``combined_weight``:
    the weight of the aligned score in ``embedding="combined"`` (default: the export's
    ``embeddings.combined_weight``, else ``sclap_nb.model.COMBINED_WEIGHT``).
    """
    model, info = load_model(path, resolve_device(device))
    if "combined_weight" in info["embeddings"]:
        _weight(info["embeddings"]["combined_weight"], f"{path}: config.json: embeddings.combined_weight")
    return SCLAP(model, info, embedding, combined_weight)


def _weight(w, where: str) -> float:
    """``w`` as a float if it is a positive finite number; else a ``ValueError`` of one line naming ``where``."""
    if isinstance(w, bool) or not isinstance(w, (int, float)) or not math.isfinite(w) or w <= 0:
        raise ValueError(f"{where} must be a positive number, got {w!r}")
    return float(w)


class _Cache:
    """Embeddings of files by content: ``ROOT/embeddings/{model key}/{SHA-256 of the file}.npz``."""

    def __init__(self, root: Path, model_key: str):
        self.dir = Path(root) / "embeddings" / model_key

    @staticmethod
    def key(path: Path) -> str:
        h = hashlib.sha256()
        with open(path, "rb") as f:
            for block in iter(lambda: f.read(1 << 20), b""):
                h.update(block)
        return h.hexdigest()

    def get(self, key: str) -> dict | None:
        """The entry of ``key``; ``None`` if there is none, it cannot be read or it was written before the
        ``sed`` embedding was kept (it is then written anew)."""
        path = self.dir / f"{key}.npz"
        if not path.is_file():
            return None
        try:
            with np.load(path, allow_pickle=False) as d:
                return {"joint": torch.from_numpy(d["joint"]), "doa": torch.from_numpy(d["doa"]), "sed": torch.from_numpy(d["sed"]),
                        "triplet": torch.from_numpy(d["triplet"]) if "triplet" in d else None,
                        "aligned": torch.from_numpy(d["aligned"]) if "aligned" in d else None}  # fmt: skip
        except (OSError, KeyError, ValueError):
            return None

    def put(self, key: str, entry: dict) -> None:
        arrays = {k: v.numpy() for k, v in entry.items() if v is not None}
        atomic_write(self.dir / f"{key}.npz", lambda f: np.savez(f, **arrays))

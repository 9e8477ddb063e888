"""A pretrained audio front end that installs from the package registries: aiSFX's sound-effects CNN.

The project's CNNs are trained from scratch, and on the library's held-out packages they name few
recordings right (``results/library_study``); ``model.semantic_pretrained`` aisfx adds this network's
features to the semantic branch (``results/pretrained_study``). The pretrained audio
models on PyPI checked here (torchopenl3, panns-inference, hear21passt) download their weights at
run time, which this project may not do. ``aisfx`` (Ma & Lerch, *Representation learning for the
automatic indexing of sound effects libraries*, ISMIR 2022) does not: its wheel carries the weights
(25 MB; code MIT, weights CC BY 4.0)
of a 9-layer CNN trained with class labels on professional sound-effects libraries (Universal
Category System). ``make setup`` installs it with ``--no-deps``: its pinned ``numpy``/``librosa``
are for its own scripts, and only its network class and weights are used here.

* :func:`aisfx_input` -- the network's input: a mono signal resampled to 44.1 kHz and peak-normalised,
  96 HTK mel bands of its power spectrum (2048-point window, hop 1024), ``log10(1 + 10^4 P)``
  scaled by the package's fixed maximum, cut into blocks of 100 frames (2.3 s) with hop 50.
* :func:`aisfx_network` -- the embedding network, ``(blocks, 100, 96) -> (blocks, 512)``, with the
  shipped weights or (``pretrained=False``, a control) with its own random initialisation.

* :func:`aisfx_logmel` -- that log-mel for a batch of whole clips at once (torch's STFT; librosa's
  numbers, tested): one "block" as long as the clip, which the network reads whole (it ends in a mean
  over frequency and a maximum over time, so a long block is the maximum over the short ones, up to
  their edges).
* :func:`aisfx_frames` -- the network's map before its maximum over time, a 512-d vector every 0.186 s.
* :class:`AisfxEmbedder` -- the frozen network on a batch of clips: ``(N, samples) -> (N, 512)``, the
  pretrained semantic features of ``model.semantic_pretrained`` aisfx (kept out of the model's
  ``state_dict``: the weights come from the installed wheel, not from an export); ``frames=True``:
  ``(N, frames, 512)``, for ``model.temporal_pretrained``.
* :func:`embed_cache` -- those features of every clip of a list, computed once into a ``.npy`` beside a
  ``.json`` that says what they were computed from, and reused only when that matches.

``scripts/probe_pretrained_audio.py`` measures what it knows of the library's sounds.
"""

from __future__ import annotations

import functools
import hashlib
import json
import os
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np
import torch
from scipy.signal import resample_poly

from .files import atomic_write
from .hardware import cpu_has_native_bf16

__all__ = ["AISFX_RATE", "AISFX_BLOCK", "AISFX_MELS", "AISFX_DIM", "aisfx_input", "aisfx_network", "aisfx_logmel",
           "aisfx_frames", "AisfxEmbedder", "embed_cache", "weights_digest"]

AISFX_RATE, AISFX_WINDOW, AISFX_HOP, AISFX_MELS, AISFX_BLOCK, AISFX_DIM = 44100, 2048, 1024, 96, 100, 512
AISFX_BATCH = 32  # clips the network reads in one call
AISFX_SPEC_MAX = 9.457798957824707  # the package's "original" min-max normalisation of the log spectrum (min 0)


def aisfx_input(y: np.ndarray, rate: int) -> torch.Tensor:
    """``(blocks, 100, 96)`` float32: aiSFX's log-mel blocks of the mono signal ``y`` sampled at ``rate`` Hz
    (:func:`aisfx_logmel` of the whole signal, cut into blocks of 100 frames with hop 50).

    A signal shorter than one block is padded with silence to one block; a silent one gives zeros.
    """
    y = np.asarray(y, dtype=np.float32)
    if y.ndim != 1:
        raise ValueError(f"aisfx_input needs a mono signal (1-D), got shape {y.shape}")
    spec = aisfx_logmel(y[None], rate)[0]  # (frames, bands)
    return torch.stack([spec[s : s + AISFX_BLOCK] for s in range(0, len(spec) - AISFX_BLOCK + 1, AISFX_BLOCK // 2)])


def aisfx_network(pretrained: bool = True) -> torch.nn.Module:
    """aiSFX's embedding CNN in eval mode, ``(blocks, 100, 96) -> (blocks, 512)``.

    ``pretrained``: the weights shipped in the ``aisfx`` wheel, loaded strictly; otherwise the
    network's own initialisation under ``torch.manual_seed(0)`` (the untrained control)."""
    try:
        from aisfx.inference import get_path_modelWeights
        from aisfx.models.cnn2d import EmbeddingNet
    except ImportError:
        raise ImportError("the pretrained front end needs the package aisfx: pip install --no-deps aisfx==0.1.2") from None
    with torch.random.fork_rng():
        torch.manual_seed(0)
        net = EmbeddingNet("max", 3, 1, 64)
    if pretrained:
        state, _ = torch.load(get_path_modelWeights(), map_location="cpu", weights_only=False)
        prefix = "embedding_net."
        net.load_state_dict({k[len(prefix) :]: v for k, v in state.items() if k.startswith(prefix)})
    for p in net.parameters():
        p.requires_grad_(False)
    return net.eval()


def aisfx_frames(net: torch.nn.Module, x: torch.Tensor) -> torch.Tensor:
    """The network's map before its maximum over time: ``(N, frames, 96) -> (N, frames // 8, 512)``, one vector
    every 8 input frames (0.186 s); its maximum over time is ``net(x)`` (tested). The package's forward with
    the last step left out."""
    h = x.unsqueeze(1)
    for block, pool in ((net.conv_block1, (2, 2)), (net.conv_block2, (2, 2)), (net.conv_block3, (2, 2)),
                        (net.conv_block4, (1, 1))):  # fmt: skip
        h = block(h, pool_size=pool, pool_type=net.pool_type)
    return h.mean(3).transpose(1, 2)


@functools.lru_cache(maxsize=1)
def _mel_basis() -> torch.Tensor:
    import librosa

    return torch.from_numpy(librosa.filters.mel(sr=AISFX_RATE, n_fft=AISFX_WINDOW, n_mels=AISFX_MELS, fmin=0.0, fmax=AISFX_RATE / 2,
                                                htk=True, norm=1.0)).float()  # fmt: skip


def aisfx_logmel(waves: np.ndarray | torch.Tensor, rate: int) -> torch.Tensor:
    """``(N, frames, 96)`` float32: aiSFX's log-mel of each mono clip of ``waves`` ``(N, samples)``, whole.

    The numbers of :func:`aisfx_input` (resampled to 44.1 kHz, each clip peak-normalised, HTK mel bands
    of the power spectrum, ``log10(1 + 10^4 P)`` over the package's maximum), computed for the batch at
    once; a clip shorter than one block is padded with silence to one block (100 frames)."""
    y = np.asarray(waves.detach().cpu() if isinstance(waves, torch.Tensor) else waves, dtype=np.float32)
    if y.ndim != 2:
        raise ValueError(f"aisfx_logmel needs mono clips (N, samples), got shape {y.shape}")
    if rate != AISFX_RATE:
        y = resample_poly(y, AISFX_RATE, rate, axis=1).astype(np.float32)
    peak = np.abs(y).max(axis=1, keepdims=True) if y.shape[1] else np.zeros((len(y), 1), np.float32)
    x = torch.from_numpy(y / np.where(peak > 0, peak, 1.0))
    spec = torch.stft(x, AISFX_WINDOW, AISFX_HOP, window=torch.hann_window(AISFX_WINDOW), center=True, pad_mode="constant",
                      return_complex=True).abs().square()  # (N, bins, frames); fmt: skip
    out = (torch.log10(_mel_basis() @ spec * 10000.0 + 1.0) / AISFX_SPEC_MAX).transpose(1, 2)
    if out.shape[1] < AISFX_BLOCK:
        out = torch.nn.functional.pad(out, (0, 0, 0, AISFX_BLOCK - out.shape[1]))
    return out.contiguous()


@functools.lru_cache(maxsize=1)
def _shared_network() -> torch.nn.Module:
    """The shipped network, loaded once for every embedder of the process (frozen, so they can share it)."""
    return aisfx_network(pretrained=True)


class AisfxEmbedder:
    """aiSFX's frozen network on whole clips: ``embedder(waves, rate)`` -> ``(N, 512)`` float32 on the CPU.

    ``waves``: ``(N, samples)`` mono, or ``(N, 4, samples)`` FOA, of which W (channel 0) is read. The
    network (25 MB) is loaded once per process, on first use, and runs on the CPU whatever the model's device,
    under bf16 autocast where the CPU computes bf16 in hardware (``bf16=None``; 0.61 times float32's time on
    this project's EPYC: ``benchmarks/pretrained_front_end_epyc.json``), else in float32: a machine gives the same vectors in a cache and in the API, machines of
    other kinds differ in their last bits, as training does."""

    def __init__(self, bf16: bool | None = None, frames: bool = False):
        self.batch_size = AISFX_BATCH
        self.bf16 = cpu_has_native_bf16() if bf16 is None else bool(bf16)
        self.frames = bool(frames)

    @property
    def net(self) -> torch.nn.Module:
        return _shared_network()

    @torch.no_grad()
    def __call__(self, waves: np.ndarray | torch.Tensor, rate: int) -> torch.Tensor:
        w = waves.detach().cpu() if isinstance(waves, torch.Tensor) else torch.as_tensor(np.asarray(waves))
        if w.ndim == 3:
            w = w[:, 0]
        if w.ndim != 2:
            raise ValueError(f"AisfxEmbedder needs clips (N, samples) or (N, channels, samples), got shape {tuple(w.shape)}")
        if len(w) == 0:
            return torch.zeros(0, 0, AISFX_DIM) if self.frames else torch.zeros(0, AISFX_DIM)
        run = (lambda x: aisfx_frames(self.net, x)) if self.frames else self.net
        with torch.autocast("cpu", dtype=torch.bfloat16, enabled=self.bf16), torch.autocast("cuda", enabled=False):
            return torch.cat([run(aisfx_logmel(w[i : i + self.batch_size].float(), rate))
                              for i in range(0, len(w), self.batch_size)]).float()  # fmt: skip


@functools.lru_cache(maxsize=1)
def weights_digest() -> str:
    """SHA-1 of the installed aiSFX weights file (a cache of its features names the weights it came from)."""
    from aisfx.inference import get_path_modelWeights

    return hashlib.sha1(Path(get_path_modelWeights()).read_bytes()).hexdigest()


def embed_cache(npy: str | os.PathLike, ids: Sequence[str], source: str, rate: int,
                load: Callable[[list[int]], np.ndarray], embedder: AisfxEmbedder | None = None) -> np.ndarray:  # fmt: skip
    """``(len(ids), 512)`` float32: aiSFX's features of each clip, from ``npy`` when its ``.json`` matches
    (the clip ids, ``source`` -- a digest of what the clips are -- the rate, the weights and the embedder's
    precision and kind), else computed
    from ``load(indices)`` (their waves, ``(n, samples)`` or ``(n, 4, samples)``) and written atomically.
    With an embedder of frames (``AisfxEmbedder(frames=True)``, clips of one length): ``(len(ids), frames,
    512)``, stored in float16 (the network computes in bf16 where the CPU has it, whose 8-bit mantissa
    float16's 10 bits hold) and returned as such."""
    npy = Path(npy)
    meta = npy.with_suffix(".json")
    embedder = embedder or AisfxEmbedder()
    want = {"ids": list(ids), "source": source, "rate": int(rate), "weights_sha1": weights_digest(), "network": "aisfx 0.1.2",
            "precision": "bf16" if embedder.bf16 else "float32"}  # fmt: skip
    dtype = np.float16 if embedder.frames else np.float32
    if embedder.frames:
        want["frames"] = True
    if npy.is_file() and meta.is_file():
        try:
            if json.loads(meta.read_text()) == want:
                out = np.load(npy)
                if out.dtype == dtype and out.shape[:1] == (len(ids),) and out.shape[-1] == AISFX_DIM \
                        and out.ndim == (3 if embedder.frames else 2):  # fmt: skip
                    return out
        except (json.JSONDecodeError, ValueError):
            pass
    step = embedder.batch_size
    parts = [embedder(load(list(range(i, min(i + step, len(ids))))), rate).numpy().astype(dtype)
             for i in range(0, len(ids), step)]  # fmt: skip
    empty = (0, 0, AISFX_DIM) if embedder.frames else (0, AISFX_DIM)
    out = np.concatenate(parts) if parts else np.zeros(empty, dtype)
    atomic_write(npy, lambda f: np.save(f, out))
    atomic_write(meta, json.dumps(want))
    return out

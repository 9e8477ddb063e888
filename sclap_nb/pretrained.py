"""A pretrained audio front end that installs from the package registries: aiSFX's sound-effects CNN.

The project's CNNs are trained from scratch, and on the library's held-out packages they name a
recording no better than chance (``results/experiments/library_mixed_*``). The pretrained audio
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

``scripts/probe_pretrained_audio.py`` measures what it knows of the library's sounds.
"""

from __future__ import annotations

import numpy as np
import torch
from scipy.signal import resample_poly

__all__ = ["AISFX_RATE", "AISFX_BLOCK", "AISFX_MELS", "AISFX_DIM", "aisfx_input", "aisfx_network"]

AISFX_RATE, AISFX_WINDOW, AISFX_HOP, AISFX_MELS, AISFX_BLOCK, AISFX_DIM = 44100, 2048, 1024, 96, 100, 512
AISFX_SPEC_MAX = 9.457798957824707  # the package's "original" min-max normalisation of the log spectrum (min 0)


def aisfx_input(y: np.ndarray, rate: int) -> torch.Tensor:
    """``(blocks, 100, 96)`` float32: aiSFX's log-mel blocks of the mono signal ``y`` sampled at ``rate`` Hz.

    A signal shorter than one block is padded with silence to one block; a silent one gives zeros.
    """
    import librosa

    y = np.asarray(y, dtype=np.float32)
    if y.ndim != 1:
        raise ValueError(f"aisfx_input needs a mono signal (1-D), got shape {y.shape}")
    if rate != AISFX_RATE:
        y = resample_poly(y, AISFX_RATE, rate).astype(np.float32)
    peak = float(np.abs(y).max()) if y.size else 0.0
    if peak > 0:
        y = y / peak
    spec = librosa.feature.melspectrogram(y=y, sr=AISFX_RATE, n_fft=AISFX_WINDOW, hop_length=AISFX_HOP, n_mels=AISFX_MELS,
                                          fmin=0.0, fmax=AISFX_RATE / 2, htk=True, norm=1.0, power=2.0)  # fmt: skip
    spec = (np.log10(spec * 10000.0 + 1.0) / AISFX_SPEC_MAX).T  # (frames, bands)
    if len(spec) < AISFX_BLOCK:
        spec = np.vstack([spec, np.zeros((AISFX_BLOCK - len(spec), AISFX_MELS), dtype=spec.dtype)])
    starts = range(0, len(spec) - AISFX_BLOCK + 1, AISFX_BLOCK // 2)
    return torch.tensor(np.stack([spec[s : s + AISFX_BLOCK] for s in starts]), dtype=torch.float32)


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

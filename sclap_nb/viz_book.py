"""Plotting helpers of the book chapters (scenes, chunking, GRL, 3-way loss, modality gap).

Each function takes data and returns a matplotlib Figure (save it with :func:`sclap_nb.viz.save`).
Nothing here defines a model, a loss, a metric or a feature: the per-frame directions come from
:func:`sclap_nb.features.iv_direction`.
"""

from __future__ import annotations

from collections.abc import Sequence

import matplotlib.pyplot as plt
import numpy as np
import torch

from .features import iv_direction

__all__ = [
    "FOA_NAMES",
    "frame_energy",
    "frame_azimuth",
    "plot_triplet_waves",
    "plot_triplet_logmel",
    "plot_triplet_directions",
    "plot_curves",
    "plot_sweep",
    "plot_paired_hist",
    "plot_mask",
    "plot_embedding_2d",
]

FOA_NAMES = ("W", "Y", "Z", "X")


def frame_energy(logmel: torch.Tensor) -> torch.Tensor:
    """Linear power of each frame of a W log-mel ``(1, T, M)`` (dB), ``(T,)``, normalised to peak 1."""
    power = (10 ** (logmel[0].double() / 10)).mean(-1)
    return (power / power.max()).float()


def frame_azimuth(logmeliv: torch.Tensor) -> torch.Tensor:
    """Azimuth (degrees, 0 front, +90 left) of the intensity vector of every frame of one clip's
    logmelIV ``(7, T, M)``: :func:`iv_direction` applied to each frame on its own, ``(T,)``."""
    frames = logmeliv.permute(1, 0, 2)[:, :, None, :]  # (T, 7, 1, M): one "clip" per frame
    return iv_direction(frames)[:, 0]


def plot_triplet_waves(waves: torch.Tensor, sample_rate: int, titles: Sequence[str]):
    """The four FOA channels (rows) of each clip (columns) of a triplet ``(3, 4, S)``."""
    n_clips = waves.shape[0]
    t = np.arange(waves.shape[-1]) / sample_rate
    fig, axes = plt.subplots(4, n_clips, figsize=(3.6 * n_clips, 5.6), sharex=True, sharey=True, squeeze=False)
    for j in range(n_clips):
        for c in range(4):
            ax = axes[c, j]
            ax.plot(t, waves[j, c].numpy(), lw=0.4, color=f"C{c}")
            ax.set_ylabel(FOA_NAMES[c] if j == 0 else "")
            ax.grid(alpha=0.3)
        axes[0, j].set_title(titles[j], fontsize=9)
        axes[-1, j].set_xlabel("time (s)")
    fig.tight_layout()
    return fig


def plot_triplet_logmel(logmels: torch.Tensor, hop_seconds: float, titles: Sequence[str]):
    """Log-mel of W (dB) of each clip of a triplet ``(3, 1, T, M)``."""
    n_clips, _, n_frames, n_mels = logmels.shape
    fig, axes = plt.subplots(1, n_clips, figsize=(3.6 * n_clips, 2.8), sharey=True, squeeze=False)
    vmin, vmax = float(logmels.min()), float(logmels.max())
    for j, ax in enumerate(axes[0]):
        im = ax.imshow(
            logmels[j, 0].T.numpy(), origin="lower", aspect="auto", cmap="magma", vmin=vmin, vmax=vmax,
            extent=(0, n_frames * hop_seconds, 0, n_mels),
        )
        ax.set_title(titles[j], fontsize=9)
        ax.set_xlabel("time (s)")
    axes[0, 0].set_ylabel("mel band")
    fig.colorbar(im, ax=axes[0].tolist(), label="dB", shrink=0.9)
    return fig


def plot_triplet_directions(
    azimuths: torch.Tensor, energies: torch.Tensor, hop_seconds: float, events: Sequence[Sequence[tuple]], titles: Sequence[str],
    floor: float = 0.01,
):
    """Per-frame intensity-vector azimuth (dots, opacity = frame energy; frames below ``floor`` of
    the peak energy hidden) of each clip, against the labels: each event's azimuth as a horizontal
    line over its span. ``events[j]`` lists ``(onset_s, duration_s, azimuth_deg, label)`` of clip j."""
    n_clips, n_frames = azimuths.shape
    t = np.arange(n_frames) * hop_seconds
    fig, axes = plt.subplots(1, n_clips, figsize=(3.6 * n_clips, 3.0), sharey=True, squeeze=False)
    for j, ax in enumerate(axes[0]):
        e = energies[j].numpy()
        keep = e >= floor
        alpha = np.clip(0.15 + 0.85 * np.sqrt(e[keep]), 0, 1)
        ax.scatter(t[keep], azimuths[j].numpy()[keep], s=6, c="k", alpha=alpha, lw=0, label="intensity vector")
        for k, (onset, duration, az, label) in enumerate(events[j]):
            ax.hlines(az, onset, onset + duration, color=f"C{k + 1}", lw=3, label=f"{label} ({az:+.0f}°)")
        ax.set_ylim(-185, 185)
        ax.set_yticks([-180, -90, 0, 90, 180])
        ax.set_title(titles[j], fontsize=9)
        ax.set_xlabel("time (s)")
        ax.grid(alpha=0.3)
        ax.legend(fontsize=7, loc="lower right")
    axes[0, 0].set_ylabel("azimuth (deg, +90 = left)")
    fig.tight_layout()
    return fig


def plot_curves(x, series: dict[str, Sequence[float]], xlabel: str, ylabel: str = "", hlines: dict[str, float] | None = None,
                ax=None, ylim=None, title: str = ""):
    """Several curves against ``x`` (``series``: label -> values), optional labelled horizontal lines."""
    fig = None
    if ax is None:
        fig, ax = plt.subplots(figsize=(5.2, 3.4))
    for label, values in series.items():
        ax.plot(x, values, label=label)
    for label, y in (hlines or {}).items():
        ax.axhline(y, color="gray", ls="--", lw=1)
        ax.annotate(label, (ax.get_xlim()[1], y), ha="right", va="bottom", fontsize=8, color="gray")
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    if ylim:
        ax.set_ylim(*ylim)
    if title:
        ax.set_title(title, fontsize=10)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    return fig if fig is not None else ax.figure


def plot_sweep(values: Sequence[float], results: dict[str, Sequence[float]], xlabel: str, ylabel: str = "",
               hline: float | None = None, logx: bool = False):
    """Final values of a sweep (``results``: label -> one value per swept setting)."""
    fig, ax = plt.subplots(figsize=(5.2, 3.4))
    for label, ys in results.items():
        ax.plot(values, ys, marker="o", label=label)
    if hline is not None:
        ax.axhline(hline, color="gray", ls="--", lw=1)
    if logx:
        ax.set_xscale("symlog", linthresh=0.1)
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    fig.tight_layout()
    return fig


def plot_paired_hist(panels: dict[str, dict[str, np.ndarray]], bins: int = 15):
    """One panel per entry of ``panels`` (title -> {label: values}), overlaid histograms."""
    fig, axes = plt.subplots(1, len(panels), figsize=(4.4 * len(panels), 3.2), squeeze=False)
    for ax, (title, groups) in zip(axes[0], panels.items()):
        lo = min(float(np.min(v)) for v in groups.values())
        hi = max(float(np.max(v)) for v in groups.values())
        edges = np.linspace(lo, hi if hi > lo else lo + 1e-6, bins + 1)
        for k, (label, v) in enumerate(groups.items()):
            ax.hist(v, bins=edges, alpha=0.55, color=f"C{k}", label=label)
            ax.axvline(float(np.mean(v)), color=f"C{k}", ls="--", lw=1.2)
        ax.set_title(title, fontsize=10)
        ax.set_ylabel("groups")
        ax.grid(alpha=0.3)
        ax.legend(fontsize=8)
    fig.tight_layout()
    return fig


def plot_mask(mask: torch.Tensor, labels: Sequence[str], title: str = ""):
    """A boolean ``(N, N)`` matrix (e.g. :func:`sclap_nb.losses.same_caption_mask`) with row/column labels."""
    fig, ax = plt.subplots(figsize=(0.35 * len(labels) + 2.2, 0.35 * len(labels) + 1.6))
    ax.imshow(mask.numpy().astype(float), cmap="Greys", vmin=0, vmax=1.4)
    ax.set_xticks(range(len(labels)), labels, rotation=90, fontsize=7)
    ax.set_yticks(range(len(labels)), labels, fontsize=7)
    ax.set_title(title, fontsize=10)
    fig.tight_layout()
    return fig


def plot_embedding_2d(ax, xy: np.ndarray, modality: np.ndarray, roles: Sequence[str] | None = None, title: str = ""):
    """2-D map of audio (``modality`` 0, circles) and text (1, triangles) points on ``ax``."""
    markers = {"pos": "o", "neg_t": "s", "neg_s": "^"}
    roles = list(roles) if roles is not None else ["pos"] * len(xy)
    for m, (name, color) in enumerate((("audio", "C0"), ("text", "C3"))):
        for role, marker in markers.items():
            sel = (modality == m) & np.array([r == role for r in roles])
            if sel.any():
                ax.scatter(xy[sel, 0], xy[sel, 1], s=18, c=color, marker=marker, alpha=0.75, lw=0,
                           label=f"{name} {role}")
    ax.set_title(title, fontsize=10)
    ax.set_xticks([])
    ax.set_yticks([])
    return ax

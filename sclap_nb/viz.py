"""Figures of the book: one shared style, fixed colours, and small plotting helpers.

* :func:`book_style` sets the seaborn theme every chapter uses (``sclap_nb.notebook.setup_chapter``
  applies it); :data:`ROLE_PALETTE`, :data:`EMBEDDING_PALETTE` and :func:`class_palette` give the
  same colour to the same thing on every page.
* Training curves come from Lightning's CSV log (:func:`read_log`, :func:`plot_loss_components`,
  :func:`plot_epoch_metrics`); the chapters' figures of scenes, chunks, sweeps, masks and embedding
  maps from the other ``plot_*`` helpers.

Every function takes data (or a path) and returns a matplotlib Figure (or draws on a given Axes);
:func:`save` writes it with a stable name, so the book can show it. Nothing here defines a model, a
loss, a metric or a feature: the per-frame directions come from :func:`sclap_nb.features.iv_direction`.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import seaborn as sns
from matplotlib.ticker import MaxNLocator

from .data import SOUND_CLASSES
from .features import iv_direction

__all__ = [
    # style and colours
    "BOOK_DPI", "MIN_FONT_KEY", "NAMED_SIZE_FLOOR", "PALETTE", "ROLE_PALETTE", "EMBEDDING_PALETTE", "book_style", "class_palette",
    "smallest_font_pt",
    # training logs and results
    "read_log", "step_frame", "epoch_frame", "plot_loss_components", "plot_epoch_metrics", "plot_ablation", "save",
    # chapter figures
    "FOA_NAMES", "frame_energy", "frame_azimuth", "plot_triplet_waves", "plot_triplet_logmel",
    "plot_triplet_directions", "plot_curves", "plot_sweep", "plot_paired_hist", "plot_mask", "plot_embedding_2d",
]

# --------------------------------------------------------------------------- style and colours

BOOK_DPI = 110  # resolution of the saved PNGs (the on-screen figure.dpi stays matplotlib's 100)
PALETTE = sns.color_palette("colorblind")  # the colour cycle C0, C1, ... of every figure

#: the four clips of a scene, the same colour on every page
ROLE_PALETTE = {"pos": PALETTE[2], "neg_t": PALETTE[1], "neg_s": PALETTE[4], "neg_c": PALETTE[5]}
#: the audio embeddings (metric prefixes and ``Outputs`` field names) and the two modalities
EMBEDDING_PALETTE = {
    "joint": PALETTE[0], "e_joint": PALETTE[0],
    "triplet": PALETTE[3], "e_triplet": PALETTE[3],
    "temporal": PALETTE[6], "e_temporal": PALETTE[6],
    "audio": PALETTE[0], "text": PALETTE[3],
}


#: PNG text key under which :func:`save` stores the smallest font size (points) of the figure's text, so
#: that the book's browser check (scripts/browser_check.py) can tell how small it is shown
MIN_FONT_KEY = "Sclap-min-font-pt"
#: the book's floor for matplotlib's named font sizes, as a fraction of the base size: "small", "x-small"
#: and "xx-small" (0.83, 0.69 and 0.58 in matplotlib) all become 0.9 of it, 9.2 pt at the default scale
NAMED_SIZE_FLOOR = 0.9


def book_style(context: str = "notebook", font_scale: float = 0.85) -> None:
    """Apply the book's figure style: seaborn's whitegrid theme, the colour-blind palette as the colour
    cycle, one font size for titles, labels, ticks and legends (10.2 pt at the default ``font_scale``),
    no named size below :data:`NAMED_SIZE_FLOOR` of it (an annotation at ``fontsize="x-small"`` is
    9.2 pt, so that a figure shown at two thirds of its size still has text of 9 px) and ``savefig`` at
    :data:`BOOK_DPI`, tight. ``figure.dpi`` and ``figure.figsize`` keep matplotlib's defaults, so a
    figure's printed size does not change."""
    from matplotlib import font_manager

    for name in ("xx-small", "x-small", "small"):
        font_manager.font_scalings[name] = max(font_manager.font_scalings[name], NAMED_SIZE_FLOOR)
    sns.set_theme(
        context=context, style="whitegrid", palette=PALETTE, font_scale=font_scale,
        rc={
            "figure.dpi": 100,
            "savefig.dpi": BOOK_DPI,
            "savefig.bbox": "tight",
            "axes.titlesize": "medium",
            "axes.labelsize": "medium",
            "xtick.labelsize": "medium",
            "ytick.labelsize": "medium",
            "legend.fontsize": "medium",
            "legend.title_fontsize": "medium",
            "legend.framealpha": 0.8,
            "grid.alpha": 0.5,
            "image.cmap": "viridis",
            "lines.linewidth": 1.6,
        },
    )


def class_palette(names: Sequence[str] | None = None) -> dict[str, tuple]:
    """A fixed colour per sound class: the 35 classes of ``sclap_nb.data.SOUND_CLASSES`` keep their
    colour whatever subset a figure shows; other names (a folder corpus) get darker colours of their
    own, in sorted order. ``names`` None: every class of ``SOUND_CLASSES``."""
    known = [c.name for c in SOUND_CLASSES]
    hues = sns.color_palette("husl", len(known))
    fixed = {name: hues[(13 * i) % len(known)] for i, name in enumerate(known)}  # neighbours in the list differ
    names = known if names is None else list(dict.fromkeys(names))
    others = sorted(n for n in names if n not in fixed)
    extra = dict(zip(others, sns.husl_palette(len(others), l=0.4))) if others else {}
    return {n: fixed.get(n, extra.get(n)) for n in names}


def smallest_font_pt(fig) -> float | None:
    """The smallest font size (points) of the visible, non-empty text of ``fig``; None without text."""
    from matplotlib.text import Text

    sizes = [t.get_fontsize() for t in fig.findobj(Text) if t.get_visible() and t.get_text().strip()]
    return min(sizes) if sizes else None


def save(fig, path: str | Path, dpi: int | None = None) -> Path:
    """Save ``fig`` as PNG at ``path`` (parents created; :data:`BOOK_DPI` unless ``dpi``); return the path.
    The PNG stores its smallest font size under :data:`MIN_FONT_KEY`."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    metadata = {"Software": None}
    smallest = smallest_font_pt(fig)
    if smallest is not None:
        metadata[MIN_FONT_KEY] = f"{smallest:.1f}"
    fig.savefig(path, dpi=dpi or BOOK_DPI, bbox_inches="tight", metadata=metadata)
    return path


# --------------------------------------------------------------------------- line plots

def plot_curves(x, series: dict[str, Sequence[float]], xlabel: str, ylabel: str = "", hlines: dict[str, float] | None = None,
                ax=None, ylim=None, title: str = "", marker: str | None = None, logx: bool = False,
                colors: dict[str, tuple] | None = None):
    """Several curves against ``x`` (``series``: label -> values), optional labelled horizontal lines
    (``hlines``: label -> y, dashed grey); ``colors``: label -> colour (default: the colour cycle)."""
    fig = None
    if ax is None:
        fig, ax = plt.subplots(figsize=(5.2, 3.4))
    for label, values in series.items():
        ax.plot(x, values, label=label, marker=marker, color=(colors or {}).get(label))
    if logx:
        ax.set_xscale("symlog", linthresh=0.1)
    for label, y in (hlines or {}).items():
        ax.axhline(y, color="gray", ls="--", lw=1)
        if label:
            ax.annotate(label, (ax.get_xlim()[1], y), ha="right", va="bottom", fontsize="small", color="gray")
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    if ylim:
        ax.set_ylim(*ylim)
    if title:
        ax.set_title(title)
    ax.legend()
    if fig is not None:
        fig.tight_layout()
    return ax.figure


def plot_sweep(values: Sequence[float], results: dict[str, Sequence[float]], xlabel: str, ylabel: str = "",
               hline: float | None = None, logx: bool = False):
    """Final values of a sweep (``results``: label -> one value per swept setting); ``hline``: chance."""
    return plot_curves(values, results, xlabel, ylabel, hlines=None if hline is None else {"": hline}, marker="o", logx=logx)


# --------------------------------------------------------------------------- training logs


def read_log(log: str | Path | pd.DataFrame) -> pd.DataFrame:
    """Lightning's ``metrics.csv`` (a path, a run directory, or an already read frame).

    A run directory may hold several ``logs/version_k`` folders (one per start of a resumed run):
    they are joined in order, and where a resumed run repeats a step, its later rows win.
    """
    if isinstance(log, pd.DataFrame):
        return log
    path = Path(log)
    if path.is_file():
        return pd.read_csv(path)
    files = sorted(path.glob("logs/version_*/metrics.csv"), key=lambda p: int(p.parent.name.split("_")[1]))
    if not files:
        raise FileNotFoundError(f"no logs/version_*/metrics.csv under {path}")
    frames = [pd.read_csv(f).assign(_version=i) for i, f in enumerate(files)]
    df = pd.concat(frames, ignore_index=True)
    last = df.groupby("step")["_version"].transform("max")  # rows of a step from its latest start
    return df[df["_version"] == last].drop(columns="_version").reset_index(drop=True)


def step_frame(log) -> pd.DataFrame:
    """One row per training step with the ``train/*_step`` columns, renamed without prefix/suffix."""
    df = read_log(log)
    cols = [c for c in df.columns if c.startswith("train/") and c.endswith("_step")]
    steps = df.dropna(subset=cols[:1])[["step", *cols]] if cols else df.iloc[0:0]
    return steps.rename(columns={c: c[len("train/") : -len("_step")] for c in cols}).reset_index(drop=True)


def epoch_frame(log) -> pd.DataFrame:
    """One row per epoch with the validation metrics (``val/`` prefix removed)."""
    df = read_log(log)
    cols = [c for c in df.columns if c.startswith("val/")]
    if not cols:
        return pd.DataFrame()
    ep = df.dropna(subset=cols[:1])[["epoch", *cols]].groupby("epoch").last().reset_index()
    return ep.rename(columns={c: c[len("val/") :] for c in cols})


LOSS_COMPONENTS = ["total", "loss_scl", "loss_cl", "loss_doa", "loss_ts", "loss_mod"]


def plot_loss_components(log, components=LOSS_COMPONENTS, smooth: int = 5):
    """Every loss component against the training step (thin: raw; thick: rolling mean)."""
    steps = step_frame(log)
    present = [c for c in components if c in steps]
    cols = (len(present) + 1) // 2
    fig, axes = plt.subplots(2, cols, figsize=(3.2 * cols, 5.2), squeeze=False)
    for ax, name in zip(axes.flat, present):
        ax.plot(steps["step"], steps[name], lw=0.6, alpha=0.5, color="C0")
        ax.plot(steps["step"], steps[name].rolling(smooth, min_periods=1).mean(), lw=1.6, color="C0")
        ax.set_title(name)
        ax.set_xlabel("step")
    for ax in list(axes.flat)[len(present) :]:
        ax.axis("off")
    fig.tight_layout()
    return fig


def plot_epoch_metrics(log, keys: dict[str, str], ylabel: str = "", hline: float | None = None, ylim=None,
                       colors: dict[str, tuple] | None = None):
    """Validation metrics (``keys``: column -> label) against the epoch; ``hline``: chance (dashed)."""
    ep = epoch_frame(log)
    series = {label: ep[col] for col, label in keys.items() if col in ep}
    fig = plot_curves(ep["epoch"] if len(ep) else [], series, "epoch", ylabel,
                      hlines=None if hline is None else {"": hline}, ylim=ylim, marker="o", colors=colors)
    fig.axes[0].xaxis.set_major_locator(MaxNLocator(integer=True))
    return fig


def plot_ablation(table: pd.DataFrame, metrics: list[str], order: list[str] | None = None):
    """Bars of the mean over seeds and dots for each seed, one panel per metric, one bar per config."""
    order = order or list(dict.fromkeys(table["config"]))
    order = [c for c in order if c in set(table["config"])]
    present = [m for m in metrics if m in table]
    fig, axes = plt.subplots(1, len(present), figsize=(2.6 * len(present), 3.4), squeeze=False, sharey=True)
    for ax, metric in zip(axes[0], present):
        for i, config in enumerate(order):
            values = table.loc[table["config"] == config, metric].dropna()
            if values.empty:
                continue
            ax.bar(i, values.mean(), color=f"C{i}", alpha=0.7)
            ax.plot([i] * len(values), values, "k.", ms=4)
        ax.set_xticks(range(len(order)), order, rotation=60, ha="right", fontsize="small")
        ax.set_title(metric, fontsize="small")
        ax.set_ylim(0, 1.02)
        ax.grid(axis="x", visible=False)
    fig.tight_layout()
    return fig


# --------------------------------------------------------------------------- scenes

FOA_NAMES = ("W", "Y", "Z", "X")


def frame_energy(logmel):
    """Linear power of each frame of a W log-mel ``(1, T, M)`` (dB), ``(T,)``, normalised to peak 1."""
    power = (10 ** (logmel[0].double() / 10)).mean(-1)
    return (power / power.max()).float()


def frame_azimuth(logmeliv):
    """Azimuth (degrees, 0 front, +90 left) of the intensity vector of every frame of one clip's
    logmelIV ``(7, T, M)``: :func:`sclap_nb.features.iv_direction` applied to each frame on its own, ``(T,)``."""
    frames = logmeliv.permute(1, 0, 2)[:, :, None, :]  # (T, 7, 1, M): one "clip" per frame
    return iv_direction(frames)[:, 0]


def _role_title(ax, title: str) -> None:
    """A panel title, in the role's colour when it names a role."""
    ax.set_title(title, color=ROLE_PALETTE.get(title, "black"))


def plot_triplet_waves(waves, sample_rate: int, titles: Sequence[str]):
    """The four FOA channels (rows) of each clip (columns) of a group ``(n, 4, S)``."""
    n_clips = waves.shape[0]
    t = np.arange(waves.shape[-1]) / sample_rate
    fig, axes = plt.subplots(4, n_clips, figsize=(3.6 * n_clips, 5.6), sharex=True, sharey=True, squeeze=False)
    for j in range(n_clips):
        for c in range(4):
            ax = axes[c, j]
            ax.plot(t, waves[j, c].numpy(), lw=0.4, color=f"C{c}")
            ax.set_ylabel(f"{FOA_NAMES[c]} (amplitude)" if j == 0 else "")
        _role_title(axes[0, j], titles[j])
        axes[-1, j].set_xlabel("time (s)")
    fig.tight_layout()
    return fig


def plot_triplet_logmel(logmels, hop_seconds: float, titles: Sequence[str]):
    """Log-mel of W (dB) of each clip of a group ``(n, 1, T, M)``, one colour scale."""
    n_clips, _, n_frames, n_mels = logmels.shape
    fig, axes = plt.subplots(1, n_clips, figsize=(3.6 * n_clips, 2.8), sharey=True, squeeze=False)
    vmin, vmax = float(logmels.min()), float(logmels.max())
    for j, ax in enumerate(axes[0]):
        im = ax.imshow(
            logmels[j, 0].T.numpy(), origin="lower", aspect="auto", cmap="magma", vmin=vmin, vmax=vmax,
            extent=(0, n_frames * hop_seconds, 0, n_mels),
        )
        _role_title(ax, titles[j])
        ax.set_xlabel("time (s)")
        ax.grid(False)
    axes[0, 0].set_ylabel("mel band")
    fig.colorbar(im, ax=axes[0].tolist(), label="dB", shrink=0.9)
    return fig


def plot_triplet_directions(
    azimuths, energies, hop_seconds: float, events: Sequence[Sequence[tuple]], titles: Sequence[str], floor: float = 0.01,
):
    """Per-frame intensity-vector azimuth (dots, opacity = frame energy; frames below ``floor`` of
    the peak energy hidden) of each clip, against the labels: each event's azimuth as a horizontal
    line over its span, in its class colour (:func:`class_palette`). ``events[j]`` lists
    ``(onset_s, duration_s, azimuth_deg, label)`` of clip j, ``label`` the sound class."""
    n_clips, n_frames = azimuths.shape
    t = np.arange(n_frames) * hop_seconds
    colors = class_palette([ev[3] for clip in events for ev in clip])
    fig, axes = plt.subplots(1, n_clips, figsize=(3.6 * n_clips, 3.0), sharey=True, squeeze=False)
    for j, ax in enumerate(axes[0]):
        e = energies[j].numpy()
        keep = e >= floor
        alpha = np.clip(0.15 + 0.85 * np.sqrt(e[keep]), 0, 1)
        ax.scatter(t[keep], azimuths[j].numpy()[keep], s=6, c="k", alpha=alpha, lw=0, label="intensity vector")
        for onset, duration, az, label in events[j]:
            ax.hlines(az, onset, onset + duration, color=colors[label], lw=3, label=f"{label} ({az:+.0f}°)")
        ax.set_ylim(-185, 185)
        ax.set_yticks([-180, -90, 0, 90, 180])
        _role_title(ax, titles[j])
        ax.set_xlabel("time (s)")
        ax.legend(fontsize="x-small", loc="lower right")
    axes[0, 0].set_ylabel("azimuth (deg, +90 = left)")
    fig.tight_layout()
    return fig


# --------------------------------------------------------------------------- losses and embeddings


def plot_paired_hist(panels: dict[str, dict[str, np.ndarray]], bins: int = 15, colors: dict[str, tuple] | None = None,
                     ylabel: str = "groups"):
    """One panel per entry of ``panels`` (x-axis label -> {label: values}), overlaid histograms with
    each group's mean dashed; ``colors``: label -> colour (default: the colour cycle)."""
    fig, axes = plt.subplots(1, len(panels), figsize=(4.4 * len(panels), 3.2), squeeze=False)
    for ax, (title, groups) in zip(axes[0], panels.items()):
        lo = min(float(np.min(v)) for v in groups.values())
        hi = max(float(np.max(v)) for v in groups.values())
        edges = np.linspace(lo, hi if hi > lo else lo + 1e-6, bins + 1)
        for k, (label, v) in enumerate(groups.items()):
            color = (colors or {}).get(label, f"C{k}")
            ax.hist(v, bins=edges, alpha=0.55, color=color, label=label)
            ax.axvline(float(np.mean(v)), color=color, ls="--", lw=1.2)
        ax.set_xlabel(title)
        ax.set_ylabel(ylabel)
        ax.legend()
    fig.tight_layout()
    return fig


def plot_mask(mask, labels: Sequence[str], title: str = ""):
    """A boolean ``(N, N)`` matrix (e.g. :func:`sclap_nb.losses.same_caption_mask`) with row/column
    labels, coloured by role where a label names one."""
    n = len(labels)
    fig, ax = plt.subplots(figsize=(0.35 * n + 2.2, 0.35 * n + 1.6))
    ax.imshow(mask.numpy().astype(float), cmap="Greys", vmin=0, vmax=1.4)
    ax.set_xticks(range(n), labels, rotation=90, fontsize="x-small")
    ax.set_yticks(range(n), labels, fontsize="x-small")
    for tick in (*ax.get_xticklabels(), *ax.get_yticklabels()):
        tick.set_color(ROLE_PALETTE.get(tick.get_text(), "black"))
    ax.grid(False)
    ax.set_title(title)
    fig.tight_layout()
    return fig


def plot_embedding_2d(ax, xy: np.ndarray, modality: np.ndarray, roles: Sequence[str] | None = None, title: str = ""):
    """2-D map of audio (``modality`` 0) and text (1) points on ``ax``: colour = modality
    (:data:`EMBEDDING_PALETTE`), marker = role (pos circle, neg_t square, neg_s triangle, neg_c diamond)."""
    markers = {"pos": "o", "neg_t": "s", "neg_s": "^", "neg_c": "D"}
    roles = list(roles) if roles is not None else ["pos"] * len(xy)
    for m, name in enumerate(("audio", "text")):
        for role, marker in markers.items():
            sel = (modality == m) & np.array([r == role for r in roles])
            if sel.any():
                ax.scatter(xy[sel, 0], xy[sel, 1], s=18, color=EMBEDDING_PALETTE[name], marker=marker, alpha=0.75, lw=0,
                           label=f"{name} {role}")
    ax.set_title(title)
    ax.set_xticks([])
    ax.set_yticks([])
    return ax


def mark_loss_schedule(ax, ramp_steps, sem_step: int, steps_per_epoch: int) -> None:
    """On a plot against the training step: dotted lines where w_ts grows (``ramp_steps``), a dashed one
    where w_sem switches on (``sem_step``), and an epoch axis on top."""
    for s in ramp_steps:
        ax.axvline(s, color="gray", ls=":", lw=1)
    ax.axvline(sem_step, color="black", ls="--", lw=1)
    top = ax.secondary_xaxis("top", functions=(lambda x: x / steps_per_epoch, lambda e: e * steps_per_epoch))
    top.xaxis.set_major_locator(MaxNLocator(integer=True))
    top.set_xlabel("epoch", fontsize="small")

"""Figures of the book: training curves from Lightning's CSV log, and small plotting helpers.

Every function takes data (or a path) and returns a matplotlib Figure; :func:`save` writes it
with a stable name, so the book can show it.
"""

from __future__ import annotations

from pathlib import Path

import matplotlib.pyplot as plt
from matplotlib.ticker import MaxNLocator
import pandas as pd

__all__ = ["read_log", "step_frame", "epoch_frame", "plot_loss_components", "plot_epoch_metrics", "plot_ablation", "save"]

LOSS_COMPONENTS = ["total", "loss_scl", "loss_cl", "loss_doa", "loss_ts", "loss_mod"]


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


def plot_loss_components(log, components=LOSS_COMPONENTS, smooth: int = 5):
    """Every loss component against the training step (thin: raw; thick: rolling mean)."""
    steps = step_frame(log)
    present = [c for c in components if c in steps]
    fig, axes = plt.subplots(2, (len(present) + 1) // 2, figsize=(3.2 * ((len(present) + 1) // 2), 5.2), squeeze=False)
    for ax, name in zip(axes.flat, present):
        ax.plot(steps["step"], steps[name], lw=0.6, alpha=0.5, color="C0")
        ax.plot(steps["step"], steps[name].rolling(smooth, min_periods=1).mean(), lw=1.6, color="C0")
        ax.set_title(name)
        ax.set_xlabel("step")
        ax.grid(alpha=0.3)
    for ax in list(axes.flat)[len(present) :]:
        ax.axis("off")
    fig.tight_layout()
    return fig


def plot_epoch_metrics(log, keys: dict[str, str], ylabel: str = "", hline: float | None = None, ylim=None):
    """Validation metrics (``keys``: column -> label) against the epoch."""
    ep = epoch_frame(log)
    fig, ax = plt.subplots(figsize=(5.2, 3.4))
    for col, label in keys.items():
        if col in ep:
            ax.plot(ep["epoch"], ep[col], marker="o", label=label)
    if hline is not None:
        ax.axhline(hline, color="gray", ls="--", lw=1)
    ax.set_xlabel("epoch")
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.set_ylabel(ylabel)
    if ylim:
        ax.set_ylim(*ylim)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    fig.tight_layout()
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
        ax.set_xticks(range(len(order)), order, rotation=60, ha="right", fontsize=8)
        ax.set_title(metric, fontsize=9)
        ax.set_ylim(0, 1.02)
        ax.grid(axis="y", alpha=0.3)
    fig.tight_layout()
    return fig


def save(fig, path: str | Path, dpi: int = 110) -> Path:
    """Save ``fig`` as PNG at ``path`` (parents created); return the path."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=dpi, bbox_inches="tight", metadata={"Software": None})
    return path

"""Reference scorers: what order and placement accuracy a scorer that knows only one thing reaches.

Each scorer needs no training and returns, for every scene of a corpus split, the ``(B, 4)`` scores
of its pos caption against its clips ``[pos, neg_t, neg_s, neg_c]`` (``sclap_nb.metrics.GROUP_ROLES``;
NaN for neg_c in a corpus built before it), so ``order_place_from_scores`` rates it as a model:

* ``direction_only``: hears where each half of a clip comes from, nothing of the sounds. The
  azimuth of each half is that of the energy-weighted mean intensity vector of its frames
  (``FOAFeatures`` logmelIV, ``iv_direction``); the caption states the directions of pos's events
  in time order (metadata ``azimuth_1``, ``azimuth_2``). Score = -(azimuth error of half 1 + of half 2).
* ``order_blind``: knows which sound is where (the clip's metadata), not when. Score = the number of
  the clip's pairs (class, sector) that are also the caption's.
* ``sound_order``: knows which sound comes first, nothing of directions. Score = the number of
  positions at which the clip's classes ``(class_1, class_2)`` equal the caption's.

Expected, from the scene layout: ``direction_only`` beats neg_t and neg_s, ties neg_c in effect
(order_acc ~ place_acc ~ 0.5); ``order_blind`` ties neg_t, beats neg_s and neg_c (order_acc ~ 0.5,
place_acc ~ 1); ``sound_order`` beats neg_t and neg_c, ties neg_s (order_acc ~ 1, place_acc ~ 0.5).

``python -m sclap_nb.reference ROOT [--split test]`` prints the table.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

import numpy as np
import torch

from .metrics import GROUP_ROLES, order_place_from_scores

__all__ = ["SCORERS", "direction_only", "order_blind", "sound_order", "reference_scores", "reference_metrics", "half_azimuths",
           "halves_swapped_residual_db"]

METRICS = ("order_acc", "place_acc", "vs_neg_t", "vs_neg_s", "vs_neg_c")


def _scenes(rows: list[dict]) -> list[dict[str, dict]]:
    """``read_metadata`` rows as one ``{role: row}`` per scene, in file order."""
    scenes: dict[int, dict[str, dict]] = {}
    for r in rows:
        scenes.setdefault(r["scene"], {})[r["role"]] = r
    return list(scenes.values())


def _rows(root, split: str) -> list[dict[str, dict]]:
    from .data import read_metadata

    return _scenes(read_metadata(root, split))


def _fill(scenes: list[dict[str, dict]], score) -> torch.Tensor:
    """``(B, 4)``: ``score(pos row, clip row)`` per scene and role, NaN where the scene lacks the role."""
    out = torch.full((len(scenes), len(GROUP_ROLES)), float("nan"), dtype=torch.float64)
    for b, sc in enumerate(scenes):
        for k, role in enumerate(GROUP_ROLES):
            if role in sc:
                out[b, k] = float(score(sc["pos"], sc[role]))
    return out


def _angle(a, b):
    """Circular distance of azimuths in degrees, in [0, 180]."""
    return np.abs((np.asarray(a) - np.asarray(b) + 180.0) % 360.0 - 180.0)


def halves_swapped_residual_db(root: str | os.PathLike, split: str = "train") -> np.ndarray:
    """Per scene: the energy of (neg_t - pos with its halves swapped) over the energy of pos, in dB.

    -inf when neg_t is exactly pos with its halves swapped (the "isolated" layout); any finite value
    is a difference between the two halves' making that a time-pooled model can read as order (in
    the default "spill" layout, the first event's reverberation running into the second half)."""
    from .data import load_clip, read_metadata

    clips: dict[int, dict[str, np.ndarray]] = {}
    for r in read_metadata(root, split):
        if r["role"] in ("pos", "neg_t"):
            clips.setdefault(r["scene"], {})[r["role"]] = load_clip(root, r).astype(np.float64)
    out = []
    for sc in clips.values():
        pos, neg_t = sc["pos"], sc["neg_t"]
        h = pos.shape[1] // 2
        swapped = np.concatenate([pos[:, h:], pos[:, :h]], axis=1)
        rel = ((neg_t - swapped) ** 2).sum() / (pos**2).sum()
        out.append(10 * np.log10(rel) if rel > 0 else -np.inf)
    return np.array(out)


@torch.no_grad()
def half_azimuths(root: str | os.PathLike, rows: list[dict], cfg=None, batch_size: int = 64) -> np.ndarray:
    """``(N, 2)`` azimuths (degrees) of the two halves of each row's clip: the mean intensity vector
    (logmelIV channels 4-6) of the half's frames, each frame weighted by the energy of W."""
    from .data import load_clip
    from .features import FeatureConfig, FOAFeatures, iv_direction

    cfg = cfg or FeatureConfig(sample_rate=rows[0]["sample_rate"] if rows else 16000)
    fe = FOAFeatures(cfg).eval()
    out = np.zeros((len(rows), 2))
    for at in range(0, len(rows), batch_size):
        part = rows[at : at + batch_size]
        wave = torch.from_numpy(np.stack([load_clip(root, r) for r in part]))
        _, liv = fe(wave)
        energy = (10.0 ** (liv[:, 0] / 10.0)).sum(-1)  # (n, T): power of W per frame
        t = torch.arange(liv.shape[2]) * cfg.hop_length / cfg.sample_rate  # frame centres, seconds
        half = wave.shape[-1] / cfg.sample_rate / 2
        for h, mask in enumerate((t < half, t >= half)):
            out[at : at + len(part), h] = iv_direction(liv, energy * mask.float()[None])[:, 0].numpy()
    return out


def direction_only(root: str | os.PathLike, split: str = "test", cfg=None) -> torch.Tensor:
    """``(B, 4)``: -(azimuth error of each half of the clip, from its intensity vectors, against the
    pos caption's direction of the event in that half), summed over the halves."""
    scenes = _rows(root, split)
    clips = [r for sc in scenes for r in sc.values()]
    az = dict(zip((r["id"] for r in clips), half_azimuths(root, clips, cfg)))
    return _fill(scenes, lambda p, r: -_angle(az[r["id"]], [p["azimuth_1"], p["azimuth_2"]]).sum())


def order_blind(root: str | os.PathLike, split: str = "test") -> torch.Tensor:
    """``(B, 4)``: the number of the clip's pairs (class, sector) that the pos caption also states."""
    from .data import sector_of

    def pairs(r: dict) -> set:
        return {(r[f"class_{e}"], sector_of(r[f"azimuth_{e}"])) for e in (1, 2)}

    return _fill(_rows(root, split), lambda p, r: len(pairs(p) & pairs(r)))


def sound_order(root: str | os.PathLike, split: str = "test") -> torch.Tensor:
    """``(B, 4)``: the number of positions in time at which the clip's class equals the pos caption's."""
    return _fill(_rows(root, split), lambda p, r: sum(p[f"class_{e}"] == r[f"class_{e}"] for e in (1, 2)))


SCORERS = {"direction_only": direction_only, "order_blind": order_blind, "sound_order": sound_order}


def reference_scores(root: str | os.PathLike, split: str = "test") -> dict[str, torch.Tensor]:
    """Every scorer's ``(B, 4)`` score matrix on ``split``."""
    return {name: fn(root, split) for name, fn in SCORERS.items()}


def reference_metrics(root: str | os.PathLike, split: str = "test") -> dict[str, float]:
    """``{"reference/<scorer>/<metric>": value}``: ``order_place_from_scores`` of each scorer."""
    return {
        f"reference/{name}/{k}": v
        for name, scores in reference_scores(root, split).items()
        for k, v in order_place_from_scores(scores).items()
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m sclap_nb.reference", description=__doc__.splitlines()[0])
    parser.add_argument("root", help="corpus directory")
    parser.add_argument("--split", default="test", choices=("train", "val", "test"))
    args = parser.parse_args(argv)
    from .data import CorpusError

    try:
        metrics = reference_metrics(Path(args.root), args.split)
    except (CorpusError, OSError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 1
    print(f"{'scorer':<16}" + "".join(f"{m:>11}" for m in METRICS))
    for name in SCORERS:
        cells = [metrics.get(f"reference/{name}/{m}") for m in METRICS]
        print(f"{name:<16}" + "".join(f"{'-':>11}" if v is None else f"{v:>11.3f}" for v in cells))
    return 0


if __name__ == "__main__":
    sys.exit(main())

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

**Timed corpora** (``sclap_nb.data.timed``: 2-3 events in slots shared by the scene's five clips, one
moving; the ``events`` column; a fifth clip neg_m, so the scores are ``(B, 5)`` over
``TIMED_GROUP_ROLES``). The same three scorers read every event, and a fourth joins them:

* ``direction_only``: the direction over time. Each slot's frames that no other slot covers (pos's
  timing, which every clip of the scene shares and no caption states, so it tells no clip from another)
  are cut into ``SEGMENTS`` parts; each part's energy-weighted mean intensity vector is compared with
  the pos caption's direction at the part's middle (a moving event's path, at constant angular speed).
  Score = -(sum of the errors). Passes neg_t, neg_s (other places in the slots) and neg_m (the path the
  other way round); ties neg_c in effect (the same places in the slots, other sounds): its own test is
  ``motion_acc``; ``order_acc`` and ``place_acc`` ~ 0.5.
* ``order_blind``: the pairs (class, place) of the clip that the caption also states, a place being a
  sector or, for a moving event, the two sectors its path joins *without* their order. Ties neg_t and
  neg_m, beats neg_s and neg_c: its own test is ``place_acc``; ``order_acc`` = ``motion_acc`` = 0.5.
* ``sound_order``: the slots whose class is the caption's. Ties neg_s and neg_m, beats neg_t and neg_c:
  its own test is ``order_acc``; ``place_acc`` = ``motion_acc`` = 0.5.
* ``motion_blind`` (timed corpora only): ``sound_order`` + the slots whose place (as ``order_blind``
  reads it: a path without its direction) is the caption's. Beats neg_t, neg_s and neg_c, ties neg_m:
  its own tests are ``order_acc`` and ``place_acc``; ``motion_acc`` = 0.5. What it shows: every fact
  of a timed scene but one, the direction of motion, passes every test but ``motion_acc``.

"= 0.5" holds exactly with ``ties="share"`` (a tie counts its expectation; ``order_place_from_scores``)
for the three scorers that read only metadata; ``direction_only`` reads the audio, so its ~0.5 are
coin flips of 1 / sqrt(4 B) spread (0.044 on 128 scenes). With ``ties="priority"`` (the default, the
rule of the models' metrics) every tie is a coin flip of its own.

``python -m sclap_nb.reference ROOT [--split test] [--ties share]`` prints the table.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

import numpy as np
import torch

from .data import CorpusError, load_clip, read_metadata
from .data.spatial import SourcePath, sector_of
from .features import FeatureConfig, FOAFeatures, iv_direction
from .metrics import GROUP_ROLES, TIMED_GROUP_ROLES, order_place_from_scores

__all__ = ["SCORERS", "MOTION_SCORERS", "OWN_TESTS", "direction_only", "order_blind", "sound_order", "motion_blind", "reference_scores",
           "reference_metrics", "half_azimuths", "halves_swapped_residual_db", "segment_azimuths"]

METRICS = ("order_acc", "place_acc", "motion_acc", "vs_neg_t", "vs_neg_s", "vs_neg_c", "vs_neg_m")
#: parts of a slot whose directions ``direction_only`` compares on a timed corpus
SEGMENTS = 4


def _scenes(rows: list[dict]) -> list[dict[str, dict]]:
    """``read_metadata`` rows as one ``{role: row}`` per scene, in file order."""
    scenes: dict[int, dict[str, dict]] = {}
    for r in rows:
        scenes.setdefault(r["scene"], {})[r["role"]] = r
    return list(scenes.values())


def _rows(root, split: str) -> list[dict[str, dict]]:
    return _scenes(read_metadata(root, split))


def _timed(scenes: list[dict[str, dict]]) -> bool:
    """Whether the scenes come from a timed corpus (rows with an ``events`` list)."""
    return bool(scenes) and "events" in scenes[0]["pos"]


def _fill(scenes: list[dict[str, dict]], score) -> torch.Tensor:
    """``(B, 4)``: ``score(pos row, clip row)`` per scene and role, NaN where the scene lacks the role;
    ``(B, 5)`` (``TIMED_GROUP_ROLES``) where a scene holds neg_m."""
    columns = TIMED_GROUP_ROLES if any("neg_m" in sc for sc in scenes) else GROUP_ROLES
    out = torch.full((len(scenes), len(columns)), float("nan"), dtype=torch.float64)
    for b, sc in enumerate(scenes):
        for k, role in enumerate(columns):
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
    cfg = cfg or FeatureConfig(sample_rate=rows[0]["sample_rate"] if rows else FeatureConfig.sample_rate)
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


def _exclusive_spans(events: list[dict]) -> list[tuple[float, float]]:
    """Per event of a timed clip (time order): the span (seconds) that no other event covers. Timed
    scenes overlap only neighbours, partly, so each keeps a part of its own."""
    out = []
    for k, e in enumerate(events):
        a, b = e["onset"], e["onset"] + e["duration"]
        if k > 0:
            a = max(a, events[k - 1]["onset"] + events[k - 1]["duration"])
        if k + 1 < len(events):
            b = min(b, events[k + 1]["onset"])
        out.append((a, b))
    return out


def _azimuth_at(event: dict, t: float) -> float:
    """Azimuth (degrees) of a timed event at time ``t`` (s): fixed, or along its path at constant speed."""
    u = float(np.clip((t - event["onset"]) / event["duration"], 0.0, 1.0))
    return float(SourcePath(event["azimuth"], event["azimuth_end"], event["elevation"], 1.0).azimuth_at(u))


@torch.no_grad()
def segment_azimuths(root: str | os.PathLike, rows: list[dict], spans: list[list[tuple[float, float]]], cfg=None,
                     batch_size: int = 32) -> list[np.ndarray]:  # fmt: skip
    """Per row, the ``(len(spans[i]),)`` azimuths (degrees) of its clip over each span (seconds): the mean
    intensity vector (logmelIV channels 4-6) of the frames whose centres lie in the span, each weighted
    by the energy of W (NaN for a span without a frame)."""
    cfg = cfg or FeatureConfig(sample_rate=rows[0]["sample_rate"] if rows else FeatureConfig.sample_rate)
    fe = FOAFeatures(cfg).eval()
    out = []
    for at in range(0, len(rows), batch_size):
        part = rows[at : at + batch_size]
        wave = torch.from_numpy(np.stack([load_clip(root, r) for r in part]))
        _, liv = fe(wave)
        energy = (10.0 ** (liv[:, 0].double() / 10.0)).sum(-1)  # (n, T): power of W per frame
        iv = liv[:, 4:7].double().sum(-1)  # (n, 3, T): intensity vector of each frame (x, y, z)
        t = torch.arange(liv.shape[2]) * cfg.hop_length / cfg.sample_rate  # frame centres, seconds
        for i, sp in enumerate(spans[at : at + len(part)]):
            lo, hi = torch.tensor(sp, dtype=torch.float64).reshape(-1, 2).T
            mask = (t[None] >= lo[:, None]) & (t[None] < hi[:, None])  # (S, T)
            v = (mask * energy[i]) @ iv[i].T  # (S, 3): as iv_direction with the frames of each span
            az = torch.rad2deg(torch.atan2(v[:, 1], v[:, 0])).numpy()
            out.append(np.where(mask.any(1).numpy(), az, np.nan))
    return out


def _timed_direction_only(root, scenes: list[dict[str, dict]], cfg=None) -> torch.Tensor:
    """``direction_only`` on a timed corpus (module docstring)."""
    parts, targets = {}, {}
    for sc in scenes:
        events = sc["pos"]["events"]
        cut, want = [], []
        for e, (a, b) in zip(events, _exclusive_spans(events)):
            edges = np.linspace(a, b, SEGMENTS + 1)
            cut += list(zip(edges[:-1], edges[1:]))
            want += [_azimuth_at(e, (lo + hi) / 2) for lo, hi in zip(edges[:-1], edges[1:])]
        for r in sc.values():
            parts[r["id"]] = cut
        targets[sc["pos"]["scene"]] = np.array(want)
    clips = [r for sc in scenes for r in sc.values()]
    az = dict(zip((r["id"] for r in clips), segment_azimuths(root, clips, [parts[r["id"]] for r in clips], cfg)))
    return _fill(scenes, lambda p, r: -np.nansum(_angle(az[r["id"]], targets[p["scene"]])))


def direction_only(root: str | os.PathLike, split: str = "test", cfg=None) -> torch.Tensor:
    """``(B, 4)``: -(azimuth error of each half of the clip, from its intensity vectors, against the
    pos caption's direction of the event in that half), summed over the halves. On a timed corpus
    ``(B, 5)``: the same over ``SEGMENTS`` parts of each event's own span (module docstring)."""
    scenes = _rows(root, split)
    if _timed(scenes):
        return _timed_direction_only(root, scenes, cfg)
    clips = [r for sc in scenes for r in sc.values()]
    az = dict(zip((r["id"] for r in clips), half_azimuths(root, clips, cfg)))
    return _fill(scenes, lambda p, r: -_angle(az[r["id"]], [p["azimuth_1"], p["azimuth_2"]]).sum())


def _place(event: dict):
    """Where a timed event is, blind to the direction of motion: its sector, or the sectors its path joins."""
    if event["moving"]:
        return ("path", frozenset((sector_of(event["azimuth"]), sector_of(event["azimuth_end"]))))
    return ("at", sector_of(event["azimuth"]))


def order_blind(root: str | os.PathLike, split: str = "test") -> torch.Tensor:
    """``(B, 4)``: the number of the clip's pairs (class, sector) that the pos caption also states.
    On a timed corpus ``(B, 5)``, with a moving event's place its path's two sectors, unordered."""
    scenes = _rows(root, split)
    if _timed(scenes):

        def pairs(r: dict) -> set:
            return {(e["class"], _place(e)) for e in r["events"]}
    else:

        def pairs(r: dict) -> set:
            return {(r[f"class_{e}"], sector_of(r[f"azimuth_{e}"])) for e in (1, 2)}

    return _fill(scenes, lambda p, r: len(pairs(p) & pairs(r)))


def sound_order(root: str | os.PathLike, split: str = "test") -> torch.Tensor:
    """``(B, 4)``: the number of positions in time at which the clip's class equals the pos caption's
    (on a timed corpus ``(B, 5)``, over all its events)."""
    scenes = _rows(root, split)
    if _timed(scenes):
        return _fill(scenes, lambda p, r: sum(a["class"] == b["class"] for a, b in zip(p["events"], r["events"])))
    return _fill(scenes, lambda p, r: sum(p[f"class_{e}"] == r[f"class_{e}"] for e in (1, 2)))


def motion_blind(root: str | os.PathLike, split: str = "test") -> torch.Tensor:
    """``(B, 5)`` on a timed corpus: per event in time order, 1 if its class is the pos caption's and 1 if
    its place is (a path without its direction, as ``order_blind`` reads it); every fact but which way
    the moving source goes. ``ValueError`` on a corpus without timed scenes."""
    scenes = _rows(root, split)
    if not _timed(scenes):
        raise ValueError(f"{root}: motion_blind needs a timed corpus (rows with an events column)")
    return _fill(scenes, lambda p, r: sum((a["class"] == b["class"]) + (_place(a) == _place(b)) for a, b in zip(p["events"], r["events"])))


SCORERS = {"direction_only": direction_only, "order_blind": order_blind, "sound_order": sound_order}
#: scorers of timed corpora only (their scenes hold neg_m)
MOTION_SCORERS = {"motion_blind": motion_blind}
#: on timed corpora, the tests each scorer is built to pass (the module docstring); on every other of
#: order_acc, place_acc and motion_acc it should sit near chance
OWN_TESTS = {"direction_only": ("motion_acc",), "order_blind": ("place_acc",), "sound_order": ("order_acc",),
             "motion_blind": ("order_acc", "place_acc")}  # fmt: skip


def reference_scores(root: str | os.PathLike, split: str = "test") -> dict[str, torch.Tensor]:
    """Every scorer's ``(B, 4)`` score matrix on ``split``; ``(B, 5)`` with ``MOTION_SCORERS`` too on a timed corpus."""
    scorers = dict(SCORERS)
    if _timed(_rows(root, split)):
        scorers.update(MOTION_SCORERS)
    return {name: fn(root, split) for name, fn in scorers.items()}


def reference_metrics(root: str | os.PathLike, split: str = "test", ties: str = "priority") -> dict[str, float]:
    """``{"reference/<scorer>/<metric>": value}``: ``order_place_from_scores`` of each scorer (``ties``: its tie rule)."""
    return {
        f"reference/{name}/{k}": v
        for name, scores in reference_scores(root, split).items()
        for k, v in order_place_from_scores(scores, ties=ties).items()
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m sclap_nb.reference", description=__doc__.splitlines()[0])
    parser.add_argument("root", help="corpus directory")
    parser.add_argument("--split", default="test", choices=("train", "val", "test"))
    parser.add_argument("--ties", default="priority", choices=("priority", "share"),
                        help="priority: a tie is a coin flip (the models' rule); share: a tie counts its expectation")
    args = parser.parse_args(argv)

    try:
        metrics = reference_metrics(Path(args.root), args.split, ties=args.ties)
    except (CorpusError, OSError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 1
    motion = any(k.endswith("/motion_acc") for k in metrics)
    shown = [m for m in METRICS if motion or m not in ("motion_acc", "vs_neg_m")]
    names = [n for n in (*SCORERS, *MOTION_SCORERS) if any(k.startswith(f"reference/{n}/") for k in metrics)]
    print(f"{'scorer':<16}" + "".join(f"{m:>11}" for m in shown))
    for name in names:
        cells = [metrics.get(f"reference/{name}/{m}") for m in shown]
        print(f"{name:<16}" + "".join(f"{'-':>11}" if v is None else f"{v:>11.3f}" for v in cells))
    return 0


if __name__ == "__main__":
    sys.exit(main())

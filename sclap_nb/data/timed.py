"""Timed scenes (``layout="timed"``): when each sound happens matters, and one of them moves.

In the "spill" and "isolated" layouts each of the two events fills one half of a 2 s clip, so a model
that pools over time can tell which sound came first from where it sits against the clip's edges. A
timed scene is built so that *when* matters:

* **Timing.** A clip of ``clip_seconds`` (the study uses 4 s; at least ``MIN_CLIP_S``) holds 2 or 3
  events (equally likely). Each lasts ``EVENT_SECONDS`` (0.3-2 s, uniform); each pair of neighbours
  overlaps with probability ``OVERLAP_PROB`` (the later one starting before the earlier one ends, by
  ``OVERLAP_SHARE`` of the shorter of the two, so each keeps a part of its own: no event holds another
  and no three overlap); the silence left (before, between and after the events) is at least
  ``MIN_SILENCE_SHARE`` of the clip, cut into random parts (uniform on the simplex), so it varies from
  scene to scene and often exceeds the ~0.4 s receptive field of the CNN branches. Event order = order
  of onsets. ``sample_timing`` draws it.
* **Slots.** The timing (onsets, durations) is the scene's: every clip of a scene has the same slots,
  and the clips differ only in what fills them (a sound, and a place: a fixed position or a path).
  A sound in a slot is a crop of that slot's duration from its rendering (``choose_crop``: it starts
  where the sound is and, where the rendering allows, ends where it is too; a sound of separate strokes
  may end in the pause after a stroke), one crop per sound and duration, so a sound fills a slot with
  the same samples in every clip that puts it there; each crop is loudness-normalised and faded in
  and out (20 ms, ``normalise_event``). Renderings whose sound is shorter than ``RENDER_SECONDS`` (a
  one-shot bird tweet) are looped over their active part (``loop_active``).
* **One moving source per scene.** Every timed scene has exactly one event on a path
  (``spatial.SourcePath``: 60-165 deg along the shorter arc between two sectors 2 or 3 sectors apart,
  either way round, fixed elevation within +-20 deg, fixed distance), so every scene has a motion
  negative and all scenes of a split hold the same five clips. The other events stand still at
  positions in sectors at least ``min_sector_gap`` apart (as in the other layouts). A path is always
  travelled over the whole slot it fills. Rendering: ``spatial.spatialise_moving`` (direct path per
  sample, early reflections crossfaded between RIRs along the path, the diffuse tail of its middle).
* **The five clips** (``TIMED_ROLES``). Slots ``i, j`` (the only two with 2 events, a random pair of
  the three otherwise) are exchanged; slot ``m`` holds the moving event in pos:

  ======  ====================================================  ===============================
  role    slot i / slot j hold                                  differs from pos in
  ======  ====================================================  ===============================
  pos     sound i at place i / sound j at place j               -
  neg_t   sound j at place j / sound i at place i               the order of the events (sounds
                                                                with their places: neg_t of the
                                                                other layouts)
  neg_s   sound i at place j / sound j at place i               the places (order of sounds kept)
  neg_c   sound j at place i / sound i at place j               the order of the sounds (places
                                                                in time order kept)
  neg_m   as pos; slot m's path travelled the other way round   the direction of motion
  ======  ====================================================  ===============================

  A negative's other slots are pos's, sample for sample.
* **Captions.** Event phrases in slot order: the event's caption and its direction phrase ("a bird
  tweets behind") or, for a moving event, its path ("a telephone rings, moving from the left to the
  front"); joined by "first ..., then ..." (three events: "..., and finally ..."), and by "..., and
  while it goes on, ..." where an event starts before the previous one ends (``timed_captions``). The
  plain caption is the same without directions and motion.
* **Metadata.** The usual columns hold the first two events (time order; a moving event's azimuth is
  that of the middle of its path, its DOA target); the column ``events`` holds every event as JSON
  (``class, source, onset, duration, azimuth, azimuth_end, elevation, moving``; a moving event's
  ``azimuth`` is where it starts, ``azimuth_end`` where it ends; a fixed one has both equal).
"""

from __future__ import annotations

import numpy as np

from .scenes import ALL_ROLES, Clip, Scene, allowed_gaps, mid_sentence
from .sources import Event, frame_rms, normalise_event
from .spatial import (
    Position,
    Room,
    SourcePath,
    anechoic_rir,
    direction_phrase,
    foa_rir,
    motion_phrase,
    sample_path,
    sample_position,
    spatialise,
    spatialise_moving,
)

__all__ = [
    "TIMED_ROLES", "MIN_CLIP_S", "EVENT_SECONDS", "RENDER_SECONDS", "Timing", "sample_timing", "loop_active", "choose_crop",
    "render_timed_pool", "role_slots", "timed_captions", "make_timed_scene",
]  # fmt: skip

#: the clips of a timed scene, in the order of its metadata rows and of a dataset group
TIMED_ROLES = ALL_ROLES
#: a timed clip is at least this long (three events of up to 2 s and a quarter of silence)
MIN_CLIP_S = 3.0
#: range of an event's duration, seconds
EVENT_SECONDS = (0.3, 2.0)
#: length of a rendering in the pool (the crops come from it)
RENDER_SECONDS = 2.5
#: chance that an event starts before its predecessor ends
OVERLAP_PROB = 0.3
#: an overlap as a share of the shorter of the two events
OVERLAP_SHARE = (0.2, 0.5)
#: silence (before, between and after the events) is at least this share of the clip
MIN_SILENCE_SHARE = 0.25
#: frames (s) and level range (dB below the loudest frame) of "where the sound is"
ACTIVE_FRAME_S = 0.01
ACTIVE_RANGE_DB = 30.0
#: fade (s) at the joins of a looped rendering
LOOP_FADE_S = 0.005


class Timing:
    """Onsets and durations (samples, in time order) of a scene's slots; ``overlaps[k]``: slot ``k + 1``
    starts before slot ``k`` ends."""

    def __init__(self, onsets: tuple[int, ...], durations: tuple[int, ...], overlaps: tuple[bool, ...]):
        self.onsets, self.durations, self.overlaps = tuple(onsets), tuple(durations), tuple(overlaps)

    def __len__(self) -> int:
        return len(self.onsets)

    def __repr__(self) -> str:
        return f"Timing(onsets={self.onsets}, durations={self.durations}, overlaps={self.overlaps})"


def sample_timing(rng: np.random.Generator, n_events: int, clip_seconds: float, sample_rate: int) -> Timing:
    """Slots of ``n_events`` events in a clip of ``clip_seconds`` (module docstring, *Timing*).

    Durations and overlaps are drawn again until the silence is at least ``MIN_SILENCE_SHARE`` of the
    clip (with 3 events of up to 2 s in 4 s this keeps about a third of the draws, so 3-event scenes
    have shorter events on average); the silence is then cut at uniform random points."""
    if clip_seconds < MIN_CLIP_S:
        raise ValueError(f"timed scenes need clips of at least {MIN_CLIP_S:g} s, got {clip_seconds:g} s")
    lo, hi = EVENT_SECONDS
    for _ in range(10000):
        d = rng.uniform(lo, hi, n_events)
        share = rng.uniform(*OVERLAP_SHARE, n_events - 1)
        ov = np.where(rng.random(n_events - 1) < OVERLAP_PROB, share * np.minimum(d[:-1], d[1:]), 0.0)
        free = clip_seconds - (d.sum() - ov.sum())
        if free >= MIN_SILENCE_SHARE * clip_seconds:
            break
    else:  # pragma: no cover - the acceptance rate is far above 1e-4
        raise RuntimeError("no timing found")
    parts = rng.dirichlet(np.ones(2 + int((ov == 0).sum()))) * free  # lead, the gaps between events, tail
    gaps = iter(parts[1:-1])
    onsets = [parts[0]]
    for k in range(1, n_events):
        onsets.append(onsets[-1] + d[k - 1] + (-ov[k - 1] if ov[k - 1] > 0 else next(gaps)))
    n = int(round(clip_seconds * sample_rate))
    on = [int(round(o * sample_rate)) for o in onsets]
    for k in range(1, n_events):  # rounding must not make neighbours that do not overlap touch by a sample
        if not ov[k - 1] > 0:
            on[k] = max(on[k], on[k - 1] + int(round(d[k - 1] * sample_rate)))
    du = [min(int(round(x * sample_rate)), n - o) for o, x in zip(on, d)]
    return Timing(tuple(on), tuple(du), tuple(bool(x > 0) for x in ov))


def _active(audio: np.ndarray, sample_rate: int) -> tuple[np.ndarray, int]:
    """Which ``ACTIVE_FRAME_S`` frames are within ``ACTIVE_RANGE_DB`` of the loudest, and the hop (samples)."""
    hop = max(1, int(round(ACTIVE_FRAME_S * sample_rate)))
    rms = frame_rms(audio, hop)
    return rms >= rms.max() * 10 ** (-ACTIVE_RANGE_DB / 20), hop


def loop_active(audio: np.ndarray, sample_rate: int, length: int) -> np.ndarray:
    """``length`` samples of ``audio`` from its first active frame on (``_active``); where the active
    part (first to last active frame) is shorter, it is repeated, each repeat faded in and out over
    ``LOOP_FADE_S`` so the joins do not click."""
    x = np.asarray(audio, dtype=np.float32)
    act, hop = _active(x, sample_rate)
    on = np.flatnonzero(act)
    a, b = int(on[0]) * hop, min(len(x), (int(on[-1]) + 1) * hop)
    if len(x) - a >= length and b - a >= length:
        return x[a : a + length].copy()
    span = x[a:b].copy()
    fade = min(int(LOOP_FADE_S * sample_rate), len(span) // 4)
    if fade:
        ramp = np.linspace(0.0, 1.0, fade, dtype=np.float32)
        span[:fade] *= ramp
        span[-fade:] *= ramp[::-1]
    return np.tile(span, length // len(span) + 1)[:length]


#: frames of the 20 ms fade of ``normalise_event``: a crop's sound is judged just inside its fades
_FADE_FRAMES = 2


def choose_crop(audio: np.ndarray, lengths, rng: np.random.Generator, sample_rate: int) -> int:
    """Start (samples, on the ``ACTIVE_FRAME_S`` grid) of the crops of ``lengths`` samples of ``audio``:
    drawn from the starts where the sound is (``_active``) in the first frame after the crop's fade-in
    and in the last frame before the fade-out of every crop, else from those where it is after the
    fade-in, else from all. (A sound of strokes with pauses between them may not allow both.)"""
    act, hop = _active(audio, sample_rate)
    longest = max(lengths)
    starts = np.arange(0, len(audio) - longest + 1, hop)
    if not len(starts):
        raise ValueError(f"a crop of {longest} samples does not fit in {len(audio)}")
    last = len(act) - 1
    ok_start = act[np.minimum(starts // hop + _FADE_FRAMES, last)]
    ok_all = ok_start.copy()
    for n in set(lengths):
        ok_all &= act[np.clip((starts + n) // hop - _FADE_FRAMES - 1, 0, last)]
    for ok in (ok_all, ok_start, np.ones_like(ok_start)):
        if ok.any():
            cand = starts[ok]
            return int(cand[int(rng.integers(len(cand)))])
    raise AssertionError("unreachable")


def render_timed_pool(source, per_class: int, rng: np.random.Generator, tag: str, classes=None) -> list[list[Event]]:
    """``per_class`` renderings of each class, ``RENDER_SECONDS`` long, looped over their active part
    where it is shorter (``loop_active``)."""
    classes = range(len(source)) if classes is None else classes
    sr = source.sample_rate
    n = int(round(RENDER_SECONDS * sr))
    pool = []
    for k in classes:
        row = []
        for j in range(per_class):
            ev = source.render(k, rng, RENDER_SECONDS, f"{tag}:{source.labels[k]}#{j}")
            row.append(Event(loop_active(ev.audio, sr, n), ev.label, ev.captions, ev.rendering_id))
        pool.append(row)
    return pool


def role_slots(n_events: int, pair: tuple[int, int], mover: int) -> dict[str, list[tuple[int, int, bool]]]:
    """Per role (``TIMED_ROLES``), per slot: (sound, place, path reversed), indices of pos's slots."""
    i, j = pair
    pos = [(k, k, False) for k in range(n_events)]
    out = {role: list(pos) for role in TIMED_ROLES}
    out["neg_t"][i], out["neg_t"][j] = (j, j, False), (i, i, False)
    out["neg_s"][i], out["neg_s"][j] = (i, j, False), (j, i, False)
    out["neg_c"][i], out["neg_c"][j] = (j, i, False), (i, j, False)
    out["neg_m"][mover] = (mover, mover, True)
    return out


def timed_captions(phrases: list[str], overlaps: tuple[bool, ...]) -> str:
    """Event phrases in time order joined: "first A, then B", "first A, then B, and finally C"; an event
    that starts before the previous one ends follows ", and while it goes on,"."""
    out = f"first {phrases[0]}"
    for k in range(1, len(phrases)):
        if overlaps[k - 1]:
            conn = ", and while it goes on,"
        elif k == len(phrases) - 1 and len(phrases) > 2:
            conn = ", and finally"
        else:
            conn = ", then"
        out += f"{conn} {phrases[k]}"
    return out


def make_timed_scene(
    index: int,
    pool: list[list[Event]],
    rng: np.random.Generator,
    room: Room | None,
    sample_rate: int,
    clip_seconds: float,
    min_sector_gap: int = 2,
    direction_words: str = "relative",
) -> Scene:
    """Draw a timed scene from ``rng`` (module docstring) and render its five clips (``TIMED_ROLES``)."""
    n = int(round(clip_seconds * sample_rate))
    n_ev = int(rng.choice((2, 3)))
    if len(pool) < n_ev:
        raise ValueError(f"a timed scene of {n_ev} events needs {n_ev} sound classes, the pool has {len(pool)}")
    timing = sample_timing(rng, n_ev, clip_seconds, sample_rate)
    kinds = [int(k) for k in rng.choice(len(pool), n_ev, replace=False)]
    events = [pool[k][int(rng.integers(len(pool[k])))] for k in kinds]
    caps = [mid_sentence(ev.captions[int(rng.integers(len(ev.captions)))]) for ev in events]
    mover = int(rng.integers(n_ev))
    pair = (0, 1) if n_ev == 2 else tuple(sorted(int(k) for k in rng.choice(n_ev, 2, replace=False)))
    # places: the mover's path, the others' positions (sectors >= min_sector_gap apart)
    places: list[Position | SourcePath | None] = [None] * n_ev
    first: Position | None = None
    for k in range(n_ev):
        if k == mover:
            continue
        if first is None:
            first = sample_position(rng, int(rng.integers(8)), room)
            places[k] = first
        else:
            sector = (first.sector + int(rng.choice(allowed_gaps(min_sector_gap)))) % 8
            places[k] = sample_position(rng, sector, room, away_from=first, min_sector_gap=min_sector_gap)
    start = int(rng.integers(8))
    end = (start + int(rng.choice((1, -1))) * int(rng.choice((2, 3)))) % 8
    places[mover] = sample_path(rng, start, end, room)
    slots = role_slots(n_ev, pair, mover)
    # one crop per sound and slot duration, the same in every clip that puts the sound in such a slot
    need = sorted({(s, timing.durations[k]) for layout in slots.values() for k, (s, _, _) in enumerate(layout)})
    crop_at = {(s, d): choose_crop(events[s].audio, [d], rng, sample_rate) for s, d in need}

    rirs: dict[Position, np.ndarray] = {}

    def rir(p: Position) -> np.ndarray:
        if p not in rirs:
            rirs[p] = anechoic_rir(p) if room is None else foa_rir(room, p, sample_rate)
        return rirs[p]

    rendered: dict[tuple, np.ndarray] = {}

    def render(s: int, k: int, place: int, rev: bool) -> np.ndarray:
        key = (s, timing.durations[k], place, rev)
        if key not in rendered:
            d = timing.durations[k]
            at = crop_at[s, d]
            try:
                crop = normalise_event(events[s].audio[at : at + d], sample_rate)
            except ValueError:
                raise ValueError(f"{events[s].rendering_id}: its {d / sample_rate:.2f} s crop at {at / sample_rate:.2f} s is silent") from None
            where = places[place]
            if isinstance(where, SourcePath):
                rendered[key] = spatialise_moving(crop, where.reversed() if rev else where, room, sample_rate, rir=rir)
            else:
                rendered[key] = spatialise(crop, rir(where))
        return rendered[key]

    def describe(s: int, place: int, rev: bool) -> tuple[str, dict]:
        where = places[place]
        if isinstance(where, SourcePath):
            path = where.reversed() if rev else where
            phrase = f"{caps[s]}, {motion_phrase(path.az_start, path.az_end, direction_words)}"
            info = {"azimuth": path.az_start, "azimuth_end": path.az_end, "elevation": path.elevation, "moving": True,
                    "doa_azimuth": float(path.azimuth_at(0.5))}  # fmt: skip
        else:
            phrase = f"{caps[s]} {direction_phrase(where.azimuth, direction_words)}"
            info = {"azimuth": where.azimuth, "azimuth_end": where.azimuth, "elevation": where.elevation, "moving": False,
                    "doa_azimuth": where.azimuth}  # fmt: skip
        return phrase, info

    scene = Scene(index, room.room_id if room else "anechoic", room.rt60 if room else 0.0)
    for role in TIMED_ROLES:
        audio = np.zeros((4, n), np.float32)
        phrases, infos = [], []
        for k, (s, place, rev) in enumerate(slots[role]):
            sig = render(s, k, place, rev)
            at = timing.onsets[k]
            m = min(sig.shape[1], n - at)
            audio[:, at : at + m] += sig[:, :m]
            phrase, info = describe(s, place, rev)
            phrases.append(phrase)
            infos.append({"class": events[s].label, "source": events[s].rendering_id, "onset": at / sample_rate,
                          "duration": timing.durations[k] / sample_rate, **info})  # fmt: skip
        two = infos[:2]
        scene.clips.append(
            Clip(
                role=role,
                audio=audio,
                caption=timed_captions(phrases, timing.overlaps),
                plain_caption=timed_captions([caps[s] for s, _, _ in slots[role]], timing.overlaps),
                classes=tuple(e["class"] for e in two),
                sources=tuple(e["source"] for e in two),
                azimuth=tuple(e["doa_azimuth"] for e in two),
                elevation=tuple(e["elevation"] for e in two),
                onset=tuple(e["onset"] for e in two),
                duration=tuple(e["duration"] for e in two),
                events=tuple({k: v for k, v in e.items() if k != "doa_azimuth"} for e in infos),
            )
        )
    peak = max(float(np.abs(c.audio).max()) for c in scene.clips)
    for c in scene.clips:
        c.audio *= 0.9 / max(peak, 1e-9)
    return scene

"""stClotho scenes: two events, two positions, four clips (pos, neg_t, neg_s, neg_c).

For a pair of events A, B (different sound classes) and positions p0, p2 (different azimuth
sectors, at least ``min_sector_gap`` sectors apart):

* ``pos``   = A@p0 then B@p2
* ``neg_t`` = B@p2 then A@p0   (same events and positions, order swapped)
* ``neg_s`` = A@p0's order with the positions swapped: A@p2 then B@p0
* ``neg_c`` = B@p0 then A@p2   (the directions in pos's order, the sounds swapped)

``pos``, ``neg_t`` and ``neg_s`` are the specification's triplet (``SPEC_ROLES``). Both of its
negatives reverse the order of the directions, so a scorer that hears only where each half
comes from separates them from ``pos``; ``neg_c`` keeps pos's directions in time order and
differs from it only in which sound comes first (and so where each sound is).

Each event lives in its own half of the clip: it starts ``5-15 %`` of a half after the half's
start (a jitter drawn per event and kept in all four clips) and lasts ``60-80 %`` of a half.
One gain per scene scales all four clips to a 0.9 peak, so the clips differ only by order
and position. The spatial caption joins the events' captions and direction phrases with one of
``CONNECTORS``, the second caption written as it reads mid-sentence (``scene_captions``).

Event layouts (``layout``):

* ``"spill"`` (the default corpus): each reverberant event runs on past its half, so the first
  event's reverberation tail reaches into the second half while the second event's tail is cut off
  at the end of the clip. The two halves are treated differently, and that difference tells which
  sound came first to a model that pools over time.
* ``"isolated"``: each reverberant event is confined to its own half and faded out (raised cosine,
  the last ``ISOLATION_FADE`` of the half) before the half ends, so both halves are made the same
  way and a clip is the concatenation of two self-contained halves: neg_t is pos with its halves
  swapped, sample for sample.
* ``"timed"``: 2 or 3 events at random onsets in a longer clip, one of them moving, with a fifth clip
  ``neg_m`` (the path travelled the other way round); built by ``timed.make_timed_scene``, not here.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import numpy as np

from ..config import DataConfig
from .sources import Event
from .spatial import Position, Room, anechoic_rir, direction_phrase, foa_rir, sample_position, spatialise

__all__ = [
    "ALL_ROLES", "CONNECTORS", "HALF_LAYOUTS", "LAYOUTS", "ROLES", "SPEC_ROLES", "Clip", "Scene", "allowed_gaps", "make_scene", "render_pool",
    "mid_sentence", "scene_captions",
]  # fmt: skip

#: joins the two spatial captions (each starts with its own punctuation); every one is followed by
#: a finite clause ("a dog barks"), so none ends in a preposition such as "followed by" or "before"
CONNECTORS = (
    ", then",
    ", and then",
    ", after which",
    ", and after that",
    ", and afterwards",
    ", and next",
    ", and later",
    ", and subsequently",
    ", then later",
)
#: the clips of a scene, in the order of its metadata rows and of a dataset group
ROLES = ("pos", "neg_t", "neg_s", "neg_c")
#: the specification's triplet (the training groups); corpora before format 2 hold only these
SPEC_ROLES = ("pos", "neg_t", "neg_s")
#: every role a corpus may hold, in group order: ``ROLES`` and the motion negative of timed scenes
ALL_ROLES = (*ROLES, "neg_m")
#: the layouts of two events in two halves (``make_scene``; see the module docstring)
HALF_LAYOUTS = ("spill", "isolated")
#: every scene layout a corpus can be built with
LAYOUTS = (*HALF_LAYOUTS, "timed")
#: share of a half over which an isolated event fades out before the half ends
ISOLATION_FADE = 0.05


@dataclass
class Clip:
    """One FOA clip of a scene and its labels (events in time order)."""

    role: str
    audio: np.ndarray | None  # (4, S) float32; None once encoded into ``wav``
    caption: str  # spatial caption
    plain_caption: str
    classes: tuple[str, str]
    sources: tuple[str, str]  # rendering ids
    azimuth: tuple[float, float]
    elevation: tuple[float, float]
    onset: tuple[float, float]  # seconds
    duration: tuple[float, float]  # seconds
    events: tuple[dict, ...] | None = None  # timed scenes: every event (``timed`` module docstring)
    wav: bytes | None = None  # the clip as its 16-bit WAV file, encoded where it was rendered (``corpus.encoded``)


@dataclass
class Scene:
    """The four clips of one pair of events; ``room`` is the room id ("anechoic" without a room)."""

    index: int
    room: str
    rt60: float
    clips: list[Clip] = field(default_factory=list)


def mid_sentence(caption: str) -> str:
    """``caption`` as it reads inside a sentence: its first letter lower-cased ("A dog barks" -> "a dog
    barks"), unless it starts with a word of two or more capital letters (an acronym or a name in
    capitals: "TV", "NASA's")."""
    word = re.match(r"[^\W\d_]*", caption).group(0)  # the letters the caption starts with
    if len(word) >= 2 and word.isupper():
        return caption
    return caption[:1].lower() + caption[1:]


def scene_captions(first: str, first_dir: str, connector: str, second: str, second_dir: str) -> tuple[str, str]:
    """The spatial and the plain caption of two events in time order (their captions, direction
    phrases and one of ``CONNECTORS``); the second caption goes mid-sentence (``mid_sentence``)."""
    second = mid_sentence(second)
    return f"{first} {first_dir}{connector} {second} {second_dir}", f"{first}, then {second}"


def allowed_gaps(min_sector_gap: int) -> list[int]:
    """Sector offsets (1-7) whose circular distance is at least ``min_sector_gap``."""
    if not 1 <= min_sector_gap <= 4:
        raise ValueError(f"min_sector_gap must be in 1..4, got {min_sector_gap}")
    return [g for g in range(1, 8) if min(g, 8 - g) >= min_sector_gap]


def render_pool(source, per_class: int, rng: np.random.Generator, half_s: float, tag: str, classes=None) -> list[list[Event]]:
    """``per_class`` renderings of each class (event length 60-80 % of ``half_s``)."""
    classes = range(len(source)) if classes is None else classes
    pool = []
    for k in classes:
        pool.append(
            [source.render(k, rng, float(rng.uniform(0.6, 0.8)) * half_s, f"{tag}:{source.labels[k]}#{j}") for j in range(per_class)]
        )
    return pool


def _place(parts: list[tuple[np.ndarray, int]], n: int) -> np.ndarray:
    out = np.zeros((4, n), np.float32)
    for sig, at in parts:
        m = min(sig.shape[1], n - at)
        out[:, at : at + m] += sig[:, :m]
    return out


def _confine(sig: np.ndarray, length: int, fade: int) -> np.ndarray:
    """``sig`` cut to ``length`` samples, its last ``fade`` samples under a raised-cosine fade-out."""
    out = np.zeros((sig.shape[0], length), np.float32)
    m = min(sig.shape[1], length)
    out[:, :m] = sig[:, :m]
    ramp = 0.5 * (1.0 + np.cos(np.linspace(0.0, np.pi, fade, dtype=np.float32)))
    out[:, length - fade :] *= ramp
    return out


def make_scene(
    index: int,
    pool: list[list[Event]],
    rng: np.random.Generator,
    room: Room | None,
    sample_rate: int,
    clip_seconds: float,
    min_sector_gap: int = 2,
    direction_words: str = "relative",
    layout: str = DataConfig.layout,
) -> Scene:
    """Draw a pair of events and two positions from ``rng`` and render the four clips (``ROLES``)."""
    if layout not in HALF_LAYOUTS:
        raise ValueError(f"make_scene builds the layouts {HALF_LAYOUTS}, got {layout!r} (timed scenes: timed.make_timed_scene)")
    n = int(round(clip_seconds * sample_rate))
    half = n // 2
    ka, kb = (int(k) for k in rng.choice(len(pool), 2, replace=False))
    ev_a = pool[ka][int(rng.integers(len(pool[ka])))]
    ev_b = pool[kb][int(rng.integers(len(pool[kb])))]
    s0 = int(rng.integers(8))
    s2 = (s0 + int(rng.choice(allowed_gaps(min_sector_gap)))) % 8
    p0: Position = sample_position(rng, s0, room)
    p2: Position = sample_position(rng, s2, room, away_from=p0, min_sector_gap=min_sector_gap)  # apart by construction
    jit = [int(rng.uniform(0.05, 0.15) * half) for _ in range(2)]  # offsets of A and B in their half
    cap_a = ev_a.captions[int(rng.integers(len(ev_a.captions)))]
    cap_b = ev_b.captions[int(rng.integers(len(ev_b.captions)))]
    conn = CONNECTORS[int(rng.integers(len(CONNECTORS)))]

    def rir(p: Position) -> np.ndarray:
        return anechoic_rir(p) if room is None else foa_rir(room, p, sample_rate)

    r0, r2 = rir(p0), rir(p2)
    sig = {
        ("A", 0): spatialise(ev_a.audio, r0),
        ("A", 2): spatialise(ev_a.audio, r2),
        ("B", 0): spatialise(ev_b.audio, r0),
        ("B", 2): spatialise(ev_b.audio, r2),
    }
    ev = {"A": ev_a, "B": ev_b}
    cap = {"A": cap_a, "B": cap_b}
    off = {"A": jit[0], "B": jit[1]}
    pos = {0: p0, 2: p2}
    layouts = {  # role -> [(event, position) in time order]
        "pos": [("A", 0), ("B", 2)],
        "neg_t": [("B", 2), ("A", 0)],
        "neg_s": [("A", 2), ("B", 0)],
        "neg_c": [("B", 0), ("A", 2)],
    }
    scene = Scene(index, room.room_id if room else "anechoic", room.rt60 if room else 0.0)
    for role in ROLES:
        (e1, q1), (e2, q2) = layouts[role]
        at1, at2 = off[e1], half + off[e2]
        s1, s2 = sig[(e1, q1)], sig[(e2, q2)]
        if layout == "isolated":  # each half ends where it began: in silence
            fade = max(1, int(ISOLATION_FADE * half))
            s1, s2 = _confine(s1, half - off[e1], fade), _confine(s2, n - half - off[e2], fade)
        audio = _place([(s1, at1), (s2, at2)], n)
        d1, d2 = (direction_phrase(pos[q].azimuth, direction_words) for q in (q1, q2))
        caption, plain = scene_captions(cap[e1], d1, conn, cap[e2], d2)
        scene.clips.append(
            Clip(
                role=role,
                audio=audio,
                caption=caption,
                plain_caption=plain,
                classes=(ev[e1].label, ev[e2].label),
                sources=(ev[e1].rendering_id, ev[e2].rendering_id),
                azimuth=(pos[q1].azimuth, pos[q2].azimuth),
                elevation=(pos[q1].elevation, pos[q2].elevation),
                onset=(at1 / sample_rate, at2 / sample_rate),
                duration=(len(ev[e1].audio) / sample_rate, len(ev[e2].audio) / sample_rate),
            )
        )
    peak = max(float(np.abs(c.audio).max()) for c in scene.clips)
    for c in scene.clips:
        c.audio *= 0.9 / max(peak, 1e-9)
    return scene

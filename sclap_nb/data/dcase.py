"""DCASE sound-event-localisation recordings (STARSS22 / STARSS23) as a corpus of two-event scenes.

The layout, from the STARSS23 README (https://zenodo.org/records/7880637; STARSS22:
https://zenodo.org/records/6600531) and DCASE2023 Task 3
(https://dcase.community/challenge2023/task-sound-event-localization-and-detection)::

    ROOT/foa_dev/{fold}/{name}.wav         4-channel first-order ambisonics, 24 kHz
    ROOT/metadata_dev/{fold}/{name}.csv    frame, class, source, azimuth, elevation[, distance]

The CSV has no header and one row per active event and frame: frames of 100 ms counted from 0
(frames with no event are left out), the class index (0-12, ``STARSS_CLASSES``), the source (actor)
index, azimuth and elevation in degrees (azimuth 0 = front, increasing counter-clockwise: +90 = left;
elevation + = up) and, in STARSS23, the distance in cm. The FOA channels are in ACN order, SN3D:
``(W, Y, Z, X)`` with gains ``(1, sin az cos el, sin el, cos az cos el)``: the order, normalisation and
angles this package writes and reads (``spatial``, ``features``), so the channels are copied as they are.

Scenes. A *segment* is half a clip (``clip_seconds / 2``) of a recording in which one annotated event
is active alone in every frame (one class, one source), whose direction stays in one azimuth sector
and within ``max_spread_deg`` in azimuth and in elevation; its direction is the mean over its frames.
Along each such stretch, segments are cut one after another (they never overlap). A scene pairs two
segments A (direction p0) and B (p2) of one recording, so of one room, of different classes and at
least ``min_sector_gap`` azimuth sectors apart, in the four roles of this package:

* ``pos``   = A@p0 then B@p2   (both as recorded)
* ``neg_t`` = B@p2 then A@p0   (both as recorded: exact)
* ``neg_s`` = A@p2 then B@p0   (both rotated)
* ``neg_c`` = B@p0 then A@p2   (both rotated)

neg_s and neg_c hold a sound where it was not recorded. Its FOA field is rotated about the vertical
axis by the difference of the two azimuths (``rotate_foa``: W and Z unchanged, X and Y rotated), which
is exact for first-order ambisonics: the whole recorded field turns, the room's reflections and the
background with it. Only the azimuth moves (a rotation about the vertical axis cannot change an
elevation), so a rotated segment keeps its own elevation, and its row stores the direction it ends at:
the other segment's azimuth, its own elevation.

Captions: a phrase of the segment's class (``CLASS_PHRASES``, drawn by seed), its direction phrase
(``spatial.direction_phrase``) and a connector, as ``scenes.scene_captions`` writes them for built
corpora. Splits: the recordings of a fold whose name holds ``test`` go to test, ``val`` to val, the
others to train; without a val fold, ``val_fraction`` of the training recordings (drawn by seed) go
to val. A recording lies in one split. The ``room`` column holds the recording's ``fold*_room*``
prefix; ``rt60`` is 0 (not known).

The helpers ``rotate_foa``, ``EventSegment``, ``four_clips`` and ``segment_scene`` make scenes of any
two FOA segments; ``spatial_clotho`` uses them too.
"""

from __future__ import annotations

import csv
import logging
import math
import os
import re
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np

from ..config import DataConfig, FeatureConfig, RuntimeConfig
from .corpus import FORMAT_VERSION, SPLITS, write_corpus
from .errors import CorpusError
from .scenes import CONNECTORS, ROLES, Clip, Scene, allowed_gaps, scene_captions
from .sources import read_span
from .spatial import direction_phrase, sector_of

__all__ = [
    "STARSS_CLASSES",
    "CLASS_PHRASES",
    "FRAME_S",
    "EventSegment",
    "Segment",
    "rotate_foa",
    "four_clips",
    "segment_scene",
    "read_labels",
    "find_segments",
    "import_dcase",
]

#: the 13 target classes of STARSS22 / STARSS23, by class index
STARSS_CLASSES = (
    "Female speech, woman speaking",
    "Male speech, man speaking",
    "Clapping",
    "Telephone",
    "Laughter",
    "Domestic sounds",
    "Walk, footsteps",
    "Door, open or close",
    "Music",
    "Musical instrument",
    "Water tap, faucet",
    "Bell",
    "Knock",
)
#: caption phrases of each class (each a clause that a direction phrase can follow)
CLASS_PHRASES: dict[str, tuple[str, ...]] = {
    "Female speech, woman speaking": ("a woman speaks", "a woman is talking", "a female voice speaks"),
    "Male speech, man speaking": ("a man speaks", "a man is talking", "a male voice speaks"),
    "Clapping": ("someone claps", "hands clap", "someone claps their hands"),
    "Telephone": ("a telephone rings", "a phone is ringing", "a phone rings"),
    "Laughter": ("someone laughs", "a person is laughing", "laughter rings out"),
    "Domestic sounds": ("a household appliance runs", "a domestic machine hums", "a home appliance is running"),
    "Walk, footsteps": ("someone walks", "footsteps sound", "a person is walking"),
    "Door, open or close": ("a door opens or closes", "a door is opened or shut", "a cupboard door moves"),
    "Music": ("music plays", "music is playing from a loudspeaker", "a song plays"),
    "Musical instrument": ("someone plays an instrument", "a musical instrument is played", "an instrument sounds"),
    "Water tap, faucet": ("water runs from a tap", "a faucet runs", "tap water is running"),
    "Bell": ("a bell rings", "a small bell chimes", "a bell is struck"),
    "Knock": ("someone knocks", "knocking sounds", "someone knocks on a surface"),
}
#: length of a label frame (s)
FRAME_S = 0.1


def _wrap(degrees: float) -> float:
    """An angle in degrees wrapped to (-180, 180]."""
    w = (float(degrees) + 180.0) % 360.0 - 180.0
    return 180.0 if w == -180.0 else w


def rotate_foa(audio: np.ndarray, degrees: float) -> np.ndarray:
    """The FOA field ``audio`` ``(4, S)`` (W, Y, Z, X) turned by ``degrees`` about the vertical axis,
    counter-clockwise: a source at azimuth ``a`` ends at ``a + degrees``, its elevation unchanged.
    W and Z stay as they are; ``(X, Y)`` rotate like the vector ``(x, y)``."""
    t = np.deg2rad(float(degrees))
    c, s = np.cos(t), np.sin(t)
    w, y, z, x = np.asarray(audio, dtype=np.float64)
    return np.stack([w, s * x + c * y, z, c * x - s * y]).astype(np.float32)


@dataclass(frozen=True)
class EventSegment:
    """One event's part of a clip: its FOA audio ``(4, S)``, its class, caption, source id and direction."""

    audio: np.ndarray
    label: str
    caption: str
    source: str
    azimuth: float
    elevation: float

    def moved(self, azimuth: float) -> EventSegment:
        """This segment rotated about the vertical axis to come from ``azimuth`` (elevation kept)."""
        delta = _wrap(azimuth - self.azimuth)
        return replace(self, audio=rotate_foa(self.audio, delta), azimuth=_wrap(self.azimuth + delta))


def four_clips(
    a: EventSegment,
    b: EventSegment,
    neg_t: tuple[EventSegment, EventSegment] | None = None,
    neg_s: tuple[EventSegment, EventSegment] | None = None,
) -> dict[str, tuple[EventSegment, EventSegment]]:
    """The two segments of each role (``ROLES``) for events ``a`` (at p0) and ``b`` (at p2), in time order.

    ``neg_t`` defaults to ``(b, a)``, ``neg_s`` to ``a`` and ``b`` rotated to each other's azimuth;
    ``neg_c`` is always ``b`` rotated to ``a``'s azimuth, then ``a`` rotated to ``b``'s.
    """
    return {
        "pos": (a, b),
        "neg_t": neg_t or (b, a),
        "neg_s": neg_s or (a.moved(b.azimuth), b.moved(a.azimuth)),
        "neg_c": (b.moved(a.azimuth), a.moved(b.azimuth)),
    }


def segment_scene(
    index: int,
    clips: dict[str, tuple[EventSegment, EventSegment]],
    connector: str,
    room: str,
    rt60: float,
    sample_rate: int,
    direction_words: str = "relative",
) -> Scene:
    """A ``Scene`` whose clip of each role is its two segments one after the other, captioned by
    ``scenes.scene_captions``; one gain scales all its clips to a 0.9 peak (as ``make_scene``)."""
    scene = Scene(index, room, rt60)
    for role in ROLES:
        if role not in clips:
            continue
        s1, s2 = clips[role]
        d1, d2 = (direction_phrase(s.azimuth, direction_words) for s in (s1, s2))
        caption, plain = scene_captions(s1.caption, d1, connector, s2.caption, d2)
        n1, n2 = s1.audio.shape[1], s2.audio.shape[1]
        scene.clips.append(
            Clip(
                role=role,
                audio=np.concatenate([s1.audio, s2.audio], axis=1).astype(np.float32),
                caption=caption,
                plain_caption=plain,
                classes=(s1.label, s2.label),
                sources=(s1.source, s2.source),
                azimuth=(s1.azimuth, s2.azimuth),
                elevation=(s1.elevation, s2.elevation),
                onset=(0.0, n1 / sample_rate),
                duration=(n1 / sample_rate, n2 / sample_rate),
            )
        )
    peak = max(float(np.abs(c.audio).max()) for c in scene.clips)
    for c in scene.clips:
        c.audio *= 0.9 / max(peak, 1e-9)
    return scene


@dataclass(frozen=True)
class Segment:
    """Half a clip of a recording in which one event is active alone (``find_segments``)."""

    recording: str  # file stem
    path: Path
    start_frame: int
    class_index: int
    source: int
    azimuth: float
    elevation: float


def read_labels(csv_path: str | os.PathLike) -> dict[int, list[tuple[int, int, float, float]]]:
    """``{frame: [(class, source, azimuth, elevation), ...]}`` of a DCASE metadata CSV (distance ignored).

    ``CorpusError`` naming the file and the row for a row that is not 5 or 6 numbers, a negative
    frame, a class outside ``STARSS_CLASSES`` or an angle out of range.
    """
    path = Path(csv_path)
    labels: dict[int, list[tuple[int, int, float, float]]] = {}
    try:
        with open(path, newline="", encoding="utf-8-sig") as f:
            rows = list(csv.reader(f, skipinitialspace=True))
    except (OSError, csv.Error, UnicodeDecodeError) as e:
        raise CorpusError(f"{path}: cannot read the labels: {e}") from e
    for i, row in enumerate(rows, start=1):
        if not row or all(not c.strip() for c in row):
            continue
        where = f"{path}, row {i}"
        if len(row) not in (5, 6):
            raise CorpusError(f"{where}: {len(row)} fields, expected frame, class, source, azimuth, elevation[, distance]")
        try:
            frame, cls, src = (int(float(c)) for c in row[:3])
            az, el = float(row[3]), float(row[4])
        except ValueError:
            raise CorpusError(f"{where}: not numbers: {row}") from None
        if frame < 0:
            raise CorpusError(f"{where}: negative frame {frame}")
        if not 0 <= cls < len(STARSS_CLASSES):
            raise CorpusError(f"{where}: class {cls} is not one of the {len(STARSS_CLASSES)} STARSS classes (0-{len(STARSS_CLASSES) - 1})")
        if not (-180.0 <= az <= 180.0 and -90.0 <= el <= 90.0):
            raise CorpusError(f"{where}: direction ({az}, {el}) out of range (azimuth -180..180, elevation -90..90)")
        labels.setdefault(frame, []).append((cls, src, az, el))
    return labels


def _circular_mean(degrees: np.ndarray) -> float:
    t = np.deg2rad(degrees)
    return float(np.rad2deg(np.arctan2(np.sin(t).mean(), np.cos(t).mean())))


def find_segments(
    labels: dict[int, list[tuple[int, int, float, float]]],
    n_frames: int,
    end_frame: int,
    recording: str,
    path: Path,
    max_spread_deg: float = 10.0,
) -> list[Segment]:
    """The segments of ``n_frames`` frames (before ``end_frame``) in which one event is active alone,
    in one azimuth sector, its azimuth and elevation each within ``max_spread_deg``; cut one after
    another along each stretch, so none overlap."""
    out, f = [], 0
    while f + n_frames <= end_frame:
        window = [labels.get(g, []) for g in range(f, f + n_frames)]
        if all(len(w) == 1 for w in window) and len({w[0][:2] for w in window}) == 1:
            az = np.array([w[0][2] for w in window])
            el = np.array([w[0][3] for w in window])
            mean_az = _circular_mean(az)
            offsets = (az - mean_az + 180.0) % 360.0 - 180.0
            one_sector = len({sector_of(a) for a in az} | {sector_of(mean_az)}) == 1
            if one_sector and np.ptp(offsets) <= max_spread_deg and np.ptp(el) <= max_spread_deg:
                cls, src = window[0][0][:2]
                out.append(Segment(recording, path, f, cls, src, _wrap(mean_az), float(el.mean())))
                f += n_frames
                continue
        f += 1
    return out


def _pairs(segments: list[Segment], rng: np.random.Generator, limit: int, min_sector_gap: int) -> list[tuple[Segment, Segment]]:
    """Up to ``limit`` pairs of unused segments of different classes, ``min_sector_gap`` sectors apart."""
    order = [int(i) for i in rng.permutation(len(segments))]
    used: set[int] = set()
    pairs = []
    for i in order:
        if len(pairs) >= limit:
            break
        if i in used:
            continue
        for j in order:
            if j == i or j in used:
                continue
            a, b = segments[i], segments[j]
            gap = (sector_of(a.azimuth) - sector_of(b.azimuth)) % 8
            if a.class_index != b.class_index and min(gap, 8 - gap) >= min_sector_gap:
                pairs.append((a, b))
                used |= {i, j}
                break
    return pairs


def _recordings(root: Path, seed: int, val_fraction: float) -> list[tuple[str, Path, Path]]:
    """``(split, wav, csv)`` of every recording of ``root/foa_dev``, sorted by fold and name."""
    audio_root, label_root = root / "foa_dev", root / "metadata_dev"
    if not audio_root.is_dir() or not label_root.is_dir():
        raise CorpusError(f"{root}: no foa_dev/ and metadata_dev/ folders (the DCASE / STARSS layout)")
    found = []
    for wav in sorted(audio_root.glob("*/*.wav")):
        fold = wav.parent.name
        labels = label_root / fold / f"{wav.stem}.csv"
        if not labels.is_file():
            raise CorpusError(f"{wav}: its labels {labels} are missing")
        split = "test" if "test" in fold.lower() else "val" if "val" in fold.lower() else "train"
        found.append([split, wav, labels])
    if not found:
        raise CorpusError(f"{audio_root}: no recordings (foa_dev/<fold>/<name>.wav)")
    train = [r for r in found if r[0] == "train"]
    if not any(r[0] == "val" for r in found) and val_fraction > 0 and len(train) >= 2:
        n_val = min(len(train) - 1, max(1, round(val_fraction * len(train))))
        for k in np.random.default_rng([int(seed), 21]).choice(len(train), n_val, replace=False):
            train[int(k)][0] = "val"
    return [tuple(r) for r in found]


def import_dcase(
    root: str | os.PathLike,
    out: str | os.PathLike,
    sample_rate: int = FeatureConfig.sample_rate,
    clip_seconds: float = DataConfig.clip_seconds,
    seed: int = RuntimeConfig.seed,
    scenes_per_recording: int = 8,
    val_fraction: float = 0.1,
    max_spread_deg: float = 10.0,
    min_sector_gap: int = 2,
    direction_words: str = "relative",
    progress: bool = True,
) -> Path:
    """Cut two-event scenes (module docstring) out of the DCASE recordings in ``root`` and write them as a
    corpus into the new directory ``out`` (atomically, as ``build_corpus``); return its path.

    At most ``scenes_per_recording`` scenes a recording; everything drawn is a function of ``seed``.
    ``CorpusError`` naming the file (and the row) for a bad recording or label file, or when no scene fits.
    """
    import soundfile as sf

    root, out = Path(root), Path(out)
    if out.exists():
        raise FileExistsError(f"{out}: already exists")
    if direction_words not in ("relative", "compass"):
        raise ValueError(f"direction_words must be 'relative' or 'compass', got {direction_words!r}")
    allowed_gaps(min_sector_gap)
    if not 0.0 <= val_fraction < 1.0:
        raise ValueError(f"val_fraction must be in [0, 1), got {val_fraction}")
    half = int(round(clip_seconds * sample_rate / 2))
    if half < 1 or scenes_per_recording < 1:
        raise ValueError(f"clip_seconds and scenes_per_recording must be positive, got {clip_seconds}, {scenes_per_recording}")
    n_frames = math.ceil(half / sample_rate / FRAME_S - 1e-9)
    plan: dict[str, list] = {s: [] for s in SPLITS}
    recordings = _recordings(root, seed, val_fraction)
    for r, (split, wav, labels_csv) in enumerate(recordings):
        try:
            info = sf.info(str(wav))
        except Exception as e:  # soundfile raises its own error types
            raise CorpusError(f"{wav}: cannot read: {e}") from e
        if info.channels != 4:
            raise CorpusError(f"{wav}: {info.channels} channel(s), FOA needs 4 (W, Y, Z, X)")
        end = int(info.frames / info.samplerate / FRAME_S + 1e-9)
        segments = find_segments(read_labels(labels_csv), n_frames, end, wav.stem, wav, max_spread_deg)
        rng = np.random.default_rng([int(seed), 22, r])
        for a, b in _pairs(segments, rng, scenes_per_recording, min_sector_gap):
            phrases = [CLASS_PHRASES[STARSS_CLASSES[s.class_index]] for s in (a, b)]
            captions = [p[int(rng.integers(len(p)))] for p in phrases]
            plan[split].append((a, b, *captions, CONNECTORS[int(rng.integers(len(CONNECTORS)))]))
    if not any(plan.values()):
        raise CorpusError(
            f"{root}: no scene fits: no two segments of {n_frames} frames with one event alone, of different classes "
            f"and {min_sector_gap} sectors apart, in any recording"
        )
    for split, items in plan.items():
        if not items:
            logging.getLogger(__name__).warning("%s: no scene for the %s split", root, split)

    def event(seg: Segment, caption: str) -> EventSegment:
        start = seg.start_frame * FRAME_S
        label = STARSS_CLASSES[seg.class_index]
        return EventSegment(
            read_span(seg.path, start, half, sample_rate), label, caption,
            f"{seg.recording}@{start:.1f}s/source{seg.source}", seg.azimuth, seg.elevation,
        )  # fmt: skip

    def scenes(split: str):
        for i, (a, b, cap_a, cap_b, conn) in enumerate(plan[split]):
            room = re.match(r"fold\d+_room\d+", a.recording)
            clips = four_clips(event(a, cap_a), event(b, cap_b))
            yield segment_scene(i, clips, conn, room.group(0) if room else a.recording, 0.0, sample_rate, direction_words)

    manifest = {
        "format_version": FORMAT_VERSION,
        "source": "dcase",
        "source_root": str(root),
        "seed": int(seed),
        "sample_rate": int(sample_rate),
        "clip_seconds": float(clip_seconds),
        "scenes_per_recording": int(scenes_per_recording),
        "val_fraction": float(val_fraction),
        "max_spread_deg": float(max_spread_deg),
        "min_sector_gap": int(min_sector_gap),
        "direction_words": direction_words,
        "recordings": {s: [str(w.relative_to(root)) for sp, w, _ in recordings if sp == s] for s in SPLITS},
    }
    total = sum(len(v) for v in plan.values())
    return write_corpus(out, {s: scenes(s) for s in SPLITS}, manifest, sample_rate, total=total, progress=progress)

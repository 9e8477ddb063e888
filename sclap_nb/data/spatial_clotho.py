"""T-SALM's spatial Clotho (sClotho, stClotho) converted into a corpus of this package.

The layout as T-SALM's public loader reads it (https://github.com/Cell778/T-SALM:
``src/utils/datasets.py`` finds the files, ``src/data/data.py`` parses their JSON)::

    ROOT/audio/{train,valid,test}/.../{name}.flac     FOA (W, Y, Z, X; ACN/SN3D), 24 kHz
    ROOT/metadata/{split}/.../{name}.json             one per clip, at the audio's relative path

* **stClotho** (two events a clip): triplets that share a number ``{id}``: ``temporal_{id}`` (pos: A then
  B), ``temporal_negative_{id}`` (B then A; T-SALM's scripts also write ``temporal_negative{id}``) and
  ``spatial_negative_{id}`` (A then B, each at another position). The negatives lie beside the
  positives or, as T-SALM keeps them, in the sibling directory ``{ROOT}_negative``
  (``stClotho_negative/{audio,metadata}/{split}/...``); a number without all three clips is skipped,
  as T-SALM's loader does. The JSON holds ``temporal_spatial_caption`` (5 captions) and
  ``audio_segments``, the events in time order (at least 2; the first two are used), each
  ``{"filename", "duration", "metadata": {"caption": [...], "azi", "ele", "direction", ...}}``. The
  events follow one another without overlap; the first ends after its ``duration`` (or its metadata's
  ``ori_audio_duration``), where T-SALM's loader splits the clip.
* **sClotho** (one event a clip): ``{name}_{k}`` is the Clotho file ``name`` rendered at position
  ``k``; the JSON holds ``caption`` (list), ``spatialized_caption``, ``azi``, ``ele``, ``direction``.

Angles may be numbers, numeric strings or one-element lists (or their string form). The azimuth is
taken in the convention of the FOA audio (0 = front, +90 = left: TAU's room impulse responses and this
package); T-SALM's ``direction`` words, which call azimuth 0 "south" and +90 "east", are not used.

Conversion. Clips of a corpus here are short and of one length, so each event is cropped to half of
``clip_seconds``, from where its sound is (``sources.active_crop`` on W, drawn by seed), and the same
stretch of an event is used in every clip of its scene:

* a stClotho triplet gives pos = A|B from ``temporal_{id}``, neg_t = B|A from
  ``temporal_negative_{id}``, neg_s from ``spatial_negative_{id}`` (T-SALM's: the same events at
  other positions, in pos's order). When the segments name their Clotho file (``ori_audiofile``, or
  ``filename`` less its ``_{k}``), the three clips must hold the same two files, or the triplet is
  refused;
* two sClotho files A, B (paired by seed within a split) make a scene as T-SALM makes stClotho:
  pos = A_0|B_2, neg_t = B_2|A_0, neg_s = A_2|B_0.

neg_c (B@p0 then A@p2) is not in T-SALM's data: it is made from pos's two segments, each rotated about
the vertical axis to the other's azimuth (``dcase.rotate_foa``: exact for FOA; each keeps its own
elevation, which its row stores), so a converted corpus holds all four roles (format 2). Each row
stores the directions of its own clip's JSON (rotated ones for neg_c).

Captions are rebuilt in this package's words: a paraphrase of each event's Clotho captions
(``caption``, drawn by seed among those that state no direction: ``sources.usable_captions``), its
direction phrase and a connector (``scenes.scene_captions``), so that the four clips of a scene are
described alike (neg_c has no T-SALM caption). T-SALM's ``temporal_spatial_caption`` and
``spatialized_caption`` are not copied. Splits ``train`` / ``valid`` / ``test`` become train / val /
test; audio is resampled to ``sample_rate``; ``room`` is ``tsalm`` and ``rt60`` 0 (not known).
"""

from __future__ import annotations

import ast
import json
import logging
import os
import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..config import DataConfig, FeatureConfig, RuntimeConfig
from .corpus import FORMAT_VERSION, SPLITS, write_corpus
from .dcase import EventSegment, four_clips, segment_scene
from .errors import CorpusError
from .scenes import CONNECTORS, Scene
from .sources import ACTIVE_FRAME_S, active_crop, frame_rms, read_span, usable_captions

__all__ = ["TSALM_SPLITS", "ClipEvent", "parse_angle", "read_clip_json", "find_triplets", "import_spatial_clotho"]

#: the split folders T-SALM writes, per split of this package
TSALM_SPLITS = {"train": ("train",), "val": ("valid", "val"), "test": ("test",)}
AUDIO_SUFFIXES = (".flac", ".wav")
_TRIPLET = (
    ("neg_t", re.compile(r"temporal_negative_?(\d+)")),
    ("neg_s", re.compile(r"spatial_negative_?(\d+)")),
    ("pos", re.compile(r"temporal_(\d+)")),
)
_RENDERING = re.compile(r"(.+)_(\d+)")

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ClipEvent:
    """One event of a clip: its captions, direction, where it lies in the file, its Clotho file if named."""

    captions: tuple[str, ...]
    azimuth: float
    elevation: float
    start_s: float
    end_s: float | None  # None: the end of the file
    identity: str | None


def parse_angle(value, where: str) -> float:
    """An angle in degrees from a number, a numeric string or a one-element list (or its string form)."""
    v = value
    if isinstance(v, str):
        try:
            v = ast.literal_eval(v.strip())
        except (ValueError, SyntaxError):
            raise CorpusError(f"{where}: angle {value!r} is not a number") from None
    if isinstance(v, (list, tuple)) and len(v) == 1:
        v = v[0]
        if isinstance(v, str):
            return parse_angle(v, where)
    if isinstance(v, bool) or not isinstance(v, (int, float)) or not np.isfinite(v):
        raise CorpusError(f"{where}: angle {value!r} is not a number")
    return float(v)


def _event(meta: dict, where: str, start_s: float, end_s: float | None, identity: str | None) -> ClipEvent:
    if not isinstance(meta, dict):
        raise CorpusError(f"{where}: not a JSON object")
    for key in ("caption", "azi", "ele"):
        if key not in meta:
            raise CorpusError(f"{where}: no {key!r}")
    caps = meta["caption"]
    caps = [caps] if isinstance(caps, str) else caps
    if not isinstance(caps, list) or not any(isinstance(c, str) and c.strip() for c in caps):
        raise CorpusError(f"{where}: 'caption' must be a non-empty list of captions")
    az = parse_angle(meta["azi"], f"{where}: azi")
    el = parse_angle(meta["ele"], f"{where}: ele")
    if not (-180.0 <= az <= 360.0 and -90.0 <= el <= 90.0):
        raise CorpusError(f"{where}: direction ({az}, {el}) out of range")
    az = (az + 180.0) % 360.0 - 180.0
    ident = meta.get("ori_audiofile") or identity
    return ClipEvent(tuple(str(c) for c in caps), az, el, start_s, end_s, str(ident) if ident else None)


def read_clip_json(path: str | os.PathLike) -> list[ClipEvent]:
    """The events of a T-SALM clip JSON in time order: the ``audio_segments`` of stClotho (2 or more),
    or the one event of sClotho. ``CorpusError`` naming the file and the field for what is missing."""
    path = Path(path)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as e:
        raise CorpusError(f"{path}: cannot read: {e}") from e
    if not isinstance(data, dict):
        raise CorpusError(f"{path}: not a JSON object")
    if "audio_segments" not in data:
        return [_event(data, str(path), 0.0, None, _RENDERING.sub(r"\1", path.stem))]
    segments = data["audio_segments"]
    if not isinstance(segments, list) or len(segments) < 2:
        raise CorpusError(f"{path}: audio_segments needs at least 2 events")
    events, start = [], 0.0
    for j, seg in enumerate(segments[:2]):
        where = f"{path}: audio_segments[{j}]"
        if not isinstance(seg, dict) or not isinstance(seg.get("metadata"), dict):
            raise CorpusError(f"{where}: no 'metadata' object")
        name = seg.get("filename")
        identity = _RENDERING.sub(r"\1", str(name)) if name else None
        try:
            dur = float(seg.get("duration") or seg["metadata"].get("ori_audio_duration") or 0.0)
        except (TypeError, ValueError):
            dur = 0.0
        if not dur > 0 and (j == 0 or len(segments) > 2):  # the last event may run to the end of the file
            raise CorpusError(
                f"{where}: no 'duration' (nor metadata.ori_audio_duration), so the events cannot be told apart; T-SALM's "
                "combine_clotho.py does not write it: add to each audio_segments entry \"duration\": the length in seconds "
                "of the file it names in \"filename\" (soundfile.info(path).duration), the stretch of the clip it fills"
            )
        end = start + dur if dur > 0 else None
        events.append(_event(seg["metadata"], f"{where}.metadata", start, end, identity))
        start = end if end is not None else start
    return events


def _metadata_path(audio: Path, base: Path) -> Path:
    """``base/metadata/...x.json`` for ``base/audio/...x.flac``."""
    return (base / "metadata" / audio.relative_to(base / "audio")).with_suffix(".json")


def _audio_files(base: Path, split: str) -> list[Path]:
    for name in TSALM_SPLITS[split]:
        d = base / "audio" / name
        if d.is_dir():
            return sorted(p for p in d.rglob("*") if p.suffix.lower() in AUDIO_SUFFIXES and p.is_file())
    return []


def _bases(root: Path) -> list[Path]:
    """``root`` and, if present, T-SALM's sibling directory of negatives ``{root}_negative``."""
    neg = root.parent / f"{root.name}_negative"
    return [root, neg] if neg.is_dir() else [root]


def find_triplets(root: str | os.PathLike, split: str) -> list[tuple[str, dict[str, tuple[Path, Path]]]]:
    """``[(id, {role: (audio, json)})]`` of the stClotho triplets of ``split`` (pos, neg_t, neg_s), by id."""
    root = Path(root)
    found: dict[str, dict[str, tuple[Path, Path]]] = {}
    for base in _bases(root):
        for audio in _audio_files(base, split):
            for role, pattern in _TRIPLET:
                m = pattern.fullmatch(audio.stem)
                if m:
                    have = found.setdefault(m.group(1), {})
                    if role in have:
                        raise CorpusError(f"{audio}: a second {role} clip of triplet {m.group(1)} (the first: {have[role][0]})")
                    have[role] = (audio, _metadata_path(audio, base))
                    break
    complete = [(k, v) for k, v in sorted(found.items()) if len(v) == 3]
    if len(complete) < len(found):
        log.warning("%s (%s): %d of %d triplet numbers lack a clip and are skipped", root, split, len(found) - len(complete), len(found))
    return complete


def _renderings(root: Path, split: str) -> dict[str, dict[int, tuple[Path, Path]]]:
    """sClotho clips of ``split`` by Clotho file and rendering index: ``{name: {k: (audio, json)}}``."""
    out: dict[str, dict[int, tuple[Path, Path]]] = {}
    for audio in _audio_files(root, split):
        m = _RENDERING.fullmatch(audio.stem)
        if m:
            out.setdefault(m.group(1), {})[int(m.group(2))] = (audio, _metadata_path(audio, root))
    return out


class _Cropper:
    """Cuts the events of clips to ``half`` samples at ``sample_rate``, the same stretch of an event in every clip."""

    def __init__(self, half: int, sample_rate: int, rng: np.random.Generator):
        self.half, self.sample_rate, self.rng = half, sample_rate, rng

    def _length(self, audio: Path, ev: ClipEvent, where: str) -> float:
        """How long ``ev`` lasts in ``audio`` (s); ``CorpusError`` if shorter than half a clip."""
        import soundfile as sf

        end = ev.end_s if ev.end_s is not None else sf.info(str(audio)).duration
        length = end - ev.start_s
        if length < self.half / self.sample_rate:
            raise CorpusError(f"{where}: the event is {length:.2f} s long, shorter than half a clip ({self.half / self.sample_rate:.2f} s)")
        return length

    def offset(self, audio: Path, ev: ClipEvent, where: str) -> float:
        """Where (s, from the event's start) the crop of ``ev`` in ``audio`` starts: where its sound is."""
        import soundfile as sf

        length = self._length(audio, ev, where)
        sr = sf.info(str(audio)).samplerate
        start = int(round(ev.start_s * sr))
        w, _ = sf.read(str(audio), start=start, stop=start + int(round(length * sr)), dtype="float32", always_2d=True)
        hop = max(1, int(round(ACTIVE_FRAME_S * sr)))
        return active_crop(frame_rms(w[:, 0], hop), hop / sr, length, self.half / self.sample_rate, self.rng, where)

    def cut(self, audio: Path, ev: ClipEvent, offset: float, label: str, caption: str, where: str) -> EventSegment:
        """The event's crop from ``offset`` (moved back if the event is shorter here) as an ``EventSegment``."""
        offset = min(offset, self._length(audio, ev, where) - self.half / self.sample_rate)
        wave = read_span(audio, ev.start_s + offset, self.half, self.sample_rate)
        if wave.shape[0] != 4:
            raise CorpusError(f"{audio}: {wave.shape[0]} channel(s), FOA needs 4 (W, Y, Z, X)")
        return EventSegment(wave, label, caption, f"{audio.name}@{ev.start_s + offset:.2f}s", ev.azimuth, ev.elevation)


def _same(a: str | None, b: str | None) -> bool:
    """Whether two events may be the same Clotho file (an unnamed one may be any)."""
    return a is None or b is None or a == b


def _names(events: list[ClipEvent]) -> tuple[str | None, str | None]:
    return events[0].identity, events[1].identity


def _triplet_scene(index: int, clip: dict[str, tuple[Path, Path]], cropper: _Cropper, rng, direction_words: str) -> Scene:
    """The scene of a stClotho triplet ``{role: (audio, json)}`` (module docstring)."""
    ev = {role: read_clip_json(js) for role, (_, js) in clip.items()}
    (pa, pj), (ta, tj), (sa, sj) = clip["pos"], clip["neg_t"], clip["neg_s"]
    a, b = ev["pos"][0], ev["pos"][1]
    if not (_same(a.identity, ev["neg_t"][1].identity) and _same(b.identity, ev["neg_t"][0].identity)):
        raise CorpusError(f"{tj}: holds {_names(ev['neg_t'])}, not the events of {pj} {_names(ev['pos'])} in swapped order")
    if not (_same(a.identity, ev["neg_s"][0].identity) and _same(b.identity, ev["neg_s"][1].identity)):
        raise CorpusError(f"{sj}: holds {_names(ev['neg_s'])}, not the events of {pj} {_names(ev['pos'])}")
    label = [e.identity or f"{pa.stem}/event{j + 1}" for j, e in enumerate((a, b))]
    caps = [usable_captions(e.captions, f"{pj}: event {j + 1}") for j, e in enumerate((a, b))]
    cap = [c[int(rng.integers(len(c)))] for c in caps]
    off = [cropper.offset(pa, e, f"{pj}: event {j + 1}") for j, e in enumerate((a, b))]
    seg_a = cropper.cut(pa, a, off[0], label[0], cap[0], f"{pj}: event 1")
    seg_b = cropper.cut(pa, b, off[1], label[1], cap[1], f"{pj}: event 2")
    neg_t = (
        cropper.cut(ta, ev["neg_t"][0], off[1], label[1], cap[1], f"{tj}: event 1"),
        cropper.cut(ta, ev["neg_t"][1], off[0], label[0], cap[0], f"{tj}: event 2"),
    )
    neg_s = (
        cropper.cut(sa, ev["neg_s"][0], off[0], label[0], cap[0], f"{sj}: event 1"),
        cropper.cut(sa, ev["neg_s"][1], off[1], label[1], cap[1], f"{sj}: event 2"),
    )
    conn = CONNECTORS[int(rng.integers(len(CONNECTORS)))]
    return segment_scene(index, four_clips(seg_a, seg_b, neg_t, neg_s), conn, "tsalm", 0.0, cropper.sample_rate, direction_words)


def _rendered_scene(index: int, a: dict[int, tuple[Path, Path]], b: dict[int, tuple[Path, Path]], cropper: _Cropper, rng,
                    direction_words: str) -> Scene:
    """The scene of two sClotho files ``{k: (audio, json)}`` of their renderings (module docstring)."""
    ev = {(x, k): read_clip_json(clip[k][1])[0] for x, clip in (("A", a), ("B", b)) for k in (0, 2)}
    files = {(x, k): clip[k] for x, clip in (("A", a), ("B", b)) for k in (0, 2)}
    label = {x: ev[(x, 0)].identity or files[(x, 0)][0].stem for x in "AB"}
    cap = {}
    for x in "AB":
        c = usable_captions(ev[(x, 0)].captions, str(files[(x, 0)][1]))
        cap[x] = c[int(rng.integers(len(c)))]
    off = {x: cropper.offset(files[(x, 0)][0], ev[(x, 0)], str(files[(x, 0)][0])) for x in "AB"}

    def seg(x: str, k: int) -> EventSegment:
        return cropper.cut(files[(x, k)][0], ev[(x, k)], off[x], label[x], cap[x], str(files[(x, k)][0]))

    conn = CONNECTORS[int(rng.integers(len(CONNECTORS)))]
    clips = four_clips(seg("A", 0), seg("B", 2), neg_s=(seg("A", 2), seg("B", 0)))
    return segment_scene(index, clips, conn, "tsalm", 0.0, cropper.sample_rate, direction_words)


def import_spatial_clotho(
    root: str | os.PathLike,
    out: str | os.PathLike,
    sample_rate: int = FeatureConfig.sample_rate,
    clip_seconds: float = DataConfig.clip_seconds,
    seed: int = RuntimeConfig.seed,
    direction_words: str = "relative",
    progress: bool = True,
) -> Path:
    """Convert T-SALM's stClotho triplets (or, in a split without them, sClotho clips) under ``root``
    (module docstring) into a corpus in the new directory ``out``, written atomically as
    ``build_corpus`` writes; return its path. Everything drawn is a function of ``seed``.
    ``CorpusError`` naming the file for a bad clip or JSON, or when no split holds a scene."""
    root, out = Path(root), Path(out)
    if out.exists():
        raise FileExistsError(f"{out}: already exists")
    if not (root / "audio").is_dir():
        raise CorpusError(f"{root}: no audio/ folder (T-SALM's layout: audio/{{train,valid,test}}/, metadata/...)")
    if direction_words not in ("relative", "compass"):
        raise ValueError(f"direction_words must be 'relative' or 'compass', got {direction_words!r}")
    half = int(round(clip_seconds * sample_rate / 2))
    if half < 1:
        raise ValueError(f"clip_seconds must be positive, got {clip_seconds}")
    plan: dict[str, list] = {}
    kinds: dict[str, str] = {}
    for code, split in enumerate(SPLITS):
        triplets = find_triplets(root, split)
        if triplets:
            plan[split], kinds[split] = [("triplet", clip) for _, clip in triplets], "stClotho"
            continue
        clips = {name: r for name, r in sorted(_renderings(root, split).items()) if 0 in r and 2 in r}
        names = list(clips)
        order = [names[int(i)] for i in np.random.default_rng([int(seed), 32, code]).permutation(len(names))]
        plan[split] = [("rendered", clips[order[i]], clips[order[i + 1]]) for i in range(0, len(order) - 1, 2)]
        kinds[split] = "sClotho" if plan[split] else "none"
    if not any(plan.values()):
        raise CorpusError(
            f"{root}: no scene: no stClotho triplets (temporal_/temporal_negative_/spatial_negative_) "
            "and no sClotho clips with renderings _0 and _2 in audio/{train,valid,test}"
        )

    def scenes(split: str):
        code = SPLITS.index(split)
        for i, item in enumerate(plan[split]):
            rng = np.random.default_rng([int(seed), 31, code, i])
            cropper = _Cropper(half, sample_rate, rng)
            if item[0] == "triplet":
                yield _triplet_scene(i, item[1], cropper, rng, direction_words)
            else:
                yield _rendered_scene(i, item[1], item[2], cropper, rng, direction_words)

    manifest = {
        "format_version": FORMAT_VERSION,
        "source": "spatial_clotho",
        "source_root": str(root),
        "source_kinds": kinds,
        "seed": int(seed),
        "sample_rate": int(sample_rate),
        "clip_seconds": float(clip_seconds),
        "direction_words": direction_words,
    }
    total = sum(len(v) for v in plan.values())
    return write_corpus(out, {s: scenes(s) for s in SPLITS}, manifest, sample_rate, total=total, progress=progress)

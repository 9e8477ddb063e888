"""The on-disk corpus: atomic writer, metadata reader and validation.

Layout of a corpus directory ``ROOT``::

    ROOT/corpus.json                              build parameters (seed, sizes, sample rate ...)
    ROOT/audio/{split}/temporal_{scene:06d}.wav           pos   = A@p0 then B@p2
    ROOT/audio/{split}/temporal_negative_{scene:06d}.wav  neg_t = B@p2 then A@p0
    ROOT/audio/{split}/spatial_negative_{scene:06d}.wav   neg_s = A@p2 then B@p0
    ROOT/audio/{split}/class_negative_{scene:06d}.wav     neg_c = B@p0 then A@p2
    ROOT/audio/{split}/motion_negative_{scene:06d}.wav    neg_m (timed layout only: the path the other way round)
    ROOT/metadata/{split}.csv                     one row per clip (``METADATA_COLUMNS``)

WAVs are 4-channel FOA (W, Y, Z, X; ACN/SN3D), 16-bit PCM. Rows are grouped by ``scene``
in the role order pos, neg_t, neg_s, neg_c; a row's ``file`` is relative and stays inside ``ROOT``.
Corpora of ``format_version`` 1 (``corpus.json``) have no neg_c clips; they still read. Corpora of the
timed layout (``timed`` module) have a fifth clip per scene, neg_m, and one more column, ``events``
(``TIMED_COLUMNS``: every event of the clip as JSON; the other columns hold its first two events).
``write_corpus`` (behind ``build_corpus`` and the importers ``dcase.import_dcase`` and
``spatial_clotho.import_spatial_clotho``) writes into a temporary directory ``.{name}.tmp-{pid}-{random}``
beside ``ROOT`` (its ``.owner`` file names the building process) and renames it at the end, so a
corpus is complete or absent; ``stale_builds`` finds the temporary directories of builds that died.
"""

from __future__ import annotations

import contextlib
import csv
import dataclasses
import errno
import inspect
import io
import itertools
import json
import logging
import math
import os
import re
import shutil
import socket
import tempfile
import time
from collections.abc import Iterable
from pathlib import Path

import numpy as np

from .errors import CorpusError
from ..config import DataConfig, FeatureConfig, RuntimeConfig
from .parallel import ordered_map
from .scenes import ALL_ROLES, LAYOUTS, ROLES, SPEC_ROLES, Scene, allowed_gaps, make_scene, render_pool
from .sources import SPLITS, SoundfontSource
from .spatial import sample_room
from .timed import MIN_CLIP_S, TIMED_ROLES, make_timed_scene, render_timed_pool

__all__ = [
    "SPLITS",
    "METADATA_COLUMNS",
    "TIMED_COLUMNS",
    "FILE_PREFIX",
    "build_corpus",
    "write_corpus",
    "wav_bytes",
    "ensure_corpus",
    "stale_builds",
    "read_metadata",
    "validate_corpus",
    "load_clip",
    "scene_roles",
]

FILE_PREFIX = {
    "pos": "temporal", "neg_t": "temporal_negative", "neg_s": "spatial_negative", "neg_c": "class_negative",
    "neg_m": "motion_negative",
}  # fmt: skip
N_EVENTS = 2
METADATA_COLUMNS = (
    "id", "scene", "split", "role", "file", "caption", "plain_caption",
    "class_1", "class_2", "source_1", "source_2",
    "azimuth_1", "elevation_1", "azimuth_2", "elevation_2",
    "onset_1", "onset_2", "duration_1", "duration_2",
    "room", "rt60", "sample_rate", "num_samples",
)  # fmt: skip
#: the columns a timed corpus adds: ``events``, a JSON list of every event of the clip in time order
TIMED_COLUMNS = ("events",)
EVENT_KEYS = ("class", "source", "onset", "duration", "azimuth", "azimuth_end", "elevation", "moving")
#: the sets of roles a scene may hold: the triplet (format 1), with neg_c (format 2), a timed scene's five
ROLE_SETS = (SPEC_ROLES, ROLES, TIMED_ROLES)
_FLOAT_COLUMNS = ("azimuth_1", "elevation_1", "azimuth_2", "elevation_2", "onset_1", "onset_2", "duration_1", "duration_2", "rt60")
_INT_COLUMNS = ("scene", "sample_rate", "num_samples")
_TEXT_COLUMNS = ("id", "role", "file", "caption", "plain_caption")
_SPLIT_CODE = {s: i for i, s in enumerate(SPLITS)}
FORMAT_VERSION = 2  # 1: scenes of 3 clips (pos, neg_t, neg_s); 2: with neg_c
OWNER_FILE = ".owner"
STALE_AFTER_S = 3600.0  # a temporary build without an owner file is stale after this long

log = logging.getLogger(__name__)


def _rng(seed: int, *stream: int) -> np.random.Generator:
    return np.random.default_rng([int(seed), *stream])


def build_corpus(
    out: str | os.PathLike,
    n_train: int,
    n_val: int,
    n_test: int,
    seed: int = RuntimeConfig.seed,
    sample_rate: int = FeatureConfig.sample_rate,
    clip_seconds: float = DataConfig.clip_seconds,
    anechoic: bool = DataConfig.anechoic,
    direction_words: str = "relative",
    min_sector_gap: int = 2,
    progress: bool = True,
    source=None,
    layout: str = DataConfig.layout,
) -> Path:
    """Build a corpus of ``n_*`` scenes (4 clips each, ``ROLES``; 5 in the timed layout) per split into ``out`` and return its path.

    ``source`` defaults to ``SoundfontSource(sample_rate)``; a source with a ``partition(sizes, seed)``
    method (``FolderSource``) says which of its classes each split draws from (its files are never
    shared between splits). Renderings are drawn per split (disjoint between splits);
    train and val share a pool of rooms, test has its own (held-out rooms). Everything is a
    function of ``seed``; ``layout`` is how the events share a clip (``scenes.LAYOUTS``; ``"timed"``:
    five clips a scene, ``timed.make_timed_scene``, clips of at least ``timed.MIN_CLIP_S``).
    Raises ``FileExistsError`` if ``out`` exists. First removes the temporary
    directories that dead builds of ``out`` left (``stale_builds``), and nothing else.
    """
    out = Path(out)
    if out.exists():
        raise FileExistsError(f"{out}: already exists (use ensure_corpus to reuse it)")
    sizes = {"train": int(n_train), "val": int(n_val), "test": int(n_test)}
    if any(v < 0 for v in sizes.values()) or sum(sizes.values()) == 0:
        raise ValueError(f"scene counts must be >= 0 and not all 0, got {sizes}")
    if direction_words not in ("relative", "compass"):
        raise ValueError(f"direction_words must be 'relative' or 'compass', got {direction_words!r}")
    allowed_gaps(min_sector_gap)  # raises on a bad gap before anything is written
    if layout not in LAYOUTS:
        raise ValueError(f"layout must be one of {LAYOUTS}, got {layout!r}")
    if layout == "timed" and clip_seconds < MIN_CLIP_S:
        raise ValueError(f"layout 'timed' needs clip_seconds >= {MIN_CLIP_S:g} (the study uses 4), got {clip_seconds:g}")
    source = source if source is not None else SoundfontSource(sample_rate)
    if getattr(source, "sample_rate", sample_rate) != sample_rate:
        raise ValueError(f"source sample rate {source.sample_rate} != corpus sample rate {sample_rate}")
    partition = getattr(source, "partition", None)
    classes = partition(sizes, seed) if partition else {s: list(range(len(source))) for s in SPLITS}
    half_s = clip_seconds / 2

    # rooms: train and val share one pool, test has its own
    rooms: dict[str, list] = {}
    if not anechoic:
        for name, n_sc, code in (("seen", sizes["train"] + sizes["val"], 0), ("test", sizes["test"], 1)):
            rr = _rng(seed, 1, code)
            rooms[name] = [sample_room(rr, f"{name}-{i:03d}") for i in range(max(1, math.ceil(n_sc / 8)))]

    def scenes(split: str):
        n = sizes[split]
        if not n:
            return
        code = _SPLIT_CODE[split]
        per_class = max(1, min(16, math.ceil(n / len(classes[split]))))
        if layout == "timed":
            pool = render_timed_pool(source, per_class, _rng(seed, 2, code), split, classes[split])
        else:
            pool = render_pool(source, per_class, _rng(seed, 2, code), half_s, split, classes[split])
        room_pool = None if anechoic else rooms["test" if split == "test" else "seen"]

        def one(i: int) -> Scene:  # a function of the index alone: scenes are rendered on every core (data.parallel)
            rng = _rng(seed, 3, code, i)
            room = None if room_pool is None else room_pool[int(rng.integers(len(room_pool)))]
            if layout == "timed":
                scene = make_timed_scene(i, pool, rng, room, sample_rate, clip_seconds, min_sector_gap, direction_words)
            else:
                scene = make_scene(i, pool, rng, room, sample_rate, clip_seconds, min_sector_gap, direction_words, layout)
            return encoded(scene, sample_rate)  # the WAV files are encoded by the worker, written by the parent

        yield from ordered_map(one, range(n))

    manifest = {
        "format_version": FORMAT_VERSION,
        **_build_params(n_train, n_val, n_test, seed, sample_rate, clip_seconds, anechoic, direction_words, min_sector_gap, source, layout),
        "rooms": {k: [r.__dict__ for r in v] for k, v in rooms.items()},
    }
    return write_corpus(out, {s: scenes(s) for s in SPLITS}, manifest, sample_rate, total=sum(sizes.values()), progress=progress)


def write_corpus(
    out: str | os.PathLike,
    scenes: dict[str, Iterable[Scene]],
    manifest: dict,
    sample_rate: int,
    total: int | None = None,
    progress: bool = True,
) -> Path:
    """Write ``scenes`` (per split, any iterable: a generator renders while the corpus is written)
    and ``manifest`` (``corpus.json``) into the new corpus directory ``out`` and return its path.

    Every split of ``SPLITS`` gets its ``audio/{split}`` folder and ``metadata/{split}.csv`` (a
    header only without scenes); a scene's clips are named by role and ``scene.index``. ``manifest``
    gets ``sizes`` (the scenes per split) unless it has them. Atomic: the corpus is written into a
    temporary directory beside ``out`` (its ``.owner`` file names this process) and renamed, so it
    is complete or absent; an error removes the temporary directory. Refuses (``FileExistsError``)
    an existing ``out``; first removes the temporary directories that dead builds of ``out`` left.
    """
    from tqdm.auto import tqdm

    out = Path(out)
    if out.exists():
        raise FileExistsError(f"{out}: already exists")
    out.parent.mkdir(parents=True, exist_ok=True)
    for old in stale_builds(out):
        log.warning("%s: removing the temporary directory of a build that died", old)
        shutil.rmtree(old, ignore_errors=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{out.name}.tmp-{os.getpid()}-", dir=out.parent))
    bar = tqdm(total=total, desc=f"building {out.name}", unit="scene", disable=not progress)
    try:
        owner = {"pid": os.getpid(), "hostname": socket.gethostname(), "started": time.time()}
        (tmp / OWNER_FILE).write_text(json.dumps(owner) + "\n")
        (tmp / "metadata").mkdir()
        counts = {}
        for split in SPLITS:
            (tmp / "audio" / split).mkdir(parents=True)
            rows = []
            counts[split] = 0
            for scene in scenes.get(split, ()):
                for clip in scene.clips:
                    rel = f"audio/{split}/{FILE_PREFIX[clip.role]}_{scene.index:06d}.wav"
                    (tmp / rel).write_bytes(clip.wav if clip.wav is not None else wav_bytes(clip.audio, sample_rate))
                    rows.append(_row(split, scene, clip, rel, sample_rate))
                counts[split] += 1
                bar.update(1)
            _write_csv(tmp / "metadata" / f"{split}.csv", rows)
        manifest = {"sizes": counts, **manifest}
        (tmp / "corpus.json").write_text(json.dumps(manifest, indent=1, sort_keys=True) + "\n")
        (tmp / OWNER_FILE).unlink()
        os.rename(tmp, out)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    finally:
        bar.close()
    return out


def wav_bytes(audio: np.ndarray, sample_rate: int) -> bytes:
    """``audio`` (channels, samples; floats in [-1, 1]) as a 16-bit PCM WAV file's bytes: the bytes that
    ``soundfile.write(path, audio.T, sample_rate, subtype="PCM_16")`` writes, without its ``fsync``
    (a corpus is written into a temporary directory and renamed whole, not file by file)."""
    import soundfile as sf

    buf = io.BytesIO()
    sf.write(buf, np.asarray(audio).T, sample_rate, subtype="PCM_16", format="WAV")
    return buf.getvalue()


def encoded(scene: Scene, sample_rate: int) -> Scene:
    """``scene`` with each clip's audio encoded into its WAV file's bytes (``Clip.wav``; ``audio`` then
    None): done by the worker that rendered the scene, it leaves the parent only the writing, and a
    quarter of the float32 audio to receive through the pipe."""
    clips = [dataclasses.replace(c, audio=None, wav=wav_bytes(c.audio, sample_rate)) if c.audio is not None else c
             for c in scene.clips]  # fmt: skip
    return dataclasses.replace(scene, clips=clips)


def _num_samples(clip) -> int:
    if clip.audio is not None:
        return int(clip.audio.shape[1])
    import soundfile as sf

    return int(sf.info(io.BytesIO(clip.wav)).frames)


def _build_params(n_train, n_val, n_test, seed, sample_rate, clip_seconds, anechoic, direction_words, min_sector_gap, source,
                  layout=DataConfig.layout) -> dict:
    """The build parameters as ``corpus.json`` records them (``source`` by its ``identity`` where it has one,
    e.g. a library's manifest hash, else by type name; None: the soundfont)."""
    return {
        "sizes": {"train": int(n_train), "val": int(n_val), "test": int(n_test)},
        "seed": int(seed),
        "sample_rate": int(sample_rate),
        "clip_seconds": float(clip_seconds),
        "anechoic": bool(anechoic),
        "direction_words": direction_words,
        "min_sector_gap": int(min_sector_gap),
        "source": getattr(source, "identity", type(source).__name__) if source is not None else SoundfontSource.__name__,
        "layout": layout,
    }


def _pid_alive(pid: int, since: float | None = None) -> bool:
    """Whether process ``pid`` runs on this host; a zombie, or a process started after ``since``
    (the pid was reused), does not count."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        pass  # alive, another user's
    try:  # Linux: state and start time, to see zombies and reused pids
        stat = Path(f"/proc/{pid}/stat").read_text()
        fields = stat[stat.rindex(")") + 2 :].split()
        if fields[0] == "Z":
            return False
        if since is not None:
            btime = next(int(line.split()[1]) for line in Path("/proc/stat").read_text().splitlines() if line.startswith("btime "))
            if btime + int(fields[19]) / os.sysconf("SC_CLK_TCK") > since + 5:
                return False
    except (OSError, ValueError, IndexError, StopIteration):
        pass
    return True


def _is_stale(tmp: Path) -> bool:
    try:
        owner = json.loads((tmp / OWNER_FILE).read_text())
        pid, host, started = int(owner["pid"]), str(owner["hostname"]), owner.get("started")
        if not 0 < pid < 2**31:
            raise ValueError(f"bad pid {pid}")
    except (OSError, ValueError, TypeError, KeyError):  # no (readable) owner file: judge by age
        try:
            return time.time() - tmp.stat().st_mtime > STALE_AFTER_S
        except OSError:
            return False
    if host != socket.gethostname():
        return False  # cannot tell whether a process on another host lives
    return not _pid_alive(pid, float(started) if isinstance(started, (int, float)) else None)


def stale_builds(out: str | os.PathLike) -> list[Path]:
    """Temporary directories that dead builds of corpus ``out`` left beside it, sorted.

    A directory ``.{name}.tmp-*`` is stale if its ``.owner`` names a process of this host that no
    longer runs, or if it has no owner file and is older than ``STALE_AFTER_S``. Others (live
    builds, builds on other hosts, other names) are never listed.
    """
    out = Path(out)
    pattern = re.compile(rf"\.{re.escape(out.name)}\.tmp-(?:\d+-)?[a-z0-9_]+")
    try:
        entries = list(os.scandir(out.parent))
    except OSError:
        return []
    found = []
    for e in entries:
        with contextlib.suppress(OSError):
            if pattern.fullmatch(e.name) and e.is_dir(follow_symlinks=False) and _is_stale(Path(e.path)):
                found.append(Path(e.path))
    return sorted(found)


def _fmt(x: float, digits: int) -> str:
    return f"{x:.{digits}f}"


def _row(split: str, scene, clip, rel: str, sample_rate: int) -> dict[str, str]:
    row = {
        "id": f"{split}_{scene.index:06d}_{clip.role}",
        "scene": str(scene.index),
        "split": split,
        "role": clip.role,
        "file": rel,
        "caption": clip.caption,
        "plain_caption": clip.plain_caption,
        "room": scene.room,
        "rt60": _fmt(scene.rt60, 3),
        "sample_rate": str(sample_rate),
        "num_samples": str(_num_samples(clip)),
    }
    for j in range(N_EVENTS):
        row[f"class_{j + 1}"] = clip.classes[j]
        row[f"source_{j + 1}"] = clip.sources[j]
        row[f"azimuth_{j + 1}"] = _fmt(clip.azimuth[j], 3)
        row[f"elevation_{j + 1}"] = _fmt(clip.elevation[j], 3)
        row[f"onset_{j + 1}"] = _fmt(clip.onset[j], 6)
        row[f"duration_{j + 1}"] = _fmt(clip.duration[j], 6)
    if getattr(clip, "events", None) is not None:
        row["events"] = json.dumps([_event_json(e) for e in clip.events], separators=(",", ":"))
    return row


def _event_json(e: dict) -> dict:
    """One event of the ``events`` column, its numbers rounded as the other columns round them."""
    digits = {"onset": 6, "duration": 6, "azimuth": 3, "azimuth_end": 3, "elevation": 3}
    return {k: (round(float(e[k]), digits[k]) if k in digits else e[k]) for k in EVENT_KEYS}


def _write_csv(path: Path, rows: list[dict[str, str]]) -> None:
    buf = io.StringIO()
    timed = any("events" in r for r in rows)
    writer = csv.DictWriter(buf, fieldnames=METADATA_COLUMNS + (TIMED_COLUMNS if timed else ()), lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    path.write_text(buf.getvalue(), encoding="utf-8")


def _clip_path(root: str | os.PathLike, file: str, where: str, base: Path | None = None) -> Path:
    """``root / file``; ``CorpusError`` if ``file`` is absolute, has a ``..`` part or resolves
    (symlinks included) outside ``root`` (``base``: ``root`` resolved, if known)."""
    rel = Path(file)
    if rel.is_absolute() or ".." in rel.parts:
        raise CorpusError(f"{where}: file {file!r} is outside the corpus (absolute or with '..'); it must be relative to {root}")
    path = Path(root) / rel
    base = base or Path(root).resolve()
    target = path.resolve()
    if not target.is_relative_to(base):
        raise CorpusError(f"{where}: file {file!r} resolves to {target}, outside the corpus {base}")
    return path


def read_metadata(root: str | os.PathLike, split: str) -> list[dict]:
    """Parse and check ``metadata/{split}.csv``; rows come back typed, grouped by scene in ``ALL_ROLES`` order.

    A scene holds one clip of each of ``ROLES``, of ``timed.TIMED_ROLES`` (a timed corpus) or, in
    corpora built before neg_c (format 1), of ``SPEC_ROLES`` (``ROLE_SETS``); every scene of a split
    holds the same roles (``scene_roles``). Where the file has the ``events`` column (timed corpora),
    each row's ``events`` is the parsed list of its events (dicts of ``EVENT_KEYS``); other rows have
    no ``events`` key.
    Raises ``CorpusError`` naming the file and the row for: missing file or column, bad number,
    empty caption, unknown role, duplicate id, a group that is not one of those sets of roles
    or differs from the split's first, an event that does not fit in the clip, an ``events`` cell
    that is not such a list or disagrees with the row's first two events, mixed sample rates, a
    ``file`` outside ``root``.
    """
    path = Path(root) / "metadata" / f"{split}.csv"
    if not path.is_file():
        raise CorpusError(f"{path}: metadata file not found")
    try:
        with open(path, newline="", encoding="utf-8") as f:
            reader = csv.DictReader(f)
            header = reader.fieldnames or []
            missing = [c for c in METADATA_COLUMNS if c not in header]
            if missing:
                raise CorpusError(f"{path}: missing column(s) {missing}")
            raw = list(reader)
    except (csv.Error, UnicodeDecodeError) as e:
        raise CorpusError(f"{path}: malformed CSV: {e}") from e
    rows, ids, groups = [], {}, {}
    base = Path(root).resolve()
    for i, r in enumerate(raw, start=1):
        where = f"{path}, row {i}"
        if None in r or any(v is None for v in r.values()):
            raise CorpusError(f"{where}: wrong number of fields")
        row: dict = dict(r)
        for c in _TEXT_COLUMNS:
            if not (r[c] or "").strip():
                raise CorpusError(f"{where}: empty {c}")
        for c in _INT_COLUMNS:
            try:
                row[c] = int(r[c])
            except ValueError:
                raise CorpusError(f"{where} (id {r['id']}): column {c}: bad integer {r[c]!r}") from None
        for c in _FLOAT_COLUMNS:
            try:
                row[c] = float(r[c])
            except ValueError:
                raise CorpusError(f"{where} (id {r['id']}): column {c}: bad number {r[c]!r}") from None
            if not math.isfinite(row[c]):
                raise CorpusError(f"{where} (id {r['id']}): column {c}: not finite ({r[c]!r})")
        _clip_path(root, row["file"], f"{where} (id {r['id']})", base)
        if row["role"] not in ALL_ROLES:
            raise CorpusError(f"{where} (id {r['id']}): role {row['role']!r} is not one of {ALL_ROLES}")
        if row["id"] in ids:
            raise CorpusError(f"{where}: duplicate id {row['id']!r} (first at row {ids[row['id']]})")
        ids[row["id"]] = i
        if row["sample_rate"] <= 0 or row["num_samples"] <= 0:
            raise CorpusError(f"{where} (id {r['id']}): sample_rate and num_samples must be positive")
        length = row["num_samples"] / row["sample_rate"]
        for j in range(1, N_EVENTS + 1):
            on, du = row[f"onset_{j}"], row[f"duration_{j}"]
            if on < 0 or du <= 0 or on + du > length + 1e-4:
                raise CorpusError(
                    f"{where} (id {r['id']}): event {j} (onset {on:.3f} s, duration {du:.3f} s) "
                    f"does not fit in the {length:.3f} s clip {row['file']}"
                )
        if "events" in header:
            row["events"] = _parse_events(r["events"], row, length, f"{where} (id {r['id']})")
        row["_row"] = i
        row["_csv"] = str(path)
        rows.append(row)
        groups.setdefault(row["scene"], []).append(row)
    rates = {r["sample_rate"] for r in rows}
    if len(rates) > 1:
        first = {sr: next(r["_row"] for r in rows if r["sample_rate"] == sr) for sr in sorted(rates)}
        raise CorpusError(f"{path}: mixed sample rates {first} (rate: first row)")
    ordered, first = [], None
    for scene, members in groups.items():
        roles = sorted(m["role"] for m in members)
        where = f"{path}, row {members[0]['_row']}: scene {scene} has clips {roles}"
        if roles not in [sorted(rs) for rs in ROLE_SETS]:
            raise CorpusError(
                f"{where}, a group needs exactly one of each of {list(ROLES)} (or of {list(TIMED_ROLES)} in a timed corpus, "
                f"or of {list(SPEC_ROLES)} in a corpus built before neg_c)"
            )
        if first is None:
            first = (roles, members[0]["_row"])
        elif roles != first[0]:
            raise CorpusError(f"{where}, the scene at row {first[1]} has {first[0]}: every scene of a split needs the same clips")
        ordered.extend(sorted(members, key=lambda m: ALL_ROLES.index(m["role"])))
    return ordered


def _parse_events(cell: str, row: dict, length: float, where: str) -> list[dict]:
    """The ``events`` cell of a row (``TIMED_COLUMNS``): a JSON list of 2 or more events, each with
    ``EVENT_KEYS``, finite numbers, inside the clip, in time order, the first two those of the row's
    ``*_1`` / ``*_2`` columns. ``CorpusError`` naming ``where`` otherwise."""
    try:
        events = json.loads(cell)
    except (TypeError, ValueError) as e:
        raise CorpusError(f"{where}: column events: not JSON ({e})") from None
    if not isinstance(events, list) or len(events) < N_EVENTS or not all(isinstance(e, dict) for e in events):
        raise CorpusError(f"{where}: column events: needs a list of at least {N_EVENTS} events (objects), got {cell[:80]!r}")
    for k, e in enumerate(events, start=1):
        missing = [key for key in EVENT_KEYS if key not in e]
        if missing:
            raise CorpusError(f"{where}: column events: event {k} lacks {missing}")
        nums = [e[key] for key in ("onset", "duration", "azimuth", "azimuth_end", "elevation")]
        if not all(isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v) for v in nums):
            raise CorpusError(f"{where}: column events: event {k} has a number that is not finite or not a number")
        if not isinstance(e["moving"], bool):
            raise CorpusError(f"{where}: column events: event {k}: moving must be true or false, got {e['moving']!r}")
        if e["onset"] < 0 or e["duration"] <= 0 or e["onset"] + e["duration"] > length + 1e-4:
            raise CorpusError(
                f"{where}: column events: event {k} (onset {e['onset']:.3f} s, duration {e['duration']:.3f} s) "
                f"does not fit in the {length:.3f} s clip {row['file']}"
            )
        if k > 1 and e["onset"] < events[k - 2]["onset"]:
            raise CorpusError(f"{where}: column events: event {k} starts before event {k - 1} (events go in time order)")
    for j, e in enumerate(events[:N_EVENTS], start=1):
        if e["class"] != row[f"class_{j}"] or abs(e["onset"] - row[f"onset_{j}"]) > 1e-5:
            raise CorpusError(f"{where}: column events: event {j} ({e['class']} at {e['onset']:.3f} s) is not the row's "
                              f"class_{j} / onset_{j} ({row[f'class_{j}']} at {row[f'onset_{j}']:.3f} s)")  # fmt: skip
    return events


def scene_roles(rows: list[dict]) -> tuple[str, ...]:
    """The roles every scene of ``rows`` (``read_metadata``'s output) holds, in ``ALL_ROLES`` order; ``()`` without rows."""
    if not rows:
        return ()
    first = rows[0]["scene"]
    return tuple(r["role"] for r in itertools.takewhile(lambda r: r["scene"] == first, rows))


def check_audio_header(root: Path, row: dict, sample_rate: int | None = None) -> Path:
    """Check that a row's WAV is inside ``root``, exists and has 4 channels, the row's rate and enough samples."""
    import soundfile as sf

    where = f"{row['_csv']}, row {row['_row']} (id {row['id']})"
    path = _clip_path(root, row["file"], where)
    if not path.is_file():
        raise CorpusError(f"{where}: audio file {path} not found")
    try:
        info = sf.info(str(path))
    except Exception as e:
        raise CorpusError(f"{where}: cannot read {path}: {e}") from e
    if info.channels != 4:
        raise CorpusError(f"{where}: {path} has {info.channels} channel(s), FOA needs 4 (W, Y, Z, X)")
    expected = sample_rate or row["sample_rate"]
    if info.samplerate != row["sample_rate"] or info.samplerate != expected:
        raise CorpusError(f"{where}: {path} has sample rate {info.samplerate} Hz, expected {expected} Hz")
    if info.frames == 0:
        raise CorpusError(f"{where}: {path} is empty")
    if info.frames != row["num_samples"]:
        raise CorpusError(f"{where}: {path} has {info.frames} samples, metadata says {row['num_samples']}")
    return path


def load_clip(root: str | os.PathLike, row: dict) -> np.ndarray:
    """Read a row's clip as float32 ``(4, S)``; ``CorpusError`` if outside ``root``, empty, silent or not finite."""
    import soundfile as sf

    where = f"{row['_csv']}, row {row['_row']} (id {row['id']})"
    path = _clip_path(root, row["file"], where)
    try:
        audio, sr = sf.read(str(path), dtype="float32", always_2d=True)
    except Exception as e:
        raise CorpusError(f"{where}: cannot read {path}: {e}") from e
    if audio.shape[1] != 4:
        raise CorpusError(f"{where}: {path} has {audio.shape[1]} channel(s), FOA needs 4 (W, Y, Z, X)")
    if sr != row["sample_rate"]:
        raise CorpusError(f"{where}: {path} has sample rate {sr} Hz, expected {row['sample_rate']} Hz")
    if audio.shape[0] == 0 or not np.any(audio):
        raise CorpusError(f"{where}: {path} is empty or silent")
    if not np.isfinite(audio).all():
        raise CorpusError(f"{where}: {path} has NaN or infinite samples")
    return np.ascontiguousarray(audio.T)


def validate_corpus(root: str | os.PathLike, splits=SPLITS, deep: bool = False) -> dict[str, list[dict]]:
    """Check metadata and WAV headers of ``splits`` (``deep``: read every clip too).

    Returns the parsed rows per split; raises ``CorpusError`` naming the file and row.
    """
    root = Path(root)
    if not root.is_dir():
        raise CorpusError(f"{root}: corpus directory not found")
    out = {}
    rate = None
    for split in splits:
        rows = read_metadata(root, split)
        for row in rows:
            rate = rate or row["sample_rate"]
            if row["sample_rate"] != rate:
                raise CorpusError(f"{row['_csv']}, row {row['_row']}: sample rate {row['sample_rate']} differs from {rate} in another split")
            check_audio_header(root, row, rate)
            if deep:
                load_clip(root, row)
        out[split] = rows
    return out


def _manifest(path: Path) -> dict:
    try:
        manifest = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as e:
        raise CorpusError(f"{path}: cannot read build parameters: {e}") from e
    if not isinstance(manifest, dict):
        raise CorpusError(f"{path}: not a JSON object")
    return manifest


def _differences(requested: dict, built: dict) -> list[str]:
    """``name: requested X, corpus.json has Y`` per differing key present in ``built``."""
    diffs = []
    for key, want in requested.items():
        if key not in built:
            continue  # written by an older build
        have = built[key]
        if key == "sizes" and isinstance(have, dict):
            pairs = [(f"n_{s}", want[s], have[s]) for s in SPLITS if s in have]
        else:
            pairs = [(key, want, have)]
        diffs += [f"{name}: requested {w!r}, corpus.json has {h!r}" for name, w, h in pairs if w != h]
    return diffs


def ensure_corpus(out: str | os.PathLike, *args, deep: bool = False, **kwargs) -> Path:
    """``build_corpus(out, ...)`` if ``out`` is absent or an empty directory; otherwise validate it and return it.

    An existing corpus is reused only for the parameters it was built with: ``CorpusError`` names each
    requested parameter (defaults included) that differs from its ``corpus.json``; a directory without
    ``corpus.json``, or one whose ``format_version`` is not ``FORMAT_VERSION`` (an older layout of the
    scenes), is refused. ``ensure_corpus(out)`` alone reuses any valid corpus, old formats included.
    Two processes may ask for one corpus at once: the one that finishes second drops its own build and
    checks the first one's as above.
    """
    out = Path(out)
    if out.is_dir() and not any(out.iterdir()):
        with contextlib.suppress(OSError):
            out.rmdir()  # fails if something appeared meanwhile: then it is checked below
    if not out.exists():
        try:
            return build_corpus(out, *args, **kwargs)
        except OSError as exc:  # FileExistsError, or the final rename onto a corpus that appeared meanwhile
            if not (isinstance(exc, FileExistsError) or exc.errno in (errno.EEXIST, errno.ENOTEMPTY)) or not out.exists():
                raise
            # another process (a second kernel, a parallel test run) finished the same corpus first:
            # its build is used if it is the requested one, and checked like any existing corpus below
            log.info("%s: built meanwhile by another process; checking it against the requested build", out)
    sig = inspect.signature(build_corpus)
    if not set(sig.bind_partial(out, *args, **kwargs).arguments) - {"out", "progress"}:
        validate_corpus(out, deep=deep)
        return out
    bound = sig.bind(out, *args, **kwargs)
    bound.apply_defaults()
    a = bound.arguments
    requested = _build_params(**{k: a[k] for k in inspect.signature(_build_params).parameters})
    if not (out / "corpus.json").is_file():
        raise CorpusError(
            f"{out}: exists but holds no corpus.json, so it cannot be checked against the requested build; "
            "pass another directory (or call ensure_corpus with the directory alone to use it as it is)"
        )
    validate_corpus(out, deep=deep)
    manifest = _manifest(out / "corpus.json")
    manifest.setdefault("layout", "spill")  # built before layouts had a name
    if manifest.get("format_version") != FORMAT_VERSION:
        raise CorpusError(
            f"{out}: corpus.json has format_version {manifest.get('format_version')!r}, this code builds {FORMAT_VERSION} "
            f"(scenes of {len(ROLES)} clips {list(ROLES)}); pass another directory to build it there"
        )
    diffs = _differences(requested, manifest)
    if diffs:
        raise CorpusError(f"{out}: corpus built with other parameters ({'; '.join(diffs)}); pass another directory to build this one")
    return out

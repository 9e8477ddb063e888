"""The on-disk corpus: atomic writer, metadata reader and validation.

Layout of a corpus directory ``ROOT``::

    ROOT/corpus.json                              build parameters (seed, sizes, sample rate ...)
    ROOT/audio/{split}/temporal_{scene:06d}.wav           pos   = A@p0 then B@p2
    ROOT/audio/{split}/temporal_negative_{scene:06d}.wav  neg_t = B@p2 then A@p0
    ROOT/audio/{split}/spatial_negative_{scene:06d}.wav   neg_s = A@p2 then B@p0
    ROOT/metadata/{split}.csv                     one row per clip (``METADATA_COLUMNS``)

WAVs are 4-channel FOA (W, Y, Z, X; ACN/SN3D), 16-bit PCM. Rows are grouped by ``scene``
in the role order pos, neg_t, neg_s. ``build_corpus`` writes into a temporary directory
beside ``ROOT`` and renames it at the end, so a corpus is complete or absent.
"""

from __future__ import annotations

import csv
import io
import json
import math
import os
import shutil
import tempfile
from pathlib import Path

import numpy as np

from .errors import CorpusError
from .scenes import ROLES, allowed_gaps, make_scene, render_pool
from .spatial import sample_room

__all__ = [
    "SPLITS",
    "METADATA_COLUMNS",
    "FILE_PREFIX",
    "build_corpus",
    "ensure_corpus",
    "read_metadata",
    "validate_corpus",
    "load_clip",
]

SPLITS = ("train", "val", "test")
FILE_PREFIX = {"pos": "temporal", "neg_t": "temporal_negative", "neg_s": "spatial_negative"}
N_EVENTS = 2
METADATA_COLUMNS = (
    "id", "scene", "split", "role", "file", "caption", "plain_caption",
    "class_1", "class_2", "source_1", "source_2",
    "azimuth_1", "elevation_1", "azimuth_2", "elevation_2",
    "onset_1", "onset_2", "duration_1", "duration_2",
    "room", "rt60", "sample_rate", "num_samples",
)  # fmt: skip
_FLOAT_COLUMNS = ("azimuth_1", "elevation_1", "azimuth_2", "elevation_2", "onset_1", "onset_2", "duration_1", "duration_2", "rt60")
_INT_COLUMNS = ("scene", "sample_rate", "num_samples")
_TEXT_COLUMNS = ("id", "role", "file", "caption", "plain_caption")
_SPLIT_CODE = {s: i for i, s in enumerate(SPLITS)}
FORMAT_VERSION = 1


def _rng(seed: int, *stream: int) -> np.random.Generator:
    return np.random.default_rng([int(seed), *stream])


def _split_items(n_items: int, sizes: dict[str, int], seed: int) -> dict[str, list[int]]:
    """Partition ``n_items`` source classes among the splits that have scenes (FolderSource)."""
    active = [s for s in SPLITS if sizes[s] > 0]
    if n_items < 2 * len(active):
        raise CorpusError(f"a folder source needs at least 2 files per split, has {n_items} for {len(active)} splits")
    perm = _rng(seed, 9).permutation(n_items).tolist()
    total = sum(sizes[s] for s in active)
    counts = {s: max(2, int(n_items * sizes[s] / total)) for s in active}
    while sum(counts.values()) > n_items:
        biggest = max(active, key=lambda s: counts[s])
        counts[biggest] -= 1
    out, at = {}, 0
    for s in active:
        out[s] = perm[at : at + counts[s]]
        at += counts[s]
    return out


def build_corpus(
    out: str | os.PathLike,
    n_train: int,
    n_val: int,
    n_test: int,
    seed: int = 2025,
    sample_rate: int = 16000,
    clip_seconds: float = 2.0,
    anechoic: bool = False,
    direction_words: str = "relative",
    min_sector_gap: int = 2,
    progress: bool = True,
    source=None,
) -> Path:
    """Build a corpus of ``n_*`` scenes (triplets) per split into ``out`` and return its path.

    ``source`` defaults to ``SoundfontSource(sample_rate)``; a ``FolderSource`` has its files
    partitioned between the splits. Renderings are drawn per split (disjoint between splits);
    train and val share a pool of rooms, test has its own (held-out rooms). Everything is a
    function of ``seed``. Raises ``FileExistsError`` if ``out`` exists.
    """
    from tqdm.auto import tqdm

    from .sources import SoundfontSource

    out = Path(out)
    if out.exists():
        raise FileExistsError(f"{out}: already exists (use ensure_corpus to reuse it)")
    sizes = {"train": int(n_train), "val": int(n_val), "test": int(n_test)}
    if any(v < 0 for v in sizes.values()) or sum(sizes.values()) == 0:
        raise ValueError(f"scene counts must be >= 0 and not all 0, got {sizes}")
    if direction_words not in ("relative", "compass"):
        raise ValueError(f"direction_words must be 'relative' or 'compass', got {direction_words!r}")
    allowed_gaps(min_sector_gap)  # raises on a bad gap before anything is written
    source = source if source is not None else SoundfontSource(sample_rate)
    if getattr(source, "sample_rate", sample_rate) != sample_rate:
        raise ValueError(f"source sample rate {source.sample_rate} != corpus sample rate {sample_rate}")
    from .sources import FolderSource

    if isinstance(source, FolderSource):
        classes = _split_items(len(source), sizes, seed)
    else:
        classes = {s: list(range(len(source))) for s in SPLITS}
    half_s = clip_seconds / 2

    # rooms: train and val share one pool, test has its own
    rooms: dict[str, list] = {}
    if not anechoic:
        for name, n_sc, code in (("seen", sizes["train"] + sizes["val"], 0), ("test", sizes["test"], 1)):
            rr = _rng(seed, 1, code)
            rooms[name] = [sample_room(rr, f"{name}-{i:03d}") for i in range(max(1, math.ceil(n_sc / 8)))]

    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{out.name}.tmp-", dir=out.parent))
    bar = tqdm(total=sum(sizes.values()), desc=f"building {out.name}", unit="scene", disable=not progress)
    try:
        import soundfile as sf

        (tmp / "metadata").mkdir()
        for split in SPLITS:
            n = sizes[split]
            (tmp / "audio" / split).mkdir(parents=True)
            rows = []
            if n:
                code = _SPLIT_CODE[split]
                per_class = max(1, min(16, math.ceil(n / len(classes[split]))))
                pool = render_pool(source, per_class, _rng(seed, 2, code), half_s, split, classes[split])
                room_pool = None if anechoic else rooms["test" if split == "test" else "seen"]
                for i in range(n):
                    rng = _rng(seed, 3, code, i)
                    room = None if room_pool is None else room_pool[int(rng.integers(len(room_pool)))]
                    scene = make_scene(i, pool, rng, room, sample_rate, clip_seconds, min_sector_gap, direction_words)
                    for clip in scene.clips:
                        rel = f"audio/{split}/{FILE_PREFIX[clip.role]}_{i:06d}.wav"
                        sf.write(str(tmp / rel), clip.audio.T, sample_rate, subtype="PCM_16")
                        rows.append(_row(split, scene, clip, rel, sample_rate))
                    bar.update(1)
            _write_csv(tmp / "metadata" / f"{split}.csv", rows)
        manifest = {
            "format_version": FORMAT_VERSION,
            "seed": int(seed),
            "sizes": sizes,
            "sample_rate": int(sample_rate),
            "clip_seconds": float(clip_seconds),
            "anechoic": bool(anechoic),
            "direction_words": direction_words,
            "min_sector_gap": int(min_sector_gap),
            "source": type(source).__name__,
            "rooms": {k: [r.__dict__ for r in v] for k, v in rooms.items()},
        }
        (tmp / "corpus.json").write_text(json.dumps(manifest, indent=1, sort_keys=True) + "\n")
        os.rename(tmp, out)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    finally:
        bar.close()
    return out


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
        "num_samples": str(clip.audio.shape[1]),
    }
    for j in range(N_EVENTS):
        row[f"class_{j + 1}"] = clip.classes[j]
        row[f"source_{j + 1}"] = clip.sources[j]
        row[f"azimuth_{j + 1}"] = _fmt(clip.azimuth[j], 3)
        row[f"elevation_{j + 1}"] = _fmt(clip.elevation[j], 3)
        row[f"onset_{j + 1}"] = _fmt(clip.onset[j], 6)
        row[f"duration_{j + 1}"] = _fmt(clip.duration[j], 6)
    return row


def _write_csv(path: Path, rows: list[dict[str, str]]) -> None:
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=METADATA_COLUMNS, lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    path.write_text(buf.getvalue(), encoding="utf-8")


def read_metadata(root: str | os.PathLike, split: str) -> list[dict]:
    """Parse and check ``metadata/{split}.csv``; rows come back typed, grouped [pos, neg_t, neg_s].

    Raises ``CorpusError`` naming the file and the row for: missing file or column, bad number,
    empty caption, unknown role, duplicate id, a group that is not exactly one clip of each
    role, an event that does not fit in the clip, mixed sample rates.
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
        if row["role"] not in ROLES:
            raise CorpusError(f"{where} (id {r['id']}): role {row['role']!r} is not one of {ROLES}")
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
        row["_row"] = i
        row["_csv"] = str(path)
        rows.append(row)
        groups.setdefault(row["scene"], []).append(row)
    rates = {r["sample_rate"] for r in rows}
    if len(rates) > 1:
        first = {sr: next(r["_row"] for r in rows if r["sample_rate"] == sr) for sr in sorted(rates)}
        raise CorpusError(f"{path}: mixed sample rates {first} (rate: first row)")
    ordered = []
    for scene, members in groups.items():
        roles = sorted(m["role"] for m in members)
        if roles != sorted(ROLES):
            raise CorpusError(
                f"{path}, row {members[0]['_row']}: scene {scene} has clips {roles}, a group needs exactly one of each of {list(ROLES)}"
            )
        ordered.extend(sorted(members, key=lambda m: ROLES.index(m["role"])))
    return ordered


def check_audio_header(root: Path, row: dict, sample_rate: int | None = None) -> Path:
    """Check that a row's WAV exists and has 4 channels, the row's rate and enough samples."""
    import soundfile as sf

    where = f"{row['_csv']}, row {row['_row']} (id {row['id']})"
    path = Path(root) / row["file"]
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
    """Read a row's clip as float32 ``(4, S)``; ``CorpusError`` if empty, silent or not finite."""
    import soundfile as sf

    path = Path(root) / row["file"]
    where = f"{row['_csv']}, row {row['_row']} (id {row['id']})"
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


def ensure_corpus(out: str | os.PathLike, *args, deep: bool = False, **kwargs) -> Path:
    """``build_corpus(out, ...)`` if ``out`` is absent; otherwise validate it and return it."""
    out = Path(out)
    if out.exists():
        validate_corpus(out, deep=deep)
        return out
    return build_corpus(out, *args, **kwargs)

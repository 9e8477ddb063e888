"""One recording, one clip: sets of single-event FOA clips for zero-shot classification.

``build_event_clips(out, source, split, ...)`` renders every recording of a source's split once (a
``library.LibrarySource``: the library's test recordings, or its held-out packages with
``heldout_as="test"``), each as the only event of its own clip: a crop of at most
``MAX_EVENT_SHARE`` of the clip (shorter recordings keep their length, but at least
``MIN_EVENT_S``), at a random onset, from a random direction, in a room of its own pool (or
anechoic). ``out`` gets ``audio/NNNNNN.wav`` (4 channels, 16-bit) and ``clips.csv`` (``CLIP_COLUMNS``:
the class, the recording, where and when it sounds) and ``clips.json`` (the build parameters).
:class:`EventClipBatches` draws batches of such a set for the class term of training
(``loss.w_class``). Written into a temporary directory and renamed, so it is complete or absent; an existing ``out``
built with the same parameters is reused (``ensure_event_clips``), one built otherwise is refused.
"""

from __future__ import annotations

import csv
import hashlib
import json
import math
import os
import shutil
import tempfile
from pathlib import Path

import numpy as np
import soundfile as sf

from ..config import DataConfig, FeatureConfig, RuntimeConfig
from ..pretrained import embed_cache
from .corpus import wav_bytes
from .errors import CorpusError
from .parallel import ordered_map
from .sources import SPLITS
from .spatial import anechoic_rir, foa_rir, sample_position, sample_room, spatialise

MAX_EVENT_SHARE = 0.7  # the longest event, as a share of the clip
MIN_EVENT_S = 0.5
CLIP_COLUMNS = ("file", "class", "recording", "azimuth", "elevation", "onset", "duration")

__all__ = ["build_event_clips", "ensure_event_clips", "read_event_clips", "EventClipBatches", "CLIP_COLUMNS"]


def _params(source, split: str, seed: int, sample_rate: int, clip_seconds: float, anechoic: bool) -> dict:
    return {"source": getattr(source, "identity", type(source).__name__), "split": split, "seed": int(seed),
            "sample_rate": int(sample_rate), "clip_seconds": float(clip_seconds), "anechoic": bool(anechoic)}  # fmt: skip


def build_event_clips(
    out: str | os.PathLike,
    source,
    split: str = "test",
    seed: int = RuntimeConfig.seed,
    sample_rate: int = FeatureConfig.sample_rate,
    clip_seconds: float = DataConfig.clip_seconds,
    anechoic: bool = DataConfig.anechoic,
) -> Path:
    """Render each recording of ``split`` of ``source`` (``partition``, ``files``, ``seconds``,
    ``render(..., member=)``) as one clip into the new directory ``out``; return its path."""
    out = Path(out)
    if out.exists():
        raise FileExistsError(f"{out}: already exists (use ensure_event_clips to reuse it)")
    if split not in SPLITS:
        raise ValueError(f"split must be one of {SPLITS}, got {split!r}")
    if int(source.sample_rate) != int(sample_rate):
        raise ValueError(f"source sample rate {source.sample_rate} != {sample_rate}")
    classes = source.partition({split: 1}, seed)[split]
    items = [(k, m) for k in classes for m in range(len(source.files(k)))]
    if not items:
        raise CorpusError(f"{getattr(source, 'root', source)}: the {split} split has no recordings")
    rng = np.random.default_rng([int(seed), 7, SPLITS.index(split)])
    n = int(round(clip_seconds * sample_rate))
    rooms = None if anechoic else [sample_room(rng, f"events-{i:03d}") for i in range(max(1, math.ceil(len(items) / 8)))]
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{out.name}.tmp-{os.getpid()}-", dir=out.parent))
    try:
        (tmp / "audio").mkdir()
        rows = []

        def one(i: int) -> tuple[bytes, dict]:  # a function of the index alone (rendered on every core)
            k, m = items[i]
            r = np.random.default_rng([int(seed), 8, SPLITS.index(split), i])
            dur = float(np.clip(source.seconds(k, m), MIN_EVENT_S, MAX_EVENT_SHARE * clip_seconds))
            ev = source.render(k, r, dur, f"{split}:{i}", member=m)
            room = None if rooms is None else rooms[int(r.integers(len(rooms)))]
            pos = sample_position(r, int(r.integers(8)), room)
            wet = spatialise(ev.audio, anechoic_rir(pos) if room is None else foa_rir(room, pos, sample_rate))
            onset = int(r.uniform(0.05, max(0.05, clip_seconds - dur - 0.05)) * sample_rate)
            clip = np.zeros((4, n), np.float32)
            m_ = min(wet.shape[1], n - onset)
            clip[:, onset : onset + m_] = wet[:, :m_]
            peak = float(np.abs(clip).max())
            if peak > 0.99:  # a room's build-up can clip; scale the whole clip down
                clip *= 0.99 / peak
            return wav_bytes(clip, sample_rate), {"file": f"audio/{i:06d}.wav", "class": ev.label, "recording": source.files(k)[m],
                          "azimuth": f"{pos.azimuth:.3f}", "elevation": f"{pos.elevation:.3f}",
                          "onset": f"{onset / sample_rate:.4f}", "duration": f"{dur:.4f}"}  # fmt: skip

        for wav, row in ordered_map(one, range(len(items))):
            (tmp / row["file"]).write_bytes(wav)
            rows.append(row)
        with open(tmp / "clips.csv", "w", newline="", encoding="utf-8") as f:
            w = csv.DictWriter(f, fieldnames=CLIP_COLUMNS)
            w.writeheader()
            w.writerows(rows)
        captions = {source.labels[k]: list(source.captions[k]) for k in classes}
        (tmp / "clips.json").write_text(json.dumps({**_params(source, split, seed, sample_rate, clip_seconds, anechoic),
                                                     "captions": captions}, indent=1, sort_keys=True) + "\n")  # fmt: skip
        os.rename(tmp, out)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return out


def ensure_event_clips(out: str | os.PathLike, source, split: str = "test", seed: int = RuntimeConfig.seed,
                       sample_rate: int = FeatureConfig.sample_rate, clip_seconds: float = DataConfig.clip_seconds,
                       anechoic: bool = DataConfig.anechoic) -> Path:  # fmt: skip
    """``build_event_clips`` unless ``out`` holds a set built with the same parameters (then reuse it);
    ``CorpusError`` naming the differences if it was built otherwise."""
    out = Path(out)
    if not out.exists():
        return build_event_clips(out, source, split, seed, sample_rate, clip_seconds, anechoic)
    want = _params(source, split, seed, sample_rate, clip_seconds, anechoic)
    try:
        have = json.loads((out / "clips.json").read_text())
    except (OSError, json.JSONDecodeError) as e:
        raise CorpusError(f"{out}: exists but its clips.json cannot be read ({e}); pass another directory") from None
    diffs = [f"{k}: {have.get(k)!r} built, {v!r} asked" for k, v in want.items() if have.get(k) != v]
    if diffs:
        raise CorpusError(f"{out}: event clips built with other parameters ({'; '.join(diffs)}); pass another directory")
    return out


def read_event_clips(root: str | os.PathLike) -> tuple[list[dict], dict[str, list[str]]]:
    """The rows of ``clips.csv`` (``file`` made absolute) and the captions of each class."""
    root = Path(root)
    path = root / "clips.csv"
    try:
        with open(path, newline="", encoding="utf-8") as f:
            reader = csv.DictReader(f)
            missing = [c for c in CLIP_COLUMNS if c not in (reader.fieldnames or [])]
            if missing:
                raise CorpusError(f"{path}: missing column(s) {missing}")
            rows = list(reader)
        captions = json.loads((root / "clips.json").read_text())["captions"]
    except (OSError, json.JSONDecodeError, KeyError) as e:
        raise CorpusError(f"{root}: not a set of event clips ({e})") from None
    for line, r in enumerate(rows, start=2):
        if r["class"] not in captions:
            raise CorpusError(f"{path}, line {line}: class {r['class']!r} has no captions in clips.json")
        r["file"] = str(root / r["file"])
    return rows, captions


class EventClipBatches:
    """Batches of a set of event clips for the class term (``loss.w_class``), a function of the step.

    ``batches(step, rank)`` draws ``batch_size`` different clips and, for each, one of its class's
    caption paraphrases, from a generator seeded by ``(seed, step, rank)``: the same step of a run
    gets the same batch, also when resumed, and the ranks of a distributed run get different ones.
    Returns ``{"wave": (B, 4, S) float32, "text": [B captions], "label": (B,) class indices}``;
    clips of one class share a label, so the term can keep them out of each other's negatives.
    ``pretrained="aisfx"`` adds ``"aisfx": (B, 512)``, the clips' aiSFX features, computed once for the
    whole set into ``{root}/cache/aisfx.npy`` (``sclap_nb.pretrained.embed_cache``).
    """

    def __init__(self, root: str | os.PathLike, batch_size: int, seed: int = RuntimeConfig.seed, pretrained: str = "none"):
        self.rows, self.captions = read_event_clips(root)
        if batch_size < 2 or batch_size > len(self.rows):
            raise ValueError(f"{root}: batch_size must be in [2, {len(self.rows)}] (the set's clips), got {batch_size}")
        self.root, self.batch_size, self.seed = Path(root), int(batch_size), int(seed)
        self.classes = sorted(self.captions)
        self.labels = np.array([self.classes.index(r["class"]) for r in self.rows])
        if pretrained not in ("none", "aisfx"):
            raise ValueError(f"pretrained must be 'none' or 'aisfx', got {pretrained!r}")
        self.aisfx = None
        if pretrained == "aisfx":
            digest = hashlib.sha1((self.root / "clips.csv").read_bytes()).hexdigest()
            rate = sf.info(self.rows[0]["file"]).samplerate
            self.aisfx = embed_cache(self.root / "cache" / "aisfx.npy", [r["file"] for r in self.rows], digest, rate,
                                     lambda ix: np.stack([self._read(self.rows[j]) for j in ix]))  # fmt: skip

    def __len__(self) -> int:
        return len(self.rows)

    @staticmethod
    def _read(r: dict) -> np.ndarray:
        try:
            x, _ = sf.read(r["file"], dtype="float32", always_2d=True)
        except (OSError, RuntimeError) as e:
            raise CorpusError(f"{r['file']}: cannot be read ({e})") from None
        if x.shape[1] != 4:
            raise CorpusError(f"{r['file']}: {x.shape[1]} channels, an event clip has 4 (W, Y, Z, X)")
        return x.T

    def __call__(self, step: int, rank: int = 0) -> dict:
        import torch

        rng = np.random.default_rng([self.seed, 11, int(step), int(rank)])
        pick = rng.choice(len(self.rows), self.batch_size, replace=False)
        waves, texts = [], []
        for i in pick:
            r = self.rows[int(i)]
            waves.append(self._read(r))
            options = self.captions[r["class"]]
            texts.append(options[int(rng.integers(len(options)))])
        lengths = {w.shape[1] for w in waves}
        if len(lengths) != 1:
            raise CorpusError(f"{self.root}: event clips of different lengths {sorted(lengths)}")
        out = {"wave": torch.from_numpy(np.stack(waves)), "text": texts, "label": torch.from_numpy(self.labels[pick].astype(np.int64))}
        if self.aisfx is not None:
            out["aisfx"] = torch.from_numpy(self.aisfx[pick])
        return out

"""Torch dataset, collate and feature cache of a corpus (the Lightning data module: sclap_nb.data.datamodule).

Items are dicts of one group: a scene's clips of the chosen roles in ``ROLES`` order in triplet
mode (by default the specification's triplet ``[pos, neg_t, neg_s]``; ``roles=ROLES`` adds neg_c),
1 clip in plain mode. ``collate_groups`` concatenates groups along the first axis, keeping every
group contiguous, so a batch of ``G`` groups has ``N = G * group_size`` clips.
"""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import asdict
from pathlib import Path

import numpy as np
import torch
from torch.utils.data import Dataset, Sampler, get_worker_info

from ..config import OptimConfig
from ..features import FeatureConfig, FOAFeatures
from ..files import atomic_write
from ..pretrained import AisfxEmbedder, embed_cache
from .corpus import ROLES, SPEC_ROLES, SPLITS, check_audio_header, load_clip, read_metadata, scene_roles
from .errors import CorpusError
from .scenes import ALL_ROLES
from .spatial import doa_vector

__all__ = ["StClothoDataset", "EpochShuffleSampler", "NpyRows", "collate_groups", "feature_cache", "EVENT_COLUMNS", "event_rows",
           "event_array"]  # fmt: skip

BATCH_KEYS = ("wave", "logmel", "logmeliv", "text_comb", "text", "doa", "events", "group_size", "ids", "roles")
PRETRAINED = ("none", "aisfx", "aisfx_frames")  # what a dataset adds for a model's pretrained_input
_TENSOR_KEYS = ("wave", "logmel", "logmeliv", "aisfx", "doa", "events")
#: the columns of an item's ``events`` tensor, one row per event (padded rows have duration 0)
EVENT_COLUMNS = ("onset", "duration", "azimuth", "azimuth_end", "elevation")


def event_rows(row: dict) -> list[tuple[float, float, float, float, float]]:
    """Every event of a metadata row as ``EVENT_COLUMNS`` (seconds, degrees), in time order: the ``events``
    column of a timed corpus (a moving source from its start to its end azimuth), else the row's two events."""
    if "events" in row:
        return [(e["onset"], e["duration"], e["azimuth"], e["azimuth_end"], e["elevation"]) for e in row["events"]]
    return [(row[f"onset_{j}"], row[f"duration_{j}"], row[f"azimuth_{j}"], row[f"azimuth_{j}"], row[f"elevation_{j}"])
            for j in (1, 2)]  # fmt: skip


def event_array(rows: list[dict]) -> np.ndarray:
    """``(len(rows), E, 5)`` float32: :func:`event_rows` of each row, padded with zero rows to the most events."""
    events = [event_rows(r) for r in rows]
    out = np.zeros((len(rows), max((len(e) for e in events), default=2), len(EVENT_COLUMNS)), np.float32)
    for i, ev in enumerate(events):
        out[i, : len(ev)] = ev
    return out


def _metadata_digest(root: Path, split: str) -> str:
    return hashlib.sha1((root / "metadata" / f"{split}.csv").read_bytes()).hexdigest()


def _cache_paths(root: Path, split: str, cfg: FeatureConfig, cache_dir) -> tuple[Path, Path]:
    base = Path(cache_dir) if cache_dir is not None else root / "cache"
    d = base / cfg.key()
    return d / f"{split}.npy", d / f"{split}.json"


def _check_rate(rows: list[dict], cfg: FeatureConfig) -> None:
    if rows and rows[0]["sample_rate"] != cfg.sample_rate:
        r = rows[0]
        raise CorpusError(
            f"{r['_csv']}, row {r['_row']}: corpus sample rate {r['sample_rate']} Hz != FeatureConfig.sample_rate {cfg.sample_rate} Hz"
        )


def feature_cache(
    root: str | os.PathLike,
    split: str,
    cfg: FeatureConfig | None = None,
    cache_dir: str | os.PathLike | None = None,
    batch_size: int = 64,
    progress: bool = False,
) -> Path:
    """Compute the logmelIV ``(N, 7, T, M)`` of every clip of ``split`` once and store it (float16).

    The cache lives in ``{cache_dir or root/'cache'}/{cfg.key()}/{split}.npy`` with a
    ``{split}.json`` beside it that records the full configuration, the clip ids and a digest
    of the metadata. A cache is reused only when all three match, so a different
    ``FeatureConfig`` (or a rebuilt corpus) never reads stale features. Both files are written
    to temporary names and renamed; a bad clip raises ``CorpusError`` before anything is
    written. (The log-mel of W is channel 0 of logmelIV.) Returns the ``.npy`` path.
    """
    from tqdm.auto import tqdm

    root = Path(root)
    cfg = cfg or FeatureConfig()
    npy, meta = _cache_paths(root, split, cfg, cache_dir)
    rows = read_metadata(root, split)
    _check_rate(rows, cfg)
    want = {"config": asdict(cfg), "key": cfg.key(), "ids": [r["id"] for r in rows], "metadata_sha1": _metadata_digest(root, split)}
    if npy.is_file() and meta.is_file():
        try:
            if json.loads(meta.read_text()) == want:
                return npy
        except json.JSONDecodeError:
            pass
    extractor = FOAFeatures(cfg).eval()
    chunks = []
    with torch.no_grad():
        for at in tqdm(range(0, len(rows), batch_size), desc=f"features {split}", disable=not progress):
            part = rows[at : at + batch_size]
            waves = []
            for r in part:
                check_audio_header(root, r)
                waves.append(load_clip(root, r))
            if len({w.shape[1] for w in waves}) > 1:
                raise CorpusError(f"{part[0]['_csv']}: clips of different lengths near row {part[0]['_row']}")
            _, liv = extractor(torch.from_numpy(np.stack(waves)))
            chunks.append(liv.to(torch.float16).numpy())
    data = np.concatenate(chunks) if chunks else np.zeros((0, 7, 0, cfg.n_mels), np.float16)
    atomic_write(npy, lambda f: np.save(f, data))
    atomic_write(meta, json.dumps(want))
    return npy


def _empty_float(shape: tuple[int, ...]) -> torch.Tensor:
    """An empty float32 tensor; in a DataLoader worker in shared memory, as ``default_collate``
    does, so that sending the batch to the main process copies nothing."""
    if get_worker_info() is None:
        return torch.empty(shape)
    numel = int(np.prod(shape))
    return torch.empty(0).new(torch.empty(0)._typed_storage()._new_shared(numel)).view(shape)


class _Groups(list):
    """The items of one batch (a list, as ``__getitems__`` promises) and, in ``batch``, their
    collation, gathered at once: the items' tensors are views into the batch's."""

    def __init__(self, items: list[dict], batch: dict):
        super().__init__(items)
        self.batch = batch


class NpyRows:
    """Rows of a C-ordered ``.npy`` array read with ``os.pread``, a batch at a time.

    A memory map of the feature cache would do the same reads, but every page it touches counts in
    the process's resident memory (RSS) for the rest of the run, up to the whole file (the main job's
    train split: 1.2 GiB). Read this way, the pages stay in the kernel's page cache (shared,
    reclaimable) and the process holds one batch. ``shape`` and ``dtype`` are the array's; ``read(idx)`` returns the
    rows ``idx`` (any order, repeats allowed) as a new array. Opens the file lazily, once per
    process (a DataLoader worker opens its own).
    """

    def __init__(self, path: str | os.PathLike):
        self.path = Path(path)
        with open(self.path, "rb") as f:
            try:
                version = np.lib.format.read_magic(f)
                read_header = {(1, 0): np.lib.format.read_array_header_1_0, (2, 0): np.lib.format.read_array_header_2_0}.get(version)
                if read_header is None:
                    raise ValueError(f".npy format version {version}")
                shape, fortran, dtype = read_header(f)
            except ValueError as e:
                raise CorpusError(f"{self.path}: not a .npy feature cache ({e})") from None
            self.offset = f.tell()
        if fortran or dtype.hasobject:
            raise CorpusError(f"{self.path}: a feature cache is a C-ordered numeric array")
        self.shape, self.dtype = tuple(shape), dtype
        self.row_shape = self.shape[1:]
        self.row_bytes = int(np.prod(self.row_shape, dtype=np.int64)) * dtype.itemsize
        size = self.path.stat().st_size
        if size < self.offset + self.shape[0] * self.row_bytes:
            raise CorpusError(f"{self.path}: truncated ({size} bytes, its header promises {self.offset + self.shape[0] * self.row_bytes})")
        self._fd = None

    def __getstate__(self) -> dict:
        return {**self.__dict__, "_fd": None}

    def __del__(self):
        if getattr(self, "_fd", None) is not None:
            os.close(self._fd)

    def read(self, idx) -> np.ndarray:
        idx = np.asarray(idx, dtype=np.int64).reshape(-1)
        if idx.size and (idx.min() < 0 or idx.max() >= self.shape[0]):
            raise IndexError(f"{self.path}: rows {idx.min()}..{idx.max()} asked of {self.shape[0]}")
        if self._fd is None:
            self._fd = os.open(self.path, os.O_RDONLY)
        out = np.empty((idx.size, *self.row_shape), dtype=self.dtype)
        flat = out.reshape(idx.size, -1).view(np.uint8)
        for k, j in enumerate(idx.tolist()):
            got = os.preadv(self._fd, [flat[k]], self.offset + j * self.row_bytes)
            if got != self.row_bytes:
                raise CorpusError(f"{self.path}: row {j}: read {got} of {self.row_bytes} bytes")
        return out


class StClothoDataset(Dataset):
    """Groups of a corpus split.

    ``mode="triplet"``: item ``i`` is scene ``i`` as its clips of ``roles``, in ``ALL_ROLES`` order
    (default ``SPEC_ROLES``: ``[pos, neg_t, neg_s]``; ``roles=ROLES`` gives groups of 4 with neg_c;
    a timed corpus also holds neg_m, so ``roles="all"`` gives groups of 5 there;
    ``roles`` must hold ``pos``). ``mode="plain"``: item ``i`` is one clip; ``roles`` picks which
    clips are items (default every role; ``roles=("pos",)`` gives one clip per scene).
    ``roles="all"``: every role the corpus holds, in either mode. A role the corpus lacks (neg_c
    in a corpus built before it) is a ``ValueError``.

    ``features``: a ``FeatureConfig`` adds ``logmel (g,1,T,M)`` and ``logmeliv (g,7,T,M)``,
    computed on the fly, or read from ``feature_cache(root, split, features, cache_dir)``
    when ``cache_dir`` is given (built on first use, then read a batch's rows at a time (``NpyRows``): no WAV
    is read, and the file's pages stay in the OS page cache, outside the process's resident memory).
    ``load_audio`` adds ``wave (g,4,S)``; ``None`` (default) means "unless the features come
    from the cache". ``load_audio=False`` needs ``features`` (computed on the fly, they still
    read the clips, which the item then leaves out).

    The metadata and every WAV header are checked when the dataset is created (each clip's
    samples when it is loaded); ``check_headers=False`` skips the header check when the
    features come from the cache, whose json proves the metadata is the one it was built from.

    ``pretrained="aisfx"`` adds ``aisfx (g,512)``, the frozen aiSFX network's features of each clip's W
    channel (``sclap_nb.pretrained``, for a model with ``semantic_pretrained`` aisfx): with ``cache_dir``
    computed once into ``{cache_dir}/aisfx-{rate}hz/{split}.npy`` (reused while the metadata, the rate and
    the weights match), else on the fly from the clips. ``"aisfx_frames"``: the network's frames instead,
    ``aisfx (g,frames,512)`` (``model.temporal_pretrained``; cached in ``aisfx-frames-{rate}hz``).

    An item is a dict: [``wave``], [``logmel``, ``logmeliv``], ``text_comb`` and ``text``
    (lists of g spatial / plain captions), ``doa (g,2,3)`` unit vectors in event order
    (x front, y left, z up), ``events (g,E,5)`` every event's ``EVENT_COLUMNS`` (E: the split's most events a
    clip; padded rows have duration 0), ``ids``, ``roles``, ``group_size`` (g = ``len(roles)`` or 1). Tensors are
    float32; ``logmel`` is a view of channel 0 of ``logmeliv``. ``__getitems__`` (used by
    ``DataLoader``) gathers a whole batch at once; ``collate_groups`` then only hands it on.
    """

    def __init__(
        self,
        root: str | os.PathLike,
        split: str,
        mode: str = OptimConfig.mode,
        features: FeatureConfig | None = None,
        cache_dir: str | os.PathLike | None = None,
        roles: tuple[str, ...] | str | None = None,
        load_audio: bool | None = None,
        check_headers: bool = True,
        pretrained: str = "none",
    ):
        if split not in SPLITS:
            raise ValueError(f"split must be one of {SPLITS}, got {split!r}")
        if mode not in ("triplet", "plain"):
            raise ValueError(f"mode must be 'triplet' or 'plain', got {mode!r}")
        if roles is not None and roles != "all":
            if isinstance(roles, str) or not roles or any(r not in ALL_ROLES for r in roles) or len(set(roles)) != len(roles):
                raise ValueError(f"roles must be None, 'all' or a non-empty subset of {ALL_ROLES} without repeats, got {roles!r}")
            if mode == "triplet" and "pos" not in roles:
                raise ValueError(f"roles of a triplet-mode group must include 'pos', got {roles!r}")
        if load_audio not in (None, True, False):
            raise ValueError(f"load_audio must be None, True or False, got {load_audio!r}")
        if load_audio is False and features is None:
            raise ValueError("load_audio=False needs features (an item would hold no audio at all)")
        if pretrained not in PRETRAINED:
            raise ValueError(f"pretrained must be one of {PRETRAINED}, got {pretrained!r}")
        self.root, self.split, self.mode, self.features = Path(root), split, mode, features
        self.rows = read_metadata(self.root, split)
        have = scene_roles(self.rows) or ROLES  # an empty split: any roles
        if roles is None:
            roles = SPEC_ROLES if mode == "triplet" else have
        elif roles == "all":
            roles = have
        missing = [r for r in roles if r not in have]
        if missing:
            raise ValueError(
                f"{self.root / 'metadata' / f'{split}.csv'}: no {missing} clips, its scenes hold {list(have)} "
                f"(neg_c: a corpus built before it; neg_m: only timed corpora have it); ask for roles among those, or rebuild the corpus"
            )
        self.roles = tuple(r for r in ALL_ROLES if r in roles)
        cached = features is not None and cache_dir is not None
        if check_headers or not cached:
            for r in self.rows:
                check_audio_header(self.root, r)
        if features is not None:
            _check_rate(self.rows, features)
        self.index = {r["id"]: i for i, r in enumerate(self.rows)}
        if mode == "triplet":
            at = [have.index(r) for r in self.roles]  # offsets of the roles in a scene's rows
            self.items = [[s + k for k in at] for s in range(0, len(self.rows), len(have))]
        else:
            self.items = [[i] for i, r in enumerate(self.rows) if r["role"] in self.roles]
        self.cache_path = feature_cache(self.root, split, features, cache_dir) if cached else None
        self.load_audio = not cached if load_audio is None else load_audio
        self.pretrained, self._aisfx, self._embedder = pretrained, None, None
        if pretrained != "none":
            frames = pretrained == "aisfx_frames"
            if cache_dir is not None:
                rate = self.rows[0]["sample_rate"] if self.rows else 0
                name = f"aisfx-frames-{rate}hz" if frames else f"aisfx-{rate}hz"
                self._aisfx = embed_cache(Path(cache_dir) / name / f"{split}.npy", [r["id"] for r in self.rows],
                                          _metadata_digest(self.root, split), rate,
                                          lambda ix: np.stack([load_clip(self.root, self.rows[j]) for j in ix]),
                                          AisfxEmbedder(frames=frames))  # fmt: skip
            else:
                self._embedder = AisfxEmbedder(frames=frames)
        # everything an item needs, once: __getitem__ / __getitems__ only index
        self._groups = np.array(self.items, dtype=np.int64).reshape(len(self.items), self.group_size)
        self._doa = np.array(
            [[doa_vector(r[f"azimuth_{e}"], r[f"elevation_{e}"]) for e in (1, 2)] for r in self.rows], dtype=np.float32
        ).reshape(len(self.rows), 2, 3)
        self._events = event_array(self.rows)
        self._lists = {
            "text_comb": [r["caption"] for r in self.rows],
            "text": [r["plain_caption"] for r in self.rows],
            "ids": [r["id"] for r in self.rows],
            "roles": [r["role"] for r in self.rows],
        }
        self._cache = None
        self._extractor = None

    def __len__(self) -> int:
        return len(self.items)

    def __getstate__(self) -> dict:
        # workers open the cache file themselves (a file descriptor does not pickle)
        return {**self.__dict__, "_cache": None, "_extractor": None}

    @property
    def group_size(self) -> int:
        return len(self.roles) if self.mode == "triplet" else 1

    def _rows(self) -> "NpyRows":
        if self._cache is None:
            cache = NpyRows(self.cache_path)
            if cache.shape[0] != len(self.rows):
                raise CorpusError(f"{self.cache_path}: {cache.shape[0]} clips, metadata/{self.split}.csv has {len(self.rows)} rows")
            self._cache = cache
        return self._cache

    def _gather(self, idx: np.ndarray) -> dict:
        """The clips ``idx`` (rows, groups contiguous) as one dict of the item / batch layout."""
        out = {"group_size": self.group_size}
        wave = None
        if self.load_audio or (self.features is not None and self.cache_path is None) or self._embedder is not None:
            clips = [load_clip(self.root, self.rows[j]) for j in idx]
            wave = _empty_float((len(clips), *clips[0].shape))
            for k, (j, clip) in enumerate(zip(idx, clips)):
                if clip.shape != clips[0].shape:
                    r, r0 = self.rows[j], self.rows[idx[0]]
                    raise CorpusError(f"{r['_csv']}, row {r['_row']}: {clip.shape[1]} samples, row {r0['_row']} has {clips[0].shape[1]}")
                wave[k] = torch.from_numpy(clip)
            if self.load_audio:
                out["wave"] = wave
        if self.features is not None:
            if self.cache_path is not None:
                half = torch.from_numpy(self._rows().read(idx))  # the rows, read into the process (float16)
                liv = _empty_float(tuple(half.shape)).copy_(half)  # one conversion to float32
            else:
                if self._extractor is None:
                    self._extractor = FOAFeatures(self.features).eval()
                with torch.no_grad():
                    liv = self._extractor(wave)[1]
            out["logmel"], out["logmeliv"] = liv[:, :1], liv
        if self._aisfx is not None:
            out["aisfx"] = torch.from_numpy(self._aisfx[idx].astype(np.float32, copy=False))
        elif self._embedder is not None:
            out["aisfx"] = self._embedder(wave, self.rows[idx[0]]["sample_rate"])
        out["doa"] = torch.from_numpy(self._doa[idx])
        out["events"] = torch.from_numpy(self._events[idx])
        for k, values in self._lists.items():
            out[k] = [values[j] for j in idx]
        return out

    def __getitem__(self, i: int) -> dict:
        return self._gather(self._groups[i])

    def __getitems__(self, indices: list[int]) -> list[dict]:
        """Items ``indices`` gathered as one batch (one read of the cache for all of them)."""
        if len(indices) == 0:
            raise ValueError("__getitems__: no indices")
        g = self.group_size
        batch = self._gather(self._groups[np.asarray(indices, dtype=np.int64)].reshape(-1))
        items = [
            {k: v if k == "group_size" else v[s : s + g] for k, v in batch.items()} for s in range(0, g * len(indices), g)
        ]
        return _Groups(items, batch)


class EpochShuffleSampler(Sampler[int]):
    """A random permutation per epoch, drawn from ``seed + epoch``.

    The order of epoch ``e`` depends on nothing but the seed and ``e`` (Lightning calls
    ``set_epoch`` at the start of each epoch), so a run resumed at epoch ``e`` sees the same
    batches as an uninterrupted one.

    ``per_epoch`` (0: all ``n`` items every epoch): an epoch takes the next ``per_epoch`` items of one
    stream, passes over the items each in a random order of its own (pass ``c`` drawn from ``(seed, c)``),
    shuffled again within the epoch (from ``seed + epoch``); so ``n / per_epoch`` epochs see every item
    once, and more items at the same epochs and steps mean more different items seen.
    """

    def __init__(self, n: int, seed: int, per_epoch: int = 0):
        self.n, self.seed, self.epoch = int(n), int(seed), 0
        per_epoch = _check_int("per_epoch", per_epoch, 0)
        self.per_epoch = per_epoch if per_epoch < self.n else 0

    def set_epoch(self, epoch: int) -> None:
        self.epoch = int(epoch)

    def __len__(self) -> int:
        return self.per_epoch or self.n

    def _pass(self, c: int) -> torch.Tensor:
        return torch.from_numpy(np.random.default_rng([self.seed, 7, c]).permutation(self.n))

    def __iter__(self):
        g = torch.Generator().manual_seed(self.seed + self.epoch)
        if not self.per_epoch:
            return iter(torch.randperm(self.n, generator=g).tolist())
        start = self.epoch * self.per_epoch
        first, last = start // self.n, (start + self.per_epoch - 1) // self.n
        stream = torch.cat([self._pass(c) for c in range(first, last + 1)])
        items = stream[start - first * self.n : start - first * self.n + self.per_epoch]
        return iter(items[torch.randperm(self.per_epoch, generator=g)].tolist())


def _channel0_view(logmel: torch.Tensor, liv: torch.Tensor) -> bool:
    """``logmel`` is ``liv[:, :1]`` itself (a view), not a copy."""
    return (
        logmel.data_ptr() == liv.data_ptr()
        and logmel.dtype == liv.dtype
        and logmel.shape == liv[:, :1].shape
        and logmel.stride() == liv.stride()
    )


def collate_groups(items: list[dict]) -> dict:
    """Concatenate groups: tensors along axis 0 (as float32), lists joined; groups stay contiguous.

    Items may lack ``wave`` (features from the cache) or the features; all of a batch hold
    the same keys. Groups of several clips must hold their roles in ``ROLES`` order, the same in
    every group. A batch from ``StClothoDataset.__getitems__`` is already gathered and is
    returned as it is. A ``logmel`` that is a view of its ``logmeliv`` stays one in the batch.
    """
    if isinstance(items, _Groups):
        return items.batch
    if not items:
        raise ValueError("collate_groups: empty batch")
    sizes = {it["group_size"] for it in items}
    if len(sizes) != 1:
        raise ValueError(f"collate_groups: mixed group sizes {sorted(sizes)}")
    g = sizes.pop()
    keys = [k for k in _TENSOR_KEYS if k in items[0]]
    for it in items:
        missing = [k for k in keys if k not in it]
        extra = [k for k in _TENSOR_KEYS if k in it and k not in keys]
        if missing or extra:
            raise ValueError(f"collate_groups: group {it['ids']} has keys {sorted(it)}, the first group {sorted(items[0])}")
        if len(it["ids"]) != g or any(it[k].shape[0] != g for k in keys):
            raise ValueError(f"collate_groups: group {it['ids']} does not have {g} clips")
        if any(r not in ALL_ROLES for r in it["roles"]):
            raise ValueError(f"collate_groups: group {it['ids']} has roles {list(it['roles'])}, not all of {list(ALL_ROLES)}")
        if g > 1:
            order = [ALL_ROLES.index(r) for r in it["roles"]]
            if order != sorted(set(order)):
                raise ValueError(f"collate_groups: group {it['ids']} has roles {list(it['roles'])}, not in the order of {list(ALL_ROLES)}")
            if list(it["roles"]) != list(items[0]["roles"]):
                raise ValueError(
                    f"collate_groups: group {it['ids']} has roles {list(it['roles'])}, the first group {list(items[0]['roles'])}"
                )
    batch = {"group_size": g}
    view = "logmel" in keys and "logmeliv" in keys and all(_channel0_view(it["logmel"], it["logmeliv"]) for it in items)
    for k in keys:
        if not (view and k == "logmel"):
            batch[k] = torch.cat([it[k] for it in items]).float()
    if view:
        batch["logmel"] = batch["logmeliv"][:, :1]
    for k in ("text_comb", "text", "ids", "roles"):
        batch[k] = [x for it in items for x in it[k]]
    return batch


def _check_int(name: str, value, minimum: int) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < minimum:
        raise ValueError(f"{name} must be an integer >= {minimum}, got {value!r}")
    return int(value)


def _world_size() -> int:
    import torch.distributed as dist

    return dist.get_world_size() if dist.is_available() and dist.is_initialized() else 1

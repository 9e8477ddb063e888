"""Torch dataset, collate, feature cache and Lightning data module of a corpus.

Items are dicts of one group: 3 clips ``[pos, neg_t, neg_s]`` in triplet mode, 1 clip in plain
mode. ``collate_groups`` concatenates groups along the first axis, keeping every group
contiguous, so a batch of ``G`` groups has ``N = G * group_size`` clips.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from dataclasses import asdict
from pathlib import Path

import numpy as np
import torch
from torch.utils.data import DataLoader, Dataset, Sampler

from ..features import FeatureConfig, FOAFeatures
from .corpus import ROLES, SPLITS, check_audio_header, load_clip, read_metadata
from .errors import CorpusError
from .spatial import doa_vector

__all__ = ["StClothoDataset", "StClothoDataModule", "EpochShuffleSampler", "collate_groups", "feature_cache"]

BATCH_KEYS = ("wave", "logmel", "logmeliv", "text_comb", "text", "doa", "group_size", "ids", "roles")


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
    npy.parent.mkdir(parents=True, exist_ok=True)
    for path, write in ((npy, lambda f: np.save(f, data)), (meta, lambda f: f.write(json.dumps(want).encode()))):
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
        try:
            with os.fdopen(fd, "wb") as f:
                write(f)
            os.replace(tmp, path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
    return npy


class StClothoDataset(Dataset):
    """Groups of a corpus split.

    ``mode="triplet"``: item ``i`` is scene ``i`` as 3 clips ``[pos, neg_t, neg_s]``.
    ``mode="plain"``: item ``i`` is one clip; ``roles`` picks which clips are items (default
    all three roles; ``roles=("pos",)`` gives one clip per scene).

    ``features``: a ``FeatureConfig`` adds ``logmel (g,1,T,M)`` and ``logmeliv (g,7,T,M)``,
    computed on the fly, or read from ``feature_cache(root, split, features, cache_dir)``
    when ``cache_dir`` is given (built on first use). The metadata and every WAV header are
    checked when the dataset is created; each clip's samples when it is loaded.

    An item is a dict: ``wave (g,4,S)``, [``logmel``, ``logmeliv``], ``text_comb`` and
    ``text`` (lists of g spatial / plain captions), ``doa (g,2,3)`` unit vectors in event
    order (x front, y left, z up), ``ids``, ``roles``, ``group_size`` (g = 3 or 1).
    """

    def __init__(
        self,
        root: str | os.PathLike,
        split: str,
        mode: str = "triplet",
        features: FeatureConfig | None = None,
        cache_dir: str | os.PathLike | None = None,
        roles: tuple[str, ...] = ROLES,
    ):
        if split not in SPLITS:
            raise ValueError(f"split must be one of {SPLITS}, got {split!r}")
        if mode not in ("triplet", "plain"):
            raise ValueError(f"mode must be 'triplet' or 'plain', got {mode!r}")
        bad = [r for r in roles if r not in ROLES]
        if bad or not roles:
            raise ValueError(f"roles must be a non-empty subset of {ROLES}, got {roles}")
        self.root, self.split, self.mode, self.features = Path(root), split, mode, features
        self.rows = read_metadata(self.root, split)
        for r in self.rows:
            check_audio_header(self.root, r)
        if features is not None:
            _check_rate(self.rows, features)
        self.index = {r["id"]: i for i, r in enumerate(self.rows)}
        if mode == "triplet":
            self.items = [list(range(i, i + 3)) for i in range(0, len(self.rows), 3)]
        else:
            self.items = [[i] for i, r in enumerate(self.rows) if r["role"] in roles]
        self.cache_path = None
        if features is not None and cache_dir is not None:
            self.cache_path = feature_cache(self.root, split, features, cache_dir)
        self._cache = None
        self._extractor = None

    def __len__(self) -> int:
        return len(self.items)

    @property
    def group_size(self) -> int:
        return 3 if self.mode == "triplet" else 1

    def _features(self, idx: list[int], wave: torch.Tensor) -> torch.Tensor:
        if self.cache_path is not None:
            if self._cache is None:
                self._cache = np.load(self.cache_path, mmap_mode="r")
            return torch.from_numpy(np.asarray(self._cache[idx], dtype=np.float32))
        if self._extractor is None:
            self._extractor = FOAFeatures(self.features).eval()
        with torch.no_grad():
            return self._extractor(wave)[1]

    def __getitem__(self, i: int) -> dict:
        idx = self.items[i]
        rows = [self.rows[j] for j in idx]
        wave = torch.from_numpy(np.stack([load_clip(self.root, r) for r in rows]))
        doa = torch.tensor(
            np.stack([[doa_vector(r[f"azimuth_{e}"], r[f"elevation_{e}"]) for e in (1, 2)] for r in rows]), dtype=torch.float32
        )
        item = {
            "wave": wave,
            "text_comb": [r["caption"] for r in rows],
            "text": [r["plain_caption"] for r in rows],
            "doa": doa,
            "group_size": len(idx),
            "ids": [r["id"] for r in rows],
            "roles": [r["role"] for r in rows],
        }
        if self.features is not None:
            liv = self._features(idx, wave)
            item["logmeliv"] = liv
            item["logmel"] = liv[:, :1]
        return item


class EpochShuffleSampler(Sampler[int]):
    """A random permutation per epoch, drawn from ``seed + epoch``.

    The order of epoch ``e`` depends on nothing but the seed and ``e`` (Lightning calls
    ``set_epoch`` at the start of each epoch), so a run resumed at epoch ``e`` sees the same
    batches as an uninterrupted one.
    """

    def __init__(self, n: int, seed: int = 0):
        self.n, self.seed, self.epoch = int(n), int(seed), 0

    def set_epoch(self, epoch: int) -> None:
        self.epoch = int(epoch)

    def __len__(self) -> int:
        return self.n

    def __iter__(self):
        g = torch.Generator().manual_seed(self.seed + self.epoch)
        return iter(torch.randperm(self.n, generator=g).tolist())


def collate_groups(items: list[dict]) -> dict:
    """Concatenate groups: tensors along axis 0, lists joined; groups stay contiguous."""
    if not items:
        raise ValueError("collate_groups: empty batch")
    sizes = {it["group_size"] for it in items}
    if len(sizes) != 1:
        raise ValueError(f"collate_groups: mixed group sizes {sorted(sizes)}")
    g = sizes.pop()
    for it in items:
        if len(it["ids"]) != g or it["wave"].shape[0] != g:
            raise ValueError(f"collate_groups: group {it['ids']} does not have {g} clips")
        if g == 3 and list(it["roles"]) != list(ROLES):
            raise ValueError(f"collate_groups: group {it['ids']} is not ordered {list(ROLES)}")
    batch = {"group_size": g}
    for k in ("wave", "logmel", "logmeliv", "doa"):
        if k in items[0]:
            batch[k] = torch.cat([it[k] for it in items]).float()
    for k in ("text_comb", "text", "ids", "roles"):
        batch[k] = [x for it in items for x in it[k]]
    return batch


try:
    import lightning.pytorch as pl

    _Base = pl.LightningDataModule
except ImportError:  # pragma: no cover
    _Base = object


class StClothoDataModule(_Base):
    """Lightning data module over ``root`` (a corpus built by ``build_corpus``).

    ``batch_size`` counts groups (a triplet batch has ``3 * batch_size`` clips). The train
    loader shuffles with an :class:`EpochShuffleSampler` (the order of epoch ``e`` is fixed by
    ``seed + e``); val and test keep the file order. ``features=None`` yields waveforms only;
    ``cache_dir`` switches features to the on-disk cache (see ``feature_cache``).
    Extra keyword arguments (e.g. ``roles``) go to ``StClothoDataset``.
    """

    def __init__(
        self,
        root: str | os.PathLike,
        batch_size: int = 16,
        mode: str = "triplet",
        features: FeatureConfig | None = FeatureConfig(),
        cache_dir: str | os.PathLike | None = None,
        num_workers: int = 0,
        seed: int = 2025,
        **dataset_kwargs,
    ):
        super().__init__()
        self.root, self.batch_size, self.mode = Path(root), int(batch_size), mode
        self.features, self.cache_dir, self.num_workers, self.seed = features, cache_dir, int(num_workers), int(seed)
        self.dataset_kwargs = dataset_kwargs
        self.datasets: dict[str, StClothoDataset] = {}

    def dataset(self, split: str) -> StClothoDataset:
        if split not in self.datasets:
            self.datasets[split] = StClothoDataset(self.root, split, self.mode, self.features, self.cache_dir, **self.dataset_kwargs)
        return self.datasets[split]

    def setup(self, stage: str | None = None) -> None:
        splits = {"fit": ("train", "val"), "validate": ("val",), "test": ("test",), "predict": ("test",)}.get(stage, SPLITS)
        for s in splits:
            self.dataset(s)

    def _loader(self, split: str, shuffle: bool) -> DataLoader:
        dataset = self.dataset(split)
        return DataLoader(
            dataset,
            batch_size=self.batch_size,
            sampler=EpochShuffleSampler(len(dataset), self.seed) if shuffle else None,
            collate_fn=collate_groups,
            num_workers=self.num_workers,
            persistent_workers=self.num_workers > 0,
        )

    def train_dataloader(self) -> DataLoader:
        return self._loader("train", True)

    def val_dataloader(self) -> DataLoader:
        return self._loader("val", False)

    def test_dataloader(self) -> DataLoader:
        return self._loader("test", False)

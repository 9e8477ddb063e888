"""The Lightning data module over a corpus: :class:`StClothoDataModule`.

Apart from :mod:`sclap_nb.data.dataset` because it needs Lightning, which inference (``sclap_nb.api``,
``sclap_nb.evaluate``) does not load: ``sclap_nb.data`` gives it on first use.
"""

from __future__ import annotations

import os
from pathlib import Path

import lightning.pytorch as pl
from lightning.fabric.utilities.distributed import DistributedSamplerWrapper
from torch.utils.data import DataLoader

from ..config import DataConfig, OptimConfig, RuntimeConfig
from ..features import FeatureConfig
from .dataset import EpochShuffleSampler, StClothoDataset, _check_int, _world_size, collate_groups
from .scenes import SPEC_ROLES
from .sources import SPLITS

__all__ = ["StClothoDataModule"]


class StClothoDataModule(pl.LightningDataModule):
    """Lightning data module over ``root`` (a corpus built by ``build_corpus``).

    ``roles`` picks the training split's clips (default ``SPEC_ROLES``, the specification's triplet),
    ``eval_roles`` those of val and test (default ``"all"``: every role the corpus holds, neg_c
    included on corpora of format 2); see ``StClothoDataset``. ``batch_size`` counts groups (a
    triplet batch has ``3 * batch_size`` clips, a batch of groups of 4 ``4 * batch_size``). The train
    loader shuffles with an :class:`EpochShuffleSampler` (the order of epoch ``e`` is fixed by
    ``seed + e``; ``scenes_per_epoch`` > 0: each epoch takes the next that many train scenes of one
    stream of passes over them); val and test keep the file order. ``features=None`` yields waveforms only;
    ``cache_dir`` switches features to the on-disk cache (see ``feature_cache``), and then
    batches hold no waveform unless ``load_audio=True``.
    ``num_workers``, ``pin_memory``, ``persistent_workers`` (default: ``num_workers > 0``) and
    ``prefetch_factor`` (default: torch's, only with workers) go to every ``DataLoader``.
    Extra keyword arguments (e.g. ``load_audio``, ``check_headers``) go to ``StClothoDataset``.
    """

    def __init__(
        self,
        root: str | os.PathLike,
        batch_size: int = OptimConfig.batch_size,
        mode: str = OptimConfig.mode,
        features: FeatureConfig | None = FeatureConfig(),
        cache_dir: str | os.PathLike | None = None,
        num_workers: int = RuntimeConfig.num_workers,
        seed: int = RuntimeConfig.seed,
        pin_memory: bool = False,
        persistent_workers: bool | None = None,
        prefetch_factor: int | None = None,
        roles: tuple[str, ...] | str | None = None,
        eval_roles: tuple[str, ...] | str | None = None,
        scenes_per_epoch: int = DataConfig.scenes_per_epoch,
        **dataset_kwargs,
    ):
        super().__init__()
        num_workers = _check_int("num_workers", num_workers, 0)
        if not isinstance(pin_memory, bool):
            raise ValueError(f"pin_memory must be True or False, got {pin_memory!r}")
        if persistent_workers is None:
            persistent_workers = num_workers > 0
        elif not isinstance(persistent_workers, bool):
            raise ValueError(f"persistent_workers must be None, True or False, got {persistent_workers!r}")
        elif persistent_workers and num_workers == 0:
            raise ValueError("persistent_workers=True needs num_workers > 0")
        if prefetch_factor is not None:
            prefetch_factor = _check_int("prefetch_factor", prefetch_factor, 1)
            if num_workers == 0:
                raise ValueError(f"prefetch_factor={prefetch_factor} needs num_workers > 0")
        self.root, self.batch_size, self.mode = Path(root), _check_int("batch_size", batch_size, 1), mode
        self.features, self.cache_dir, self.num_workers, self.seed = features, cache_dir, num_workers, int(seed)
        self.pin_memory, self.persistent_workers, self.prefetch_factor = pin_memory, persistent_workers, prefetch_factor
        self.roles = SPEC_ROLES if roles is None else roles
        self.eval_roles = "all" if eval_roles is None else eval_roles
        self.scenes_per_epoch = _check_int("scenes_per_epoch", scenes_per_epoch, 0)
        self.dataset_kwargs = dataset_kwargs
        self.datasets: dict[str, StClothoDataset] = {}

    def dataset(self, split: str) -> StClothoDataset:
        if split not in self.datasets:
            roles = self.roles if split == "train" else self.eval_roles
            self.datasets[split] = StClothoDataset(
                self.root, split, self.mode, self.features, self.cache_dir, roles=roles, **self.dataset_kwargs
            )
        return self.datasets[split]

    def setup(self, stage: str | None = None) -> None:
        splits = {"fit": ("train", "val"), "validate": ("val",), "test": ("test",), "predict": ("test",)}.get(stage, SPLITS)
        for s in splits:
            self.dataset(s)

    def _loader(self, split: str, shuffle: bool) -> DataLoader:
        dataset = self.dataset(split)
        sampler = EpochShuffleSampler(len(dataset), self.seed, self.scenes_per_epoch) if shuffle else None
        if sampler is not None and _world_size() > 1:
            # each rank takes the items r, r + W, ... of the one epoch order (not shuffled again), so the
            # ranks' batches of a step together are the batch one process would see
            sampler = DistributedSamplerWrapper(sampler, shuffle=False)
        return DataLoader(
            dataset,
            batch_size=self.batch_size,
            sampler=sampler,
            collate_fn=collate_groups,
            num_workers=self.num_workers,
            pin_memory=self.pin_memory,
            persistent_workers=self.persistent_workers,
            prefetch_factor=self.prefetch_factor,
        )

    def train_dataloader(self) -> DataLoader:
        return self._loader("train", True)

    def val_dataloader(self) -> DataLoader:
        return self._loader("val", False)

    def test_dataloader(self) -> DataLoader:
        return self._loader("test", False)

"""Tests of the loader path: features served from the cache without WAV reads, batch gathering,
DataLoader options."""

from __future__ import annotations

import pickle

import numpy as np
import pytest
import soundfile as sf
import torch

import sclap_nb.data.dataset as dataset_mod
from sclap_nb.data import EpochShuffleSampler, StClothoDataModule, StClothoDataset, collate_groups, doa_vector, read_metadata
from sclap_nb.features import FeatureConfig

LISTS = ("text_comb", "text", "ids", "roles")


def assert_same(a: dict, b: dict, keys=None):
    keys = keys or sorted(set(a) | set(b))
    for k in keys:
        assert k in a and k in b, k
        if isinstance(a[k], torch.Tensor):
            assert a[k].dtype == b[k].dtype == torch.float32, k
            assert torch.equal(a[k], b[k]), k
        else:
            assert a[k] == b[k], k


def forbid_wav_reads(monkeypatch, headers: bool = False):
    """Make every way of reading a WAV (``headers``: its header too) raise."""

    def boom(*args, **kwargs):
        raise AssertionError(f"a WAV was opened: {args[:2]}")

    monkeypatch.setattr(dataset_mod, "load_clip", boom)
    monkeypatch.setattr(sf, "read", boom)
    if headers:
        monkeypatch.setattr(dataset_mod, "check_audio_header", boom)
        monkeypatch.setattr(sf, "SoundFile", boom)
        monkeypatch.setattr(sf, "info", boom)


def cached(root, cache, **kw) -> StClothoDataset:
    return StClothoDataset(root, "train", features=FeatureConfig(), cache_dir=cache, **kw)


def test_cached_items_read_no_wav_and_match_the_audio_path(tiny_corpus, tmp_path, monkeypatch):
    with_audio = cached(tiny_corpus, tmp_path, load_audio=True)
    reference = [with_audio[i] for i in range(len(with_audio))]
    assert all(it["wave"].shape == (3, 4, 32000) for it in reference)
    ds = cached(tiny_corpus, tmp_path)
    assert ds.load_audio is False and len(ds) == 8
    forbid_wav_reads(monkeypatch, headers=True)
    for i, ref in enumerate(reference):
        it = ds[i]
        assert "wave" not in it
        assert_same(it, {k: v for k, v in ref.items() if k != "wave"})
        assert it["logmel"].data_ptr() == it["logmeliv"].data_ptr()  # a view, not a second copy
    assert_same(collate_groups(ds.__getitems__([1, 6])), collate_groups([ds[1], ds[6]]))
    # and both are what the cache file and the metadata hold
    stored, rows = np.load(ds.cache_path), read_metadata(tiny_corpus, "train")
    for i in (0, 5):
        it, group = ds[i], rows[4 * i : 4 * i + 3]  # scenes of 4 clips, groups of the first 3 by default
        assert torch.equal(it["logmeliv"], torch.from_numpy(stored[4 * i : 4 * i + 3].astype(np.float32)))
        assert it["ids"] == [r["id"] for r in group] and it["roles"] == ["pos", "neg_t", "neg_s"]
        assert it["text_comb"] == [r["caption"] for r in group] and it["text"] == [r["plain_caption"] for r in group]
        want = [[doa_vector(r[f"azimuth_{e}"], r[f"elevation_{e}"]) for e in (1, 2)] for r in group]
        torch.testing.assert_close(it["doa"], torch.tensor(np.array(want), dtype=torch.float32))


def test_without_cache_or_when_asked_items_hold_the_wave(tiny_corpus, tmp_path):
    live = StClothoDataset(tiny_corpus, "val", features=FeatureConfig())
    assert live.load_audio is True and live[0]["wave"].shape == (3, 4, 32000)
    no_wave = StClothoDataset(tiny_corpus, "val", features=FeatureConfig(), load_audio=False)
    it = no_wave[0]
    assert "wave" not in it and torch.equal(it["logmeliv"], live[0]["logmeliv"])
    assert StClothoDataset(tiny_corpus, "val")[0]["wave"].shape == (3, 4, 32000)
    with pytest.raises(ValueError, match="load_audio=False needs features"):
        StClothoDataset(tiny_corpus, "val", load_audio=False)
    with pytest.raises(ValueError, match="load_audio must be"):
        StClothoDataset(tiny_corpus, "val", load_audio="yes")


def test_check_headers_false_skips_the_header_check_only_with_a_cache(tiny_corpus, tmp_path, monkeypatch):
    cached(tiny_corpus, tmp_path)  # build the cache
    calls = []
    monkeypatch.setattr(dataset_mod, "check_audio_header", lambda root, row: calls.append(row["id"]))
    cached(tiny_corpus, tmp_path)
    assert len(calls) == 32  # every clip of 8 scenes, neg_c included
    calls.clear()
    cached(tiny_corpus, tmp_path, check_headers=False)
    assert calls == []
    StClothoDataset(tiny_corpus, "train", features=FeatureConfig(), check_headers=False)  # no cache: checked
    assert len(calls) == 32  # every clip of 8 scenes, neg_c included


def test_getitems_equals_per_item(tiny_corpus, tmp_path, monkeypatch):
    ds = cached(tiny_corpus, tmp_path)
    plain = StClothoDataset(tiny_corpus, "val", mode="plain", features=FeatureConfig(), cache_dir=tmp_path, roles=("pos", "neg_s"))
    forbid_wav_reads(monkeypatch, headers=True)
    order = [5, 0, 7, 3]
    items = ds.__getitems__(order)
    assert len(items) == 4
    for i, it in zip(order, items):
        assert_same(it, ds[i])
    batch = collate_groups(items)
    assert_same(batch, collate_groups([ds[i] for i in order]))
    assert_same(batch, collate_groups(list(items)))  # a plain list of the same items collates the same
    assert batch["logmel"].data_ptr() == batch["logmeliv"].data_ptr()
    assert len(plain) == 8
    for i, it in zip([3, 1, 6], plain.__getitems__([3, 1, 6])):
        assert_same(it, plain[i])
    with pytest.raises(ValueError, match="no indices"):
        ds.__getitems__([])


def test_getitems_equals_per_item_with_audio_and_live_features(tiny_corpus):
    ds = StClothoDataset(tiny_corpus, "val", features=FeatureConfig())
    items = ds.__getitems__([2, 0])
    for i, it in zip([2, 0], items):
        one = ds[i]
        assert_same(it, one, keys=["wave", "doa", *LISTS])
        torch.testing.assert_close(it["logmeliv"], one["logmeliv"], atol=1e-4, rtol=1e-4)


def test_collate_without_wave_and_mismatched_keys(tiny_corpus, tmp_path):
    ds = cached(tiny_corpus, tmp_path)
    b = collate_groups([ds[0], ds[1]])
    assert "wave" not in b and b["logmeliv"].shape == (6, 7, 201, 64) and b["doa"].shape == (6, 2, 3)
    assert torch.equal(b["logmel"], b["logmeliv"][:, :1])
    copied = dict(ds[1], logmel=ds[1]["logmel"].clone())  # a logmel that is not a view is concatenated
    b2 = collate_groups([ds[0], copied])
    assert torch.equal(b2["logmel"], b["logmel"]) and b2["logmel"].data_ptr() != b2["logmeliv"].data_ptr()
    with_wave = dict(ds[1], wave=torch.zeros(3, 4, 32000))
    with pytest.raises(ValueError, match="has keys"):
        collate_groups([ds[0], with_wave])
    with pytest.raises(ValueError, match="does not have 3"):
        collate_groups([dict(ds[0], doa=ds[0]["doa"][:2])])


def loader_batches(loader, epoch):
    loader.sampler.set_epoch(epoch)
    return list(loader)


def test_loader_batches_are_the_collated_items_in_sampler_order(tiny_corpus, tmp_path, monkeypatch):
    dm = StClothoDataModule(tiny_corpus, batch_size=3, features=FeatureConfig(), cache_dir=tmp_path, seed=5)
    dm.setup("fit")
    forbid_wav_reads(monkeypatch, headers=True)
    ds, loader = dm.dataset("train"), dm.train_dataloader()
    for epoch in (0, 4):
        sampler = EpochShuffleSampler(len(ds), 5)
        sampler.set_epoch(epoch)
        order = list(sampler)
        batches = loader_batches(loader, epoch)
        assert [len(b["ids"]) for b in batches] == [9, 9, 6]
        for n, batch in enumerate(batches):
            groups = order[3 * n : 3 * n + 3]
            assert_same(batch, collate_groups([ds[i] for i in groups]))
            assert batch["ids"][::3] == [f"train_{i:06d}_pos" for i in groups]  # groups contiguous
            assert batch["roles"] == ["pos", "neg_t", "neg_s"] * len(groups)
    assert [b["ids"] for b in loader_batches(loader, 0)] != [b["ids"] for b in loader_batches(loader, 1)]


def test_scenes_per_epoch_take_the_next_scenes_of_one_stream_of_passes():
    n, per = 10, 4
    sampler = EpochShuffleSampler(n, 3, per)
    assert len(sampler) == per
    epochs = []
    for e in range(5):  # 20 items: two whole passes, the second epoch and the fourth straddling a pass's end
        sampler.set_epoch(e)
        epochs.append(list(sampler))
    assert all(len(ep) == per for ep in epochs)
    seen = [i for ep in epochs for i in ep]
    assert sorted(seen) == sorted(list(range(n)) * 2)  # every scene twice in two passes' worth of epochs
    assert len(set(epochs[0] + epochs[1])) == 2 * per  # within a pass no scene comes back
    again = EpochShuffleSampler(n, 3, per)
    again.set_epoch(3)
    assert list(again) == epochs[3]  # an epoch's scenes and order depend on the seed and the epoch alone (resumable)
    whole = EpochShuffleSampler(n, 3, 0)
    assert len(whole) == n and len(EpochShuffleSampler(n, 3, n)) == n  # 0 (or all): every scene every epoch
    whole.set_epoch(2)
    assert sorted(whole) == list(range(n))
    with pytest.raises(ValueError, match="per_epoch must be an integer >= 0"):
        EpochShuffleSampler(n, 3, -1)


def test_the_train_loader_takes_scenes_per_epoch(tiny_corpus, tmp_path):
    dm = StClothoDataModule(tiny_corpus, batch_size=2, features=FeatureConfig(), cache_dir=tmp_path, seed=5, scenes_per_epoch=4)
    dm.setup("fit")
    loader = dm.train_dataloader()
    assert len(dm.dataset("train")) > 4 and len(loader) == 2
    assert sum(len(b["ids"]) for b in loader_batches(loader, 0)) == 4 * 3  # groups of pos, neg_t, neg_s
    assert len(dm.val_dataloader().dataset) == len(dm.dataset("val"))  # validation is untouched


def test_one_worker_yields_the_same_batches(tiny_corpus, tmp_path):
    def batches(workers, **kw):
        dm = StClothoDataModule(tiny_corpus, batch_size=3, features=FeatureConfig(), cache_dir=tmp_path, seed=2, num_workers=workers, **kw)
        dm.setup("fit")
        loader = dm.train_dataloader()
        assert loader.num_workers == workers and loader.persistent_workers == (workers > 0)
        return [loader_batches(loader, e) for e in (0, 1)]

    serial, parallel = batches(0), batches(1, prefetch_factor=1)
    assert len(serial[0]) == 3
    for a_epoch, b_epoch in zip(serial, parallel):
        assert len(a_epoch) == len(b_epoch)
        for a, b in zip(a_epoch, b_epoch):
            assert_same(a, b)


def test_dataset_pickles_without_the_cache_file(tiny_corpus, tmp_path):
    ds = cached(tiny_corpus, tmp_path)
    ds[0]
    assert ds._cache is not None and ds._cache._fd is not None
    blob = pickle.dumps(ds)
    assert len(blob) < ds.cache_path.stat().st_size // 4
    again = pickle.loads(blob)
    assert again._cache is None
    assert_same(again[1], ds[1])


def test_data_module_loader_options(tiny_corpus, tmp_path):
    dm = StClothoDataModule(tiny_corpus, batch_size=2, features=None, pin_memory=True, num_workers=2, prefetch_factor=3)
    dm.setup("fit")
    loader = dm.train_dataloader()
    assert loader.pin_memory is True and loader.num_workers == 2
    assert loader.persistent_workers is True and loader.prefetch_factor == 3
    dm = StClothoDataModule(tiny_corpus, num_workers=2, persistent_workers=False)
    assert dm.persistent_workers is False
    dm = StClothoDataModule(tiny_corpus)
    assert (dm.num_workers, dm.pin_memory, dm.persistent_workers, dm.prefetch_factor) == (0, False, False, None)
    for kwargs, match in [
        (dict(num_workers=-1), "num_workers must be an integer >= 0, got -1"),
        (dict(num_workers=1.5), "num_workers must be an integer"),
        (dict(num_workers=True), "num_workers must be an integer"),
        (dict(pin_memory="yes"), "pin_memory must be True or False"),
        (dict(pin_memory=1), "pin_memory must be True or False"),
        (dict(persistent_workers=True), r"persistent_workers=True needs num_workers > 0"),
        (dict(num_workers=1, persistent_workers="no"), "persistent_workers must be"),
        (dict(prefetch_factor=2), r"prefetch_factor=2 needs num_workers > 0"),
        (dict(num_workers=1, prefetch_factor=0), "prefetch_factor must be an integer >= 1"),
        (dict(batch_size=0), "batch_size must be an integer >= 1"),
    ]:
        with pytest.raises(ValueError, match=match):
            StClothoDataModule(tiny_corpus, **kwargs)
    assert StClothoDataModule(tiny_corpus, num_workers=np.int64(2)).num_workers == 2


def test_npy_rows_reads_what_a_memmap_reads(tmp_path):
    from sclap_nb.data.dataset import NpyRows

    a = np.random.default_rng(0).standard_normal((9, 3, 5, 4)).astype(np.float16)
    np.save(tmp_path / "x.npy", a)
    rows = NpyRows(tmp_path / "x.npy")
    assert rows.shape == a.shape and rows.dtype == a.dtype
    idx = [8, 0, 3, 3, 5]
    np.testing.assert_array_equal(rows.read(idx), np.load(tmp_path / "x.npy", mmap_mode="r")[idx])
    again = pickle.loads(pickle.dumps(rows))  # opens its own descriptor
    np.testing.assert_array_equal(again.read([2]), a[[2]])
    with pytest.raises(IndexError, match="rows 0..9 asked of 9"):
        rows.read([0, 9])


def test_npy_rows_refuses_a_truncated_cache(tmp_path):
    from sclap_nb.data import CorpusError
    from sclap_nb.data.dataset import NpyRows

    np.save(tmp_path / "x.npy", np.zeros((4, 10), np.float16))
    data = (tmp_path / "x.npy").read_bytes()
    (tmp_path / "x.npy").write_bytes(data[:-7])
    with pytest.raises(CorpusError, match=r"x\.npy: truncated"):
        NpyRows(tmp_path / "x.npy")
    (tmp_path / "y.npy").write_bytes(b"not an array")
    with pytest.raises(CorpusError, match=r"y\.npy: not a \.npy feature cache"):
        NpyRows(tmp_path / "y.npy")

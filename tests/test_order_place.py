"""The class-order negative neg_c (B@p0 then A@p2), order / placement accuracy and the reference scorers.

In stClotho's triplet both negatives reverse the order of the directions, so direction alone
separates them from pos; neg_c keeps pos's direction order and swaps the sounds. The reference
scorers show what a scorer that knows only one thing reaches on each metric.
"""

from __future__ import annotations

import csv
import json
import shutil
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
import torch
import torch.nn.functional as F

import sclap_nb.data.dataset as dataset_mod
from sclap_nb.data import (
    ROLES,
    SPEC_ROLES,
    CorpusError,
    StClothoDataModule,
    StClothoDataset,
    build_corpus,
    collate_groups,
    direction_phrase,
    doa_vector,
    ensure_corpus,
    read_metadata,
    scene_roles,
    validate_corpus,
)
from sclap_nb.data.__main__ import main as data_cli
from sclap_nb.features import FeatureConfig, FOAFeatures, iv_direction
from sclap_nb.metrics import GROUP_ROLES, group_scores, order_place_accuracy, order_place_from_scores, three_way_accuracy
from sclap_nb.reference import SCORERS, direction_only, order_blind, reference_metrics, sound_order
from sclap_nb.reference import main as reference_cli

BUILD = dict(n_train=4, n_val=2, n_test=24, seed=3)


@pytest.fixture(scope="module")
def corpus(tmp_path_factory) -> Path:
    """A corpus with rooms (the default), 24 test scenes."""
    return ensure_corpus(tmp_path_factory.mktemp("op") / "c", **BUILD, progress=False)


@pytest.fixture(scope="module")
def anechoic(tmp_path_factory) -> Path:
    return build_corpus(tmp_path_factory.mktemp("op") / "a", 2, 1, 4, seed=3, anechoic=True, progress=False)


@pytest.fixture(scope="module")
def old(corpus, tmp_path_factory) -> Path:
    """``corpus`` as a corpus built before neg_c: its rows and files deleted, format_version 1."""
    root = tmp_path_factory.mktemp("op") / "old"
    shutil.copytree(corpus, root, ignore=shutil.ignore_patterns("cache"))
    for split in ("train", "val", "test"):
        path = root / "metadata" / f"{split}.csv"
        with open(path, newline="") as f:
            rows = list(csv.DictReader(f))
        with open(path, "w", newline="") as f:
            w = csv.DictWriter(f, fieldnames=list(rows[0]), lineterminator="\n")
            w.writeheader()
            w.writerows(r for r in rows if r["role"] != "neg_c")
        for wav in (root / "audio" / split).glob("class_negative_*.wav"):
            wav.unlink()
    manifest = json.loads((root / "corpus.json").read_text())
    (root / "corpus.json").write_text(json.dumps({**manifest, "format_version": 1}))
    return root


def _scenes(root: Path, split: str) -> list[dict[str, dict]]:
    out: dict[int, dict[str, dict]] = {}
    for r in read_metadata(root, split):
        out.setdefault(r["scene"], {})[r["role"]] = r
    return list(out.values())


def _wave(root: Path, row: dict) -> np.ndarray:
    return sf.read(str(root / row["file"]), dtype="float32", always_2d=True)[0].T.copy()


# ---------------------------------------------------------------- (a) the neg_c clip holds B@p0 then A@p2


def test_neg_c_metadata_and_caption(corpus):
    half = 1.0
    assert ROLES == ("pos", "neg_t", "neg_s", "neg_c") and SPEC_ROLES == ROLES[:3] and GROUP_ROLES == ROLES
    for split in ("train", "val", "test"):
        assert scene_roles(read_metadata(corpus, split)) == ROLES
        for g in _scenes(corpus, split):
            pos, neg_t, neg_c = g["pos"], g["neg_t"], g["neg_c"]
            assert neg_c["file"] == f"audio/{split}/class_negative_{pos['scene']:06d}.wav"
            # the sounds of neg_t (B then A), at pos's directions in pos's order (p0 then p2)
            for k in ("class", "source", "onset", "duration"):
                assert (neg_c[f"{k}_1"], neg_c[f"{k}_2"]) == (neg_t[f"{k}_1"], neg_t[f"{k}_2"]), k
            assert (neg_c["class_1"], neg_c["class_2"]) == (pos["class_2"], pos["class_1"])
            assert neg_c["onset_1"] == pytest.approx(pos["onset_2"] - half, abs=1e-4)
            for k in ("azimuth", "elevation"):
                assert (neg_c[f"{k}_1"], neg_c[f"{k}_2"]) == (pos[f"{k}_1"], pos[f"{k}_2"]), k
            assert neg_c["plain_caption"] == neg_t["plain_caption"]
            cap, d1, d2 = neg_c["caption"], direction_phrase(pos["azimuth_1"]), direction_phrase(pos["azimuth_2"])
            assert cap.index(d1) < cap.rindex(d2)
            assert cap not in (pos["caption"], neg_t["caption"], g["neg_s"]["caption"])


def _halves(wave: np.ndarray, hop: int = 320) -> tuple[np.ndarray, np.ndarray]:
    w = wave[0, : wave.shape[1] // hop * hop].reshape(-1, hop)
    env = (w.astype(np.float64) ** 2).mean(1)
    return env[: len(env) // 2], env[len(env) // 2 :]


@pytest.mark.parametrize("which", ["anechoic", "corpus"])
def test_neg_c_holds_neg_s_halves_swapped(which, request):
    """neg_s = A@p2, B@p0, so B@p0 then A@p2 is neg_s with its halves swapped (each event keeps its
    offset in its half): exactly without a room, up to the reverberant tail that crosses the middle
    in one. neg_t's halves (B@p2, A@p0) are the same sounds from the other positions: far off."""
    root = request.getfixturevalue(which)

    def rel(a, b):
        return np.linalg.norm(a - b) / np.linalg.norm(b)

    for g in _scenes(root, "test"):
        c, s, t = (_wave(root, g[r]) for r in ("neg_c", "neg_s", "neg_t"))
        h = c.shape[1] // 2
        assert max(rel(c[:, :h], s[:, h:]), rel(c[:, h:], s[:, :h])) < 0.05, g["pos"]["id"]
        assert min(rel(c[:, :h], t[:, :h]), rel(c[:, h:], t[:, h:])) > 0.2, g["pos"]["id"]


def test_neg_c_swaps_the_sounds_in_time(anechoic):
    for g in _scenes(anechoic, "test"):
        p1, p2 = _halves(_wave(anechoic, g["pos"]))
        c1, c2 = _halves(_wave(anechoic, g["neg_c"]))
        swapped = np.corrcoef(c1, p2)[0, 1], np.corrcoef(c2, p1)[0, 1]
        same = np.corrcoef(c1, p1)[0, 1], np.corrcoef(c2, p2)[0, 1]
        assert min(swapped) > 0.9, (g["pos"]["id"], swapped)
        assert max(same) < min(swapped), (g["pos"]["id"], same, swapped)


def test_neg_c_keeps_pos_directions_by_intensity_vector(anechoic):
    cfg = FeatureConfig()
    fe = FOAFeatures(cfg)
    for split in ("train", "val", "test"):
        for g in _scenes(anechoic, split):
            est = {}
            for role in ("pos", "neg_c"):
                r = g[role]
                _, liv = fe(torch.from_numpy(_wave(anechoic, r))[None])
                t = torch.arange(liv.shape[2]) * cfg.hop_length / cfg.sample_rate
                for e in (1, 2):
                    on, du = r[f"onset_{e}"], r[f"duration_{e}"]
                    weights = ((t >= on + 0.05) & (t <= on + du - 0.05)).float()[None]
                    est[role, e] = doa_vector(*iv_direction(liv, weights)[0].tolist())
            for e in (1, 2):
                label = doa_vector(g["pos"][f"azimuth_{e}"], g["pos"][f"elevation_{e}"])
                for v in (est["neg_c", e], est["pos", e]):
                    assert np.degrees(np.arccos(np.clip(v @ label, -1, 1))) < 20, (g["pos"]["id"], e)
                assert np.degrees(np.arccos(np.clip(est["neg_c", e] @ est["pos", e], -1, 1))) < 20


# ---------------------------------------------------------------- (b) reference scorers


NEAR_HALF = (0.25, 0.75)


def _near_half(x: float) -> bool:
    return NEAR_HALF[0] <= x <= NEAR_HALF[1]


def test_reference_scorers_reproduce_the_table(corpus, capsys):
    m = reference_metrics(corpus, "test")
    assert set(m) == {f"reference/{s}/{k}" for s in SCORERS for k in ("order_acc", "place_acc", "vs_neg_t", "vs_neg_s", "vs_neg_c")}
    d = {k.split("/", 2)[2]: v for k, v in m.items() if k.startswith("reference/direction_only/")}
    assert d["vs_neg_t"] >= 0.9 and d["vs_neg_s"] >= 0.9, d
    assert _near_half(d["vs_neg_c"]) and _near_half(d["order_acc"]) and _near_half(d["place_acc"]), d
    b = {k.split("/", 2)[2]: v for k, v in m.items() if k.startswith("reference/order_blind/")}
    assert b["vs_neg_s"] == b["vs_neg_c"] == b["place_acc"] == 1.0, b
    assert _near_half(b["vs_neg_t"]) and _near_half(b["order_acc"]), b
    s = {k.split("/", 2)[2]: v for k, v in m.items() if k.startswith("reference/sound_order/")}
    assert s["vs_neg_t"] == s["vs_neg_c"] == s["order_acc"] == 1.0, s
    assert _near_half(s["vs_neg_s"]) and _near_half(s["place_acc"]), s
    assert reference_cli([str(corpus)]) == 0
    out = capsys.readouterr().out
    assert "order_acc" in out and all(name in out for name in SCORERS)


def test_reference_scores_are_blind_where_they_should_be(corpus):
    blind, order = order_blind(corpus, "test"), sound_order(corpus, "test")
    assert blind.shape == order.shape == (24, 4)
    assert torch.equal(blind[:, 0], blind[:, 1]) and (blind[:, 0] > blind[:, 2:].max(1).values).all()  # pos = neg_t
    assert torch.equal(order[:, 0], order[:, 2]) and (order[:, 0] > order[:, [1, 3]].max(1).values).all()  # pos = neg_s
    direction = direction_only(corpus, "test")
    # neg_c has pos's directions in pos's order: its error is small, as pos's; neg_t / neg_s are far off
    assert (direction[:, [0, 3]].min(1).values > direction[:, [1, 2]].max(1).values).float().mean() >= 0.9
    assert (-direction[:, [0, 3]]).median() < 30


# ---------------------------------------------------------------- (c) order_place_accuracy on hand-made embeddings


def _unit(*shape, seed=0):
    return F.normalize(torch.randn(*shape, generator=torch.Generator().manual_seed(seed)), dim=-1)


B = 400


def _groups_of(per_role: dict[str, torch.Tensor]) -> tuple[torch.Tensor, list[str]]:
    """(B, D) per role -> (4B, D) in groups [pos, neg_t, neg_s, neg_c] and the roles."""
    stacked = torch.stack([per_role[r] for r in ROLES], 1)
    return stacked.reshape(-1, stacked.shape[-1]), list(ROLES) * len(stacked)


def test_perfect_model_scores_one():
    audio = _unit(4 * B, 16)
    m = order_place_accuracy(audio, audio.clone(), list(ROLES) * B)
    assert m == {"order_acc": 1.0, "place_acc": 1.0, "vs_neg_t": 1.0, "vs_neg_s": 1.0, "vs_neg_c": 1.0}


def test_collapsed_embeddings_score_at_chance():
    audio = F.normalize(torch.ones(4 * B, 8), dim=-1)
    m = order_place_accuracy(audio, audio.clone(), list(ROLES) * B)
    for k in ("vs_neg_t", "vs_neg_s", "vs_neg_c"):
        assert abs(m[k] - 0.5) < 0.08, m  # a tie is a coin flip
    for k in ("order_acc", "place_acc"):
        assert abs(m[k] - 1 / 3) < 0.08, m  # pos must win a three-way tie


def test_a_direction_order_model_is_at_chance_on_order_and_place():
    """Audio that encodes only the order of the directions: pos and neg_c (p0, p2) look the same."""
    d0, d1 = _unit(B, 16, seed=1), _unit(B, 16, seed=2)
    audio, roles = _groups_of({"pos": d0, "neg_c": d0, "neg_t": d1, "neg_s": d1})
    text, _ = _groups_of({"pos": d0, "neg_c": d0, "neg_t": d1, "neg_s": d1})
    m = order_place_accuracy(audio, text, roles)
    assert m["vs_neg_t"] == m["vs_neg_s"] == 1.0
    assert abs(m["vs_neg_c"] - 0.5) < 0.08 and abs(m["order_acc"] - 0.5) < 0.08 and abs(m["place_acc"] - 0.5) < 0.08, m
    # one that encodes only the order of the sounds: pos = neg_s, neg_t = neg_c
    audio, roles = _groups_of({"pos": d0, "neg_s": d0, "neg_t": d1, "neg_c": d1})
    m = order_place_accuracy(audio, text, roles)
    assert m["order_acc"] == m["vs_neg_t"] == m["vs_neg_c"] == 1.0 and abs(m["place_acc"] - 0.5) < 0.08, m


def test_triplets_give_the_three_way_accuracy_and_no_order_place():
    audio, text = _unit(3 * B, 8, seed=3), _unit(3 * B, 8, seed=4)
    m = order_place_accuracy(audio, text, list(SPEC_ROLES) * B)
    acc = three_way_accuracy(audio, text)
    assert m == {"vs_neg_t": acc["temporal"], "vs_neg_s": acc["spatial"]}
    s = group_scores(audio, text, list(SPEC_ROLES) * B)
    assert s.shape == (B, 4) and s[:, 3].isnan().all() and not s[:, :3].isnan().any()
    torch.testing.assert_close(s[1, 2], (text[3] @ audio[5]).double())


def test_group_scores_checks_the_roles():
    a = _unit(8, 4)
    with pytest.raises(ValueError, match="order"):
        group_scores(a, a, ["pos", "neg_s", "neg_t", "neg_c"] * 2)
    with pytest.raises(ValueError, match="starts with 'pos'"):
        group_scores(a, a, ["neg_t", "pos", "neg_s", "neg_c"] * 2)
    with pytest.raises(ValueError, match="not in"):
        group_scores(a, a, ["pos", "neg_t", "neg_s", "neg_x"] * 2)
    with pytest.raises(ValueError, match="8 clips"):
        group_scores(a, a, list(ROLES))
    # groups of mixed sizes: the metrics of each comparison over the scenes that hold it
    s = group_scores(a[:7], a[:7], ["pos", "neg_t", "neg_s", "neg_c", "pos", "neg_t", "neg_c"])
    assert s[1, 2].isnan() and not s[1, 3].isnan()
    assert set(order_place_from_scores(s)) == {"order_acc", "place_acc", "vs_neg_t", "vs_neg_s", "vs_neg_c"}


# ---------------------------------------------------------------- (d) corpora built before neg_c


def test_a_corpus_without_neg_c_still_reads(old, corpus):
    rows = read_metadata(old, "test")
    assert scene_roles(rows) == SPEC_ROLES and len(rows) == 3 * 24
    assert [r["role"] for r in rows[:6]] == list(SPEC_ROLES) * 2
    validate_corpus(old, deep=False)
    ds = StClothoDataset(old, "test")
    assert len(ds) == 24 and ds.group_size == 3 and ds[1]["ids"] == [f"test_000001_{r}" for r in SPEC_ROLES]
    assert StClothoDataset(old, "test", roles="all").group_size == 3
    assert len(StClothoDataset(old, "test", mode="plain")) == 72
    for mode in ("triplet", "plain"):
        with pytest.raises(ValueError, match=r"test.csv: no \['neg_c'\] clips"):
            StClothoDataset(old, "test", mode=mode, roles=ROLES)
    dm = StClothoDataModule(old, batch_size=4, features=None)
    dm.setup("fit")
    assert dm.dataset("val").group_size == 3 and dm.dataset("train").group_size == 3
    m = reference_metrics(old, "test")
    assert set(m) == {f"reference/{s}/{k}" for s in SCORERS for k in ("vs_neg_t", "vs_neg_s")}
    # reused as it is, never for a build request: this code builds scenes of 4 clips
    assert ensure_corpus(old) == old
    with pytest.raises(CorpusError, match=r"format_version 1, this code builds 2 .*another directory") as e:
        ensure_corpus(old, **BUILD, progress=False)
    assert "\n" not in str(e.value)
    assert ensure_corpus(corpus, **BUILD, progress=False) == corpus


def test_validate_counts_scenes(corpus, old, capsys):
    for root, clips in ((corpus, 96), (old, 72)):
        assert data_cli(["validate", str(root)]) == 0
        assert f"test 24 scenes ({clips} clips)" in capsys.readouterr().out


# ---------------------------------------------------------------- (e) groups of 4 and of 3


def test_groups_of_4_and_of_3(corpus, tmp_path, monkeypatch):
    cfg = FeatureConfig()
    four = StClothoDataset(corpus, "test", features=cfg, cache_dir=tmp_path, roles=ROLES)
    three = StClothoDataset(corpus, "test", features=cfg, cache_dir=tmp_path)
    plain = StClothoDataset(corpus, "val", mode="plain", features=cfg, cache_dir=tmp_path)
    assert (four.group_size, three.group_size, len(four), len(three)) == (4, 3, 24, 24)
    assert StClothoDataset(corpus, "test", roles=("neg_c", "pos")).roles == ("pos", "neg_c")  # ROLES order
    stored, rows = np.load(four.cache_path), read_metadata(corpus, "test")

    def boom(*a, **k):
        raise AssertionError("a WAV was read")

    monkeypatch.setattr(dataset_mod, "load_clip", boom)
    for i in (0, 7, 23):
        a, b = four[i], three[i]
        assert a["roles"] == list(ROLES) and b["roles"] == list(SPEC_ROLES)
        assert a["ids"] == [r["id"] for r in rows[4 * i : 4 * i + 4]] and b["ids"] == a["ids"][:3]
        assert torch.equal(a["logmeliv"], torch.from_numpy(stored[4 * i : 4 * i + 4].astype(np.float32)))
        assert torch.equal(a["logmeliv"][:3], b["logmeliv"]) and torch.equal(a["doa"][:3], b["doa"])
        assert a["text_comb"][3] == rows[4 * i + 3]["caption"] and "wave" not in a
        torch.testing.assert_close(a["doa"][3], a["doa"][0])  # neg_c: pos's directions in pos's order
    order = [5, 0, 23]
    batch = collate_groups(four.__getitems__(order))
    listed = collate_groups([four[i] for i in order])
    assert batch["group_size"] == 4 and batch["roles"] == list(ROLES) * 3 and batch["ids"] == listed["ids"]
    assert torch.equal(batch["logmeliv"], listed["logmeliv"]) and batch["logmeliv"].shape[0] == 12
    # the roles of every group in ROLES order, the same in every group
    swapped = dict(four[1], roles=["pos", "neg_t", "neg_c", "neg_s"])
    with pytest.raises(ValueError, match="not in the order"):
        collate_groups([four[0], swapped])
    dropped = {k: (v if k == "group_size" else v[[0, 1, 3]]) if torch.is_tensor(v) else v for k, v in four[1].items()}
    dropped.update({k: [four[1][k][j] for j in (0, 1, 3)] for k in ("text_comb", "text", "ids", "roles")}, group_size=3)
    with pytest.raises(ValueError, match="the first group"):
        collate_groups([three[0], dropped])
    assert collate_groups([three[0], three[1]])["roles"] == list(SPEC_ROLES) * 2
    assert len(plain) == 8 and collate_groups([plain[i] for i in range(4)])["roles"] == list(ROLES)  # plain: any roles


def test_dataset_role_arguments(corpus):
    for roles, match in [(("neg_t", "neg_s"), "must include 'pos'"), ("pos", "without repeats"), (("pos", "pos"), "without repeats"),
                         (("pos", "neg_x"), "subset"), ((), "non-empty")]:  # fmt: skip
        with pytest.raises(ValueError, match=match):
            StClothoDataset(corpus, "val", roles=roles)


def test_data_module_trains_on_triplets_and_evaluates_on_groups_of_4(corpus):
    dm = StClothoDataModule(corpus, batch_size=2, features=None)
    dm.setup()
    assert [dm.dataset(s).group_size for s in ("train", "val", "test")] == [3, 4, 4]
    batch = next(iter(dm.val_dataloader()))
    assert batch["roles"] == list(ROLES) * 2 and batch["wave"].shape == (8, 4, 32000)
    assert next(iter(dm.train_dataloader()))["roles"] == list(SPEC_ROLES) * 2
    dm = StClothoDataModule(corpus, batch_size=2, features=None, roles=ROLES, eval_roles=SPEC_ROLES)
    assert [dm.dataset(s).group_size for s in ("train", "val", "test")] == [4, 3, 3]
    dm = StClothoDataModule(corpus, batch_size=2, features=None, mode="plain")
    assert len(dm.dataset("train")) == 12 and len(dm.dataset("val")) == 8  # train: the triplet's clips

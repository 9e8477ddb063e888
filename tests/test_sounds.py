"""The corpus's sounds (soundfont, library, mixed), the single-event clips, and the held-out figures."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
import torch
import torch.nn as nn

from sclap_nb.data import ensure_corpus, read_metadata
from sclap_nb.data import library as L
from sclap_nb.data.errors import CorpusError
from sclap_nb.data.event_clips import EventClipBatches, build_event_clips, ensure_event_clips, read_event_clips
from sclap_nb.data.sounds import MixedSource, heldout_source, library_identity, sound_source
from sclap_nb.data.spatial import azimuth_of
from sclap_nb.heldout import classification_metrics
from sclap_nb.pretrained import AisfxEmbedder

SR = 16000
#: the fake library's classes, each a pure tone of its own frequency, and its splits
TONES = {"Dog": 300.0, "Cat": 520.0, "Bell": 880.0, "Piano": 1400.0, "Owl": 2300.0}
SPLIT_CLASSES = {"train": ["Dog", "Cat", "Bell"], "val": ["Dog", "Cat"], "test": ["Dog", "Bell", "Cat"],
                 "heldout": ["Piano", "Owl", "Cat"]}  # fmt: skip


def fake_library(root: Path, takes: int = 2) -> Path:
    """A built library of tones: ``takes`` recordings per class and split (0.6-0.9 s, 16 kHz FLAC)."""
    rows = []
    (root / "audio").mkdir(parents=True)
    for split, classes in SPLIT_CLASSES.items():
        for c in classes:
            for t in range(takes):
                rel = f"audio/{split}-{L._slug(c)}-{t}.flac"
                n = int((0.6 + 0.3 * t / max(1, takes - 1)) * SR)
                tone = 0.3 * np.sin(2 * np.pi * TONES[c] * np.arange(n) / SR).astype(np.float32)
                sf.write(root / rel, tone, SR, format="FLAC")
                rows.append({"file": rel, "class": c, "package": f"p-{split}", "version": "1", "licence": "GPL-2+",
                             "sha256": "0", "source_path": rel, "duration_s": f"{n / SR:.3f}", "sample_rate": str(SR),
                             "split": split, "group": rel})  # fmt: skip
    L.write_manifest(rows, root / "manifest.csv")
    return root


@pytest.fixture
def library(tmp_path):
    return fake_library(tmp_path / "lib")


# ---------------------------------------------------------------- one source of several


def test_mixed_source_joins_classes_and_partitions(library):
    lib = L.LibrarySource(library)
    mixed = sound_source("mixed", library)
    assert isinstance(mixed, MixedSource) and len(mixed) == 35 + len(lib)
    assert mixed.labels[35:] == lib.labels
    parts = mixed.partition({"train": 4, "val": 2, "test": 4}, seed=0)
    for split in ("train", "val", "test"):
        soundfont = [k for k in parts[split] if k < 35]
        assert soundfont == list(range(35))  # the soundfont's classes are in every split
        recorded = sorted((lib.labels[k - 35], lib.splits[k - 35]) for k in parts[split] if k >= 35)
        assert recorded == sorted((c, split) for c in SPLIT_CLASSES[split])  # the library's only in their own split
    k = mixed.labels.index("Bell", 35)
    ev = mixed.render(k, np.random.default_rng(0), 0.5)
    spectrum = np.abs(np.fft.rfft(ev.audio))
    assert abs(np.argmax(spectrum) * SR / len(ev.audio) - TONES["Bell"]) < 5  # the library's Bell, not a soundfont sound
    assert sound_source("soundfont") is None and isinstance(sound_source("library", library), L.LibrarySource)
    with pytest.raises(ValueError, match="sounds must be one of"):
        sound_source("synth", library)


def test_a_mix_of_other_sample_rates_is_refused(library):
    with pytest.raises(ValueError, match="sample rates differ"):
        MixedSource(L.LibrarySource(library, 16000), L.LibrarySource(library, 24000))


def test_heldout_source_is_the_heldout_packages(library):
    held = heldout_source(library)
    test = held.partition({"train": 0, "val": 0, "test": 4}, seed=0)["test"]
    assert sorted(held.labels[k] for k in test) == sorted(SPLIT_CLASSES["heldout"])
    assert all("heldout-" in f for k in test for f in held.files(k))


def test_a_corpus_of_one_library_is_not_reused_for_another(library, tmp_path):
    src = sound_source("library", library)
    out = ensure_corpus(tmp_path / "c", 4, 0, 2, seed=3, source=src, progress=False)
    classes = {r["class_1"] for r in read_metadata(out, "train")} | {r["class_2"] for r in read_metadata(out, "train")}
    assert classes <= set(SPLIT_CLASSES["train"])
    assert json.loads((out / "corpus.json").read_text())["source"] == f"LibrarySource:{library_identity(library)}"
    assert ensure_corpus(tmp_path / "c", 4, 0, 2, seed=3, source=sound_source("library", library), progress=False) == out
    with open(library / "manifest.csv", "a", newline="") as f:  # the library changes: one more recording
        first = next(csv.DictReader(open(library / "manifest.csv", newline="")))
        csv.DictWriter(f, fieldnames=list(first)).writerow(first)
    with pytest.raises(CorpusError, match="source"):
        ensure_corpus(tmp_path / "c", 4, 0, 2, seed=3, source=sound_source("library", library), progress=False)


# ---------------------------------------------------------------- single-event clips


def test_event_clips_hold_each_recording_once_where_and_when_the_csv_says(library, tmp_path):
    out = build_event_clips(tmp_path / "ev", heldout_source(library), "test", seed=5, clip_seconds=2.0, anechoic=True)
    rows, captions = read_event_clips(out)
    assert len(rows) == 2 * len(SPLIT_CLASSES["heldout"]) and sorted(captions) == sorted(SPLIT_CLASSES["heldout"])
    assert len({r["recording"] for r in rows}) == len(rows)
    for r in rows:
        x, sr = sf.read(r["file"], dtype="float32", always_2d=True)
        assert x.shape == (2 * SR, 4) and sr == SR
        w = x[:, 0]
        onset, dur = float(r["onset"]), float(r["duration"])
        inside = w[int(onset * SR) : int((onset + dur) * SR)]
        outside = np.concatenate([w[: int(onset * SR) - 16], w[int((onset + dur) * SR) + 16 :]])
        assert np.sqrt(np.mean(inside**2)) > 0.01 and (outside.size == 0 or np.abs(outside).max() < 1e-3)
        # the direction of the W/X/Y intensity matches the recorded azimuth (anechoic: exact up to 16-bit)
        iv = (w[:, None] * x[:, [3, 1, 2]]).sum(0)
        assert abs(((azimuth_of(torch.tensor(iv)[None]).item() - float(r["azimuth"]) + 180) % 360) - 180) < 1.0
        spectrum = np.abs(np.fft.rfft(inside))
        assert abs(np.argmax(spectrum) * SR / len(inside) - TONES[r["class"]]) < 5
    assert ensure_event_clips(out, heldout_source(library), "test", 5, SR, 2.0, True) == out
    with pytest.raises(CorpusError, match="seed"):
        ensure_event_clips(out, heldout_source(library), "test", 6, SR, 2.0, True)


def test_class_term_batches_are_a_function_of_the_step_and_rank(library, tmp_path):
    out = build_event_clips(tmp_path / "ev", sound_source("library", library), "train", seed=2, clip_seconds=1.0, anechoic=True)
    rows, captions = read_event_clips(out)
    assert {r["class"] for r in rows} == set(SPLIT_CLASSES["train"]) and len(rows) == 6  # the train recordings only
    batches = EventClipBatches(out, 4, seed=9)
    b = batches(3)
    assert b["wave"].shape == (4, 4, SR) and b["wave"].dtype == torch.float32 and len(b["text"]) == 4
    for text, label in zip(b["text"], b["label"].tolist()):
        assert text in captions[batches.classes[label]]  # each caption is a paraphrase of its clip's class
    # the label is the clip's class: its tone is the class's
    for wave, label in zip(b["wave"], b["label"].tolist()):
        spectrum = np.abs(np.fft.rfft(wave[0].numpy()))
        assert abs(np.argmax(spectrum) * SR / wave.shape[1] - TONES[batches.classes[label]]) < 5
    again = EventClipBatches(out, 4, seed=9)(3)
    assert torch.equal(again["wave"], b["wave"]) and again["text"] == b["text"]  # a resumed run draws the same
    drawn = {tuple(sorted(batches(s, r)["wave"][:, 0].abs().sum(1).tolist())) for s in range(6) for r in range(2)}
    assert len(drawn) > 3  # steps and ranks draw different clips
    with pytest.raises(ValueError, match=r"batch_size must be in \[2, 6\]"):
        EventClipBatches(out, 7)


def test_class_term_batches_carry_the_clips_pretrained_features(library, tmp_path):
    pytest.importorskip("aisfx", reason="make setup installs aisfx")
    out = build_event_clips(tmp_path / "ev", sound_source("library", library), "train", seed=2, clip_seconds=1.0, anechoic=True)
    batches = EventClipBatches(out, 4, seed=9, pretrained="aisfx")
    b = batches(3)
    assert torch.equal(b["wave"], EventClipBatches(out, 4, seed=9)(3)["wave"])  # the same draw as without them
    torch.testing.assert_close(b["aisfx"], AisfxEmbedder()(b["wave"], SR))  # each clip's own vector
    assert (out / "cache" / "aisfx.npy").is_file()
    with pytest.raises(ValueError, match="pretrained must be"):
        EventClipBatches(out, 4, pretrained="vggish")


def test_the_class_term_needs_library_sounds(tmp_path):
    from conftest import tiny_config

    from sclap_nb.config import ConfigError
    from sclap_nb.run import class_batches

    assert class_batches(tiny_config("default", {}), tmp_path) is None  # off: nothing built
    with pytest.raises(ConfigError, match="needs the embedded corpus with data.sounds library or mixed"):
        class_batches(tiny_config("default", {"loss.w_class": 1.0}), tmp_path)


# ---------------------------------------------------------------- zero-shot classification


class ToneModel(nn.Module):
    """A stand-in model that knows the tones: audio -> one-hot of the nearest tone, caption -> one-hot of its class."""

    def __init__(self, captions: dict[str, list[str]], swap: tuple[str, str] | None = None):
        super().__init__()
        self.anchor = nn.Parameter(torch.zeros(1))
        self.names = list(TONES)
        self.of_caption = {c: name for name, caps in captions.items() for c in caps}
        if swap:  # a model that confuses two classes
            a, b = self.names.index(swap[0]), self.names.index(swap[1])
            self.names[a], self.names[b] = self.names[b], self.names[a]

    def features(self, wave):
        return wave, wave

    def encode_wave(self, wave):
        return self.encode_audio(*self.features(wave))

    def encode_audio(self, logmel, logmeliv):
        w = logmel[:, 0]
        peak = torch.fft.rfft(w).abs().argmax(1).float() * SR / w.shape[1]
        k = torch.stack([(peak - f).abs() for f in TONES.values()], 1).argmin(1)
        e = torch.nn.functional.one_hot(k, len(TONES)).float()
        return {"e_sed": e, "e_joint": e, "e_triplet": None}

    def encode_text(self, captions):
        return torch.stack([torch.nn.functional.one_hot(torch.tensor(self.names.index(self.of_caption[c])), len(TONES)).float()
                            for c in captions])  # fmt: skip


def test_zero_shot_classification_reads_the_labels_right(library, tmp_path):
    out = build_event_clips(tmp_path / "ev", heldout_source(library), "test", seed=1, clip_seconds=2.0, anechoic=True)
    _, captions = read_event_clips(out)
    m = classification_metrics(ToneModel(captions), out, "heldout", batch_size=4)
    assert m["heldout/joint/zero_shot_acc"] == 1.0 and "heldout/triplet/zero_shot_acc" not in m
    assert m["heldout/zero_shot_classes"] == 3 and m["heldout/zero_shot_chance"] == pytest.approx(1 / 3)
    confused = classification_metrics(ToneModel(captions, swap=("Piano", "Owl")), out, "heldout", batch_size=4)
    assert confused["heldout/joint/zero_shot_acc"] == pytest.approx(1 / 3)  # only the Cat clips right


# ---------------------------------------------------------------- a run with library sounds


@pytest.mark.slow
def test_a_run_on_mixed_sounds_reports_the_heldout_packages(library, tmp_path):
    from conftest import tiny_config

    from sclap_nb.run import run

    cfg = tiny_config("default", {"data.sounds": "mixed", "data.library_dir": str(library), "data.n_train": 6,
                                  "data.n_val": 2, "data.n_test": 3, "optim.epochs": 1, "optim.batch_size": 3,
                                  "runtime.out_dir": str(tmp_path / "run")})  # fmt: skip
    metrics = run(cfg, tmp_path)
    corpus = Path(metrics["corpus"])
    assert corpus.name.endswith("-mixed")
    assert json.loads((corpus / "corpus.json").read_text())["source"] == f"SoundfontSource+LibrarySource:{library_identity(library)}"
    for key in ("heldout/joint/t2a/R@1", "heldout/triplet/t2a/R@1", "heldout/triplet/order_acc",
                "heldout/joint/zero_shot_acc", "library/triplet/zero_shot_acc"):  # fmt: skip
        assert 0.0 <= metrics[key] <= 1.0, key
    assert metrics["heldout/zero_shot_classes"] == 3 and metrics["library/zero_shot_classes"] == 3
    assert metrics["heldout/zero_shot_clips"] == 6
    saved = json.loads((tmp_path / "run" / "metrics.json").read_text())
    assert saved["heldout/joint/zero_shot_acc"] == metrics["heldout/joint/zero_shot_acc"]
    # the held-out scenes are made of held-out recordings only
    scenes = tmp_path / "data" / next(p.name for p in (tmp_path / "data").iterdir() if p.name.startswith("heldout-scenes"))
    rows = read_metadata(scenes, "test")
    assert rows and {r["class_1"] for r in rows} | {r["class_2"] for r in rows} <= set(SPLIT_CLASSES["heldout"])
    assert all("heldout-" in r["source_1"] and "heldout-" in r["source_2"] for r in rows)


@pytest.mark.slow
def test_a_run_with_the_class_term_trains_on_the_library_train_clips(library, tmp_path):
    from conftest import tiny_config

    from sclap_nb.run import run
    from sclap_nb.viz import read_log

    settings = {"data.sounds": "mixed", "data.library_dir": str(library), "data.n_train": 6, "data.n_val": 2,
                "data.n_test": 3, "optim.epochs": 1, "optim.batch_size": 3, "data.class_batch": 4}  # fmt: skip
    on = run(tiny_config("default", {**settings, "loss.w_class": 1.0, "runtime.out_dir": str(tmp_path / "on")}), tmp_path)
    steps = read_log(tmp_path / "on")
    logged = steps["train/loss_class_step"].dropna()
    assert len(logged) == 2 and (logged > 0).all()  # 6 scenes / 3 a step, each with its class batch
    assert (steps["train/w_class_step"].dropna() == 1.0).all()
    clips = tmp_path / "data" / next(p.name for p in (tmp_path / "data").iterdir() if p.name.startswith("library-train-clips"))
    rows, _ = read_event_clips(clips)
    assert {r["class"] for r in rows} == set(SPLIT_CLASSES["train"]) and all("train-" in r["recording"] for r in rows)
    off = run(tiny_config("default", {**settings, "runtime.out_dir": str(tmp_path / "off")}), tmp_path)
    logged_off = read_log(tmp_path / "off")["train/loss_class_step"].dropna()
    assert (logged_off == 0).all()
    assert on["triplet/t2a/R@1"] != off["triplet/t2a/R@1"] or on["LE_deg"] != off["LE_deg"]  # the term changed the training


def test_the_build_command_takes_the_library(library, tmp_path, capsys):
    from sclap_nb.data.__main__ import main

    out = tmp_path / "c"
    assert main(["build", "--out", str(out), "--train", "4", "--val", "0", "--test", "3", "--sounds", "library",
                 "--library", str(library), "--heldout-test", "--no-progress"]) == 0  # fmt: skip
    test = read_metadata(out, "test")
    assert {r["class_1"] for r in test} | {r["class_2"] for r in test} <= set(SPLIT_CLASSES["heldout"])
    train = read_metadata(out, "train")
    assert {r["class_1"] for r in train} | {r["class_2"] for r in train} <= set(SPLIT_CLASSES["train"])
    assert main(["build", "--out", str(tmp_path / "d"), "--sounds", "mixed", "--heldout-test", "--library", str(library)]) == 1
    assert "--heldout-test needs --sounds library" in capsys.readouterr().err
    assert not (tmp_path / "d").exists()

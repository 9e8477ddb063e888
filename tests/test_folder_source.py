"""FolderSource: chosen splits, crops from where the sound is, CSV variants, lazy reading,
caption classes and caption wording."""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from sclap_nb.data import CONNECTORS, CorpusError, FolderSource, build_corpus, read_metadata
from sclap_nb.data.__main__ import main as cli_main
from sclap_nb.data.scenes import mid_sentence

SR = 16000
HEADER = ["file_name", "caption_1", "caption_2", "caption_3", "caption_4", "caption_5"]


def _tone(freq: float, seconds: float, sr: int = SR, amp: float = 0.3) -> np.ndarray:
    t = np.arange(int(seconds * sr)) / sr
    return (amp * np.sin(2 * np.pi * freq * t)).astype(np.float32)


def _folder(folder: Path, rows: list[list[str]], header=HEADER, seconds: float = 1.5, text: str | None = None) -> Path:
    """A folder with a tone per file named in ``rows`` (column 0) and its captions CSV."""
    folder.mkdir(parents=True, exist_ok=True)
    for i, row in enumerate(rows):
        sf.write(str(folder / row[0]), _tone(200 + 90 * i, seconds), SR)
    if text is None:
        with open(folder / "captions.csv", "w", newline="", encoding="utf-8") as f:
            csv.writer(f).writerows([header, *rows])
    else:
        (folder / "captions.csv").write_bytes(text.encode("utf-8"))
    return folder


def _files_by_split(root: Path) -> dict[str, set[str]]:
    """The recordings each split's clips were cut from (the file named in source_1 / source_2)."""
    out = {}
    for split in ("train", "val", "test"):
        rows = read_metadata(root, split)
        out[split] = {r[f"source_{e}"].rsplit(":", 1)[1].split("@")[0] for r in rows for e in (1, 2)}
    return out


# ---------------------------------------------------------------- splits


def test_split_column_is_honoured(tmp_path):
    names = [f"f{i}.wav" for i in range(9)]
    given = ["train", "development", "train", "val", "validation", "test", "evaluation", "TEST", "valid"]
    rows = [[n, f"sound number {i} hums", "", "", "", "", s] for i, (n, s) in enumerate(zip(names, given))]
    src = FolderSource(_folder(tmp_path / "rec", rows, HEADER + ["split"]), sample_rate=SR)
    want = {"train": {"f0.wav", "f1.wav", "f2.wav"}, "val": {"f3.wav", "f4.wav", "f8.wav"}, "test": {"f5.wav", "f6.wav", "f7.wav"}}
    parts = src.partition({"train": 4, "val": 2, "test": 2}, seed=1)
    assert {s: {f for k in parts[s] for f in src.files(k)} for s in want} == want
    root = build_corpus(tmp_path / "c", 4, 2, 2, seed=1, source=src, anechoic=True, progress=False)
    used = _files_by_split(root)
    for split, files in used.items():
        assert files and files <= want[split], split


def test_seeded_partition_puts_each_recording_in_one_split(tmp_path):
    rows = [[f"f{i}.wav", f"sound number {i} hums", "", "", "", ""] for i in range(8)]
    src = FolderSource(_folder(tmp_path / "rec", rows), sample_rate=SR)
    root = build_corpus(tmp_path / "c", 4, 2, 2, seed=3, source=src, anechoic=True, progress=False)
    used = _files_by_split(root)
    assert not used["train"] & used["val"] and not used["train"] & used["test"] and not used["val"] & used["test"]
    assert src.partition({"train": 4, "val": 2, "test": 2}, 3) == src.partition({"train": 4, "val": 2, "test": 2}, 3)


def test_split_argument_and_cli_option(tmp_path):
    rows = [[f"f{i}.wav", f"sound number {i} hums", "", "", "", ""] for i in range(3)]
    folder = _folder(tmp_path / "rec", rows)
    src = FolderSource(folder, sample_rate=SR, split="evaluation")
    assert src.partition({"train": 0, "val": 0, "test": 2}, 0)["test"] == [0, 1, 2]
    with pytest.raises(CorpusError, match=r"split 'train' has 0 sound class"):
        src.partition({"train": 2, "val": 0, "test": 2}, 0)
    out = tmp_path / "cli"
    assert cli_main(["build", "--out", str(out), "--train", "0", "--val", "0", "--test", "2", "--anechoic",
                     "--folder", str(folder), "--folder-split", "test", "--no-progress"]) == 0  # fmt: skip
    assert len(read_metadata(out, "test")) == 8 and read_metadata(out, "train") == []


@pytest.mark.parametrize(
    "header, rows, split, match",
    [
        (HEADER + ["split"], [["f0.wav", "a hum", "", "", "", "", "train"], ["f1.wav", "a buzz", "", "", "", "", "training"]], None,
         r"captions.csv, row 2: split 'training' is not one of"),
        (HEADER + ["split"], [["f0.wav", "a hum", "", "", "", "", "train"]], "test", r"captions.csv: has a split column, and split='test'"),
    ],
)  # fmt: skip
def test_bad_split_is_refused(tmp_path, header, rows, split, match):
    with pytest.raises(CorpusError, match=match):
        FolderSource(_folder(tmp_path / "rec", rows, header), sample_rate=SR, split=split)


# ---------------------------------------------------------------- crops from where the sound is


def test_every_crop_holds_the_sound(tmp_path):
    folder = tmp_path / "rec"
    folder.mkdir()
    audio = np.concatenate([np.zeros(8 * 22050, np.float32), _tone(1000.0, 0.5, 22050)])
    sf.write(str(folder / "late.wav"), audio, 22050)
    sf.write(str(folder / "other.wav"), _tone(300.0, 2.0), SR)
    (folder / "captions.csv").write_text("file_name,caption_1\nlate.wav,a beep sounds\nother.wav,a hum\n")
    src = FolderSource(folder, sample_rate=SR)
    freqs = np.fft.rfftfreq(int(0.7 * SR), 1 / SR)
    band = np.abs(freqs - 1000.0) < 30
    for seed in range(40):
        ev = src.render(0, np.random.default_rng(seed), 0.7)
        power = np.abs(np.fft.rfft(ev.audio)) ** 2
        assert power[band].sum() > 0.95 * power.sum(), seed  # the tone, not noise
        assert np.sqrt(np.mean(ev.audio**2)) > 0.01
        start = float(ev.rendering_id.rsplit("@", 1)[1].rstrip("s"))
        assert 8.0 - 0.7 < start < 8.5, seed


def test_a_file_without_sound_is_named(tmp_path):
    folder = tmp_path / "rec"
    folder.mkdir()
    sf.write(str(folder / "quiet.wav"), _tone(500.0, 1.0, amp=1e-5), SR, subtype="FLOAT")
    (folder / "captions.csv").write_text("file_name,caption_1\nquiet.wav,a faint hum\n")
    with pytest.raises(CorpusError, match=r"captions.csv, row 1: .*quiet.wav: no sound to crop"):
        FolderSource(folder, sample_rate=SR)


# ---------------------------------------------------------------- CSV variants


@pytest.mark.parametrize("variant", ["bom", "spaces", "bom_and_spaces"])
def test_csv_variants_are_read(tmp_path, variant):
    sep = ", " if "spaces" in variant else ","
    text = sep.join(HEADER) + "\n" + sep.join(["a.wav", "A bird sings.", "A bird chirps", "", "", ""]) + "\n"
    text += sep.join(["b.wav", '"A car, then a bus"', "", "", "", ""]) + "\n"
    if "bom" in variant:
        text = "\ufeff" + text
    src = FolderSource(_folder(tmp_path / "rec", [["a.wav"], ["b.wav"]], text=text), sample_rate=SR)
    assert src.labels == ["a.wav", "b.wav"]
    assert src.captions == [("A bird sings", "A bird chirps"), ("A car, then a bus",)]


# ---------------------------------------------------------------- lazy reading


def test_audio_is_read_lazily(tmp_path, monkeypatch):
    rows = [[f"f{i}.wav", f"sound number {i} hums", "", "", "", ""] for i in range(2)]
    folder = _folder(tmp_path / "rec", rows, seconds=30.0)
    src = FolderSource(folder, sample_rate=SR)
    held = sum(v.nbytes for f in src._files for v in vars(f).values() if isinstance(v, np.ndarray))
    assert held < 0.01 * 2 * 30 * SR * 4  # an activity envelope, not the audio
    read = []
    original = sf.SoundFile.read

    def counting(self, frames=-1, *args, **kwargs):
        out = original(self, frames, *args, **kwargs)
        read.append(len(out))
        return out

    monkeypatch.setattr(sf.SoundFile, "read", counting)
    ev = src.render(1, np.random.default_rng(0), 0.5)
    assert ev.audio.shape == (SR // 2,)
    assert 0 < sum(read) <= 0.5 * SR + 2 * SR // 50  # the crop and the resampler's margins, not the 30 s file


# ---------------------------------------------------------------- classes of one caption


@pytest.mark.parametrize("by", ["caption", "label"])
def test_files_of_one_caption_are_never_a_and_b(tmp_path, by):
    dogs = [[f"dog{i}.wav", "A dog barks." if by == "caption" else f"dog recording {i}", "", "", "", ""] for i in range(5)]
    others = [["bell.wav", "A bell rings", "", "", "", ""], ["car.wav", "A car passes", "", "", "", ""]]
    header = HEADER + (["label"] if by == "label" else [])
    rows = [r + (["dog" if r[0].startswith("dog") else r[0]] if by == "label" else []) for r in dogs + others]
    src = FolderSource(_folder(tmp_path / "rec", rows, header), sample_rate=SR, split="train")
    assert len(src) == 3 and src.files(0) == [f"dog{i}.wav" for i in range(5)]
    root = build_corpus(tmp_path / "c", 12, 0, 0, seed=5, source=src, anechoic=True, progress=False)
    for r in read_metadata(root, "train"):
        files = [r[f"source_{e}"].rsplit(":", 1)[1].split("@")[0] for e in (1, 2)]
        assert not all(f.startswith("dog") for f in files), (r["id"], files)
        assert r["class_1"] != r["class_2"]
    assert any(r["class_1"] == ("dog" if by == "label" else "dog0.wav") for r in read_metadata(root, "train"))


# ---------------------------------------------------------------- caption wording


def test_mid_sentence():
    assert mid_sentence("A dog barks") == "a dog barks"
    assert mid_sentence("Tone 3 hums") == "tone 3 hums"
    assert mid_sentence("TV static hisses") == "TV static hisses"
    assert mid_sentence("NASA's rocket roars") == "NASA's rocket roars"
    assert mid_sentence("a piano plays") == "a piano plays"


def test_captions_read_as_one_sentence(tmp_path):
    rows = [["a.wav", "Tone 3 hums", "", "", "", ""], ["b.wav", "TV static hisses", "", "", "", ""],
            ["c.wav", "A dog barks", "", "", "", ""]]  # fmt: skip
    src = FolderSource(_folder(tmp_path / "rec", rows), sample_rate=SR, split="train")
    root = build_corpus(tmp_path / "c", 6, 0, 0, seed=2, source=src, anechoic=True, progress=False)
    for r in read_metadata(root, "train"):
        conn = max((c for c in CONNECTORS if c in r["caption"]), key=len)
        second = r["caption"].split(conn, 1)[1].strip()
        assert second.startswith(("tone 3", "TV static", "a dog")), r["caption"]
        assert r["plain_caption"].split(", then ", 1)[1].startswith(("tone 3", "TV static", "a dog"))


def test_captions_that_state_a_direction_are_dropped(tmp_path):
    rows = [["a.wav", "A fan hums to the left", "A fan hums", "", "", ""],
            ["b.wav", "A bell rings in front", "A bell rings behind me", "", "", ""]]  # fmt: skip
    with pytest.raises(CorpusError, match=r"captions.csv, row 2 \(b.wav\): every caption states a direction"):
        FolderSource(_folder(tmp_path / "rec", rows), sample_rate=SR)
    rows[1] = ["b.wav", "A bell rings", "", "", "", ""]
    src = FolderSource(_folder(tmp_path / "rec2", rows), sample_rate=SR)
    assert src.captions == [("A fan hums",), ("A bell rings",)]


# ---------------------------------------------------------------- rows with more fields than the header


def test_unquoted_comma_in_a_caption_is_refused(tmp_path, capsys):
    text = "file_name,caption_1,caption_2\na.wav,A bird sings,A bird chirps\nb.wav,A car passes, then a bus,A bus\n"
    folder = _folder(tmp_path / "rec", [["a.wav"], ["b.wav"]], text=text)
    want = f"{folder / 'captions.csv'}, row 2 (line 3): 4 fields, the header has 3"
    with pytest.raises(CorpusError) as err:
        FolderSource(folder, sample_rate=SR)
    assert want in str(err.value) and "double quotes" in str(err.value) and "\n" not in str(err.value)
    out = tmp_path / "c"
    assert cli_main(["build", "--out", str(out), "--train", "0", "--val", "0", "--test", "2", "--anechoic",
                     "--folder", str(folder), "--folder-split", "test", "--no-progress"]) == 1  # fmt: skip
    err_lines = capsys.readouterr().err.strip().splitlines()
    assert len(err_lines) == 1 and err_lines[0].startswith("error: ") and want in err_lines[0] and not out.exists()
    quoted = text.replace("A car passes, then a bus", '"A car passes, then a bus"')
    src = FolderSource(_folder(tmp_path / "quoted", [["a.wav"], ["b.wav"]], text=quoted), sample_rate=SR)
    assert src.captions[1] == ("A car passes, then a bus", "A bus")


# ---------------------------------------------------------------- FOA recordings


@pytest.mark.parametrize("azimuth", [180.0, -90.0])
def test_foa_recordings_are_read_by_their_omni_channel(tmp_path, azimuth, caplog):
    """A 4-channel file is FOA (W, Y, Z, X): its W channel is the event. The mean of the four
    channels cancels a source behind (W + X = 0) or on the right (W + Y = 0)."""
    import logging

    folder = tmp_path / "rec"
    folder.mkdir()
    az = np.deg2rad(azimuth)
    for name, freq in (("a.wav", 440.0), ("b.wav", 660.0)):
        s = _tone(freq, 1.5)
        sf.write(str(folder / name), np.stack([s, np.sin(az) * s, 0 * s, np.cos(az) * s], 1), SR, subtype="FLOAT")
    (folder / "captions.csv").write_text("file_name,caption_1\na.wav,a low tone hums\nb.wav,a high tone hums\n")
    with caplog.at_level(logging.WARNING, logger="sclap_nb.data.sources"):
        src = FolderSource(folder, sample_rate=SR, split="test")
    assert "2 of 2 files" in caplog.text and "a.wav" in caplog.text and "import-dcase" in caplog.text
    freqs = np.fft.rfftfreq(SR // 2, 1 / SR)
    for k, freq in enumerate((440.0, 660.0)):
        ev = src.render(k, np.random.default_rng(k), 0.5)
        power = np.abs(np.fft.rfft(ev.audio)) ** 2
        assert power[np.abs(freqs - freq) < 30].sum() > 0.95 * power.sum()
    out = tmp_path / "c"
    assert cli_main(["build", "--out", str(out), "--train", "0", "--val", "0", "--test", "2", "--anechoic",
                     "--folder", str(folder), "--folder-split", "test", "--no-progress"]) == 0  # fmt: skip
    assert len(read_metadata(out, "test")) == 8


def test_truncated_recording_is_named(tmp_path):
    rows = [["a.wav", "a low tone hums", "", "", "", ""], ["b.wav", "a high tone hums", "", "", "", ""]]
    folder = _folder(tmp_path / "rec", rows, seconds=2.0)  # 16-bit mono: 32000 frames
    data = (folder / "b.wav").read_bytes()
    (folder / "b.wav").write_bytes(data[: len(data) - 2 * (32000 - 10663)])
    with pytest.raises(CorpusError, match=r"captions.csv, row 2: .*b\.wav: truncated: its header says 32000 frames, the file holds 10663"):
        FolderSource(folder, sample_rate=SR)

"""The try-it chapter's real recordings (notebooks/sounds): each file is what SOURCES.csv says it is,
with a licence, and FolderSource reads the folder; the script that writes them never overwrites."""

import csv
import hashlib
import importlib.util
from pathlib import Path

import pytest
import soundfile as sf

from sclap_nb.data import FolderSource

ROOT = Path(__file__).resolve().parents[1]
SOUNDS = ROOT / "notebooks" / "sounds"


def load_script():
    spec = importlib.util.spec_from_file_location("tryit_sounds", ROOT / "scripts" / "tryit_sounds.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_every_recording_is_listed_with_its_hash_and_licence():
    with open(SOUNDS / "SOURCES.csv", newline="") as f:
        sources = list(csv.DictReader(f))
    audio = sorted(p.name for p in SOUNDS.iterdir() if p.suffix == ".flac")
    assert sorted(r["file_name"] for r in sources) == audio
    notice = (SOUNDS / "COPYRIGHT.md").read_text()
    for r in sources:
        path = SOUNDS / r["file_name"]
        assert hashlib.sha256(path.read_bytes()).hexdigest() == r["sha256"], r["file_name"]
        assert r["licence"] and r["package"] and r["version"], r["file_name"]
        assert f"`{r['file_name']}`" in notice, f"COPYRIGHT.md does not cover {r['file_name']}"
        info = sf.info(path)
        assert info.samplerate == int(r["sample_rate"]) and info.channels == 1
        assert abs(info.frames / info.samplerate - float(r["seconds"])) < 0.01, r["file_name"]


def test_the_folder_reads_as_one_class_per_recording():
    source = FolderSource(SOUNDS, split="test")
    with open(SOUNDS / "SOURCES.csv", newline="") as f:
        classes = [r["class"] for r in csv.DictReader(f)]
    assert sorted(source.labels) == sorted(classes) and len(set(classes)) == len(classes) == 24


def test_the_loudest_window_is_found():
    import numpy as np

    script = load_script()
    x = np.zeros(16000 * 5, dtype=np.float32)
    x[16000 * 3 : 16000 * 4] = 1.0  # the loud second is 3-4 s
    start, n = script.loudest(x, 16000, 2.0)
    assert n == 32000 and start <= 16000 * 3 and start + n >= 16000 * 4
    assert script.loudest(x[:8000], 16000, 2.0) == (0, 8000)  # shorter than the window: all of it


def test_the_script_never_writes_into_an_existing_folder(tmp_path):
    script = load_script()
    out = tmp_path / "sounds"
    out.mkdir()
    (out / "mine.flac").write_bytes(b"a user's file")
    with pytest.raises(SystemExit, match="exists"):
        script.main(["--out", str(out), "--library", str(tmp_path / "no-library")])
    assert [p.name for p in out.iterdir()] == ["mine.flac"] and (out / "mine.flac").read_bytes() == b"a user's file"

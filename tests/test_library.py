"""The sound library built from Debian packages (sclap_nb.data.library), on tiny .deb files made here
with dpkg-deb: nothing is downloaded."""

from __future__ import annotations

import csv
import hashlib
import io
import json
import shutil
import struct
import subprocess
import zipfile
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

import sclap_nb.data.library as L
from sclap_nb.data.errors import CorpusError
from sclap_nb.data.sources import usable_captions

needs_dpkg = pytest.mark.skipif(shutil.which("dpkg-deb") is None, reason="dpkg-deb is not installed")

PKG = "sclap-test-sounds"
COPYRIGHT = """Format: https://www.debian.org/doc/packaging-manuals/copyright-format/1.0/
Upstream-Name: test sounds

Files: *
Copyright: 2024 Someone
License: GPL-2+

Files: sounds/cat.wav
Copyright: 2024 Someone Else
License: CC0-1.0
"""
TEST_RULES = (
    (PKG, r"/music/", None),
    (PKG, r"/dog_bark\.|/silent_dog\.|/short_dog\.", "Dog"),
    (PKG, r"/cat\.", "Cat"),
    (PKG, r"!sound/cow\.", "Cattle, bovinae"),
)


def _wav(seconds_silence: float, seconds_sound: float, sr: int = 22050, amp: float = 0.3, seed: int = 0) -> bytes:
    rng = np.random.default_rng(seed)
    pad = np.zeros(int(seconds_silence * sr), np.float32)
    sound = (amp * rng.standard_normal(int(seconds_sound * sr))).astype(np.float32)
    buf = io.BytesIO()
    sf.write(buf, np.concatenate([pad, sound, pad]), sr, format="WAV", subtype="PCM_16")
    return buf.getvalue()


def make_deb(tmp: Path, name: str = PKG, version: str = "1.2-3") -> Path:
    """A .deb with labelled, unlabelled, silent, too short and excluded sounds, a zip archive holding
    one more, and a DEP-5 copyright file."""
    root = tmp / f"{name}-root"
    snd = root / "usr/share/sclap-test/sounds"
    (snd / "music").mkdir(parents=True)
    (root / "DEBIAN").mkdir()
    (root / "DEBIAN/control").write_text(
        f"Package: {name}\nVersion: {version}\nArchitecture: all\nMaintainer: Test <t@example.org>\n"
        "Description: sounds for a test\n"
    )
    (snd / "dog_bark.wav").write_bytes(_wav(0.3, 0.5, seed=1))
    (snd / "cat.wav").write_bytes(_wav(0.0, 0.4, sr=44100, seed=2))
    (snd / "mystery.wav").write_bytes(_wav(0.0, 0.4, seed=3))
    (snd / "silent_dog.wav").write_bytes(_wav(0.0, 0.5, amp=0.0))
    (snd / "short_dog.wav").write_bytes(_wav(0.2, 0.1, seed=4))
    (snd / "music" / "theme.wav").write_bytes(_wav(0.0, 0.5, seed=5))
    with zipfile.ZipFile(snd / "pak0.pk3", "w") as z:
        z.writestr("sound/cow.wav", _wav(0.1, 0.6, sr=16000, seed=6))
    doc = root / f"usr/share/doc/{name}"
    doc.mkdir(parents=True)
    (doc / "copyright").write_text(COPYRIGHT)
    deb = tmp / f"{name}_{version}_all.deb"
    subprocess.run(["dpkg-deb", "--root-owner-group", "-b", str(root), str(deb)], check=True, capture_output=True)
    return deb


@pytest.fixture
def rules(monkeypatch):
    monkeypatch.setattr(L, "RULES", L.RULES + TEST_RULES)
    monkeypatch.setattr(L, "_COMPILED", None)
    yield
    L._COMPILED = None


# ---------------------------------------------------------------- the tables


def test_every_class_has_three_usable_captions_and_unique_names():
    names = [c.name for c in L.CLASSES]
    assert len(names) == len(set(names))
    for c in L.CLASSES:
        assert len(c.captions) >= 3, c.name
        assert usable_captions(c.captions, c.name) == tuple(c.captions), c.name  # none names a direction


def test_rules_name_known_classes_and_are_first_match(monkeypatch):
    L._rule_table()  # raises on an unknown class
    monkeypatch.setattr(L, "RULES", (("p", r"dog", "Dog"), ("p", r"dog", "Cat"), ("p", r"music", None)))
    monkeypatch.setattr(L, "_COMPILED", None)
    assert L.label_of("p", "a/Dog.wav") == (True, "Dog")
    assert L.label_of("p", "a/music/x.wav") == (True, None)  # left out by rule
    assert L.label_of("p", "a/thing.wav") == (False, None)  # unlabelled
    assert L.label_of("other", "a/dog.wav") == (False, None)  # rules are per package
    monkeypatch.setattr(L, "RULES", (("p", r"x", "Not a class"),))
    with pytest.raises(ValueError, match="Not a class"):
        L._rule_table()
    L._COMPILED = None


def test_real_package_rules():
    assert L.label_of("hydrogen-drumkits", "usr/share/hydrogen/data/drumkits/BJA_Pacific/CB_01.aiff") == (True, "Cymbal")
    assert L.label_of("hydrogen-drumkits", "usr/share/hydrogen/data/drumkits/Millo_MultiLayered3/mc_cb.flac") == (True, "Cowbell")
    assert L.label_of("tuxpaint-stamps-default", "usr/share/tuxpaint/stamps/animals/mammals/dogs/dog_desc.ogg") == (True, None)
    assert L.label_of("tuxpaint-stamps-default", "usr/share/tuxpaint/stamps/animals/mammals/dogs/dog.ogg") == (True, "Dog")
    assert L.label_of("freepats", "usr/share/midi/freepats/Tone_000/073_Flute.pat#2") == (True, "Flute")


def test_variant_stem_groups_takes_of_one_sound():
    assert L.variant_stem("kit/Kick-Hard.wav") == L.variant_stem("kit/Kick-Softest.wav") == "kick"
    assert L.variant_stem("a/bark1.ogg") == L.variant_stem("a/bark2.ogg")
    assert L.variant_stem("a/grass1.ogg") == "grass"
    assert L.variant_stem("a.pat#3") == L.variant_stem("a.pat#0")


# ---------------------------------------------------------------- licences


def test_dep5_licence_of_a_path():
    paragraphs = L.read_licences(COPYRIGHT)
    assert paragraphs == [(("*",), "GPL-2+"), (("sounds/cat.wav",), "CC0-1.0")]
    assert L.licence_of(paragraphs, "usr/share/sclap-test/sounds/cat.wav") == "CC0-1.0"
    assert L.licence_of(paragraphs, "usr/share/sclap-test/sounds/dog.wav") == "GPL-2+"
    assert L.licence_of(paragraphs, "usr/share/x/notsounds/cat.wav") == "GPL-2+"  # a pattern matches whole path parts
    assert L.read_licences("This package is under the GPL.\n") is None
    free = L._licensing("p", "Distributed under the GNU General Public License, version 2.\n")
    assert free.paragraphs is None and "GPL-2" in free.summary and "free-form" in free.summary
    assert "not in the package" in L._licensing("p", None).summary
    gpl2plus = "under the terms of the GNU General Public License\n as published by the Free Software Foundation; either version 2\n of the License, or (at your option) any later version."
    assert L.freeform_licences(gpl2plus) == ["GPL-2+"]
    assert L.freeform_licences("the GNU General Public License") == ["GPL (version not stated)"]
    assert L.short_licence("Creative Commons Attribution-ShareAlike 3.0 Unported") == "CC-BY-SA-3.0"
    assert L.short_licence("Creative Commons Zero 1.0") == "CC0-1.0"


# ---------------------------------------------------------------- archives and conditioning


def _rcc(files: dict[str, bytes]) -> bytes:
    """A version-1 Qt resource bundle with the ``files`` in its root folder."""
    names, data, offs, doffs = b"", b"", {}, {}
    for n in files:
        offs[n] = len(names)
        names += struct.pack(">HI", len(n), 0) + n.encode("utf-16-be")
    for n, b in files.items():
        doffs[n] = len(data)
        data += struct.pack(">I", len(b)) + b
    tree = struct.pack(">IHII", 0, 2, len(files), 1)  # root: a folder of len(files) children from node 1
    for n in files:
        tree += struct.pack(">IHHHI", offs[n], 0, 0, 0, doffs[n])
    head = 20
    return b"qres" + struct.pack(">IIII", 1, head, head + len(tree), head + len(tree) + len(data)) + tree + data + names


def _pat(samples: list[np.ndarray], rate: int = 22050) -> bytes:
    """A Gravis patch with 16-bit signed ``samples``."""
    head = bytearray(239)
    head[:22] = b"GF1PATCH110\0ID#000002\0"
    head[198] = len(samples)
    out = bytes(head)
    for x in samples:
        raw = (np.asarray(x) * 32767).astype("<i2").tobytes()
        s = bytearray(96)
        s[8:22] = struct.pack("<IIIH", len(raw), 0, 0, rate)
        s[55] = 1  # 16-bit, signed
        out += bytes(s) + raw
    return out


def test_archives_yield_their_sounds():
    wav = _wav(0.0, 0.3, seed=7)
    got = list(L.iter_sounds("usr/share/x/res.rcc", _rcc({"bell.wav": wav, "icon.png": b"png"})))
    assert [s.source_path for s in got] == ["usr/share/x/res.rcc!bell.wav"] and got[0].data == wav
    x = np.sin(np.linspace(0, 300, 5000))
    pats = list(L.iter_sounds("usr/share/midi/073_Flute.pat", _pat([x, x[:2000]], 22050)))
    assert [s.source_path for s in pats] == ["usr/share/midi/073_Flute.pat#0", "usr/share/midi/073_Flute.pat#1"]
    assert pats[0].sample_rate == 22050 and np.allclose(pats[0].audio, x, atol=1e-4)
    assert pats[0].group == pats[1].group  # the samples of one patch stay in one split
    with pytest.raises(ValueError):
        list(L._rcc_files(b"not an rcc"))


def test_condition_trims_resamples_and_refuses_silence_and_short():
    sr = 44100
    x = np.zeros(sr, np.float32)
    x[sr // 4 : sr // 4 + sr // 2] = 0.5 * np.sin(np.arange(sr // 2) * 0.1)
    y, why = L.condition(np.stack([x, x], 1), sr)
    assert why is None and 0.5 <= len(y) / L.SAMPLE_RATE <= 0.56  # 0.5 s of sound and a 20 ms margin each side
    assert L.condition(np.zeros(sr), sr) == (None, "silent")
    short = np.zeros(sr, np.float32)
    short[:2000] = 0.5
    assert L.condition(short, sr) == (None, "too short")
    assert L.condition(np.full(100, np.nan), sr)[1] == "not finite"


# ---------------------------------------------------------------- a package, a build


@pytest.mark.slow  # runs dpkg-deb (a process)
@needs_dpkg
def test_process_package(tmp_path, rules):
    deb = make_deb(tmp_path)
    res = L.process_package(deb, tmp_path / "lib", progress=lambda *_: None)
    rows = {Path(r["source_path"]).name.split("!")[-1]: r for r in res["rows"]}
    assert set(rows) == {"dog_bark.wav", "cat.wav", "cow.wav"}
    assert {r["class"] for r in res["rows"]} == {"Dog", "Cat", "Cattle, bovinae"}
    rep = res["report"]
    assert (rep["unlabelled"], rep["excluded"], rep["silent"], rep["too_short"], rep["kept"]) == (1, 1, 1, 1, 3)
    assert res["unlabelled_examples"] == ["usr/share/sclap-test/sounds/mystery.wav"]
    dog = rows["dog_bark.wav"]
    assert (dog["package"], dog["version"], dog["licence"]) == (PKG, "1.2-3", "GPL-2+")
    assert rows["cat.wav"]["licence"] == "CC0-1.0"  # its own Files: paragraph
    path = tmp_path / "lib" / dog["file"]
    assert hashlib.sha256(path.read_bytes()).hexdigest() == dog["sha256"]
    audio, sr = sf.read(path)
    assert sr == 16000 and audio.ndim == 1 and abs(len(audio) / sr - 0.54) < 0.03  # the silences trimmed
    assert float(dog["duration_s"]) == pytest.approx(len(audio) / sr, abs=1e-3)
    assert rows["cow.wav"]["source_path"] == "usr/share/sclap-test/sounds/pak0.pk3!sound/cow.wav"


@pytest.mark.slow  # runs dpkg-deb (a process)
@needs_dpkg
def test_build_skips_a_broken_package_and_writes_manifest(tmp_path, rules, capsys):
    deb = make_deb(tmp_path)
    bad = tmp_path / "broken_1.0_all.deb"
    bad.write_bytes(b"this is not a debian package")
    out = tmp_path / "lib"
    report = L.build_library(out, packages=[], debs=[deb, bad, tmp_path / "missing.deb"], espeak=False, heldout=[])
    printed = capsys.readouterr().out
    assert f"skipping {bad}:" in printed and f"skipping {tmp_path / 'missing.deb'}:" in printed
    assert set(report["skipped"]) == {str(bad), str(tmp_path / "missing.deb")}
    rows = L.read_manifest(out / "manifest.csv")
    assert len(rows) == 3 and {r["split"] for r in rows} <= {"train", "val", "test"}
    with open(out / "manifest.csv", newline="") as f:
        assert tuple(csv.DictReader(f).fieldnames) == L.MANIFEST_COLUMNS
    classes = json.loads((out / "classes.json").read_text())
    assert classes["Dog"]["recordings"] == 1 and len(classes["Dog"]["captions"]) >= 3
    assert report["left_out"]["unlabelled"] == 1 and report["recordings"] == 3
    other = tmp_path / "mine"
    other.mkdir()
    (other / "notes.txt").write_text("mine")
    with pytest.raises(CorpusError, match="not a sound library"):  # a folder of someone's files is left alone
        L.build_library(other, packages=[], debs=[deb], espeak=False)
    assert [p.name for p in other.iterdir()] == ["notes.txt"]
    # resumable: the package is not read again
    again = L.build_library(out, packages=[], debs=[deb], espeak=False, heldout=[])
    assert "already built" in capsys.readouterr().out and again["recordings"] == 3


# ---------------------------------------------------------------- splits


def _rows():
    rows = []
    spec = {"a": ["Dog", "Cat", "Piano"], "b": ["Dog", "Cat"], "c": ["Piano", "Bell"], "d": ["Dog", "Bell", "Cat"]}
    for pkg, classes in spec.items():
        for c in classes:
            for i in range(6):
                rows.append({"package": pkg, "class": c, "group": f"{pkg}:{c}:{i // 2}", "split": ""})
    return rows


def test_heldout_packages_stay_whole_and_groups_stay_together():
    rows = L.assign_splits(_rows(), heldout=["b"], seed=3)
    assert {r["split"] for r in rows if r["package"] == "b"} == {"heldout"}
    assert all(r["split"] != "heldout" for r in rows if r["package"] != "b")
    by_group = {}
    for r in rows:
        by_group.setdefault(r["group"], set()).add(r["split"])
    assert all(len(s) == 1 for s in by_group.values())
    assert L.assign_splits(_rows(), ["b"], seed=3) == rows  # deterministic


def test_choose_heldout_reaches_the_class_target_with_classes_heard_elsewhere():
    rows = _rows()
    held = L.choose_heldout(rows, min_classes=3, max_share=0.5, min_share=0.0)
    held_classes = {r["class"] for r in rows if r["package"] in held}
    rest = {r["class"] for r in rows if r["package"] not in held}
    assert len(held_classes) >= 3 and held_classes <= rest
    assert len([r for r in rows if r["package"] in held]) <= 0.5 * len(rows)
    assert L.choose_heldout(rows, min_classes=3, max_share=0.01) == []  # no package fits
    more = L.choose_heldout(rows, min_classes=1, max_share=0.6, min_share=0.4)  # the share target adds packages
    assert len([r for r in rows if r["package"] in more]) >= 0.4 * len(rows)


# ---------------------------------------------------------------- as a sound source


def _library(tmp_path: Path) -> Path:
    root = tmp_path / "lib"
    rows = []
    rng = np.random.default_rng(0)
    for split, classes in {"train": ["Dog", "Cat"], "test": ["Dog", "Bell"], "heldout": ["Piano", "Cat"]}.items():
        for c in classes:
            rel = f"audio/{split}-{L._slug(c)}.flac"
            (root / "audio").mkdir(parents=True, exist_ok=True)
            sf.write(root / rel, (0.2 * rng.standard_normal(8000)).astype(np.float32), 16000, format="FLAC")
            rows.append({"file": rel, "class": c, "package": f"p-{split}", "version": "1", "licence": "GPL-2+",
                         "sha256": "0", "source_path": rel, "duration_s": "0.5", "sample_rate": "16000",
                         "split": split, "group": rel})  # fmt: skip
    L.write_manifest(rows, root / "manifest.csv")
    return root


def test_library_source_renders_events_of_its_own_split(tmp_path):
    src = L.LibrarySource(_library(tmp_path))
    assert sorted(zip(src.labels, src.splits)) == [("Bell", "test"), ("Cat", "train"), ("Dog", "test"), ("Dog", "train")]
    parts = src.partition({"train": 4, "val": 0, "test": 4}, seed=0)
    assert sorted(src.labels[k] for k in parts["test"]) == ["Bell", "Dog"]
    with pytest.raises(CorpusError, match="split 'val' has 0"):
        src.partition({"train": 4, "val": 2, "test": 4}, seed=0)
    k = src.labels.index("Bell")
    ev = src.render(k, np.random.default_rng(1), 1.2)  # longer than the file: looped
    assert ev.audio.shape == (int(1.2 * 16000),) and ev.label == "Bell" and "a bell rings" in ev.captions
    held = L.LibrarySource(tmp_path / "lib", heldout_as="test")
    assert sorted(held.labels[k] for k in held.partition({"train": 1, "val": 0, "test": 1}, 0)["test"]) == ["Cat", "Piano"]


def test_library_source_names_a_missing_file(tmp_path):
    root = _library(tmp_path)
    next((root / "audio").glob("train-dog*")).unlink()
    with pytest.raises(CorpusError, match=r"manifest.csv, line \d+: audio file .*train-dog"):
        L.LibrarySource(root)
    (root / "manifest.csv").write_text("file,class\nx.flac,Dog\n")
    with pytest.raises(CorpusError, match="missing column"):
        L.LibrarySource(root)

"""Recorded FOA sets in: the DCASE / STARSS loader and T-SALM's spatial Clotho reader, each on a tiny
set in its own layout (synthetic plane waves at known directions), checked end to end: a valid
corpus whose clips hold what their rows claim, and that trains in the quick setting."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from sclap_nb.data import CorpusError, read_metadata, rotate_foa, validate_corpus
from sclap_nb.data.__main__ import main as cli_main
from sclap_nb.data.dcase import STARSS_CLASSES, import_dcase
from sclap_nb.data.spatial import doa_vector, foa_gains
from sclap_nb.data.spatial_clotho import import_spatial_clotho, parse_angle
from sclap_nb.reference import half_azimuths

SR_IN = 24000  # the sets' own rate
SR = 16000  # the corpus's


def _plane_wave(mono: np.ndarray, az: float, el: float) -> np.ndarray:
    """``(4, N)`` FOA (W, Y, Z, X; SN3D) of ``mono`` arriving from ``(az, el)``."""
    return (foa_gains(doa_vector(az, el))[:, None] * mono[None]).astype(np.float32)


def _sound(kind: int, seconds: float, rng: np.random.Generator) -> np.ndarray:
    """A tone complex (even ``kind``) or a noise burst, ``seconds`` long at ``SR_IN``, faded in and out."""
    n = int(seconds * SR_IN)
    t = np.arange(n) / SR_IN
    if kind % 2 == 0:
        f0 = 220.0 * (1 + kind / 4)
        x = sum(np.sin(2 * np.pi * f0 * h * t) / h for h in (1, 2, 3))
    else:
        x = rng.standard_normal(n)
    ramp = np.minimum(1.0, np.minimum(t, t[::-1]) / 0.02)
    return (0.2 * x / np.abs(x).max() * ramp).astype(np.float32)


def _direction(clip: np.ndarray) -> tuple[float, float]:
    """Azimuth and elevation of a plane-wave FOA stretch from its time-domain intensity ``mean(W (X, Y, Z))``."""
    w, y, z, x = clip.astype(np.float64)
    v = np.array([np.mean(w * x), np.mean(w * y), np.mean(w * z)])
    return float(np.degrees(np.arctan2(v[1], v[0]))), float(np.degrees(np.arctan2(v[2], np.hypot(v[0], v[1]))))


def _angle(a: float, b: float) -> float:
    return abs((a - b + 180.0) % 360.0 - 180.0)


def _groups(root: Path, split: str) -> list[dict[str, dict]]:
    groups: dict[int, dict[str, dict]] = {}
    for r in read_metadata(root, split):
        groups.setdefault(r["scene"], {})[r["role"]] = r
    return list(groups.values())


def _wave(root: Path, row: dict) -> np.ndarray:
    return sf.read(str(root / row["file"]), dtype="float32", always_2d=True)[0].T


def _check_clips(root: Path) -> int:
    """Every clip of every split holds, in each half, a sound from the direction its row states (by the
    package's intensity-vector scorer, and closely by the time-domain intensity of each half), and the
    four clips of a scene are pos's two sounds in the roles' orders. Returns the number of scenes."""
    scenes = 0
    for split in ("train", "val", "test"):
        rows = read_metadata(root, split)
        if not rows:
            continue
        measured = half_azimuths(root, rows)  # STFT frames at the boundary mix the halves a little
        for r, (az1, az2) in zip(rows, measured):
            assert _angle(az1, r["azimuth_1"]) < 15 and _angle(az2, r["azimuth_2"]) < 15, (r["id"], az1, az2)
            wave = _wave(root, r)
            h = wave.shape[1] // 2
            for e, part in ((1, wave[:, :h]), (2, wave[:, h:])):
                az, el = _direction(part)
                assert _angle(az, r[f"azimuth_{e}"]) < 3 and abs(el - r[f"elevation_{e}"]) < 3, (r["id"], e, az, el)
        for g in _groups(root, split):
            pos, neg_t, neg_s, neg_c = (g[k] for k in ("pos", "neg_t", "neg_s", "neg_c"))
            a, b = pos["class_1"], pos["class_2"]
            assert a != b
            assert (neg_t["class_1"], neg_t["class_2"]) == (b, a) == (neg_c["class_1"], neg_c["class_2"])
            assert (neg_s["class_1"], neg_s["class_2"]) == (a, b)
            # neg_c: pos's directions in pos's order, the sounds swapped
            assert (neg_c["azimuth_1"], neg_c["azimuth_2"]) == pytest.approx((pos["azimuth_1"], pos["azimuth_2"]), abs=1e-3)
            assert (neg_c["elevation_1"], neg_c["elevation_2"]) == (pos["elevation_2"], pos["elevation_1"])
            # the omni channel does not rotate: neg_c's halves are pos's halves swapped
            wp, wc = _wave(root, pos)[0], _wave(root, neg_c)[0]
            h = len(wp) // 2
            np.testing.assert_array_equal(wc[:h], wp[h:])
            np.testing.assert_array_equal(wc[h:], wp[:h])
            scenes += 1
    return scenes


def _train_quickly(corpus: Path, tmp_path: Path) -> dict:
    from sclap_nb.config import preset
    from sclap_nb.run import run

    cfg = preset("quick", {"data.data_dir": str(corpus), "runtime.out_dir": str(tmp_path / "run"), "optim.epochs": 1,
                           "optim.batch_size": 2})  # fmt: skip
    return run(cfg)


# ---------------------------------------------------------------- rotation


def test_rotate_foa_turns_the_azimuth_only():
    mono = np.random.default_rng(0).standard_normal(4000).astype(np.float32)
    for az, el, delta in ((30.0, 20.0, 100.0), (-170.0, -40.0, -60.0), (90.0, 0.0, 180.0)):
        turned = rotate_foa(_plane_wave(mono, az, el), delta)
        np.testing.assert_allclose(turned, _plane_wave(mono, az + delta, el), atol=1e-5)


@pytest.mark.parametrize("value, expected", [(12.5, 12.5), ("12.5", 12.5), ([-30], -30.0), ("[45.0]", 45.0), (["7"], 7.0), (3, 3.0)])
def test_parse_angle(value, expected):
    assert parse_angle(value, "x") == expected


@pytest.mark.parametrize("value", ["left", [1, 2], None, "[]", True])
def test_parse_angle_refuses(value):
    with pytest.raises(CorpusError, match="x: angle .* is not a number"):
        parse_angle(value, "x")


# ---------------------------------------------------------------- DCASE / STARSS

# (class, source, start s, end s, azimuth, elevation) of the events of each recording
EVENTS = [
    (0, 1, 0.3, 1.6, 90, 0),
    (3, 0, 2.0, 3.4, -90, 20),
    (8, 0, 3.8, 5.2, 0, -10),
    (11, 2, 5.6, 7.0, 180, 10),
]


def _write_dcase(root: Path) -> Path:
    rng = np.random.default_rng(7)
    recordings = [("dev-train-synth", "fold1_room1_mix001"), ("dev-train-synth", "fold1_room1_mix002"),
                  ("dev-train-synth", "fold1_room2_mix001"), ("dev-test-synth", "fold2_room3_mix001")]  # fmt: skip
    for r, (fold, name) in enumerate(recordings):
        (root / "foa_dev" / fold).mkdir(parents=True, exist_ok=True)
        (root / "metadata_dev" / fold).mkdir(parents=True, exist_ok=True)
        audio = 1e-4 * rng.standard_normal((4, int(7.5 * SR_IN))).astype(np.float32)
        lines = []
        for k, (cls, src, t0, t1, az, el) in enumerate(EVENTS):
            az = ((az + 45 * r) + 180) % 360 - 180  # each recording its own directions
            at = int(t0 * SR_IN)
            audio[:, at : at + int((t1 - t0) * SR_IN)] += _plane_wave(_sound(k + r, t1 - t0, rng), az, el)
            for f in range(int(np.ceil(t0 * 10)), int(t1 * 10)):
                jitter = int(rng.integers(-2, 3))  # annotations move a little
                lines.append(f"{f},{cls},{src},{(az + jitter + 180) % 360 - 180},{el}" + (",150" if r % 2 else ""))
        sf.write(str(root / "foa_dev" / fold / f"{name}.wav"), audio.T, SR_IN, subtype="PCM_16")
        (root / "metadata_dev" / fold / f"{name}.csv").write_text("\n".join(sorted(lines, key=lambda s: int(s.split(",")[0]))) + "\n")
    return root


@pytest.fixture(scope="module")
def dcase_corpus(tmp_path_factory) -> Path:
    root = _write_dcase(tmp_path_factory.mktemp("starss") / "STARSS23")
    return import_dcase(root, root.parent / "corpus", scenes_per_recording=2, seed=3, progress=False)


def test_dcase_corpus_is_valid_and_true(dcase_corpus):
    rows = validate_corpus(dcase_corpus, deep=True)
    assert {s: len(r) // 4 for s, r in rows.items()} == {"train": 4, "val": 2, "test": 2}  # 2 scenes a recording
    assert _check_clips(dcase_corpus) == 8
    recordings = {s: {r[f"source_{e}"].split("@")[0] for r in rs for e in (1, 2)} for s, rs in rows.items()}
    assert recordings["test"] == {"fold2_room3_mix001"}
    assert not recordings["train"] & recordings["val"]
    for g in _groups(dcase_corpus, "train"):
        pos, neg_t = g["pos"], g["neg_t"]
        assert {pos["class_1"], pos["class_2"]} <= set(STARSS_CLASSES)
        assert pos["room"].startswith("fold1_room")
        wp, wt = _wave(dcase_corpus, pos), _wave(dcase_corpus, neg_t)
        h = wp.shape[1] // 2
        np.testing.assert_array_equal(wt[:, :h], wp[:, h:])  # neg_t: the recording itself, halves swapped
        np.testing.assert_array_equal(wt[:, h:], wp[:, :h])
        assert pos["caption"].split(" ")[0].islower()


def test_dcase_bad_labels_name_the_file_and_row(tmp_path):
    root = _write_dcase(tmp_path / "set")
    csv_path = root / "metadata_dev" / "dev-test-synth" / "fold2_room3_mix001.csv"
    lines = csv_path.read_text().splitlines()
    lines[2] = "12,13,0,10,0"
    csv_path.write_text("\n".join(lines) + "\n")
    with pytest.raises(CorpusError, match=r"fold2_room3_mix001.csv, row 3: class 13 is not one of the 13 STARSS classes"):
        import_dcase(root, tmp_path / "out", progress=False)
    assert not (tmp_path / "out").exists()


def test_dcase_cli_writes_atomically_and_never_over(tmp_path):
    root = _write_dcase(tmp_path / "set")
    out = tmp_path / "out"
    args = ["import-dcase", str(root), "--out", str(out), "--scenes-per-recording", "1", "--no-progress"]
    assert cli_main(args) == 0
    assert cli_main(["validate", "--deep", str(out)]) == 0
    before = sorted(p.name for p in out.rglob("*"))
    assert cli_main(args) == 1  # never overwrites
    assert sorted(p.name for p in out.rglob("*")) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out", "set"]  # no temporary directory left


@pytest.mark.slow
def test_dcase_corpus_trains(dcase_corpus, tmp_path):
    metrics = _train_quickly(dcase_corpus, tmp_path)
    assert 0.0 <= metrics["joint/t2a/R@1"] <= 1.0 and 0.0 <= metrics["joint/order_acc"] <= 1.0


# ---------------------------------------------------------------- T-SALM's spatial Clotho

CLOTHO = {  # Clotho file -> its captions
    "birds.wav": ["Birds are chirping.", "Small birds chirp in the trees", "Birds tweet to the left", "", "A bird sings"],
    "engine.wav": ["An engine idles.", "A motor hums steadily", "An engine runs", "An engine idles loudly", "A motor runs"],
    "rain.wav": ["Rain falls on a roof.", "Rain patters", "Heavy rain falls", "Rain is falling", "Rain drums on a roof"],
    "bell.wav": ["A church bell rings.", "A bell tolls", "A big bell rings", "A bell is struck", "A bell chimes"],
    "water.wav": ["Water runs from a tap.", "A tap runs", "Water pours", "Water flows", "A faucet runs"],
    "steps.wav": ["Someone walks on gravel.", "Footsteps on gravel", "A person walks", "Steps crunch", "Someone walks"],
}
SECONDS = 3.0  # each Clotho file: 1 s of silence, then 2 s of sound


def _renderings(rng: np.random.Generator) -> dict[str, list[tuple[np.ndarray, float, float]]]:
    """Each Clotho file rendered at 3 positions: ``{name: [(foa, az, el), ...]}``."""
    out = {}
    for i, name in enumerate(CLOTHO):
        mono = np.concatenate([np.zeros(SR_IN, np.float32), _sound(i, SECONDS - 1.0, rng)])
        out[name] = []
        for k in range(3):
            az, el = float(((i * 37 + k * 120 + 180) % 360) - 180), float((k - 1) * 15)
            out[name].append((_plane_wave(mono, az, el), az, el))
    return out


def _segment(name: str, k: int, az: float, el: float, style: int) -> dict:
    angle = (lambda v: v, str, lambda v: [v], lambda v: f"[{v}]")[style % 4]  # the forms T-SALM's files use
    meta = {"ori_audiofile": name, "caption": CLOTHO[name], "spatialized_caption": [f"{c} spatial" for c in CLOTHO[name]],
            "azi": angle(az), "ele": angle(el), "direction": "The sound is coming from the south."}  # fmt: skip
    return {"filename": f"{Path(name).stem}_{k}", "duration": SECONDS, "metadata": meta}


def _write(base: Path, split: str, stem: str, audio: np.ndarray, meta: dict, sub: str = "") -> None:
    a = base / "audio" / split / sub / f"{stem}.flac"
    m = base / "metadata" / split / sub / f"{stem}.json"
    a.parent.mkdir(parents=True, exist_ok=True)
    m.parent.mkdir(parents=True, exist_ok=True)
    sf.write(str(a), audio.T, SR_IN, subtype="PCM_24")
    m.write_text(json.dumps(meta, indent=1))


def _write_stclotho(tmp: Path) -> Path:
    """stClotho triplets as T-SALM lays them out: positives in ``stClotho``, negatives in ``stClotho_negative``."""
    rng = np.random.default_rng(11)
    r = _renderings(rng)
    names = list(CLOTHO)
    root, neg = tmp / "stClotho", tmp / "stClotho_negative"
    pairs = {"train": [(0, 1), (2, 3), (4, 5), (1, 2)], "valid": [(3, 4), (5, 0)], "test": [(0, 3), (2, 5)]}
    n = 0
    for split, items in pairs.items():
        for ia, ib in items:
            a, b = names[ia], names[ib]

            def clip(x: str, kx: int, y: str, ky: int) -> tuple[np.ndarray, dict]:
                audio = np.concatenate([r[x][kx][0], r[y][ky][0]], axis=1)
                segs = [_segment(x, kx, *r[x][kx][1:], n), _segment(y, ky, *r[y][ky][1:], n + 1)]
                return audio, {"audio_segments": segs, "num_segments": 2, "temporal_spatial_caption": ["t"] * 5}

            _write(root, split, f"temporal_{n:06d}", *clip(a, 0, b, 2))
            sep = "_" if n % 2 else ""  # T-SALM writes both temporal_negative_{id} and temporal_negative{id}
            _write(neg, split, f"temporal_negative{sep}{n:06d}", *clip(b, 2, a, 0), sub="temporal")
            _write(neg, split, f"spatial_negative_{n:06d}", *clip(a, 2, b, 0), sub="spatial")
            n += 1
    _write(root, "train", "temporal_000099", *clip(names[0], 0, names[1], 2))  # no negatives: skipped
    return root


def _write_sclotho(tmp: Path) -> Path:
    """sClotho: every Clotho file rendered at positions 0-2, one JSON each (the older layout)."""
    r = _renderings(np.random.default_rng(13))
    root = tmp / "sClotho"
    for split, names in {"train": list(CLOTHO)[:4], "valid": list(CLOTHO)[4:], "test": list(CLOTHO)[:2]}.items():
        for name in names:
            for k, (audio, az, el) in enumerate(r[name]):
                meta = {"ori_audiofile": name, "caption": CLOTHO[name], "spatialized_caption": CLOTHO[name],
                        "azi": str(az), "ele": [el], "direction": "The sound is coming from the north."}  # fmt: skip
                _write(root, split, f"{Path(name).stem}_{k}", audio, meta)
    return root


@pytest.fixture(scope="module")
def stclotho_corpus(tmp_path_factory) -> Path:
    root = _write_stclotho(tmp_path_factory.mktemp("tsalm"))
    return import_spatial_clotho(root, root.parent / "corpus", seed=4, progress=False)


def test_stclotho_corpus_is_valid_and_true(stclotho_corpus):
    rows = validate_corpus(stclotho_corpus, deep=True)
    assert {s: len(r) // 4 for s, r in rows.items()} == {"train": 4, "val": 2, "test": 2}
    assert _check_clips(stclotho_corpus) == 8
    for g in _groups(stclotho_corpus, "train"):
        pos, neg_t, neg_s = g["pos"], g["neg_t"], g["neg_s"]
        assert pos["class_1"] in CLOTHO and pos["room"] == "tsalm"
        # neg_t holds pos's renderings (T-SALM's A_0, B_2), neg_s the other renderings (A_2, B_0)
        assert (neg_t["azimuth_1"], neg_t["azimuth_2"]) == (pos["azimuth_2"], pos["azimuth_1"])
        assert neg_s["azimuth_1"] != pos["azimuth_1"] and neg_s["azimuth_2"] != pos["azimuth_2"]
        wp, wt = _wave(stclotho_corpus, pos), _wave(stclotho_corpus, neg_t)
        h = wp.shape[1] // 2
        np.testing.assert_allclose(wt[:, :h], wp[:, h:], atol=2e-4)  # the same stretch of each event
        np.testing.assert_allclose(wt[:, h:], wp[:, :h], atol=2e-4)
        for r in g.values():  # captions rebuilt from Clotho's, the directions in this package's words
            assert "spatial" not in r["caption"] and "south" not in r["caption"] and "to the left" not in r["caption"].split(" on ")[0]
            assert r["plain_caption"].split(", then ")[1][0].islower()
        for r in (pos, neg_t):  # every crop holds its sound (the files start with 1 s of silence)
            wave = _wave(stclotho_corpus, r)
            assert min(np.sqrt(np.mean(wave[0, :h] ** 2)), np.sqrt(np.mean(wave[0, h:] ** 2))) > 0.05


def test_sclotho_clips_make_scenes(tmp_path):
    root = _write_sclotho(tmp_path)
    out = import_spatial_clotho(root, tmp_path / "corpus", seed=1, progress=False)
    rows = validate_corpus(out, deep=True)
    assert {s: len(r) // 4 for s, r in rows.items()} == {"train": 2, "val": 1, "test": 1}
    assert _check_clips(out) == 4
    manifest = json.loads((out / "corpus.json").read_text())
    assert manifest["source_kinds"] == {"train": "sClotho", "val": "sClotho", "test": "sClotho"}


def test_stclotho_mismatched_triplet_and_missing_duration_are_refused(tmp_path):
    root = _write_stclotho(tmp_path)
    meta = root.parent / "stClotho_negative" / "metadata" / "test" / "spatial" / "spatial_negative_000007.json"
    data = json.loads(meta.read_text())
    data["audio_segments"][1]["metadata"]["ori_audiofile"] = "other.wav"
    meta.write_text(json.dumps(data))
    with pytest.raises(CorpusError, match=r"spatial_negative_000007.json: holds .*other.wav.*not the events of .*temporal_000007.json"):
        import_spatial_clotho(root, tmp_path / "out", progress=False)
    pos = root / "metadata" / "valid" / "temporal_000004.json"
    data = json.loads(pos.read_text())
    del data["audio_segments"][0]["duration"]
    pos.write_text(json.dumps(data))
    with pytest.raises(CorpusError, match=r"temporal_000004.json: audio_segments\[0\]: no 'duration'"):
        import_spatial_clotho(root, tmp_path / "out", progress=False)
    assert not (tmp_path / "out").exists() and not list(tmp_path.glob(".out.tmp-*"))


def test_spatial_clotho_cli(tmp_path):
    root = _write_sclotho(tmp_path)
    out = tmp_path / "c"
    assert cli_main(["import-spatial-clotho", str(root), "--out", str(out), "--compass", "--no-progress"]) == 0
    assert all("from the " in r["caption"] for r in read_metadata(out, "train"))
    assert cli_main(["import-spatial-clotho", str(root), "--out", str(out), "--no-progress"]) == 1


@pytest.mark.slow
def test_stclotho_corpus_trains(stclotho_corpus, tmp_path):
    metrics = _train_quickly(stclotho_corpus, tmp_path)
    assert 0.0 <= metrics["joint/t2a/R@1"] <= 1.0 and 0.0 <= metrics["joint/order_acc"] <= 1.0

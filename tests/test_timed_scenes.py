"""Timed scenes (``layout="timed"``): when the sounds happen, a moving source, and five clips a scene that
each differ from pos in one factor; the metrics and reference scorers of their tests; and the two
layouts of two halves ("spill", "isolated") unchanged by them.

What is checked, and on what:

* a moving source's rendered direction (intensity vector per STFT frame) follows its path: within 0.5 deg
  without a room, within a median of 4 deg (90th percentile 10 deg) in rooms, for a broadband source;
* the onsets and durations of the metadata are where the clips' energy is (anechoic: exactly silent
  outside the events; each event's sound starts and ends within 30 ms of its stated start and end);
* each negative differs from pos in its one factor, on the rendered audio (anechoic, where each event's
  own span holds its sound alone): the omni channel W says which sound fills a slot, the direction of
  (Y, Z, X) / W at every sample says where it is;
* each reference scorer scores its row of ``sclap_nb.reference``'s table;
* ``motion_acc`` reaches ``metrics.json`` (``evaluation_metrics``) when the groups hold neg_m, and only then;
* small spill, isolated and anechoic corpora hash as they did before the timed layout existed.
"""

from __future__ import annotations

import csv
import hashlib
import json
import shutil
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
import torch
import torch.nn.functional as F

from conftest import TINY_MODEL
from sclap_nb.data import (
    CorpusError,
    StClothoDataModule,
    StClothoDataset,
    build_corpus,
    collate_groups,
    read_metadata,
    scene_roles,
)
from sclap_nb.data.scenes import ALL_ROLES, ROLES
from sclap_nb.data.sources import SOUND_CLASSES, SoundfontSource
from sclap_nb.data.spatial import (
    Position,
    SourcePath,
    doa_vector,
    foa_rir,
    motion_phrase,
    sample_path,
    sample_room,
    sector_of,
    spatialise,
    spatialise_moving,
)
from sclap_nb.data.timed import (
    EVENT_SECONDS,
    MIN_SILENCE_SHARE,
    TIMED_ROLES,
    choose_crop,
    loop_active,
    make_timed_scene,
    render_timed_pool,
    sample_timing,
)
from sclap_nb.evaluation import embed_split, evaluation_metrics
from sclap_nb.features import FeatureConfig, FOAFeatures
from sclap_nb.metrics import (
    TIMED_GROUP_ROLES,
    group_scores,
    order_place_accuracy,
    order_place_from_scores,
)
from sclap_nb.model import ModelConfig, SpatialTemporalCLAP
from sclap_nb.reference import (
    MOTION_SCORERS,
    SCORERS,
    motion_blind,
    order_blind,
    reference_metrics,
    sound_order,
)
from sclap_nb.reference import main as reference_cli

SR = 16000

# ---------------------------------------------------------------- the layouts of two halves are unchanged

#: sha256 of (metadata CSV bytes, then every clip's 16-bit samples, in metadata order) of each split of
#: ``build_corpus(dir, 2, 1, 2, seed=11, **kw)``, computed with the code of commit 14acbec (before the
#: timed layout existed) by the same ``_fingerprint`` as below
FINGERPRINTS = {
    "spill": "a1006129dfc630ab9a5a3f80e5715c8211e698dd97cd92c401115faf2cfac57e",
    "isolated": "d2f4d10e96cfb13be676c312f8f479a6672cf30ab8715651c07a3089dd9c56b4",
    "anechoic": "224f31da8aef27bda6fd926dbbc5a8cec5ce69987d2e47620ac4b14bd377f1b6",
}


def _fingerprint(root: Path) -> str:
    h = hashlib.sha256()
    for split in ("train", "val", "test"):
        h.update((root / "metadata" / f"{split}.csv").read_bytes())
        for r in read_metadata(root, split):
            a, _ = sf.read(str(root / r["file"]), dtype="int16", always_2d=True)
            h.update(np.ascontiguousarray(a).tobytes())
    return h.hexdigest()


@pytest.mark.parametrize("name, kw", [("spill", {}), ("isolated", {"layout": "isolated"}), ("anechoic", {"anechoic": True})])
def test_layouts_of_two_halves_are_unchanged(name, kw, tmp_path):
    root = build_corpus(tmp_path / name, 2, 1, 2, seed=11, progress=False, **kw)
    assert _fingerprint(root) == FINGERPRINTS[name]
    rows = read_metadata(root, "train")
    assert scene_roles(rows) == ROLES and "events" not in rows[0]  # four clips, no timed column
    assert StClothoDataset(root, "train", roles="all").group_size == 4


# ---------------------------------------------------------------- a moving source follows its path


_FE = FOAFeatures(FeatureConfig(sample_rate=SR)).eval()


def _frame_azimuths(foa: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Frame centres (s) and the azimuth (deg) of each frame's intensity vector (logmelIV channels 4-6)."""
    with torch.no_grad():
        _, liv = _FE(torch.from_numpy(np.ascontiguousarray(foa[None], dtype=np.float32)))
    v = liv[0, 4:7].sum(-1).double().numpy()
    return np.arange(liv.shape[2]) * _FE.cfg.hop_length / SR, np.degrees(np.arctan2(v[1], v[0]))


def _wrap(a):
    return (np.asarray(a) + 180.0) % 360.0 - 180.0


@pytest.mark.parametrize("roomed", [False, True], ids=["anechoic", "room"])
def test_moving_source_follows_its_path(roomed):
    medians = []
    for seed in range(4):
        rng = np.random.default_rng(seed)
        x = (0.05 * rng.standard_normal(int(1.5 * SR))).astype(np.float32)  # broadband
        room = sample_room(rng, f"r{seed}") if roomed else None
        s0 = int(rng.integers(8))
        path = sample_path(rng, s0, (s0 + int(rng.choice([2, 3, -2, -3]))) % 8, room)
        assert 60.0 <= abs(path.sweep) <= 165.0
        seconds = len(x) / SR
        for p in (path, path.reversed()):
            t, az = _frame_azimuths(spatialise_moving(x, p, room, SR))
            keep = (t > 0.02) & (t < seconds - 0.02)  # frames whose window lies in the signal
            err = np.abs(_wrap(az - p.azimuth_at(t / seconds)))[keep]
            # the path the other way round is far off, so the check can fail
            assert np.median(np.abs(_wrap(az - p.reversed().azimuth_at(t / seconds)))[keep]) > 20.0
            if roomed:
                medians.append(np.median(err))
                assert np.percentile(err, 90) < 10.0 and err.max() < 20.0, (seed, np.percentile(err, 90), err.max())
            else:
                assert err.max() < 0.5, (seed, err.max())
    if roomed:
        assert max(medians) < 4.0, medians


def test_a_path_that_does_not_move_renders_as_a_fixed_source():
    room = sample_room(np.random.default_rng(3), "r")
    x = np.random.default_rng(0).standard_normal(SR // 2).astype(np.float32) * 0.05
    still = spatialise_moving(x, SourcePath(30.0, 30.0, 5.0, 2.0), room, SR)
    fixed = spatialise(x, foa_rir(room, Position(30.0, 5.0, 2.0, sector_of(30.0)), SR))
    np.testing.assert_allclose(still, fixed, atol=1e-6)
    assert motion_phrase(90.0, 0.0) == "moving from the left to the front"
    assert motion_phrase(-90.0, 180.0, "compass") == "moving from the east to the south"


# ---------------------------------------------------------------- timing


def test_timing_varies_silences_and_overlaps_partly():
    rng = np.random.default_rng(0)
    long_silence = overlapped = 0
    draws = 600
    for i in range(draws):
        n_ev = 2 + i % 2
        tm = sample_timing(rng, n_ev, 4.0, SR)
        on, du = np.array(tm.onsets) / SR, np.array(tm.durations) / SR
        end = on + du
        assert len(tm) == n_ev and (np.diff(on) > 0).all() and on[0] >= 0 and end[-1] <= 4.0 + 1e-9
        assert ((du >= EVENT_SECONDS[0] - 1e-3) & (du <= EVENT_SECONDS[1] + 1e-3)).all()
        # an overlap is partial: the later event starts after the earlier one and ends after it
        assert (end[1:] - end[:-1] >= 0.1 * np.minimum(du[1:], du[:-1])).all()
        assert [bool(o) for o in tm.overlaps] == list(on[1:] < end[:-1])
        covered = np.zeros(4 * SR, bool)
        for o, d in zip(tm.onsets, tm.durations):
            covered[o : o + d] = True
        assert (~covered).mean() >= MIN_SILENCE_SHARE - 1e-3
        gaps = np.r_[on[0], on[1:] - end[:-1], 4.0 - end[-1]]
        long_silence += gaps.max() > 0.4
        overlapped += any(tm.overlaps)
    # silences longer than the CNNs' receptive field (~0.4 s) in most scenes; overlaps in some
    assert long_silence / draws > 0.6 and 0.2 < overlapped / draws < 0.6, (long_silence / draws, overlapped / draws)
    with pytest.raises(ValueError, match="at least 3 s"):
        sample_timing(rng, 2, 2.0, SR)


# ---------------------------------------------------------------- scenes, rendered


@pytest.fixture(scope="module")
def pool():
    return render_timed_pool(SoundfontSource(SR), 1, np.random.default_rng(0), "t")


def _direction(audio: np.ndarray, a: int, b: int) -> tuple[np.ndarray, np.ndarray]:
    """Sample indices in [a, b) where W is not tiny, and (Y, Z, X) / W there as unit vectors (x, y, z)."""
    w = audio[0, a:b].astype(np.float64)
    idx = np.flatnonzero(np.abs(w) > 1e-3 * max(np.abs(w).max(), 1e-12))
    v = np.stack([audio[3, a:b][idx], audio[1, a:b][idx], audio[2, a:b][idx]]) / w[idx]
    return idx + a, v


def _expected(event: dict, idx: np.ndarray, onset: int, n: int, reverse: bool = False) -> np.ndarray:
    """Unit vectors of ``event``'s place (a pos event: fixed, or its path) at samples ``idx`` of a slot
    ``[onset, onset + n)``; ``reverse``: the path the other way round."""
    path = SourcePath(event["azimuth"], event["azimuth_end"], event["elevation"], 1.0)
    path = path.reversed() if reverse else path
    u = (idx - onset + 0.5) / n
    return doa_vector(path.azimuth_at(u), np.full(len(idx), event["elevation"]))


def _spans(events: list[dict]) -> list[tuple[int, int]]:
    """Each event's own span in samples (no other event sounds there)."""
    out = []
    for k, e in enumerate(events):
        a, b = round(e["onset"] * SR), round((e["onset"] + e["duration"]) * SR)
        if k:
            a = max(a, round((events[k - 1]["onset"] + events[k - 1]["duration"]) * SR))
        if k + 1 < len(events):
            b = min(b, round(events[k + 1]["onset"] * SR))
        out.append((a, b))
    return out


def _changed(pos: list[dict], other: list[dict]) -> list[int]:
    return [k for k, (a, b) in enumerate(zip(pos, other)) if a != b]


@pytest.mark.parametrize("seed", range(6))
def test_each_negative_differs_from_pos_in_its_one_factor(pool, seed):
    """Anechoic: in an event's own span, W is its sound alone and (Y, Z, X) / W its direction, exactly."""
    scene = make_timed_scene(seed, pool, np.random.default_rng([4, seed]), None, SR, 4.0)
    clips = {c.role: c for c in scene.clips}
    assert tuple(clips) == TIMED_ROLES
    pos_ev = list(clips["pos"].events)
    n_ev = len(pos_ev)
    assert n_ev in (2, 3) and sum(e["moving"] for e in pos_ev) == 1
    mover = next(k for k, e in enumerate(pos_ev) if e["moving"])
    pair = _changed(pos_ev, clips["neg_t"].events)
    assert len(pair) == 2
    i, j = pair
    spans = _spans(pos_ev)
    # which pos event's sound and which pos event's place fill each slot, per role (metadata and captions agree)
    sound = {"pos": {}, "neg_t": {i: j, j: i}, "neg_s": {}, "neg_c": {i: j, j: i}, "neg_m": {}}
    place = {"pos": {}, "neg_t": {i: j, j: i}, "neg_s": {i: j, j: i}, "neg_c": {}, "neg_m": {}}
    for role, c in clips.items():
        assert [e["onset"] for e in c.events] == [e["onset"] for e in pos_ev]  # the scene's slots, in every clip
        assert [e["duration"] for e in c.events] == [e["duration"] for e in pos_ev]
        for k, e in enumerate(c.events):
            assert e["class"] == pos_ev[sound[role].get(k, k)]["class"], (role, k)
            src = pos_ev[place[role].get(k, k)]
            flip = role == "neg_m" and k == mover
            assert (e["azimuth"], e["azimuth_end"]) == ((src["azimuth_end"], src["azimuth"]) if flip else (src["azimuth"], src["azimuth_end"]))
        assert (c.caption == clips["pos"].caption) == (role == "pos")
    # the audio: W (the sound) and the direction at every sample of each event's own span
    pos_w = clips["pos"].audio[0]
    for role, c in clips.items():
        for k, (a, b) in enumerate(spans):
            same_sound = np.array_equal(c.audio[0, a:b], pos_w[a:b])
            assert same_sound == (k not in sound[role]), (role, k)
            idx, v = _direction(c.audio, a, b)
            n = round(pos_ev[k]["duration"] * SR)
            onset = round(pos_ev[k]["onset"] * SR)
            want = _expected(pos_ev[place[role].get(k, k)], idx, onset, n, reverse=role == "neg_m" and k == mover)
            np.testing.assert_allclose(v, want, atol=2e-3, err_msg=f"{role}, slot {k}")
    # neg_t holds neg_c's sounds at neg_s's places, sample for sample in each own span
    for a, b in spans:
        np.testing.assert_array_equal(clips["neg_t"].audio[0, a:b], clips["neg_c"].audio[0, a:b])
    # the motion negative is pos everywhere but the mover's slot
    a, b = round(pos_ev[mover]["onset"] * SR), round((pos_ev[mover]["onset"] + pos_ev[mover]["duration"]) * SR)
    rest = np.ones(clips["pos"].audio.shape[1], bool)
    rest[a:b] = False
    np.testing.assert_array_equal(clips["neg_m"].audio[:, rest], clips["pos"].audio[:, rest])
    np.testing.assert_array_equal(clips["neg_m"].audio[0], pos_w)
    assert not np.array_equal(clips["neg_m"].audio[1:, a:b], clips["pos"].audio[1:, a:b])


def test_negatives_in_a_room_start_where_they_first_differ(pool):
    """In a room, a clip equals pos up to the first slot it changes (the RIRs are causal)."""
    room = sample_room(np.random.default_rng(9), "r")
    for seed in range(3):
        scene = make_timed_scene(seed, pool, np.random.default_rng([5, seed]), room, SR, 4.0)
        clips = {c.role: c for c in scene.clips}
        pos = clips["pos"]
        first = round(pos.events[0]["onset"] * SR)
        for c in clips.values():
            assert not np.any(c.audio[:, :first])
            changed = _changed(list(pos.events), list(c.events))
            if changed:
                at = round(pos.events[changed[0]]["onset"] * SR)
                np.testing.assert_array_equal(c.audio[:, :at], pos.audio[:, :at])
                assert not np.array_equal(c.audio[:, at : at + SR // 10], pos.audio[:, at : at + SR // 10])


def test_captions_name_order_places_and_motion(pool):
    seen = {"while": 0, "finally": 0}
    for seed in range(12):
        scene = make_timed_scene(seed, pool, np.random.default_rng([6, seed]), None, SR, 4.0)
        clips = {c.role: c for c in scene.clips}
        pos = clips["pos"]
        mover = next(e for e in pos.events if e["moving"])
        phrase = motion_phrase(mover["azimuth"], mover["azimuth_end"])
        assert pos.caption.startswith("first ") and phrase in pos.caption
        assert motion_phrase(mover["azimuth_end"], mover["azimuth"]) in clips["neg_m"].caption
        assert phrase not in clips["neg_m"].caption
        assert clips["neg_m"].caption.replace(motion_phrase(mover["azimuth_end"], mover["azimuth"]), phrase) == pos.caption
        assert len({c.caption for c in scene.clips}) == 5  # every clip its own caption
        assert clips["neg_s"].plain_caption == pos.plain_caption == clips["neg_m"].plain_caption
        assert "moving" not in pos.plain_caption and " left" not in pos.plain_caption
        # neg_c names the same places in the same order as pos, the sounds of the exchanged events swapped
        assert clips["neg_c"].plain_caption == clips["neg_t"].plain_caption != pos.plain_caption
        seen["while"] += "while it goes on" in pos.caption
        seen["finally"] += "and finally" in pos.caption
        assert pos.caption.count("while it goes on") == sum(
            e1["onset"] + e1["duration"] > e2["onset"] + 1e-6 for e1, e2 in zip(pos.events, pos.events[1:])
        )
    assert seen["while"] > 0 and seen["finally"] > 0


# ---------------------------------------------------------------- the corpus: metadata, energy, reader


#: the soundfont's sparsest classes: strokes with silence between them, one-shot samples (looped)
SPARSE = ("hi-hat", "kick drum", "cowbell", "hand claps", "congas", "bird", "telephone")
#: a sound of strokes may end in the pause after its last stroke: the longest step between strokes
STROKE_PAUSE_S = 0.35


@pytest.fixture(scope="module")
def anechoic_timed(tmp_path_factory) -> Path:
    """An anechoic timed corpus, mostly of the sparse classes (where a crop that starts in a pause would
    show) and a few sustained ones."""
    names = (*SPARSE, "piano", "violin", "seashore", "choir", "helicopter")
    source = SoundfontSource(SR, classes=tuple(c for c in SOUND_CLASSES if c.name in names))
    return build_corpus(tmp_path_factory.mktemp("timed") / "a", 0, 0, 12, seed=3, clip_seconds=4.0, anechoic=True,
                        layout="timed", progress=False, source=source)  # fmt: skip


@pytest.fixture(scope="module")
def timed(tmp_path_factory) -> Path:
    """A timed corpus with rooms, 24 test scenes."""
    return build_corpus(tmp_path_factory.mktemp("timed") / "r", 4, 2, 24, seed=3, clip_seconds=4.0, layout="timed",
                        progress=False)  # fmt: skip


def test_crops_start_and_end_where_the_sound_is():
    """Bursts of 50 ms every 200 ms: a crop's sound starts right after its fade-in (20 ms), and ends right
    before its fade-out wherever some start allows both."""
    t = np.arange(int(2.5 * SR))
    bursts = np.where(t % (SR // 5) < SR // 20, np.sin(2 * np.pi * 440 * t / SR), 0.0).astype(np.float32)
    hop = SR // 100

    def sounds(at: int) -> bool:  # the 10 ms frame from ``at`` holds the burst
        return bool(np.any(bursts[at : at + hop]))

    rng = np.random.default_rng(0)
    both = 0
    for _ in range(60):
        n = int(rng.uniform(0.3, 2.0) * SR)
        at = choose_crop(bursts, [n], rng, SR)
        assert at % hop == 0 and sounds(at + 2 * hop), (at, n)
        possible = any(sounds(c + 2 * hop) and sounds(c + n // hop * hop - 3 * hop) for c in range(0, len(bursts) - n + 1, hop))
        if possible:
            assert sounds(at + n // hop * hop - 3 * hop), (at, n)
            both += 1
    assert 10 < both < 60  # both kinds of length were drawn
    # a one-shot sound is looped over its active part to the length asked
    shot = np.r_[np.zeros(800), np.hanning(1600), np.zeros(30000)].astype(np.float32)
    looped = loop_active(shot, SR, 2 * SR)
    assert len(looped) == 2 * SR and (np.abs(looped).reshape(-1, 160).max(1) > 0).mean() > 0.9


def test_metadata_onsets_and_durations_are_where_the_energy_is(anechoic_timed):
    """Silent outside the events; an event's sound (within 40 dB of its loudest 10 ms) starts within 30 ms
    of its onset and lasts to within 30 ms of its end (a sound of strokes: its last stroke within
    ``STROKE_PAUSE_S``), judged where no other event sounds."""
    hop = SR // 100
    checked = 0
    for r in read_metadata(anechoic_timed, "test"):
        w = sf.read(str(anechoic_timed / r["file"]), dtype="float64", always_2d=True)[0][:, 0]
        events = r["events"]
        inside = np.zeros(len(w), bool)
        for e in events:
            inside[round(e["onset"] * SR) : round((e["onset"] + e["duration"]) * SR)] = True
        assert not np.any(w[~inside]), r["id"]  # silence outside the events, exactly (no room)
        for k, (a, b) in enumerate(_spans(events)):
            e = events[k]
            frames = w[a : a + (b - a) // hop * hop].reshape(-1, hop)
            rms = np.sqrt((frames**2).mean(1))
            active = np.flatnonzero(rms >= rms.max() * 10 ** (-40 / 20))
            if a == round(e["onset"] * SR):  # its start is its own
                assert active[0] * hop <= 0.03 * SR, (r["id"], k, e["class"], active[0])
                checked += 1
            if b == round((e["onset"] + e["duration"]) * SR):  # its end is its own
                late = (len(rms) - 1 - active[-1]) * hop / SR
                assert late <= (STROKE_PAUSE_S if e["class"] in SPARSE else 0.03), (r["id"], k, e["class"], late)
    assert checked >= 5 * 12 * 2


def test_timed_corpus_reads_in_groups_of_five(timed):
    rows = read_metadata(timed, "test")
    assert scene_roles(rows) == TIMED_ROLES == ALL_ROLES and len(rows) == 5 * 24
    assert rows[4]["file"] == "audio/test/motion_negative_000000.wav"
    for r in rows:
        e = r["events"]
        assert 2 <= len(e) <= 3 and sum(x["moving"] for x in e) == 1
        assert (r["class_1"], r["class_2"]) == (e[0]["class"], e[1]["class"])
        assert r["num_samples"] == 4 * SR
    ds = StClothoDataset(timed, "test", roles="all")
    assert ds.group_size == 5 and ds[0]["roles"] == list(TIMED_ROLES) and ds[0]["doa"].shape == (5, 2, 3)
    assert StClothoDataset(timed, "train").group_size == 3  # the default training groups are unchanged
    assert StClothoDataset(timed, "train", roles=ROLES).group_size == 4
    batch = collate_groups([ds[0], ds[1]])
    assert batch["roles"] == list(TIMED_ROLES) * 2
    with pytest.raises(ValueError, match="clip_seconds >= 3"):
        build_corpus(timed.parent / "short", 1, 0, 0, clip_seconds=2.0, layout="timed", progress=False)
    assert not (timed.parent / "short").exists()
    assert json.loads((timed / "corpus.json").read_text())["layout"] == "timed"


def _edit_events(root: Path, tmp: Path, change) -> Path:
    out = tmp / "edited"
    shutil.copytree(root, out)
    path = out / "metadata" / "test.csv"
    with open(path, newline="") as f:
        rows = list(csv.DictReader(f))
    change(rows[1])
    with open(path, "w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=list(rows[0]), lineterminator="\n")
        w.writeheader()
        w.writerows(rows)
    return out


@pytest.mark.parametrize(
    "change, message",
    [
        (lambda r: r.update(events="[{"), r"row 2 \(id test_000000_neg_t\): column events: not JSON"),
        (lambda r: r.update(events=json.dumps(json.loads(r["events"])[:1])), r"row 2 .*at least 2 events"),
        (lambda r: r.update(events=json.dumps([{**e, "onset": 9.0} for e in json.loads(r["events"])])), r"row 2 .*does not fit"),
        (lambda r: r.update(events=json.dumps([{k: v for k, v in e.items() if k != "moving"} for e in json.loads(r["events"])])),
         r"row 2 .*lacks \['moving'\]"),
        (lambda r: r.update(class_1="bagpipe-x"), r"row 2 .*is not the row's class_1"),
    ],
)
def test_a_bad_events_cell_is_named(anechoic_timed, tmp_path, change, message):
    root = _edit_events(anechoic_timed, tmp_path, change)
    with pytest.raises(CorpusError, match=message) as e:
        read_metadata(root, "test")
    assert "test.csv" in str(e.value) and "\n" not in str(e.value)


# ---------------------------------------------------------------- reference scorers and metrics


@pytest.mark.slow  # every reference scorer over the timed corpus: tens of seconds on 2 cores
def test_reference_scorers_reproduce_their_rows(timed, capsys):
    m = reference_metrics(timed, "test", ties="share")
    names = (*SCORERS, *MOTION_SCORERS)
    assert set(m) == {f"reference/{s}/{k}" for s in names
                      for k in ("order_acc", "place_acc", "motion_acc", "vs_neg_t", "vs_neg_s", "vs_neg_c", "vs_neg_m")}  # fmt: skip

    def row(name):
        return {k.split("/", 2)[2]: v for k, v in m.items() if k.startswith(f"reference/{name}/")}

    d, b, s, mb = row("direction_only"), row("order_blind"), row("sound_order"), row("motion_blind")
    # each passes its own test(s) ...
    assert d["motion_acc"] >= 0.9 and d["vs_neg_t"] >= 0.9 and d["vs_neg_s"] >= 0.9, d
    assert b["place_acc"] == 1.0 and s["order_acc"] == 1.0 and mb["order_acc"] == mb["place_acc"] == 1.0
    # ... and sits at chance on the others: exactly, where it ties by construction; near it from the audio
    assert b["order_acc"] == b["motion_acc"] == 0.5 and s["place_acc"] == s["motion_acc"] == 0.5 and mb["motion_acc"] == 0.5
    assert 0.25 <= d["order_acc"] <= 0.75 and 0.25 <= d["place_acc"] <= 0.75 and 0.25 <= d["vs_neg_c"] <= 0.75, d
    # the ties themselves
    blind, order, mblind = order_blind(timed, "test"), sound_order(timed, "test"), motion_blind(timed, "test")
    assert blind.shape == order.shape == mblind.shape == (24, 5)
    assert torch.equal(blind[:, 0], blind[:, 1]) and torch.equal(blind[:, 0], blind[:, 4])
    assert torch.equal(order[:, 0], order[:, 2]) and torch.equal(order[:, 0], order[:, 4])
    assert torch.equal(mblind[:, 0], mblind[:, 4]) and (mblind[:, 0:1] > mblind[:, 1:4]).all()
    assert reference_cli([str(timed), "--ties", "share"]) == 0
    out = capsys.readouterr().out
    assert "motion_acc" in out and "motion_blind" in out


def test_motion_blind_needs_a_timed_corpus(tmp_path):
    root = build_corpus(tmp_path / "c", 0, 0, 2, seed=1, anechoic=True, progress=False)
    with pytest.raises(ValueError, match="timed corpus"):
        motion_blind(root, "test")
    assert not any("motion" in k for k in reference_metrics(root, "test"))


def _unit(*shape, seed=0):
    return F.normalize(torch.randn(*shape, generator=torch.Generator().manual_seed(seed)), dim=-1)


def test_motion_metrics_on_hand_made_embeddings():
    b, d = 300, 16
    everything, other = _unit(b, d, seed=1), _unit(4, b, d, seed=2)
    # a model that hears every fact but the direction of motion: neg_m looks like pos
    per_role = {"pos": everything, "neg_t": other[0], "neg_s": other[1], "neg_c": other[2], "neg_m": everything}
    audio = torch.stack([per_role[r] for r in TIMED_ROLES], 1).reshape(-1, d)
    text = torch.stack([everything] * 5, 1).reshape(-1, d)
    roles = list(TIMED_ROLES) * b
    s = group_scores(audio, text, roles)
    assert s.shape == (b, len(TIMED_GROUP_ROLES))
    m = order_place_accuracy(audio, text, roles)
    assert m["order_acc"] == m["place_acc"] == 1.0 and abs(m["motion_acc"] - 0.5) < 0.08 and m["vs_neg_m"] == m["motion_acc"]
    assert order_place_from_scores(s, ties="share")["motion_acc"] == 0.5  # a tie counts its expectation
    # a perfect one
    audio = _unit(5 * b, d, seed=3)
    assert order_place_accuracy(audio, audio.clone(), roles)["motion_acc"] == 1.0
    # three-way tie: pos must beat two tied clips
    tie = torch.zeros(2, 5)
    assert order_place_from_scores(tie, ties="share")["order_acc"] == pytest.approx(1 / 3)
    with pytest.raises(ValueError, match="ties"):
        order_place_from_scores(tie, ties="coin")
    with pytest.raises(ValueError, match="order"):
        group_scores(audio[:5], audio[:5], ["pos", "neg_t", "neg_s", "neg_m", "neg_c"])


def _emb(roles: tuple[str, ...], b: int = 12, d: int = 16) -> dict:
    n = len(roles) * b
    e = _unit(n, d, seed=4)
    doa = F.normalize(torch.randn(n, 2, 3, generator=torch.Generator().manual_seed(5)), dim=-1)
    return {"e_joint": e, "e_triplet": e.clone(), "text_comb": e.clone(), "captions": [f"c{i}" for i in range(n)],
            "roles": list(roles) * b, "doa": doa, "doa_target": doa, "mod_correct": [], "group_size": len(roles),
            "direction_prompts": _unit(8, d, seed=6)}  # fmt: skip


def test_motion_acc_reaches_the_metrics_only_with_neg_m():
    with_m = evaluation_metrics(_emb(TIMED_ROLES), full=False)
    for name in ("joint", "triplet"):
        assert with_m[f"{name}/motion_acc"] == 1.0 and with_m[f"{name}/vs_neg_m"] == 1.0
        assert with_m[f"{name}/order_acc"] == 1.0
    without = evaluation_metrics(_emb(ROLES), full=False)
    assert not any("neg_m" in k or "motion" in k for k in without)
    assert set(with_m) - set(without) == {f"{n}/{k}" for n in ("joint", "triplet") for k in ("motion_acc", "vs_neg_m")}
    # the roles follow from the group size when a caller gives none
    no_roles = _emb(TIMED_ROLES)
    del no_roles["roles"]
    assert evaluation_metrics(no_roles, full=False)["joint/motion_acc"] == 1.0


@pytest.mark.slow  # a model over 120 clips of 4 s: about 15 s on 2 cores
def test_a_model_embeds_timed_groups_and_reports_motion(timed):
    """A (tiny, untrained) model embeds 4 s clips in groups of five; motion_acc reaches its metrics."""
    model = SpatialTemporalCLAP(ModelConfig.from_dict(TINY_MODEL))
    dm = StClothoDataModule(timed, batch_size=8, features=model.cfg.features, eval_roles="all")
    dm.setup("test")
    emb = embed_split(model, dm.test_dataloader())
    assert emb["group_size"] == 5 and emb["roles"][:5] == list(TIMED_ROLES) and len(emb["roles"]) == 5 * 24
    m = evaluation_metrics(emb, full=False)
    for name in ("joint", "triplet"):
        assert 0.0 <= m[f"{name}/motion_acc"] <= 1.0 and m[f"{name}/motion_acc"] == m[f"{name}/vs_neg_m"]
        assert f"{name}/order_acc" in m and f"{name}/t2a/R@1" in m


def test_neg_m_joins_the_training_groups_as_a_fifth_clip(timed, tiny_corpus):
    """negatives (neg_t, neg_s, neg_c, neg_m): groups of five, a 5-way group term whose fifth column counts."""
    from sclap_nb.config import NEGATIVES, LossConfig
    from sclap_nb.losses import three_way_loss, total_loss

    five = LossConfig(negatives=(*NEGATIVES, "neg_m"))
    model = SpatialTemporalCLAP(ModelConfig.from_dict(TINY_MODEL))
    dm = StClothoDataModule(timed, batch_size=4, features=model.cfg.features, roles=("pos", *five.negatives))
    dm.setup("fit")
    batch = next(iter(dm.train_dataloader()))
    assert batch["group_size"] == 5 and batch["roles"][:5] == list(TIMED_ROLES)
    out = model(batch)
    parts = total_loss(out, batch, epoch=5, cfg=five)
    assert torch.isfinite(parts["total"]) and parts["loss_ts"].item() == pytest.approx(
        three_way_loss(out.e_audio, out.text_comb, out.logit_scale, 5).item())
    four = three_way_loss(out.e_audio.view(4, 5, -1)[:, :4].reshape(16, -1), out.text_comb.view(4, 5, -1)[:, :4].reshape(16, -1),
                          out.logit_scale, 4)  # fmt: skip
    assert parts["loss_ts"].item() != pytest.approx(four.item())  # neg_m is in the term
    with pytest.raises(ValueError, match="neg_m"):  # a corpus of two halves has no neg_m
        StClothoDataModule(tiny_corpus, batch_size=4, features=model.cfg.features, roles=("pos", *five.negatives)).setup("fit")
    with pytest.raises(Exception, match="negatives"):
        LossConfig(negatives=("neg_m",)).check()


def test_the_motion_probe_reads_which_way_the_source_turns(timed):
    """``scripts/probe_first_sound.turn``: pos and neg_m of a scene turn opposite ways, every other clip as pos."""
    import sys

    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "scripts"))
    from probe_first_sound import turn

    rows = read_metadata(timed, "test")
    for k in range(0, len(rows), 5):
        group = {r["role"]: turn(r["events"]) for r in rows[k : k + 5]}
        assert group["neg_m"] != group["pos"] and {group[r] for r in ("neg_t", "neg_s", "neg_c")} == {group["pos"]}
    assert turn('[{"moving": true, "azimuth": 170.0, "azimuth_end": -150.0}]') == "ccw"  # across +-180: 40 deg ccw
    with pytest.raises(ValueError, match="one moving event"):
        turn('[{"moving": false, "azimuth": 0.0, "azimuth_end": 0.0}]')

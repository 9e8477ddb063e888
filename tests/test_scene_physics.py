"""Measured physics and wording of the synthetic scenes: level vs distance, reverberation time,
diffuse tail, position spacing, and captions that say only what the audio holds."""

from __future__ import annotations

import re

import numpy as np
import pytest

from sclap_nb.data import CONNECTORS, COMPASS_WORDS, SECTOR_WORDS, SOUND_CLASSES, Position, Room, SoundfontSource, make_scene
from sclap_nb.data.scenes import allowed_gaps
from sclap_nb.data.sources import Event
from sclap_nb.data.spatial import (
    _RELATIVE_PHRASES,
    RIR_LENGTH_RT60,
    doa_vector,
    foa_rir,
    min_separation_deg,
    sample_position,
    sample_room,
    sector_of,
    tail_start,
)

SR = 16000


def _room(rt60: float = 0.4, dims=(6.0, 5.0, 3.0), mic=(3.0, 2.5, 1.4), room_id: str = "r") -> Room:
    import pyroomacoustics as pra

    absorption, order = pra.inverse_sabine(rt60, list(dims))
    return Room(room_id, tuple(dims), rt60, float(absorption), int(min(order, 12)), tuple(mic))


def _db(x: float) -> float:
    return 10.0 * float(np.log10(x))


def _schroeder_rt60(w: np.ndarray, lo_db: float = -5.0, hi_db: float = -25.0) -> float:
    """RT60 from a line fit to the backward-integrated energy decay between ``lo_db`` and ``hi_db`` (T20)."""
    energy = np.cumsum((np.asarray(w, np.float64) ** 2)[::-1])[::-1]
    edc = 10.0 * np.log10(energy / energy[0])
    i0, i1 = int(np.argmax(edc <= lo_db)), int(np.argmax(edc <= hi_db))
    assert i1 > i0 + 10, "the RIR does not decay by 25 dB"
    slope = np.polyfit(np.arange(i0, i1) / SR, edc[i0:i1], 1)[0]  # dB / s
    return -60.0 / slope


def _angle(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.degrees(np.arccos(np.clip(a @ b / np.linalg.norm(a) / np.linalg.norm(b), -1, 1))))


# ---------------------------------------------------------------- level vs distance


def test_level_and_drr_fall_with_distance():
    room = _room()
    near, far = (foa_rir(room, Position(30.0, 0.0, d, sector_of(30.0)), SR).astype(np.float64)[0] for d in (1.0, 2.5))
    n_direct = int(0.0025 * SR)  # the first reflection comes > 3.5 ms after the direct path here
    assert near[0] == pytest.approx(1.0, abs=1e-5) and far[0] == pytest.approx(1 / 2.5, abs=1e-5)  # 1 m reference
    direct = [float(np.sum(h[:n_direct] ** 2)) for h in (near, far)]
    total = [float(np.sum(h**2)) for h in (near, far)]
    drr = [_db(d / (t - d)) for d, t in zip(direct, total)]
    assert _db(direct[0] / direct[1]) == pytest.approx(20 * np.log10(2.5), abs=0.5)
    assert _db(total[0] / total[1]) > 1.0  # farther is quieter overall
    assert drr[0] - drr[1] > 4.0  # and more reverberant


# ---------------------------------------------------------------- reverberation time, tail


@pytest.mark.parametrize("seed", range(6))
def test_rt60_by_schroeder_integration_matches_the_room(seed):
    rng = np.random.default_rng(seed)
    room = sample_room(rng, f"r{seed}")
    pos = sample_position(rng, seed % 8, room)
    rir = foa_rir(room, pos, SR)
    assert rir.shape == (4, int(RIR_LENGTH_RT60 * room.rt60 * SR)) and RIR_LENGTH_RT60 >= 1.2
    t20 = _schroeder_rt60(rir[0])
    assert abs(t20 / room.rt60 - 1) < 0.15, (room.rt60, t20)


def test_early_intensity_points_at_the_source():
    rng = np.random.default_rng(11)
    for i in range(3):
        room = sample_room(rng, f"r{i}")
        for az in range(-135, 181, 45):
            pos = Position(float(az), 0.0, 1.0, sector_of(az))
            w, y, z, x = foa_rir(room, pos, SR).astype(np.float64)[:, : int(0.005 * SR)]
            intensity = np.array([np.sum(w * x), np.sum(w * y), np.sum(w * z)])
            assert _angle(intensity, doa_vector(az, 0.0)) < 5.0, (room.room_id, az)


def test_tail_is_diffuse_continuous_and_seeded_by_room_and_position():
    ratios = []
    for i, rt60 in enumerate((0.25, 0.35, 0.45)):
        room = _room(rt60, room_id=f"t{i}")
        pos = Position(-60.0, 10.0, 2.0, sector_of(-60.0))
        np.random.seed(i)  # the global state must not matter
        rir = foa_rir(room, pos, SR).astype(np.float64)
        np.random.seed(100 + i)
        assert np.array_equal(rir, foa_rir(room, pos, SR))
        other = foa_rir(room, Position(-60.0, 10.0, 2.1, sector_of(-60.0)), SR)
        n_c = tail_start(room, pos, SR)
        assert not np.allclose(rir[:, n_c:], other[:, n_c:])
        t = np.arange(n_c, rir.shape[1]) / SR
        w, y, z, x = rir[:, n_c:] * np.exp(6.91 * t / rt60)  # the decay taken out: every sample counts alike
        e_w = np.sum(w**2)
        # no net intensity, a third of W's energy in each dipole channel (diffuse field, SN3D)
        assert np.linalg.norm([np.sum(w * x), np.sum(w * y), np.sum(w * z)]) / e_w < 0.05
        for dip in (x, y, z):
            assert np.sum(dip**2) / e_w == pytest.approx(1 / 3, rel=0.1)
        # the energy envelope carries on across the start of the tail at the decay rate of RT60
        win = int(0.02 * SR)
        before, after = np.sum(rir[0, n_c - win : n_c] ** 2), np.sum(rir[0, n_c : n_c + win] ** 2)
        expected = -60.0 * (win / SR) / rt60
        ratios.append(_db(after / before) - expected)
    assert np.abs(ratios).max() < 3.0, ratios


# ---------------------------------------------------------------- positions


def _fake_pool(n_classes: int = 3) -> list[list[Event]]:
    return [[Event(np.full(40, 0.1, np.float32), f"c{k}", (f"thing {k} hums",), f"c{k}#0")] for k in range(n_classes)]


def test_scene_positions_are_apart_and_inside_their_sectors():
    pool = _fake_pool()
    seps, offsets = [], []
    for i in range(2000):
        scene = make_scene(i, pool, np.random.default_rng([5, i]), None, 8000, 0.02, min_sector_gap=2)
        az = scene.clips[0].azimuth
        seps.append(abs((az[0] - az[1] + 180) % 360 - 180))
        offsets += [abs((a - sector_of(a) * 45 + 180) % 360 - 180) for a in az]
    assert min(seps) >= 90.0, min(seps)
    assert max(offsets) <= 22.5 - 7.5 + 1e-9, max(offsets)  # >= 7.5 deg inside the sector boundaries
    again = make_scene(7, pool, np.random.default_rng([5, 7]), None, 8000, 0.02)
    assert again.clips[0].azimuth == make_scene(7, pool, np.random.default_rng([5, 7]), None, 8000, 0.02).clips[0].azimuth


@pytest.mark.parametrize("gap", [1, 2, 3, 4])
def test_position_pairs_respect_every_sector_gap(gap):
    rng = np.random.default_rng(gap)
    room = _room()
    need = min_separation_deg(gap)
    assert need == (45.0 * gap if gap < 4 else 150.0)
    for _ in range(300):
        s0 = int(rng.integers(8))
        s2 = (s0 + int(rng.choice(allowed_gaps(gap)))) % 8
        p0 = sample_position(rng, s0, room)
        p2 = sample_position(rng, s2, room, away_from=p0, min_sector_gap=gap)
        assert abs((p0.azimuth - p2.azimuth + 180) % 360 - 180) >= need
        assert p2.sector == s2
    with pytest.raises(ValueError, match="sector"):
        sample_position(rng, 1, room, away_from=Position(0.0, 0.0, 1.0, 0), min_sector_gap=2)


# ---------------------------------------------------------------- words

_PLACE_WORDS = (
    "overhead", "above", "below", "beneath", "under", "nearby", "near", "close", "distance", "distant", "far",
    "away", "behind", "left", "right", "front", "back", "around", "beside", "outside", "inside", "upstairs",
    "downstairs", "here", "there", "shore", "beach", "from", "toward", "towards", "across", "up", "down",
    *COMPASS_WORDS,
)  # fmt: skip
_REPEATED = ("several", "repeatedly", "repeated", "in rhythm", "steadily", "steady")


def test_captions_name_no_direction_or_place():
    for cls in SOUND_CLASSES:
        for cap in cls.captions:
            words = set(re.findall(r"[a-z]+(?:-[a-z]+)?", cap.lower()))
            assert not words & set(_PLACE_WORDS), (cls.name, cap)
            assert not any(p in cap for p in (*_RELATIVE_PHRASES, *SECTOR_WORDS[1::2])), (cls.name, cap)


def test_connectors_take_a_finite_clause():
    assert CONNECTORS == (
        ", then", ", and then", ", after which", ", and after that", ", and afterwards",
        ", and next", ", and later", ", and subsequently", ", then later",
    )  # fmt: skip
    for conn in CONNECTORS:  # none asks for a noun phrase or a gerund after it
        assert conn.split()[-1] not in {"by", "before", "after", "with", "to", "of", "until", "than"}, conn
        caption = f"a dog barks on the left{conn} a bass guitar plays low notes behind"
        assert not re.search(r"\b(followed by|before|with) an? \w+ \w+ plays\b", caption)


def _note_draws(src: SoundfontSource, cls, n: int = 120):
    rng = np.random.default_rng(0)
    return [src._notes(cls, rng, float(rng.uniform(0.3, 0.8))) for _ in range(n)]


@pytest.fixture(scope="module")
def soundfont():
    return SoundfontSource(SR)


def test_captions_agree_in_number_with_the_rendering(soundfont):
    for cls in SOUND_CLASSES:
        onsets = [len({round(s, 6) for s, *_ in notes}) for notes in _note_draws(soundfont, cls)]
        repeated = [c for c in cls.captions if any(m in c for m in _REPEATED)]
        if cls.style == "hits":  # several strikes of one key: every caption says so
            assert min(onsets) >= 3, (cls.name, min(onsets))
            assert len(repeated) == len(cls.captions), (cls.name, cls.captions)
        if cls.style == "single":  # one note: no caption says "several"
            assert max(onsets) == 1 and not repeated, cls.name
        if any("chords" in c for c in cls.captions):
            assert min(onsets) >= 2, (cls.name, min(onsets))


def _key_pitch(src: SoundfontSource, cls, key: int) -> float:
    """Frequency (Hz) of the strongest partial below 1 kHz of one rendered note."""
    audio = src._synthesise(cls, [(0.0, 0.1, key, 100)], SR // 2)
    mag = np.abs(np.fft.rfft(audio * np.hanning(len(audio))))
    freq = np.fft.rfftfreq(len(audio), 1 / SR)
    band = (freq > 40) & (freq < 1000)
    return float(freq[band][np.argmax(mag[band])])


def test_pitch_direction_in_captions_is_what_is_rendered(soundfont):
    directed = {"descending": -1, "falling": -1, "ascending": 1, "rising": 1}
    checked = 0
    for cls in SOUND_CLASSES:
        signs = {s for c in cls.captions for w, s in directed.items() if w in c}
        if not signs:
            continue
        assert len(signs) == 1, cls.name
        sign = signs.pop()
        pitch = {k: _key_pitch(soundfont, cls, k) for k in {k for notes in _note_draws(soundfont, cls) for _, _, k, _ in notes}}
        for notes in _note_draws(soundfont, cls):
            seq = np.array([pitch[k] for _, _, k, _ in sorted(notes)])
            assert np.all(sign * np.diff(seq) >= 0) and sign * (seq[-1] - seq[0]) > 0, (cls.name, seq)
        checked += 1
    assert checked >= 1

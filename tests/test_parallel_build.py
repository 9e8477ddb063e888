"""Rendering on several cores gives the same corpus, file for file, as rendering in one process."""

from __future__ import annotations

import hashlib
import io
import os
from pathlib import Path

import pytest

from sclap_nb.data import build_corpus
from sclap_nb.data.event_clips import build_event_clips
from sclap_nb.data.parallel import build_workers, ordered_map
from sclap_nb.data.sounds import heldout_source

from test_sounds import fake_library  # noqa: E402


def digests(root: Path) -> dict[str, str]:
    return {str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(root.rglob("*")) if p.is_file()}


def test_ordered_map_keeps_the_order_and_raises_a_workers_error():
    offset = 10  # a closure: forked workers inherit it
    assert list(ordered_map(lambda i: (i + offset) ** 2, range(9), workers=2)) == [(i + 10) ** 2 for i in range(9)]
    pids = set(ordered_map(lambda i: os.getpid(), range(8), workers=2))
    assert os.getpid() not in pids and len(pids) >= 1  # computed in other processes
    assert set(ordered_map(lambda i: os.getpid(), range(8), workers=1)) == {os.getpid()}

    def bad(i):
        if i == 5:
            raise ValueError(f"item {i} is bad")
        return i

    with pytest.raises(ValueError, match="item 5 is bad"):
        list(ordered_map(bad, range(8), workers=2))


def test_build_workers_reads_the_environment(monkeypatch):
    monkeypatch.setenv("SCLAP_BUILD_WORKERS", "3")
    assert build_workers() == 3
    monkeypatch.setenv("SCLAP_BUILD_WORKERS", "0")
    with pytest.raises(ValueError, match="SCLAP_BUILD_WORKERS must be >= 1, got 0"):
        build_workers()
    monkeypatch.setenv("SCLAP_BUILD_WORKERS", "two")
    with pytest.raises(ValueError, match="whole number"):
        build_workers()


@pytest.mark.parametrize("layout", ["spill", "timed"])
def test_a_corpus_is_the_same_file_for_file_on_one_or_two_workers(layout, tmp_path, monkeypatch):
    built = {}
    for workers in (1, 2):
        monkeypatch.setenv("SCLAP_BUILD_WORKERS", str(workers))
        built[workers] = build_corpus(tmp_path / f"w{workers}", 5, 2, 3, seed=11, clip_seconds=4.0 if layout == "timed" else 2.0,
                                      layout=layout, progress=False)  # fmt: skip
    one, two = digests(built[1]), digests(built[2])
    assert len(one) > 30 and one == two


def test_event_clips_are_the_same_file_for_file_on_one_or_two_workers(tmp_path, monkeypatch):
    library = fake_library(tmp_path / "library")
    built = {}
    for workers in (1, 2):
        monkeypatch.setenv("SCLAP_BUILD_WORKERS", str(workers))
        built[workers] = build_event_clips(tmp_path / f"ev{workers}", heldout_source(library), "test", seed=5, clip_seconds=2.0)
    one, two = digests(built[1]), digests(built[2])
    assert len(one) >= 7 and one == two


def test_a_scene_encoded_by_its_worker_is_written_as_the_same_files(tmp_path):
    """build_corpus's workers hand back each clip as its WAV file's bytes (corpus.encoded); write_corpus
    writes them as they are. The files equal those of the scene written from its float audio, and those
    equal soundfile's own 16-bit WAV of the clip."""
    import numpy as np
    import soundfile as sf

    from sclap_nb.data.corpus import encoded, wav_bytes, write_corpus
    from sclap_nb.data.sources import SoundfontSource
    from sclap_nb.data.timed import make_timed_scene, render_timed_pool

    sr = 16000
    pool = render_timed_pool(SoundfontSource(sr), 1, np.random.default_rng(0), "t")
    scene = make_timed_scene(0, pool, np.random.default_rng([4, 0]), None, sr, 4.0)
    enc = encoded(scene, sr)
    assert all(c.audio is None and c.wav for c in enc.clips) and all(c.audio is not None for c in scene.clips)
    plain, fast = (write_corpus(tmp_path / name, {"test": [s]}, {}, sr, progress=False)
                   for name, s in (("plain", scene), ("encoded", enc)))  # fmt: skip
    files = sorted(p.relative_to(plain) for p in plain.rglob("*") if p.is_file())
    assert len([f for f in files if f.suffix == ".wav"]) == len(scene.clips)
    for f in files:
        assert (plain / f).read_bytes() == (fast / f).read_bytes(), f  # the metadata's num_samples too
    clip = scene.clips[0]
    sf.write(str(tmp_path / "ref.wav"), clip.audio.T, sr, subtype="PCM_16")
    assert wav_bytes(clip.audio, sr) == (tmp_path / "ref.wav").read_bytes()
    audio, rate = sf.read(io.BytesIO(enc.clips[0].wav), dtype="float32", always_2d=True)
    assert rate == sr and audio.shape == clip.audio.T.shape and np.abs(audio - clip.audio.T).max() < 1 / 2**15 + 1e-7

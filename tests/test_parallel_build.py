"""Rendering on several cores gives the same corpus, file for file, as rendering in one process."""

from __future__ import annotations

import hashlib
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

"""Which sounds a corpus is made of: the soundfont, the library of recorded sounds, or both.

``sound_source(kind, library_dir, sample_rate)`` is the one place that turns the ``data.sounds``
setting into a source for ``build_corpus``:

* ``"soundfont"``: the 35 General MIDI classes of ``SoundfontSource`` (every class in every split,
  renderings disjoint between splits);
* ``"library"``: the recordings of a built library (``library.LibrarySource``: its train / val /
  test recordings, the held-out packages left out);
* ``"mixed"``: both, as one source (``MixedSource``): a class of the mix is a class of one of them,
  so a scene may pair a soundfont violin with a recorded dog bark.

``heldout_source(library_dir, sample_rate)`` is the library's held-out packages as a test split
(the "never heard" scenes and clips).
"""

from __future__ import annotations

import os

import numpy as np

from ..config import DataConfig, FeatureConfig
from .library import LibrarySource, library_identity
from .sources import SPLITS, Event, SoundfontSource

SOUNDS = ("soundfont", "library", "mixed")

__all__ = ["SOUNDS", "MixedSource", "sound_source", "heldout_source", "library_identity"]


class MixedSource:
    """Several sound sources as one: class ``k`` of the mix is class ``index[k][1]`` of source
    ``index[k][0]``. ``partition`` joins the sources' partitions (a source without one gives every
    split all of its classes); ``render`` asks the source the class belongs to."""

    def __init__(self, *sources):
        if len(sources) < 1:
            raise ValueError("MixedSource needs at least one source")
        rates = {int(s.sample_rate) for s in sources}
        if len(rates) != 1:
            raise ValueError(f"the sources' sample rates differ: {sorted(rates)}")
        self.sources = tuple(sources)
        self.sample_rate = rates.pop()
        self.index = [(i, k) for i, s in enumerate(self.sources) for k in range(len(s))]
        self.labels = [self.sources[i].labels[k] for i, k in self.index]
        self.identity = "+".join(getattr(s, "identity", type(s).__name__) for s in self.sources)

    def __len__(self) -> int:
        return len(self.index)

    def partition(self, sizes: dict[str, int], seed: int) -> dict[str, list[int]]:
        out: dict[str, list[int]] = {s: [] for s in SPLITS}
        offset = 0
        for source in self.sources:
            part = source.partition(sizes, seed) if hasattr(source, "partition") else {s: list(range(len(source))) for s in SPLITS}
            for s in SPLITS:
                out[s] += [offset + k for k in part[s]]
            offset += len(source)
        return out

    def render(self, k: int, rng: np.random.Generator, duration_s: float, rendering_id: str = "") -> Event:
        i, j = self.index[k]
        return self.sources[i].render(j, rng, duration_s, rendering_id)


def sound_source(kind: str, library_dir: str | os.PathLike = DataConfig.library_dir, sample_rate: int = FeatureConfig.sample_rate):
    """The source of ``build_corpus`` for the ``data.sounds`` setting ``kind`` (``SOUNDS``);
    ``None`` for ``"soundfont"`` (``build_corpus``'s own default)."""
    if kind not in SOUNDS:
        raise ValueError(f"sounds must be one of {SOUNDS}, got {kind!r}")
    if kind == "soundfont":
        return None
    library = LibrarySource(library_dir, sample_rate)
    return library if kind == "library" else MixedSource(SoundfontSource(sample_rate), library)


def heldout_source(library_dir: str | os.PathLike = DataConfig.library_dir, sample_rate: int = FeatureConfig.sample_rate) -> LibrarySource:
    """The library's held-out packages as the test split of a source (train / val: the library's own)."""
    return LibrarySource(library_dir, sample_rate, heldout_as="test")

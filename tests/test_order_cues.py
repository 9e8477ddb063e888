"""The isolated event layout removes the reverberation order cue: a clip is two self-contained halves.

In the default ("spill") layout the first event's reverberation runs into the second half while the
second event's is cut off at the clip's end, so neg_t (the same two events and positions, the order
swapped) is *not* pos with its halves swapped, and a model that pools over time can tell them apart.
In the "isolated" layout it is, sample for sample (so is neg_s of neg_c).
"""

from __future__ import annotations

import numpy as np
import pytest

from sclap_nb.data import build_corpus, load_clip, read_metadata
from sclap_nb.reference import halves_swapped_residual_db


def _swap_halves(x: np.ndarray) -> np.ndarray:
    h = x.shape[1] // 2
    return np.concatenate([x[:, h:], x[:, :h]], axis=1)


def _clips(root, split="train"):
    scenes: dict[int, dict[str, np.ndarray]] = {}
    for r in read_metadata(root, split):
        scenes.setdefault(r["scene"], {})[r["role"]] = load_clip(root, r)
    return list(scenes.values())


@pytest.fixture(scope="module")
def corpora(tmp_path_factory):
    d = tmp_path_factory.mktemp("cues")
    kw = dict(n_train=3, n_val=0, n_test=0, seed=7, progress=False)
    return build_corpus(d / "spill", **kw), build_corpus(d / "isolated", layout="isolated", **kw)


def test_isolated_negatives_are_pos_with_halves_swapped(corpora):
    _, isolated = corpora
    for sc in _clips(isolated):
        np.testing.assert_array_equal(sc["neg_t"], _swap_halves(sc["pos"]))
        np.testing.assert_array_equal(sc["neg_c"], _swap_halves(sc["neg_s"]))
        h = sc["pos"].shape[1] // 2
        for half in (sc["pos"][:, h - 8 : h], sc["pos"][:, -8:]):  # each half ends in silence
            assert np.abs(half).max() < 1e-3


def test_spill_layout_carries_order_in_the_tails(corpora):
    spill, _ = corpora
    # the tail that crosses the boundary is 43-91 dB below the clip, yet there
    assert (halves_swapped_residual_db(spill) > -100).all(), "with reverberation running on, neg_t is not pos with its halves swapped"
    assert np.isneginf(halves_swapped_residual_db(corpora[1])).all()


def test_layout_is_checked_and_recorded(tmp_path):
    with pytest.raises(ValueError, match="layout"):
        build_corpus(tmp_path / "x", 1, 0, 0, layout="reversed", progress=False)
    assert not (tmp_path / "x").exists()
    import json

    root = build_corpus(tmp_path / "y", 1, 0, 0, layout="isolated", progress=False)
    assert json.loads((root / "corpus.json").read_text())["layout"] == "isolated"

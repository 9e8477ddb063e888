"""Bad corpora: every problem is a CorpusError naming the file and the row, and leaves no cache."""

from __future__ import annotations

import csv
import shutil
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from sclap_nb.data import CorpusError, StClothoDataset, build_corpus, ensure_corpus, feature_cache, validate_corpus
from sclap_nb.features import FeatureConfig

SR = 16000


@pytest.fixture(scope="module")
def pristine(tmp_path_factory) -> Path:
    return build_corpus(tmp_path_factory.mktemp("c") / "good", 2, 1, 1, seed=5, anechoic=True, progress=False)


@pytest.fixture
def corpus(pristine, tmp_path) -> Path:
    root = tmp_path / "corpus"
    shutil.copytree(pristine, root)
    return root


def _edit_csv(root: Path, fn, split: str = "train") -> None:
    path = root / "metadata" / f"{split}.csv"
    with open(path, newline="") as f:
        rows = list(csv.reader(f))
    rows = fn(rows)
    with open(path, "w", newline="") as f:
        csv.writer(f, lineterminator="\n").writerows(rows)


def _set(column: str, value: str, row: int = 2):
    def fn(rows):
        rows[row][rows[0].index(column)] = value
        return rows

    return fn


def _wav(root: Path, name: str = "temporal_negative_000001.wav") -> Path:
    return root / "audio" / "train" / name


# (problem, how to break the corpus, what the message must say); row 6 is temporal_negative_000001 (4 clips per scene)
CASES = {
    "missing_file": (lambda r: _wav(r).unlink(), r"row 6 .*temporal_negative_000001.wav not found"),
    "wrong_channels": (
        lambda r: sf.write(str(_wav(r)), np.zeros((2 * SR, 2)) + 0.1, SR, subtype="PCM_16"),
        r"row 6 .*temporal_negative_000001.wav has 2 channel",
    ),
    "wrong_rate": (
        lambda r: sf.write(str(_wav(r)), np.zeros((2 * SR, 4)) + 0.1, 22050, subtype="PCM_16"),
        r"row 6 .*temporal_negative_000001.wav has sample rate 22050",
    ),
    "mixed_rates": (
        lambda r: (_edit_csv(r, _set("sample_rate", "22050", 6)), _edit_csv(r, _set("num_samples", "44100", 6))),
        r"train.csv: mixed sample rates .*22050: 6",
    ),
    "empty_audio": (
        lambda r: sf.write(str(_wav(r)), np.zeros((0, 4)), SR, subtype="PCM_16"),
        r"row 6 .*temporal_negative_000001.wav is empty",
    ),
    "nan_audio": (
        lambda r: sf.write(str(_wav(r)), np.full((2 * SR, 4), np.nan, np.float32), SR, subtype="FLOAT"),
        r"row 6 .*temporal_negative_000001.wav has NaN",
    ),
    "silent_audio": (
        lambda r: sf.write(str(_wav(r)), np.zeros((2 * SR, 4)), SR, subtype="PCM_16"),
        r"row 6 .*temporal_negative_000001.wav is empty or silent",
    ),
    "clip_shorter_than_events": (
        lambda r: _edit_csv(r, _set("duration_2", "1.5", 6)),
        r"train.csv, row 6 .*event 2 .* does not fit in the 2.000 s clip audio/train/temporal_negative_000001.wav",
    ),
    "empty_caption": (lambda r: _edit_csv(r, _set("caption", "  ", 6)), r"train.csv, row 6: empty caption"),
    "missing_column": (
        lambda r: _edit_csv(r, lambda rows: [row[:-1] for row in rows]),
        r"train.csv: missing column\(s\) \['num_samples'\]",
    ),
    "bad_number": (lambda r: _edit_csv(r, _set("azimuth_1", "left", 6)), r"train.csv, row 6 .*azimuth_1: bad number 'left'"),
    "nan_number": (lambda r: _edit_csv(r, _set("onset_1", "nan", 6)), r"train.csv, row 6 .*onset_1: not finite"),
    "group_not_of_4": (
        lambda r: _edit_csv(r, lambda rows: rows[:6] + rows[7:]),
        r"train.csv, row 5: scene 1 has clips \['neg_c', 'neg_s', 'pos'\]",
    ),
    "groups_of_3_and_4": (  # one scene without its neg_c, the other with it
        lambda r: _edit_csv(r, lambda rows: rows[:4] + rows[5:]),
        r"train.csv, row 4: scene 1 has clips \['neg_c', 'neg_s', 'neg_t', 'pos'\], the scene at row 1 has \['neg_s', 'neg_t', 'pos'\]",
    ),
    "duplicate_id": (
        lambda r: _edit_csv(r, _set("id", "train_000000_pos", 6)),
        r"train.csv, row 6: duplicate id 'train_000000_pos' \(first at row 1\)",
    ),
    "unknown_role": (lambda r: _edit_csv(r, _set("role", "neg_x", 6)), r"train.csv, row 6 .*role 'neg_x'"),
    "wrong_field_count": (
        lambda r: _edit_csv(r, lambda rows: rows[:6] + [rows[6][:4]] + rows[7:]),
        r"train.csv, row 6: wrong number of fields",
    ),
    "missing_metadata": (lambda r: (r / "metadata" / "train.csv").unlink(), r"train.csv: metadata file not found"),
}
NEEDS_SAMPLES = {"nan_audio", "silent_audio"}  # only visible when the samples are read


@pytest.mark.parametrize("problem", sorted(CASES))
def test_bad_corpus_is_rejected(corpus, tmp_path, problem):
    breaker, match = CASES[problem]
    breaker(corpus)
    with pytest.raises(CorpusError, match=match):
        validate_corpus(corpus, deep=True)
    with pytest.raises(CorpusError, match=match):
        ensure_corpus(corpus, 1, 1, 1, deep=True, progress=False)
    cache = tmp_path / "cache"
    with pytest.raises(CorpusError, match=match):
        feature_cache(corpus, "train", FeatureConfig(), cache_dir=cache)
    assert not cache.exists() or not [p for p in cache.rglob("*") if p.is_file()]
    if problem in NEEDS_SAMPLES:
        ds = StClothoDataset(corpus, "train")
        with pytest.raises(CorpusError, match=match):
            ds[1]
    else:
        with pytest.raises(CorpusError, match=match):
            StClothoDataset(corpus, "train", features=FeatureConfig(), cache_dir=cache)
    # the other splits are untouched and still load
    assert len(StClothoDataset(corpus, "val")) == 1


def test_config_sample_rate_must_match(pristine):
    with pytest.raises(CorpusError, match="FeatureConfig.sample_rate 24000"):
        StClothoDataset(pristine, "train", features=FeatureConfig(sample_rate=24000))


def test_bad_arguments(tmp_path):
    with pytest.raises(ValueError, match="min_sector_gap"):
        build_corpus(tmp_path / "x", 1, 1, 1, min_sector_gap=5, progress=False, anechoic=True)
    with pytest.raises(ValueError, match="direction_words"):
        build_corpus(tmp_path / "y", 1, 1, 1, direction_words="polar", progress=False)
    assert not list(tmp_path.iterdir())
    with pytest.raises(CorpusError, match="not found"):
        validate_corpus(tmp_path / "nothing")

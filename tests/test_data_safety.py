"""Corpus safety: reuse only for the requested build, stale temporary builds, paths that leave the corpus."""

from __future__ import annotations

import csv
import json
import logging
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from sclap_nb.data import CorpusError, build_corpus, ensure_corpus, read_metadata, stale_builds, validate_corpus
from sclap_nb.data.__main__ import main as cli_main
from sclap_nb.data.corpus import check_audio_header, load_clip

REPO = Path(__file__).resolve().parents[1]
TINY = dict(n_train=8, n_val=4, n_test=4, seed=7)  # how conftest builds tiny_corpus


@pytest.fixture
def corpus(tiny_corpus, tmp_path) -> Path:
    root = tmp_path / "corpus"
    shutil.copytree(tiny_corpus, root)
    return root


def _dead_pid() -> int:
    p = subprocess.Popen(["true"])
    p.wait()
    return p.pid


def _fake_build(parent: Path, name: str, pid: int | None, host: str | None = None, age_s: float = 0.0) -> Path:
    """A temporary build directory of corpus ``name``; ``pid`` None: no owner file."""
    d = parent / f".{name}.tmp-{'' if pid is None else f'{pid}-'}{'old' if age_s else 'new'}{'_far' if host else ''}"
    (d / "audio" / "train").mkdir(parents=True)
    if pid is not None:
        owner = {"pid": pid, "hostname": host or socket.gethostname(), "started": time.time() - age_s}
        (d / ".owner").write_text(json.dumps(owner))
    if age_s:
        os.utime(d, (time.time() - age_s, time.time() - age_s))
    return d


# ---------------------------------------------------------------- reuse only for the same request


@pytest.mark.parametrize(
    "change, expected",
    [
        ({"n_train": 16}, "n_train: requested 16, corpus.json has 8"),
        ({"n_test": 2}, "n_test: requested 2, corpus.json has 4"),
        ({"seed": 8}, "seed: requested 8, corpus.json has 7"),
        ({"sample_rate": 8000}, "sample_rate: requested 8000, corpus.json has 16000"),
        ({"clip_seconds": 3.0}, "clip_seconds: requested 3.0, corpus.json has 2.0"),
        ({"anechoic": True}, "anechoic: requested True, corpus.json has False"),
        ({"direction_words": "compass"}, "direction_words: requested 'compass', corpus.json has 'relative'"),
        ({"min_sector_gap": 3}, "min_sector_gap: requested 3, corpus.json has 2"),
    ],
)
def test_mismatched_request_is_refused(tiny_corpus, change, expected):
    manifest = tiny_corpus / "corpus.json"
    before = manifest.stat().st_mtime_ns
    with pytest.raises(CorpusError) as e:
        ensure_corpus(tiny_corpus, **{**TINY, **change}, progress=False)
    msg = str(e.value)
    assert expected in msg and str(tiny_corpus) in msg and "another directory" in msg and "\n" not in msg
    assert msg.count("requested") == 1  # only the changed parameter is named
    assert manifest.stat().st_mtime_ns == before


def test_positional_and_source_mismatches_in_one_line(tiny_corpus):
    class OtherSource:
        sample_rate = 16000

    with pytest.raises(CorpusError) as e:
        ensure_corpus(tiny_corpus, 8, 2, 4, 9, source=OtherSource(), progress=False)
    msg = str(e.value)
    assert "\n" not in msg
    for part in ("n_val: requested 2, corpus.json has 4", "seed: requested 9, corpus.json has 7",
                 "source: requested 'OtherSource', corpus.json has 'SoundfontSource'"):  # fmt: skip
        assert part in msg
    assert "n_train" not in msg and "n_test" not in msg


def test_same_request_is_reused(tiny_corpus):
    manifest = tiny_corpus / "corpus.json"
    before = manifest.stat().st_mtime_ns
    siblings = sorted(tiny_corpus.parent.iterdir())
    assert ensure_corpus(tiny_corpus, **TINY, progress=False) == tiny_corpus
    assert ensure_corpus(tiny_corpus, 8, 4, 4, 7, 16000, 2.0, progress=True) == tiny_corpus
    assert ensure_corpus(tiny_corpus) == tiny_corpus  # the directory alone: any valid corpus
    assert manifest.stat().st_mtime_ns == before
    assert sorted(tiny_corpus.parent.iterdir()) == siblings


def test_older_manifest_compares_present_keys(corpus):
    manifest = json.loads((corpus / "corpus.json").read_text())
    del manifest["min_sector_gap"], manifest["sizes"]["train"]
    manifest["added_later"] = 1
    (corpus / "corpus.json").write_text(json.dumps(manifest))
    assert ensure_corpus(corpus, n_train=99, n_val=4, n_test=4, seed=7, min_sector_gap=3, progress=False) == corpus
    with pytest.raises(CorpusError, match="n_val: requested 3, corpus.json has 4"):
        ensure_corpus(corpus, n_train=99, n_val=3, n_test=4, seed=7, progress=False)


def test_directory_without_manifest_is_refused(corpus):
    (corpus / "corpus.json").unlink()
    with pytest.raises(CorpusError, match=r"corpus: exists but holds no corpus.json.*another directory"):
        ensure_corpus(corpus, **TINY, progress=False)
    assert ensure_corpus(corpus) == corpus  # the directory alone is only validated
    (corpus / "corpus.json").write_text("[1, 2")
    with pytest.raises(CorpusError, match="corpus.json: cannot read build parameters"):
        ensure_corpus(corpus, **TINY, progress=False)


def test_empty_directory_is_built_into(tmp_path):
    out = tmp_path / "c"
    out.mkdir()
    assert ensure_corpus(out, 1, 0, 0, seed=3, anechoic=True, progress=False) == out
    assert json.loads((out / "corpus.json").read_text())["sizes"] == {"train": 1, "val": 0, "test": 0}
    assert not (out / ".owner").exists()
    assert [p.name for p in tmp_path.iterdir()] == ["c"]


# ---------------------------------------------------------------- stale temporary builds


@pytest.fixture
def builds(tmp_path) -> dict[str, Path]:
    dead = _dead_pid()
    return {
        "dead": _fake_build(tmp_path, "c", dead),
        "old_no_owner": _fake_build(tmp_path, "c", None, age_s=7200),
        "alive": _fake_build(tmp_path, "c", os.getpid()),
        "new_no_owner": _fake_build(tmp_path, "c", None),
        "other_host": _fake_build(tmp_path, "c", dead, host="elsewhere.invalid"),
        "other_name": _fake_build(tmp_path, "d", dead),
        "prefix_name": _fake_build(tmp_path, "c.tmp-1", dead),
    }


def test_stale_builds_lists_only_dead_ones(tmp_path, builds):
    assert stale_builds(tmp_path / "c") == sorted([builds["dead"], builds["old_no_owner"]])
    assert stale_builds(tmp_path / "d") == [builds["other_name"]]
    assert stale_builds(tmp_path / "nothing") == []
    assert stale_builds(tmp_path / "missing" / "c") == []


def test_build_removes_only_its_stale_builds(tmp_path, builds, caplog):
    with caplog.at_level(logging.WARNING, logger="sclap_nb.data.corpus"):
        build_corpus(tmp_path / "c", 1, 0, 0, seed=3, anechoic=True, progress=False)
    gone = {"dead", "old_no_owner"}
    for key, path in builds.items():
        assert path.exists() == (key not in gone), key
    for key in gone:
        assert str(builds[key]) in caplog.text
    assert not (tmp_path / "c" / ".owner").exists()


def test_cli_reports_and_cleans_stale_builds(corpus, capsys):
    dead = _fake_build(corpus.parent, corpus.name, _dead_pid())
    alive = _fake_build(corpus.parent, corpus.name, os.getpid())
    assert cli_main(["validate", str(corpus)]) == 0
    out, err = capsys.readouterr()
    assert "ok" in out and f"warning: {dead}" in err and str(alive) not in err
    assert cli_main(["clean-stale", str(corpus)]) == 0
    out, _ = capsys.readouterr()
    assert f"removed {dead}" in out and str(alive) not in out
    assert not dead.exists() and alive.exists() and corpus.exists()
    assert cli_main(["clean-stale", str(corpus)]) == 0
    assert "no stale temporary builds" in capsys.readouterr().out


@pytest.mark.slow
def test_killed_build_is_stale_and_removed_by_the_next_build(tmp_path):
    out = tmp_path / "c"
    code = f"from sclap_nb.data import build_corpus; build_corpus({str(out)!r}, 64, 0, 0, seed=1, anechoic=True, progress=False)"
    proc = subprocess.Popen([sys.executable, "-c", code], cwd=REPO)
    try:
        deadline = time.monotonic() + 120
        while not list(tmp_path.glob(".c.tmp-*/.owner")):
            assert proc.poll() is None, "the build ended before it could be killed"
            assert time.monotonic() < deadline, "no temporary build appeared"
            time.sleep(0.05)
        [tmp] = [p.parent for p in tmp_path.glob(".c.tmp-*/.owner")]
        assert tmp.name.startswith(f".c.tmp-{proc.pid}-")
        assert stale_builds(out) == []  # running: not stale
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait()
    assert tmp.exists() and not out.exists()
    assert stale_builds(out) == [tmp]
    build_corpus(out, 1, 0, 0, seed=3, anechoic=True, progress=False)
    assert not tmp.exists() and (out / "corpus.json").is_file()
    assert [p.name for p in tmp_path.iterdir()] == ["c"]


# ---------------------------------------------------------------- paths that leave the corpus


def _set_file(root: Path, value: str, row: int = 1, split: str = "train") -> None:
    path = root / "metadata" / f"{split}.csv"
    with open(path, newline="") as f:
        rows = list(csv.reader(f))
    rows[row][rows[0].index("file")] = value
    with open(path, "w", newline="") as f:
        csv.writer(f, lineterminator="\n").writerows(rows)


def _escape(root: Path, how: str) -> None:
    """Point row 1 of train.csv (train_000000_pos) at a valid WAV outside ``root``."""
    outside = root.parent / "outside.wav"
    shutil.copy(root / "audio" / "train" / "temporal_000000.wav", outside)
    if how == "parent":
        _set_file(root, "../outside.wav")
    elif how == "deep_parent":
        _set_file(root, "audio/train/../../../outside.wav")
    elif how == "absolute":
        _set_file(root, str(outside))
    elif how == "symlink":
        link = root / "audio" / "train" / "temporal_000000.wav"
        link.unlink()
        link.symlink_to(outside)
    else:
        raise AssertionError(how)


@pytest.mark.parametrize("how", ["parent", "deep_parent", "absolute", "symlink"])
def test_file_outside_corpus_is_refused(corpus, how):
    _escape(corpus, how)
    match = r"metadata/train.csv, row 1 \(id train_000000_pos\): file '[^']*' (is|resolves to \S*outside.wav,) outside the corpus"
    with pytest.raises(CorpusError, match=match):
        read_metadata(corpus, "train")
    with pytest.raises(CorpusError, match=match):
        validate_corpus(corpus, deep=True)
    with pytest.raises(CorpusError, match=match):
        ensure_corpus(corpus, deep=True)
    assert cli_main(["validate", "--deep", str(corpus)]) == 1
    assert len(read_metadata(corpus, "val")) == 16  # other splits still read (4 scenes of 4 clips)


@pytest.mark.parametrize("how", ["parent", "absolute", "symlink"])
def test_hand_made_row_outside_corpus_is_refused(corpus, how):
    row = dict(read_metadata(corpus, "train")[0])
    assert load_clip(corpus, row).shape[0] == 4 and check_audio_header(corpus, row)
    _escape(corpus, how)
    if how != "symlink":
        row["file"] = "../outside.wav" if how == "parent" else str(corpus.parent / "outside.wav")
    with pytest.raises(CorpusError, match=r"row 1 \(id train_000000_pos\): file .*outside the corpus"):
        check_audio_header(corpus, row)
    with pytest.raises(CorpusError, match=r"row 1 \(id train_000000_pos\): file .*outside the corpus"):
        load_clip(corpus, row)


def test_symlinks_inside_corpus_are_allowed(corpus, tmp_path):
    clip = corpus / "audio" / "train" / "temporal_000000.wav"
    clip.unlink()
    clip.symlink_to("temporal_negative_000000.wav")  # same length, inside the corpus
    link = tmp_path / "link"
    link.symlink_to(corpus)  # the corpus root itself behind a symlink
    assert len(validate_corpus(link, deep=True)["train"]) == 32  # 8 scenes of 4 clips
    assert len(validate_corpus(corpus, deep=True)["train"]) == 32


def test_two_builds_of_one_corpus_at_once_both_end_with_it(tmp_path, monkeypatch, caplog):
    """A second process finishes the same corpus while this one is writing it (two kernels, or the two
    notebook passes of ``make test``): this build's rename fails, and ensure_corpus returns the other's,
    checked, with nothing of its own left behind; a corpus of other parameters that appears is refused."""
    from sclap_nb.data import corpus as corpus_module

    small = dict(n_train=2, n_val=1, n_test=1, seed=3, progress=False)
    real_rename = os.rename

    def racing_rename(other: dict):
        def rename(src, dst):
            if Path(dst).name == "c" and not Path(dst).exists():  # the other process gets there first
                monkeypatch.setattr(corpus_module.os, "rename", real_rename)
                build_corpus(dst, **other)
            return real_rename(src, dst)

        return rename

    out = tmp_path / "c"
    monkeypatch.setattr(corpus_module.os, "rename", racing_rename(small))
    with caplog.at_level(logging.INFO, logger="sclap_nb.data.corpus"):
        assert ensure_corpus(out, **small) == out
    assert "built meanwhile by another process" in caplog.text
    validate_corpus(out, deep=True)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["c"]  # this build's temporary folder is gone

    other = tmp_path / "other"
    other.mkdir()
    out = other / "c"
    monkeypatch.setattr(corpus_module.os, "rename", racing_rename({**small, "seed": 4}))
    with pytest.raises(CorpusError, match="seed"):
        ensure_corpus(out, **small)
    assert sorted(p.name for p in other.iterdir()) == ["c"]

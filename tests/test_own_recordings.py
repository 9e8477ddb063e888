"""A user's own recordings through sclap_nb.api, python -m sclap_nb.embed / search and the importers:
bad files named (truncated, silent, not a checkpoint), no direction made up, the recorded embedding
honoured, folder embeddings cached by content, progress, --skip-bad, help that says what each flag does."""

from __future__ import annotations

import json
import re
import subprocess
import sys
import warnings
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
import torch

# the tiny model of test_api.py (a module-scoped export and the SCLAP loaded from it)
from test_api import foa, model, tiny_export, tiny_model  # noqa: F401

from sclap_nb import api, embed, search
from sclap_nb.api import AudioEmbeddings, load
from sclap_nb.export import ExportError

ROOT = Path(__file__).resolve().parents[1]
RATE = 16000


@pytest.fixture(autouse=True)
def _cache_home(tmp_path, monkeypatch):
    """The default embedding cache of these tests lies in their temporary directory, not in ~/.cache."""
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg-cache"))


@pytest.fixture
def loaded(model, monkeypatch):
    """The command lines get the tiny model loaded once, instead of reading its export again on every call
    (``test_api.py`` and the device test below run them on the export itself)."""
    monkeypatch.setattr(api, "load", lambda path, device=None, embedding=None: api.SCLAP(model.model, model.info, embedding))
    return model


def write_clips(folder: Path, n: int, seed: int = 1) -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for i, wave in enumerate(foa(n, seed=seed)):
        paths.append(folder / f"clip_{i}.wav")
        sf.write(paths[-1], wave.T, RATE, subtype="FLOAT")
    return paths


def truncated_wav(path: Path, frames: int = 32000, present: int = 10663) -> Path:
    """A 16-bit FOA WAV whose header says ``frames`` frames, of which only ``present`` are in the file."""
    sf.write(path, foa(1, seconds=frames / RATE)[0].T, RATE, subtype="PCM_16")
    data = path.read_bytes()
    path.write_bytes(data[: len(data) - 8 * (frames - present)])
    return path


# --------------------------------------------------------------------------- bad audio is named


def test_truncated_wav_is_an_error_naming_it(model, tmp_path):
    bad = truncated_wav(tmp_path / "cut.wav")
    assert sf.info(str(bad)).frames == 10663  # what soundfile reports: the header's length is lost
    with pytest.raises(ValueError, match=r"cut\.wav: truncated: its header says 32000 frames, the file holds 10663"):
        model.embed_audio(bad)


def test_silent_clip_has_no_direction(model, tmp_path):
    with pytest.raises(ValueError, match=r"^array: silent \(its loudest 50 ms window is at -inf dBFS"):
        model.direction(np.zeros((4, RATE), np.float32))
    sf.write(tmp_path / "quiet.wav", np.zeros((RATE, 4), np.float32), RATE)
    with pytest.raises(ValueError, match=r"quiet\.wav: silent"):
        model.direction(tmp_path / "quiet.wav")
    with pytest.raises(ValueError, match=r"array\[1\]: silent"):
        model.embed_audio(np.stack([foa(1)[0], np.zeros((4, RATE), np.float32)]))
    [d] = model.direction(1e-2 * foa(1)[0])  # quiet (-60 dBFS) is not silent
    assert len(d.vectors) == 2


# --------------------------------------------------------------------------- devices and model files


def test_unusable_device_is_one_clear_line(tiny_export, tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    with pytest.raises(ValueError, match=r"^device 'cuda': (this PyTorch .* is built without CUDA|no CUDA GPU)") as err:
        load(tiny_export, device="cuda")
    assert "\n" not in str(err.value) and "device='cpu'" in str(err.value)
    with pytest.raises(ValueError, match=r"^device 'foo': not a device"):
        load(tiny_export, device="foo")
    for device in ("cuda", "foo"):
        for main, args in ((embed.main, [".", "--out", str(tmp_path / "x.npz")]), (search.main, ["--caption", "rain", "."])):
            assert main([str(tiny_export), *args, "--device", device]) == 2
            err_lines = capsys.readouterr().err.strip().splitlines()
            assert len(err_lines) == 1 and err_lines[0].startswith(f"error: device '{device}': "), err_lines


def test_file_that_is_not_a_checkpoint_is_one_clear_line(tmp_path):
    text = tmp_path / "model.ckpt"
    text.write_text("not a checkpoint")
    pickled = tmp_path / "pickled.ckpt"
    torch.save(torch.nn.Linear(2, 2), pickled)  # a pickled module, which weights_only loading refuses
    for path in (text, pickled):
        with pytest.raises(ExportError, match=rf"^{re.escape(str(path))}: not a checkpoint") as err:
            load(path, device="cpu")
        assert "\n" not in str(err.value) and "weights_only" not in str(err.value), str(err.value)


# --------------------------------------------------------------------------- the recorded embedding


def test_search_uses_the_embedding_the_file_records(loaded, tiny_export, tmp_path, capsys):
    folder = tmp_path / "clips"
    write_clips(folder, 6)
    out = tmp_path / "emb.npz"
    assert embed.main([str(tiny_export), str(folder), "--out", str(out), "--embedding", "joint"]) == 0
    capsys.readouterr()
    caption = "a bell rings on the left"
    assert search.main([str(tiny_export), "--caption", caption, "--embeddings", str(out), "-k", "6"]) == 0
    printed = {line.split()[2]: float(line.split()[1]) for line in capsys.readouterr().out.strip().splitlines()}
    emb = AudioEmbeddings.load(out)
    text = loaded.embed_text(caption)[0]
    joint, triplet = emb.joint @ text, emb.triplet @ text
    assert (joint - triplet).abs().max() > 0.01  # the two embeddings score apart
    assert all(abs(printed[n] - float(joint[i])) < 6e-4 for i, n in enumerate(emb.names))
    assert search.main([str(tiny_export), "--caption", caption, "--embeddings", str(out), "-k", "6", "--embedding", "triplet"]) == 0
    printed = {line.split()[2]: float(line.split()[1]) for line in capsys.readouterr().out.strip().splitlines()}
    assert all(abs(printed[n] - float(triplet[i])) < 6e-4 for i, n in enumerate(emb.names))
    # the API likewise: the argument, else the embeddings' own
    assert loaded.search(caption, emb, k=1)[0].score == pytest.approx(float(joint.max()), abs=1e-6)
    assert loaded.search(caption, emb, k=1, embedding="triplet")[0].score == pytest.approx(float(triplet.max()), abs=1e-6)


# --------------------------------------------------------------------------- the embedding cache


def count_encodes(monkeypatch) -> list[int]:
    """Clips the model encodes from now on (one entry per forward pass)."""
    calls: list[int] = []
    original = api.SCLAP._encode

    def counting(self, waves):
        calls.append(len(waves))
        return original(self, waves)

    monkeypatch.setattr(api.SCLAP, "_encode", counting)
    return calls


def test_folder_embeddings_are_cached_by_content(model, tmp_path, monkeypatch):
    folder = tmp_path / "clips"
    paths = write_clips(folder, 5)
    before = sorted(p.name for p in folder.iterdir())
    cache = tmp_path / "cache"
    calls = count_encodes(monkeypatch)
    first = model.embed_audio(folder, cache=cache, batch_size=2)
    assert sum(calls) == 5
    second = model.embed_audio(folder, cache=cache, batch_size=2)
    assert sum(calls) == 5  # nothing encoded again
    for key in ("joint", "triplet", "sed", "doa"):
        assert torch.equal(getattr(first, key), getattr(second, key)), key
    assert second.names == first.names and sorted(p.name for p in folder.iterdir()) == before  # the folder is untouched
    entries = sorted(cache.rglob("*"))
    assert len([p for p in entries if p.is_file()]) == 5 and not [p for p in entries if p.name.startswith(".")]
    # an entry written before the semantic embedding was kept is embedded again, and rewritten with it
    old = next(p for p in entries if p.is_file())
    with np.load(old) as d:
        np.savez(old, **{k: d[k] for k in d.files if k != "sed"})
    model.embed_audio(folder, cache=cache, batch_size=2)
    assert sum(calls) == 6 and "sed" in np.load(old).files
    # a renamed copy is the same content; a changed file is embedded again
    (folder / "copy.wav").write_bytes(paths[0].read_bytes())
    sf.write(paths[1], 0.5 * foa(1, seed=9)[0].T, RATE, subtype="FLOAT")
    third = model.embed_audio(folder, cache=cache)
    assert sum(calls) == 7
    copy = third.joint[third.names.index(str(folder / "copy.wav"))]
    # one cache entry for both names; it may have been rewritten above, in a batch of another size
    assert torch.equal(copy, third.joint[third.names.index(str(paths[0]))])
    assert torch.allclose(copy, first.joint[0], atol=1e-5)
    fresh = model.embed_audio(paths[1])
    assert torch.allclose(third.joint[third.names.index(str(paths[1]))], fresh.joint[0], atol=1e-6)
    # another model: another part of the cache
    other = api.SCLAP(model.model, model.info)
    other.__dict__["model_id"] = "0123456789abcdef"
    n = sum(calls)
    other.embed_audio(folder, cache=cache)
    assert sum(calls) == n + 6
    # a cache that cannot be written: a warning, and the embeddings all the same
    blocked = tmp_path / "blocked"
    blocked.write_text("a file where the cache folder would be")
    with pytest.warns(UserWarning, match=r"blocked/embeddings/.*: cannot write the embedding cache"):
        assert torch.allclose(model.embed_audio(paths[0], cache=blocked).joint, first.joint[:1], atol=1e-6)


def test_search_command_caches_outside_the_folder(loaded, tiny_export, tmp_path, monkeypatch, capsys):
    folder = tmp_path / "clips"
    write_clips(folder, 4)
    calls = count_encodes(monkeypatch)
    args = [str(tiny_export), "--caption", "a bell rings", str(folder), "-k", "3", "--device", "cpu"]
    assert search.main(args) == 0 and sum(calls) == 4
    first = capsys.readouterr().out
    assert search.main(args) == 0 and sum(calls) == 4  # the default cache: under XDG_CACHE_HOME
    assert capsys.readouterr().out == first
    assert [p.name for p in folder.iterdir()] and all(p.suffix == ".wav" for p in folder.iterdir())
    assert len(list((tmp_path / "xdg-cache" / "sclap_nb").rglob("*.npz"))) == 4
    assert search.main(args + ["--no-cache"]) == 0 and sum(calls) == 8
    assert search.main(args + ["--cache", str(tmp_path / "mine")]) == 0 and sum(calls) == 12
    assert len(list((tmp_path / "mine").rglob("*.npz"))) == 4


# --------------------------------------------------------------------------- progress


def test_many_files_show_a_progress_bar_unless_quiet(loaded, tiny_export, tmp_path, monkeypatch, capsys):
    folder = tmp_path / "clips"
    write_clips(folder, 5)
    monkeypatch.setattr(api, "PROGRESS_MIN_CLIPS", 4)
    assert embed.main([str(tiny_export), str(folder), "--out", str(tmp_path / "a.npz"), "--batch-size", "2"]) == 0
    captured = capsys.readouterr()
    assert "5/5" in captured.err and "5/5" not in captured.out
    assert embed.main([str(tiny_export), str(folder), "--out", str(tmp_path / "b.npz"), "--quiet"]) == 0
    assert "5/5" not in capsys.readouterr().err
    monkeypatch.setattr(api, "PROGRESS_MIN_CLIPS", 6)  # fewer files than that: no bar
    assert embed.main([str(tiny_export), str(folder), "--out", str(tmp_path / "c.npz")]) == 0
    assert "5/5" not in capsys.readouterr().err


# --------------------------------------------------------------------------- --skip-bad


@pytest.fixture
def mixed_folder(tmp_path) -> Path:
    folder = tmp_path / "mixed"
    write_clips(folder, 3)
    (folder / "a_text.wav").write_text("not audio")
    sf.write(folder / "b_silent.wav", np.zeros((RATE, 4), np.float32), RATE)
    sf.write(folder / "c_stereo.wav", foa(1)[0, :2].T, RATE)
    truncated_wav(folder / "d_cut.wav")
    return folder


BAD = {"a_text.wav": "cannot read it as audio", "b_silent.wav": "silent", "c_stereo.wav": "expected 4 FOA channels",
       "d_cut.wav": "truncated"}  # fmt: skip


def test_skip_bad_embeds_the_rest_and_names_what_it_left_out(model, mixed_folder):
    with pytest.raises(ValueError, match=r"a_text\.wav: cannot read it as audio"):
        model.embed_audio(mixed_folder)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        emb = model.embed_audio(mixed_folder, skip_bad=True)
    assert [Path(n).name for n in emb.names] == ["clip_0.wav", "clip_1.wav", "clip_2.wav"]
    assert [Path(name).name for name, _ in emb.skipped] == list(BAD)
    assert all(why in reason for (_, reason), why in zip(emb.skipped, BAD.values()))
    skipped = [str(w.message) for w in caught if issubclass(w.category, api.SkippedAudio)]
    assert len(skipped) == 4 and all(name in m for m, name in zip(skipped, BAD))
    good = model.embed_audio(sorted(mixed_folder.glob("clip_*.wav")))
    assert torch.allclose(emb.joint, good.joint, atol=1e-6)
    with pytest.warns(api.SkippedAudio, match=r"b_silent\.wav: silent"):
        [d] = model.direction([mixed_folder / "b_silent.wav", mixed_folder / "clip_0.wav"], skip_bad=True)
    assert d.name.endswith("clip_0.wav")
    with pytest.raises(ValueError, match=r"no clip left to embed: all 2 were skipped"), pytest.warns(api.SkippedAudio):
        model.embed_audio([mixed_folder / "b_silent.wav", mixed_folder / "d_cut.wav"], skip_bad=True)


def test_skip_bad_command_lines(loaded, tiny_export, mixed_folder, tmp_path, capsys):
    out = tmp_path / "emb.npz"
    assert embed.main([str(tiny_export), str(mixed_folder), "--out", str(out)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "a_text.wav: cannot read it as audio" in err[0] and "--skip-bad" in err[0] and not out.exists()
    assert embed.main([str(tiny_export), str(mixed_folder), "--out", str(out), "--skip-bad"]) == 0
    err = capsys.readouterr().err.strip().splitlines()
    skipped = [line for line in err if line.startswith("skipped ")]
    assert len(skipped) == 4 and all(name in line and why in line for line, (name, why) in zip(skipped, BAD.items()))
    assert len(AudioEmbeddings.load(out)) == 3
    assert search.main([str(tiny_export), "--caption", "rain", str(mixed_folder), "-k", "9", "--skip-bad"]) == 0
    captured = capsys.readouterr()
    assert len(captured.out.strip().splitlines()) == 3 and captured.err.count("skipped ") == 4


# --------------------------------------------------------------------------- help, docstrings, importers, imports


def _options(parser):
    """``(parser prog, option, help)`` of every argument of ``parser`` and its sub-commands."""
    import argparse

    for action in parser._actions:
        if isinstance(action, argparse._HelpAction):
            continue
        if isinstance(action, argparse._SubParsersAction):
            for sub in action.choices.values():
                yield from _options(sub)
            continue
        yield parser.prog, "/".join(action.option_strings) or action.dest, action.help


def test_every_help_line_says_what_the_setting_does():
    from sclap_nb.data.__main__ import _parser as data_parser

    for parser in (embed._parser(), search._parser(), data_parser()):
        for prog, option, text in _options(parser):
            assert text, f"{prog} {option}: no help"
            words = re.sub(r"\(?\bdefault\b[^)]*\)?", "", text % {"default": ""}).split()
            assert len(words) >= 3, f"{prog} {option}: {text!r} does not say what it does"


def test_docstrings_quote_no_results():
    for module in (api, embed, search):
        own = [v for v in vars(module).values() if getattr(v, "__module__", None) == module.__name__]
        members = [m for v in own if isinstance(v, type) for m in vars(v).values()]
        for doc in [module.__doc__] + [getattr(v, "__doc__", None) for v in own + members]:
            found = re.findall(r"\b\d\.\d{2,}\b|\bR@\d+ \d", doc or "")
            assert not found, f"{module.__name__}: {found} in a docstring (results belong in results/)"


def test_tsalm_segment_without_duration_says_how_to_add_it(tmp_path):
    from sclap_nb.data import CorpusError
    from sclap_nb.data.spatial_clotho import read_clip_json

    meta = {"caption": ["a dog barks"], "azi": 30, "ele": 0, "direction": "east"}
    clip = tmp_path / "temporal_000001.json"
    clip.write_text(json.dumps({"temporal_spatial_caption": ["x"] * 5, "audio_segments": [
        {"filename": "dog_3.flac", "metadata": meta}, {"filename": "bell_1.flac", "metadata": meta}]}))  # fmt: skip
    with pytest.raises(CorpusError) as err:
        read_clip_json(clip)
    msg = str(err.value)
    assert f"{clip}: audio_segments[0]" in msg and "combine_clotho.py" in msg and '"duration"' in msg and "\n" not in msg


def _modules_after_importing_the_api() -> list[str]:
    code = ("import sys, sclap_nb.api; print(' '.join(sorted(m for m in sys.modules if m.split('.')[0] == 'lightning' "
            "or m in ('sclap_nb.train', 'sclap_nb.training', 'sclap_nb.run'))))")  # fmt: skip
    proc = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    return proc.stdout.split()


@pytest.mark.slow
def test_importing_the_api_leaves_training_out():
    found = [m for m in _modules_after_importing_the_api() if m.startswith("sclap_nb.")]
    assert not found, found


@pytest.mark.slow
def test_importing_the_api_leaves_lightning_out():
    found = [m for m in _modules_after_importing_the_api() if m.split(".")[0] == "lightning"]
    assert not found, found[:5]

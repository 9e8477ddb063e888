"""The public inference API (sclap_nb.api), the model export (sclap_nb.export) and the two command lines."""

import json
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
import torch
from conftest import TINY_MODEL

from sclap_nb.api import SCLAP, AudioEmbeddings, load
from sclap_nb.export import ExportError, export_model, package_keys, text_model_fingerprint
from sclap_nb.model import ModelConfig, SpatialTemporalCLAP

pytestmark = pytest.mark.filterwarnings("ignore::UserWarning")

ROOT = Path(__file__).resolve().parents[1]
DEVICES = ["cpu"] + (["cuda"] if torch.cuda.is_available() else [])
RATE = 16000


@pytest.fixture(autouse=True)
def _cache_home(tmp_path, monkeypatch):
    """The command lines' embedding cache lies in the test's temporary directory, not in ~/.cache."""
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg-cache"))


def trained_looking(model: SpatialTemporalCLAP, seed: int = 0) -> SpatialTemporalCLAP:
    """``model`` with every stored parameter and BatchNorm statistic moved off its initial value."""
    g = torch.Generator().manual_seed(seed)
    frozen = package_keys(model)
    with torch.no_grad():
        for key, value in model.state_dict().items():
            if key not in frozen and value.is_floating_point():
                value.add_(0.05 * torch.randn(value.shape, generator=g))
                if key.endswith("running_var"):
                    value.abs_().add_(0.5)
    return model.eval()


@pytest.fixture(scope="module")
def tiny_model():
    torch.manual_seed(0)
    return trained_looking(SpatialTemporalCLAP(ModelConfig.from_dict(TINY_MODEL)))


@pytest.fixture(scope="module")
def tiny_export(tiny_model, tmp_path_factory):
    return export_model(tiny_model, tmp_path_factory.mktemp("export") / "model", clip_seconds=1.0)


@pytest.fixture(scope="module")
def model(tiny_export):
    """The tiny export, loaded on the CPU."""
    return load(tiny_export, device="cpu")


def foa(n: int = 3, seconds: float = 1.0, seed: int = 0) -> np.ndarray:
    """``n`` clips of FOA-shaped noise with a different direction each, ``(n, 4, samples)``."""
    rng = np.random.default_rng(seed)
    s = rng.standard_normal((n, int(seconds * RATE))).astype(np.float32) * 0.1
    az = rng.uniform(-np.pi, np.pi, n)
    gains = np.stack([np.ones(n), np.sin(az), np.zeros(n), np.cos(az)], 1)  # W, Y, Z, X
    return (gains[:, :, None] * s[:, None, :]).astype(np.float32)


@pytest.fixture(scope="module")
def clip_folder(tmp_path_factory):
    folder = tmp_path_factory.mktemp("clips")
    for i, wave in enumerate(foa(4, seed=1)):
        sf.write(folder / f"clip_{i}.wav", wave.T, RATE, subtype="FLOAT")
    (folder / "notes.txt").write_text("not audio")
    return folder


# --------------------------------------------------------------------------- export


@pytest.mark.parametrize("device", DEVICES)
def test_export_round_trip_gives_identical_embeddings(tiny_model, tiny_export, device):
    loaded = load(tiny_export, device=device)
    assert loaded.device.type == device
    want = SCLAP(tiny_model.to(device), loaded.info)
    try:
        waves = foa(3)
        a, b = loaded.embed_audio(waves), want.embed_audio(waves)
        for key in ("joint", "triplet", "doa"):
            assert torch.equal(getattr(a, key), getattr(b, key)), key
        # captions new to both text caches, so that both encode them in the same batch
        captions = [f"a dog barks on the left, then a bell rings behind ({device})", f"rain ({device})"]
        assert torch.equal(loaded.embed_text(captions), want.embed_text(captions))
        assert loaded.model_id == want.model_id == loaded.info["weights"]["id"]
    finally:
        tiny_model.cpu()


@pytest.mark.skipif(not torch.cuda.is_available(), reason="no GPU")
def test_gpu_embeds_like_the_cpu(model, tiny_export):
    gpu = load(tiny_export, device="cuda")
    waves = foa(3)
    a, b = gpu.embed_audio(waves), model.embed_audio(waves)
    for key in ("joint", "triplet", "sed", "doa"):  # TF32 convolutions on the GPU
        assert torch.allclose(getattr(a, key), getattr(b, key), atol=5e-3), key
    assert torch.allclose(gpu.embed_text(["rain", "a bell rings"]), model.embed_text(["rain", "a bell rings"]), atol=5e-3)
    assert [m.name for m in gpu.search("rain", waves, k=3)] == [m.name for m in model.search("rain", waves, k=3)]


def test_export_holds_the_trained_weights_and_a_plain_config(tiny_model, tiny_export):
    from safetensors import safe_open

    info = json.loads((tiny_export / "config.json").read_text())
    assert ModelConfig.from_dict(info["model"]) == tiny_model.cfg
    assert info["format_version"] == 1 and info["audio"] == {**info["audio"], "sample_rate": RATE, "clip_seconds": 1.0}
    assert info["embeddings"]["audio"] == ["sed", "joint", "triplet"] and info["embeddings"]["default"] == "triplet"
    assert info["text_model"]["fingerprint"] == text_model_fingerprint(tiny_model)
    with safe_open(tiny_export / "model.safetensors", "pt") as f:
        keys = set(f.keys())
    state = tiny_model.state_dict()
    assert keys == set(state) - package_keys(tiny_model)
    top = tiny_model.text_encoder.n_frozen
    assert f"text_encoder.backbone.encoder.layer.{top}.output.dense.weight" in keys  # the fine-tuned top layer
    assert f"text_encoder.backbone.encoder.layer.{top - 1}.output.dense.weight" not in keys  # frozen: from the package
    assert not any(k.startswith("text_encoder.backbone.embeddings.") for k in keys)  # from the package
    assert sorted(p.name for p in tiny_export.iterdir()) == ["config.json", "model.safetensors"]


def test_float16_export_is_smaller_and_close(model, tiny_export, tmp_path):
    half = export_model(tiny_export, tmp_path / "half", dtype="float16")
    ratio = (half / "model.safetensors").stat().st_size / (tiny_export / "model.safetensors").stat().st_size
    assert 0.45 < ratio < 0.55
    waves = foa(2)
    a, b = load(half, device="cpu").embed_audio(waves), model.embed_audio(waves)
    assert torch.allclose(a.joint, b.joint, atol=1e-2) and not torch.equal(a.joint, b.joint)
    assert json.loads((half / "config.json").read_text())["weights"]["dtype"] == "float16"


def test_existing_export_directory_is_refused(tiny_model, tiny_export):
    before = (tiny_export / "model.safetensors").read_bytes()
    with pytest.raises(ExportError, match="exists: pass overwrite=True"):
        export_model(tiny_model, tiny_export)
    assert (tiny_export / "model.safetensors").read_bytes() == before


def copy_export(src: Path, dst: Path, **config_changes) -> Path:
    dst.mkdir()
    (dst / "model.safetensors").write_bytes((src / "model.safetensors").read_bytes())
    info = json.loads((src / "config.json").read_text())
    for section, change in config_changes.items():
        info[section] = {**info[section], **change}
    (dst / "config.json").write_text(json.dumps(info))
    return dst


def test_config_that_does_not_fit_the_weights_is_a_clear_error(tiny_export, tmp_path):
    bad = copy_export(tiny_export, tmp_path / "bad", model={"dim": 32})
    with pytest.raises(ExportError) as err:
        load(bad, device="cpu")
    msg = str(err.value)
    assert str(bad / "model.safetensors") in msg and str(bad / "config.json") in msg
    assert "shape mismatches" in msg and "(64,) in the file, (32,) in the model" in msg

    fewer = copy_export(tiny_export, tmp_path / "fewer", model={"use_temporal": False})
    with pytest.raises(ExportError, match=r"unexpected keys \(\d+\): final_audio_projection\.0\.bias"):
        load(fewer, device="cpu")


def test_weights_file_missing_a_tensor_is_a_clear_error(tiny_export, tmp_path):
    from safetensors.torch import load_file, save_file

    bad = copy_export(tiny_export, tmp_path / "bad")
    tensors = load_file(bad / "model.safetensors")
    del tensors["logit_scale"]
    save_file(tensors, bad / "model.safetensors")
    with pytest.raises(ExportError, match=r"model\.safetensors: the weights do not fit .* missing keys \(1\): logit_scale"):
        load(bad, device="cpu")


def test_other_installed_text_model_is_refused(tiny_export, tmp_path):
    other = copy_export(tiny_export, tmp_path / "other", text_model={"fingerprint": "0" * 64, "version": "9.9"})
    with pytest.raises(ExportError, match=r"config\.json: the installed text model is not the one .*fingerprint 000000000000"):
        load(other, device="cpu")


def test_model_trained_with_other_frozen_text_weights_does_not_load(tmp_path):
    model = trained_looking(SpatialTemporalCLAP(ModelConfig.from_dict(TINY_MODEL)))
    with torch.no_grad():
        model.text_encoder.backbone.embeddings.word_embeddings.weight[0] += 1.0
    export = export_model(model, tmp_path / "model")
    with pytest.raises(ExportError, match="installed text model is not the one this model was trained with"):
        load(export, device="cpu")


# --------------------------------------------------------------------------- audio input


def test_folder_files_and_arrays_embed_alike(model, clip_folder):
    from_folder = model.embed_audio(clip_folder, batch_size=3)
    assert [Path(n).name for n in from_folder.names] == [f"clip_{i}.wav" for i in range(4)]
    from_arrays = model.embed_audio(foa(4, seed=1))
    assert from_arrays.names == [f"array[{i}]" for i in range(4)]
    assert torch.allclose(from_folder.joint, from_arrays.joint, atol=1e-6)
    one = model.embed_audio(clip_folder / "clip_2.wav")
    assert torch.allclose(one.get(), from_folder.get()[2:3], atol=1e-5)
    assert from_folder.get().shape == (4, 64) and torch.allclose(from_folder.doa.norm(dim=-1), torch.ones(4, 2))


def test_wrong_channel_count_names_the_file(model, tmp_path):
    stereo = tmp_path / "stereo.wav"
    sf.write(stereo, foa(1)[0, :2].T, RATE)
    with pytest.raises(ValueError, match=r"stereo\.wav: expected 4 FOA channels .*found 2"):
        model.embed_audio(stereo)
    with pytest.raises(ValueError, match=r"array of shape \(2, 16000\): expected \(4, samples\)"):
        model.embed_audio(foa(1)[0, :2])
    (tmp_path / "notes.txt").write_text("hello")
    with pytest.raises(ValueError, match=r"notes\.txt: cannot read it as audio"):
        model.embed_audio(tmp_path / "notes.txt")
    with pytest.raises(FileNotFoundError, match=r"missing\.wav: no such file or folder"):
        model.embed_audio(tmp_path / "missing.wav")


def test_other_sample_rate_is_resampled(model, tmp_path):
    import librosa

    wave48 = librosa.resample(foa(1, seed=3)[0], orig_sr=RATE, target_sr=48000, axis=-1)
    sf.write(tmp_path / "at48k.flac", wave48.T, 48000, subtype="PCM_24")
    from_file = model.embed_audio(tmp_path / "at48k.flac")
    from_array = model.embed_audio(wave48, sample_rate=48000)
    at16 = model.embed_audio(librosa.resample(wave48, orig_sr=48000, target_sr=RATE, axis=-1))
    assert torch.allclose(from_array.joint, at16.joint, atol=1e-6)
    assert torch.allclose(from_file.joint, at16.joint, atol=1e-3)  # 24-bit FLAC rounding
    assert not torch.allclose(model.embed_audio(wave48).joint, at16.joint, atol=1e-3)  # taken as 16 kHz: other features


def test_too_short_clip_names_it(model, tmp_path):
    sf.write(tmp_path / "blip.wav", foa(1, seconds=0.1)[0].T, RATE)
    with pytest.raises(ValueError, match=rf"blip\.wav: clip too short: 1600 samples .* at least {model.min_samples}"):
        model.embed_audio(tmp_path / "blip.wav")
    model.embed_audio(foa(1, seconds=model.min_samples / RATE))  # the shortest clip embeds
    long = model.embed_audio(foa(1, seconds=3.0))  # longer than the 1 s it was trained on: embedded as is
    assert long.get().shape == (1, 64)


# --------------------------------------------------------------------------- ranking, direction, classes


def planted(model: SCLAP, vectors: torch.Tensor, n: int = 6, at: int = 0, seed: int = 0) -> AudioEmbeddings:
    """Random unit embeddings of ``n`` clips, those from ``at`` on replaced by ``vectors``."""
    g = torch.Generator().manual_seed(seed)
    e = torch.nn.functional.normalize(torch.randn(n, vectors.shape[1], generator=g), dim=1)
    e[at : at + len(vectors)] = vectors
    doa = torch.nn.functional.normalize(torch.randn(n, 2, 3, generator=g), dim=-1)
    return AudioEmbeddings([f"clip_{i}.wav" for i in range(n)], e, e.clone(), doa, "triplet", model.model_id)


def test_search_returns_the_planted_clip_first(model):
    caption = "a violin plays on the left, then a drum rolls behind"
    clips = planted(model, model.embed_text(caption), at=4)
    top = model.search(caption, clips, k=3)
    assert top[0].name == "clip_4.wav" and top[0].score == pytest.approx(1.0, abs=1e-6)
    assert len(top) == 3 and top[0].score >= top[1].score >= top[2].score
    assert len(model.search(caption, clips, k=100)) == len(clips)


def test_rank_captions_and_classify_find_the_planted_caption(model):
    labels = ["a dog barks", "a bell rings", "someone speaks"]
    text = model.embed_text(labels)
    clips = planted(model, text[1:2], n=1)
    assert [m.name for m in model.rank_captions(clips, labels)][0] == "a bell rings"
    probs = model.classify(planted(model, text[[1, 2]], n=2), labels)
    assert probs.shape == (2, 3) and torch.allclose(probs.sum(1), torch.ones(2))
    assert probs.argmax(1).tolist() == [1, 2]
    with pytest.raises(ValueError, match="one clip, got 2"):
        model.rank_captions(planted(model, text[:2], n=2), labels)


def test_the_semantic_embedding_is_the_models_e_sed_and_classifies(model, tiny_export, tmp_path):
    waves = foa(3)
    emb = model.embed_audio(waves)
    with torch.no_grad():
        out = model.model.encode_audio(*model.model.features(torch.from_numpy(np.stack(waves))))
    assert torch.allclose(emb.sed, out["e_sed"].float(), atol=1e-6) and not torch.allclose(emb.sed, emb.joint, atol=1e-3)
    back = AudioEmbeddings.load(emb.save(tmp_path / "emb.npz"))
    assert torch.equal(back.sed, emb.sed) and torch.equal(back.get("sed"), emb.sed)
    # classify and search score with the embedding asked for: here only the planted sed embedding holds the label
    labels = ["a dog barks", "a bell rings", "someone speaks"]
    clips = planted(model, model.embed_text(labels)[1:2], n=1)
    clips.joint, clips.triplet, clips.sed = -clips.joint, -clips.triplet, clips.joint.clone()
    assert model.classify(clips, labels, embedding="sed").argmax(1).tolist() == [1]
    assert model.classify(clips, labels).argmax(1).tolist() != [1]
    sed_model = load(tiny_export, embedding="sed")
    assert sed_model.embedding == "sed" and sed_model.classify(clips, labels).argmax(1).tolist() == [1]
    old = AudioEmbeddings(emb.names, emb.joint, emb.triplet, emb.doa, "triplet", emb.model_id)  # a file of an older version
    with pytest.raises(ValueError, match="no 'sed' embedding"):
        old.get("sed")
    with pytest.raises(ValueError, match="embedding must be one of joint, triplet, sed"):
        emb.get("temporal")


def test_embeddings_of_another_model_are_refused(model):
    clips = planted(model, model.embed_text("rain"))
    clips.model_id = "0123456789abcdef"
    with pytest.raises(ValueError, match="come from another model"):
        model.search("rain", clips)


def test_direction_names_the_sector_of_each_event(model):
    clips = planted(model, model.embed_text("rain"), n=1)
    az = torch.deg2rad(torch.tensor([90.0, -135.0]))
    clips.doa = torch.stack([torch.cos(az), torch.sin(az), torch.zeros(2)], -1)[None]
    [d] = clips.directions()
    assert d.sectors == ("left", "back-right") and d.azimuth == pytest.approx((90.0, -135.0), abs=1e-4)
    assert "left (azimuth +90°, elevation +0°)" in str(d)
    [real] = model.direction(foa(1))
    assert len(real.vectors) == 2 and all(abs(np.linalg.norm(v) - 1) < 1e-5 for v in real.vectors)


def test_embeddings_file_round_trip(model, tmp_path):
    emb = model.embed_audio(foa(2))
    path = emb.save(tmp_path / "emb.npz")
    back = AudioEmbeddings.load(path)
    assert back.names == emb.names and torch.equal(back.triplet, emb.triplet) and back.model_id == model.model_id
    with pytest.raises(FileExistsError):
        emb.save(path)


# --------------------------------------------------------------------------- checkpoints and runs


@pytest.mark.slow
def test_run_writes_an_export_that_loads_like_its_best_checkpoint(tiny_corpus, tmp_path):
    """One epoch of the quick setting on the tiny corpus: ``test_metrics`` leaves ``model/`` beside the checkpoints."""
    import time

    from sclap_nb.config import preset
    from sclap_nb.run import build_data, prepare_out_dir, test_metrics
    from sclap_nb.training import fit

    cfg = preset("quick", {"optim.epochs": 1, "data.data_dir": str(tiny_corpus), "runtime.out_dir": str(tmp_path / "run"),
                           "runtime.progress_log": False})  # fmt: skip
    out = prepare_out_dir(cfg, tmp_path)
    corpus, dm = build_data(cfg, tmp_path)
    module, trainer = fit(cfg, dm, out)
    test_metrics(cfg, out, module, dm, corpus, {"data": 0.0, "train": 0.0}, time.time(), trainer.global_step)
    assert (out / "model" / "model.safetensors").is_file()
    from_run = load(out, device="cpu")  # a run directory: its export
    from_ckpt = load(out / "checkpoints" / "best.ckpt", device="cpu")
    assert from_run.clip_seconds == from_ckpt.clip_seconds == cfg.data.clip_seconds
    assert from_ckpt.info["source"]["checkpoint"] == "best.ckpt"
    wav = sorted((corpus / "audio" / "test").glob("*.wav"))[:3]
    a, b = from_run.embed_audio(wav), from_ckpt.embed_audio(wav)
    assert torch.equal(a.triplet, b.triplet) and torch.equal(a.doa, b.doa) and a.model_id == b.model_id


def test_checkpoint_loads_and_exports_like_its_module(tmp_path):
    from conftest import tiny_config

    from sclap_nb.training import SCLAPModule

    module = SCLAPModule(tiny_config())
    trained_looking(module.model)
    ckpt = tmp_path / "run" / "checkpoints" / "best.ckpt"
    ckpt.parent.mkdir(parents=True)
    # what loading reads of a Lightning checkpoint (fit writes the same keys, and more)
    torch.save({"state_dict": module.state_dict(), "hyper_parameters": dict(module.hparams), "epoch": 3, "global_step": 12}, ckpt)
    (tmp_path / "run" / "run.json").write_text(json.dumps({"clip_seconds": 1.5}))
    from_ckpt = load(tmp_path / "run", device="cpu")  # a run directory without model/: its best.ckpt
    assert from_ckpt.clip_seconds == 1.5
    assert from_ckpt.info["source"] == {"checkpoint": "best.ckpt", "epoch": 3, "global_step": 12}
    export = export_model(ckpt, tmp_path / "model")
    assert json.loads((export / "config.json").read_text())["audio"]["clip_seconds"] == 1.5
    a, b, c = (m.embed_audio(foa(2)) for m in (from_ckpt, load(export, device="cpu"), SCLAP(module.model, from_ckpt.info)))
    assert torch.equal(a.triplet, b.triplet) and torch.equal(a.triplet, c.triplet) and torch.equal(a.doa, b.doa)


def test_publish_copies_the_export_in_float16_when_large(tiny_export, tmp_path, monkeypatch):
    from sclap_nb import publish

    run, results = tmp_path / "runs" / "train", tmp_path / "results"
    (run / "logs" / "version_0").mkdir(parents=True)
    (run / "logs" / "version_0" / "metrics.csv").write_text("step,epoch,train/total_step\n0,0,1.0\n")
    (run / "metrics.json").write_text("{}")
    shutil.copytree(tiny_export, run / "model")
    assert publish.main(["--train", str(run), "--results", str(results)]) == 0
    config = results / "train" / "model" / "config.json"
    assert json.loads(config.read_text())["weights"]["dtype"] == "float32"  # small enough as it is
    monkeypatch.setattr(publish, "COMMIT_MAX_BYTES", 1000)
    assert publish.main(["--train", str(run), "--results", str(results)]) == 0
    assert json.loads(config.read_text())["weights"]["dtype"] == "float16"
    assert json.loads((run / "model" / "config.json").read_text())["weights"]["dtype"] == "float32"  # the run's own is kept


def test_checkpoint_of_another_package_is_a_clear_error(tmp_path):
    bogus = tmp_path / "best.ckpt"
    torch.save({"state_dict": {}}, bogus)
    with pytest.raises(ExportError, match=r"best\.ckpt: not a checkpoint of this package"):
        load(bogus, device="cpu")
    with pytest.raises(ExportError, match="neither an export"):
        load(tmp_path, device="cpu")


# --------------------------------------------------------------------------- command lines


def cli(*args, check=True) -> subprocess.CompletedProcess:
    proc = subprocess.run([sys.executable, "-m", *args], cwd=ROOT, capture_output=True, text=True, timeout=300)
    if check:
        assert proc.returncode == 0, proc.stdout + proc.stderr
    return proc


@pytest.mark.slow
@pytest.mark.parametrize("module, flags", [
    ("sclap_nb.embed", ["MODEL", "FILES_OR_FOLDER", "--out", "--overwrite", "--embedding", "--device", "--skip-bad",
                        "--cache", "--no-cache", "--quiet"]),
    ("sclap_nb.search", ["MODEL", "FILES_OR_FOLDER", "--caption", "--embeddings", "-k", "--device", "--skip-bad",
                         "--cache", "--no-cache", "--quiet"]),
    ("sclap_nb.train", ["--config", "--optim.epochs", "--runtime.out_dir", "--runtime.devices", "--preset"]),
])  # fmt: skip
def test_help_names_the_key_flags(module, flags):
    out = cli(module, "--help").stdout
    assert all(flag in out for flag in flags), out


def test_embed_then_search_command_lines(tiny_export, clip_folder, tmp_path, capsys):
    from sclap_nb import embed, search

    out = tmp_path / "emb.npz"
    assert embed.main([str(tiny_export), str(clip_folder), "--out", str(out), "--device", "cpu"]) == 0
    with np.load(out) as d:
        assert [Path(n).name for n in d["names"]] == [f"clip_{i}.wav" for i in range(4)]
        assert d["joint"].shape == d["triplet"].shape == (4, 64) and d["doa"].shape == (4, 2, 3)
        assert d["sectors"].shape == (4, 2) and str(d["default"]) == "triplet"
    before = out.read_bytes()
    assert embed.main([str(tiny_export), str(clip_folder), "--out", str(out)]) == 2
    assert f"{out} exists: pass --overwrite" in capsys.readouterr().err and out.read_bytes() == before

    assert search.main([str(tiny_export), "--caption", "a bell rings", "--embeddings", str(out), "-k", "2"]) == 0
    from_file = capsys.readouterr().out.strip().splitlines()
    assert search.main([str(tiny_export), "--caption", "a bell rings", str(clip_folder), "-k", "2", "--device", "cpu"]) == 0
    from_folder = capsys.readouterr().out.strip().splitlines()
    assert len(from_file) == 2 and from_file[0].split()[0] == "1" and "clip_" in from_file[0]
    scores = [float(line.split()[1]) for line in from_file]
    assert scores[0] >= scores[1]
    assert [line.split()[2] for line in from_folder] == [line.split()[2] for line in from_file]


def test_publish_experiment_copies_metrics_settings_and_model(tiny_export, tmp_path):
    from sclap_nb import publish

    run, results = tmp_path / "runs" / "exp", tmp_path / "results"
    run.mkdir(parents=True)
    (run / "metrics.json").write_text('{"LE_deg": 9.0}')
    (run / "run.json").write_text('{"seed": 1}')
    assert publish.main(["--experiment", str(run), "exp_s1", "--results", str(results)]) == 0
    dest = results / "experiments" / "exp_s1"
    assert sorted(p.name for p in dest.iterdir()) == ["metrics.json", "run.json"]
    assert publish.main(["--experiment", str(run), "exp_s1", "--with-model", "--results", str(results)]) == 1  # no export
    shutil.copytree(tiny_export, run / "model")
    assert publish.main(["--experiment", str(run), "exp_s1", "--with-model", "--results", str(results)]) == 0
    assert json.loads((dest / "model" / "config.json").read_text())["weights"]["dtype"] == "float32"
    assert publish.main(["--experiment", str(tmp_path / "nowhere"), "x", "--results", str(results)]) == 1
    # a run with a training log: its validation figures come along, the versions of a resumed run joined
    for version, rows in ((0, "step,val/x\n1,0.1\n2,0.2\n"), (1, "step,val/x\n2,0.3\n3,0.4\n")):
        (run / "logs" / f"version_{version}").mkdir(parents=True)
        (run / "logs" / f"version_{version}" / "metrics.csv").write_text(rows)
    assert publish.main(["--experiment", str(run), "exp_s2", "--results", str(results)]) == 0
    log = (results / "experiments" / "exp_s2" / "metrics.csv").read_text().split()
    assert log == ["step,val/x", "1,0.1", "2,0.3", "3,0.4"]


# --------------------------------------------------------------------------- the aligned scores


@pytest.fixture(scope="module")
def aligned_model(tmp_path_factory):
    """A tiny model with the aligned scores (model.align_dim), exported and loaded."""
    torch.manual_seed(0)
    cfg = ModelConfig.from_dict({**TINY_MODEL, "temporal_readout": "ordered", "align_dim": 16})
    net = trained_looking(SpatialTemporalCLAP(cfg))
    return load(export_model(net, tmp_path_factory.mktemp("aligned") / "model", clip_seconds=1.0), device="cpu")


def test_the_aligned_scores_search_rank_and_keep_their_frames(aligned_model, tmp_path):
    from sclap_nb.model import aligned_scores

    m = aligned_model
    assert m.info["embeddings"]["default"] == "triplet" and "aligned" in m.info["embeddings"]["audio"]
    waves = foa(3, seconds=1.5)
    emb = m.embed_audio(waves)
    assert emb.aligned.ndim == 3 and emb.aligned.shape[0] == 3 and emb.aligned.shape[2] == 16
    caption = "first a violin plays on the left, then a drum rolls behind"
    items = m.model.encode_text_items([caption])[1].float()
    want = aligned_scores(items, emb.aligned)[0]
    top = m.search(caption, emb, k=3, embedding="aligned")
    assert [t.score for t in top] == pytest.approx(sorted(want.tolist(), reverse=True), abs=1e-6)
    assert [t.score for t in top] != pytest.approx([t.score for t in m.search(caption, emb, k=3)], abs=1e-3)
    one = AudioEmbeddings(emb.names[:1], emb.joint[:1], emb.triplet[:1], emb.doa[:1], "aligned", emb.model_id,
                          sed=emb.sed[:1], aligned=emb.aligned[:1])  # fmt: skip
    ranked = m.rank_captions(one, [caption, "a dog barks"])  # scored with the embedding the clips record
    both = aligned_scores(m.model.encode_text_items([caption, "a dog barks"])[1].float(), emb.aligned[:1])[:, 0]
    assert [r.score for r in ranked] == pytest.approx(sorted(both.tolist(), reverse=True), abs=1e-6)
    back = AudioEmbeddings.load(emb.save(tmp_path / "emb.npz"))
    assert torch.equal(back.aligned, emb.aligned)
    # clips of other lengths: the shorter one's last frame repeated, its scores unchanged
    mixed = m.embed_audio([waves[0], foa(1, seconds=1.0, seed=5)[0]])
    alone = m.embed_audio(foa(1, seconds=1.0, seed=5))
    assert mixed.aligned.shape[1] == emb.aligned.shape[1] > alone.aligned.shape[1]
    assert torch.allclose(aligned_scores(items, mixed.aligned[1:]), aligned_scores(items, alone.aligned), atol=1e-6)
    probs = m.classify(emb, ["a violin", "a drum"], embedding="aligned")
    assert probs.shape == (3, 2) and torch.allclose(probs.sum(1), torch.ones(3))


def test_the_combined_scorer_is_the_triplet_cosine_plus_the_aligned_score(aligned_model, tmp_path):
    from sclap_nb.model import COMBINED_WEIGHT, aligned_scores

    m = aligned_model
    assert m.info["embeddings"]["audio"][-2:] == ["aligned", "combined"] and m.info["embeddings"]["default"] == "triplet"
    emb = m.embed_audio(foa(3, seconds=1.5))
    caption = "first a violin plays on the left, then a drum rolls behind"
    items = m.model.encode_text_items([caption])[1].float()
    want = emb.triplet @ m.embed_text([caption])[0] + COMBINED_WEIGHT * aligned_scores(items, emb.aligned)[0]
    top = m.search(caption, emb, k=3, embedding="combined")
    assert [t.score for t in top] == pytest.approx(sorted(want.tolist(), reverse=True), abs=1e-5)
    for part in ("triplet", "aligned"):  # neither half alone
        assert [t.score for t in top] != pytest.approx([t.score for t in m.search(caption, emb, k=3, embedding=part)], abs=1e-3)
    chosen = SCLAP(m.model, m.info, "combined")  # load(..., embedding="combined") scores with it by default
    assert [t.score for t in chosen.search(caption, emb, k=3)] == pytest.approx([t.score for t in top], abs=1e-6)
    older = {**m.info, "embeddings": {**m.info["embeddings"], "audio": m.info["embeddings"]["audio"][:-1]}}
    assert SCLAP(m.model, older, "combined").embedding == "combined"  # an export written before the scorer existed
    with pytest.raises(ValueError, match="'combined' is a scorer, not an embedding"):
        emb.get("combined")
    probs = m.classify(emb, ["a violin", "a drum"], embedding="combined")
    assert probs.shape == (3, 2) and torch.allclose(probs.sum(1), torch.ones(3))


def test_the_combined_scorer_takes_the_weight_an_export_records_or_load_is_given(aligned_model, tmp_path):
    """embeddings.combined_weight in an export's config.json weighs the aligned score in "combined"; load(...,
    combined_weight=) overrides it; a weight that is not a positive number is refused, naming the file."""
    from sclap_nb.model import aligned_scores

    m = aligned_model
    emb = m.embed_audio(foa(3, seconds=1.5))
    caption = "first a violin plays on the left, then a drum rolls behind"
    items = m.model.encode_text_items([caption])[1].float()
    cosine, aligned = emb.triplet @ m.embed_text([caption])[0], aligned_scores(items, emb.aligned)[0]
    assert m.combined_weight == 1.0
    export = export_model(m.model, tmp_path / "weighted", clip_seconds=1.0)
    config = json.loads((export / "config.json").read_text())
    config["embeddings"]["combined_weight"] = 8.0
    (export / "config.json").write_text(json.dumps(config))
    weighted = load(export, device="cpu", embedding="combined")
    assert weighted.combined_weight == 8.0
    top = weighted.search(caption, emb, k=3)
    assert [t.score for t in top] == pytest.approx(sorted((cosine + 8.0 * aligned).tolist(), reverse=True), abs=1e-5)
    assert [t.score for t in top] != pytest.approx([t.score for t in m.search(caption, emb, k=3, embedding="combined")], abs=1e-3)
    assert load(export, device="cpu", combined_weight=2.0).combined_weight == 2.0
    config["embeddings"]["combined_weight"] = -1
    (export / "config.json").write_text(json.dumps(config))
    with pytest.raises(ValueError, match=r"weighted: config.json: embeddings.combined_weight must be a positive number"):
        load(export, device="cpu")
    with pytest.raises(ValueError, match="combined_weight must be a positive number"):
        SCLAP(m.model, m.info, combined_weight=float("nan"))


def test_a_model_without_the_aligned_scores_says_so(model):
    emb = model.embed_audio(foa(1))
    assert emb.aligned is None and "aligned" not in model.info["embeddings"]["audio"]
    with pytest.raises(ValueError, match="no 'aligned' frames"):
        model.search("rain", emb, embedding="aligned")
    with pytest.raises(ValueError, match="this model has"):
        SCLAP(model.model, model.info, "aligned")
    with pytest.raises(ValueError, match="this model has"):
        SCLAP(model.model, model.info, "combined")

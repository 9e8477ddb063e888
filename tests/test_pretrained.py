"""The pretrained front end (``sclap_nb.pretrained``): aiSFX's input and its shipped weights."""

from __future__ import annotations

import librosa
import numpy as np
import pytest
import torch
from scipy.signal import resample_poly

pytest.importorskip("aisfx", reason="make setup installs aisfx")

from conftest import TINY_MODEL  # noqa: E402
from sclap_nb.data import read_metadata  # noqa: E402
from sclap_nb.data.corpus import load_clip  # noqa: E402
from sclap_nb.api import load  # noqa: E402
from sclap_nb.data.dataset import StClothoDataset, collate_groups  # noqa: E402
from sclap_nb.export import export_model  # noqa: E402
from sclap_nb.features import FeatureConfig  # noqa: E402
from sclap_nb.model import ModelConfig, SpatialTemporalCLAP  # noqa: E402
from sclap_nb.pretrained import (AISFX_BLOCK, AISFX_DIM, AISFX_MELS, AISFX_RATE, AISFX_SPEC_MAX, AisfxEmbedder,  # noqa: E402
                                 aisfx_frames, aisfx_input, aisfx_logmel, aisfx_network, embed_cache)  # fmt: skip
from sclap_nb.config import ConfigError  # noqa: E402

RATE = 16000


def tone(freq: float, seconds: float, gain: float = 0.5) -> np.ndarray:
    t = np.arange(int(seconds * RATE)) / RATE
    return (gain * np.sin(2 * np.pi * freq * t)).astype(np.float32)


def test_input_is_blocks_of_the_log_mel_and_ignores_the_level():
    x = aisfx_input(tone(440.0, 5.0), RATE)
    # 5 s at 44.1 kHz, hop 1024: 216 frames -> blocks at 0, 50, 100 (the last starts at 100, ends at 200)
    assert x.shape == (3, AISFX_BLOCK, AISFX_MELS)
    assert 0.0 <= float(x.min()) and 0.5 < float(x.max()) <= 1.05
    # peak-normalised: the level of the recording does not change the input
    torch.testing.assert_close(aisfx_input(tone(440.0, 5.0, gain=0.01), RATE), x, atol=1e-4, rtol=0)
    # the tone's energy sits in the band of 440 Hz, not in the top bands
    band = int(x[0].mean(0).argmax())
    assert 10 <= band <= 25, band
    profile = x[0, 5:].mean(0)  # (the first frames hold the onset's click)
    assert float(profile[-20:].max()) < 0.1 * float(profile[band])


def test_short_and_silent_signals_give_one_padded_block():
    short = aisfx_input(tone(1000.0, 0.3), RATE)
    assert short.shape == (1, AISFX_BLOCK, AISFX_MELS)
    assert float(short[0, -10:].abs().max()) == 0.0  # padded with silence
    silent = aisfx_input(np.zeros(RATE, dtype=np.float32), RATE)
    assert float(silent.abs().max()) == 0.0
    with pytest.raises(ValueError, match="mono"):
        aisfx_input(np.zeros((2, RATE), dtype=np.float32), RATE)


def test_the_shipped_weights_load_and_differ_from_the_initialisation():
    trained, untrained = aisfx_network(True), aisfx_network(False)
    assert not any(p.requires_grad for p in trained.parameters())
    a, b = trained.state_dict(), untrained.state_dict()
    assert a.keys() == b.keys()
    changed = [k for k in a if a[k].dtype.is_floating_point and not torch.equal(a[k], b[k])]
    assert len(changed) >= 0.9 * sum(v.dtype.is_floating_point for v in a.values())
    # the control is the same network every time
    torch.testing.assert_close(aisfx_network(False).state_dict(), b)
    x = aisfx_input(np.concatenate([tone(300.0, 1.5), tone(3000.0, 1.5)]), RATE)
    with torch.no_grad():
        e = trained(x)
    assert e.shape == (len(x), AISFX_DIM) and torch.isfinite(e).all()


# ------------------------------------------------ the batched front end, its cache, and the model that reads it


def test_batched_log_mel_is_librosas_and_cut_into_the_blocks():
    rng = np.random.default_rng(0)
    clips = (rng.standard_normal((3, 4 * RATE)) * np.linspace(0.0, 1.0, 4 * RATE)).astype(np.float32)
    whole = aisfx_logmel(clips, RATE)
    assert whole.shape == (3, 173, AISFX_MELS)  # 4 s at 44.1 kHz, hop 1024, centred frames
    for k in range(3):  # the reference: aiSFX's own recipe with librosa, written out here
        y = resample_poly(clips[k], AISFX_RATE, RATE)
        mel = librosa.feature.melspectrogram(y=y / np.abs(y).max(), sr=AISFX_RATE, n_fft=2048, hop_length=1024, n_mels=96,
                                             fmin=0.0, fmax=AISFX_RATE / 2, htk=True, norm=1.0, power=2.0)  # fmt: skip
        reference = torch.from_numpy(np.log10(mel * 10000.0 + 1.0).T / AISFX_SPEC_MAX).float()
        torch.testing.assert_close(whole[k], reference, atol=1e-5, rtol=0)
        blocks = aisfx_input(clips[k], RATE)  # blocks of 100 frames, hop 50 (one clip alone: its mel product may
        assert len(blocks) == 2  # round in another order than the batch's, by 6e-8 on an AMX Xeon)
        torch.testing.assert_close(blocks[0], whole[k, :100], atol=1e-6, rtol=0)
        torch.testing.assert_close(blocks[1], whole[k, 50:150], atol=1e-6, rtol=0)
    assert aisfx_logmel(clips[:, : RATE // 2], RATE).shape == (3, AISFX_BLOCK, AISFX_MELS)  # padded to one block
    with pytest.raises(ValueError, match="mono clips"):
        aisfx_logmel(clips[0], RATE)


def test_the_embedder_reads_the_w_channel_only():
    rng = np.random.default_rng(1)
    foa = rng.standard_normal((2, 4, 2 * RATE)).astype(np.float32)
    embed = AisfxEmbedder()
    a = embed(foa, RATE)
    assert a.shape == (2, AISFX_DIM) and a.dtype == torch.float32
    other = foa.copy()
    other[:, 1:] = rng.standard_normal(other[:, 1:].shape)
    torch.testing.assert_close(embed(other, RATE), a)  # Y, Z, X do not count
    torch.testing.assert_close(embed(foa[:, 0], RATE), a)  # mono clips are W
    louder = foa.copy()
    louder[1, 0] = np.concatenate([tone(440.0, 1.0), tone(2000.0, 1.0)])
    b = embed(louder, RATE)
    torch.testing.assert_close(b[0], a[0])
    assert not torch.allclose(b[1], a[1], atol=1e-3)
    # bf16 (where the CPU has it) and float32 give the same vectors to within their rounding
    cos = torch.nn.functional.cosine_similarity(AisfxEmbedder(bf16=True)(louder, RATE), AisfxEmbedder(bf16=False)(louder, RATE))
    assert float(cos.min()) > 0.999, cos


def test_the_feature_cache_is_computed_once_and_redone_when_its_inputs_change(tmp_path):
    rng = np.random.default_rng(2)
    waves = rng.standard_normal((5, RATE)).astype(np.float32)
    calls = []

    def load(ix):
        calls.append(list(ix))
        return waves[ix]

    ids = [f"c{i}" for i in range(5)]
    first = embed_cache(tmp_path / "a.npy", ids, "digest-1", RATE, load)
    assert first.shape == (5, AISFX_DIM) and calls == [[0, 1, 2, 3, 4]]
    torch.testing.assert_close(torch.from_numpy(first), AisfxEmbedder()(waves, RATE))
    again = embed_cache(tmp_path / "a.npy", ids, "digest-1", RATE, load)
    assert np.array_equal(again, first) and len(calls) == 1  # reused, nothing read
    embed_cache(tmp_path / "a.npy", ids, "digest-2", RATE, load)  # other clips behind the same ids
    assert len(calls) == 2
    (tmp_path / "a.json").write_text("{not json")
    embed_cache(tmp_path / "a.npy", ids, "digest-2", RATE, load)
    assert len(calls) == 3


def test_a_model_with_pretrained_features_needs_them_and_leaves_the_rest_as_it_was():
    torch.manual_seed(3)
    plain = SpatialTemporalCLAP(ModelConfig(**TINY_MODEL))
    torch.manual_seed(3)
    model = SpatialTemporalCLAP(ModelConfig(**TINY_MODEL, semantic_pretrained="aisfx")).eval()
    extra = {k for k in model.state_dict() if k not in plain.state_dict()}
    assert extra and all(k.startswith("pretrained_projection.") for k in extra)  # the aiSFX weights are not exported
    for k, v in plain.state_dict().items():
        assert torch.equal(model.state_dict()[k], v), k  # every other part starts from the same weights
    wave = torch.from_numpy(np.random.default_rng(4).standard_normal((2, 4, 2 * RATE)).astype(np.float32))
    with pytest.raises(ValueError, match="aiSFX features"):
        model.encode_audio(*model.features(wave))
    with torch.no_grad():
        out = model.encode_wave(wave)
        pre = model.pretrained_features(wave)
        torch.testing.assert_close(out["e_sed"], model.encode_audio(*model.features(wave), pre)["e_sed"])
        torch.testing.assert_close(model.encode_semantic(model.features(wave)[0], pre), out["e_sed"])
        moved = model.encode_audio(*model.features(wave), pre.roll(1, dims=-1))  # (a shift alone the layer norm removes)
    assert not torch.allclose(moved["e_sed"], out["e_sed"], atol=1e-4)  # the features reach e_sed ...
    torch.testing.assert_close(moved["e_temporal"], out["e_temporal"])  # ... and not the temporal path
    assert plain.pretrained_features(wave) is None


def test_corpus_items_and_class_batches_carry_the_clips_features(tiny_corpus, tmp_path):
    ds = StClothoDataset(tiny_corpus, "val", "triplet", FeatureConfig(), tmp_path / "cache", pretrained="aisfx")
    batch = collate_groups([ds[0], ds[1]])
    assert batch["aisfx"].shape == (len(batch["ids"]), AISFX_DIM)
    rows = {r["id"]: r for r in read_metadata(tiny_corpus, "val")}
    waves = np.stack([load_clip(tiny_corpus, rows[i]) for i in batch["ids"]])
    torch.testing.assert_close(batch["aisfx"], AisfxEmbedder()(waves, RATE))
    cached = next((tmp_path / "cache").glob("aisfx-*/val.npy"))
    stamp = cached.stat().st_mtime_ns
    fly = StClothoDataset(tiny_corpus, "val", "triplet", FeatureConfig(), None, pretrained="aisfx")  # no cache: on the fly
    torch.testing.assert_close(collate_groups([fly[0], fly[1]])["aisfx"], batch["aisfx"])
    StClothoDataset(tiny_corpus, "val", "triplet", FeatureConfig(), tmp_path / "cache", pretrained="aisfx")
    assert cached.stat().st_mtime_ns == stamp  # the second dataset reused the file
    with pytest.raises(ValueError, match="pretrained must be"):
        StClothoDataset(tiny_corpus, "val", pretrained="panns")


@pytest.mark.parametrize("frames", [False, True])
def test_an_exported_model_with_pretrained_features_embeds_through_the_api(tmp_path, frames):
    torch.manual_seed(5)
    settings = dict(TINY_MODEL, semantic_pretrained="aisfx", temporal_pretrained=frames, temporal_readout="ordered")
    model = SpatialTemporalCLAP(ModelConfig(**settings)).eval()
    api = load(export_model(model, tmp_path / "m", clip_seconds=2.0), device="cpu")
    assert api.model.cfg.semantic_pretrained == "aisfx" and api.model.pretrained_projection is not None
    assert api.model.cfg.temporal_pretrained == frames and (api.model.temporal_pretrained_projection is not None) == frames
    rng = np.random.default_rng(6)
    waves = (0.1 * rng.standard_normal((3, 4, 2 * RATE))).astype(np.float32)
    got = api.embed_audio(list(waves))
    with torch.no_grad():
        want = api.model.encode_wave(torch.from_numpy(waves))
    torch.testing.assert_close(got.get("sed"), want["e_sed"].float(), atol=1e-4, rtol=0)
    torch.testing.assert_close(got.get("triplet"), want["e_triplet"].float(), atol=1e-4, rtol=0)


FRAMES_MODEL = dict(TINY_MODEL, semantic_pretrained="aisfx", temporal_pretrained=True, temporal_readout="ordered")


def test_the_networks_frames_follow_the_sound_in_time_and_their_maximum_is_its_vector():
    net = aisfx_network()
    clip = np.concatenate([np.zeros(2 * RATE, np.float32), tone(440.0, 2.0)])  # silence, then a tone
    x = aisfx_logmel(clip[None], RATE)
    with torch.no_grad():
        frames, vector = aisfx_frames(net, x), net(x)
    assert frames.shape == (1, x.shape[1] // 8, AISFX_DIM)  # one every 8 input frames
    torch.testing.assert_close(frames.amax(1), vector)
    # away from the clip's edges (its padding reaches 3 frames in), the frames change most where the tone
    # starts, and not at all in the silence well before it
    step = frames[0].diff(dim=0).norm(dim=1)  # step[i]: from frame i to i + 1
    half, edge = frames.shape[1] / 2, 3
    assert abs(edge + int(step[edge:-edge].argmax()) + 1 - half) <= 1.5, step
    assert float(step[edge : int(half) - 5].max()) < 0.05 * float(step.max()), step
    embedded = AisfxEmbedder(bf16=False, frames=True)(clip[None], RATE)
    torch.testing.assert_close(embedded, frames, atol=1e-4, rtol=1e-4)


def test_the_frame_cache_is_float16_and_kept_apart_from_the_vectors(tmp_path):
    rng = np.random.default_rng(7)
    waves = rng.standard_normal((3, 2 * RATE)).astype(np.float32)
    ids = ["a", "b", "c"]
    frames = embed_cache(tmp_path / "f.npy", ids, "d", RATE, lambda ix: waves[ix], AisfxEmbedder(frames=True))
    assert frames.dtype == np.float16 and frames.shape[0] == 3 and frames.shape[2] == AISFX_DIM and frames.shape[1] > 1
    vectors = embed_cache(tmp_path / "v.npy", ids, "d", RATE, lambda ix: waves[ix])
    torch.testing.assert_close(torch.from_numpy(frames.astype(np.float32)).amax(1), torch.from_numpy(vectors),
                               atol=2e-2, rtol=1e-2)  # fmt: skip
    # a cache of vectors is not taken for one of frames
    calls = []
    embed_cache(tmp_path / "v.npy", ids, "d", RATE, lambda ix: calls.append(ix) or waves[ix], AisfxEmbedder(frames=True))
    assert calls


def test_frames_reach_the_temporal_path_only_through_their_own_projection():
    with pytest.raises(ConfigError, match="temporal_pretrained"):
        ModelConfig(**TINY_MODEL, temporal_pretrained=True, temporal_readout="ordered")  # no semantic features
    with pytest.raises(ConfigError, match="temporal_pretrained"):
        ModelConfig(**TINY_MODEL, semantic_pretrained="aisfx", temporal_pretrained=True, temporal_readout="concat")
    torch.manual_seed(8)
    vec = SpatialTemporalCLAP(ModelConfig(**{**FRAMES_MODEL, "temporal_pretrained": False}))
    torch.manual_seed(8)
    model = SpatialTemporalCLAP(ModelConfig(**FRAMES_MODEL)).eval()
    extra = {k for k in model.state_dict() if k not in vec.state_dict()}
    assert extra and all(k.startswith("temporal_pretrained_projection.") for k in extra)
    for k, v in vec.state_dict().items():
        assert torch.equal(model.state_dict()[k], v), k
    assert ModelConfig(**FRAMES_MODEL).pretrained_input == "aisfx_frames"
    wave = torch.from_numpy(np.random.default_rng(9).standard_normal((2, 4, 2 * RATE)).astype(np.float32))
    feats = model.features(wave)
    with torch.no_grad():
        pre = model.pretrained_features(wave)
        assert pre.ndim == 3 and pre.shape[2] == AISFX_DIM
        out = model.encode_audio(*feats, pre)
        torch.testing.assert_close(model.encode_wave(wave)["e_triplet"], out["e_triplet"])
        # the semantic branch reads the frames' maximum: the clip vector
        torch.testing.assert_close(out["e_sed"], model.encode_audio(*feats, pre)["e_sed"])
        torch.testing.assert_close(model.encode_semantic(feats[0], pre.amax(1)), out["e_sed"])
        # frames with the same maximum but their order reversed: e_sed unchanged, the temporal embedding not
        flipped = model.encode_audio(*feats, pre.flip(1))
    torch.testing.assert_close(flipped["e_sed"], out["e_sed"])
    assert not torch.allclose(flipped["e_temporal"], out["e_temporal"], atol=1e-4)
    with pytest.raises(ValueError, match="aiSFX frames"):
        model.encode_audio(*feats, pre.amax(1))


def test_a_corpus_item_carries_each_clips_frames(tiny_corpus, tmp_path):
    ds = StClothoDataset(tiny_corpus, "val", "triplet", FeatureConfig(), tmp_path / "cache", pretrained="aisfx_frames")
    batch = collate_groups([ds[0], ds[1]])
    assert batch["aisfx"].ndim == 3 and batch["aisfx"].shape[0] == len(batch["ids"]) and batch["aisfx"].dtype == torch.float32
    assert list((tmp_path / "cache").glob("aisfx-frames-*/val.npy"))
    rows = {r["id"]: r for r in read_metadata(tiny_corpus, "val")}
    waves = np.stack([load_clip(tiny_corpus, rows[i]) for i in batch["ids"]])
    torch.testing.assert_close(batch["aisfx"], AisfxEmbedder(frames=True)(waves, RATE), atol=2e-2, rtol=1e-2)

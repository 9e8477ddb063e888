import numpy as np
import pytest
import torch

from sclap_nb.features import FeatureConfig, FOAFeatures, iv_direction


def plane_wave(az_deg: float, el_deg: float = 0.0, n: int = 16000, seed: int = 0) -> torch.Tensor:
    """A noise plane wave in ACN/SN3D order (W, Y, Z, X) from (az, el)."""
    s = torch.from_numpy(np.random.default_rng(seed).standard_normal(n).astype(np.float32))
    a, e = np.deg2rad(az_deg), np.deg2rad(el_deg)
    gains = torch.tensor([1.0, np.sin(a) * np.cos(e), np.sin(e), np.cos(a) * np.cos(e)], dtype=torch.float32)
    return (gains[:, None] * s[None])[None]


def angle_diff(a, b):
    return abs((a - b + 180) % 360 - 180)


def test_shapes_and_defaults():
    f = FOAFeatures()
    assert f.cfg == FeatureConfig(sample_rate=16000, n_fft=512, hop_length=160, n_mels=64)
    logmel, logmeliv = f(torch.randn(3, 4, 32000))
    assert logmel.shape == (3, 1, 201, 64)
    assert logmeliv.shape == (3, 7, 201, 64)
    assert torch.isfinite(logmeliv).all()
    # channel 0 of logmelIV is the W log-mel; the intensity channels lie in [-1, 1]
    assert torch.equal(logmel[:, 0], logmeliv[:, 0])
    assert logmeliv[:, 4:].abs().max() <= 1.0 + 1e-5


def test_mel_filterbank_is_librosa_slaney():
    import librosa

    f = FOAFeatures(FeatureConfig(n_mels=40))
    ref = librosa.filters.mel(sr=16000, n_fft=512, n_mels=40, fmin=50.0, norm="slaney", htk=False)
    np.testing.assert_allclose(f.mel_fb.T.numpy(), ref, rtol=1e-6)


def test_logmel_matches_librosa_power_db():
    import librosa

    cfg = FeatureConfig()
    x = np.random.default_rng(1).standard_normal(16000).astype(np.float32)
    wave = torch.from_numpy(np.stack([x, 0 * x, 0 * x, 0 * x]))[None]
    logmel, _ = FOAFeatures(cfg)(wave)
    ref = librosa.power_to_db(
        librosa.feature.melspectrogram(y=x, sr=16000, n_fft=512, hop_length=160, n_mels=64, fmin=50.0, power=2.0),
        ref=1.0, amin=cfg.eps, top_db=None,
    ).T
    # compare where the reference is above the top_db floor
    keep = ref > ref.max() - cfg.top_db
    np.testing.assert_allclose(logmel[0, 0].numpy()[keep], ref[keep], atol=1e-3)


@pytest.mark.parametrize("az", [0.0, 45.0, 90.0, 135.0, 180.0, -60.0, -120.0])
def test_intensity_vector_points_to_the_source(az):
    _, logmeliv = FOAFeatures()(plane_wave(az))
    est_az, est_el = iv_direction(logmeliv)[0].tolist()
    assert angle_diff(est_az, az) < 2.0
    assert abs(est_el) < 2.0


def test_intensity_vector_elevation():
    _, logmeliv = FOAFeatures()(plane_wave(30.0, 40.0))
    est_az, est_el = iv_direction(logmeliv)[0].tolist()
    assert angle_diff(est_az, 30.0) < 2.0 and abs(est_el - 40.0) < 2.0


def test_bad_input_is_named():
    f = FOAFeatures()
    with pytest.raises(ValueError, match="4 FOA channels"):
        f(torch.randn(2, 2, 16000))
    with pytest.raises(ValueError, match="too short"):
        f(torch.randn(2, 4, 100))
    x = torch.randn(2, 4, 16000)
    x[1, 2, 5] = float("nan")
    with pytest.raises(ValueError, match=r"NaN.*\[1\]"):
        f(x)


def test_cache_key_depends_on_every_parameter():
    base = FeatureConfig()
    assert base.key() == FeatureConfig().key()
    assert len({base.key(), FeatureConfig(n_mels=32).key(), FeatureConfig(hop_length=240).key(), FeatureConfig(fmin=0.0).key()}) == 4

"""The pretrained front end (``sclap_nb.pretrained``): aiSFX's input and its shipped weights."""

from __future__ import annotations

import numpy as np
import pytest
import torch

pytest.importorskip("aisfx", reason="make setup installs aisfx")

from sclap_nb.pretrained import AISFX_BLOCK, AISFX_DIM, AISFX_MELS, aisfx_input, aisfx_network  # noqa: E402

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

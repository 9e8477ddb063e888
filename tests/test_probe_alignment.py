"""scripts/probe_alignment.py: the ordered rule scores a clip by the best monotone alignment of a caption's
items to its frames, so a clip whose sounds come in the other order scores lower; the unordered control cannot
tell; a caption's items and a clip's directions are read as the probe says."""

import sys
from pathlib import Path

import numpy as np
import soundfile as sf
import torch
import torch.nn.functional as F

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "scripts"))
from probe_alignment import Aligner, intensity_frames  # noqa: E402


def test_sounds_in_the_other_order_score_lower_only_under_the_ordered_rule():
    x, y = torch.eye(4)[0], torch.eye(4)[1]
    silence = torch.zeros(4)
    in_order = torch.stack([x, x, silence, y, y])[None]
    swapped = torch.stack([y, y, silence, x, x])[None]
    clips = torch.cat([in_order, swapped])
    caption, mask = torch.stack([x, y])[None], torch.tensor([[True, True]])
    ordered = Aligner("ordered").scores(clips, caption, mask)[0]
    unordered = Aligner("unordered").scores(clips, caption, mask)[0]
    assert ordered[0] == 1.0 and ordered[1] == 0.5  # the swapped clip: one item on a frame of the other sound
    assert unordered[0] == unordered[1] == 1.0


def test_the_intensity_direction_of_a_plane_wave(tmp_path):
    rate, az = 16000, np.deg2rad(120.0)
    s = np.random.default_rng(0).standard_normal(rate).astype(np.float32) * 0.1
    foa = np.stack([s, np.sin(az) * s, 0 * s, np.cos(az) * s], 1)  # W, Y, Z, X
    sf.write(tmp_path / "a.wav", foa, rate)
    d = intensity_frames([tmp_path / "a.wav"], 5)[0]
    assert d.shape == (5, 11)
    assert torch.allclose(d[:, :3], torch.tensor([np.cos(az), np.sin(az), 0.0], dtype=torch.float32).expand(5, 3), atol=1e-3)
    assert torch.allclose(d[:, 3], torch.full((5,), float(np.cos(az))), atol=1e-3)  # cos of the azimuth

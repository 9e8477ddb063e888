"""scripts/probe_temporal_readouts.py: a readout that keeps time learns what only the order of the
frames tells; the time-pooled readout cannot."""

import sys
from pathlib import Path

import numpy as np
import pytest
import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "scripts"))
from probe_temporal_readouts import fit  # noqa: E402


def ramps(n: int, seed: int) -> dict:
    """Maps whose channel 0 rises over the clip ("ccw") or falls ("cw"): the same time mean either way."""
    g = torch.Generator().manual_seed(seed)
    up = torch.rand(n, generator=g) < 0.5
    t = torch.linspace(-1, 1, 20)
    sed = 0.1 * torch.randn(n, 4, 20, generator=g)
    sed[:, 0] += torch.where(up[:, None], t, -t)
    doa = 0.1 * torch.randn(n, 4, 20, generator=g)
    return {"sed": sed, "doa": doa, "activity": torch.ones(n, 20), "motion": np.where(up.numpy(), "ccw", "cw"),
            "first": np.where(up.numpy(), "a", "b")}


@pytest.mark.slow
@pytest.mark.parametrize("kind", ["frames", "ordered"])
def test_a_readout_that_keeps_time_reads_the_direction_of_a_ramp(kind):
    r = fit(kind, ramps(256, 0), ramps(128, 1), "motion", epochs=30, fusion_weight=torch.ones(16), dim=16)
    assert r["test_acc"] > 0.9, r


@pytest.mark.slow
def test_the_time_pooled_readout_cannot():
    r = fit("pooled", ramps(256, 0), ramps(128, 1), "motion", epochs=30, fusion_weight=torch.ones(16), dim=16)
    assert r["test_acc"] < 0.7, r

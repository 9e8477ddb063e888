"""Unit checks on an accelerator: the same computations on the device as on the CPU.

Run where a GPU is: ``SCLAP_TEST_DEVICE=cuda pytest tests/test_gpu.py`` (benchmarks/gpu_check.py
does). Without ``SCLAP_TEST_DEVICE`` they run on CUDA when there is one and are skipped otherwise;
``SCLAP_TEST_DEVICE=cpu`` runs them on the CPU (a smoke run). ``SCLAP_TEXT_MODEL`` names a
MiniLM-shaped model directory to use instead of the packaged one.
"""

from __future__ import annotations

import os

import pytest
import torch
import torch.nn.functional as F

DEVICE = os.environ.get("SCLAP_TEST_DEVICE") or ("cuda" if torch.cuda.is_available() else "")
pytestmark = pytest.mark.skipif(
    not DEVICE or (DEVICE == "cuda" and not torch.cuda.is_available()), reason="no accelerator (set SCLAP_TEST_DEVICE)"
)
from conftest import TINY_MODEL as TINY  # noqa: E402  (the tests' one tiny model)


def _model_cfg(**kw):
    from sclap_nb.model import ModelConfig

    text = os.environ.get("SCLAP_TEXT_MODEL")
    return ModelConfig.from_dict({**TINY, **({"text_model": text} if text else {}), **kw})


def test_features_on_device_equal_cpu():
    from sclap_nb.features import FeatureConfig, FOAFeatures

    wave = torch.randn(3, 4, 16000, generator=torch.Generator().manual_seed(0)) * 0.1
    f = FOAFeatures(FeatureConfig())
    cpu = f(wave)
    dev = f.to(DEVICE)(wave.to(DEVICE))
    for a, b in zip(cpu, dev):
        assert torch.allclose(a, b.cpu(), atol=2e-3, rtol=1e-3), (a - b.cpu()).abs().max()


def test_model_trains_on_device():
    from sclap_nb.losses import total_loss
    from sclap_nb.model import SpatialTemporalCLAP

    torch.manual_seed(0)
    model = SpatialTemporalCLAP(_model_cfg()).to(DEVICE)
    n = 6
    g = torch.Generator().manual_seed(1)
    batch = {
        "logmel": torch.randn(n, 1, 201, 64, generator=g).to(DEVICE),
        "logmeliv": torch.randn(n, 7, 201, 64, generator=g).to(DEVICE),
        "text_comb": [f"a violin plays on the left, then drum {i}" for i in range(n)],
        "text": [f"a violin plays, then drum {i // 3}" for i in range(n)],
        "doa": F.normalize(torch.randn(n, 2, 3, generator=g), dim=-1).to(DEVICE),
        "group_size": 3,
    }
    out = model(batch)
    losses = total_loss(out, batch, epoch=5)
    assert {v.device.type for v in losses.values()} == {torch.device(DEVICE).type}
    losses["total"].backward()
    grads = [p.grad for p in model.parameters() if p.requires_grad]
    assert all(gr is not None and torch.isfinite(gr).all() for gr in grads)


def test_losses_on_device_equal_cpu():
    from sclap_nb.losses import info_nce, three_way_loss

    g = torch.Generator().manual_seed(2)
    a, t = F.normalize(torch.randn(9, 16, generator=g), dim=-1), F.normalize(torch.randn(9, 16, generator=g), dim=-1)
    for fn in (lambda x, y: info_nce(x, y, 14.0), lambda x, y: three_way_loss(x, y, 14.0)):
        assert abs(fn(a, t).item() - fn(a.to(DEVICE), t.to(DEVICE)).item()) < 1e-4


def test_retrieval_metrics_on_device_equal_cpu():
    from sclap_nb.metrics import retrieval_metrics

    g = torch.Generator().manual_seed(3)
    a, t = F.normalize(torch.randn(20, 8, generator=g), dim=-1), F.normalize(torch.randn(20, 8, generator=g), dim=-1)
    idx = torch.arange(20)
    cpu = retrieval_metrics(a, t, idx)
    dev = retrieval_metrics(a.to(DEVICE), t.to(DEVICE), idx.to(DEVICE))
    assert cpu.keys() == dev.keys() and all(abs(cpu[k] - dev[k]) < 1e-9 for k in cpu)


def test_checkpoint_rng_restores_after_map_location_to_device(tmp_path):
    from sclap_nb.config import preset
    from sclap_nb.training import SCLAPModule

    text = {"model.text_model": os.environ["SCLAP_TEXT_MODEL"]} if os.environ.get("SCLAP_TEXT_MODEL") else {}
    module = SCLAPModule(preset("specification", {**{f"model.{k}": v for k, v in TINY.items()}, **text}))
    ckpt: dict = {}
    module.on_save_checkpoint(ckpt)
    state = torch.get_rng_state().clone()
    moved = {"rng": {k: (v.to(DEVICE) if torch.is_tensor(v) else v) for k, v in ckpt["rng"].items()}}
    moved["rng"]["numpy"] = [x.to(DEVICE) if torch.is_tensor(x) else x for x in ckpt["rng"]["numpy"]]
    if "cuda" in ckpt["rng"]:
        moved["rng"]["cuda"] = [x.to(DEVICE) for x in ckpt["rng"]["cuda"]]
    torch.manual_seed(99)
    module.on_load_checkpoint(moved)
    assert torch.equal(torch.get_rng_state(), state)

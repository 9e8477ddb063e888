import os

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

import pytest
import torch


@pytest.fixture(autouse=True)
def _seed():
    torch.manual_seed(0)
    yield


@pytest.fixture(scope="session")
def text_encoder():
    """One MiniLM text encoder for the whole session (loading it takes ~1 s)."""
    from sclap_nb.model import TextEncoder

    torch.manual_seed(0)
    return TextEncoder(dim=64, trainable_layers=1)


# the tests' one tiny model (settings of sclap_nb.config.ModelConfig)
TINY_MODEL = dict(dim=64, cnn_channels=(8, 8, 16, 16), temporal_heads=4, temporal_ff=128)


def tiny_config(preset_name: str = "specification", settings: dict | None = None, **dotted):
    """The tests' run settings: ``preset_name`` (default: the specification's loss and model) with the tiny
    model, float32 and no progress output, then ``settings``/``dotted`` (``optim__epochs=3``) on top."""
    from sclap_nb.config import preset

    base = {**{f"model.{k}": v for k, v in TINY_MODEL.items()}, "runtime.precision": "32-true",
            "runtime.progress_bar": False, "runtime.progress_log": False}  # fmt: skip
    return preset(preset_name, base).with_settings(settings, **dotted)


@pytest.fixture(scope="session")
def tiny_corpus(tmp_path_factory):
    """An 8/4/4-scene corpus, built once per test session."""
    from sclap_nb.data import ensure_corpus

    return ensure_corpus(tmp_path_factory.mktemp("corpus") / "tiny", n_train=8, n_val=4, n_test=4, seed=7, progress=False)

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

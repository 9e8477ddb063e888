"""The common first steps of a chapter notebook."""

from __future__ import annotations

import logging
import os
import warnings
from pathlib import Path

__all__ = ["setup_chapter"]


def setup_chapter(threads: int | None = 1) -> Path:
    """Quiet, reproducible notebook set-up; returns the repository root.

    * ``threads``: torch intra-op threads (1 for the chapters' small models: faster on 2 cores and
      the same numbers on every run); None leaves torch's default.
    * Offline Hugging Face, no weight-loading progress bars, no Lightning banners, no warnings in
      the stored outputs.
    * The root is found whether the kernel starts in the repository or in ``notebooks/`` (nbval).
    """
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    import torch
    from transformers.utils import logging as hf_logging

    if threads:
        torch.set_num_threads(threads)
    warnings.filterwarnings("ignore")
    logging.getLogger("lightning.pytorch").setLevel(logging.ERROR)
    hf_logging.disable_progress_bar()
    cwd = Path.cwd()
    return cwd if (cwd / "sclap_nb").is_dir() else cwd.parent

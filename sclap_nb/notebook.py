"""The common first steps of a chapter notebook, and numbers that come out of training.

Training is not bit-identical across CPUs: oneDNN and MKL pick other kernels on another
instruction set or thread count, and a short training run then ends a few units away in the
third digit. A chapter therefore shows such a number with :func:`record`, which states the
tolerance the science needs. The notebook tests (``conftest.py`` at the repository root, on top
of nbval) compare a recorded number with its stored value at that tolerance and every other
output exactly.
"""

from __future__ import annotations

import logging
import math
import os
import warnings
from pathlib import Path

import numpy as np

__all__ = ["setup_chapter", "figures_dir", "record", "glue", "choose", "RECORD_KEY", "GLUE_PREFIX"]

RECORD_KEY = "sclap_record"  # output metadata key of a recorded number
GLUE_PREFIX = "application/papermill.record/"  # myst-nb's hidden glue outputs


def setup_chapter(threads: int | None = 1, style: bool = True) -> Path:
    """Quiet, reproducible notebook set-up; returns the repository root.

    * ``threads``: torch intra-op threads (1 for the chapters' small models: faster on 2 cores and
      the same numbers on every run); None leaves torch's default. The environment variable
      ``SCLAP_NUM_THREADS`` overrides it (the notebook tests run once with another count).
    * Offline Hugging Face, no weight-loading progress bars, no Lightning banners, no warnings in
      the stored outputs.
    * ``style``: the book's figure style (:func:`sclap_nb.viz.book_style`), so every chapter's
      figures share fonts, colours and resolution.
    * The root is found whether the kernel starts in the repository or in ``notebooks/`` (nbval).
    """
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    import torch
    from transformers.utils import logging as hf_logging

    threads = int(os.environ.get("SCLAP_NUM_THREADS", 0)) or threads
    if threads:
        torch.set_num_threads(threads)
    warnings.filterwarnings("ignore")
    logging.getLogger("lightning.pytorch").setLevel(logging.ERROR)
    hf_logging.disable_progress_bar()
    if style:
        from .viz import book_style

        book_style()
    cwd = Path.cwd()
    return cwd if (cwd / "sclap_nb").is_dir() else cwd.parent


def figures_dir(root: Path) -> Path:
    """Where a chapter saves its figures: ``root/figures``, or ``SCLAP_FIGURES_DIR`` when set (the
    notebook tests set it, so that re-executing the chapters leaves the checkout as it was)."""
    d = Path(os.environ.get("SCLAP_FIGURES_DIR") or Path(root) / "figures")
    d.mkdir(parents=True, exist_ok=True)
    return d


def _as_float(value):
    arr = np.asarray(value.detach().cpu() if hasattr(value, "detach") else value, dtype=np.float64)
    if not np.isfinite(arr).all():
        return arr.tolist()  # recorded as is: a NaN never matches a stored number
    return float(arr) if arr.ndim == 0 else arr.tolist()


def _format(value, fmt: str) -> str:
    if isinstance(value, list):
        arr = np.asarray(value, dtype=np.float64)
        return np.array2string(arr, formatter={"float_kind": lambda x: format(x, fmt)}, max_line_width=100)
    return format(value, fmt)


def record(name: str, value, tol: float, label: str | None = None, fmt: str = ".3f", unit: str = "", why: str = ""):
    """Show a number (or an array of numbers) that comes out of training, with its tolerance.

    ``tol`` is the absolute difference the chapter's conclusion survives (``why`` says why, in a
    few words); the notebook tests fail when a fresh run lands farther than ``tol`` from the stored
    value. The number is also glued under ``name`` for the book's prose
    (``{glue:text}`name:.2f` ``). Returns the value as a float (or nested list).
    """
    if not name or not name.replace("_", "").replace("-", "").isalnum():
        raise ValueError(f"record: name must be letters, digits, '_' or '-', got {name!r}")
    if not (isinstance(tol, (int, float)) and math.isfinite(tol) and tol >= 0):
        raise ValueError(f"record {name!r}: tol must be a finite number >= 0, got {tol!r}")
    from IPython.display import display

    v = _as_float(value)
    meta = {RECORD_KEY: {"name": name, "value": v, "tol": float(tol), "why": why}}
    label = label or name
    text = f"{label}{'' if label.endswith(chr(10)) else ': '}{_format(v, fmt)}{(' ' + unit) if unit else ''}"
    display({"text/plain": text}, raw=True, metadata=meta)
    if not isinstance(v, list):  # hidden glue output (myst-nb's format), for numbers in the prose
        glue_meta = {**meta, "scrapbook": {"name": name, "mime_prefix": GLUE_PREFIX}}
        display({GLUE_PREFIX + "text/plain": repr(v)}, raw=True, metadata=glue_meta)
    return v


#: a glued float is compared (by the notebook tests) within this relative tolerance: far below the digits
#: the prose prints, far above the float rounding that another CPU's kernels add
GLUE_RTOL = 1e-6


def glue(name: str, value, display: bool = False):
    """``myst_nb.glue`` for a number the prose quotes (``{glue:text}`name:.3f` ``), not displayed.

    numpy and torch scalars become plain Python numbers first (myst-nb formats a glued number from its
    repr, and ``np.float64(0.5)`` is not one). A float is stored like :func:`record`'s hidden glue, with
    a relative tolerance of ``GLUE_RTOL``, so that a computed number the prose quotes survives the last
    digits another CPU changes; anything else is glued as it is and compared exactly.
    """
    if hasattr(value, "item") and getattr(value, "ndim", 0) == 0:
        value = value.item()
    if display or not isinstance(value, float) or isinstance(value, bool) or not math.isfinite(value):
        from myst_nb import glue as _glue

        return _glue(name, value, display=display)
    from IPython.display import display as _display

    rec = {"name": name, "value": value, "tol": GLUE_RTOL * max(1.0, abs(value)), "why": "glued for the prose", "glued": True}
    meta = {RECORD_KEY: rec, "scrapbook": {"name": name, "mime_prefix": GLUE_PREFIX}}
    _display({GLUE_PREFIX + "text/plain": repr(value)}, raw=True, metadata=meta)
    return None


def choose(fast: bool, given: tuple, quick: tuple, full: tuple) -> tuple:
    """Chapter parameters: each value the user passed (not ``None``) wins; the others come from the
    quick setting when ``fast`` and from the full setting otherwise."""
    if not len(given) == len(quick) == len(full):
        raise ValueError(f"choose: {len(given)} given, {len(quick)} quick and {len(full)} full values")
    return tuple(g if g is not None else (q if fast else f) for g, q, f in zip(given, quick, full))

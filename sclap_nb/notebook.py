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

from .viz import book_style

__all__ = ["setup_chapter", "figures_dir", "record", "glue", "choose", "plain", "plain_table", "verdict",
           "RECORD_KEY", "GLUE_PREFIX"]

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


def _is_integer(value) -> bool:
    """Whether ``value`` holds integers by type (a Python, numpy or torch integer, or an array of them)."""
    if isinstance(value, bool):
        return False
    if isinstance(value, (int, np.integer)):
        return True
    dtype = getattr(value, "dtype", None)
    if dtype is None:
        return False
    if hasattr(dtype, "is_floating_point"):  # a torch dtype
        return not dtype.is_floating_point and not dtype.is_complex and str(dtype) != "torch.bool"
    return np.issubdtype(np.dtype(dtype), np.integer)


def _format(value, fmt: str, integer: bool = False) -> str:
    if integer and fmt[-1:] not in ("%", "e", "E"):  # counts read as counts: 178, not 178.0000
        fmt = fmt[:-1].split(".")[0] + "d" if fmt[-1:] in ("f", "F", "g", "G") else fmt
        if isinstance(value, list):
            return "[" + " ".join(format(int(x), fmt) for x in np.ravel(value)) + "]"
        return format(int(value), fmt)
    if isinstance(value, list):
        arr = np.asarray(value, dtype=np.float64)
        return np.array2string(arr, formatter={"float_kind": lambda x: format(x, fmt)}, max_line_width=100)
    return format(value, fmt)


def plain(value, digits: int = 3) -> str:
    """A number, or a sequence of them, written for a reader: integers (and floats that are whole numbers)
    as integers, other floats with ``digits`` significant digits, never a numpy or torch repr
    (``plain(np.float64(1.0)) == "1"``, ``plain([178.0, 0.371234]) == "178, 0.371"``)."""
    if hasattr(value, "detach"):
        value = value.detach().cpu().numpy()
    if isinstance(value, (list, tuple, np.ndarray)) and np.ndim(value) > 0:
        return ", ".join(plain(v, digits) for v in np.ravel(np.asarray(value, dtype=object)))
    if hasattr(value, "item"):
        value = value.item()
    if isinstance(value, (bool, str)) or value is None:
        return str(value)
    if isinstance(value, int):
        return str(value)
    value = float(value)
    if math.isfinite(value) and value.is_integer() and abs(value) < 1e15:
        return str(int(value))
    return format(value, f".{digits}g")


def plain_table(columns: dict, digits: int = 3):
    """A DataFrame of numbers written by :func:`plain` (``columns``: column -> {row: value}, as
    ``pandas.DataFrame`` takes it): step counts show as 178, not 178.0000, beside fractions."""
    import pandas as pd

    frame = pd.DataFrame(columns)
    return frame.apply(lambda col: col.map(lambda v: plain(v, digits)))


def verdict(value: float, goal: float, tol: float, lower_is_better: bool = True) -> str:
    """Whether ``value`` meets ``goal`` in words that survive its tolerance ``tol`` (the amount by which
    it moves between CPUs, as :func:`record` states it): "met" or "missed" when it lies farther than
    ``tol`` from the goal on that side, "met only within its tolerance" (or "missed only within its
    tolerance") when it lies closer than that to the goal."""
    if not all(math.isfinite(x) for x in (value, goal, tol)) or tol < 0:
        raise ValueError(f"verdict: value, goal and tol must be finite and tol >= 0, got {value!r}, {goal!r}, {tol!r}")
    margin = (goal - value) if lower_is_better else (value - goal)
    if margin >= 0:
        return "met" if margin > tol else "met only within its tolerance"
    return "missed" if -margin > tol else "missed only within its tolerance"


class _RecordTable:
    """The numbers a cell records, shown once, as one table, when the cell ends (IPython's
    ``post_run_cell`` event): one output per cell holds every recorded number of it (its metadata
    :data:`RECORD_KEY` is the list of their records), instead of one output per number."""

    def __init__(self):
        self.rows: list[tuple[str, str, dict]] = []

    def start(self, *_):
        self.rows = []

    def flush(self, *_):
        rows, self.rows = self.rows, []
        if not rows:
            return
        import html

        from IPython.display import display

        width = max(len(label) for label, _, _ in rows)
        text = "\n".join(f"{label:<{width}}  {value}" for label, value, _ in rows)
        body = "".join(f"<tr><th>{html.escape(label)}</th><td>{html.escape(value)}</td></tr>" for label, value, _ in rows)
        markup = f'<table class="sclap-records"><tbody>{body}</tbody></table>'
        display({"text/plain": text, "text/html": markup}, raw=True,
                metadata={RECORD_KEY: [rec for _, _, rec in rows]})


def _record_table():
    """The running shell's record table (registered on its cell events once), or None outside IPython."""
    try:
        from IPython import get_ipython
    except ImportError:
        return None
    shell = get_ipython()
    if shell is None or not hasattr(shell, "events"):
        return None
    table = getattr(shell, "_sclap_record_table", None)
    if table is None:
        table = _RecordTable()
        shell.events.register("pre_run_cell", table.start)
        shell.events.register("post_run_cell", table.flush)
        shell._sclap_record_table = table
    return table


def record(name: str, value, tol: float, label: str | None = None, fmt: str = ".3f", unit: str = "", why: str = ""):
    """Show a number (or an array of numbers) that comes out of training, with its tolerance.

    ``tol`` is the absolute difference the chapter's conclusion survives (``why`` says why, in a
    few words); the notebook tests fail when a fresh run lands farther than ``tol`` from the stored
    value. The number is also glued under ``name`` for the book's prose
    (``{glue:text}`name:.2f` ``). Returns the value as a float (or nested list).

    In a notebook the numbers a cell records are shown together when the cell ends, one table per cell
    (label, value); an integer (a count, a step) is shown as an integer whatever ``fmt``. Outside
    IPython each number is printed as it is recorded.
    """
    if not name or not name.replace("_", "").replace("-", "").isalnum():
        raise ValueError(f"record: name must be letters, digits, '_' or '-', got {name!r}")
    if not (isinstance(tol, (int, float)) and math.isfinite(tol) and tol >= 0):
        raise ValueError(f"record {name!r}: tol must be a finite number >= 0, got {tol!r}")
    from IPython.display import display

    v = _as_float(value)
    rec = {"name": name, "value": v, "tol": float(tol), "why": why}
    meta = {RECORD_KEY: rec}
    label = label or name
    shown = f"{_format(v, fmt, integer=_is_integer(value))}{(' ' + unit) if unit else ''}"
    table = _record_table()
    if table is not None:
        table.rows.append((label.rstrip("\n").rstrip(":").strip(), shown, rec))
    else:
        display({"text/plain": f"{label}{'' if label.endswith(chr(10)) else ': '}{shown}"}, raw=True, metadata=meta)
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

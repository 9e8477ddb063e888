"""Rendering on every core: an ordered map over worker processes.

A corpus is rendered scene by scene, each scene from its own random generator (``corpus._rng``:
seed, split, index), so scenes do not depend on each other or on the order they are made in.
:func:`ordered_map` makes them in worker processes and hands them back in index order: the
corpus is the same file for file whatever the number of workers (``tests/test_parallel_build``).
Workers are forked, so what they need (a pool of rendered sounds, the rooms) is shared, not
copied through a pipe; they run numpy, scipy and pyroomacoustics, never torch.

``SCLAP_BUILD_WORKERS`` sets the number of workers (default: the cores this process may use;
1 renders in the calling process, as does a platform without ``fork``).
"""

from __future__ import annotations

import multiprocessing as mp
import os
from collections.abc import Callable, Iterable, Iterator

__all__ = ["build_workers", "ordered_map"]

_FN: Callable | None = None


def build_workers() -> int:
    """Worker processes for rendering: ``SCLAP_BUILD_WORKERS``, else the usable cores."""
    value = os.environ.get("SCLAP_BUILD_WORKERS", "").strip()
    if value:
        try:
            n = int(value)
        except ValueError:
            raise ValueError(f"SCLAP_BUILD_WORKERS must be a whole number >= 1, got {value!r}") from None
        if n < 1:
            raise ValueError(f"SCLAP_BUILD_WORKERS must be >= 1, got {n}")
        return n
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not Linux
        return max(1, os.cpu_count() or 1)


def _install(fn: Callable) -> None:
    global _FN
    _FN = fn


def _call(item):
    return _FN(item)


def ordered_map(fn: Callable, items: Iterable, workers: int | None = None, chunksize: int = 2) -> Iterator:
    """``fn(item)`` for each item, in order, computed in ``workers`` forked processes (default
    :func:`build_workers`). ``fn`` may be a closure (forked workers inherit it); its results are
    pickled back. An exception in a worker is raised here, at its item. Serial when one worker is
    asked for, when there are fewer than two items, or without ``fork``."""
    items = list(items)
    workers = build_workers() if workers is None else int(workers)
    if workers <= 1 or len(items) < 2 or "fork" not in mp.get_all_start_methods():
        for item in items:
            yield fn(item)
        return
    ctx = mp.get_context("fork")
    with ctx.Pool(min(workers, len(items)), initializer=_install, initargs=(fn,)) as pool:
        yield from pool.imap(_call, items, chunksize)

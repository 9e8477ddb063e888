"""Give freed heap memory back to the operating system (glibc's ``malloc_trim``).

PyTorch on the CPU allocates its tensors with ``malloc``. glibc keeps freed blocks in its heap for
reuse, and a training step frees and allocates hundreds of activation buffers of many sizes, so
the heap fragments: the process's anonymous memory grows from step to step although what a step
holds at once does not. ``malloc_trim(0)`` returns the free pages inside the heap (not only at
its top). It changes no number a run computes; it costs page faults when the memory is used
again, which is why :class:`sclap_nb.training.ReleaseMemory` calls it every few steps rather than
after each (``benchmarks/step_memory.py`` prints both sides of that trade for the main job).
Elsewhere than glibc (macOS, musl) it does nothing. Where tcmalloc is preloaded (``sclap_nb.allocator``) the
freed memory sits in tcmalloc's page heap instead, and ``MallocExtension_ReleaseFreeMemory`` hands it back.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import functools
import sys

from .allocator import in_use as allocator_in_use

__all__ = ["release_freed_memory", "can_release", "peak_rss_gib"]


@functools.lru_cache(maxsize=1)
def _malloc_trim():
    name = ctypes.util.find_library("c")
    if not name:
        return None
    try:
        fn = ctypes.CDLL(name).malloc_trim
    except (OSError, AttributeError):
        return None
    fn.argtypes, fn.restype = [ctypes.c_size_t], ctypes.c_int
    return fn


@functools.lru_cache(maxsize=1)
def _tcmalloc_release():
    """tcmalloc's ``MallocExtension_ReleaseFreeMemory`` when this process runs with it preloaded, else None."""
    if allocator_in_use() != "tcmalloc":
        return None
    try:
        fn = ctypes.CDLL(None).MallocExtension_ReleaseFreeMemory
    except (OSError, AttributeError):
        return None
    fn.argtypes, fn.restype = [], None
    return fn


def can_release() -> bool:
    """Whether this C library has ``malloc_trim`` (glibc)."""
    return _malloc_trim() is not None


def release_freed_memory() -> bool:
    """Return the heap's free pages to the operating system: tcmalloc's where it is preloaded, then glibc's;
    True if glibc returned any (False off glibc)."""
    release = _tcmalloc_release()
    if release is not None:
        release()
    fn = _malloc_trim()
    return bool(fn(0)) if fn is not None else False


def peak_rss_gib() -> float:
    """The most resident memory this process has held so far (``getrusage``'s ``ru_maxrss``), in GiB;
    NaN where ``resource`` is missing (Windows)."""
    try:
        import resource
    except ImportError:
        return float("nan")
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # kB on Linux, bytes on macOS
    return peak / 2**30 if sys.platform == "darwin" else peak / 2**20

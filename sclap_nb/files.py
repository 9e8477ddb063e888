"""Writing files whole or not at all: the package's one atomic-write helper.

Every file the package writes (metrics, run settings, checkpoints, feature caches, embeddings,
copies into ``results/``) goes through :func:`atomic_write`: the bytes land in a hidden temporary
file beside the target, which is renamed over it only once complete, so a reader or a crash never
sees half a file. A failed write leaves the temporary file removed and the target as it was.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import BinaryIO

__all__ = ["atomic_write", "write_json_atomic", "copy_atomic", "replace_directory"]


def atomic_write(path: str | os.PathLike, write: Callable[[BinaryIO], object] | bytes | str) -> Path:
    """Write ``path`` atomically: ``write`` is bytes, text, or a function given the open binary file."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as f:
            if isinstance(write, str):
                f.write(write.encode())
            elif isinstance(write, (bytes, bytearray)):
                f.write(write)
            else:
                write(f)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


def write_json_atomic(obj, path: str | os.PathLike) -> Path:
    """JSON (indented, keys sorted) written with :func:`atomic_write`."""
    return atomic_write(path, json.dumps(obj, indent=2, sort_keys=True))


def copy_atomic(src: str | os.PathLike, dst: str | os.PathLike) -> Path:
    """Copy a file with :func:`atomic_write`: ``dst`` is the whole of ``src`` or untouched."""
    with open(src, "rb") as f:
        return atomic_write(dst, lambda out: shutil.copyfileobj(f, out))


def replace_directory(tmp: str | os.PathLike, out: str | os.PathLike) -> Path:
    """Move the finished directory ``tmp`` to ``out``, replacing an ``out`` that exists: the old one is
    renamed aside first and removed only once the new one is in place, so ``out`` is always whole."""
    tmp, out = Path(tmp), Path(out)
    if out.exists():
        old = out.parent / f".{out.name}.old-{os.getpid()}-{tmp.name}"
        os.replace(out, old)
        os.replace(tmp, out)
        shutil.rmtree(old)
    else:
        os.replace(tmp, out)
    return out


def under(root: str | os.PathLike, path: str | os.PathLike) -> Path:
    """``path`` as given when it is absolute, else under ``root`` (a setting's path relative to the project)."""
    return Path(path) if Path(path).is_absolute() else Path(root) / path

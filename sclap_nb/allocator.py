"""The memory allocator that training runs with: gperftools' tcmalloc, preloaded, where it is installed.

PyTorch on the CPU takes each tensor's memory from ``malloc``. glibc serves every buffer above its mmap
threshold (at most 32 MiB, and many of a training step's activations are larger) with a fresh ``mmap`` and
unmaps it when the tensor is freed, so each step faults in and zeroes its pages again. Under ``/usr/bin/time
-v`` the main job (``make train`` from nothing but the library, a slower host of this project's kind) took
65 million minor page faults and 172 s of system time, for 626 s of user time. tcmalloc keeps freed memory
in its own caches for the next step: the same job took 4.6 million page faults and 29 s of system time, and
finished in 297 s instead of 440 s, with the same ``metrics.json`` bit for bit and a peak RSS of 3.85 GiB
(``results/train/make_train_time.json``, ``slower_host_tcmalloc``). The allocator decides where a tensor lives, not
what is computed in it: no number of a run changes (``tests/test_allocator.py`` checks a training step's
loss and gradients bit for bit in two processes, one with it and one without).

* :func:`install` -- ``make setup`` calls it: ``apt-get download libtcmalloc-minimal4`` (Debian's build of
  gperftools' tcmalloc, BSD-3-Clause; nothing is installed system-wide, no root needed), its shared library
  copied to ``{sys.prefix}/lib/sclap-allocator/`` with the package's copyright file and a record of its
  package, version, licence and SHA-256 (``ALLOCATOR.json``). Where apt-get is missing (macOS, another Linux),
  the download fails, or the library does not load, it says so in one line and installs nothing: everything
  works with the system allocator, slower.
* :func:`path` -- the installed library, or ``None``; ``SCLAP_ALLOCATOR=system`` turns it off.
* :func:`in_use` -- ``"tcmalloc"`` when this process runs with it, else ``"system"`` (``metrics.json``'s
  ``allocator``).
* :func:`environ` -- an environment with the library preloaded (``LD_PRELOAD``), for a child process.
* :func:`reexec` -- ``python -m sclap_nb.train`` starts itself again with it, once, before importing torch.
* :func:`kernelspec_preload` -- :func:`install` also adds it to the environment of the venv's ``python3``
  kernelspec (the one ``make setup`` registers), so a Jupyter kernel of this environment runs with it
  however JupyterLab or papermill was started.

A library must be in place before the process starts (``LD_PRELOAD``), so ``make train``, ``make test`` and
``make lab`` start their processes with it, and the venv's kernelspec names it; a kernel or process started
otherwise (another kernelspec, a plain ``python``) runs with the system allocator. ``python -m sclap_nb.allocator install | path |
check`` from the shell.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from .files import write_json_atomic

__all__ = ["PACKAGE", "LIBRARY", "allocator_dir", "install", "path", "in_use", "environ", "reexec", "kernelspec_preload"]

PACKAGE = "libtcmalloc-minimal4"  # Debian's gperftools tcmalloc without its heap profiler
LIBRARY = "libtcmalloc_minimal.so.4"
OFF = "system"  # SCLAP_ALLOCATOR=system: the C library's malloc


def allocator_dir(prefix: str | os.PathLike | None = None) -> Path:
    """Where :func:`install` puts the library: ``{prefix or sys.prefix}/lib/sclap-allocator``."""
    return Path(prefix or sys.prefix) / "lib" / "sclap-allocator"


def path(prefix: str | os.PathLike | None = None) -> Path | None:
    """The installed library (absolute), or None: not installed, not Linux, or ``SCLAP_ALLOCATOR=system``."""
    if os.environ.get("SCLAP_ALLOCATOR", "").strip().lower() == OFF or not sys.platform.startswith("linux"):
        return None
    lib = allocator_dir(prefix) / LIBRARY
    return lib.resolve() if lib.is_file() else None


def in_use() -> str:
    """``"tcmalloc"`` if this process has tcmalloc mapped (preloaded), else ``"system"``."""
    try:
        maps = Path("/proc/self/maps").read_text()
    except OSError:
        return OFF
    return "tcmalloc" if "libtcmalloc" in maps else OFF


def environ(env: dict | None = None, prefix: str | os.PathLike | None = None) -> dict:
    """A copy of ``env`` (default: this process's) with the installed library first in ``LD_PRELOAD``;
    unchanged when none is installed or it is there already."""
    env = dict(os.environ if env is None else env)
    lib = path(prefix)
    have = env.get("LD_PRELOAD", "").split()
    if lib is not None and str(lib) not in have:
        env["LD_PRELOAD"] = " ".join([str(lib), *have])
    return env


def reexec(module: str, argv: list[str] | None = None) -> None:
    """Start ``python -m module argv`` again in this process with the library preloaded (``os.execve``),
    when one is installed and this process runs without it; otherwise return. Call it first thing, before
    anything large is imported. ``SCLAP_ALLOCATOR_REEXEC`` marks the second start, so it happens once."""
    if path() is None or in_use() != OFF or os.environ.get("SCLAP_ALLOCATOR_REEXEC"):
        return
    env = environ()
    env["SCLAP_ALLOCATOR_REEXEC"] = "1"
    args = sys.argv[1:] if argv is None else argv
    sys.stdout.flush()
    sys.stderr.flush()
    os.execve(sys.executable, [sys.executable, "-m", module, *args], env)


def kernelspec_preload(prefix: str | os.PathLike | None = None, lib: Path | None = None) -> Path | None:
    """Put ``lib`` (default: :func:`path`) in ``LD_PRELOAD`` of the ``env`` of ``{prefix or sys.prefix}/share/
    jupyter/kernels/python3/kernel.json`` (the kernelspec ``ipykernel install --sys-prefix`` writes); the
    rest of the spec is kept. Returns the kernelspec written, or None when there is none or no library."""
    lib = lib if lib is not None else path(prefix)
    spec_file = Path(prefix or sys.prefix) / "share" / "jupyter" / "kernels" / "python3" / "kernel.json"
    if lib is None or not spec_file.is_file():
        return None
    try:
        spec = json.loads(spec_file.read_text())
    except json.JSONDecodeError as e:
        print(f"allocator: {spec_file}: not JSON ({e}); left as it is", file=sys.stderr)
        return None
    if spec.get("env", {}).get("LD_PRELOAD") == str(lib):
        return spec_file
    spec.setdefault("env", {})["LD_PRELOAD"] = str(lib)
    return write_json_atomic(spec, spec_file)


def _loads(lib: Path) -> bool:
    """Whether a fresh Python process runs with ``lib`` preloaded (the dynamic loader only warns on failure)."""
    code = "import pathlib; print('libtcmalloc' in pathlib.Path('/proc/self/maps').read_text())"
    env = {**os.environ, "LD_PRELOAD": str(lib)}
    r = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=False)
    return r.returncode == 0 and r.stdout.strip() == "True" and not r.stderr.strip()


def install(prefix: str | os.PathLike | None = None, deb: str | os.PathLike | None = None, quiet: bool = False) -> Path | None:
    """Fetch Debian's ``libtcmalloc-minimal4`` (or read ``deb``) and put its library in :func:`allocator_dir`.

    Returns the installed library, or None with a one-line message on stderr when it cannot be fetched,
    read or loaded (nothing half-written is left). One already installed is kept."""
    from .data.library import PackageError, deb_field, fetch_deb, unpack_deb

    def skip(why: str) -> None:
        print(f"allocator: {why}; training runs with the system allocator (slower, the same numbers)", file=sys.stderr)

    dest = allocator_dir(prefix)
    if not sys.platform.startswith("linux"):
        skip(f"tcmalloc is preloaded on Linux only, not on {sys.platform}")
        return None
    if (dest / LIBRARY).is_file() and (dest / "ALLOCATOR.json").is_file():
        kernelspec_preload(prefix, (dest / LIBRARY).resolve())
        if not quiet:
            print(f"allocator: {dest / LIBRARY} (installed before)", file=sys.stderr)
        return (dest / LIBRARY).resolve()
    work = Path(tempfile.mkdtemp(prefix="sclap-allocator-"))
    try:
        try:
            pkg = Path(deb) if deb else fetch_deb(PACKAGE, work / "debs")
            version = deb_field(pkg, "Version")
            if deb_field(pkg, "Package") != PACKAGE:
                raise PackageError(f"{pkg}: not the package {PACKAGE}")
            unpack_deb(pkg, work / "root")
        except PackageError as e:
            skip(str(e))
            return None
        libs = sorted((work / "root").glob(f"usr/lib/*/{LIBRARY}")) + sorted((work / "root").glob(f"usr/lib/{LIBRARY}"))
        if not libs:
            skip(f"{PACKAGE} {version} holds no {LIBRARY}")
            return None
        lib = libs[0].resolve()  # the versioned file the link points to
        if not _loads(lib):
            skip(f"{PACKAGE} {version}'s {LIBRARY} does not load here")
            return None
        dest.parent.mkdir(parents=True, exist_ok=True)
        staged = Path(tempfile.mkdtemp(prefix=".sclap-allocator-", dir=dest.parent))  # same file system: renamed whole
        try:
            staged.chmod(0o755)
            shutil.copy2(lib, staged / LIBRARY)
            copyright_file = work / "root" / "usr" / "share" / "doc" / PACKAGE / "copyright"
            if copyright_file.is_file():
                shutil.copy2(copyright_file, staged / "copyright")
            record = {"package": PACKAGE, "version": version, "source": "gperftools (https://github.com/gperftools/gperftools)",
                      "licence": "BSD-3-Clause", "file": LIBRARY, "from": str(lib.relative_to(work / "root")),
                      "sha256": hashlib.sha256((staged / LIBRARY).read_bytes()).hexdigest()}  # fmt: skip
            (staged / "ALLOCATOR.json").write_text(json.dumps(record, indent=1) + "\n")
            if dest.exists():  # an incomplete earlier install (no ALLOCATOR.json): only this module writes there
                shutil.rmtree(dest)
            os.replace(staged, dest)
        finally:
            shutil.rmtree(staged, ignore_errors=True)  # gone already when it was renamed
        kernelspec_preload(prefix, (dest / LIBRARY).resolve())
        if not quiet:
            print(f"allocator: {dest / LIBRARY} ({PACKAGE} {version})", file=sys.stderr)
        return (dest / LIBRARY).resolve()
    finally:
        shutil.rmtree(work, ignore_errors=True)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m sclap_nb.allocator", description=__doc__.split("\n\n")[0])
    sub = p.add_subparsers(dest="cmd", required=True)
    i = sub.add_parser("install", help="fetch Debian's libtcmalloc-minimal4 into the environment (skips with a message where it cannot)")
    i.add_argument("--deb", help="read this .deb instead of downloading one")
    sub.add_parser("path", help="print the installed library's path (nothing when none is installed or SCLAP_ALLOCATOR=system)")
    sub.add_parser("check", help="say which allocator this process runs with and which one is installed")
    a = p.parse_args(argv)
    if a.cmd == "install":
        install(deb=a.deb)
    elif a.cmd == "path":
        lib = path()
        if lib is not None:
            print(lib)
    else:
        print(f"in use: {in_use()}; installed: {path() or 'none'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""sclap_nb.allocator: tcmalloc found, preloaded and recorded, refused cleanly where it cannot be had, and the
same numbers with it as without."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from sclap_nb import allocator

ROOT = Path(__file__).resolve().parents[1]

# one training step of the specification's model at its full size on 4 s clips (activations above glibc's
# mmap threshold), bf16 autocast where the CPU has it as in training; prints the allocator in use and a
# digest of the loss and every gradient, bit for bit
STEP = r"""
import hashlib, sys, torch, torch.nn.functional as F
from sclap_nb.allocator import in_use
from sclap_nb.config import ModelConfig
from sclap_nb.losses import total_loss
from sclap_nb.model import SpatialTemporalCLAP
from sclap_nb.training import cpu_has_native_bf16
torch.set_num_threads(2)
torch.manual_seed(0)
model = SpatialTemporalCLAP(ModelConfig()).train()
g = torch.Generator().manual_seed(1)
batch = {"wave": 0.1 * torch.randn(6, 4, 64000, generator=g),
         "text_comb": ["a violin plays on the left, then a drum rolls behind", "a drum rolls behind, then a violin plays on the left",
                       "a violin plays on the right, then a drum rolls in front"] * 2,
         "text": ["a violin plays, then a drum rolls", "a drum rolls, then a violin plays", "a violin plays, then a drum rolls"] * 2,
         "doa": F.normalize(torch.randn(6, 2, 3, generator=g), dim=-1), "group_size": 3}
with torch.autocast("cpu", dtype=torch.bfloat16, enabled=cpu_has_native_bf16()):
    out = model(batch)
    loss = total_loss(out, batch, epoch=5)["total"]
loss.backward()
h = hashlib.sha256(loss.detach().float().numpy().tobytes())
for _, p in sorted(model.named_parameters()):
    if p.grad is not None:
        h.update(p.grad.float().numpy().tobytes())
print(in_use(), h.hexdigest(), float(loss))
"""


def _installed() -> Path:
    lib = allocator.path()
    if lib is None:
        if os.environ.get("CI"):
            pytest.fail("make setup did not install tcmalloc (python -m sclap_nb.allocator install says why)")
        pytest.skip("tcmalloc is not installed here (python -m sclap_nb.allocator install)")
    return lib


def _env(preload: bool) -> dict:
    env = {k: v for k, v in os.environ.items() if k not in ("LD_PRELOAD", "SCLAP_ALLOCATOR", "SCLAP_ALLOCATOR_REEXEC")}
    return allocator.environ(env) if preload else env


def test_path_is_none_when_not_installed_or_turned_off(tmp_path, monkeypatch):
    monkeypatch.delenv("SCLAP_ALLOCATOR", raising=False)
    assert allocator.path(tmp_path) is None
    lib = allocator.allocator_dir(tmp_path) / allocator.LIBRARY
    lib.parent.mkdir(parents=True)
    lib.write_bytes(b"stand-in")
    assert allocator.path(tmp_path) == lib.resolve()
    monkeypatch.setenv("SCLAP_ALLOCATOR", "system")
    assert allocator.path(tmp_path) is None
    assert "LD_PRELOAD" not in allocator.environ({"PATH": "/bin"}, prefix=tmp_path)


def test_environ_puts_the_library_first_once(tmp_path, monkeypatch):
    monkeypatch.delenv("SCLAP_ALLOCATOR", raising=False)
    lib = allocator.allocator_dir(tmp_path) / allocator.LIBRARY
    lib.parent.mkdir(parents=True)
    lib.write_bytes(b"stand-in")
    env = allocator.environ({"LD_PRELOAD": "/opt/other.so"}, prefix=tmp_path)
    assert env["LD_PRELOAD"].split() == [str(lib.resolve()), "/opt/other.so"]
    assert allocator.environ(env, prefix=tmp_path)["LD_PRELOAD"] == env["LD_PRELOAD"]


def test_kernelspec_names_the_library_and_keeps_the_rest(tmp_path, monkeypatch):
    import json

    monkeypatch.delenv("SCLAP_ALLOCATOR", raising=False)
    assert allocator.kernelspec_preload(tmp_path) is None  # no library, no kernelspec
    lib = allocator.allocator_dir(tmp_path) / allocator.LIBRARY
    lib.parent.mkdir(parents=True)
    lib.write_bytes(b"stand-in")
    assert allocator.kernelspec_preload(tmp_path) is None  # no kernelspec
    spec_file = tmp_path / "share" / "jupyter" / "kernels" / "python3" / "kernel.json"
    spec_file.parent.mkdir(parents=True)
    spec = {"argv": ["python", "-m", "ipykernel_launcher", "-f", "{connection_file}"], "language": "python",
            "env": {"OTHER": "1"}}  # fmt: skip
    spec_file.write_text(json.dumps(spec))
    assert allocator.kernelspec_preload(tmp_path) == spec_file
    got = json.loads(spec_file.read_text())
    assert got["env"] == {"OTHER": "1", "LD_PRELOAD": str(lib.resolve())} and got["argv"] == spec["argv"]
    spec_file.write_text("{not json")
    assert allocator.kernelspec_preload(tmp_path) is None and spec_file.read_text() == "{not json"


def test_install_from_a_file_that_is_not_a_deb_says_so_and_writes_nothing(tmp_path, capsys):
    bad = tmp_path / "libtcmalloc-minimal4_2.10-1_amd64.deb"
    bad.write_bytes(b"not an archive")
    assert allocator.install(prefix=tmp_path / "env", deb=bad) is None
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "not a readable .deb" in err and str(bad) in err and "system allocator" in err
    assert not (tmp_path / "env").exists()


def test_install_without_apt_get_says_so_and_writes_nothing(tmp_path, monkeypatch, capsys):
    empty = tmp_path / "bin"
    empty.mkdir()
    monkeypatch.setenv("PATH", str(empty))
    assert allocator.install(prefix=tmp_path / "env") is None
    err = capsys.readouterr().err
    assert "apt-get is not installed" in err and "system allocator" in err
    assert not (tmp_path / "env").exists()


def test_installed_library_is_recorded():
    lib = _installed()
    record = (lib.parent / "ALLOCATOR.json").read_text()
    import hashlib
    import json

    facts = json.loads(record)
    assert facts["package"] == allocator.PACKAGE and facts["licence"] == "BSD-3-Clause" and facts["version"]
    assert facts["sha256"] == hashlib.sha256(lib.read_bytes()).hexdigest()
    assert (lib.parent / "copyright").is_file()


@pytest.mark.slow
def test_a_training_step_computes_the_same_bits_with_tcmalloc_as_without():
    _installed()
    runs = {}
    for preload in (False, True):
        r = subprocess.run([sys.executable, "-c", STEP], cwd=ROOT, env=_env(preload), capture_output=True, text=True, timeout=300)
        assert r.returncode == 0, r.stderr[-2000:]
        runs[preload] = r.stdout.split()
    assert runs[False][0] == "system" and runs[True][0] == "tcmalloc"
    assert runs[True][1:] == runs[False][1:]  # the loss and every gradient, bit for bit


@pytest.mark.slow
def test_the_train_command_starts_itself_again_with_tcmalloc_once():
    _installed()
    code = "from sclap_nb.allocator import reexec; reexec('sclap_nb.allocator', ['check']); print('not restarted')"
    r = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=_env(False), capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    assert r.stdout.startswith("in use: tcmalloc") and "not restarted" not in r.stdout
    off = {**_env(False), "SCLAP_ALLOCATOR": "system"}
    r = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=off, capture_output=True, text=True, timeout=120)
    assert r.stdout.strip() == "not restarted"


@pytest.mark.slow
def test_release_freed_memory_hands_tcmallocs_free_pages_back():
    _installed()
    code = r"""
import numpy as np
from sclap_nb.allocator import in_use
from sclap_nb.memory import release_freed_memory
def rss():
    return int(next(l for l in open('/proc/self/status') if l.startswith('VmRSS')).split()[1]) / 2**20
# many 1 MiB blocks (tcmalloc keeps those in its page heap when they are freed), 1 GiB in all
blocks = [np.ones(2**17) for _ in range(1024)]
held = rss()
del blocks
kept = rss()
release_freed_memory()
print(in_use(), held, kept, rss())
"""
    r = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=_env(True), capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    name, held, kept, after = r.stdout.split()
    held, kept, after = float(held), float(kept), float(after)
    assert name == "tcmalloc" and held > 1.0
    assert kept > held - 0.5  # freed, but still the process's: tcmalloc keeps it for reuse
    assert after < kept - 0.8  # handed back

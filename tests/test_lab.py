"""`make lab` serves the notebooks' .py files as notebooks (jupytext's contents manager).

The test starts JupyterLab as `make lab` does, headless: on 127.0.0.1, at a free port, with a token, no
browser, with its user configuration in a temporary folder. It asks the contents API for each chapter's .py
and expects a notebook, then shuts the server down.
"""

from __future__ import annotations

import json
import os
import secrets
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest
import yaml

pytestmark = pytest.mark.slow  # starts a JupyterLab server

REPO = Path(__file__).resolve().parents[1]
LAB_SETTINGS = REPO / "scripts" / "lab-settings"
START_TIMEOUT_S = 90
REQUEST_TIMEOUT_S = 30


def toc_files() -> list[str]:
    toc = yaml.safe_load((REPO / "_toc.yml").read_text(encoding="utf-8"))
    return [toc["root"]] + [entry["file"] for entry in toc.get("chapters", [])]


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Lab:
    def __init__(self, base: str, token: str, proc: subprocess.Popen, log: Path):
        self.base, self.token, self.proc, self.log = base, token, proc, log

    def request(self, path: str, method: str = "GET", timeout: float = REQUEST_TIMEOUT_S):
        req = urllib.request.Request(
            self.base + path, method=method, headers={"Authorization": f"token {self.token}"}
        )
        with urllib.request.urlopen(req, timeout=timeout) as resp:
            body = resp.read()
            return resp.status, (json.loads(body) if body else None)

    def log_tail(self) -> str:
        return self.log.read_text(encoding="utf-8", errors="replace")[-3000:]


@pytest.fixture(scope="module")
def lab(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("lab")
    port, token = _free_port(), secrets.token_hex(16)
    env = dict(os.environ)
    env.update(
        JUPYTER_CONFIG_DIR=str(tmp / "config"),
        JUPYTER_RUNTIME_DIR=str(tmp / "runtime"),
        JUPYTERLAB_SETTINGS_DIR=str(tmp / "user-settings"),
        JUPYTERLAB_WORKSPACES_DIR=str(tmp / "workspaces"),
    )
    cmd = [
        sys.executable, "-m", "jupyterlab",
        "--no-browser",
        "--allow-root",
        "--ServerApp.ip=127.0.0.1",
        f"--ServerApp.port={port}",
        "--ServerApp.port_retries=0",
        f"--IdentityProvider.token={token}",
        f"--ServerApp.root_dir={REPO}",
        f"--LabApp.app_settings_dir={LAB_SETTINGS}",
    ]
    log = tmp / "lab.log"
    with open(log, "wb") as out:
        proc = subprocess.Popen(cmd, cwd=REPO, env=env, stdout=out, stderr=subprocess.STDOUT)
    server = Lab(f"http://127.0.0.1:{port}", token, proc, log)
    try:
        deadline = time.monotonic() + START_TIMEOUT_S
        while True:
            if proc.poll() is not None:
                pytest.fail(f"JupyterLab exited with {proc.returncode}:\n{server.log_tail()}")
            try:
                if server.request("/api/status", timeout=5)[0] == 200:
                    break
            except (urllib.error.URLError, ConnectionError, OSError):
                pass
            if time.monotonic() > deadline:
                pytest.fail(f"JupyterLab did not answer within {START_TIMEOUT_S} s:\n{server.log_tail()}")
            time.sleep(0.5)
        yield server
    finally:
        if proc.poll() is None:
            try:
                server.request("/api/shutdown", method="POST", timeout=10)
            except (urllib.error.URLError, ConnectionError, OSError):
                pass
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                proc.terminate()
                try:
                    proc.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    proc.kill()
                    proc.wait(timeout=10)


CHAPTER_NOTEBOOKS = [Path(doc).name for doc in toc_files() if not (REPO / f"{doc}.md").exists()]


@pytest.mark.parametrize("name", CHAPTER_NOTEBOOKS)
def test_py_opens_as_notebook(lab, name):
    path = f"notebooks/{name}.py"
    assert (REPO / path).exists(), f"{path} is missing"
    status, model = lab.request(f"/api/contents/{path}?content=1")
    assert status == 200
    assert model["type"] == "notebook", f"{path} is served as {model['type']!r}:\n{lab.log_tail()}"
    cells = model["content"]["cells"]
    assert cells, f"{path} opens as an empty notebook"
    ipynb = json.loads((REPO / f"notebooks/{name}.ipynb").read_text(encoding="utf-8"))
    assert len(cells) == len(ipynb["cells"]), "the notebook served for the .py differs from its .ipynb"


def test_py_default_viewer_is_notebook(lab):
    """A double click on a .py in notebooks/ opens it as a notebook, not in the text editor."""
    status, model = lab.request("/lab/api/settings/@jupyterlab/docmanager-extension:plugin")
    assert status == 200
    viewers = model["schema"]["properties"]["defaultViewers"]["default"]
    assert viewers.get("python") == "Jupytext Notebook", viewers


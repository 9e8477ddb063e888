"""`make lab` serves the notebooks' .py files as notebooks, on a machine that has never run JupyterLab.

The test starts JupyterLab with the arguments of the Makefile's `lab` recipe, headless: on 127.0.0.1 at a
free port, with a token, no browser, with a fresh HOME and fresh Jupyter configuration, data, runtime,
settings and workspace folders (nothing of an earlier session can help), serving a copy of the
chapters and figures (the tests write nothing into the checkout), with the kernel of scripts/lab-settings. It asks the contents API for each chapter's .py as
a notebook, saves each one back unchanged and checks that neither file of the pair changed (opening a
chapter must not leave it modified), reads the default viewers, and, where Debian's Chromium is
installed, opens a chapter in JupyterLab's page and checks that it opens as a notebook and is not marked
modified.
"""

from __future__ import annotations

import json
import os
import re
import secrets
import shutil
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest
import yaml

REPO = Path(__file__).resolve().parents[1]
LAB_SETTINGS = REPO / "scripts" / "lab-settings"
START_TIMEOUT_S = 90
REQUEST_TIMEOUT_S = 30
PAGE_TIMEOUT_S = 120

pytestmark = pytest.mark.slow


def toc_files() -> list[str]:
    toc = yaml.safe_load((REPO / "_toc.yml").read_text(encoding="utf-8"))
    return [toc["root"]] + [entry["file"] for entry in toc.get("chapters", [])]


def _lab_recipe() -> str:
    makefile = (REPO / "Makefile").read_text(encoding="utf-8")
    recipe = re.search(r"^lab:.*\n((?:\t.*\n)+)", makefile, flags=re.M)
    assert recipe, "the Makefile has no lab target"
    return recipe.group(1).replace("$(CURDIR)", str(REPO))


def make_lab_arguments() -> list[str]:
    """The ``--Name.trait=value`` arguments of the Makefile's ``lab`` recipe, $(CURDIR) resolved."""
    args = re.findall(r"(--[A-Za-z]+\.[A-Za-z_]+=\S+)", _lab_recipe())
    assert args, f"the lab recipe passes no --Class.trait settings:\n{_lab_recipe()}"
    return args


def make_lab_environment() -> dict[str, str]:
    """The ``NAME=value`` variables the ``lab`` recipe sets for ``jupyter lab``."""
    head = _lab_recipe().split("$(BIN)/jupyter", 1)[0]
    return dict(re.findall(r"([A-Z_]+)=(\S+)", head))


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Lab:
    def __init__(self, base: str, token: str, proc: subprocess.Popen, log: Path, root: Path):
        self.base, self.token, self.proc, self.log, self.root = base, token, proc, log, root

    def request(self, path: str, method: str = "GET", body=None, timeout: float = REQUEST_TIMEOUT_S):
        data = None if body is None else json.dumps(body).encode()
        req = urllib.request.Request(self.base + path, method=method, data=data, headers={
            "Authorization": f"token {self.token}", "Content-Type": "application/json"})
        with urllib.request.urlopen(req, timeout=timeout) as resp:
            payload = resp.read()
            return resp.status, (json.loads(payload) if payload else None)

    def log_tail(self) -> str:
        return self.log.read_text(encoding="utf-8", errors="replace")[-3000:]


def fresh_environment(tmp: Path) -> dict[str, str]:
    """The environment of a user who has never run Jupyter: a new HOME, nothing of Jupyter's set."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("JUPYTER", "JUPYTERLAB", "XDG_"))}
    home = tmp / "home"
    env.update(
        HOME=str(home),
        XDG_CONFIG_HOME=str(home / ".config"),
        XDG_DATA_HOME=str(home / ".local" / "share"),
        XDG_CACHE_HOME=str(home / ".cache"),
        JUPYTER_CONFIG_DIR=str(home / ".jupyter"),
        JUPYTER_DATA_DIR=str(home / ".local" / "share" / "jupyter"),
        JUPYTER_RUNTIME_DIR=str(tmp / "runtime"),
        JUPYTERLAB_SETTINGS_DIR=str(home / ".jupyter" / "lab" / "user-settings"),
        JUPYTERLAB_WORKSPACES_DIR=str(home / ".jupyter" / "lab" / "workspaces"),
    )
    home.mkdir(parents=True)
    return env


@pytest.fixture(scope="module")
def lab(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("lab")
    root = tmp / "repo"
    shutil.copytree(REPO / "notebooks", root / "notebooks", ignore=shutil.ignore_patterns(".*", "__pycache__"))
    shutil.copytree(REPO / "figures", root / "figures")
    shutil.copy2(REPO / "jupytext.toml", root / "jupytext.toml")
    port, token = _free_port(), secrets.token_hex(16)
    settings = [a for a in make_lab_arguments() if not a.startswith("--ServerApp.root_dir=")]
    cmd = [
        sys.executable, "-m", "jupyterlab", *settings,
        "--no-browser",
        "--allow-root",
        "--ServerApp.ip=127.0.0.1",
        f"--ServerApp.port={port}",
        "--ServerApp.port_retries=0",
        f"--IdentityProvider.token={token}",
        f"--ServerApp.root_dir={root}",
    ]
    log = tmp / "lab.log"
    with open(log, "wb") as out:
        env = fresh_environment(tmp) | make_lab_environment()
        proc = subprocess.Popen(cmd, cwd=root, env=env, stdout=out, stderr=subprocess.STDOUT)
    server = Lab(f"http://127.0.0.1:{port}", token, proc, log, root)
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


def test_make_lab_sets_the_viewers_and_the_kernel():
    args = make_lab_arguments()
    assert f"--LabApp.app_settings_dir={LAB_SETTINGS}" in args, args
    assert make_lab_environment().get("JUPYTER_PATH") == str(LAB_SETTINGS)
    spec = json.loads((LAB_SETTINGS / "kernels" / "python3" / "kernel.json").read_text(encoding="utf-8"))
    for name in CHAPTER_NOTEBOOKS:  # the kernel JupyterLab starts has the name the chapters store
        stored = json.loads((REPO / f"notebooks/{name}.ipynb").read_text(encoding="utf-8"))["metadata"]["kernelspec"]
        assert (stored["name"], stored["display_name"]) == ("python3", spec["display_name"]), name


def test_the_kernel_of_make_lab_is_the_one_jupyterlab_uses(lab):
    status, specs = lab.request("/api/kernelspecs")
    assert status == 200 and specs["default"] == "python3"
    assert specs["kernelspecs"]["python3"]["spec"]["display_name"] == "Python 3", specs["kernelspecs"]["python3"]


@pytest.mark.parametrize("name", CHAPTER_NOTEBOOKS)
def test_py_opens_as_notebook(lab, name):
    path = f"notebooks/{name}.py"
    assert (lab.root / path).exists(), f"{path} is missing"
    status, model = lab.request(f"/api/contents/{path}?type=notebook&content=1")
    assert status == 200
    assert model["type"] == "notebook", f"{path} is served as {model['type']!r}:\n{lab.log_tail()}"
    cells = model["content"]["cells"]
    assert cells, f"{path} opens as an empty notebook"
    ipynb = json.loads((lab.root / f"notebooks/{name}.ipynb").read_text(encoding="utf-8"))
    assert len(cells) == len(ipynb["cells"]), "the notebook served for the .py differs from its .ipynb"
    outputs = sum(len(c.get("outputs", [])) for c in cells if c["cell_type"] == "code")
    assert outputs == sum(len(c.get("outputs", [])) for c in ipynb["cells"] if c["cell_type"] == "code"), (
        f"{path} opens without the outputs stored in its .ipynb")


@pytest.mark.parametrize("name", CHAPTER_NOTEBOOKS)
def test_saving_an_unchanged_chapter_changes_neither_file(lab, name):
    """What JupyterLab does on save: the notebook it opened, written back. Both files of the pair stay
    byte for byte as they were, so the metadata and pairing of the two agree."""
    files = [lab.root / f"notebooks/{name}{ext}" for ext in (".py", ".ipynb")]
    before = [f.read_bytes() for f in files]
    _, model = lab.request(f"/api/contents/notebooks/{name}.py?type=notebook&content=1")
    status, _ = lab.request(f"/api/contents/notebooks/{name}.py", method="PUT",
                            body={"type": "notebook", "format": "json", "content": model["content"]})
    assert status == 200
    changed = [f.name for f, b in zip(files, before) if f.read_bytes() != b]
    assert not changed, f"saving {name}.py unchanged rewrote {changed}"


def test_default_viewers(lab):
    """A double click on a .py in notebooks/ opens it as a notebook; on a .md (the introduction, the
    references), the rendered page."""
    status, model = lab.request("/lab/api/settings/@jupyterlab/docmanager-extension:plugin")
    assert status == 200
    viewers = model["schema"]["properties"]["defaultViewers"]["default"]
    assert viewers.get("python") == "Jupytext Notebook", viewers
    assert viewers.get("markdown") == "Markdown Preview", viewers


def _chromium():
    sys.path.insert(0, str(REPO / "scripts"))
    import browser_check

    if not Path(browser_check.CHROMIUM).exists():
        pytest.skip(f"{browser_check.CHROMIUM} is missing (Debian: apt-get install -y chromium)")
    pytest.importorskip("playwright.sync_api")
    return browser_check


def test_a_chapter_opens_as_a_notebook_and_is_not_modified(lab):
    """JupyterLab's own page, in headless Chromium: the chapter's .py opens in a notebook panel with its
    cells, and a few seconds after opening (its kernel started) its tab is not marked modified."""
    browser_check = _chromium()
    from playwright.sync_api import sync_playwright

    name = "04_temporal_chunking"
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=browser_check.CHROMIUM, headless=True,
                                     args=browser_check.CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport=browser_check.VIEWPORT)
            page.set_default_timeout(PAGE_TIMEOUT_S * 1000)
            page.goto(f"{lab.base}/lab/tree/notebooks/{name}.py?token={lab.token}")
            panel = page.locator(".jp-NotebookPanel").first
            panel.wait_for(state="visible")
            page.locator(".jp-NotebookPanel .jp-Cell").first.wait_for(state="visible")
            page.wait_for_function("() => document.querySelectorAll('.jp-NotebookPanel .jp-Cell').length > 10")
            n_cells = page.locator(".jp-NotebookPanel .jp-Cell").count()
            # the kernel starts and reports its name and language, which JupyterLab writes into the notebook
            page.wait_for_function("() => /\\| Idle/.test(document.querySelector('#jp-bottom-panel, .jp-StatusBar-Widget, body').innerText)")
            page.wait_for_timeout(3000)
            tab = page.locator(".lm-TabBar-tab.jp-mod-current", has_text=f"{name}.py").first
            tab.wait_for(state="visible")
            dirty = "jp-mod-dirty" in (tab.get_attribute("class") or "")
        finally:
            browser.close()
    assert n_cells > 10, f"{name}.py opened with {n_cells} cells"
    assert not dirty, f"{name}.py is marked modified as soon as it is opened"

"""Every test that trains, starts a process or a server is marked ``slow``, so ``make test-fast``
(``pytest tests -m "not slow"``) runs no training, notebook, subprocess or server.

``slow_but_unmarked`` reads each test module's source (``ast``, nothing imported) and finds the tests
that reach one of ``SLOW_CALLS`` or ``SLOW_MODULES``, directly, through a function or fixture of their
module, or through a fixture of ``tests/conftest.py``, without a ``slow`` mark on the test, its class or
its module (``pytestmark``).
"""

from __future__ import annotations

import ast
from pathlib import Path

TESTS = Path(__file__).resolve().parent

# calls that train (fit, run: the main job), run a notebook, or start processes or a browser
SLOW_CALLS = {"fit", "run", "Popen", "execute_notebook", "spawn", "start_processes", "check_pages", "sync_playwright",
              "launch"}  # fmt: skip
# modules whose use means a process, a notebook run, a server or a browser
SLOW_MODULES = {"subprocess", "papermill", "playwright", "jupyterlab", "http.server", "socketserver", "multiprocessing",
                "torch.multiprocessing", "nbclient"}  # fmt: skip
# (module, function) that reach a slow call but are not slow, each with why
EXEMPT = {
    ("test_data_safety.py", "_dead_pid"): "starts `true` and waits for it, to get a process id that is surely dead "
                                          "(milliseconds): no job runs",
}  # fmt: skip


def _is_slow_mark(node: ast.AST) -> bool:
    """``pytest.mark.slow`` (or ``mark.slow``) anywhere in ``node``."""
    return any(isinstance(n, ast.Attribute) and n.attr == "slow" for n in ast.walk(node))


def _aliases(tree: ast.Module) -> dict[str, str]:
    """Local name -> module, for the module's imports of the slow modules (``import papermill as pm``)."""
    names = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for a in node.names:
                names[a.asname or a.name.split(".")[0]] = a.name
        elif isinstance(node, ast.ImportFrom) and node.module:
            for a in node.names:
                names[a.asname or a.name] = f"{node.module}.{a.name}"
    return names


def _slow_module(name: str) -> bool:
    return any(name == m or name.startswith(m + ".") for m in SLOW_MODULES)


def _calls(node: ast.AST) -> set[str]:
    return {n.func.attr for n in ast.walk(node) if isinstance(n, ast.Call) and isinstance(n.func, ast.Attribute)}


def _direct(func: ast.AST, aliases: dict[str, str]) -> str | None:
    """What in ``func``'s body is slow by itself (a call of SLOW_CALLS, a use of SLOW_MODULES, a training
    loop: a loop that calls ``.backward()`` and ``.step()``), or None."""
    for node in ast.walk(func):
        if isinstance(node, (ast.For, ast.While)) and {"backward", "step"} <= _calls(node):
            return "a training loop (backward, step)"
        if isinstance(node, ast.Call):
            f = node.func
            name = f.id if isinstance(f, ast.Name) else f.attr if isinstance(f, ast.Attribute) else None
            if name in SLOW_CALLS:
                return f"{name}("
        if isinstance(node, ast.Name) and _slow_module(aliases.get(node.id, "")):
            return aliases[node.id]
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            mods = [a.name for a in node.names] if isinstance(node, ast.Import) else [node.module or ""]
            if any(_slow_module(m) for m in mods):
                return next(m for m in mods if _slow_module(m))
    return None


def _functions(tree: ast.Module) -> dict[str, ast.FunctionDef]:
    """The module's top-level functions and the methods of its top-level classes, by name."""
    out = {}
    for node in tree.body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            out[node.name] = node
        elif isinstance(node, ast.ClassDef):
            for sub in node.body:
                if isinstance(sub, (ast.FunctionDef, ast.AsyncFunctionDef)):
                    out.setdefault(sub.name, sub)
    return out


def _names(func: ast.AST) -> set[str]:
    """The names ``func`` may reach: its arguments (fixtures), the names it uses (functions it calls) and
    its strings (``request.getfixturevalue("corpus")``, ``pytest.mark.usefixtures("corpus")``)."""
    names = set()
    if isinstance(func, (ast.FunctionDef, ast.AsyncFunctionDef)):
        names |= {a.arg for a in func.args.args + func.args.kwonlyargs}
    for node in ast.walk(func):
        if isinstance(node, ast.Name):
            names.add(node.id)
        elif isinstance(node, ast.Constant) and isinstance(node.value, str):
            names.add(node.value)
    return names


def slow_reasons(source: str, module: str = "test_x.py", shared: dict[str, str] | None = None) -> dict[str, str]:
    """Function name -> why it is slow, for every function of ``source`` that reaches a slow call, directly
    or through other functions and fixtures of the module or of ``shared`` (name -> why, e.g. conftest's)."""
    tree = ast.parse(source)
    aliases = _aliases(tree)
    funcs = _functions(tree)
    reasons = dict(shared or {})
    for name, func in funcs.items():
        reasons.pop(name, None)  # a module's own definition overrides a shared fixture of that name
        why = None if (module, name) in EXEMPT else _direct(func, aliases)
        if why:
            reasons[name] = why
    names = {name: _names(func) - {name} for name, func in funcs.items()}
    changed = True
    while changed:
        changed = False
        for name in funcs:
            if name in reasons or (module, name) in EXEMPT:
                continue
            via = sorted(names[name] & set(reasons))
            if via:
                reasons[name] = f"{via[0]} -> {reasons[via[0]]}"
                changed = True
    return reasons


def unmarked(source: str, module: str = "test_x.py", shared: dict[str, str] | None = None) -> list[str]:
    """'module::test: why' for each slow test of ``source`` that has no slow mark."""
    tree = ast.parse(source)
    if any(isinstance(n, ast.Assign) and any(getattr(t, "id", None) == "pytestmark" for t in n.targets)
           and _is_slow_mark(n.value) for n in tree.body):  # fmt: skip
        return []
    reasons = slow_reasons(source, module, shared)
    bad = []
    for node in tree.body:
        scopes = [(node, [])] if not isinstance(node, ast.ClassDef) else [
            (sub, node.decorator_list + [b for b in node.body if isinstance(b, ast.Assign)]) for sub in node.body]
        for func, outer in scopes:
            if not isinstance(func, (ast.FunctionDef, ast.AsyncFunctionDef)) or not func.name.startswith("test"):
                continue
            if func.name in reasons and not any(_is_slow_mark(d) for d in func.decorator_list + outer):
                bad.append(f"{module}::{func.name}: {reasons[func.name]}")
    return bad


def conftest_fixtures() -> dict[str, str]:
    source = (TESTS / "conftest.py").read_text(encoding="utf-8")
    return slow_reasons(source, "conftest.py")


def test_every_slow_test_is_marked():
    shared = conftest_fixtures()
    bad = []
    for path in sorted(TESTS.glob("test_*.py")):
        bad += unmarked(path.read_text(encoding="utf-8"), path.name, shared)
    assert not bad, "tests that train or start a process or server without @pytest.mark.slow:\n" + "\n".join(bad)


def test_the_marker_check_finds_an_unmarked_training_test():
    source = '''
import pytest
import papermill as pm
from sclap_nb.train import fit

@pytest.fixture
def trained(tmp_path):
    return fit(cfg, dm)

def _helper():
    pm.execute_notebook("a.ipynb", "b.ipynb")

def test_fast():
    assert 1 + 1 == 2

def test_trains(tmp_path):
    fit(cfg, dm)

def test_one_step():
    loss.backward()
    opt.step()

def test_a_training_loop():
    for _ in range(15):
        loss.backward()
        opt.step()

@pytest.mark.slow
def test_trains_marked():
    fit(cfg, dm)

def test_through_a_fixture(trained):
    assert trained

def test_through_a_helper():
    _helper()

def test_through_a_shared_fixture(tiny_run):
    assert tiny_run

def test_starts_a_server():
    import http.server

class TestGroup:
    def test_in_a_class(self):
        import subprocess
'''
    bad = unmarked(source, "test_x.py", shared={"tiny_run": "fit("})
    assert [b.split(": ")[0] for b in bad] == [
        "test_x.py::test_trains", "test_x.py::test_a_training_loop", "test_x.py::test_through_a_fixture", "test_x.py::test_through_a_helper",
        "test_x.py::test_through_a_shared_fixture", "test_x.py::test_starts_a_server", "test_x.py::test_in_a_class"]
    assert unmarked("import pytest\npytestmark = pytest.mark.slow\n" + source, "test_x.py") == []

"""The configuration tree and the package's structure: every setting defined once, the command line
generated from the tree and read back, no import loops, one sector rule, and ``python -m sclap_nb.evaluate``."""

from __future__ import annotations

import ast
import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch
from conftest import TINY_MODEL

from sclap_nb.config import PRESETS, ConfigError, RunConfig, leaves, migrate_run_json, preset
from sclap_nb.run import load_config, main

ROOT = Path(__file__).resolve().parents[1]
PKG = ROOT / "sclap_nb"
SETTINGS = {name.rsplit(".", 1)[1] for name, *_ in leaves()}


# --------------------------------------------------------------------------- one tree


def test_every_setting_has_a_type_a_default_and_a_help_line():
    for name, tp, default, help_text, meta in leaves():
        assert help_text and "\n" not in help_text and len(help_text) > 10, name
        assert tp is not None, name
    # word choices are Literal types: the command line and the checks know the words
    assert "Literal" in str(dict((n, t) for n, t, *_ in leaves())["model.temporal_readout"])


def test_presets_differ_from_the_default_only_where_they_say():
    default = RunConfig().flat()
    for name, changes in PRESETS.items():
        flat = preset(name).flat()
        differ = {k for k in flat if flat[k] != default[k]}
        said = {k for k, v in changes.items() if default[k] != (list(v) if isinstance(v, tuple) else v)}
        assert differ == said, name
    spec = preset("specification")
    assert spec.loss.weights == (1.0, 0.5, 0.2, 0.2) and spec.loss.negatives == ("neg_t", "neg_s")
    assert spec.model.temporal_readout == "mean" and not spec.model.temporal_token_norm


def _differs_from_kept_run(name: str, run: str) -> list:
    """The settings that decide a run (all but the seed, threads and output folder) where preset ``name``
    differs from the kept ``results/<run>/run.json``: ``(setting, kept, preset)``."""
    study = migrate_run_json(json.loads((ROOT / "results" / run / "run.json").read_text())).identity()
    mine = preset(name).identity()
    skip = {"runtime.seed", "runtime.num_threads", "runtime.out_dir"}
    return [(k, study.get(k), mine.get(k)) for k in sorted(set(study) | set(mine)) if k not in skip and study.get(k) != mine.get(k)]


def test_the_timed_preset_is_the_paths_studys_configuration_P():
    """`--preset timed` trains what results/paths_study measured as P."""
    assert not _differs_from_kept_run("timed", "paths_study/runs/P_s2025_t2")
    assert _differs_from_kept_run("default", "paths_study/runs/P_s2025_t2")  # the check can fail


def test_the_main_preset_is_the_library_studys_configuration_ML():
    """`make train` (the `main` preset) trains what results/library_study measured as ML: M of results/main_study
    with the library's sounds and the class term, its CNNs in the channels-last memory layout (the same model:
    test_model); the halves layout is `default`."""
    assert _differs_from_kept_run("main", "library_study/runs/ML_s2025_t2") == [("model.channels_last", False, True)]
    assert [k for k, *_ in _differs_from_kept_run("main", "main_study/runs/M_s2025_t2")] == [
        "data.sounds", "loss.w_class", "model.channels_last"]  # fmt: skip
    assert [k for k, *_ in _differs_from_kept_run("timed", "main_study/runs/M_s2025_t2")] == ["optim.epochs"]
    assert preset("main").data.layout == "timed" and preset("default").data.layout == "spill"
    makefile = (ROOT / "Makefile").read_text()
    assert "PRESET  ?= main" in makefile and "-p preset $(PRESET)" in makefile


@pytest.mark.slow  # starts make
def test_make_train_builds_the_library_first_for_the_main_preset_only():
    """The main job's corpus needs the library: `make train` builds it where it is missing; PRESET=default does not."""

    def dry_run(*args):
        res = subprocess.run(["make", "-n", "train", "LIBRARY=/nonexistent/manifest.csv", *args], cwd=ROOT,
                             capture_output=True, text=True, timeout=60)  # fmt: skip
        assert res.returncode == 0, res.stderr
        return res.stdout

    assert "sclap_nb.data.library build" in dry_run() and "-p preset main" in dry_run()
    assert "sclap_nb.data.library build" not in dry_run("PRESET=default")


def test_the_main_jobs_published_run_has_the_timed_and_heldout_figures():
    """results/train (what `make train` wrote, published) holds the timed tests, the reference scorers of
    the timed tests and the figures on the library's held-out packages (>= 30 classes never heard)."""
    m = json.loads((ROOT / "results" / "train" / "metrics.json").read_text())
    run_cfg = migrate_run_json(json.loads((ROOT / "results" / "train" / "run.json").read_text()))
    assert run_cfg.data.sounds == "mixed" and not _differs_from_kept_run("main", "train")
    for key in ("joint/motion_acc", "triplet/motion_acc", "triplet/order_acc", "heldout/triplet/t2a/R@1",
                "heldout/triplet/zero_shot_acc", "heldout/sed/zero_shot_acc", "library/triplet/zero_shot_acc"):
        assert 0.0 <= m[key] <= 1.0, key
    assert m["heldout/zero_shot_classes"] >= 30 and m["heldout/zero_shot_chance"] == 1 / m["heldout/zero_shot_classes"]
    for scorer in ("direction_only", "order_blind", "sound_order", "motion_blind"):
        assert f"reference/{scorer}/motion_acc" in m, scorer


def _literal_defaults(tree: ast.AST, path: Path):
    """``(where, setting)`` for each literal default of a parameter or dataclass field named like a setting."""
    for node in ast.walk(tree):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            a = node.args
            pos = a.posonlyargs + a.args
            pairs = list(zip(pos[len(pos) - len(a.defaults):], a.defaults)) + list(zip(a.kwonlyargs, a.kw_defaults))
            for arg, d in pairs:
                literal = isinstance(d, (ast.Constant, ast.Tuple)) and not (isinstance(d, ast.Constant) and d.value is None)
                if d is not None and arg.arg in SETTINGS and literal:
                    yield f"{path.relative_to(ROOT)}:{node.name}", arg.arg
        elif isinstance(node, ast.ClassDef):
            for st in node.body:
                if isinstance(st, ast.AnnAssign) and isinstance(st.target, ast.Name) and st.target.id in SETTINGS and st.value:
                    yield f"{path.relative_to(ROOT)}:{node.name}", st.target.id


# parameters named like a setting that are another thing (each with why)
NOT_THE_SETTING = {
    ("sclap_nb/api.py:embed_audio", "batch_size"): "clips per forward pass of inference (memory only)",
    ("sclap_nb/evaluate.py:evaluate_corpus", "batch_size"): "scenes per forward pass of evaluation (memory only)",
    ("sclap_nb/evaluate.py:evaluate_model", "batch_size"): "scenes per forward pass of evaluation (memory only)",
    ("sclap_nb/heldout.py:classification_metrics", "batch_size"): "clips per forward pass of evaluation (memory only)",
    ("sclap_nb/data/dataset.py:feature_cache", "batch_size"): "clips per feature computation (memory only)",
    ("sclap_nb/reference.py:half_azimuths", "batch_size"): "clips per feature computation (memory only)",
    ("sclap_nb/reference.py:segment_azimuths", "batch_size"): "clips per feature computation (memory only)",
    ("sclap_nb/metrics.py:modality_gap", "seed"): "the probe's cross-validation folds, not the run's seed",
    ("sclap_nb/report.py:permutation_p", "seed"): "the permutation test's draws, not the run's seed",
    ("sclap_nb/data/library.py:assign_splits", "seed"): "the sound library's split of packages",
    ("sclap_nb/data/library.py:build_library", "seed"): "the sound library's split of packages",
    ("sclap_nb/data/library.py:Sound", "sample_rate"): "a recording's own rate, read from the file",
}


def test_each_setting_is_defined_once_in_the_package():
    """A setting's default lives in sclap_nb/config.py only: a literal default for a parameter or field
    of the same name anywhere else is a second definition that can drift (read it from the tree:
    ``DataConfig.clip_seconds``)."""
    found = []
    for path in sorted(PKG.rglob("*.py")):
        if path.name == "config.py":
            continue
        found += [k for k in _literal_defaults(ast.parse(path.read_text()), path) if k not in NOT_THE_SETTING]
    assert not found, found


def test_the_check_for_stray_defaults_can_fail(tmp_path):
    stray = ROOT / "sclap_nb" / "_probe.py"  # a path inside the package, parsed but never written
    tree = ast.parse("def build(n_train, clip_seconds: float = 2.0, layout='spill', other=3):\n    pass\n")
    assert sorted(s for _, s in _literal_defaults(tree, stray)) == ["clip_seconds", "layout"]


def test_print_config_reads_back_to_the_same_run(tmp_path, capsys):
    with pytest.raises(SystemExit) as done:
        main(["--preset", "specification", "--optim.epochs", "3", "--model.features.n_mels", "32", "--print_config"])
    assert done.value.code == 0
    text = capsys.readouterr().out
    assert text.count("\n  epochs:") == 1 and text.startswith("preset: specification\n")  # one YAML of the whole tree
    (tmp_path / "run.yaml").write_text(text)
    cfg, _ = load_config(["--config", str(tmp_path / "run.yaml")])
    want = preset("specification", {"optim.epochs": 3, "model.features.n_mels": 32})
    assert cfg == want
    # flags after the file win; a bad value is refused by name
    cfg, _ = load_config(["--config", str(tmp_path / "run.yaml"), "--loss.ts_ramp", "0"])
    assert cfg.loss.ts_ramp == 0 and cfg.optim.epochs == 3
    with pytest.raises(ConfigError, match="w_sem"):
        load_config(["--loss.weights", "[1, 2, 1, 0.2]"])
    # a check across parts: the temporal group term needs the temporal path
    with pytest.raises(ConfigError, match="w_temporal_group.*use_temporal"):
        load_config(["--loss.w_temporal_group", "1", "--model.use_temporal", "false"])
    assert load_config(["--loss.w_temporal_group", "1"])[0].loss.w_temporal_group == 1.0


def test_run_json_holds_the_tree_and_reads_back(tmp_path):
    from sclap_nb.run import prepare_out_dir

    cfg = preset("quick", {"runtime.out_dir": str(tmp_path / "run"), "loss.grl_schedule": "dann"})
    out = prepare_out_dir(cfg, tmp_path)
    stored = json.loads((out / "run.json").read_text())
    assert set(stored) == {"data", "model", "loss", "optim", "runtime"} and "extra" not in json.dumps(stored)
    assert migrate_run_json(stored) == cfg


# --------------------------------------------------------------------------- one room per job, no loops


def _module(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _imports():
    """``(module-level graph, function-level imports)`` of the package's own modules."""
    mods = {_module(p): p for p in PKG.rglob("*.py")}
    graph, local = {}, []
    for mod, path in mods.items():
        is_pkg = path.name == "__init__.py"
        deps = set()

        def visit(node, depth, in_main):
            for child in ast.iter_child_nodes(node):
                main = in_main or (isinstance(child, ast.If) and "__main__" in ast.dump(child.test))
                if isinstance(child, ast.ImportFrom) and child.level:
                    base = mod.split(".") if is_pkg else mod.split(".")[:-1]
                    base = base[: len(base) - (child.level - 1)]
                    target = ".".join(base + ([child.module] if child.module else []))
                    names = {target, *(f"{target}.{a.name}" for a in child.names)}
                elif isinstance(child, ast.ImportFrom):
                    names = {child.module or "", *(f"{child.module}.{a.name}" for a in child.names)}
                elif isinstance(child, ast.Import):
                    names = {a.name for a in child.names}
                else:
                    names = set()
                targets = {n for n in names if n in mods and n != mod}
                if targets and (depth or main):
                    local.append((mod, child.lineno, tuple(sorted(targets))))
                elif targets:
                    for t in targets:  # importing a.b.c runs the packages a and a.b first
                        parts = t.split(".")
                        deps.update(".".join(parts[:i]) for i in range(2, len(parts) + 1))
                inner = isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef))
                visit(child, depth + inner, main)

        visit(ast.parse(path.read_text()), 0, False)
        graph[mod] = {d for d in deps if d in mods and d != mod and not mod.startswith(d + ".")}
    return graph, local


def _cycles(graph):
    found, state = [], {}

    def dfs(u, stack):
        state[u] = 1
        stack.append(u)
        for v in sorted(graph.get(u, ())):
            if state.get(v) == 1:
                found.append(stack[stack.index(v):] + [v])
            elif not state.get(v):
                dfs(v, stack)
        stack.pop()
        state[u] = 2

    for u in sorted(graph):
        if not state.get(u):
            dfs(u, [])
    return found


# a package module imported inside a function, on purpose: (module, imported) -> why
DEFERRED = {
    ("sclap_nb.results", ("sclap_nb.viz",)): "matplotlib, only for a run's log; reading metrics needs none",
    ("sclap_nb.data", ("sclap_nb.data.datamodule",)): "Lightning, which inference does not load",
    ("sclap_nb.allocator", ("sclap_nb.data.library",)): "numpy and torch (through sclap_nb.data), which must not load "
                                                         "before python -m sclap_nb.train starts itself again",
}


def test_no_import_loops_in_the_package():
    graph, _ = _imports()
    assert not _cycles(graph), _cycles(graph)
    assert _cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}})  # the check finds a loop where there is one


def test_no_function_local_imports_of_the_package_but_the_deferred_ones():
    _, local = _imports()
    stray = [(m, line, t) for m, line, t in local if (m, t) not in DEFERRED]
    assert not stray, stray


@pytest.mark.slow
def test_inference_and_evaluation_do_not_import_lightning():
    code = ("import sys, sclap_nb.api, sclap_nb.evaluate, sclap_nb.search, sclap_nb.embed; "
            "bad = sorted(m for m in sys.modules if m.split('.')[0] == 'lightning' or m in "
            "('sclap_nb.training', 'sclap_nb.run', 'sclap_nb.train')); print(bad); sys.exit(1 if bad else 0)")  # fmt: skip
    res = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300, cwd=ROOT)
    assert res.returncode == 0, res.stdout + res.stderr[-2000:]


# --------------------------------------------------------------------------- one sector rule


def test_sector_of_gives_one_answer_at_the_boundaries_everywhere():
    from sclap_nb.data.spatial import azimuth_of, sector_of
    from sclap_nb.evaluation import evaluation_metrics  # noqa: F401 (uses the same function)

    az = [22.5, -22.5, 157.5, 180.0, -180.0, 67.5]
    want = [1, 0, 4, 4, 4, 2]
    assert [sector_of(a) for a in az] == want
    assert sector_of(np.array(az)).tolist() == want
    assert sector_of(torch.tensor(az)).tolist() == want
    rad = np.deg2rad(az)
    vectors = np.stack([np.cos(rad), np.sin(rad), np.zeros_like(rad)], -1)
    assert sector_of(azimuth_of(vectors)).tolist() == want
    assert sector_of(azimuth_of(torch.tensor(vectors, dtype=torch.float32))).tolist() == want
    # and there is one definition of it in the package
    defs = [p for p in PKG.rglob("*.py") if "def sector_of(" in p.read_text()]
    assert defs == [PKG / "data" / "spatial.py"], defs


# --------------------------------------------------------------------------- python -m sclap_nb.evaluate


@pytest.fixture(scope="module")
def tiny_export(tmp_path_factory):
    from sclap_nb.config import ModelConfig
    from sclap_nb.export import export_model
    from sclap_nb.model import SpatialTemporalCLAP

    torch.manual_seed(0)
    model = SpatialTemporalCLAP(ModelConfig.from_dict(TINY_MODEL)).eval()
    return export_model(model, tmp_path_factory.mktemp("export") / "model", clip_seconds=2.0)


def test_evaluate_prints_and_writes_every_metric(tiny_export, tiny_corpus, tmp_path, capsys):
    from sclap_nb.evaluate import main as evaluate_main

    out = tmp_path / "m.json"
    assert evaluate_main([str(tiny_export), str(tiny_corpus), "--out", str(out)]) == 0
    metrics = json.loads(out.read_text())
    for key in ("joint/t2a/R@1", "triplet/t2a/R@1", "triplet/order_acc", "triplet/place_acc", "joint/3way_temporal",
                "LE_deg", "joint/zeroshot_direction", "reference/direction_only/order_acc",
                "reference/sound_order/order_acc"):  # fmt: skip
        assert key in metrics and key in capsys.readouterr().out + json.dumps(metrics), key
    assert metrics["split"] == "test" and metrics["roles"] == ["pos", "neg_t", "neg_s", "neg_c"]
    assert 0.0 <= metrics["triplet/order_acc"] <= 1.0 and 0.0 <= metrics["LE_deg"] <= 180.0
    # an existing file is not overwritten; a directory that is not a corpus is one line
    before = out.read_text()
    assert evaluate_main([str(tiny_export), str(tiny_corpus), "--out", str(out)]) == 2
    assert out.read_text() == before
    assert evaluate_main([str(tiny_export), str(tmp_path), "--out", str(tmp_path / "x.json")]) == 2
    err = capsys.readouterr().err
    assert "no metadata/test.csv" in err and "Traceback" not in err

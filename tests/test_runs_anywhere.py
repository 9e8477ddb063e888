"""Runs anywhere: notebook numbers compared at their tolerance, no user file deleted or overwritten,
every parameter checked where it enters, logged tensors on the module's device, resumable checkpoints."""

from __future__ import annotations

import copy
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest
import torch

from sclap_nb.nbval_records import compare_records, output_records
from sclap_nb.notebook import choose, figures_dir
from conftest import tiny_config

from sclap_nb.config import QUICK, ConfigError, RunConfig, preset
from sclap_nb.run import RunDirError, prepare_out_dir

ROOT = Path(__file__).resolve().parents[1]


# --------------------------------------------------------------------------- recorded numbers


def _rec(name, value, tol=0.05):
    return {"name": name, "value": value, "tol": tol, "why": ""}


def test_recorded_numbers_within_tolerance_pass():
    assert compare_records([_rec("a", 0.81), _rec("m", [[0.1, 0.2]], 0.1)], [_rec("a", 0.84), _rec("m", [[0.15, 0.29]])]) == []


def test_recorded_number_beyond_tolerance_fails_with_its_name():
    problems = compare_records([_rec("probe", 0.81, 0.02)], [_rec("probe", 0.84)])
    assert len(problems) == 1 and "'probe'" in problems[0] and "0.02" in problems[0]


@pytest.mark.parametrize(
    "fresh",
    [[_rec("b", 0.5)], [], [_rec("a", float("nan"))], [_rec("a", [0.5, 0.5])], [_rec("a", 0.5), _rec("b", 0.5)]],
    ids=["renamed", "missing", "nan", "shape", "extra"],
)
def test_recorded_numbers_that_do_not_match_fail(fresh):
    assert compare_records([_rec("a", 0.5)], fresh)


def test_every_stored_chapter_records_its_training_numbers():
    """The chapters that train show the numbers of training through record(), each with a tolerance."""
    for name in ("04_temporal_chunking", "05_grl", "06_three_way_loss", "09_modality_gap", "10_train"):
        nb = nbformat.read(ROOT / "notebooks" / f"{name}.ipynb", as_version=4)
        recs = [r for c in nb.cells if c.cell_type == "code" for o in c.get("outputs", []) for r in output_records(o)]
        assert len(recs) >= 3, name
        assert all(r["tol"] >= 0 and r["name"] for r in recs), name


def _plant(nb_path: Path, dest: Path, name: str) -> float:
    """Copy a stored chapter to ``dest`` with recorded number ``name`` moved by twice its tolerance."""
    nb = nbformat.read(nb_path, as_version=4)
    moved = None
    for cell in nb.cells:
        for out in cell.get("outputs", []):
            for rec in output_records(out):
                if rec["name"] == name:
                    rec["value"] = rec["value"] + 2 * rec["tol"] + 0.01
                    moved = rec["value"]
    assert moved is not None, f"{name} not recorded in {nb_path}"
    nbformat.write(nb, dest)
    return moved


@pytest.mark.slow
def test_planted_drift_fails_the_notebook_test(tmp_path):
    """A stored number moved beyond its tolerance fails nbval, naming it; every other cell still passes."""
    nbdir = tmp_path / "notebooks"
    nbdir.mkdir()
    target = nbdir / "06_three_way_loss.ipynb"
    _plant(ROOT / "notebooks" / "06_three_way_loss.ipynb", target, "hard_margin")
    env = {**os.environ, "SCLAP_FIGURES_DIR": str(tmp_path / "figures")}
    res = subprocess.run(
        [sys.executable, "-m", "pytest", str(target), "--nbval", "--nbval-current-env", "-p", "sclap_nb.nbval_records",
         "--nbval-sanitize-with", str(ROOT / "nbval.cfg"), "-q", "-p", "no:cacheprovider", "--rootdir", str(tmp_path)],
        cwd=tmp_path, env=env, capture_output=True, text=True, timeout=600,
    )
    out = res.stdout + res.stderr
    assert res.returncode == 1, out[-3000:]
    assert "recorded number 'hard_margin'" in out, out[-3000:]
    assert "1 failed" in out, out[-3000:]


# --------------------------------------------------------------------------- user files


def test_quick_preset_only_fills_what_the_user_did_not_set():
    cfg = preset("quick", {"optim.epochs": 7, "runtime.out_dir": "somewhere"})
    assert cfg.optim.epochs == 7 and cfg.runtime.out_dir == "somewhere"
    assert cfg.data.n_train == QUICK["data.n_train"] and cfg.model.dim == QUICK["model.dim"]
    assert preset("default").optim.epochs == RunConfig().optim.epochs
    assert choose(True, (None, 5), quick=(1, 2), full=(3, 4)) == (1, 5)
    assert choose(False, (None, None), quick=(1, 2), full=(3, 4)) == (3, 4)


def test_unknown_setting_is_refused():
    with pytest.raises(ConfigError, match="unknown setting 'optim.epoch': optim has .*epochs"):
        preset("default", {"optim.epoch": 3})
    with pytest.raises(ConfigError, match="unknown preset"):
        preset("fastest")


def test_quick_setting_without_out_dir_gets_a_new_directory(tmp_path):
    cfg = preset("quick")
    a, b = prepare_out_dir(cfg, tmp_path, temporary=True), prepare_out_dir(cfg, tmp_path, temporary=True)
    try:
        assert a != b and a.is_dir() and b.is_dir() and not (tmp_path / "runs").exists()
    finally:
        shutil.rmtree(a), shutil.rmtree(b)


@pytest.mark.slow
def test_a_temporary_quick_run_keeps_its_export_and_drops_its_checkpoints(tiny_corpus, tmp_path, monkeypatch):
    """Repeated smoke runs (the training chapter's quick setting) must not fill the disk with checkpoints."""
    import tempfile

    from sclap_nb.api import load
    from sclap_nb.run import run

    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))  # where mkdtemp puts the run
    cfg = tiny_config("quick", {"data.data_dir": str(tiny_corpus), "optim.epochs": 1, "optim.batch_size": 2})
    metrics = run(cfg, tmp_path, temporary=True)
    out = Path(metrics["out_dir"])
    assert out.parent == tmp_path and out.name.startswith("sclap-train-quick-")
    assert (out / "metrics.json").is_file() and (out / "run.json").is_file()
    assert not (out / "checkpoints").exists() and not (tmp_path / "runs").exists()
    assert load(out / "model") is not None  # the best checkpoint's export stays
    import resource

    own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20  # this test process's peak so far (GiB, Linux)
    assert 0.1 < metrics["peak_rss_gib"] <= own + 1e-6  # the run's peak, recorded: at most the process's peak since


@pytest.mark.slow
def test_the_chapters_small_runs_leave_no_checkpoints_and_remove_their_log_at_exit(tiny_corpus, monkeypatch):
    import atexit

    from sclap_nb.data.datamodule import StClothoDataModule
    from sclap_nb.run import small_run

    registered = []
    monkeypatch.setattr(atexit, "register", lambda fn, *args, **kw: registered.append((fn, args, kw)))
    cfg = tiny_config(**{"optim.epochs": 1, "optim.batch_size": 2, "runtime.seed": 7})
    dm = StClothoDataModule(tiny_corpus, batch_size=2, features=cfg.model.features, cache_dir=tiny_corpus / "cache", seed=7)
    dm.setup("fit")
    module, trainer = small_run(cfg, dm)
    log_dir = Path(trainer.logger.save_dir)
    assert trainer.global_step > 0 and (log_dir / "logs").is_dir()
    assert not list(log_dir.rglob("*.ckpt"))
    [(fn, args, kw)] = registered
    fn(*args, **kw)  # what happens when the kernel exits
    assert not log_dir.exists()


def test_finished_run_of_other_settings_is_refused_and_left_alone(tmp_path):
    out = tmp_path / "runs" / "train"
    first = preset("default", {"runtime.out_dir": str(out)})
    assert prepare_out_dir(first, tmp_path) == out
    (out / "metrics.json").write_text('{"joint/t2a/R@1": 0.66}')
    before = {p: p.read_bytes() for p in out.rglob("*") if p.is_file()}
    with pytest.raises(RunDirError, match=r"runs/train holds a run with other settings \(.*data.n_train: 512 there, 12 asked"):
        prepare_out_dir(preset("quick", {"runtime.out_dir": str(out)}), tmp_path, temporary=True)
    assert {p: p.read_bytes() for p in out.rglob("*") if p.is_file()} == before
    # the same settings resume in place (nothing removed)
    assert prepare_out_dir(first, tmp_path) == out and (out / "metrics.json").exists()


def test_directory_that_is_not_a_run_is_refused(tmp_path):
    (tmp_path / "mine").mkdir()
    (tmp_path / "mine" / "notes.txt").write_text("keep me")
    with pytest.raises(RunDirError, match="holds no run.json"):
        prepare_out_dir(preset("default", {"runtime.out_dir": str(tmp_path / "mine")}), tmp_path)
    assert (tmp_path / "mine" / "notes.txt").read_text() == "keep me"


@pytest.mark.slow
def test_training_notebook_refuses_a_finished_run_instead_of_deleting_it(tmp_path):
    """The notebook header's own example, without -p fast False, once wiped a finished full run."""
    import papermill as pm

    out = tmp_path / "runs" / "train"
    prepare_out_dir(preset("default", {"runtime.out_dir": str(out)}), tmp_path)
    (out / "checkpoints").mkdir()
    (out / "checkpoints" / "best.ckpt").write_bytes(b"a finished run")
    (out / "metrics.json").write_text("{}")
    with pytest.raises(pm.PapermillExecutionError, match="holds a run with other settings"):
        pm.execute_notebook(str(ROOT / "notebooks" / "10_train.ipynb"), str(tmp_path / "out.ipynb"),
                            parameters={"settings": {"runtime.out_dir": str(out)}}, cwd=str(ROOT), progress_bar=False, kernel_name="python3")
    assert (out / "checkpoints" / "best.ckpt").read_bytes() == b"a finished run"
    assert (out / "metrics.json").read_text() == "{}"


def test_figures_go_where_the_tests_say(tmp_path, monkeypatch):
    monkeypatch.setenv("SCLAP_FIGURES_DIR", str(tmp_path / "figs"))
    assert figures_dir(ROOT) == tmp_path / "figs" and (tmp_path / "figs").is_dir()
    monkeypatch.delenv("SCLAP_FIGURES_DIR")
    assert figures_dir(tmp_path) == tmp_path / "figures"


def test_results_are_written_only_by_publish(tmp_path):
    from sclap_nb.publish import main

    chapter = (ROOT / "notebooks" / "11_results.py").read_text()
    assert "shutil" not in chapter and "runs/" not in chapter.split("make publish")[0].split("# %% tags")[-1]
    run = tmp_path / "runs" / "train"
    (run / "logs" / "version_0").mkdir(parents=True)
    (run / "logs" / "version_0" / "metrics.csv").write_text("step,epoch,train/total_step\n0,0,1.0\n")
    assert main(["--train", str(run), "--results", str(tmp_path / "results")]) == 1  # unfinished: refused
    assert not (tmp_path / "results").exists()
    (run / "metrics.json").write_text('{"LE_deg": 12.0}')
    assert main(["--train", str(run), "--results", str(tmp_path / "results")]) == 0
    assert json.loads((tmp_path / "results" / "train" / "metrics.json").read_text()) == {"LE_deg": 12.0}
    # the halves layout's run goes to results/default, and nowhere else
    (run / "metrics.json").write_text('{"LE_deg": 5.0}')
    assert main(["--train", str(run), "--as", "default", "--results", str(tmp_path / "results")]) == 0
    assert json.loads((tmp_path / "results" / "default" / "metrics.json").read_text()) == {"LE_deg": 5.0}
    assert json.loads((tmp_path / "results" / "train" / "metrics.json").read_text()) == {"LE_deg": 12.0}


# --------------------------------------------------------------------------- parameters


@pytest.mark.parametrize(
    "settings, name",
    [
        ({"optim.epochs": 0}, "epochs"), ({"optim.batch_size": 0}, "batch_size"), ({"optim.lr": -1.0}, "lr"),
        ({"optim.lr": float("nan")}, "lr"), ({"loss.weights": (1.0, 0.5)}, "weights"),
        ({"loss.weights": (1.0, 1.5, 0.2, 0.2)}, "weights"), ({"optim.mode": "pairs"}, "mode"),
        ({"runtime.precision": "fp8"}, "precision"), ({"runtime.devices": 0}, "devices"), ({"optim.epochs": 2.5}, "epochs"),
        ({"model.dim": 100}, "temporal_heads"), ({"model.cnn_channels": ()}, "cnn_pools"),
        ({"model.text_pooling": "max"}, "text_pooling"), ({"model.nope": 1}, "nope"), ({"data.n_train": 0}, "n_train"),
        ({"data.clip_seconds": 0}, "clip_seconds"), ({"model.features.sample_rate": "16k"}, "sample_rate"),
        ({"loss.negatives": ("neg_s",)}, "negatives"), ({"data.layout": "halves"}, "layout"),
    ],
)  # fmt: skip
def test_bad_setting_is_refused_by_name(settings, name):
    with pytest.raises(ConfigError, match=name):
        preset("default", settings)


@pytest.mark.slow
def test_command_line_help_lists_every_setting():
    from sclap_nb.config import leaves

    res = subprocess.run([sys.executable, "-m", "sclap_nb.train", "--help"], capture_output=True, text=True, timeout=120)
    assert res.returncode == 0, res.stderr
    for flag in ("--preset", "--config", "--print_config"):
        assert flag in res.stdout, flag
    for name, *_ in leaves():
        assert f"--{name} " in res.stdout, name


@pytest.mark.slow
def test_command_line_refuses_a_bad_setting():
    res = subprocess.run([sys.executable, "-m", "sclap_nb.train", "--optim.epochs", "0"], capture_output=True, text=True,
                         timeout=120)  # fmt: skip
    assert res.returncode == 2 and "epochs" in res.stderr and "Traceback" not in res.stderr


# --------------------------------------------------------------------------- devices


def test_loss_tensors_live_on_the_device_of_the_model():
    """sync_dist reduces logged tensors on the module's device (NCCL needs CUDA tensors). On the meta
    device, a tensor made on the CPU by mistake shows up as a CPU tensor."""
    from sclap_nb.losses import total_loss

    n, d = 6, 8

    class Out:
        e_sed = e_joint = e_triplet = e_audio = text_comb = text = torch.randn(n, d, device="meta")
        doa = torch.randn(n, 2, 3, device="meta")
        logit_scale = torch.tensor(14.0, device="meta")
        modality_logits = torch.randn(2 * n, device="meta")
        modality_labels = torch.zeros(2 * n, device="meta")

    batch = {"text_comb": [f"c{i}" for i in range(n)], "text": [f"p{i // 3}" for i in range(n)],
             "doa": torch.randn(n, 2, 3, device="meta"), "group_size": 3}
    losses = total_loss(Out(), batch, epoch=5)
    wrong = {k: v.device for k, v in losses.items() if v.device.type != "meta"}
    assert not wrong, wrong


def _tiny_run(tmp_path, tiny_corpus, epochs=1):
    from sclap_nb.data import StClothoDataModule
    from sclap_nb.features import FeatureConfig
    from sclap_nb.training import fit

    dm = StClothoDataModule(tiny_corpus, batch_size=4, features=FeatureConfig(), cache_dir=tmp_path / "cache", seed=1)
    cfg = tiny_config(optim__epochs=epochs, optim__batch_size=4, runtime__num_threads=1)
    return fit(cfg, dm, tmp_path / "run", resume=False)


@pytest.mark.slow
def test_every_trainable_submodule_trains_in_train_mode(tmp_path, tiny_corpus):
    """A pretrained text encoder comes in eval mode; its fine-tuned layer must train with dropout."""
    import lightning.pytorch as pl

    seen = []

    class Spy(pl.Callback):
        def on_train_batch_start(self, trainer, module, batch, batch_idx):
            seen.append(sorted(name for name, m in module.model.named_modules()
                               if not m.training and any(p.requires_grad for p in m.parameters(recurse=False))))

    from sclap_nb.data import StClothoDataModule
    from sclap_nb.features import FeatureConfig
    from sclap_nb.training import fit

    dm = StClothoDataModule(tiny_corpus, batch_size=4, features=FeatureConfig(), cache_dir=tmp_path / "cache", seed=1)
    cfg = tiny_config(optim__epochs=2, optim__batch_size=4, runtime__num_threads=1)
    fit(cfg, dm, tmp_path / "run", resume=False, callbacks=[Spy()])
    assert seen and all(not names for names in seen), seen[:1]


@pytest.mark.slow
def test_checkpoint_loads_whatever_device_its_rng_tensors_were_mapped_to(tmp_path, tiny_corpus):
    """load_from_checkpoint(map_location="cuda") moves the RNG state tensors to the GPU (and another
    dtype on the way, as some map_locations do): the generators must still be restored."""
    from sclap_nb.training import SCLAPModule

    module, trainer = _tiny_run(tmp_path, tiny_corpus)
    ckpt = torch.load(tmp_path / "run" / "checkpoints" / "last.ckpt", weights_only=True)
    state = ckpt["rng"]["torch"].clone()
    moved = copy.deepcopy(ckpt)
    moved["rng"]["torch"] = moved["rng"]["torch"].to(torch.int32)  # not a ByteTensor any more
    torch.manual_seed(123)
    fresh = SCLAPModule(module.cfg)
    fresh.on_load_checkpoint(moved)
    assert torch.equal(torch.get_rng_state(), state)
    loaded = SCLAPModule.load_from_checkpoint(tmp_path / "run" / "checkpoints" / "last.ckpt", map_location="cpu")
    assert loaded.device.type == "cpu"


@pytest.mark.slow
def test_last_checkpoint_is_the_last_epoch_whether_or_not_it_improved(tmp_path, tiny_corpus):
    """A resumed run must continue from the end of the last finished epoch, not from the best one."""
    module, trainer = _tiny_run(tmp_path, tiny_corpus, epochs=3)
    ckpt = torch.load(tmp_path / "run" / "checkpoints" / "last.ckpt", map_location="cpu", weights_only=True)
    assert ckpt["epoch"] == 2 and ckpt["global_step"] == trainer.global_step
    assert sorted(p.name for p in (tmp_path / "run" / "checkpoints").iterdir()) == ["best.ckpt", "last.ckpt"]

import math

import pytest
import torch
from types import SimpleNamespace

from conftest import tiny_config

from sclap_nb.config import ConfigError
from sclap_nb.data import StClothoDataModule, azimuth_of, sector_of
from sclap_nb.evaluation import evaluate, evaluation_metrics
from sclap_nb.features import FeatureConfig
from sclap_nb.training import NonFiniteLossError, SCLAPModule, fit

pytestmark = pytest.mark.filterwarnings("ignore::UserWarning")


def datamodule(root, batch_size=4, seed=3, mode="triplet"):
    return StClothoDataModule(root, batch_size=batch_size, mode=mode, features=FeatureConfig(), cache_dir=root / "cache", seed=seed)


def config(**settings):
    return tiny_config(settings={"optim.epochs": 3, "optim.batch_size": 4, "optim.lr": 1e-3, "runtime.seed": 11,
                                 **settings})  # fmt: skip


def attached(module, steps_per_epoch, epochs):
    """The module as a trainer would see it: ``steps_per_epoch`` batches for ``epochs`` epochs."""
    module._trainer = SimpleNamespace(estimated_stepping_batches=steps_per_epoch * epochs, max_epochs=epochs, global_step=0,
                                      current_epoch=0)
    return module


def test_sector_of_vectors():
    az = torch.deg2rad(torch.tensor([0.0, 44.0, 91.0, 180.0, -90.0, -44.0]))
    v = torch.stack([torch.cos(az), torch.sin(az), torch.zeros_like(az)], -1)
    assert sector_of(azimuth_of(v)).tolist() == [0, 1, 2, 4, 6, 7]


def test_schedule_warms_up_then_decays(tmp_path):
    module = attached(SCLAPModule(config(**{"optim.epochs": 4, "optim.warmup_epochs": 1})), 10, 4)
    opt_cfg = module.configure_optimizers()
    sched = opt_cfg["lr_scheduler"]["scheduler"]
    lrs = []
    for _ in range(40):
        lrs.append(sched.get_last_lr()[0])
        opt_cfg["optimizer"].step()
        sched.step()
    assert lrs[0] == pytest.approx(1e-4) and lrs[9] == pytest.approx(1e-3)
    assert lrs[10] == pytest.approx(1e-3) and lrs[-1] < 1e-5
    assert all(a >= b for a, b in zip(lrs[10:], lrs[11:]))


@pytest.mark.slow
def test_resume_after_interruption_ends_like_an_uninterrupted_run(tiny_corpus, tmp_path):
    dm = datamodule(tiny_corpus)
    full, _ = fit(config(), dm, tmp_path / "full")
    # the same run, stopped after one epoch, then started again on the same out dir
    fit(config(), datamodule(tiny_corpus), tmp_path / "resumed", max_epochs=1)
    assert (tmp_path / "resumed" / "checkpoints" / "last.ckpt").exists()
    resumed, trainer = fit(config(), datamodule(tiny_corpus), tmp_path / "resumed")
    assert trainer.current_epoch == 3
    for (name, a), (_, b) in zip(full.model.state_dict().items(), resumed.model.state_dict().items()):
        assert torch.allclose(a.float(), b.float(), atol=1e-6), name
    dm.setup("test")
    m_full = evaluate(full.model, dm.test_dataloader())
    m_resumed = evaluate(resumed.model, dm.test_dataloader())
    assert m_full == pytest.approx(m_resumed, abs=1e-6)


@pytest.mark.slow
def test_checkpoints_are_whole(tiny_corpus, tmp_path):
    fit(config(**{"optim.epochs": 1}), datamodule(tiny_corpus), tmp_path)
    ckpts = sorted(p.name for p in (tmp_path / "checkpoints").iterdir())
    assert ckpts == ["best.ckpt", "last.ckpt"]  # no temporary file left behind
    state = torch.load(tmp_path / "checkpoints" / "last.ckpt", map_location="cpu", weights_only=False)
    assert "rng" in state and state["epoch"] == 0


@pytest.mark.slow
def test_non_finite_loss_is_skipped_then_stops_the_run(tiny_corpus, tmp_path, caplog):
    cfg = config(**{"optim.max_bad_steps": 3})
    dm = datamodule(tiny_corpus, batch_size=2)  # 4 steps an epoch
    calls = {"n": 0}

    import sclap_nb.training as train_mod

    real_total_loss = train_mod.total_loss

    def poisoned(*args, **kw):
        calls["n"] += 1
        out = real_total_loss(*args, **kw)
        if calls["n"] == 2 or calls["n"] >= 5:  # one bad step, then bad for good
            out["total"] = out["total"] * float("nan")
        return out

    train_mod.total_loss = poisoned
    try:
        with pytest.raises(NonFiniteLossError, match="3 training steps in a row"):
            fit(cfg, dm, tmp_path)
    finally:
        train_mod.total_loss = real_total_loss
    # steps 1, 3, 4 reached the optimizer; 2 was skipped; 5, 6, 7 were skipped and stopped the run
    assert calls["n"] == 7
    assert any("non-finite loss, skipped" in r.getMessage() for r in caplog.records)


@pytest.mark.slow
def test_plain_mode_trains_without_the_three_way_term(tiny_corpus, tmp_path):
    module, trainer = fit(config(**{"optim.epochs": 1, "optim.mode": "plain"}), datamodule(tiny_corpus, mode="plain"),
                          tmp_path)  # fmt: skip
    assert trainer.global_step > 0
    assert math.isfinite(trainer.callback_metrics["train/total_epoch"].item())
    assert trainer.callback_metrics["train/ts_active_epoch"].item() == 0.0


def test_evaluation_metrics_on_perfect_embeddings():
    import torch.nn.functional as F

    n, d = 6, 16
    text = torch.eye(d)[:n]  # each clip's caption is its own axis: perfect retrieval
    az = torch.deg2rad(torch.tensor([0.0, 90.0]))
    doa = torch.stack([torch.cos(az), torch.sin(az), torch.zeros(2)], -1).expand(n, 2, 3)
    prompts = torch.eye(d)[8:16]  # sector prompts orthogonal to every clip: argmax picks sector 0 (front)
    emb = {
        "e_joint": text.clone(), "e_triplet": F.normalize(text + 0.01, dim=-1), "text_comb": text,
        "captions": ["a", "b", "c", "d", "e", "a"],  # clip 5 repeats clip 0's caption
        "doa": doa, "doa_target": doa, "mod_correct": torch.tensor([1.0, 0.0]), "group_size": 3,
        "direction_prompts": prompts,
    }
    m = evaluation_metrics(emb)
    for name in ("joint", "triplet"):
        assert m[f"{name}/t2a/R@1"] == 1.0 and m[f"{name}/a2t/mAP@10"] == 1.0
        assert m[f"{name}/3way_temporal"] == 1.0 and m[f"{name}/3way_spatial"] == 1.0
        assert m[f"{name}/zeroshot_direction"] == 1.0  # sector 0 is one of the two events' sectors
    assert m["LE_deg"] == pytest.approx(0.0, abs=1e-4) and m["modality_acc"] == 0.5


def test_grl_warmup_and_classifier_learning_rate():
    """During grl_warmup_epochs the GRL passes no gradient (lambda 0); the classifier gets its own lr."""
    from unittest import mock

    cfg = config(**{"optim.epochs": 4, "loss.grl_warmup_epochs": 2, "optim.modality_lr_scale": 10.0, "model.dim": 32,
                    "model.cnn_channels": (4, 4, 4, 4), "model.temporal_ff": 32})  # fmt: skip
    module = attached(SCLAPModule(cfg), 3, 4)
    opt = module.configure_optimizers()["optimizer"]
    assert [g["initial_lr"] for g in opt.param_groups] == [1e-3, pytest.approx(1e-2)]
    clf = {id(p) for p in module.model.modality_classifier.parameters()}
    assert {id(p) for p in opt.param_groups[1]["params"]} == clf
    assert not clf & {id(p) for p in opt.param_groups[0]["params"]}
    lambdas = []
    for epoch in range(4):
        with mock.patch.object(SCLAPModule, "current_epoch", new_callable=mock.PropertyMock, return_value=epoch):
            lambdas.append(module.grl_lambda_now())
    assert lambdas == [0.0, 0.0, 1.0, 1.0]
    with pytest.raises(ConfigError, match="grl_warmup_epochs"):
        config(**{"loss.grl_warmup_epochs": -1})


@pytest.mark.slow
def test_training_hands_freed_memory_back_every_few_steps_and_around_validation(tiny_corpus, tmp_path, monkeypatch):
    import sclap_nb.training as training
    from sclap_nb.memory import can_release, release_freed_memory

    calls = []
    monkeypatch.setattr(training, "release_freed_memory", lambda: calls.append(1) or True)
    monkeypatch.setattr(training, "allocator_in_use", lambda: "system")  # glibc's malloc (make test preloads tcmalloc)
    module, trainer = fit(config(**{"optim.epochs": 2, "optim.batch_size": 2}), datamodule(tiny_corpus, batch_size=2), tmp_path,
                          checkpoints=False)  # fmt: skip
    steps_per_epoch = trainer.global_step // 2
    every = next(c.every for c in trainer.callbacks if isinstance(c, training.ReleaseMemory))
    assert every == 4 and steps_per_epoch >= 4
    assert len(calls) == 2 * (steps_per_epoch // every) + 2 * 2  # the steps, and before and after each validation
    with pytest.raises(ValueError, match="every must be >= 0"):
        training.ReleaseMemory(-1)
    # under tcmalloc only around validation: its freed pages are reused by the next step, not fragments
    monkeypatch.setattr(training, "allocator_in_use", lambda: "tcmalloc")
    quiet = training.ReleaseMemory()
    assert quiet.every == 0
    calls.clear()
    for i in range(8):
        quiet.on_train_batch_end(None, None, None, None, i)
    quiet.on_validation_start(None, None)
    assert len(calls) == 1
    assert isinstance(release_freed_memory(), bool)
    import platform

    assert can_release() == (platform.libc_ver()[0] == "glibc")

"""The ablation's configurations, the sweep's committed tables and the paired intervals behind both."""

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from sclap_nb.ablation import CONFIGS, ablation_config, collect_named, paired_differences, write_sweep_tables
from sclap_nb.config import RunConfig, migrate_run_json

ROOT = Path(__file__).resolve().parents[1]
SWEEP = ROOT / "results" / "sweep"


def test_the_ablation_is_pinned_to_the_specifications_settings():
    # the default run departs from the specification (results/sweep); the ablation must not follow it
    default = RunConfig()
    assert default.loss.negatives == ("neg_t", "neg_s", "neg_c") and default.model.doa_pooling == "halves"
    for name in CONFIGS:
        run = ablation_config(name, seed=2025)
        assert run.loss.weights == (1.0, 0.5, 0.2, 0.2) and run.loss.ts_ramp == 4, name
        assert run.model.temporal_readout == "mean" and run.model.doa_pooling == "joint", name
        assert run.model.temporal_token_norm is False and run.runtime.seed == 2025, name
        want = ("neg_t", "neg_s", "neg_c") if "neg_c" in name else ("neg_t", "neg_s")
        assert run.loss.negatives == want, name


def _table(diffs, base=0.5):
    rows = []
    for seed, d in zip((1, 2, 3), diffs):
        rows.append({"config": "base", "seed": seed, "LE_deg": base + seed})
        rows.append({"config": "new", "seed": seed, "LE_deg": base + seed + d})
    return pd.DataFrame(rows)


def test_paired_interval_is_over_seed_differences():
    exact = paired_differences(_table([0.1, 0.1, 0.1]), "base", metrics=["LE_deg"])
    row = exact.iloc[0]
    # the seeds' own spread (1, 2, 3) cancels in the pairing: a constant difference has a zero-width interval
    assert row["diff"] == pytest.approx(0.1) and row["ci_high"] - row["ci_low"] == pytest.approx(0.0, abs=1e-12)
    noisy = paired_differences(_table([0.0, 0.2, 0.4]), "base", metrics=["LE_deg"]).iloc[0]
    # t(0.975, 2) = 4.303, sample std 0.2, n = 3: half-width 0.497
    assert noisy["diff"] == pytest.approx(0.2) and noisy["ci_high"] - noisy["diff"] == pytest.approx(0.4968, abs=1e-3)


def test_sweep_runs_are_named_by_config_and_seed(tmp_path):
    for name in ("all_s2025", "concat4_iso_circ_s2026"):
        (tmp_path / name).mkdir()
        (tmp_path / name / "metrics.json").write_text(json.dumps({"LE_deg": 1.0}))
    t = collect_named(tmp_path)
    assert t[["config", "seed"]].values.tolist() == [["all", 2025], ["concat4_iso_circ", 2026]]


@pytest.mark.skipif(not SWEEP.exists(), reason="no committed sweep")
def test_committed_sweep_tables_follow_from_its_runs(tmp_path):
    (tmp_path / "runs").symlink_to(SWEEP / "runs")
    table = write_sweep_tables(tmp_path, "all")
    committed = pd.read_csv(SWEEP / "table.csv")
    assert len(table) == len(committed) >= 18
    key = ["config", "seed"]
    merged = table.merge(committed, on=key, suffixes=("", "_c"))
    for m in ("joint/t2a/R@1", "triplet/order_acc", "LE_deg"):
        assert (merged[m] - merged[m + "_c"]).abs().max() < 1e-12, m
    # each run holds the settings its name says
    for path in sorted((SWEEP / "runs").glob("*/run.json")):
        run = json.loads(path.read_text())
        name = path.parent.name.rsplit("_s", 1)[0]
        model = run.get("extra", {}).get("model", {})
        assert (model.get("doa_pooling") == "halves") == ("halves" in name), path
        assert (model.get("temporal_readout") == "concat") == ("concat" in name), path
        assert (len(run["negatives"]) == 3) == (name != "all" and name != "doa_halves"), path
        assert (run["layout"] == "isolated") == ("iso" in name), path


def test_experiments_table_reads_a_missing_setting_as_its_behaviour_of_the_time(tmp_path):
    from sclap_nb.ablation import experiments_table

    old = tmp_path / "old_s2025"
    old.mkdir()
    (old / "metrics.json").write_text(json.dumps({"LE_deg": 9.0, "seed": 2025}))
    (old / "run.json").write_text(json.dumps({"seed": 2025, "epochs": 18}))  # written before the readout setting
    reference = {"seed": 2025, "epochs": 18, "temporal_readout": "concat", "doa_pooling": "joint", "temporal_token_norm": False}
    row = experiments_table(tmp_path, reference).iloc[0]
    assert row["settings that differ"] == "model.temporal_readout=mean"  # the mean readout it ran with, not "none"


def test_collect_experiments_takes_the_seeds_of_one_pattern(tmp_path):
    from sclap_nb.ablation import collect_experiments

    for name in ("tokennorm_x_s2025", "tokennorm_x_s2026", "other_x_s2025"):
        (tmp_path / name).mkdir()
        (tmp_path / name / "metrics.json").write_text(json.dumps({"LE_deg": float(name[-1])}))
    t = collect_experiments(tmp_path, "tokennorm_x_s*", "token norm")
    assert t[["config", "seed", "LE_deg"]].values.tolist() == [["token norm", 2025, 5.0], ["token norm", 2026, 6.0]]


def test_an_old_run_json_is_read_as_the_settings_it_ran_with():
    old = {"seed": 2025, "epochs": 3, "loss_weights": [1, 0.5, 0.2, 0.2],
           "extra": {"model": {"temporal_token_norm": True, "time_padding": "circular"}, "weight_decay": 0.01}}
    cfg = migrate_run_json(old)
    # given through extra before it was a setting of its own: at its place in the tree
    assert cfg.model.temporal_token_norm is True and cfg.model.time_padding == "circular"
    assert cfg.optim.weight_decay == 0.01 and cfg.optim.epochs == 3 and cfg.loss.weights == (1.0, 0.5, 0.2, 0.2)
    # not recorded: the behaviour of the time (the specification's model)
    assert cfg.model.temporal_readout == "mean" and cfg.model.doa_pooling == "joint"
    assert migrate_run_json({"seed": 1}).model.temporal_token_norm is False
    assert old["extra"]["model"]["temporal_token_norm"] is True  # the caller's dict is left as it was
    # the committed default run reads as today's default run; the tree's own format reads back as itself
    committed = json.loads((ROOT / "results" / "default" / "run.json").read_text())
    assert migrate_run_json(committed).identity() == RunConfig().identity()
    other = RunConfig().with_settings({"optim.epochs": 5, "model.features.n_mels": 32})
    assert migrate_run_json(other.to_dict()) == other
    with pytest.raises(ValueError, match="unknown setting"):
        migrate_run_json({"epochz": 3})


def test_planned_comparisons_pair_by_seed_and_correct_with_holm():
    from sclap_nb.ablation import planned_comparisons

    rng = np.random.default_rng(0)
    rows = []
    for seed in range(5):
        base = 0.5 + 0.05 * seed  # the seeds' own spread cancels in the pairing
        rows.append({"config": "A", "seed": seed, "joint/order_acc": base, "joint/t2a/R@1": base})
        rows.append({"config": "B", "seed": seed, "triplet/order_acc": base + 0.3 + 0.01 * rng.standard_normal(),
                     "triplet/t2a/R@1": base - 0.02 + 0.01 * rng.standard_normal(),
                     "triplet/motion_acc": base + 0.01 * rng.standard_normal()})
        rows[-2]["joint/motion_acc"] = base
    table = pd.DataFrame(rows)
    comparisons = [
        {"name": "order", "a": "B", "b": "A", "a_metric": "triplet/order_acc", "b_metric": "joint/order_acc", "alternative": "greater"},
        {"name": "motion", "a": "B", "b": "A", "a_metric": "triplet/motion_acc", "b_metric": "joint/motion_acc", "alternative": "greater"},
        {"name": "R@1 not worse by 0.05", "a": "B", "b": "A", "a_metric": "triplet/t2a/R@1", "b_metric": "joint/t2a/R@1",
         "alternative": "greater", "margin": 0.05},
        {"name": "R@1 not worse by 0.01", "a": "B", "b": "A", "a_metric": "triplet/t2a/R@1", "b_metric": "joint/t2a/R@1",
         "alternative": "greater", "margin": 0.01},
    ]  # fmt: skip
    out = planned_comparisons(table, comparisons).set_index("name")
    assert (out["n"] == 5).all() and out.loc["order", "diff"] == pytest.approx(0.3, abs=0.02)
    assert out.loc["order", "finding"] and not out.loc["motion", "finding"]
    assert out.loc["R@1 not worse by 0.05", "finding"] and not out.loc["R@1 not worse by 0.01", "finding"]
    assert (out["p_holm"] >= out["p"] - 1e-12).all()
    # Holm: the smallest p-value times the number of comparisons
    assert out["p_holm"].min() == pytest.approx(min(1.0, out["p"].min() * len(comparisons)))
    assert (out["bonferroni_low"] <= out["ci_low"]).all() and (out["bonferroni_high"] >= out["ci_high"]).all()


def test_a_comparisons_label_names_what_each_side_reads():
    from sclap_nb.ablation import comparison_label

    def row(metric, b_metric, a="A", b="B"):
        return {"name": "X1", "a": a, "b": b, "metric": metric, "b_metric": b_metric}

    assert comparison_label(row("triplet/order_acc", "joint/order_acc")) == "X1: A triplet − B joint, order_acc"
    assert comparison_label(row("triplet/order_acc", "triplet/order_acc"), name=False) == "A − B, triplet/order_acc"
    # a split first: the side's scorer is the part that differs, not the split
    assert comparison_label(row("mix/aligned/order_acc", "mix/triplet/order_acc"), name=False) == "A aligned − B triplet, mix/order_acc"
    assert comparison_label(row("mix/LE_blind_deg", "mix/LE_deg"), name=False) == "A LE_blind_deg − B LE_deg, mix"
    assert comparison_label(row("sf/a/x", "mix/b/x"), name=False) == "A sf/a/x − B mix/b/x"
    assert comparison_label({"name": "X2", "a": "A", "b": "B", "metric": "joint/order_acc"}) == "X2: A − B, joint/order_acc"

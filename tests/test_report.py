"""sclap_nb.report: the results chapter's tables, computed from runs read by name, on small made-up studies."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from sclap_nb import report
from sclap_nb.ablation import CONFIGS, slug


def _run(folder, metrics: dict) -> None:
    folder.mkdir(parents=True)
    (folder / "metrics.json").write_text(json.dumps(metrics))


def _passing() -> dict:
    """Metrics of a run that meets every goal of goal_rows."""
    m = {f"{e}/{k}": 0.97 for e in ("joint", "triplet") for k in ("order_acc", "place_acc", "3way_temporal", "3way_spatial")}
    m.update({"triplet/order_acc": 0.98, "joint/t2a/R@1": 0.5, "triplet/t2a/R@1": 0.5, "LE_deg": 4.0,
              "modality/probe_acc": 0.6, "total_seconds": 200.0})
    m.update({f"reference/{s}/{k}": 0.5 for s in ("direction_only", "order_blind", "sound_order") for k in ("order_acc", "place_acc")})
    return m


def test_goal_rows_judge_each_goal_on_its_number():
    rows = report.goal_rows(_passing())
    assert len(rows) == 13 and all(ok for *_, ok in rows), [r for r in rows if not r[3]]
    failing = {**_passing(), "reference/direction_only/order_acc": 0.57, "LE_deg": 10.5, "total_seconds": 301.0}
    missed = {g for g, _, _, ok in report.goal_rows(failing) if not ok}
    assert missed == {"reference direction_only: order_acc", "localisation error (degrees)", "main job, total time (minutes)"}
    assert report.goal_rows({}) == []


def test_ablation_table_names_the_configurations_and_refuses_strangers(tmp_path):
    runs = tmp_path / "results" / "ablation" / "runs"
    for name, r1 in (("SALM baseline", 0.5), ("all", 0.6)):
        for seed in (1, 2):
            _run(runs / f"{slug(name)}_s{seed}", {"joint/t2a/R@1": r1 + seed / 100, "triplet/t2a/R@1": r1})
    table = report.ablation_table(tmp_path)
    assert list(table["config"]) == ["SALM baseline", "SALM baseline", "all", "all"]  # the ablation's order
    assert table["best/t2a/R@1"].tolist() == pytest.approx([0.51, 0.52, 0.61, 0.62])
    assert set(table["config"]) <= set(CONFIGS)
    _run(runs / "mystery_s1", {"joint/t2a/R@1": 0.1})
    with pytest.raises(ValueError, match="mystery"):
        report.ablation_table(tmp_path)
    with pytest.raises(FileNotFoundError, match="ablation"):
        report.ablation_table(tmp_path / "nowhere")


def test_paired_cells_write_difference_and_interval():
    paired = pd.DataFrame([{"config": "b", "metric": "m", "diff": 0.1, "ci_low": -0.05, "ci_high": 0.25},
                           {"config": "a", "metric": "m", "diff": -0.2, "ci_low": -0.3, "ci_high": -0.1}])
    table = report.paired_cells(paired, {"m": "metric m"}, ["a", "b"])
    assert table.loc["a", "metric m"] == "-0.200 [-0.300, -0.100]"
    assert list(table.index) == ["a", "b"]


def test_permutation_p_tells_separated_groups_from_mixed_ones():
    won = np.array([1.0] * 20 + [0.0] * 20)
    separated = [np.arange(20), np.arange(20, 40)]
    mixed = [np.arange(0, 40, 2), np.arange(1, 40, 2)]
    assert report.permutation_p(won, separated, n=500) < 0.01
    assert report.permutation_p(won, mixed, n=500) > 0.5
    assert report.group_spread(won, mixed) == 0.0


def test_scene_outcomes_win_margin_and_sector():
    scenes = pd.DataFrame({"scene": [0, 1], "azimuth_1": [0.0, 90.0], "class_1": ["a", "b"], "class_2": ["b", "a"]})
    scores = {"E": np.array([[0.9, 0.1, 0.2, 0.95], [0.8, 0.1, 0.2, 0.3]])}
    long = report.scene_outcomes(scores, scenes)
    neg_c = long[long["test"] == "vs neg_c"].set_index("scene")
    assert neg_c["won"].tolist() == [0.0, 1.0]
    assert neg_c["margin"].tolist() == pytest.approx([-0.05, 0.5])
    assert neg_c["sector"].tolist() == ["front", "left"]
    with pytest.raises(ValueError, match="3 rows of scores for 2 scenes"):
        report.scene_outcomes({"E": np.zeros((3, 4))}, scenes)


def test_token_norm_comparison_pairs_by_seed():
    def frame(config, seeds, order, joint_order):
        return pd.DataFrame([{"config": config, "seed": s, "triplet/order_acc": o, "joint/order_acc": j,
                              "triplet/place_acc": o, "joint/place_acc": j, "triplet/t2a/R@1": 0.5, "joint/t2a/R@1": 0.5,
                              "LE_deg": 5.0, "modality/probe_acc": 0.8} for s, o, j in zip(seeds, order, joint_order)])

    default = pd.concat([frame("none", [1, 2, 3], [0.9, 0.9, 0.9], [0.9] * 3),
                         frame("token norm", [1, 2, 3], [0.91, 0.92, 0.93], [0.9] * 3)], ignore_index=True)
    cuefree = pd.concat([frame("none", [1, 2, 3], [0.3, 0.4, 0.35], [0.3, 0.4, 0.35]),
                         frame("token norm", [1, 2, 3], [0.6, 0.7, 0.65], [0.4, 0.45, 0.4])], ignore_index=True)
    rows, facts = report.token_norm_comparison(default, cuefree)
    assert facts["tn_dc_order_d"] == pytest.approx(0.02)
    assert facts["tn_nn_order_d"] == pytest.approx(0.3) and facts["tn_nn_order_lo"] == pytest.approx(0.3)
    assert facts["tj_nn_order_d"] == pytest.approx((0.2 + 0.25 + 0.25) / 3)
    assert facts["tj0_nn_order_d"] == 0 and facts["tn_n_above"] == 3
    assert set(rows["clips"]) == {"default corpus", "cue-free"}
    shown = report.difference_table(rows, ["triplet/order_acc"])
    assert shown.loc[("cue-free", "token norm - none"), "difference [95 % interval]"] == "+0.300 [+0.300, +0.300]"


def _study(tmp_path, name: str = "made_up_study") -> pd.DataFrame:
    """A made-up planned study's analysis files, as its script's ``analyse`` writes them: P above A by 0.3
    in order_acc (5 seeds), P's two embeddings equal in motion_acc."""
    from sclap_nb.ablation import planned_comparisons

    rng = np.random.default_rng(3)
    rows = [{"config": c, "seed": s, "triplet/order_acc": base + rng.normal(0, 0.02), "joint/order_acc": 0.5 + rng.normal(0, 0.02),
             "triplet/motion_acc": 0.7 + rng.normal(0, 0.02), "joint/motion_acc": 0.7 + rng.normal(0, 0.02)}
            for c, base in (("P", 0.8), ("A", 0.5)) for s in range(2025, 2030)]  # fmt: skip
    table = pd.DataFrame(rows)
    plan = [{"name": "E1", "a": "P", "b": "A", "a_metric": "triplet/order_acc", "b_metric": "joint/order_acc", "alternative": "greater"},
            {"name": "E2", "a": "P", "b": "P", "a_metric": "triplet/motion_acc", "b_metric": "joint/motion_acc", "alternative": "two-sided"},
            {"name": "E3", "a": "P", "b": "A", "metric": "triplet/motion_acc", "alternative": "greater", "margin": 0.05}]  # fmt: skip
    comparisons = planned_comparisons(table, plan)
    folder = tmp_path / "results" / name
    folder.mkdir(parents=True)
    table.to_csv(folder / "runs.csv", index=False)
    comparisons.to_csv(folder / "comparisons.csv", index=False)
    table.groupby("config")[["triplet/order_acc"]].agg(["mean", "std"]).stack(0, future_stack=True).to_csv(folder / "seed_spread.csv")
    pd.DataFrame([{"config": "P", "order_acc": 0.01}]).to_csv(folder / "rerun_noise.csv", index=False)
    return comparisons


def test_a_planned_study_is_read_quoted_and_drawn_from_its_analysis_files(tmp_path):
    import matplotlib.pyplot as plt

    from sclap_nb.ablation import plot_comparisons

    with pytest.raises(FileNotFoundError, match=r"made_up_study.*not analysed: python scripts/made_up_study.py analyse"):
        report.study_analysis("made_up_study", tmp_path)
    written = _study(tmp_path)
    analysis = report.study_analysis("made_up_study", tmp_path)
    assert list(analysis["comparisons"]["name"]) == ["E1", "E2", "E3"]
    assert analysis["comparisons"]["p_holm"].tolist() == pytest.approx(written["p_holm"].tolist())
    facts = report.study_facts("pq", analysis["comparisons"])
    assert facts["pq_E1_diff"] == pytest.approx(0.3, abs=0.04) and facts["pq_E1_finding"] == "a finding"
    assert facts["pq_E2_finding"] == "not a finding" and facts["pq_E1_n"] == 5
    assert facts["pq_E1_blo"] <= facts["pq_E1_lo"] <= facts["pq_E1_diff"] <= facts["pq_E1_hi"] <= facts["pq_E1_bhi"]
    assert facts["pq_findings"] == int(written["finding"].sum())
    shown = report.comparisons_table(analysis["comparisons"])
    # the two sides' embeddings are named where they differ, the margin where there is one
    assert shown.loc["E1", "comparison (a − b)"] == "P triplet − A joint, order_acc"
    assert shown.loc["E2", "comparison (a − b)"] == "P triplet − P joint, motion_acc"
    assert shown.loc["E3", "comparison (a − b)"] == "P − A, triplet/motion_acc" and shown.loc["E3", "hypothesis"] == "a > b − 0.05"
    assert shown.loc["E1", "finding"] == "yes" and shown.loc["E2", "finding"] == "no"
    fig = plot_comparisons(analysis["comparisons"])
    ax = fig.axes[0]
    assert [t.get_text() for t in ax.get_yticklabels()][0] == "E1: P triplet − A joint, order_acc"
    markers = [line for line in ax.lines if line.get_marker() == "o"]
    filled = [line.get_markerfacecolor() != "white" for line in markers]
    assert filled == [bool(f) for f in analysis["comparisons"]["finding"]]
    assert sum(line.get_linestyle() == ":" for line in ax.lines) == 1  # E3's margin
    plt.close(fig)


def test_a_studys_seed_spread_is_quoted_with_its_rerun_noise():
    spread = pd.DataFrame({"order_acc": [0.8, 0.03, 0.4, 0.02], "t2a/R@1": [0.45, 0.06, 0.24, 0.03]},
                          index=pd.MultiIndex.from_tuples([("P", "mean"), ("P", "std"), ("A", "mean"), ("A", "std")]))  # fmt: skip
    rerun = pd.DataFrame([{"config": "P", "order_acc": 0.008, "t2a/R@1": 0.013}])
    facts = report.spread_facts("ps", spread, rerun)
    assert facts["ps_P_order_acc"] == 0.8 and facts["ps_P_order_acc_sd"] == 0.03 and facts["ps_P_order_acc_rerun"] == 0.008
    assert facts["ps_A_t2a_R_1"] == 0.24 and facts["ps_P_t2a_R_1_rerun"] == 0.013
    assert "ps_A_order_acc_rerun" not in facts  # A was not rerun
    assert len(report.spread_facts("ps", spread)) == 8  # no rerun table: means and SDs only


def test_last_validation_reads_each_runs_last_epoch_with_validation_figures(tmp_path):
    for name, last in (("X_s1_t2", 0.7), ("X_s2_t2", 0.5)):
        folder = tmp_path / "results" / "st" / "runs" / name
        _run(folder, {"triplet/order_acc": 0.1})
        # a validation row, then train-only rows, then the last validation row, then a test row without them
        pd.DataFrame({"epoch": [0, 0, 1, 1, 1], "val/triplet/order_acc": [0.2, np.nan, np.nan, last, np.nan],
                      "train/loss": [np.nan, 3.0, 2.0, np.nan, np.nan]}).to_csv(folder / "metrics.csv", index=False)  # fmt: skip
    got = report.last_validation("st/runs/X_s*_t2", ["val/triplet/order_acc"], tmp_path)
    assert got["val/triplet/order_acc"].to_dict() == {"X_s1_t2": 0.7, "X_s2_t2": 0.5}
    with pytest.raises(KeyError, match=r"X_s1_t2: its training log has no val/joint/order_acc"):
        report.last_validation("st/runs/X_s*_t2", ["val/joint/order_acc"], tmp_path)
    with pytest.raises(FileNotFoundError, match="no finished run matches"):
        report.last_validation("st/runs/Y_s*", ["val/triplet/order_acc"], tmp_path)

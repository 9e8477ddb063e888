"""The planned studies' analysis scripts (``scripts/timed_study.py``, ``ordered_study.py``, ``paths_study.py``) on made-up
held-out scores: they refuse until every planned run is scored, then compare as their plans say."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch

from sclap_nb import report

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "scripts"))

import aligned_study  # noqa: E402
import doa_study  # noqa: E402
import ends_study  # noqa: E402
import epochs_study  # noqa: E402
import frames_study  # noqa: E402
import library_study  # noqa: E402
import ordered_study  # noqa: E402
import paths_study  # noqa: E402
import pretrained_study  # noqa: E402
import scorers_study  # noqa: E402
import timed_study  # noqa: E402
import weight_study  # noqa: E402

REPO = Path(__file__).resolve().parents[1]

METRICS = ("order_acc", "motion_acc", "place_acc", "t2a/R@1")


def _score(folder: Path, name: str, file: str, level: dict, rng) -> None:
    """A run's held-out file: every metric of both embeddings at ``level[metric]`` plus a little noise."""
    (folder / name).mkdir(parents=True, exist_ok=True)
    scores = {f"{emb}/{m}": float(level.get(m, 0.5) + rng.normal(0, 0.01)) for emb in ("joint", "triplet") for m in METRICS}
    (folder / name / file).write_text(json.dumps(scores))


def test_the_timed_study_waits_for_every_run_then_compares(tmp_path, capsys):
    rng = np.random.default_rng(0)
    args = ["analyse", "--results", str(tmp_path)]
    levels = {"A": {"order_acc": 0.45}, "A0": {"order_acc": 0.45}, "S": {"order_acc": 0.45}, "B": {"order_acc": 0.8}}
    for config, seed, threads in timed_study.ORDER[:-1]:
        _score(tmp_path / "runs", f"{config}_s{seed}_t{threads}", "heldout.json", levels[config], rng)
    with pytest.raises(SystemExit, match="1 of 24 planned runs have no heldout.json"):
        timed_study.main(args)
    config, seed, threads = timed_study.ORDER[-1]
    _score(tmp_path / "runs", f"{config}_s{seed}_t{threads}", "heldout.json", levels[config], rng)
    timed_study.main(args)
    table = pd.read_csv(tmp_path / "comparisons.csv").set_index("name")
    assert list(table.index) == [c["name"] for c in timed_study.COMPARISONS]
    assert table.loc["C1", "finding"] and table.loc["C1", "diff"] == pytest.approx(0.35, abs=0.03)
    assert not table.loc["C2", "finding"]  # motion_acc: no difference was made up
    assert (table["p_holm"] >= table["p"] - 1e-12).all() and (table["n"] == 5).all()
    assert set(pd.read_csv(tmp_path / "rerun_noise.csv")["config"]) == {"A", "A0", "S", "B"}
    # the seed spread in the shape of the other studies' (rows: configuration and mean / std), and the summary
    spread = pd.read_csv(tmp_path / "seed_spread.csv", index_col=[0, 1])
    assert spread.loc[("B", "mean"), "triplet/order_acc"] == pytest.approx(0.8, abs=0.02)
    assert spread.loc[("B", "std"), "triplet/order_acc"] < 0.03
    summary = (tmp_path / "analysis.md").read_text()
    assert "Holm's correction over all 7" in summary and "| C1 " in summary and "rerun" in summary


def test_the_ordered_study_reads_the_reserved_split_of_both_studies(tmp_path):
    rng = np.random.default_rng(1)
    own, first = tmp_path / "ordered", tmp_path / "timed"
    args = ["analyse", "--results", str(own), "--timed-results", str(first)]
    for config, seed, threads in ordered_study.REUSED:
        _score(first / "runs", f"{config}_s{seed}_t{threads}", "heldout_9311.json", {"order_acc": 0.45}, rng)
        _score(first / "runs", f"{config}_s{seed}_t{threads}", "heldout.json", {"order_acc": 0.99}, rng)  # the other split
    with pytest.raises(SystemExit, match="6 of 22 runs have no heldout_9311.json"):
        ordered_study.main(args)
    for config, seed, threads in ordered_study.ORDER:
        _score(own / "runs", f"{config}_s{seed}_t{threads}", "heldout_9311.json", {"order_acc": 0.75}, rng)
    ordered_study.main(args)
    table = pd.read_csv(own / "comparisons.csv").set_index("name")
    assert list(table.index) == ["D1", "D2", "D3", "D4", "D5", "D6", "D7"]
    # N's triplet against A's E_joint, both on seed 9311's split (the 0.99 of the other split is not read)
    assert table.loc["D1", "diff"] == pytest.approx(0.30, abs=0.03) and table.loc["D1", "finding"]
    assert table.loc["D3", "finding"]  # R@1 equal: non-inferior by the 0.05 margin
    assert not table.loc["D5", "finding"]
    rerun = pd.read_csv(own / "rerun_noise.csv").set_index("config")
    assert set(rerun.index) == {"N", "A"} and (rerun["order_acc"] < 0.1).all()


def test_the_paths_study_compares_p_with_a_n_and_its_own_e_joint(tmp_path):
    rng = np.random.default_rng(2)
    own, timed, ordered = tmp_path / "results" / "paths_study", tmp_path / "timed", tmp_path / "ordered"
    args = ["analyse", "--results", str(own), "--timed-results", str(timed), "--ordered-results", str(ordered)]
    for config, seed, threads in paths_study.REUSED_TIMED:
        _score(timed / "runs", f"{config}_s{seed}_t{threads}", "heldout_9311.json", {"order_acc": 0.45}, rng)
    for config, seed, threads in paths_study.REUSED_ORDERED:
        _score(ordered / "runs", f"{config}_s{seed}_t{threads}", "heldout_9311.json", {"order_acc": 0.6}, rng)
    for config, seed, threads in paths_study.ORDER[:-1]:
        _score(own / "runs", f"{config}_s{seed}_t{threads}", "heldout_9311.json", {"order_acc": 0.8, "motion_acc": 0.9}, rng)
    with pytest.raises(SystemExit, match="1 of 18 runs have no heldout_9311.json"):
        paths_study.main(args)
    config, seed, threads = paths_study.ORDER[-1]
    _score(own / "runs", f"{config}_s{seed}_t{threads}", "heldout_9311.json", {"order_acc": 0.8, "motion_acc": 0.9}, rng)
    paths_study.main(args)
    table = pd.read_csv(own / "comparisons.csv").set_index("name")
    assert list(table.index) == [f"E{i}" for i in range(1, 8)]
    assert table.loc["E1", "diff"] == pytest.approx(0.35, abs=0.03) and table.loc["E1", "finding"]
    assert table.loc["E4", "diff"] == pytest.approx(0.20, abs=0.03) and table.loc["E4", "finding"]
    # within P both embeddings were made up equal: no finding, a difference near 0, read from two columns
    assert table.loc["E6", "metric"] == "triplet/order_acc" and abs(table.loc["E6", "diff"]) < 0.03
    assert not table.loc["E6", "finding"] and not table.loc["E7", "finding"]
    assert set(pd.read_csv(own / "rerun_noise.csv")["config"]) == {"P", "N", "A"}
    # what the results chapter reads of it (sclap_nb.report): each configuration's seed mean in its embedding
    analysis = report.study_analysis("paths_study", tmp_path)
    spread = analysis["seed_spread"]
    assert spread.loc[("P", "mean"), "order_acc"] == pytest.approx(0.8, abs=0.02)
    assert spread.loc[("A", "mean"), "order_acc"] == pytest.approx(0.45, abs=0.02)
    assert report.comparisons_table(analysis["comparisons"]).loc["E6", "comparison (a − b)"] == "P triplet − P joint, order_acc"
    noise = report.noise_table(analysis["seed_spread"], analysis["rerun_noise"]).set_index(["configuration", "metric"])
    assert noise.loc[("P", "order_acc"), "rerun: 2 against 1 thread"] != "" and len(noise) == 3 * 4
    summary = (own / "analysis.md").read_text()
    assert "| E7 " in summary and f"| {table.loc['E1', 'diff']:+.3f} " in summary  # signed, as computed
    # P's settings: N's, with the path slots and the temporal group term
    cfg = timed_study.config_of("P", 2025, 2, tmp_path, paths_study.CONFIGS)
    assert cfg.model.text_pooling == "clause_paths" and cfg.loss.w_temporal_group == 1.0
    assert cfg.model.temporal_readout == "ordered" and cfg.loss.negatives[-1] == "neg_m" and cfg.data.layout == "timed"


def test_the_noise_table_leaves_out_a_metric_a_configuration_lacks():
    # a baseline has no triplet embedding: its triplet/* columns are empty on every seed and get no row
    main = pd.DataFrame({"config": ["A", "A", "B", "B"], "joint/order_acc": [0.4, 0.5, 0.6, 0.7],
                         "triplet/order_acc": [np.nan, np.nan, 0.8, 0.9]})  # fmt: skip
    spread = main.groupby("config").agg(["mean", "std"]).stack(level=1, future_stack=True)
    rerun = pd.DataFrame([{"config": "A", "joint/order_acc": 0.01, "triplet/order_acc": np.nan}])
    table = report.noise_table(spread, rerun).set_index(["configuration", "metric"])
    assert list(table.index) == [("A", "joint/order_acc"), ("B", "joint/order_acc"), ("B", "triplet/order_acc")]
    assert table.loc[("B", "triplet/order_acc"), "seed mean"] == "0.850" and table.loc[("A", "joint/order_acc"), "rerun: 2 against 1 thread"] == "0.010"


def test_the_schedule_study_chooses_on_validation_then_waits_for_every_run(tmp_path):
    """scripts/schedule_study.py: the plan's rule picks the candidate with the best validation order and motion
    within 0.05 of ML's T2A R@1, ML when none beats it; analyse refuses until every run of phase 2 is scored."""
    import schedule_study as ss

    def val(order, motion, r1):
        return {"val/triplet/order_acc": order, "val/triplet/motion_acc": motion, "val/triplet/t2a/R@1": r1}

    base = val(0.60, 0.70, 0.15)
    assert ss.choose({"ML": base, "W0": val(0.80, 0.80, 0.09), "L2": val(0.65, 0.70, 0.11)}) == "L2"  # W0 lost retrieval
    assert ss.choose({"ML": base, "W0": val(0.70, 0.70, 0.15), "W0L2": val(0.70, 0.70, 0.20)}) == "W0"  # a tie: listed first
    assert ss.choose({"ML": base, "L2": val(0.60, 0.70, 0.30)}) == "ML"  # not above ML: nothing changes
    assert ss.choose({"ML": base}) == "ML"  # every candidate out
    (tmp_path / "selection.json").write_text(json.dumps({"chosen": "W0"}))
    runs = [("ML", 2025, 2), ("W0", 2025, 2)] + ss.phase2("W0")
    assert len(runs) == 11 and runs[-1] == ("W0", 2025, 1)
    rng = np.random.default_rng(3)
    args = ["analyse", "--results", str(tmp_path)]
    for config, seed, threads in runs[:-1]:
        _score(tmp_path / "runs", f"{config}_s{seed}_t{threads}", ss.SPLIT, {"order_acc": 0.8 if config == "W0" else 0.6}, rng)
    with pytest.raises(SystemExit, match="1 of 11 runs have no"):
        ss.main(args)
    _score(tmp_path / "runs", "W0_s2025_t1", ss.SPLIT, {"order_acc": 0.8}, rng)
    for d in (tmp_path / "runs").iterdir():  # the secondary figures the analysis reports
        scores = json.loads((d / ss.SPLIT).read_text())
        (d / ss.SPLIT).write_text(json.dumps({**scores, "LE_deg": 30.0 + rng.normal(0, 1)}))
    ss.main(args)
    table = pd.read_csv(tmp_path / "comparisons.csv").set_index("name")
    assert list(table.index) == ["S1", "S2", "S3"] and (table["a"] == "W0").all() and (table["n"] == 5).all()
    assert table.loc["S1", "finding"] and table.loc["S1", "diff"] == pytest.approx(0.2, abs=0.03)
    assert not table.loc["S2", "finding"] and table.loc["S3", "finding"]  # S3: non-inferiority by 0.05
    (tmp_path / "selection.json").write_text(json.dumps({"chosen": "ML"}))
    with pytest.raises(SystemExit, match="reads no test split"):
        ss.main(args)


def test_a_studys_selection_is_quoted_from_its_file_and_a_kept_run_is_not_retrained(tmp_path, monkeypatch):
    """report.selection_facts reads selection.json (the mean the plan's rule ranks, the T2A R@1); a missing file
    names the command; schedule_study.train skips a run whose test file is kept, so a study resumes."""
    import schedule_study as ss

    with pytest.raises(FileNotFoundError, match="schedule_study.py select"):
        report.selection_facts("sch", "schedule_study", tmp_path)
    folder = tmp_path / "results" / "schedule_study"
    folder.mkdir(parents=True)
    val = {"ML": {"val/triplet/order_acc": 0.5, "val/triplet/motion_acc": 0.8, "val/triplet/t2a/R@1": 0.15},
           "W0": {"val/triplet/order_acc": 0.25, "val/triplet/motion_acc": 0.5, "val/triplet/t2a/R@1": 0.05}}
    (folder / "selection.json").write_text(json.dumps({"chosen": "ML", "validation": val}))
    facts = report.selection_facts("sch", "schedule_study", tmp_path)
    assert facts == {"sch_chosen": "ML", "sch_ML_val_mean": 0.65, "sch_ML_val_t2a": 0.15, "sch_W0_val_mean": 0.375,
                     "sch_W0_val_t2a": 0.05}  # fmt: skip
    monkeypatch.setattr(ss.ts, "run", lambda *a, **k: pytest.fail("a kept run was trained again"))
    kept = folder / "runs" / "W0_s2025_t2"
    kept.mkdir(parents=True)
    (kept / ss.SPLIT).write_text("{}")
    assert ss.train("W0", 2025, 2, tmp_path / "out", folder).name == "W0_s2025_t2"
    with pytest.raises(pytest.fail.Exception, match="trained again"):  # and one not kept is trained
        ss.train("L2", 2025, 2, tmp_path / "out", folder)


def test_the_doa_study_compares_mf_with_the_reused_ml_and_reads_both_localisation_errors(tmp_path):
    """scripts/doa_study.py: MF's runs against the library study's ML, D1 reading MF's onset-free LE against ML's LE."""
    rng = np.random.default_rng(3)
    own, library = tmp_path / "results" / "doa_study", tmp_path / "library"
    args = ["analyse", "--results", str(own), "--library-results", str(library)]

    def split(folder, name, le, place):
        (folder / "runs" / name).mkdir(parents=True, exist_ok=True)
        scores = {f"mix/triplet/{m}": float(0.5 + rng.normal(0, 0.003)) for m in METRICS}
        scores.update({"mix/LE_deg": le + rng.normal(0, 0.5), "mix/triplet/place_acc": place + rng.normal(0, 0.01)})
        if name.startswith("MF"):
            scores.update({"mix/LE_blind_deg": 17.0 + rng.normal(0, 0.5), "mix/LE_frames_deg": 9.0})
        (folder / "runs" / name / "split_9661.json").write_text(json.dumps(scores))

    for config, seed, threads in doa_study.REUSED:
        split(library, f"{config}_s{seed}_t{threads}", 33.0, 0.45)
    for config, seed, threads in doa_study.ORDER[:-1]:
        split(own, f"{config}_s{seed}_t{threads}", 9.0, 0.45)
    with pytest.raises(SystemExit, match="1 runs have no split_9661.json"):
        doa_study.main(args)
    config, seed, threads = doa_study.ORDER[-1]
    split(own, f"{config}_s{seed}_t{threads}", 9.0, 0.45)
    doa_study.main(args)
    table = pd.read_csv(own / "comparisons.csv").set_index("name")
    assert list(table.index) == ["D1", "D2", "D3", "D4", "D5"]
    # D1: MF's LE without onsets (17) against ML's (33), not MF's LE with onsets (9)
    assert table.loc["D1", "metric"] == "mix/LE_blind_deg" and table.loc["D1", "b_metric"] == "mix/LE_deg"
    assert table.loc["D1", "diff"] == pytest.approx(-16.0, abs=1.0) and table.loc["D1", "finding"]
    assert not table.loc["D2", "finding"]  # place: no difference was made up
    assert table.loc["D4", "finding"] and table.loc["D5", "finding"]  # equal within the 0.05 margin
    spread = report.study_analysis("doa_study", tmp_path)["seed_spread"]
    assert spread.loc[("MF", "mean"), "mix/LE_frames_deg"] == pytest.approx(9.0) and pd.isna(spread.loc[("ML", "mean"), "mix/LE_frames_deg"])
    assert set(pd.read_csv(own / "rerun_noise.csv")["config"]) == {"ML", "MF"}


def test_the_pretrained_study_is_ml_with_the_pretrained_features_and_kept_its_runs():
    """scripts/pretrained_study.py: MP differs from the library study's ML in the semantic branch's features alone,
    and every run the plan names is kept with its split file, trained with that one setting changed."""
    assert {k: v for k, v in pretrained_study.CONFIGS["MP"].items() if library_study.CONFIGS["ML"].get(k) != v} == {
        "model.semantic_pretrained": "aisfx"}
    assert [(s, t) for _, s, t in pretrained_study.ORDER] == [(2025, 2), (2026, 2), (2027, 2), (2028, 2), (2029, 2), (2025, 1)]
    for config, seed, threads in pretrained_study.ORDER:
        kept = REPO / "results" / "pretrained_study" / "runs" / f"{config}_s{seed}_t{threads}"
        assert (kept / "split_9661.json").is_file(), kept
        run = json.loads((kept / "run.json").read_text())
        ml = json.loads((REPO / "results" / "library_study" / "runs" / f"ML_s{seed}_t{threads}" / "run.json").read_text())
        assert run["model"]["semantic_pretrained"] == "aisfx" and ml["model"].get("semantic_pretrained", "none") == "none"
        # ML's run.json predates two settings; their defaults are what it trained with
        assert {k: v for k, v in run["model"].items() if k != "semantic_pretrained"} == {"channels_last": False, **ml["model"]}


def test_the_frames_study_is_mp_with_the_frames_and_compares_with_both_reused_configurations(tmp_path):
    """scripts/frames_study.py: MT differs from the pretrained study's MP in the temporal path's frames alone; its
    analysis pairs MT with MP (T1-T4) and with ML (T5), each read from its own study, and refuses until all are there."""
    assert {k: v for k, v in frames_study.CONFIGS["MT"].items() if pretrained_study.CONFIGS["MP"].get(k) != v} == {
        "model.temporal_pretrained": True}
    rng = np.random.default_rng(4)
    own, pre, library = tmp_path / "results" / "frames_study", tmp_path / "pre", tmp_path / "library"
    args = ["analyse", "--results", str(own), "--pretrained-results", str(pre), "--library-results", str(library)]

    def split(folder, name, order):
        (folder / "runs" / name).mkdir(parents=True, exist_ok=True)
        scores = {f"mix/triplet/{m}": float(0.6 + rng.normal(0, 0.003)) for m in METRICS}
        scores["mix/triplet/order_acc"] = order + rng.normal(0, 0.01)
        (folder / "runs" / name / "split_9661.json").write_text(json.dumps(scores))

    seeds = [(s, 2) for s in range(2025, 2030)] + [(2025, 1)]
    for seed, threads in seeds:
        split(library, f"ML_s{seed}_t{threads}", 0.50)
        split(pre, f"MP_s{seed}_t{threads}", 0.70)
    for config, seed, threads in frames_study.ORDER[:-1]:
        split(own, f"{config}_s{seed}_t{threads}", 0.70)
    with pytest.raises(SystemExit, match="1 runs have no split_9661.json"):
        frames_study.main(args)
    config, seed, threads = frames_study.ORDER[-1]
    split(own, f"{config}_s{seed}_t{threads}", 0.70)
    frames_study.main(args)
    table = pd.read_csv(own / "comparisons.csv").set_index("name")
    assert list(table.index) == ["T1", "T2", "T3", "T4", "T5"] and list(table["b"]) == ["MP"] * 4 + ["ML"]
    assert not table.loc["T1", "finding"] and table.loc["T1", "diff"] == pytest.approx(0.0, abs=0.03)  # equal to MP
    assert table.loc["T5", "finding"] and table.loc["T5", "diff"] == pytest.approx(0.2, abs=0.03)  # above ML
    assert set(pd.read_csv(own / "rerun_noise.csv")["config"]) == {"MP", "ML", "MT"}


def test_the_aligned_study_is_mt_with_the_aligned_scores_and_compares_across_scorers(tmp_path):
    """scripts/aligned_study.py: MA differs from the frames study's MT in the aligned scores alone; its analysis
    pairs MA's aligned scorer (A1-A3) and its triplet embedding (A4, A5) with MT's triplet embedding, read from the
    frames study's runs, and refuses until all are there."""
    assert {k: v for k, v in aligned_study.CONFIGS["MA"].items() if frames_study.CONFIGS["MT"].get(k) != v} == {
        "model.align_dim": 256, "loss.w_align": 1.0}
    rng = np.random.default_rng(5)
    own, frames = tmp_path / "results" / "aligned_study", tmp_path / "frames"
    args = ["analyse", "--results", str(own), "--frames-results", str(frames)]

    def split(folder, name, triplet_order, aligned_order=None):
        (folder / "runs" / name).mkdir(parents=True, exist_ok=True)
        scores = {f"mix/{e}/{m}": float(0.6 + rng.normal(0, 0.003)) for e in ("triplet", "aligned") for m in METRICS}
        scores["mix/triplet/order_acc"] = triplet_order + rng.normal(0, 0.01)
        if aligned_order is None:  # MT has no aligned scores
            scores = {k: v for k, v in scores.items() if "/aligned/" not in k}
        else:
            scores["mix/aligned/order_acc"] = aligned_order + rng.normal(0, 0.01)
        (folder / "runs" / name / "split_9661.json").write_text(json.dumps(scores))

    for seed, threads in [(s, 2) for s in range(2025, 2030)] + [(2025, 1)]:
        split(frames, f"MT_s{seed}_t{threads}", 0.60)
    for config, seed, threads in aligned_study.ORDER[:-1]:
        split(own, f"{config}_s{seed}_t{threads}", 0.60, 0.85)
    with pytest.raises(SystemExit, match="1 runs have no split_9661.json"):
        aligned_study.main(args)
    config, seed, threads = aligned_study.ORDER[-1]
    split(own, f"{config}_s{seed}_t{threads}", 0.60, 0.85)
    aligned_study.main(args)
    table = pd.read_csv(own / "comparisons.csv").set_index("name")
    assert list(table.index) == ["A1", "A2", "A3", "A4", "A5"] and set(table["b"]) == {"MT"}
    assert table.loc["A1", "finding"] and table.loc["A1", "diff"] == pytest.approx(0.25, abs=0.03)  # aligned over triplet
    assert not table.loc["A4", "finding"] and table.loc["A4", "diff"] == pytest.approx(0.0, abs=0.03)  # triplet unchanged
    assert set(pd.read_csv(own / "rerun_noise.csv")["config"]) == {"MT", "MA"}


def test_the_scorers_study_trains_nothing_and_compares_the_combined_scorer_with_both_parts_and_mt(tmp_path, monkeypatch):
    """scripts/scorers_study.py: it scores the exports of MT and MA only (a missing export stops it, nothing is
    trained); its analysis pairs MA's combined scorer with MT's triplet embedding (S1-S3) and with MA's own two
    parts (S4-S6) on the split of seed 4817, and refuses until all twelve runs are scored."""
    assert scorers_study.SPLIT == "split_4817.json" and scorers_study.SPLIT_SEED not in (9661, 9787)
    assert [c["name"] for c in scorers_study.COMPARISONS] == ["S1", "S2", "S3", "S4", "S5", "S6"]
    assert len(scorers_study.REPORTED) == len(set(scorers_study.REPORTED))
    monkeypatch.setattr(scorers_study, "splits", lambda: {})
    monkeypatch.setitem(scorers_study.EXPORTS, "MT", tmp_path / "none")
    with pytest.raises(SystemExit, match="no export"):
        scorers_study.main(["score", "--results", str(tmp_path / "unused")])
    rng = np.random.default_rng(7)
    own = tmp_path / "results" / "scorers_study"
    levels = {"MT": {"triplet": (0.60, 0.80, 0.25)},  # order, motion, R@1
              "MA": {"triplet": (0.62, 0.80, 0.25), "aligned": (0.75, 0.50, 0.30), "combined": (0.72, 0.79, 0.36)}}

    def split(config, seed, threads):
        scores = {}
        for e, (order, motion, r1) in levels[config].items():
            for m, v in (("order_acc", order), ("motion_acc", motion), ("t2a/R@1", r1), ("place_acc", 0.5)):
                scores[f"mix/{e}/{m}"] = float(v + rng.normal(0, 0.005))
        (own / "runs" / f"{config}_s{seed}_t{threads}").mkdir(parents=True, exist_ok=True)
        (own / "runs" / f"{config}_s{seed}_t{threads}" / "split_4817.json").write_text(json.dumps(scores))

    for config in ("MT", "MA"):
        for seed, threads in scorers_study.RUNS[: -1 if config == "MA" else None]:
            split(config, seed, threads)
    with pytest.raises(SystemExit, match="1 runs have no split_4817.json"):
        scorers_study.main(["analyse", "--results", str(own)])
    split("MA", *scorers_study.RUNS[-1])
    scorers_study.main(["analyse", "--results", str(own)])
    table = pd.read_csv(own / "comparisons.csv").set_index("name")
    assert table.loc["S1", "diff"] == pytest.approx(0.12, abs=0.02) and table.loc["S1", "finding"]
    assert table.loc["S4", "diff"] == pytest.approx(0.29, abs=0.02) and table.loc["S4", "finding"]
    assert table.loc["S6", "b"] == "MA" and table.loc["S6", "diff"] == pytest.approx(0.10, abs=0.02)
    assert table.loc["S2", "margin"] == 0.05 and table.loc["S2", "finding"]  # -0.01 is within the margin
    assert set(pd.read_csv(own / "rerun_noise.csv")["config"]) == {"MT", "MA"}


def test_the_ends_study_is_ma_with_the_ends_as_items_and_reads_the_scorers_studys_scores(tmp_path):
    """scripts/ends_study.py: ME differs from MA in the path items alone; its analysis pairs ME with MA's and MT's
    scores of results/scorers_study on the split of seed 4817 and refuses until all its own runs are scored."""
    assert {k: v for k, v in ends_study.CONFIGS["ME"].items() if aligned_study.CONFIGS["MA"].get(k) != v} == {
        "model.align_path_items": "ends"}
    assert ends_study.SPLIT == "split_4817.json" and len(ends_study.REPORTED) == len(set(ends_study.REPORTED))
    rng = np.random.default_rng(11)
    own, scorers = tmp_path / "ends", tmp_path / "scorers"
    args = ["analyse", "--results", str(own), "--scorers-results", str(scorers)]

    def split(folder, name, aligned_motion, combined_order):
        scores = {f"mix/{e}/{m}": float(0.6 + rng.normal(0, 0.005)) for e in ("triplet", "aligned", "combined") for m in METRICS}
        scores["mix/aligned/motion_acc"] = aligned_motion + rng.normal(0, 0.01)
        scores["mix/combined/order_acc"] = combined_order + rng.normal(0, 0.01)
        if name.startswith("MT"):
            scores = {k: v for k, v in scores.items() if "/triplet/" in k}
        (folder / "runs" / name).mkdir(parents=True, exist_ok=True)
        (folder / "runs" / name / "split_4817.json").write_text(json.dumps(scores))

    for config in ("MA", "MT"):
        for seed, threads in scorers_study.RUNS:
            split(scorers, f"{config}_s{seed}_t{threads}", 0.5, 0.75)
    for config, seed, threads in ends_study.ORDER[:-1]:
        split(own, f"{config}_s{seed}_t{threads}", 0.7, 0.75)
    with pytest.raises(SystemExit, match="1 runs have no split_4817.json"):
        ends_study.main(args)
    split(own, "ME_s2025_t1", 0.7, 0.75)
    ends_study.main(args)
    table = pd.read_csv(own / "comparisons.csv").set_index("name")
    assert list(table.index) == ["E1", "E2", "E3", "E4", "E5"]
    assert table.loc["E1", "b"] == "MA" and table.loc["E1", "diff"] == pytest.approx(0.2, abs=0.03) and table.loc["E1", "finding"]
    assert table.loc["E4", "margin"] == 0.05 and table.loc["E4", "diff"] == pytest.approx(0.0, abs=0.03)
    assert set(pd.read_csv(own / "rerun_noise.csv")["config"]) == {"MA", "MT", "ME"}


def test_the_epochs_study_is_me_trained_longer_and_reads_the_ends_and_scorers_studys_scores(tmp_path):
    """scripts/epochs_study.py: ME12 differs from ME in its number of epochs alone; its analysis pairs ME12 with ME's
    scores of results/ends_study and MT's of results/scorers_study on the split of seed 4817, and refuses until all
    its own runs are scored."""
    assert {k: v for k, v in epochs_study.CONFIGS["ME12"].items() if ends_study.CONFIGS["ME"].get(k) != v} == {"optim.epochs": 12}
    assert epochs_study.SPLIT == "split_4817.json" and len(epochs_study.REPORTED) == len(set(epochs_study.REPORTED))
    rng = np.random.default_rng(12)
    own, ends, scorers = tmp_path / "epochs", tmp_path / "ends", tmp_path / "scorers"
    args = ["analyse", "--results", str(own), "--ends-results", str(ends), "--scorers-results", str(scorers)]

    def split(folder, name, level):
        scores = {f"mix/{e}/{m}": float(level + rng.normal(0, 0.01)) for e in ("triplet", "aligned", "combined") for m in METRICS}
        if name.startswith("MT"):
            scores = {k: v for k, v in scores.items() if "/triplet/" in k}
        (folder / "runs" / name).mkdir(parents=True, exist_ok=True)
        (folder / "runs" / name / "split_4817.json").write_text(json.dumps(scores))

    for seed, threads in scorers_study.RUNS:
        split(ends, f"ME_s{seed}_t{threads}", 0.7)
        split(scorers, f"MT_s{seed}_t{threads}", 0.7)
    for config, seed, threads in epochs_study.ORDER[:-1]:
        split(own, f"{config}_s{seed}_t{threads}", 0.9)
    with pytest.raises(SystemExit, match="1 runs have no split_4817.json"):
        epochs_study.main(args)
    split(own, "ME12_s2025_t1", 0.9)
    epochs_study.main(args)
    table = pd.read_csv(own / "comparisons.csv").set_index("name")
    assert list(table.index) == ["L1", "L2", "L3", "L4", "L5"]
    assert list(table["b"]) == ["ME", "ME", "ME", "MT", "MT"]
    assert list(table["b_metric"])[3:] == ["mix/triplet/order_acc", "mix/triplet/motion_acc"]
    assert table["diff"].to_numpy() == pytest.approx([0.2] * 5, abs=0.03) and table["finding"].all()
    assert set(pd.read_csv(own / "rerun_noise.csv")["config"]) == {"ME", "MT", "ME12"}
    goal = pd.read_csv(own / "goal.csv").set_index("metric")
    assert list(goal.index) == ["mix/combined/order_acc", "mix/combined/motion_acc"] and (goal["seeds"] == 5).all()
    assert goal["mean"].to_numpy() == pytest.approx([0.9, 0.9], abs=0.02)
    assert "## The goal (not a test)" in (own / "analysis.md").read_text()
    made = pd.DataFrame({"config": "ME12", "seed": [1, 2, 3, 1], "threads": [2, 2, 2, 1],
                         "mix/combined/order_acc": [0.95, 0.96, 0.94, 0.0], "mix/combined/motion_acc": [0.95, 0.85, 0.96, 1.0]})
    g = epochs_study.goal_table(made).set_index("metric")  # the 1-thread rerun is not a seed
    assert g.loc["mix/combined/order_acc", "mean"] == pytest.approx(0.95) and g.loc["mix/combined/order_acc", "met_with_interval"]
    assert g.loc["mix/combined/motion_acc", "met"] and not g.loc["mix/combined/motion_acc", "met_with_interval"]


def _timed_embeddings(scenes: int = 12, seed: int = 0) -> dict:
    """Made-up embeddings of a timed split as ``embed_split`` returns them: ``scenes`` groups of the five roles."""
    from sclap_nb.metrics import TIMED_GROUP_ROLES

    g = torch.Generator().manual_seed(seed)
    n = scenes * len(TIMED_GROUP_ROLES)
    unit = lambda *shape: torch.nn.functional.normalize(torch.randn(*shape, generator=g), dim=-1)  # noqa: E731
    return {"roles": list(TIMED_GROUP_ROLES) * scenes, "captions": [f"caption {i}" for i in range(n)],
            "text_comb": unit(n, 8), "e_triplet": unit(n, 8), "t_items": unit(n, 3, 6), "a_frames": unit(n, 5, 6)}


def test_the_weight_studys_scores_at_weight_1_are_the_combined_scorers_of_metrics_json():
    """weight_study.weight_metrics: the sum at w = 1 counts order, place, motion and T2A R@1 as the evaluation's combined
    scorer does, the aligned scores alone as the evaluation's aligned ones, and another weight gives other scores."""
    from sclap_nb.evaluation import _combined_metrics, retrieval_rows
    from sclap_nb.metrics import order_place_accuracy
    from sclap_nb.model import aligned_pair_scores

    emb = _timed_embeddings()
    ours = weight_study.weight_metrics(emb, (1.0, 8.0), aligned_alone=True)
    theirs = _combined_metrics(emb, emb["roles"], retrieval_rows(emb["captions"], emb["roles"]), True)
    aligned = order_place_accuracy(emb["a_frames"], emb["t_items"], emb["roles"], pair_score=aligned_pair_scores)
    for m in ("order_acc", "place_acc", "motion_acc", "t2a/R@1"):
        assert ours[f"combined_w1/{m}"] == pytest.approx(theirs[m]), m
    for m in ("order_acc", "place_acc", "motion_acc"):
        assert ours[f"aligned/{m}"] == pytest.approx(aligned[m]), m
    assert any(ours[f"combined_w8/{m}"] != ours[f"combined_w1/{m}"] for m in METRICS)


def test_the_weight_study_chooses_its_weight_on_validation_and_compares_as_its_plan_says(tmp_path):
    """scripts/weight_study.py: the weight with the best mean validation order among those keeping the motion (a tie to
    the smaller, 1 if none); analyse refuses without every seed's validation file, then runs W1-W3 (W3 alone at w* 1)."""
    wkey = weight_study.wkey
    assert weight_study.CONFIGS["ME12"] == epochs_study.CONFIGS["ME12"] and weight_study.STORED == ("ME12", 2025, 2)

    def val(order: dict, motion: dict) -> pd.DataFrame:
        row = {f"{wkey(w)}/{m}": level[w] for w in order for m, level in (("order_acc", order), ("motion_acc", motion))}
        return pd.DataFrame([row, row])

    ws = weight_study.WEIGHTS
    assert weight_study.choose_weight(val(dict(zip(ws, [0.7, 0.8, 0.85, 0.88, 0.9])), dict.fromkeys(ws, 0.97))) == 8.0
    assert weight_study.choose_weight(val(dict(zip(ws, [0.7, 0.8, 0.85, 0.88, 0.9])), dict(zip(ws, [1, 1, 1, 0.96, 0.94])))) == 4.0
    assert weight_study.choose_weight(val(dict(zip(ws, [0.7, 0.9, 0.9, 0.8, 0.8])), dict.fromkeys(ws, 0.97))) == 1.0
    assert weight_study.choose_weight(val(dict(zip(ws, [0.7, 0.8, 0.9, 0.9, 0.8])), dict.fromkeys(ws, 0.97))) == 2.0
    assert weight_study.choose_weight(val(dict.fromkeys(ws, 0.9), dict.fromkeys(ws, 0.5))) == 1.0

    rng = np.random.default_rng(3)
    own = tmp_path / "weight"
    args = ["analyse", "--results", str(own)]
    for config, seed, threads in weight_study.ORDER:
        where = own / "runs" / f"{config}_s{seed}_t{threads}"
        where.mkdir(parents=True)
        split = {f"{s}/{e}/{m}": float(0.8 + rng.normal(0, 0.01)) for s in ("mix", "sf", "lib")
                 for e in ("aligned", "combined", "triplet", *map(wkey, ws)) for m in (*METRICS, "vs_neg_c", "vs_neg_t")}
        split.update({f"mix/{wkey(4.0)}/order_acc": 0.9 + rng.normal(0, 0.01), "sf/aligned/vs_neg_c": 0.95 + rng.normal(0, 0.01)})
        (where / "split_4817.json").write_text(json.dumps(split))
        if seed != 2029 or threads != 2:
            levels = {wkey(w): (o, m) for w, o, m in zip(ws, [0.7, 0.8, 0.85, 0.88, 0.9], [1, 1, 1, 0.96, 0.94])}
            (where / "val_6263.json").write_text(json.dumps({f"{k}/{n}": v for k, (o, m) in levels.items()
                                                             for n, v in (("order_acc", o), ("motion_acc", m), ("place_acc", o), ("t2a/R@1", o))}
                                                            | {f"aligned/{n}": 0.9 for n in METRICS}))  # fmt: skip
    with pytest.raises(SystemExit, match="val_6263.json: missing"):
        weight_study.main(args)
    (own / "runs" / "ME12_s2029_t2" / "val_6263.json").write_text((own / "runs" / "ME12_s2028_t2" / "val_6263.json").read_text())
    weight_study.main(args)
    assert json.loads((own / "weight.json").read_text())["chosen"] == 4.0
    table = pd.read_csv(own / "comparisons.csv").set_index("name")
    assert list(table.index) == ["W1", "W2", "W3"] and table.loc["W2", "margin"] == 0.05
    assert table.loc["W1", "metric"] == "mix/combined_w4/order_acc" and table.loc["W1", "diff"] == pytest.approx(0.1, abs=0.03)
    assert table.loc["W3", "diff"] == pytest.approx(0.15, abs=0.03) and table.loc["W3", "finding"]
    goal = pd.read_csv(own / "goal.csv").set_index("metric")
    assert "mix/combined_w4/order_acc" in goal.index and (goal["seeds"] == 5).all()
    assert [c["name"] for c in weight_study.comparisons(1.0)] == ["W3"]


def test_the_weight_studys_decision_gives_the_stored_export_the_chosen_weight(tmp_path):
    """weight_study decide: the export records the chosen weight only where W1 and W2 are both findings; the stored
    export of ME12 records what the committed analysis decided."""
    export = tmp_path / "model"
    export.mkdir()
    (export / "config.json").write_text(json.dumps({"embeddings": {"audio": ["triplet", "aligned", "combined"]}}))
    results = tmp_path / "results"
    results.mkdir()
    (results / "weight.json").write_text(json.dumps({"chosen": 4.0}))
    args = ["decide", "--results", str(results), "--export", str(export)]
    for w2, want in ((False, None), (True, 4.0)):
        pd.DataFrame({"name": ["W1", "W2", "W3"], "finding": [True, w2, False]}).to_csv(results / "comparisons.csv", index=False)
        weight_study.main(args)
        assert json.loads((export / "config.json").read_text())["embeddings"].get("combined_weight") == want
    stored = REPO / "results" / "weight_study"
    table = pd.read_csv(stored / "comparisons.csv").set_index("name")
    decided = bool(table.loc["W1", "finding"] and table.loc["W2", "finding"]) if "W2" in table.index else False
    recorded = json.loads((weight_study.STORED_EXPORT / "config.json").read_text())["embeddings"].get("combined_weight")
    assert recorded == (json.loads((stored / "weight.json").read_text())["chosen"] if decided else None)

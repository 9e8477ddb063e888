"""The tables and figures of the results chapter and its appendices, computed from the stored runs.

Every function here reads runs by name through :mod:`sclap_nb.results` (``root``: a folder holding
``results/``; None: this checkout's) or takes tables that were read so, and returns a table, a dict of
the numbers the prose quotes, or a figure; none writes a file. The chapters show the call and the
table; the statistics (paired differences and t-intervals) are :mod:`sclap_nb.ablation`'s, the scores
:mod:`sclap_nb.metrics`'.

Nothing in the package imports this module: it sits at the edge, beside the notebooks.
"""

from __future__ import annotations

import json
import math
import os
import re

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import seaborn as sns
import torch

from .ablation import (
    CONFIGS,
    comparison_label,
    experiments_table,
    paired_differences,
    ratio_interval,
    slug,
    t_interval,
    with_best,
)
from .data import SECTOR_WORDS, sector_of
from .metrics import GROUP_ROLES
from .results import load_run, load_runs, load_study, results_dir
from .viz import EMBEDDING_PALETTE, ROLE_PALETTE, class_palette

__all__ = [
    "CORPUS_METRICS", "CUE_METRICS", "CUE_RUNS", "GRL_METRICS", "GRL_RUNS", "PROBE_COLUMNS", "PROBE_KEYS",
    "PROBE_RUNS", "RATIO_GOAL", "SCENE_TESTS", "STUDY_FILES", "SWEEP", "SWEEP_METRICS", "TOKEN_NORM_METRICS",
    "ablation_facts", "ablation_table", "analysis_markdown", "comparisons_table", "corpus_table", "cue_facts",
    "cue_table", "difference_table", "experiments_with_default", "format_table", "goal_facts", "goal_rows",
    "goals_table", "grl_table", "group_spread", "last_validation", "noise_table", "paired_cells", "permutation_p", "plot_per_class",
    "plot_per_direction", "plot_run_bars", "plot_scores", "probe_facts", "probe_table", "run_kind", "scene_outcomes", "spread_facts",
    "study_analysis", "study_facts", "sweep_facts", "sweep_table", "token_norm_comparison", "token_norm_runs",
]  # fmt: skip

Root = str | os.PathLike | None


# --------------------------------------------------------------------------- the goals


def goal_rows(m: dict) -> list[tuple[str, str, float, bool]]:
    """(goal, target, value, passed) of every goal judged on one run's ``metrics.json`` (empty: no run)."""
    if not m:
        return []
    get = lambda k: m.get(k, float("nan"))
    below = lambda k, limit: (get(k), get(k) <= limit)
    rows = [
        ("order: triplet order_acc", ">= 0.95", get("triplet/order_acc"), get("triplet/order_acc") >= 0.95),
        ("place: triplet place_acc", ">= 0.95", get("triplet/place_acc"), get("triplet/place_acc") >= 0.95),
        ("temporal 3-way accuracy (triplet)", ">= 0.95", get("triplet/3way_temporal"), get("triplet/3way_temporal") >= 0.95),
        ("spatial 3-way accuracy (triplet)", ">= 0.95", get("triplet/3way_spatial"), get("triplet/3way_spatial") >= 0.95),
    ]
    order_gap = get("triplet/order_acc") - get("joint/order_acc")
    r1_gap = get("triplet/t2a/R@1") - get("joint/t2a/R@1")
    rows += [
        ("triplet order_acc minus E_joint's", "> 0", order_gap, order_gap > 0),
        ("triplet T2A R@1 minus E_joint's", ">= -0.02", r1_gap, r1_gap >= -0.02),
        ("reference direction_only: order_acc", "<= 0.55", *below("reference/direction_only/order_acc", 0.55)),
        ("reference order_blind: order_acc", "<= 0.55", *below("reference/order_blind/order_acc", 0.55)),
        ("reference direction_only: place_acc", "<= 0.55", *below("reference/direction_only/place_acc", 0.55)),
        ("reference sound_order: place_acc", "<= 0.55", *below("reference/sound_order/place_acc", 0.55)),
        ("localisation error (degrees)", "<= 10", *below("LE_deg", 10)),
        ("modality probe accuracy", "<= 0.65", *below("modality/probe_acc", 0.65)),
        ("main job, total time (minutes)", "<= 5", get("total_seconds") / 60, get("total_seconds") / 60 <= 5),
    ]
    return rows


RATIO_GOAL = "all / baseline T2A R@1, 3 seeds (CI excludes 1)"


def goals_table(metrics: dict, metrics2026: dict, ablation: pd.DataFrame) -> pd.DataFrame:
    """Every goal: its target, the default run's value and verdict (PASS / MISS), the same for the run with
    seed 2026 (where there is one), and the ablation's goal (the full model's T2A R@1 over the baseline's,
    paired by seed, :func:`sclap_nb.ablation.ratio_interval`)."""
    rows = {g: {"target": t, "seed 2025": v, "verdict": "PASS" if ok else "MISS"} for g, t, v, ok in goal_rows(metrics)}
    for g, _, v, ok in goal_rows(metrics2026):
        rows[g].update({"seed 2026": v, "verdict 2026": "PASS" if ok else "MISS"})
    ratio = ratio_interval(ablation, "all", "best/t2a/R@1")
    ok = ratio["ratio"] >= 1.5 and ratio["low"] > 1
    rows[RATIO_GOAL] = {"target": ">= 1.5", "seed 2025": ratio["ratio"], "verdict": "PASS" if ok else "MISS",
                        "seed 2026": float("nan"), "verdict 2026": f"interval [{ratio['low']:.2f}, {ratio['high']:.2f}]"}
    return pd.DataFrame(rows).T


def goal_facts(metrics: dict, metrics2026: dict, ablation: pd.DataFrame, goals: pd.DataFrame, n_test: int) -> dict:
    """The numbers the prose about the goals quotes (keys ``goal_*``, ``goal26_*``, ``n_pass``, ``ratio_*``)."""
    base_r1 = with_best(ablation).groupby("config")["best/t2a/R@1"].mean()["SALM baseline"]
    ratio = ratio_interval(ablation, "all", "best/t2a/R@1")
    facts = {
        "n_goals": len(goals), "n_pass": int((goals["verdict"] == "PASS").sum()),
        "ratio_all": ratio["ratio"], "ratio_low": ratio["low"], "ratio_high": ratio["high"],
        "goal_order": metrics["triplet/order_acc"], "goal_order_won": round(metrics["triplet/order_acc"] * n_test),
        "goal_order_need": math.ceil(0.95 * n_test), "goal_n_test": n_test,
        "goal_order_gap": metrics["triplet/order_acc"] - metrics["joint/order_acc"],
        "goal_r1": metrics["triplet/t2a/R@1"], "goal_r1_gap": metrics["triplet/t2a/R@1"] - metrics["joint/t2a/R@1"],
        "goal_le": metrics["LE_deg"], "goal_probe": metrics["modality/probe_acc"], "goal_minutes": metrics["total_seconds"] / 60,
        "goal_3way_min": min(metrics[f"triplet/3way_{k}"] for k in ("temporal", "spatial")),
        "goal_ref_dir": metrics["reference/direction_only/order_acc"],
        "goal_base_r1": base_r1, "goal_r1_needed": 1.5 * base_r1,
    }  # fmt: skip
    if metrics2026:
        facts.update({
            "goal26_order": metrics2026["triplet/order_acc"], "goal26_le": metrics2026["LE_deg"],
            "goal26_probe": metrics2026["modality/probe_acc"], "goal26_minutes": metrics2026["total_seconds"] / 60,
            "goal26_ref_dir": metrics2026["reference/direction_only/order_acc"],
            "goal26_order_gap": metrics2026["triplet/order_acc"] - metrics2026["joint/order_acc"],
            "n_pass26": int((goals["verdict 2026"] == "PASS").sum()),
            "n_goals26": int(goals["verdict 2026"].isin(["PASS", "MISS"]).sum()),
        })  # fmt: skip
    return facts


def format_table(table: pd.DataFrame, digits: int = 3) -> pd.DataFrame:
    """Floats with ``digits`` decimals, NaN as an empty cell, anything else as it is (a table for reading)."""
    fmt = lambda v: "" if isinstance(v, float) and np.isnan(v) else f"{v:.{digits}f}" if isinstance(v, float) else v
    return table.map(fmt)


# --------------------------------------------------------------------------- the ablation


def ablation_table(root: Root = None) -> pd.DataFrame:
    """One row per run of the ablation (``results/ablation/runs``), its configuration by the name of
    :data:`sclap_nb.ablation.CONFIGS` (the folders hold its slug), in the ablation's order, with
    ``best/t2a/R@1`` (:func:`sclap_nb.ablation.with_best`)."""
    study = load_study("ablation/runs", root)
    if study.empty:
        raise FileNotFoundError(f"{results_dir(root) / 'ablation' / 'runs'}: no finished run of the ablation")
    names = {slug(n): n for n in CONFIGS}
    unknown = sorted(set(study["config"]) - set(names))
    if unknown:
        raise ValueError(f"{results_dir(root) / 'ablation' / 'runs'}: runs of no configuration of the ablation: {unknown}")
    study["config"] = study["config"].map(names)
    rank = {n: i for i, n in enumerate(CONFIGS)}
    study = study.sort_values(["config", "seed"], key=lambda s: s.map(rank) if s.name == "config" else s)
    return with_best(study.drop(columns="path").reset_index(drop=True))


def ablation_facts(ablation: pd.DataFrame) -> dict:
    """The numbers the prose about the ablation quotes (keys ``abl_*`` and ``ref_*``)."""
    t = with_best(ablation)
    by_seed = lambda config, col: t[t["config"] == config].set_index("seed")[col]
    d_grl = (by_seed("+GRL", "best/t2a/R@1") - by_seed("SALM baseline", "best/t2a/R@1")).sort_index()
    per_config = t.groupby("config")
    first = t.groupby("seed").first()  # the reference scorers: one value per seed's test split
    facts = {
        "abl_base_order": by_seed("SALM baseline", "joint/order_acc").mean(),
        "abl_base_order_sd": by_seed("SALM baseline", "joint/order_acc").std(ddof=1),
        "abl_all_order": by_seed("all", "triplet/order_acc").mean(),
        "abl_all_order_sd": by_seed("all", "triplet/order_acc").std(ddof=1),
        "abl_all_t2a_triplet": by_seed("all", "triplet/t2a/R@1").mean(),
        "abl_all_t2a_joint": by_seed("all", "joint/t2a/R@1").mean(),
        "abl_grl_lowers": int((d_grl < 0).sum()), "abl_grl_d_min": -d_grl.max(), "abl_grl_d_max": -d_grl.min(),
        "abl_le_min": per_config["LE_deg"].mean().min(), "abl_le_max": per_config["LE_deg"].mean().max(),
        "abl_le_run_min": t["LE_deg"].min(), "abl_le_run_max": t["LE_deg"].max(),
        "abl_3way_min": t[["joint/3way_temporal", "joint/3way_spatial"]].min().min(),
        "abl_order_eq_place": bool((t["joint/order_acc"] == t["joint/place_acc"]).all()),
        "abl_vs_neg_t_min": t["joint/vs_neg_t"].min(), "abl_vs_neg_s_min": t["joint/vs_neg_s"].min(),
        "ref_dir_vs_t": t["reference/direction_only/vs_neg_t"].min(), "ref_dir_vs_s": t["reference/direction_only/vs_neg_s"].min(),
        "ref_dir_order_mean": first["reference/direction_only/order_acc"].mean(),
        "ref_blind_order_mean": first["reference/order_blind/order_acc"].mean(),
        "ref_sound_place_mean": first["reference/sound_order/place_acc"].mean(),
        "ref_sound_order_mean": first["reference/sound_order/order_acc"].mean(),
        "abl_order_min": per_config["joint/order_acc"].mean().min(),
        "abl_order_max": per_config["joint/order_acc"].mean().max(),
    }  # fmt: skip
    four_way = paired_differences(ablation, "all", metrics=["triplet/order_acc"], configs=["all, 4-way with neg_c"]).iloc[0]
    facts.update({"abl_4way_d_ord": four_way["diff"], "abl_4way_lo_ord": four_way["ci_low"], "abl_4way_hi_ord": four_way["ci_high"]})
    return facts


def paired_cells(paired: pd.DataFrame, labels: dict[str, str], order: list[str] | None = None, digits: int = 3) -> pd.DataFrame:
    """A table of :func:`sclap_nb.ablation.paired_differences`: one row per configuration (in ``order``),
    one column per metric of ``labels`` (metric -> column title), each cell "difference [95 % interval]"."""
    cell = lambda r: f"{r.diff:+.{digits}f} [{r.ci_low:+.{digits}f}, {r.ci_high:+.{digits}f}]"
    p = paired[paired["metric"].isin(labels)]
    table = (p.assign(cell=[cell(r) for r in p.itertuples()], metric=p["metric"].map(labels))
             .pivot(index="config", columns="metric", values="cell"))  # fmt: skip
    order = order or list(dict.fromkeys(p["config"]))
    return table.loc[[c for c in order if c in table.index], [v for v in labels.values() if v in table.columns]]


# --------------------------------------------------------------------------- the sweep of the departures

#: the sweep's configurations, in the order the book shows them (``all``: the specification's settings)
SWEEP = ["all", "doa_halves", "mean4", "concat4", "concat4_halves", "concat4_iso_circ"]
#: the metrics of the sweep's paired table: metric -> column title
SWEEP_METRICS = {"best/t2a/R@1": "T2A R@1 (better emb.)", "joint/t2a/R@1": "T2A R@1 (E_joint)",
                 "triplet/order_acc": "order_acc (triplet)", "joint/order_acc": "order_acc (E_joint)",
                 "LE_deg": "LE (degrees)", "modality/probe_acc": "probe accuracy"}  # fmt: skip


def sweep_table(root: Root = None) -> pd.DataFrame:
    """One row per run of the sweep (``results/sweep/runs``), with ``best/t2a/R@1``."""
    study = load_study("sweep/runs", root)
    if study.empty:
        raise FileNotFoundError(f"{results_dir(root) / 'sweep' / 'runs'}: no finished run of the sweep")
    return with_best(study.drop(columns="path"))


def sweep_facts(sweep: pd.DataFrame, n_test: int) -> dict:
    """The numbers the prose about the sweep quotes (keys ``sw_*``): paired differences from ``all`` (d, lo,
    hi), means and sample sds per configuration, the readout's comparison (``concat4`` - ``mean4``) and how
    far the two embeddings' ``order_acc`` ever part."""
    pair = paired_differences(sweep, "all", metrics=list(SWEEP_METRICS), configs=SWEEP[1:]).set_index(["config", "metric"])
    facts: dict = {}
    for key, (c, m) in {"le_halves": ("doa_halves", "LE_deg"), "r1j_halves": ("doa_halves", "joint/t2a/R@1"),
                        "le_c4h": ("concat4_halves", "LE_deg"), "ord_c4": ("concat4", "triplet/order_acc"),
                        "r1_c4": ("concat4", "best/t2a/R@1"), "ord_m4": ("mean4", "triplet/order_acc"),
                        "r1_m4": ("mean4", "best/t2a/R@1"), "ord_c4h": ("concat4_halves", "triplet/order_acc"),
                        "r1_c4h": ("concat4_halves", "best/t2a/R@1")}.items():  # fmt: skip
        r = pair.loc[(c, m)]
        facts.update({f"sw_d_{key}": r["diff"], f"sw_lo_{key}": r["ci_low"], f"sw_hi_{key}": r["ci_high"]})
    for key, (c, m) in {"all_le": ("all", "LE_deg"), "halves_le": ("doa_halves", "LE_deg"), "c4h_le": ("concat4_halves", "LE_deg"),
                        "all_ord": ("all", "triplet/order_acc"), "c4_ord": ("concat4", "triplet/order_acc"),
                        "c4h_ord": ("concat4_halves", "triplet/order_acc"), "iso_ord": ("concat4_iso_circ", "triplet/order_acc"),
                        "iso_r1": ("concat4_iso_circ", "best/t2a/R@1"), "all_r1": ("all", "best/t2a/R@1")}.items():  # fmt: skip
        v = sweep.loc[sweep["config"] == c, m]
        facts[f"sw_{key}"], facts[f"sw_{key}_sd"] = v.mean(), v.std(ddof=1)
    readout = paired_differences(sweep, "mean4", metrics=["joint/t2a/R@1", "triplet/order_acc", "modality/probe_acc"],
                                 configs=["concat4"]).set_index("metric")  # fmt: skip
    for key, m in (("r1", "joint/t2a/R@1"), ("ord", "triplet/order_acc"), ("probe", "modality/probe_acc")):
        facts.update({f"sw_ro_d_{key}": readout.loc[m, "diff"], f"sw_ro_lo_{key}": readout.loc[m, "ci_low"],
                      f"sw_ro_hi_{key}": readout.loc[m, "ci_high"]})  # fmt: skip
    gap = (sweep["triplet/order_acc"] - sweep["joint/order_acc"]).abs()
    on_default = sweep["config"] != "concat4_iso_circ"
    iso = sweep.loc[~on_default, "triplet/order_acc"]
    facts.update({"sw_order_gap_max": gap[on_default].max(), "sw_order_gap_scenes": round(gap[on_default].max() * n_test),
                  "sw_order_gap_cuefree": gap[~on_default].max(), "sw_iso_max": iso.max(),
                  "sw_default_ord_min": sweep.loc[on_default, "triplet/order_acc"].min()})  # fmt: skip
    facts["sw_iso_lo"], facts["sw_iso_hi"] = t_interval(iso)
    best_r1 = pair.xs("best/t2a/R@1", level="metric")["ratio"]
    facts.update({"sw_best_ratio": best_r1.max(), "sw_best_ratio_config": best_r1.idxmax(), "sw_le_drop": -facts["sw_d_le_halves"]})
    return facts


# --------------------------------------------------------------------------- where the order comes from

#: the runs that remove the cues of the order one at a time: label -> run name under results/
CUE_RUNS = {
    "baseline, rooms (ablation)": "ablation/runs/salm_baseline_s2025",
    "baseline, anechoic": "experiments/baseline_anechoic_s2025",
    "baseline, isolated": "experiments/baseline_isolated_s2025",
    "baseline, isolated, circular": "experiments/baseline_isolated_circular_s2025",
    "all, rooms (ablation)": "ablation/runs/all_s2025",
    "all, anechoic": "experiments/all_anechoic_s2025",
    "all, isolated, circular": "experiments/all_isolated_circular_s2025",
}
CUE_METRICS = ["joint/t2a/R@1", "joint/vs_neg_t", "joint/vs_neg_s", "joint/vs_neg_c", "joint/order_acc", "triplet/t2a/R@1",
               "triplet/vs_neg_t", "triplet/vs_neg_s", "triplet/vs_neg_c", "triplet/order_acc"]  # fmt: skip


def cue_table(root: Root = None, runs: dict[str, str] = CUE_RUNS, metrics: list[str] = CUE_METRICS) -> pd.DataFrame:
    """One row per run of ``runs`` that is stored (label -> name under ``results/``), one column per metric."""
    found = {}
    for label, name in runs.items():
        try:
            found[label] = load_run(name, root).metrics
        except FileNotFoundError:
            continue
    return pd.DataFrame({label: {c: m.get(c, float("nan")) for c in metrics} for label, m in found.items()}).T


def cue_facts(cues: pd.DataFrame) -> dict:
    """The numbers the prose about the cues of the order quotes (keys ``an_*``, ``room_*``, ``iso_*``, ``circ_*``)."""
    keys = {
        "an_base_t": ("baseline, anechoic", "joint/vs_neg_t"), "an_base_s": ("baseline, anechoic", "joint/vs_neg_s"),
        "an_base_r1": ("baseline, anechoic", "joint/t2a/R@1"), "room_base_r1": ("baseline, rooms (ablation)", "joint/t2a/R@1"),
        "room_base_order": ("baseline, rooms (ablation)", "joint/order_acc"),
        "iso_base_order": ("baseline, isolated", "joint/order_acc"), "iso_base_s": ("baseline, isolated", "joint/vs_neg_s"),
        "circ_base_order": ("baseline, isolated, circular", "joint/order_acc"),
        "circ_base_t": ("baseline, isolated, circular", "joint/vs_neg_t"),
        "circ_base_s": ("baseline, isolated, circular", "joint/vs_neg_s"),
        "circ_base_r1": ("baseline, isolated, circular", "joint/t2a/R@1"),
        "circ_all_order": ("all, isolated, circular", "triplet/order_acc"),
        "circ_all_t": ("all, isolated, circular", "triplet/vs_neg_t"), "circ_all_s": ("all, isolated, circular", "triplet/vs_neg_s"),
    }  # fmt: skip
    return {key: float(cues.loc[run, col]) for key, (run, col) in keys.items() if run in cues.index}


# --------------------------------------------------------------------------- the temporal path and the token norm


def run_kind(cfg) -> dict:
    """The settings that tell the probed runs apart, from a run's :class:`~sclap_nb.config.RunConfig`."""
    cue_free = cfg.data.layout == "isolated" and cfg.model.time_padding == "circular"
    return {"clips": "cue-free" if cue_free else "default", "token norm": cfg.model.temporal_token_norm,
            "DOA head": {"halves": "each half", "joint": "E_joint"}[cfg.model.doa_pooling]}


#: the columns of the probe table: key of metrics.json or first_sound_probe.json -> column title
PROBE_COLUMNS = {"temporal/spread": "temporal spread", "temporal/mean_cos": "temporal mean_cos",
                 "joint/order_acc": "order_acc E_joint", "triplet/order_acc": "order_acc triplet",
                 "joint/t2a/R@1": "T2A R@1 E_joint", "triplet/t2a/R@1": "T2A R@1 triplet",
                 "joint/first_acc": "first sound: E_joint", "temporal/first_acc": "first sound: temporal",
                 "triplet/first_acc": "first sound: triplet", "chance_majority": "chance"}  # fmt: skip


def probe_table(root: Root = None) -> tuple[pd.DataFrame, dict[str, dict]]:
    """Every experiment with a first-sound probe (``first_sound_probe.json`` beside its ``metrics.json``,
    written by ``scripts/probe_first_sound.py``): one row per run with :func:`run_kind` and
    :data:`PROBE_COLUMNS`; and each run's values (its metrics and probe together, by run name)."""
    rows, values = {}, {}
    for run in load_runs("experiments/*", root):
        probe = run.path / "first_sound_probe.json"
        if not probe.is_file():
            continue
        name = run.path.name
        values[name] = v = {**run.metrics, **json.loads(probe.read_text()), **run_kind(run.config)}
        rows[name] = {**run_kind(run.config), **{label: v[k] for k, label in PROBE_COLUMNS.items()}}
    return pd.DataFrame(rows).T, values


#: the probed runs the prose quotes: run name -> the tag of its keys in :func:`probe_facts`
PROBE_RUNS = {"no_token_norm_s2025": "off", "spec_settings_s2025": "spec", "tokennorm_s2025": "norm",
              "tokennorm_isolated_circular_s2025": "norm_iso"}  # fmt: skip
#: the values of a probed run the prose quotes: key -> short name in :func:`probe_facts`
PROBE_KEYS = {"temporal/spread": "spread", "temporal/mean_cos": "cos", "joint/order_acc": "j_order",
              "triplet/order_acc": "t_order", "joint/t2a/R@1": "j_r1", "triplet/t2a/R@1": "t_r1",
              "joint/spread": "j_spread", "joint/first_acc": "j_first", "temporal/first_acc": "temp_first",
              "triplet/first_acc": "t_first", "chance_majority": "chance"}  # fmt: skip


def probe_facts(values: dict[str, dict]) -> dict:
    """The numbers the prose about the probed runs quotes (:func:`probe_table`'s values): ``tn_{tag}_{short}``
    for each run of :data:`PROBE_RUNS` and value of :data:`PROBE_KEYS`; the extremes over the runs without
    the token norm (``tn_off_*_max``/``_min``) and with it (``tn_on_*``); E_joint's spread over the temporal
    embedding's without the norm (``tn_spread_ratio``)."""
    missing = sorted(set(PROBE_RUNS) - set(values))
    if missing:
        raise FileNotFoundError(f"no first_sound_probe.json beside the runs {missing} (scripts/probe_first_sound.py)")
    facts = {f"tn_{tag}_{short}": values[name][k] for name, tag in PROBE_RUNS.items() for k, short in PROBE_KEYS.items()}
    off = [v for v in values.values() if not v["token norm"]]
    on = [v for v in values.values() if v["token norm"]]
    facts.update({"tn_off_spread_max": max(v["temporal/spread"] for v in off),
                  "tn_off_first_min": min(v["temporal/first_acc"] for v in off),
                  "tn_on_spread_min": min(v["temporal/spread"] for v in on),
                  "tn_on_spread_max": max(v["temporal/spread"] for v in on),
                  "tn_on_first_max": max(v["temporal/first_acc"] for v in on),
                  "tn_spread_ratio": facts["tn_off_j_spread"] / facts["tn_off_spread"]})  # fmt: skip
    return facts


def token_norm_runs(root: Root = None) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The runs without and with ``model.temporal_token_norm`` (config ``none`` / ``token norm``), one row per
    run: on the default corpus (``no_token_norm_s*``, ``tokennorm_s*``) and on cue-free clips
    (``…_isolated_circular_s*``)."""

    def frame(pattern: str, config: str) -> pd.DataFrame:
        runs = load_runs(f"experiments/{pattern}", root)
        return pd.DataFrame([{"config": config, "seed": int(re.fullmatch(r".+_s(\d+)", r.path.name).group(1)), **r.metrics}
                             for r in runs])  # fmt: skip

    default = pd.concat([frame("no_token_norm_s*", "none"), frame("tokennorm_s*", "token norm")], ignore_index=True)
    cuefree = pd.concat([frame("no_token_norm_isolated_circular_s*", "none"),
                         frame("tokennorm_isolated_circular_s*", "token norm")], ignore_index=True)  # fmt: skip
    return default, cuefree


#: the metrics compared with and without the token norm: metric -> the short name in the glued keys
TOKEN_NORM_METRICS = {"triplet/order_acc": "order", "triplet/place_acc": "place", "triplet/t2a/R@1": "r1",
                      "joint/t2a/R@1": "jr1", "LE_deg": "le", "modality/probe_acc": "probe"}  # fmt: skip


def token_norm_comparison(default: pd.DataFrame, cuefree: pd.DataFrame) -> tuple[pd.DataFrame, dict]:
    """Paired by seed, the token norm against none, and within each setting the triplet embedding against
    E_joint, on both kinds of clips. Returns one row per (clips, comparison, metric) with the mean difference
    and its 95 % t-interval, and the same numbers by key (``tn_{dc|nn}_{metric}_{d|lo|hi}``: token norm -
    none; ``tj_…`` / ``tj0_…``: triplet - E_joint with / without the norm; ``dc`` default corpus, ``nn``
    cue-free)."""
    rows, facts = [], {}
    for clips, frame, tag in (("default corpus", default, "dc"), ("cue-free", cuefree, "nn")):
        for r in paired_differences(frame, "none", metrics=list(TOKEN_NORM_METRICS), configs=["token norm"]).itertuples():
            k = TOKEN_NORM_METRICS[r.metric]
            facts.update({f"tn_{tag}_{k}_d": r.diff, f"tn_{tag}_{k}_lo": r.ci_low, f"tn_{tag}_{k}_hi": r.ci_high})
            rows.append({"clips": clips, "comparison": "token norm - none", "metric": r.metric, "seeds": r.n,
                         "difference": r.diff, "ci_low": r.ci_low, "ci_high": r.ci_high})  # fmt: skip
        for config, ctag in (("token norm", "tj"), ("none", "tj0")):
            part = frame[frame["config"] == config]
            for m, k in (("order_acc", "order"), ("place_acc", "place"), ("t2a/R@1", "r1")):
                d = part[f"triplet/{m}"] - part[f"joint/{m}"]
                lo, hi = t_interval(d)
                facts.update({f"{ctag}_{tag}_{k}_d": float(d.mean()), f"{ctag}_{tag}_{k}_lo": lo, f"{ctag}_{tag}_{k}_hi": hi})
                rows.append({"clips": clips, "comparison": f"triplet - E_joint ({config})", "metric": m, "seeds": len(d),
                             "difference": float(d.mean()), "ci_low": lo, "ci_high": hi})  # fmt: skip
    cue_norm = cuefree.loc[cuefree["config"] == "token norm"].set_index("seed")
    cue_none = cuefree.loc[cuefree["config"] == "none"].set_index("seed")
    seeds = sorted(set(cue_norm.index) & set(cue_none.index))
    dc_norm = default.loc[default["config"] == "token norm", "triplet/order_acc"]
    facts.update({"tn_norm_order_min": cue_norm["triplet/order_acc"].min(), "tn_norm_order_max": cue_norm["triplet/order_acc"].max(),
                  "tn_none_order_max": cue_none["triplet/order_acc"].max(), "tn_n_above": int((cue_norm["triplet/order_acc"] > 0.5).sum()),
                  "tn_jn_order_d": float((cue_norm.loc[seeds, "joint/order_acc"] - cue_none.loc[seeds, "joint/order_acc"]).mean()),
                  "tn_dc_order_min": dc_norm.min(), "tn_dc_order_max": dc_norm.max()})  # fmt: skip
    return pd.DataFrame(rows), facts


def difference_table(rows: pd.DataFrame, metrics: list[str] | None = None, digits: int = 3) -> pd.DataFrame:
    """Rows of :func:`token_norm_comparison` (those of ``metrics``, default all) for reading: indexed by clips
    and comparison, with the metric, the seeds and "difference [95 % interval]"."""
    r = rows if metrics is None else rows[rows["metric"].isin(metrics)]
    cells = [f"{d:+.{digits}f} [{lo:+.{digits}f}, {hi:+.{digits}f}]" for d, lo, hi in zip(r["difference"], r["ci_low"], r["ci_high"])]
    return r.assign(**{"difference [95 % interval]": cells})[["clips", "comparison", "metric", "seeds", "difference [95 % interval]"]
                                                               ].set_index(["clips", "comparison"])  # fmt: skip


# --------------------------------------------------------------------------- the GRL, another corpus, every experiment

#: the GRL's variants, one seed each: label -> run name under results/
GRL_RUNS = {
    "constant λ": "experiments/spec_settings_s2025",
    "DANN schedule": "experiments/all_dann_s2025",
    "warm-up 3 epochs + classifier lr x10": "experiments/all_grl_warmup3_lr10_s2025",
    "no GRL": "experiments/nogrl_s2025",
    "constant λ, the default run's settings": "default",
}
GRL_METRICS = {"modality/probe_acc": "probe accuracy", "modality/centroid_dist": "centroid distance",
               "joint/t2a/R@1": "E_joint T2A R@1", "triplet/t2a/R@1": "triplet T2A R@1", "LE_deg": "LE (deg)"}  # fmt: skip


def grl_table(root: Root = None) -> pd.DataFrame:
    """One row per stored run of :data:`GRL_RUNS`, one column per metric of :data:`GRL_METRICS`."""
    table = cue_table(root, GRL_RUNS, list(GRL_METRICS))
    return table.rename(columns=GRL_METRICS)


CORPUS_METRICS = ["joint/3way_temporal", "joint/3way_spatial", "triplet/3way_temporal", "triplet/3way_spatial",
                  "triplet/order_acc", "joint/t2a/R@1", "triplet/t2a/R@1", "LE_deg", "modality/probe_acc"]  # fmt: skip


def corpus_table(root: Root = None) -> pd.DataFrame:
    """The specification's settings on the soundfont corpus (``spec_settings_s2025``) and, where stored, on the
    corpus of effects and speech (``effects_speech_s2025``): one column per corpus, one row per metric."""
    runs = {"soundfont (spec_settings_s2025)": "experiments/spec_settings_s2025", "effects + speech": "experiments/effects_speech_s2025"}
    return cue_table(root, runs, CORPUS_METRICS).T


def experiments_with_default(root: Root = None) -> tuple[pd.DataFrame, dict]:
    """Every experiment of ``results/experiments`` (:func:`sclap_nb.ablation.experiments_table`: its settings
    that differ from the specification's, those ``spec_settings_s2025`` ran with, and its main test metrics),
    after a first row for the default run (``results/default``: the halves layout); and the default run's differing settings."""
    spec = load_run("experiments/spec_settings_s2025", root)
    default = load_run("default", root)
    table = experiments_table(results_dir(root) / "experiments", spec.stored)
    spec_flat = spec.config.identity()
    differs = {k: v for k, v in default.config.identity().items() if k != "runtime.seed" and spec_flat.get(k) != v}
    first = {"experiment": "(default run: results/default)", "seed": default.metrics.get("seed"),
             "settings that differ": ", ".join(f"{k}={v}" for k, v in sorted(differs.items())),
             **{k: default.metrics.get(k, float("nan")) for k in table.columns[3:]}}  # fmt: skip
    return pd.concat([pd.DataFrame([first]), table], ignore_index=True), differs


# --------------------------------------------------------------------------- scene by scene

#: the three pairwise tests of a scene: the test -> the column of ``group_scores`` pos is compared with
SCENE_TESTS = {"vs neg_t": 1, "vs neg_s": 2, "vs neg_c": 3}


def scene_outcomes(scores: dict, scenes: pd.DataFrame) -> pd.DataFrame:
    """One row per scene, embedding and pairwise test: the scene's metadata (``scenes``, one row per scene in
    the order of the score rows), ``embedding``, ``test``, ``margin`` (pos minus the negative's score),
    ``won`` (1.0 when pos scores higher) and ``sector`` (the word of the first position's sector).
    ``scores``: embedding name -> the ``(scenes, 4)`` scores of :func:`sclap_nb.metrics.group_scores`."""
    long = []
    for name, s in scores.items():
        s = np.asarray(s.detach().cpu() if hasattr(s, "detach") else s, dtype=np.float64)
        if len(s) != len(scenes):
            raise ValueError(f"{name}: {len(s)} rows of scores for {len(scenes)} scenes")
        for test, k in SCENE_TESTS.items():
            long.append(scenes.assign(embedding=name, test=test, margin=s[:, 0] - s[:, k], won=(s[:, 0] > s[:, k]).astype(float)))
    long = pd.concat(long, ignore_index=True)
    long["sector"] = [SECTOR_WORDS[sector_of(float(a))] for a in long["azimuth_1"]]
    return long


def group_spread(won: np.ndarray, groups: list[np.ndarray]) -> float:
    """How far the groups' win rates spread around the overall rate (size-weighted sum of squares)."""
    return float(sum(len(g) * (won[g].mean() - won.mean()) ** 2 for g in groups))


def permutation_p(won: np.ndarray, groups: list[np.ndarray], n: int = 2000, seed: int = 0) -> float:
    """Share of ``n`` shuffles of the scenes' outcomes whose :func:`group_spread` is at least the observed one."""
    rng = np.random.default_rng(seed)
    observed = group_spread(won, groups)
    return float(np.mean([group_spread(rng.permutation(won), groups) >= observed for _ in range(n)]))


def _test_colors() -> dict:
    return {test: ROLE_PALETTE[test.split()[-1]] for test in SCENE_TESTS}


def plot_per_class(long: pd.DataFrame):
    """Per sound class (a scene counts for each of its two classes), the share of its scenes whose pos clip
    beats each negative, one panel per embedding, 95 % bootstrap intervals; sorted by the neg_c test.
    Returns the figure, the class order and the number of test scenes of each class."""
    by_class = pd.concat([long.assign(cls=long["class_1"]), long.assign(cls=long["class_2"])], ignore_index=True)
    first = by_class["embedding"].iloc[0]
    n_per_class = by_class[(by_class["embedding"] == first) & (by_class["test"] == "vs neg_c")].groupby("cls").size()
    order = by_class[by_class["test"] == "vs neg_c"].groupby("cls")["won"].mean().sort_values().index.tolist()
    palette = class_palette(order)
    names = list(dict.fromkeys(long["embedding"]))
    fig, axes = plt.subplots(1, len(names), figsize=(5 * len(names), 9.5), sharey=True, sharex=True, squeeze=False)
    for ax, name in zip(axes[0], names):
        sns.pointplot(data=by_class[by_class["embedding"] == name], y="cls", x="won", hue="test", order=order,
                      hue_order=list(SCENE_TESTS), palette=_test_colors(), errorbar=("ci", 95), seed=0, dodge=0.5,
                      linestyle="none", markers="o", markersize=4, capsize=0, err_kws={"linewidth": 1}, ax=ax)  # fmt: skip
        ax.axvline(0.5, color="gray", ls="--", lw=1)
        ax.set_xlim(-0.02, 1.05)
        ax.set_xlabel("share of the class's scenes where pos wins")
        ax.set_ylabel("")
        ax.set_title(name)
        ax.legend(title="pos clip scored above", fontsize="x-small", loc="lower left")
    ax0 = axes[0][0]
    ax0.set_yticks(range(len(order)), [f"{c} ({n_per_class[c]})" for c in order], fontsize="small")
    for tick in ax0.get_yticklabels():
        tick.set_color(palette[tick.get_text().rsplit(" (", 1)[0]])
    ax0.set_ylabel("sound class (test scenes)")
    fig.tight_layout()
    return fig, order, n_per_class


def plot_per_direction(long: pd.DataFrame):
    """The three pairwise tests by the sector of the scene's first position, one panel per embedding."""
    names = list(dict.fromkeys(long["embedding"]))
    fig, axes = plt.subplots(1, len(names), figsize=(5 * len(names), 3.6), sharey=True, squeeze=False)
    for ax, name in zip(axes[0], names):
        sns.pointplot(data=long[long["embedding"] == name], x="sector", y="won", hue="test", order=list(SECTOR_WORDS),
                      hue_order=list(SCENE_TESTS), palette=_test_colors(), errorbar=("ci", 95), seed=0, dodge=0.4,
                      linestyle="none", markers="o", markersize=4, capsize=0.1, err_kws={"linewidth": 1}, ax=ax)  # fmt: skip
        ax.axhline(0.5, color="gray", ls="--", lw=1)
        ax.set_ylim(0, 1.05)
        ax.set_xlabel("sector of the first sound (p0)")
        ax.set_ylabel("share of scenes where pos wins")
        plt.setp(ax.get_xticklabels(), rotation=35, ha="right", rotation_mode="anchor")
        ax.set_title(name)
        ax.legend(title="pos clip scored above", fontsize="x-small", loc="lower left")
    fig.tight_layout()
    return fig


def plot_scores(scores: dict, margins: pd.DataFrame):
    """Per embedding, the densities of the pos caption's cosine with each of the scene's four clips; last,
    the margin of pos over neg_c per scene, the first embedding against the second."""
    score_long = pd.concat([pd.DataFrame({"cosine": np.asarray(scores[name])[:, k], "clip": role, "embedding": name})
                            for name in scores for k, role in enumerate(GROUP_ROLES)], ignore_index=True)  # fmt: skip
    names = list(scores)
    fig, axes = plt.subplots(1, len(names) + 1, figsize=(13 / 3 * (len(names) + 1), 3.6))
    for ax, name in zip(axes, names):
        sns.kdeplot(data=score_long[score_long["embedding"] == name], x="cosine", hue="clip", hue_order=list(GROUP_ROLES),
                    palette=ROLE_PALETTE, common_norm=False, fill=True, alpha=0.25, cut=0, ax=ax)  # fmt: skip
        ax.set_xlabel("cosine, pos caption vs the scene's clip")
        ax.set_ylabel("density (per clip role)")
        ax.set_title(f"{name}: scores of the four clips")
    ax = axes[-1]
    x, y = margins[names[0]], margins[names[1]]
    sns.scatterplot(x=x, y=y, s=14, color=ROLE_PALETTE["neg_c"], ax=ax)
    lim = [min(x.min(), y.min()) - 0.05, max(x.max(), y.max()) + 0.05]
    ax.plot(lim, lim, color="gray", lw=0.8)
    ax.axhline(0, color="gray", ls="--", lw=1)
    ax.axvline(0, color="gray", ls="--", lw=1)
    ax.set_xlabel(f"pos - neg_c score, {names[0]} (cosine)")
    ax.set_ylabel(f"pos - neg_c score, {names[1]} (cosine)")
    ax.set_title("margin over neg_c, scene by scene")
    fig.tight_layout()
    return fig, score_long


# --------------------------------------------------------------------------- a compact figure of single runs


def plot_run_bars(table: pd.DataFrame, metrics: dict[str, str], chance: float | None = None, goal: float | None = None,
                  xlabel: str = "", embedding_of: dict[str, str] | None = None, xlim: tuple = (0, 1.02)):
    """One row per run (the table's index), one dot per metric (``metrics``: column -> legend label), with
    ``chance`` dashed grey and the book's ``goal`` dotted black; colours by embedding where ``embedding_of``
    (column -> ``joint``, ``triplet``, ``temporal``, or a matplotlib colour) says; a legend where there is
    more than one metric."""
    fig, ax = plt.subplots(figsize=(7.5, 0.36 * len(table) + 1.2))
    markers = ["o", "s", "^", "D", "v"]
    y = np.arange(len(table))
    for i, (col, label) in enumerate(metrics.items()):
        kind = (embedding_of or {}).get(col)
        color = EMBEDDING_PALETTE.get(kind, kind) if kind else f"C{i}"
        ax.scatter(table[col], y + (i - (len(metrics) - 1) / 2) * 0.18, marker=markers[i % len(markers)], s=30,
                   color=color, label=label, zorder=3)  # fmt: skip
    for value, label, style in ((chance, "chance", {"color": "gray", "ls": "--", "lw": 1}),
                                (goal, "goal", {"color": "0.1", "ls": ":", "lw": 1.4})):  # fmt: skip
        if value is not None:
            ax.axvline(value, **style)
            ax.annotate(label, (value, 1.0), xycoords=("data", "axes fraction"), xytext=(3, -10),
                        textcoords="offset points", fontsize="x-small", color=style["color"])  # fmt: skip
    ax.set_yticks(y, list(table.index))
    ax.invert_yaxis()
    ax.set_xlim(*xlim)
    ax.set_xlabel(xlabel)
    ax.grid(axis="x", alpha=0.3)
    if len(metrics) > 1:
        ax.legend(fontsize="x-small", loc="lower left", bbox_to_anchor=(1.0, 0.0), frameon=False)
    fig.tight_layout()
    return fig


def doa_event_table(rows: list[dict], matched: torch.Tensor, le_events: torch.Tensor) -> pd.DataFrame:
    """One row per event of the test clips ``rows`` (two each, in time order): its scene, role, place, true
    and predicted direction (``matched``: ``(N, 2, 3)`` unit vectors) and errors (``le_events``: ``(N, 2)``
    degrees, and the azimuth error across the back, ``|((pred - true + 180) mod 360) - 180|``)."""
    t = pd.DataFrame({
        "scene": np.repeat([r["scene"] for r in rows], 2),
        "role": np.repeat([r["role"] for r in rows], 2),
        "event": np.tile(["first sound", "second sound"], len(rows)),
        "azimuth": [r[f"azimuth_{e}"] for r in rows for e in (1, 2)],
        "elevation": [r[f"elevation_{e}"] for r in rows for e in (1, 2)],
        "LE": le_events.numpy().ravel(),
        "pred_azimuth": torch.rad2deg(torch.atan2(matched[..., 1], matched[..., 0])).numpy().ravel(),
        "pred_elevation": torch.rad2deg(torch.asin(matched[..., 2].clamp(-1, 1))).numpy().ravel(),
    })  # fmt: skip
    t["sector"] = [SECTOR_WORDS[sector_of(a)] for a in t["azimuth"]]
    t["head_az_error"] = np.abs((t["pred_azimuth"] - t["azimuth"] + 180) % 360 - 180)
    return t


# --------------------------------------------------------------------------- the planned studies

STUDY_FILES = ("comparisons.csv", "seed_spread.csv", "rerun_noise.csv", "runs.csv")


def study_analysis(name: str, root: Root = None) -> dict[str, pd.DataFrame]:
    """The analysis files of the planned study ``results/<name>`` (written by its script's ``analyse``):
    ``comparisons`` (one row per comparison of its plan, Holm-adjusted), ``seed_spread`` (mean and SD over
    seeds, per configuration and metric), ``rerun_noise`` and ``runs``. Refuses, naming the study and the
    command, while its analysis has not been written."""
    folder = results_dir(root) / name
    missing = [f for f in STUDY_FILES if not (folder / f).is_file()]
    if missing:
        raise FileNotFoundError(f"{folder}: no {', '.join(missing)} (the study is not analysed: "
                                f"python scripts/{name}.py analyse)")  # fmt: skip
    return {"comparisons": pd.read_csv(folder / "comparisons.csv"),
            "seed_spread": pd.read_csv(folder / "seed_spread.csv", index_col=[0, 1]),
            "rerun_noise": pd.read_csv(folder / "rerun_noise.csv"), "runs": pd.read_csv(folder / "runs.csv")}  # fmt: skip


def last_validation(pattern: str, metrics: list[str], root: Root = None) -> pd.DataFrame:
    """The validation figures of the last epoch that has them, for every finished run matching ``pattern``
    under ``results/`` (``load_runs``; e.g. ``"frames_study/runs/MT_s20*_t2"``): one row per run (its name as
    the index), one column per metric (``"val/triplet/order_acc"``, ...). Refuses a run whose log lacks one."""
    rows = {}
    for run in load_runs(pattern, root):
        log = run.log
        missing = [m for m in metrics if m not in log or log[m].isna().all()]
        if missing:
            raise KeyError(f"{run.path}: its training log has no {', '.join(missing)}")
        last = log.dropna(subset=list(metrics)).iloc[-1]
        rows[run.path.name] = {m: float(last[m]) for m in metrics}
    if not rows:
        raise FileNotFoundError(f"{results_dir(root)}: no finished run matches {pattern!r}")
    return pd.DataFrame.from_dict(rows, orient="index")


def selection_facts(prefix: str, name: str, root: Root = None) -> dict:
    """The first phase of the planned study ``results/<name>`` (its ``selection.json``, written by its script's
    ``select`` from validation figures only): ``<prefix>_chosen`` and, per configuration ``c``,
    ``<prefix>_<c>_val_mean`` (the mean of its validation ``order_acc`` and ``motion_acc``, triplet
    embedding, the quantity the plan's rule ranks) and ``<prefix>_<c>_val_t2a`` (its validation T2A R@1)."""
    path = results_dir(root) / name / "selection.json"
    if not path.is_file():
        raise FileNotFoundError(f"{path}: missing (python scripts/{name}.py select)")
    selection = json.loads(path.read_text())
    out = {f"{prefix}_chosen": selection["chosen"]}
    for config, f in selection["validation"].items():
        out[f"{prefix}_{config}_val_mean"] = (f["val/triplet/order_acc"] + f["val/triplet/motion_acc"]) / 2
        out[f"{prefix}_{config}_val_t2a"] = f["val/triplet/t2a/R@1"]
    return out


def study_facts(prefix: str, comparisons: pd.DataFrame) -> dict:
    """The numbers the prose quotes of each planned comparison, as ``{prefix}_{name}_{what}``: ``diff``,
    ``lo`` and ``hi`` (95 % interval), ``blo`` and ``bhi`` (Bonferroni-level), ``p_holm``, ``n``
    (seeds) and ``finding`` ("a finding" or "not a finding"); ``{prefix}_findings``: how many are."""
    facts = {}
    for _, r in comparisons.iterrows():
        key = f"{prefix}_{r['name']}"
        facts.update({f"{key}_diff": float(r["diff"]), f"{key}_lo": float(r["ci_low"]), f"{key}_hi": float(r["ci_high"]),
                      f"{key}_blo": float(r["bonferroni_low"]), f"{key}_bhi": float(r["bonferroni_high"]),
                      f"{key}_p_holm": float(r["p_holm"]), f"{key}_n": int(r["n"]),
                      f"{key}_finding": "a finding" if bool(r["finding"]) else "not a finding"})  # fmt: skip
    facts[f"{prefix}_findings"] = int(comparisons["finding"].astype(bool).sum())
    return facts


def spread_facts(prefix: str, seed_spread: pd.DataFrame, rerun_noise: pd.DataFrame | None = None) -> dict:
    """The numbers the prose quotes of a planned study's seed spread: ``{prefix}_{config}_{metric}`` (the
    mean over seeds), ``..._sd`` (their SD) and, where the plan reran that configuration, ``..._rerun``
    (the rerun difference, 2 against 1 thread); a metric's name with ``_`` for each run of other
    characters (``t2a/R@1`` -> ``t2a_R_1``). A metric with no value for a configuration gets no key."""
    rerun = rerun_noise.set_index("config") if rerun_noise is not None and len(rerun_noise) else pd.DataFrame()
    facts = {}
    for config in dict.fromkeys(seed_spread.index.get_level_values(0)):
        for metric in seed_spread.columns:
            key = f"{prefix}_{config}_{re.sub(r'[^A-Za-z0-9]+', '_', metric)}"
            if pd.isna(seed_spread.loc[(config, "mean"), metric]):  # an embedding the configuration lacks
                continue
            facts[key] = float(seed_spread.loc[(config, "mean"), metric])
            facts[f"{key}_sd"] = float(seed_spread.loc[(config, "std"), metric])
            if config in rerun.index and metric in rerun.columns:
                facts[f"{key}_rerun"] = float(rerun.loc[config, metric])
    return facts


def comparisons_table(comparisons: pd.DataFrame, digits: int = 3) -> pd.DataFrame:
    """The planned comparisons as the book prints them: the comparison, the hypothesis, seeds, the mean
    paired difference with its 95 % and Bonferroni-level intervals, Holm's p-value and the verdict."""
    hyp = {"greater": "a > b", "less": "a < b", "two-sided": "a ≠ b"}
    rows = []
    for _, r in comparisons.iterrows():
        h = hyp[r["alternative"]] if not r.get("margin", 0) else f"a > b − {r['margin']:g}"
        rows.append({"": r["name"], "comparison (a − b)": comparison_label(r, name=False), "hypothesis": h, "seeds": int(r["n"]),
                     "difference": f"{r['diff']:+.{digits}f}", "95 % interval": f"[{r['ci_low']:+.{digits}f}, {r['ci_high']:+.{digits}f}]",
                     "Bonferroni-level": f"[{r['bonferroni_low']:+.{digits}f}, {r['bonferroni_high']:+.{digits}f}]",
                     "Holm p": f"{r['p_holm']:.3g}", "finding": "yes" if bool(r["finding"]) else "no"})  # fmt: skip
    return pd.DataFrame(rows).set_index("")


def noise_table(seed_spread: pd.DataFrame, rerun_noise: pd.DataFrame, digits: int = 3) -> pd.DataFrame:
    """Per configuration and metric: the mean and SD over seeds, beside the rerun noise (the absolute
    difference between one seed's runs on 2 and on 1 thread) where the plan reran that configuration.
    A metric that a configuration lacks (no value on any seed) gets no row."""
    rerun = rerun_noise.set_index("config") if len(rerun_noise) else pd.DataFrame()
    rows = []
    for config in dict.fromkeys(seed_spread.index.get_level_values(0)):
        for metric in seed_spread.columns:
            mean, sd = seed_spread.loc[(config, "mean"), metric], seed_spread.loc[(config, "std"), metric]
            if pd.isna(mean):  # a metric the configuration has no embedding for (a baseline's triplet/*)
                continue
            noise = rerun.loc[config, metric] if config in rerun.index and metric in rerun.columns else None
            rows.append({"configuration": config, "metric": metric, "seed mean": f"{mean:.{digits}f}", "seed SD": f"{sd:.{digits}f}",
                         "rerun: 2 against 1 thread": "" if noise is None else f"{noise:.{digits}f}"})  # fmt: skip
    return pd.DataFrame(rows)


def analysis_markdown(comparisons: pd.DataFrame, seed_spread: pd.DataFrame, rerun_noise: pd.DataFrame) -> str:
    """A planned study's analysis as Markdown (``analysis.md`` beside its tables): the comparisons with
    Holm's correction, then each configuration's seed spread beside its rerun noise."""
    k = len(comparisons)
    return (f"## Planned comparisons ({k}; Holm's correction over all {k})\n\n{comparisons_table(comparisons).to_markdown(disable_numparse=True)}\n\n"
            "Difference: the mean over seeds of a − b, paired by seed; intervals: the t-interval at 95 % and at the "
            f"Bonferroni level (1 − 0.05 / {k}); a finding: Holm's adjusted p under 0.05.\n\n"
            f"## Seed spread and rerun noise\n\n{noise_table(seed_spread, rerun_noise).to_markdown(index=False, disable_numparse=True)}\n")

# ---
# jupyter:
#   jupytext:
#     formats: ipynb,py:percent
#     text_representation:
#       extension: .py
#       format_name: percent
#       format_version: '1.3'
#       jupytext_version: 1.19.6
#   kernelspec:
#     display_name: Python 3
#     language: python
#     name: python3
# ---

# %% [markdown]
# # Results
#
# **What you will learn here:**
#
# * every goal of the book, with the number that decides it and a plain PASS or MISS, on the default
#   run and on the ablation;
# * how the two audio embeddings of the trained model (E_joint and the triplet embedding of the
#   temporal path) compare scene by scene: per sound class, per direction, and in their scores;
# * what the ablation (7 configurations × 3 seeds, at the specification's settings) and the one-seed
#   experiments show, and what they do not;
# * where the default run departs from the specification's settings, and what a sweep of three seeds
#   says about each departure;
# * why the triplet embedding made E_joint's decisions (the temporal path's output hardly differed
#   between clips), and what the tokens' content normalised changes: nothing measurable on the default
#   corpus, the order of the sounds on cue-free clips;
# * what the evidence supports about each of the four additions, and what it does not.
#
# The page trains nothing. It reads stored results and the exported model:
#
# * the **default run** (`make train`: the training notebook with `fast=False`), kept in
#   `results/train/` (`metrics.json`, the CSV log, `run.json`, and the export of its best model in
#   `model/`), and the same job with seed 2026 in `results/train_seed2026/`;
# * the **ablation** (`make ablation`: 7 configurations × 3 seeds at the default size, with the
#   specification's settings), kept in `results/ablation/` (one `metrics.json` per run, `table.csv`,
#   `table.md`, and a README that says where and how it ran);
# * the **sweep** of the departures from the specification (6 configurations × 3 seeds at the default
#   size), kept in `results/sweep/` (one folder per run, `table.csv`, `table.md`, a README);
# * the **experiments** of `results/experiments/` (one folder per run of `python -m sclap_nb.train`,
#   one seed each; every folder found there is tabulated below).
#
# `make publish` (`python -m sclap_nb.publish`) copies a finished default run from `runs/` into
# `results/` when you decide it should replace the stored one; `make ablation` publishes each run as
# it finishes.

# %% tags=["parameters"]
fast = True  # nothing here trains: the page reads stored results either way
results_dir = "results"
test_dir = "data/book-test-0-0-128-s2025"  # the default corpus's 128 test scenes, rebuilt on their own
seed = 2025  # the corpus seed of the default run

# %%
import json
import math
import os

os.environ.setdefault("HF_HUB_OFFLINE", "1")
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import seaborn as sns
import torch
from IPython.display import Markdown, display
from sclap_nb.notebook import glue

from sclap_nb import viz
from sclap_nb.ablation import (CONFIGS, collect_named, experiments_table, paired_differences, paired_markdown,
                               plot_seed_intervals, ratio_interval, result_panels, summary_markdown, t_interval, with_best)
from sclap_nb.api import load
from sclap_nb.data import SECTOR_WORDS, StClothoDataModule, ensure_corpus, read_metadata
from sclap_nb.metrics import GROUP_ROLES, group_scores, order_place_accuracy
from sclap_nb.notebook import figures_dir, record, setup_chapter
from sclap_nb.train import embed_split

ROOT = setup_chapter(threads=1)
FIG = figures_dir(ROOT)
res = ROOT / results_dir
print(sorted(str(p.relative_to(res)) for p in res.rglob("*") if p.is_file() and "runs" not in p.parts and "model" not in p.parts))

# %% [markdown]
# ## The default run
#
# The test split holds clips the model never heard, in rooms it never saw. Each metric is computed
# for both audio embeddings: `joint/…` is E_joint (the spatial-semantic embedding of SALM
# {cite:p}`hu2025salm`) and `triplet/…` the embedding of the temporal path (T-SALM {cite:p}`tsalm`).
# Retrieval runs over every test clip of the specification's three roles (pos, neg_t, neg_s), so a
# caption must find its clip among the same events in the wrong order and in the wrong places.
# `order_acc` and `place_acc` use the fourth clip of each scene, the class-order negative neg_c (B@p0
# then A@p2; see the chapter {doc}`04_temporal_chunking`): `order_acc` needs the order of the *sounds*,
# `place_acc` where each sound is.
#
# The default run departs from the specification's settings in four places: its group term has all
# three hard negatives (neg_t, neg_s and neg_c: a 4-way loss) at full weight from the first epoch, the
# TemporalAudioEncoder concatenates its chunk tokens in time order instead of averaging them and
# standardises each token's content over the batch before adding its position, and the DOA head reads
# each time half of the spatial branch instead of E_joint. The sections *Departures from the
# specification* and *Why the temporal path agreed with E_joint* below give the evidence for each; the
# ablation keeps the specification's settings.

# %%
metrics = json.loads((res / "train" / "metrics.json").read_text())
run_settings = json.loads((res / "train" / "run.json").read_text())
print({k: run_settings[k] for k in ("negatives", "loss_weights", "ts_ramp", "temporal_readout", "doa_pooling", "temporal_token_norm", "seed")})
seed2026_path = res / "train_seed2026" / "metrics.json"
metrics2026 = json.loads(seed2026_path.read_text()) if seed2026_path.is_file() else {}
keys = [k for k in sorted(metrics) if k.startswith(("joint/", "triplet/")) and "_a2t" not in k and "R@5" not in k]
table = pd.DataFrame({"E_joint": {k.split("/", 1)[1]: metrics[k] for k in keys if k.startswith("joint/")},
                      "triplet": {k.split("/", 1)[1]: metrics[k] for k in keys if k.startswith("triplet/")}}).round(3)
table

# %% [markdown]
# ## The goals, one by one
#
# Each goal is judged on the embedding it is about (the triplet embedding for order and place, the one
# a user would serve for retrieval), from the default run (seed 2025); the column beside it applies the
# same rule to the run with seed 2026, for a sense of how much one seed decides. The last goal is the
# ablation's: the full model against the SALM baseline over three seeds, paired by seed.

# %%
ablation = pd.read_csv(res / "ablation" / "table.csv")
ratio = ratio_interval(ablation, "all", "best/t2a/R@1")


def goal_rows(m: dict) -> list[tuple]:
    """(goal, target, value, passed) of every goal judged on one run's metrics.json."""
    if not m:
        return []
    get = lambda k: m.get(k, float("nan"))  # noqa: E731
    return [
        ("order: triplet order_acc", ">= 0.95", get("triplet/order_acc"), get("triplet/order_acc") >= 0.95),
        ("place: triplet place_acc", ">= 0.95", get("triplet/place_acc"), get("triplet/place_acc") >= 0.95),
        ("temporal 3-way accuracy (triplet)", ">= 0.95", get("triplet/3way_temporal"), get("triplet/3way_temporal") >= 0.95),
        ("spatial 3-way accuracy (triplet)", ">= 0.95", get("triplet/3way_spatial"), get("triplet/3way_spatial") >= 0.95),
        ("triplet order_acc minus E_joint's", "> 0", get("triplet/order_acc") - get("joint/order_acc"),
         get("triplet/order_acc") - get("joint/order_acc") > 0),
        ("triplet T2A R@1 minus E_joint's", ">= -0.02", get("triplet/t2a/R@1") - get("joint/t2a/R@1"),
         get("triplet/t2a/R@1") - get("joint/t2a/R@1") >= -0.02),
        ("reference direction_only: order_acc", "<= 0.55", get("reference/direction_only/order_acc"),
         get("reference/direction_only/order_acc") <= 0.55),
        ("reference order_blind: order_acc", "<= 0.55", get("reference/order_blind/order_acc"),
         get("reference/order_blind/order_acc") <= 0.55),
        ("reference direction_only: place_acc", "<= 0.55", get("reference/direction_only/place_acc"),
         get("reference/direction_only/place_acc") <= 0.55),
        ("reference sound_order: place_acc", "<= 0.55", get("reference/sound_order/place_acc"),
         get("reference/sound_order/place_acc") <= 0.55),
        ("localisation error (degrees)", "<= 10", get("LE_deg"), get("LE_deg") <= 10),
        ("modality probe accuracy", "<= 0.65", get("modality/probe_acc"), get("modality/probe_acc") <= 0.65),
        ("main job, total time (minutes)", "<= 5", get("total_seconds") / 60, get("total_seconds") / 60 <= 5),
    ]


rows = {g: {"target": t, "seed 2025": v, "verdict": "PASS" if ok else "MISS"} for g, t, v, ok in goal_rows(metrics)}
for g, t, v, ok in goal_rows(metrics2026):
    rows[g].update({"seed 2026": v, "verdict 2026": "PASS" if ok else "MISS"})
ratio_ok = ratio["ratio"] >= 1.5 and ratio["low"] > 1
rows["all / baseline T2A R@1, 3 seeds (CI excludes 1)"] = {
    "target": ">= 1.5", "seed 2025": ratio["ratio"], "verdict": "PASS" if ratio_ok else "MISS",
    "seed 2026": float("nan"), "verdict 2026": f"interval [{ratio['low']:.2f}, {ratio['high']:.2f}]"}
goals = pd.DataFrame(rows).T
glue("n_goals", len(goals), display=False)
glue("n_pass", int((goals["verdict"] == "PASS").sum()), display=False)
glue("ratio_all", ratio["ratio"], display=False)
glue("ratio_low", ratio["low"], display=False)
glue("ratio_high", ratio["high"], display=False)
fmt = lambda v: "" if isinstance(v, float) and np.isnan(v) else f"{v:.3f}" if isinstance(v, float) else v  # noqa: E731
goals.map(fmt)

# %%
n_test = run_settings["n_test"]
base_r1 = with_best(ablation).groupby("config")["best/t2a/R@1"].mean()["SALM baseline"]
facts = {
    "goal_order": metrics["triplet/order_acc"], "goal_order_won": round(metrics["triplet/order_acc"] * n_test),
    "goal_order_need": math.ceil(0.95 * n_test), "goal_n_test": n_test,
    "goal_order_gap": metrics["triplet/order_acc"] - metrics["joint/order_acc"],
    "goal_r1_gap": metrics["triplet/t2a/R@1"] - metrics["joint/t2a/R@1"],
    "goal_le": metrics["LE_deg"], "goal_probe": metrics["modality/probe_acc"], "goal_minutes": metrics["total_seconds"] / 60,
    "goal_3way_min": min(metrics[f"triplet/3way_{k}"] for k in ("temporal", "spatial")),
    "goal_ref_dir": metrics["reference/direction_only/order_acc"],
    "goal_base_r1": base_r1, "goal_r1_needed": 1.5 * base_r1,
}
if metrics2026:
    facts.update({"goal26_order": metrics2026["triplet/order_acc"], "goal26_le": metrics2026["LE_deg"],
                  "goal26_probe": metrics2026["modality/probe_acc"], "goal26_minutes": metrics2026["total_seconds"] / 60,
                  "goal26_ref_dir": metrics2026["reference/direction_only/order_acc"],
                  "goal26_order_gap": metrics2026["triplet/order_acc"] - metrics2026["joint/order_acc"],
                  "n_pass26": int((goals["verdict 2026"] == "PASS").sum()), "n_goals26": int(goals["verdict 2026"].isin(["PASS", "MISS"]).sum())})
for k, v in facts.items():
    glue(k, v, display=False)
# the words of the next paragraph, checked against the table above
said = {"order: triplet order_acc": "PASS", "place: triplet place_acc": "PASS", "temporal 3-way accuracy (triplet)": "PASS",
        "spatial 3-way accuracy (triplet)": "PASS", "triplet order_acc minus E_joint's": "MISS",
        "triplet T2A R@1 minus E_joint's": "PASS", "reference direction_only: order_acc": "MISS",
        "reference order_blind: order_acc": "PASS", "reference direction_only: place_acc": "MISS",
        "reference sound_order: place_acc": "PASS", "localisation error (degrees)": "PASS",
        "modality probe accuracy": "MISS", "main job, total time (minutes)": "MISS",
        "all / baseline T2A R@1, 3 seeds (CI excludes 1)": "MISS"}  # fmt: skip
assert {g: goals.loc[g, "verdict"] for g in said} == said, "the prose no longer matches the verdicts"
said26 = {**said, "reference direction_only: order_acc": "PASS", "reference direction_only: place_acc": "PASS",
          "triplet order_acc minus E_joint's": "PASS"}
said26.pop("all / baseline T2A R@1, 3 seeds (CI excludes 1)")
assert {g: goals.loc[g, "verdict 2026"] for g in said26} == said26, "the prose no longer matches the seed-2026 verdicts"
assert 5 < facts["goal26_le"] < 5.5 and 4.9 < facts["goal_le"] < 5  # "just above the 5° aim", "by a hair", in the prose
assert round(facts["goal26_order_gap"] * n_test) == 1 and facts["goal_order_gap"] == 0  # "one scene", "equal"
print(f"order_acc {facts['goal_order']:.3f}: {facts['goal_order_won']} of {n_test} scenes, 0.95 needs "
      f"{facts['goal_order_need']};  1.5 x the baseline's T2A R@1 ({base_r1:.3f}) = {1.5 * base_r1:.3f}")

# %% [markdown]
# The default run (seed 2025) passes {glue:text}`n_pass` of the {glue:text}`n_goals` goals. The two 3-way
# accuracies ({glue:text}`goal_3way_min:.2f`) are passed most clearly and say the least: a scorer with no
# training that only reads the direction of each half passes them too (the next sections). The
# localisation error, {glue:text}`goal_le:.2f`°, meets its goal of 10° and, by a hair, the 5° that the
# chapter {doc}`08_doa` aims at. Order and place, the goals that need the fourth clip, are met by the
# smallest margin: `order_acc` and `place_acc` are {glue:text}`goal_order:.3f`, {glue:text}`goal_order_won`
# of the {glue:text}`goal_n_test` test scenes, where 0.95 needs {glue:text}`goal_order_need` (the same
# settings without the token norm missed by one scene, section *Why the temporal path agreed with
# E_joint*). The same job with seed 2026 passes {glue:text}`n_pass26` of its {glue:text}`n_goals26`: its
# `order_acc` and `place_acc` are {glue:text}`goal26_order:.3f`, and its localisation error,
# {glue:text}`goal26_le:.2f`°, is just above the 5° aim that seed 2025 meets.
# The triplet embedding retrieves as well as E_joint (T2A R@1 {glue:text}`goal_r1_gap:+.3f` apart), and
# on order it is level with E_joint on seed 2025 (difference {glue:text}`goal_order_gap:.3f`) and one
# scene ahead on seed 2026 ({glue:text}`goal26_order_gap:+.3f`, which the table counts as a pass). The
# goal asks for a margin beyond the seed spread, and over three seeds of these settings the difference is
# {glue:text}`tj_dc_order_d:+.3f` [{glue:text}`tj_dc_order_lo:+.3f`, {glue:text}`tj_dc_order_hi:+.3f`]
# (section *Why the temporal path agreed with E_joint*): on this goal the temporal path still does not
# earn its place. The
# modality gap stays open (probe accuracy {glue:text}`goal_probe:.3f`, seed 2026
# {glue:text}`goal26_probe:.3f`; goal ≤ 0.65: missed by both), and the whole main job took
# {glue:text}`goal_minutes:.1f` minutes on this project's 2-core CPU (goal 5: missed). The
# {glue:text}`goal26_minutes:.0f` minutes of seed 2026 are not a timing: it trained while the machine ran
# other jobs. Of the reference scorers, each fails the test that is not its own, as designed, except
# that `direction_only` scores {glue:text}`goal_ref_dir:.3f` on order and place on the test split of seed
# 2025, above the 0.55 it should stay under ({glue:text}`goal26_ref_dir:.3f` on that of seed 2026).
#
# The last goal is the ablation's, at the specification's settings: the full model reaches
# {glue:text}`ratio_all:.2f`× the baseline's T2A R@1 (95 % interval {glue:text}`ratio_low:.2f` to
# {glue:text}`ratio_high:.2f`): the 1.5× goal is missed, and the interval contains 1. On this corpus the
# goal cannot be met at all: the baseline already ranks the right clip first for
# {glue:text}`goal_base_r1:.3f` of the captions (the better embedding, mean of three seeds), and 1.5 times
# that is {glue:text}`goal_r1_needed:.2f`, more than the largest possible R@1 of 1.
#
# The training curves of this run are in the chapter {doc}`10_train`
# ({numref}`fig-10-default-losses` and {numref}`fig-10-default-validation`).
#
# ## E_joint and the triplet embedding, scene by scene
#
# The numbers above give the two embeddings the same `order_acc` and `place_acc`. To see whether they
# also fail on the same scenes, the exported best model of the default run (`results/train/model`)
# embeds the test split again, rebuilt from the corpus seed (the same 128 scenes, four clips each),
# and each scene's pos caption scores its four clips with each embedding
# (`sclap_nb.metrics.group_scores`).

# %%
root = ensure_corpus(ROOT / test_dir, n_train=0, n_val=0, n_test=128, seed=seed, progress=False)
model = load(res / "train" / "model", device="cpu")
dm = StClothoDataModule(root, batch_size=32, features=model.model.cfg.features, cache_dir=root / "cache", seed=seed)
dm.setup("test")
emb = embed_split(model.model, dm.test_dataloader())
scores = {name: group_scores(emb[f"e_{e}"], emb["text_comb"], emb["roles"]) for e, name in (("joint", "E_joint"), ("triplet", "triplet"))}
for name, e in (("E_joint", "joint"), ("triplet", "triplet")):  # the same numbers as metrics.json
    op = order_place_accuracy(emb[f"e_{e}"], emb["text_comb"], emb["roles"])
    print(f"{name:8s}", {k: round(v, 3) for k, v in op.items()}, " metrics.json:", round(metrics[f"{e}/order_acc"], 3))
cos_je = (emb["e_joint"] * emb["e_triplet"]).sum(1)
record("cos_joint_triplet", cos_je.mean(), tol=0.01, fmt=".3f", label="mean cos(E_joint, triplet) of a clip",
       why="stored weights; float rounding only")
_ = record("cos_joint_triplet_min", cos_je.min(), tol=0.01, fmt=".3f", label="lowest cos(E_joint, triplet) of a clip")

# %%
meta = {r["id"]: r for r in read_metadata(root, "test")}
pos_ids = [i for i, r in zip(emb["ids"], emb["roles"]) if r == "pos"]
scenes = pd.DataFrame([meta[i] for i in pos_ids])
tests = {"vs neg_t": 1, "vs neg_s": 2, "vs neg_c": 3}
long = []
for name, s in scores.items():
    s = s.numpy()
    for test, k in tests.items():
        long.append(scenes.assign(embedding=name, test=test, margin=s[:, 0] - s[:, k], won=(s[:, 0] > s[:, k]).astype(float)))
long = pd.concat(long, ignore_index=True)
long["sector"] = [SECTOR_WORDS[int(np.floor((float(a) + 22.5) / 45)) % 8] for a in long["azimuth_1"]]
wins = long.pivot_table(index="scene", columns=["embedding", "test"], values="won")
agree = (wins["E_joint"] == wins["triplet"]).all(axis=1).mean()
margins = long[long["test"] == "vs neg_c"].pivot_table(index="scene", columns="embedding", values="margin")
record("scenes_same_decisions", agree, tol=0.02, fmt=".3f",
       label="share of scenes where both embeddings decide all three tests alike")
record("neg_c_margin_corr", np.corrcoef(margins["E_joint"], margins["triplet"])[0, 1], tol=0.01, fmt=".3f",
       label="correlation of the pos - neg_c margins of the two embeddings")
print(long.groupby(["embedding", "test"])["won"].mean().unstack().round(3))

# %% [markdown]
# Every clip's triplet embedding lies within a cosine of {glue:text}`cos_joint_triplet_min:.3f` of its
# E_joint (mean {glue:text}`cos_joint_triplet:.3f`): the triplet embedding is E_joint plus a small
# residual (the triplet path is built residual on E_joint, with its last layer initialised at zero; see
# the README's list of departures from the specification), computed from E_joint and the temporal
# embedding (section *Why the temporal path agreed with E_joint*, below). The two embeddings make the
# same decision on
# all three pairwise tests in {glue:text}`scenes_same_decisions:.3f` of the scenes, and their margins
# against neg_c correlate at {glue:text}`neg_c_margin_corr:.3f`. Every error of either embedding is
# against neg_c, the clip with the same direction order and the two sounds swapped; neg_t and neg_s are
# beaten in every scene.
#
# ### Per sound class and per direction
#
# Each scene has two sound classes (A first, B second), so it counts once for each. The classes hold
# few test scenes each; the bars are 95 % bootstrap intervals over those scenes.

# %%
by_class = pd.concat([long.assign(cls=long["class_1"]), long.assign(cls=long["class_2"])], ignore_index=True)
n_per_class = by_class[(by_class["embedding"] == "E_joint") & (by_class["test"] == "vs neg_c")].groupby("cls").size()
order = by_class[by_class["test"] == "vs neg_c"].groupby("cls")["won"].mean().sort_values().index.tolist()
glue("class_n_min", int(n_per_class.min()), display=False)
glue("class_n_max", int(n_per_class.max()), display=False)
test_colors = {"vs neg_t": viz.ROLE_PALETTE["neg_t"], "vs neg_s": viz.ROLE_PALETTE["neg_s"], "vs neg_c": viz.ROLE_PALETTE["neg_c"]}
palette = viz.class_palette(order)
fig, axes = plt.subplots(1, 2, figsize=(10, 9.5), sharey=True, sharex=True)
for ax, name in zip(axes, scores):
    sns.pointplot(data=by_class[by_class["embedding"] == name], y="cls", x="won", hue="test", order=order,
                  hue_order=list(tests), palette=test_colors, errorbar=("ci", 95), seed=0, dodge=0.5, linestyle="none",
                  markers="o", markersize=4, capsize=0, err_kws={"linewidth": 1}, ax=ax)
    ax.axvline(0.5, color="gray", ls="--", lw=1)
    ax.set_xlim(-0.02, 1.05)
    ax.set_xlabel("share of the class's scenes where pos wins")
    ax.set_ylabel("")
    ax.set_title(f"{name}")
    ax.legend(title="pos clip scored above", fontsize="x-small", loc="lower left")
axes[0].set_yticks(range(len(order)), [f"{c} ({n_per_class[c]})" for c in order], fontsize="small")
for tick in axes[0].get_yticklabels():
    tick.set_color(palette[tick.get_text().rsplit(" (", 1)[0]])
axes[0].set_ylabel("sound class (test scenes)")
fig.tight_layout()
viz.save(fig, FIG / "11_per_class.png")
plt.close(fig)

# %%
def group_spread(won: np.ndarray, groups: list[np.ndarray]) -> float:
    """How far the groups' win rates spread around the overall rate (size-weighted sum of squares)."""
    return float(sum(len(g) * (won[g].mean() - won.mean()) ** 2 for g in groups))


def permutation_p(won: np.ndarray, groups: list[np.ndarray], n: int = 2000) -> float:
    """Share of ``n`` shuffles of the scenes' outcomes whose spread is at least the observed one."""
    rng = np.random.default_rng(0)
    observed = group_spread(won, groups)
    return float(np.mean([group_spread(rng.permutation(won), groups) >= observed for _ in range(n)]))


neg_c = long[(long["embedding"] == "E_joint") & (long["test"] == "vs neg_c")].reset_index(drop=True)
won = neg_c["won"].to_numpy()
class_groups = [np.flatnonzero((neg_c["class_1"] == c) | (neg_c["class_2"] == c)) for c in order]
sector_groups = [np.flatnonzero(neg_c["sector"] == w) for w in SECTOR_WORDS if (neg_c["sector"] == w).any()]
record("p_class", permutation_p(won, class_groups), tol=0.15, fmt=".2f",
       label="permutation test, neg_c wins differ between classes: p", why="a different scene or two")
sector_rate = neg_c.groupby("sector")["won"].mean()
glue("sector_rate_min", float(sector_rate.min()), display=False)
glue("sector_rate_max", float(sector_rate.max()), display=False)
_ = record("p_sector", permutation_p(won, sector_groups), tol=0.15, fmt=".2f",
           label="permutation test, neg_c wins differ between sectors: p", why="a different scene or two")

# %% [markdown]
# ```{figure} ../figures/11_per_class.png
# :name: fig-11-per-class
# Per sound class (label colour: the class's colour in the book; in brackets: the test scenes it
# appears in, as first or second sound), the share of scenes whose pos clip the pos caption scores
# above neg_t, neg_s and neg_c, for E_joint (left) and the triplet embedding (right); 95 % bootstrap
# intervals over the class's scenes; dashed: chance for one pairwise test. Sorted by the neg_c test.
# ```
#
# With {glue:text}`class_n_min` to {glue:text}`class_n_max` scenes a class, the intervals of the neg_c
# test are wide. Whether the classes differ at all is a question for a permutation test: shuffling the
# scenes' neg_c outcomes (E_joint) 2000 times gives a spread between classes at least as large as the
# observed one with probability p = {glue:text}`p_class:.2f`. The data do not single out a class that the
# model cannot place; with a few scenes a class they could not show a moderate one either. The two panels
# are nearly the same picture.

# %%
fig, axes = plt.subplots(1, 2, figsize=(10, 3.6), sharey=True)
for ax, name in zip(axes, scores):
    sns.pointplot(data=long[long["embedding"] == name], x="sector", y="won", hue="test", order=list(SECTOR_WORDS),
                  hue_order=list(tests), palette=test_colors, errorbar=("ci", 95), seed=0, dodge=0.4, linestyle="none",
                  markers="o", markersize=4, capsize=0.1, err_kws={"linewidth": 1}, ax=ax)
    ax.axhline(0.5, color="gray", ls="--", lw=1)
    ax.set_ylim(0, 1.05)
    ax.set_xlabel("sector of the first sound (p0)")
    ax.set_ylabel("share of scenes where pos wins")
    plt.setp(ax.get_xticklabels(), rotation=35, ha="right", rotation_mode="anchor")
    ax.set_title(name)
    ax.legend(title="pos clip scored above", fontsize="x-small", loc="lower left")
fig.tight_layout()
viz.save(fig, FIG / "11_per_direction.png")
plt.close(fig)
n_sector = long[(long["embedding"] == "E_joint") & (long["test"] == "vs neg_c")].groupby("sector").size()
glue("sector_n_min", int(n_sector.min()), display=False)
glue("sector_n_max", int(n_sector.max()), display=False)

# %% [markdown]
# ```{figure} ../figures/11_per_direction.png
# :name: fig-11-per-direction
# The same three tests by the azimuth sector of the scene's first position p0 (0° = front, +90° = left),
# for E_joint (left) and the triplet embedding (right); 95 % bootstrap intervals over the scenes of a
# sector; dashed: chance.
# ```
#
# Per sector ({glue:text}`sector_n_min` to {glue:text}`sector_n_max` scenes each) the picture is the
# same: pos beats neg_t and neg_s everywhere, and beats neg_c in {glue:text}`sector_rate_min:.2f` to
# {glue:text}`sector_rate_max:.2f` of a sector's scenes; the same permutation test gives p =
# {glue:text}`p_sector:.2f`: no sector stands out.
#
# ### The scores themselves

# %%
score_long = pd.concat([pd.DataFrame({"cosine": scores[name][:, k].numpy(), "clip": role, "embedding": name})
                        for name in scores for k, role in enumerate(GROUP_ROLES)], ignore_index=True)
fig, axes = plt.subplots(1, 3, figsize=(13, 3.6))
for ax, name in zip(axes, scores):
    sns.kdeplot(data=score_long[score_long["embedding"] == name], x="cosine", hue="clip", hue_order=list(GROUP_ROLES),
                palette=viz.ROLE_PALETTE, common_norm=False, fill=True, alpha=0.25, cut=0, ax=ax)
    ax.set_xlabel("cosine, pos caption vs the scene's clip")
    ax.set_ylabel("density (per clip role)")
    ax.set_title(f"{name}: scores of the four clips")
ax = axes[2]
sns.scatterplot(x=margins["E_joint"], y=margins["triplet"], s=14, color=viz.ROLE_PALETTE["neg_c"], ax=ax)
lim = [min(margins.min()) - 0.05, max(margins.max()) + 0.05]
ax.plot(lim, lim, color="gray", lw=0.8)
ax.axhline(0, color="gray", ls="--", lw=1)
ax.axvline(0, color="gray", ls="--", lw=1)
ax.set_xlabel("pos - neg_c score, E_joint (cosine)")
ax.set_ylabel("pos - neg_c score, triplet (cosine)")
ax.set_title("margin over neg_c, scene by scene")
fig.tight_layout()
viz.save(fig, FIG / "11_scores.png")
plt.close(fig)
mean_scores = score_long.groupby(["embedding", "clip"])["cosine"].mean().unstack()[list(GROUP_ROLES)]
for role in GROUP_ROLES:
    record(f"score_{role}", mean_scores.loc["triplet", role], tol=0.01, fmt=".3f",
           label=f"triplet: mean cos(pos caption, {role} clip)")
record("margin_joint", margins["E_joint"].mean(), tol=0.01, fmt=".3f", label="E_joint: mean pos - neg_c margin")
record("margin_triplet", margins["triplet"].mean(), tol=0.01, fmt=".3f", label="triplet: mean pos - neg_c margin")
record("margin_triplet_larger", (margins["triplet"] > margins["E_joint"]).mean(), tol=0.02, fmt=".3f",
       label="share of scenes where the triplet margin is the larger")
mean_scores.round(3)

# %% [markdown]
# ```{figure} ../figures/11_scores.png
# :name: fig-11-scores
# Left and middle: the cosine between each scene's pos caption and each of its four clips (pos, neg_t,
# neg_s, neg_c, in their book colours), for E_joint and the triplet embedding. Right: the margin of pos
# over neg_c per scene, E_joint against triplet (grey line: equal margins; a point left of or below the
# dashed lines is a scene lost to neg_c).
# ```
#
# The pos clip scores {glue:text}`score_pos:.3f` on average with the triplet embedding, neg_t
# {glue:text}`score_neg_t:.3f`, neg_s {glue:text}`score_neg_s:.3f` and neg_c
# {glue:text}`score_neg_c:.3f`: the clip with the wrong direction order is far below. The two clips
# that keep part of the scene sit in between: neg_s (the sounds in their order, at other places) and
# neg_c (the directions in their order, the sounds swapped), whose upper tail reaches into pos; those
# are the scenes lost to neg_c. The model has learnt the order of the directions better than which sound
# sits at which direction. The right panel shows the two embeddings losing the same scenes. Away from
# them, the triplet embedding's margin over neg_c is the larger in {glue:text}`margin_triplet_larger:.2f`
# of the scenes (mean {glue:text}`margin_triplet:.3f` against {glue:text}`margin_joint:.3f` for
# E_joint): it pushes neg_c further away where both already win, and changes no decision.
#
# ## Ablation
#
# Each configuration adds pieces to the SALM baseline (`+temporal`: the TemporalAudioEncoder,
# trained through the InfoNCE of its triplet embedding; `+3-way`: the triplet loss, on E_joint when
# there is no temporal path; `+GRL`: the modality classifier; `all`: the three; `all, 4-way with
# neg_c`: the same with the class-order negative as a third hard negative). False negatives are
# masked in every row. Every run of the ablation has the specification's settings: the group term at
# weight 0.2, ramped up over the first 4 epochs, the mean over the chunk tokens, and the DOA head on
# E_joint (`sclap_nb.ablation` pins them). The default run therefore differs from the `all` row by the
# three departures of the next section and the token norm of the section after the next (and was trained
# on a CPU, the ablation on a GPU). Mean ± sample
# standard deviation over the three seeds:

# %%
print("runs:", len(ablation), " seeds:", sorted(int(x) for x in ablation["seed"].unique()),
      " epochs:", sorted(int(x) for x in ablation["epochs"].unique()))
display(Markdown(summary_markdown(ablation)))

# %% [markdown]
# Paired with the baseline: for each configuration, the mean over seeds of its difference from the
# baseline *on the same seed* (the same corpus), with a 95 % interval from the t distribution with
# two degrees of freedom, and the ratio of the means. An interval that contains 0 means three seeds
# cannot tell the configuration from the baseline.

# %%
display(Markdown(paired_markdown(ablation)))
paired = paired_differences(ablation)
best = paired[paired["metric"] == "best/t2a/R@1"].set_index("config")
excludes_zero = paired[(paired["ci_low"] > 0) | (paired["ci_high"] < 0)]
print("configurations whose T2A R@1 differs from the baseline's beyond the 95 % interval:",
      list(best[(best["ci_low"] > 0) | (best["ci_high"] < 0)].index) or "none")
print("every (configuration, metric) whose interval excludes 0:",
      [f"{r.config}: {r.metric} {r.diff:+.3f}" for r in excludes_zero.itertuples()] or "none")
print(f"all / baseline, T2A R@1 (the better embedding), paired by seed: {ratio['ratio']:.2f}x "
      f"[{ratio['low']:.2f}, {ratio['high']:.2f}]  (goal 1.5x)")

# %%
fig = plot_seed_intervals(with_best(ablation), result_panels(n_retrieval=3 * 128), order=list(CONFIGS))
viz.save(fig, FIG / "11_ablation.png")
plt.close(fig)

# %% [markdown]
# ```{figure} ../figures/11_ablation.png
# :name: fig-11-ablation
# The ablation on the test split: per configuration, the mean over three seeds (diamond) with its 95 %
# t-interval (bar) and each seed (small dots), for E_joint (blue) and the triplet embedding (orange)
# where the configuration has one. Retrieval: T2A R@1 over 384 clips; order and place: the share of 128
# scenes whose pos clip beats neg_t and neg_c (order) or neg_s and neg_c (place); the localisation
# error of the DOA head; the accuracy of a fresh linear probe telling audio from text embeddings.
# Dashed grey: chance (R@1: 1/384); dotted black: the book's goal.
# ```

# %%
t = with_best(ablation)
by_seed = lambda config, col: t[t["config"] == config].set_index("seed")[col]  # noqa: E731
d_grl = (by_seed("+GRL", "best/t2a/R@1") - by_seed("SALM baseline", "best/t2a/R@1")).sort_index()
facts = {
    "abl_base_order": by_seed("SALM baseline", "joint/order_acc").mean(),
    "abl_base_order_sd": by_seed("SALM baseline", "joint/order_acc").std(ddof=1),
    "abl_all_order": by_seed("all", "triplet/order_acc").mean(),
    "abl_all_order_sd": by_seed("all", "triplet/order_acc").std(ddof=1),
    "abl_all_t2a_triplet": by_seed("all", "triplet/t2a/R@1").mean(),
    "abl_all_t2a_joint": by_seed("all", "joint/t2a/R@1").mean(),
    "abl_grl_lowers": int((d_grl < 0).sum()), "abl_grl_d_min": -d_grl.max(), "abl_grl_d_max": -d_grl.min(),
    "abl_le_min": t.groupby("config")["LE_deg"].mean().min(), "abl_le_max": t.groupby("config")["LE_deg"].mean().max(),
    "abl_le_run_min": t["LE_deg"].min(), "abl_le_run_max": t["LE_deg"].max(),
    "abl_3way_min": t[["joint/3way_temporal", "joint/3way_spatial"]].min().min(),
    "abl_order_eq_place": bool((t["joint/order_acc"] == t["joint/place_acc"]).all()),
    "abl_vs_neg_t_min": t["joint/vs_neg_t"].min(), "abl_vs_neg_s_min": t["joint/vs_neg_s"].min(),
    "ref_dir_vs_t": t["reference/direction_only/vs_neg_t"].min(), "ref_dir_vs_s": t["reference/direction_only/vs_neg_s"].min(),
    "ref_dir_order_mean": t.groupby("seed")["reference/direction_only/order_acc"].first().mean(),
    "ref_blind_order_mean": t.groupby("seed")["reference/order_blind/order_acc"].first().mean(),
    "ref_sound_place_mean": t.groupby("seed")["reference/sound_order/place_acc"].first().mean(),
    "ref_sound_order_mean": t.groupby("seed")["reference/sound_order/order_acc"].first().mean(),
    "abl_order_min": t.groupby("config")["joint/order_acc"].mean().min(),
    "abl_order_max": t.groupby("config")["joint/order_acc"].mean().max(),
}
four_way = paired_differences(ablation, "all", metrics=["triplet/order_acc"], configs=["all, 4-way with neg_c"]).iloc[0]
facts.update({"abl_4way_d_ord": four_way["diff"], "abl_4way_lo_ord": four_way["ci_low"], "abl_4way_hi_ord": four_way["ci_high"]})
for k, v in facts.items():
    glue(k, v, display=False)
print({k: round(float(v), 3) for k, v in facts.items()})

# %% [markdown]
# Three things stand out. First, every configuration scores the 3-way tests at
# {glue:text}`abl_3way_min:.3f` or above, and so does the reference scorer `direction_only`
# (its pairwise `vs_neg_t` and `vs_neg_s` are {glue:text}`ref_dir_vs_t:.2f` and
# {glue:text}`ref_dir_vs_s:.2f` on every seed's test split), so these tests cannot credit any addition.
# Second, `order_acc` and `place_acc` are equal in every run, because every model beats neg_t and neg_s
# (nearly) always: both reduce to the one test against neg_c, and the two middle panels show the same
# numbers. Third, every interval is wide: with three seeds, differences of a few points are not
# resolved.
#
# ## Departures from the specification
#
# The default run departs from the specification's settings where a sweep of three seeds says so
# (`results/sweep`: six configurations × seeds 2025 to 2027 at the default size, trained on a GPU; its
# README says how). Each configuration is paired by seed with the sweep's `all`, the full model at the
# specification's settings (its runs equal the ablation's `all` runs to the last digit):
#
# * `doa_halves`: the DOA head reads each time half of the spatial branch's feature map (averaged over
#   frequency, then mean plus maximum over the half's frames), one direction per half, instead of both
#   directions from the time-pooled E_joint;
# * `mean4`: the group term with all three hard negatives (neg_t, neg_s and neg_c: a 4-way loss, so
#   that training also asks which *sound* comes first) at weight 1 from the first epoch, instead of the
#   3-way term at 0.2 ramped up over 4 epochs;
# * `concat4`: `mean4` with the TemporalAudioEncoder's chunk tokens concatenated in time order before its
#   MLP, instead of their mean;
# * `concat4_halves`: `concat4` with `doa_halves`, the **default run's settings**;
# * `concat4_iso_circ`: `concat4` on cue-free clips (the isolated layout and circular time padding; the
#   next section explains both).

# %%
SWEEP = ["all", "doa_halves", "mean4", "concat4", "concat4_halves", "concat4_iso_circ"]
sweep = with_best(collect_named(res / "sweep" / "runs"))
print("runs:", len(sweep), " seeds:", sorted(int(x) for x in sweep["seed"].unique()),
      " configs:", [c for c in SWEEP if c in set(sweep["config"])])
panels = [p for p in result_panels(n_retrieval=3 * 128) if p["title"].startswith(("text-to-audio", "order", "localisation"))]
fig = plot_seed_intervals(sweep, panels, order=SWEEP)
for ax in fig.axes:  # the legend where no row has points (the cue-free row sits low on the left)
    if ax.get_legend() is not None:
        ax.legend(title=None, loc="center left", fontsize="x-small")
viz.save(fig, FIG / "11_sweep.png")
plt.close(fig)

# %%
SWEEP_METRICS = {"best/t2a/R@1": "T2A R@1 (better emb.)", "joint/t2a/R@1": "T2A R@1 (E_joint)",
                 "triplet/order_acc": "order_acc (triplet)", "joint/order_acc": "order_acc (E_joint)",
                 "LE_deg": "LE (degrees)", "modality/probe_acc": "probe accuracy"}
sweep_paired = paired_differences(sweep, "all", metrics=list(SWEEP_METRICS), configs=SWEEP[1:])
cell = lambda r: f"{r.diff:+.3f} [{r.ci_low:+.3f}, {r.ci_high:+.3f}]"  # noqa: E731
(sweep_paired.assign(cell=[cell(r) for r in sweep_paired.itertuples()], metric=sweep_paired["metric"].map(SWEEP_METRICS))
 .pivot(index="config", columns="metric", values="cell").loc[SWEEP[1:], list(SWEEP_METRICS.values())])

# %% [markdown]
# ```{figure} ../figures/11_sweep.png
# :name: fig-11-sweep
# The sweep on the test split: per configuration, the mean over three seeds (diamond) with its 95 %
# t-interval (bar) and each seed (small dots), for E_joint (blue) and the triplet embedding (orange).
# `all`: the specification's settings; `concat4_halves`: the default run's. Dashed grey: chance; dotted
# black: the book's goal.
# ```
#
# The table gives each configuration's difference from `all` on the same seed, mean over the three
# seeds with its 95 % t-interval (two degrees of freedom); an interval that contains 0 means three seeds
# cannot tell the configuration from `all`.

# %%
pair = sweep_paired.set_index(["config", "metric"])
mean_sd = lambda c, m: (sweep.loc[sweep["config"] == c, m].mean(), sweep.loc[sweep["config"] == c, m].std(ddof=1))  # noqa: E731
facts = {}
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
    facts[f"sw_{key}"], facts[f"sw_{key}_sd"] = mean_sd(c, m)
readout = paired_differences(sweep, "mean4", metrics=["joint/t2a/R@1", "triplet/order_acc", "modality/probe_acc"],
                             configs=["concat4"]).set_index("metric")
for key, m in (("r1", "joint/t2a/R@1"), ("ord", "triplet/order_acc"), ("probe", "modality/probe_acc")):
    facts.update({f"sw_ro_d_{key}": readout.loc[m, "diff"], f"sw_ro_lo_{key}": readout.loc[m, "ci_low"],
                  f"sw_ro_hi_{key}": readout.loc[m, "ci_high"]})
gap = (sweep["triplet/order_acc"] - sweep["joint/order_acc"]).abs()
on_default = sweep["config"] != "concat4_iso_circ"
facts["sw_order_gap_max"] = gap[on_default].max()
facts["sw_order_gap_scenes"] = int(round(gap[on_default].max() * n_test))
facts["sw_iso_max"] = sweep.loc[sweep["config"] == "concat4_iso_circ", "triplet/order_acc"].max()
facts["sw_default_ord_min"] = sweep.loc[on_default, "triplet/order_acc"].min()
facts["sw_iso_lo"], facts["sw_iso_hi"] = t_interval(sweep.loc[sweep["config"] == "concat4_iso_circ", "triplet/order_acc"])
twin = sweep[(sweep["config"] == "concat4_halves") & (sweep["seed"] == metrics["seed"])].iloc[0]
before = json.loads((res / "experiments" / f"no_token_norm_s{metrics['seed']}" / "metrics.json").read_text())  # the same settings on the CPU
assert twin["triplet/order_acc"] == before["triplet/order_acc"]  # "the same", in the prose
facts["sw_before_ord"] = before["triplet/order_acc"]
same_all = with_best(ablation).query("config == 'all'").set_index("seed")[list(SWEEP_METRICS)]
print("the sweep's `all` runs equal the ablation's in every metric above:",
      sweep.query("config == 'all'").set_index("seed")[list(SWEEP_METRICS)].loc[same_all.index].equals(same_all))
facts.update({"sw_twin_ord": twin["triplet/order_acc"], "sw_twin_r1": twin["best/t2a/R@1"], "sw_twin_le": twin["LE_deg"],
              "default_r1_best": max(metrics["joint/t2a/R@1"], metrics["triplet/t2a/R@1"])})
best_r1 = sweep_paired[sweep_paired["metric"] == "best/t2a/R@1"].set_index("config")["ratio"]
facts["sw_best_ratio"] = best_r1.max()
facts["sw_le_drop"] = -facts["sw_d_le_halves"]
assert best_r1.idxmax() == "concat4", best_r1  # named in the prose
n_gap_scenes = facts.pop("sw_order_gap_scenes")
glue("sw_order_gap_scenes", n_gap_scenes, display=False)
for k, v in facts.items():
    glue(k, float(v), display=False)
print(f"largest |triplet - E_joint| order_acc in one run on the default corpus: {facts['sw_order_gap_max']:.4f} "
      f"({n_gap_scenes} of {n_test} scenes); on cue-free clips: {gap[~on_default].max():.4f}")
print(f"concat4 - mean4, paired by seed: E_joint T2A R@1 {facts['sw_ro_d_r1']:+.3f} "
      f"[{facts['sw_ro_lo_r1']:+.3f}, {facts['sw_ro_hi_r1']:+.3f}]")

# %% [markdown]
# What the sweep supports, and what it does not, departure by departure:
#
# * **The DOA head on each time half.** Supported: the localisation error falls from
#   {glue:text}`sw_all_le:.2f` ± {glue:text}`sw_all_le_sd:.2f`° to {glue:text}`sw_halves_le:.2f` ±
#   {glue:text}`sw_halves_le_sd:.2f`° (paired: {glue:text}`sw_d_le_halves:+.2f`°, interval
#   {glue:text}`sw_lo_le_halves:+.2f` to {glue:text}`sw_hi_le_halves:+.2f`, which excludes 0), and to
#   {glue:text}`sw_c4h_le:.2f` ± {glue:text}`sw_c4h_le_sd:.2f`° together with the 4-way term; the default
#   run on the CPU lands at {glue:text}`goal_le:.2f`°. Not shown: what it does to retrieval. E_joint's T2A
#   R@1 moves by {glue:text}`sw_d_r1j_halves:+.3f` (interval {glue:text}`sw_lo_r1j_halves:+.3f` to
#   {glue:text}`sw_hi_r1j_halves:+.3f`): not distinguishable from no change, and too wide to rule out a
#   loss of several points. The head assumes the two events follow each other in time, one in each half,
#   as they do on this corpus by construction; on scenes with overlapping events it would not apply.
# * **The 4-way term at full weight.** Supported: with the concatenated readout (`concat4`) it raises the
#   triplet embedding's `order_acc` by {glue:text}`sw_d_ord_c4:+.3f` (interval
#   {glue:text}`sw_lo_ord_c4:+.3f` to {glue:text}`sw_hi_ord_c4:+.3f`; {glue:text}`sw_c4_ord:.3f` ±
#   {glue:text}`sw_c4_ord_sd:.3f` against {glue:text}`sw_all_ord:.3f` ± {glue:text}`sw_all_ord_sd:.3f`) and
#   the better embedding's T2A R@1 by {glue:text}`sw_d_r1_c4:+.3f` (interval {glue:text}`sw_lo_r1_c4:+.3f`
#   to {glue:text}`sw_hi_r1_c4:+.3f`). With the specification's mean readout (`mean4`) it moves both by
#   about as much ({glue:text}`sw_d_ord_m4:+.3f` and {glue:text}`sw_d_r1_m4:+.3f`), with intervals that
#   just reach below 0 ({glue:text}`sw_lo_ord_m4:+.3f` and {glue:text}`sw_lo_r1_m4:+.3f`). In the default
#   run's settings (`concat4_halves`) `order_acc` rises by {glue:text}`sw_d_ord_c4h:+.3f` (interval
#   {glue:text}`sw_lo_ord_c4h:+.3f` to {glue:text}`sw_hi_ord_c4h:+.3f`), while the rise in T2A R@1,
#   {glue:text}`sw_d_r1_c4h:+.3f` (interval {glue:text}`sw_lo_r1_c4h:+.3f` to
#   {glue:text}`sw_hi_r1_c4h:+.3f`), is not resolved. Not supported: that it reaches the order goal on
#   every seed. The sweep's `concat4_halves` run with seed 2025 scores `order_acc`
#   {glue:text}`sw_twin_ord:.3f`, the same as these settings on the CPU ({glue:text}`sw_before_ord:.3f`,
#   `no_token_norm_s2025`; below 0.95).
# * **Concatenated or mean readout.** Not separated: `concat4` minus `mean4` on the same seed is
#   {glue:text}`sw_ro_d_r1:+.3f` in E_joint's T2A R@1 (interval {glue:text}`sw_ro_lo_r1:+.3f` to
#   {glue:text}`sw_ro_hi_r1:+.3f`) and {glue:text}`sw_ro_d_ord:+.3f` in the triplet embedding's
#   `order_acc` (interval {glue:text}`sw_ro_lo_ord:+.3f` to {glue:text}`sw_ro_hi_ord:+.3f`). The default
#   run keeps the concatenation because it keeps the chunks' order by construction, not because these
#   runs show it does better. The one interval of this comparison that excludes 0 is the probe's, and it
#   points the other way: {glue:text}`sw_ro_d_probe:+.3f` (interval {glue:text}`sw_ro_lo_probe:+.3f` to
#   {glue:text}`sw_ro_hi_probe:+.3f`), a wider modality gap with the concatenation.
# * **The temporal path against E_joint.** Still not supported. In every run on the default corpus the
#   triplet embedding and E_joint score the same `order_acc` within {glue:text}`sw_order_gap_max:.3f`
#   ({glue:text}`sw_order_gap_scenes` of {glue:text}`goal_n_test` scenes), whatever the settings: the time-pooled E_joint learns
#   the order as well, from where each sound sits against the clip's edges (next section). The goal that
#   the triplet embedding beat E_joint on order is missed by the default run (difference
#   {glue:text}`goal_order_gap:.3f`) and not met in the sweep either: no run puts it ahead, or behind, by
#   more than one scene. In the sweep's runs the temporal path could not do otherwise: its output hardly
#   moved between clips (section *Why the temporal path agreed with E_joint*, below).
# * **Cue-free clips.** On the isolated layout with circular padding (`concat4_iso_circ`) the model
#   does not learn the order of the sounds: triplet `order_acc` {glue:text}`sw_iso_ord:.3f` ±
#   {glue:text}`sw_iso_ord_sd:.3f` (95 % interval {glue:text}`sw_iso_lo:.2f` to
#   {glue:text}`sw_iso_hi:.2f`, which contains chance, {glue:text}`one_in_three:.2f`); its best seed,
#   {glue:text}`sw_iso_max:.3f`, stays far below the worst run on the default clips
#   ({glue:text}`sw_default_ord_min:.3f`). T2A R@1 falls to {glue:text}`sw_iso_r1:.3f` ±
#   {glue:text}`sw_iso_r1_sd:.3f` (against {glue:text}`sw_all_r1:.3f` for `all`). The 4-way term at full
#   weight and the ordered readout do not give the temporal path the order once the edge shortcut is gone:
#   its output hardly moves between clips (section *Why the temporal path agreed with E_joint*, below).
#
# Against the 1.5× goal: the best configuration of the sweep in T2A R@1, `concat4`, reaches
# {glue:text}`sw_best_ratio:.2f`× the T2A R@1 of `all` (the better embedding), far from a factor that no
# R@1 on this corpus can reach against the baseline.

# %% [markdown]
# ## Where the order comes from
#
# A time-pooled E_joint should not know which sound comes first, yet the baseline passes the order
# test. The experiments of `results/experiments` (seed 2025, one run each, default size) remove the
# candidate cues one at a time; chapter {doc}`04_temporal_chunking` explains each cue and draws the
# result ({numref}`order-cues`):
#
# * an **anechoic** corpus (no room at all);
# * the **isolated layout** (each reverberant event confined to its half, so no reverberation crosses
#   the middle);
# * the isolated layout with **circular time padding** in the CNNs (no clip edges).

# %%
exp = res / "experiments"
runs = {
    "baseline, rooms (ablation)": res / "ablation" / "runs" / "salm_baseline_s2025" / "metrics.json",
    "baseline, anechoic": exp / "baseline_anechoic_s2025" / "metrics.json",
    "baseline, isolated": exp / "baseline_isolated_s2025" / "metrics.json",
    "baseline, isolated, circular": exp / "baseline_isolated_circular_s2025" / "metrics.json",
    "all, rooms (ablation)": res / "ablation" / "runs" / "all_s2025" / "metrics.json",
    "all, anechoic": exp / "all_anechoic_s2025" / "metrics.json",
    "all, isolated, circular": exp / "all_isolated_circular_s2025" / "metrics.json",
}
cols = ["joint/t2a/R@1", "joint/vs_neg_t", "joint/vs_neg_s", "joint/vs_neg_c", "joint/order_acc", "triplet/t2a/R@1",
        "triplet/vs_neg_t", "triplet/vs_neg_s", "triplet/vs_neg_c", "triplet/order_acc"]
found = {name: json.loads(p.read_text()) for name, p in runs.items() if p.is_file()}
cue_table = pd.DataFrame({name: {c: m.get(c, float("nan")) for c in cols} for name, m in found.items()}).T
glue_keys = {
    "an_base_t": ("baseline, anechoic", "joint/vs_neg_t"), "an_base_s": ("baseline, anechoic", "joint/vs_neg_s"),
    "an_base_r1": ("baseline, anechoic", "joint/t2a/R@1"), "room_base_r1": ("baseline, rooms (ablation)", "joint/t2a/R@1"),
    "room_base_order": ("baseline, rooms (ablation)", "joint/order_acc"),
    "iso_base_order": ("baseline, isolated", "joint/order_acc"), "iso_base_s": ("baseline, isolated", "joint/vs_neg_s"),
    "circ_base_order": ("baseline, isolated, circular", "joint/order_acc"),
    "circ_base_t": ("baseline, isolated, circular", "joint/vs_neg_t"), "circ_base_s": ("baseline, isolated, circular", "joint/vs_neg_s"),
    "circ_base_r1": ("baseline, isolated, circular", "joint/t2a/R@1"),
    "circ_all_order": ("all, isolated, circular", "triplet/order_acc"), "circ_all_t": ("all, isolated, circular", "triplet/vs_neg_t"),
    "circ_all_s": ("all, isolated, circular", "triplet/vs_neg_s"),
}  # fmt: skip
for key, (run, col) in glue_keys.items():
    if run in found:
        glue(key, float(cue_table.loc[run, col]), display=False)
glue("one_in_three", 1 / 3, display=False)
cue_table.round(3)

# %% [markdown]
# * **Reverberation across the middle: not the cue.** With each event's reverberation kept in its own
#   half, the baseline's E_joint still scores `order_acc` {glue:text}`iso_base_order:.3f`
#   ({glue:text}`room_base_order:.3f` on the default corpus, same seed) and `vs_neg_s`
#   {glue:text}`iso_base_s:.2f`.
# * **The clip edges: the cue.** With circular padding as well, the baseline falls to `order_acc`
#   {glue:text}`circ_base_order:.3f` (`vs_neg_t` {glue:text}`circ_base_t:.2f`) and loses place with
#   it (`vs_neg_s` {glue:text}`circ_base_s:.2f`); its T2A R@1 drops to {glue:text}`circ_base_r1:.2f`,
#   about what choosing among a scene's three clips at random gives ({glue:text}`one_in_three:.2f`).
#   The pool knew which sound was where, and which came first, only through where each sound sat
#   against the edges of the clip.
# * **The temporal path does not take over.** The full model on the same cue-free clips: triplet
#   `order_acc` {glue:text}`circ_all_order:.3f`, `vs_neg_t` {glue:text}`circ_all_t:.2f`, `vs_neg_s`
#   {glue:text}`circ_all_s:.2f`. Its 3-way loss stayed near ln 3 for the whole run: the chunked,
#   position-embedded temporal encoder, as specified and trained here, does not learn the order of the
#   sounds once the edge shortcut is gone (the next section says why, and what changes it).
# * **The anechoic corpus** had already shown the same collapse (`vs_neg_t` {glue:text}`an_base_t:.2f`,
#   `vs_neg_s` {glue:text}`an_base_s:.2f`, T2A R@1 {glue:text}`an_base_r1:.2f` against
#   {glue:text}`room_base_r1:.2f` in rooms), but it removes every room cue at once and could not say
#   which one mattered; an earlier version of this page read it as "the order comes from the
#   reverberation", which the isolated run refutes.
#
# (The rooms rows were trained on a GPU, the others on the CPU; one seed each; all at the specification's
# settings. The sweep's `concat4_iso_circ`, in the previous section, is the same cue-free test with the
# default run's 4-way term and ordered readout, over three seeds.)
#
# ## Why the temporal path agreed with E_joint, and the token norm the default run now uses
#
# Until this section's change, the triplet embedding made E_joint's decision in every scene of the
# default run and scored the same `order_acc` within one scene in every run of the sweep. The reason is
# in the temporal path itself. `scripts/probe_first_sound.py` embeds every test clip (four per scene)
# with a trained model and measures, for each audio embedding, how much it differs between clips
# (`spread`: the RMS distance of the clips' unit embeddings from their mean, 0 for one vector for every
# clip; `mean_cos`: the mean cosine between two clips), and how often a linear probe (a logistic
# regression on standardised features, trained on the train clips) names the class of the first sound
# (35 classes). In a scene the first sound is A in two clips (pos, neg_s) and B in the other two, so an
# embedding that holds both sounds but not their order can name the first one in about half the clips
# at best. `temporal` is the output of the TemporalAudioEncoder before it is joined to E_joint. The
# table holds every run with such a probe (`first_sound_probe.json` beside its `metrics.json`): the
# specification's settings (`spec_settings_s2025`), the default settings without and with
# `temporal_token_norm` on the default corpus (`no_token_norm_s*`, `tokennorm_s*`: three seeds each;
# `tokennorm_s2025` has the default run's settings and was trained before a refactoring that changed
# float rounding, `results/train` after it), and with it on the cue-free
# clips of the previous section (isolated layout, circular padding: `tokennorm_isolated_circular_s2025`).

# %%
from sclap_nb.ablation import collect_experiments, paired_differences, run_settings as settings_of, t_interval


def run_kind(run: dict) -> dict:
    """The settings that tell the probed runs apart, read from a run.json."""
    run = settings_of(run)
    cue_free = run.get("layout") == "isolated" and run.get("extra", {}).get("model", {}).get("time_padding") == "circular"
    return {"clips": "cue-free" if cue_free else "default", "token norm": bool(run["temporal_token_norm"]),
            "DOA head": {"halves": "each half", "joint": "E_joint"}[run["doa_pooling"]]}


probed = {p.parent.name: p.parent for p in sorted(exp.glob("*/first_sound_probe.json"))}
TN_KEYS = {"no_token_norm_s2025": "off", "spec_settings_s2025": "spec", "tokennorm_s2025": "norm",
           "tokennorm_isolated_circular_s2025": "norm_iso"}  # the runs the prose quotes
COLLAPSE_COLS = {"temporal/spread": ("spread", "temporal spread"), "temporal/mean_cos": ("cos", "temporal mean_cos"),
                 "joint/order_acc": ("j_order", "order_acc E_joint"), "triplet/order_acc": ("t_order", "order_acc triplet"),
                 "joint/t2a/R@1": ("j_r1", "T2A R@1 E_joint"), "triplet/t2a/R@1": ("t_r1", "T2A R@1 triplet")}  # fmt: skip
PROBE_COLS = {"joint/spread": "j_spread", "joint/first_acc": "j_first", "temporal/first_acc": "temp_first",
              "triplet/first_acc": "t_first", "chance_majority": "chance"}  # fmt: skip
assert set(TN_KEYS) <= set(probed), set(TN_KEYS) - set(probed)
tn, probes, kinds, collapse_rows = {}, {}, {}, {}
for name, folder in probed.items():
    m = json.loads((folder / "metrics.json").read_text())
    probes[name] = p = json.loads((folder / "first_sound_probe.json").read_text())
    kinds[name] = run_kind(json.loads((folder / "run.json").read_text()))
    values = {**m, **p}
    collapse_rows[name] = {**kinds[name], **{label: values[k] for k, (_, label) in COLLAPSE_COLS.items()},
                           "first sound: E_joint": p["joint/first_acc"], "first sound: temporal": p["temporal/first_acc"],
                           "first sound: triplet": p["triplet/first_acc"], "chance": p["chance_majority"]}  # fmt: skip
    if name in TN_KEYS:
        tn.update({f"tn_{TN_KEYS[name]}_{short}": values[k] for k, (short, _) in COLLAPSE_COLS.items()})
        tn.update({f"tn_{TN_KEYS[name]}_{short}": p[k] for k, short in PROBE_COLS.items()})
off = [n for n in probed if not kinds[n]["token norm"]]
on = [n for n in probed if kinds[n]["token norm"]]
tn["tn_off_spread_max"] = max(probes[n]["temporal/spread"] for n in off)
tn["tn_off_first_min"] = min(probes[n]["temporal/first_acc"] for n in off)
tn["tn_on_spread_min"] = min(probes[n]["temporal/spread"] for n in on)
tn["tn_on_spread_max"] = max(probes[n]["temporal/spread"] for n in on)
tn["tn_on_first_max"] = max(probes[n]["temporal/first_acc"] for n in on)
tn["tn_spread_ratio"] = tn["tn_off_j_spread"] / tn["tn_off_spread"]
collapse = pd.DataFrame(collapse_rows).T
collapse.round(4)

# %% [markdown]
# Without the option the temporal embedding hardly moves between clips: its spread is
# {glue:text}`tn_off_spread:.1e` in the default settings of seed 2025 and at most
# {glue:text}`tn_off_spread_max:.1e` in any probed run without it, against {glue:text}`tn_off_j_spread:.2f`
# for E_joint (mean cosine between clips {glue:text}`tn_off_cos:.4f`). What moves is not noise: the
# standardised probe names the first sound of {glue:text}`tn_off_temp_first:.3f` of the test clips from it
# (E_joint: {glue:text}`tn_off_j_first:.3f`; chance {glue:text}`tn_off_chance:.3f`), and of at least
# {glue:text}`tn_off_first_min:.3f` in every such run, more than an order-blind embedding can. The
# encoder does compute which sound comes first, but at a scale tens of thousands of times smaller than
# E_joint's, and the projection that joins it to E_joint makes nothing of it: the triplet
# embedding names the first sound as often as E_joint ({glue:text}`tn_off_t_first:.3f`) and scored
# exactly E_joint's `order_acc` on each of the three seeds (`no_token_norm_s*`). The cause is in the chunk tokens (`TemporalAudioEncoder`, `sclap_nb/model.py`): a
# token is the projected mean of a ReLU feature map plus a learned position of unit scale, and the part
# of the content that differs between clips is about 0.1 per unit. At initialisation the encoder's
# output already has a mean cosine of 0.99 between clips; training took it to 1.0000.
#
# The option `temporal_token_norm=True` standardises each token's content over the batch (a BatchNorm)
# before the position is added. The temporal embedding then spreads by {glue:text}`tn_on_spread_min:.2f`
# to {glue:text}`tn_on_spread_max:.2f`, but what it follows is not the class of a sound: the probe names
# the first sound from it in at most {glue:text}`tn_on_first_max:.3f` of the clips, about what always
# naming the commonest class gives, and the triplet embedding names it about as often as E_joint. What
# the option changes is in the decisions between a scene's clips given its caption:

# %%
# three seeds on the default corpus and five on the cue-free clips, each without and with the option
default_corpus = pd.concat([collect_experiments(exp, "no_token_norm_s*", "none"),
                            collect_experiments(exp, "tokennorm_s*", "token norm")], ignore_index=True)
cuefree = pd.concat([collect_experiments(exp, "no_token_norm_isolated_circular_s*", "none"),
                     collect_experiments(exp, "tokennorm_isolated_circular_s*", "token norm")], ignore_index=True)
short_metric = {"triplet/order_acc": "order", "triplet/place_acc": "place", "triplet/t2a/R@1": "r1",
                "joint/t2a/R@1": "jr1", "LE_deg": "le", "modality/probe_acc": "probe"}  # fmt: skip
tn_rows = []
for clips, frame, tag in (("default corpus", default_corpus, "dc"), ("cue-free", cuefree, "nn")):
    for r in paired_differences(frame, "none", metrics=list(short_metric), configs=["token norm"]).itertuples():
        k = short_metric[r.metric]
        tn.update({f"tn_{tag}_{k}_d": r.diff, f"tn_{tag}_{k}_lo": r.ci_low, f"tn_{tag}_{k}_hi": r.ci_high})
        tn_rows.append({"clips": clips, "comparison": "token norm - none", "metric": r.metric, "seeds": r.n,
                        "difference": r.diff, "ci_low": r.ci_low, "ci_high": r.ci_high})
    for config, ctag in (("token norm", "tj"), ("none", "tj0")):
        part = frame[frame["config"] == config]
        for m in ("order_acc", "place_acc", "t2a/R@1"):
            d = part[f"triplet/{m}"] - part[f"joint/{m}"]
            lo, hi = t_interval(d)
            k = {"order_acc": "order", "place_acc": "place", "t2a/R@1": "r1"}[m]
            tn.update({f"{ctag}_{tag}_{k}_d": float(d.mean()), f"{ctag}_{tag}_{k}_lo": lo, f"{ctag}_{tag}_{k}_hi": hi})
            tn_rows.append({"clips": clips, "comparison": f"triplet - E_joint ({config})", "metric": m, "seeds": len(d),
                            "difference": float(d.mean()), "ci_low": lo, "ci_high": hi})
norm_orders = cuefree.loc[cuefree["config"] == "token norm", "triplet/order_acc"]
none_orders = cuefree.loc[cuefree["config"] == "none", "triplet/order_acc"]
dc_norm = default_corpus[default_corpus["config"] == "token norm"]
tn.update(tn_norm_order_min=norm_orders.min(), tn_norm_order_max=norm_orders.max(), tn_none_order_max=none_orders.max(),
          tn_jn_order_d=(cuefree.loc[cuefree["config"] == "token norm", "joint/order_acc"].values
                         - cuefree.loc[cuefree["config"] == "none", "joint/order_acc"].values).mean(),
          tn_dc_order_min=dc_norm["triplet/order_acc"].min(), tn_dc_order_max=dc_norm["triplet/order_acc"].max())
dc_keys = ("order", "r1", "jr1", "le", "probe")
dc_none = default_corpus[default_corpus["config"] == "none"]
rerun = {"s2025": metrics, "s2026": metrics2026}  # the default runs, trained again with the option (other float rounding)
for k, m in rerun.items():
    tn[f"tn_rerun_probe_{k}"] = m["modality/probe_acc"]
    tn[f"tn_none_probe_{k}"] = dc_none.set_index("seed").loc[int(k[1:]), "modality/probe_acc"]

# the words of this section, checked against the files
assert all(probes[n]["temporal/spread"] < 1e-3 for n in off)  # "hardly moves"
assert 1e4 < tn["tn_spread_ratio"] < 1e5  # "tens of thousands of times smaller"
assert min(probes[n]["temporal/first_acc"] for n in off) > 0.5  # "more than an order-blind embedding can"
assert all(abs(probes[n]["triplet/first_acc"] - probes[n]["joint/first_acc"]) < 0.03 for n in probed)  # "as often as E_joint"
assert all(probes[n]["temporal/first_acc"] < 2 * probes[n]["chance_majority"] for n in on)  # "about what ... gives"
assert len(dc_norm) == 3 and len(norm_orders) == len(none_orders) == 5  # "three seeds", "five seeds"
assert (cuefree.query("config == 'token norm'")["seed"].values == cuefree.query("config == 'none'")["seed"].values).all()
assert all(tn[f"tn_dc_{k}_lo"] < 0 < tn[f"tn_dc_{k}_hi"] for k in dc_keys)  # default corpus: "no interval excludes 0"
assert tn["tj_dc_order_lo"] < 0 < tn["tj_dc_order_hi"]  # "not ahead of E_joint"
assert (dc_none["triplet/order_acc"] == dc_none["joint/order_acc"]).all()  # "exactly E_joint's order_acc"
assert (dc_norm["modality/probe_acc"].values > dc_none["modality/probe_acc"].values).all()  # "higher on each seed"
assert tn["tn_rerun_probe_s2025"] < tn["tn_none_probe_s2025"]  # "below ... on seed 2025"
assert tn["tn_nn_r1_lo"] > 0 and tn["tj_nn_r1_lo"] > 0  # cue-free retrieval: "the intervals exclude 0"
assert tn["tn_nn_order_lo"] > 0 and tn["tj_nn_order_lo"] < 0 < tn["tj_nn_order_d"]  # order: "excludes 0", "still reaches below 0"
assert 0 < tn["tn_jn_order_d"] < tn["tn_nn_order_d"]  # "E_joint gains too, less"
assert tn["tn_norm_order_min"] < 0.5 < tn["tn_norm_order_max"] and tn["tn_none_order_max"] < 0.5
tn_above = int((norm_orders > 0.5).sum())
glue("tn_n_above", tn_above, display=False)
assert tn_above == 4  # "four of the five seeds"
assert all(abs(tn[f"tj0_nn_{k}_d"]) < 0.03 for k in ("order", "place", "r1"))  # "without it the two agree"
for k, v in tn.items():
    glue(k, float(v), display=False)
pd.DataFrame(tn_rows).round(3)

# %% [markdown]
# * **On the default corpus it changes nothing that three seeds can measure.** Paired by seed
#   (`no_token_norm_s*` against `tokennorm_s*`), the option moves the triplet embedding's `order_acc` by
#   {glue:text}`tn_dc_order_d:+.3f` [{glue:text}`tn_dc_order_lo:+.3f`, {glue:text}`tn_dc_order_hi:+.3f`],
#   its T2A R@1 by {glue:text}`tn_dc_r1_d:+.3f` [{glue:text}`tn_dc_r1_lo:+.3f`, {glue:text}`tn_dc_r1_hi:+.3f`],
#   the localisation error by {glue:text}`tn_dc_le_d:+.2f`° [{glue:text}`tn_dc_le_lo:+.2f`,
#   {glue:text}`tn_dc_le_hi:+.2f`] and the modality probe's accuracy by {glue:text}`tn_dc_probe_d:+.3f`
#   [{glue:text}`tn_dc_probe_lo:+.3f`, {glue:text}`tn_dc_probe_hi:+.3f`]: no interval excludes 0. The probe
#   is higher with the option on each seed, but the default runs trained again with it (other float
#   rounding) score {glue:text}`tn_rerun_probe_s2025:.3f` and {glue:text}`tn_rerun_probe_s2026:.3f`,
#   against {glue:text}`tn_none_probe_s2025:.3f` and {glue:text}`tn_none_probe_s2026:.3f` without: one
#   run's probe moves with rounding as much as with the option. With it
#   the triplet `order_acc` ranges from {glue:text}`tn_dc_order_min:.3f` to {glue:text}`tn_dc_order_max:.3f`
#   over the seeds, but it is not ahead of E_joint's ({glue:text}`tj_dc_order_d:+.3f`
#   [{glue:text}`tj_dc_order_lo:+.3f`, {glue:text}`tj_dc_order_hi:+.3f`]): the clip's edges give both
#   embeddings the order here.
# * **On the cue-free clips the temporal path starts to earn its place.** Five seeds of the default
#   settings on the CPU, without and with the option (`no_token_norm_isolated_circular_s*`,
#   `tokennorm_isolated_circular_s*`). Paired by seed, the option raises the triplet embedding's
#   `order_acc` by {glue:text}`tn_nn_order_d:+.3f` [{glue:text}`tn_nn_order_lo:+.3f`,
#   {glue:text}`tn_nn_order_hi:+.3f`] and its T2A R@1 by {glue:text}`tn_nn_r1_d:+.3f`
#   [{glue:text}`tn_nn_r1_lo:+.3f`, {glue:text}`tn_nn_r1_hi:+.3f`]: both intervals exclude 0. Over the
#   five seeds its `order_acc` ranges from {glue:text}`tn_norm_order_min:.3f` to
#   {glue:text}`tn_norm_order_max:.3f` (above 0.5 on {glue:text}`tn_n_above` of them), while no run
#   without the option passes {glue:text}`tn_none_order_max:.3f`: with the norm the model hears which
#   sound comes first where the clip's edges do not give it away. E_joint gains too (by
#   {glue:text}`tn_jn_order_d:+.3f` on average), since the shared encoders train through the temporal
#   path. Within the runs with the option the triplet embedding retrieves better than E_joint by
#   {glue:text}`tj_nn_r1_d:+.3f` [{glue:text}`tj_nn_r1_lo:+.3f`, {glue:text}`tj_nn_r1_hi:+.3f`] and leads
#   it on order by {glue:text}`tj_nn_order_d:+.3f` [{glue:text}`tj_nn_order_lo:+.3f`,
#   {glue:text}`tj_nn_order_hi:+.3f`], an interval that still reaches below 0; without the option the two
#   agree within 0.03 on every metric.
#
# Since the option costs nothing measurable on the default corpus and lets the temporal path act where
# the edges do not give the order away, **the default run uses it** (`RunConfig.temporal_token_norm =
# True`, a departure from the specification; `ModelConfig` keeps the specification's `False`). The
# ablation and the sweep ran without it.
#
# ## The GRL, tried the domain-adversarial way
#
# The specification's constant λ = 1 lets the classifier swing between right and wrong from epoch to
# epoch. Three variants, one seed each (`results/experiments`, at the specification's settings), against
# the same job with the constant λ (`spec_settings_s2025`, the default run before the sweep); the last row
# is the default run, whose other settings differ:

# %%
grl_runs = {
    "constant λ": exp / "spec_settings_s2025" / "metrics.json",
    "DANN schedule": exp / "all_dann_s2025" / "metrics.json",
    "warm-up 3 epochs + classifier lr x10": exp / "all_grl_warmup3_lr10_s2025" / "metrics.json",
    "no GRL": exp / "nogrl_s2025" / "metrics.json",
    "constant λ, the default run's settings": res / "train" / "metrics.json",
}
grl_cols = {"modality/probe_acc": "probe accuracy", "modality/centroid_dist": "centroid distance",
            "joint/t2a/R@1": "E_joint T2A R@1", "triplet/t2a/R@1": "triplet T2A R@1", "LE_deg": "LE (deg)"}
grl_found = {n: json.loads(p.read_text()) for n, p in grl_runs.items() if p.is_file()}
grl_table = pd.DataFrame({n: {v: m.get(k, float("nan")) for k, v in grl_cols.items()} for n, m in grl_found.items()}).T
for n, key in (("DANN schedule", "grl_dann"), ("warm-up 3 epochs + classifier lr x10", "grl_warm"), ("no GRL", "grl_none"),
               ("constant λ", "grl_const"), ("constant λ, the default run's settings", "grl_default")):
    if n in grl_found:
        glue(f"{key}_probe", float(grl_table.loc[n, "probe accuracy"]), display=False)
        glue(f"{key}_r1", float(grl_table.loc[n, "triplet T2A R@1"]), display=False)
grl_table.round(3)

# %% [markdown]
# With a warm-up and a faster classifier the adversary reaches its equilibrium: its validation
# accuracy settles at chance for the rest of the run (`results/experiments/README.md`). The embeddings
# do not follow: a freshly trained probe still tells audio from text {glue:text}`grl_warm_probe:.3f` of
# the time, against {glue:text}`grl_const_probe:.3f` with the constant λ,
# {glue:text}`grl_dann_probe:.3f` with the DANN schedule and {glue:text}`grl_none_probe:.3f` with no GRL
# at all; the default run's settings give {glue:text}`grl_default_probe:.3f` (goal ≤ 0.65: missed by
# every variant). The run without the GRL also retrieves better than the one with the constant λ
# ({glue:text}`grl_none_r1:.3f` triplet T2A R@1 against {glue:text}`grl_const_r1:.3f`), one seed each;
# the ablation's `+GRL` row above is the paired test over three seeds. A classifier that the encoders can
# fool is not the same as embeddings that cannot be separated.
#
# ## Another corpus
#
# Nothing in this book should be tuned to the soundfont. The same job at the specification's settings
# (`spec_settings_s2025`, the default run before the sweep), trained unchanged on a corpus of other sounds (Kenney's CC0 game effects shipped in the `arcade` wheel and short phrases spoken by
# espeak-ng in five voices: 19 classes, 91 recordings, every class in train and test with other
# recordings; `scripts/make_second_corpus.py`, `results/experiments/README.md`):

# %%
es_path = exp / "effects_speech_s2025" / "metrics.json"
corpus_cols = ["joint/3way_temporal", "joint/3way_spatial", "triplet/3way_temporal", "triplet/3way_spatial",
               "triplet/order_acc", "joint/t2a/R@1", "triplet/t2a/R@1", "LE_deg", "modality/probe_acc"]
soundfont = json.loads((exp / "spec_settings_s2025" / "metrics.json").read_text())
corpora = {"soundfont (spec_settings_s2025)": soundfont}
if es_path.is_file():
    corpora["effects + speech"] = json.loads(es_path.read_text())
corpus_table = pd.DataFrame({n: {c: m.get(c, float("nan")) for c in corpus_cols} for n, m in corpora.items()})
if "effects + speech" in corpora:
    gap3 = max(abs(corpus_table.loc[c, "soundfont (spec_settings_s2025)"] - corpus_table.loc[c, "effects + speech"]) for c in corpus_cols[:4])
    glue("corpus_gap_3way", float(gap3), display=False)
    glue("es_r1", float(corpus_table.loc["triplet/t2a/R@1", "effects + speech"]), display=False)
    glue("es_order", float(corpus_table.loc["triplet/order_acc", "effects + speech"]), display=False)
    glue("es_le", float(corpus_table.loc["LE_deg", "effects + speech"]), display=False)
    print(f"largest gap in 3-way accuracy between the corpora: {gap3:.3f} (goal < 0.1: {'PASS' if gap3 < 0.1 else 'MISS'})")
corpus_table.round(3)

# %% [markdown]
# The 3-way accuracies carry over: the largest gap between the two corpora is
# {glue:text}`corpus_gap_3way:.3f` (goal < 0.1: met), and so does localisation
# ({glue:text}`es_le:.1f`°). Retrieval does not: T2A R@1 {glue:text}`es_r1:.3f`, because the test split
# has one recording per class and the captions of a class are the same few paraphrases, so many clips
# of other scenes with the same two classes match a caption almost as well. `order_acc`
# ({glue:text}`es_order:.3f`) is again read from the clip edges: this corpus has the default layout.
#
# ## Every experiment
#
# Each folder of `results/experiments` with a `metrics.json`, in name order, with the settings of its
# `run.json` that differ from the specification's settings (those of `spec_settings_s2025` and
# `spec_settings_s2026`, the default runs before the sweep, which therefore show none) and its main test
# metrics; the first row is the default run, whose differences are the sweep's three departures and the
# token norm. One
# seed each: a difference below the ablation's seed spread (several points of T2A R@1) is not evidence.

# %%
from sclap_nb.run import RunConfig

# the specification's settings: spec_settings_s2025's run.json, with the two settings its run.json predates
spec = settings_of(json.loads((exp / "spec_settings_s2025" / "run.json").read_text()))
experiments = experiments_table(exp, spec)
defaults = RunConfig().identity()
differs = {k: v for k, v in run_settings.items() if k != "seed" and spec.get(k, defaults.get(k)) != v}
experiments = pd.concat([pd.DataFrame([{"experiment": "(default run: results/train)", "seed": metrics.get("seed"),
                                        "settings that differ": ", ".join(f"{k}={v}" for k, v in sorted(differs.items())),
                                        **{k: metrics.get(k, float("nan")) for k in experiments.columns[3:]}}]),
                         experiments], ignore_index=True)
glue("n_experiments", len(experiments) - 1, display=False)
experiments.set_index("experiment").round(3)

# %% [markdown]
# ## What the evidence says, addition by addition
#
# * **The TemporalAudioEncoder (the triplet embedding).** Supported: since it is trained through its
#   own InfoNCE and built residual on E_joint, it retrieves as well as E_joint (`all`:
#   {glue:text}`abl_all_t2a_triplet:.3f` vs {glue:text}`abl_all_t2a_joint:.3f` T2A R@1, mean of three
#   seeds); it no longer hurts retrieval. Not supported: that it hears order. On the trained checkpoint it
#   stays within a cosine of {glue:text}`cos_joint_triplet_min:.3f` of E_joint and decides
#   {glue:text}`scenes_same_decisions:.3f` of the scenes as E_joint does; across seeds the full model's
#   triplet `order_acc` ({glue:text}`abl_all_order:.3f` ± {glue:text}`abl_all_order_sd:.3f`) is no higher
#   than the baseline's E_joint ({glue:text}`abl_base_order:.3f` ± {glue:text}`abl_base_order_sd:.3f`),
#   and with the clip edges removed (circular padding, isolated layout) it falls to chance like the
#   baseline. The sweep's departures do not change this: in every one of its runs on the default corpus
#   the triplet embedding and E_joint score the same `order_acc` within
#   {glue:text}`sw_order_gap_max:.3f`. The reason is that the temporal encoder's output hardly moved
#   between clips (spread {glue:text}`tn_off_spread:.1e` against E_joint's {glue:text}`tn_off_j_spread:.2f`),
#   so the triplet embedding could only repeat E_joint. With `temporal_token_norm`, which the default run
#   now uses, it follows the clip: on the default corpus that changes nothing three seeds can measure
#   (triplet minus E_joint `order_acc` {glue:text}`tj_dc_order_d:+.3f` [{glue:text}`tj_dc_order_lo:+.3f`,
#   {glue:text}`tj_dc_order_hi:+.3f`]). On the cue-free clips, over five seeds, it raises the triplet
#   embedding's `order_acc` by {glue:text}`tn_nn_order_d:+.3f` [{glue:text}`tn_nn_order_lo:+.3f`,
#   {glue:text}`tn_nn_order_hi:+.3f`], and the triplet embedding retrieves better than E_joint (T2A R@1
#   {glue:text}`tj_nn_r1_d:+.3f` [{glue:text}`tj_nn_r1_lo:+.3f`, {glue:text}`tj_nn_r1_hi:+.3f`]); its
#   lead over E_joint on order ({glue:text}`tj_nn_order_d:+.3f` [{glue:text}`tj_nn_order_lo:+.3f`,
#   {glue:text}`tj_nn_order_hi:+.3f`]) is not yet separated from zero. The configurations with a temporal
#   path have a lower probe accuracy (the only intervals in the paired table that exclude 0), but there
#   the probe reads the triplet embedding and elsewhere E_joint: it is not the same measurement.
# * **The 3-way triplet loss.** Supported: it trains, and the 3-way accuracies reach 1.00. Not
#   supported: that this is progress on order or place. The baseline, trained without it, also scores
#   1.00, and so does a scorer that only reads the direction order; `+3-way` changes no metric beyond
#   its interval. At the specification's weight and ramp, the 4-way variant with neg_c does not raise
#   `order_acc` either ({glue:text}`abl_4way_d_ord:+.3f` against `all`, interval
#   {glue:text}`abl_4way_lo_ord:+.3f` to {glue:text}`abl_4way_hi_ord:+.3f`). At full weight from the first
#   epoch it does (the sweep: {glue:text}`sw_d_ord_c4:+.3f`, interval {glue:text}`sw_lo_ord_c4:+.3f` to
#   {glue:text}`sw_hi_ord_c4:+.3f`), and retrieval gains with it; but E_joint gains as much as the triplet
#   embedding, so the term trains the shared encoders, not an ear for order in the temporal path.
# * **The modality classifier behind a GRL.** Not supported: the fresh probe stays far above the 0.65
#   goal with and without it ({numref}`fig-09-ablation-probe`), and the classifier itself ends at chance
#   during training (chapter {doc}`10_train`), which is not the same as inseparable embeddings. `+GRL`
#   lowers T2A R@1 on {glue:text}`abl_grl_lowers` of three seeds (by {glue:text}`abl_grl_d_min:.3f` to
#   {glue:text}`abl_grl_d_max:.3f`), an effect whose interval still contains 0.
#   Domain-adversarial practice (the DANN schedule, a warm-up with a faster classifier) settles the
#   classifier but leaves the probe at {glue:text}`grl_warm_probe:.3f` or above (section above).
# * **The total loss, its ramp-ups and the false-negative mask.** Supported: every term of the total
#   loss falls during the default run except the classifier's ({numref}`fig-10-default-losses`), and the
#   mask removes the true matches that InfoNCE would otherwise push apart (chapter {doc}`06_three_way_loss`).
#   Not tested on their own: every ablation row uses the same schedule and the mask, and the sweep drops
#   the ramp of the group term only together with raising its weight and adding neg_c, so neither says
#   what the ramp or the mask alone does to the results.
# * **Localisation.** With the specification's DOA head on E_joint it is near its goal:
#   {glue:text}`abl_le_min:.1f`° to {glue:text}`abl_le_max:.1f`° on average per configuration of the
#   ablation (single runs {glue:text}`abl_le_run_min:.1f`° to {glue:text}`abl_le_run_max:.1f`°), goal ≤ 10°,
#   and no addition moves it beyond its interval. The head on each time half, a departure, lowers it by
#   {glue:text}`sw_le_drop:.1f`° on average over the sweep's seeds; the default run's
#   {glue:text}`goal_le:.2f`° meets the goal.
#
# The reference scorers of `sclap_nb.reference` (no training; mean over the three seeds' test splits):
# `direction_only` scores `order_acc` {glue:text}`ref_dir_order_mean:.2f`, `order_blind`
# {glue:text}`ref_blind_order_mean:.2f`, and `sound_order` {glue:text}`ref_sound_order_mean:.2f` on
# `order_acc` but {glue:text}`ref_sound_place_mean:.2f` on `place_acc`: each fails the test that is not
# its own, so the order and place tests measure what they are meant to.
#
# These are measurements on one synthetic corpus (MIDI instruments and effects, two events per
# clip, template captions) with three seeds; they say what this book's runs show, not what the
# additions do on recorded scenes.
#
# ## Takeaway
#
# * Judged by the tests that can tell, none of the four additions has yet earned its place on this
#   corpus: the 3-way test is passed by direction order alone; the test with the fourth clip is scored
#   between {glue:text}`abl_order_min:.2f` and {glue:text}`abl_order_max:.2f` (mean per configuration) by
#   every configuration of the ablation, the baseline without a temporal path included, through the
#   clip's edges, and at chance once the edges are gone; the triplet embedding scores order like E_joint
#   (the same decision in {glue:text}`scenes_same_decisions:.3f` of the scenes of the default run, `order_acc` within
#   {glue:text}`sw_order_gap_max:.3f` in every run of the sweep); and the GRL leaves the modality gap
#   open.
# * The temporal path as specified had collapsed in scale: its output moves between clips by
#   {glue:text}`tn_off_spread:.1e` (E_joint: {glue:text}`tn_off_j_spread:.2f`), although a standardised
#   probe can still read from that sliver which sound came first, so the triplet embedding could only
#   repeat E_joint's decisions. With `temporal_token_norm=True`, now the default run's setting, it follows
#   the clip; over three seeds it changes nothing measurable on the default corpus, and on cue-free clips
#   (five seeds) it makes the model hear the order of the sounds (triplet `order_acc`
#   {glue:text}`tn_nn_order_d:+.3f` [{glue:text}`tn_nn_order_lo:+.3f`, {glue:text}`tn_nn_order_hi:+.3f`])
#   and the triplet embedding retrieves better than E_joint (T2A R@1 {glue:text}`tj_nn_r1_d:+.3f`
#   [{glue:text}`tj_nn_r1_lo:+.3f`, {glue:text}`tj_nn_r1_hi:+.3f`]), while its lead over E_joint on order
#   is not yet separated from zero.
# * Two departures from the specification help, over three seeds: the DOA head on each time half lowers
#   the localisation error by {glue:text}`sw_le_drop:.1f`°, and the 4-way group term at full weight raises
#   `order_acc` by {glue:text}`sw_d_ord_c4:.3f` and T2A R@1 by {glue:text}`sw_d_r1_c4:.3f` (`concat4`
#   against `all`), in E_joint as much as in the triplet embedding. The readout (concatenated or mean) is not separated.
# * The default run, with these departures, meets the localisation goal ({glue:text}`goal_le:.2f`°) and
#   the order and place goals ({glue:text}`goal_order:.3f`), but not by the triplet embedding's merit:
#   E_joint scores as well. It misses the modality goal (probe {glue:text}`goal_probe:.3f`) and the 1.5×
#   retrieval goal, which no R@1 can reach against this corpus's baseline.
#
# ## References
#
# The baseline is SALM's spatial CLAP {cite:p}`hu2025salm`; the temporal path, the 3-way loss and its
# negatives follow T-SALM {cite:p}`tsalm`; the GRL is from {cite:t}`ganin2015grl`; the modality gap is
# described by {cite:t}`liang2022gap`; the reference scorers read the intensity vectors of first-order
# ambisonics {cite:p}`zotter2019ambisonics`.

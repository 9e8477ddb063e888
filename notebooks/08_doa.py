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
# # Direction of arrival
#
# ![The model, with the part this chapter is about in colour](../figures/model_doa.png)
#
# *Run this chapter yourself:* in a clone of the repository, `make setup` once, then `make lab`; in
# JupyterLab open `notebooks/08_doa.py`, which opens as a notebook with the outputs stored in
# `08_doa.ipynb`. Headless, with other parameters: `mkdir -p runs && papermill
# notebooks/08_doa.ipynb runs/08_doa.ipynb -p n_test 64`. In JupyterLab a citation shows as its key
# (`yu2017pit`); the works are listed under *References* at the end.
#
# **What you will learn here:**
#
# * what a direction-of-arrival (DOA) head is, in two versions: the specification's, a regressor on
#   the joint audio embedding that outputs both directions of a clip at once, and the default run's,
#   one small regressor applied to each time half of the spatial branch's feature map;
# * why the loss is *permutation-invariant*, and how the localisation error (LE) is defined;
# * how far off the default head is on the 128 test scenes: overall, per clip role and per azimuth
#   sector, next to the specification's head on the same clips and, over three seeds, in the sweep of
#   `results/sweep` (the comparison with an untrained baseline and the elevation are in
#   {doc}`17_appendix_doa`);
# * why the halves head fails on timed scenes, and what a head on every frame (ACCDOA, in
#   {doc}`17_appendix_doa`) does there;
# * what the *zero-shot direction test* measures: whether the audio embedding lands near the text
#   prompt that names its direction.
#
# A first-order ambisonics (FOA) clip carries the direction of a sound in the ratios of its four
# channels: W is the pressure, X, Y, Z are the three figure-of-eight components pointing front, left
# and up {cite:p}`zotter2019ambisonics`. SALM's spatial branch reads the log-mel spectrogram of the four
# channels together with the *active intensity vectors* ($\operatorname{Re}(\overline{W}\,[X, Y, Z])$
# per time-frequency bin, normalised by the bin's energy: a plane wave from the unit direction $u$
# gives exactly $u$) and is trained, next to its contrastive losses, to
# regress the direction of each sound event {cite:p}`hu2025salm`. This chapter measures how well the
# trained heads do that.

# %% tags=["parameters"]
fast = True  # nothing here trains: the chapter measures stored models either way
n_test = 128  # scenes: the test split of the default run's corpus (same seed, same clips)
seed = 2025
corpus_dir = None  # default: data/book-text-<n_test>-s<seed> (test split only; built in seconds)
model_dir = "results/default/model"  # the trained default run, exported (config.json + model.safetensors)
spec_dir = "results/experiments/spec_settings_s2025"  # the same seed at the specification's settings
sweep_dir = "results/sweep/runs"  # three seeds per configuration (metrics.json only)

# %%
corpus_dir = corpus_dir or f"data/book-text-{n_test}-s{seed}"

# %% [markdown]
# ## Setup

# %%
import json

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import torch
import torch.nn.functional as F
from sclap_nb.notebook import glue

from sclap_nb import report, viz
from sclap_nb.ablation import collect_named, paired_differences
from sclap_nb.api import load
from sclap_nb.data import doa_vector, ensure_corpus, load_clip, read_metadata, sector_of
from sclap_nb.losses import doa_loss
from sclap_nb.metrics import localization_error, match_events
from sclap_nb.notebook import figures_dir, record, setup_chapter, verdict
from sclap_nb.evaluation import direction_prompts

ROOT = setup_chapter(threads=1)
FIG = figures_dir(ROOT)
metrics = json.loads((ROOT / "results" / "default" / "metrics.json").read_text())
spec_metrics = json.loads((ROOT / spec_dir / "metrics.json").read_text())

# %% [markdown]
# ## Two heads
#
# The model fuses its two branches into the joint embedding $E_\text{joint} = P_\text{sed} + w \odot
# P_\text{doa}$ (the semantic and the spatial projection, $w$ a learned weight per dimension).
#
# **The specification's head** is a two-layer MLP on $E_\text{joint}$, before its normalisation, with
# $3 \times 2$ outputs: a `tanh` keeps each coordinate in $(-1, 1)$ and the result is read as two
# vectors $(x, y, z)$ (x front, y left, z up), one per sound event. Both directions come out of one
# vector that has been pooled over the whole clip: the two events' directions are in it together,
# mixed with everything else the embedding has to hold for retrieval.
#
# **The default run's head** (`doa_pooling="halves"`) reads the spatial branch's feature map instead
# of $E_\text{joint}$. The map is averaged over frequency, cut into two halves in time, and each half
# is pooled like the branch's latent (mean plus maximum over its frames); one shared two-layer MLP
# with a `tanh` turns each pooled half into one vector $(x, y, z)$. Output 1 therefore reads the
# first half of the clip, output 2 the second.
#
# Why: in this corpus the two events follow each other in time, one in each half of the clip
# ({doc}`02_scenes`), so each half of the map holds one event, and the head never has to pull two
# directions apart from one summary. The cost is that assumption. Events that overlap, or that do not
# split at the middle of the clip, would give each half a mixture; a clip with a third event has no
# output for it. And the DOA loss no longer passes through $E_\text{joint}$: it trains the spatial
# branch's convolutions, not the projections or the fusion weight. **This is a deviation from the
# specification**; `ModelConfig(doa_pooling="joint")` selects the specification's head, and
# `results/experiments/spec_settings_s2025` holds the run at the specification's settings with the
# same seed and data (it also differs in the group loss, {doc}`06_three_way_loss`, and the temporal
# readout, {doc}`04_temporal_chunking`; the sweep below varies the head alone). Both heads:

# %%
model = load(ROOT / model_dir, device="cpu")
spec = load(ROOT / spec_dir / "model", device="cpu")
for name, m in (("default run", model), ("specification's settings", spec)):
    print(f"{name}: doa_pooling = {m.model.cfg.doa_pooling!r}, events per clip: {m.model.cfg.n_events}")
    print(m.model.doa_head)

# %% [markdown]
# The default head's input is 128 channels (the spatial branch's last stage), the specification's
# 512 (the dimension of $E_\text{joint}$), and it outputs one direction, not two. On a 2-second clip
# the spatial feature map has these frames, and each half pools its share of them:

# %%
with torch.no_grad():
    logmel, logmeliv = model.model.features(torch.zeros(1, 4, 2 * 16000))
    _, doa_map = model.model.doa_encoder(logmeliv)
halves = torch.tensor_split(doa_map.mean(3), model.model.cfg.n_events, dim=2)
print("spatial feature map (batch, channels, frames, bands):", tuple(doa_map.shape))
print("frames per half:", [h.shape[2] for h in halves], f"({model.model.doa_encoder.time_reduction * 10} ms a frame)")

# %% [markdown]
# The middle frame goes to the first half, and the convolutions' receptive fields reach across the
# middle: each half hears a little of the other event near the boundary.
#
# ## A loss that does not care about event order
#
# A clip holds two events, and the target lists them in time order: $t_1$ the first sound's
# direction, $t_2$ the second's. The specification's head reads a time-pooled embedding: whether it
# can tell which event came first is not obvious, and asking output 1 to be the first event would
# punish a head that found both directions but named them in the other order. The loss therefore
# takes the better of the two assignments {cite:p}`yu2017pit` (permutation-invariant training, first
# used for separating overlapping speakers):
#
# $$
# L_\text{DOA} = \frac{1}{B}\sum_{b=1}^{B} \min_{\pi \in \{(1,2),\,(2,1)\}} \frac12 \sum_{e=1}^{2}
# \Bigl(1 - \cos\bigl(\hat p_{b,\pi(e)},\, t_{b,e}\bigr)\Bigr)
# $$
#
# (`sclap_nb.losses.doa_loss`). The cosine ignores the length of $\hat p$, which is why the head's
# outputs need not be unit vectors. A prediction with its two events swapped costs exactly as much as
# the same prediction in order:

# %%
target = torch.tensor([[doa_vector(90, 0), doa_vector(-45, 20)]], dtype=torch.float32)  # left, then front right
guess = torch.tensor([[doa_vector(80, 5), doa_vector(-40, 10)]], dtype=torch.float32)
in_order, swapped_order = doa_loss(guess, target).item(), doa_loss(guess.flip(1), target).item()
print(f"loss, events in order: {in_order:.5f};  events swapped: {swapped_order:.5f}")
glue("toy_loss", in_order, display=False)

# %% [markdown]
# Both heads are trained with this loss. For the default head the order is fixed by construction
# (output 1 reads the first half), so the minimum only matters where the head would place the first
# half's sound closer to the second event's direction than to its own.
#
# ## The localisation error
#
# The metric follows the same matching. For each clip, the predicted vectors are normalised and put
# in the event order that matches the target best (the larger mean cosine); the error of an event is
# the angle between its predicted and its true unit vector,
#
# $$
# \text{LE} = \operatorname{mean}_{b,e}\; \frac{180}{\pi} \arccos\bigl(\hat u_{b,\pi_b(e)} \cdot u_{b,e}\bigr)
# \quad [\text{degrees}],
# $$
#
# the mean over every event of every clip (`sclap_nb.metrics.localization_error`). It is the
# direction-of-arrival error of sound event localisation and detection {cite:p}`adavanne2019seld`
# without the detection part: here every clip holds exactly two events, and each has a direction.
# The goal of the project is LE ≤ 10° on the default run, aiming at 5°.
#
# ## The test split
#
# The corpus is built exactly as the default run's (seed 2025), its test split only: the same 128
# scenes, four clips each ({doc}`02_scenes`), rendered in rooms the models never heard. The target of
# a clip is the direction of its two events in time order, from the metadata.

# %%
root = ensure_corpus(ROOT / corpus_dir, n_train=0, n_val=0, n_test=n_test, seed=seed, progress=False)
rows = read_metadata(root, "test")
files = [str(root / r["file"]) for r in rows]
emb = model.embed_audio(files, batch_size=64, progress=False)  # no progress bar in the stored page
spec_emb = spec.embed_audio(files, batch_size=64, progress=False)
target = torch.tensor(
    np.array([[doa_vector(r[f"azimuth_{e}"], r[f"elevation_{e}"]) for e in (1, 2)] for r in rows]), dtype=torch.float32
)
pred, spec_pred = emb.doa, spec_emb.doa  # (N, 2, 3), normalised by the API
print(f"{len(rows)} clips of {len({r['scene'] for r in rows})} scenes; predictions {tuple(pred.shape)}")

# %% [markdown]
# Before normalisation the default head's vectors are close to unit length on average but not on
# each clip (the first 64 clips):

# %%
with torch.no_grad():
    waves = torch.from_numpy(np.stack([load_clip(root, r) for r in rows[:64]]))
    raw = model.model.encode_audio(*model.model.features(waves))["doa"]
norms = raw.norm(dim=-1)
_ = record("raw_norms", [norms.min(), norms.mean(), norms.max()], tol=0.02,
           label="length of the raw head outputs (min, mean, max)", fmt=".2f",
           why="fixed weights; only float rounding differs")

# %% [markdown]
# ## How far off the heads are
#
# The matching (`sclap_nb.metrics.match_events`): the prediction in the event order with the larger mean cosine to the
# target, then the angle of each event. It reproduces `localization_error` clip by clip:

# %%
t64 = F.normalize(target.double(), dim=-1)  # in float64, as the metric


def matched_errors(pred):
    """(matched unit predictions, angle of each event in degrees, whether the clip's outputs were swapped)."""
    matched, swap = match_events(pred.double(), target.double())  # the event order with the larger mean cosine
    angle = torch.rad2deg(torch.acos((matched * t64).sum(-1).clamp(-1, 1)))
    assert torch.allclose(angle, localization_error(pred, target, reduce=False), atol=1e-6)
    return matched, angle, swap


matched, le_events, swap = matched_errors(pred)
spec_matched, spec_le_events, spec_swap = matched_errors(spec_pred)
le, le_spec = le_events.mean().item(), spec_le_events.mean().item()
_ = record("le", le, tol=0.05, label=f"default head: LE, {len(rows)} test clips, {2 * len(rows)} events", fmt=".2f", unit="°",
           why="fixed weights; only float rounding differs")
_ = record("le_spec", le_spec, tol=0.05, label="specification's head: LE, same clips", fmt=".2f", unit="°",
           why="fixed weights; only float rounding differs")
_ = record("le_above_aim", le - 5, tol=0.05, label="default head: LE minus the 5° aim", fmt=".2f", unit="°",
           why="fixed weights; only float rounding differs")
_ = record("le_ratio", le / le_spec, tol=0.01, label="LE of the default head / LE of the specification's",
           fmt=".2f", why="fixed weights; only float rounding differs")
_ = record("swap_share", swap.double().mean(), tol=0.01, label="default head: share of clips matched in the other event order",
           why="a clip flips only if its two assignments nearly tie")
_ = record("swap_share_spec", spec_swap.double().mean(), tol=0.01,
           label="specification's head: share of clips matched in the other event order",
           why="a clip flips only if its two assignments nearly tie")
glue("le_json", metrics["LE_deg"], display=False)
glue("le_spec_json", spec_metrics["LE_deg"], display=False)
front = torch.tensor(doa_vector(0, 0), dtype=torch.float32).expand_as(target)
_ = record("le_front", localization_error(front, target), tol=0.05, label="LE of a head that always points to the front",
           fmt=".2f", unit="°", why="no model; only float rounding differs")
# each goal's verdict in words that hold within the tolerance recorded for LE (0.05 deg)
le_goal, le_aim = verdict(le, 10, tol=0.05), verdict(le, 5, tol=0.05)
glue("le_goal_verdict", le_goal, display=False)
glue("le_aim_verdict", le_aim, display=False)
print(f"default head: LE <= 10 deg: {le_goal};  LE <= 5 deg: {le_aim}")

# %% [markdown]
# On the {glue:text}`n_clips` test clips the default head is off by {glue:text}`le:.2f`° on average
# (`results/default/metrics.json`, computed when the run ended in bf16: {glue:text}`le_json:.2f`°).
# **The goal of LE ≤ 10° is {glue:text}`le_goal_verdict`, and the aim of 5° is
# {glue:text}`le_aim_verdict`: LE minus 5° is {glue:text}`le_above_aim:+.2f`°.** The specification's head, trained with the same seed on the same
# data, is off by {glue:text}`le_spec:.2f`° on the same clips (its `metrics.json`:
# {glue:text}`le_spec_json:.2f`°), just over the goal; the default head's error is
# {glue:text}`le_ratio:.2f` times that. For scale: a head that always answered "in front" would be off
# by {glue:text}`le_front:.1f`°.
#
# The matching shows what each head learned about order. The specification's head returns its two
# outputs in the other order than the events in {glue:text}`swap_share_spec:.0%` of the clips: it has
# not learned to put the first sound first (nothing in its loss asks for it) and returns a set of two
# directions. The default head does so in {glue:text}`swap_share:.0%` of the clips: reading one half
# each, its outputs come in time order.
#
# Each scene is rendered four times (pos, neg_t, neg_s, neg_c: the same two events, in other orders
# and places, each rendering with its own notes), and the default head's error hardly depends on which:

# %%
glue("n_clips", len(rows), display=False)



events = report.doa_event_table(rows, matched, le_events)
spec_events = report.doa_event_table(rows, spec_matched, spec_le_events)
roles = ["pos", "neg_t", "neg_s", "neg_c"]
by_role = events.groupby("role")["LE"].mean()
_ = record("le_roles", [by_role[r] for r in roles], tol=0.05, label="LE per role (pos, neg_t, neg_s, neg_c), degrees",
           fmt=".2f", why="fixed weights; only float rounding differs")
by_event = events.groupby("event")["LE"].mean()
_ = record("le_events", [by_event["first sound"], by_event["second sound"]], tol=0.05,
           label="LE of the first and of the second sound, degrees", fmt=".2f", why="fixed weights; only float rounding differs")
_ = record("le_role_spread", by_role.max() - by_role.min(), tol=0.05, label="largest minus smallest LE of the four roles",
           fmt=".2f", unit="°", why="fixed weights; only float rounding differs")
_ = record("le_event_gap", abs(by_event["first sound"] - by_event["second sound"]), tol=0.05,
           label="|LE of the first sound - LE of the second|", fmt=".2f", unit="°", why="fixed weights; only float rounding differs")
by_sector = events.groupby("sector")["LE"].mean()
_ = record("le_sector_min", by_sector.min(), tol=0.05, label="default head: LE of the best sector", fmt=".2f", unit="°",
           why="fixed weights; only float rounding differs")
_ = record("le_sector_max", by_sector.max(), tol=0.05, label="default head: LE of the worst sector", fmt=".2f", unit="°",
           why="fixed weights; only float rounding differs")
_ = record("sectors_below_goal", int((by_sector <= 10).sum()), tol=0, fmt=".0f",
           label="sectors (of 8) whose LE is at most 10°", why="the worst sector is 4° below 10°")
_ = record("sectors_below_aim", int((by_sector <= 5).sum()), tol=0, fmt=".0f",
           label="sectors (of 8) whose LE is at most 5°", why="the sector closest to 5° is 0.06° away, far above float rounding")

# %% [markdown]
# The mean errors of the four roles lie within {glue:text}`le_role_spread:.2f`° of each other, and
# those of the first and the second sound within {glue:text}`le_event_gap:.2f`°: the head locates the
# sound of either half about equally well, whichever rendering of the scene it hears.
#
# {numref}`fig-doa-polar` shows every prediction of the 128 pos clips against its truth, seen from
# above, for both heads.

# %%
colors = {"first sound": viz.PALETTE[0], "second sound": viz.PALETTE[3]}
fig, axes = plt.subplots(1, 2, figsize=(11, 6.2), subplot_kw={"projection": "polar"})
for ax, (title, table) in zip(axes, [("specification's head (on E_joint)", spec_events),
                                     ("default head (one per time half)", events)]):
    pos = table[table["role"] == "pos"]
    ax.set_theta_zero_location("N")  # front up
    ax.set_theta_direction(1)  # counter-clockwise: +90 degrees (left) on the left
    for event, part in pos.groupby("event"):
        th_true, th_pred = np.deg2rad(part["azimuth"]), np.deg2rad(part["pred_azimuth"])
        r_true, r_pred = 90 - part["elevation"], 90 - part["pred_elevation"]
        for a, b, c, d in zip(th_true, th_pred, r_true, r_pred):
            ax.plot([a, b], [c, d], color=colors[event], lw=0.8, alpha=0.6)
        ax.scatter(th_true, r_true, s=12, color=colors[event], label=f"{event}: true", zorder=3)
        ax.scatter(th_pred, r_pred, s=18, marker="x", color=colors[event], label=f"{event}: predicted", zorder=3)
    ax.set_rlim(0, 140)
    ax.set_rticks([45, 90, 135])
    ax.set_yticklabels(["elev. +45°", "0°", "−45°"])
    ax.set_xticks(np.deg2rad(np.arange(0, 360, 45)))
    ax.set_xticklabels(["front", "front-left", "left", "back-left", "back", "back-right", "right", "front-right"],
                       fontsize="small")
    ax.set_title(title, pad=18)
axes[1].legend(loc="upper center", bbox_to_anchor=(-0.12, -0.06), ncol=4, frameon=False)
_ = viz.save(fig, FIG / "08_polar.png")
plt.close(fig)

# %% [markdown]
# ```{figure} ../figures/08_polar.png
# :name: fig-doa-polar
# True (dots) and predicted (crosses) directions of both events of the 128 test pos clips, seen from
# above; left: the specification's head on $E_\text{joint}$ (run `spec_settings_s2025`), right: the
# default head on each time half of the spatial feature map (`results/default`). The angle is the
# azimuth (front up, left on the left), the distance from the centre is 90° minus the elevation (the
# circle marked 0° is the horizon; the centre would be straight up). A line joins each prediction to
# its truth; blue: the clip's first sound, vermilion: its second.
# ```
#
# The lines of the default head are shorter, and the long ones of either head are not gathered in one
# part of the circle. By sector of the true azimuth (drawn in {numref}`fig-doa-sectors` of
# {doc}`17_appendix_doa`, beside an untrained baseline), the default head's mean error ranges from
# {glue:text}`le_sector_min:.1f`° to {glue:text}`le_sector_max:.1f`°, about 128 events a sector; the
# 10° goal is met in {glue:text}`sectors_below_goal:.0f` of the 8 sectors and the 5° aim in
# {glue:text}`sectors_below_aim:.0f`.
#
# ## Across seeds: the sweep
#
# One seed is one draw of the initial weights and the order of the batches. The sweep of
# `results/sweep` trained each configuration with three seeds (2025, 2026, 2027) on the default corpus,
# on a GPU; its configuration `all` has the specification's settings, `doa_halves` differs from it in
# the head alone, and `concat4_halves` is the default run's settings, whose closest relative without
# the halves head is `concat4`. The differences, paired by seed, with their 95 % t-intervals (two
# degrees of freedom):

# %%
sweep = collect_named(ROOT / sweep_dir)
le_sweep = sweep.groupby("config")["LE_deg"].agg(["mean", "std", "count"])
print(le_sweep.loc[["all", "doa_halves", "concat4", "concat4_halves"]].round(2).to_string())
pairs = pd.concat([
    paired_differences(sweep, "all", metrics=["LE_deg", "joint/t2a/R@1"], configs=["doa_halves", "concat4_halves"]),
    paired_differences(sweep, "concat4", metrics=["LE_deg", "joint/t2a/R@1"], configs=["concat4_halves"]).assign(
        config="concat4_halves vs concat4"),
], ignore_index=True)
print(pairs.round(3).to_string(index=False))
for cfg, key in (("all", "all"), ("doa_halves", "halves"), ("concat4", "concat4"), ("concat4_halves", "c4h")):
    glue(f"sweep_le_{key}", float(le_sweep.loc[cfg, "mean"]), display=False)
    glue(f"sweep_le_{key}_sd", float(le_sweep.loc[cfg, "std"]), display=False)
for row, key in ((("doa_halves", "LE_deg"), "d_halves"), (("concat4_halves", "LE_deg"), "d_c4h"),
                 (("concat4_halves vs concat4", "LE_deg"), "d_c4h_c4"), (("doa_halves", "joint/t2a/R@1"), "d_halves_r1")):
    r = pairs[(pairs["config"] == row[0]) & (pairs["metric"] == row[1])].iloc[0]
    glue(f"sweep_{key}", float(r["diff"]), display=False)
    glue(f"sweep_{key}_lo", float(r["ci_low"]), display=False)
    glue(f"sweep_{key}_hi", float(r["ci_high"]), display=False)
glue("sweep_halves_max", float(sweep.loc[sweep["config"] == "doa_halves", "LE_deg"].max()), display=False)
per_seed = sweep.pivot(index="seed", columns="config", values="LE_deg")
glue("sweep_c4h_lower", int((per_seed["concat4_halves"] < per_seed["concat4"]).sum()), display=False)
glue("sweep_seeds", len(per_seed), display=False)
glue("sweep_all_min", float(sweep.loc[sweep["config"] == "all", "LE_deg"].min()), display=False)

# %% [markdown]
# With the specification's settings otherwise, the halves head lowers LE from
# {glue:text}`sweep_le_all:.2f` ± {glue:text}`sweep_le_all_sd:.2f`° to {glue:text}`sweep_le_halves:.2f` ±
# {glue:text}`sweep_le_halves_sd:.2f`° (mean ± standard deviation over the seeds): by
# {glue:text}`sweep_d_halves:+.2f`° [{glue:text}`sweep_d_halves_lo:+.2f`,
# {glue:text}`sweep_d_halves_hi:+.2f`], and on every seed (its worst seed, {glue:text}`sweep_halves_max:.2f`°,
# is better than the specification's best, {glue:text}`sweep_all_min:.2f`°). With the default run's
# other settings it reaches {glue:text}`sweep_le_c4h:.2f` ± {glue:text}`sweep_le_c4h_sd:.2f`°, against
# {glue:text}`sweep_le_concat4:.2f` ± {glue:text}`sweep_le_concat4_sd:.2f`° without it
# ({glue:text}`sweep_d_c4h_c4:+.2f`° [{glue:text}`sweep_d_c4h_c4_lo:+.2f`,
# {glue:text}`sweep_d_c4h_c4_hi:+.2f`]; against `all`, {glue:text}`sweep_d_c4h:+.2f`°
# [{glue:text}`sweep_d_c4h_lo:+.2f`, {glue:text}`sweep_d_c4h_hi:+.2f`]). So the gain on the single
# seed above is not luck of the draw: paired with the specification's settings, both intervals lie
# below zero. Paired with `concat4`, the interval reaches above zero, because `concat4`'s LE spreads
# widely over the seeds; the halves head is the lower on {glue:text}`sweep_c4h_lower` of the
# {glue:text}`sweep_seeds` seeds there too. What the head costs retrieval is
# not resolved: E_joint's text-to-audio R@1 moves by {glue:text}`sweep_d_halves_r1:+.3f`
# [{glue:text}`sweep_d_halves_r1_lo:+.3f`, {glue:text}`sweep_d_halves_r1_hi:+.3f`], an interval
# that holds no change.
#
# ## Timed scenes: a head on every frame
#
# The halves head rests on the halves layout: one event per half. The main job's timed scenes
# ({doc}`02_scenes`) break that rule: two or three events start anywhere in a 4-second clip, may overlap,
# and one of them moves. {doc}`17_appendix_doa` gives the head every frame of the spatial map instead
# (ACCDOA {cite:p}`shimada2021accdoa`), draws it following a moving source, and reports the planned study
# (`results/doa_study`, five seeds) that compared the two heads in the main job's configuration:

# %%
doa_study = report.study_analysis("doa_study", ROOT)
for key, value in report.spread_facts("ds", doa_study["seed_spread"], doa_study["rerun_noise"]).items():
    glue(key, value, display=False)

# %% [markdown]
# Without onsets, the frame-wise head is off by {glue:text}`ds_MF_mix_LE_blind_deg:.1f`° on timed scenes and
# the halves head by {glue:text}`ds_ML_mix_LE_deg:.1f`°; what the embeddings hear does not move, and by the
# study's rule the main job keeps the halves head.
#
# ## The intensity vector and the elevation
#
# {doc}`17_appendix_doa` compares the heads with a baseline that needs no training (the mean
# intensity vector of each half of the clip, on the azimuth) and reads their errors against the
# elevation of the source.
#
# ## The zero-shot direction test
#
# A DOA head is one way to read directions out of the model; the other goes through text. The
# zero-shot direction test (`sclap_nb.train.evaluation_metrics`) embeds eight prompts, one per
# azimuth sector,

# %%
for p in direction_prompts():
    print(p)

# %% [markdown]
# and labels each clip with the prompt its *audio embedding* (E_joint, or the triplet embedding of
# the temporal path) is most similar to. The label counts as right when it names the sector of either
# of the clip's two events: a clip plays two sounds, and a single prompt can only name one direction.
# The two events of a scene always lie in different sectors, so naming a sector at random is right
# with probability 2/8 = 0.25. No DOA head is involved: the test asks whether the embedding that
# retrieves captions also sits near the words for its directions. The same test, through the API's
# `classify` (a softmax over the prompts, whose arg-max is the most similar prompt):

# %%
true_sectors = torch.tensor([[sector_of(r[f"azimuth_{e}"]) for e in (1, 2)] for r in rows])
for name in ("joint", "triplet"):
    guess = model.classify(emb, direction_prompts(), embedding=name).argmax(1)
    hit = (guess[:, None] == true_sectors).any(1).double().mean()
    _ = record(f"zeroshot_{name}", hit, tol=0.01, label=f"zero-shot direction accuracy, {name}",
               why="a clip flips only when two prompts nearly tie")
    glue(f"zeroshot_{name}_json", metrics[f"{name}/zeroshot_direction"], display=False)
glue("zeroshot_joint_spec_json", spec_metrics["joint/zeroshot_direction"], display=False)
zs = sweep.groupby("config")["joint/zeroshot_direction"]
glue("zs_all_min", float(zs.min()["all"]), display=False)
glue("zs_all_max", float(zs.max()["all"]), display=False)
zs_pair = paired_differences(sweep, "all", metrics=["joint/zeroshot_direction"], configs=["concat4_halves"]).iloc[0]
for name in ("diff", "ci_low", "ci_high"):
    glue(f"zs_c4h_{name}", float(zs_pair[name]), display=False)
head_sectors = torch.tensor([[sector_of(a) for a in pair] for pair in events["pred_azimuth"].to_numpy().reshape(-1, 2)])
_ = record("head_sector_events", (head_sectors == true_sectors).double().mean(), tol=0.01,
           label="default head: share of events placed in the right sector", why="an event flips only near a sector edge")
_ = record("head_sector_clips", (head_sectors == true_sectors).all(1).double().mean(), tol=0.01,
           label="default head: share of clips with both events in the right sector", why="a clip flips only near a sector edge")

# %% [markdown]
# The embedding names one of the two right sectors for {glue:text}`zeroshot_triplet:.1%` of the clips
# with the triplet embedding and {glue:text}`zeroshot_joint:.1%` with E_joint (the run's
# `metrics.json`: {glue:text}`zeroshot_triplet_json:.3f` and {glue:text}`zeroshot_joint_json:.3f`),
# about twice chance. The captions the model was trained on say "on the left", "to the back right",
# never "The sound is coming from the left."; that a prompt in another wording still lands near the
# right clips more often than chance suggests that the direction words themselves, not only the
# caption templates, carry direction in the shared space. The run at the specification's settings
# scores {glue:text}`zeroshot_joint_spec_json:.3f` with E_joint on the same clips, but this test varies
# widely between seeds: over the sweep's three seeds the specification's settings score from
# {glue:text}`zs_all_min:.3f` to {glue:text}`zs_all_max:.3f`, and the default settings differ from
# them by {glue:text}`zs_c4h_diff:+.3f` [{glue:text}`zs_c4h_ci_low:+.3f`,
# {glue:text}`zs_c4h_ci_high:+.3f`], an interval that holds no change.
# It is an easier question than the head's, too: one right sector out of two suffices. The default
# head places {glue:text}`head_sector_events:.1%` of the events in the right 45° sector and both
# events of {glue:text}`head_sector_clips:.1%` of the clips.
#
# ## Takeaway
#
# The default run's DOA head reads each time half of the spatial branch's feature map, one event per
# half, instead of the specification's time-pooled $E_\text{joint}$: a deviation from the
# specification that relies on the events following each other in time, and that
# `ModelConfig(doa_pooling="joint")` undoes. It is off by {glue:text}`le:.2f`° on average over the
# test split: the project's goal of 10° is {glue:text}`le_goal_verdict`, and the aim of 5° is
# {glue:text}`le_aim_verdict` (LE minus 5°: {glue:text}`le_above_aim:+.2f`°). The specification's head, with the same seed, is off by
# {glue:text}`le_spec:.2f`°; over three seeds the halves head lowers LE by
# {glue:text}`sweep_d_halves:+.2f`° [{glue:text}`sweep_d_halves_lo:+.2f`,
# {glue:text}`sweep_d_halves_hi:+.2f`]. The default head returns its two directions in time order,
# and locates both sounds and all four renderings about equally well; {doc}`17_appendix_doa`
# sets it beside an untrained baseline and against the elevation of the source. On the main job's timed
# scenes the halves head's assumption fails ({glue:text}`ds_ML_mix_LE_deg:.1f`° over five seeds); a head on
# every frame (ACCDOA) follows a moving source and, without onsets, is off by
# {glue:text}`ds_MF_mix_LE_blind_deg:.1f`°, without changing what the embeddings hear; by its study's rule the
# main job keeps the halves head, since order's non-inferiority was not shown. Through text, the audio
# embedding names a right sector for about half the clips, twice chance.
#
# ## Exercises
#
# 1. **A head that always says "front".** Show that if the azimuths of the sources are spread
#    symmetrically about ±90° (as the eight sectors are), a head that always answers "front" has a mean
#    angular error of exactly 90°, whatever the elevations. The chapter measures
#    {glue:text}`le_front:.1f`° for it: is the difference from 90° a sign of anything?
#
#    :::{dropdown} Solution
#    The angle between the front $(1, 0, 0)$ and a source at azimuth $a$, elevation $e$ is
#    $\arccos(\cos e \cos a)$. The sources at $a$ and $180° - a$ (same $e$) have $\cos a$ of opposite
#    signs, and $\arccos(c) + \arccos(-c) = 180°$: each such pair averages 90°. The measured mean differs
#    from 90° only by chance: the error of one event spreads over 0° to 180° (standard deviation about
#    52°), so a mean over 1024 events moves by about $52 / \sqrt{1024} \approx 1.6°$.
#    :::
#
# 2. **Matched in the other order.** A clip's events come from the left, $(0, 1, 0)$, then from the
#    front, $(1, 0, 0)$; a head answers front, then left. What LE does the permutation-invariant match
#    give this clip, and does it count as "matched in the other event order"?
#
#    :::{dropdown} Solution
#    In time order each output is 90° off; swapped, both are exact. The match takes the better
#    assignment: LE 0° for the clip, and it counts as swapped. The specification's head is swapped in
#    about half the clips ({glue:text}`swap_share_spec:.0%`) because its loss never asks for an order; a
#    head whose outputs are swapped that often cannot tell which sound came from where.
#    :::
#
# 3. **A smaller test split.** `papermill notebooks/08_doa.ipynb runs/08_doa.ipynb -p n_test 64` builds
#    and measures a 64-scene test split. Predict how far LE may move from the stored value, using the
#    spread of the per-event errors, then check.
#
# ## References
#
# SALM's dual-branch spatial CLAP and its DOA head {cite:p}`hu2025salm`; first-order ambisonics and
# the intensity vector {cite:p}`zotter2019ambisonics`; permutation-invariant training
# {cite:p}`yu2017pit`; sound event localisation and detection and the DOA error
# {cite:p}`adavanne2019seld`; the activity-coupled frame-wise representation ACCDOA
# {cite:p}`shimada2021accdoa`.
#
# % In JupyterLab a citation shows as its key; the works cited in this chapter:
#
# % `zotter2019ambisonics`: Zotter and Frank (2019). Ambisonics: A Practical 3D Audio Theory for Recording, Studio Production, Sound Reinforcement, and Virtual Reality. Springer.
#
# % `hu2025salm`: Hu et al. (2025). SALM: Spatial Audio Language Model with Structured Embeddings for Understanding and Editing. arXiv preprint arXiv:2507.16724.
#
# % `yu2017pit`: Yu et al. (2017). Permutation Invariant Training of Deep Models for Speaker-Independent Multi-Talker Speech Separation. IEEE International Conference on Acoustics, Speech and Signal Processing (ICASSP).
#
# % `shimada2021accdoa`: Shimada et al. (2021). ACCDOA: Activity-Coupled Cartesian Direction of Arrival Representation for Sound Event Localization and Detection. IEEE International Conference on Acoustics, Speech and Signal Processing (ICASSP).
#
# % `adavanne2019seld`: Adavanne et al. (2019). Sound Event Localization and Detection of Overlapping Sources Using Convolutional Recurrent Neural Networks. IEEE Journal of Selected Topics in Signal Processing.

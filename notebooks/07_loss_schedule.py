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
# # The loss schedule
#
# ![The model, with the part this chapter is about in colour](../figures/model_losses.png)
#
# *Run this chapter yourself:* in a clone of the repository, `make setup` once, then `make lab`; in
# JupyterLab open `notebooks/07_loss_schedule.py`, which opens as a notebook with the outputs stored in
# `07_loss_schedule.ipynb`. Headless, with other parameters: `mkdir -p runs && papermill
# notebooks/07_loss_schedule.ipynb runs/07_loss_schedule.ipynb -p smooth 32`. In JupyterLab a citation shows as its key
# (`tsalm`); the works are listed under *References* at the end.
#
# **What you will learn here:**
#
# * the total loss of the model, its five terms and their weights, and which weights change during
#   training (the fourth addition of the specification): the semantic term switches on at epoch 3, the
#   3-way term ramps up over four epochs; beside them the strength λ of the gradient reversal and the
#   learning rate follow schedules of their own;
# * how to read the log of a run whose loss changes its weights under it: the total can jump while no
#   parameter moves;
# * what the log of a run with the specification's schedule shows around each change, measured: when
#   the 3-way loss leaves ln 3, what the modality classifier does in the first epochs, and what the
#   semantic loss does before its weight turns on.
#
# What the default run does instead (the 4-way term at full weight from the first epoch, no ramp), and
# which term makes the total, are read in {doc}`16_appendix_training`.
#
# Nothing is trained here. Most of the page reads the committed log of the run with the
# specification's settings (seed 2025, 18 epochs, the 3-way term ramped over four epochs), which was
# the default run (then `make train`) until a three-seed sweep (`results/sweep`) changed the default
# settings: `results/experiments/spec_settings_s2025/metrics.csv` (Lightning's CSV log, one row per
# training step and one per validation) and its settings, `run.json`, in the same folder. One
# comparison also reads `results/experiments` and `results/ablation`. Every number in the prose comes
# from those files.

# %% tags=["parameters"]
fast = True  # nothing here trains: the page reads the committed log either way
run_dir = "results/experiments/spec_settings_s2025"  # the specification's settings (the default run until the sweep)
dann_run_dir = "results/experiments/all_dann_s2025"  # the same run with the DANN schedule of lambda
smooth = 8  # steps of the rolling mean drawn over the per-step losses

# %% [markdown]
# ## Setup

# %%
import json
import math

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.ticker import MaxNLocator
from sclap_nb.notebook import glue

from sclap_nb import viz
from sclap_nb.losses import grl_lambda_at, loss_weights_at
from sclap_nb.notebook import figures_dir, setup_chapter
from sclap_nb.results import load_run

ROOT = setup_chapter(threads=1)
FIG = figures_dir(ROOT)
LN2, LN3 = math.log(2), math.log(3)

# %% [markdown]
# ## The total loss
#
# The specification (section 4; {cite:p}`tsalm`, on SALM's base loss {cite:p}`hu2025salm`) sums five
# terms, and `sclap_nb.losses.total_loss` computes exactly this sum:
#
# $$
# L = (1 - w_\mathrm{sem}(e))\, L_\mathrm{sCL} + w_\mathrm{sem}(e)\, L_\mathrm{CL}
#   + w_\mathrm{doa}\, L_\mathrm{DOA} + w_\mathrm{ts}(e)\, L_\mathrm{ts} + w_\mathrm{mod}\, L_\mathrm{mod}
# $$
#
# * $L_\mathrm{sCL}$: the symmetric InfoNCE {cite:p}`oord2018cpc,radford2021clip` of the
#   spatial-semantic audio embedding E_joint against the *spatial* captions (in the runs read here also of
#   the triplet embedding, averaged: `triplet_contrastive`);
# * $L_\mathrm{CL}$: the InfoNCE of the semantic branch against the *plain* captions ("A, then B");
# * $L_\mathrm{DOA}$: $1 - \cos$ between predicted and true directions of the two events;
# * $L_\mathrm{ts}$: the 3-way loss ({doc}`06_three_way_loss`);
# * $L_\mathrm{mod}$: the modality classifier's binary cross-entropy, behind the gradient reversal
#   layer ({doc}`05_grl`).
#
# $w_\mathrm{sem}$ does not add a term on top of the others: it *moves* weight from $L_\mathrm{sCL}$ to
# $L_\mathrm{CL}$. Two weights depend on the epoch $e$ (counted from 0), by
# `sclap_nb.losses.loss_weights_at(epoch, cfg)` of the run's loss settings `cfg` (`weights`, `sem_start`,
# `ts_ramp`):
#
# * $w_\mathrm{sem}(e) = 0$ before `sem_start`, $w_\mathrm{sem}$ from then on;
# * $w_\mathrm{ts}(e) = w_\mathrm{ts} \cdot \min(1, (e + 1) / \mathrm{ts\_ramp})$, a linear ramp.
#
# The settings of the run with the specification's schedule:

# %%
run = load_run(ROOT / run_dir).config  # its settings, as the configuration tree
loss, epochs = run.loss, run.optim.epochs
weights, sem_start, ts_ramp = list(loss.weights), loss.sem_start, loss.ts_ramp
print(f"loss.weights (w_doa, w_sem, w_ts, w_mod) = {weights}, sem_start = {sem_start}, ts_ramp = {ts_ramp}")
print(f"loss.grl_lambda = {loss.grl_lambda}, grl_schedule = {loss.grl_schedule!r}, optim.lr = {run.optim.lr}, "
      f"warmup_epochs = {run.optim.warmup_epochs}, epochs = {epochs}, batch_size = {run.optim.batch_size} triplets")
schedule = pd.DataFrame([loss_weights_at(e, loss) for e in range(epochs)]).rename_axis("epoch")
schedule.insert(1, "1 - sem", 1 - schedule["sem"])
schedule.iloc[[0, 1, 2, 3, 4, epochs - 1]]

# %% [markdown]
# So the first three epochs train the spatial InfoNCE alone among the contrastive terms, with the
# 3-way term at a quarter, a half and three quarters of its weight; from epoch 3 on every weight is
# constant. The training step also reads two schedules that are not loss weights: the GRL strength λ
# (the setting `loss.grl_schedule`: `"constant"`, λ = `grl_lambda` throughout, as the
# specification says, or `"dann"`, the schedule of {cite:t}`ganin2016dann`,
# $\lambda(p) = 2 / (1 + e^{-10 p}) - 1$ with $p$ the fraction of training done), and the learning rate
# (a linear warm-up over `warmup_epochs`, then a cosine decay to 0).
#
# ## What the log holds
#
# The log has one row per training step with every loss term and every effective weight, as the
# training step computed them, and one row per validation. First two checks of the log against the
# code: the weights it logged are those of `loss_weights_at`, and the logged terms, weighted, add up to
# the logged total.

# %%
log = viz.read_log(ROOT / run_dir / "metrics.csv")
train_rows = log.dropna(subset=["train/loss_ts_step"])
steps = viz.step_frame(log).assign(epoch=train_rows["epoch"].to_numpy().astype(int))
steps_per_epoch = int(steps.groupby("epoch").size().iloc[0])
val = viz.epoch_frame(log)
print(f"{len(steps)} training steps, {steps_per_epoch} per epoch, {len(val)} validations")

expected = pd.DataFrame([loss_weights_at(e, loss) for e in steps["epoch"]])
weight_diff = max(float((steps[f"w_{k}"] - expected[k]).abs().max()) for k in ("doa", "sem", "ts", "mod"))
recomposed = ((1 - steps["w_sem"]) * steps["loss_scl"] + steps["w_sem"] * steps["loss_cl"] + steps["w_doa"] * steps["loss_doa"]
              + steps["w_ts"] * steps["loss_ts"] + steps["w_mod"] * steps["loss_mod"])
total_diff = float((recomposed - steps["total"]).abs().max())
print(f"logged weights vs loss_weights_at: largest difference {weight_diff:.1e}")
print(f"logged total vs the weighted sum of the logged terms: largest difference {total_diff:.1e}")
print(f"GRL lambda logged: {[float(x) for x in sorted(steps['lambda'].unique())]}")
glue("steps_per_epoch", steps_per_epoch, display=False)
glue("n_steps", len(steps), display=False)

# %% [markdown]
# Both agree to float32 rounding (the weights are stored as float32, so 0.2 is logged as
# 0.2000000030). The figure draws the schedules of this run: the loss weights by epoch, and λ and the
# learning rate per step, with the DANN schedule beside the constant λ that the run used. The DANN curve is computed by `sclap_nb.losses.grl_lambda_at`, the function the training step calls.

# %%
dann_loss = run.with_settings({"loss.grl_schedule": "dann"}).loss
# the function the training step calls, at each step of the run
dann = [grl_lambda_at(int(s), int(s) // steps_per_epoch, steps_per_epoch, epochs, dann_loss) for s in steps["step"]]
step_epochs = steps["step"] / steps_per_epoch  # each step's position in epochs

fig, axes = plt.subplots(1, 3, figsize=(13, 3.5))
ax = axes[0]
edges = np.arange(epochs + 1)
labels = {"doa": "$w_{doa}$ on $L_{DOA}$", "1 - sem": "$1 - w_{sem}$ on $L_{sCL}$", "sem": "$w_{sem}$ on $L_{CL}$",
          "ts": "$w_{ts}$ on $L_{ts}$", "mod": "$w_{mod}$ on $L_{mod}$"}
for i, (key, label) in enumerate(labels.items()):
    ax.stairs(schedule[key], edges, label=label, lw=2, color=f"C{i}", baseline=None)
ax.set_xlabel("epoch")
ax.set_ylabel("effective weight")
ax.set_ylim(-0.05, 1.1)
ax.set_title("loss weights")
ax.legend(loc="center right")
ax = axes[1]
ax.plot(step_epochs, steps["lambda"], label="constant (this run, logged)", color="C0")
ax.plot(step_epochs, dann, label="dann: 2/(1+exp(-10p)) - 1", color="C3", ls="--")
ax.set_xlabel("epoch")
ax.set_ylabel("GRL strength λ")
ax.set_ylim(-0.05, 1.1)
ax.set_title("gradient reversal strength")
ax.legend(loc="lower right")
ax = axes[2]
ax.plot(step_epochs, steps["lr"], color="C0")
ax.axvline(run.optim.warmup_epochs, color="gray", ls=":", lw=1)
ax.annotate("end of warm-up", (run.optim.warmup_epochs, 0), rotation=90, ha="right", va="bottom", color="gray")
ax.set_xlabel("epoch")
ax.set_ylabel("learning rate (Adam)")
ax.set_title("learning rate (logged)")
fig.tight_layout()
viz.save(fig, FIG / "07_schedules.png")
plt.close(fig)

# %% [markdown]
# ```{figure} ../figures/07_schedules.png
# :name: fig-loss-schedules
# The schedules of the run with the specification's settings against the epoch (32 steps each). Left:
# the effective weight of each loss term (`loss_weights_at`); $1 - w_{sem}$ and $w_{doa}$ overlap at 1
# in the first three epochs, $w_{ts}$ and $w_{mod}$ at 0.2 from epoch 3 on. Middle: the GRL strength
# λ, constant in this run (logged), and the DANN schedule
# (`grl_schedule="dann"`) for comparison. Right: the learning rate, logged at every step.
# ```
#
# ## The terms, step by step
#
# Each term of the loss against the training step, with the steps where a weight changes marked: the
# 3-way weight grows at the start of epochs 1, 2 and 3, and $w_{sem}$ switches on at epoch 3, at step
# {glue:text}`sem_step`. The reference lines are the values of guessing: ln 3 for the 3-way loss (three
# candidates), ln 2 for the modality classifier (two classes), and ln 48 for the InfoNCE terms (48
# clips a step; the mask of false negatives removes a few candidates from the denominators of
# $L_{CL}$, so its value of guessing is slightly lower).

# %%
sem_step = sem_start * steps_per_epoch
ramp_steps = [e * steps_per_epoch for e in range(1, ts_ramp)]
glue("sem_step", sem_step, display=False)
n_clips = 3 * run.optim.batch_size
terms = {"total": ("total L", None), "loss_scl": ("$L_{sCL}$", ("ln 48", math.log(n_clips))),
         "loss_cl": ("$L_{CL}$", ("ln 48", math.log(n_clips))), "loss_doa": ("$L_{DOA}$ (1 - cos)", None),
         "loss_ts": ("$L_{ts}$", ("ln 3", LN3)), "loss_mod": ("$L_{mod}$", ("ln 2", LN2))}



fig, axes = plt.subplots(2, 3, figsize=(13, 6.6))
for ax, (key, (title, ref)) in zip(axes.flat, terms.items()):
    ax.plot(steps["step"], steps[key], lw=0.6, alpha=0.45, color="C0")
    ax.plot(steps["step"], steps[key].rolling(smooth, min_periods=1).mean(), lw=1.6, color="C0")
    if ref:
        ax.axhline(ref[1], color="C3", ls="--", lw=1)
        ax.annotate(ref[0], (steps["step"].iloc[-1], ref[1]), ha="right", va="bottom", fontsize="small", color="C3")
    viz.mark_loss_schedule(ax, ramp_steps, sem_step, steps_per_epoch)
    ax.set_title(title)
    ax.set_xlabel("training step")
    ax.set_ylabel("1 - cos (mean)" if key == "loss_doa" else "loss (nats)")
axes.flat[5].set_yscale("log")
fig.tight_layout()
viz.save(fig, FIG / "07_loss_terms.png")
plt.close(fig)

# %% [markdown]
# ```{figure} ../figures/07_loss_terms.png
# :name: fig-loss-terms
# Every term of the loss of the run with the specification's settings against the training step (thin: per step; thick: rolling
# mean over 8 steps), with the epoch on the top axis. Dotted: the 3-way weight grows (epochs 1, 2, 3);
# dashed: $w_{sem}$ switches on (epoch 3). Orange dashed lines: the loss of guessing (ln 48 for the InfoNCE terms with
# 48 clips a step, ln 3, ln 2). $L_{mod}$ on a logarithmic axis.
# ```
#
# The panels, one change at a time.

# %%
by_epoch = steps.groupby("epoch").mean(numeric_only=True)
# the total at the first step of epoch 3 with the weights of epoch 3 and, for the same losses, with those of epoch 2
first = steps[steps["step"] == sem_step].iloc[0]
w2 = loss_weights_at(sem_start - 1, loss)
total_old_weights = ((1 - w2["sem"]) * first["loss_scl"] + w2["sem"] * first["loss_cl"] + w2["doa"] * first["loss_doa"]
                     + w2["ts"] * first["loss_ts"] + w2["mod"] * first["loss_mod"])
for name, value in {
    "cl_epoch0": by_epoch.loc[0, "loss_cl"], "cl_before": by_epoch.loc[sem_start - 1, "loss_cl"],
    "scl_epoch0": by_epoch.loc[0, "loss_scl"], "scl_before": by_epoch.loc[sem_start - 1, "loss_scl"],
    "switch_total_new": first["total"], "switch_total_old": total_old_weights,
    "switch_jump": first["total"] - total_old_weights,
}.items():
    glue(name, float(value), display=False)
print(f"epoch means, epochs 0..{sem_start}:")
by_epoch.loc[:sem_start, ["loss_scl", "loss_cl", "w_sem", "total"]].round(3)

# %% [markdown]
# **$w_{sem}$ switches on.** $L_{CL}$ has no weight in epochs 0-2, yet it falls: its epoch mean goes
# from {glue:text}`cl_epoch0:.2f` to {glue:text}`cl_before:.2f` nats by epoch 2, while $L_{sCL}$ goes
# from {glue:text}`scl_epoch0:.2f` to {glue:text}`scl_before:.2f`. The two terms share the text encoder
# and the semantic branch's projection (E_joint is built from it), so training the spatial term trains
# much of the semantic one. When the weight switches on, the total changes its definition under the
# same losses: at step {glue:text}`sem_step` the logged total is {glue:text}`switch_total_new:.3f`;
# with the weights of epoch 2 the same losses would have summed to {glue:text}`switch_total_old:.3f`.
# That difference of {glue:text}`switch_jump:+.3f` nats in the total curve is the schedule, not the
# model. A total loss whose weights change is only comparable within a stretch of constant weights.

# %%
ts_roll = steps["loss_ts"].rolling(16).mean()
above = np.flatnonzero(~(ts_roll < LN3 - 0.1).to_numpy())  # steps where the half-epoch mean is not yet below
leave_step = int(steps["step"].iloc[above[-1] + 1])
leave_epoch = int(steps.loc[steps["step"] == leave_step, "epoch"].iloc[0])
full_step = (ts_ramp - 1) * steps_per_epoch  # first step with the full 3-way weight
val_3way = val.set_index("epoch")["triplet/3way_temporal"]
first_perfect = int(val_3way[val_3way >= 1.0].index.min())
glue("ts_leave_step", leave_step, display=False)
glue("ts_leave_epoch", leave_epoch, display=False)
glue("ts_full_step", full_step, display=False)
glue("ts_wait", leave_step - full_step, display=False)
glue("ts_before", float(steps.loc[steps["step"] < full_step, "loss_ts"].mean()), display=False)
glue("ts_end", float(by_epoch["loss_ts"].iloc[-1]), display=False)
glue("val3_first_perfect", first_perfect, display=False)
glue("val3_before", float(val_3way.loc[leave_epoch - 1]), display=False)
print(f"ln 3 = {LN3:.4f}; mean L_ts before the full weight (steps < {full_step}): {steps.loc[steps['step'] < full_step, 'loss_ts'].mean():.4f}")
print(f"L_ts leaves ln 3 at step {leave_step} (epoch {leave_epoch}): from there on its 16-step mean stays below ln 3 - 0.1")
print(f"L_ts, mean of the last epoch: {by_epoch['loss_ts'].iloc[-1]:.4f}")
print(f"validation, temporal 3-way accuracy of the triplet embedding by epoch: {val_3way.round(3).tolist()}")

# %%
fig, axes = plt.subplots(1, 2, figsize=(11, 3.6))
ax = axes[0]
ax.plot(steps["step"], steps["loss_ts"], lw=0.6, alpha=0.45, color="C0", label="per step")
ax.plot(steps["step"], ts_roll, lw=1.6, color="C0", label="16-step mean")
ax.axhline(LN3, color="C3", ls="--", lw=1)
ax.annotate("ln 3", (steps["step"].iloc[-1], LN3), ha="right", va="bottom", fontsize="small", color="C3")
ax.axvline(leave_step, color="C2", lw=1.2)
ax.annotate(f"leaves ln 3: step {leave_step}", (leave_step, 0.25), rotation=90, ha="right", color="C2")
viz.mark_loss_schedule(ax, ramp_steps, sem_step, steps_per_epoch)
ax.set_xlabel("training step")
ax.set_ylabel("$L_{ts}$ (nats)")
ax.legend(loc="center right")
ax = axes[1]
for col, label, color in (("triplet/3way_temporal", "temporal (pos above neg_t)", "C1"),
                          ("triplet/3way_spatial", "spatial (pos above neg_s)", "C4")):
    ax.plot(val["epoch"], val[col], marker="o", label=label, color=color)
ax.axhline(0.5, color="gray", ls="--", lw=1)
ax.annotate("chance", (val["epoch"].iloc[-1], 0.5), ha="right", va="bottom", fontsize="small", color="gray")
ax.axvline(ts_ramp - 1, color="gray", ls=":", lw=1)
ax.annotate("full $w_{ts}$", (ts_ramp - 1, 0.05), rotation=90, ha="right", va="bottom", color="gray")
ax.set_xlabel("epoch (validation after it)")
ax.xaxis.set_major_locator(MaxNLocator(integer=True))
ax.set_ylabel("accuracy (triplet embedding)")
ax.set_ylim(0, 1.05)
ax.legend(loc="lower right")
fig.tight_layout()
viz.save(fig, FIG / "07_three_way.png")
plt.close(fig)

# %% [markdown]
# ```{figure} ../figures/07_three_way.png
# :name: fig-loss-three-way
# Left: the 3-way loss of the run with the specification's settings per step and its 16-step mean, with ln 3 (orange dashed), the steps
# where its weight grows (dotted), the switch of $w_{sem}$ (dashed), and the step from which the
# 16-step mean stays below ln 3 − 0.1 (green). Right: the validation 3-way accuracies of the triplet
# embedding after each epoch (64 scenes; dashed: chance, 0.5, for a pairwise test), with the epoch from
# which $w_{ts}$ is at its full value.
# ```
#
# **$w_{ts}$ ramps up.** During the ramp the 3-way loss does not move: its mean over the steps before
# the full weight is {glue:text}`ts_before:.3f` nats, against ln 3 = 1.099. It leaves ln 3 at step {glue:text}`ts_leave_step` (epoch
# {glue:text}`ts_leave_epoch`; defined as the first step from which its 16-step mean stays below
# ln 3 − 0.1), {glue:text}`ts_wait` steps after its weight reached its full value at step
# {glue:text}`ts_full_step`. Then it falls fast, to {glue:text}`ts_end:.3f` nats on average over the last
# epoch, and the validation 3-way accuracy, {glue:text}`val3_before:.2f` after the epoch before, is 1.0
# from epoch {glue:text}`val3_first_perfect` on. So the ramp protects nothing that the log can show: in
# this run the 3-way term sat at its value of guessing through the whole ramp and for two more epochs,
# whatever its weight. What it waited for, the log does not say; the contrastive terms fell steadily
# all along ({doc}`03_text_side` shows how close the captions of a scene start out).
#
# **$L_{mod}$ and the GRL.** The modality classifier's loss is the most eventful curve of the run; the
# next figure zooms on its first epochs.

# %%
zoom = steps[steps["step"] < 6 * steps_per_epoch]
low = steps.loc[steps["loss_mod"].idxmin()]
high = steps.loc[steps["loss_mod"].idxmax()]
after = steps[steps["step"] > high["step"]]
near = (after["loss_mod"] - LN2).abs() < 0.05
back_step = int(after["step"].iloc[np.flatnonzero(near.to_numpy())[0]])
stays = np.flatnonzero(~((steps["loss_mod"].rolling(smooth).mean() - LN2).abs() < 0.05).to_numpy())
stays_step = int(steps["step"].iloc[stays[-1] + 1])
last = by_epoch.iloc[-1]
for name, value in {"mod_min": low["loss_mod"], "mod_min_step": int(low["step"]), "mod_min_acc": low["mod_acc"],
                    "mod_max": high["loss_mod"], "mod_max_step": int(high["step"]), "mod_max_acc": high["mod_acc"],
                    "mod_back_step": back_step, "mod_stays_step": stays_step,
                    "mod_end": last["loss_mod"], "mod_acc_end": last["mod_acc"],
                    "mod_acc_epoch1": by_epoch.loc[1, "mod_acc"], "mod_epoch0": by_epoch.loc[0, "loss_mod"],
                    "mod_acc_epoch0": by_epoch.loc[0, "mod_acc"],
                    "val_mod_acc_end": val["modality_acc"].iloc[-1]}.items():
    glue(name, value if isinstance(value, int) else float(value), display=False)
print(f"ln 2 = {LN2:.4f}")
print(f"lowest L_mod {low['loss_mod']:.4f} at step {int(low['step'])} (classifier accuracy {low['mod_acc']:.3f})")
print(f"highest L_mod {high['loss_mod']:.3f} at step {int(high['step'])} (classifier accuracy {high['mod_acc']:.3f})")
print(f"back within 0.05 of ln 2 at step {back_step}; its {smooth}-step mean stays there from step {stays_step}")
print(f"last epoch: mean L_mod {last['loss_mod']:.4f}, classifier accuracy {last['mod_acc']:.3f}; "
      f"validation accuracy after the last epoch {val['modality_acc'].iloc[-1]:.3f}")

# %%
fig, axes = plt.subplots(1, 2, figsize=(11, 3.6))
ax = axes[0]
ax.plot(zoom["step"], zoom["loss_mod"], color="C0", marker=".", ms=3, lw=1)
ax.axhline(LN2, color="C3", ls="--", lw=1)
ax.annotate("ln 2", (zoom["step"].iloc[-1], LN2), ha="right", va="bottom", fontsize="small", color="C3")
ax.set_yscale("log")
ax.set_ylabel("$L_{mod}$ (nats, log scale)")
ax = axes[1]
ax.plot(zoom["step"], zoom["mod_acc"], color="C0", marker=".", ms=3, lw=1, label="classifier, training batch")
val_zoom = val[val["epoch"] < 6]
ax.plot((val_zoom["epoch"] + 1) * steps_per_epoch - 1, val_zoom["modality_acc"], "o", color="C1",
        label="classifier, validation (after each epoch)")
ax.axhline(0.5, color="gray", ls="--", lw=1)
ax.annotate("chance", (zoom["step"].iloc[-1], 0.5), ha="right", va="bottom", fontsize="small", color="gray")
ax.set_ylim(-0.05, 1.05)
ax.set_ylabel("accuracy (audio vs text)")
ax.legend(loc="upper right")
for ax in axes:
    viz.mark_loss_schedule(ax, ramp_steps, sem_step, steps_per_epoch)
    ax.set_xlabel("training step")
fig.tight_layout()
viz.save(fig, FIG / "07_modality.png")
plt.close(fig)

# %% [markdown]
# ```{figure} ../figures/07_modality.png
# :name: fig-loss-modality
# The modality classifier in the first six epochs of the run with the specification's settings (λ = 1
# throughout). Left: its
# loss per step (log scale) against ln 2 (orange dashed). Right: its accuracy on the training batch (audio and
# text embeddings) and on the validation split after each epoch; dashed: chance. Dotted and dashed
# vertical lines as in the figures above.
# ```
#
# In epoch 0 the classifier's loss stays near ln 2 (epoch mean {glue:text}`mod_epoch0:.3f` nats,
# accuracy {glue:text}`mod_acc_epoch0:.2f`). In epoch 1 it wins: its accuracy on the training batches averages {glue:text}`mod_acc_epoch1:.2f`
# and its loss falls to {glue:text}`mod_min:.4f` nats at step {glue:text}`mod_min_step`. Then the
# encoders, driven by the reversed gradient, overturn it: in epoch 2 the classifier's accuracy on the training
# batch drops to {glue:text}`mod_max_acc:.2f` (it labels every audio embedding as text and every text
# embedding as audio), and its loss peaks at {glue:text}`mod_max:.2f` nats at step
# {glue:text}`mod_max_step`, far above ln 2. It comes back within 0.05 of ln 2 at step
# {glue:text}`mod_back_step` and its {glue:text}`smooth_steps`-step mean stays there from step
# {glue:text}`mod_stays_step` to the end: over the last epoch the loss averages
# {glue:text}`mod_end:.3f` nats and the accuracy {glue:text}`mod_acc_end:.3f` (validation:
# {glue:text}`val_mod_acc_end:.3f`). The game reached its equilibrium, in the sense of the
# specification: the classifier guesses. Yet a fresh linear probe, cross-validated on the test-split
# embeddings of the same run, still tells audio from text in {glue:text}`const_probe:.3f` of cases ({doc}`09_modality_gap`):
# a classifier at ln 2 says that this classifier is beaten, not that the gap is closed.
#
# The swing of epochs 1-2 happens at the full λ = 1 with the learning rate at its peak, just after the
# warm-up. `TrainConfig` offers two ways to soften the start: `grl_warmup_epochs` (λ = 0 for the first
# epochs) and the DANN schedule, which would have had λ = {glue:text}`dann_at_peak:.2f` at the step of the peak;
# the same run with it (`results/experiments/all_dann_s2025`, one seed, every other setting the
# specification's) ends with a fresh-probe accuracy of {glue:text}`dann_probe:.3f` against
# {glue:text}`const_probe:.3f` with the constant λ (`spec_settings_s2025`, the run read on this page;
# goal: 0.65),
# and T2A R@1 {glue:text}`dann_r1:.3f` against {glue:text}`const_r1:.3f` (E_joint). One seed each: in
# the ablation (`results/ablation`, three seeds a configuration) the standard deviation of T2A R@1 over
# seeds reaches {glue:text}`ablation_r1_std:.3f` for one configuration, so the retrieval difference is
# not evidence yet; the probe accuracy is far from its goal with either schedule.

# %%
glue("smooth_steps", smooth, display=False)
glue("dann_at_peak", float(dann[int(high["step"])]), display=False)
const_metrics = json.loads((ROOT / run_dir / "metrics.json").read_text())
ablation = pd.read_csv(ROOT / "results" / "ablation" / "table.csv")
glue("ablation_r1_std", float(ablation.groupby("config")["joint/t2a/R@1"].std().max()), display=False)
dann_metrics = json.loads((ROOT / dann_run_dir / "metrics.json").read_text())
for name, key in (("probe", "modality/probe_acc"), ("r1", "joint/t2a/R@1")):
    glue(f"const_{name}", const_metrics[key], display=False)
    glue(f"dann_{name}", dann_metrics[key], display=False)
print(pd.DataFrame({"constant λ (spec_settings_s2025)": {k: const_metrics[k] for k in ("modality/probe_acc", "joint/t2a/R@1", "triplet/t2a/R@1", "triplet/order_acc")},
                    "dann (all_dann_s2025)": {k: dann_metrics[k] for k in ("modality/probe_acc", "joint/t2a/R@1", "triplet/t2a/R@1", "triplet/order_acc")}}).round(3))

# %% [markdown]
# Two more readings of these logs are in {doc}`16_appendix_training`: which weighted term makes the
# total, and how today's default run (a 4-way term at full weight from the first step, no ramp)
# leaves its value of guessing, with what three seeds of the sweep say about that change.
#
# ## Takeaway
#
# The loss schedule of the specification changes two weights in the first four epochs, and the log of
# the run with the specification's settings, read against it, shows that neither change is visible in the term it weighs: the 3-way
# loss stays at ln 3 through the whole ramp and leaves it at step {glue:text}`ts_leave_step`,
# {glue:text}`ts_wait` steps after its weight is full, and the semantic loss falls before its weight turns on. What the switch of
# $w_{sem}$ does show is a jump of {glue:text}`switch_jump:+.2f` nats in the *total*, with no change in
# the model. The most eventful curve is the adversary's: with a constant λ = 1 the modality classifier
# wins in epoch 1, is overturned in epoch 2 (loss {glue:text}`mod_max:.1f` nats), and settles at ln 2
# from step {glue:text}`mod_stays_step` on. The default run now drops the ramp and trains a 4-way term
# (with `neg_c`) at weight 1 from the first step; {doc}`16_appendix_training` reads its log beside this
# one and the sweep's three seeds on that change. Read a scheduled loss one term at a time, against its own value of guessing, and compare
# totals only within a stretch of constant weights.
#
# ## Exercises
#
# 1. **The schedule by hand.** The specification's settings are the weights
#    $[w_{doa}, w_{sem}, w_{ts}, w_{mod}] = [1, 0.5, 0.2, 0.2]$, the semantic term on from epoch 3 and the
#    3-way term ramped over 4 epochs. Write the effective weight of each of the five terms for epochs 0
#    to 4, then check with `sclap_nb.losses.loss_weights_at` and the settings in
#    `results/experiments/spec_settings_s2025/run.json`.
#
#    :::{dropdown} Solution
#    | epoch | $L_{sCL}$ | $L_{CL}$ | $L_{doa}$ | $L_{ts}$ | $L_{mod}$ |
#    |---|---|---|---|---|---|
#    | 0 | 1 | 0 | 1 | 0.05 | 0.2 |
#    | 1 | 1 | 0 | 1 | 0.10 | 0.2 |
#    | 2 | 1 | 0 | 1 | 0.15 | 0.2 |
#    | 3 | 0.5 | 0.5 | 1 | 0.20 | 0.2 |
#    | 4 | 0.5 | 0.5 | 1 | 0.20 | 0.2 |
#
#    $w_{ts}^{eff} = 0.2 \min(1, (e+1)/4)$, and $L_{sCL}$ takes $1 - w_{sem}^{eff}$.
#    :::
#
# 2. **A jump without a step.** Between the last step of epoch 2 and the first of epoch 3 no parameter
#    moves much, yet the logged total jumps. Write the jump in terms of the loss terms.
#
#    :::{dropdown} Solution
#    With the weights of the table above, the total gains $0.5\,(L_{CL} - L_{sCL}) + 0.05\,L_{ts}$: the
#    semantic term takes half of the spatial term's weight, and the 3-way term its last ramp step. The
#    total jumps up exactly when $L_{CL} + 0.1\,L_{ts} > L_{sCL}$.
#    :::
#
# 3. **Smoother curves.** `papermill notebooks/07_loss_schedule.ipynb runs/07_loss_schedule.ipynb -p
#    smooth 32`. Find every cell that reads `smooth` and predict which printed numbers change and which
#    cannot; then run it and check.
#
# ## References
#
# The total loss, its weights and ramps: the specification and its source {cite:p}`tsalm,hu2025salm`;
# InfoNCE {cite:p}`oord2018cpc` as used by CLIP and CLAP {cite:p}`radford2021clip,elizalde2023clap`;
# gradient reversal and the λ schedule {cite:p}`ganin2015grl,ganin2016dann`.
#
# % In JupyterLab a citation shows as its key; the works cited in this chapter:
#
# % `tsalm`: Cell778 (2025). T-SALM: temporal extension of the spatial audio language model (code and stClotho data layout). https://github.com/Cell778/T-SALM.
#
# % `hu2025salm`: Hu et al. (2025). SALM: Spatial Audio Language Model with Structured Embeddings for Understanding and Editing. arXiv preprint arXiv:2507.16724.
#
# % `oord2018cpc`: van den Oord et al. (2018). Representation Learning with Contrastive Predictive Coding. arXiv preprint arXiv:1807.03748.
#
# % `radford2021clip`: Radford et al. (2021). Learning Transferable Visual Models From Natural Language Supervision. International Conference on Machine Learning (ICML).
#
# % `ganin2016dann`: Ganin et al. (2016). Domain-Adversarial Training of Neural Networks. Journal of Machine Learning Research.
#
# % `elizalde2023clap`: Elizalde et al. (2023). CLAP: Learning Audio Concepts from Natural Language Supervision. IEEE International Conference on Acoustics, Speech and Signal Processing (ICASSP).
#
# % `ganin2015grl`: Ganin and Lempitsky (2015). Unsupervised Domain Adaptation by Backpropagation. International Conference on Machine Learning (ICML).

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
# # Appendix D: the loss schedule in detail, and how long to train
#
# ![The model, with the losses in colour](../figures/model_losses.png)
#
# *Run this appendix yourself:* in a clone of the repository, `make setup` once, then `make lab`; in
# JupyterLab open `notebooks/16_appendix_training.py`, which opens as a notebook with the outputs
# stored in `16_appendix_training.ipynb`. Headless, with other parameters: `mkdir -p runs && papermill
# notebooks/16_appendix_training.ipynb runs/16_appendix_training.ipynb -p smooth 32`. In JupyterLab a
# citation shows as its key; the works are listed under *References* at the end.
#
# **What you will learn here:**
#
# * which weighted term of the loss makes the total that the optimiser descends, epoch by epoch, in the
#   run with the specification's settings ({doc}`07_loss_schedule` reads its schedule);
# * what today's default run does instead (the 4-way term at full weight from the first step, no
#   ramp), how its loss leaves the value of guessing, and what three seeds of the sweep say about that
#   change;
# * how far the timed scenes' 4-epoch budget is from a trained model: what 12 epochs do to the order and the
#   motion that the combined scorer hears, in one run epoch by epoch and in a planned study of five seeds;
# * how much of the sum the aligned score should weigh, chosen on validation scenes, and which test of the order
#   the model still fails.
#
# Nothing is trained here. The page reads the committed log of the run with the specification's
# settings (`results/experiments/spec_settings_s2025/metrics.csv` and its `run.json`), the log of
# today's default run (`results/default/metrics.csv`), the sweep (`results/sweep`), the epochs study
# (`results/epochs_study`, with the logs of its runs and of `results/ends_study`'s) and the weight study
# (`results/weight_study`). Every number in the
# prose comes from those files. The DOA head in detail is {doc}`17_appendix_doa`.

# %% tags=["parameters"]
fast = True  # nothing here trains: the page reads the committed logs either way
run_dir = "results/experiments/spec_settings_s2025"  # the specification's settings (the default run until the sweep)
default_run_dir = "results/default"  # today's default run: the 4-way term at weight 1, no ramp
sweep_dir = "results/sweep/runs"  # the sweep: six configurations x three seeds
smooth = 8  # steps of the rolling mean drawn over the per-step losses
epochs_logs = {"4 epochs": "results/ends_study/runs/ME_s2025_t2/metrics.csv",  # ME of seed 2025, 4 and 12 epochs
               "12 epochs": "results/epochs_study/runs/ME12_s2025_t2/metrics.csv"}

# %% [markdown]
# ## Setup
#
# The settings and the per-step log of the run with the specification's settings, as
# {doc}`07_loss_schedule` reads them, and the steps where its loss weights change.

# %%
import json
import math

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.ticker import MaxNLocator

from sclap_nb import report, viz
from sclap_nb.ablation import collect_named, paired_differences, with_best
from sclap_nb.notebook import figures_dir, glue, plain_table, setup_chapter
from sclap_nb.results import load_run

ROOT = setup_chapter(threads=1)
FIG = figures_dir(ROOT)
LN2, LN3 = math.log(2), math.log(3)

run = load_run(ROOT / run_dir).config
loss, epochs = run.loss, run.optim.epochs
weights, sem_start, ts_ramp = list(loss.weights), loss.sem_start, loss.ts_ramp
log = viz.read_log(ROOT / run_dir / "metrics.csv")
train_rows = log.dropna(subset=["train/loss_ts_step"])
steps = viz.step_frame(log).assign(epoch=train_rows["epoch"].to_numpy().astype(int))
steps_per_epoch = int(steps.groupby("epoch").size().iloc[0])
sem_step = sem_start * steps_per_epoch
ramp_steps = [e * steps_per_epoch for e in range(1, ts_ramp)]
print(f"loss.weights (w_doa, w_sem, w_ts, w_mod) = {weights}, sem_start = {sem_start}, ts_ramp = {ts_ramp}; "
      f"{len(steps)} training steps, {steps_per_epoch} per epoch")



# %% [markdown]
# ## Which term makes the total
#
# The total is what the optimiser descends; each term's share of it is its weight times its value.
# Stacked, they make the logged total:

# %%
contrib = pd.DataFrame({
    "sCL": (1 - steps["w_sem"]) * steps["loss_scl"],
    "CL": steps["w_sem"] * steps["loss_cl"],
    "DOA": steps["w_doa"] * steps["loss_doa"],
    "ts": steps["w_ts"] * steps["loss_ts"],
    "mod": steps["w_mod"] * steps["loss_mod"],
})
legend = ["$(1-w_{sem}) L_{sCL}$", "$w_{sem} L_{CL}$", "$w_{doa} L_{DOA}$", "$w_{ts} L_{ts}$", "$w_{mod} L_{mod}$"]
smoothed = contrib.rolling(smooth, min_periods=1).mean()
share = contrib.groupby(steps["epoch"]).sum()
share = share.div(share.sum(axis=1), axis=0)
contrastive_share = share.iloc[:, 0] + share.iloc[:, 1]
for name, value in {"share_cl_first": contrastive_share.iloc[0], "share_cl_last": contrastive_share.iloc[-1],
                    "share_mod_last": share.iloc[-1, 4], "share_ts_last": share.iloc[-1, 3],
                    "share_ts_peak": share.iloc[:, 3].max(), "share_ts_peak_epoch": int(share.iloc[:, 3].idxmax())}.items():
    glue(name, value if isinstance(value, int) else float(value), display=False)

fig, ax = plt.subplots(figsize=(8, 3.8))
ax.stackplot(steps["step"], smoothed.T.to_numpy(), labels=legend, colors=[f"C{i}" for i in range(5)], alpha=0.8)
ax.plot(steps["step"], steps["total"].rolling(smooth, min_periods=1).mean(), color="black", lw=1, label="logged total")
viz.mark_loss_schedule(ax, ramp_steps, sem_step, steps_per_epoch)
ax.set_xlabel("training step")
ax.set_ylabel("weighted term (nats)")
ax.legend(loc="upper right")
fig.tight_layout()
viz.save(fig, FIG / "16_contributions.png")
plt.close(fig)
glue("mod_floor", weights[3] * LN2, display=False)
print("share of each weighted term in the epoch's total, in percent:")
(100 * share.iloc[[0, 2, 3, 6, epochs - 1]]).round(1)

# %% [markdown]
# ```{figure} ../figures/16_contributions.png
# :name: fig-loss-contributions
# The weighted terms of the loss of the run with the specification's settings, stacked (rolling mean over 8 steps), against the
# training step; the black line is the logged total. Dotted lines: the steps where $w_{ts}$ grows; dashed: where $w_{sem}$ switches on.
# ```
#
# The contrastive terms make the total: {glue:text}`share_cl_first:.2f` of it in epoch 0 and still
# {glue:text}`share_cl_last:.2f` in the last epoch (the table gives each term's share in percent). The
# 3-way term never weighs much: its largest share of an epoch's total is
# {glue:text}`share_ts_peak:.2f` (epoch {glue:text}`share_ts_peak_epoch`), and once it is learnt it
# contributes {glue:text}`share_ts_last:.3f`. The modality term, pinned at ln 2 times $w_{mod}$
# ({glue:text}`mod_floor:.3f` nats), is {glue:text}`share_mod_last:.2f` of the last epoch's total: a floor that the optimiser cannot
# lower, because the reversed gradient keeps the classifier guessing.
#
# ## The default run's schedule
#
# The default run (`results/default`) no longer follows this schedule. Since the sweep it
# trains a 4-way term: each scene's group holds `pos` and three hard negatives, `neg_t`, `neg_s` and
# `neg_c` (the class-order negative: B at $p_0$, then A at $p_2$, {doc}`02_scenes`), at the full weight
# $w_{ts} = 1$ from the first step, with no ramp (`ts_ramp = 0`). With four candidates the value of
# guessing is ln 4, not ln 3. The other weights and schedules ($w_{sem}$ from epoch 3, λ, the learning
# rate) are those of {doc}`07_loss_schedule`. The default run also reads the chunk tokens in time order and has its DOA head
# on the spatial branch's halves; neither enters the loss schedule.

# %%
default_loss = load_run(ROOT / default_run_dir).config.loss
print(f"default run: negatives = {list(default_loss.negatives)}, loss.weights = {list(default_loss.weights)}, "
      f"ts_ramp = {default_loss.ts_ramp}, sem_start = {default_loss.sem_start}")
default_log = viz.read_log(ROOT / default_run_dir / "metrics.csv")
default_steps = viz.step_frame(default_log).assign(
    epoch=default_log.dropna(subset=["train/loss_ts_step"])["epoch"].to_numpy().astype(int))
LN4 = math.log(4)
margin, window = 0.1, 16


def leaves_chance(frame, chance):
    """The first step from which the window-step rolling mean of L_ts stays below chance - margin."""
    roll = frame["loss_ts"].rolling(window).mean()
    above = np.flatnonzero(~(roll < chance - margin).to_numpy())
    return int(frame["step"].iloc[above[-1] + 1])


runs_ts = {"specification: 3-way, $w_{ts}$ 0.2, ramp over 4 epochs": (steps, LN3, "ln 3", "C0"),
           "default run: 4-way, $w_{ts}$ 1, no ramp": (default_steps, LN4, "ln 4", "C1")}
facts = {}
for key, (frame, chance, _, _) in zip(("spec", "default"), runs_ts.values()):
    step = leaves_chance(frame, chance)
    facts[key] = {"leave step": step, "leave epoch": int(frame.loc[frame["step"] == step, "epoch"].iloc[0]),
                  "first epoch mean": float(frame.loc[frame["epoch"] == 0, "loss_ts"].mean()),
                  "chance": chance, "last epoch mean": float(frame.loc[frame["epoch"] == frame["epoch"].max(), "loss_ts"].mean()),
                  "w_ts at step 0": float(frame["w_ts"].iloc[0])}
    for name, value in facts[key].items():
        glue(f"{key}_ts_{name.replace(' ', '_')}", value, display=False)
glue("default_ts_lead", facts["spec"]["leave step"] - facts["default"]["leave step"], display=False)
glue("ts_margin", margin, display=False)
glue("ts_window", window, display=False)
plain_table(facts, digits=4)

# %%
fig, axes = plt.subplots(1, 2, figsize=(12, 3.8), gridspec_kw={"width_ratios": [1, 2]})
for label, (frame, chance, chance_label, color) in runs_ts.items():
    axes[0].plot(frame["step"], frame["w_ts"], color=color, lw=1.6, label=label)
    ax = axes[1]
    ax.plot(frame["step"], frame["loss_ts"], lw=0.6, alpha=0.35, color=color)
    ax.plot(frame["step"], frame["loss_ts"].rolling(window).mean(), lw=1.6, color=color, label=f"{label} ({window}-step mean)")
    ax.axhline(chance, color=color, ls="--", lw=1)
    ax.annotate(chance_label, (frame["step"].iloc[-1], chance), ha="right", va="bottom", fontsize="small", color=color)
    step = leaves_chance(frame, chance)
    ax.axvline(step, color=color, ls=":", lw=1.2)
    ax.annotate(f"step {step}", (step, 0.3), rotation=90, ha="right", color=color)
axes[0].set_ylabel("effective weight $w_{ts}$ (logged)")
axes[0].set_ylim(0, 1.1)
axes[0].legend(loc="center right")
axes[1].set_ylabel("$L_{ts}$ (nats)")
axes[1].legend(loc="center right")
for ax in axes:
    ax.set_xlabel("training step")
    top = ax.secondary_xaxis("top", functions=(lambda x: x / steps_per_epoch, lambda e: e * steps_per_epoch))
    top.xaxis.set_major_locator(MaxNLocator(integer=True))
    top.set_xlabel("epoch", fontsize="small")
fig.tight_layout()
viz.save(fig, FIG / "16_default_schedule.png")
plt.close(fig)

# %% [markdown]
# ```{figure} ../figures/16_default_schedule.png
# :name: fig-loss-default-schedule
# The hard-negative term of two runs of seed 2025 against the training step, with the epoch on the top
# axis. Blue: the run with the specification's settings (3-way term, weight 0.2 reached after a ramp
# over four epochs); orange: the default run (4-way term with `neg_c`, weight 1 from the first step).
# Left: the effective weight $w_{ts}$, as logged. Right: $L_{ts}$ per step (thin) and its 16-step mean
# (thick), with each run's value of guessing (dashed: ln 3 and ln 4) and the step from which the
# 16-step mean stays more than 0.1 below it (dotted).
# ```
#
# The default run's 4-way loss starts at its value of guessing (epoch 0 mean
# {glue:text}`default_ts_first_epoch_mean:.3f` nats, ln 4 = 1.386) and its {glue:text}`ts_window`-step
# mean stays more than {glue:text}`ts_margin:.1f` below ln 4 from step
# {glue:text}`default_ts_leave_step` on (epoch {glue:text}`default_ts_leave_epoch`), while the ramped
# 3-way loss of the specification's run leaves ln 3 by the same measure at step
# {glue:text}`spec_ts_leave_step` (epoch {glue:text}`spec_ts_leave_epoch`):
# {glue:text}`default_ts_lead` steps later. Both end near zero: a mean of
# {glue:text}`default_ts_last_epoch_mean:.3f` nats over the last epoch for the 4-way loss and
# {glue:text}`spec_ts_last_epoch_mean:.3f` for the 3-way loss. One seed each, and the two runs differ
# in more than the schedule (the candidates, the readout, the DOA head), so the earlier departure is not
# the ramp's alone. What the change does to the test metrics comes from the sweep: three seeds of each
# configuration, paired by seed with `all` (the specification's settings). Its `mean4` configuration
# is `all` with the 4-way term at weight 1 from the first epoch, and nothing else changed;
# `concat4_halves` adds the default run's readout and DOA head.

# %%
sweep = collect_named(ROOT / sweep_dir)
paired = paired_differences(sweep, "all", configs=["mean4", "concat4", "concat4_halves"])
paired = paired[paired["metric"].isin(["triplet/order_acc", "best/t2a/R@1"])].set_index(["config", "metric"])
for config in ("mean4", "concat4_halves"):
    for metric, key in (("triplet/order_acc", "order"), ("best/t2a/R@1", "r1")):
        r = paired.loc[(config, metric)]
        for part in ("diff", "ci_low", "ci_high"):
            glue(f"sweep_{config}_{key}_{part}", float(r[part]), display=False)
        print(f"{config:15s} {metric:18s}: {r['diff']:+.3f} [{r['ci_low']:+.3f}, {r['ci_high']:+.3f}], "
              f"{int(r['n'])} seeds; the interval {'contains' if r['ci_low'] <= 0 <= r['ci_high'] else 'excludes'} 0")
glue("sweep_seeds", int(paired["n"].min()), display=False)
by_seed = with_best(sweep).set_index(["config", "seed"])
for metric, key in (("triplet/order_acc", "order"), ("best/t2a/R@1", "r1")):
    gains = by_seed.loc["mean4", metric] - by_seed.loc["all", metric]  # paired by seed
    glue(f"sweep_mean4_{key}_positive", int((gains > 0).sum()), display=False)
    print(f"mean4 - all, {metric}, per seed: {gains.round(3).to_dict()}")
paired[["n", "diff", "ci_low", "ci_high", "ratio"]].round(3)

# %% [markdown]
# Over {glue:text}`sweep_seeds` seeds, `mean4` raises the triplet embedding's `order_acc` (the share of
# test scenes whose caption scores its own clip above both `neg_t` and `neg_c`) by
# {glue:text}`sweep_mean4_order_diff:+.3f` (95 % interval {glue:text}`sweep_mean4_order_ci_low:+.3f` to
# {glue:text}`sweep_mean4_order_ci_high:+.3f`) and the better embedding's T2A R@1 by
# {glue:text}`sweep_mean4_r1_diff:+.3f` ({glue:text}`sweep_mean4_r1_ci_low:+.3f` to
# {glue:text}`sweep_mean4_r1_ci_high:+.3f`). The gains are positive on
# {glue:text}`sweep_mean4_order_positive` and {glue:text}`sweep_mean4_r1_positive` of the
# {glue:text}`sweep_seeds` seeds, but both intervals reach just below 0: three seeds do not separate
# them from no change. With the default run's
# readout and DOA head (`concat4_halves`) the gain in `order_acc` is
# {glue:text}`sweep_concat4_halves_order_diff:+.3f` ({glue:text}`sweep_concat4_halves_order_ci_low:+.3f`
# to {glue:text}`sweep_concat4_halves_order_ci_high:+.3f`), an interval above 0, and in T2A R@1
# {glue:text}`sweep_concat4_halves_r1_diff:+.3f` ({glue:text}`sweep_concat4_halves_r1_ci_low:+.3f` to
# {glue:text}`sweep_concat4_halves_r1_ci_high:+.3f`), an interval that reaches below 0. **The ramp itself was not tested on its own**:
# `mean4` changes three things at once (the fourth candidate `neg_c`, $w_{ts}$ from 0.2 to 1, and no
# ramp), so no run of the sweep says what removing the ramp alone does.
#
# ## How long to train
#
# Every configuration on the timed scenes trains for 4 epochs, the main job's budget ({doc}`10_train`). The
# studies' plans call that a budget, not a converged model. {numref}`fig-epochs-validation` draws what `ME`
# ({doc}`18_appendix_order_cues`: the triplet cosine plus the aligned score, the *combined* scorer) scores on the
# 64 validation scenes of its corpus after each epoch, in two runs of seed 2025: the 4-epoch run of
# `results/ends_study` and the same configuration trained for 12 epochs, with its learning-rate schedule spread
# over all 12.

# %%
curves = {"4 epochs": viz.epoch_frame(ROOT / epochs_logs["4 epochs"]),
          "12 epochs": viz.epoch_frame(ROOT / epochs_logs["12 epochs"])}
panels = {"combined/order_acc": "order_acc", "combined/motion_acc": "motion_acc", "combined/t2a/R@1": "T2A R@1"}
fig, axes = plt.subplots(1, 3, figsize=(12, 3.4))
for ax, (metric, label) in zip(axes, panels.items()):
    for (name, frame), color in zip(curves.items(), ("C0", "C1")):
        ax.plot(frame["epoch"] + 1, frame[metric], "o-", color=color, ms=4, label=name)
    if metric != "combined/t2a/R@1":
        ax.axhline(0.9, color="grey", ls="--", lw=1)
        ax.annotate("goal 0.9", (1, 0.9), ha="left", va="bottom", fontsize="small", color="grey")
    ax.set_xlabel("epoch")
    ax.set_ylabel(f"validation {label}")
    ax.set_ylim(0, 1.02)
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
axes[0].legend(loc="lower right")
fig.tight_layout()
viz.save(fig, FIG / "16_epochs_validation.png")
plt.close(fig)
last = {name: frame.iloc[-1] for name, frame in curves.items()}
for key, name in (("e4", "4 epochs"), ("e12", "12 epochs")):
    for metric in panels:
        glue(f"val_{key}_{metric.split('/', 1)[1].replace('/', '_').replace('@', '')}", float(last[name][metric]), display=False)
order12 = curves["12 epochs"]["combined/order_acc"].to_numpy()
glue("val_e12_order_from", int(np.flatnonzero(~(order12 >= 0.9))[-1] + 2), display=False)
pd.DataFrame({name: frame.iloc[-1][list(panels)] for name, frame in curves.items()}).round(3)

# %% [markdown]
# ```{figure} ../figures/16_epochs_validation.png
# :name: fig-epochs-validation
# The combined scorer of `ME` on the validation scenes of seed 2025 after each epoch: the run of 4 epochs (blue)
# and the run of 12 (orange). Left to right: `order_acc`, `motion_acc` and T2A R@1; dashed: the goal of 0.9.
# ```
#
# At its last epoch the 4-epoch run hears the order in {glue:text}`val_e4_order_acc:.3f` of the validation scenes
# and the motion in {glue:text}`val_e4_motion_acc:.3f`; the 12-epoch run in {glue:text}`val_e12_order_acc:.3f` and
# {glue:text}`val_e12_motion_acc:.3f`, and its order stays at 0.9 or above from epoch
# {glue:text}`val_e12_order_from` on. Its T2A R@1 rises from {glue:text}`val_e4_t2a_R1:.3f` to
# {glue:text}`val_e12_t2a_R1:.3f`. This one run chose the length; a planned study (`results/epochs_study`:
# `ME12`, five seeds and a 1-thread rerun, scored on the test splits of seed 4817, Holm over L1-L5) then asked
# whether training 12 epochs beats 4 (L1-L3) and beats `MT`'s triplet embedding (L4, L5):

# %%
study = report.study_analysis("epochs_study")
ep_cmp = study["comparisons"]
facts = {**report.study_facts("ep", ep_cmp), **report.spread_facts("ep", study["seed_spread"], study["rerun_noise"])}
goal = pd.read_csv(ROOT / "results" / "epochs_study" / "goal.csv").set_index("metric")
for metric, key in (("mix/combined/order_acc", "order"), ("mix/combined/motion_acc", "motion")):
    for part in ("mean", "ci_low", "ci_high"):
        facts[f"ep_goal_{key}_{part}"] = float(goal.loc[metric, part])
train_s = [load_run(ROOT / "results" / "epochs_study" / "runs" / f"ME12_s{seed}_t2").metrics["train_seconds"]
           for seed in study["runs"].query("config == 'ME12' and threads == 2")["seed"]]
facts.update(ep_train_min=min(train_s), ep_train_max=max(train_s))
for k, v in facts.items():
    glue(k, v, display=False)
assert facts["ep_findings"] == 5 and not goal.loc["mix/combined/order_acc", "met"]  # as the prose says
assert goal.loc["mix/combined/motion_acc", "met_with_interval"]
report.comparisons_table(ep_cmp)

# %% [markdown]
# All {glue:text}`ep_findings` comparisons are findings. Trained for 12 epochs, the sum hears the order in
# {glue:text}`ep_ME12_mix_combined_order_acc:.3f` of the 128 test scenes, against
# {glue:text}`ep_ME_mix_combined_order_acc:.3f` at 4 epochs (L1 {glue:text}`ep_L1_diff:+.3f`
# [{glue:text}`ep_L1_lo:+.3f`, {glue:text}`ep_L1_hi:+.3f`]) and {glue:text}`ep_MT_mix_triplet_order_acc:.3f` for
# `MT`'s triplet embedding (L4); the motion in {glue:text}`ep_ME12_mix_combined_motion_acc:.3f`, against
# {glue:text}`ep_ME_mix_combined_motion_acc:.3f` and {glue:text}`ep_MT_mix_triplet_motion_acc:.3f` (L2, L5). It
# finds the captioned clip first in {glue:text}`ep_ME12_mix_combined_t2a_R_1:.3f` of the searches, against
# {glue:text}`ep_ME_mix_combined_t2a_R_1:.3f` (L3). **The goal of 0.9 is met for motion** (95 % interval
# {glue:text}`ep_goal_motion_ci_low:.3f` to {glue:text}`ep_goal_motion_ci_high:.3f` over the five seeds) **and
# missed for order** ({glue:text}`ep_goal_order_mean:.3f`, {glue:text}`ep_goal_order_ci_low:.3f` to
# {glue:text}`ep_goal_order_ci_high:.3f`), which the validation scenes that chose the length had put at
# {glue:text}`val_e12_order_acc:.3f`. The aligned score alone hears more of the order,
# {glue:text}`ep_ME12_mix_aligned_order_acc:.3f` (reported, not tested), while the triplet embedding's order does
# not move ({glue:text}`ep_ME12_mix_triplet_order_acc:.3f` against {glue:text}`ep_ME_mix_triplet_order_acc:.3f`).
# By the plan's rule the API now offers the sum, `embedding="combined"` ({doc}`18_appendix_order_cues`). The main
# job stays at 4 epochs: these runs trained for {glue:text}`ep_train_min:.0f`-{glue:text}`ep_train_max:.0f` s each
# on a 2-core machine, beyond its budget of 6 minutes with the data and the evaluation.

# %% [markdown]
# ## Which weight, and what is left of the order
#
# The combined scorer adds the aligned score to the triplet cosine at weight 1, a weight chosen for `MA` at 4
# epochs. An exploratory look at `ME12`'s seed-2025 model on 384 validation scenes of an unused seed
# (`results/experiments/order_failures`) found the aligned scores losing the order where they must tell which
# sound is which: they beat neg_c (the sounds swapped, the directions kept) in
# {glue:text}`of_sf_neg_c:.3f` of the scenes whose first two sounds are soundfont instruments and in
# {glue:text}`of_lib_neg_c:.3f` where both are recordings. A fifth plan, `results/weight_study`, asked two
# questions of five runs of `ME12` (seed 2025's kept model and four trained again): which weight the
# validation scenes choose (the highest mean validation order among the weights that keep the motion at 0.95),
# and whether it hears the order better than weight 1 on the test split (W1) while keeping the motion within
# 0.05 (W2); and whether the aligned scores beat neg_c more often on new test scenes of soundfont instruments
# than on new test scenes of recordings (W3). {numref}`fig-weight-study` draws both.

# %%
weight_dir = ROOT / "results" / "weight_study"
chosen = json.loads((weight_dir / "weight.json").read_text())
w_star = chosen["chosen"]
weight_grid = sorted({float(k.split("/")[0].removeprefix("combined_w")) for k in chosen["validation_mean"] if k.startswith("combined_w")})
failures = json.loads((ROOT / "results" / "experiments" / "order_failures" / "summary.json").read_text())["by_make_up"]
glue("of_sf_neg_c", failures["first two: soundfont+soundfont"]["aligned/beats_neg_c"], display=False)
glue("of_lib_neg_c", failures["first two: recorded+recorded"]["aligned/beats_neg_c"], display=False)
names = [f"combined_w{w:g}" for w in weight_grid] + ["aligned"]
val = pd.DataFrame([{"seed": int(p.parent.name.split("_s")[1].split("_")[0]), **json.loads(p.read_text())}
                    for p in sorted(weight_dir.glob("runs/ME12_s*_t2/val_6263.json"))]).set_index("seed")
wt = report.study_analysis("weight_study")
test = wt["runs"].query("config == 'ME12' and threads == 2").set_index("seed")
fig, (left, right) = plt.subplots(1, 2, figsize=(12, 3.6), gridspec_kw={"width_ratios": [3, 2]})
x = np.arange(len(names))
for metric, color, label in (("order_acc", "C0", "order"), ("motion_acc", "C1", "motion")):
    cols = [f"{n}/{metric}" for n in names]
    for _, row in val[cols].iterrows():
        left.plot(x, row.to_numpy(), color=color, alpha=0.25, lw=1)
    left.plot(x, val[cols].mean().to_numpy(), "o-", color=color, lw=2, label=f"validation {label}")
left.axvline(names.index(f"combined_w{w_star:g}"), color="grey", ls=":", lw=1)
left.axhline(0.9, color="grey", ls="--", lw=1)
left.set_xticks(x, [f"w = {w:g}" for w in weight_grid] + ["aligned\nalone"])
left.set_ylabel("share of scenes")
left.legend(loc="lower right")
for split, marker in (("sf", "o"), ("lib", "s")):
    for metric, color in (("vs_neg_t", "C2"), ("vs_neg_c", "C3")):
        right.plot(np.full(len(test), 0 if split == "sf" else 1), test[f"{split}/aligned/{metric}"], marker, color=color,
                   alpha=0.7, label=f"{metric}" if split == "sf" else None)
for metric, color in (("vs_neg_t", "C2"), ("vs_neg_c", "C3")):
    for seed in test.index:
        right.plot([0, 1], [test.loc[seed, f"sf/aligned/{metric}"], test.loc[seed, f"lib/aligned/{metric}"]], color=color, alpha=0.4, lw=1)
right.set_xticks([0, 1], ["soundfont scenes", "recorded scenes"])
right.set_xlim(-0.4, 1.4)
right.set_ylabel("aligned scores beat the negative")
right.legend(loc="lower left")
left.set_title("(a) validation: the weight (mean over seeds, thick)", fontsize="medium")
right.set_title("(b) test: the aligned scores by sound (a line a seed)", fontsize="medium")
for ax in (left, right):
    ax.set_ylim(0.5, 1.02)
fig.tight_layout()
viz.save(fig, FIG / "16_weight_study.png")
plt.close(fig)
pd.DataFrame({n.replace("combined_", ""): {f"validation {m}": val[f"{n}/{m}"].mean() for m in ("order_acc", "motion_acc")}
              for n in names}).round(3)

# %% [markdown]
# ```{figure} ../figures/16_weight_study.png
# :name: fig-weight-study
# (a) `ME12`'s order (blue) and motion (orange) on the 384 validation scenes of seed 6263, for each weight of the
# aligned score and for the aligned scores alone: thin lines one seed each, thick their mean; dotted, the weight
# the plan's rule chose; dashed, the goal of 0.9. (b) On the test scenes of seed 7129, how often the aligned scores
# beat neg_t (green) and neg_c (red) on scenes of soundfont instruments and on scenes of recordings; a line joins
# one seed's two figures.
# ```

# %%
wt_cmp = wt["comparisons"]
facts = {**report.study_facts("wt", wt_cmp), **report.spread_facts("wt", wt["seed_spread"], wt["rerun_noise"])}
goal = pd.read_csv(weight_dir / "goal.csv").set_index("metric")
star = f"combined_w{w_star:g}"
facts.update(wt_w=w_star, wt_val_order_1=float(val["combined_w1/order_acc"].mean()),
             wt_val_order_star=float(val[f"{star}/order_acc"].mean()),
             wt_val_motion_star=float(val[f"{star}/motion_acc"].mean()))
for metric, key in ((f"mix/{star}/order_acc", "order_star"), ("mix/combined/order_acc", "order_1"),
                    ("mix/aligned/order_acc", "order_aligned"), ("sf/aligned/order_acc", "order_sf")):
    for part in ("mean", "ci_low", "ci_high"):
        facts[f"wt_goal_{key}_{part}"] = float(goal.loc[metric, part])
    facts[f"wt_goal_{key}_met"] = "met" if goal.loc[metric, "met"] else "missed"
for k, v in facts.items():
    glue(k, v, display=False)
assert facts["wt_findings"] == 3 and not goal.loc[f"mix/{star}/order_acc", "met"]  # as the prose says
report.comparisons_table(wt_cmp)

# %% [markdown]
# The validation scenes chose w = {glue:text}`wt_w:g`: there the sum heard the order in
# {glue:text}`wt_val_order_star:.3f` of the scenes, against {glue:text}`wt_val_order_1:.3f` at weight 1, and
# kept the motion at {glue:text}`wt_val_motion_star:.3f` ({numref}`fig-weight-study`a). On the test split it hears
# the order in {glue:text}`wt_goal_order_star_mean:.3f` of the scenes, against
# {glue:text}`wt_goal_order_1_mean:.3f` at weight 1 (W1 {glue:text}`wt_W1_diff:+.3f`, Holm p
# {glue:text}`wt_W1_p_holm:.3f`, {glue:text}`wt_W1_finding` by the plan's one-sided test, though its two-sided
# interval [{glue:text}`wt_W1_lo:+.3f`, {glue:text}`wt_W1_hi:+.3f`] reaches below 0), keeps the motion (W2
# {glue:text}`wt_W2_diff:+.3f` [{glue:text}`wt_W2_lo:+.3f`, {glue:text}`wt_W2_hi:+.3f`], within the margin of 0.05:
# {glue:text}`wt_W2_finding`) and finds the captioned clip first in
# {glue:text}`wt_ME12_mix_combined_w8_t2a_R_1:.3f` of the searches, against
# {glue:text}`wt_ME12_mix_combined_t2a_R_1:.3f` (not tested). So `results/epochs_study/model_ME12_s2025` now
# records that weight, and `embedding="combined"` uses it ({doc}`18_appendix_order_cues`). **The goal of 0.9 for
# the order is still {glue:text}`wt_goal_order_star_met`**: {glue:text}`wt_goal_order_star_mean:.3f`
# ({glue:text}`wt_goal_order_star_ci_low:.3f` to {glue:text}`wt_goal_order_star_ci_high:.3f`).
#
# What is left is the test that asks which sound is which. Against neg_t, where the directions give the order away
# too, the aligned scores win {glue:text}`wt_ME12_sf_aligned_vs_neg_t:.3f` of the soundfont scenes and
# {glue:text}`wt_ME12_lib_aligned_vs_neg_t:.3f` of the recorded ones; against neg_c
# {glue:text}`wt_ME12_sf_aligned_vs_neg_c:.3f` and {glue:text}`wt_ME12_lib_aligned_vs_neg_c:.3f`
# ({numref}`fig-weight-study`b; W3 {glue:text}`wt_W3_diff:+.3f` [{glue:text}`wt_W3_lo:+.3f`,
# {glue:text}`wt_W3_hi:+.3f`], {glue:text}`wt_W3_finding`). Recordings cost a little, and instruments lose neg_c
# too: the model hears when its events happen, and part of the time not which sound made which. The four runs
# trained again for this study score exactly what the epochs study stored for the same seeds
# (`results/weight_study/README.md`).
#
# ## In short
#
# * The default run's 4-way term starts at its value of guessing (ln 4) and leaves it, by this page's
#   measure, at step {glue:text}`default_ts_leave_step`, {glue:text}`default_ts_lead` steps before the
#   specification's ramped 3-way term leaves ln 3 ({numref}`fig-loss-default-schedule`); one seed each,
#   and the two runs differ in more than the schedule.
# * On the sweep's test split (three seeds, no correction for the sweep's many intervals), the 4-way term
#   alone (`mean4`) moves `order_acc` by {glue:text}`sweep_mean4_order_diff:+.3f` and T2A R@1 by
#   {glue:text}`sweep_mean4_r1_diff:+.3f`, neither separated from no change; with the default run's readout
#   and DOA head, the `order_acc` gain of {glue:text}`sweep_concat4_halves_order_diff:+.3f` has an interval
#   above 0. The studies that a finding needs (a plan, a reserved split, five seeds, Holm) are in
#   {doc}`14_appendix_temporal`.
# * The ramp was never tested on its own: no run says what removing it alone does.
# * Four epochs is far from a trained model on the timed scenes. At 12 epochs `ME`'s combined scorer hears the
#   motion in {glue:text}`ep_ME12_mix_combined_motion_acc:.3f` of the test scenes (goal 0.9 met) and the order in
#   {glue:text}`ep_ME12_mix_combined_order_acc:.3f` (missed), both planned findings against 4 epochs and against
#   `MT`'s triplet embedding, and T2A R@1 rises to {glue:text}`ep_ME12_mix_combined_t2a_R_1:.3f`
#   ({numref}`fig-epochs-validation`).
# * The aligned score weighs {glue:text}`wt_w:g` times the cosine in the sum, chosen on validation scenes: order
#   {glue:text}`wt_goal_order_star_mean:.3f` on the test split, above weight 1 and the motion kept (planned findings),
#   still short of 0.9; what it loses is mostly neg_c, which sound is which ({numref}`fig-weight-study`).
#
# ## Exercises
#
# 1. **The floor of the modality term.** The modality classifier's loss sits at ln 2 once the gradient
#    reversal keeps it guessing. With $w_{mod} = 0.2$, what does it add to the total, in nats, and what
#    share of a total of 2.5 nats is that?
#
#    :::{dropdown} Solution
#    $0.2 \ln 2 \approx 0.139$ nats, the floor printed above; of a total of 2.5 nats that is about
#    5.5 %. No step of training can lower it while the classifier guesses.
#    :::
#
# 2. **The value of guessing.** A group of four candidates (pos and three hard negatives) is scored
#    with a softmax cross-entropy. What is the loss of a model that scores all four alike, and by how
#    much does it exceed the 3-way loss's value of guessing?
#
#    :::{dropdown} Solution
#    Each candidate gets probability 1/4, so the loss is $\ln 4 \approx 1.386$ nats; the 3-way loss
#    guesses at $\ln 3 \approx 1.099$, so the difference is $\ln(4/3) \approx 0.288$ nats.
#    :::
#
# 3. **Sixty-four scenes.** The 12-epoch run of {numref}`fig-epochs-validation` hears the order in about 0.92 of
#    its 64 validation scenes. What is the standard error of a share near 0.92 measured on 64 scenes, and why does
#    the study still score five new runs on a split of its own?
#
#    :::{dropdown} Solution
#    $\sqrt{0.92 \times 0.08 / 64} \approx 0.034$, so a 95 % interval of about ±0.07: the same run could have
#    shown 0.85 or 0.99. And the length was chosen by looking at these very scenes, so they flatter it; another
#    seed would train another model too. Only scenes that took no part in the choice, over several seeds, say
#    what 12 epochs give.
#    :::
#
# 4. **One side or two.** W1's difference is {glue:text}`wt_W1_diff:+.3f` over five seeds, its one-sided p-value after
#    Holm {glue:text}`wt_W1_p_holm:.3f`, yet its two-sided 95 % interval reaches {glue:text}`wt_W1_lo:+.3f`. How can
#    both be true, and what did the plan commit to before the runs?
#
#    :::{dropdown} Solution
#    The plan asked a one-sided question (is w* better than 1?), so the test puts all 5 % of its error on one side.
#    A two-sided 95 % interval puts 2.5 % on each side; its lower end matches a one-sided test at 2.5 %, which W1's
#    p-value, between 0.025 and 0.05, does not pass. Both are honest; the plan's hypothesis, written before any run,
#    says which one decides, and the book prints the other beside it.
#    :::
#
# ## References
#
# The total loss, its weights and ramps: the specification and its source {cite:p}`tsalm,hu2025salm`;
# gradient reversal {cite:p}`ganin2015grl`; SALM's DOA head {cite:p}`hu2025salm`; first-order
# ambisonics and the intensity vector {cite:p}`zotter2019ambisonics`.
#
# % In JupyterLab a citation shows as its key; the works cited in this appendix:
#
# % `tsalm`: Cell778 (2025). T-SALM: temporal extension of the spatial audio language model (code and stClotho data layout). https://github.com/Cell778/T-SALM.
#
# % `hu2025salm`: Hu et al. (2025). SALM: Spatial Audio Language Model with Structured Embeddings for Understanding and Editing. arXiv preprint arXiv:2507.16724.
#
# % `ganin2015grl`: Ganin and Lempitsky (2015). Unsupervised Domain Adaptation by Backpropagation. International Conference on Machine Learning (ICML).
#
# % `zotter2019ambisonics`: Zotter and Frank (2019). Ambisonics: A Practical 3D Audio Theory for Recording, Studio Production, Sound Reinforcement, and Virtual Reality. Springer.

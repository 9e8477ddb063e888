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
# # Appendix D: the loss schedule and the DOA head in detail
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
# * how the DOA heads of {doc}`08_doa` compare, on the azimuth, with a baseline that needs no training
#   (the mean intensity vector of each half of the clip), and how their errors depend on the elevation
#   of the source.
#
# Nothing is trained here. The page reads the committed log of the run with the specification's
# settings (`results/experiments/spec_settings_s2025/metrics.csv` and its `run.json`), the log of
# today's default run (`results/train/metrics.csv`) and the sweep (`results/sweep`); the DOA sections
# measure the two exported models (`results/train/model` and the one with the specification's settings)
# on the test split of the default run's corpus, rebuilt from its seed in seconds. Every number in the
# prose comes from those files and that measurement.

# %% tags=["parameters"]
fast = True  # nothing here trains: the page reads the committed logs either way
run_dir = "results/experiments/spec_settings_s2025"  # the specification's settings (the default run until the sweep)
default_run_dir = "results/train"  # today's default run: the 4-way term at weight 1, no ramp
sweep_dir = "results/sweep/runs"  # the sweep: six configurations x three seeds
smooth = 8  # steps of the rolling mean drawn over the per-step losses
n_test = 128  # scenes: the test split of the default run's corpus (same seed, same clips)
seed = 2025
corpus_dir = None  # default: data/book-text-<n_test>-s<seed> (test split only; built in seconds)
model_dir = "results/train/model"  # the trained default run, exported (config.json + model.safetensors)
spec_model_dir = "results/experiments/spec_settings_s2025/model"  # the same seed at the specification's settings

# %% [markdown]
# ## Setup
#
# The settings and the per-step log of the run with the specification's settings, as
# {doc}`07_loss_schedule` reads them, and the steps where its loss weights change.

# %%
import math

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import seaborn as sns
import torch
import torch.nn.functional as F
from matplotlib.ticker import MaxNLocator
from scipy import stats

from sclap_nb import viz
from sclap_nb.ablation import collect_named, paired_differences, with_best
from sclap_nb.api import load
from sclap_nb.data import SECTOR_WORDS, doa_vector, ensure_corpus, read_metadata, sector_of
from sclap_nb.metrics import localization_error
from sclap_nb.notebook import figures_dir, glue, plain_table, record, setup_chapter
from sclap_nb.reference import half_azimuths
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


def mark_schedule(ax):
    """Dotted lines where w_ts grows, a dashed one where w_sem switches on, an epoch axis on top."""
    for s in ramp_steps:
        ax.axvline(s, color="gray", ls=":", lw=1)
    ax.axvline(sem_step, color="black", ls="--", lw=1)
    top = ax.secondary_xaxis("top", functions=(lambda x: x / steps_per_epoch, lambda e: e * steps_per_epoch))
    top.xaxis.set_major_locator(MaxNLocator(integer=True))
    top.set_xlabel("epoch", fontsize="small")


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
mark_schedule(ax)
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
# The default run (`make train`, `results/train`) no longer follows this schedule. Since the sweep it
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

# %% [markdown]
# ## The DOA heads on the test split
#
# The two heads of {doc}`08_doa` (the specification's, on $E_\text{joint}$, and the default run's, one
# per time half of the spatial feature map), measured as there: on the 512 test clips of the 128
# scenes, each prediction matched to the two events in the order with the larger mean cosine, one row
# per event.

# %%
corpus_dir = corpus_dir or f"data/book-text-{n_test}-s{seed}"
model = load(ROOT / model_dir, device="cpu")
spec = load(ROOT / spec_model_dir, device="cpu")
root = ensure_corpus(ROOT / corpus_dir, n_train=0, n_val=0, n_test=n_test, seed=seed, progress=False)
rows = read_metadata(root, "test")
files = [str(root / r["file"]) for r in rows]
pred = model.embed_audio(files, batch_size=64, progress=False).doa  # (N, 2, 3), normalised by the API
spec_pred = spec.embed_audio(files, batch_size=64, progress=False).doa
target = torch.tensor(
    np.array([[doa_vector(r[f"azimuth_{e}"], r[f"elevation_{e}"]) for e in (1, 2)] for r in rows]), dtype=torch.float32
)
t64 = F.normalize(target.double(), dim=-1)  # in float64, as the metric


def matched_errors(pred):
    """(matched unit predictions, angle of each event in degrees): the event order with the larger mean cosine."""
    p64 = F.normalize(pred.double(), dim=-1)

    def mean_cos(p):
        return (p * t64).sum(-1).mean(-1)

    swap = mean_cos(p64.flip(1)) > mean_cos(p64)
    matched = torch.where(swap[:, None, None], p64.flip(1), p64)
    angle = torch.rad2deg(torch.acos((matched * t64).sum(-1).clamp(-1, 1)))
    assert torch.allclose(angle, localization_error(pred, target, reduce=False), atol=1e-6)
    return matched, angle


def event_table(matched, le_events):
    """One row per event: its scene, role, place, true and predicted direction and errors."""
    t = pd.DataFrame({
        "scene": np.repeat([r["scene"] for r in rows], 2),
        "role": np.repeat([r["role"] for r in rows], 2),
        "event": np.tile(["first sound", "second sound"], len(rows)),
        "azimuth": [r[f"azimuth_{e}"] for r in rows for e in (1, 2)],
        "elevation": [r[f"elevation_{e}"] for r in rows for e in (1, 2)],
        "LE": le_events.numpy().ravel(),
        "pred_azimuth": torch.rad2deg(torch.atan2(matched[..., 1], matched[..., 0])).numpy().ravel(),
        "pred_elevation": torch.rad2deg(torch.asin(matched[..., 2].clamp(-1, 1))).numpy().ravel(),
    })
    t["sector"] = [SECTOR_WORDS[sector_of(a)] for a in t["azimuth"]]
    t["head_az_error"] = np.abs((t["pred_azimuth"] - t["azimuth"] + 180) % 360 - 180)
    return t


events, spec_events = event_table(*matched_errors(pred)), event_table(*matched_errors(spec_pred))
print(f"{len(rows)} clips of {len({r['scene'] for r in rows})} scenes; LE: default head "
      f"{events['LE'].mean():.2f}°, specification's head {spec_events['LE'].mean():.2f}°")

# %% [markdown]
# ## A baseline without training: the intensity vector
#
# The intensity vector of a time-frequency bin points to where its sound comes from; averaged over
# a stretch of time, weighted by the energy of each frame, it gives that stretch's direction
# (`sclap_nb.features.iv_direction`). In this corpus each event fills its own half of the clip, so
# the mean intensity vector of each half is a direction estimate for each event that needs no training
# (`sclap_nb.reference.half_azimuths`, the same estimate the `direction_only` reference scorer uses).
# It makes the same assumption as the default head: that each half holds one event. It is used here
# for the azimuth only, so it is compared with the heads on the azimuth error (the heads' predictions,
# matched as for LE, projected onto the horizontal plane).

# %%
iv_az = half_azimuths(root, rows)  # (N, 2) degrees, half 1 and half 2
events["iv_az_error"] = np.abs((iv_az.ravel() - events["azimuth"] + 180) % 360 - 180)
iv_mean, head_az_mean = events["iv_az_error"].mean(), events["head_az_error"].mean()
_ = record("iv_az", iv_mean, tol=0.05, label="intensity vector of each half: mean azimuth error", fmt=".2f", unit="°",
           why="no training; only float rounding differs")
_ = record("head_az", head_az_mean, tol=0.05, label="default head: mean azimuth error", fmt=".2f", unit="°",
           why="fixed weights; only float rounding differs")
_ = record("spec_head_az", spec_events["head_az_error"].mean(), tol=0.05, label="specification's head: mean azimuth error",
           fmt=".2f", unit="°", why="fixed weights; only float rounding differs")
_ = record("iv_az_median", events["iv_az_error"].median(), tol=0.05, label="intensity vector: median azimuth error",
           fmt=".2f", unit="°", why="no training; only float rounding differs")
_ = record("head_az_median", events["head_az_error"].median(), tol=0.05, label="default head: median azimuth error",
           fmt=".2f", unit="°", why="fixed weights; only float rounding differs")
_ = record("head_wins", (events["head_az_error"] < events["iv_az_error"]).mean(), tol=0.01,
           label="share of events on which the default head's azimuth is closer", why="an event flips only on a near tie")
_ = record("iv_az_p90", events["iv_az_error"].quantile(0.9), tol=0.1, label="intensity vector: 90th percentile of the azimuth error",
           fmt=".1f", unit="°", why="no training; only float rounding differs")
_ = record("head_az_p90", events["head_az_error"].quantile(0.9), tol=0.1, label="default head: 90th percentile of the azimuth error",
           fmt=".1f", unit="°", why="fixed weights; only float rounding differs")

# %% [markdown]
# The test scenes are independent draws, the events of one scene are not (they share a room and two
# sources), so the two estimates are compared scene by scene: the mean azimuth error of a scene's eight
# events, head minus intensity vector, with a 95 % t-interval over the 128 scenes.

# %%
spec_events["iv_az_error"] = events["iv_az_error"]


def scene_difference(table):
    """Mean over scenes of (head - intensity vector) azimuth error, its 95 % t-interval, and the share
    of scenes where the intensity vector is closer."""
    s = table.groupby("scene")[["head_az_error", "iv_az_error"]].mean()
    d = s["head_az_error"] - s["iv_az_error"]
    half = stats.t.ppf(0.975, len(d) - 1) * d.std(ddof=1) / len(d) ** 0.5
    return d.mean(), d.mean() - half, d.mean() + half, (s["iv_az_error"] < s["head_az_error"]).mean()


for key, table in (("", events), ("_spec", spec_events)):
    who = "default" if not key else "specification's"
    diff, lo, hi, iv_share = scene_difference(table)
    for name, v, what in (("", diff, "mean"), ("_lo", lo, "95 % CI, low end"), ("_hi", hi, "95 % CI, high end")):
        _ = record(f"scene_diff{key}{name}", v, tol=0.05, fmt="+.2f", unit="°",
                   label=f"{who} head minus intensity vector, azimuth error per scene: {what}",
                   why="fixed weights; only float rounding differs")
    _ = record(f"scenes_iv_better{key}", iv_share, tol=0.01,
               label=f"share of scenes where the intensity vector is closer than the {who} head",
               why="a scene flips only on a near tie")

# %%
long = pd.concat([
    pd.DataFrame({"sector": spec_events["sector"], "error": spec_events["LE"], "estimate": "specification's head, LE"}),
    pd.DataFrame({"sector": events["sector"], "error": events["LE"], "estimate": "default head, LE"}),
    pd.DataFrame({"sector": events["sector"], "error": events["head_az_error"], "estimate": "default head, azimuth"}),
    pd.DataFrame({"sector": events["sector"], "error": events["iv_az_error"], "estimate": "intensity vector, azimuth"}),
])
az_by_sector = events.groupby("sector")[["iv_az_error", "head_az_error"]].mean()
_ = record("sectors_iv_better", int((az_by_sector["iv_az_error"] < az_by_sector["head_az_error"]).sum()), tol=0,
           label="sectors (of 8) where the intensity vector's mean azimuth error is the smaller", fmt=".0f",
           why="the closest sector's two means are 0.04° apart, far above float rounding")
estimates = {"specification's head, LE": viz.PALETTE[7], "default head, LE": viz.PALETTE[0],
             "default head, azimuth": viz.PALETTE[9], "intensity vector, azimuth": viz.PALETTE[2]}
fig, ax = plt.subplots(figsize=(9.5, 3.8))
sns.barplot(data=long, x="sector", y="error", hue="estimate", order=list(SECTOR_WORDS), hue_order=list(estimates),
            palette=estimates, errorbar=("ci", 95), seed=0, capsize=0.1, err_kws={"linewidth": 1}, ax=ax)
ax.axhline(10, color="0.3", ls="--", lw=1)
ax.axhline(5, color="0.3", ls=":", lw=1)
ax.text(7.45, 10.3, "goal 10°", ha="right", va="bottom", fontsize="small", color="0.3")
ax.text(7.45, 5.3, "aim 5°", ha="right", va="bottom", fontsize="small", color="0.3")
ax.set_xlabel("sector of the true azimuth")
ax.set_ylabel("mean error (°)")
ax.legend(title="", loc="upper left", ncol=2, frameon=False)
ax.set_ylim(0, 20)
fig.tight_layout()
_ = viz.save(fig, FIG / "16_sectors.png")
plt.close(fig)

# %% [markdown]
# ```{figure} ../figures/16_sectors.png
# :name: fig-doa-sectors
# Mean error per sector of the true azimuth, over the 1024 events of the 512 test clips (about 128
# a sector), with 95 % bootstrap confidence intervals. Grey: the specification's head's localisation
# error (the 3-D angle); blue: the default head's; light blue: the default head's azimuth error;
# green: the azimuth error of the mean intensity vector of each half of the clip, no training. Dashed:
# the project's goal for LE; dotted: its aim.
# ```

# %%
fig, ax = plt.subplots(figsize=(6, 3.4))
curves = {"specification's head, azimuth": (spec_events["head_az_error"], viz.PALETTE[7]),
          "default head, azimuth": (events["head_az_error"], viz.PALETTE[9]),
          "intensity vector, azimuth": (events["iv_az_error"], viz.PALETTE[2])}
ecdf = pd.concat([pd.DataFrame({"error": v, "estimate": k}) for k, (v, _) in curves.items()], ignore_index=True)
sns.ecdfplot(data=ecdf, x="error", hue="estimate", palette={k: c for k, (_, c) in curves.items()}, ax=ax)
ax.set_xlim(0, 40)
ax.set_xlabel("azimuth error (°)")
ax.set_ylabel("share of events with a smaller error")
sns.move_legend(ax, "lower right", title="")
fig.tight_layout()
_ = viz.save(fig, FIG / "16_iv_vs_head.png")
plt.close(fig)

# %% [markdown]
# ```{figure} ../figures/16_iv_vs_head.png
# :name: fig-doa-iv-vs-head
# Cumulative distribution of the azimuth error over the 1024 events of the test split: the
# specification's head (grey), the default head (light blue) and the mean intensity vector of each
# half (green). A curve further up and to the left is better; the axis stops at 40°.
# ```
#
# The specification's head was clearly worse than the intensity vector: by
# {glue:text}`scene_diff_spec:+.2f`° per scene [{glue:text}`scene_diff_spec_lo:+.2f`,
# {glue:text}`scene_diff_spec_hi:+.2f`] (mean azimuth error {glue:text}`spec_head_az:.2f`°), and the
# intensity vector was closer in {glue:text}`scenes_iv_better_spec:.0%` of the scenes. **The default
# head and the intensity vector are not separated** ({numref}`fig-doa-iv-vs-head`): the head's mean
# azimuth error is {glue:text}`head_az:.2f`° (median {glue:text}`head_az_median:.2f`°), the intensity
# vector's {glue:text}`iv_az:.2f`° (median {glue:text}`iv_az_median:.2f`°), a difference of
# {glue:text}`scene_diff:+.2f`° per scene [{glue:text}`scene_diff_lo:+.2f`,
# {glue:text}`scene_diff_hi:+.2f`], an interval that holds zero. They split the events and the scenes
# about evenly (the head is closer on {glue:text}`head_wins:.0%` of the events; the intensity vector is
# closer in {glue:text}`scenes_iv_better:.0%` of the scenes and has the smaller mean in
# {glue:text}`sectors_iv_better:.0f` of the 8 sectors). They differ in shape: the intensity vector has
# the smaller median, the head the shorter tail (nine events in ten within
# {glue:text}`head_az_p90:.1f`° for the head, {glue:text}`iv_az_p90:.1f`° for the intensity vector).
# Both read the same intensity vectors of the same halves; a trained head that reads them half by half
# recovers about as much direction from them as their plain average, which the head on a clip-pooled
# embedding did not.
#
# ## Elevation
#
# The sources lie within ±45° of the horizon. {numref}`fig-doa-elevation` plots the default head's
# error for each event against the elevation of its source, and the predicted elevation against the
# true one.

# %%
fig, axes = plt.subplots(1, 2, figsize=(10, 3.8))
ax = axes[0]
sns.scatterplot(data=events, x="elevation", y="LE", s=8, alpha=0.35, color=viz.PALETTE[0], linewidth=0, ax=ax)
sns.regplot(data=events, x="elevation", y="LE", x_bins=np.arange(-40, 41, 10), fit_reg=False, seed=0,
            color=viz.PALETTE[3], ax=ax, label="mean per 10° bin (95 % CI)")
ax.set_ylim(0, 40)
ax.set_xlabel("true elevation of the source (°)")
ax.set_ylabel("localisation error (°)")
ax.legend(loc="upper center", frameon=False)
ax = axes[1]
sns.scatterplot(data=events, x="elevation", y="pred_elevation", s=8, alpha=0.35, color=viz.PALETTE[0], linewidth=0, ax=ax)
ax.plot([-50, 50], [-50, 50], color="0.3", ls="--", lw=1, label="prediction = truth")
slope, intercept = np.polyfit(events["elevation"], events["pred_elevation"], 1)
spec_slope, _ = np.polyfit(spec_events["elevation"], spec_events["pred_elevation"], 1)
ax.plot([-50, 50], [intercept - 50 * slope, intercept + 50 * slope], color=viz.PALETTE[3], lw=1.5,
        label="least-squares line")
ax.set_xlabel("true elevation (°)")
ax.set_ylabel("predicted elevation (°)")
ax.set_aspect("equal")
ax.legend(loc="upper left", frameon=False)
fig.tight_layout()
_ = viz.save(fig, FIG / "16_elevation.png")
plt.close(fig)
events["el_bin"] = pd.cut(events["elevation"].abs(), [0, 30, 46], right=False, labels=["|el| < 30°", "|el| >= 30°"])
by_el = events.groupby("el_bin", observed=True)["LE"].mean()
_ = record("le_el_low", by_el.iloc[0], tol=0.05, label="LE, sources within 30° of the horizon", fmt=".2f", unit="°",
           why="fixed weights; only float rounding differs")
_ = record("le_el_high", by_el.iloc[1], tol=0.05, label="LE, sources 30° or more above or below it", fmt=".2f", unit="°",
           why="fixed weights; only float rounding differs")
_ = record("el_slope", slope, tol=0.01, label="default head: slope of predicted against true elevation", why="fixed weights")
_ = record("el_slope_spec", spec_slope, tol=0.01, label="specification's head: the same slope", why="fixed weights")
_ = record("el_bias", (events["pred_elevation"] - events["elevation"]).mean(), tol=0.05,
           label="default head: mean of (predicted - true elevation)", fmt=".2f", unit="°",
           why="fixed weights; only float rounding differs")
_ = record("el_error", (events["pred_elevation"] - events["elevation"]).abs().mean(), tol=0.05,
           label="default head: mean absolute elevation error", fmt=".2f", unit="°", why="fixed weights; only float rounding differs")
_ = record("el_error_spec", (spec_events["pred_elevation"] - spec_events["elevation"]).abs().mean(), tol=0.05,
           label="specification's head: mean absolute elevation error", fmt=".2f", unit="°",
           why="fixed weights; only float rounding differs")

# %% [markdown]
# ```{figure} ../figures/16_elevation.png
# :name: fig-doa-elevation
# The default head. Left: the localisation error of each of the 1024 test events against the true
# elevation of its source (dots; the axis stops at 40°), and its mean per 10° bin with a 95 %
# bootstrap interval. Right: predicted against true elevation; dashed: a perfect prediction,
# vermilion: the least-squares line.
# ```
#
# The error does not grow away from the horizon: LE is {glue:text}`le_el_low:.1f`° for sources within
# 30° of it and {glue:text}`le_el_high:.1f`° for those 30° or more above or below it. The default head's mean
# absolute elevation error is {glue:text}`el_error:.1f`° (the specification's head:
# {glue:text}`el_error_spec:.1f`°). The least-squares slope of its predicted against true elevation is
# {glue:text}`el_slope:.2f`, close to 1, and its predictions sit {glue:text}`el_bias:+.1f`° off the
# truth on average. The specification's head pulled elevations toward the horizon (slope
# {glue:text}`el_slope_spec:.2f`), as a regressor unsure of its target hedges toward the middle of
# its range; the default head hedges much less.
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
# 3. **An azimuth error across the back.** A head answers azimuth 170° for a source at −170°. What
#    azimuth error does this appendix's formula, $|((\hat a - a + 180) \bmod 360) - 180|$, give, and
#    what would a plain $|\hat a - a|$ give?
#
#    :::{dropdown} Solution
#    $(170 + 170 + 180) \bmod 360 = 160$, so the error is $|160 - 180| = 20°$: the two directions lie
#    20° apart, either side of the back. The plain difference gives 340°.
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

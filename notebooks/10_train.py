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
# # Training the spatial-temporal CLAP
#
# ![The model: every part of it trains on this page](../figures/model.png)
#
# *Run this chapter yourself:* in a clone of the repository, `make setup` once, then `make lab`; in
# JupyterLab open `notebooks/10_train.py`, which opens as a notebook with the outputs stored in
# `10_train.ipynb`. Headless: `make train` (the main job), or papermill with other settings (below).
# In JupyterLab a citation shows as its key (`hu2025salm`); the works are listed under *References*.
#
# **What you will learn here:**
#
# * how the main job of the book runs: settings, corpus, training, evaluation on the test split,
#   `metrics.json`, checkpoints, an export of the best model, and figures;
# * how to run it yourself, headless, and what it refuses to overwrite;
# * where the default settings depart from the specification, and where the evidence for each is;
# * what the committed default run (18 epochs on 512 training scenes of the halves layout) learnt, epoch
#   by epoch, and how it scores on the test split;
# * what the main job's run (timed scenes, 4 epochs) scores, and why `make train` trains it.
#
# This chapter is the main job of the book. It builds (or reads) a spatial-temporal corpus,
# trains the model with the total loss of the specification, evaluates both audio embeddings on
# the test split and writes `metrics.json`, checkpoints and figures to `out_dir`.
#
# **The default settings depart from the specification in four places**, each measured over three
# seeds (the chapter {doc}`11_results`, Findings 3 and 4): a 4-way group term (pos against neg_t, neg_s
# and the class-order negative neg_c) at weight 1 from the first epoch, where the specification ramps a
# 3-way term up to 0.2 over 4 epochs; the chunk tokens concatenated in time order
# (`temporal_readout = "concat"`), not averaged; the DOA head on each time half of the spatial feature
# map (`doa_pooling = "halves"`), not on E_joint; and each chunk token's content standardised over the
# batch (`temporal_token_norm = True`).
#
# Run it headless with papermill (`make train` does this with the `main` preset, `make train PRESET=default` with `default`):
#
# ```bash
# papermill notebooks/10_train.ipynb runs/e12.ipynb -p preset default -y '{"settings": {"optim.epochs": 12, "runtime.out_dir": "runs/e12"}}'
# ```
#
# The settings of a run are one tree, `sclap_nb.config.RunConfig` (data, model, loss, optim, runtime),
# each setting defined there once with its type, range and help. The `parameters` cell below picks a
# named preset (`main`: the main job, `make train`, below; `default`: the default run of the halves
# layout; `specification`: the model and loss as specified; `quick`: a tiny corpus and model for two
# epochs, what the stored outputs of this page show and what the notebook tests re-run; `timed`: `main`'s
# scenes on the soundfont alone at 18 epochs, the paths study's `P`, about 25 minutes on 2 cores), an optional YAML file of settings,
# and any setting by its dotted name.
# The command line `python -m sclap_nb.train` takes the same tree (`--help` lists every setting,
# `--print_config` writes the YAML that `--config` and this page's `config` read) and is the way to
# train on several devices: with `runtime.devices > 1` this page hands the run to it, one process per
# device.
#
# An `out_dir` is never emptied or overwritten: a new one is created, one holding a run with the
# same settings is resumed from its `last.ckpt`, anything else is refused. The quick preset without
# an `out_dir` trains into a new temporary directory and, once the best checkpoint is tested and
# exported, removes the checkpoints (the export, logs and metrics stay), so smoke runs do not fill the disk.
#
# **Three runs on one page.** The first half executes the job with the settings it is given (on the
# stored page the quick preset, a smoke test); the second reads two committed runs, *The default run*
# (`results/default/`, the halves layout) and *The main job's run* (`results/train/`).

# %% tags=["parameters"]
preset = "quick"  # "main" (make train), "default" (the halves layout), "specification", "timed" or "quick" (a smoke test)
config = ""  # a YAML file of settings, as `python -m sclap_nb.train --print_config` writes it
settings = {}  # settings by dotted name on top, e.g. {"optim.epochs": 30, "runtime.out_dir": "runs/e30"}
figures_dir = ""  # also copy the run's figures here ("": only out_dir/figures)

# %% [markdown]
# ## Setup
#
# The settings are resolved once (`sclap_nb.run.resolve`: preset, file, then `settings`); every later
# step reads them from `cfg`. The seed fixes the corpus, the model initialisation, dropout and the
# order of batches.

# %%
import json
import os
import shutil
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import seaborn as sns
from sclap_nb.notebook import glue

from sclap_nb import viz
from sclap_nb.notebook import figures_dir as book_figures_dir
from sclap_nb.notebook import record, setup_chapter
from sclap_nb.reference import OWN_TESTS
from sclap_nb.results import load_run
from sclap_nb.run import resolve, run

ROOT = setup_chapter(threads=None)  # torch's default threads: one per core
FIG = book_figures_dir(ROOT)  # the book's figures (the run's own go to out_dir/figures)
cfg = resolve(preset, config, settings)
print(f"preset {preset}: {cfg.data.n_train} training scenes, {cfg.optim.epochs} epochs, model dim {cfg.model.dim}, "
      f"negatives {list(cfg.loss.negatives)}")

# %% [markdown]
# ## Train and test
#
# One call does the whole job (`sclap_nb.run.run`): it creates (or resumes) the output directory and
# writes `run.json`; builds the embedded corpus from General MIDI soundfont recordings (and, with
# `data.sounds` `mixed` as in the `main` preset, the library's recorded sounds) spatialised in
# simulated rooms (the chapter {doc}`02_scenes`), or reads `data.data_dir`; trains, with one line per
# epoch on the terminal; evaluates the best checkpoint (by validation T2A R@1, the better of the two
# embeddings) on the test split, together with the reference scorers that need no training; and writes
# `metrics.json` and the export of the best model, `model/`. Metrics come for both audio embeddings:
# `joint/*` is E_joint, `triplet/*` the temporal-path embedding.

# %%
metrics = run(cfg, ROOT, temporary=preset == "quick" and cfg.runtime.out_dir == "auto")
out = Path(metrics["out_dir"])
print(f"out_dir: {out}; {metrics['steps']} steps in {metrics['train_seconds']:.0f} s")

# %%
# The main test metrics (every one is in metrics.json), each recorded with the difference the notebook
# tests allow on another CPU: in the quick preset (18 test clips, 2 epochs) two clips changing their
# rank or winner, or 5 degrees of LE.
n_test_clips = 3 * cfg.data.n_test
shown = [f"{e}/{k}" for e in ("joint", "triplet") for k in ("t2a/R@1", "order_acc", "place_acc")]
for k in [*shown, "LE_deg"]:
    if isinstance(metrics.get(k), float):
        tol = 5.0 if k == "LE_deg" else 2.0 / n_test_clips
        record(k.replace("/", "_").replace("@", "_at_"), metrics[k], tol=tol, label=k,
               why="two test clips" if k != "LE_deg" else "5 degrees")
glue("run_steps", int(metrics["steps"]), display=False)
glue("run_train_scenes", cfg.data.n_train, display=False)
glue("run_test_clips", n_test_clips, display=False)
glue("run_chance_r1", 1 / n_test_clips, display=False)
glue("run_group_negatives", len(cfg.loss.negatives), display=False)

# %% [markdown]
# On the stored page these numbers come from the quick preset: {glue:text}`run_steps` optimisation
# steps of a tiny model on {glue:text}`run_train_scenes` training scenes, evaluated on
# {glue:text}`run_test_clips` test clips: a **smoke test of the pipeline** (every step runs and writes its
# output), not what the model can learn (a random clip gives a T2A R@1 of {glue:text}`run_chance_r1:.3f`).
#
# ## Training curves of this run
#
# Every loss component against the step, then the validation accuracies per epoch, into
# `out_dir/figures` (`make train`: `runs/train/figures`).

# %%
def loss_axes(group: int, clips_per_step: int) -> dict:
    """Loss component -> (title, y label, chance level or None), for groups of ``group`` clips (pos and its
    hard negatives) and ``clips_per_step`` clips a step (the InfoNCE terms pick among all of them)."""
    return {
        "total": ("total loss", "weighted sum of the terms", None),
        "loss_scl": ("L_sCL: InfoNCE, spatial captions", "cross-entropy (nats)", np.log(clips_per_step)),
        "loss_cl": ("L_CL: InfoNCE, plain captions", "cross-entropy (nats)", np.log(clips_per_step)),
        "loss_doa": ("L_DOA: direction of arrival", "1 - cos (0 = exact)", None),
        "loss_ts": (f"L_ts: {group}-way group loss", "cross-entropy (nats)", np.log(group)),
        "loss_mod": ("L_mod: modality classifier", "binary cross-entropy (nats)", np.log(2)),
    }


def label_loss_axes(fig, axes_spec: dict) -> None:
    """Readable titles, y labels with units and chance levels (dashed) on viz.plot_loss_components' panels."""
    for ax in fig.axes:
        if ax.get_title() in axes_spec:
            title, ylabel, chance = axes_spec[ax.get_title()]
            ax.set_title(title)
            ax.set_ylabel(ylabel)
            ax.set_xlabel("training step")
            if chance is not None:
                ax.axhline(chance, color="gray", ls="--", lw=1)


fig_dir = out / "figures"
fig = viz.plot_loss_components(out)
group = 1 + len(cfg.loss.negatives)
label_loss_axes(fig, loss_axes(group, group * cfg.optim.batch_size))
_ = viz.save(fig, fig_dir / "train_losses.png")
if preset == "quick":  # the book shows the quick run's curves; a full run keeps its figures in out_dir only
    viz.save(fig, FIG / "10_quick_losses.png")
plt.close(fig)

# %%
fig = viz.plot_epoch_metrics(out, {"modality_acc": "modality classifier accuracy"}, "accuracy (validation)", hline=0.5,
                             ylim=(0, 1.05))
_ = viz.save(fig, fig_dir / "train_modality_acc.png")
plt.close(fig)
keys = {"triplet/3way_temporal": "temporal (triplet emb.)", "triplet/3way_spatial": "spatial (triplet emb.)",
        "joint/3way_temporal": "temporal (E_joint)", "joint/3way_spatial": "spatial (E_joint)"}
fig = viz.plot_epoch_metrics(out, keys, "3-way accuracy (validation)", hline=0.5, ylim=(0, 1.05))
_ = viz.save(fig, fig_dir / "train_3way_acc.png")
plt.close(fig)

# %% [markdown]
# ```{figure} ../figures/10_quick_losses.png
# :name: fig-10-quick-losses
# Every loss component of the run executed on this page against the training step (thin: per step;
# thick: rolling mean of 5; dashed: the value of a model that cannot tell the candidates apart; L_ts
# compares each scene's pos with its {glue:text}`run_group_negatives` hard negatives). On the
# stored page: the quick setting's {glue:text}`run_steps` steps, a smoke test of the pipeline, not a
# result.
# ```

# %%
if figures_dir:
    Path(ROOT / figures_dir).mkdir(parents=True, exist_ok=True)
    for png in fig_dir.glob("*.png"):
        shutil.copy(png, ROOT / figures_dir / png.name)
print(sorted(p.name for p in fig_dir.glob("*.png")))

# %% [markdown]
# ## The default run
#
# Everything above ran with the settings of this page. Most results of the book come from the default
# run, the `default` preset (the stClotho halves layout: each event fills one half of a 2 s clip) on this
# project's 2-core CPU with seed 2025 (`make train PRESET=default`; it was the main job until the main
# study, below), committed to `results/default/`: its
# settings (`run.json`), every test metric (`metrics.json`), Lightning's log of every step and epoch
# (`metrics.csv`) and the export of its best model (`model/`). This section reads them; it does not
# train. The run has the default settings, departures included (the 4-way group term at full weight
# from the first epoch, the concatenated readout, the DOA head on each time half, the chunk tokens'
# content standardised); the same settings without the last are kept in
# `results/experiments/no_token_norm_s2025`, and the same job at the
# specification's settings, the default run before the sweep, is kept in
# `results/experiments/spec_settings_s2025` for comparison.

# %%
train = load_run("default")  # results/default: its settings as the tree, whatever the age of its run.json
RESULTS, run_cfg, default = train.path, train.config, train.metrics
source = json.loads((RESULTS / "model" / "config.json").read_text())["source"]
steps = viz.step_frame(RESULTS / "metrics.csv")
epochs = viz.epoch_frame(RESULTS / "metrics.csv").assign(epoch=lambda d: d["epoch"] + 1)  # epoch 1 = after the first pass
steps_per_epoch = default["steps"] // default["epochs"]
group = 1 + len(run_cfg.loss.negatives)  # pos and its hard negatives
clips_per_step = run_cfg.optim.batch_size * group
val_clips = 3 * run_cfg.data.n_val
# the tested checkpoint: the first epoch with the best validation T2A R@1 (the checkpoint callback keeps a
# later epoch only when it is strictly better); the export names it too where it says
best_epoch = int(epochs.loc[epochs["t2a_R@1_best"].idxmax(), "epoch"])
assert source.get("epoch") is None or source["epoch"] + 1 == best_epoch, (source, best_epoch)
facts = {"default_epochs": default["epochs"], "default_steps": default["steps"], "default_steps_per_epoch": steps_per_epoch,
         "default_clips_per_step": clips_per_step, "default_group": group, "default_n_train": run_cfg.data.n_train,
         "default_n_val": run_cfg.data.n_val, "default_n_test": run_cfg.data.n_test, "default_batch": run_cfg.optim.batch_size,
         "default_val_clips": val_clips, "default_best_epoch": best_epoch, "default_w_ts": run_cfg.loss.weights[2],
         "default_train_min": default["train_seconds"] / 60, "default_total_min": default["total_seconds"] / 60}
for k, v in facts.items():
    glue(k, v, display=False)
departures = {k: v for k, v in run_cfg.flat().items() if k in ("loss.negatives", "loss.weights", "loss.ts_ramp",
              "loss.sem_start", "model.temporal_readout", "model.doa_pooling", "model.temporal_token_norm")}  # fmt: skip
print(departures)
print(f"{run_cfg.optim.epochs} epochs x {steps_per_epoch} steps of {run_cfg.optim.batch_size} groups of {group} "
      f"({clips_per_step} clips); scenes train/val/test {run_cfg.data.n_train}/{run_cfg.data.n_val}/{run_cfg.data.n_test}; "
      f"seed {run_cfg.runtime.seed}; precision {run_cfg.runtime.precision}")
print(f"best checkpoint: epoch {best_epoch}; training {default['train_seconds']:.0f} s, "
      f"whole notebook {default['total_seconds']:.0f} s")

# %% [markdown]
# The run trained {glue:text}`default_epochs` epochs of {glue:text}`default_steps_per_epoch` steps
# ({glue:text}`default_clips_per_step` clips a step: each of {glue:text}`default_batch` scenes as pos,
# neg_t, neg_s and neg_c) on {glue:text}`default_n_train` training scenes, in
# {glue:text}`default_train_min:.1f` minutes of training. After every epoch it evaluated the
# {glue:text}`default_n_val` validation scenes; the checkpoint with the best validation T2A R@1 (the
# better of the two embeddings), from epoch {glue:text}`default_best_epoch`, is the one tested and
# exported.
#
# ### Losses

# %%
LOSS_AXES = loss_axes(group, clips_per_step)
fig, axes = plt.subplots(2, 3, figsize=(11, 5.6), sharex=True)
for ax, name in zip(axes.flat, LOSS_AXES):
    title, ylabel, chance = LOSS_AXES[name]
    sns.lineplot(x=steps["step"], y=steps[name], color="C0", lw=0.6, alpha=0.45, ax=ax)
    sns.lineplot(x=steps["step"], y=steps[name].rolling(8, min_periods=1).mean(), color="C0", lw=1.6, ax=ax)
    if chance is not None:
        ax.axhline(chance, color="gray", ls="--", lw=1)
        ax.annotate("chance", (ax.get_xlim()[1], chance), ha="right", va="bottom", fontsize="x-small", color="gray")
    ax.set_title(title)
    ax.set_ylabel(ylabel)
    ax.set_xlabel(f"training step ({steps_per_epoch} per epoch)")
fig.tight_layout()
viz.save(fig, FIG / "10_default_losses.png")
plt.close(fig)

# %%
by_epoch = steps.assign(epoch=steps["step"] // steps_per_epoch + 1).groupby("epoch")
mod_acc = by_epoch["mod_acc"].mean()
mod_loss = by_epoch["loss_mod"].mean()
mod_peak = steps.loc[steps["loss_mod"].idxmax()]
mod_peak_epoch = int(mod_peak["step"]) // steps_per_epoch + 1
late = mod_loss.loc[mod_peak_epoch + 1 :]  # every epoch after the one with the peak
ts_mean = by_epoch["loss_ts"].mean()
facts = {"mod_acc_epoch1": mod_acc.loc[1], "mod_acc_best_epoch": int(mod_acc.idxmax()), "mod_peak_step": int(mod_peak["step"]),
         "mod_peak_loss": mod_peak["loss_mod"], "mod_peak_epoch": mod_peak_epoch, "mod_late_from": mod_peak_epoch + 1,
         "mod_late_loss_min": late.min(), "mod_late_loss_max": late.max(),
         "ts_epoch1": ts_mean.loc[1], "ts_first_below_half": int(ts_mean[ts_mean < 0.5].index[0]), "ts_last": ts_mean.iloc[-1],
         "ln2": float(np.log(2)), "ln_group": float(np.log(group)), "ln_clips": float(np.log(clips_per_step))}
for k, v in facts.items():
    glue(k, v, display=False)
# the words below: the classifier is at its best in epoch 1, its loss peaks in the next epoch and then stays at ln 2
assert facts["mod_acc_best_epoch"] == 1 and mod_peak_epoch == 2 and (late - np.log(2)).abs().max() < 0.03

# %% [markdown]
# ```{figure} ../figures/10_default_losses.png
# :name: fig-10-default-losses
# Every loss component of the default run against the training step (thin: per step; thick: rolling mean
# of 8 steps). Dashed: the loss of a model that cannot tell its candidates apart: ln
# {glue:text}`default_clips_per_step` for the InfoNCE terms over the clips of a step, ln
# {glue:text}`default_group` for the {glue:text}`default_group`-way group loss, ln 2 for the modality
# classifier. The total is the weighted sum of the others with the weights of the chapter
# {doc}`07_loss_schedule`: L_CL enters at epoch 4, and L_ts counts at weight
# {glue:text}`default_w_ts:.1f` from the first step (the specification ramps a weight of 0.2 up over
# 4 epochs).
# ```
#
# The contrastive terms fall steadily from their start at chance (ln {glue:text}`default_clips_per_step`
# = {glue:text}`ln_clips:.2f`), and so does the DOA loss. The group loss starts at ln
# {glue:text}`default_group` = {glue:text}`ln_group:.2f` (epoch mean {glue:text}`ts_epoch1:.3f` in the
# first epoch), falls below 0.5 (epoch mean) in epoch {glue:text}`ts_first_below_half` and ends at
# {glue:text}`ts_last:.3f`: by then the model ranks each scene's positive above all three of its hard
# negatives on the training batches, neg_c included.
#
# The modality classifier tells the story of the chapter {doc}`09_modality_gap`. In the first epoch it
# tells the two modalities of the training batches apart in {glue:text}`mod_acc_epoch1:.2f` of cases
# (epoch mean), its best epoch; then the reversed gradient turns the encoders against it, and at step
# {glue:text}`mod_peak_step` (epoch {glue:text}`mod_peak_epoch`) its loss peaks at
# {glue:text}`mod_peak_loss:.1f` nats, a classifier that is confidently wrong. From epoch
# {glue:text}`mod_late_from` on its loss stays between {glue:text}`mod_late_loss_min:.3f` and
# {glue:text}`mod_late_loss_max:.3f` per epoch, at ln 2 = {glue:text}`ln2:.3f`: it guesses, and does so
# for the rest of the run (its validation accuracy, {numref}`fig-10-default-validation`, swings around
# 0.5). A guessing classifier is not the same as inseparable embeddings; the chapter
# {doc}`09_modality_gap` measures the gap with a fresh probe.
#
# ### Validation, epoch by epoch

# %%
EMB = {"joint": "E_joint", "triplet": "triplet"}
panels = [  # title, {column: label}, y label, chance, goal
    ("text-to-audio retrieval", {f"{e}/t2a/R@1": lab for e, lab in EMB.items()}, f"T2A R@1 (share of {val_clips} captions)",
     1 / val_clips, None),
    ("3-way tests (pos vs neg_t, vs neg_s)", {f"{e}/3way_{t}": f"{t}, {lab}" for e, lab in EMB.items()
                                              for t in ("temporal", "spatial")}, "pairwise accuracy", 0.5, 0.95),
    ("order and place (with neg_c)", {f"{e}/{t}": f"{t}, {lab}" for e, lab in EMB.items() for t in ("order_acc", "place_acc")},
     "share of scenes", 1 / 3, 0.95),
    ("localisation error", {"LE_deg": "DOA head"}, "mean angular error (degrees)", None, 10.0),
    ("modality classifier (validation)", {"modality_acc": "GRL classifier"}, "accuracy, audio vs text", 0.5, None),
    ("zero-shot direction", {f"{e}/zeroshot_direction": lab for e, lab in EMB.items()}, "accuracy (8 sectors)", 0.25, None),
]
fig, axes = plt.subplots(2, 3, figsize=(11.5, 6.2), sharex=True)
for ax, (title, cols, ylabel, chance, goal) in zip(axes.flat, panels):
    long = epochs.melt(id_vars="epoch", value_vars=[c for c in cols if c in epochs], var_name="metric", value_name="value")
    long["metric"] = long["metric"].map(cols)
    sns.lineplot(data=long, x="epoch", y="value", hue="metric", style="metric", markers=True, dashes=False, ax=ax,
                 palette="colorblind", legend=len(cols) > 1)
    if chance is not None:
        ax.axhline(chance, color="gray", ls="--", lw=1)
        ax.annotate("chance", (epochs["epoch"].max(), chance), ha="right", va="bottom", fontsize="x-small", color="gray")
    if goal is not None:
        ax.axhline(goal, color="0.1", ls=":", lw=1.3)
        ax.annotate("goal", (epochs["epoch"].min(), goal), ha="left", va="bottom", fontsize="x-small")
    ax.axvline(best_epoch, color="C3", lw=0.8, alpha=0.6)
    ax.set_title(title)
    ax.set_ylabel(ylabel)
    ax.set_xlabel("epoch")
    ax.xaxis.set_major_locator(plt.MultipleLocator(2))
    ax.set_xlim(0.5, epochs["epoch"].max() + 0.5)
    if len(cols) > 1:
        ax.legend(fontsize="x-small", title=None)
fig.tight_layout()
viz.save(fig, FIG / "10_default_validation.png")
plt.close(fig)

# %%
at_best = epochs.set_index("epoch").loc[best_epoch]
le = epochs.set_index("epoch")["LE_deg"]
above = le[le > 10.0].index
facts = {"val_3way_first_one": int(epochs.loc[epochs["triplet/3way_temporal"] >= 1.0, "epoch"].min()),
         "val_r1_best": at_best["t2a_R@1_best"], "val_r1_last": epochs["t2a_R@1_best"].iloc[-1],
         "val_order_best": at_best["triplet/order_acc"], "val_order_joint_best": at_best["joint/order_acc"],
         "val_order_gap_max": (epochs["triplet/order_acc"] - epochs["joint/order_acc"]).abs().max(),
         "val_r1_gap_max": (epochs["triplet/t2a/R@1"] - epochs["joint/t2a/R@1"]).abs().max(),
         "val_zs_best": epochs["joint/zeroshot_direction"].max(),
         "val_zs_best_epoch": int(epochs.loc[epochs["joint/zeroshot_direction"].idxmax(), "epoch"]),
         "val_zs_last": epochs["joint/zeroshot_direction"].iloc[-1],
         "val_le_first": le.iloc[0], "val_le_last": le.iloc[-1], "val_le_below_from": int(above.max()) + 1 if len(above) else 1}
for k, v in facts.items():
    glue(k, v, display=False)

# %% [markdown]
# ```{figure} ../figures/10_default_validation.png
# :name: fig-10-default-validation
# Validation metrics of the default run after each epoch ({glue:text}`default_n_val` scenes,
# {glue:text}`default_val_clips` clips of the roles pos, neg_t, neg_s for retrieval; the neg_c clips
# for order and place). Dashed grey: chance; dotted black: the book's goal; the thin vertical line marks
# the epoch of the checkpoint that was tested ({glue:text}`default_best_epoch`). Epochs count from 1.
# ```
#
# Retrieval improves until epoch {glue:text}`default_best_epoch`, where the validation T2A R@1 peaks at
# {glue:text}`val_r1_best:.3f`; the last epoch ends at {glue:text}`val_r1_last:.3f`. The two 3-way tests
# rise from chance to 1.0, reached in epoch {glue:text}`val_3way_first_one` (the group loss falls below
# 0.5 in epoch {glue:text}`ts_first_below_half`), and stay there: they saturate, and a model that only
# reads the order of the two directions would pass them too (chapter {doc}`11_results`). The order and
# place tests, which need the fourth clip, rise more slowly, to {glue:text}`val_order_best:.3f` (triplet
# `order_acc`; E_joint {glue:text}`val_order_joint_best:.3f`) at the tested epoch. The localisation error
# of the DOA head falls from {glue:text}`val_le_first:.1f`° after the first epoch to
# {glue:text}`val_le_last:.1f`° after the last, below the 10° goal in every epoch from epoch
# {glue:text}`val_le_below_from` on. The E_joint and triplet curves lie close together throughout: at
# most {glue:text}`val_order_gap_max:.3f` apart in `order_acc` and {glue:text}`val_r1_gap_max:.3f` in
# T2A R@1 in any epoch. Zero-shot direction (a caption naming a direction against the clip's embedding)
# peaks at {glue:text}`val_zs_best:.2f` in epoch {glue:text}`val_zs_best_epoch` and ends at
# {glue:text}`val_zs_last:.2f`: the model selection follows retrieval, not this test.
#
# ### On the test split

# %%
sources = {"default, seed 2025": "default", "default, seed 2026": "default_seed2026",
           "specification, seed 2025": "experiments/spec_settings_s2025",
           "specification, seed 2026": "experiments/spec_settings_s2026"}
runs = {name: load_run(folder).metrics for name, folder in sources.items()}
ROWS = {"t2a/R@1": "T2A R@1", "a2t/R@1": "A2T R@1", "3way_temporal": "3-way temporal", "3way_spatial": "3-way spatial",
        "order_acc": "order_acc (with neg_c)", "place_acc": "place_acc (with neg_c)", "zeroshot_direction": "zero-shot direction"}
table = {}
for run, m in runs.items():
    for e, lab in EMB.items():
        table[(run, lab)] = {name: m.get(f"{e}/{k}", np.nan) for k, name in ROWS.items()}
    table[(run, "E_joint")]["localisation error (degrees)"] = m["LE_deg"]
    table[(run, "triplet")]["modality probe accuracy"] = m["modality/probe_acc"]
test_table = pd.DataFrame(table)
for k in ("t2a/R@1", "a2t/R@1", "order_acc", "place_acc", "3way_temporal", "3way_spatial", "zeroshot_direction"):
    for e in EMB:
        glue(f"test_{e}_{k.replace('/', '_').replace('@', '')}", default[f"{e}/{k}"], display=False)
glue("test_LE", default["LE_deg"], display=False)
glue("test_emb_gap_max", max(abs(default[f"joint/{k}"] - default[f"triplet/{k}"]) for k in ROWS), display=False)
glue("test_probe", default["modality/probe_acc"], display=False)
n_test = run_cfg.data.n_test
glue("test_clips", 3 * n_test, display=False)
glue("test_order_won", round(default["triplet/order_acc"] * n_test), display=False)
glue("test_order_need", int(np.ceil(0.95 * n_test)), display=False)
assert round(default["triplet/order_acc"] * n_test) == int(np.ceil(0.95 * n_test))  # "exactly"
for short, run in (("s26", "default, seed 2026"), ("spec25", "specification, seed 2025"), ("spec26", "specification, seed 2026")):
    if run in runs:
        for k, key in (("triplet/t2a/R@1", "r1"), ("triplet/order_acc", "order"), ("LE_deg", "le"), ("modality/probe_acc", "probe")):
            glue(f"test_{short}_{key}", runs[run][k], display=False)
if "default, seed 2026" in runs:
    s26 = runs["default, seed 2026"]
    glue("test_seed_d_order", abs(s26["triplet/order_acc"] - default["triplet/order_acc"]), display=False)
    glue("test_seed_d_probe", abs(s26["modality/probe_acc"] - default["modality/probe_acc"]), display=False)
    # the words below: seed 2026 meets the order goal too, and the default settings beat the specification's on both seeds
    assert s26["triplet/order_acc"] >= 0.95
    for seed_run, spec_run in (("default, seed 2025", "specification, seed 2025"), ("default, seed 2026", "specification, seed 2026")):
        a, b = runs[seed_run], runs[spec_run]
        assert a["triplet/t2a/R@1"] > b["triplet/t2a/R@1"] and a["triplet/order_acc"] > b["triplet/order_acc"]
        assert a["LE_deg"] < b["LE_deg"] and a["modality/probe_acc"] < b["modality/probe_acc"]
test_table.round(3)

# %% [markdown]
# On the {glue:text}`default_n_test` test scenes (rooms and renderings the model never met), retrieval
# over {glue:text}`test_clips` clips reaches a T2A R@1 of {glue:text}`test_triplet_t2a_R1:.3f` with the
# triplet embedding and {glue:text}`test_joint_t2a_R1:.3f` with E_joint (A2T:
# {glue:text}`test_triplet_a2t_R1:.3f` and {glue:text}`test_joint_a2t_R1:.3f`). Both 3-way tests are at
# {glue:text}`test_triplet_3way_temporal:.3f` / {glue:text}`test_triplet_3way_spatial:.3f`. With the
# fourth clip the model is less sure: `order_acc` {glue:text}`test_triplet_order_acc:.3f` and `place_acc`
# {glue:text}`test_triplet_place_acc:.3f` for the triplet embedding, the same as E_joint's
# ({glue:text}`test_joint_order_acc:.3f`): {glue:text}`test_order_won` of the
# {glue:text}`default_n_test` scenes, exactly the {glue:text}`test_order_need` that the goal of 0.95
# needs, so the goal is met with no scene to spare. The DOA head is off by {glue:text}`test_LE:.1f`° on average (goal ≤ 10°:
# met), and a fresh probe tells audio from text embeddings in {glue:text}`test_probe:.3f` of cases
# (goal ≤ 0.65: missed).
#
# The other columns are the same job with seed 2026 (`results/default_seed2026`) and, for comparison, the
# same job at the specification's settings with each seed (`results/experiments/spec_settings_s2025`
# and `spec_settings_s2026`, the default runs before the sweep). With seed 2026 the default run scores
# T2A R@1 {glue:text}`test_s26_r1:.3f`, `order_acc` {glue:text}`test_s26_order:.3f` (the goal of 0.95 met
# as well), LE {glue:text}`test_s26_le:.1f`° and probe accuracy {glue:text}`test_s26_probe:.3f`.
# Between the two seeds `order_acc` moves by {glue:text}`test_seed_d_order:.3f` and the probe by
# {glue:text}`test_seed_d_probe:.3f`: the third digit of one run is not a finding. On both seeds the default settings score above the specification's in T2A R@1
# ({glue:text}`test_spec25_r1:.3f` and {glue:text}`test_spec26_r1:.3f` at the specification's settings)
# and `order_acc` ({glue:text}`test_spec25_order:.3f` and {glue:text}`test_spec26_order:.3f`), with a
# smaller localisation error ({glue:text}`test_spec25_le:.1f`° and {glue:text}`test_spec26_le:.1f`°) and
# a lower probe accuracy ({glue:text}`test_spec25_probe:.3f` and {glue:text}`test_spec26_probe:.3f`). Two
# seeds say little on their own; the three-seed sweep of the chapter {doc}`11_results` is the evidence
# for each departure.
#
# ## The main job's run
#
# On the halves layout the order of two sounds can be read from the clip's edges, so that data never asks
# the temporal path for *when*; timed scenes (2 or 3 events at random onsets in 4 s, one of them moving)
# do. There the paths study's `P` hears order and motion where the SALM baseline does not, and so does
# `P` cut to {glue:text}`main_epochs` epochs to fit the main job's 6 minutes (the main study; the chapter
# {doc}`11_results`, Finding 6), on the soundfont's and the library's sounds with a class term (Finding
# 7), so it is also scored on two Debian packages it never heard (`heldout/*`). That is the `main`
# preset: `make train` (which builds the library first, once) trains it into `results/train/`,
# whose export `sclap_nb.api.load("results/train/model")` loads; `make train PRESET=default` trains the
# halves layout.

# %% tags=["hide-input"]
main_run = load_run("train")  # results/train: the main job's run (the `main` preset, seed 2025)
main, main_cfg = main_run.metrics, main_run.config
assert main_cfg.data.layout == "timed" and main_cfg.optim.epochs == 4, "results/train is not the main preset's run"
MAIN_ROWS = {"t2a/R@1": "T2A R@1", "order_acc": "order_acc (pos above neg_t and neg_c)", "motion_acc": "motion_acc (pos above neg_m)",
             "place_acc": "place_acc (pos above neg_s)"}
refs = tuple(OWN_TESTS)  # the reference scorers of timed corpora, and the tests each is built to pass
main_table = pd.DataFrame({**{lab: {name: main[f"{e}/{k}"] for k, name in MAIN_ROWS.items()} for e, lab in EMB.items()},
                           **{f"{r} (reference)": {name: main.get(f"reference/{r}/{k}", np.nan) for k, name in MAIN_ROWS.items()}
                              for r in refs}})  # fmt: skip
for e in EMB:
    for k in MAIN_ROWS:
        glue(f"main_{e}_{k.replace('/', '_').replace('@', '')}", main[f"{e}/{k}"], display=False)
glue("main_epochs", main_cfg.optim.epochs, display=False)
glue("main_steps", int(main["steps"]), display=False)
glue("main_total_s", main["total_seconds"], display=False)
glue("main_LE", main["LE_deg"], display=False)
for k in ("heldout/triplet/t2a/R@1", "heldout/triplet/zero_shot_acc", "heldout/sed/zero_shot_acc", "heldout/zero_shot_chance"):
    glue("main_" + k.replace("/", "_").replace("@", ""), main[k], display=False)
glue("main_heldout_classes", int(main["heldout/zero_shot_classes"]), display=False)
assert max(main[f"heldout/{e}/zero_shot_acc"] for e in ("sed", "joint", "triplet")) < 0.5  # the prose: goal missed
glue("main_ref_max", max(main[f"reference/{r}/{k}"] for r in refs for k in ("order_acc", "motion_acc", "place_acc")
                         if k not in OWN_TESTS[r]), display=False)  # off its own tests a one-cue scorer should be near chance
main_table.round(3)

# %% [markdown]
# On its own test split ({glue:text}`default_n_test` timed scenes in unseen rooms), after
# {glue:text}`main_steps` steps, the main job's triplet embedding puts pos above the wrong order in
# {glue:text}`main_triplet_order_acc:.3f` of the scenes (E_joint {glue:text}`main_joint_order_acc:.3f`;
# chance about 1/3) and above the reversed path in {glue:text}`main_triplet_motion_acc:.3f` (E_joint
# {glue:text}`main_joint_motion_acc:.3f`; chance 1/2), with a T2A R@1 of
# {glue:text}`main_triplet_t2a_R1:.3f` and a localisation error of {glue:text}`main_LE:.1f`°, in
# {glue:text}`main_total_s:.0f` s. One seed's numbers, under goals of 0.9; the main study's five seeds are
# the evidence. A one-cue reference scorer stays at or under {glue:text}`main_ref_max:.3f` off its own tests.
# Never-heard recordings: T2A R@1 {glue:text}`main_heldout_triplet_t2a_R1:.3f` on their scenes; one alone in a
# clip is named among {glue:text}`main_heldout_classes` classes in {glue:text}`main_heldout_triplet_zero_shot_acc:.3f`
# (semantic branch {glue:text}`main_heldout_sed_zero_shot_acc:.3f`; chance
# {glue:text}`main_heldout_zero_shot_chance:.3f`; goal 0.5: missed).
#
# ## Takeaway
#
# * The main job is two calls: `resolve` (the settings: a preset, a file, dotted names) and `run`
#   (corpus, training with checkpoints, the best checkpoint on the test split, the reference scorers,
#   `metrics.json` and the export). The stored page runs it with the quick preset as a smoke test; its
#   numbers are not results.
# * The default settings depart from the specification in four places (the 4-way group term at full
#   weight from the first epoch, the concatenated readout, the DOA head on each time half, the chunk
#   tokens' content standardised); the chapter {doc}`11_results` gives the evidence for each.
# * The committed default run learns to retrieve (T2A R@1 {glue:text}`test_triplet_t2a_R1:.2f` on the
#   test split), passes both 3-way tests, the localisation goal ({glue:text}`test_LE:.1f`°) and, with no
#   scene to spare, the order and place goals ({glue:text}`test_triplet_order_acc:.3f`), and misses the
#   modality goal ({glue:text}`test_probe:.3f`); its modality classifier guesses from epoch
#   {glue:text}`mod_late_from` on.
# * The triplet embedding and E_joint score alike on every test (at most
#   {glue:text}`test_emb_gap_max:.3f` apart on the metrics of the table).
#
# ## Exercises
#
# 1. **Read the tree.** Run `python -m sclap_nb.train --preset specification --print_config > spec.yaml`
#    and `python -m sclap_nb.train --preset default --print_config > default.yaml`, then `diff` the two files. Which
#    settings differ? Predict them from the four departures above before you look.
# 2. **A run of your own, headless.** Train the quick preset for 4 epochs instead of 2 with papermill:
#    `papermill notebooks/10_train.ipynb /tmp/q4.ipynb -y '{"settings": {"optim.epochs": 4}}'`. Will the
#    triplet embedding's T2A R@1 on the 18 test clips be higher than on the stored page? (On 18 clips one
#    clip is 0.056: say how large a change you would need to see before you believe it.)
# 3. **Refusal, not loss.** Run exercise 2 twice with the same `"runtime.out_dir": "runs/q4"`, then once
#    more with `"optim.epochs": 5`. What happens each time, and why is the last call refused rather than
#    trained into the same folder?
#
# ```{dropdown} Solutions
# 1. `model.temporal_readout` (concat / mean), `model.doa_pooling` (halves / joint),
#    `model.temporal_token_norm` (true / false), `loss.weights` (w_ts 1.0 / 0.2), `loss.ts_ramp` (0 / 4),
#    `loss.negatives` (neg_t, neg_s, neg_c / neg_t, neg_s) and `loss.triplet_contrastive` (true / false).
# 3. The second call finds a finished run with the same settings in `runs/q4` and resumes it (nothing
#    left to train); the third finds a run of other settings there and stops with a one-line error naming
#    the folder and the settings that differ: a finished run is never overwritten.
# ```
#
# ## References
#
# The model is SALM's spatial CLAP {cite:p}`hu2025salm` with the temporal additions of T-SALM
# {cite:p}`tsalm`, trained with the InfoNCE objective {cite:p}`oord2018cpc` of CLAP
# {cite:p}`elizalde2023clap` and a gradient reversal layer {cite:p}`ganin2015grl`.

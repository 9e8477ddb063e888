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
# This chapter reads the outputs of two runs and prints every number it talks about:
#
# * the **default training run** (`make train`: the training notebook with `fast=False`), whose
#   `metrics.json`, CSV log and figures are kept in `results/train/`;
# * the **ablation** (`make ablation`: {SALM baseline, +temporal, +3-way, +GRL, all} × seeds), whose
#   per-run table is kept in `results/ablation/table.csv`.
#
# The page reads `results/` only; `make publish` (`python -m sclap_nb.publish`) copies a finished
# default run and ablation from `runs/` into it when you decide they should replace the stored ones.

# %% tags=["parameters"]
fast = True  # nothing here trains: the page reads stored results either way
results_dir = "results"

# %%
import json
from pathlib import Path

import pandas as pd
from IPython.display import Markdown, display

from sclap_nb import viz
from sclap_nb.ablation import CONFIGS, summary_markdown

from sclap_nb.notebook import figures_dir

ROOT = Path.cwd() if (Path.cwd() / "sclap_nb").is_dir() else Path.cwd().parent
res = ROOT / results_dir
print(sorted(str(p.relative_to(res)) for p in res.rglob("*") if p.is_file() and p.parent.name != "runs"))

# %% [markdown]
# ## The default run
#
# The test split holds clips the model never heard, in rooms it never saw. Each metric is computed
# for both audio embeddings: `joint/…` is E_joint (the spatial-semantic embedding of SALM) and
# `triplet/…` the embedding of the temporal path. Retrieval runs over *every* test clip, negatives
# included, so a caption must find its clip among the same events in the wrong order and in the
# wrong places.

# %%
metrics = json.loads((res / "train" / "metrics.json").read_text())
table = pd.Series({k: v for k, v in metrics.items() if isinstance(v, (int, float))}, name="test").round(3)
table.to_frame()

# %%
goals = {
    "temporal 3-way accuracy >= 0.95": max(metrics["triplet/3way_temporal"], metrics["joint/3way_temporal"]),
    "spatial 3-way accuracy >= 0.95": max(metrics["triplet/3way_spatial"], metrics["joint/3way_spatial"]),
    "LE <= 10 deg": metrics["LE_deg"],
}
for goal, value in goals.items():
    print(f"{goal:36s} {value:.3f}")
print(f"training time: {metrics['train_seconds'] / 60:.1f} min, whole notebook {metrics['total_seconds'] / 60:.1f} min")

# %% [markdown]
# ```{figure} ../results/train/train_losses.png
# :name: results-losses
# Every loss component of the default run against the training step (thin: per step; thick: rolling mean).
# ```
#
# ```{figure} ../results/train/train_3way_acc.png
# :name: results-3way
# Temporal and spatial 3-way accuracies on the validation split after each epoch, for both audio embeddings.
# ```
#
# ```{figure} ../results/train/train_modality_acc.png
# :name: results-modality
# Accuracy of the modality classifier on the validation split; 0.5 means audio and text embeddings
# cannot be told apart.
# ```

# %% [markdown]
# Two things stand out in these curves. The 3-way loss stays near ln 3 (the three clips scored alike)
# until the contrastive loss has taught both encoders what the events are; only then do order and
# position become learnable, and both 3-way accuracies climb within a few epochs. And the modality
# classifier does not settle at its equilibrium: its loss collapses towards 0 (it wins), spikes when
# the reversed gradient catches up, and its accuracy swings between epochs — the behaviour the
# specification's debugging notes warn about, for which they suggest a smaller `w_mod` or `lambda`.
#
# ## Ablation
#
# Each configuration adds one piece to the SALM baseline (`+temporal`: the TemporalAudioEncoder;
# `+3-way`: the triplet loss, on E_joint since there is no temporal path; `+GRL`: the modality
# classifier); `all` has the four additions, the false-negative mask included. Mean ± standard
# deviation over seeds:

# %%
ablation = pd.read_csv(res / "ablation" / "table.csv")
print("epochs per run:", sorted(ablation["epochs"].unique()), " seeds:", sorted(ablation["seed"].unique()))
display(Markdown(summary_markdown(ablation)))

# %% [markdown]
# The stored ablation is smaller than the default run (the cell above prints its epochs and seeds; its
# corpus has 256 training scenes instead of 512), so it shows the early phase of training, before the
# turn that the default run's curves show. In that phase the 3-way loss is the addition that helps;
# `+temporal` alone equals the baseline, because without a loss on the triplet embedding its residual
# branch receives no gradient and the triplet embedding stays equal to E_joint.

# %%
key = "joint/t2a/R@1"
means = ablation.groupby("config")[key].mean().reindex(list(CONFIGS)).dropna()
best_triplet = ablation.groupby("config")["triplet/t2a/R@1"].mean() if "triplet/t2a/R@1" in ablation else None
print(means.round(3).to_string())
if "SALM baseline" in means and "all" in means:
    full = max(means["all"], best_triplet.get("all", 0.0) if best_triplet is not None else 0.0)
    print(f"all / baseline, T2A R@1: {full / means['SALM baseline']:.2f}x")

# %%
fig = viz.plot_ablation(ablation, ["joint/t2a/R@1", "joint/3way_temporal", "joint/3way_spatial", "triplet/3way_temporal", "triplet/3way_spatial"], order=list(CONFIGS))
_ = viz.save(fig, figures_dir(ROOT) / "08_ablation.png")

# %% [markdown]
# The figure above shows, per configuration, the mean over seeds (bars) and each seed (dots) of the
# retrieval and 3-way metrics; configurations without a temporal path have no `triplet/…` bars.

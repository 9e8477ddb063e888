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
# # The modality gap
#
# In CLIP-style models the audio (or image) embeddings and the text embeddings occupy two separate
# cones of the unit sphere: a linear probe tells them apart almost perfectly, even where retrieval works.
# The modality classifier behind a gradient reversal layer (previous chapter) is meant to close that
# gap. This chapter trains the same tiny model twice, with and without the classifier
# (`use_modality`), and looks at its embeddings: a 2-D UMAP map of both modalities, and the numbers of
# `sclap_nb.metrics.modality_gap` (distance between the two centroids, and the accuracy of a linear
# probe that tells audio from text; 0.5 = inseparable).

# %% tags=["parameters"]
fast = True  # quick setting: a tiny corpus and model, a few epochs
corpus_dir = None  # default: data/book-ch06-<sizes>-s<seed>
n_train, n_val, n_test = None, None, None  # scenes per split; quick 16, 8, 8; full 128, 32, 32
epochs = None  # quick 8; full 12
batch_size = None  # triplets per step; quick 4; full 16
seed = 2025
umap_neighbors = None  # quick 8; full 15

# %%
# a value passed in (papermill -p) always wins; the quick or full setting fills the rest
from sclap_nb.notebook import choose

n_train, n_val, n_test, epochs, batch_size, umap_neighbors = choose(
    fast, (n_train, n_val, n_test, epochs, batch_size, umap_neighbors), quick=(16, 8, 8, 8, 4, 8), full=(128, 32, 32, 12, 16, 15)
)
corpus_dir = corpus_dir or f"data/book-ch06-{n_train}-{n_val}-{n_test}-s{seed}"

# %% [markdown]
# ## Setup

# %%
import os
import tempfile

os.environ.setdefault("HF_HUB_OFFLINE", "1")
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import torch

from sclap_nb import viz, viz_book
from sclap_nb.notebook import figures_dir, record, setup_chapter
from sclap_nb.data import StClothoDataModule, ensure_corpus
from sclap_nb.features import FeatureConfig
from sclap_nb.metrics import modality_gap
from sclap_nb.train import TrainConfig, embed_split, fit

ROOT = setup_chapter(threads=1)  # small models: one thread is faster and gives the same numbers
FIG = figures_dir(ROOT)

# %% [markdown]
# ## Two tiny models
#
# Same corpus, seed, sizes and schedule; the only difference is the modality classifier with its GRL
# (λ = 1, weight 0.2 in the total loss).

# %%
root = ensure_corpus(ROOT / corpus_dir, n_train=n_train, n_val=n_val, n_test=n_test, seed=seed, progress=False)
dm = StClothoDataModule(root, batch_size=batch_size, features=FeatureConfig(), cache_dir=root / "cache", seed=seed)


def config(use_modality: bool) -> TrainConfig:
    return TrainConfig(
        out_dir=tempfile.mkdtemp(prefix="book-ch06-"), epochs=epochs, batch_size=batch_size, warmup_epochs=0,
        seed=seed, progress_bar=False,
        model=dict(dim=64, cnn_channels=(8, 16, 16, 32), temporal_heads=4, temporal_ff=128, use_modality=use_modality),
    )


# %% tags=["nbval-ignore-output"]
models = {}
for name, use_modality in (("with classifier", True), ("without classifier", False)):
    module, trainer = fit(config(use_modality), dm, resume=False)
    models[name] = module.model.eval()
    print(f"{name}: {trainer.current_epoch} epochs, {trainer.global_step} steps")

# %% [markdown]
# ## The numbers
#
# Embeddings of the validation and test clips (audio: the triplet embedding; text: the spatial caption).

# %%
dm.setup("validate")
dm.setup("test")
emb, gap = {}, {}
for name, model in models.items():
    parts = [embed_split(model, loader) for loader in (dm.val_dataloader(), dm.test_dataloader())]
    emb[name] = {k: torch.cat([p[k] for p in parts]) for k in ("e_triplet", "text_comb")}
    emb[name]["roles"] = [r for p in parts for r in p["roles"]]
    gap[name] = modality_gap(emb[name]["e_triplet"], emb[name]["text_comb"])
    audio_text_cos = (emb[name]["e_triplet"] * emb[name]["text_comb"]).sum(1).mean().item()
    t = name.replace(" ", "_")
    record(f"{t}_centroid_distance", gap[name]["centroid_distance"], tol=0.05, label=f"{name:18s}: centroid distance", fmt=".2f")
    record(f"{t}_probe_acc", gap[name]["probe_accuracy"], tol=0.05, label=f"{name:18s}: probe accuracy", fmt=".2f")
    record(f"{t}_cos_own_caption", audio_text_cos, tol=0.05, label=f"{name:18s}: mean cos(clip, own caption)", fmt=".2f")
print(f"{len(emb[name]['e_triplet'])} clips and captions per model")

# %% [markdown]
# The cell above prints, for each model, the distance between the audio and the text centroid, the
# cross-validated accuracy of a linear probe that tells audio from text, and the mean cosine between a
# clip and its own caption.
#
# ## The map
#
# UMAP (umap-learn, fixed `random_state`, cosine metric) of the audio and text embeddings of each model,
# fitted separately per model. Circles: positives, squares: `neg_t`, triangles: `neg_s`; blue: audio,
# red: text.

# %% tags=["nbval-ignore-output"]
import umap

fig, axes = plt.subplots(1, 2, figsize=(10, 4.4))
for ax, (name, e) in zip(axes, emb.items()):
    x = torch.cat([e["e_triplet"], e["text_comb"]]).numpy()
    modality = np.r_[np.zeros(len(e["e_triplet"])), np.ones(len(e["text_comb"]))]
    xy = umap.UMAP(n_neighbors=umap_neighbors, min_dist=0.3, metric="cosine", random_state=0).fit_transform(x)
    viz_book.plot_embedding_2d(ax, xy, modality, e["roles"] * 2,
                               f"{name}\nprobe acc {gap[name]['probe_accuracy']:.2f}, "
                               f"centroid dist {gap[name]['centroid_distance']:.2f}")
axes[1].legend(fontsize=7, loc="best")
fig.tight_layout()
viz.save(fig, FIG / "06_modality_gap_umap.png")
plt.show()

# %% [markdown]
# *Figure: UMAP maps of the audio (blue) and text (red) embeddings of the validation and test clips, for
# the model trained with the GRL modality classifier (left) and without it (right); the titles repeat
# the numbers printed above.* Two separate clouds are the modality gap; the probe accuracy printed above
# measures it without the distortions of a 2-D map (UMAP preserves neighbourhoods, not distances).
#
# A tiny model trained for a few epochs cannot show the final state of the full run; the *Training*
# chapter reports the modality classifier's accuracy of the full model, and the ablation compares
# `use_modality` on and off across seeds.

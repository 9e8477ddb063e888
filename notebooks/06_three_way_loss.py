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
# # The 3-way loss
#
# InfoNCE contrasts each clip with every other clip of the batch. Most of those are easy negatives:
# other sounds altogether. The 3-way loss $L_{ts}$ contrasts each positive only with its two hard
# negatives, the same events in the wrong order (`neg_t`) and in the wrong places (`neg_s`):
#
# $$L_{ts}^{t2a} = -\log \frac{e^{s\,\langle t^+, a^+\rangle}}{e^{s\,\langle t^+, a^+\rangle} + e^{s\,\langle t^+, a^{t}\rangle} + e^{s\,\langle t^+, a^{s}\rangle}}$$
#
# and symmetrically $L_{ts}^{a2t}$ for the positive clip against the three captions;
# $L_{ts} = (L^{t2a} + L^{a2t}) / 2$, with the logits clamped to ±50. This chapter checks the formula by
# hand, compares hard and in-batch negatives, shows the false-negative mask of InfoNCE and follows the
# 3-way accuracies through a short training.

# %% tags=["parameters"]
fast = True  # quick setting: a tiny corpus and model, a few epochs
corpus_dir = None  # default: data/book-ch05-<sizes>-s<seed>
n_train, n_val, n_test = None, None, None  # scenes per split; quick 16, 8, 8; full 128, 32, 32
epochs = None  # quick 8; full 12
batch_size = None  # triplets per step; quick 4; full 16
seed = 2025

# %%
# a value passed in (papermill -p) always wins; the quick or full setting fills the rest
from sclap_nb.notebook import choose

n_train, n_val, n_test, epochs, batch_size = choose(
    fast, (n_train, n_val, n_test, epochs, batch_size), quick=(16, 8, 8, 8, 4), full=(128, 32, 32, 12, 16)
)
corpus_dir = corpus_dir or f"data/book-ch05-{n_train}-{n_val}-{n_test}-s{seed}"

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
import torch.nn.functional as F
from torch.utils.data import DataLoader

from sclap_nb import viz, viz_book
from sclap_nb.notebook import figures_dir, record, setup_chapter
from sclap_nb.data import SPEC_ROLES, StClothoDataModule, collate_groups, ensure_corpus
from sclap_nb.features import FeatureConfig
from sclap_nb.losses import info_nce, same_caption_mask, three_way_loss
from sclap_nb.train import TrainConfig, embed_split, fit

ROOT = setup_chapter(threads=1)  # small models: one thread is faster and gives the same numbers
FIG = figures_dir(ROOT)

# %% [markdown]
# ## The formula by hand
#
# Two groups (6 rows) of random unit vectors in 8 dimensions, a logit scale of 10. The cell computes
# both directions with an explicit log-sum-exp in numpy and compares them with
# `sclap_nb.losses.three_way_loss`.

# %%
rng = np.random.default_rng(0)
a = rng.normal(size=(6, 8))
t = rng.normal(size=(6, 8))
a /= np.linalg.norm(a, axis=1, keepdims=True)
t /= np.linalg.norm(t, axis=1, keepdims=True)
scale = 10.0


def logsumexp(x):
    m = x.max()
    return m + np.log(np.exp(x - m).sum())


terms = []
for i in range(2):
    g = slice(3 * i, 3 * i + 3)
    t2a = np.clip(scale * a[g] @ t[3 * i], -50, 50)  # positive caption vs [pos, neg_t, neg_s] clips
    a2t = np.clip(scale * t[g] @ a[3 * i], -50, 50)  # positive clip vs the three captions
    terms.append(((logsumexp(t2a) - t2a[0]) + (logsumexp(a2t) - a2t[0])) / 2)
by_hand = float(np.mean(terms))
by_package = three_way_loss(torch.from_numpy(a), torch.from_numpy(t), scale).item()
print(f"by hand    {by_hand:.6f}\nby package {by_package:.6f}\nequal to 1e-12: {abs(by_hand - by_package) < 1e-12}")
print(f"chance level ln 3 = {np.log(3):.6f}")

# %% [markdown]
# ## A tiny trained model
#
# The rest of the chapter uses a tiny model trained for a few epochs on a tiny corpus (its CSV log goes
# to a temporary directory).

# %%
root = ensure_corpus(ROOT / corpus_dir, n_train=n_train, n_val=n_val, n_test=n_test, seed=seed, progress=False)
dm = StClothoDataModule(root, batch_size=batch_size, features=FeatureConfig(), cache_dir=root / "cache", seed=seed,
                        eval_roles=SPEC_ROLES)  # every split in triplets [pos, neg_t, neg_s]
cfg = TrainConfig(
    out_dir=tempfile.mkdtemp(prefix="book-ch05-"), epochs=epochs, batch_size=batch_size, warmup_epochs=0,
    seed=seed, progress_bar=False,
    model=dict(dim=64, cnn_channels=(8, 16, 16, 32), temporal_heads=4, temporal_ff=128),
)

# %% tags=["nbval-ignore-output"]
module, trainer = fit(cfg, dm, resume=False)
model = module.model.eval()
print(f"trained {trainer.current_epoch} epochs, {trainer.global_step} steps")

# %% [markdown]
# ## Hard negatives versus in-batch negatives
#
# For every training scene we compare two 3-way problems for the same positive caption $t_i$ and clip
# $a_i$:
#
# * **hard**: the scene's own `neg_t` and `neg_s` clips and captions (what $L_{ts}$ uses);
# * **in-batch**: the positives of two other, randomly chosen scenes with their captions (what InfoNCE
#   mostly sees).
#
# Both are fed to the same `three_way_loss`. We report the *margin* (the positive's logit minus the
# best negative's logit, caption-to-audio) and the norm of the gradient of the loss with respect to the
# group's audio embeddings. A small margin and a large gradient mean the negatives are hard: they still
# teach the model something.

# %%
train_loader = DataLoader(dm.dataset("train"), batch_size=batch_size, collate_fn=collate_groups)
emb = embed_split(model, train_loader)
audio, text = emb["e_triplet"], emb["text_comb"]
s = model.scale().item()
B = len(audio) // 3
perm = np.random.default_rng(seed)
others = np.stack([perm.choice([j for j in range(B) if j != i], 2, replace=False) for i in range(B)])
rows_hard = np.arange(3 * B)
rows_batch = np.stack([3 * np.arange(B), 3 * others[:, 0], 3 * others[:, 1]], 1).reshape(-1)


def margins_and_grads(rows):
    a = audio[rows].clone().requires_grad_()
    t = text[rows]
    loss = three_way_loss(a, t, s) * B  # sum over groups: each group's own gradient
    loss.backward()
    logits = s * torch.einsum("bd,bkd->bk", t.view(B, 3, -1)[:, 0], a.detach().view(B, 3, -1))
    margin = logits[:, 0] - logits[:, 1:].max(1).values
    return margin.numpy(), a.grad.view(B, 3, -1).norm(dim=(1, 2)).numpy(), loss.item() / B


m_hard, g_hard, l_hard = margins_and_grads(rows_hard)
m_batch, g_batch, l_batch = margins_and_grads(rows_batch)
# tolerances: the comparison is hard vs in-batch, whose margins differ by about 1.5 and losses by 0.5
print(f"{B} scenes")
record("logit_scale", s, tol=0.3, label="logit scale", fmt=".2f")
for kind, loss, m, g in (("hard", l_hard, m_hard, g_hard), ("inbatch", l_batch, m_batch, g_batch)):
    label = "hard negatives:    " if kind == "hard" else "in-batch negatives:"
    record(f"{kind}_loss", loss, tol=0.1, label=f"{label} loss")
    record(f"{kind}_margin", m.mean(), tol=0.3, label=f"{label} mean margin", fmt="+.3f")
    record(f"{kind}_grad_norm", g.mean(), tol=0.5, label=f"{label} mean grad norm")

# %%
fig = viz_book.plot_paired_hist({
    "logit margin (positive - best negative)": {"neg_t / neg_s": m_hard, "in-batch": m_batch},
    "gradient norm w.r.t. audio embeddings": {"neg_t / neg_s": g_hard, "in-batch": g_batch},
})
viz.save(fig, FIG / "05_hard_vs_inbatch.png")
plt.show()

# %% [markdown]
# *Figure: per training scene, the logit margin (left) and the gradient norm of the 3-way loss with
# respect to the group's audio embeddings (right), for the scene's own hard negatives and for two random
# in-batch negatives; dashed lines are the means printed above.* Which kind is harder depends on what
# the model has learnt. A trained CLAP separates other sounds easily, so in-batch negatives end up with
# large margins and small gradients, while `neg_t` and `neg_s`, which share the sounds, stay close to the
# positive; InfoNCE alone would then stop teaching order and position. This tiny model, trained for a few
# epochs with the 3-way term on exactly these scenes, is not there yet: the printed means say which of
# the two problems it currently finds harder. The 3-way loss keeps the hard negatives in every step,
# whatever the batch holds.
#
# ## False negatives in InfoNCE
#
# The contrastive terms run over all $3B$ clips of a batch. The positive and its spatial negative carry
# the **same plain caption** ("A, then B"): for the semantic term $L_{CL}$ (clip vs plain caption) the
# caption of `neg_s` is a true match of `pos`, not a negative. `same_caption_mask` marks such pairs, and
# `info_nce` removes them from the denominators. The mask of one training batch:

# %%
batch = next(iter(train_loader))
mask = same_caption_mask(batch["text"])
off_diag = int(mask.sum() - len(mask))
print(f"{len(mask)} clips, {off_diag} off-diagonal same-caption pairs in the plain captions, "
      f"{int(same_caption_mask(batch['text_comb']).sum() - len(mask))} in the spatial captions")
fig = viz_book.plot_mask(mask, batch["roles"], "same plain caption (off-diagonal = false negatives)")
viz.save(fig, FIG / "05_false_negative_mask.png")
plt.show()

# %% [markdown]
# *Figure: the same-caption mask of the plain captions of one batch; rows and columns are clips labelled
# by role.* Every `pos` pairs with the `neg_s` of its scene. The printed counts give the number of such
# pairs in the plain and in the spatial captions.
#
# What the mask changes: take a *perfect* model whose audio embedding of every clip equals the embedding
# of its plain caption (identical captions give identical embeddings). With a large logit scale its
# InfoNCE should be near zero. Without the mask, each `pos` sees the caption of `neg_s` as a negative
# scoring exactly as high as its own, so its loss cannot fall below ln 2 per affected direction; with the
# mask it can.

# %%
plain = F.normalize(torch.randn(len(dict.fromkeys(batch["text"])), 16, generator=torch.Generator().manual_seed(0)), dim=-1)
index = {c: i for i, c in enumerate(dict.fromkeys(batch["text"]))}
perfect_text = plain[[index[c] for c in batch["text"]]]
perfect_audio = perfect_text.clone()
for name, m in (("without mask", None), ("with mask", mask)):
    print(f"perfect model, {name:12s}: InfoNCE {info_nce(perfect_audio, perfect_text, 100.0, m).item():.3f}")
print(f"ln 2 = {np.log(2):.3f}; share of rows with a false negative: {(mask.sum(1) > 1).float().mean().item():.3f}")

# %% [markdown]
# The printed values compare the loss of the perfect model with and without the mask (and ln 2 times the
# share of affected rows is the floor of the unmasked loss). Without the mask the gradient of that floor
# pushes the positive clip away from its own, correct plain caption; with the mask the term only
# contrasts true negatives. On the tiny trained model the two versions of $L_{CL}$ differ as printed
# below.

# %%
with torch.no_grad():
    out = model(batch)
    for name, m in (("without mask", None), ("with mask", mask)):
        record(f"lcl_{name.replace(' ', '_')}", info_nce(out.e_sed, out.text, out.logit_scale, m), tol=0.05,
               label=f"trained model, L_CL {name:12s}", why="the two differ by 0.18")

# %% [markdown]
# ## 3-way accuracies during training
#
# The temporal accuracy counts how often the positive caption scores the positive clip above `neg_t`,
# the spatial accuracy above `neg_s` (chance 0.5 each), on the validation split after each epoch, for
# the triplet embedding and for E_joint. The curves come from the run's CSV log
# (`sclap_nb.viz.plot_epoch_metrics`).

# %%
keys = {"triplet/3way_temporal": "temporal (triplet emb.)", "triplet/3way_spatial": "spatial (triplet emb.)",
        "joint/3way_temporal": "temporal (E_joint)", "joint/3way_spatial": "spatial (E_joint)"}
fig = viz.plot_epoch_metrics(cfg.out_dir, keys, "3-way accuracy (val)", hline=0.5, ylim=(0, 1.05))
viz.save(fig, FIG / "05_three_way_accuracy.png")
plt.show()
ep = viz.epoch_frame(cfg.out_dir)
print("epochs", ep["epoch"].tolist())
for k, label in keys.items():  # 8 validation scenes: 0.25 is two of them
    record(k.replace("/", "_"), ep[k].tolist(), tol=0.25, fmt=".3f", label=f"{label:24s}", why="two of 8 scenes")

# %% [markdown]
# *Figure: the temporal and spatial 3-way accuracies on the validation scenes after each epoch
# (dashed: chance).* The table above gives the same values. With 8 validation scenes each accuracy moves
# in steps of 1/8, and a few epochs of a tiny model are far from the full run of the *Training* chapter;
# the point here is where the numbers come from.

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
# ![The model, with the part this chapter is about in colour](../figures/model_three_way.png)
#
# *Run this chapter yourself:* in a clone of the repository, `make setup` once, then `make lab`; in
# JupyterLab open `notebooks/06_three_way_loss.py`, which opens as a notebook with the outputs stored in
# `06_three_way_loss.ipynb`. Headless, with other parameters: `mkdir -p runs && papermill
# notebooks/06_three_way_loss.ipynb runs/06_three_way_loss.ipynb -p epochs 20`. In JupyterLab a citation shows as its key
# (`tsalm`); the works are listed under *References* at the end.
#
# **What you will learn here:**
#
# * the 3-way loss $L_{ts}$ of the specification, written out and checked by hand against
#   `sclap_nb.losses.three_way_loss`;
# * why a scene's own negatives (the same sounds in the wrong order, `neg_t`, and in the wrong places,
#   `neg_s`) are harder than the other clips of a batch, measured by the margin and the gradient they
#   give a tiny trained model;
# * the false negatives of a batch-wide InfoNCE (clips whose plain captions are identical) and the mask
#   that removes them;
# * where the 3-way accuracies of the validation split come from, and how little a handful of scenes says.
#
# The contrastive loss of CLAP {cite:p}`elizalde2023clap,wu2023laionclap` is InfoNCE
# {cite:p}`oord2018cpc`, made symmetric as in CLIP {cite:p}`radford2021clip`: each clip is contrasted
# with every caption of the batch and each caption with every clip. Most of those negatives are easy:
# other sounds altogether, told apart by *what* sounds and nothing else. A model trained only on them
# can score well and still treat a caption as a bag of words, blind to the order of its parts
# {cite:p}`yuksekgonul2023bow`. The 3-way loss of the specification {cite:p}`tsalm` contrasts each
# positive only with its two hard negatives, in the spirit of hard-negative mining for metric learning
# {cite:p}`schroff2015facenet`:
#
# $$L_{ts}^{t2a} = -\log \frac{e^{s\,\langle t^+, a^+\rangle}}{e^{s\,\langle t^+, a^+\rangle} + e^{s\,\langle t^+, a^{t}\rangle} + e^{s\,\langle t^+, a^{s}\rangle}}$$
#
# and symmetrically $L_{ts}^{a2t}$ for the positive clip $a^+$ against the three captions;
# $L_{ts} = (L_{ts}^{t2a} + L_{ts}^{a2t}) / 2$, with the logits $s\,\langle\cdot,\cdot\rangle$ clamped to
# ±50 so that low precision cannot overflow. Here $s$ is the learned logit scale, $t^+$ the positive's
# spatial caption embedding, and $a^+, a^t, a^s$ the triplet embeddings of `pos`, `neg_t` and `neg_s`.
# A model that cannot tell the three clips apart scores $\ln 3$.

# %% tags=["parameters"]
fast = True  # quick setting: a tiny corpus and model, a few epochs
corpus_dir = None  # default: data/book-threeway-<sizes>-s<seed>
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
corpus_dir = corpus_dir or f"data/book-threeway-{n_train}-{n_val}-{n_test}-s{seed}"

# %% [markdown]
# ## Setup

# %%
import os

os.environ.setdefault("HF_HUB_OFFLINE", "1")

import matplotlib.pyplot as plt
import numpy as np
import torch
import torch.nn.functional as F
from sclap_nb.notebook import glue
from torch.utils.data import DataLoader

from sclap_nb import viz
from sclap_nb.data import SPEC_ROLES, collate_groups
from sclap_nb.losses import info_nce, same_caption_mask, three_way_loss
from sclap_nb.notebook import figures_dir, record, setup_chapter
from sclap_nb.evaluation import embed_split
from sclap_nb.run import small_config, small_data, small_run

ROOT = setup_chapter(threads=1)  # small models: one thread is faster and gives the same numbers
FIG = figures_dir(ROOT)

# %% [markdown]
# ## The formula by hand
#
# Two groups (6 rows) of random unit vectors in 8 dimensions and a logit scale of 10. The cell computes
# both directions with an explicit log-sum-exp in numpy and compares the result with
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
glue("by_hand", by_hand, display=False)
glue("ln3", float(np.log(3)), display=False)

# %% [markdown]
# The package and the formula agree to within $10^{-12}$: both give {glue:text}`by_hand:.6f`. That is
# far above $\ln 3$ = {glue:text}`ln3:.4f`, the loss of a
# model that scores the three clips alike: random vectors at a scale of 10 often rank a negative first.
#
# ## A tiny trained model
#
# The rest of the chapter uses a tiny model trained for a few epochs on a tiny corpus, with the full
# loss of the specification (its CSV log goes to a temporary directory). Every split comes in the
# specification's groups `[pos, neg_t, neg_s]`.

# %%
cfg = small_config(epochs, batch_size, seed)  # the specification's model and loss, tiny sizes
dm = small_data(cfg, corpus_dir, n_train, n_val, n_test, eval_roles=SPEC_ROLES, root=ROOT)  # splits in [pos, neg_t, neg_s]

# %% tags=["nbval-ignore-output"]
module, trainer = small_run(cfg, dm)
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
# Both go through the same `three_way_loss`. For each we report the loss, the *margin* (the positive's
# logit minus the best negative's logit, caption to audio) and the norm of the gradient of the loss
# with respect to the group's audio embeddings. A small margin and a large gradient mean the negatives
# are hard: they still teach the model something.

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
glue("n_scenes", B, display=False)
record("logit_scale", s, tol=0.3, label="logit scale", fmt=".2f")
for kind, loss, m, g in (("hard", l_hard, m_hard, g_hard), ("inbatch", l_batch, m_batch, g_batch)):
    label = "hard negatives:    " if kind == "hard" else "in-batch negatives:"
    record(f"{kind}_loss", loss, tol=0.1, label=f"{label} loss")
    record(f"{kind}_margin", m.mean(), tol=0.3, label=f"{label} mean margin", fmt="+.3f")
    record(f"{kind}_grad_norm", g.mean(), tol=0.5, label=f"{label} mean grad norm")
_ = record("hard_share_smaller_margin", (m_hard < m_batch).mean(), tol=0.2, fmt=".3f",
           label="share of scenes whose hard margin is below their in-batch margin", why="most scenes either way")

# %% [markdown]
# The scene's own negatives are the harder problem for this model. With them the mean margin is
# {glue:text}`hard_margin:+.2f` (close to zero: the positive and its best negative score almost
# alike), against {glue:text}`inbatch_margin:+.2f` with two in-batch negatives; the loss is {glue:text}`hard_loss:.2f`
# against {glue:text}`inbatch_loss:.2f` (chance, $\ln 3$, is {glue:text}`ln3:.2f`), and the gradient
# norm {glue:text}`hard_grad_norm:.2f` against {glue:text}`inbatch_grad_norm:.2f`. In
# {glue:text}`hard_share_smaller_margin:.0%` of the {glue:text}`n_scenes` training scenes the hard
# margin is the smaller one. {numref}`fig-06-hard-vs-inbatch` shows the spread over scenes.
#
# This is what the 3-way loss is for. After a few epochs the model already separates other sounds,
# so in-batch negatives give large margins and small gradients, while `neg_t` and `neg_s`, which share
# the sounds, stay close to the positive. A batch-wide InfoNCE sees these hard negatives only when the
# batch holds the scene's other clips (as this book's batches of groups do), and then as 2 of the
# $3B - 1$ negatives of each positive; with batches of unrelated clips, as in CLAP, it never sees them.
# The 3-way loss contrasts each positive with exactly its two hard negatives in every step, whatever
# the batch holds.

# %%
fig = viz.plot_paired_hist(
    {
        "logit margin (positive - best negative)": {"neg_t / neg_s": m_hard, "in-batch": m_batch},
        "gradient norm w.r.t. the group's audio embeddings": {"neg_t / neg_s": g_hard, "in-batch": g_batch},
    },
    colors={"neg_t / neg_s": viz.ROLE_PALETTE["neg_t"], "in-batch": "gray"},
    ylabel="training scenes",
)
viz.save(fig, FIG / "06_hard_vs_inbatch.png")
plt.close(fig)

# %% [markdown]
# ```{figure} ../figures/06_hard_vs_inbatch.png
# :name: fig-06-hard-vs-inbatch
# Per training scene, the logit margin (left) and the gradient norm of the 3-way loss with respect to
# the group's audio embeddings (right), for the scene's own hard negatives and for two random in-batch
# negatives; dashed lines are the means.
# ```
#
# ## False negatives in InfoNCE
#
# The contrastive terms run over all $3B$ clips of a batch. The positive and its spatial negative carry
# the **same plain caption** ("A, then B"): for the semantic term $L_{CL}$ (clip against plain caption)
# the caption of `neg_s` is a true match of `pos`, not a negative, and the original code counted it as
# one. `same_caption_mask` marks such pairs, and `info_nce` removes them from the denominators. The mask
# of one training batch:

# %%
batch = next(iter(train_loader))
mask = same_caption_mask(batch["text"])
off_diag = int(mask.sum() - len(mask))
off_diag_spatial = int(same_caption_mask(batch["text_comb"]).sum() - len(mask))
print(f"{len(mask)} clips, {off_diag} off-diagonal same-caption pairs in the plain captions, "
      f"{off_diag_spatial} in the spatial captions")
glue("batch_clips", len(mask), display=False)
glue("fn_pairs", off_diag, display=False)
glue("fn_pairs_spatial", off_diag_spatial, display=False)
fig = viz.plot_mask(mask, batch["roles"], "same plain caption (off-diagonal = false negatives)")
viz.save(fig, FIG / "06_false_negative_mask.png")
plt.close(fig)

# %% [markdown]
# ```{figure} ../figures/06_false_negative_mask.png
# :name: fig-06-false-negative-mask
# The same-caption mask of the plain captions of one training batch; rows and columns are its clips,
# labelled (and coloured) by role. A dark cell off the diagonal: a pair of clips with the identical plain
# caption, a false negative for InfoNCE.
# ```
#
# The batch of {glue:text}`batch_clips` clips holds {glue:text}`fn_pairs` off-diagonal same-caption
# pairs in its plain captions, each `pos` with the `neg_s` of its scene and back
# ({numref}`fig-06-false-negative-mask`), and {glue:text}`fn_pairs_spatial` in its spatial captions,
# which name the places and so differ.
#
# What the mask changes: take a *perfect* model whose audio embedding of every clip equals the embedding
# of its plain caption (identical captions give identical embeddings). With a large logit scale its
# InfoNCE should be near zero. Without the mask, each `pos` sees the caption of `neg_s` as a negative
# that scores exactly as high as its own, in both directions, so each affected row costs at least
# $\ln 2$; with the mask nothing is left to pay.

# %%
plain = F.normalize(torch.randn(len(dict.fromkeys(batch["text"])), 16, generator=torch.Generator().manual_seed(0)), dim=-1)
index = {c: i for i, c in enumerate(dict.fromkeys(batch["text"]))}
perfect_text = plain[[index[c] for c in batch["text"]]]
perfect_audio = perfect_text.clone()
perfect = {}
for name, m in (("without mask", None), ("with mask", mask)):
    perfect[name] = info_nce(perfect_audio, perfect_text, 100.0, m).item()
    print(f"perfect model, {name:12s}: InfoNCE {perfect[name]:.3f}")
share = (mask.sum(1) > 1).float().mean().item()
print(f"ln 2 = {np.log(2):.3f}; share of rows with a false negative: {share:.3f}; product {share * np.log(2):.3f}")
glue("perfect_unmasked", perfect["without mask"], display=False)
glue("perfect_masked", perfect["with mask"], display=False)
glue("fn_share", share, display=False)

# %% [markdown]
# The perfect model scores {glue:text}`perfect_unmasked:.3f` without the mask and
# {glue:text}`perfect_masked:.3f` with it. The first value is $\ln 2$ times the share of rows with a
# false negative ({glue:text}`fn_share:.3f`): a floor that no model can go below, and whose gradient
# pushes each positive clip away from its own, correct plain caption. With the mask the term contrasts
# true negatives only. On the tiny trained model the two versions of $L_{CL}$ of this batch differ too:

# %%
with torch.no_grad():
    out = model(batch)
    for name, m in (("without mask", None), ("with mask", mask)):
        record(f"lcl_{name.replace(' ', '_')}", info_nce(out.e_sed, out.text, out.logit_scale, m), tol=0.05,
               label=f"trained model, L_CL {name:12s}", why="the two differ by 0.18")

# %% [markdown]
# Without the mask $L_{CL}$ is {glue:text}`lcl_without_mask:.2f`, with it {glue:text}`lcl_with_mask:.2f`:
# the difference comes from the true matches that the unmasked loss counts as negatives.
#
# ## 3-way accuracies during training
#
# The temporal 3-way accuracy counts how often the positive caption scores the positive clip above
# `neg_t`, the spatial one above `neg_s` (chance 0.5 each; the metrics glossary of the introduction
# defines them). The run computes both on the validation split after each epoch, for the triplet
# embedding and for E_joint, and logs them to its CSV file, which `sclap_nb.viz.epoch_frame` reads
# back.

# %%
ep = viz.epoch_frame(trainer.logger.save_dir)
n_val = len(dm.dataset("val"))
glue("n_val_scenes", n_val, display=False)
glue("val_step", 1 / n_val, display=False)
keys = {"triplet/3way_temporal": "temporal (triplet emb.)", "triplet/3way_spatial": "spatial (triplet emb.)",
        "joint/3way_temporal": "temporal (E_joint)", "joint/3way_spatial": "spatial (E_joint)"}
print("epochs", ep["epoch"].tolist())
for k, label in keys.items():  # 8 validation scenes in the quick setting: 0.25 is two of them
    record(k.replace("/", "_"), ep[k].tolist(), tol=0.25, fmt=".3f", label=f"{label:24s}", why="two of 8 scenes")
values = ep[list(keys)].to_numpy()
record("val_3way_min", values.min(), tol=0.25, fmt=".3f", label="lowest of the four, any epoch ", why="two of 8 scenes")
record("val_3way_max", values.max(), tol=0.25, fmt=".3f", label="highest of the four, any epoch", why="two of 8 scenes")
steps = viz.step_frame(trainer.logger.save_dir)
per_epoch = len(steps) // len(ep)
record("ts_loss_first_epoch", steps["loss_ts"][:per_epoch].mean(), tol=0.05, fmt=".3f",
       label="training L_ts, mean of the first epoch", why="a fall of 0.15 to the last epoch")
_ = record("ts_loss_last_epoch", steps["loss_ts"][-per_epoch:].mean(), tol=0.05, fmt=".3f",
           label="training L_ts, mean of the last epoch ", why="a fall of 0.15 from the first epoch")

# %%
fig, axes = plt.subplots(1, 2, figsize=(9.6, 3.4), sharey=True)
for ax, test in zip(axes, ("temporal", "spatial")):
    series = {name: ep[f"{prefix}/3way_{test}"] for prefix, name in (("joint", "E_joint"), ("triplet", "triplet emb."))}
    viz.plot_curves(ep["epoch"], series, "epoch", "3-way accuracy (validation)" if test == "temporal" else "",
                    hlines={"chance": 0.5}, ax=ax, ylim=(0, 1.05), title=f"{test}: pos above neg_{test[0]}", marker="o",
                    colors={"E_joint": viz.EMBEDDING_PALETTE["joint"], "triplet emb.": viz.EMBEDDING_PALETTE["triplet"]})
fig.tight_layout()
viz.save(fig, FIG / "06_three_way_accuracy.png")
plt.close(fig)

# %% [markdown]
# ```{figure} ../figures/06_three_way_accuracy.png
# :name: fig-06-three-way-accuracy
# The temporal (left) and spatial (right) 3-way accuracies on the validation scenes after each epoch,
# for E_joint and the triplet embedding (dashed: chance). With {glue:text}`n_val_scenes` scenes each
# value moves in steps of {glue:text}`val_step:.3f`.
# ```
#
# The tiny model learns the 3-way task only a little, and nothing of it shows on unseen scenes. Its
# training $L_{ts}$ falls from {glue:text}`ts_loss_first_epoch:.2f` in the first epoch to
# {glue:text}`ts_loss_last_epoch:.2f` in the last ($\ln 3$ = {glue:text}`ln3:.2f`), while on the
# validation scenes the four accuracies stay between {glue:text}`val_3way_min:.3f` and
# {glue:text}`val_3way_max:.3f` over all epochs ({numref}`fig-06-three-way-accuracy`): around chance,
# within two scenes of it. {glue:text}`n_val_scenes` scenes and a few epochs cannot show more; the
# full run of {doc}`10_train` and the results chapter, {doc}`11_results`, evaluate the 3-way
# accuracies on the 128 test scenes of the default corpus.
#
# ## Takeaway
#
# * $L_{ts}$ is a 3-way cross-entropy, in both directions, between a positive and its own two hard
#   negatives; `three_way_loss` matches the formula to machine precision.
# * A scene's own `neg_t` and `neg_s` give a small margin and a large gradient when the other clips of
#   the batch are already easy: they keep teaching order and place after the in-batch negatives stop.
# * A batch-wide InfoNCE over the plain captions counts `pos` and `neg_s` of a scene as negatives of
#   each other though their captions are identical; the mask removes that floor of $\ln 2$ per
#   affected row.
# * On a handful of validation scenes a tiny model's 3-way accuracies stay near chance; the
#   measurement that counts is the full run's, on the test split.
#
# ## Exercises
#
# 1. **Chance and margin.** (a) Why does a model that gives `pos`, `neg_t` and `neg_s` the same
#    similarity to the caption score $L_{ts}^{t2a} = \ln 3$? (b) If the positive's cosine to the caption
#    exceeds each negative's by $\Delta$, how large must $\Delta$ be for $L_{ts}^{t2a} \le 0.1$ nats at
#    the initial logit scale $s = 1/0.07$?
#
#    :::{dropdown} Solution
#    (a) Equal logits make the softmax $\tfrac13$ for each clip, and $-\ln \tfrac13 = \ln 3$ (with
#    `neg_c` in the group, $\ln 4$). (b) $L_{ts}^{t2a} = \ln(1 + 2 e^{-s\Delta}) \le 0.1$ holds when
#    $s\Delta \ge \ln\frac{2}{e^{0.1} - 1} = 2.95$, that is $\Delta \ge 0.21$ at $s = 14.3$.
#    :::
#
# 2. **Counting false negatives.** A batch holds $B$ scenes as groups `[pos, neg_t, neg_s]`, and no two
#    scenes play the same two sounds in the same order. How many entries off the diagonal of
#    `same_caption_mask` over the plain captions are `True`? And with groups of four (`neg_c` added)?
#
#    :::{dropdown} Solution
#    `pos` and `neg_s` share the plain caption "A, then B"; `neg_t`'s "B, then A" is its own. Each scene
#    adds the pair in both orders: $2B$ entries. With `neg_c`, which shares "B, then A" with `neg_t`, each
#    scene adds a second pair: $4B$.
#    :::
#
# 3. **Train longer.** `papermill notebooks/06_three_way_loss.ipynb runs/06_three_way_loss.ipynb -p
#    epochs 20`: predict whether the validation 3-way accuracies still say anything at the end of the run
#    (how many scenes decide them?), and what happens to the margin of the hard negatives.
#
# ## References
#
# InfoNCE {cite:p}`oord2018cpc`; the symmetric image–text form of CLIP {cite:p}`radford2021clip` and
# its audio–text versions {cite:p}`elizalde2023clap,wu2023laionclap`; order-blind, bag-of-words
# behaviour of contrastive models {cite:p}`yuksekgonul2023bow`; hard negatives {cite:p}`schroff2015facenet`;
# the 3-way loss and the false-negative problem of the original code {cite:p}`tsalm`.
#
# % In JupyterLab a citation shows as its key; the works cited in this chapter:
#
# % `elizalde2023clap`: Elizalde et al. (2023). CLAP: Learning Audio Concepts from Natural Language Supervision. IEEE International Conference on Acoustics, Speech and Signal Processing (ICASSP).
#
# % `wu2023laionclap`: Wu et al. (2023). Large-Scale Contrastive Language-Audio Pretraining with Feature Fusion and Keyword-to-Caption Augmentation. IEEE International Conference on Acoustics, Speech and Signal Processing (ICASSP).
#
# % `oord2018cpc`: van den Oord et al. (2018). Representation Learning with Contrastive Predictive Coding. arXiv preprint arXiv:1807.03748.
#
# % `radford2021clip`: Radford et al. (2021). Learning Transferable Visual Models From Natural Language Supervision. International Conference on Machine Learning (ICML).
#
# % `yuksekgonul2023bow`: Yuksekgonul et al. (2023). When and Why Vision-Language Models Behave like Bags-of-Words, and What to Do About It?. International Conference on Learning Representations (ICLR).
#
# % `tsalm`: Cell778 (2025). T-SALM: temporal extension of the spatial audio language model (code and stClotho data layout). https://github.com/Cell778/T-SALM.
#
# % `schroff2015facenet`: Schroff et al. (2015). FaceNet: A Unified Embedding for Face Recognition and Clustering. IEEE Conference on Computer Vision and Pattern Recognition (CVPR).

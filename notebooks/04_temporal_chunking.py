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
# # Temporal chunking
#
# ![The model, with the part this chapter is about in colour](../figures/model_temporal.png)
#
# *Run this chapter yourself:* in a clone of the repository, `make setup` once, then `make lab`; in
# JupyterLab open `notebooks/04_temporal_chunking.py`, which opens as a notebook with the outputs stored in
# `04_temporal_chunking.ipynb`. Headless, with other parameters: `mkdir -p runs && papermill
# notebooks/04_temporal_chunking.ipynb runs/04_temporal_chunking.ipynb -p epochs 30`. In JupyterLab a citation shows as its key
# (`vaswani2017attention`); the works are listed under *References* at the end.
#
# **What you will learn here:**
#
# * why an embedding pooled over time is almost blind to the order of two sounds, and what still
#   carries a little order into it;
# * how the `TemporalAudioEncoder` cuts the feature maps along the **time** axis into chunks, turns
#   each chunk into a token with a position, and reads the tokens with a Transformer;
# * the bug of the original code (it chunked the frequency axis of an HTS-AT map and got NaN), and
#   the error that replaces it;
# * how far a short training moves the temporal embedding of a clip away from its order-swapped twin,
#   compared with the pooled embedding, and what that distance does *not* prove.
#
# The base model, SALM's dual-branch spatial CLAP {cite:p}`hu2025salm`, pools each audio branch's
# feature map over time and frequency into one vector. A mean over time does not change when the
# frames come in another order, so such a summary barely tells "A, then B" from "B, then A": only
# what crosses the middle of the clip (the convolutions' receptive field, the reverberation of the
# first sound running into the second half) and the clip's edges leave a trace of the order. The
# specification of this book's model {cite:p}`tsalm` adds a `TemporalAudioEncoder` that keeps the order
# on purpose. It cuts each branch's feature map into a few chunks along the time axis, averages each
# chunk into one token, adds a learned positional embedding per chunk, and lets a small Transformer
# {cite:p}`vaswani2017attention` read the tokens in order.
#
# The chapter follows the shapes through the encoders, shows the chunk tokens, reproduces the bug of
# the original code, and then measures how the pooled and the temporal embedding respond when the two
# events of a scene swap places.

# %% tags=["parameters"]
fast = True  # quick setting: a tiny corpus and model, a few epochs
corpus_dir = None  # default: data/book-chunking-<sizes>-s<seed>
n_train, n_val, n_test = None, None, None  # scenes per split; quick 16, 8, 8; full 128, 32, 32
epochs = None  # quick 15; full 20
batch_size = None  # triplets per step; quick 4; full 16
seed = 2025

# %%
# a value passed in (papermill -p) always wins; the quick or full setting fills the rest
from sclap_nb.notebook import choose

n_train, n_val, n_test, epochs, batch_size = choose(
    fast, (n_train, n_val, n_test, epochs, batch_size), quick=(16, 8, 8, 15, 4), full=(128, 32, 32, 20, 16)
)
corpus_dir = corpus_dir or f"data/book-chunking-{n_train}-{n_val}-{n_test}-s{seed}"

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
from sclap_nb.features import FeatureConfig, FOAFeatures
from sclap_nb.model import ConvEncoder, SpatialTemporalCLAP, TemporalAudioEncoder
from sclap_nb.notebook import figures_dir, record, setup_chapter
from sclap_nb.run import small_config, small_data, small_run
from sclap_nb.training import SCLAPModule

ROOT = setup_chapter(threads=1)  # small models: one thread is faster and gives the same numbers
FIG = figures_dir(ROOT)

# %% [markdown]
# ## Shapes through the CNN branches
#
# Axis order everywhere: `(B, C, T, F)`, that is batch, channels, time frames, frequency bands. A 2 s
# clip at 16 kHz with a hop of 160 samples becomes a log-mel with one frame every 10 ms. Each stage of
# `ConvEncoder` is a 3 × 3 convolution, batch normalisation, ReLU and average pooling; the pools halve
# the time axis in the first three stages and the frequency axis in all four. The cell prints the shape
# after every stage of both branches, with the default channel widths.

# %%
torch.manual_seed(seed)
feats = FOAFeatures(FeatureConfig())
wave = torch.randn(2, 4, 32000) * 0.1  # two 2 s clips of noise, 4 FOA channels at 16 kHz
logmel, logmeliv = feats(wave)
for name, enc, x in (("semantic (W log-mel)", ConvEncoder(1), logmel), ("spatial (logmelIV)", ConvEncoder(7), logmeliv)):
    print(f"{name}: input {tuple(x.shape)}")
    h = enc.input_norm(x)
    for i, stage in enumerate(enc.stages):
        h = stage(h)
        print(f"  after stage {i}: {tuple(h.shape)}")
    latent, fmap = enc(x)
    print(f"  latent {tuple(latent.shape)}, feature map {tuple(fmap.shape)}  (time reduced x{enc.time_reduction})")
glue("in_frames", logmel.shape[2], display=False)
glue("in_mels", logmel.shape[3], display=False)
glue("map_frames", fmap.shape[2], display=False)
glue("map_bands", fmap.shape[3], display=False)
glue("map_channels", fmap.shape[1], display=False)
time_reduction = enc.time_reduction
glue("time_reduction", time_reduction, display=False)

# %% [markdown]
# The input has {glue:text}`in_frames` frames of {glue:text}`in_mels` mel bands; both branches end in
# a feature map of {glue:text}`map_channels` channels, {glue:text}`map_frames` time frames (time
# reduced {glue:text}`time_reduction` times) and {glue:text}`map_bands` frequency bands. The semantic
# branch reads one channel (the log-mel of the omnidirectional W), the spatial branch seven (four
# log-mels and three intensity vectors). The *latent* that the base model projects into E_joint is
# `ConvEncoder`'s pooled summary of this map: the mean over frequency, then the mean plus the maximum
# over time. Both are unchanged by any reordering of the time frames; the order survives only inside
# the map.
#
# ## The chunk tokens
#
# `TemporalAudioEncoder.chunk` splits axis 2 (time) of a feature map into `n_chunks` (default 4)
# near-equal parts with `torch.tensor_split` and averages each over time and frequency, so
# `(B, C, T, F)` becomes `(B, 4, C)`. `tokens` projects the chunks of both branches with one shared
# linear layer, adds them (the spatial one scaled by the fusion weight $w$ of E_joint) and adds a
# learned positional embedding per chunk, giving `(B, 4, D)`:
#
# $$\text{token}_k = P(\bar{s}_k) + w \odot P(\bar{d}_k) + p_k, \qquad k = 0, \dots, 3,$$
#
# where $\bar{s}_k$ and $\bar{d}_k$ are the chunk means of the semantic and the spatial map. A
# two-layer Transformer encoder reads the four tokens, a LayerNorm and a mean over the tokens follow,
# and an MLP gives the temporal embedding. Since the tokens are averaged after the Transformer, the
# order reaches the output only through the positional embeddings $p_k$. The cell prints which frames
# land in which chunk of the {glue:text}`map_frames`-frame map, and the shapes on the way.

# %%
temporal = TemporalAudioEncoder(dim=64, in_channels=128, n_chunks=4, heads=4, ff=128)
_, sed_map = ConvEncoder(1)(logmel)
_, doa_map = ConvEncoder(7)(logmeliv)
sizes = [c.shape[2] for c in torch.tensor_split(sed_map, 4, dim=2)]
bounds = np.cumsum([0] + sizes)
print("frames per chunk:", [f"{a}-{b - 1}" for a, b in zip(bounds[:-1], bounds[1:])])
print("chunk means :", tuple(temporal.chunk(sed_map).shape))
print("tokens      :", tuple(temporal.tokens(sed_map, doa_map).shape))
print("temporal emb:", tuple(temporal(sed_map, doa_map).shape))
glue("chunk_first", sizes[0], display=False)
glue("chunk_rest", sizes[-1], display=False)
glue("chunk_ms", sizes[-1] * time_reduction * 10, display=False)  # 10 ms a frame

# %% [markdown]
# The first chunk holds {glue:text}`chunk_first` frames and the others {glue:text}`chunk_rest` each:
# a chunk covers about {glue:text}`chunk_ms` ms of the clip. The two events of a scene fill one half
# of the clip each, so chunks 0 and 1 hear the first event and chunks 2 and 3 the second.
#
# ## Chunking the wrong axis
#
# The original code took `shape[2]` as time. Its audio encoder, HTS-AT {cite:p}`chen2022htsat`, returns
# maps shaped `(B, C, F=2, T=32)`: axis 2 is frequency, of size 2. Cut into four parts, a size-2 axis
# leaves **empty chunks** (three of the four with the original's slicing, the specification says; two
# with `torch.tensor_split`); the mean of an empty tensor is NaN, and the NaN flows into the Transformer
# and the loss. The cell reproduces it on a plain tensor with `torch.tensor_split`.

# %%
htsat_map = torch.randn(2, 768, 2, 32)  # (B, C, F=2, T=32), as HTS-AT returns it
chunks = torch.tensor_split(htsat_map, 4, dim=2)
print("chunk shapes:", [tuple(c.shape) for c in chunks])
finite = [bool(torch.isfinite(c.mean((2, 3))).all()) for c in chunks]
print("chunk means finite:", finite)
glue("htsat_nan_chunks", finite.count(False), display=False)

# %% [markdown]
# {glue:text}`htsat_nan_chunks` of the four chunk means are not finite. `TemporalAudioEncoder` refuses
# such a map instead of returning NaN: fewer frames on axis 2 than chunks raises a `ValueError` that
# says which axis it took for time. Moving time to axis 2 first (`transpose(2, 3)`) gives four chunks
# of 8 frames each and finite means.

# %%
enc = TemporalAudioEncoder(dim=64, in_channels=768, n_chunks=4, heads=4, ff=128)
try:
    enc.chunk(htsat_map)
except ValueError as e:
    print("ValueError:", e)
fixed = enc.chunk(htsat_map.transpose(2, 3))  # (B, C, T=32, F=2)
print("after transpose(2, 3):", tuple(fixed.shape), "finite:", bool(torch.isfinite(fixed).all()))

# %% [markdown]
# ## Does the embedding hear the order?
#
# A scene's `pos` and `neg_t` hold the same two events at the same two places, in the opposite order
# (the scenes chapter, {doc}`02_scenes`, shows them). A time-pooled summary of the two clips should be
# almost the same; a summary that keeps the order need not be. For every scene of a tiny corpus we
# measure the cosine distance $1 - \cos$ between `pos` and `neg_t`, and between `pos` and `neg_s`, of
#
# * `e_joint`, the pooled audio embedding of the base model, and
# * `e_temporal`, the output of the `TemporalAudioEncoder`,
#
# once at initialisation and once after a short training of a tiny model with the full loss (the 3-way
# term of {doc}`06_three_way_loss` included). The data module yields each scene as the specification's
# group `[pos, neg_t, neg_s]`.

# %%
cfg = small_config(epochs, batch_size, seed)  # the specification's model and loss, tiny sizes
dm = small_data(cfg, corpus_dir, n_train, n_val, n_test, eval_roles=SPEC_ROLES, root=ROOT)  # splits in [pos, neg_t, neg_s]
torch.manual_seed(seed)
untrained = SCLAPModule(cfg).model.eval()
n_scenes = {s: len(dm.dataset(s)) for s in ("train", "val")}
print(f"{n_scenes['train']} training scenes, {n_scenes['val']} validation scenes")
glue("n_train_scenes", n_scenes["train"], display=False)
glue("n_val_scenes", n_scenes["val"], display=False)


# %%
@torch.no_grad()
def pair_cosines(model: SpatialTemporalCLAP, split: str) -> dict[str, np.ndarray]:
    """1 - cos(pos, neg_t) and 1 - cos(pos, neg_s) of e_joint and e_temporal for every scene of a split."""
    model.eval()
    out = {}
    loader = DataLoader(dm.dataset(split), batch_size=batch_size, collate_fn=collate_groups)
    batches = [model.encode_audio(b["logmel"], b["logmeliv"]) for b in loader]
    for key in ("e_joint", "e_temporal"):
        e = torch.cat([b[key] for b in batches]).view(-1, 3, model.cfg.dim)
        out[f"{key} pos~neg_t"] = 1 - F.cosine_similarity(e[:, 0], e[:, 1], dim=-1).numpy()
        out[f"{key} pos~neg_s"] = 1 - F.cosine_similarity(e[:, 0], e[:, 2], dim=-1).numpy()
    return out


before = {s: pair_cosines(untrained, s) for s in ("train", "val")}

# %% [markdown]
# The training run (its log goes to a temporary directory; no checkpoints are written):

# %% tags=["nbval-ignore-output"]
module, trainer = small_run(cfg, dm)
trained = module.model.eval()
print(f"trained {trainer.current_epoch} epochs, {trainer.global_step} steps")

# %% [markdown]
# What the run itself reports on the validation scenes after its last epoch: the temporal 3-way
# accuracy of the triplet embedding (how often the caption of `pos` scores `pos` above `neg_t`; chance
# 0.5). Keep it in mind for what follows.

# %%
ep = viz.epoch_frame(trainer.logger.save_dir)
_ = record("val_3way_temporal", ep["triplet/3way_temporal"].iloc[-1], tol=0.25, fmt=".3f",
           label=f"validation temporal 3-way accuracy after epoch {int(ep['epoch'].iloc[-1])}", why="two of 8 scenes")

# %% [markdown]
# The mean cosine distances, before and after training, for the training and the validation scenes:

# %%
after = {s: pair_cosines(trained, s) for s in ("train", "val")}
# tolerances: at initialisation every distance is below 0.01; after training the conclusion is the gap
# between e_temporal (0.5-1.2) and e_joint (< 0.1), which survives 0.1 on e_joint and 0.25 on e_temporal
# (e_temporal's val pos~neg_t moved by 0.10 between two hosts' runs, one on the default kernel)
for split in ("train", "val"):
    print(f"{split}: mean cosine distance over {len(before[split]['e_joint pos~neg_t'])} scenes")
    for key in before[split]:
        tag = f"{split}_{key.replace(' ', '_').replace('~', '_vs_')}"
        record(f"{tag}_before", before[split][key].mean(), tol=0.002, label=f"  {key:22s} before", fmt=".4f",
               why="untrained: all below 0.01")
        record(f"{tag}_after", after[split][key].mean(), tol=0.25 if "temporal" in key else 0.1, label=f"  {key:22s} after ",
               why="gap of 0.5")

# %% [markdown]
# At initialisation every distance is tiny: a random network maps the three clips of a scene to almost
# the same point (on average, pos and neg_t of a training scene are
# {glue:text}`train_e_joint_pos_vs_neg_t_before:.4f` apart in `e_joint` and {glue:text}`train_e_temporal_pos_vs_neg_t_before:.4f` in `e_temporal`). After
# training, the temporal embedding puts a training scene's `pos` and `neg_t`
# {glue:text}`train_e_temporal_pos_vs_neg_t_after:.2f` apart on average, and
# {glue:text}`val_e_temporal_pos_vs_neg_t_after:.2f` on the {glue:text}`n_val_scenes` validation scenes
# it never trained on (a distance above 1 means a negative cosine). The pooled `e_joint` moves far less:
# {glue:text}`train_e_joint_pos_vs_neg_t_after:.2f` on the training scenes and
# {glue:text}`val_e_joint_pos_vs_neg_t_after:.2f` on the validation scenes. The spatial negative behaves
# the same way (`pos~neg_s` rows). {numref}`fig-04-order-response` shows every scene.

# %%
fig, axes = plt.subplots(1, 2, figsize=(9.6, 3.6), sharex=True, sharey=True)
split_colors = {"train": "C0", "val": "C1"}
for ax, (title, cos) in zip(axes, (("at initialisation", before), ("after training", after))):
    for split, marker in (("train", "o"), ("val", "s")):
        ax.scatter(cos[split]["e_joint pos~neg_t"], cos[split]["e_temporal pos~neg_t"], marker=marker,
                   color=split_colors[split], alpha=0.75, label=f"{split} scenes")
    ax.set_title(title)
    ax.set_xlabel("1 - cos(pos, neg_t), e_joint (pooled)")
values = np.concatenate([c[s][k] for c in (before, after) for s in c for k in c[s]]).clip(1e-7)
lo, hi = values.min() / 2, values.max() * 2
for ax in axes:
    ax.plot([lo, hi], [lo, hi], color="gray", lw=1, ls="--", label="equal distance")
    ax.set_xscale("log")
    ax.set_yscale("log")
axes[0].set_xlim(lo, hi)
axes[0].set_ylim(lo, hi)
axes[0].set_ylabel("1 - cos(pos, neg_t), e_temporal")
axes[0].legend()
fig.tight_layout()
viz.save(fig, FIG / "04_order_response.png")
plt.close(fig)

# %% [markdown]
# ```{figure} ../figures/04_order_response.png
# :name: fig-04-order-response
# Each point is a scene: x is the cosine distance between `pos` and `neg_t` in the pooled embedding
# `e_joint`, y the same in the temporal embedding `e_temporal` (log scales; dashed: equal distance).
# Left at initialisation, right after training. Points above the diagonal are scenes whose two orders
# the temporal embedding separates more than the pooled one.
# ```
#
# ## Why the pooled embedding is nearly order-blind
#
# Real `pos` / `neg_t` pairs differ in more than the order: each event's reverberation tail crosses the
# middle of the clip in one order and is cut off at the end in the other, and the first event starts
# at the clip's edge. A cleaner test takes each positive's features and swaps their two halves in time
# (`torch.roll` by half the frames), so that exactly the same frames come in the other order, and
# measures the cosine distance of each embedding between the original and the swapped input.


# %%
@torch.no_grad()
def swap_halves_distance(model: SpatialTemporalCLAP) -> dict[str, float]:
    """Mean 1 - cos between the embeddings of each training positive and its half-swapped features."""
    model.eval()
    loader = DataLoader(dm.dataset("train"), batch_size=batch_size, collate_fn=collate_groups)
    dist = {"e_joint": [], "e_temporal": []}
    for b in loader:
        lm, liv = b["logmel"][::3], b["logmeliv"][::3]  # the positives
        half = lm.shape[2] // 2
        a = model.encode_audio(lm, liv)
        r = model.encode_audio(lm.roll(half, dims=2), liv.roll(half, dims=2))
        for k in dist:
            dist[k].append(1 - F.cosine_similarity(a[k], r[k], dim=-1))
    return {k: torch.cat(v).mean().item() for k, v in dist.items()}


for name, model in (("at initialisation", untrained), ("after training", trained)):
    d = swap_halves_distance(model)
    tag = "init" if name.startswith("at") else "trained"
    record(f"swap_{tag}_joint", d["e_joint"], tol=0.002 if tag == "init" else 0.02, label=f"{name:18s} e_joint", fmt=".5f",
           why="e_joint stays near 0")
    record(f"swap_{tag}_temporal", d["e_temporal"], tol=0.002 if tag == "init" else 0.1, label=f"{name:18s} e_temporal",
           fmt=".5f", why="trained: far above e_joint")
    record(f"swap_{tag}_ratio", d["e_temporal"] / max(d["e_joint"], 1e-12), tol=0.5 if tag == "init" else 20.0,
           label=f"{name:18s} ratio", fmt=".1f", why="trained: above 10x either way")

# %% [markdown]
# Swapping the halves moves the trained model's `e_joint` by {glue:text}`swap_trained_joint:.3f` and its
# `e_temporal` by {glue:text}`swap_trained_temporal:.2f`, about {glue:text}`swap_trained_ratio:.0f` times
# as far. The pooled latent changes only where the convolutions see other neighbours (at the cut and at
# the clip's edges); the temporal embedding sees the chunks arrive at other positions.
#
# The chunk means themselves keep the order. {numref}`fig-04-chunk-means` shows them for the three
# clips of the first training scene, from the trained model's semantic branch.

# %%
batch = next(iter(DataLoader(dm.dataset("train"), batch_size=1, collate_fn=collate_groups)))
with torch.no_grad():
    enc_out = trained.encode_audio(batch["logmel"][:3], batch["logmeliv"][:3])
    chunk_means = trained.temporal_encoder.chunk(enc_out["sed_map"])  # (3, 4, C)
fig, axes = plt.subplots(1, 3, figsize=(9.6, 3.0), sharey=True)
vmax = float(chunk_means.max())
for ax, role, cm in zip(axes, batch["roles"][:3], chunk_means):
    im = ax.imshow(cm.T.numpy(), aspect="auto", cmap="viridis", vmin=0, vmax=vmax, origin="lower")
    ax.set_xticks(range(4), [f"{i}" for i in range(4)])
    ax.set_xlabel("chunk (time →)")
    ax.set_title(role, color=viz.ROLE_PALETTE[role])
    ax.grid(False)
axes[0].set_ylabel("channel of the semantic map")
fig.colorbar(im, ax=axes.tolist(), label="chunk mean (activation, a.u.)", shrink=0.9)
viz.save(fig, FIG / "04_chunk_means.png")
plt.close(fig)

# %% [markdown]
# ```{figure} ../figures/04_chunk_means.png
# :name: fig-04-chunk-means
# The four chunk means (columns, in time order) of the trained model's semantic feature map for the
# `pos`, `neg_t` and `neg_s` clips of one training scene; rows are channels, the colour is the mean
# activation of the chunk (after the ReLU, so never negative).
# ```
#
# In `neg_t` the first event of `pos` sits in chunks 2 and 3, so chunk $k$ of `pos` should resemble
# chunk $(k + 2) \bmod 4$ of `neg_t` more than chunk $k$ of `neg_t`, the same moment of the clip with the
# other event in it. `neg_s` keeps the order of the sounds and swaps their places: its chunk $k$ should
# resemble chunk $k$ of `pos` in the semantic branch, which hears the sounds through the
# omnidirectional W, and less in the spatial branch, which hears their directions. The cell measures
# the three cosines for every scene, averaged over the four chunks and over the scenes, for both
# branches of the trained model.


# %%
@torch.no_grad()
def chunk_cosines(model: SpatialTemporalCLAP, split: str) -> dict[str, dict[str, float]]:
    """Mean cosine between chunk k of pos and chunk k+2 of neg_t, chunk k of neg_t and chunk k of neg_s."""
    maps = {"semantic": [], "spatial": []}
    for b in DataLoader(dm.dataset(split), batch_size=batch_size, collate_fn=collate_groups):
        out = model.encode_audio(b["logmel"], b["logmeliv"])
        for branch, key in (("semantic", "sed_map"), ("spatial", "doa_map")):
            maps[branch].append(model.temporal_encoder.chunk(out[key]))
    result = {}
    for branch, cms in maps.items():
        pos, neg_t, neg_s = torch.cat(cms).view(-1, 3, *cms[0].shape[1:]).unbind(1)  # (scenes, 4, C) each
        result[branch] = {
            "swapped": F.cosine_similarity(pos, neg_t.roll(2, dims=1), dim=-1).mean().item(),  # k vs k+2
            "same": F.cosine_similarity(pos, neg_t, dim=-1).mean().item(),
            "place": F.cosine_similarity(pos, neg_s, dim=-1).mean().item(),
        }
    return result


# tolerance: the conclusion is the order of the three cosines, at least 0.25 apart in every row
labels = {"swapped": "pos k ~ neg_t k+2", "same": "pos k ~ neg_t k  ", "place": "pos k ~ neg_s k  "}
for split in ("train", "val"):
    for branch, row in chunk_cosines(trained, split).items():
        for what, value in row.items():
            record(f"chunk_{split}_{branch}_{what}", value, tol=0.1, fmt=".3f",
                   label=f"{split:5s} {branch:8s} {labels[what]}", why="gaps of 0.25 or more")

# %% [markdown]
# On the {glue:text}`n_val_scenes` validation scenes the semantic chunks of `pos` and of `neg_t` agree
# with a mean cosine of {glue:text}`chunk_val_semantic_swapped:.2f` when chunk $k$ is matched with chunk
# $k + 2$, and of {glue:text}`chunk_val_semantic_same:.2f` when matched at the same moment; in the spatial
# branch {glue:text}`chunk_val_spatial_swapped:.2f` against {glue:text}`chunk_val_spatial_same:.2f`.
# The chunk means find the two events in swapped places, which is what the Transformer and its
# positional embeddings can read. For `neg_s` the two branches part: its semantic chunks match those of
# `pos` at the same moment ({glue:text}`chunk_val_semantic_place:.2f`), its spatial chunks much less
# ({glue:text}`chunk_val_spatial_place:.2f`). Telling `pos` from `neg_s` is mainly the spatial
# branch's job; the W channel still differs a little between the two places, since a source's distance
# and the room's reflections change its level and colour.


# %% [markdown]
# Whether a trained model reads the little order that crosses the pool, and which cue of a clip carries
# it (the reverberation across the middle, the clip's edges), is measured in {doc}`18_appendix_order_cues`:
# the baseline reads the edges, and with them removed
# both embeddings of the specification's design fall to chance.

# %% [markdown]
# ## When the sounds can be anywhere
#
# The chunks are moments of the clip: chunk 0 is its first quarter, whatever sounds there. In the
# stClotho layout each event fills one half, so "the first event" and "the first chunks" coincide; in
# the **timed** layout of {doc}`02_scenes` (sounds at random onsets in 4 s clips) they do not, and the
# chunked encoder does not hear the order there. {doc}`14_appendix_temporal` (section *A readout without
# positions*) shows the `ordered` readout built for it: a before-minus-after score over every pair of
# sounding frames, for pairs of learned detectors.

# %%
from sclap_nb import report

main_study = report.study_facts("ms", report.study_analysis("main_study")["comparisons"])
for k in ("ms_F4_diff", "ms_F4_lo", "ms_F4_hi", "ms_F5_diff", "ms_F5_lo", "ms_F5_hi"):
    glue(k, main_study[k], display=False)
assert main_study["ms_F4_finding"] == "a finding" and main_study["ms_F5_finding"] == "not a finding"  # the words below

# %% [markdown]
# With that readout, the main job (`make train`: timed scenes, the chapter {doc}`10_train`) hears the order
# through its temporal path. Over the five seeds of the main study (`results/main_study`, a test split read
# once, Holm's correction) its triplet embedding, E_joint plus the temporal path, is above its own E_joint
# by {glue:text}`ms_F4_diff:+.3f` [{glue:text}`ms_F4_lo:+.3f`, {glue:text}`ms_F4_hi:+.3f`] in `order_acc`;
# on the direction of motion the two do not differ ({glue:text}`ms_F5_diff:+.3f`
# [{glue:text}`ms_F5_lo:+.3f`, {glue:text}`ms_F5_hi:+.3f`]): E_joint already hears where a source goes.

# %% [markdown]
# ## Takeaway
#
# * The pooled latent of a CNN branch is a mean (and maximum) over time: it changes little when the
#   halves of a clip swap, and what little it changes comes from the convolutions' view across the
#   cut, the clip's edges and, in real clips, the reverberation that crosses the middle. Trained at
#   full size, the baseline reads the edges (circular padding removes the cue), not the reverberation.
# * The `TemporalAudioEncoder` chunks the **time** axis, `(B, C, T, F)` → `(B, n_chunks, C)`, and
#   refuses a map with fewer frames than chunks instead of averaging empty chunks into NaN, as the
#   original code did with an HTS-AT map.
# * After a short training, the temporal embedding of a clip lies far from that of its order-swapped
#   twin, on unseen validation scenes too, while the pooled embedding barely moves.
# * A distance is not a decision. Whether the caption "A, then B" scores `pos` above `neg_t` is a
#   separate question: this run's temporal 3-way accuracy on its {glue:text}`n_val_scenes` validation
#   scenes is {glue:text}`val_3way_temporal:.3f` (chance 0.5; one scene moves it by
#   1/{glue:text}`n_val_scenes`, so a run this small says little about it). At full size the results
#   chapter, {doc}`11_results`, finds that the pooled E_joint of the baseline scores about as high on
#   the order test (`order_acc`) as the temporal path, and {doc}`14_appendix_temporal` shows why: both read the
#   clip's edges. With the edges and the reverberation across the middle removed, both fall to chance,
#   and the temporal path as specified does not learn the order instead: its output hardly moved between
#   clips. With its tokens' content standardised (`temporal_token_norm`, the default run's setting) it
#   follows the clip and, on cue-free clips (five seeds), hears the order of the sounds and retrieves
#   better than E_joint; its lead over E_joint on order is not yet separated from zero.
# * Chunks are moments of the clip: where the sounds can start anywhere, they do not say which came
#   first. The `ordered` readout does ({doc}`14_appendix_temporal`): with it the main job's temporal path
#   adds {glue:text}`ms_F4_diff:+.3f` to E_joint's `order_acc` over five seeds.
#
# ## Exercises
#
# 1. **The chunks of a longer clip.** A 2 s clip at 16 kHz gives 201 log-mel frames (one every 160
#    samples, plus one), the branches reduce time 8 times to a 25-frame map, and `torch.tensor_split`
#    cuts it into chunks of 7, 6, 6 and 6 frames. How many frames does the map of a 3 s clip have, and
#    how are they split?
#
#    :::{dropdown} Solution
#    $48000 / 160 + 1 = 301$ frames, reduced to $\lfloor 301 / 8 \rfloor = 37$; `tensor_split` gives the
#    remainder to the first chunks: 10, 9, 9 and 9 frames. (Check: run the cell of the section *Shapes
#    through the CNN branches* with `torch.randn(2, 4, 48000)`.)
#    :::
#
# 2. **Pooling forgets the order.** Show that the latent of a branch (the mean over frequency, then the
#    mean plus the maximum over time) does not change when the time frames of its feature map are
#    permuted. Why do `e_joint` of `pos` and `neg_t` still differ a little?
#
#    :::{dropdown} Solution
#    The mean and the maximum of a set of numbers do not depend on the order in which they are listed,
#    and the mean over frequency acts on each frame alone. `neg_t`'s map, though, is not `pos`'s map with
#    its frames reordered: the convolutions mix frames across the middle of the clip, the padding marks
#    its edges, and the first sound's reverberation runs into the second half, over the other sound. Those differences survive pooling; the section *Why the pooled embedding is
#    nearly order-blind* measures them.
#    :::
#
# 3. **Train longer.** `papermill notebooks/04_temporal_chunking.ipynb runs/04_temporal_chunking.ipynb
#    -p epochs 30` trains the tiny model twice as long. Predict, then check: does the distance between
#    `pos` and `neg_t` in `e_temporal` grow further on the *validation* scenes, or only on the training
#    scenes? What does that say about the 8 validation scenes as evidence (see the tolerance of
#    `val_3way_temporal`)?
#
# ## References
#
# The base model is SALM {cite:p}`hu2025salm`; the temporal encoder and its chunking bug come from the
# T-SALM code and design note {cite:p}`tsalm`; the feature maps of the original are HTS-AT's
# {cite:p}`chen2022htsat`; the Transformer encoder and positional embeddings are those of
# {cite:t}`vaswani2017attention`.
#
# % In JupyterLab a citation shows as its key; the works cited in this chapter:
#
# % `hu2025salm`: Hu et al. (2025). SALM: Spatial Audio Language Model with Structured Embeddings for Understanding and Editing. arXiv preprint arXiv:2507.16724.
#
# % `tsalm`: Cell778 (2025). T-SALM: temporal extension of the spatial audio language model (code and stClotho data layout). https://github.com/Cell778/T-SALM.
#
# % `vaswani2017attention`: Vaswani et al. (2017). Attention Is All You Need. Advances in Neural Information Processing Systems (NeurIPS).
#
# % `chen2022htsat`: Chen et al. (2022). HTS-AT: A Hierarchical Token-Semantic Audio Transformer for Sound Classification and Detection. IEEE International Conference on Acoustics, Speech and Signal Processing (ICASSP).

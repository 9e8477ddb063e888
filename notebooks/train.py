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
# This chapter is the main job of the book. It builds (or reads) a spatial-temporal corpus,
# trains the model with the total loss of the specification, evaluates both audio embeddings on
# the test split and writes `metrics.json`, checkpoints and figures to `out_dir`.
#
# Run it headless with papermill (`make train` does this on the defaults):
#
# ```bash
# papermill notebooks/train.ipynb runs/train/train.ipynb -p epochs 12 -p out_dir runs/train
# ```
#
# Every knob is in the `parameters` cell below; papermill overrides any of them with `-p NAME VALUE`.
# `fast = True` is the book's quick setting (a tiny corpus and model, two epochs: what the stored
# outputs of this page show and what the notebook tests re-run); `make train` passes `-p fast False`
# and trains on the defaults below.

# %% tags=["parameters"]
fast = True  # quick setting for the book and its tests; False: the defaults below
# data
data_dir = ""  # a stClotho-style corpus directory; "" builds the embedded default corpus
corpus_dir = "auto"  # where the corpus is built (reused if present); auto: data/stclotho-default (fast: -fast)
n_train, n_val, n_test = 512, 64, 128  # scenes (triplets) per split
anechoic = False
sample_rate = 16000
clip_seconds = 2.0
n_mels = 64
# model
dim = 512
cnn_channels = [16, 32, 64, 128]
text_trainable_layers = 1
text_pooling = "segments"
temporal_chunks = 4
# optimisation
epochs = 18
batch_size = 16  # triplets per step (48 clips)
lr = 1e-3
warmup_epochs = 1
loss_weights = [1.0, 0.5, 0.2, 0.2]  # doa, sem, ts, mod
sem_start = 3
ts_ramp = 4
grl_lambda = 1.0
# ablation switches
use_temporal = True
use_ts_loss = True
use_modality = True
mask_false_negatives = True
# run
seed = 2025
out_dir = "auto"  # auto: runs/train (fast: runs/train-fast)
devices = 1
strategy = "auto"  # "ddp" with devices > 1
precision = "32-true"  # "bf16-mixed" on a GPU
figures_dir = "auto"  # also copy the figures here; auto: none (fast: the book's figures/)
progress_bar = False

# %%
if fast:  # overrides for the quick setting: about a minute on 2 CPU cores
    n_train, n_val, n_test, epochs, batch_size, warmup_epochs = 12, 6, 6, 2, 4, 0
    dim, cnn_channels, temporal_ff = 64, [8, 16, 16, 32], 128
else:
    temporal_ff = 2048
suffix = "-fast" if fast else ""
corpus_dir = f"data/stclotho-default{suffix}" if corpus_dir == "auto" else corpus_dir
out_dir = f"runs/train{suffix}" if out_dir == "auto" else out_dir
figures_dir = ("figures" if fast else "") if figures_dir == "auto" else figures_dir

# %% [markdown]
# ## Setup
#
# The seed fixes the corpus, the model initialisation, dropout and the order of batches.

# %%
import os
import shutil
import time
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
import torch

from sclap_nb import viz
from sclap_nb.data import StClothoDataModule, ensure_corpus
from sclap_nb.features import FeatureConfig
from sclap_nb.train import TrainConfig, evaluate, fit, write_json_atomic

# relative paths are taken from the repository root, wherever the kernel starts
ROOT = Path.cwd() if (Path.cwd() / "sclap_nb").is_dir() else Path.cwd().parent
t_start = time.time()
out = ROOT / out_dir
if fast:  # the quick setting always starts afresh; otherwise a run resumes from out_dir/checkpoints/last.ckpt
    shutil.rmtree(out, ignore_errors=True)
out.mkdir(parents=True, exist_ok=True)

# %% [markdown]
# ## Data
#
# Without `data_dir`, the embedded corpus is built from General MIDI soundfont recordings
# spatialised in simulated rooms (see the *Spatial-temporal scenes* chapter). Each training step
# sees `batch_size` triplets `[pos, neg_t, neg_s]`.

# %%
t0 = time.time()
root = ROOT / data_dir if data_dir else ensure_corpus(
    ROOT / corpus_dir, n_train=n_train, n_val=n_val, n_test=n_test, seed=seed,
    sample_rate=sample_rate, clip_seconds=clip_seconds, anechoic=anechoic, progress=False,
)
features = FeatureConfig(sample_rate=sample_rate, n_mels=n_mels)
datamodule = StClothoDataModule(root, batch_size=batch_size, mode="triplet", features=features,
                                cache_dir=root / "cache", seed=seed)
datamodule.setup("fit")
print(f"corpus: {root.relative_to(ROOT) if root.is_relative_to(ROOT) else root}, "
      f"{len(datamodule.dataset('train'))} training triplets ({time.time() - t0:.1f} s with features)")

# %% [markdown]
# ## Train

# %%
cfg = TrainConfig(
    out_dir=str(out), epochs=epochs, batch_size=batch_size, lr=lr, warmup_epochs=warmup_epochs,
    loss_weights=tuple(loss_weights), sem_start=sem_start, ts_ramp=ts_ramp, grl_lambda=grl_lambda,
    use_ts_loss=use_ts_loss, mask_false_negatives=mask_false_negatives, seed=seed, devices=devices,
    strategy=strategy, precision=precision, progress_bar=progress_bar,
    model=dict(dim=dim, cnn_channels=tuple(cnn_channels), text_trainable_layers=text_trainable_layers,
               text_pooling=text_pooling, temporal_chunks=temporal_chunks, temporal_ff=temporal_ff,
               temporal_heads=8 if dim >= 128 else 4, use_temporal=use_temporal,
               use_modality=use_modality, features=features),
)
t0 = time.time()
module, trainer = fit(cfg, datamodule)
train_seconds = time.time() - t0
print(f"trained {trainer.current_epoch} epochs, {trainer.global_step} steps in {train_seconds:.0f} s")

# %% [markdown]
# ## Evaluate on the test split
#
# The best checkpoint (by validation T2A R@1 over all clips, the better of the two embeddings) is evaluated. Metrics come for both audio
# embeddings: `joint/*` is E_joint, `triplet/*` the temporal-path embedding.

# %%
best = Path(out, "checkpoints", "best.ckpt")
if best.exists():
    module = type(module).load_from_checkpoint(best, map_location="cpu")
datamodule.setup("test")
metrics = evaluate(module.model, datamodule.test_dataloader())
metrics.update(train_seconds=train_seconds, total_seconds=time.time() - t_start, epochs=epochs, seed=seed)
write_json_atomic(metrics, out / "metrics.json")
for k in sorted(metrics):
    if not k.endswith("_seconds"):
        print(f"{k:28s} {metrics[k]:.3f}" if isinstance(metrics[k], float) else f"{k:28s} {metrics[k]}")
print(f"whole notebook: {metrics['total_seconds']:.0f} s")

# %% [markdown]
# ## Training curves
#
# Every loss component against the step. `loss_ts` should fall fast once its weight ramps up;
# `loss_mod` should sit near ln 2 = 0.693, where the classifier cannot tell audio from text.

# %%
fig_dir = out / "figures"
fig = viz.plot_loss_components(out)
_ = viz.save(fig, fig_dir / "train_losses.png")

# %%
fig = viz.plot_epoch_metrics(out, {"modality_acc": "modality classifier accuracy"}, "accuracy", hline=0.5, ylim=(0, 1.05))
_ = viz.save(fig, fig_dir / "train_modality_acc.png")

# %%
keys = {"triplet/3way_temporal": "temporal (triplet emb.)", "triplet/3way_spatial": "spatial (triplet emb.)",
        "joint/3way_temporal": "temporal (E_joint)", "joint/3way_spatial": "spatial (E_joint)"}
fig = viz.plot_epoch_metrics(out, keys, "3-way accuracy", hline=0.5, ylim=(0, 1.05))
_ = viz.save(fig, fig_dir / "train_3way_acc.png")

# %%
if figures_dir:
    for png in fig_dir.glob("*.png"):
        shutil.copy(png, ROOT / figures_dir / png.name)
print(sorted(p.name for p in fig_dir.glob("*.png")))

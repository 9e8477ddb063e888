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
# # Spatial-temporal scenes
#
# Every training example of the model is a *scene*: two captioned sound events A and B, each placed at
# a position around a first-order ambisonics (FOA) microphone in a simulated room, and rendered three
# times:
#
# | role | first half | second half |
# |---|---|---|
# | `pos` | A at $p_0$ | B at $p_2$ |
# | `neg_t` (temporal negative) | B at $p_2$ | A at $p_0$ |
# | `neg_s` (spatial negative) | A at $p_2$ | B at $p_0$ |
#
# The three clips hold the same two sounds: only *when* and *where* tell them apart. This chapter builds
# a tiny corpus and looks at one scene from every side: the sound, the four FOA channels, the log-mel
# spectrogram, the directions the intensity vectors point to, and the captions.

# %% tags=["parameters"]
fast = True  # the book's setting; the corpus is tiny in both settings
corpus_dir = None  # built on first run, reused afterwards; default: data/book-scenes-<sizes>-s<seed>
n_train, n_val, n_test = 8, 4, 4  # scenes per split
anechoic = False  # True: no room, only the direct sound
seed = 2025
scene_index = 0  # which training scene to show

# %% [markdown]
# ## Setup
#
# Relative paths are resolved from the repository root, wherever the kernel starts.

# %%
import os

os.environ.setdefault("HF_HUB_OFFLINE", "1")
from pathlib import Path

import matplotlib.pyplot as plt
import torch
from IPython.display import Audio, display

from sclap_nb import viz, viz_book
from sclap_nb.data import SECTOR_WORDS, StClothoDataset, ensure_corpus
from sclap_nb.features import FeatureConfig
from sclap_nb.notebook import figures_dir

torch.set_num_threads(1)
ROOT = Path.cwd() if (Path.cwd() / "sclap_nb").is_dir() else Path.cwd().parent
FIG = figures_dir(ROOT)
corpus_dir = corpus_dir or f"data/book-scenes-{n_train}-{n_val}-{n_test}-s{seed}" + ("-anechoic" if anechoic else "")

# %% [markdown]
# ## A tiny corpus
#
# `ensure_corpus` builds the corpus from the General MIDI soundfont (sound events), image-source room
# impulse responses rendered to FOA (positions), and caption templates (words), all drawn from `seed`;
# when the directory already exists it is only validated. Each split holds `n_*` scenes, three clips each.

# %%
root = ensure_corpus(ROOT / corpus_dir, n_train=n_train, n_val=n_val, n_test=n_test, seed=seed,
                     anechoic=anechoic, progress=False)
features = FeatureConfig()
ds = StClothoDataset(root, "train", mode="triplet", features=features)
print(f"{len(ds)} training scenes, {len(ds.rows)} clips; sample rate {features.sample_rate} Hz, "
      f"hop {features.hop_length} samples, {features.n_mels} mel bands")

# %% [markdown]
# One item of the dataset is one scene: the three clips stacked in the order `[pos, neg_t, neg_s]`,
# with their waveforms `(3, 4, S)`, log-mels of W `(3, 1, T, M)`, logmelIV `(3, 7, T, M)`, captions
# and DOA targets (one unit vector per event, in time order).

# %%
item = ds[scene_index]
rows = ds.rows[3 * scene_index : 3 * scene_index + 3]
roles = item["roles"]
for k in ("wave", "logmel", "logmeliv", "doa"):
    print(f"{k:9s} {tuple(item[k].shape)}")
print("roles    ", roles)
print("room     ", rows[0]["room"], f"(RT60 {rows[0]['rt60']:.2f} s)")

# %% [markdown]
# ## The captions
#
# Each clip has a *spatial* caption (`text_comb`: the events, their directions, and a connector) and a
# *plain* caption (`text`: only the events, in time order). The positive and the spatial negative share
# their plain caption: only the directions differ. The temporal negative swaps the order in both.

# %%
for role, rich, plain in zip(roles, item["text_comb"], item["text"]):
    print(f"{role:6s} spatial: {rich}\n{'':6s} plain:   {plain}")
print("pos and neg_s share the plain caption:", item["text"][0] == item["text"][2])

# %% [markdown]
# The labels of each clip: event classes, azimuths (degrees; 0 is front, +90 left) with the sector
# word that the caption uses, onsets and durations in seconds.

# %%
for r in rows:
    ev = [f"{r[f'class_{e}']:>14s} az {r[f'azimuth_{e}']:+7.1f} ({SECTOR_WORDS[round(r[f'azimuth_{e}'] / 45) % 8]:>11s}) "
          f"on {r[f'onset_{e}']:.3f} s for {r[f'duration_{e}']:.3f} s" for e in (1, 2)]
    print(f"{r['role']:6s} " + " | ".join(ev))

# %% [markdown]
# ## Listen
#
# The omnidirectional channel W of each clip (the player shows one clip after another). In the positive
# and the spatial negative the two sounds come in the same order; in the temporal negative the order is
# swapped. W carries no direction: in mono, `pos` and `neg_s` sound the same.

# %% tags=["nbval-ignore-output"]
for role, wave in zip(roles, item["wave"]):
    print(role)
    display(Audio(wave[0].numpy(), rate=features.sample_rate, normalize=False))

# %% [markdown]
# ## The four FOA channels
#
# In ACN order W, Y, Z, X (SN3D): W is the pressure, Y the left-right, Z the up-down and X the
# front-back figure-of-eight. The *relative* level and sign of Y and X against W is the direction.

# %%
fig = viz_book.plot_triplet_waves(item["wave"], features.sample_rate, roles)
viz.save(fig, FIG / "02_scene_channels.png")
plt.show()

# %% [markdown]
# *Figure: the four FOA channels of the three clips of one scene (columns: pos, neg_t, neg_s).* The
# envelopes of `pos` and `neg_s` are the same; the sign and size of Y and X in each half differ,
# because the two events swapped places.
#
# ## The log-mel of W
#
# The semantic branch of the model sees only this: the log-mel spectrogram of W. It tells *what* sounds
# and *when*, never *where*.

# %%
hop_s = features.hop_length / features.sample_rate
fig = viz_book.plot_triplet_logmel(item["logmel"], hop_s, roles)
viz.save(fig, FIG / "02_scene_logmel.png")
plt.show()

# %% [markdown]
# *Figure: the log-mel (dB) of W for pos, neg_t and neg_s.* `pos` and `neg_s` are nearly identical
# (the room is the same, only the source positions change); `neg_t` shows the two events in the other
# order.
#
# ## Where the sound comes from: intensity vectors
#
# The spatial branch reads the logmelIV: the four log-mels plus the three components of the active
# intensity vector $\mathrm{Re}(W^* \cdot \{X, Y, Z\})$, unit-normalised per time-frequency bin and
# projected on the mel filterbank. Summing the vectors of one frame over the mel bands
# (`sclap_nb.features.iv_direction`, applied frame by frame) gives the azimuth of that frame;
# weighting by the frame's energy hides the silent frames, whose direction is noise.

# %%
az = torch.stack([viz_book.frame_azimuth(liv) for liv in item["logmeliv"]])  # (3, T)
energy = torch.stack([viz_book.frame_energy(lm) for lm in item["logmel"]])  # (3, T)
events = [[(r[f"onset_{e}"], r[f"duration_{e}"], r[f"azimuth_{e}"], r[f"class_{e}"]) for e in (1, 2)] for r in rows]
fig = viz_book.plot_triplet_directions(az, energy, hop_s, events, roles)
viz.save(fig, FIG / "02_scene_directions.png")
plt.show()

# %% [markdown]
# *Figure: azimuth of the intensity vector per frame (dots, darker = louder) against the labelled
# azimuth of each event over its span (coloured lines).* During each event the loud frames gather
# near the event's labelled direction; the room's reflections scatter the quieter frames.
#
# The cell below condenses the figure into one number per event: the energy-weighted mean direction
# of the intensity vectors within the event's span, and its angular distance from the label.

# %%
from sclap_nb.features import iv_direction

for r, liv, lm in zip(rows, item["logmeliv"], item["logmel"]):
    out = []
    for e in (1, 2):
        t0 = int(r[f"onset_{e}"] / hop_s)
        t1 = int((r[f"onset_{e}"] + r[f"duration_{e}"]) / hop_s)
        w = viz_book.frame_energy(lm)[None, t0:t1]
        est = float(iv_direction(liv[None, :, t0:t1], w)[0, 0])
        err = abs((est - r[f"azimuth_{e}"] + 180) % 360 - 180)
        out.append(f"event {e}: label {r[f'azimuth_{e}']:+6.1f}, intensity {est:+6.1f} (off by {err:4.1f} deg)")
    print(f"{r['role']:6s} " + " | ".join(out))

# %% [markdown]
# The printed errors are what a model that only averaged the intensity vectors would get; the DOA
# head of the model learns to do better than this from the whole logmelIV.
#
# ## What the model must learn
#
# * From W alone, `pos` and `neg_s` are the same clip: the spatial branch (logmelIV) is required.
# * From a time-pooled summary, `pos` and `neg_t` are the same clip (same events, same places, only
#   the order differs): the temporal encoder of the next chapter keeps the order.
# * The captions differ only in the order of phrases or in two direction words: the text side must
#   keep word order, which a mean over token states does not.

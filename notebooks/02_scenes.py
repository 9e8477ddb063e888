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
# ![The model, with the part this chapter is about in colour](../figures/model_data.png)
#
# *Run this chapter yourself:* in a clone of the repository, `make setup` once, then `make lab`; in
# JupyterLab open `notebooks/02_scenes.py`, which opens as a notebook with the outputs stored in
# `02_scenes.ipynb`. Headless, with other parameters: `mkdir -p runs && papermill
# notebooks/02_scenes.ipynb runs/02_scenes.ipynb -p anechoic True`. In JupyterLab a citation shows as its key
# (`hu2025salm`); the works are listed under *References* at the end.
#
# **What you will learn here:**
#
# * what one training example is: a *scene* of two captioned sound events at two places, rendered as
#   four clips that differ only in *when* and *where* each sound plays;
# * how first-order ambisonics (FOA) stores a direction in four channels, and how to listen to it on
#   headphones;
# * what the log-mel spectrogram of the omnidirectional channel tells (what sounds, and when) and what
#   it cannot tell (where);
# * how the intensity vectors point at each source, and how close their plain average comes to the
#   labels, next to the trained direction head of this book.
#
# The model of this book is SALM's spatial CLAP {cite:p}`hu2025salm` with the temporal and spatial
# negatives of T-SALM {cite:p}`tsalm`. It learns from *scenes*: two sound events A and B of different
# classes, each placed at its own position around an FOA microphone {cite:p}`zotter2019ambisonics` in
# a simulated shoebox room (image sources from pyroomacoustics {cite:p}`scheibler2018pyroomacoustics`
# and a diffuse reverberation tail), rendered four times:
#
# | clip | first half | second half | what it tests |
# |---|---|---|---|
# | `pos` | A at $p_0$ | B at $p_2$ | the caption's own clip |
# | `neg_t` (temporal negative) | B at $p_2$ | A at $p_0$ | the order of the events |
# | `neg_s` (spatial negative) | A at $p_2$ | B at $p_0$ | where each sound is |
# | `neg_c` (class-order negative) | B at $p_0$ | A at $p_2$ | the order of the *sounds*, directions kept |
#
# The four clips hold the same two sounds. `neg_t` and `neg_s` are the specification's negatives; both
# reverse the order of the two *directions*, so hearing only where each half comes from already tells
# them from `pos`. `neg_c` keeps the directions in `pos`'s order and swaps the sounds. This chapter
# builds a tiny corpus, lets you listen to a few of its scenes, and then looks at one scene from every
# side: the four FOA channels, the log-mel spectrogram, the directions of the intensity vectors, and
# the captions.

# %% tags=["parameters"]
fast = True  # quick setting: a tiny corpus and four scenes to listen to
corpus_dir = None  # default: data/book-scenes-<sizes>-s<seed>; built on first run, reused afterwards
n_train, n_val, n_test = None, None, None  # scenes per split; quick 8, 4, 4; full 32, 8, 8
n_listen = None  # test scenes in the scene picker; quick 4; full 8
anechoic = False  # True: no room, only the direct sound
seed = 2025
scene_index = 0  # which training scene the figures show

# %%
# a value passed in (papermill -p) always wins; the quick or full setting fills the rest
from sclap_nb.notebook import choose

n_train, n_val, n_test, n_listen = choose(
    fast, (n_train, n_val, n_test, n_listen), quick=(8, 4, 4, 4), full=(32, 8, 8, 8)
)
n_listen = min(n_listen, n_test)
corpus_dir = corpus_dir or f"data/book-scenes-{n_train}-{n_val}-{n_test}-s{seed}" + ("-anechoic" if anechoic else "")

# %% [markdown]
# ## Setup

# %%
import base64
import html
import json
import os

os.environ.setdefault("HF_HUB_OFFLINE", "1")

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import torch
from IPython.display import HTML
from sclap_nb.notebook import glue

from sclap_nb import viz
from sclap_nb.data import ROLES, SECTOR_WORDS, StClothoDataset, doa_vector, ensure_corpus, load_clip, read_metadata
from sclap_nb.features import FeatureConfig, FOAFeatures, iv_direction
from sclap_nb.notebook import figures_dir, record, setup_chapter
from sclap_nb.widgets import audio_bytes, cardioid_level_difference_db, foa_to_stereo, plot_directions_by_class, scene_picker

ROOT = setup_chapter(threads=1)
FIG = figures_dir(ROOT)

# %% [markdown]
# ## A tiny corpus
#
# `ensure_corpus` builds the corpus from the General MIDI soundfont (the sound events), image-source
# room impulse responses rendered to FOA (the positions) and caption templates (the words), all drawn
# from `seed`; when the directory already exists it is only validated. Each split holds its own scenes,
# four clips each, in rooms of its own.

# %%
root = ensure_corpus(ROOT / corpus_dir, n_train=n_train, n_val=n_val, n_test=n_test, seed=seed,
                     anechoic=anechoic, progress=False)
features = FeatureConfig()
sr, hop_s = features.sample_rate, features.hop_length / features.sample_rate
ds = StClothoDataset(root, "train", mode="triplet", roles=ROLES, features=features)
print(f"{len(ds)} training scenes, {len(ds.rows)} clips; sample rate {sr} Hz, "
      f"hop {features.hop_length} samples, {features.n_mels} mel bands")

# %% [markdown]
# ## Listen
#
# An FOA clip has four channels: W, the pressure (an omnidirectional microphone), and X, Y, Z, three
# figure-of-eight microphones pointing front, left and up. The corpus stores them in ACN order
# `W, Y, Z, X` with SN3D gains: a plane wave from the unit direction $u$ arrives as
# $(W, Y, Z, X) = s\,(1, u_y, u_z, u_x)$. Headphones need two channels. A *virtual microphone* is a
# weighted sum of the four: $\tfrac12 \left(W + \cos\varphi\, X + \sin\varphi\, Y\right)$ is a cardioid
# pointing at the azimuth $\varphi$ in the horizontal plane. Two cardioids at $\pm 90°$ give
#
# $$
# L = \tfrac12 (W + Y), \qquad R = \tfrac12 (W - Y),
# $$
#
# so a source at $+90°$ (left) is in the left channel only, one in front or behind is equally loud in
# both, and a source at $+30°$ is {glue:text}`cardioid_30_db:.1f` dB louder on the left
# (`sclap_nb.widgets.foa_to_stereo`, tested in `tests/test_widgets.py`). Two cardioids cannot tell front
# from back or up from down: on headphones, "front left" and "back left" sound alike; the model hears
# all four channels.
#
# Pick a test scene and play its four clips (headphones: left is left). Each player shows the clip's
# spatial caption. The picker works on this page without a kernel: every scene's players are prebuilt
# and the menu only switches between them.

# %%
glue("cardioid_30_db", cardioid_level_difference_db(30.0), display=False)
test_rows = read_metadata(root, "test")
scenes = {}
for k in range(n_listen):
    clips = [r for r in test_rows if r["scene"] == k]
    pos = next(r for r in clips if r["role"] == "pos")
    label = f"test scene {k}: {pos['class_1']}, then {pos['class_2']}"
    scenes[label] = [(r["role"], audio_bytes(foa_to_stereo(load_clip(root, r)), sr), r["caption"]) for r in clips]
glue("n_listen", n_listen, display=False)
scene_picker(scenes)

# %% [markdown]
# ## One scene, four clips
#
# From here on the chapter looks at one training scene. One item of the dataset is one scene: its
# clips stacked in `ROLES` order `[pos, neg_t, neg_s, neg_c]` with their waveforms `(4, 4, S)`, log-mels
# of W `(4, 1, T, M)`, logmelIV `(4, 7, T, M)`, captions, and direction targets (one unit vector per
# event, in time order).

# %%
item = ds[scene_index]
rows = ds.rows[len(ROLES) * scene_index : len(ROLES) * (scene_index + 1)]
roles = list(item["roles"])
for k in ("wave", "logmel", "logmeliv", "doa"):
    print(f"{k:9s} {tuple(item[k].shape)}")
print("roles    ", roles)
print("room     ", rows[0]["room"], f"(RT60 {rows[0]['rt60']:.2f} s)")

# %% [markdown]
# The labels of each clip: event classes, azimuths (degrees; 0 is front, +90 left) with the sector
# word that the caption uses, elevations, onsets and durations in seconds.

# %%
labels = pd.DataFrame([
    {"clip": r["role"], "event": e, "class": r[f"class_{e}"], "azimuth": r[f"azimuth_{e}"],
     "sector": SECTOR_WORDS[round(r[f"azimuth_{e}"] / 45) % 8], "elevation": r[f"elevation_{e}"],
     "onset (s)": r[f"onset_{e}"], "duration (s)": r[f"duration_{e}"]}
    for r in rows for e in (1, 2)
]).set_index(["clip", "event"])
labels.round(2)

# %% [markdown]
# ## The captions
#
# Each clip has a *spatial* caption (`text_comb`: the events, their directions and a connector) and a
# *plain* caption (`text`: only the events, in time order). `pos` and `neg_s` share their plain
# caption, and so do `neg_t` and `neg_c`: only direction words tell them apart.

# %%
for role, rich, plain in zip(roles, item["text_comb"], item["text"]):
    print(f"{role:6s} spatial: {rich}\n{'':6s} plain:   {plain}")
print("pos and neg_s share the plain caption:", item["text"][0] == item["text"][2])
print("neg_t and neg_c share the plain caption:", item["text"][1] == item["text"][3])

# %% [markdown]
# ## The four FOA channels
#
# The *relative* level and sign of Y and X against W is the direction: a source on the left has Y in
# phase with W, one on the right in opposite phase, one in front has X in phase.

# %%
fig = viz.plot_triplet_waves(item["wave"], sr, roles)
viz.save(fig, FIG / "02_scene_channels.png")
plt.close(fig)


# %% [markdown]
# ```{figure} ../figures/02_scene_channels.png
# :name: fig-02-scene-channels
# The four FOA channels (rows: W, Y, Z, X) of the four clips of one scene (columns), against time.
# ```
#
# The two events sit in their own halves of each clip, and each event starts at the same offset into
# its half in all four clips (compare the onsets in the table above). The same sound does not arrive at the same level from its two positions: each position has its own distance
# (the level falls as 1/distance) and its own reflections. The cell below measures the peak of W
# during each event; one gain per scene scales all four clips to a common peak of 0.9.

# %%
def event_span(row, e):
    """First and last sample of event e of a clip."""
    return int(row[f"onset_{e}"] * sr), int((row[f"onset_{e}"] + row[f"duration_{e}"]) * sr)


w_peak = {(r["role"], r[f"class_{e}"]): float(item["wave"][j, 0, slice(*event_span(r, e))].abs().max())
          for j, r in enumerate(rows) for e in (1, 2)}
class_a, class_b = rows[0]["class_1"], rows[0]["class_2"]
for cls, tag in ((class_a, "a"), (class_b, "b")):
    for role in ("pos", "neg_s"):
        _ = record(f"peak_{tag}_{role}", w_peak[(role, cls)], tol=0.01, fmt=".2f", label=f"W peak of {cls:12s} in {role}")
glue("class_a", class_a, display=False)
glue("class_b", class_b, display=False)

# %% [markdown]
# In `pos` and `neg_s` the two sounds come in the same order, but their levels differ: the
# {glue:text}`class_a` peaks at {glue:text}`peak_a_pos:.2f` in `pos` and at
# {glue:text}`peak_a_neg_s:.2f` in `neg_s`, the {glue:text}`class_b` at {glue:text}`peak_b_pos:.2f` and
# {glue:text}`peak_b_neg_s:.2f`. The envelopes of W rise and fall at the same times, but not to the same
# size: a swap of positions is heard in W too, as a change of loudness and of room sound, though not
# as a direction.
#
# ## The log-mel of W
#
# The semantic branch of the model sees only this: the log-mel spectrogram of W. It tells *what* sounds
# and *when*, not *where*.

# %%
fig = viz.plot_triplet_logmel(item["logmel"], hop_s, roles)
viz.save(fig, FIG / "02_scene_logmel.png")
plt.close(fig)
lm = item["logmel"][:, 0]
for j in (1, 2, 3):
    _ = record(f"logmel_diff_{roles[j]}", (lm[0] - lm[j]).abs().mean(), tol=0.05, fmt=".1f", unit="dB",
               label=f"mean |log-mel difference|, pos vs {roles[j]:5s}")

# %% [markdown]
# ```{figure} ../figures/02_scene_logmel.png
# :name: fig-02-scene-logmel
# The log-mel spectrogram (dB) of W for the four clips of the scene: mel band against time.
# ```
#
# `pos` and `neg_s` show the same events at the same times; their log-mels differ by
# {glue:text}`logmel_diff_neg_s:.1f` dB on average over all time-frequency bins, the level and room
# differences measured above. `neg_t` and `neg_c` play the events in the other order, and differ from
# `pos` by {glue:text}`logmel_diff_neg_t:.1f` and {glue:text}`logmel_diff_neg_c:.1f` dB. In W alone,
# the spatial negative differs from the positive only in the loudness and the room sound of each event.
#
# ## Where the sound comes from: intensity vectors
#
# The spatial branch reads the logmelIV: the four log-mels plus the three components of the active
# intensity vector $\mathrm{Re}(W^* \cdot \{X, Y, Z\})$, unit-normalised per time-frequency bin and
# projected on the mel filterbank: the input of SALM's spatial branch {cite:p}`hu2025salm`. Estimating
# where sound events come from in FOA recordings is the localisation half of sound event localisation
# and detection (SELD) {cite:p}`adavanne2019seld`. Summing the vectors of one frame over the mel bands (`sclap_nb.features.iv_direction`, applied frame
# by frame) gives the azimuth of that frame; weighting by the frame's energy hides the silent frames,
# whose direction is noise.

# %%
az = torch.stack([viz.frame_azimuth(liv) for liv in item["logmeliv"]])  # (4, T)
energy = torch.stack([viz.frame_energy(m) for m in item["logmel"]])  # (4, T)
events = [[(r[f"onset_{e}"], r[f"duration_{e}"], r[f"azimuth_{e}"], r[f"class_{e}"]) for e in (1, 2)] for r in rows]
fig = plot_directions_by_class(az, energy, hop_s, events, roles)
viz.save(fig, FIG / "02_scene_directions.png")
plt.close(fig)

# %% [markdown]
# ```{figure} ../figures/02_scene_directions.png
# :name: fig-02-scene-directions
# Azimuth of the intensity vector of each frame (dots; the more opaque, the louder the frame; frames
# below 1 % of the peak energy hidden) against time, for the four clips. Dots and lines take the colour
# of the sound class playing (grey: between the events); each line is the labelled azimuth of an event
# over its span.
# ```
#
# During each event the loud frames gather near the event's labelled direction; the room's reflections
# scatter the quieter ones. The cell below condenses the figure into one number per event: the
# energy-weighted mean intensity vector over the event's labelled span, and its angle from the label
# (azimuth only, and in 3-D with the elevation).

# %%
def iv_estimate(logmeliv, logmel, row, e):
    """Azimuth and elevation (deg) of the energy-weighted mean intensity vector over event e's span."""
    t0, t1 = int(row[f"onset_{e}"] / hop_s), int((row[f"onset_{e}"] + row[f"duration_{e}"]) / hop_s)
    weights = viz.frame_energy(logmel)[None, t0:t1]
    return iv_direction(logmeliv[None, :, t0:t1], weights)[0].tolist()


def angle_errors(row, e, est):
    """Azimuth error and 3-D angle (deg) between an estimate (az, el) and event e's label."""
    d_az = abs((est[0] - row[f"azimuth_{e}"] + 180) % 360 - 180)
    cos = doa_vector(*est) @ doa_vector(row[f"azimuth_{e}"], row[f"elevation_{e}"])
    return d_az, float(np.degrees(np.arccos(np.clip(cos, -1, 1))))


for r, liv, m in zip(rows, item["logmeliv"], item["logmel"]):
    out = []
    for e in (1, 2):
        est = iv_estimate(liv, m, r, e)
        d_az, d_3d = angle_errors(r, e, est)
        out.append(f"label {r[f'azimuth_{e}']:+6.1f}, intensity {est[0]:+6.1f} (off {d_az:4.1f}, 3-D {d_3d:4.1f} deg)")
    print(f"{r['role']:6s} " + " | ".join(out))

# %% [markdown]
# The same measurement over every event of the corpus (all splits, all four clips of every scene):

# %%
errors = []
for split in ("train", "val", "test"):
    clips = StClothoDataset(root, split, mode="plain", features=features)
    for i, r in enumerate(clips.rows):
        it = clips[i]
        for e in (1, 2):
            errors.append(angle_errors(r, e, iv_estimate(it["logmeliv"][0], it["logmel"][0], r, e)))
errors = np.array(errors)  # (events, 2): azimuth error, 3-D angle
glue("n_events", len(errors), display=False)
_ = record("iv_az_mean", errors[:, 0].mean(), tol=0.3, fmt=".1f", unit="deg", label="azimuth error, mean")
_ = record("iv_az_max", errors[:, 0].max(), tol=1.0, fmt=".1f", unit="deg", label="azimuth error, largest")
_ = record("iv_3d_mean", errors[:, 1].mean(), tol=0.3, fmt=".1f", unit="deg", label="3-D angle, mean")
_ = record("iv_3d_max", errors[:, 1].max(), tol=1.0, fmt=".1f", unit="deg", label="3-D angle, largest")

# %% [markdown]
# How does this compare with the model? Its DOA head predicts the directions of a clip's two events
# from the logmelIV, and the book reports its localisation error `LE_deg`, the mean 3-D angle between
# predicted and labelled directions over the test split, in the stored results of the default run
# and of the ablation (chapter *Results*). The two heads differ: the default run's reads each time
# half of the spatial branch's features, one event per half (a deviation from the specification,
# {doc}`08_doa`); the ablation's runs keep the specification's head, which predicts both directions
# from the whole clip's embedding:

# %%
le_default = json.loads((ROOT / "results" / "default" / "metrics.json").read_text())["LE_deg"]
le_ablation = pd.read_csv(ROOT / "results" / "ablation" / "table.csv")["LE_deg"]
glue("le_default", le_default, display=False)
glue("le_ablation_min", float(le_ablation.min()), display=False)
glue("le_ablation_max", float(le_ablation.max()), display=False)
glue("n_ablation_runs", len(le_ablation), display=False)
_ = record("le_gap", le_default - errors[:, 1].mean(), tol=0.3, fmt=".1f", unit="deg",
           label="default run's LE minus the intensity average's mean 3-D angle")
print(f"default run: LE {le_default:.1f} deg; ablation, {len(le_ablation)} runs: "
      f"LE {le_ablation.min():.1f} to {le_ablation.max():.1f} deg")

# %% [markdown]
# Over the {glue:text}`n_events` events of this corpus, the plain energy-weighted average of the
# intensity vectors is off by {glue:text}`iv_3d_mean:.1f`° on average in 3-D
# ({glue:text}`iv_az_mean:.1f`° in azimuth alone; at worst {glue:text}`iv_3d_max:.1f`°). The trained DOA
# head comes close but is *not* better: the default run is off by {glue:text}`le_default:.1f`° on its
# test split, {glue:text}`le_gap:.1f`° more, and the {glue:text}`n_ablation_runs` runs of the ablation,
# with the specification's head, by {glue:text}`le_ablation_min:.1f`° to
# {glue:text}`le_ablation_max:.1f`°. The comparison favours the average: it is told each event's exact
# span from the labels, where the default head only assumes that each half of the clip holds one event
# and the specification's head must find the two events itself; and the two are measured on different
# test scenes of the same generator ({doc}`08_doa` compares head and average on the same clips). Still,
# in these rooms the direction is plainly in the features; what the model does with it is the subject
# of the later chapters.
#
# ## Scenes where *when* matters: a moving source
#
# Above, each event fills one half of a 2 s clip, so a model that pools over time can read the order
# from the clip's edges ({doc}`18_appendix_order_cues`). The **timed** layout (`layout="timed"`) takes
# that cue away: 4 s clips, 2 or 3 events at random onsets with random durations (0.3-2 s) and silences
# between them, some overlapping, and one source that **moves** along an arc of 60-165°, rendered with
# its direction changing sample by sample and captioned so ("..., moving from the front right to the
# front left"). A fifth clip, `neg_m`, has the moving source travel its path the other way round. The
# figure measures the direction of one timed scene from its rendered audio: the intensity vector's
# azimuth in every frame (`sclap_nb.viz.frame_azimuth`) while the mover plays alone, against its path.

# %%
timed_root = ensure_corpus(ROOT / f"data/book-timed-0-0-4-s{seed}", n_train=0, n_val=0, n_test=4, seed=seed,
                           clip_seconds=4.0, layout="timed", progress=False)
timed = {r["role"]: r for r in read_metadata(timed_root, "test") if r["scene"] == 0}
extract = FOAFeatures(features).eval()


def wrap(deg):
    return (np.asarray(deg) + 180.0) % 360.0 - 180.0


def direction_track(row):
    """Frame times, measured azimuths, the path's azimuths and which frames the mover has to itself."""
    with torch.no_grad():
        _, liv = extract(torch.from_numpy(load_clip(timed_root, row))[None])
    t = np.arange(liv.shape[2]) * hop_s
    measured = wrap(viz.frame_azimuth(liv[0]).numpy())
    mover = next(e for e in row["events"] if e["moving"])
    u = np.clip((t - mover["onset"]) / mover["duration"], 0.0, 1.0)
    path = wrap(mover["azimuth"] + wrap(mover["azimuth_end"] - mover["azimuth"]) * u)
    level = (10 ** (liv[0, 0].numpy() / 10)).mean(1)  # energy of W per frame
    others = [(e["onset"], e["onset"] + e["duration"]) for e in row["events"] if not e["moving"]]
    alone = (u > 0) & (u < 1) & ~np.any([(t >= a) & (t <= b) for a, b in others] or [np.zeros_like(t, bool)], 0)
    alone &= level > level[alone].max() / 100 if alone.any() else alone  # within 20 dB of its loudest frame
    return t, measured, path, alone, mover


fig, axes = plt.subplots(1, 2, figsize=(11, 3.0), sharey=True)
errors = {}
for ax, role in zip(axes, ("pos", "neg_m")):
    t, measured, path, alone, mover = direction_track(timed[role])
    errors[role] = float(np.median(np.abs(wrap(measured[alone] - path[alone]))))
    for e in timed[role]["events"]:
        ax.axvspan(e["onset"], e["onset"] + e["duration"], color="0.9" if not e["moving"] else "C0", alpha=0.25, lw=0)
    ax.plot(t[alone], measured[alone], ".", color="C0", label="measured (intensity vector per frame)")
    ax.plot(t[(t >= mover["onset"]) & (t <= mover["onset"] + mover["duration"])],
            path[(t >= mover["onset"]) & (t <= mover["onset"] + mover["duration"])], "-", color="C3", label="path (metadata)")
    ax.set_title(f"{role}: {mover['class']}, {mover['azimuth']:.0f}° to {mover['azimuth_end']:.0f}°")
    ax.set_xlabel("time (s)")
axes[0].set_ylabel("azimuth (degrees, +90 = left)")
axes[0].legend(loc="best")
fig.tight_layout()
viz.save(fig, FIG / "02_moving_source.png")
plt.close(fig)
for role, err in errors.items():
    record(f"moving_{role}_median_err", err, tol=2.0, label=f"{role}: median |measured - path| (degrees)",
           why="frames near the room's reflections move by a degree or two between CPUs")
glue("moving_class", timed["pos"]["events"][[e["moving"] for e in timed["pos"]["events"]].index(True)]["class"], display=False)

# %% [markdown]
# ```{figure} ../figures/02_moving_source.png
# :name: fig-02-moving-source
# The azimuth of one timed scene's moving source ({glue:text}`moving_class`), measured frame by frame from
# the rendered FOA (dots: frames where it plays alone, within 20 dB of its loudest) against the path of
# its metadata (red line), in `pos` (left) and in `neg_m` (right), where it travels the other way. Shaded:
# the events' spans (blue: the moving one).
# ```
#
# The measured direction follows the path: the median distance between the two is
# {glue:text}`moving_pos_median_err:.1f`° in `pos` and {glue:text}`moving_neg_m_median_err:.1f`° in
# `neg_m`, in a reverberant room (the reflections pull single frames off the path). Listen to the five
# clips of the scene; only the moving source's direction of travel tells `pos` from `neg_m`:

# %%
players = [f"<p><b>{role}</b> <audio controls preload='none' src='data:audio/flac;base64,"
           f"{base64.b64encode(audio_bytes(foa_to_stereo(load_clip(timed_root, r)), sr)).decode()}'></audio> "
           f"{html.escape(r['caption'])}</p>" for role, r in timed.items()]
HTML("".join(players))

# %% [markdown]
# ## What the model must learn
#
# * From W alone, `pos` and `neg_s` differ only in loudness and room sound, not in any direction:
#   the spatial branch (logmelIV) is what tells them apart.
# * From a time-pooled summary, `pos` and `neg_t` hold the same events at the same places in the other
#   order: the temporal encoder of chapter *Temporal chunking* keeps the order.
# * `neg_c` has `pos`'s directions in `pos`'s order: only *which sound* comes first, and so where each
#   sound is, tells it apart; a model that hears only directions cannot.
# * The captions differ only in the order of phrases or in two direction words: the text side must
#   keep word order, which a mean over token states does not.
#
# ## Takeaway
#
# A scene is two sounds at two places in four clips that share every sound and differ only in order
# and place. FOA carries the place in the level and sign of Y, Z and X against W: a pair of virtual
# cardioids turns it into stereo you can hear, and the intensity vectors point at each source well
# enough that their plain average over an event lands a few degrees from the label on average, a little
# closer than the trained DOA head of the default run gets. W alone cannot tell `pos` from `neg_s`, and a pooled summary cannot tell
# `pos` from `neg_t`: the model needs both a spatial and a temporal path.
#
# ## Exercises
#
# 1. **A pair of cardioids.** For a source in the horizontal plane at azimuth $\varphi$, the corpus
#    stores $(W, Y, Z, X) = s\,(1, \sin\varphi, 0, \cos\varphi)$. Derive the level difference in dB
#    between the two virtual cardioids $L = \tfrac12(W + Y)$ and $R = \tfrac12(W - Y)$. What is it at
#    $\varphi = 60°$? Why do a source at $+30°$ and one at $+150°$ sound alike on headphones?
#
#    :::{dropdown} Solution
#    $L = \tfrac{s}{2}(1 + \sin\varphi)$ and $R = \tfrac{s}{2}(1 - \sin\varphi)$, so the difference is
#    $20 \log_{10} \frac{1 + \sin\varphi}{1 - \sin\varphi}$ dB: 9.5 dB at 30° (the chapter's
#    `cardioid_30_db`), 22.9 dB at 60°, and unbounded at 90°, where $R = 0$. Since
#    $\sin 150° = \sin 30°$, the two sources give the same $L$ and $R$: the front-back component $X$ enters
#    neither cardioid.
#    :::
#
# 2. **Sector words.** The label table of the chapter names each azimuth with
#    `SECTOR_WORDS[round(azimuth / 45) % 8]`, where `SECTOR_WORDS` runs `front, front-left, left,
#    back-left, back, back-right, right, front-right` (0° is front, +90° left). Which word does a source
#    at −100° get, and one at +160°?
#
#    :::{dropdown} Solution
#    $-100 / 45 = -2.2$ rounds to $-2$, and $-2 \bmod 8 = 6$: *right*. $160 / 45 = 3.6$ rounds to 4:
#    *back*.
#    :::
#
# 3. **Rooms off.** Re-run the chapter with plane waves instead of rooms:
#    `papermill notebooks/02_scenes.ipynb runs/02_scenes.ipynb -p anechoic True` (it builds its own
#    corpus, `data/book-scenes-8-4-4-s2025-anechoic`). Before you look, predict: does the intensity
#    average's mean azimuth error (`iv_az_mean`) rise or fall, and does `neg_s` still differ from `pos`
#    in the log-mel of W?
#
#    :::{dropdown} Solution
#    The error falls to a few thousandths of a degree: a plane wave's intensity vector points exactly at
#    its source in every bin, and without a room nothing else arrives. And `neg_s` becomes identical to
#    `pos` in W (a mean log-mel difference of 0.0 dB): a plane wave's W is the same from every direction,
#    and the four clips of a scene play the same two renderings. Only the spatial branch can then tell
#    the spatial negative from the positive.
#    :::
#
# 4. **Another scene.** `-p scene_index 3` draws the figures of another training scene. Find its event
#    with the largest azimuth error of the intensity average and look, in the directions figure, at what
#    the frames of that event do.
#
# 5. **The path the other way.** A model that pools the direction over a whole clip sees the same set
#    of directions in `pos` and `neg_m` of a timed scene. Which of the four other clips could such a
#    model still tell from `pos`, and what must it hear to tell `neg_m` apart?
#
#    :::{dropdown} Solution
#    `neg_s` (the sounds in each other's places: each sound's direction changes) and, if it knows which
#    sound is which, `neg_c` (sounds exchanged, places kept) and `neg_t` (whole events in the other order,
#    each with its own direction, so which sound is heard at which time and place changes). `neg_m` holds
#    the same sounds at the same times over the same directions; only the order of the directions within
#    the moving event differs, so the model must follow the direction over time, within one event.
#    :::
#
# ## References
#
# The scenes follow SALM {cite:p}`hu2025salm` and T-SALM's spatial-temporal negatives {cite:p}`tsalm`;
# FOA, SN3D and virtual microphones are explained by {cite:t}`zotter2019ambisonics`; the rooms come from
# pyroomacoustics' image-source model {cite:p}`scheibler2018pyroomacoustics`; localising sound events in
# FOA is the task of sound event localisation and detection {cite:p}`adavanne2019seld`.
#
# % In JupyterLab a citation shows as its key; the works cited in this chapter:
#
# % `hu2025salm`: Hu et al. (2025). SALM: Spatial Audio Language Model with Structured Embeddings for Understanding and Editing. arXiv preprint arXiv:2507.16724.
#
# % `tsalm`: Cell778 (2025). T-SALM: temporal extension of the spatial audio language model (code and stClotho data layout). https://github.com/Cell778/T-SALM.
#
# % `zotter2019ambisonics`: Zotter and Frank (2019). Ambisonics: A Practical 3D Audio Theory for Recording, Studio Production, Sound Reinforcement, and Virtual Reality. Springer.
#
# % `scheibler2018pyroomacoustics`: Scheibler et al. (2018). Pyroomacoustics: A Python Package for Audio Room Simulation and Array Processing Algorithms. IEEE International Conference on Acoustics, Speech and Signal Processing (ICASSP).
#
# % `adavanne2019seld`: Adavanne et al. (2019). Sound Event Localization and Detection of Overlapping Sources Using Convolutional Recurrent Neural Networks. IEEE Journal of Selected Topics in Signal Processing.

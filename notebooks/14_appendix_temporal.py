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
# # Appendix B: where the order comes from, and the temporal path
#
# ![The model, with the part this appendix is about in colour](../figures/model_temporal.png)
#
# *Run this appendix yourself:* in a clone of the repository, `make setup` once, then `make lab`; in
# JupyterLab open `notebooks/14_appendix_temporal.py`, which opens as a notebook with the outputs
# stored in `14_appendix_temporal.ipynb`. Headless, with other parameters: `mkdir -p runs &&
# papermill notebooks/14_appendix_temporal.ipynb runs/14_appendix_temporal.ipynb -p results_root OTHER`
# (`OTHER`: a folder holding a `results/` of your own). In JupyterLab a citation shows as its key; the
# works are listed under *References* at the end.
#
# **What you will learn here:**
#
# * which cue of a clip lets a time-pooled embedding tell which sound came first: the runs that remove
#   the cues one at a time, every pairwise test of each;
# * why the triplet embedding of the temporal path made E_joint's decisions: its output hardly moved
#   between clips, although a probe can still read the first sound from it;
# * what standardising the chunk tokens' content (`model.temporal_token_norm`) changes, paired by seed:
#   nothing measurable on the default corpus, the order of the sounds on cue-free clips.
#
# The results chapter ({doc}`11_results`, findings 2 and 3) states the conclusions; this appendix has
# the runs and the numbers behind them. Every run was trained with `python -m sclap_nb.train` and is
# read by name from `results/experiments` (`sclap_nb.results`); the tables come from `sclap_nb.report`.

# %% tags=["parameters"]
fast = True  # nothing here trains: the page reads stored results either way
results_root = None  # a folder holding results/ (None: this checkout's)
seed = 2025  # the seed of the small corpora that measure the order cues

# %%
import matplotlib.pyplot as plt
import pandas as pd

from sclap_nb import report, viz
from sclap_nb.notebook import figures_dir, glue, setup_chapter
from sclap_nb.results import load_run

ROOT = setup_chapter(threads=1)
FIG = figures_dir(ROOT)
default_run = load_run("train", results_root)
rerun = {"s2025": default_run.metrics, "s2026": load_run("train_seed2026", results_root).metrics}


def glue_all(facts: dict) -> None:
    """Glue every number of ``facts`` for the prose (hidden outputs)."""
    for k, v in facts.items():
        glue(k, v, display=False)


# %% [markdown]
# ## Where the order comes from
#
# A time-pooled E_joint should not know which sound comes first, yet the SALM baseline passes the order
# test. The experiments (seed 2025, one run each, default size, the specification's settings) remove the
# candidate cues one at a time; chapter {doc}`04_temporal_chunking` explains each cue and draws the
# result ({numref}`order-cues`):
#
# * an **anechoic** corpus (no room at all);
# * the **isolated layout** (each reverberant event confined to its half, so no reverberation crosses
#   the middle);
# * the isolated layout with **circular time padding** in the CNNs (no clip edges).
#
# Each row gives both embeddings' T2A R@1, each pairwise test (the share of scenes whose pos clip the
# pos caption scores above neg_t, neg_s and neg_c) and `order_acc` (above neg_t and neg_c).

# %%
cues = report.cue_table(results_root)
glue_all(report.cue_facts(cues))
glue("one_in_three", 1 / 3, display=False)
cues.round(3)

# %% [markdown]
# * **Reverberation across the middle: not the cue.** With each event's reverberation kept in its own
#   half, the baseline's E_joint still scores `order_acc` {glue:text}`iso_base_order:.3f`
#   ({glue:text}`room_base_order:.3f` on the default corpus, same seed) and `vs_neg_s`
#   {glue:text}`iso_base_s:.2f`.
# * **The clip edges: the cue.** With circular padding as well, the baseline falls to `order_acc`
#   {glue:text}`circ_base_order:.3f` (`vs_neg_t` {glue:text}`circ_base_t:.2f`) and loses place with
#   it (`vs_neg_s` {glue:text}`circ_base_s:.2f`); its T2A R@1 drops to {glue:text}`circ_base_r1:.2f`,
#   about what choosing among a scene's three clips at random gives ({glue:text}`one_in_three:.2f`).
#   The pool knew which sound was where, and which came first, only through where each sound sat
#   against the edges of the clip.
# * **The temporal path does not take over.** The full model on the same cue-free clips: triplet
#   `order_acc` {glue:text}`circ_all_order:.3f`, `vs_neg_t` {glue:text}`circ_all_t:.2f`, `vs_neg_s`
#   {glue:text}`circ_all_s:.2f`. Its 3-way loss stayed near ln 3 for the whole run: the chunked,
#   position-embedded temporal encoder, as specified and trained here, does not learn the order of the
#   sounds once the edge shortcut is gone (the next section says why, and what changes it).
# * **The anechoic corpus** had already shown the same collapse (`vs_neg_t` {glue:text}`an_base_t:.2f`,
#   `vs_neg_s` {glue:text}`an_base_s:.2f`, T2A R@1 {glue:text}`an_base_r1:.2f` against
#   {glue:text}`room_base_r1:.2f` in rooms), but it removes every room cue at once and could not say
#   which one mattered; it could be read as "the order comes from the reverberation", which the
#   isolated run refutes.
#
# (The rooms rows were trained on a GPU, the others on the CPU; one seed each. The sweep's
# `concat4_iso_circ`, in the appendix {doc}`15_appendix_experiments`, is the same cue-free test with the
# default run's 4-way term and ordered readout, over three seeds.)
#
# ## Why the temporal path agreed with E_joint
#
# Without the token norm, the triplet embedding made E_joint's decision in nearly every scene of the
# default run (appendix {doc}`13_appendix_scenes`) and scored the same `order_acc` within one scene in
# every run of the sweep. The reason is in the temporal path itself. `scripts/probe_first_sound.py`
# embeds every test clip (four per scene) with a trained model and measures, for each audio embedding,
# how much it differs between clips (`spread`: the RMS distance of the clips' unit embeddings from their
# mean, 0 for one vector for every clip; `mean_cos`: the mean cosine between two clips), and how often a
# linear probe (a logistic regression on standardised features, trained on the train clips) names the
# class of the first sound (35 classes). In a scene the first sound is A in two clips (pos, neg_s) and B
# in the other two, so an embedding that holds both sounds but not their order can name the first one
# in about half the clips at best. `temporal` is the output of the TemporalAudioEncoder before it is
# joined to E_joint.
#
# The table holds every run with such a probe (`first_sound_probe.json` beside its `metrics.json`): the
# specification's settings (`spec_settings_s2025`), the default settings without and with
# `temporal_token_norm` on the default corpus (`no_token_norm_s*`, `tokennorm_s*`: three seeds each;
# `tokennorm_s2025` has the default run's settings and was trained before a refactoring that changed
# float rounding, `results/train` after it), and with it on the cue-free clips of the previous section
# (`tokennorm_isolated_circular_s2025`).

# %%
probes, values = report.probe_table(results_root)
pf = report.probe_facts(values)
glue_all(pf)
off = [v for v in values.values() if not v["token norm"]]
on = [v for v in values.values() if v["token norm"]]
assert all(v["temporal/spread"] < 1e-3 for v in off)  # "hardly moves"
assert 1e4 < pf["tn_spread_ratio"] < 1e5  # "tens of thousands of times smaller"
assert min(v["temporal/first_acc"] for v in off) > 0.5  # "more than an order-blind embedding can"
assert all(abs(v["triplet/first_acc"] - v["joint/first_acc"]) < 0.03 for v in values.values())  # "as often"
assert all(v["temporal/first_acc"] < 2 * v["chance_majority"] for v in on)  # "about what ... gives"
fig = report.plot_run_bars(probes, {"first sound: E_joint": "E_joint", "first sound: temporal": "temporal",
                                    "first sound: triplet": "triplet", "chance": "commonest class"},
                           embedding_of={"first sound: E_joint": "joint", "first sound: temporal": "temporal",
                                         "first sound: triplet": "triplet", "chance": "0.45"},
                           xlabel="share of test clips whose first sound the probe names")  # fmt: skip
viz.save(fig, FIG / "14_first_sound.png")
plt.close(fig)
probes.drop(columns=["DOA head"]).round(4)

# %% [markdown]
# ```{figure} ../figures/14_first_sound.png
# :name: fig-14-first-sound
# Per probed run, how often a linear probe names the class of the first sound of a test clip from
# E_joint (blue), from the temporal embedding before it is joined to E_joint (pink) and from the triplet
# embedding (orange); grey: always naming the commonest class.
# ```
#
# Without the option the temporal embedding hardly moves between clips: its spread is
# {glue:text}`tn_off_spread:.1e` in the default settings of seed 2025 and at most
# {glue:text}`tn_off_spread_max:.1e` in any probed run without it, against {glue:text}`tn_off_j_spread:.2f`
# for E_joint (mean cosine between clips {glue:text}`tn_off_cos:.4f`). What moves is not noise: the
# standardised probe names the first sound of {glue:text}`tn_off_temp_first:.3f` of the test clips from
# it (E_joint: {glue:text}`tn_off_j_first:.3f`; chance {glue:text}`tn_off_chance:.3f`), and of at least
# {glue:text}`tn_off_first_min:.3f` in every such run, more than an order-blind embedding can. The
# encoder does compute which sound comes first, but at a scale tens of thousands of times smaller than
# E_joint's, and the projection that joins it to E_joint makes nothing of it: the triplet embedding names
# the first sound as often as E_joint ({glue:text}`tn_off_t_first:.3f`). The cause is in the chunk
# tokens (`TemporalAudioEncoder`, `sclap_nb/model.py`): a token is the projected mean of a ReLU feature
# map plus a learned position of unit scale, and the part of the content that differs between clips is
# about 0.1 per unit. At initialisation the encoder's output already has a mean cosine of 0.99 between
# clips; training took it to 1.0000.
#
# The option `temporal_token_norm=True` standardises each token's content over the batch (a BatchNorm)
# before the position is added. The temporal embedding then spreads by {glue:text}`tn_on_spread_min:.2f`
# to {glue:text}`tn_on_spread_max:.2f`, but what it follows is not the class of a sound: the probe names
# the first sound from it in at most {glue:text}`tn_on_first_max:.3f` of the clips, about what always
# naming the commonest class gives, and the triplet embedding names it about as often as E_joint.
#
# ## The token norm, paired by seed
#
# What the option changes is in the decisions between a scene's clips given its caption: three seeds on
# the default corpus and five on the cue-free clips, each without and with the option, paired by seed
# (the mean difference and its 95 % t-interval); and within each setting the triplet embedding against
# E_joint.

# %%
default_corpus, cuefree = report.token_norm_runs(results_root)
tn_rows, tn = report.token_norm_comparison(default_corpus, cuefree)
dc_none = default_corpus[default_corpus["config"] == "none"].set_index("seed")
dc_norm = default_corpus[default_corpus["config"] == "token norm"].set_index("seed")
for k, m in rerun.items():  # the default runs, trained again with the option (other float rounding)
    tn[f"tn_rerun_probe_{k}"] = m["modality/probe_acc"]
    tn[f"tn_none_probe_{k}"] = dc_none.loc[int(k[1:]), "modality/probe_acc"]
glue_all(tn)
# the words of this section, checked against the files
assert len(dc_norm) == 3 and (cuefree["config"] == "token norm").sum() == (cuefree["config"] == "none").sum() == 5
assert all(tn[f"tn_dc_{k}_lo"] < 0 < tn[f"tn_dc_{k}_hi"] for k in ("order", "r1", "jr1", "le", "probe"))  # "no interval"
assert tn["tj_dc_order_lo"] < 0 < tn["tj_dc_order_hi"]  # "not ahead of E_joint"
assert (dc_none["triplet/order_acc"] == dc_none["joint/order_acc"]).all()  # "exactly E_joint's order_acc"
assert (dc_norm["modality/probe_acc"] > dc_none["modality/probe_acc"]).all()  # "higher on each seed"
assert tn["tn_rerun_probe_s2025"] < tn["tn_none_probe_s2025"]  # "below ... on seed 2025"
assert tn["tn_nn_r1_lo"] > 0 and tn["tj_nn_r1_lo"] > 0  # cue-free retrieval: "the intervals exclude 0"
assert tn["tn_nn_order_lo"] > 0 and tn["tj_nn_order_lo"] < 0 < tn["tj_nn_order_d"]  # "still reaches below 0"
assert 0 < tn["tn_jn_order_d"] < tn["tn_nn_order_d"]  # "E_joint gains too, less"
assert tn["tn_norm_order_min"] < 0.5 < tn["tn_norm_order_max"] and tn["tn_none_order_max"] < 0.5
assert tn["tn_n_above"] == 4  # "four of the five seeds"
assert all(abs(tn[f"tj0_nn_{k}_d"]) < 0.03 for k in ("order", "place", "r1"))  # "without it the two agree"
report.difference_table(tn_rows)

# %% [markdown]
# * **On the default corpus it changes nothing that three seeds can measure.** Paired by seed
#   (`no_token_norm_s*` against `tokennorm_s*`), the option moves the triplet embedding's `order_acc` by
#   {glue:text}`tn_dc_order_d:+.3f` [{glue:text}`tn_dc_order_lo:+.3f`, {glue:text}`tn_dc_order_hi:+.3f`],
#   its T2A R@1 by {glue:text}`tn_dc_r1_d:+.3f` [{glue:text}`tn_dc_r1_lo:+.3f`, {glue:text}`tn_dc_r1_hi:+.3f`],
#   the localisation error by {glue:text}`tn_dc_le_d:+.2f`° [{glue:text}`tn_dc_le_lo:+.2f`,
#   {glue:text}`tn_dc_le_hi:+.2f`] and the modality probe's accuracy by {glue:text}`tn_dc_probe_d:+.3f`
#   [{glue:text}`tn_dc_probe_lo:+.3f`, {glue:text}`tn_dc_probe_hi:+.3f`]: no interval excludes 0. The probe
#   is higher with the option on each seed, but the default runs trained again with it (other float
#   rounding) score {glue:text}`tn_rerun_probe_s2025:.3f` and {glue:text}`tn_rerun_probe_s2026:.3f`,
#   against {glue:text}`tn_none_probe_s2025:.3f` and {glue:text}`tn_none_probe_s2026:.3f` without: one
#   run's probe moves with rounding as much as with the option. With it the triplet `order_acc` ranges from
#   {glue:text}`tn_dc_order_min:.3f` to {glue:text}`tn_dc_order_max:.3f` over the seeds, but it is not
#   ahead of E_joint's ({glue:text}`tj_dc_order_d:+.3f` [{glue:text}`tj_dc_order_lo:+.3f`,
#   {glue:text}`tj_dc_order_hi:+.3f`]): the clip's edges give both embeddings the order here. Without it
#   the triplet embedding scored exactly E_joint's `order_acc` on each of the three seeds.
# * **On the cue-free clips the temporal path starts to earn its place.** Five seeds of the default
#   settings on the CPU, without and with the option (`no_token_norm_isolated_circular_s*`,
#   `tokennorm_isolated_circular_s*`). Paired by seed, the option raises the triplet embedding's
#   `order_acc` by {glue:text}`tn_nn_order_d:+.3f` [{glue:text}`tn_nn_order_lo:+.3f`,
#   {glue:text}`tn_nn_order_hi:+.3f`] and its T2A R@1 by {glue:text}`tn_nn_r1_d:+.3f`
#   [{glue:text}`tn_nn_r1_lo:+.3f`, {glue:text}`tn_nn_r1_hi:+.3f`]: both intervals exclude 0. Over the
#   five seeds its `order_acc` ranges from {glue:text}`tn_norm_order_min:.3f` to
#   {glue:text}`tn_norm_order_max:.3f` (above 0.5 on {glue:text}`tn_n_above` of them), while no run
#   without the option passes {glue:text}`tn_none_order_max:.3f`: with the norm the model hears which
#   sound comes first where the clip's edges do not give it away. E_joint gains too (by
#   {glue:text}`tn_jn_order_d:+.3f` on average), since the shared encoders train through the temporal
#   path. Within the runs with the option the triplet embedding retrieves better than E_joint by
#   {glue:text}`tj_nn_r1_d:+.3f` [{glue:text}`tj_nn_r1_lo:+.3f`, {glue:text}`tj_nn_r1_hi:+.3f`] and leads
#   it on order by {glue:text}`tj_nn_order_d:+.3f` [{glue:text}`tj_nn_order_lo:+.3f`,
#   {glue:text}`tj_nn_order_hi:+.3f`], an interval that still reaches below 0; without the option the two
#   agree within 0.03 on every metric.
#
# Since the option costs nothing measurable on the default corpus and lets the temporal path act where
# the edges do not give the order away, the default run uses it (`model.temporal_token_norm = true` in
# the default preset, a departure from the specification; the `specification` preset keeps `false`).
# The ablation and the sweep ran without it.

# %% [markdown]
# ## Where else can the order come from?
#
# This section measures the order cues of {doc}`04_temporal_chunking`'s clips on small corpora built
# here (seconds) and reads the trained runs of `results/experiments`, `results/ablation` and
# `results/sweep` of this checkout.

# %%
import numpy as np
import torch

from sclap_nb.data import ensure_corpus
from sclap_nb.features import FeatureConfig, FOAFeatures
from sclap_nb.model import ConvEncoder
from sclap_nb.notebook import record

# %% [markdown]
# A pooled embedding should not know which sound came first, yet at full size the SALM baseline, whose
# E_joint is exactly such a pool, passes the order tests ({doc}`11_results`). Three things in a clip of
# this corpus could carry the order past the pool, and each can be removed and measured:
#
# 1. **the reverberation across the middle.** In the default corpus ("spill" layout) the first event's
#    reverberation tail runs on into the second half while the second event's tail is cut off at the
#    end of the clip. The "isolated" layout (`build_corpus(..., layout="isolated")`,
#    `python -m sclap_nb.train --layout isolated`) confines each reverberant event to its own half and
#    fades it out before the half ends, so neg_t is pos with its halves swapped, sample for sample;
# 2. **the clip's edges.** A convolution pads time with zeros, so the sound next to the start of the
#    clip is seen against silence on one side, the sound next to the end on the other. With
#    `time_padding="circular"` (a `ModelConfig` field) time wraps around: the encoder has no edges, and
#    swapping a clip's halves only shifts its feature map;
# 3. **the convolutions' view across the cut** in the middle, A→B in pos and B→A in neg_t. With time
#    wrapping around, a clip has two cuts (the middle and the wrap), A→B and B→A in both orders, so
#    this cue goes with the edges.
#
# First, how large each cue is before any training: the reverberation that crosses the middle, as the
# energy of neg_t minus pos-with-its-halves-swapped relative to the clip's energy, on a few scenes of
# each layout.

# %%
import json
import re

import pandas as pd
import seaborn as sns

from sclap_nb.ablation import collect_experiments, collect_named
from sclap_nb.data import load_clip, read_metadata
from sclap_nb.reference import halves_swapped_residual_db

cue_dirs = {layout: ensure_corpus(ROOT / f"data/book-cues-{layout}-8-s{seed}", n_train=8, n_val=0, n_test=0, seed=seed,
                                  layout=layout, progress=False) for layout in ("spill", "isolated")}  # fmt: skip
residual = {layout: halves_swapped_residual_db(d) for layout, d in cue_dirs.items()}
for layout, r in residual.items():
    print(f"{layout:8s}: neg_t - swapped pos, dB below pos per scene: {np.round(r, 1)}")
glue("spill_residual_max_db", float(residual["spill"].max()), display=False)
glue("spill_residual_min_db", float(residual["spill"].min()), display=False)

# %% [markdown]
# In the spill layout the tail that crosses the middle has {glue:text}`spill_residual_max_db:.0f` to
# {glue:text}`spill_residual_min_db:.0f` dB of the clip's energy: small, but within the 80 dB range of a
# log-mel spectrogram. In the isolated layout neg_t is exactly pos with its halves swapped: no residual
# at all on any scene.
#
# The edges, on an untrained spatial branch: the relative distance between the pooled latents of pos and
# of neg_t, with zero and with circular time padding, against the distance between pos and neg_s
# (different places: a difference the latent should keep) for scale.

# %%
feats = FOAFeatures(FeatureConfig()).eval()
iso = {}
for r in read_metadata(cue_dirs["isolated"], "train"):
    iso.setdefault(r["scene"], {})[r["role"]] = torch.from_numpy(load_clip(cue_dirs["isolated"], r))
with torch.no_grad():
    ivs = {role: feats(torch.stack([sc[role] for sc in iso.values()]))[1] for role in ("pos", "neg_t", "neg_s")}
    edge = {}
    for padding in ("zeros", "circular"):
        torch.manual_seed(seed)
        enc = ConvEncoder(7, time_padding=padding).eval()
        lat = {role: enc(x)[0] for role, x in ivs.items()}
        for neg in ("neg_t", "neg_s"):
            edge[(padding, neg)] = ((lat["pos"] - lat[neg]).norm(dim=1) / lat["pos"].norm(dim=1)).mean().item()
# tolerance: the conclusion compares distances 0.003 or more apart; float rounding moves them by 1e-8
for (padding, neg), value in edge.items():
    _ = record(f"edge_{padding}_{neg}", value, tol=1e-4, fmt=".4f", label=f"{padding:8s} padding, pos vs {neg}",
               why="an untrained encoder; only float rounding differs")

# %% [markdown]
# With zero padding, swapping the halves moves the pooled latent by {glue:text}`edge_zeros_neg_t:.3f`
# (relative), more than moving the two sounds to each other's place does
# ({glue:text}`edge_zeros_neg_s:.3f`): the edges alone make the pool order-aware. With circular padding
# the swap moves it by {glue:text}`edge_circular_neg_t:.3f` against {glue:text}`edge_circular_neg_s:.3f`
# for the places. What is left is not an order cue: the swap shifts the map by 100 frames, which is not a
# multiple of the encoder's time reduction of 8, so each event lands at another phase of the pooling grid;
# the events' onsets are jittered anyway, so that phase is random in either half (the unit test
# `test_circular_time_padding_makes_the_pooled_latent_blind_to_a_circular_shift` shows the latent is
# unchanged, to float precision, by a shift that is a multiple of 8).
#
# Whether a trained model uses these cues is what matters. Each row below is a full default-size
# training (512 scenes, 18 epochs) of the SALM baseline or of the full model, on the spill or the
# isolated layout, with zero or circular padding; its test `order_acc` (pos above both neg_t and neg_c:
# needs the order of the sounds; 1/3 for random scores) and `vs_neg_c` for both audio embeddings. The baseline's row
# on the default corpus is the mean of three seeds of the ablation, the last two rows the means of three seeds of
# the sweep (`results/sweep`), the others one seed each
# (`results/experiments`).

# %%
def _metrics(path):
    p = ROOT / path / "metrics.json"
    return json.loads(p.read_text()) if p.is_file() else None


abl = [json.loads(p.read_text()) for p in sorted((ROOT / "results/ablation/runs").glob("salm_baseline_s*/metrics.json"))]
sweep = collect_named(ROOT / "results/sweep/runs") if (ROOT / "results/sweep/runs").is_dir() else pd.DataFrame()


# the default settings on cue-free clips, without and with the tokens' content standardised (CPU, bf16)
cpu_cuefree = pd.concat([collect_experiments(ROOT / "results/experiments", "no_token_norm_isolated_circular_s*", "none"),
                         collect_experiments(ROOT / "results/experiments", "tokennorm_isolated_circular_s*", "token norm")],
                        ignore_index=True)


def _mean_of(table, config):
    """The mean over seeds of a sweep configuration's metrics (None when it has not run)."""
    part = table[table["config"] == config] if len(table) else table
    return None if part.empty else part.mean(numeric_only=True).to_dict()


conditions = {  # name -> (layout, padding, model, metrics)
    "baseline, spill, zeros (3 seeds)": ("spill", "zeros", "SALM baseline",
                                         {k: float(np.mean([m[k] for m in abl])) for k in abl[0] if isinstance(abl[0][k], float)}
                                         if abl else None),
    "baseline, isolated, zeros": ("isolated", "zeros", "SALM baseline", _metrics("results/experiments/baseline_isolated_s2025")),
    "baseline, isolated, circular": ("isolated", "circular", "SALM baseline",
                                     _metrics("results/experiments/baseline_isolated_circular_s2025")),
    "full model, spill, zeros": ("spill", "zeros", "all", _metrics("results/experiments/spec_settings_s2025")),
    "full model, isolated, circular": ("isolated", "circular", "all", _metrics("results/experiments/all_isolated_circular_s2025")),
    "full model, isolated, circular, w_ts = 1": ("isolated", "circular", "all",
                                                 _metrics("results/experiments/all_isolated_circular_wts1_s2025")),
    "4-way at w_ts = 1, spill, zeros (3 seeds)": ("spill", "zeros", "all", _mean_of(sweep, "concat4")),
    "4-way at w_ts = 1, isolated, circular (3 seeds)": ("isolated", "circular", "all", _mean_of(sweep, "concat4_iso_circ")),
    "4-way, isolated, circular (5 seeds, CPU)": ("isolated", "circular", "all", _mean_of(cpu_cuefree, "none")),
    "4-way, token norm, isolated, circular (5 seeds, CPU)": ("isolated", "circular", "all",
                                                             _mean_of(cpu_cuefree, "token norm")),
}  # fmt: skip
rows = []
for name, (layout, padding, model, m) in conditions.items():
    if m is None:
        print(f"{name}: not run yet")
        continue
    for emb in ("joint", "triplet"):
        if f"{emb}/order_acc" in m:
            rows.append({"condition": name, "embedding": "E_joint" if emb == "joint" else "triplet",
                         "order_acc": m[f"{emb}/order_acc"], "vs_neg_t": m[f"{emb}/vs_neg_t"],
                         "vs_neg_c": m[f"{emb}/vs_neg_c"], "vs_neg_s": m[f"{emb}/vs_neg_s"],
                         "T2A R@1": m[f"{emb}/t2a/R@1"]})  # fmt: skip
cues = pd.DataFrame(rows)
print(cues.round(3).to_string(index=False))
iso4 = conditions["4-way at w_ts = 1, isolated, circular (3 seeds)"][3]
probe = {name: json.loads((ROOT / path / "first_sound_probe.json").read_text())
         for name, path in (("default", "results/experiments/no_token_norm_s2025"),
                            ("norm_iso", "results/experiments/tokennorm_isolated_circular_s2025"))
         if (ROOT / path / "first_sound_probe.json").is_file()}  # fmt: skip
for name, p in probe.items():
    glue(f"probe_{name}_temporal_cos", p["temporal/mean_cos"])
    glue(f"probe_{name}_temporal_spread", p["temporal/spread"])
    glue(f"probe_{name}_joint_spread", p["joint/spread"])
norm_iso = conditions["4-way, token norm, isolated, circular (5 seeds, CPU)"][3]
glue("n_norm_seeds", int((cpu_cuefree["config"] == "token norm").sum()))
if norm_iso is not None:
    for emb in ("joint", "triplet"):
        for m in ("order_acc", "place_acc", "t2a/R@1"):
            glue(f"norm_iso_{emb}_{m.replace('/', '_').replace('@', '')}", norm_iso[f"{emb}/{m}"])
if iso4 is not None:
    glue("iso4_order", iso4["triplet/order_acc"])
    glue("iso4_vs_c", iso4["triplet/vs_neg_c"])
    glue("iso4_r1", iso4["triplet/t2a/R@1"])
wts1 = conditions["full model, isolated, circular, w_ts = 1"][3]
if wts1 is not None:
    for neg in ("t", "s", "c"):
        glue(f"wts1_vs_{neg}", wts1[f"triplet/vs_neg_{neg}"])
for r in rows:
    key = re.sub(r"_+", "_", "cue_" + "".join(ch if ch.isalnum() else "_" for ch in f"{r['condition']}_{r['embedding']}"))
    glue(key.lower(), r["order_acc"], display=False)

# %%
fig, ax = plt.subplots(figsize=(7.5, 3.2))
order = [c for c in conditions if c in set(cues["condition"])]
sns_palette = {"E_joint": viz.EMBEDDING_PALETTE["joint"], "triplet": viz.EMBEDDING_PALETTE["triplet"]}
sns.barplot(data=cues, y="condition", x="order_acc", hue="embedding", order=order, palette=sns_palette, ax=ax)
ax.axvline(1 / 3, color="0.3", ls="--", lw=1)  # pos the highest of three clips scored at random
ax.text(1 / 3, -0.6, " chance (1/3)", color="0.3", va="bottom")
ax.set(xlim=(0, 1), xlabel="order_acc on the 128 test scenes (pos above neg_t and neg_c)", ylabel="")
ax.legend(title="audio embedding", loc="lower right")
viz.save(fig, FIG / "14_order_cues.png")
plt.close(fig)

# %% [markdown]
# ```{figure} ../figures/14_order_cues.png
# :name: order-cues
# Order accuracy of the pooled E_joint and of the temporal path's triplet embedding, from trained
# default-size runs, as the order cues are removed one after the other: the reverberation across the
# middle (isolated layout), then the clip edges (circular padding); the last two rows train with the
# default run's 4-way term (neg_c included) at full weight, on both corpora. The dashed line is chance: pos
# the highest of three clips scored at random (1/3); a scorer that knows the direction order but not
# the sounds scores 0.5.
# ```

# %% [markdown]
# What the runs show, in order:
#
# * **The reverberation across the middle is not the baseline's cue.** On the isolated layout, with
#   zero padding, the baseline's E_joint still scores `order_acc`
#   {glue:text}`cue_baseline_isolated_zeros_e_joint:.3f` (three seeds on the spill layout:
#   {glue:text}`cue_baseline_spill_zeros_3_seeds_e_joint:.3f`).
# * **The clip's edges are.** With circular padding on the isolated layout the baseline falls to
#   {glue:text}`cue_baseline_isolated_circular_e_joint:.3f`, about the 1/3 of a model that scores pos,
#   neg_t and neg_c at random (`order_acc` needs pos above both; its `vs_neg_t` is 0.500). It also loses
#   *place*: `vs_neg_s` drops to chance too (table above).
#   Knowing which sound is where is a binding problem (pos and neg_s hold the same two sounds and the
#   same two directions); a pool binds them only through *when*, and with the edges gone it has no when.
# * **The temporal path does not take over.** The full model on the same cue-free clips scores
#   {glue:text}`cue_full_model_isolated_circular_triplet:.3f` with its triplet embedding: its 3-way loss
#   stayed near ln 3 ≈ 1.10 for the whole run (1.03 in the last epoch), and its chunked, position-embedded view of time did not learn the
#   order of the sounds in 18 epochs at this size. On the default corpus its `order_acc` equals the
#   pooled E_joint's, because it reads the same edge cue.
# * **With its loss at full weight from the start** (`loss_weights` w_ts = 1, no ramp) the temporal path
#   does learn something on the cue-free clips: its triplet embedding beats neg_t and neg_s on
#   {glue:text}`wts1_vs_t:.3f` and {glue:text}`wts1_vs_s:.3f` of the test scenes. But it beats neg_c on
#   only {glue:text}`wts1_vs_c:.3f`, so its `order_acc` is
#   {glue:text}`cue_full_model_isolated_circular_w_ts_1_triplet:.3f`: it learned the order of the
#   *directions*, which the specification's two negatives both reverse, not the order of the sounds.
# * **With neg_c in the group as well** (the default run's 4-way term at w_ts = 1, concatenated chunk
#   tokens; three seeds of `results/sweep`), the cue-free clips still defeat it: the triplet embedding's
#   `order_acc` is {glue:text}`iso4_order:.3f` on average, `vs_neg_c` {glue:text}`iso4_vs_c:.3f`, and
#   retrieval falls to T2A R@1 {glue:text}`iso4_r1:.3f`. On the default corpus the same settings score
#   `order_acc` {glue:text}`cue_4_way_at_w_ts_1_spill_zeros_3_seeds_triplet:.3f` with the triplet embedding and
#   {glue:text}`cue_4_way_at_w_ts_1_spill_zeros_3_seeds_e_joint:.3f` with E_joint: the neg_c term teaches
#   both embeddings the order, through the edges.
# * **The temporal path had collapsed in scale.** Its output hardly moved between clips: with the
#   default settings before the token norm, the RMS distance of the test clips' temporal embeddings from
#   their mean is {glue:text}`probe_default_temporal_spread:.1e` on the unit sphere, against
#   {glue:text}`probe_default_joint_spread:.2f` for E_joint (`scripts/probe_first_sound.py`). A chunk
#   token is the projected mean of a ReLU feature map plus a position; the part that differs between
#   clips is about a tenth of the unit-scale position, and training let the Transformer all but ignore
#   it. So the triplet embedding was, in effect, a function of E_joint alone. With the token's content
#   standardised over the batch before the position is added (`temporal_token_norm`), the temporal
#   embedding follows the clip (spread {glue:text}`probe_norm_iso_temporal_spread:.2f`) and, on the
#   cue-free clips, the temporal path starts to earn its place: the triplet embedding scores `order_acc`
#   {glue:text}`norm_iso_triplet_order_acc:.3f` against E_joint's {glue:text}`norm_iso_joint_order_acc:.3f`,
#   `place_acc` {glue:text}`norm_iso_triplet_place_acc:.3f` against {glue:text}`norm_iso_joint_place_acc:.3f`,
#   and T2A R@1 {glue:text}`norm_iso_triplet_t2a_R1:.3f` against {glue:text}`norm_iso_joint_t2a_R1:.3f`
#   (last row of the table: the mean of {glue:text}`n_norm_seeds` seeds; the paired intervals below
#   separate the option's order and retrieval gains from zero, not yet the triplet embedding's lead over
#   E_joint on order). On the default corpus, where the
#   edges give the order away, it changes nothing that three seeds can measure (chapter
#   {doc}`11_results`); the default run uses it.
#
# So the order accuracy of the models of the specification's design, the collapsed temporal path
# included, comes from where the sounds sit relative to the clip's edges, not from a learned sense of
# sequence (one seed per cue-free run, but the drops are from about 0.87 to about 0.3, far beyond the
# ablation's seed spread); a temporal path that sees the clip is the first part of the model that
# retrieves better than E_joint without the edges, and on four of five seeds hears the order too.
#
# How sure is that? The cue-free runs on the CPU, paired by seed: the option against the same settings
# without it, and, within the runs with the option, the triplet embedding against E_joint (95 % t-intervals
# over the seeds, `sclap_nb.ablation`).

# %%
from sclap_nb.ablation import paired_differences, t_interval

cue_metrics = ["triplet/order_acc", "triplet/place_acc", "triplet/t2a/R@1"]
paired = paired_differences(cpu_cuefree, "none", metrics=cue_metrics, configs=["token norm"])
norm_runs = cpu_cuefree[cpu_cuefree["config"] == "token norm"]
rows = [{"comparison": "token norm - none", "metric": r.metric, "seeds": r.n, "difference": r.diff,
         "ci_low": r.ci_low, "ci_high": r.ci_high} for r in paired.itertuples()]
for m in ("order_acc", "place_acc", "t2a/R@1"):
    d = norm_runs[f"triplet/{m}"] - norm_runs[f"joint/{m}"]
    lo, hi = t_interval(d)
    rows.append({"comparison": "triplet - E_joint (token norm)", "metric": m, "seeds": len(d), "difference": float(d.mean()),
                 "ci_low": lo, "ci_high": hi})  # fmt: skip
cue_ci = pd.DataFrame(rows)
print(cue_ci.round(3).to_string(index=False))
for r in cue_ci.itertuples():
    key = ("norm_vs_none_" if r.comparison.startswith("token") else "trip_vs_joint_") + re.sub(r"\W+", "_", r.metric.split("/")[-1] if r.comparison.startswith("token") else r.metric)
    for part, v in (("d", r.difference), ("lo", r.ci_low), ("hi", r.ci_high)):
        glue(f"{key}_{part}", float(v))
lows = cue_ci.set_index(["comparison", "metric"])["ci_low"]
# the words above: the option's order and retrieval gains are separated from zero, the triplet's lead on order is not
assert lows[("token norm - none", "triplet/order_acc")] > 0 and lows[("token norm - none", "triplet/t2a/R@1")] > 0
assert lows[("triplet - E_joint (token norm)", "order_acc")] < 0

# %% [markdown]
# Against the same settings without it, the option raises the triplet embedding's `order_acc` by
# {glue:text}`norm_vs_none_order_acc_d:+.3f` [{glue:text}`norm_vs_none_order_acc_lo:+.3f`,
# {glue:text}`norm_vs_none_order_acc_hi:+.3f`] and its T2A R@1 by {glue:text}`norm_vs_none_R_1_d:+.3f`
# [{glue:text}`norm_vs_none_R_1_lo:+.3f`, {glue:text}`norm_vs_none_R_1_hi:+.3f`]; with it, the triplet
# embedding is ahead of E_joint by {glue:text}`trip_vs_joint_order_acc_d:+.3f`
# [{glue:text}`trip_vs_joint_order_acc_lo:+.3f`, {glue:text}`trip_vs_joint_order_acc_hi:+.3f`] on `order_acc`,
# {glue:text}`trip_vs_joint_place_acc_d:+.3f` [{glue:text}`trip_vs_joint_place_acc_lo:+.3f`,
# {glue:text}`trip_vs_joint_place_acc_hi:+.3f`] on `place_acc` and {glue:text}`trip_vs_joint_t2a_R_1_d:+.3f`
# [{glue:text}`trip_vs_joint_t2a_R_1_lo:+.3f`, {glue:text}`trip_vs_joint_t2a_R_1_hi:+.3f`] on T2A R@1.
# An interval that contains 0 does not separate the two; these are cue-free clips, not the default corpus.
#
# ## In short
#
# * The time-pooled E_joint reads the order from where each sound sits against the clip's edges; with
#   the edges and the reverberation across the middle removed, every model of the specification's design
#   falls to chance.
# * The temporal path as specified computes the order, but its output is tens of thousands of times
#   smaller than E_joint's spread, so the triplet embedding repeated E_joint.
# * Standardising the chunk tokens' content makes the temporal path act: on cue-free clips it hears the
#   order of the sounds; on the default corpus it changes nothing three seeds can measure.
#
# ## Exercises
#
# 1. **A spread in numbers.** A set of unit vectors that all equal one vector has spread 0. What is the
#    spread of two unit vectors at a cosine of c from each other, as a function of c? With the mean
#    cosine between clips of the temporal embedding without the norm ({glue:text}`tn_off_cos:.4f`), is
#    the spread the table gives plausible?
# 2. **Chance on the first-sound probe.** The probe's chance is "always name the commonest class". With
#    35 classes drawn evenly, what would it be, and why is the table's chance
#    ({glue:text}`tn_off_chance:.3f`) a little higher?
# 3. **Fewer seeds.** In a new cell, keep three of the five cue-free seeds
#    (`fewer = cuefree[cuefree["seed"] <= 2027]`) and call
#    `report.token_norm_comparison(default_corpus, fewer)`. Predict first: does the token norm's gain in
#    the triplet embedding's `order_acc` on cue-free clips still exclude 0?
#
# ```{dropdown} Solutions
# 1. The mean of two unit vectors u, v lies halfway; each is at distance |u − v| / 2 = √(2 − 2c) / 2
#    from it, so the spread is √((1 − c) / 2). For N clips, spread² = 1 − |mean|², and |mean|² is the
#    mean cosine over all N² pairs, self-pairs included: about the mean cosine c̄ between two clips when N
#    is large, so spread ≈ √(1 − c̄). A spread of {glue:text}`tn_off_spread:.1e` means a mean cosine within
#    about its square of 1, far closer than the four decimals the table shows: plausible.
# 2. 1 / 35 ≈ 0.029. The test clips draw their classes at random, so the commonest class of a test split
#    holds more than its share of first sounds.
# ```
#
# (Exercise 3 depends on the seeds you keep: the half-width grows from t(0.975, 4) / √5 = 1.24 to
# t(0.975, 2) / √3 = 2.48 sample standard deviations, twice as wide at the same spread.)
#
# ## References
#
# The baseline's E_joint is SALM's {cite:p}`hu2025salm`; the temporal path, its chunk tokens and the
# hard negatives follow T-SALM {cite:p}`tsalm`; the chunk tokens feed a Transformer encoder
# {cite:p}`vaswani2017attention`.
#
# % In JupyterLab a citation shows as its key; the works cited in this appendix:
#
# % `hu2025salm`: Hu et al. (2025). SALM: Spatial Audio Language Model with Structured Embeddings for Understanding and Editing. arXiv preprint arXiv:2507.16724.
#
# % `tsalm`: Cell778 (2025). T-SALM: temporal extension of the spatial audio language model (code and stClotho data layout). https://github.com/Cell778/T-SALM.
#
# % `vaswani2017attention`: Vaswani et al. (2017). Attention Is All You Need. Advances in Neural Information Processing Systems (NeurIPS).

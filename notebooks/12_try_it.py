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
# # Try it
#
# ![The model, with the part this chapter is about in colour](../figures/model_retrieval.png)
#
# *Run this chapter yourself:* in a clone of the repository, `make setup` once, then `make lab`; in
# JupyterLab open `notebooks/12_try_it.py`, which opens as a notebook with the outputs stored in
# `12_try_it.ipynb`. Headless, with other parameters: `mkdir -p runs && papermill
# notebooks/12_try_it.ipynb runs/12_try_it.ipynb -p k 10`. In JupyterLab a citation shows as its key
# (`hu2025salm`); the works are listed under *References* at the end.
#
# **What you will learn here:**
#
# * how to search clips with a caption of your own, in three calls of `sclap_nb.api`: `load`,
#   `embed_audio`, `search`;
# * how a caption scores the four clips of its scene (pos, neg_t, neg_s and the class-order negative
#   neg_c), and how often, over all 128 test scenes, the right clip wins;
# * where the trained model fails: the clip with the two sounds in each other's places (neg_c), and
#   how much of a ranking below the first hit follows the layout of the directions rather than the
#   sounds;
# * how the same three calls do on scenes built from **real recordings** the model never heard (24
#   recordings of a Debian package, shipped with the book in `notebooks/sounds/`), and what carries
#   over from the soundfont it trained on: where the sounds are, not what they are; and how the main
#   job's model, which also learnt from recorded sounds, does on them.
#
# A contrastive audio-text model {cite:p}`elizalde2023clap,hu2025salm` is, in use, a search engine:
# embed a caption, embed the clips, rank the clips by cosine similarity. This page does exactly that
# with the trained default run of the book (the halves layout, `results/default`, which the chapters
# before this one study) on the 512 clips of its test split: four clips for each of 128 scenes, in rooms
# the model never heard. The main job's model (`results/train/model`, timed scenes; the chapter
# {doc}`10_train`) loads the same way, and the README's example searches timed scenes with it.
#
# Run the page in JupyterLab (`make lab`) to type your own captions into the search box below. On
# the book's static pages there is no Python kernel behind the page: the search box shows the results
# it had when the page was built, and the example captions further down are precomputed, with a menu
# that switches between them in the browser.

# %% tags=["parameters"]
fast = True  # nothing here trains: the page searches with the stored default model either way
n_test = 128  # scenes: the test split of the default run's corpus (same seed, same clips)
seed = 2025
corpus_dir = None  # default: data/book-text-<n_test>-s<seed> (test split only; built in seconds)
model_dir = "results/default/model"  # the trained default run, exported (config.json + model.safetensors)
k = 5  # clips listed per caption
n_players = 3  # of which the best n_players get an audio player (keeps the stored page small)
sounds_dir = "notebooks/sounds"  # real recordings with a Clotho-layout captions.csv (yours work too)
n_real = 64  # test scenes built from them
real_corpus_dir = None  # default: data/book-real-<n_real>-s<seed>
main_model_dir = "results/train/model"  # the main job's model (timed scenes; soundfont and library sounds)
real_timed_dir = None  # default: data/book-real-timed-<n_real>-s<seed> (the recordings in timed scenes)

# %%
corpus_dir = corpus_dir or f"data/book-text-{n_test}-s{seed}"
real_corpus_dir = real_corpus_dir or f"data/book-real-{n_real}-s{seed}"
real_timed_dir = real_timed_dir or f"data/book-real-timed-{n_real}-s{seed}"

# %% [markdown]
# ## Setup

# %%
import html
import json
import math
from pathlib import Path

import ipywidgets as w
import matplotlib.pyplot as plt
import pandas as pd
import seaborn as sns
import torch
from sclap_nb.notebook import glue

from sclap_nb import viz
from sclap_nb.api import load
from sclap_nb.data import SPEC_ROLES, FolderSource, ensure_corpus, load_clip, read_metadata, sector_of
from sclap_nb.evaluate import evaluate_corpus
from sclap_nb.metrics import GROUP_ROLES, group_scores, order_place_accuracy, retrieval_metrics
from sclap_nb.notebook import figures_dir, record, setup_chapter
from sclap_nb.widgets import audio_bytes, foa_to_stereo, linked_stack

ROOT = setup_chapter(threads=1)
FIG = figures_dir(ROOT)
metrics = json.loads((ROOT / "results" / "default" / "metrics.json").read_text())

# %% [markdown]
# ## Three calls
#
# `load` reads the exported model; `embed_audio` embeds every clip once (here the 512 test clips) and
# keeps the embeddings, so each search afterwards only embeds the caption; `search` returns the best `k` clips with their cosine similarity to the caption.
# Scores are the triplet embedding's (the temporal path's), the model's default; E_joint's come
# later.

# %%
root = ensure_corpus(ROOT / corpus_dir, n_train=0, n_val=0, n_test=n_test, seed=seed, progress=False)
rows = read_metadata(root, "test")
model = load(ROOT / model_dir, device="cpu")
emb = model.embed_audio([str(root / r["file"]) for r in rows], batch_size=64, progress=False)  # no bar in the stored page
row_of = dict(zip(emb.names, rows))
print(f"{len(emb)} clips embedded; default embedding: {model.embedding}; sample rate {model.sample_rate} Hz")

# %%
caption = rows[0]["caption"]  # the pos caption of test scene 0
hits = model.search(caption, emb, k=k)
print(caption)
for rank, hit in enumerate(hits, 1):
    r = row_of[hit.name]
    print(f"{rank}. {Path(hit.name).name:32s} scene {r['scene']:3d} {r['role']:6s} {r['class_1']} then {r['class_2']}")
_ = record("scene0_scores", [h.score for h in hits], tol=0.005, label="their scores (cosine similarity)",
           why="fixed weights; only float rounding differs")


def same_first_sector(hits, scene: int) -> int:
    """How many hits after the first play their first sound in the sector of scene ``scene``'s first sound."""
    first = sector_of(rows[4 * scene]["azimuth_1"])
    return sum(sector_of(row_of[h.name]["azimuth_1"]) == first for h in hits[1:])


_ = record("scene0_same_first", same_first_sector(hits, 0), tol=1, fmt=".0f",
           label="hits 2 to k whose first sound is where scene 0's is (left)", why="a hit near the cut-off may trade places")
classes0 = {rows[0]["class_1"], rows[0]["class_2"]}
_ = record("scene0_same_class", sum(bool({row_of[h.name]["class_1"], row_of[h.name]["class_2"]} & classes0) for h in hits[1:]),
           tol=1, fmt=".0f", label="hits 2 to k that hold a harmonica or a hi-hat", why="a hit near the cut-off may trade places")
glue("k_rest", k - 1, display=False)

# %% [markdown]
# The caption's own clip comes first, well ahead of the rest. Below it come clips of other scenes:
# {glue:text}`scene0_same_first:.0f` of the next {glue:text}`k_rest` plays its first sound on the left,
# as scene 0 does, and {glue:text}`scene0_same_class:.0f` of them hold either of its two sounds. So
# few runners-up say little about what ranks them; the first exercise below lists more.
#
# ## Search with your own caption
#
# In JupyterLab, type a caption and press *search*: the model embeds it and ranks the 512 clips
# again. Each hit shows its score, the clip's file, its scene and role and the caption it was
# rendered from; the best {glue:text}`n_players` have a player. The clips are first-order ambisonics;
# the players decode them to stereo with two virtual cardioid microphones pointing left and right
# (`sclap_nb.widgets.foa_to_stereo`), so on headphones a sound on the left is on the left, while front
# and back sound alike. On this static page the button does nothing: the results are those of the
# caption shown, computed when the page was built.

# %%
glue("n_players", n_players, display=False)
glue("k", k, display=False)
sr = model.sample_rate
players: dict[str, w.Audio] = {}  # one player per clip, shared by every panel that lists it


def player(name: str) -> w.Audio:
    if name not in players:
        stereo = foa_to_stereo(load_clip(root, row_of[name]))
        players[name] = w.Audio(value=audio_bytes(stereo, sr), format="flac", autoplay=False, loop=False,
                                controls=True, layout=w.Layout(width="280px"))
    return players[name]


def hits_table(hits) -> str:
    cells = "".join(
        f"<tr><td>{i}</td><td>{h.score:.3f}</td><td><code>{html.escape(Path(h.name).name)}</code></td>"
        f"<td>{row_of[h.name]['scene']}</td><td>{row_of[h.name]['role']}</td><td>{html.escape(row_of[h.name]['caption'])}</td></tr>"
        for i, h in enumerate(hits, 1)
    )
    head = "<tr><th>#</th><th>score</th><th>file</th><th>scene</th><th>role</th><th>the clip's caption</th></tr>"
    return f"<table style='font-size:0.85em'>{head}{cells}</table>"


def results_panel(caption: str) -> w.VBox:
    hits = model.search(caption, emb, k=k)
    rows_ = [w.HBox([w.HTML(f"<b>#{i}</b>&nbsp;{h.score:.3f}&nbsp;<code>{html.escape(Path(h.name).name)}</code>",
                            layout=w.Layout(width="22em")), player(h.name)], layout=w.Layout(align_items="center"))
             for i, h in enumerate(hits[:n_players], 1)]
    return w.VBox([w.HTML(hits_table(hits)), *rows_])


box = w.Text(value=caption, description="caption", layout=w.Layout(width="44em"))
button = w.Button(description="search", button_style="primary")
live = w.VBox([results_panel(box.value)])


def on_search(_):
    live.children = [results_panel(box.value)]


button.on_click(on_search)
w.VBox([w.HBox([box, button]), live])

# %% [markdown]
# ## Five example captions
#
# Three are pos captions of the test split, as the corpus wrote them: scene 0 and scene 1, and the
# first scene whose pos caption scores its neg_c clip above its pos clip (a failure). Two are typed by
# hand about scene 0 (a harmonica on the left, then a hi-hat to the front right): a paraphrase in
# words the templates do not use, and the same paraphrase with the order of the two events swapped,
# which describes scene 0's neg_t clip. For each, the menu shows the top {glue:text}`k` clips of the
# whole test split and the scores of the four clips of its scene.

# %%
texts = model.embed_text([r["caption"] for r in rows])
roles = [r["role"] for r in rows]
scores = {name: group_scores(emb.get(name), texts, roles) for name in ("joint", "triplet")}  # (128, 4): pos caption vs its clips
failing = (scores["triplet"][:, 3] > scores["triplet"][:, 0]).nonzero().flatten().tolist()
first_fail = failing[0]
scene0 = [r for r in rows if r["scene"] == 0]
assert (scene0[0]["class_1"], scene0[0]["class_2"]) == ("harmonica", "hi-hat"), "the typed captions describe scene 0"
examples = [  # (label, caption, scene, the clip it describes)
    ("scene 0, pos caption", rows[0]["caption"], 0, "pos"),
    ("scene 1, pos caption", rows[4]["caption"], 1, "pos"),
    (f"scene {first_fail}, pos caption (fails)", rows[4 * first_fail]["caption"], first_fail, "pos"),
    ("scene 0, typed paraphrase", "first a harmonica on the left, then a hi-hat at the front right", 0, "pos"),
    ("scene 0, typed, order swapped", "first a hi-hat at the front right, then a harmonica on the left", 0, "neg_t"),
]
assert all(rows[4 * s]["scene"] == s for _, _, s, _ in examples)
for label, text, scene, role in examples:
    print(f"{label:34s} {text}")

# %%
def scene_scores(caption: str, scene: int) -> list[float]:
    """The caption's score against its scene's clips, in GROUP_ROLES order (the default embedding)."""
    clips = emb.get()[4 * scene : 4 * scene + 4]
    return (clips @ model.embed_text(caption)[0]).tolist()


def scene_table(values: list[float], describes: str) -> str:
    best = max(range(4), key=lambda i: values[i])
    cells = "".join(
        f"<td style='color:{'#%02x%02x%02x' % tuple(int(255 * c) for c in viz.ROLE_PALETTE[r])}'>"
        f"{'<b>' if i == best else ''}{v:.3f}{'</b>' if i == best else ''}</td>"
        for i, (r, v) in enumerate(zip(GROUP_ROLES, values))
    )
    head = "".join(f"<th>{r}{' (described)' if r == describes else ''}</th>" for r in GROUP_ROLES)
    return f"<p>Its scene's four clips (bold: the highest):</p><table><tr>{head}</tr><tr>{cells}</tr></table>"


example_scores = [scene_scores(text, scene) for _, text, scene, _ in examples]
panels = [
    w.VBox([w.HTML(f"<p><b>Caption:</b> <i>{html.escape(text)}</i></p>"), results_panel(text),
            w.HTML(scene_table(values, role))])
    for (label, text, scene, role), values in zip(examples, example_scores)
]
menu = w.Dropdown(options=[label for label, *_ in examples], index=0, description="example",
                  layout=w.Layout(width="32em"))
print(f"{len(players)} distinct clips with a player on this page")
linked_stack(menu, panels)

# %%
_ = record("example_scores", example_scores, tol=0.005, fmt=".3f",
           label="each example's scores against its scene's (pos, neg_t, neg_s, neg_c)\n",
           why="fixed weights; only float rounding differs")
wins = [int(max(range(4), key=lambda i: v[i]) == GROUP_ROLES.index(role)) for v, (*_, role) in zip(example_scores, examples)]


def rank_of(caption: str, scene: int, role: str) -> int:
    """Rank (1 = first) of scene ``scene``'s ``role`` clip among all test clips for ``caption``."""
    ranked = [(row_of[h.name]["scene"], row_of[h.name]["role"]) for h in model.search(caption, emb, k=len(emb))]
    return ranked.index((scene, role)) + 1


para_hits = model.search(examples[3][1], emb, k=k)
_ = record("para_rank", rank_of(examples[3][1], 0, "pos"), tol=0, fmt=".0f",
           label="rank of scene 0's pos clip for the typed paraphrase", why="it leads the next clip by 0.09")
_ = record("para_same_first", same_first_sector(para_hits, 0), tol=1, fmt=".0f",
           label="typed paraphrase: hits 2 to k whose first sound is on the left", why="a hit near the cut-off may trade places")
_ = record("fail_pos_rank", rank_of(examples[2][1], first_fail, "pos"), tol=0, fmt=".0f",
           label=f"scene {first_fail}'s pos caption: rank of its pos clip", why="its neighbours are 0.015 and 0.023 away")
_ = record("fail_negc_rank", rank_of(examples[2][1], first_fail, "neg_c"), tol=0, fmt=".0f",
           label=f"scene {first_fail}'s pos caption: rank of its neg_c clip", why="its neighbours are 0.03 away")
_ = record("scene1_negc_rank", rank_of(examples[1][1], 1, "neg_c"), tol=0, fmt=".0f",
           label="scene 1's pos caption: rank of its neg_c clip", why="it leads the next clip by 0.03")
_ = record("swapped_rank", rank_of(examples[4][1], 0, "neg_t"), tol=0, fmt=".0f",
           label="the typed caption with the order swapped: rank of scene 0's neg_t clip", why="it leads the next clip by 0.05")
glue("n_examples_won", sum(wins), display=False)
glue("first_fail", first_fail, display=False)

# %% [markdown]
# Pick an example in the menu. Of the five, {glue:text}`n_examples_won` score the clip they describe
# highest within its scene ({numref}`fig-try-scores`, left). Among all 512 clips:
#
# * the pos captions of scenes 0 and 1 find their clip first; for scene 1 the scene's neg_c comes
#   right behind it, at rank {glue:text}`scene1_negc_rank:.0f`: the bass guitar and the gunshots in
#   each other's places;
# * the pos caption of scene {glue:text}`first_fail` is the first failure in the split: its neg_c clip
#   (the same two sounds, each at the other's place and time) scores above its pos clip within the
#   scene, and among all clips the neg_c clip comes at rank {glue:text}`fail_negc_rank:.0f` and the pos
#   clip only at rank {glue:text}`fail_pos_rank:.0f`, behind clips of other scenes;
# * the typed paraphrase of scene 0, in words the captions of the corpus never use ("first", "at the
#   front right"), still ranks scene 0's pos clip at {glue:text}`para_rank:.0f`; again the clips after
#   it follow the layout ({glue:text}`para_same_first:.0f` of the next {glue:text}`k_rest` play their
#   first sound on the left) more than the sounds;
# * with the order swapped, the typed caption ranks scene 0's neg_t clip at
#   {glue:text}`swapped_rank:.0f`, and within the scene scores neg_t highest and pos lowest, as it
#   should.
#
# ## How often the right clip wins
#
# Over all 128 test scenes, the pos caption against the four clips of its own scene, for both audio
# embeddings (`sclap_nb.metrics.order_place_accuracy`, the numbers the training run reports):

# %%
rates = {}
for name in ("joint", "triplet"):
    acc = order_place_accuracy(emb.get(name), texts, roles)
    for key in ("vs_neg_t", "vs_neg_s", "vs_neg_c", "order_acc"):
        rates[name, key] = acc[key]
        _ = record(f"{name}_{key}", acc[key], tol=1 / 128, label=f"{name:8s}{key}", why="one scene either way")
        glue(f"{name}_{key}_json", metrics[f"{name}/{key}"], display=False)
same = all(abs(rates[n, key] - metrics[f"{n}/{key}"]) <= 1 / 128 for n, key in rates)
print("the same as results/default/metrics.json, within one scene:", same)
glue("t2a_r1_json", metrics["triplet/t2a/R@1"], display=False)
run = json.loads((ROOT / "results" / "default" / "run.json").read_text())
print("hard negatives of the group loss in training:", run["negatives"])
fail_both = ((scores["joint"][:, 3] > scores["joint"][:, 0]) & (scores["triplet"][:, 3] > scores["triplet"][:, 0])).sum()
_ = record("n_fail_triplet", len(failing), tol=1, fmt=".0f", label="scenes whose neg_c beats pos, triplet", why="one scene either way")
_ = record("n_fail_both", fail_both, tol=1, fmt=".0f", label="... of which E_joint fails too", why="one scene either way")
_ = record("n_won", round(rates["triplet", "order_acc"] * len(scores["triplet"])), tol=1, fmt=".0f",
           label="scenes whose pos caption scores pos above neg_t and neg_c, triplet", why="one scene either way")
glue("n_need", math.ceil(0.95 * len(scores["triplet"])), display=False)

# %% tags=["hide-input"]
labels = [label.replace(", ", ",\n", 1) for label, *_ in examples]
bars = pd.DataFrame([(labels[i], role, v) for i, values in enumerate(example_scores) for role, v in zip(GROUP_ROLES, values)],
                    columns=["example", "clip", "score"])
pairwise = pd.DataFrame([(n, key.replace("vs_", "pos above "), v) for (n, key), v in rates.items() if key.startswith("vs_")],
                        columns=["embedding", "test", "share of scenes"])
fig, axes = plt.subplots(1, 2, figsize=(12, 3.9), gridspec_kw={"width_ratios": [1.7, 1]})
sns.barplot(data=bars, x="example", y="score", hue="clip", hue_order=list(GROUP_ROLES), palette=viz.ROLE_PALETTE, ax=axes[0])
axes[0].set_xlabel("")
axes[0].set_ylabel("cosine similarity to the caption")
axes[0].tick_params(axis="x", labelsize="x-small")
axes[0].legend(title="its scene's clip", ncol=4, loc="lower center", bbox_to_anchor=(0.5, 1.0), frameon=False)
axes[0].set_ylim(min(-0.2, bars["score"].min() - 0.05), 1.0)
sns.barplot(data=pairwise, x="test", y="share of scenes", hue="embedding", palette=viz.EMBEDDING_PALETTE, ax=axes[1])
axes[1].axhline(0.5, color="0.3", ls="--", lw=1, label="chance")
axes[1].set_ylim(0, 1.05)
axes[1].set_xlabel("")
axes[1].set_ylabel("share of the 128 test scenes")
axes[1].legend(title="", ncol=3, loc="lower center", bbox_to_anchor=(0.5, 1.0), frameon=False)
fig.tight_layout()
_ = viz.save(fig, FIG / "12_scene_scores.png")
plt.close(fig)

# %% [markdown]
# ```{figure} ../figures/12_scene_scores.png
# :name: fig-try-scores
# Left: the cosine similarity of each example caption to the four clips of its scene (triplet
# embedding); pos: the clip the corpus rendered from the caption, neg_t: the events in the other
# order, neg_s: the events in each other's places, neg_c: the sounds swapped and the directions kept.
# Right: the share of the 128 test scenes whose pos caption scores its pos clip above each negative,
# for both audio embeddings; dashed: chance (0.5).
# ```
#
# The triplet embedding puts the pos clip above neg_t in {glue:text}`triplet_vs_neg_t:.0%` of the
# scenes and above neg_s in {glue:text}`triplet_vs_neg_s:.0%` (E_joint: {glue:text}`joint_vs_neg_t:.0%`
# and {glue:text}`joint_vs_neg_s:.0%`), but above neg_c in
# {glue:text}`triplet_vs_neg_c:.1%` (triplet) and {glue:text}`joint_vs_neg_c:.1%` (E_joint), the same
# as the run reported (`metrics.json`: {glue:text}`triplet_vs_neg_c_json:.3f` and
# {glue:text}`joint_vs_neg_c_json:.3f`). **This is where the model fails.** In
# {glue:text}`n_fail_triplet:.0f` of the 128 scenes the caption prefers the clip with its two sounds
# in each other's places, and E_joint fails on {glue:text}`n_fail_both:.0f` of those same scenes. neg_t
# and neg_s reverse the order of the *directions* (the first half's direction becomes the second's),
# which the model hears every time; neg_c keeps the directions where they were and swaps only which
# sound plays where and when. The default run trains against neg_c (its group loss holds all three
# negatives, as `run.json` above says) and still misses it in those scenes. `order_acc`, pos above both
# neg_t and neg_c, is therefore the same number, {glue:text}`triplet_order_acc:.3f`: the goal of 0.95
# needs {glue:text}`n_need` of the 128 scenes, and the model wins {glue:text}`n_won:.0f`.
#
# ## Real recordings
#
# Every clip so far was rendered from the General MIDI soundfont the model trained on: other notes,
# other rooms and other directions, but the same 35 instruments and effects. Your recordings are not
# like that. `notebooks/sounds/` holds {glue:text}`n_recordings` short recordings of the Debian package
# `gcompris-qt-data` (one per class: twelve instruments and effects the soundfont also has, such as a
# piano, a violin and applause, and twelve it has not, such as a dog, a horse, rain and a door), with
# the captions file that `sclap_nb.data.FolderSource` reads, each file's package, version and licence
# (`SOURCES.csv`) and the copyright notice that covers it (`COPYRIGHT.md`); `scripts/tryit_sounds.py`
# wrote them from the book's sound library, which holds this package out of every split it trains on.
#
# A folder of recordings becomes test scenes the way the soundfont does: `ensure_corpus` with a
# `FolderSource` draws two recordings per scene, places them in two directions of a simulated room,
# and writes the four clips (pos, neg_t, neg_s, neg_c) with their captions, which name each sound by
# its captions file (`python -m sclap_nb.data build --folder DIR` does the same from the command line).
# Then the same three calls search them.

# %%
source = FolderSource(ROOT / sounds_dir, split="test")  # every recording in the test split: nothing here trains
real_root = ensure_corpus(ROOT / real_corpus_dir, n_train=0, n_val=0, n_test=n_real, seed=seed, source=source, progress=False)
real_rows = read_metadata(real_root, "test")
real_emb = model.embed_audio([str(real_root / r["file"]) for r in real_rows], batch_size=64, progress=False)
real_texts = model.embed_text([r["caption"] for r in real_rows])
glue("n_recordings", len(source), display=False)
glue("n_real", n_real, display=False)
print(f"{len(real_emb)} clips of {n_real} scenes from {len(source)} recordings in {sounds_dir}")
real_hits = model.search(real_rows[0]["caption"], real_emb, k=3)
first = real_rows[real_emb.names.index(real_hits[0].name)]
print(f"real scene 0's pos caption: {real_rows[0]['caption']}\nits first hit, scene {first['scene']} {first['role']}: {first['caption']}")
_ = record("real_scene0_scores", [h.score for h in real_hits], tol=0.005, label="the scores of its first three hits",
           why="fixed weights; only float rounding differs")

# %% [markdown]
# How often does a pos caption find its own clip first among all clips of its split, and when it
# does not, is the first hit at least right about the two sounds, or about the two directions (the
# sectors of 45° in which the first and the second sound play)? Here on both test splits, with the
# model's default embedding; and T2A R@1 over the pos, neg_t and neg_s clips, as training reports it.

# %%
def first_hits(rows_, emb_, texts_) -> dict[str, float]:
    """For each pos caption, its first hit among all clips: the right clip, the right two sounds, the right two directions."""
    sim = texts_ @ emb_.get().T
    pos = [i for i, r in enumerate(rows_) if r["role"] == "pos"]
    hit = [rows_[int(sim[i].argmax())] for i in pos]
    sectors = lambda r: (sector_of(r["azimuth_1"]), sector_of(r["azimuth_2"]))  # noqa: E731
    spec = [i for i, r in enumerate(rows_) if r["role"] in SPEC_ROLES]
    return {
        "the right clip": sum(h is rows_[i] for i, h in zip(pos, hit)) / len(pos),
        "the right two sounds": sum({h["class_1"], h["class_2"]} == {rows_[i]["class_1"], rows_[i]["class_2"]} for i, h in zip(pos, hit)) / len(pos),
        "the right two directions": sum(sectors(h) == sectors(rows_[i]) for i, h in zip(pos, hit)) / len(pos),
        "T2A R@1": retrieval_metrics(emb_.get()[spec], texts_[spec], torch.arange(len(spec)))["t2a/R@1"],
    }


splits = {"soundfont (test split)": first_hits(rows, emb, texts), "real recordings": first_hits(real_rows, real_emb, real_texts)}
for split, values in splits.items():
    for what, v in values.items():
        key = f"{'real' if split.startswith('real') else 'sf'}_{what.replace('the right ', '').replace(' ', '_').replace('@', '')}"
        _ = record(key, v, tol=2 / 64, label=f"{split:24s}{what}", why="two scenes either way")
real_acc = order_place_accuracy(real_emb.get(), real_texts, [r["role"] for r in real_rows])
for key in ("vs_neg_t", "vs_neg_s", "vs_neg_c"):
    _ = record(f"real_{key}", real_acc[key], tol=2 / 64, label=f"real recordings, pos above {key[3:]}", why="two scenes either way")

# %% tags=["hide-input"]
bars = pd.DataFrame([(split, what, v) for split, values in splits.items() for what, v in values.items()],
                    columns=["clips", "first hit of a pos caption", "share"])
fig, ax = plt.subplots(figsize=(9, 3.6))
sns.barplot(data=bars, x="first hit of a pos caption", y="share", hue="clips", palette=["0.55", "#c0392b"], ax=ax)
ax.set_ylim(0, 1.05)
ax.set_xlabel("")
ax.set_ylabel("share of the pos captions")
ax.legend(title="", ncol=2, loc="lower center", bbox_to_anchor=(0.5, 1.0), frameon=False)
fig.tight_layout()
_ = viz.save(fig, FIG / "12_real_recordings.png")
plt.close(fig)

# %% [markdown]
# ```{figure} ../figures/12_real_recordings.png
# :name: fig-try-real
# For each pos caption, its first hit among all clips of its test split: is it the caption's own
# clip, does it hold the caption's two sounds, are its two sounds in the caption's two directions
# (45° sectors)? Grey: the soundfont's test split (128 scenes, 512 clips); red: scenes built from 24
# real recordings the model never heard ({glue:text}`n_real` scenes). Last pair: T2A R@1 over the
# pos, neg_t and neg_s clips. Default embedding (triplet).
# ```
#
# On the real recordings the right clip comes first for {glue:text}`real_clip:.0%` of the pos
# captions, against {glue:text}`sf_clip:.0%` on the soundfont's test split, and T2A R@1 falls from
# {glue:text}`sf_T2A_R1:.2f` to {glue:text}`real_T2A_R1:.2f` ({numref}`fig-try-real`). What is lost
# is *what*: the first hit holds the caption's two sounds for {glue:text}`real_two_sounds:.0%` of the
# captions (soundfont: {glue:text}`sf_two_sounds:.0%`). *Where* carries over better: the first hit
# has the caption's two directions for {glue:text}`real_two_directions:.0%` (soundfont:
# {glue:text}`sf_two_directions:.0%`), and within a scene the pos caption still scores its pos clip
# above neg_t in {glue:text}`real_vs_neg_t:.0%` and above neg_s in {glue:text}`real_vs_neg_s:.0%` of
# the scenes, but above neg_c, which only the sounds tell apart, in {glue:text}`real_vs_neg_c:.0%`.
# A model that learnt its sounds from one soundfont hears where a dog barks, not that it is a dog:
# this model is a direction finder that can read, not yet a search engine for your recordings.
# The book's library of recorded sounds (`make library`; `results/library/README.md`) is how a model
# learns more sounds, and the main job's model learnt from it.

# %% [markdown]
# ## The main job's model on the same recordings
#
# The main job's model (`results/train/model`, the chapter {doc}`10_train`) learnt from timed scenes of
# soundfont sounds and the library's train recordings; the library holds `gcompris-qt-data` out. Here the
# same recordings go into timed scenes (4 s, 2 or 3 events, one moving; neg_m: its path reversed), scored as
# training scores a test split (triplet embedding).

# %% tags=["hide-input"]
timed_real = ensure_corpus(ROOT / real_timed_dir, n_train=0, n_val=0, n_test=n_real, seed=seed, source=source,
                           clip_seconds=4.0, layout="timed", progress=False)  # fmt: skip
main_metrics = json.loads((ROOT / main_model_dir).parent.joinpath("metrics.json").read_text())
on_real = evaluate_corpus(ROOT / main_model_dir, timed_real, "test", references=False)
MAIN_COLS = {"t2a/R@1": "T2A R@1", "order_acc": "order_acc", "motion_acc": "motion_acc"}
for key, name in MAIN_COLS.items():
    _ = record(f"main_real_{key.replace('/', '_').replace('@', '')}", on_real[f"triplet/{key}"], tol=2 / 64,
               label=f"main job's model, the {len(source)} recordings: {name}", why="two scenes either way")
for key in ("t2a/R@1", "order_acc", "motion_acc"):
    glue(f"main_heldout_{key.replace('/', '_').replace('@', '')}", main_metrics[f"heldout/triplet/{key}"], display=False)
    glue(f"main_own_{key.replace('/', '_').replace('@', '')}", main_metrics[f"triplet/{key}"], display=False)
glue("main_heldout_zs", main_metrics["heldout/triplet/zero_shot_acc"], display=False)
glue("main_heldout_classes", int(main_metrics["heldout/zero_shot_classes"]), display=False)

# %% [markdown]
# T2A R@1 is {glue:text}`main_real_t2a_R1:.3f` here, {glue:text}`main_own_t2a_R1:.3f` on the model's own
# test split and {glue:text}`main_heldout_t2a_R1:.3f` on the scenes of both held-out packages (`heldout/*`
# of `make train`; smaller splits are easier, so this is no ranking); `motion_acc`
# {glue:text}`main_real_motion_acc:.3f`, `order_acc` {glue:text}`main_real_order_acc:.3f`. Alone in a clip, a
# held-out recording is named among {glue:text}`main_heldout_classes` classes in {glue:text}`main_heldout_zs:.3f`
# of the cases. Four epochs over the soundfont's and the library's classes teach the model little of either
# (the chapter {doc}`11_results`, Finding 7): not yet a search engine for your recordings. To name what your
# recordings hold, `load("results/pretrained_study/model_MP_s2025")` is the same model with a pretrained
# sound-effects network in its semantic branch, which names never-heard recordings more often but does not
# search their scenes better ({doc}`15_appendix_experiments`: a pretrained network for what a sound is).

# %% [markdown]
# ## Takeaway
#
# Three calls turn the trained model into a search engine over FOA clips, and for a caption written
# like the training captions it finds the right clip first most of the time (the run's T2A R@1 over
# the 384 pos, neg_t and neg_s clips of the test split: {glue:text}`t2a_r1_json:.3f`), ahead of the
# same sounds in the wrong order or the wrong places; the one typed paraphrase here finds it too. It
# fails where the two sounds of a caption are in each other's places: that clip scores higher in
# {glue:text}`n_fail_triplet:.0f` of the 128 test scenes. And below the first hit, the ranking follows
# where the sounds are more than what they are. On real recordings it never heard, the same calls find
# the right clip first for only {glue:text}`real_clip:.0%` of the captions: the directions carry over,
# the sounds do not. The main job's model, which also learnt recorded sounds, searches their timed scenes
# as poorly as its own test split (T2A R@1 {glue:text}`main_real_t2a_R1:.3f` and {glue:text}`main_own_t2a_R1:.3f`).
#
# ## Exercises
#
# 1. **More hits.** `papermill notebooks/12_try_it.ipynb runs/12_try_it.ipynb -p k 10` lists ten clips per
#    caption. Can the count of hits 2 to $k$ whose first sound is where scene 0's is
#    (`scene0_same_first`) come out smaller than with $k = 5$?
#
#    :::{dropdown} Solution
#    No. `search` ranks every clip by its cosine to the caption and returns the best $k$: the best ten
#    begin with the same five, in the same order, so any count over hits 2 to $k$ can only grow or stay.
#    :::
#
# 2. **Your own captions.** In JupyterLab, search for scene 0's sounds in the other order ("a hi-hat to
#    the front right, then a harmonica on the left") and with the sides swapped. Predict where scene 0's
#    `neg_t` and `neg_s` clips land in each list, then compare with the scene scores of the menu above.
#
# 3. **Your own recordings.** Put a few of your own WAV or FLAC files in a folder with a `captions.csv`
#    like `notebooks/sounds/captions.csv` (`file_name, caption_1 ... caption_5, label`; a caption with a
#    comma in double quotes), then run the chapter with `-p sounds_dir YOUR_FOLDER -p real_corpus_dir
#    data/my-scenes`. Which of the three first-hit shares moves most from the figure above, and why?
#
#    :::{dropdown} Solution
#    It depends on your sounds, but expect the pattern of {numref}`fig-try-real`: the share with the right
#    two directions stays highest, since the spatial branch reads directions from the intensity vectors
#    whatever the sound, while the right two sounds (and so the right clip) stay rare unless your
#    recordings sound like the soundfont's instruments. A captions file naming sounds in words the
#    soundfont's captions never use moves them further down.
#    :::
#
# ## References
#
# CLAP {cite:p}`elizalde2023clap`; SALM's spatial CLAP {cite:p}`hu2025salm`; the 3-way test with the
# temporal and spatial negatives {cite:p}`tsalm`.
#
# % In JupyterLab a citation shows as its key; the works cited in this chapter:
#
# % `elizalde2023clap`: Elizalde et al. (2023). CLAP: Learning Audio Concepts from Natural Language Supervision. IEEE International Conference on Acoustics, Speech and Signal Processing (ICASSP).
#
# % `hu2025salm`: Hu et al. (2025). SALM: Spatial Audio Language Model with Structured Embeddings for Understanding and Editing. arXiv preprint arXiv:2507.16724.
#
# % `tsalm`: Cell778 (2025). T-SALM: temporal extension of the spatial audio language model (code and stClotho data layout). https://github.com/Cell778/T-SALM.

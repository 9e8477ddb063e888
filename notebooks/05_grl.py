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
# # Gradient reversal and the modality classifier
#
# ![The model, with the part this chapter is about in colour](../figures/model_grl.png)
#
# *Run this chapter yourself:* in a clone of the repository, `make setup` once, then `make lab`; in
# JupyterLab open `notebooks/05_grl.py`, which opens as a notebook with the outputs stored in
# `05_grl.ipynb`. Headless, with other parameters: `mkdir -p runs && papermill
# notebooks/05_grl.ipynb runs/05_grl.ipynb -p toy_steps 2000`. In JupyterLab a citation shows as its key
# (`ganin2015grl`); the works are listed under *References* at the end.
#
# **What you will learn here:**
#
# * what a gradient reversal layer (GRL) does: nothing on the way forward, a gradient multiplied by
#   $-\lambda$ on the way back;
# * how a classifier behind a GRL pushes an encoder to make two domains inseparable, on a toy with two
#   domains and across values of $\lambda$ (several seeds each), and why the classifier's own loss is a
#   poor judge of success;
# * why the classifier's loss is computed on logits, not after a Sigmoid;
# * what the classifier and an independent probe say on a tiny trained model.
#
# Contrastive models leave audio and text embeddings in two separate regions of the shared space, the
# *modality gap* {cite:p}`liang2022gap`. The model of this book adds a small classifier that tries to
# tell an audio embedding from a text embedding, placed behind a **gradient reversal layer**
# {cite:p}`ganin2015grl`: the classifier learns to separate the modalities, while the encoders receive
# the *reversed* gradient and learn to make them inseparable, as in domain-adversarial training
# {cite:p}`ganin2016dann`. This chapter shows the GRL on numbers, on a toy with two domains, across
# values of its strength $\lambda$, and on a tiny trained model; and why the classifier's loss is
# computed on logits.

# %% tags=["parameters"]
fast = True  # quick setting: short toy runs and a tiny model
toy_steps = None  # optimisation steps of each toy run; quick 300; full 2000
probe_every = 100  # steps between two probe measurements of the two detailed runs
lambdas = [0.0, 0.1, 0.3, 1.0, 3.0]  # the sweep
n_seeds = None  # toy runs per lambda in the sweep; quick 3; full 5
corpus_dir = None  # default: data/book-grl-<sizes>-s<seed>
n_train, n_val, n_test = 16, 8, 8
epochs = None  # quick 4; full 12
seed = 2025

# %%
# a value passed in (papermill -p) always wins; the quick or full setting fills the rest
from sclap_nb.notebook import choose

toy_steps, epochs, n_seeds = choose(fast, (toy_steps, epochs, n_seeds), quick=(300, 4, 3), full=(2000, 12, 5))
corpus_dir = corpus_dir or f"data/book-grl-{n_train}-{n_val}-{n_test}-s{seed}"

# %% [markdown]
# ## Setup

# %%
import math
import os

os.environ.setdefault("HF_HUB_OFFLINE", "1")

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import torch
import torch.nn.functional as F
from sclap_nb.notebook import glue
from torch import nn

from sclap_nb import viz
from sclap_nb.losses import modality_loss
from sclap_nb.metrics import modality_gap
from sclap_nb.model import ModalityClassifier, grad_reverse
from sclap_nb.notebook import figures_dir, record, setup_chapter
from sclap_nb.widgets import figure_png, image_slider

ROOT = setup_chapter(threads=1)  # small models: one thread is faster and gives the same numbers
FIG = figures_dir(ROOT)

# %% [markdown]
# ## Identity forward, reversed gradient backward
#
# `grad_reverse(x, lambd)` returns `x` unchanged; in the backward pass it multiplies the incoming
# gradient by $-\lambda$. For $y = 3 \cdot \mathrm{GRL}(x)$, the forward value is $3x$ and the gradient
# $dy/dx$ is $-3\lambda$ instead of $3$:

# %%
for lam in (0.0, 0.5, 1.0, 2.0):
    x = torch.tensor(2.0, requires_grad=True)
    y = 3 * grad_reverse(x, lam)
    y.backward()
    print(f"lambda {lam:3.1f}: forward {y.item():4.1f}   dy/dx {x.grad.item() + 0.0:+5.1f}")

# %% [markdown]
# ## A two-domain toy
#
# Two Gaussian blobs of 16-d inputs stand for the two modalities: they differ by a shift along one axis
# (the "modality"), and share a task (a label given by two other axes, the same rule in both domains).
# A shared encoder maps inputs to 128-d features; a task head classifies them, and a
# `ModalityClassifier` (the model's own classifier, `D -> D/2 -> ... -> 1`, behind `grad_reverse`) tells
# the domains apart with `modality_loss` (BCE on logits). Both losses are summed and minimised.
#
# Two numbers tell whether the domains are still separable:
#
# * the classifier's own loss and accuracy (ln 2 = 0.693 and 0.5 mean it is guessing);
# * a *fresh* linear probe trained afterwards on held-out features: `sclap_nb.metrics.modality_gap`'s
#   cross-validated `probe_accuracy` (0.5 = inseparable).

# %%
D_IN, D = 16, 128


def make_domains(n: int, seed: int, shift: float = 1.5):
    """Inputs, task labels and domain labels (0 / 1) of two shifted Gaussian blobs of n points each."""
    g = torch.Generator().manual_seed(seed)
    xa = torch.randn(n, D_IN, generator=g)
    xb = torch.randn(n, D_IN, generator=g)
    xa[:, 0] += shift
    xb[:, 0] -= shift
    x = torch.cat([xa, xb])
    return x, (x[:, 1] + 0.5 * x[:, 2] > 0).long(), torch.cat([torch.zeros(n), torch.ones(n)])


def train_toy(lam: float, steps: int = toy_steps, probe_every: int | None = None, seed: int = 0) -> dict:
    """Train encoder + task head + GRL classifier from the initialisation drawn from ``seed``; return
    the per-step curves and the accuracy of a fresh probe on held-out features (every ``probe_every``
    steps, or only at the end when None)."""
    torch.manual_seed(seed)
    encoder = nn.Sequential(nn.Linear(D_IN, 64), nn.ReLU(), nn.Linear(64, D))
    head, classifier = nn.Linear(D, 2), ModalityClassifier(D)
    opt = torch.optim.Adam([*encoder.parameters(), *head.parameters(), *classifier.parameters()], lr=1e-3)
    x, y, dom = make_domains(256, 1)
    xv, yv, domv = make_domains(128, 2)
    hist = {"step": [], "task_loss": [], "mod_loss": [], "mod_acc": [], "probe_step": [], "probe": []}
    for step in range(steps + 1):
        z = encoder(x)
        task = F.cross_entropy(head(z), y)
        logits = classifier(z, lam)
        mod = modality_loss(logits, dom)
        hist["step"].append(step)
        hist["task_loss"].append(task.item())
        hist["mod_loss"].append(mod.item())
        hist["mod_acc"].append(((logits > 0).float() == dom).float().mean().item())
        if (probe_every and step % probe_every == 0) or step == steps:
            with torch.no_grad():
                zv = encoder(xv)
            hist["probe_step"].append(step)
            hist["probe"].append(modality_gap(zv[domv == 0], zv[domv == 1])["probe_accuracy"])
        if step < steps:
            opt.zero_grad()
            (task + mod).backward()
            opt.step()
    with torch.no_grad():
        hist["task_acc"] = (head(encoder(xv)).argmax(1) == yv).float().mean().item()
    return hist


runs = {(lam, 0): train_toy(lam, probe_every=probe_every) for lam in (0.0, 1.0)}
# tolerance 0.06 on accuracies over 256 held-out points (15 points): the lambda = 0 vs 1 contrast is 0.15
for (lam, _), h in runs.items():
    t = f"toy_l{lam:g}".replace(".", "p")
    record(f"{t}_clf_loss", h["mod_loss"][-1], tol=0.05, label=f"lambda {lam}: classifier loss", fmt=".2f")
    record(f"{t}_clf_acc", h["mod_acc"][-1], tol=0.06, label=f"lambda {lam}: classifier acc", fmt=".2f")
    record(f"{t}_clf_acc_min", min(h["mod_acc"]), tol=0.08, label=f"lambda {lam}: lowest classifier acc", fmt=".2f")
    record(f"{t}_probe_start", h["probe"][0], tol=0.06, label=f"lambda {lam}: probe acc at start", fmt=".2f")
    record(f"{t}_probe_end", h["probe"][-1], tol=0.06, label=f"lambda {lam}: probe acc at end", fmt=".2f")
    record(f"{t}_task_acc", h["task_acc"], tol=0.06, label=f"lambda {lam}: task acc", fmt=".2f")

# %%
detailed = {f"λ={lam:g}": runs[(lam, 0)] for lam in (0.0, 1.0)}
steps_axis, probe_axis = runs[(0.0, 0)]["step"], runs[(0.0, 0)]["probe_step"]
fig, axes = plt.subplots(1, 3, figsize=(13, 3.4))
viz.plot_curves(steps_axis, {k: h["mod_loss"] for k, h in detailed.items()}, "step", "classifier BCE",
                {"ln 2": math.log(2)}, ax=axes[0], ylim=(0, None), title="modality classifier loss")
viz.plot_curves(steps_axis, {k: h["mod_acc"] for k, h in detailed.items()}, "step", "accuracy",
                {"chance": 0.5}, ax=axes[1], ylim=(0, 1.02), title="modality classifier accuracy")
viz.plot_curves(probe_axis, {k: h["probe"] for k, h in detailed.items()}, "step", "accuracy",
                {"chance": 0.5}, ax=axes[2], ylim=(0, 1.02), title="fresh linear probe (held out)", marker="o")
fig.tight_layout()
viz.save(fig, FIG / "05_grl_toy_curves.png")
plt.close(fig)

# %% [markdown]
# ```{figure} ../figures/05_grl_toy_curves.png
# :name: fig-05-grl-toy-curves
# The toy trained without reversal (λ = 0: the classifier learns, the encoder ignores it) and with it
# (λ = 1), one seed each, against the optimisation step. Left: the classifier's BCE (dashed: ln 2, a
# guessing classifier); middle: its accuracy on the training points; right: the accuracy of a fresh
# linear probe on held-out features (dashed: chance).
# ```
#
# With λ = 0 the classifier ends at a loss of {glue:text}`toy_l0_clf_loss:.2f` and an accuracy of
# {glue:text}`toy_l0_clf_acc:.2f`, and the probe stays at {glue:text}`toy_l0_probe_end:.2f`. With
# λ = 1 the classifier's loss ends at {glue:text}`toy_l1_clf_loss:.2f` (ln 2 = 0.69) and its accuracy at
# {glue:text}`toy_l1_clf_acc:.2f`, after dipping to {glue:text}`toy_l1_clf_acc_min:.2f` on the way: for a
# while the reversed gradient pushes the features past the point where the classifier is right, and
# the classifier is *wrong* more often than a coin. The task is learnt about as well in both runs
# (accuracy {glue:text}`toy_l0_task_acc:.2f` and {glue:text}`toy_l1_task_acc:.2f`).
#
# The probe is the stricter judge: with λ = 1 it falls from {glue:text}`toy_l1_probe_start:.2f` to
# {glue:text}`toy_l1_probe_end:.2f`, far from chance. A classifier at ln 2 shows that *this* classifier is
# guessing, not that the features carry no modality information; a deep, narrow ReLU classifier can
# also reach ln 2 by going silent (constant output), and then it stops sending any gradient to the
# encoder. This is why the book measures the modality gap with an independent probe (chapter *Modality
# gap*), not only with the training classifier's loss.
#
# ## A sweep over λ
#
# The same toy for every λ of the parameter cell, each from {glue:text}`n_seeds` initialisations (seeds);
# the figure shows the final accuracies of the probe, the classifier and the task.

# %%
seeds = list(range(n_seeds))
glue("n_seeds", n_seeds, display=False)
for lam in lambdas:
    for s in seeds:
        if (lam, s) not in runs:
            runs[(lam, s)] = train_toy(lam, seed=s)
final = pd.DataFrame([
    {"λ": f"{lam:g}", "seed": s, "fresh linear probe": runs[(lam, s)]["probe"][-1],
     "GRL classifier": runs[(lam, s)]["mod_acc"][-1], "task (held out)": runs[(lam, s)]["task_acc"]}
    for lam in lambdas for s in seeds
])
means = final.groupby("λ", sort=False).mean(numeric_only=True)
_ = record("sweep_probe", means["fresh linear probe"].tolist(), tol=0.06, fmt=".2f",
           label=f"lambda {lambdas}, mean over {n_seeds} seeds\nprobe acc     ")
_ = record("sweep_classifier", means["GRL classifier"].tolist(), tol=0.1, fmt=".2f", label="classifier acc")
_ = record("sweep_task", means["task (held out)"].tolist(), tol=0.06, fmt=".2f", label="task acc      ")
above = [lam for lam in lambdas if lam >= 0.3]
_ = record("sweep_probe_l0", means.loc["0", "fresh linear probe"], tol=0.06, fmt=".2f", label="probe acc at lambda 0, mean")
_ = record("sweep_probe_best", means["fresh linear probe"].min(), tol=0.06, fmt=".2f", label="probe acc, lowest mean")
_ = record("sweep_probe_lowest_seed", final.loc[final["λ"] != "0", "fresh linear probe"].min(), tol=0.08, fmt=".2f",
           label="probe acc, lowest seed (lambda > 0)")
_ = record("sweep_clf_high", means.loc[[f"{lam:g}" for lam in above], "GRL classifier"].max(), tol=0.1, fmt=".2f",
           label="classifier acc, highest mean for lambda >= 0.3")
_ = record("sweep_task_min", means["task (held out)"].min(), tol=0.06, fmt=".2f", label="task acc, lowest mean")
_ = record("sweep_task_max", means["task (held out)"].max(), tol=0.06, fmt=".2f", label="task acc, highest mean")

# %%
measures = ["fresh linear probe", "GRL classifier", "task (held out)"]
x = np.arange(len(lambdas))
fig, ax = plt.subplots(figsize=(6.4, 3.6))
for k, measure in enumerate(measures):
    by_lambda = final.groupby("λ", sort=False)[measure]
    xs, mean = x + (k - 1) * 0.18, by_lambda.mean().to_numpy()
    lo, hi = mean - by_lambda.min().to_numpy(), by_lambda.max().to_numpy() - mean
    ax.errorbar(xs, mean, yerr=[lo, hi], marker="o", capsize=3, color=f"C{k}", label=f"{measure} (mean, range)")
    for i, lam in enumerate(lambdas):
        seeds_at = final.loc[final["λ"] == f"{lam:g}", measure]
        ax.scatter(np.full(len(seeds_at), xs[i]), seeds_at, s=12, color=f"C{k}", alpha=0.45, lw=0)
ax.axhline(0.5, color="gray", ls="--", lw=1)
ax.annotate("chance", (len(lambdas) - 0.55, 0.5), ha="right", va="bottom", fontsize="small", color="gray")
ax.set_xticks(x, [f"{lam:g}" for lam in lambdas])
ax.set_xlim(-0.5, len(lambdas) - 0.5)
ax.set_ylim(min(0.4, final[measures].min().min() - 0.05), 1.04)
ax.set_xlabel("λ (GRL strength)")
ax.set_ylabel("final accuracy")
ax.legend(loc="lower left")
fig.tight_layout()
viz.save(fig, FIG / "05_grl_lambda_sweep.png")
plt.close(fig)

# %% [markdown]
# ```{figure} ../figures/05_grl_lambda_sweep.png
# :name: fig-05-grl-lambda-sweep
# Final accuracies of the fresh linear probe, the GRL classifier and the task head against λ (evenly
# spaced categories), one dot per seed, with the mean over seeds (joined) and the range from the lowest
# to the highest seed (bars). Dashed: chance for the two modality measures.
# ```
#
# Without reversal (λ = 0) the probe separates the domains with an accuracy of
# {glue:text}`sweep_probe_l0:.2f` (mean over seeds). The reversal lowers it, to
# {glue:text}`sweep_probe_best:.2f` for the best λ of the sweep, and no seed at any λ > 0 goes below
# {glue:text}`sweep_probe_lowest_seed:.2f`: far from chance everywhere. The classifier's own accuracy
# falls further, to at most {glue:text}`sweep_clf_high:.2f` on average from λ = 0.3 on: the classifier
# is fooled more than the probe, the symptom of the paragraph above. The task accuracy stays between
# {glue:text}`sweep_task_min:.2f` and {glue:text}`sweep_task_max:.2f` (means) whatever λ.
#
# In a live notebook, and on this page, the slider below shows the training curves of every swept λ
# (all seeds); they were drawn when the chapter ran, and the slider only switches between them.

# %%
def lambda_panel(lam: float, ylim_loss: float):
    """Training curves of every seed at one lambda: classifier BCE, classifier accuracy, task loss."""
    fig, axes = plt.subplots(1, 3, figsize=(12, 3))
    for s in seeds:
        h = runs[(lam, s)]
        kw = {"color": f"C{s}", "lw": 1, "label": f"seed {s}"}
        axes[0].plot(h["step"], h["mod_loss"], **kw)
        axes[1].plot(h["step"], h["mod_acc"], **kw)
        axes[2].plot(h["step"], h["task_loss"], **kw)
    for ax, y, name in ((axes[0], math.log(2), "ln 2"), (axes[1], 0.5, "chance")):
        ax.axhline(y, color="gray", ls="--", lw=1)
        ax.annotate(name, (steps_axis[-1], y), ha="right", va="bottom", fontsize="small", color="gray")
    for ax, title, ylabel, top in zip(axes, ("classifier loss", "classifier accuracy", "task loss"),
                                      ("BCE", "accuracy", "cross-entropy"), (ylim_loss, 1.02, None)):
        ax.set(title=f"{title}, λ = {lam:g}", xlabel="step", ylabel=ylabel, ylim=(0, top))
    axes[0].legend()
    fig.tight_layout()
    return fig


top = 1.05 * max(max(h["mod_loss"]) for h in runs.values())
panels = {lam: figure_png(lambda_panel(lam, top)) for lam in lambdas}
image_slider(panels, description="λ", value=1.0 if 1.0 in lambdas else lambdas[-1])

# %% [markdown]
# ## Why logits: Sigmoid + BCE saturates
#
# The design note put a Sigmoid in front of `binary_cross_entropy`. Near 1, float32 is coarse: from a
# logit of about 17 on, the sigmoid rounds to exactly 1, and for a sample labelled 0 the log inside the
# BCE hits its clamp, the loss comes out wrong and the gradient vanishes. Near 0, float32 keeps its
# precision far longer. In half precision the saturation starts much earlier, and the original training
# produced NaNs. `modality_loss` works on the logits (`binary_cross_entropy_with_logits`),
# which is exact and keeps a gradient of ±1, up to its guard: the logits are clamped to ±50, so beyond
# that the loss is capped at 50 and the gradient is zero.

# %%
z = torch.tensor([-80.0, -20.0, -6.0, 0.0, 6.0, 20.0, 80.0])
labels = torch.tensor([1.0, 1.0, 1.0, 0.0, 0.0, 0.0, 0.0])
z1, z2 = z.clone().requires_grad_(), z.clone().requires_grad_()
bce_sigmoid = F.binary_cross_entropy(torch.sigmoid(z1), labels, reduction="none")
bce_sigmoid.sum().backward()
logit_terms = torch.stack([modality_loss(z2[i : i + 1], labels[i : i + 1]) for i in range(len(z))])
logit_terms.sum().backward()
print(f"{'logit':>6s} {'label':>5s} | {'sigmoid':>9s} {'sigmoid+BCE':>11s} {'grad':>6s} | {'BCE on logits':>13s} {'grad':>6s}")
for i in range(len(z)):
    print(f"{z[i]:6.0f} {labels[i]:5.0f} | {torch.sigmoid(z[i]):9.3g} {bce_sigmoid[i]:11.3f} {z1.grad[i]:+6.3f} | "
          f"{logit_terms[i]:13.3f} {z2.grad[i]:+6.3f}")
row = {round(v): i for i, v in enumerate(z.tolist())}
for name, values in (("sig", bce_sigmoid), ("sig_grad", z1.grad), ("log", logit_terms), ("log_grad", z2.grad)):
    for v in (-80, -20, 20):
        glue(f"{name}_{'m' if v < 0 else 'p'}{abs(v)}", round(float(values[row[v]]), 3) + 0.0, display=False)
glue("sigmoid_m20", float(f"{torch.sigmoid(torch.tensor(-20.0)).item():.2g}"), display=False)

# %% [markdown]
# Of the two rows at ±20 against the wrong label, only one breaks Sigmoid + BCE. At +20 (label 0) the
# sigmoid rounds to exactly 1, the log of $1 - p$ hits its clamp, and the loss reads
# {glue:text}`sig_p20:.0f` with a gradient of {glue:text}`sig_grad_p20:.0f`; BCE on logits gives the exact
# {glue:text}`log_p20:.0f` with a gradient of {glue:text}`log_grad_p20:+.0f`. At −20 (label 1) the
# sigmoid is {glue:text}`sigmoid_m20:.1e`, small but still held by float32, so Sigmoid + BCE is right
# there ({glue:text}`sig_m20:.0f`, gradient {glue:text}`sig_grad_m20:+.0f`), as is BCE on logits. At −80
# the loss of Sigmoid + BCE is still right ({glue:text}`sig_m80:.0f`) but its gradient is lost (it
# rounds to −0.000 in the table: the backward pass divides by $p(1-p)$, clamped at $10^{-12}$). The rows
# at ±80 are beyond the ±50 clamp of `modality_loss`: there it reports {glue:text}`log_m80:.0f` with no
# gradient either, a price paid for never overflowing in low precision; the adversarial classifier's
# logits stay far from that range.
#
# ## On a tiny trained model
#
# The real classifier sits on the model's audio triplet embeddings and spatial caption embeddings. After
# a short training with λ = 1, its loss on the validation split should be near ln 2 and its accuracy near
# 0.5, with the caveat of the toy above.

# %%
from sclap_nb.evaluation import embed_split
from sclap_nb.run import small_config, small_data, small_run

cfg = small_config(epochs, batch_size=4, seed=seed, settings={"loss.grl_lambda": 1.0})
dm = small_data(cfg, corpus_dir, n_train, n_val, n_test, root=ROOT)

# %% tags=["nbval-ignore-output"]
module, trainer = small_run(cfg, dm)
print(f"trained {trainer.current_epoch} epochs, {trainer.global_step} steps")

# %%
model = module.model.eval()
dm.setup("validate")
with torch.no_grad():
    logits, labels = [], []
    for batch in dm.val_dataloader():
        out = model(batch)
        logits.append(out.modality_logits)
        labels.append(out.modality_labels)
    logits, labels = torch.cat(logits), torch.cat(labels)
    val_loss = modality_loss(logits, labels).item()
    val_acc = ((logits > 0).float() == labels).float().mean().item()
emb = embed_split(model, dm.val_dataloader())
probe = modality_gap(emb["e_triplet"], emb["text_comb"])["probe_accuracy"]
glue("n_val_embeddings", len(labels), display=False)
print(f"ln 2 = {math.log(2):.2f}")
_ = record("val_modality_loss", val_loss, tol=0.05, label="validation: modality loss", fmt=".2f")
_ = record("val_classifier_acc", val_acc, tol=0.1, label="validation: classifier accuracy", fmt=".2f",
           why=f"{len(labels)} clips and captions")
_ = record("val_probe_acc", probe, tol=0.1, label="validation: fresh probe accuracy", fmt=".2f")

# %% [markdown]
# On the {glue:text}`n_val_embeddings` validation embeddings (clips and captions) of the tiny model, the
# classifier's loss is {glue:text}`val_modality_loss:.2f` (ln 2 = 0.69) and its accuracy
# {glue:text}`val_classifier_acc:.2f`: it is guessing. A fresh linear probe on the same embeddings
# tells audio from text with an accuracy of {glue:text}`val_probe_acc:.2f`. As in the toy, a classifier
# at ln 2 sits next to embeddings that a probe still separates: the GRL has fooled its classifier, not
# closed the gap. The chapter *Modality gap* compares models trained with and without the classifier.
#
# ## Takeaway
#
# * A GRL is the identity forward and a gradient times $-\lambda$ backward: the classifier behind it
#   minimises its loss, the encoder maximises it.
# * On the toy, the reversal drives the classifier toward chance (and, for a while, below it) while the task
#   is learnt as before, but an independent probe still separates the two domains at every λ of the
#   sweep, over every seed. Judge a GRL by a fresh probe, not by its own classifier's loss.
# * Compute the classifier's loss on logits: Sigmoid + BCE reports a clamped loss with no gradient as
#   soon as the sigmoid rounds to 1, and NaNs in half precision.
#
# ## Exercises
#
# 1. **The reversed gradient by hand.** Let $L = \tfrac12\,\mathrm{GRL}_\lambda(x)^2$ with $x = 2$ and
#    $\lambda = 0.5$. What are $L$ and $dL/dx$? What does one step of gradient descent on $x$ do to $L$?
#
#    :::{dropdown} Solution
#    The forward pass is the identity, so $L = \tfrac12 \cdot 2^2 = 2$. Backwards, $dL/d\,\mathrm{GRL} =
#    x = 2$ is multiplied by $-\lambda$: $dL/dx = -1$. A descent step moves $x$ by $+\eta$, away from the
#    minimum at 0, so $L$ grows: whatever sits in front of the GRL climbs the loss behind it, as the
#    encoders climb the modality classifier's loss.
#    :::
#
# 2. **Why ln 2.** A classifier outputs the same probability $p$ (of "text") for every embedding of a
#    batch that is half audio and half text. Show that its binary cross-entropy is smallest at
#    $p = \tfrac12$ and equals $\ln 2$ there. What does a classifier loss of $\ln 2$ therefore prove about
#    the embeddings?
#
#    :::{dropdown} Solution
#    The loss is $-\tfrac12 \ln p - \tfrac12 \ln(1-p)$; its derivative $-\frac{1}{2p} + \frac{1}{2(1-p)}$
#    vanishes at $p = \tfrac12$, where the loss is $\ln 2 \approx 0.693$. A loss of $\ln 2$ shows that this
#    classifier does no better than a constant; it proves nothing about the embeddings, which a fresh
#    probe may still separate (the toy above, and {doc}`09_modality_gap`).
#    :::
#
# 3. **A stronger reversal.** Re-run the sweep with a larger λ:
#    `papermill notebooks/05_grl.ipynb runs/05_grl.ipynb -y "lambdas: [0.0, 1.0, 10.0]"`. Predict the
#    fresh probe's and the task's accuracy at λ = 10 before you look, and compare the classifier's own
#    accuracy with the probe's.
#
# ## References
#
# The gradient reversal layer and domain-adversarial training are from {cite:t}`ganin2015grl` and
# {cite:t}`ganin2016dann`; the modality gap of contrastive models is described by
# {cite:t}`liang2022gap`.
#
# % In JupyterLab a citation shows as its key; the works cited in this chapter:
#
# % `liang2022gap`: Liang et al. (2022). Mind the Gap: Understanding the Modality Gap in Multi-modal Contrastive Representation Learning. Advances in Neural Information Processing Systems (NeurIPS).
#
# % `ganin2015grl`: Ganin and Lempitsky (2015). Unsupervised Domain Adaptation by Backpropagation. International Conference on Machine Learning (ICML).
#
# % `ganin2016dann`: Ganin et al. (2016). Domain-Adversarial Training of Neural Networks. Journal of Machine Learning Research.

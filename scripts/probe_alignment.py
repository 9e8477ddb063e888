"""Exploratory: does scoring a caption's events against the clip's frames *in order* hear the order?

The main job's triplet embedding puts the order of a timed scene's sounds into one vector
(``TemporalAudioEncoder``'s ``ordered`` readout) and reaches ``order_acc`` near 0.6 at its budget
(``results/frames_study``). This probe asks whether another way of scoring does better from frozen
features, before anything is built into the model: a caption's events are matched to the clip's frames
under the constraint that they happen in the caption's order (a monotone alignment, as dynamic time
warping matches two sequences), so a clip whose sounds come in the other order cannot score as high.

Frozen inputs, computed once:

* each clip's frames: aiSFX's 512-d frames (``sclap_nb.pretrained.aisfx_frames``, the corpus's
  ``cache/aisfx-frames-16000hz``, one every 0.186 s) beside the direction of the FOA active intensity
  vector, its log level and its strength relative to the energy (diffuseness), each averaged over the
  same frames (from the rendered audio, 94 Hz - 4 kHz);
* each caption's items: the event clauses of :func:`sclap_nb.model.clause_spans` in order, a clause with
  a path (``from <origin> to <destination>``, :func:`sclap_nb.model.path_spans`) as two items (the clause
  without its destination, then without its origin); an item is the mean of all-MiniLM-L6-v2's token
  states over its words.

Trained (one seed): an MLP for frames and one for items into 256-d, cosine ``s[k, t]`` of item ``k`` and
frame ``t``, and a clip-caption score by one of three rules:

* ``ordered``: the best monotone alignment, ``max over t_1 <= t_2 <= ... of mean_k s[k, t_k]`` (dynamic
  programming with running maxima; two items may share a frame, as overlapping sounds do);
* ``unordered``: each item's best frame on its own, ``mean_k max_t s[k, t]`` (the control without the order
  constraint; what order it hears comes from its inputs: the items' context words, overlapping sounds);
* ``pooled``: one vector each, the mean of the frames against the mean of the items (a plain CLAP score);
* ``pairs``: one vector each as the main model makes them: the clip's mean frame beside the ``ordered``
  readout of the frames (:func:`sclap_nb.model.ordered_pairs` of two detector MLPs, weighted by how loud
  each frame is), against an MLP of the caption's item slots concatenated in order (``clause_paths``).

Loss: the symmetric InfoNCE of the scores over a batch's clips and their own captions (16 scenes, 80 clips;
the negatives of a scene are in its batch). Data: the train scenes of the main job's corpus (seed 2025), and
with ``--more`` those of the other seeds' corpora too (the library's recordings are split once for all seeds,
and soundfont events are drawn anew for every scene, so no train scene holds a validation recording). Scored
on **validation** scenes only (``--corpus``'s, and those of ``--more`` / ``--more-val``; no test split is
read): ``order_acc``, ``place_acc``, ``motion_acc`` and the pairwise figures as
``sclap_nb.metrics.order_place_from_scores`` counts them, and T2A R@1 over the pos / neg_t / neg_s clips as
``metrics.json`` does. Writes ``summary.json`` (the last epoch's figures) and ``epochs.csv``.

    python scripts/probe_alignment.py [--corpus C] [--more C2 ...] [--more-val C2 ...] [--out DIR]
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import soundfile as sf
import torch
import torch.nn.functional as F
from torch import nn

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from sclap_nb.files import atomic_write, write_json_atomic  # noqa: E402
from sclap_nb.metrics import order_place_from_scores, retrieval_metrics  # noqa: E402
from sclap_nb.model import aligned_scores, default_text_model_path, event_items, mlp, ordered_pairs  # noqa: E402

CORPUS = ROOT / "data" / "stclotho-512-64-128-s2025-16000hz-4s-rooms-timed-mixed"
ROLES = ("pos", "neg_t", "neg_s", "neg_c", "neg_m")
RULES = ("ordered", "unordered", "pooled", "pairs")


def intensity_frames(files: list[Path], frames: int, batch: int = 64) -> torch.Tensor:
    """``(N, frames, 11)``: per frame the unit direction of the active intensity vector (x, y, z), the cosine
    and sine of 1, 2 and 3 times its azimuth, the log level (bels below the clip's loudest frame, over 3)
    and the intensity's norm over the energy (near 1: one plane wave; near 0: diffuse). One broadband vector per
    frame from the STFT, not ``sclap_nb.features``' per-mel-band channels: the probe needs a direction, not a map."""
    out = []
    for i in range(0, len(files), batch):
        w = torch.from_numpy(np.stack([sf.read(f, dtype="float32", always_2d=True)[0].T for f in files[i : i + batch]]))
        spec = torch.stft(w.flatten(0, 1), 512, 256, window=torch.hann_window(512), return_complex=True)
        spec = spec.view(w.shape[0], 4, *spec.shape[1:])[:, :, 3:129]  # (B, 4, bins, T): 94 Hz - 4 kHz
        W, Y, Z, X = spec.unbind(1)
        iv = torch.stack([(W.conj() * c).real.sum(1) for c in (X, Y, Z)], -1)  # (B, T, 3)
        energy = 0.5 * sum(c.abs().square() for c in (W, X, Y, Z)).sum(1)  # (B, T)
        iv = F.adaptive_avg_pool1d(iv.transpose(1, 2), frames).transpose(1, 2)
        energy = F.adaptive_avg_pool1d(energy[:, None], frames)[:, 0]
        norm = iv.norm(dim=-1)
        unit = iv / norm[..., None].clamp_min(1e-12)
        level = torch.log10(energy + 1e-10)
        az = torch.atan2(unit[..., 1], unit[..., 0])
        out.append(torch.cat([unit, *(f(m * az)[..., None] for m in (1, 2, 3) for f in (torch.cos, torch.sin)),
                              (level - level.amax(1, keepdim=True))[..., None] / 3.0,
                              (norm / energy.clamp_min(1e-12)).clamp(0, 2)[..., None]], -1))  # fmt: skip
    return torch.cat(out)


def caption_items(tokenizer, backbone, captions: list[str], max_items: int = 6) -> tuple[torch.Tensor, torch.Tensor]:
    """``(N, max_items, 384)`` item means of the frozen token states and the ``(N, max_items)`` mask of real items."""
    items = torch.zeros(len(captions), max_items, backbone.config.hidden_size)
    mask = torch.zeros(len(captions), max_items, dtype=torch.bool)
    for i in range(0, len(captions), 64):
        part = captions[i : i + 64]
        tok = tokenizer(part, padding=True, truncation=True, max_length=96, return_offsets_mapping=True, return_tensors="pt")
        offsets = tok.pop("offset_mapping")
        with torch.no_grad():
            h = backbone(**tok).last_hidden_state
        for j, cap in enumerate(part):
            spans = event_items(cap)
            if len(spans) > max_items:
                raise ValueError(f"caption {i + j} has {len(spans)} items, more than {max_items}: {cap!r}")
            for k, ((a, b), leave_out) in enumerate(spans):
                keep = [t for t, (s, e) in enumerate(offsets[j].tolist())
                        if e > s and a <= s < b and not (leave_out and leave_out[0] <= s < leave_out[1])]  # fmt: skip
                if not keep:
                    raise ValueError(f"caption {i + j}: its item {k} has no tokens (longer than 96 tokens?): {cap!r}")
                items[i + j, k] = h[j, keep].mean(0)
                mask[i + j, k] = True
    return items, mask


def load_split(corpus: Path, split: str, tokenizer, backbone) -> dict:
    with open(corpus / "metadata" / f"{split}.csv", newline="") as f:
        rows = list(csv.DictReader(f))
    cache = corpus / "cache" / "aisfx-frames-16000hz"
    ids = json.loads((cache / f"{split}.json").read_text())["ids"]
    if ids != [r["id"] for r in rows]:
        raise SystemExit(f"{cache / (split + '.json')}: its clips are not those of metadata/{split}.csv")
    frames = torch.from_numpy(np.load(cache / f"{split}.npy").astype(np.float32))
    roles = [r["role"] for r in rows]
    if roles != list(ROLES) * (len(rows) // len(ROLES)):
        raise SystemExit(f"{corpus}/metadata/{split}.csv: the clips are not in groups {ROLES}")
    iv = intensity_frames([corpus / r["file"] for r in rows], frames.shape[1])
    items, mask = caption_items(tokenizer, backbone, [r["caption"] for r in rows])
    return {"frames": frames, "iv": iv, "items": items, "mask": mask, "roles": roles, "captions": [r["caption"] for r in rows]}


class Aligner(nn.Module):
    def __init__(self, rule: str, dim: int = 256, frame_dim: int = 512, iv_dim: int = 11, text_dim: int = 384,
                 max_items: int = 6):
        super().__init__()
        self.rule = rule
        self.frame_norm = nn.LayerNorm(frame_dim)
        self.frame = nn.Sequential(nn.Linear(frame_dim, dim), nn.GELU(), nn.Linear(dim, dim))  # what sounds
        self.direction = nn.Sequential(nn.Linear(iv_dim, dim), nn.GELU(), nn.Linear(dim, dim))  # from where
        self.item = nn.Sequential(nn.Linear(text_dim, dim), nn.GELU(), nn.Linear(dim, dim))
        if rule == "pairs":  # the main model's ordered readout and slot-wise caption, on the same inputs
            self.first, self.second = mlp(dim, dim, dim), mlp(dim, dim, dim)
            self.pair_head = mlp(dim, dim, dim)
            self.audio_out = nn.Linear(2 * dim, dim)
            self.text_out = mlp(text_dim * max_items, dim, dim)
        self.log_scale = nn.Parameter(torch.tensor(np.log(1 / 0.07), dtype=torch.float32))

    def encode(self, frames, iv, items):
        x = self.frame(self.frame_norm(frames)) + self.direction(iv)  # (A, T, D)
        if self.rule == "pairs":  # one vector each: E_joint-like mean and the ordered pair scores; the slots concatenated
            activity = (1.0 + iv[..., 9:10] * 3.0 / 4.0).clamp(0.0, 1.0)  # 0 at 40 dB below the loudest frame, 1 there
            a, b = F.softplus(self.first(x)) * activity, F.softplus(self.second(x)) * activity
            temporal = self.pair_head(ordered_pairs(a, b))
            audio = self.audio_out(torch.cat([F.normalize(x.mean(1), dim=-1), F.normalize(temporal, dim=-1)], -1))
            return F.normalize(audio, dim=-1), F.normalize(self.text_out(items.flatten(1)), dim=-1)
        return F.normalize(x, dim=-1), F.normalize(self.item(items), dim=-1)  # (A, T, D), (C, K, D)

    def scores(self, f: torch.Tensor, g: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        """``(C, A)``: each caption against each clip under the rule."""
        n_items = mask.sum(1).float()  # (C,)
        if self.rule == "pairs":
            return g @ f.T
        if self.rule == "pooled":
            a = F.normalize(f.mean(1), dim=-1)
            t = F.normalize((g * mask[..., None]).sum(1), dim=-1)
            return t @ a.T
        if self.rule == "unordered":
            s = torch.einsum("ckd,atd->cakt", g, f)  # (C, A, K, T)
            return (s.amax(-1) * mask[:, None]).sum(-1) / n_items[:, None]
        return aligned_scores(g * mask[..., None], f)  # the package's rule (an absent item: a row of zeros)


@torch.no_grad()
def evaluate(model: Aligner, data: dict) -> dict[str, float]:
    model.eval()
    f, g = model.encode(data["frames"], data["iv"], data["items"])
    n, k = len(f), len(ROLES)
    pos = torch.arange(0, n, k)
    group_scores = torch.stack([model.scores(f[p + torch.arange(k)], g[p : p + 1], data["mask"][p : p + 1])[0] for p in pos])
    out = order_place_from_scores(group_scores)
    spec = torch.tensor([i for i, r in enumerate(data["roles"]) if r in ("pos", "neg_t", "neg_s")])
    sim = torch.cat([model.scores(f[spec], g[rows], data["mask"][rows]) for rows in spec.split(128)])  # (captions, clips)
    # retrieval_metrics takes embeddings; a score matrix goes in as text = sim, audio = identity
    out.update({k: v for k, v in retrieval_metrics(torch.eye(len(spec)), sim.float(), torch.arange(len(spec))).items()
                if k.startswith("t2a")})  # fmt: skip
    return out


def train(rule: str, train_data: dict, val_data: dict, epochs: int, seed: int, eval_every: int = 1,
          scenes_per_batch: int = 16) -> tuple[list, dict]:  # fmt: skip
    torch.manual_seed(seed)
    model = Aligner(rule)
    opt = torch.optim.AdamW(model.parameters(), lr=1e-3, weight_decay=1e-2)
    n_scenes, k = len(train_data["frames"]) // len(ROLES), len(ROLES)
    g = torch.Generator().manual_seed(seed)
    log = []
    for epoch in range(epochs):
        model.train()
        t0, losses = time.time(), []
        for scenes in torch.randperm(n_scenes, generator=g).split(scenes_per_batch):
            idx = (scenes[:, None] * k + torch.arange(k)[None]).flatten()
            f, t = model.encode(train_data["frames"][idx], train_data["iv"][idx], train_data["items"][idx])
            logits = model.log_scale.exp().clamp(max=100) * model.scores(f, t, train_data["mask"][idx])
            target = torch.arange(len(idx))
            loss = (F.cross_entropy(logits, target) + F.cross_entropy(logits.T, target)) / 2
            opt.zero_grad()
            loss.backward()
            opt.step()
            losses.append(float(loss.detach()))
        row = {"rule": rule, "epoch": epoch + 1, "loss": float(np.mean(losses)), "seconds": round(time.time() - t0, 2)}
        if (epoch + 1) % eval_every and epoch + 1 < epochs:
            continue
        row.update({f"val/{m}": v for m, v in evaluate(model, val_data).items()})
        log.append(row)
        print(json.dumps({k: round(v, 4) if isinstance(v, float) else v for k, v in row.items()}), flush=True)
    return log, log[-1]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--corpus", type=Path, default=CORPUS, help="a timed corpus with its aiSFX frame cache (cache/aisfx-frames-16000hz)")
    ap.add_argument("--more", type=Path, nargs="*", default=[],
                    help="more corpora of the same kind (other seeds): their train scenes join the train split, their "
                         "validation scenes the validation split")
    ap.add_argument("--more-val", type=Path, nargs="*", default=[],
                    help="more corpora whose validation scenes alone join the validation split")
    ap.add_argument("--epochs", type=int, default=30, help="passes over the train scenes")
    ap.add_argument("--eval-every", type=int, default=1, help="score the validation split every this many epochs (and after the last)")
    ap.add_argument("--seed", type=int, default=0, help="initialisation and batch order")
    ap.add_argument("--rules", default=",".join(RULES), help=f"which scoring rules to train, of {RULES}")
    ap.add_argument("--out", type=Path, default=ROOT / "results" / "experiments" / "alignment_probe", help="where summary.json goes")
    args = ap.parse_args()
    torch.set_num_threads(int(os.environ.get("PROBE_THREADS", "2")))
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    from transformers import AutoModel, AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(default_text_model_path())
    backbone = AutoModel.from_pretrained(default_text_model_path()).eval()
    data = {split: load_split(args.corpus, split, tokenizer, backbone) for split in ("train", "val")}
    for more in args.more:  # other seeds' scenes of the same recordings' splits
        for split in ("train", "val"):
            extra = load_split(more, split, tokenizer, backbone)
            data[split] = {k: v + extra[k] if isinstance(v, list) else torch.cat([v, extra[k]]) for k, v in data[split].items()}
    for more in args.more_val:
        extra = load_split(more, "val", tokenizer, backbone)
        data["val"] = {k: v + extra[k] if isinstance(v, list) else torch.cat([v, extra[k]]) for k, v in data["val"].items()}
    summary = {"corpus": str(args.corpus.relative_to(ROOT) if args.corpus.is_relative_to(ROOT) else args.corpus),
               "more": [str(m) for m in args.more], "more_val": [str(m) for m in args.more_val], "split": "val", "scenes": {s: len(d["frames"]) // len(ROLES) for s, d in data.items()},
               "frames_per_clip": int(data["val"]["frames"].shape[1]), "epochs": args.epochs, "seed": args.seed, "rules": {}}  # fmt: skip
    logs = []
    for rule in args.rules.split(","):
        log, last = train(rule, data["train"], data["val"], args.epochs, args.seed, args.eval_every)
        logs += log
        summary["rules"][rule] = {"last_epoch": last, "best_val_order_acc": max(r["val/order_acc"] for r in log)}
    atomic_write(args.out / "epochs.csv", pd.DataFrame(logs).to_csv(index=False))  # every epoch's figures
    print(f"wrote {write_json_atomic(summary, args.out / 'summary.json')}")


if __name__ == "__main__":
    main()

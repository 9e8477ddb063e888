"""Exploratory: can a pretrained audio encoder name the library's held-out recordings?

The project's CNNs, trained from scratch, classify the library's held-out recordings zero-shot at
chance (``results/experiments/library_mixed_*``). This probe asks whether a pretrained sound-effects
encoder would change that, before anything is built on it. Each library recording is embedded once
(mono, the whole file) by three audio front ends:

* ``aisfx``: the CNN of the PyPI package ``aisfx`` (Ma & Lerch, ISMIR 2022; weights CC BY 4.0, in the
  wheel), trained with class labels on professional sound-effects libraries; mean of its 512-d block
  embeddings (blocks of 100 frames at 44.1 kHz, hop 50);
* ``aisfx_random``: the same network with its initial (untrained) weights, the control;
* ``logmel``: the mean and standard deviation of each of 64 log-mel bands (no network).

Then one linear map per front end is trained from the audio embedding to the all-MiniLM-L6-v2 text
space with a CLIP-style softmax over the class prompts of the library's **train** split (a class's
prompt: the normalised mean of its caption paraphrases); its weight decay is chosen on the **val**
split. Reported: zero-shot accuracy on the held-out packages over their classes, and on the test
split over its classes (in domain), with chance beside each; and, as the model meets them, on the
W channel of the held-out recordings rendered as single-event FOA clips in rooms (``heldout_clips``:
the clips of ``heldout/<embedding>/zero_shot_acc``, seed 2025, 2 s). One seed; exploratory.

    python scripts/probe_pretrained_audio.py [--library data/library] [--out results/experiments/pretrained_audio_probe]
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

import numpy as np
import soundfile as sf
import torch
import torch.nn.functional as F

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from sclap_nb.data.event_clips import ensure_event_clips, read_event_clips  # noqa: E402
from sclap_nb.data.library import read_manifest  # noqa: E402
from sclap_nb.data.sounds import heldout_source  # noqa: E402
from sclap_nb.files import write_json_atomic  # noqa: E402
from sclap_nb.pretrained import aisfx_input, aisfx_network  # noqa: E402


def logmel_stats(y: np.ndarray, rate: int) -> np.ndarray:
    import librosa

    m = np.log(librosa.feature.melspectrogram(y=y.astype(np.float32), sr=rate, n_fft=1024, hop_length=320, n_mels=64) + 1e-6)
    return np.concatenate([m.mean(1), m.std(1)])


def embed_all(files: list[Path], channel: int | None = None) -> dict[str, np.ndarray]:
    """Each front end's embedding of each file: its mean over channels, or one ``channel`` (W of a FOA clip)."""
    nets = {"aisfx": aisfx_network(True), "aisfx_random": aisfx_network(False)}
    out: dict[str, list] = {"aisfx": [], "aisfx_random": [], "logmel": []}
    for i, path in enumerate(files):
        y, rate = sf.read(path, dtype="float32", always_2d=True)
        y = y.mean(1) if channel is None else y[:, channel]
        x = aisfx_input(y, rate)
        with torch.no_grad():
            for name, net in nets.items():
                out[name].append(net(x).mean(0).numpy())
        out["logmel"].append(logmel_stats(y, rate))
        if i % 200 == 0:
            print(f"  embedded {i}/{len(files)}", flush=True)
    return {k: np.stack(v) for k, v in out.items()}


def class_prompts(classes: dict, names: list[str]) -> torch.Tensor:
    from sentence_transformers import SentenceTransformer

    from sclap_nb.model import default_text_model_path

    st = SentenceTransformer(default_text_model_path(), device="cpu")
    return torch.stack([F.normalize(torch.tensor(st.encode(classes[c]["captions"], normalize_embeddings=True)).mean(0), dim=0)
                        for c in names])  # fmt: skip


def fit_map(x: torch.Tensor, labels: torch.Tensor, prompts: torch.Tensor, weight_decay: float, epochs: int = 300) -> torch.nn.Linear:
    torch.manual_seed(0)
    lin = torch.nn.Linear(x.shape[1], prompts.shape[1])
    opt = torch.optim.AdamW(lin.parameters(), lr=1e-2, weight_decay=weight_decay)
    for _ in range(epochs):
        logits = F.normalize(lin(x), dim=-1) @ prompts.T / 0.05
        loss = F.cross_entropy(logits, labels)
        opt.zero_grad()
        loss.backward()
        opt.step()
    return lin


def accuracy(lin, x, labels, prompts) -> float:
    with torch.no_grad():
        return float(((F.normalize(lin(x), dim=-1) @ prompts.T).argmax(1) == labels).float().mean())


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--library", type=Path, default=ROOT / "data" / "library")
    ap.add_argument("--out", type=Path, default=ROOT / "results" / "experiments" / "pretrained_audio_probe")
    args = ap.parse_args()
    torch.set_num_threads(int(os.environ.get("PROBE_THREADS", "1")))
    rows = read_manifest(args.library / "manifest.csv")
    classes = json.loads((args.library / "classes.json").read_text())
    feats = embed_all([args.library / r["file"] for r in rows])
    split = np.array([r["split"] for r in rows])
    label = np.array([r["class"] for r in rows])
    where = ROOT / "data" / "heldout-clips-s2025-16000hz-2s-rooms"  # as sclap_nb.heldout.heldout_dirs names it
    clips, _ = read_event_clips(ensure_event_clips(where, heldout_source(args.library), "test", 2025, 16000, 2.0, False))
    clip_feats = embed_all([Path(c["file"]) for c in clips], channel=0)
    subsets = {s: np.flatnonzero(split == s) for s in ("train", "val", "test", "heldout")}
    names = {s: sorted(set(label[idx])) for s, idx in subsets.items()}
    prompts = {s: class_prompts(classes, names[s]) for s in subsets}
    lab = {s: torch.tensor([names[s].index(c) for c in label[idx]]) for s, idx in subsets.items()}
    train_classes = set(names["train"])
    summary: dict = {"recordings": {s: int(len(i)) for s, i in subsets.items()},
                     "classes": {s: len(n) for s, n in names.items()},
                     "chance": {s: 1 / len(n) for s, n in names.items()},
                     "heldout_classes_seen_in_train": sum(c in train_classes for c in names["heldout"]),
                     "front_ends": {}}  # fmt: skip
    for name, f in feats.items():
        mu, sd = f[subsets["train"]].mean(0), f[subsets["train"]].std(0) + 1e-6
        x = {s: torch.tensor((f[idx] - mu) / sd, dtype=torch.float32) for s, idx in subsets.items()}
        val = {wd: accuracy(fit_map(x["train"], lab["train"], prompts["train"], wd), x["val"], lab["val"], prompts["val"])
               for wd in (1e-4, 1e-2, 1e-1, 1.0)}  # fmt: skip
        wd = max(val, key=val.get)
        lin = fit_map(x["train"], lab["train"], prompts["train"], wd)
        seen = torch.tensor([c in train_classes for c in label[subsets["heldout"]]])
        pred_ok = (F.normalize(lin(x["heldout"]), dim=-1) @ prompts["heldout"].T).argmax(1) == lab["heldout"]
        x_clips = torch.tensor((clip_feats[name] - mu) / sd, dtype=torch.float32)
        lab_clips = torch.tensor([names["heldout"].index(c["class"]) for c in clips])
        summary["front_ends"][name] = {
            "val_acc_by_weight_decay": {str(k): v for k, v in val.items()}, "weight_decay": wd,
            "train_acc": accuracy(lin, x["train"], lab["train"], prompts["train"]),
            "val_acc": val[wd],
            "test_acc": accuracy(lin, x["test"], lab["test"], prompts["test"]),
            "heldout_acc": accuracy(lin, x["heldout"], lab["heldout"], prompts["heldout"]),
            "heldout_acc_seen_classes": float(pred_ok[seen].float().mean()),
            "heldout_acc_unseen_classes": float(pred_ok[~seen].float().mean()) if (~seen).any() else None,
            "heldout_clips_acc": accuracy(lin, x_clips, lab_clips, prompts["heldout"]),
        }  # fmt: skip
        print(name, json.dumps(summary["front_ends"][name]), flush=True)
    args.out.mkdir(parents=True, exist_ok=True)
    write_json_atomic(summary, args.out / "summary.json")
    print(f"wrote {args.out / 'summary.json'}")


if __name__ == "__main__":
    main()

"""Exploratory: can a pretrained audio encoder name the library's held-out recordings?

The project's CNNs, trained from scratch, classify the library's held-out recordings zero-shot at
chance (``results/experiments/library_mixed_*``). This probe asks whether a pretrained sound-effects
encoder would change that, before anything is built on it. Each library recording is embedded once
(mono, the whole file) by three audio front ends:

* ``aisfx``: the CNN of the PyPI package ``aisfx`` (Ma & Lerch, ISMIR 2022; weights CC BY 4.0, in the
  wheel), trained with class labels on professional sound-effects libraries; mean of its 512-d block
  embeddings (blocks of 100 frames at 44.1 kHz, hop 50);
* ``aisfx_random``: the same network with its initial (untrained) weights, the control;
* ``logmel``: the mean and standard deviation of each of 64 log-mel bands (no network);
* ``cnn_scratch`` (clips only): the model's own semantic CNN (``sclap_nb.model.ConvEncoder`` on the W
  log-mel of ``sclap_nb.features``), trained from scratch with its map on the train clips, the epoch
  kept by val accuracy: what the project's branch can learn of the classes from single events.

Each recording is also rendered as the only event of its own 2 s FOA clip in a room (seed 2025; the
clips that ``heldout/<embedding>/zero_shot_acc`` and ``library/...`` score, built the same way for
the train and val splits), and its W channel embedded the same way: that is how the model meets it.

Then linear maps from each front end's embedding to the all-MiniLM-L6-v2 text space are trained with
a CLIP-style softmax over the class prompts of the library's **train** split (a class's prompt: the
normalised mean of its caption paraphrases): one on the dry train recordings, one on their clips;
the weight decay of each is chosen on the matching **val** set. Each is scored zero-shot on the test
split (in domain) and on the held-out packages (never heard), dry and as clips, each over its own
classes (chance: one over their number). One seed; exploratory.

    python scripts/probe_pretrained_audio.py [--library data/library] [--out results/experiments/pretrained_audio_probe]
"""

from __future__ import annotations

import argparse
import copy
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
from sclap_nb.data.sounds import heldout_source, sound_source  # noqa: E402
from sclap_nb.files import atomic_write, write_json_atomic  # noqa: E402
from sclap_nb.metrics import zero_shot_accuracy  # noqa: E402
from sclap_nb.pretrained import aisfx_input, aisfx_network  # noqa: E402


CLIP_TAG = "s2025-16000hz-2s-rooms"  # seed, rate, length, rooms: as sclap_nb.heldout.heldout_dirs names its clips


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
        return zero_shot_accuracy(F.normalize(lin(x), dim=-1), prompts, labels)


def train_cnn_scratch(sets: dict, labels: dict, prompts: dict, epochs: int = 30, batch: int = 32) -> dict[str, float]:
    """The model's semantic CNN and a linear map, trained from scratch on the train clips' W log-mel."""
    from sclap_nb.features import FOAFeatures
    from sclap_nb.model import ConvEncoder

    features = FOAFeatures().eval()
    mels = {}
    for k, files in sets.items():
        with torch.no_grad():
            mels[k] = torch.cat([features(torch.from_numpy(np.stack([sf.read(f, dtype="float32")[0].T for f in files[i:i + 64]])))[0]
                                 for i in range(0, len(files), 64)])  # fmt: skip
    torch.manual_seed(0)
    net = torch.nn.ModuleDict({"cnn": ConvEncoder(1)})
    net["head"] = torch.nn.Linear(net["cnn"].out_channels, prompts["clips_train"].shape[1])
    opt = torch.optim.AdamW(net.parameters(), lr=1e-3, weight_decay=1e-2)

    def embed(x: torch.Tensor) -> torch.Tensor:
        return F.normalize(net["head"](net["cnn"](x)[0]), dim=-1)

    def acc(k: str) -> float:
        net.eval()
        with torch.no_grad():
            return zero_shot_accuracy(torch.cat([embed(mels[k][i:i + 256]) for i in range(0, len(mels[k]), 256)]), prompts[k], labels[k])

    best, kept, order = -1.0, None, torch.Generator().manual_seed(0)
    for _ in range(epochs):
        net.train()
        for idx in torch.randperm(len(mels["clips_train"]), generator=order).split(batch):
            loss = F.cross_entropy(embed(mels["clips_train"][idx]) @ prompts["clips_train"].T / 0.05, labels["clips_train"][idx])
            opt.zero_grad()
            loss.backward()
            opt.step()
        if (val := acc("clips_val")) > best:
            best, kept = val, copy.deepcopy(net.state_dict())
    net.load_state_dict(kept)
    return {"epochs": epochs, "val_acc": best, **{f"{k}_acc": acc(k) for k in ("clips_train", "clips_test", "clips_heldout")}}


def cached_embeddings(name: str, files: list[Path], channel: int | None = None) -> dict[str, np.ndarray]:
    """``embed_all``, kept in ``data/probe-pretrained/<name>.npz`` beside the files it embedded (path, size,
    modification time): reused only while every one of them is unchanged."""
    path = ROOT / "data" / "probe-pretrained" / f"{name}.npz"
    listed = np.array([f"{f}|{f.stat().st_size}|{f.stat().st_mtime_ns}|{channel}" for f in files])
    if path.is_file():
        with np.load(path) as z:
            if np.array_equal(z["files"], listed):
                return {k: z[k] for k in z.files if k != "files"}
    feats = embed_all(files, channel)
    atomic_write(path, lambda f: np.savez(f, files=listed, **feats))
    return feats


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--library", type=Path, default=ROOT / "data" / "library")
    ap.add_argument("--out", type=Path, default=ROOT / "results" / "experiments" / "pretrained_audio_probe")
    args = ap.parse_args()
    torch.set_num_threads(int(os.environ.get("PROBE_THREADS", "1")))
    rows = read_manifest(args.library / "manifest.csv")
    classes = json.loads((args.library / "classes.json").read_text())
    # the sets: each recording as it is (dry), and as the only event of its own FOA clip (W channel)
    sets: dict[str, tuple[dict[str, np.ndarray], np.ndarray]] = {}
    dry = cached_embeddings("dry", [args.library / r["file"] for r in rows])
    for split in ("train", "val", "test", "heldout"):
        idx = [i for i, r in enumerate(rows) if r["split"] == split]
        sets[f"dry_{split}"] = ({k: v[idx] for k, v in dry.items()}, np.array([rows[i]["class"] for i in idx]))
    library = sound_source("library", args.library, 16000)
    clip_files: dict[str, list[Path]] = {}
    for split in ("train", "val", "test", "heldout"):
        source, asked = (heldout_source(args.library), "test") if split == "heldout" else (library, split)
        where = ROOT / "data" / (f"heldout-clips-{CLIP_TAG}" if split == "heldout" else f"library-{split}-clips-{CLIP_TAG}")
        clips, _ = read_event_clips(ensure_event_clips(where, source, asked, 2025, 16000, 2.0, False))
        clip_files[f"clips_{split}"] = [Path(c["file"]) for c in clips]
        feats = cached_embeddings(f"clips_{split}", clip_files[f"clips_{split}"], channel=0)
        sets[f"clips_{split}"] = (feats, np.array([c["class"] for c in clips]))
    names = {k: sorted(set(lab)) for k, (_, lab) in sets.items()}
    prompts = {k: class_prompts(classes, n) for k, n in names.items()}
    labels = {k: torch.tensor([names[k].index(c) for c in lab]) for k, (_, lab) in sets.items()}
    train_classes = set(names["dry_train"])
    summary: dict = {"recordings": {k: len(lab) for k, (_, lab) in sets.items()},
                     "classes": {k: len(n) for k, n in names.items()},
                     "chance": {k: 1 / len(n) for k, n in names.items()},
                     "heldout_classes_seen_in_train": sum(c in train_classes for c in names["dry_heldout"]),
                     "front_ends": {}}  # fmt: skip
    for front in dry:
        summary["front_ends"][front] = {}
        for fit_on in ("dry", "clips"):  # a map trained on the dry train recordings, or on their clips
            f_train = sets[f"{fit_on}_train"][0][front]
            mu, sd = f_train.mean(0), f_train.std(0) + 1e-6
            x = {k: torch.tensor((feats[front] - mu) / sd, dtype=torch.float32) for k, (feats, _) in sets.items()}
            tr, va = f"{fit_on}_train", f"{fit_on}_val"
            val = {wd: accuracy(fit_map(x[tr], labels[tr], prompts[tr], wd), x[va], labels[va], prompts[va])
                   for wd in (1e-4, 1e-2, 1e-1, 1.0)}  # fmt: skip
            wd = max(val, key=val.get)
            lin = fit_map(x[tr], labels[tr], prompts[tr], wd)
            seen = torch.tensor([c in train_classes for c in sets["dry_heldout"][1]])
            with torch.no_grad():
                ok = (F.normalize(lin(x["dry_heldout"]), dim=-1) @ prompts["dry_heldout"].T).argmax(1) == labels["dry_heldout"]
            summary["front_ends"][front][f"map_on_{fit_on}"] = {
                "val_acc_by_weight_decay": {str(k): v for k, v in val.items()}, "weight_decay": wd,
                **{f"{k}_acc": accuracy(lin, x[k], labels[k], prompts[k]) for k in sets if not k.endswith("val")},
                "dry_heldout_acc_seen_classes": float(ok[seen].float().mean()),
                "dry_heldout_acc_unseen_classes": float(ok[~seen].float().mean()) if (~seen).any() else None,
            }  # fmt: skip
            print(front, fit_on, json.dumps(summary["front_ends"][front][f"map_on_{fit_on}"]), flush=True)
    summary["front_ends"]["cnn_scratch"] = {"map_on_clips": train_cnn_scratch(clip_files, labels, prompts)}
    print("cnn_scratch clips", json.dumps(summary["front_ends"]["cnn_scratch"]["map_on_clips"]), flush=True)
    args.out.mkdir(parents=True, exist_ok=True)
    write_json_atomic(summary, args.out / "summary.json")
    print(f"wrote {args.out / 'summary.json'}")


if __name__ == "__main__":
    main()

"""Can a temporal readout read the direction of motion and the first sound from a trained model's
feature maps at all, when it is told to? Supervised readouts trained on frozen maps.

    python scripts/probe_temporal_readouts.py RUN_DIR CORPUS_DIR --out FILE.json [--epochs 40]

``scripts/probe_first_sound.py`` asks what a trained model's *embeddings* hold. This asks what its
*feature maps* hold and whether the temporal encoder's architectures can get it out: the trained
model of RUN_DIR (its ``checkpoints/best.ckpt``, else its ``model/`` export) gives, for every clip of the
train and test splits of CORPUS_DIR, the two branches' feature maps averaged over frequency
(``(C, T')`` each) and the frame activity the ordered readout weighs frames by. Then readouts
initialised afresh (seed 0) learn each target with a cross-entropy loss on the train clips alone, and
are scored on the test clips:

* ``pooled``: the time mean of both maps, then a linear layer: what a time-pooled embedding such as
  E_joint can hold at best with a linear read;
* ``frames``: every frame of both maps, flattened in time order, then a linear layer: a readout that
  sees where in the clip each frame is;
* ``concat`` and ``ordered``: a fresh ``sclap_nb.model.TemporalAudioEncoder`` of that readout (the
  default run's and the ordered study's), then a linear layer.

Targets: the direction of motion (``ccw``/``cw``, as in ``probe_first_sound``; pos and neg_m clips
differ only in it) and the class of the first sound. If a readout learns a target here and the
trained model's own temporal embedding does not hold it, the maps and the architecture are not what
is missing: the training signal is. Exploratory: one run, one probe seed.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

sys.path.insert(0, str(Path(__file__).resolve().parent))
from probe_first_sound import trained_model, turn  # noqa: E402


def feature_maps(model, corpus: Path, split: str, seed: int) -> dict:
    """Frequency-averaged maps ``(N, C, T')`` of both branches, frame activity ``(N, T')`` and targets."""
    from torch.utils.data import DataLoader

    from sclap_nb.data import StClothoDataModule, collate_groups, read_metadata
    from sclap_nb.features import FeatureConfig
    from sclap_nb.model import frame_activity

    rows = {r["id"]: r for r in read_metadata(corpus, split)}
    roles = ("pos", "neg_t", "neg_s", "neg_c", "neg_m")
    dm = StClothoDataModule(corpus, batch_size=16, mode="triplet", features=FeatureConfig(), cache_dir=corpus / "cache",
                            seed=seed, roles=roles)  # fmt: skip
    sed, doa, act, first, motion = [], [], [], [], []
    model.eval()
    with torch.no_grad():
        for batch in DataLoader(dm.dataset(split), batch_size=16, collate_fn=collate_groups):
            _, sed_map = model.sed_encoder(batch["logmel"])
            _, doa_map = model.doa_encoder(batch["logmeliv"])
            sed.append(sed_map.float().mean(3))
            doa.append(doa_map.float().mean(3))
            act.append(frame_activity(batch["logmel"], sed_map.shape[2]))
            for i in batch["ids"]:
                first.append(rows[i]["class_1"])
                motion.append(turn(rows[i]["events"]))
    return {"sed": torch.cat(sed), "doa": torch.cat(doa), "activity": torch.cat(act),
            "first": np.array(first), "motion": np.array(motion)}  # fmt: skip


class Readout(nn.Module):
    def __init__(self, kind: str, channels: int, frames: int, n_out: int, fusion_weight: torch.Tensor, dim: int):
        super().__init__()
        from sclap_nb.model import TemporalAudioEncoder

        self.kind = kind
        self.register_buffer("w", fusion_weight)  # the weight of the spatial map in each token (per unit)
        if kind == "pooled":
            self.net = nn.Linear(2 * channels, n_out)
        elif kind == "frames":
            self.net = nn.Linear(2 * channels * frames, n_out)
        else:
            self.encoder = TemporalAudioEncoder(dim=dim, in_channels=channels, readout=kind, token_norm=True)
            self.net = nn.Linear(dim, n_out)

    def forward(self, sed: torch.Tensor, doa: torch.Tensor, activity: torch.Tensor) -> torch.Tensor:
        if self.kind == "pooled":
            return self.net(torch.cat([sed.mean(2), doa.mean(2)], 1))
        if self.kind == "frames":
            return self.net(torch.cat([sed, doa], 1).flatten(1))
        maps = sed[..., None], doa[..., None]  # (B, C, T', 1): the encoder's (B, C, T, F) maps
        return self.net(self.encoder(*maps, self.w, None, activity if self.kind == "ordered" else None))


def fit(kind: str, train: dict, test: dict, target: str, epochs: int, fusion_weight: torch.Tensor, dim: int) -> dict:
    classes = sorted(set(train[target]))
    index = {c: i for i, c in enumerate(classes)}
    y_train = torch.tensor([index[c] for c in train[target]])
    known = np.array([c in index for c in test[target]])
    y_test = torch.tensor([index.get(c, -1) for c in test[target]])
    # standardise each channel with the train clips' statistics (the maps are ReLU outputs of another scale)
    mu = {k: train[k].mean((0, 2), keepdim=True) for k in ("sed", "doa")}
    sd = {k: train[k].std((0, 2), keepdim=True) + 1e-6 for k in ("sed", "doa")}
    norm = lambda d, k: (d[k] - mu[k]) / sd[k]  # noqa: E731
    xs = {s: (norm(d, "sed"), norm(d, "doa"), d["activity"]) for s, d in (("train", train), ("test", test))}
    torch.manual_seed(0)
    model = Readout(kind, train["sed"].shape[1], train["sed"].shape[2], len(classes), fusion_weight, dim)
    opt = torch.optim.AdamW(model.parameters(), lr=1e-3, weight_decay=1e-2)
    n = len(y_train)
    g = torch.Generator().manual_seed(0)
    t0 = time.time()
    for _ in range(epochs):
        model.train()
        for idx in torch.randperm(n, generator=g).split(64):
            loss = F.cross_entropy(model(*(x[idx] for x in xs["train"])), y_train[idx])
            opt.zero_grad()
            loss.backward()
            opt.step()
    model.eval()
    with torch.no_grad():
        train_acc = (model(*xs["train"]).argmax(1) == y_train).float().mean().item()
        pred = model(*xs["test"]).argmax(1)
    test_acc = float(((pred == y_test) & torch.from_numpy(known)).float().mean())
    return {"train_acc": train_acc, "test_acc": test_acc, "seconds": time.time() - t0}


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("run_dir")
    ap.add_argument("corpus")
    ap.add_argument("--out", required=True)
    ap.add_argument("--epochs", type=int, default=40, help="passes over the train clips per readout (default 40)")
    ap.add_argument("--maps", help="a file to keep the feature maps in and read them from on a later call (yours to delete)")
    ap.add_argument("--dim", type=int, help="width of the concat and ordered readouts (default: the model's embedding width)")
    ap.add_argument("--kinds", nargs="+", default=["pooled", "frames", "concat", "ordered"], help="readouts to train")
    args = ap.parse_args(argv)
    out = Path(args.out)
    model, source, seed = trained_model(args.run_dir, out)
    corpus = Path(args.corpus)
    maps = Path(args.maps) if args.maps else None
    if maps is not None and maps.is_file():
        train, test = torch.load(maps, weights_only=False)
    else:
        train, test = feature_maps(model, corpus, "train", seed), feature_maps(model, corpus, "test", seed)
        if maps is not None:
            torch.save((train, test), maps)
    result = {"run": str(args.run_dir), "weights": source.name, "corpus": str(corpus), "epochs": args.epochs,
              "n_train": len(train["first"]), "n_test": len(test["first"]), "map_shape": list(train["sed"].shape[1:])}  # fmt: skip
    dim = args.dim or model.cfg.dim
    result["dim"] = dim
    for target in ("motion", "first"):
        result[f"chance_{target}"] = float(max(np.mean(test[target] == c) for c in set(test[target])))
        for kind in args.kinds:
            r = fit(kind, train, test, target, args.epochs, torch.ones(dim), dim)  # fresh readouts: both maps weighed alike
            for k, v in r.items():
                result[f"{kind}/{target}_{k}"] = v
            print(f"{kind:8s} {target:7s} train {r['train_acc']:.3f} test {r['test_acc']:.3f} ({r['seconds']:.0f} s)", flush=True)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_suffix(".tmp")
    tmp.write_text(json.dumps(result, indent=1) + "\n")
    tmp.replace(out)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

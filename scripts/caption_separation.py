"""How far apart a model puts each scene's captions, and its clips, role by role.

    python scripts/caption_separation.py MODEL CORPUS [--split val] [--out FILE.json]

For every scene of the split and every negative role: the mean cosine similarity between the pos
caption's text embedding and the negative's caption's, the same between the two clips' audio
embeddings (E_joint and the triplet embedding), and the mean margin by which the pos caption scores
the pos clip above the negative clip. A text side that gives two captions a cosine near 1 cannot
tell their clips apart, whatever the audio side does. Exploratory: it reads no test split unless told.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import torch
import torch.nn.functional as F
from torch.utils.data import DataLoader

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from sclap_nb.data import StClothoDataset, collate_groups  # noqa: E402
from sclap_nb.evaluation import embed_split  # noqa: E402
from sclap_nb.export import load_model  # noqa: E402
from sclap_nb.files import write_json_atomic  # noqa: E402


def separation(model_path: str, corpus: str, split: str = "val") -> dict:
    model, _ = load_model(model_path, torch.device("cpu"))
    model.eval()
    ds = StClothoDataset(corpus, split, "triplet", model.cfg.features, None, roles="all")
    emb = embed_split(model, DataLoader(ds, batch_size=8, collate_fn=collate_groups))
    g = len(ds.roles)
    text = emb["text_comb"].view(-1, g, emb["text_comb"].shape[-1])
    out = {"model": model_path, "corpus": corpus, "split": split, "scenes": len(ds)}
    for j, role in enumerate(ds.roles[1:], 1):
        out[f"{role}/text_cos"] = F.cosine_similarity(text[:, 0], text[:, j]).mean().item()
        for name in ("joint", "triplet"):
            if emb.get(f"e_{name}") is None or not len(emb[f"e_{name}"]):
                continue
            audio = emb[f"e_{name}"].view(-1, g, emb[f"e_{name}"].shape[-1])
            out[f"{role}/{name}/audio_cos"] = F.cosine_similarity(audio[:, 0], audio[:, j]).mean().item()
            out[f"{role}/{name}/margin"] = ((audio[:, 0] - audio[:, j]) * text[:, 0]).sum(-1).mean().item()
    return out


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("model")
    ap.add_argument("corpus")
    ap.add_argument("--split", default="val", choices=("train", "val", "test"))
    ap.add_argument("--out", type=Path, help="write the figures here as JSON (an existing file is refused)")
    args = ap.parse_args(argv)
    res = separation(args.model, args.corpus, args.split)
    print(json.dumps(res, indent=1))
    if args.out:
        if args.out.exists():
            raise SystemExit(f"{args.out}: exists; give another --out")
        write_json_atomic(res, args.out)
    return 0


if __name__ == "__main__":
    sys.exit(main())

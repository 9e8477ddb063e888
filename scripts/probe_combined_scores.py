"""Exploratory: one scorer for order and motion? The aligned scores plus the triplet embedding's cosine.

``results/aligned_study`` found that the aligned scores (a caption's events against the clip's frames, in order;
``sclap_nb.model.aligned_scores``) hear the order of the sounds better than the triplet embedding, but not the way
a moving source goes (``motion_acc`` at chance), which the triplet embedding hears. This probe scores each clip
against each caption by ``w * S_aligned + cos(triplet)`` for a few weights ``w`` (``w`` = 0: the triplet embedding
alone; the aligned scores alone are listed too), with the study's five 2-thread runs of ``MA`` (their exports under
``runs/aligned_study``), each on the **validation** split of its own seed's corpus (64 scenes; no test split is
read), and reports ``order_acc``, ``place_acc``, ``motion_acc`` and T2A R@1 as ``metrics.json`` counts them
(``sclap_nb.evaluation``'s rows and tie rule). Writes ``summary.json`` (per seed and the mean) into ``--out``.

    python scripts/probe_combined_scores.py [--runs runs/aligned_study] [--out results/experiments/aligned_combined]
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import pandas as pd
import torch
from torch.utils.data import DataLoader

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from sclap_nb.data import StClothoDataset, collate_groups  # noqa: E402
from sclap_nb.evaluation import embed_split, score_matrix_metrics  # noqa: E402
from sclap_nb.export import load_model, resolve_device  # noqa: E402
from sclap_nb.files import write_json_atomic  # noqa: E402
from sclap_nb.model import aligned_scores  # noqa: E402

SEEDS = (2025, 2026, 2027, 2028, 2029)
WEIGHTS = (0.0, 0.5, 1.0, 2.0)
CORPUS = "data/stclotho-512-64-128-s{seed}-16000hz-4s-rooms-timed-mixed"


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=Path, default=ROOT / "runs" / "aligned_study", help="the aligned study's runs (MA_s<seed>_t2/model)")
    ap.add_argument("--out", type=Path, default=ROOT / "results" / "experiments" / "aligned_combined")
    args = ap.parse_args(argv)
    torch.manual_seed(0)
    rows = []
    for seed in SEEDS:
        model, _ = load_model(args.runs / f"MA_s{seed}_t2" / "model", resolve_device("cpu"))
        corpus = ROOT / CORPUS.format(seed=seed)
        data = StClothoDataset(corpus, "val", "triplet", model.cfg.features, corpus / "cache", roles="all",
                               pretrained=model.cfg.pretrained_input)  # fmt: skip
        emb = embed_split(model, DataLoader(data, batch_size=16, collate_fn=collate_groups))
        cosine = (emb["text_comb"] @ emb["e_triplet"].T).double()  # (captions, clips), one caption per clip
        aligned = aligned_scores(emb["t_items"], emb["a_frames"]).double()
        scorers = {"aligned alone": aligned, **{f"triplet + {w:g} aligned": cosine + w * aligned for w in WEIGHTS}}
        for name, score in scorers.items():
            rows.append({"seed": seed, "scorer": name, **score_matrix_metrics(score, emb)})
            print(rows[-1], flush=True)
    table = pd.DataFrame(rows)
    mean = table.groupby("scorer", sort=False).mean(numeric_only=True).drop(columns="seed")
    print(mean.round(3).to_string())
    write_json_atomic({"split": "val", "scenes_per_seed": 64, "seeds": list(SEEDS), "weights": list(WEIGHTS),
                       "runs": rows, "mean": mean.reset_index().to_dict(orient="records")}, args.out / "summary.json")  # fmt: skip
    return 0


if __name__ == "__main__":
    sys.exit(main())

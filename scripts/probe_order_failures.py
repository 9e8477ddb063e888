"""Exploratory: where the best scorers lose the order of the sounds, on validation scenes only.

``results/epochs_study`` left ``order_acc`` at 0.800 for the combined scorer (the triplet cosine plus the aligned
score) and 0.867 for the aligned scores alone, against a goal of 0.9. ``order_acc`` needs pos above neg_t and
above neg_c, and neg_c (the sounds' order swapped, the directions kept) is what both lose most. This probe asks
which scenes they lose. It builds a **validation** corpus of ``--scenes`` timed scenes from a seed that no study
has used (``--seed``; only validation recordings of the library and the soundfont's instruments, as every
corpus's validation split has), scores it with one export (default: ``results/epochs_study/model_ME12_s2025``),
and writes each scene's scores of each clip with the scene's make-up (``scenes.csv``: events, overlap, the gap
between the first two events, which event moves, whether the first two sounds are soundfont instruments or
recordings of the library) and the share of
scenes each scorer wins against neg_c and neg_t by make-up (``summary.json``), into ``--out``. No test split is
read.

    python scripts/probe_order_failures.py [--model results/epochs_study/model_ME12_s2025] [--scenes 384]
        [--seed 6263] [--out results/experiments/order_failures]
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import pandas as pd
import torch
from torch.utils.data import DataLoader

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from sclap_nb.config import DataConfig, FeatureConfig  # noqa: E402
from sclap_nb.data import StClothoDataset, collate_groups  # noqa: E402
from sclap_nb.data.corpus import ensure_corpus, read_metadata  # noqa: E402
from sclap_nb.data.sounds import sound_source  # noqa: E402
from sclap_nb.evaluation import embed_split  # noqa: E402
from sclap_nb.export import load_model, resolve_device  # noqa: E402
from sclap_nb.files import atomic_write, write_json_atomic  # noqa: E402
from sclap_nb.metrics import TIMED_GROUP_ROLES, group_scores  # noqa: E402
from sclap_nb.model import aligned_pair_scores, combined_pair_scores  # noqa: E402

CLIP_SECONDS = 4.0


def corpus(seed: int, scenes: int) -> Path:
    """The probe's validation scenes: ``scenes`` timed scenes of seed ``seed``, mixed sounds, no train or test split."""
    sr = FeatureConfig.sample_rate
    return ensure_corpus(ROOT / f"data/orderval-mix-s{seed}-{scenes}-{CLIP_SECONDS:g}s", n_train=0, n_val=scenes, n_test=0,
                         seed=seed, sample_rate=sr, clip_seconds=CLIP_SECONDS, layout="timed", progress=False,
                         source=sound_source("mixed", ROOT / DataConfig.library_dir, sr))  # fmt: skip


def scene_table(root: Path) -> pd.DataFrame:
    """One row per scene from its pos clip's events: how many, how they share the clip, what they are."""
    rows = read_metadata(root, "val")
    out = []
    for r in rows:
        if r["role"] != "pos":
            continue
        ev = r["events"]
        a, b = ev[0], ev[1]
        gap = b["onset"] - (a["onset"] + a["duration"])  # negative: the second starts before the first ends
        out.append({"id": r["id"], "events": len(ev), "gap_12": gap, "overlap": gap < 0,
                    "onset_lag": b["onset"] - a["onset"], "dur_1": a["duration"], "dur_2": b["duration"],
                    "same_source": a["source"] == b["source"], "class_1": a["class"], "class_2": b["class"],
                    "moving_event": next((k + 1 for k, e in enumerate(ev) if e["moving"]), 0),
                    "sounds": "+".join("recorded" if ":audio/" in e["source"] else "soundfont" for e in (a, b))})  # fmt: skip
    return pd.DataFrame(out)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--model", type=Path, default=ROOT / "results" / "epochs_study" / "model_ME12_s2025")
    ap.add_argument("--scenes", type=int, default=384)
    ap.add_argument("--seed", type=int, default=6263)
    ap.add_argument("--out", type=Path, default=ROOT / "results" / "experiments" / "order_failures")
    args = ap.parse_args(argv)
    torch.manual_seed(0)
    root = corpus(args.seed, args.scenes)
    model, _ = load_model(args.model, resolve_device("cpu"))
    data = StClothoDataset(root, "val", "triplet", model.cfg.features, None, roles="all", pretrained=model.cfg.pretrained_input)
    if tuple(data.roles) != tuple(TIMED_GROUP_ROLES):
        raise SystemExit(f"{root}: scenes hold {data.roles}, not {TIMED_GROUP_ROLES}")
    emb = embed_split(model, DataLoader(data, batch_size=16, collate_fn=collate_groups))
    roles = emb["roles"]
    tri, text, frames, items = emb["e_triplet"], emb["text_comb"], emb["a_frames"], emb["t_items"]
    index = torch.arange(len(roles), dtype=torch.float32)[:, None]
    scorers = {
        "triplet": group_scores(tri, text, roles),
        "aligned": group_scores(frames, items, roles, pair_score=aligned_pair_scores),
        "combined": group_scores(index, index, roles, pair_score=lambda t, a: combined_pair_scores(
            text[t[:, 0].long()], items[t[:, 0].long()], tri[a[:, 0].long()], frames[a[:, 0].long()])),
    }  # fmt: skip
    table = scene_table(root)
    for name, s in scorers.items():
        for k, role in enumerate(TIMED_GROUP_ROLES):
            table[f"{name}/{role}"] = s[:, k].double().numpy()
        for role in ("neg_t", "neg_c", "neg_s", "neg_m"):
            table[f"{name}/beats_{role}"] = table[f"{name}/pos"] > table[f"{name}/{role}"]
        table[f"{name}/order"] = table[f"{name}/beats_neg_t"] & table[f"{name}/beats_neg_c"]
    groups = {
        "all": table.index == table.index,
        "two events": table["events"] == 2,
        "three events": table["events"] == 3,
        "first two overlap": table["overlap"],
        "gap 0-0.5 s": (table["gap_12"] >= 0) & (table["gap_12"] < 0.5),
        "gap >= 0.5 s": table["gap_12"] >= 0.5,
        "the first event moves": table["moving_event"] == 1,
        "the second event moves": table["moving_event"] == 2,
        "the third event moves": table["moving_event"] == 3,
        **{f"first two: {k}": table["sounds"] == k for k in ("soundfont+soundfont", "soundfont+recorded",
                                                             "recorded+soundfont", "recorded+recorded")},
    }  # fmt: skip
    summary = {"model": str(args.model.relative_to(ROOT) if args.model.is_relative_to(ROOT) else args.model),
               "corpus": str(root.relative_to(ROOT)), "split": "val", "scenes": len(table), "by_make_up": {}}  # fmt: skip
    for g, mask in groups.items():
        sub = table[mask]
        summary["by_make_up"][g] = {"scenes": int(len(sub)), **{
            f"{name}/{t}": float(sub[f"{name}/{t}"].mean()) if len(sub) else None
            for name in scorers for t in ("order", "beats_neg_c", "beats_neg_t", "beats_neg_m")}}  # fmt: skip
    args.out.mkdir(parents=True, exist_ok=True)
    atomic_write(args.out / "scenes.csv", table.to_csv(index=False))
    write_json_atomic(summary, args.out / "summary.json")
    print(json.dumps(summary, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Does an audio embedding know which sound came first? A linear probe on frozen embeddings.

    python scripts/probe_first_sound.py RUN_DIR CORPUS_DIR --out results/experiments/NAME/first_sound_probe.json

For every clip of the train and test splits (pos, neg_t, neg_s, neg_c: the first event is A in two of them
and B in the other two), the trained model of RUN_DIR (its checkpoints/best.ckpt, else its model/ export)
gives E_joint, the temporal embedding and the triplet embedding. A logistic regression per embedding, on
features standardised with the train clips' mean and std (unit-norm embeddings whose clips differ only
in a small part would otherwise be probed through a penalty far too strong for them), learns the class
of the FIRST event from the train clips and is scored on the test clips, beside a probe for the class of
the SECOND event. A time-pooled embedding that knows both sounds but not their order can name the first one in
about half the clips at best; an embedding that holds the order can name both. ``<emb>/mean_cos`` is the
mean cosine between the embeddings of two different test clips and ``<emb>/spread`` the RMS distance of
the test clips' unit embeddings from their mean: 1.0 and 0.0 mean the embedding is the same for every
clip (it has collapsed).

On a timed corpus (``layout="timed"``: every scene has a moving source and a neg_m clip, where it moves the
other way round) the probes read all five clips, and a third probe learns the **direction of motion**:
whether the moving source turns counter-clockwise (azimuth growing, left of the listener's front) or
clockwise, from the ``events`` column. Pos and neg_m clips differ only in that, so a time-pooled
embedding that hears where the source is but not where it goes sits near 0.5. ``chance_*`` is the share
of the test clips' most common answer.
"""

from __future__ import annotations

import argparse
import json
import os
from pathlib import Path

import numpy as np
import torch
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler


def embeddings(model, corpus: Path, split: str, seed: int):
    """E_joint, temporal and triplet embeddings of every clip of ``split``, and each clip's first and second class."""
    from torch.utils.data import DataLoader

    from sclap_nb.data import StClothoDataModule, collate_groups, read_metadata
    from sclap_nb.features import FeatureConfig

    rows = {r["id"]: r for r in read_metadata(corpus, split)}
    timed = all(r.get("events") for r in rows.values())
    roles = ("pos", "neg_t", "neg_s", "neg_c") + (("neg_m",) if timed else ())
    dm = StClothoDataModule(corpus, batch_size=16, mode="triplet", features=FeatureConfig(), cache_dir=corpus / "cache",
                            seed=seed, roles=roles, pretrained=model.cfg.pretrained_input)  # fmt: skip
    out = {"joint": [], "temporal": [], "triplet": []}
    first, second, motion = [], [], []
    model.eval()
    with torch.no_grad():
        for batch in DataLoader(dm.dataset(split), batch_size=16, collate_fn=collate_groups):
            a = model.encode_audio(batch["logmel"], batch["logmeliv"], batch.get("aisfx"))  # (a pretrained model's features)
            for k in out:
                out[k].append(a[f"e_{k}"].float())
            for i in batch["ids"]:
                first.append(rows[i]["class_1"])
                second.append(rows[i]["class_2"])
                motion.append(turn(rows[i]["events"]) if timed else "")
    targets = {"first": np.array(first), "second": np.array(second)}
    if timed:
        targets["motion"] = np.array(motion)
    return {k: torch.cat(v).numpy() for k, v in out.items()}, targets


def turn(events: str | list) -> str:
    """Which way a timed scene's moving source turns: "ccw" (azimuth growing) or "cw", along the shorter arc.
    ``events``: the metadata's ``events`` column, as JSON text or as read by ``read_metadata``."""
    moving = [e for e in (json.loads(events) if isinstance(events, str) else events) if e.get("moving")]
    if len(moving) != 1:
        raise ValueError(f"expected one moving event, got {len(moving)}: {str(events)[:120]}")
    delta = (moving[0]["azimuth_end"] - moving[0]["azimuth"] + 180.0) % 360.0 - 180.0
    return "ccw" if delta > 0 else "cw"


def trained_model(run_dir: str | Path, out: Path):
    """``(model, weights file, seed)`` of a finished run: its ``checkpoints/best.ckpt``, else its ``model/``
    export. Refuses first when ``out`` exists (a probe's result is never overwritten)."""
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    from sclap_nb.export import load_model

    if out.exists():
        raise SystemExit(f"{out} exists: refusing to overwrite it")
    run = json.loads((Path(run_dir) / "run.json").read_text())
    ckpt = Path(run_dir) / "checkpoints" / "best.ckpt"
    source = ckpt if ckpt.is_file() else Path(run_dir) / "model"
    model, _ = load_model(source)
    return model, source, run["runtime"]["seed"] if "runtime" in run else run["seed"]  # the settings tree's run.json, or an old run's


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("run_dir")
    ap.add_argument("corpus")
    ap.add_argument("--out", required=True)
    args = ap.parse_args(argv)
    out = Path(args.out)
    model, source, seed = trained_model(args.run_dir, out)
    corpus = Path(args.corpus)
    train, y_train = embeddings(model, corpus, "train", seed)
    test, y_test = embeddings(model, corpus, "test", seed)
    result = {"run": str(args.run_dir), "weights": source.name, "corpus": str(corpus), "probe": "standardised logistic regression, C=1",
              "n_train": len(y_train["first"]), "n_test": len(y_test["first"]),
              "chance_majority": float(max(np.mean(y_test["first"] == c) for c in set(y_test["first"])))}
    for target, y in y_test.items():
        result[f"chance_{target}"] = float(max(np.mean(y == c) for c in set(y)))
    for name in ("joint", "temporal", "triplet"):
        e = test[name].astype(np.float64)
        e /= np.linalg.norm(e, axis=1, keepdims=True)
        c = e @ e.T  # how alike the test clips' embeddings are: 1.0 = one embedding for every clip (collapse)
        result[f"{name}/mean_cos"] = float((c.sum() - np.trace(c)) / (len(c) ** 2 - len(c)))
        # how far the clips lie from their mean on the unit sphere (RMS distance): 0 = one vector for all
        result[f"{name}/spread"] = float(np.sqrt(((e - e.mean(0)) ** 2).sum(1).mean()))
        for target in y_test:
            clf = make_pipeline(StandardScaler(), LogisticRegression(max_iter=3000, C=1.0)).fit(train[name], y_train[target])
            result[f"{name}/{target}_acc"] = float(clf.score(test[name], y_test[target]))
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_suffix(".tmp")
    tmp.write_text(json.dumps(result, indent=1) + "\n")
    tmp.replace(out)
    print(json.dumps(result, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

"""How a model does on recordings it never heard: the library's held-out packages.

A run whose corpus draws from the library of recorded sounds (``data.sounds`` ``library`` or
``mixed``) never trains on the library's held-out packages (whole packages, ``results/library``).
:func:`heldout_metrics` tests it there twice, and once in domain for comparison:

* **scenes** (``heldout/<embedding>/...``): ``data.n_test`` scenes of the run's layout built from
  held-out recordings alone (``data.sounds.heldout_source``), with the run's seed and test rooms;
  every metric of ``metrics.json`` (``t2a/R@1``, ``order_acc``, ...), as on the run's own test split.
* **classification** (``heldout/<embedding>/zero_shot_acc``): every held-out recording once, as the
  only event of its own FOA clip (``data.event_clips``), labelled with the most similar of the
  held-out classes' prompts; a class's prompt is the mean of its caption paraphrases' normalised
  text embeddings. Besides E_joint and the triplet embedding, the semantic branch's ``sed``
  embedding (trained against the plain captions, no directions) is scored too. ``heldout/zero_shot_classes`` and ``heldout/zero_shot_chance`` (1 / classes)
  say what the accuracy is out of.
* **in domain** (``library/<embedding>/zero_shot_acc``): the same classification on the library's
  own test recordings (packages the run trained on, recordings it did not), over the test split's
  classes (``library/zero_shot_classes``, ``library/zero_shot_chance``).
"""

from __future__ import annotations

from pathlib import Path

import soundfile as sf
import torch
import torch.nn.functional as F

from .config import RunConfig
from .data import ensure_corpus
from .data.event_clips import ensure_event_clips, read_event_clips
from .data.sounds import heldout_source, sound_source
from .evaluate import evaluate_model
from .files import under
from .metrics import zero_shot_accuracy
from .model import SpatialTemporalCLAP

__all__ = ["heldout_dirs", "classification_metrics", "heldout_metrics"]


def heldout_dirs(cfg: RunConfig, root: Path) -> dict[str, Path]:
    """Where the held-out scenes and the sets of event clips of a run's settings are built (``train_clips``:
    the class term's, ``loss.w_class``)."""
    d, sr = cfg.data, cfg.model.features.sample_rate
    tag = f"s{cfg.runtime.seed}-{sr}hz-{d.clip_seconds:g}s-{'anechoic' if d.anechoic else 'rooms'}"
    layout = "" if d.layout == "spill" else f"-{d.layout}"
    return {"scenes": root / f"data/heldout-scenes-{d.n_test}-{tag}{layout}",
            "heldout_clips": root / f"data/heldout-clips-{tag}", "library_clips": root / f"data/library-test-clips-{tag}",
            "train_clips": root / f"data/library-train-clips-{tag}"}  # fmt: skip


@torch.no_grad()
def classification_metrics(model: SpatialTemporalCLAP, clips: Path, prefix: str, batch_size: int = 16) -> dict[str, float]:
    """Zero-shot classification of a set of event clips among its classes, per audio embedding."""
    rows, captions = read_event_clips(clips)
    names = sorted(captions)
    device = next(model.parameters()).device
    model.eval()
    prompts = torch.stack([F.normalize(model.encode_text(list(captions[c])).float().mean(0), dim=0) for c in names])
    labels = torch.tensor([names.index(r["class"]) for r in rows])
    embedded: dict[str, list[torch.Tensor]] = {}
    for i in range(0, len(rows), batch_size):
        wave = torch.stack([torch.from_numpy(sf.read(r["file"], dtype="float32", always_2d=True)[0].T.copy())
                            for r in rows[i : i + batch_size]]).to(device)  # fmt: skip
        out = model.encode_wave(wave)
        for name in ("sed", "joint", "triplet"):
            if out[f"e_{name}"] is not None:
                embedded.setdefault(name, []).append(out[f"e_{name}"].float())
    metrics = {f"{prefix}/{name}/zero_shot_acc": zero_shot_accuracy(torch.cat(parts), prompts, labels.to(device))
               for name, parts in embedded.items()}  # fmt: skip
    metrics.update({f"{prefix}/zero_shot_classes": len(names), f"{prefix}/zero_shot_chance": 1.0 / len(names),
                    f"{prefix}/zero_shot_clips": len(rows)})  # fmt: skip
    return metrics


def heldout_metrics(model: SpatialTemporalCLAP, cfg: RunConfig, root: Path) -> dict[str, float]:
    """The held-out and in-domain figures of the module docstring for a run whose corpus has library
    sounds (``{}`` for a soundfont-only run). Builds what it needs once under ``root/data``."""
    d = cfg.data
    if d.sounds == "soundfont":
        return {}
    lib = under(root, d.library_dir)
    sr, seed = cfg.model.features.sample_rate, cfg.runtime.seed
    where = heldout_dirs(cfg, root)
    held = heldout_source(lib, sr)
    scenes = ensure_corpus(where["scenes"], 0, 0, d.n_test, seed=seed, sample_rate=sr, clip_seconds=d.clip_seconds,
                           anechoic=d.anechoic, layout=d.layout, source=held, progress=False)  # fmt: skip
    metrics = {f"heldout/{k}": v for k, v in evaluate_model(model, scenes, "test", references=False).items()
               if isinstance(v, float)}  # fmt: skip
    for prefix, source in (("heldout", held), ("library", sound_source("library", lib, sr))):
        clips = ensure_event_clips(where[f"{prefix}_clips"], source, "test", seed, sr, d.clip_seconds, d.anechoic)
        metrics.update(classification_metrics(model, clips, prefix))
    return metrics

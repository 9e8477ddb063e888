"""Evaluation of a model's embeddings: every metric of the book on a split.

:func:`embed_split` runs a model over a loader and keeps every embedding, DOA prediction and
caption; :func:`evaluation_metrics` turns that into the metrics of ``metrics.json``;
:func:`evaluate` does both. Inference only: nothing here imports Lightning, so the search API and
``python -m sclap_nb.evaluate`` load fast.
"""

from __future__ import annotations

import torch
import torch.distributed as dist
import torch.nn.functional as F

from .data.scenes import ALL_ROLES, ROLES, SPEC_ROLES
from .data.spatial import SECTOR_WORDS, azimuth_of, sector_of
from .losses import frame_targets
from .metrics import localization_error, modality_gap, order_place_accuracy, retrieval_metrics, three_way_accuracy
from .model import SpatialTemporalCLAP, aligned_pair_scores, aligned_scores, combined_pair_scores, combined_scores

__all__ = ["direction_prompts", "frame_directions", "retrieval_rows", "embed_batch", "join_batches", "embed_split", "gather_embeddings", "evaluation_metrics", "evaluate"]


def direction_prompts(words=SECTOR_WORDS) -> list[str]:
    """Zero-shot prompts, one per azimuth sector (sector k centred on k * 45 deg, +90 = left)."""
    return [f"The sound is coming from the {w}." for w in words]


_KEYS = ("e_sed", "e_joint", "e_triplet", "text_comb", "text", "doa", "a_frames", "t_items")


@torch.no_grad()
def frame_directions(frames: torch.Tensor, times: torch.Tensor, events: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """What a frame-wise DOA head (``doa_pooling`` frames) says where the clips' events are known in time:
    ``(directions (B, 2, 3), frame_error (B, 2))``.

    ``directions``: for each of the first two events, the mean of the head's vectors over the frames where it
    alone sounds (over all its frames where it never sounds alone; over the whole clip where it has none),
    normalised. ``frame_error``: the sum of the angles (degrees) between each frame's vector and its target
    over the frames where one event sounds, and the number of those frames (a moving source's target follows
    its path)."""
    target, active = frame_targets(events, times)
    frames = frames.float()
    alone = active & (active.sum(1, keepdim=True) == 1)  # (B, E, T)
    masks = []
    for e in range(2):
        m = alone[:, e]
        m = torch.where(m.any(1, keepdim=True), m, active[:, e])
        masks.append(torch.where(m.any(1, keepdim=True), m, torch.ones_like(m)))
    m = torch.stack(masks, 1).float()  # (B, 2, T)
    directions = F.normalize(torch.einsum("bet,btd->bed", m, frames), dim=-1)
    one = active.sum(1) == 1  # (B, T)
    cos = (F.normalize(frames, dim=-1) * target).sum(-1).clamp(-1, 1)
    angle = torch.rad2deg(torch.acos(cos)) * one
    return directions, torch.stack([angle.sum(1), one.sum(1).float()], 1)


@torch.no_grad()
def embed_batch(model: SpatialTemporalCLAP, batch: dict) -> dict:
    """One batch's embeddings, DOA predictions and targets, classifier verdicts, captions, roles and ids
    (tensors on the CPU, in float32), as :func:`join_batches` takes them."""
    out = model(batch)
    n = len(batch["text_comb"])
    part: dict = {k: getattr(out, k).float().cpu() for k in _KEYS if getattr(out, k, None) is not None}
    part["doa_target"] = batch["doa"].float().cpu()
    if getattr(out, "doa_frames", None) is not None and "events" in batch:
        directions, err = frame_directions(out.doa_frames, out.doa_times, batch["events"])
        part["doa_events"], part["doa_frame_error"] = directions.cpu(), err.cpu()
    if out.modality_logits is not None:  # (n, 2): the clip's and its caption's classifier verdicts
        correct = ((out.modality_logits > 0).float() == out.modality_labels).float().cpu()
        part["mod_correct"] = torch.stack([correct[:n], correct[n:]], 1)
    part.update(captions=list(batch["text_comb"]), plain=list(batch["text"]),
                roles=list(batch.get("roles", ["pos"] * n)), ids=list(batch.get("ids", [None] * n)),
                group_size=int(batch.get("group_size", 1)))  # fmt: skip
    return part


@torch.no_grad()
def join_batches(model: SpatialTemporalCLAP, parts: list[dict]) -> dict:
    """The :func:`embed_batch` parts of a split, concatenated in order, with the direction prompts' embeddings."""
    res: dict = {}
    for k in (*_KEYS, "doa_target", "mod_correct", "doa_events", "doa_frame_error"):
        got = [p[k] for p in parts if k in p]
        res[k] = torch.cat(got) if got else []
    for k in ("captions", "plain", "roles", "ids"):
        res[k] = [x for p in parts for x in p[k]]
    res["ids"] = [f"{i:09d}" if x is None else x for i, x in enumerate(res["ids"])]
    res["group_size"] = parts[-1]["group_size"] if parts else 1
    res["direction_prompts"] = model.encode_text(direction_prompts()).float().cpu()
    return res


@torch.no_grad()
def embed_split(model: SpatialTemporalCLAP, loader, device=None) -> dict[str, torch.Tensor | list]:
    """Run ``model`` over a loader; return every embedding, DOA prediction/target and caption, concatenated."""
    model.eval()
    device = device or next(model.parameters()).device
    parts = [embed_batch(model, {k: v.to(device) if torch.is_tensor(v) else v for k, v in batch.items()})
             for batch in loader]  # fmt: skip
    return join_batches(model, parts)


def gather_embeddings(emb: dict | None) -> dict | None:
    """Join the :func:`embed_split` outputs of every rank into the whole split, in split order.

    A distributed sampler gives rank ``r`` the items ``r, r + W, ...`` and pads the last round
    with repeats; groups stay whole (an item is a group). The parts are gathered, repeated
    groups dropped by clip id, and the groups put back in id order, so the metrics equal those
    of one process over the whole split.
    """
    parts: list = [None] * dist.get_world_size()
    dist.all_gather_object(parts, emb)
    parts = [p for p in parts if p is not None]
    if not parts:
        return None
    g = int(parts[0]["group_size"])
    per_clip = [k for k, v in parts[0].items() if k not in ("group_size", "direction_prompts")
                and (torch.is_tensor(v) or isinstance(v, list)) and len(v) == len(parts[0]["ids"])]
    groups: dict[str, tuple[dict, int]] = {}
    for p in parts:
        for start in range(0, len(p["ids"]), g):
            groups.setdefault(p["ids"][start], (p, start))
    out: dict = {k: [] for k in per_clip}
    for key in sorted(groups):
        p, start = groups[key]
        for k in per_clip:
            out[k].append(p[k][start : start + g])
    out = {k: torch.cat(v) if torch.is_tensor(v[0]) else [x for part in v for x in part] for k, v in out.items()}
    out.setdefault("mod_correct", [])
    out["group_size"] = g
    out["direction_prompts"] = parts[0]["direction_prompts"]
    return out


def retrieval_rows(captions: list[str], roles: list[str]) -> torch.Tensor:
    """The clips retrieval is scored over: those of the specification's roles (pos, neg_t, neg_s), each caption
    once (a caption may repeat across clips, rarely: its first clip is kept)."""
    first_clip: dict[str, int] = {}
    for clip, role in enumerate(roles):
        if role in SPEC_ROLES:
            first_clip.setdefault(captions[clip], clip)
    return torch.tensor(list(first_clip.values()))


@torch.no_grad()
def score_matrix_metrics(score: torch.Tensor, emb: dict) -> dict[str, float]:
    """``order_acc``, ``place_acc``, ``motion_acc`` and T2A R@1 of any scorer given as a ``(captions, clips)``
    matrix over an :func:`embed_split`'s clips (one caption per clip, in the split's order), counted as
    :func:`evaluation_metrics` counts them (the same retrieval rows, groups and tie rule), e.g. a weighted sum of
    two scorers."""
    roles = emb["roles"]
    rows = retrieval_rows(emb["captions"], roles)
    index = torch.arange(len(roles), dtype=torch.float32)[:, None]  # the metrics' functions see clip indices
    r = retrieval_metrics(index[rows], index[rows], torch.arange(len(rows)),
                          score=lambda t, a: score[t[:, 0].long()][:, a[:, 0].long()])  # fmt: skip
    op = order_place_accuracy(index, index, roles, pair_score=lambda t, a: score[t[:, 0].long(), a[:, 0].long()])
    return {"order_acc": op["order_acc"], "place_acc": op["place_acc"], "motion_acc": op["motion_acc"], "t2a/R@1": r["t2a/R@1"]}


def _combined_metrics(emb: dict, roles: list, rows: torch.Tensor, has_c: bool) -> dict[str, float]:
    """Retrieval and the order, place and motion tests of the combined scorer (:func:`sclap_nb.model.combined_scores`):
    the metrics' functions see clip indices, which the scorer looks up."""
    audio, frames, text, items = emb["e_triplet"], emb["a_frames"], emb["text_comb"], emb["t_items"]
    index = torch.arange(len(roles), dtype=torch.float32)[:, None]

    def score(t, a):
        t, a = t[:, 0].long(), a[:, 0].long()
        return combined_scores(text[t], items[t], audio[a], frames[a])

    def pair_score(t, a):
        t, a = t[:, 0].long(), a[:, 0].long()
        return combined_pair_scores(text[t], items[t], audio[a], frames[a])

    out = retrieval_metrics(index[rows], index[rows], torch.arange(len(rows)), score=score)
    if has_c:
        out.update(order_place_accuracy(index, index, roles, pair_score=pair_score))
    return out


def evaluation_metrics(emb: dict, full: bool = True) -> dict[str, float]:
    """Every metric of the book from :func:`embed_split`'s output.

    For each audio embedding (``joint``: E_joint; ``triplet``: the temporal-path embedding when
    the model has one; ``aligned``: with the aligned scoring, ``align_dim``, the clip's frames against the
    caption's items in order, retrieval and the order, placement and motion tests only; ``combined``: with both,
    the triplet cosine plus the aligned scores, :func:`sclap_nb.model.combined_scores`, the same tests):

    * T2A/A2T R@1/5/10 and mAP@10 of the clips against their spatial captions, over every clip of
      the specification's roles (pos, neg_t, neg_s), so order and position must be right;
    * the temporal and spatial 3-way accuracies (``3way_*``: pos caption scores pos above neg_t /
      neg_s), where the groups hold those three roles;
    * where the groups hold the class-order negative neg_c too: ``order_acc`` (pos above neg_t and
      neg_c: needs the order of the sounds), ``place_acc`` (pos above neg_s and neg_c: needs where
      each sound is) and the pairwise ``vs_neg_t``, ``vs_neg_s``, ``vs_neg_c``;
    * where the groups hold the motion negative neg_m too (timed corpora): ``motion_acc`` (= ``vs_neg_m``:
      pos above neg_m, the same scene with its moving source going the other way round);
    * the zero-shot direction accuracy (the best of the 8 prompts "The sound is coming from the
      {direction}." names the sector of one of the clip's two events; chance 0.25).

    Plus the localisation error (degrees; ``LE_deg``: per event, the two events matched to the head's two outputs;
    for a frame-wise head, ``doa_pooling`` frames, each event read on its own frames (:func:`frame_directions`),
    with ``LE_frames_deg`` frame by frame and ``LE_blind_deg`` the head's per-event outputs, which know no
    onsets: what :mod:`sclap_nb.api` returns), the modality classifier's accuracy, and (``full``) the
    modality gap of the held-out embeddings: ``modality/probe_acc`` (a freshly trained linear probe
    telling audio from text, cross-validated; 0.5 = no gap) and ``modality/centroid_dist``, on the
    triplet embedding (E_joint without a temporal path). Ties follow ``sclap_nb.metrics``' rule.
    """
    out: dict[str, float] = {}
    n, g = len(emb["captions"]), int(emb["group_size"])
    roles = list(emb.get("roles") or ({3: SPEC_ROLES, 4: ROLES, 5: ALL_ROLES}.get(g, ("pos",)) * (n // max(g, 1))))
    spec = [i for i, r in enumerate(roles) if r in SPEC_ROLES]
    rows = retrieval_rows(emb["captions"], roles)
    text_of_rows = emb["text_comb"][rows]
    sectors = sector_of(azimuth_of(emb["doa_target"]))  # (N, 2)
    groups = [roles[i : i + g] for i in range(0, len(roles), g)] if g > 1 else []
    has_spec = bool(groups) and all(set(SPEC_ROLES) <= set(gr) for gr in groups)
    has_c = bool(groups) and all("neg_c" in gr for gr in groups)
    for name in ("joint", "triplet"):
        audio = emb.get(f"e_{name}")
        if audio is None or len(audio) == 0:
            continue
        r = retrieval_metrics(audio[rows], text_of_rows, torch.arange(len(rows)))
        out.update({f"{name}/{k}": v for k, v in r.items()})
        if has_spec:
            idx = torch.tensor(spec)
            acc = three_way_accuracy(audio[idx], emb["text_comb"][idx])
            out.update({f"{name}/3way_{k}": v for k, v in acc.items()})
        if has_c:
            op = order_place_accuracy(audio, emb["text_comb"], roles)
            out.update({f"{name}/{k}": v for k, v in op.items()})
        pred = (audio @ emb["direction_prompts"].T).argmax(1)
        out[f"{name}/zeroshot_direction"] = (pred[:, None] == sectors).any(1).double().mean().item()
    if len(emb.get("a_frames", [])):  # the aligned scoring (align_dim): caption items against clip frames, in order
        frames, items = emb["a_frames"], emb["t_items"]
        r = retrieval_metrics(frames[rows], items[rows], torch.arange(len(rows)), score=aligned_scores)
        out.update({f"aligned/{k}": v for k, v in r.items()})
        if has_c:
            op = order_place_accuracy(frames, items, roles, pair_score=aligned_pair_scores)
            out.update({f"aligned/{k}": v for k, v in op.items()})
        if torch.is_tensor(emb.get("e_triplet")) and len(emb["e_triplet"]):  # cos(triplet) + w * aligned
            out.update({f"combined/{k}": v for k, v in _combined_metrics(emb, roles, rows, has_c).items()})
    if len(emb.get("doa_events", [])):  # a frame-wise head: each event read on its own frames
        out["LE_deg"] = localization_error(emb["doa_events"], emb["doa_target"], match=False)
        out["LE_blind_deg"] = localization_error(emb["doa"], emb["doa_target"])
        err = emb["doa_frame_error"].double().sum(0)
        out["LE_frames_deg"] = (err[0] / err[1].clamp_min(1)).item()
    else:
        out["LE_deg"] = localization_error(emb["doa"], emb["doa_target"])
    if len(emb["mod_correct"]):
        out["modality_acc"] = emb["mod_correct"].mean().item()
    if full and len(spec) >= 10:
        audio = emb["e_triplet"] if torch.is_tensor(emb.get("e_triplet")) and len(emb["e_triplet"]) else emb["e_joint"]
        idx = torch.tensor(spec)
        gap = modality_gap(audio[idx], emb["text_comb"][idx])
        out["modality/probe_acc"] = gap["probe_accuracy"]
        out["modality/centroid_dist"] = gap["centroid_distance"]
    return out


def evaluate(model: SpatialTemporalCLAP, loader) -> dict[str, float]:
    """Every metric of :func:`evaluation_metrics` on one loader (e.g. the test split)."""
    return evaluation_metrics(embed_split(model, loader))

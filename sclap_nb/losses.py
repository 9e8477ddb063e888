"""Losses of the spatial-temporal CLAP, each a small function that reads like its formula.

Conventions (as in open_clip): embeddings are L2-normalised by the caller; ``logit_scale`` is the
multiplier, already exponentiated. Batches of 3-way groups are flattened to ``3B`` rows ordered
``[pos, neg_t, neg_s]`` per group.

In a distributed run, :func:`gather_with_grad` collects every rank's embeddings (and captions)
so the contrastive terms see the global batch as negatives, with gradients flowing back to the
rank that produced each row.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import torch
import torch.distributed as dist
import torch.nn.functional as F

from .config import LossConfig
from .model import aligned_scores

__all__ = [
    "info_nce",
    "symmetric_ce",
    "align_loss",
    "align_group_loss",
    "group_ce",
    "three_way_loss",
    "class_loss",
    "doa_loss",
    "frame_targets",
    "frame_doa_loss",
    "modality_loss",
    "loss_weights_at",
    "grl_lambda_at",
    "same_caption_mask",
    "gather_with_grad",
    "gather_strings",
    "total_loss",
    "LOGIT_CLAMP",
]

LOGIT_CLAMP = 50.0


# --------------------------------------------------------------------------- the terms


def info_nce(
    audio: torch.Tensor, text: torch.Tensor, logit_scale: torch.Tensor | float, same: torch.Tensor | None = None
) -> torch.Tensor:
    """Symmetric InfoNCE: ``(CE(s A T^T, I) + CE(s T A^T, I)) / 2``.

    ``same[i, j]`` (N x N bool) marks text j as a true match of audio i besides the diagonal
    (identical captions): those logits are set to -inf, so a true match never counts as a negative.
    """
    return symmetric_ce(logit_scale * audio @ text.T, same)  # logits (N audio, N text)


def symmetric_ce(logits: torch.Tensor, same: torch.Tensor | None = None) -> torch.Tensor:
    """``(CE(L, I) + CE(L^T, I)) / 2`` of ``(N audio, N text)`` logits whose diagonal holds the matches;
    ``same`` as in :func:`info_nce` (off-diagonal true matches set to -inf)."""
    if same is not None:
        off_diagonal = same & ~torch.eye(len(logits), dtype=torch.bool, device=same.device)
        logits = logits.masked_fill(off_diagonal, float("-inf"))
    labels = torch.arange(len(logits), device=logits.device)
    return (F.cross_entropy(logits, labels) + F.cross_entropy(logits.T, labels)) / 2


def align_loss(
    frames: torch.Tensor, items: torch.Tensor, logit_scale: torch.Tensor | float, same: torch.Tensor | None = None
) -> torch.Tensor:
    """L_align: symmetric InfoNCE of the aligned scores, ``s(i, j) = aligned_scores(items_j, frames_i)``
    (each caption's items matched to the clip's frames in order, :func:`sclap_nb.model.aligned_scores`):
    ``(CE(s S, I) + CE(s S^T, I)) / 2`` for ``(N, T, D)`` frames and ``(N, K, D)`` items of their own captions."""
    return symmetric_ce(logit_scale * aligned_scores(items, frames).T, same)


def three_way_loss(
    audio: torch.Tensor, text: torch.Tensor, logit_scale: torch.Tensor | float, group_size: int = 3
) -> torch.Tensor:
    """3-way triplet loss over groups ``[pos, neg_t, neg_s]``; ``audio`` and ``text`` are ``(3B, D)``.

    t2a: the positive caption ``text[3i]`` scores ``audio[3i], audio[3i+1], audio[3i+2]``;
    a2t: the positive clip ``audio[3i]`` scores ``text[3i], text[3i+1], text[3i+2]``.
    Each is a cross-entropy with label 0 over the three logits (clamped to +-50);
    the loss is their mean. ``group_size=k`` is the same over groups of k (the positive first and
    its k - 1 hard negatives, e.g. ``[pos, neg_t, neg_s, neg_c]``).
    """
    k = int(group_size)
    if k < 2 or audio.shape[0] % k or audio.shape != text.shape:
        raise ValueError(f"three_way_loss needs ({k}B, D) audio and text, got {tuple(audio.shape)} and {tuple(text.shape)}")
    a = audio.view(-1, k, audio.shape[-1])
    t = text.view(-1, k, text.shape[-1])
    t2a = logit_scale * torch.einsum("bd,bkd->bk", t[:, 0], a)
    a2t = logit_scale * torch.einsum("bd,bkd->bk", a[:, 0], t)
    return group_ce(t2a, a2t)


def group_ce(t2a: torch.Tensor, a2t: torch.Tensor) -> torch.Tensor:
    """The group term of :func:`three_way_loss` from its ``(B, k)`` logits (the positive in column 0):
    ``(CE(clamp(t2a), 0) + CE(clamp(a2t), 0)) / 2``, logits clamped to +-50."""
    label = torch.zeros(len(t2a), dtype=torch.long, device=t2a.device)
    t2a, a2t = t2a.clamp(-LOGIT_CLAMP, LOGIT_CLAMP), a2t.clamp(-LOGIT_CLAMP, LOGIT_CLAMP)
    return (F.cross_entropy(t2a, label) + F.cross_entropy(a2t, label)) / 2


def align_group_loss(
    frames: torch.Tensor, items: torch.Tensor, logit_scale: torch.Tensor | float, group_size: int
) -> torch.Tensor:
    """L_ag: the group term of :func:`three_way_loss` on the aligned scores ``S(c, a) = aligned_scores(items_c,
    frames_a)``: in each group ``[pos, neg_1, ..., neg_{k-1}]`` the positive caption scores its group's clips
    (t2a) and the positive clip its group's captions (a2t), label 0; ``(kB, T, D)`` frames, ``(kB, K, D)`` items."""
    k = int(group_size)
    if k < 2 or len(frames) % k or len(frames) != len(items):
        raise ValueError(f"align_group_loss needs {k}B frames and items, got {len(frames)} and {len(items)}")
    s = logit_scale * aligned_scores(items, frames)  # (captions, clips)
    first = torch.arange(0, len(s), k, device=s.device)[:, None]  # each group's positive
    member = first + torch.arange(k, device=s.device)  # (B, k): the group's rows
    return group_ce(s[first, member], s[member, first])


def class_loss(
    audio: torch.Tensor, text: torch.Tensor, logit_scale: torch.Tensor | float, labels: torch.Tensor
) -> torch.Tensor:
    """L_class: :func:`info_nce` of single-event clips against their class captions, ``(B, D)`` each.

    ``labels[i]`` is clip i's class: clips of one class are each other's true matches (masked out of
    the negatives, as identical captions are). Over the local batch also in a distributed run.
    """
    if labels.shape != (len(audio),):
        raise ValueError(f"class_loss needs one label per clip, got {tuple(labels.shape)} for {len(audio)} clips")
    return info_nce(audio, text, logit_scale, labels[:, None] == labels[None, :])


def doa_loss(pred: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """Permutation-invariant ``1 - cos`` over two events; ``pred`` and ``target`` are ``(B, 2, 3)``.

    Per sample: the smaller, over the two event orders, of the mean over events of
    ``1 - cos(pred_e, target_e)``; then the mean over the batch.
    """
    if pred.shape != target.shape or pred.shape[-2:] != (2, 3):
        raise ValueError(f"doa_loss needs (B, 2, 3) pred and target, got {tuple(pred.shape)} and {tuple(target.shape)}")
    direct = (1 - F.cosine_similarity(pred, target, dim=-1)).mean(-1)
    swapped = (1 - F.cosine_similarity(pred.flip(1), target, dim=-1)).mean(-1)
    return torch.minimum(direct, swapped).mean()


def frame_targets(events: torch.Tensor, times: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Where each event sounds and from where, frame by frame: ``(target (B, T, 3), active (B, E, T))``.

    ``events (B, E, 5)``: each event's onset and duration (s), start and end azimuth, elevation (degrees),
    padded rows of duration 0 (``sclap_nb.data.dataset.EVENT_COLUMNS``); ``times (T,)``: the frames' centres
    (s). Event e is active at t when ``onset <= t < onset + duration``; a moving source's azimuth runs along
    the shorter arc at constant speed. ``target`` is the sum of the active events' unit vectors: the one
    source's direction where one sounds, 0 where none does (ACCDOA's target; frames where several sound have
    no single direction and are left to the caller)."""
    onset, duration, az0, az1, el = events.float().unbind(-1)  # (B, E) each
    u = (times.float()[None, None, :] - onset[..., None]) / duration[..., None].clamp_min(1e-6)  # (B, E, T)
    active = (u >= 0) & (u < 1) & (duration[..., None] > 0)
    sweep = torch.remainder(az1 - az0 + 180.0, 360.0) - 180.0
    az = torch.deg2rad(az0[..., None] + sweep[..., None] * u.clamp(0, 1))
    el = torch.deg2rad(el)[..., None].expand_as(az)
    unit = torch.stack([az.cos() * el.cos(), az.sin() * el.cos(), el.sin()], -1)  # (B, E, T, 3)
    return (unit * active[..., None]).sum(1), active


def frame_doa_loss(frames: torch.Tensor, events: torch.Tensor, times: torch.Tensor) -> torch.Tensor:
    """ACCDOA's loss: the mean over frames of ``||frame - target||^2`` (:func:`frame_targets`), over the frames
    where at most one event sounds. ``frames (B, T, 3)``."""
    target, active = frame_targets(events, times)
    keep = (active.sum(1) <= 1).float()  # (B, T)
    err = ((frames.float() - target) ** 2).sum(-1)
    return (err * keep).sum() / keep.sum().clamp_min(1.0)


def modality_loss(logits: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
    """Binary cross-entropy on raw logits (clamped to +-50), labels audio = 0, text = 1."""
    return F.binary_cross_entropy_with_logits(logits.clamp(-LOGIT_CLAMP, LOGIT_CLAMP), labels.float())


def loss_weights_at(epoch: int, cfg: LossConfig | None = None) -> dict[str, float]:
    """Effective ``doa, sem, ts, mod`` weights at ``epoch`` (0-based) of ``cfg.weights``.

    ``sem`` is 0 before ``cfg.sem_start``; ``ts`` ramps linearly: ``w_ts * min(1, (epoch + 1) / ts_ramp)``.
    """
    cfg = cfg or LossConfig()
    w_doa, w_sem, w_ts, w_mod = (float(w) for w in cfg.weights)
    return {
        "doa": w_doa,
        "sem": w_sem if epoch >= cfg.sem_start else 0.0,
        "ts": w_ts * min(1.0, (epoch + 1) / max(cfg.ts_ramp, 1)),
        "mod": w_mod,
    }


def grl_lambda_at(step: int, epoch: int, steps_per_epoch: int, epochs: int, cfg: LossConfig | None = None) -> float:
    """The gradient reversal's strength at a training step (``cfg.grl_schedule``).

    ``constant``: ``grl_lambda`` throughout (the specification); ``dann``: Ganin and Lempitsky's
    ``grl_lambda * (2 / (1 + exp(-10 p)) - 1)``, ``p`` the progress 0..1 over ``epochs``; 0 during the
    first ``grl_warmup_epochs``.
    """
    cfg = cfg or LossConfig()
    if epoch < cfg.grl_warmup_epochs:
        return 0.0
    if cfg.grl_schedule == "constant":
        return float(cfg.grl_lambda)
    p = min(1.0, step / max(1, epochs * steps_per_epoch))
    return float(cfg.grl_lambda) * (2.0 / (1.0 + math.exp(-10.0 * p)) - 1.0)


def same_caption_mask(captions: Sequence[str], device=None) -> torch.Tensor:
    """``(N, N)`` bool: True where two rows carry the identical caption string."""
    ids = {c: i for i, c in enumerate(dict.fromkeys(captions))}
    code = torch.tensor([ids[c] for c in captions], device=device)
    return code[:, None] == code[None, :]


# --------------------------------------------------------------------------- distributed


def _distributed() -> bool:
    return dist.is_available() and dist.is_initialized() and dist.get_world_size() > 1


class _AllGather(torch.autograd.Function):
    """All-gather along dim 0 whose backward returns each rank the summed gradient of its own rows."""

    @staticmethod
    def forward(ctx, x: torch.Tensor) -> torch.Tensor:
        ctx.rank, ctx.n = dist.get_rank(), x.shape[0]
        parts = [torch.empty_like(x) for _ in range(dist.get_world_size())]
        dist.all_gather(parts, x.contiguous())
        return torch.cat(parts, 0)

    @staticmethod
    def backward(ctx, grad: torch.Tensor) -> torch.Tensor:
        grad = grad.contiguous()
        dist.all_reduce(grad, op=dist.ReduceOp.SUM)  # every rank's copy of the loss contributes
        return grad[ctx.rank * ctx.n : (ctx.rank + 1) * ctx.n]


def gather_with_grad(x: torch.Tensor) -> torch.Tensor:
    """All ranks' ``x`` (same shape on every rank) concatenated along dim 0 in rank order, with
    gradient (identity when not distributed)."""
    if not _distributed():
        return x
    return _AllGather.apply(x)


def gather_strings(items: Sequence[str]) -> list[str]:
    """All ranks' strings, concatenated in rank order (identity when not distributed)."""
    if not _distributed():
        return list(items)
    out: list[list[str] | None] = [None] * dist.get_world_size()
    dist.all_gather_object(out, list(items))
    return [s for part in out for s in part]  # type: ignore[union-attr]


# --------------------------------------------------------------------------- total


def total_loss(outputs, batch: dict, epoch: int, cfg: LossConfig | None = None,
               classes: tuple[torch.Tensor, torch.Tensor, torch.Tensor] | None = None) -> dict[str, torch.Tensor]:  # fmt: skip
    """Every component and the total of spec section 4, with the weights and switches of ``cfg``.

    ``total = (1 - w_sem) L_sCL + w_sem L_CL + w_doa L_DOA + w_ts L_ts + w_mod L_mod [+ w_class L_class] [+ w_tg L_tg] [+ w_align L_align] [+ w_align_group L_ag]``

    * L_sCL: InfoNCE of ``e_joint`` against the spatial captions; L_CL: ``e_sed`` against the plain
      captions. ``cfg.triplet_contrastive`` (a deviation from the specification): L_sCL is the mean of
      the InfoNCE of ``e_joint`` and of the triplet embedding, so the temporal path also learns to
      retrieve (and trains in a configuration without L_ts). With ``cfg.mask_false_negatives`` identical captions (pos and neg_s share their plain
      caption) are removed from the denominators. In a distributed run both use the global batch.
    * L_ts: the 3-way loss on ``outputs.e_audio`` (triplet embedding, or joint without the temporal
      encoder), 4-way on groups of 4, 5-way on groups of 5 (neg_m); skipped (0, ``ts_active`` = 0) for plain batches
      (``group_size`` 1) or ``cfg.use_ts_loss=False``.
    * L_tg (a deviation, off by default): L_ts on ``outputs.e_temporal`` alone, weighted by
      ``cfg.w_temporal_group``, so the temporal embedding itself must tell pos from its negatives (the
      triplet embedding adds E_joint to its output, which lets L_ts be met without it). Returned as
      ``loss_tg`` and ``w_tg`` only when on.
    * L_DOA: :func:`doa_loss` on the head's per-event directions, or, with the head on every frame
      (``doa_pooling`` frames), :func:`frame_doa_loss` against the batch's ``events``.
    * L_mod: BCE of the modality classifier (0 when the model has none).
    * L_align (a deviation, off by default): :func:`align_loss` of the clips' frame vectors against their
      spatial captions' items (``outputs.a_frames``, ``outputs.t_items``, a model with ``align_dim``), with
      its own temperature, weighted by ``cfg.w_align``; returned as ``loss_align`` and ``w_align`` when on.
    * L_ag (a deviation, off by default): :func:`align_group_loss`, the group term on the aligned scores
      (each scene's caption against its clip's hard negatives), weighted by ``cfg.w_align_group``, on group
      batches only; returned as ``loss_ag`` and ``w_ag`` when on.
    * L_class (a deviation, off by default): :func:`class_loss` of ``classes`` = (semantic embeddings
      of single-event clips, their class captions' embeddings, class labels), weighted by
      ``cfg.w_class``; 0 without ``classes``.
    """
    cfg = cfg or LossConfig()
    w = loss_weights_at(epoch, cfg)
    scale = outputs.logit_scale
    zero = scale.new_zeros(())

    text_comb_captions = gather_strings(batch["text_comb"])
    text_captions = gather_strings(batch["text"])
    e_joint, e_sed = gather_with_grad(outputs.e_joint), gather_with_grad(outputs.e_sed)
    t_comb, t_plain = gather_with_grad(outputs.text_comb), gather_with_grad(outputs.text)
    same_comb = same_caption_mask(text_comb_captions, scale.device) if cfg.mask_false_negatives else None
    same_plain = same_caption_mask(text_captions, scale.device) if cfg.mask_false_negatives else None
    loss_scl = info_nce(e_joint, t_comb, scale, same_comb)
    if cfg.triplet_contrastive and outputs.e_triplet is not None:
        e_triplet = gather_with_grad(outputs.e_triplet)
        loss_scl = (loss_scl + info_nce(e_triplet, t_comb, scale, same_comb)) / 2
    loss_cl = info_nce(e_sed, t_plain, scale, same_plain)

    if getattr(outputs, "doa_frames", None) is not None:
        if "events" not in batch:
            raise ValueError("the model's DOA head reads frames (doa_pooling frames): the batch needs 'events'")
        loss_doa = frame_doa_loss(outputs.doa_frames, batch["events"], outputs.doa_times)
    else:
        loss_doa = doa_loss(outputs.doa, batch["doa"].to(outputs.doa))

    group_size = int(batch.get("group_size", 1))
    ts_active = cfg.use_ts_loss and group_size >= 3
    if group_size not in (1, 3, 4, 5):
        raise ValueError(f"batch group_size must be 1 (plain), 3 (triplets), 4 (with neg_c) or 5 (with neg_m), got {group_size}")
    loss_ts = three_way_loss(outputs.e_audio, outputs.text_comb, scale, group_size) if ts_active else zero
    w_ts = w["ts"] if ts_active else 0.0
    # L_tg (a deviation, off by default): the same group term on e_temporal alone
    tg_on = cfg.w_temporal_group > 0 and ts_active and outputs.e_temporal is not None
    loss_tg = three_way_loss(outputs.e_temporal, outputs.text_comb, scale, group_size) if tg_on else zero
    w_tg = cfg.w_temporal_group if tg_on else 0.0

    if outputs.modality_logits is not None:
        loss_mod = modality_loss(outputs.modality_logits, outputs.modality_labels)
        mod_acc = ((outputs.modality_logits > 0).float() == outputs.modality_labels).float().mean()
        w_mod = w["mod"]
    else:
        loss_mod, mod_acc, w_mod = zero, zero, 0.0

    if classes is not None and cfg.w_class > 0:
        loss_class, w_class = class_loss(classes[0], classes[1], scale, classes[2]), cfg.w_class
    else:
        loss_class, w_class = zero, 0.0

    total = ((1 - w["sem"]) * loss_scl + w["sem"] * loss_cl + w["doa"] * loss_doa + w_ts * loss_ts + w_mod * loss_mod
             + w_class * loss_class)
    if tg_on:
        total = total + w_tg * loss_tg
    # L_align (a deviation, off by default): the aligned scores of the batch's clips and spatial captions
    align_on = cfg.w_align > 0
    if align_on:
        if getattr(outputs, "a_frames", None) is None:
            raise ValueError(f"loss.w_align = {cfg.w_align} needs a model with the aligned scoring (model.align_dim)")
        loss_align = align_loss(gather_with_grad(outputs.a_frames), gather_with_grad(outputs.t_items),
                                outputs.align_scale, same_comb)  # fmt: skip
        total = total + cfg.w_align * loss_align
    # L_ag (a deviation, off by default): the group term on the aligned scores
    ag_on = cfg.w_align_group > 0 and ts_active
    if ag_on:
        if getattr(outputs, "a_frames", None) is None:
            raise ValueError(f"loss.w_align_group = {cfg.w_align_group} needs a model with the aligned scoring (model.align_dim)")
        loss_ag = align_group_loss(outputs.a_frames, outputs.t_items, outputs.align_scale, group_size)
        total = total + cfg.w_align_group * loss_ag
    parts = {
        "total": total,
        "loss_scl": loss_scl,
        "loss_cl": loss_cl,
        "loss_doa": loss_doa,
        "loss_ts": loss_ts,
        "loss_mod": loss_mod,
        "loss_class": loss_class,
        "mod_acc": mod_acc.detach(),
        "ts_active": scale.new_tensor(float(ts_active)),
        "w_doa": scale.new_tensor(w["doa"]),
        "w_sem": scale.new_tensor(w["sem"]),
        "w_ts": scale.new_tensor(w_ts),
        "w_mod": scale.new_tensor(w_mod),
        "w_class": scale.new_tensor(w_class),
    }
    if tg_on:
        parts.update(loss_tg=loss_tg, w_tg=scale.new_tensor(w_tg))
    if align_on:
        parts.update(loss_align=loss_align, w_align=scale.new_tensor(cfg.w_align))
    if ag_on:
        parts.update(loss_ag=loss_ag, w_ag=scale.new_tensor(cfg.w_align_group))
    return parts

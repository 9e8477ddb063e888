"""How far apart a text encoder puts the four captions of a scene (the chapter *The text side*).

The four captions of an stClotho scene hold the same words in other orders (pos, neg_t, neg_s,
neg_c: see :mod:`sclap_nb.data.scenes`). These helpers read them from a corpus, embed them with
any caption encoder, and return the cosine similarity of each negative's caption to the positive's,
with the cosine between positive captions of different scenes as the reference of "unrelated".
Nothing here defines a model, a loss or a metric.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path

import pandas as pd
import torch
import torch.nn.functional as F

from .data.scenes import ROLES
from .viz import ROLE_PALETTE

__all__ = ["PAIRS", "pair_palette", "scene_captions", "embed_roles", "role_cosines", "pair_means", "segment_tokens"]

#: the caption pairs compared, in the order of the figures; "other scene" is pos against the pos of every other scene
PAIRS = ("pos–neg_t", "pos–neg_s", "pos–neg_c", "pos–other scene")


def pair_palette() -> dict[str, tuple]:
    """A colour per pair: the negative's colour of :data:`sclap_nb.viz.ROLE_PALETTE`, grey for other scenes."""
    return {**{f"pos–{r}": ROLE_PALETTE[r] for r in ("neg_t", "neg_s", "neg_c")}, "pos–other scene": (0.6, 0.6, 0.6)}


def scene_captions(root: str | Path, split: str = "test", column: str = "caption") -> pd.DataFrame:
    """One row per scene, one column per role (``ROLES`` present in the corpus), from ``metadata/{split}.csv``."""
    meta = pd.read_csv(Path(root) / "metadata" / f"{split}.csv")
    table = meta.pivot(index="scene", columns="role", values=column)
    return table[[r for r in ROLES if r in table.columns]]


def embed_roles(encode: Callable[[list[str]], torch.Tensor], captions: pd.DataFrame) -> dict[str, torch.Tensor]:
    """``encode`` (a list of captions -> ``(N, D)``) applied to every caption at once, split by role and
    L2-normalised: role -> ``(n_scenes, D)``."""
    roles = list(captions.columns)
    flat = [c for r in roles for c in captions[r]]
    with torch.no_grad():
        emb = F.normalize(encode(flat).float(), dim=-1)
    return dict(zip(roles, emb.split(len(captions))))


def role_cosines(emb: dict[str, torch.Tensor]) -> pd.DataFrame:
    """Long table (``pair``, ``scene``, ``cosine``): each negative's caption against its scene's positive
    caption, and (``"pos–other scene"``) each positive caption against the positive of every other scene."""
    pos = emb["pos"]
    rows = []
    for role in ("neg_t", "neg_s", "neg_c"):
        if role in emb:
            cos = (pos * emb[role]).sum(-1)
            rows.append(pd.DataFrame({"pair": f"pos–{role}", "scene": range(len(pos)), "cosine": cos.numpy()}))
    i, j = torch.triu_indices(len(pos), len(pos), offset=1)
    rows.append(pd.DataFrame({"pair": "pos–other scene", "scene": i.numpy(), "cosine": (pos[i] * pos[j]).sum(-1).numpy()}))
    return pd.concat(rows, ignore_index=True)


def segment_tokens(encoder, caption: str) -> list[list[str]]:
    """The word pieces that each segment (or slot) of ``encoder``'s pooling averages (``[CLS]`` and ``[SEP]`` included).

    Read from the encoder's own :meth:`~sclap_nb.model.TextEncoder.pool`, applied to one-hot token states.
    """
    ids = encoder.tokenizer(caption, truncation=True, max_length=encoder.max_length)["input_ids"]
    tokens = encoder.tokenizer.convert_ids_to_tokens(ids)
    n = len(tokens)
    weights = encoder.pool(torch.eye(n)[None], torch.ones(1, n, dtype=torch.long), [caption]).view(-1, n)
    return [[t for t, w in zip(tokens, row) if w > 0] for row in weights]


def pair_means(table: pd.DataFrame, pairs: Sequence[str] = PAIRS) -> list[float]:
    """Mean cosine of each pair present in ``table``, in the order of ``pairs``."""
    means = table.groupby("pair")["cosine"].mean()
    return [float(means[p]) for p in pairs if p in means]

"""sclap_nb.evaluation.score_matrix_metrics (the weight study's and the combined-scores probe's metrics of a score
matrix): those of sclap_nb.metrics on embeddings, so a cosine matrix scores as its embeddings do."""

import torch
import torch.nn.functional as F

from sclap_nb.evaluation import score_matrix_metrics
from sclap_nb.metrics import order_place_accuracy, retrieval_metrics


def test_a_cosine_matrix_scores_as_the_embeddings_do():
    g = torch.Generator().manual_seed(0)
    roles = ["pos", "neg_t", "neg_s", "neg_c", "neg_m"] * 6
    audio = F.normalize(torch.randn(30, 8, generator=g), dim=-1)
    text = F.normalize(audio + 0.8 * torch.randn(30, 8, generator=g), dim=-1)
    captions = [f"caption {i}" for i in range(30)]
    got = score_matrix_metrics((text @ audio.T).double(), {"roles": roles, "captions": captions})
    spec = torch.tensor([i for i, r in enumerate(roles) if r in ("pos", "neg_t", "neg_s")])
    want = {**order_place_accuracy(audio, text, roles), **retrieval_metrics(audio[spec], text[spec], torch.arange(len(spec)))}
    assert got == {k: want[k] for k in ("order_acc", "place_acc", "motion_acc", "t2a/R@1")}
    flipped = score_matrix_metrics(-(text @ audio.T).double(), {"roles": roles, "captions": captions})
    assert flipped["t2a/R@1"] < got["t2a/R@1"]  # the score matrix is what is read

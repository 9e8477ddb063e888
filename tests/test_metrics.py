import math

import pytest
import torch
import torch.nn.functional as F

from sclap_nb.metrics import localization_error, modality_gap, retrieval_metrics, three_way_accuracy, zero_shot_accuracy


def embed_with_sims(sim):
    """Text and audio embeddings whose dot products are exactly ``sim`` (Nt x Na): one-hot audio."""
    sim = torch.as_tensor(sim, dtype=torch.float64)
    return torch.eye(sim.shape[1], dtype=torch.float64), sim  # audio (Na, Na), text (Nt, Na)


def test_t2a_hand_worked_ranking():
    # 3 clips, 3 captions (caption i belongs to clip i)
    sim = [[0.9, 0.1, 0.2],   # caption 0: its clip ranks 0
           [0.8, 0.5, 0.1],   # caption 1: clip 0 beats it -> rank 1
           [0.7, 0.6, 0.3]]   # caption 2: clips 0, 1 beat it -> rank 2
    audio, text = embed_with_sims(sim)
    m = retrieval_metrics(audio, text, torch.tensor([0, 1, 2]))
    assert m["t2a/R@1"] == pytest.approx(1 / 3)
    assert m["t2a/R@5"] == m["t2a/R@10"] == 1.0
    assert m["t2a/mAP@10"] == pytest.approx((1 + 1 / 2 + 1 / 3) / 3)
    # A2T: clip 0 sees captions 0.9, 0.8, 0.7 -> its caption 0 ranks 0; clip 1 sees .1 .5 .6 -> caption 1 ranks 1;
    # clip 2 sees .2 .1 .3 -> caption 2 ranks 0
    assert m["a2t/R@1"] == pytest.approx(2 / 3)
    assert m["a2t/mAP@10"] == pytest.approx((1 + 1 / 2 + 1) / 3)


def test_a2t_with_several_captions_per_clip():
    # 2 clips; captions 0,1,2 -> clip 0 ; captions 3 -> clip 1
    sim = [[0.9, 0.0],
           [0.1, 0.5],
           [0.6, 0.2],
           [0.3, 0.8]]
    audio, text = embed_with_sims(sim)
    m = retrieval_metrics(audio, text, torch.tensor([0, 0, 0, 1]))
    # clip 0 sees captions [.9 .1 .6 .3]: its captions rank 0 (0.9), 3 (0.1), 1 (0.6)
    # AP = (1/1 + 2/2 + 3/4) / 3 ; clip 1 sees [0 .5 .2 .8]: caption 3 ranks 0 -> AP 1
    assert m["a2t/mAP@10"] == pytest.approx(((1 + 1 + 0.75) / 3 + 1) / 2)
    assert m["a2t/R@1"] == 1.0
    # T2A: captions 0 and 2 rank 0, caption 1 ranks 1 (clip 1 scores .5 > .1), caption 3 ranks 0
    assert m["t2a/R@1"] == pytest.approx(3 / 4)
    assert m["t2a/mAP@10"] == pytest.approx((1 + 0.5 + 1 + 1) / 4)


def test_rank_beyond_ten_scores_zero():
    n = 12
    sim = torch.eye(n) * 0.0 + torch.arange(n, dtype=torch.float64).flip(0)[None].expand(n, n)  # clip 0 always first
    audio, text = embed_with_sims(sim)
    m = retrieval_metrics(audio, text, torch.arange(n))
    # caption i's clip ranks i: ranks 10 and 11 count zero in mAP@10 and R@10
    assert m["t2a/R@10"] == pytest.approx(10 / 12)
    assert m["t2a/mAP@10"] == pytest.approx(sum(1 / (r + 1) for r in range(10)) / 12)


def test_one_caption_per_clip_agrees_with_torchmetrics():
    from torchmetrics.retrieval import RetrievalMAP, RetrievalRecall

    g = torch.Generator().manual_seed(3)
    n = 40
    audio = F.normalize(torch.randn(n, 16, generator=g), dim=-1)
    text = F.normalize(audio + 0.9 * torch.randn(n, 16, generator=g), dim=-1)
    m = retrieval_metrics(audio, text, torch.arange(n))
    for direction, sim in (("t2a", text @ audio.T), ("a2t", audio @ text.T)):
        preds = sim.flatten()
        target = torch.eye(n, dtype=torch.bool).flatten()
        indexes = torch.arange(n)[:, None].expand(n, n).flatten()
        for k in (1, 5, 10):
            ref = RetrievalRecall(top_k=k)(preds, target, indexes=indexes).item()
            assert m[f"{direction}/R@{k}"] == pytest.approx(ref, abs=1e-6)
        ref_map = RetrievalMAP(top_k=10)(preds, target, indexes=indexes).item()
        assert m[f"{direction}/mAP@10"] == pytest.approx(ref_map, abs=1e-6)


def test_retrieval_rejects_clips_without_captions():
    with pytest.raises(ValueError, match="no caption"):
        retrieval_metrics(torch.eye(3), torch.eye(3)[:2], torch.tensor([0, 1]))


def sph(az, el=0.0):
    a, e = math.radians(az), math.radians(el)
    return [math.cos(a) * math.cos(e), math.sin(a) * math.cos(e), math.sin(e)]


def test_localization_error_degrees_and_permutation():
    target = torch.tensor([[sph(0), sph(90)]])
    pred = torch.tensor([[sph(10), sph(60)]])
    assert localization_error(pred, target) == pytest.approx(20.0, abs=1e-6)
    assert localization_error(pred.flip(1), target) == pytest.approx(20.0, abs=1e-6)
    # predictions need not be unit length (tanh output)
    assert localization_error(0.3 * target, target) == pytest.approx(0.0, abs=1e-5)
    assert torch.allclose(localization_error(pred, target, reduce=False), torch.tensor([[10.0, 30.0]], dtype=torch.float64), atol=1e-6)


def test_three_way_accuracy_counts_wins():
    d = 3
    t_pos = torch.tensor([1.0, 0, 0])
    # group 0: positive clip wins both; group 1: neg_t beats positive
    audio = torch.tensor([[1.0, 0, 0], [0, 1.0, 0], [0, 0, 1.0], [0.6, 0.8, 0], [0.8, 0.6, 0], [0, 0, 1.0]])
    text = torch.stack([t_pos, torch.tensor([0, 1.0, 0]), torch.tensor([0, 0, 1.0])] * 2)
    acc = three_way_accuracy(audio, text)
    assert acc["temporal"] == 0.5 and acc["spatial"] == 1.0
    assert audio.shape[1] == d


def test_zero_shot_accuracy():
    classes = torch.eye(3)
    audio = torch.tensor([[0.9, 0.1, 0], [0, 0.2, 0.8], [0.6, 0.5, 0]])
    assert zero_shot_accuracy(audio, classes, torch.tensor([0, 2, 1])) == pytest.approx(2 / 3)


def test_modality_gap_separable_vs_mixed():
    g = torch.Generator().manual_seed(0)
    a = F.normalize(torch.randn(60, 8, generator=g) + 3.0, dim=-1)
    t = F.normalize(torch.randn(60, 8, generator=g) - 3.0, dim=-1)
    far = modality_gap(a, t)
    assert far["probe_accuracy"] > 0.95 and far["centroid_distance"] > 1.0
    mixed = F.normalize(torch.randn(120, 8, generator=g), dim=-1)
    near = modality_gap(mixed[:60], mixed[60:])
    assert near["probe_accuracy"] < 0.75 and near["centroid_distance"] < 0.5


def test_collapsed_embeddings_score_at_chance_not_perfect():
    """Constant embeddings tie everywhere: every metric must sit near chance (ties never help the query)."""
    from sclap_nb.metrics import three_way_accuracy

    n = 300
    audio = torch.nn.functional.normalize(torch.ones(n, 8), dim=-1)
    r = retrieval_metrics(audio, audio.clone(), torch.arange(n))
    for d in ("t2a", "a2t"):
        assert r[f"{d}/R@1"] <= 3 / n and abs(r[f"{d}/R@10"] - 10 / n) <= 0.03, r
        assert r[f"{d}/mAP@10"] < 0.05, r
    acc = three_way_accuracy(audio, audio.clone())
    assert all(0.35 <= v <= 0.65 for v in acc.values()), acc


def test_ties_break_by_a_fixed_order():
    """The same tie resolves the same way on every call; a strictly better score always wins."""
    audio = torch.nn.functional.normalize(torch.tensor([[1.0, 0.0], [1.0, 0.0], [0.0, 1.0]]), dim=-1)
    text = audio.clone()
    a, b = retrieval_metrics(audio, text, torch.arange(3)), retrieval_metrics(audio, text, torch.arange(3))
    assert a == b
    assert a["t2a/R@1"] == pytest.approx(2 / 3)  # clip 2 is unique; of clips 0 and 1 (tied) exactly one wins

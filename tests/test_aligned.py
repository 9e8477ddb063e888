"""The aligned scoring (``model.align_dim``): a caption's events, in order, scored against a clip's frames by
the best monotone alignment. The rule equals a brute-force search; sounds in the other order score lower; a
moving clause is two items; the model, the loss and the metrics carry it, and a model without it is unchanged."""

import itertools

import pytest
import torch
import torch.nn.functional as F

from sclap_nb.config import ConfigError, LossConfig, ModelConfig, RunConfig
from sclap_nb.evaluation import embed_batch, evaluation_metrics, join_batches
from sclap_nb.losses import align_group_loss, align_loss, total_loss
from sclap_nb.metrics import order_place_accuracy, retrieval_metrics
from sclap_nb.model import (SpatialTemporalCLAP, aligned_pair_scores, aligned_path, aligned_scores, combined_pair_scores,
                            combined_scores, event_items)

from conftest import TINY_MODEL


def test_the_aligned_score_is_the_best_monotone_alignment():
    g = torch.Generator().manual_seed(0)
    frames = F.normalize(torch.randn(3, 7, 8, generator=g), dim=-1)  # 3 clips, 7 frames
    items = F.normalize(torch.randn(2, 4, 8, generator=g), dim=-1)  # 2 captions, up to 4 items
    items[0, 3] = 0.0  # caption 0 has 3 items, caption 1 has 2
    items[1, 2:] = 0.0
    got = aligned_scores(items, frames, block=1)
    for c, a in itertools.product(range(2), range(3)):
        k = 3 - c
        s = items[c, :k] @ frames[a].T  # (k, frames)
        best = max(sum(s[i, t[i]] for i in range(k)) for t in itertools.combinations_with_replacement(range(7), k)) / k
        assert torch.isclose(got[c, a], best, atol=1e-6), (c, a, got[c, a], best)
    pairs = aligned_pair_scores(items[[0, 1, 1]], frames[[2, 0, 1]])
    assert torch.allclose(pairs, torch.stack([got[0, 2], got[1, 0], got[1, 1]]))


def test_the_path_is_monotone_and_scores_the_aligned_score():
    g = torch.Generator().manual_seed(3)
    for trial in range(20):
        k, t = 1 + trial % 4, 3 + trial % 9
        items = F.normalize(torch.randn(k + 1, 8, generator=g), dim=-1)
        items[k] = 0.0  # one absent item at the end
        frames = F.normalize(torch.randn(t, 8, generator=g), dim=-1)
        path, score = aligned_path(items, frames)
        assert len(path) == k and (path[1:] >= path[:-1]).all() and path.min() >= 0 and path.max() < t
        assert score == pytest.approx(float(aligned_scores(items[None], frames[None])[0, 0]), abs=1e-5)
        assert score == pytest.approx(float((items[:k] * frames[path]).sum(-1).mean()), abs=1e-5)
    x, y = torch.eye(4)[0], torch.eye(4)[1]
    path, _ = aligned_path(torch.stack([x, y]), torch.stack([y, x, x, y, torch.zeros(4)]))
    assert path.tolist() in ([1, 3], [2, 3])


def test_sounds_in_the_other_order_score_lower():
    x, y, silence = torch.eye(4)[0], torch.eye(4)[1], torch.zeros(4)
    in_order = torch.stack([x, x, silence, y, y])
    swapped = torch.stack([y, y, silence, x, x])
    caption = torch.stack([x, y])[None]
    s = aligned_scores(caption, torch.stack([in_order, swapped]))[0]
    assert s.tolist() == [1.0, 0.5]  # the swapped clip: one item must sit on a frame of the other sound
    unordered = (caption[0] @ swapped.T).amax(1).mean()  # each item's best frame alone cannot tell them apart
    assert unordered == 1.0


def test_a_moving_clause_is_two_items_origin_first():
    cap = "first a siren wails, moving from the left to the front, then a drum rolls on the right"
    items = event_items(cap)
    assert len(items) == 3
    (c0, out0), (c1, out1), (c2, out2) = items
    assert c0 == c1 and cap[slice(*out0)] == "the front" and cap[slice(*out1)] == "the left"
    assert out2 is None and cap[slice(*c2)].startswith("then a drum")
    assert [o for _, o in event_items("a drum rolls on the right, and then a bell rings on the left")] == [None, None]



def test_the_ends_of_a_path_can_be_items_of_their_own(text_encoder):
    cap = "first a siren wails, moving from the left to the front, then a drum rolls on the right"
    items = event_items(cap, path="ends")
    assert len(items) == 4
    (c0, out0), (c1, out1), (c2, out2), (c3, out3) = items
    assert cap[slice(*out0)] == "the left to the front" and cap[slice(*c0)].startswith("first a siren")
    assert (cap[slice(*c1)], out1, cap[slice(*c2)], out2) == ("the left", None, "the front", None)
    assert out3 is None and cap[slice(*c3)].startswith("then a drum")
    with pytest.raises(ValueError, match="path"):
        event_items(cap, path="both")
    tokens = text_encoder.tokenizer.convert_ids_to_tokens(text_encoder.tokenizer(cap)["input_ids"])
    w = text_encoder.token_items(cap, 4, "ends")
    words = [[t for t, x in zip(tokens, row) if x > 0] for row in w]
    assert "siren" in words[0] and "left" not in words[0] and "front" not in words[0]
    assert words[1] == ["the", "left"] and words[2] == ["the", "front"] and "drum" in words[3]
    assert not torch.equal(w, text_encoder.token_items(cap, 4))  # the default is cached apart
    present = {}
    for path in ("clause", "ends"):  # the model's setting reaches its items
        cfg = {**TINY_MODEL, "temporal_readout": "ordered", "align_dim": 16, "align_path_items": path}
        model = SpatialTemporalCLAP(ModelConfig.from_dict(cfg), text_encoder=text_encoder)
        present[path] = int((model.encode_text_items([cap])[1][0].norm(dim=-1) > 0).sum())
    assert present == {"clause": 3, "ends": 4}


def test_the_text_items_are_the_means_of_their_tokens(text_encoder):
    cap = "first a siren wails, moving from the left to the front, then a drum rolls on the right"
    w = text_encoder.token_items(cap, 3)
    assert w.shape[0] == 3 and torch.allclose(w.sum(1), torch.ones(3))
    tokens = text_encoder.tokenizer.convert_ids_to_tokens(text_encoder.tokenizer(cap)["input_ids"])
    words = [[t for t, x in zip(tokens, row) if x > 0] for row in w]
    assert "left" in words[0] and "front" not in words[0]  # the origin, without the destination
    assert "front" in words[1] and "left" not in words[1]
    assert "drum" in words[2] and "siren" not in words[2]
    assert "[CLS]" not in words[0] and "[SEP]" not in words[2]
    two = text_encoder.token_items(cap, 2)  # fewer slots: the later items share the last
    assert "front" in [t for t, x in zip(tokens, two[1]) if x > 0] and "drum" in [t for t, x in zip(tokens, two[1]) if x > 0]
    h, mask = text_encoder.token_states([cap, "a bell rings"])
    items = text_encoder.items(h, mask, [cap, "a bell rings"], 4)
    assert torch.allclose(items[0, 2], h[0, w[2] > 0].mean(0), atol=1e-5)
    assert items[1, 1:].abs().sum() == 0 and items[1, 0].abs().sum() > 0  # one item; the rest absent


def test_the_setting_needs_the_ordered_readout_and_the_loss_needs_the_setting():
    with pytest.raises(ConfigError, match="align_dim"):
        ModelConfig(align_dim=32, temporal_readout="mean")
    with pytest.raises(ConfigError, match="w_align"):
        RunConfig().with_settings({"loss.w_align": 1.0})
    RunConfig().with_settings({"loss.w_align": 1.0, "model.align_dim": 32, "model.temporal_readout": "ordered"})
    with pytest.raises(ConfigError, match="w_align_group"):
        RunConfig().with_settings({"loss.w_align_group": 1.0})


def _timed_batch(groups=2, seed=0):
    g = torch.Generator().manual_seed(seed)
    roles = ["pos", "neg_t", "neg_s", "neg_c", "neg_m"]
    a, b = "a violin plays on the left", "a drum rolls behind"
    caps = [f"first {a}, then {b}, moving from the left to the front", f"first {b}, then {a}, moving from the left to the front",
            f"first a violin plays behind, then a drum rolls on the left, moving from the left to the front",
            f"first a drum rolls on the left, then a violin plays behind, moving from the left to the front",
            f"first {a}, then {b}, moving from the front to the left"]  # fmt: skip
    caps = [c.replace("violin", f"violin {i}") for i in range(groups) for c in caps]
    n = len(caps)
    return {"wave": 0.1 * torch.randn(n, 4, 32000, generator=g), "text_comb": caps, "text": caps,
            "doa": F.normalize(torch.randn(n, 2, 3, generator=g), dim=-1), "group_size": 5,
            "roles": roles * groups}  # fmt: skip


def _aligned_model(text_encoder):
    """A tiny model with the aligned scoring (16 wide, 4 items), seeded."""
    cfg = ModelConfig.from_dict({**TINY_MODEL, "temporal_readout": "ordered", "align_dim": 16, "align_items": 4})
    torch.manual_seed(0)
    return SpatialTemporalCLAP(cfg, text_encoder=text_encoder)


def test_the_model_the_loss_and_the_metrics_carry_the_aligned_scores(text_encoder):
    model = _aligned_model(text_encoder)
    batch = _timed_batch()
    out = model(batch)
    n = len(batch["text_comb"])
    assert out.a_frames.shape[0] == n and out.a_frames.shape[2] == 16
    assert torch.allclose(out.a_frames.norm(dim=-1), torch.ones(out.a_frames.shape[:2]), atol=1e-5)
    assert out.t_items.shape == (n, 4, 16)
    norms = out.t_items.norm(dim=-1)  # 3 items (the moving clause is two), the fourth absent
    assert torch.allclose(norms[:, :3], torch.ones(n, 3), atol=1e-5) and norms[:, 3].abs().max() == 0
    loss_cfg = LossConfig(w_align=1.0, negatives=("neg_t", "neg_s", "neg_c", "neg_m"))
    parts = total_loss(out, batch, epoch=5, cfg=loss_cfg)
    manual = align_loss(out.a_frames, out.t_items, out.align_scale)
    assert torch.isclose(parts["loss_align"], manual) and parts["w_align"] == 1.0
    without = total_loss(out, batch, epoch=5, cfg=LossConfig(negatives=loss_cfg.negatives))
    assert torch.isclose(parts["total"] - without["total"], manual, atol=1e-5)
    model.zero_grad()
    manual.backward()
    for part in (model.align_audio, model.align_text, model.temporal_encoder.chunk_projection):
        assert any(p.grad is not None and p.grad.abs().sum() > 0 for p in part.parameters())
    assert model.align_logit_scale.grad is not None

    model.eval()
    emb = join_batches(model, [embed_batch(model, batch)])
    m = evaluation_metrics(emb, full=False)
    for key in ("aligned/t2a/R@1", "aligned/order_acc", "aligned/place_acc", "aligned/motion_acc", "aligned/vs_neg_m"):
        assert key in m and 0.0 <= m[key] <= 1.0, key
    spec = [i for i, r in enumerate(batch["roles"]) if r in ("pos", "neg_t", "neg_s")]
    sim = aligned_scores(emb["t_items"][spec], emb["a_frames"][spec])
    right = (sim.argmax(1) == torch.arange(len(spec))).double().mean().item()
    assert m["aligned/t2a/R@1"] == pytest.approx(right)  # no ties in float scores
    op = order_place_accuracy(emb["a_frames"], emb["t_items"], batch["roles"], pair_score=aligned_pair_scores)
    assert m["aligned/order_acc"] == op["order_acc"]
    with pytest.raises(ValueError, match="w_align"):
        total_loss(SpatialTemporalCLAP(ModelConfig.from_dict({**TINY_MODEL, "temporal_readout": "ordered"}),
                                       text_encoder=text_encoder)(batch), batch, 5, loss_cfg)  # fmt: skip


def test_the_score_functions_of_the_metrics_default_to_the_dot_product():
    g = torch.Generator().manual_seed(1)
    a, t = F.normalize(torch.randn(6, 8, generator=g), dim=-1), F.normalize(torch.randn(6, 8, generator=g), dim=-1)
    assert retrieval_metrics(a, t, torch.arange(6)) == retrieval_metrics(a, t, torch.arange(6), score=lambda x, y: x @ y.T)
    flipped = retrieval_metrics(a, t, torch.arange(6), score=lambda x, y: -(x @ y.T))
    assert flipped != retrieval_metrics(a, t, torch.arange(6))


def test_a_model_without_the_setting_is_unchanged(text_encoder):
    torch.manual_seed(0)
    cfg = ModelConfig.from_dict({**TINY_MODEL, "temporal_readout": "ordered"})
    model = SpatialTemporalCLAP(cfg, text_encoder=text_encoder).eval()
    assert model.align_audio is None and not any("align" in k for k in model.state_dict())
    out = model(_timed_batch(1))
    assert out.a_frames is None and out.t_items is None and out.align_scale is None


def test_the_group_term_on_the_aligned_scores_is_a_cross_entropy_within_each_group():
    g = torch.Generator().manual_seed(5)
    frames = F.normalize(torch.randn(10, 6, 8, generator=g), dim=-1)  # two groups of 5 clips
    items = F.normalize(torch.randn(10, 3, 8, generator=g), dim=-1)
    s = 7.0 * aligned_scores(items, frames)
    want = 0.0
    for b in (0, 5):
        t2a = s[b, b : b + 5]  # the positive caption against its group's clips
        a2t = s[b : b + 5, b]  # the group's captions against the positive clip
        want += (F.cross_entropy(t2a[None], torch.tensor([0])) + F.cross_entropy(a2t[None], torch.tensor([0]))) / 2
    assert torch.isclose(align_group_loss(frames, items, 7.0, 5), want / 2, atol=1e-6)
    # the term reads only the group's own clips: another group's clips do not change it
    other = frames.clone()
    other[5:] = F.normalize(torch.randn(5, 6, 8, generator=g), dim=-1)
    assert not torch.isclose(align_group_loss(other, items, 7.0, 5), want / 2)
    first_group = (align_group_loss(frames[:5], items[:5], 7.0, 5) + align_group_loss(other[5:], items[5:], 7.0, 5)) / 2
    assert torch.isclose(align_group_loss(other, items, 7.0, 5), first_group, atol=1e-6)
    with pytest.raises(ValueError, match="5B"):
        align_group_loss(frames[:7], items[:7], 7.0, 5)


def test_the_total_loss_adds_the_aligned_group_term(text_encoder):
    model = _aligned_model(text_encoder)
    batch = _timed_batch()
    out = model(batch)
    negatives = ("neg_t", "neg_s", "neg_c", "neg_m")
    parts = total_loss(out, batch, epoch=5, cfg=LossConfig(w_align_group=0.5, negatives=negatives))
    manual = align_group_loss(out.a_frames, out.t_items, out.align_scale, 5)
    assert torch.isclose(parts["loss_ag"], manual) and parts["w_ag"] == 0.5
    without = total_loss(out, batch, epoch=5, cfg=LossConfig(negatives=negatives))
    assert "loss_ag" not in without
    assert torch.isclose(parts["total"] - without["total"], 0.5 * manual, atol=1e-5)
    model.zero_grad()
    manual.backward()
    assert any(p.grad is not None and p.grad.abs().sum() > 0 for p in model.align_audio.parameters())


def test_the_combined_scorer_is_the_cosine_plus_the_aligned_scores(text_encoder):
    g = torch.Generator().manual_seed(2)
    text, audio = F.normalize(torch.randn(3, 8, generator=g), dim=-1), F.normalize(torch.randn(4, 8, generator=g), dim=-1)
    items, frames = F.normalize(torch.randn(3, 2, 5, generator=g), dim=-1), F.normalize(torch.randn(4, 6, 5, generator=g), dim=-1)
    got = combined_scores(text, items, audio, frames, weight=2.0)
    assert torch.allclose(got, text @ audio.T + 2.0 * aligned_scores(items, frames))
    pair = combined_pair_scores(text[[0, 2]], items[[0, 2]], audio[[1, 3]], frames[[1, 3]], weight=2.0)
    assert torch.allclose(pair, got[[0, 2], [1, 3]])

    model = _aligned_model(text_encoder).eval()
    batch = _timed_batch()
    emb = join_batches(model, [embed_batch(model, batch)])
    m = evaluation_metrics(emb, full=False)
    spec = [i for i, r in enumerate(batch["roles"]) if r in ("pos", "neg_t", "neg_s")]
    sim = combined_scores(emb["text_comb"][spec], emb["t_items"][spec], emb["e_triplet"][spec], emb["a_frames"][spec])
    assert m["combined/t2a/R@1"] == pytest.approx((sim.argmax(1) == torch.arange(len(spec))).double().mean().item())
    pos, neg_m = [i for i, r in enumerate(batch["roles"]) if r == "pos"], [i for i, r in enumerate(batch["roles"]) if r == "neg_m"]
    wins = combined_pair_scores(emb["text_comb"][pos], emb["t_items"][pos], emb["e_triplet"][pos], emb["a_frames"][pos]) > \
        combined_pair_scores(emb["text_comb"][pos], emb["t_items"][pos], emb["e_triplet"][neg_m], emb["a_frames"][neg_m])
    assert m["combined/motion_acc"] == pytest.approx(wins.double().mean().item())

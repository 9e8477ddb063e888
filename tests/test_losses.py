import math

import numpy as np
import pytest

from sclap_nb.config import LossConfig
import torch
import torch.nn.functional as F

from sclap_nb.losses import (
    class_loss,
    doa_loss,
    info_nce,
    loss_weights_at,
    modality_loss,
    same_caption_mask,
    three_way_loss,
    total_loss,
)


def unit(*shape, seed=0):
    g = torch.Generator().manual_seed(seed)
    return F.normalize(torch.randn(*shape, generator=g), dim=-1)


def test_info_nce_equals_explicit_log_softmax():
    a, t, s = unit(6, 8, seed=1), unit(6, 8, seed=2), 10.0
    sim = (s * a @ t.T).numpy().astype(np.float64)
    a2t = -np.mean([sim[i, i] - np.log(np.exp(sim[i]).sum()) for i in range(6)])
    t2a = -np.mean([sim[i, i] - np.log(np.exp(sim[:, i]).sum()) for i in range(6)])
    assert info_nce(a, t, s).item() == pytest.approx((a2t + t2a) / 2, rel=1e-5)


def test_info_nce_mask_changes_only_with_off_diagonal_matches():
    a, t, s = unit(6, 8, seed=3), unit(6, 8, seed=4), 5.0
    plain = info_nce(a, t, s)
    # a mask with only the diagonal: unchanged
    assert info_nce(a, t, s, torch.eye(6, dtype=torch.bool)).item() == pytest.approx(plain.item(), abs=1e-7)
    assert info_nce(a, t, s, torch.zeros(6, 6, dtype=torch.bool)).item() == pytest.approx(plain.item(), abs=1e-7)
    # rows 0 and 3 share a caption: their cross entries leave the denominators
    same = same_caption_mask(["x", "b", "c", "x", "e", "f"])
    assert same[0, 3] and same[3, 0] and not same[0, 1]
    masked = info_nce(a, t, s, same)
    assert masked.item() < plain.item()
    sim = (s * a @ t.T).double()
    sim[0, 3] = sim[3, 0] = float("-inf")
    ref = (F.cross_entropy(sim, torch.arange(6)) + F.cross_entropy(sim.T, torch.arange(6))) / 2
    assert masked.item() == pytest.approx(ref.item(), rel=1e-5)


def test_three_way_loss_hand_computation():
    a, t, s = unit(6, 5, seed=5), unit(6, 5, seed=6), 7.0
    total = 0.0
    for g in range(2):
        i = 3 * g
        t2a = [s * float(t[i] @ a[i + k]) for k in range(3)]
        a2t = [s * float(a[i] @ t[i + k]) for k in range(3)]
        ce = lambda z: -z[0] + math.log(sum(math.exp(v) for v in z))
        total += (ce(t2a) + ce(a2t)) / 2
    assert three_way_loss(a, t, s).item() == pytest.approx(total / 2, rel=1e-5)


def test_three_way_loss_clamps_logits():
    a, t = unit(3, 4, seed=7), unit(3, 4, seed=8)
    big = three_way_loss(a, t, 1e6)
    assert torch.isfinite(big)
    # with the clamp every logit sits at +-50: the loss is that of the clamped logits
    sims_t2a = torch.stack([t[0] @ a[k] for k in range(3)]) * 1e6
    sims_a2t = torch.stack([a[0] @ t[k] for k in range(3)]) * 1e6
    ref = (F.cross_entropy(sims_t2a.clamp(-50, 50)[None], torch.tensor([0])) + F.cross_entropy(sims_a2t.clamp(-50, 50)[None], torch.tensor([0]))) / 2
    assert big.item() == pytest.approx(ref.item(), rel=1e-6)


def test_three_way_loss_rejects_partial_groups():
    with pytest.raises(ValueError, match="3B"):
        three_way_loss(unit(4, 3), unit(4, 3), 1.0)


def test_doa_loss_perfect_and_swap_invariant():
    target = unit(5, 2, 3, seed=9)
    assert doa_loss(target, target).item() == pytest.approx(0.0, abs=1e-6)
    assert doa_loss(target.flip(1), target).item() == pytest.approx(0.0, abs=1e-6)
    pred = unit(5, 2, 3, seed=10)
    assert doa_loss(pred, target).item() == pytest.approx(doa_loss(pred.flip(1), target).item(), abs=1e-6)
    # hand value for one sample: the better of the two orders
    p, q = pred[0], target[0]
    direct = ((1 - p[0] @ q[0]) + (1 - p[1] @ q[1])) / 2
    swapped = ((1 - p[1] @ q[0]) + (1 - p[0] @ q[1])) / 2
    assert doa_loss(pred[:1], target[:1]).item() == pytest.approx(min(direct, swapped).item(), abs=1e-6)


def test_modality_loss_is_bce_on_logits_and_clamped():
    logits, labels = torch.tensor([0.0, 2.0, -3.0]), torch.tensor([0.0, 1.0, 1.0])
    ref = -np.mean([np.log(0.5), np.log(1 / (1 + np.exp(-2))), np.log(1 / (1 + np.exp(3)))])
    assert modality_loss(logits, labels).item() == pytest.approx(ref, rel=1e-6)
    assert modality_loss(torch.zeros(4), torch.tensor([0.0, 0, 1, 1])).item() == pytest.approx(math.log(2))
    assert torch.isfinite(modality_loss(torch.tensor([1e30, -1e30]), torch.tensor([0.0, 1.0])))


@pytest.mark.parametrize(
    "epoch, sem, ts",
    [(0, 0.0, 0.05), (1, 0.0, 0.10), (2, 0.0, 0.15), (3, 0.5, 0.20), (4, 0.5, 0.20), (5, 0.5, 0.20), (6, 0.5, 0.20)],
)
def test_loss_weights_schedule(epoch, sem, ts):
    from sclap_nb.config import preset

    w = loss_weights_at(epoch, preset("specification").loss)  # 3-way term at 0.2, ramped over 4 epochs
    assert set(w) == {"doa", "sem", "ts", "mod"}
    assert w["doa"] == 1.0 and w["mod"] == 0.2
    assert w["sem"] == pytest.approx(sem) and w["ts"] == pytest.approx(ts)


class _Out:
    """A stand-in for model.Outputs with the fields total_loss reads."""

    def __init__(self, n, d=8, seed=0, modality=True):
        self.e_sed, self.e_joint, self.e_triplet = unit(n, d, seed=seed), unit(n, d, seed=seed + 1), unit(n, d, seed=seed + 2)
        self.text_comb, self.text = unit(n, d, seed=seed + 3), unit(n, d, seed=seed + 4)
        self.doa = torch.tanh(torch.randn(n, 2, 3, generator=torch.Generator().manual_seed(seed)))
        self.logit_scale = torch.tensor(10.0)
        self.e_audio = self.e_triplet
        self.modality_logits = torch.randn(2 * n, generator=torch.Generator().manual_seed(seed + 5)) if modality else None
        self.modality_labels = torch.cat([torch.zeros(n), torch.ones(n)]) if modality else None


def _batch(n, group_size):
    caps = [f"c{i}" for i in range(n)]
    plain = [f"p{i // 3}" if i % 3 != 1 else f"q{i // 3}" for i in range(n)]  # pos and neg_s share
    return {"text_comb": caps, "text": plain, "doa": unit(n, 2, 3, seed=99), "group_size": group_size}


def test_total_loss_is_the_weighted_sum():
    out, batch = _Out(6), _batch(6, 3)
    for epoch in (0, 3):
        L = total_loss(out, batch, epoch)
        w = loss_weights_at(epoch)
        expect = (1 - w["sem"]) * L["loss_scl"] + w["sem"] * L["loss_cl"] + w["doa"] * L["loss_doa"] + w["ts"] * L["loss_ts"] + w["mod"] * L["loss_mod"]
        assert L["total"].item() == pytest.approx(expect.item(), rel=1e-6)
        assert L["loss_ts"].item() == pytest.approx(three_way_loss(out.e_triplet, out.text_comb, 10.0).item())
        assert L["ts_active"].item() == 1.0


def test_total_loss_masks_false_negatives_of_the_plain_caption():
    out, batch = _Out(6), _batch(6, 3)
    masked = total_loss(out, batch, 3)["loss_cl"]
    unmasked = total_loss(out, batch, 3, LossConfig(mask_false_negatives=False))["loss_cl"]
    assert masked.item() < unmasked.item()
    assert masked.item() == pytest.approx(info_nce(out.e_sed, out.text, 10.0, same_caption_mask(batch["text"])).item())


def test_plain_batch_trains_with_three_way_term_skipped():
    out, batch = _Out(4), _batch(4, 1)  # 4 clips: not a multiple of 3, groups of 1
    L = total_loss(out, batch, 5)
    assert L["ts_active"].item() == 0.0 and L["loss_ts"].item() == 0.0 and L["w_ts"].item() == 0.0
    assert torch.isfinite(L["total"])
    with pytest.raises(ValueError, match="group_size"):
        total_loss(out, {**batch, "group_size": 2}, 5)


def test_total_loss_without_modality_classifier():
    L = total_loss(_Out(6, modality=False), _batch(6, 3), 2)
    assert L["loss_mod"].item() == 0.0 and L["w_mod"].item() == 0.0


def test_class_loss_masks_clips_of_one_class():
    a, t, s = unit(6, 8, seed=11), unit(6, 8, seed=12), 10.0
    labels = torch.tensor([0, 1, 0, 2, 1, 3])
    sim = (s * a @ t.T).double()
    for i, j in [(0, 2), (1, 4)]:  # the same class: true matches, out of each other's negatives
        sim[i, j] = sim[j, i] = float("-inf")
    ref = (F.cross_entropy(sim, torch.arange(6)) + F.cross_entropy(sim.T, torch.arange(6))) / 2
    assert class_loss(a, t, s, labels).item() == pytest.approx(ref.item(), rel=1e-5)
    # all classes distinct: plain InfoNCE
    assert class_loss(a, t, s, torch.arange(6)).item() == pytest.approx(info_nce(a, t, s).item(), rel=1e-6)
    with pytest.raises(ValueError, match="one label per clip"):
        class_loss(a, t, s, labels[:5])


def test_total_loss_adds_the_weighted_class_term_only_when_on():
    out, batch = _Out(6), _batch(6, 3)
    classes = (unit(4, 8, seed=21), unit(4, 8, seed=22), torch.tensor([0, 1, 1, 2]))
    off = total_loss(out, batch, 3)
    assert off["loss_class"].item() == 0.0 and off["w_class"].item() == 0.0
    assert total_loss(out, batch, 3, LossConfig(), classes)["total"].item() == off["total"].item()  # w_class 0: ignored
    on = total_loss(out, batch, 3, LossConfig(w_class=0.5), classes)
    expect = class_loss(classes[0], classes[1], 10.0, classes[2])
    assert on["loss_class"].item() == pytest.approx(expect.item(), rel=1e-6) and on["w_class"].item() == 0.5
    assert on["total"].item() == pytest.approx(off["total"].item() + 0.5 * expect.item(), rel=1e-6)


def test_total_loss_adds_the_temporal_group_term_only_when_on():
    out, batch = _Out(8), _batch(8, 4)
    out.e_temporal = unit(8, 8, seed=31)
    off = total_loss(out, batch, 3)
    assert "loss_tg" not in off  # off: the specification's total, nothing logged
    on = total_loss(out, batch, 3, LossConfig(w_temporal_group=0.5))
    expect = three_way_loss(out.e_temporal, out.text_comb, 10.0, 4)
    assert on["loss_tg"].item() == pytest.approx(expect.item(), rel=1e-6) and on["w_tg"].item() == 0.5
    assert on["total"].item() == pytest.approx(off["total"].item() + 0.5 * expect.item(), rel=1e-6)
    # the term reads e_temporal, not the triplet embedding it would otherwise share L_ts with
    out.e_temporal = out.e_triplet
    same = total_loss(out, batch, 3, LossConfig(w_temporal_group=0.5))
    assert same["loss_tg"].item() == pytest.approx(same["loss_ts"].item(), rel=1e-6)
    # no temporal encoder, or plain batches: nothing to ask, the term is off
    out.e_temporal = None
    assert "loss_tg" not in total_loss(out, batch, 3, LossConfig(w_temporal_group=0.5))
    out.e_temporal = unit(8, 8, seed=31)
    assert "loss_tg" not in total_loss(out, _batch(8, 1), 3, LossConfig(w_temporal_group=0.5))

import pytest
import torch
import torch.nn.functional as F
from conftest import TINY_MODEL

from sclap_nb.losses import info_nce, total_loss
from sclap_nb.model import (
    ModalityClassifier,
    ModelConfig,
    SpatialTemporalCLAP,
    TemporalAudioEncoder,
    TextEncoder,
    grad_reverse,
)

POS = "a violin plays on the left, then a snare drum rolls behind"
NEG_T = "a snare drum rolls behind, then a violin plays on the left"
NEG_S = "a violin plays behind, then a snare drum rolls on the left"


@pytest.mark.parametrize("lambd", [0.0, 0.5, 1.0, 3.0])
def test_grad_reverse_backward_is_minus_lambda_grad(lambd):
    x = torch.randn(5, 7, requires_grad=True)
    y = grad_reverse(x, lambd)
    assert torch.equal(y, x)
    g = torch.randn(5, 7)
    y.backward(g)
    assert torch.allclose(x.grad, -lambd * g)


def test_modality_classifier_shape_logits_and_grl():
    clf = ModalityClassifier(64)
    widths = [m.out_features for m in clf.net if isinstance(m, torch.nn.Linear)]
    assert widths == [32, 16, 8, 4, 1]
    x = torch.randn(10, 64, requires_grad=True)
    logits = clf(x, lambd=2.0)
    assert logits.shape == (10,)
    logits.sum().backward()
    # the gradient reaching x is -2 times the one without the GRL
    x2 = x.detach().clone().requires_grad_(True)
    clf.net(x2).sum().backward()
    assert torch.allclose(x.grad, -2.0 * x2.grad, atol=1e-6)


def test_chunks_are_taken_along_time():
    enc = TemporalAudioEncoder(dim=32, in_channels=8, n_chunks=4, heads=4, ff=64)
    fmap = torch.zeros(2, 8, 32, 2)  # (B, C, T=32, F=2), as an HTS-AT map reordered to (B, C, T, F)
    for k in range(4):
        fmap[:, :, 8 * k : 8 * (k + 1)] = float(k + 1)
    chunks = enc.chunk(fmap)
    assert chunks.shape == (2, 4, 8)
    assert chunks[0, :, 0].tolist() == [1.0, 2.0, 3.0, 4.0]
    tokens = enc.tokens(fmap, fmap)
    assert torch.isfinite(tokens).all()
    assert len({tuple(t.round(decimals=5).tolist()) for t in tokens[0]}) == 4  # four different tokens
    enc.eval()
    assert torch.isfinite(enc(fmap, fmap)).all()


def test_too_few_frames_is_a_clear_error():
    enc = TemporalAudioEncoder(dim=32, in_channels=8, n_chunks=4, heads=4, ff=64)
    with pytest.raises(ValueError, match="2 time frames.*n_chunks=4"):
        enc.chunk(torch.zeros(1, 8, 2, 32))  # the original's mistake: (B, C, F=2, T=32) read as time = 2


def test_chunk_count_is_a_parameter():
    enc = TemporalAudioEncoder(dim=32, in_channels=8, n_chunks=6, heads=4, ff=64)
    assert enc.chunk(torch.randn(3, 8, 25, 4)).shape == (3, 6, 8)


def test_order_sensitivity_of_the_encoder():
    enc = TemporalAudioEncoder(dim=32, in_channels=8, n_chunks=4, heads=4, ff=64).eval()
    a, b = torch.randn(1, 8, 12, 4), torch.randn(1, 8, 12, 4)
    ab, ba = torch.cat([a, b], 2), torch.cat([b, a], 2)
    # a plain global mean cannot tell AB from BA; the chunked encoder can
    assert torch.allclose(ab.mean((2, 3)), ba.mean((2, 3)), atol=1e-6)
    assert not torch.allclose(enc(ab, ab), enc(ba, ba), atol=1e-4)


def test_frozen_mean_pooled_minilm_cannot_tell_the_twins_apart(text_encoder):
    h, mask = text_encoder.token_states([POS, NEG_T, NEG_S])
    mean = F.normalize((h * mask[..., None]).sum(1) / mask.sum(1, keepdim=True), dim=-1)
    assert (mean[0] @ mean[1]).item() > 0.97 and (mean[0] @ mean[2]).item() > 0.97


@pytest.mark.slow  # trains the text side for 15 steps
def test_a_few_steps_make_the_text_side_order_and_position_aware():
    torch.manual_seed(0)
    enc = TextEncoder(dim=64, trainable_layers=1)
    captions = [POS, NEG_T, NEG_S, "a dog barks in front, then a bell rings on the right",
                "a bell rings on the right, then a dog barks in front", "a dog barks on the right, then a bell rings in front"]
    targets = F.normalize(torch.randn(len(captions), 64), dim=-1)  # stand-ins for distinct audio clips
    params = [p for p in enc.parameters() if p.requires_grad]
    opt = torch.optim.Adam(params, 1e-3)

    def twin_cosines():
        with torch.no_grad():
            e = F.normalize(enc(captions[:3]), dim=-1)
        return (e[0] @ e[1]).item(), (e[0] @ e[2]).item()

    before = twin_cosines()
    enc.train()
    for _ in range(15):
        loss = info_nce(targets, F.normalize(enc(captions), dim=-1), 10.0)
        opt.zero_grad()
        loss.backward()
        opt.step()
    enc.eval()
    after = twin_cosines()
    assert after[0] < 0.5 and after[1] < 0.5, (before, after)
    assert after[0] < before[0] and after[1] < before[1]


def test_frozen_layers_stay_frozen_and_are_cached(text_encoder):
    n_layers = len(text_encoder.backbone.encoder.layer)
    trainable = [n for n, p in text_encoder.backbone.named_parameters() if p.requires_grad]
    assert trainable and all(n.startswith(f"encoder.layer.{n_layers - 1}.") for n in trainable)
    text_encoder([POS, "a dog barks"])
    assert POS in text_encoder._cache
    with pytest.raises(ValueError, match="caption 1 is empty"):
        text_encoder([POS, "  "])


def tiny_config(**kw):
    """The tests' tiny model (conftest.TINY_MODEL) at the specification's settings, with ``kw`` on top."""
    return ModelConfig.from_dict({**TINY_MODEL, **kw})


def random_triplet_batch(groups=2, seconds=1.0, seed=0):
    g = torch.Generator().manual_seed(seed)
    n = 3 * groups
    spatial = [POS, NEG_T, NEG_S] * groups
    plain = ["a violin plays, then a snare drum rolls", "a snare drum rolls, then a violin plays", "a violin plays, then a snare drum rolls"] * groups
    return {
        "wave": 0.1 * torch.randn(n, 4, int(16000 * seconds), generator=g),
        "text_comb": spatial,
        "text": plain,
        "doa": F.normalize(torch.randn(n, 2, 3, generator=g), dim=-1),
        "group_size": 3,
    }


@pytest.fixture(scope="module")
def tiny_model():
    torch.manual_seed(0)
    return SpatialTemporalCLAP(tiny_config())


def test_forward_fields_and_shapes(tiny_model):
    batch = random_triplet_batch()
    out = tiny_model(batch)
    for name in ("e_sed", "e_joint", "e_temporal", "e_triplet", "text_comb", "text"):
        emb = getattr(out, name)
        assert emb.shape == (6, 64), name
        assert torch.allclose(emb.norm(dim=-1), torch.ones(6), atol=1e-5), name
    assert out.doa.shape == (6, 2, 3) and out.doa.abs().max() <= 1
    assert 1.0 <= out.logit_scale.item() <= 100.0
    assert out.modality_logits.shape == (12,) and out.modality_labels.tolist() == [0.0] * 6 + [1.0] * 6


def test_full_model_backward_gives_finite_gradients_everywhere(tiny_model):
    tiny_model.train()
    tiny_model.zero_grad()
    batch = random_triplet_batch()
    losses = total_loss(tiny_model(batch), batch, epoch=5)
    losses["total"].backward()
    missing, nonfinite = [], []
    for name, p in tiny_model.named_parameters():
        if not p.requires_grad:
            continue
        if p.grad is None:
            missing.append(name)
        elif not torch.isfinite(p.grad).all():
            nonfinite.append(name)
    assert not missing and not nonfinite, (missing, nonfinite)


def test_logit_scale_is_clamped(tiny_model):
    with torch.no_grad():
        tiny_model.logit_scale.fill_(10.0)
        assert tiny_model.scale().item() == pytest.approx(100.0)
        tiny_model.logit_scale.fill_(-3.0)
        assert tiny_model.scale().item() == pytest.approx(1.0)
        tiny_model.logit_scale.fill_(ModelConfig().logit_scale_init)


def test_switches_give_the_salm_baseline(text_encoder):
    base = SpatialTemporalCLAP(tiny_config(use_temporal=False, use_modality=False), text_encoder=text_encoder)
    assert base.temporal_encoder is None and base.modality_classifier is None
    batch = random_triplet_batch()
    out = base(batch)
    assert out.e_temporal is None and out.e_triplet is None and out.modality_logits is None
    assert torch.equal(out.e_audio, out.e_joint)
    assert torch.isfinite(total_loss(out, batch, 4)["total"])


@pytest.mark.parametrize(
    "wave, message",
    [
        (torch.randn(3, 2, 16000), "4 FOA channels"),
        (torch.randn(3, 4, 200), "too short"),
        (torch.full((3, 4, 16000), float("nan")), "NaN"),
    ],
)
def test_bad_audio_is_rejected(tiny_model, wave, message):
    batch = {**random_triplet_batch(groups=1), "wave": wave}
    with pytest.raises(ValueError, match=message):
        tiny_model(batch)


def test_short_clip_that_pools_below_four_frames_is_rejected(tiny_model):
    batch = {**random_triplet_batch(groups=1), "wave": torch.randn(3, 4, 512)}  # 4 STFT frames -> 0 after pooling
    with pytest.raises(ValueError, match="T >= 8 frames"):
        tiny_model(batch)


def test_triplet_embedding_starts_as_e_joint_and_learns_a_residual(text_encoder):
    torch.manual_seed(0)
    model = SpatialTemporalCLAP(tiny_config(), text_encoder=text_encoder).eval()
    batch = random_triplet_batch(groups=1)
    with torch.no_grad():
        out = model(batch)
    assert torch.allclose(out.e_triplet, out.e_joint, atol=1e-6)
    # the zero-initialised last layer still receives gradient, so the temporal path can move it
    model.train()
    total_loss(model(batch), batch, epoch=5)["loss_ts"].backward()
    assert model.final_audio_projection[-1].weight.grad.abs().sum() > 0
    plain = SpatialTemporalCLAP(tiny_config(triplet_residual=False), text_encoder=text_encoder).eval()
    with torch.no_grad():
        out = plain(batch)
    assert not torch.allclose(out.e_triplet, out.e_joint, atol=1e-3)


def test_circular_time_padding_makes_the_pooled_latent_blind_to_a_circular_shift():
    """With time wrapping around, swapping a clip's halves (a circular shift) moves the feature map and
    leaves the pooled latent unchanged; with zero padding the edges tell the two apart."""
    from sclap_nb.model import ConvEncoder

    torch.manual_seed(0)
    x = torch.randn(3, 7, 64, 16)
    swapped = torch.roll(x, 32, dims=2)  # halves swapped; 32 frames = 4 x the encoder's time reduction of 8
    for padding, same in (("circular", True), ("zeros", False)):
        torch.manual_seed(1)
        enc = ConvEncoder(7, channels=(8, 8, 8, 8), time_padding=padding).eval()
        (a, fa), (b, fb) = enc(x), enc(swapped)
        assert torch.allclose(a, b, atol=1e-5) is same, padding
        if same:
            assert torch.allclose(torch.roll(fa, 4, dims=2), fb, atol=1e-5)
    with pytest.raises(ValueError, match="time_padding"):
        ConvEncoder(7, time_padding="reflect")


def test_channels_last_is_the_same_model_in_another_memory_layout(text_encoder):
    """model.channels_last: the convolutions' weights and their input in the channels-last layout; the
    same parameters give the same outputs and gradients up to float rounding, and a state dict moves
    between the layouts."""
    batch = random_triplet_batch()
    out, grads = {}, {}
    for last in (False, True):
        torch.manual_seed(0)
        text_encoder.zero_grad(set_to_none=True)  # shared by both models
        model = SpatialTemporalCLAP(tiny_config(channels_last=last), text_encoder=text_encoder).train()
        if last:
            model.load_state_dict(state)  # the contiguous model's parameters, copied into channels-last tensors
        state = model.state_dict()
        conv = model.doa_encoder.stages[0][0].weight
        assert conv.is_contiguous(memory_format=torch.channels_last) is last
        assert conv.is_contiguous() is not last
        torch.manual_seed(1)  # the same dropout masks
        o = model(batch)
        total_loss(o, batch, epoch=5)["total"].backward()
        out[last] = o
        grads[last] = {n: p.grad.clone() for n, p in model.named_parameters() if p.grad is not None}
    assert torch.allclose(out[True].e_joint, out[False].e_joint, atol=1e-5)
    assert torch.allclose(out[True].e_triplet, out[False].e_triplet, atol=1e-5)
    assert grads[True].keys() == grads[False].keys()
    for name, g in grads[False].items():  # a tensor's error against its size: a conv's weight gradient sums over
        # every pixel of the batch, in another order in each layout (at 1 thread a few of its entries near 0 move by 1e-5)
        assert (grads[True][name] - g).norm() <= 1e-3 * g.norm() + 1e-5 * g.numel() ** 0.5, name


def test_mean_readout_forgets_which_chunk_is_which_and_concat_readout_does_not():
    torch.manual_seed(0)
    fmap = torch.randn(2, 8, 16, 3)
    swapped = torch.cat([fmap[:, :, 8:], fmap[:, :, :8]], 2)  # the two halves (chunks 0,1 and 2,3) swapped
    out = {}
    for readout in ("mean", "concat"):
        enc = TemporalAudioEncoder(dim=32, in_channels=8, n_chunks=4, heads=4, ff=64, readout=readout).eval()
        with torch.no_grad():
            enc.positional.zero_()  # no positions: only the readout can keep the order
            out[readout] = (enc(fmap, fmap), enc(swapped, swapped))
    assert torch.allclose(*out["mean"], atol=1e-5)  # a Transformer without positions, then a mean: order-blind
    assert not torch.allclose(*out["concat"], atol=1e-3)  # the concatenation keeps which chunk came first
    with pytest.raises(ValueError, match="readout"):
        TemporalAudioEncoder(dim=32, in_channels=8, readout="max")


def test_doa_halves_reads_each_direction_from_its_own_half(text_encoder):
    torch.manual_seed(0)
    model = SpatialTemporalCLAP(tiny_config(doa_pooling="halves"), text_encoder=text_encoder).eval()
    assert model.doa_head[-1].out_features == 3  # one head, shared by the halves
    fmap = torch.randn(2, 16, 6, 4)
    model.doa_encoder.forward = lambda x: (fmap.mean((2, 3)), fmap)  # a known spatial feature map
    logmel, logmeliv = torch.randn(2, 1, 48, 64), torch.randn(2, 7, 48, 64)
    with torch.no_grad():
        pred = model.encode_audio(logmel, logmeliv)["doa"]
        over_freq = fmap.mean(3)
        first = over_freq[:, :, :3].mean(2) + over_freq[:, :, :3].amax(2)
        assert torch.allclose(pred[:, 0], torch.tanh(model.doa_head(first)), atol=1e-6)
        fmap[:, :, 3:] = torch.randn(2, 16, 3, 4)  # another second half: the first direction is unchanged
        pred2 = model.encode_audio(logmel, logmeliv)["doa"]
        assert torch.allclose(pred2[:, 0], pred[:, 0], atol=1e-6) and not torch.allclose(pred2[:, 1], pred[:, 1], atol=1e-3)
        halves = fmap.clone()
        fmap[:, :, :3], fmap[:, :, 3:] = halves[:, :, 3:], halves[:, :, :3]  # halves swapped: directions swapped
        pred3 = model.encode_audio(logmel, logmeliv)["doa"]
        assert torch.allclose(pred3.flip(1), pred2, atol=1e-6)
    with pytest.raises(ValueError, match="doa_pooling"):
        tiny_config(doa_pooling="tracks")


def _mean_offdiag_cos(e):
    e = F.normalize(e, dim=-1)
    c = e @ e.T
    return ((c.sum() - c.diag().sum()) / (len(e) ** 2 - len(e))).item()


def test_token_norm_keeps_the_clip_in_the_temporal_embedding():
    # chunk means of ReLU feature maps: a large part shared by every clip, a small part that differs
    torch.manual_seed(0)
    fmap = 3.0 + 0.1 * torch.randn(16, 8, 16, 3)
    cos = {}
    for token_norm in (False, True):
        torch.manual_seed(1)
        enc = TemporalAudioEncoder(dim=32, in_channels=8, n_chunks=4, heads=4, ff=64, dropout=0.0, token_norm=token_norm)
        enc.train()  # the batch statistics of training
        with torch.no_grad():
            cos[token_norm] = _mean_offdiag_cos(enc(fmap, fmap))
    assert cos[False] > 0.999  # the shared part and the positions drown the clip: nearly one embedding for all
    assert cos[True] < 0.9  # standardised content: the clips differ


# --------------------------------------------------------------------------- chunks over the sounding span


def test_active_span_finds_where_the_clip_sounds():
    from sclap_nb.model import active_span

    logmel = torch.full((2, 1, 400, 64), -100.0)
    logmel[0, 0, 120:200] = 0.0  # sounds in frames 120..199
    logmel[0, 0, 300:310] = -45.0  # too quiet to count (45 dB below the loudest)
    span = active_span(logmel, time_reduction=8, range_db=30.0)
    assert span[0].tolist() == pytest.approx([(119.5 + 0.5) / 8 - 0.5, (199.5 + 0.5) / 8 - 0.5])
    assert span[1].tolist() == pytest.approx([-0.5 / 8 - 0.5 + 0.5 / 8, 399.5 / 8 - 0.5 + 0.5 / 8])  # silent: whole clip
    loud = active_span(logmel, time_reduction=8, range_db=60.0)  # a wider range takes the quiet frames in
    assert loud[0, 1] == pytest.approx((309.5 + 0.5) / 8 - 0.5)


def test_chunks_over_the_sounding_span_follow_the_sound_not_the_clip():
    """The same two sounds, early or late in a silent clip: the span's chunks are the same; the clip's are not."""
    from sclap_nb.model import active_span

    enc = TemporalAudioEncoder(dim=16, in_channels=3, n_chunks=4, heads=2, ff=16)
    a, b = torch.tensor([1.0, 0.0, 0.0]), torch.tensor([0.0, 1.0, 0.0])
    maps, logmels = [], []
    for start in (4, 30):  # feature-map frames (time reduction 8), 64 frames in all
        fmap = torch.zeros(1, 3, 64, 2)
        fmap[0, :, start : start + 12] = a[:, None, None]
        fmap[0, :, start + 12 : start + 24] = b[:, None, None]
        logmel = torch.full((1, 1, 512, 8), -100.0)
        logmel[0, 0, 8 * start : 8 * (start + 24)] = 0.0
        maps.append(fmap)
        logmels.append(logmel)
    spans = [active_span(lm, 8) for lm in logmels]
    by_span = [enc.chunk(m, s) for m, s in zip(maps, spans)]
    assert torch.allclose(by_span[0], by_span[1], atol=1e-5)
    assert by_span[0][0, 0, 0] == pytest.approx(1.0) and by_span[0][0, 3, 1] == pytest.approx(1.0)  # A first, B last
    by_clip = [enc.chunk(m) for m in maps]
    assert not torch.allclose(by_clip[0], by_clip[1], atol=1e-2)


def test_a_model_with_span_chunks_trains_and_the_default_is_unchanged(text_encoder):
    batch = random_triplet_batch(seconds=2.0)
    torch.manual_seed(0)
    clip = SpatialTemporalCLAP(tiny_config(), text_encoder=text_encoder)
    torch.manual_seed(0)
    span = SpatialTemporalCLAP(tiny_config(temporal_span="active"), text_encoder=text_encoder)
    out_clip, out_span = clip(batch), span(batch)
    assert not torch.allclose(out_clip.e_temporal, out_span.e_temporal)
    total_loss(out_span, batch, epoch=5)["total"].backward()
    assert all(torch.isfinite(p.grad).all() for p in span.temporal_encoder.parameters() if p.grad is not None)
    assert ModelConfig().temporal_span == "clip"


# --------------------------------------------------------------------------- clause pooling of captions


def test_clause_spans_cut_a_caption_into_its_events():
    from sclap_nb.model import clause_spans

    def parts(c):
        return [c[a:b] for a, b in clause_spans(c)]

    assert parts(POS) == ["a violin plays on the left", "then a snare drum rolls behind"]
    timed = ("first bagpipes play behind, then harp strings ring out, moving from the front left to the back, "
             "and while it goes on, a saxophone plays on the right")  # fmt: skip
    assert parts(timed) == ["first bagpipes play behind", "then harp strings ring out, moving from the front left to the back",
                            "and while it goes on, a saxophone plays on the right"]  # fmt: skip
    assert len(parts("first a dog barks, then a bell rings, and finally a car passes")) == 3
    assert len(parts("a dog barks, after which a bell rings")) == 2
    assert parts("a dog barks") == ["a dog barks"]


def test_clause_pooling_gives_each_event_its_own_slot(text_encoder):
    from sclap_nb.model import TextEncoder

    enc = TextEncoder(dim=16, trainable_layers=0, pooling="clauses", segments=3)
    ids = enc.token_clauses(POS)
    tokens = enc.tokenizer.convert_ids_to_tokens(enc.tokenizer(POS)["input_ids"])
    assert ids[0] == -1 and ids[-1] == -1  # [CLS], [SEP]
    assert ids[tokens.index("violin")] == 0 and ids[tokens.index("drum")] == 1 and ids[tokens.index("then")] == 1
    n = len(tokens)
    h = torch.eye(n)[None]  # token i's state is the unit vector e_i: a slot is then its tokens' weights
    slots = enc.pool(h, torch.ones(1, n, dtype=torch.long), [POS]).view(3, n)
    for k in range(2):
        want = (ids == k).float() / (ids == k).sum()
        assert torch.allclose(slots[k], want)
    assert slots[2].abs().sum() == 0  # two clauses, three slots: the last is empty
    with pytest.raises(ValueError, match="pooling must be"):
        TextEncoder(dim=16, pooling="words")


def test_a_model_with_clause_pooling_trains():
    torch.manual_seed(0)
    model = SpatialTemporalCLAP(tiny_config(text_pooling="clauses"))
    batch = random_triplet_batch(seconds=1.0)
    out = model(batch)
    parts = total_loss(out, batch, epoch=5)
    parts["total"].backward()
    assert torch.isfinite(parts["total"]) and model.text_encoder.projection[0].weight.grad.abs().sum() > 0
    # pos and neg_t put the same clauses in the other slots: their embeddings differ
    assert F.cosine_similarity(out.text_comb[0], out.text_comb[1], dim=0) < 0.999


# --------------------------------------------------------------------------- ordered pair readout


def test_ordered_pairs_score_before_against_after():
    from sclap_nb.model import ordered_pairs

    a, b = torch.zeros(1, 20, 4), torch.zeros(1, 20, 4)
    a[0, 2:5, 0], b[0, 10:14, 0] = 1.0, 1.0  # detector 0: a's sound wholly before b's
    a[0, 10:14, 1], b[0, 2:5, 1] = 1.0, 1.0  # detector 1: after
    a[0, 5:9, 2], b[0, 5:9, 2] = 1.0, 1.0  # detector 2: at the same time
    a[0, 3, 3] = 1.0  # detector 3: b never fires
    a[0, 15:19, 0] = 1.0  # and again after b: a mixed order
    r = ordered_pairs(a, b)[0]
    assert r[0] == pytest.approx((3 * 4 - 4 * 4) / (7 * 4))  # 12 pairs before, 16 after, of 28
    assert r[1] == pytest.approx(-1.0) and r[3] == 0.0
    assert r[2] == pytest.approx(0.0, abs=1e-6)  # same frames: as many pairs before as after
    # where and how long do not matter: the same two sounds, later and stretched, score the same
    a2, b2 = torch.zeros(1, 60, 1), torch.zeros(1, 60, 1)
    a2[0, 30:33, 0], b2[0, 50:58, 0] = 2.0, 0.5
    a1, b1 = torch.zeros(1, 20, 1), torch.zeros(1, 20, 1)
    a1[0, 1:2, 0], b1[0, 5:6, 0] = 1.0, 1.0
    assert ordered_pairs(a2, b2)[0, 0] == pytest.approx(1.0) == ordered_pairs(a1, b1)[0, 0]


def test_frame_activity_follows_the_level():
    from sclap_nb.model import frame_activity

    logmel = torch.full((1, 1, 400, 64), -100.0)
    logmel[0, 0, 80:160] = 0.0  # loud
    logmel[0, 0, 240:320] = -15.0  # 15 dB down: half of a 30 dB range
    act = frame_activity(logmel, 50, range_db=30.0)[0]  # 8 input frames a map frame
    assert act.shape == (50,)
    assert act[10:20].tolist() == pytest.approx([1.0] * 10)
    assert act[30:40].tolist() == pytest.approx([0.5] * 10, abs=1e-4)
    assert act[:10].abs().max() == 0 and act[45:].abs().max() == 0


def test_the_ordered_readout_hears_the_order_wherever_the_sounds_are():
    """Two sounds A then B, early or late in a silent clip: the ordered readout gives the same embedding;
    B then A gives another."""
    torch.manual_seed(0)
    enc = TemporalAudioEncoder(dim=16, in_channels=3, n_chunks=4, heads=2, ff=16, dropout=0.0, readout="ordered").eval()
    a, b = torch.tensor([1.0, 0.0, 0.0]), torch.tensor([0.0, 1.0, 0.0])

    def clip(first, second, start, lengths):
        fmap, act = torch.zeros(1, 3, 64, 2), torch.zeros(1, 64)
        s1, s2 = start, start + lengths[0] + 6  # a silent gap between them
        fmap[0, :, s1 : s1 + lengths[0]], fmap[0, :, s2 : s2 + lengths[1]] = first[:, None, None], second[:, None, None]
        act[0, s1 : s1 + lengths[0]], act[0, s2 : s2 + lengths[1]] = 1.0, 1.0
        return fmap, act

    with torch.no_grad():
        out = {}
        for name, (first, second, start, lengths) in {
            "ab_early": (a, b, 2, (5, 9)), "ab_late": (a, b, 30, (5, 9)), "ba_early": (b, a, 2, (5, 9))}.items():
            fmap, act = clip(first, second, start, lengths)
            out[name] = enc(fmap, torch.zeros_like(fmap), 1.0, None, act)
    assert torch.allclose(out["ab_early"], out["ab_late"], atol=1e-5)
    assert not torch.allclose(out["ab_early"], out["ba_early"], atol=1e-3)


@pytest.mark.slow
def test_a_model_with_the_ordered_readout_trains(text_encoder):
    batch = random_triplet_batch(seconds=2.0)
    torch.manual_seed(0)
    model = SpatialTemporalCLAP(tiny_config(temporal_readout="ordered"), text_encoder=text_encoder)
    assert not hasattr(model.temporal_encoder, "transformer")  # no chunks, no Transformer
    opt = torch.optim.SGD(model.parameters(), lr=0.1)
    for _ in range(2):  # the triplet projection's last layer starts at 0: the encoder's gradient flows from step 2
        opt.zero_grad()
        total_loss(model(batch), batch, epoch=5)["total"].backward()
        opt.step()
    grads = [p.grad for p in model.temporal_encoder.parameters()]
    assert all(g is not None and torch.isfinite(g).all() for g in grads)
    assert any(g.abs().sum() > 0 for g in grads)
    with pytest.raises(ValueError, match="readout must be"):
        TemporalAudioEncoder(dim=16, in_channels=3, readout="last")
    with pytest.raises(ValueError, match="temporal_span"):
        ModelConfig(temporal_readout="ordered", temporal_span="active")


def test_path_slots_hold_a_paths_origin_and_destination(text_encoder):
    from sclap_nb.model import TextEncoder, path_spans

    cap = "first a bell rings on the left, then a siren wails, moving from the front left to the back, and finally a dog barks"
    rev = "first a bell rings on the left, then a siren wails, moving from the back to the front left, and finally a dog barks"
    (o0, o1), (d0, d1) = path_spans(cap)
    assert (cap[o0:o1], cap[d0:d1]) == ("the front left", "the back")
    assert path_spans("a dog barks on the left") is None
    enc = TextEncoder(dim=16, trainable_layers=0, pooling="clause_paths", segments=3)
    assert enc.n_slots == 5 and enc.projection[0].in_features == 5 * enc.hidden_size
    tokens = enc.tokenizer.convert_ids_to_tokens(enc.tokenizer(cap)["input_ids"])
    ids = enc.token_clauses(cap)
    assert ids[tokens.index("front")] == 3 and ids[tokens.index("back")] == 4  # origin, destination
    assert ids[tokens.index("siren")] == 1 and ids[tokens.index("moving")] == 1 and ids[tokens.index("dog")] == 2
    # a path and its reverse: the same words, the origin and destination slots exchanged
    n = len(tokens)
    h = torch.eye(n)[None]
    a = enc.pool(h, torch.ones(1, n, dtype=torch.long), [cap]).view(5, n)
    rev_ids = enc.token_clauses(rev)
    rev_tokens = enc.tokenizer.convert_ids_to_tokens(enc.tokenizer(rev)["input_ids"])
    assert sorted(rev_tokens) == sorted(tokens) and rev_ids[rev_tokens.index("back")] == 3
    assert a[3, tokens.index("front")] > 0 and a[4, tokens.index("front")] == 0
    # without a path the two extra slots stay empty; plain clause pooling is unchanged
    plain = "first a bell rings on the left, then a dog barks behind"
    m = len(enc.tokenizer(plain)["input_ids"])
    assert enc.pool(torch.eye(m)[None], torch.ones(1, m, dtype=torch.long), [plain]).view(5, m)[3:].abs().sum() == 0
    old = TextEncoder(dim=16, trainable_layers=0, pooling="clauses", segments=3)
    assert old.n_slots == 3 and (old.token_clauses(cap)[[tokens.index("front"), tokens.index("back")]] == 1).all()


def test_a_model_with_path_slots_tells_a_path_from_its_reverse():
    torch.manual_seed(0)
    model = SpatialTemporalCLAP(tiny_config(text_pooling="clause_paths"))
    caps = ["a siren wails, moving from the left to the front", "a siren wails, moving from the front to the left"]
    emb = model.encode_text(caps)
    assert F.cosine_similarity(emb[0], emb[1], dim=0) < 0.999
    emb.sum().backward()
    assert model.text_encoder.projection[0].weight.grad.abs().sum() > 0


def test_segment_tokens_reads_the_slots_of_clause_pooling(text_encoder):
    from sclap_nb.model import TextEncoder
    from sclap_nb.text_probe import segment_tokens

    enc = TextEncoder(dim=16, trainable_layers=0, pooling="clause_paths", segments=2)
    slots = segment_tokens(enc, "a bell rings on the left, then a siren wails, moving from the front to the back")
    assert len(slots) == 4 and slots[2] == ["the", "front"] and slots[3] == ["the", "back"]
    assert "bell" in slots[0] and "siren" in slots[1] and "front" not in slots[1]

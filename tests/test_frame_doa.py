"""The frame-wise DOA head (``model.doa_pooling`` frames, ACCDOA): its targets are where the rendered audio says
the sounds are, frame by frame; its loss, its per-event read-outs and its metrics do what they say."""

from __future__ import annotations

import math

import numpy as np
import pytest
import soundfile as sf
import torch
import torch.nn.functional as F

from conftest import TINY_MODEL, tiny_config
from sclap_nb.api import BadAudio, load
from sclap_nb.data import build_corpus, read_metadata
from sclap_nb.data.dataset import StClothoDataset, collate_groups, event_array, event_rows
from sclap_nb.evaluation import embed_split, evaluation_metrics, frame_directions
from sclap_nb.export import export_model
from sclap_nb.features import FeatureConfig, FOAFeatures
from sclap_nb.losses import frame_doa_loss, frame_targets, total_loss
from sclap_nb.model import ModelConfig, SpatialTemporalCLAP, event_directions

SR = 16000


def _unit(az_deg, el_deg=0.0):
    az, el = math.radians(az_deg), math.radians(el_deg)
    return torch.tensor([math.cos(az) * math.cos(el), math.sin(az) * math.cos(el), math.sin(el)])


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    return build_corpus(tmp_path_factory.mktemp("frames") / "c", 0, 0, 8, seed=5, clip_seconds=4.0, anechoic=True,
                        layout="timed", progress=False)  # fmt: skip


@pytest.fixture(scope="module")
def model():
    return SpatialTemporalCLAP(ModelConfig(**TINY_MODEL, doa_pooling="frames")).eval()


def test_targets_follow_each_event_in_time():
    times = torch.arange(40) * 0.1 + 0.05  # 4 s
    events = torch.tensor([[[0.5, 1.0, 90.0, 90.0, 0.0],     # static, on the left, 0.5-1.5 s
                            [2.0, 1.0, 170.0, -100.0, 0.0],  # moving 170 -> 260 = -100 (the short way, +90)
                            [0.0, 0.0, 0.0, 0.0, 0.0]]])  # padding  # fmt: skip
    target, active = frame_targets(events, times)
    assert active[0, 0].nonzero().flatten().tolist() == list(range(5, 15))
    assert active[0, 1].nonzero().flatten().tolist() == list(range(20, 30)) and not active[0, 2].any()
    assert torch.allclose(target[0, 5], _unit(90), atol=1e-6)
    assert target[0, :5].abs().max() == 0 and target[0, 15:20].abs().max() == 0 and target[0, 30:].abs().max() == 0
    az = torch.rad2deg(torch.atan2(target[0, 20:30, 1], target[0, 20:30, 0]))
    expected = torch.remainder(170.0 + 90.0 * (times[20:30] - 2.0) + 180, 360) - 180
    assert torch.allclose(torch.remainder(az - expected + 180, 360) - 180, torch.zeros(10), atol=1e-3)


def test_the_loss_is_zero_on_its_targets_and_leaves_out_overlaps():
    times = torch.arange(40) * 0.1 + 0.05
    events = torch.tensor([[[0.5, 1.5, 90.0, 90.0, 0.0], [1.5, 1.0, -30.0, -30.0, 10.0]]])  # overlap 1.5-2.0 s
    target, active = frame_targets(events, times)
    assert frame_doa_loss(target[None][0], events, times).item() == 0.0
    overlap = active.sum(1)[0] == 2
    assert overlap.sum() == 5
    changed = target.clone()
    changed[0, overlap] = torch.tensor([0.3, -0.7, 0.2])  # anything on the overlapping frames
    assert frame_doa_loss(changed, events, times).item() == 0.0
    changed[0, 0] = torch.tensor([0.5, 0.0, 0.0])  # a silent frame that says something sounds
    assert frame_doa_loss(changed, events, times).item() == pytest.approx(0.25 / 35)


def test_event_directions_read_the_sounding_frames_in_time_order():
    frames = torch.zeros(1, 40, 3)
    frames[0, 4:10] = 0.9 * _unit(120)
    frames[0, 25:31] = 0.8 * _unit(-45, 20)
    frames[0, 12:20] = 0.2 * _unit(0)  # below the threshold: not a sound
    got = event_directions(frames, 2)
    assert torch.allclose(got[0, 0], _unit(120), atol=1e-5) and torch.allclose(got[0, 1], _unit(-45, 20), atol=1e-5)
    turning = torch.zeros(1, 40, 3)
    turning[0, 5:15] = _unit(90)
    turning[0, 15:25] = _unit(-20)  # one run that turns by 110 deg: two events
    turning[0, 30] = _unit(180)  # a single frame: not an event
    got = event_directions(turning, 2)
    assert torch.allclose(got[0, 0], _unit(90), atol=1e-5) and torch.allclose(got[0, 1], _unit(-20), atol=1e-5)
    one = torch.zeros(1, 40, 3)
    one[0, 10:20] = _unit(0)
    one[0, 20:30] = _unit(20)  # turns by less than 30 deg: one run, cut into halves of equal length
    got = event_directions(one, 2)
    assert torch.allclose(got[0, 0], _unit(0), atol=1e-5) and torch.allclose(got[0, 1], _unit(20), atol=1e-5)
    quiet = event_directions(torch.full((1, 10, 3), 0.01), 2)  # nothing sounds: still unit vectors
    assert torch.allclose(quiet.norm(dim=-1), torch.ones(1, 2))


def test_frame_directions_read_each_event_on_its_own_frames():
    times = torch.arange(40) * 0.1 + 0.05
    events = torch.tensor([[[0.5, 1.5, 90.0, 90.0, 0.0], [1.5, 1.0, -30.0, -30.0, 10.0], [3.0, 0.5, 180, 180, 0]]])
    target, active = frame_targets(events, times)
    frames = target.clone()
    frames[0, 15:20] = 0.9 * _unit(0)  # the overlap says something else: not read
    directions, err = frame_directions(frames, times, events)
    assert torch.allclose(directions[0, 0], _unit(90), atol=1e-5)
    assert torch.allclose(directions[0, 1], _unit(-30, 10), atol=1e-5)
    assert err[0, 0].item() == pytest.approx(0.0, abs=1e-3) and err[0, 1].item() == 10 + 5 + 5  # frames alone
    frames[0, 5:10] = _unit(0)  # event 1 now points ahead on half its solo frames
    directions, err = frame_directions(frames, times, events)
    assert math.degrees(math.acos(float(directions[0, 0] @ _unit(90)))) == pytest.approx(45.0, abs=1e-3)
    assert err[0, 0].item() == pytest.approx(5 * 90.0, abs=1e-2)


def test_event_rows_of_both_layouts(corpus, tiny_corpus):
    r = read_metadata(corpus, "test")[0]
    assert [e[0] for e in event_rows(r)] == [e["onset"] for e in r["events"]]
    moving = [e for e, m in zip(event_rows(r), r["events"]) if m["moving"]]
    assert len(moving) == 1 and moving[0][2] != moving[0][3]  # start and end azimuth
    halves = read_metadata(tiny_corpus, "test")
    arr = event_array(halves)
    assert arr.shape == (len(halves), 2, 5) and np.allclose(arr[:, :, 2], [[h["azimuth_1"], h["azimuth_2"]] for h in halves], atol=1e-3)
    ds = StClothoDataset(corpus, "test", roles="all")
    assert ds[0]["events"].shape[0] == 5 and ds[0]["events"].shape[2] == 5


def test_targets_are_where_the_rendered_audio_says_the_sounds_are(corpus, model):
    """The intensity vector of the rendered FOA audio, over each frame of the CNN's map (``model.frame_times``),
    points where :func:`frame_targets` says, on the frames where one event sounds (anechoic: no reflections);
    the same targets half a second late do not."""
    fe = FOAFeatures(FeatureConfig(sample_rate=SR)).eval()
    r_ = model.doa_encoder.time_reduction
    errors, late = [], []
    for row in read_metadata(corpus, "test"):
        audio = sf.read(str(corpus / row["file"]), dtype="float32", always_2d=True)[0].T
        with torch.no_grad():
            _, liv = fe(torch.from_numpy(np.ascontiguousarray(audio[None])))
        power = liv[0, 0].exp()[:, :, None]  # weigh the bands by their level
        iv = (liv[0, 4:7].permute(1, 2, 0) * power).sum(1)  # (T, 3): (x, y, z) per input frame
        n = iv.shape[0] // r_
        per_map = F.normalize(iv[: n * r_].reshape(n, r_, 3).sum(1), dim=-1)
        times = model.frame_times(n)
        events = torch.from_numpy(event_array([row]))
        for shift, out in ((0.0, errors), (0.5, late)):
            target, active = frame_targets(events, times - shift)
            alone = active.sum(1)[0] == 1
            # frames of one event, away from its ends (the map frame spans 80 ms)
            inner = alone & (frame_targets(events, times - shift - 0.08)[1].sum(1)[0] == 1) & (
                frame_targets(events, times - shift + 0.08)[1].sum(1)[0] == 1)
            cos = (per_map[inner] * target[0, inner]).sum(-1).clamp(-1, 1)
            out.extend(torch.rad2deg(torch.acos(cos)).tolist())
    errors, late = np.array(errors), np.array(late)
    assert len(errors) > 8 * 5 * 10
    assert np.median(errors) < 3.0 and np.percentile(errors, 90) < 10.0, (np.median(errors), np.percentile(errors, 90))
    assert np.median(late) > 20.0  # the check can fail: the same targets 0.5 s late are far off


def test_a_frame_head_trains_and_reports_its_three_errors(corpus):
    cfg = tiny_config("main", {"model.doa_pooling": "frames", "loss.w_class": 0.0, "data.sounds": "soundfont"})
    model = SpatialTemporalCLAP(cfg.model)
    ds = StClothoDataset(corpus, "test", roles="all", features=cfg.model.features)
    batch = collate_groups([ds[i] for i in range(4)])
    out = model(batch)
    assert out.doa_frames.shape == (20, 50, 3) and out.doa.shape == (20, 2, 3) and out.doa_times.shape == (50,)
    parts = total_loss(out, batch, epoch=0, cfg=cfg.loss)
    assert parts["loss_doa"].item() == pytest.approx(frame_doa_loss(out.doa_frames, batch["events"], out.doa_times).item())
    parts["total"].backward()
    assert model.doa_head[0].weight.grad.abs().sum() > 0
    with pytest.raises(ValueError, match="needs 'events'"):
        total_loss(model(batch), {k: v for k, v in batch.items() if k != "events"}, epoch=0, cfg=cfg.loss)
    loader = torch.utils.data.DataLoader(ds, batch_size=4, collate_fn=collate_groups)
    metrics = evaluation_metrics(embed_split(model, loader), full=False)
    assert {"LE_deg", "LE_blind_deg", "LE_frames_deg"} <= set(metrics)
    assert all(0.0 <= metrics[k] <= 180.0 for k in ("LE_deg", "LE_blind_deg", "LE_frames_deg"))


def test_the_api_tracks_a_frame_head_and_refuses_other_heads(tmp_path, recwarn):
    torch.manual_seed(0)
    frames_model = SpatialTemporalCLAP(ModelConfig(**TINY_MODEL, doa_pooling="frames")).eval()
    with torch.no_grad():  # a head that answers "left, as loud as the input" on every frame
        head = frames_model.doa_head[-1]
        head.weight.zero_()
        head.bias.copy_(torch.tensor([0.0, 3.0, 0.0]))
    api = load(export_model(frames_model, tmp_path / "frames", clip_seconds=2.0), device="cpu")
    rng = np.random.default_rng(0)
    wave = (0.1 * rng.standard_normal((1, 2 * SR)) * np.array([[1.0], [1.0], [0.0], [0.0]])).astype(np.float32)
    silent = np.zeros((4, 2 * SR), np.float32)
    (track,) = api.track(wave)
    assert track.times.shape == track.azimuth.shape == track.activity.shape == (25,)
    assert np.allclose(np.diff(track.times), 0.08) and track.times[0] == pytest.approx(0.035)
    assert np.allclose(track.azimuth, 90.0, atol=1e-3) and track.sounding().all()
    with pytest.raises(BadAudio, match="silent"):
        api.track([wave, silent])
    assert len(api.track([wave, silent], skip_bad=True)) == 1
    halves = load(export_model(SpatialTemporalCLAP(ModelConfig(**TINY_MODEL)).eval(), tmp_path / "halves", clip_seconds=2.0))
    with pytest.raises(ValueError, match="each half of the clip.*--model.doa_pooling frames"):
        halves.track(wave)

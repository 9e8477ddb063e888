"""FOA-to-stereo decoding and the kernel-free widgets of sclap_nb.widgets."""

from __future__ import annotations

import io

import ipywidgets as w
import numpy as np
import pytest
import soundfile as sf
import torch

from sclap_nb.data.spatial import doa_vector, foa_gains
from sclap_nb.widgets import audio_bytes, cardioid_level_difference_db, foa_to_stereo


def plane_wave(az_deg: float, el_deg: float = 0.0, n: int = 16000, seed: int = 0) -> np.ndarray:
    """Noise from (az, el), encoded with the corpus's own FOA gains (W, Y, Z, X; SN3D)."""
    s = np.random.default_rng(seed).standard_normal(n) * 0.1
    return foa_gains(doa_vector(az_deg, el_deg))[:, None] * s[None]


def level_db(x: np.ndarray) -> float:
    return 10 * np.log10(np.mean(x.astype(np.float64) ** 2))


def test_source_on_the_left_is_in_the_left_channel_only():
    foa = plane_wave(+90)
    left, right = foa_to_stereo(foa)
    np.testing.assert_allclose(left, foa[0], atol=1e-6)  # on axis: the left cardioid passes it unchanged
    assert np.abs(right).max() < 1e-6  # the right cardioid's null points at +90 degrees
    left, right = foa_to_stereo(plane_wave(-90))
    assert np.abs(left).max() < 1e-6 and level_db(right) > -30


@pytest.mark.parametrize("az", [0.0, 30.0, 60.0, -45.0, 120.0, 180.0])
def test_level_difference_is_the_cardioids(az):
    """Left minus right level = 20 log10((1 + sin az) / (1 - sin az)) for cardioids at +-90 degrees."""
    left, right = foa_to_stereo(plane_wave(az))
    expected = 20 * np.log10((1 + np.sin(np.deg2rad(az))) / (1 - np.sin(np.deg2rad(az))))
    assert level_db(left) - level_db(right) == pytest.approx(expected, abs=0.01)
    assert cardioid_level_difference_db(az) == pytest.approx(expected, abs=1e-9)
    # +30 degrees: 0.75 against 0.25 of the signal, 9.54 dB
    if az == 30.0:
        assert expected == pytest.approx(20 * np.log10(3), abs=1e-9)


def test_front_and_back_are_centred_and_elevation_lowers_the_difference():
    for az in (0.0, 180.0):
        left, right = foa_to_stereo(plane_wave(az))
        np.testing.assert_allclose(left, right, atol=1e-7)
    flat = np.subtract(*[level_db(c) for c in foa_to_stereo(plane_wave(60, 0))])
    raised = np.subtract(*[level_db(c) for c in foa_to_stereo(plane_wave(60, 45))])
    assert 0 < raised < flat


def test_decoder_shapes_and_torch_input():
    batch = torch.from_numpy(np.stack([plane_wave(30), plane_wave(-30)])).float()  # (2, 4, S)
    out = foa_to_stereo(batch)
    assert out.shape == (2, 2, 16000) and out.dtype == np.float32
    np.testing.assert_allclose(out[0, 0], out[1, 1], atol=1e-6)  # mirror images
    with pytest.raises(ValueError):
        foa_to_stereo(np.zeros((3, 100)))
    with pytest.raises(ValueError):
        foa_to_stereo(plane_wave(0), pattern=1.5)


def test_audio_bytes_is_lossless_16_bit_flac():
    stereo = foa_to_stereo(plane_wave(45))
    data = audio_bytes(stereo, 16000)
    assert data[:4] == b"fLaC"
    back, rate = sf.read(io.BytesIO(data), dtype="float64")
    assert rate == 16000 and back.shape == (16000, 2)
    np.testing.assert_allclose(back.T, stereo, atol=1 / 32767)
    with pytest.raises(ValueError, match="clip"):
        audio_bytes(stereo * 100, 16000)


def test_scene_picker_links_dropdown_to_panels_in_the_browser():
    from sclap_nb.widgets import image_slider, scene_picker

    sound = audio_bytes(foa_to_stereo(plane_wave(90, n=1600)), 16000)
    picker = scene_picker({"scene 0": [("pos", sound, "a dog barks on the left")],
                           "scene 1": [("pos", sound, "a bell <rings>"), ("neg_t", sound, "x")]})
    dropdown, stack = picker.children
    assert isinstance(dropdown, w.Dropdown) and isinstance(stack, w.Stack)
    assert dropdown.options == ("scene 0", "scene 1") and stack.selected_index == 0
    assert [len(p.children) for p in stack.children] == [1, 2]
    label, player, caption = stack.children[1].children[0].children
    assert isinstance(player, w.Audio) and player.format == "flac" and player.value == sound
    assert caption.value == "a bell &lt;rings&gt;"  # captions are escaped, not HTML
    from ipywidgets.widgets.widget import _instances
    from ipywidgets.widgets.widget_link import Link

    links = [x for x in _instances.values() if isinstance(x, Link)
             and x.source == (dropdown, "index") and x.target == (stack, "selected_index")]
    assert links, "the dropdown is not jslinked to the stack"
    slider = image_slider({0.1: b"png0", 1.0: b"png1"}, description="λ", value=1.0)
    control, images = slider.children
    assert control.index == 1 and images.selected_index == 1
    with pytest.raises(ValueError):
        image_slider({})


def test_executed_notebook_keeps_the_widget_state_its_outputs_need():
    """scripts/execute_notebooks.py keeps the models shown, those they reference and the links between
    them; it drops widgets never shown, and refuses a shown widget without state."""
    import sys
    from pathlib import Path

    import nbformat

    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "scripts"))
    from execute_notebooks import WIDGET_STATE, WIDGET_VIEW, prune_widget_state

    def model(name, **state):
        return {"model_name": name, "model_module": "@jupyter-widgets/controls", "model_module_version": "2.0.0",
                "state": state}

    state = {
        "box": model("VBoxModel", children=["IPY_MODEL_menu", "IPY_MODEL_stack"], layout="IPY_MODEL_lay"),
        "menu": model("DropdownModel", layout="IPY_MODEL_lay"),
        "stack": model("StackModel", children=[], layout="IPY_MODEL_lay"),
        "lay": model("LayoutModel"),
        "link": model("LinkModel", source=["IPY_MODEL_menu", "index"], target=["IPY_MODEL_stack", "selected_index"]),
        "unseen": model("DropdownModel", layout="IPY_MODEL_lay2"),
        "lay2": model("LayoutModel"),
    }
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell(outputs=[nbformat.v4.new_output(
        "display_data", data={"text/plain": "VBox()", WIDGET_VIEW: {"version_major": 2, "version_minor": 0, "model_id": "box"}})])]
    nb.metadata["widgets"] = {WIDGET_STATE: {"version_major": 2, "version_minor": 0, "state": dict(state)}}
    assert prune_widget_state(nb) == (5, 7)
    assert set(nb.metadata["widgets"][WIDGET_STATE]["state"]) == {"box", "menu", "stack", "lay", "link"}

    nb.cells[0].outputs[0].data[WIDGET_VIEW]["model_id"] = "gone"
    with pytest.raises(RuntimeError, match="gone"):
        prune_widget_state(nb)
    nb.cells[0].outputs = []
    assert prune_widget_state(nb)[0] == 0 and "widgets" not in nb.metadata

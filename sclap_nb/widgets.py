"""Widgets that work in JupyterLab and on the book's static pages, and FOA-to-stereo decoding.

A static page has no kernel: a widget whose callback runs Python (``ipywidgets.interact``) shows
whatever it showed when the chapter was executed and never changes again. The widgets here need no
callback. Every choice is prebuilt as a panel, the panels sit in an ``ipywidgets.Stack``, and the
control (a ``Dropdown`` or a ``SelectionSlider``) is linked to the stack's ``selected_index`` in the
browser (``ipywidgets.jslink``). The executed notebook stores the state of every widget (nbclient's
``store_widget_state``; ``scripts/execute_notebooks.py``), the book embeds that state with the
widget manager served from its own ``_static/widgets`` folder, and the link switches the panels on
the page exactly as it does in a live notebook.

Audio: a corpus clip is 4-channel first-order ambisonics (ACN/SN3D, channels ``W, Y, Z, X``;
azimuth 0 = front, +90 = left; ``sclap_nb.data.spatial``). Headphones need two channels:
:func:`foa_to_stereo` points two virtual first-order microphones (cardioids by default) at
``+azimuth`` (left) and ``-azimuth`` (right) in the horizontal plane. A plane wave from azimuth
``theta`` (elevation 0) reaches the left cardioid at ``90`` degrees with gain
``(1 + sin theta) / 2`` and the right one with ``(1 - sin theta) / 2``: a source at +90 degrees is
in the left channel only, one in front is equally loud in both (:func:`cardioid_level_difference_db`).
"""

from __future__ import annotations

import html
import io
from collections.abc import Sequence

import numpy as np

from .viz import PALETTE, ROLE_PALETTE

__all__ = [
    "foa_to_stereo",
    "cardioid_level_difference_db",
    "audio_bytes",
    "audio_row",
    "linked_stack",
    "scene_picker",
    "figure_png",
    "image_slider",
    "plot_directions_by_class",
]

#: ACN/SN3D first-order channel order of the corpus (``sclap_nb.data.spatial``)
W, Y, Z, X = 0, 1, 2, 3


def foa_to_stereo(wave, azimuth_deg: float = 90.0, pattern: float = 0.5) -> np.ndarray:
    """Decode FOA ``(..., 4, S)`` (``W, Y, Z, X``; ACN/SN3D) to stereo ``(..., 2, S)``: left, right.

    Each channel is a virtual first-order microphone in the horizontal plane,
    ``pattern * W + (1 - pattern) * (cos(phi) X + sin(phi) Y)``, aimed at ``phi = +azimuth_deg``
    (left) and ``-azimuth_deg`` (right). ``pattern`` 0.5 is a cardioid (unit gain on axis, a null
    behind), 1 an omni, 0 a figure-of-eight. Accepts numpy arrays or torch tensors; returns float32.
    """
    if not 0.0 <= pattern <= 1.0:
        raise ValueError(f"pattern must be in [0, 1], got {pattern}")
    w = np.asarray(wave.detach().cpu() if hasattr(wave, "detach") else wave, dtype=np.float64)
    if w.ndim < 2 or w.shape[-2] != 4:
        raise ValueError(f"foa_to_stereo needs (..., 4, S) FOA, got shape {w.shape}")
    phi = np.deg2rad(azimuth_deg)
    front, side = np.cos(phi) * w[..., X, :], np.sin(phi) * w[..., Y, :]
    left = pattern * w[..., W, :] + (1 - pattern) * (front + side)
    right = pattern * w[..., W, :] + (1 - pattern) * (front - side)
    return np.stack([left, right], axis=-2).astype(np.float32)


def cardioid_level_difference_db(source_azimuth_deg: float, azimuth_deg: float = 90.0, pattern: float = 0.5) -> float:
    """Left minus right level (dB) of :func:`foa_to_stereo` for a plane wave from
    ``source_azimuth_deg`` in the horizontal plane (``inf`` where the right microphone has its null)."""
    theta, phi = np.deg2rad(source_azimuth_deg), np.deg2rad(azimuth_deg)
    gl = pattern + (1 - pattern) * np.cos(theta - phi)
    gr = pattern + (1 - pattern) * np.cos(theta + phi)
    if abs(gr) < 1e-12:
        return float("inf")
    if abs(gl) < 1e-12:
        return float("-inf")
    return float(20 * np.log10(abs(gl) / abs(gr)))


def audio_bytes(stereo, sample_rate: int, fmt: str = "flac") -> bytes:
    """``(C, S)`` samples in [-1, 1] as a 16-bit FLAC (or WAV) file in memory. Samples beyond +-1
    are an error (they would clip), not silently limited."""
    import soundfile as sf

    x = np.asarray(stereo, dtype=np.float64)
    if x.ndim == 1:
        x = x[None]
    peak = float(np.abs(x).max()) if x.size else 0.0
    if peak > 1.0:
        raise ValueError(f"audio_bytes: peak {peak:.3f} > 1 would clip; scale the signal first")
    buf = io.BytesIO()
    kwargs = {"compression_level": 1.0} if fmt.lower() == "flac" else {}
    sf.write(buf, x.T, int(sample_rate), format=fmt.upper(), subtype="PCM_16", **kwargs)
    return buf.getvalue()


def audio_row(label: str, sound: bytes, caption: str, fmt: str = "flac"):
    """One line: a bold ``label``, an audio player of ``sound`` (encoded bytes) and ``caption``."""
    import ipywidgets as w

    return w.HBox(
        [
            w.HTML(f"<b>{html.escape(label)}</b>", layout=w.Layout(width="4.5em", flex="0 0 auto")),
            w.Audio(value=sound, format=fmt, autoplay=False, loop=False, controls=True,
                    layout=w.Layout(width="300px", flex="0 0 auto")),
            w.HTML(html.escape(caption), layout=w.Layout(flex="1 1 auto", margin="0 0 0 0.8em")),
        ],
        layout=w.Layout(align_items="center"),
    )


def linked_stack(control, panels: Sequence):
    """``VBox([control, Stack(panels)])`` with the control's ``index`` linked to the stack's
    ``selected_index`` in the browser: picking option ``i`` shows ``panels[i]``, with or without a
    kernel. ``control`` is any selection widget (``Dropdown``, ``SelectionSlider``, ...) with
    ``len(panels)`` options."""
    import ipywidgets as w

    if len(control.options) != len(panels):
        raise ValueError(f"linked_stack: {len(control.options)} options but {len(panels)} panels")
    stack = w.Stack(list(panels), selected_index=control.index)
    w.jslink((control, "index"), (stack, "selected_index"))
    return w.VBox([control, stack])


def scene_picker(scenes: dict[str, Sequence[tuple[str, bytes, str]]], description: str = "scene", fmt: str = "flac"):
    """A dropdown of scenes (``scenes``: label -> its clips as ``(role, encoded audio, caption)``);
    the chosen scene's clips are shown one per line, each with its player and caption."""
    import ipywidgets as w

    labels = list(scenes)
    if not labels:
        raise ValueError("scene_picker needs at least one scene")
    panels = [w.VBox([audio_row(role, sound, caption, fmt) for role, sound, caption in scenes[k]]) for k in labels]
    control = w.Dropdown(options=labels, index=0, description=description, layout=w.Layout(width="32em"))
    return linked_stack(control, panels)


def figure_png(fig, dpi: int = 80) -> bytes:
    """A matplotlib figure as PNG bytes (closed afterwards, so it is not also shown)."""
    import matplotlib.pyplot as plt

    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=dpi, bbox_inches="tight", metadata={"Software": None})
    plt.close(fig)
    return buf.getvalue()


def image_slider(images: dict, description: str = "", value=None, width: str = "100%"):
    """A slider over the keys of ``images`` (key -> PNG bytes) that shows the key's image;
    ``value`` is the key shown first (default: the first)."""
    import ipywidgets as w

    keys = list(images)
    if not keys:
        raise ValueError("image_slider needs at least one image")
    value = keys[0] if value is None else value
    control = w.SelectionSlider(options=keys, value=value, description=description, continuous_update=True,
                                layout=w.Layout(width="32em"))
    panels = [w.Image(value=images[k], format="png", layout=w.Layout(width=width, height="auto")) for k in keys]
    return linked_stack(control, panels)


def plot_directions_by_class(
    azimuths, energies, hop_seconds: float, events: Sequence[Sequence[tuple]], titles: Sequence[str],
    floor: float = 0.01, palette: dict | None = None,
):
    """Per-frame intensity-vector azimuth of each clip (one panel each), coloured by the sound class
    that plays in that frame (grey: between the events), against each event's labelled azimuth over
    its span (a line of the class's colour). A class keeps its colour in every panel.

    ``azimuths`` and ``energies`` are ``(n_clips, T)`` (energy normalised to peak 1; frames below
    ``floor`` hidden, the others' opacity grows with energy); ``events[j]`` lists
    ``(onset_s, duration_s, azimuth_deg, class)`` of clip ``j``; ``palette``: class -> colour
    (default: blue, vermilion, then the rest of the book's palette, in order of appearance; these stay
    apart from the role colours of the panel titles and from each other, which the 35 fixed class
    colours of :func:`sclap_nb.viz.class_palette` do not always do for two given classes)."""
    import matplotlib.pyplot as plt

    az, en = np.asarray(azimuths, dtype=float), np.asarray(energies, dtype=float)
    classes = list(dict.fromkeys(c for clip in events for *_, c in clip))
    order = [0, 3, 8, 9, 6, 7]
    colours = palette or {c: PALETTE[order[i % len(order)]] for i, c in enumerate(classes)}
    t = np.arange(az.shape[1]) * hop_seconds
    fig, axes = plt.subplots(1, len(titles), figsize=(3.3 * len(titles), 3.1), sharey=True, squeeze=False)
    for j, ax in enumerate(axes[0]):
        who = np.full(len(t), "", dtype=object)
        for onset, duration, _, cls in events[j]:
            who[(t >= onset) & (t < onset + duration)] = cls
        keep = en[j] >= floor
        alpha = np.clip(0.15 + 0.85 * np.sqrt(en[j]), 0, 1)
        for cls in ["", *classes]:
            sel = keep & (who == cls)
            if sel.any():
                ax.scatter(t[sel], az[j][sel], s=7, lw=0, alpha=alpha[sel], color=colours.get(cls, "0.6"))
        for onset, duration, a, cls in events[j]:
            ax.hlines(a, onset, onset + duration, color=colours[cls], lw=3)
        ax.set_ylim(-185, 185)
        ax.set_yticks([-180, -90, 0, 90, 180])
        ax.set_title(titles[j], color=ROLE_PALETTE.get(titles[j], "black"))
        ax.set_xlabel("time (s)")
    axes[0, 0].set_ylabel("azimuth (°, +90 = left)")
    handles = [plt.Line2D([], [], color=colours[c], lw=3, label=c) for c in classes]
    handles.append(plt.Line2D([], [], color="0.6", marker="o", lw=0, label="between events"))
    fig.legend(handles=handles, loc="upper center", ncol=len(handles), frameon=False, bbox_to_anchor=(0.5, 1.06))
    fig.tight_layout()
    return fig

"""A picture of the model, drawn from code: :func:`draw_model`, and its highlighted parts.

The drawing follows :class:`sclap_nb.model.SpatialTemporalCLAP` and :func:`sclap_nb.losses.total_loss`:
the dual-branch audio encoder (a semantic branch on the omni log-mel, a spatial branch on the four
log-mels and the three intensity vectors, summed into E_joint with a learned weight w), the DOA head,
the TemporalAudioEncoder over time chunks of both branches' feature maps, the fusion of E_joint and
E_temporal into the triplet embedding, the text encoder, the modality classifier behind the gradient
reversal layer, and the losses (L_sCL / L_CL, L_ts, L_doa, L_mod).

``draw_model(highlight="temporal")`` draws the same picture with one part in colour and the rest
faded (:data:`PARTS` names them); each chapter opens with the part it is about. The files::

    python -m sclap_nb.diagram figures      # figures/model.png, model.svg, model_<part>.png
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import matplotlib as mpl
import matplotlib.pyplot as plt
from matplotlib.patches import FancyArrowPatch, FancyBboxPatch

from .files import atomic_write
from .viz import BOOK_DPI, MIN_FONT_KEY, PALETTE, smallest_font_pt

__all__ = ["BOXES", "PARTS", "draw_model", "save_model_figures", "main"]

FONT_PT = 10.5  # every label of the drawing (the book's figures show no text under 10 pt)
WIDTH, HEIGHT = 148.0, 62.0  # drawing units, 10 to the inch


@dataclass(frozen=True)
class Box:
    x: float  # centre
    y: float
    w: float
    h: float
    text: str
    kind: str  # "input", "feature", "module", "embedding", "loss"

    def side(self, side: str, at: float | None = None) -> tuple[float, float]:
        """A point on the ``side`` ("l", "r", "t", "b") of the box; ``at``: its y (l, r) or x (t, b)."""
        if side in "lr":
            return (self.x - self.w / 2 if side == "l" else self.x + self.w / 2, self.y if at is None else at)
        return (self.x if at is None else at, self.y + self.h / 2 if side == "t" else self.y - self.h / 2)


_KIND_COLOUR = {
    "input": PALETTE[7],  # grey
    "feature": PALETTE[2],  # green
    "module": PALETTE[0],  # blue
    "embedding": PALETTE[4],  # purple
    "loss": PALETTE[3],  # red-orange
}

#: every box of the drawing: name -> Box (centre x, y, width, height in drawing units)
BOXES: dict[str, Box] = {
    # inputs
    "foa": Box(8, 50, 13, 8, "FOA clip\nW, Y, Z, X", "input"),
    "caption": Box(9, 6, 15, 8, "captions\nspatial, plain", "input"),
    # features
    "logmel": Box(28.5, 56, 21, 7, "log-mel of W\n(omni)", "feature"),
    "logmeliv": Box(28.5, 44, 21, 7, "4 log-mels +\n3 intensity vectors", "feature"),
    # the two branches and their sum
    "semantic": Box(50.5, 56, 19.5, 7, "semantic branch\nCNN", "module"),
    "spatial": Box(50.5, 44, 19.5, 7, "spatial branch\nCNN", "module"),
    "joint": Box(77, 50, 23.5, 7, "E_joint = P_sed(sed)\n+ w ⊙ P_doa(doa)", "embedding"),
    "doa_head": Box(50.5, 32, 19.5, 7, "DOA head\none per time half", "module"),
    # the temporal path
    "temporal": Box(78.75, 32, 29, 9, "TemporalAudioEncoder\n4 time chunks → tokens\n+ positions → Transformer", "module"),
    "triplet": Box(105.5, 41, 20, 7, "triplet embedding\nP[E_joint; E_temp]", "embedding"),
    # text
    "text_encoder": Box(33.5, 6, 28.5, 8, "text encoder (MiniLM-L6,\ntop layer tuned,\n4 segment means)", "module"),
    "e_text": Box(60, 6, 11, 6, "E_text", "embedding"),
    # gradient reversal and the modality classifier
    "grl": Box(92, 20, 20.5, 6, "GRL\n(× −λ backwards)", "module"),
    "modality": Box(114, 20, 21.5, 6, "modality classifier\naudio or text?", "module"),
    # losses
    "l_cl": Box(135, 56, 17, 7, "L_sCL / L_CL\nInfoNCE", "loss"),
    "l_ts": Box(135, 41, 17, 9, "L_ts, 3-/4-way:\npos vs neg_t,\nneg_s (, neg_c)", "loss"),
    "l_doa": Box(50.5, 20, 19.5, 6, "L_doa\nangle error", "loss"),
    "l_mod": Box(135, 20, 17, 6, "L_mod\nBCE", "loss"),
}
_B = BOXES
_BUS_MAPS_X = 62.5  # the two branches' feature maps go down this line to the temporal encoder
_BUS_TEXT_X = 146.0  # the caption embedding goes up this line to the contrastive losses

#: arrows: (from, to, route: the points of the line, the last one where the head is)
_ARROWS: list[tuple[str, str, list[tuple[float, float]]]] = [
    ("foa", "logmel", [_B["foa"].side("r"), (16.5, 50), (16.5, 56), _B["logmel"].side("l")]),
    ("foa", "logmeliv", [_B["foa"].side("r"), (16.5, 50), (16.5, 44), _B["logmeliv"].side("l")]),
    ("logmel", "semantic", [_B["logmel"].side("r"), _B["semantic"].side("l")]),
    ("logmeliv", "spatial", [_B["logmeliv"].side("r"), _B["spatial"].side("l")]),
    ("semantic", "joint", [_B["semantic"].side("r"), (71, 56), _B["joint"].side("t", 71)]),
    ("spatial", "joint", [_B["spatial"].side("r"), (71, 44), _B["joint"].side("b", 71)]),
    ("semantic", "temporal", [_B["semantic"].side("r"), (_BUS_MAPS_X, 56), (_BUS_MAPS_X, 32), _B["temporal"].side("l")]),
    ("spatial", "temporal", [_B["spatial"].side("r"), (_BUS_MAPS_X, 44), (_BUS_MAPS_X, 32), _B["temporal"].side("l")]),
    ("spatial", "doa_head", [_B["spatial"].side("b"), _B["doa_head"].side("t")]),
    ("doa_head", "l_doa", [_B["doa_head"].side("b"), _B["l_doa"].side("t")]),
    ("joint", "triplet", [_B["joint"].side("r"), (105.5, 50), _B["triplet"].side("t")]),
    ("temporal", "triplet", [_B["temporal"].side("r"), (94.25, 32), (94.25, 41), _B["triplet"].side("l")]),
    ("joint", "l_cl", [_B["joint"].side("t", 83), (83, 58.5), _B["l_cl"].side("l", 58.5)]),
    ("triplet", "l_ts", [_B["triplet"].side("r"), _B["l_ts"].side("l")]),
    ("triplet", "grl", [_B["triplet"].side("b", 98), _B["grl"].side("t", 98)]),
    ("grl", "modality", [_B["grl"].side("r"), _B["modality"].side("l")]),
    ("modality", "l_mod", [_B["modality"].side("r"), _B["l_mod"].side("l")]),
    ("caption", "text_encoder", [_B["caption"].side("r"), _B["text_encoder"].side("l")]),
    ("text_encoder", "e_text", [_B["text_encoder"].side("r"), _B["e_text"].side("l")]),
    ("e_text", "grl", [_B["e_text"].side("r"), (88, 6), _B["grl"].side("b", 88)]),
    ("e_text", "l_cl", [_B["e_text"].side("r"), (_BUS_TEXT_X, 6), (_BUS_TEXT_X, 54), _B["l_cl"].side("r", 54)]),
    ("e_text", "l_ts", [_B["e_text"].side("r"), (_BUS_TEXT_X, 6), (_BUS_TEXT_X, 39), _B["l_ts"].side("r", 39)]),
]
# words along some lines: (x, y, text, rotation)
_LINE_LABELS = [
    (_BUS_MAPS_X + 0.8, 38.6, "feature maps", 0),
    (64.5, 56.4, "sed", 0),
    (64.5, 44.4, "doa", 0),
    (_BUS_TEXT_X - 0.8, 24, "E_text", 90),
]

#: the parts a chapter can highlight: name -> (boxes, what the part is)
PARTS: dict[str, tuple[frozenset[str], str]] = {
    "data": (frozenset({"foa", "caption", "logmel", "logmeliv"}), "the clips, their captions and the audio features"),
    "text": (frozenset({"caption", "text_encoder", "e_text"}), "the text encoder"),
    "branches": (frozenset({"logmel", "logmeliv", "semantic", "spatial", "joint"}), "the dual-branch audio encoder"),
    "temporal": (frozenset({"semantic", "spatial", "joint", "temporal", "triplet"}), "the TemporalAudioEncoder and the triplet embedding"),
    "grl": (frozenset({"triplet", "e_text", "grl", "modality", "l_mod"}), "the modality classifier behind the gradient reversal layer"),
    "three_way": (frozenset({"triplet", "e_text", "l_ts"}), "the 3-way (4-way) loss"),
    "losses": (frozenset({"l_cl", "l_ts", "l_doa", "l_mod"}), "the terms of the total loss"),
    "doa": (frozenset({"logmeliv", "spatial", "doa_head", "l_doa"}), "the DOA head"),
    "gap": (frozenset({"joint", "triplet", "e_text", "grl", "modality"}), "the audio and text embeddings and the modality classifier"),
    "retrieval": (frozenset({"joint", "triplet", "e_text", "doa_head"}), "what a trained model returns: embeddings and directions"),
}


def _parts(highlight) -> frozenset[str]:
    if highlight is None:
        return frozenset()
    names = [highlight] if isinstance(highlight, str) else list(highlight)
    unknown = [n for n in names if n not in PARTS]
    if unknown or not names:
        raise ValueError(f"draw_model: unknown part(s) {unknown or names}; the parts are {sorted(PARTS)}")
    return frozenset().union(*(PARTS[n][0] for n in names))


def draw_model(highlight: str | Iterable[str] | None = None, ax=None, title: str | None = None):
    """Draw the model; ``highlight``: a part of :data:`PARTS` (or several) in colour and bold, the rest
    faded; None: everything in colour. Returns the Figure (drawn on ``ax`` when given)."""
    lit = _parts(highlight)
    fig = None
    if ax is None:
        fig, ax = plt.subplots(figsize=(WIDTH / 10, HEIGHT / 10))
    fig = fig or ax.figure
    ax.set_xlim(0, WIDTH)
    ax.set_ylim(0, HEIGHT)
    ax.set_aspect("equal")
    ax.axis("off")

    def on(*names: str) -> bool:
        return not lit or all(n in lit for n in names)

    for name, b in BOXES.items():
        colour, shown = _KIND_COLOUR[b.kind], on(name)
        ax.add_patch(FancyBboxPatch(
            (b.x - b.w / 2, b.y - b.h / 2), b.w, b.h, boxstyle="round,pad=0.2,rounding_size=1.2",
            facecolor=mpl.colors.to_rgba(colour, 0.38 if lit and shown else (0.18 if shown else 0.05)),
            edgecolor=mpl.colors.to_rgba(colour, 1.0 if shown else 0.3),
            linewidth=2.4 if lit and shown else (1.4 if shown else 1.0), zorder=2,
        ))
        ax.text(b.x, b.y, b.text, ha="center", va="center", fontsize=FONT_PT, zorder=3, linespacing=1.15,
                color="0.05" if shown else "0.6", fontweight="bold" if lit and shown else "normal")

    for src, dst, route in _ARROWS:
        shown = on(src, dst)
        style = {"color": "0.2" if shown else "0.82", "linewidth": 1.4 if shown else 1.0, "zorder": 1 if shown else 0.5}
        xs, ys = zip(*route[:-1])
        if len(route) > 2:
            ax.plot(xs, ys, solid_capstyle="butt", **style)
        ax.add_patch(FancyArrowPatch(route[-2], route[-1], arrowstyle="-|>", mutation_scale=12,
                                     shrinkA=0, shrinkB=0.5, **style))
    for x, y, text, rotation in _LINE_LABELS:
        ax.text(x, y, text, rotation=rotation, ha="left" if rotation == 0 else "right", va="bottom" if rotation == 0 else "center",
                fontsize=FONT_PT, color="0.3", style="italic", zorder=3)

    if title is None and lit and isinstance(highlight, str):
        title = f"This chapter: {PARTS[highlight][1]}"
    if title:
        ax.set_title(title, fontsize=FONT_PT + 1.5, loc="left")
    return fig


def _write(fig, path: Path, fmt: str) -> Path:
    """``fig`` as PNG (at the book's resolution, with its smallest font size stored like
    ``sclap_nb.viz.save``) or SVG, written atomically, with no date in it: the same code draws the same file."""
    if fmt == "png":
        metadata = {"Software": None, MIN_FONT_KEY: f"{smallest_font_pt(fig):.1f}"}
        kwargs = {"dpi": BOOK_DPI}
    else:
        metadata, kwargs = {"Date": None, "Creator": None}, {}
    return atomic_write(path, lambda f: fig.savefig(f, format=fmt, bbox_inches="tight", metadata=metadata, **kwargs))


def save_model_figures(out_dir: str | Path) -> list[Path]:
    """Write ``model.png``, ``model.svg`` and ``model_<part>.png`` for every part into ``out_dir``."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    written = []
    with mpl.rc_context({"svg.hashsalt": "sclap-model", "svg.fonttype": "none", "font.family": "DejaVu Sans"}):
        fig = draw_model()
        written += [_write(fig, out_dir / "model.png", "png"), _write(fig, out_dir / "model.svg", "svg")]
        plt.close(fig)
        for part in PARTS:
            fig = draw_model(highlight=part)
            written.append(_write(fig, out_dir / f"model_{part}.png", "png"))
            plt.close(fig)
    return written


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Draw the model: model.png, model.svg and model_<part>.png")
    parser.add_argument("out_dir", type=Path, nargs="?", default=Path("figures"))
    args = parser.parse_args(argv)
    mpl.use("Agg")
    for path in save_model_figures(args.out_dir):
        print(path)
    return 0


if __name__ == "__main__":
    sys.exit(main())

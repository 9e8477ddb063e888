"""The picture of the model (sclap_nb.diagram) draws, every label fits its box, and the book uses it."""

from __future__ import annotations

import json
import re
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import pytest  # noqa: E402
from matplotlib.patches import FancyBboxPatch  # noqa: E402
from PIL import Image  # noqa: E402

from sclap_nb import diagram  # noqa: E402
from sclap_nb.viz import MIN_FONT_KEY  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
FIGURES = ROOT / "figures"


def _boxes_and_labels(fig):
    ax = fig.axes[0]
    fig.canvas.draw()
    renderer = fig.canvas.get_renderer()
    patches = [p for p in ax.patches if isinstance(p, FancyBboxPatch)]
    labels = dict(zip(diagram.BOXES, ax.texts))  # the boxes' labels come first, in BOXES' order
    return ax, renderer, patches, labels


@pytest.mark.parametrize("highlight", [None, *diagram.PARTS])
def test_every_label_fits_inside_its_box(highlight):
    """Drawn plain and with each part highlighted (bold), no label runs over its box's edge."""
    fig = diagram.draw_model(highlight=highlight)
    ax, renderer, patches, labels = _boxes_and_labels(fig)
    assert len(patches) == len(diagram.BOXES)
    for name, box in diagram.BOXES.items():
        text = labels[name]
        assert text.get_text() == box.text
        inner = text.get_window_extent(renderer)
        (x0, y0), (x1, y1) = ax.transData.transform([(box.x - box.w / 2, box.y - box.h / 2),
                                                     (box.x + box.w / 2, box.y + box.h / 2)])
        assert x0 <= inner.x0 and inner.x1 <= x1 and y0 <= inner.y0 and inner.y1 <= y1, (
            f"{name}: its label {box.text!r} runs out of its box (highlight={highlight})")
    plt.close(fig)


def test_boxes_do_not_overlap():
    names = list(diagram.BOXES)
    for i, a in enumerate(names):
        for b in names[i + 1:]:
            p, q = diagram.BOXES[a], diagram.BOXES[b]
            apart = abs(p.x - q.x) >= (p.w + q.w) / 2 + 1 or abs(p.y - q.y) >= (p.h + q.h) / 2 + 1
            assert apart, f"boxes {a} and {b} overlap"
            assert 0 <= p.x - p.w / 2 and p.x + p.w / 2 <= diagram.WIDTH and 0 <= p.y - p.h / 2 <= diagram.HEIGHT


def test_the_drawing_names_what_the_model_has():
    """The model's pieces and the losses of the total loss are all in the picture."""
    words = " ".join(b.text for b in diagram.BOXES.values())
    for piece in ("semantic branch", "spatial branch", "intensity vectors", "DOA head", "TemporalAudioEncoder",
                  "E_joint", "triplet embedding", "text encoder", "GRL", "modality classifier",
                  "L_sCL / L_CL", "L_ts", "3-/4-way", "L_doa", "L_mod"):
        assert piece in words, piece


def test_a_highlight_colours_its_part_and_fades_the_rest():
    fig = diagram.draw_model(highlight="doa")
    _, _, patches, _ = _boxes_and_labels(fig)
    alpha = {name: p.get_edgecolor()[3] for name, p in zip(diagram.BOXES, patches)}
    lit = diagram.PARTS["doa"][0]
    assert all(alpha[n] == 1.0 for n in lit) and all(alpha[n] < 0.5 for n in diagram.BOXES if n not in lit)
    assert "DOA head" in fig.axes[0].get_title(loc="left")
    plt.close(fig)
    with pytest.raises(ValueError, match="unknown part.*'nonsense'.*the parts are"):
        diagram.draw_model(highlight="nonsense")


@pytest.mark.slow  # draws every figure of the model twice: tens of seconds on 2 cores
def test_saved_figures(tmp_path):
    written = diagram.save_model_figures(tmp_path)
    names = {p.name for p in written}
    assert names == {"model.png", "model.svg"} | {f"model_{part}.png" for part in diagram.PARTS}
    with Image.open(tmp_path / "model.png") as img:
        assert float(img.info[MIN_FONT_KEY]) >= 10.0 and round(img.info["dpi"][0]) == 110
    svg = (tmp_path / "model.svg").read_text(encoding="utf-8")
    assert "TemporalAudioEncoder" in svg and "<dc:date>" not in svg
    again = diagram.save_model_figures(tmp_path / "again")
    assert [p.read_bytes() for p in written] == [p.read_bytes() for p in again], "the same code draws the same files"


def test_committed_figures_are_those_of_the_code():
    """figures/ holds one picture per part (python -m sclap_nb.diagram figures), no stale one."""
    committed = {p.name for p in FIGURES.glob("model*.png")} | {p.name for p in FIGURES.glob("model*.svg")}
    assert committed == {"model.png", "model.svg"} | {f"model_{part}.png" for part in diagram.PARTS}
    svg = (FIGURES / "model.svg").read_text(encoding="utf-8")
    for box in diagram.BOXES.values():
        for line in box.text.split("\n"):
            assert line.replace("&", "&amp;") in svg, f"figures/model.svg lacks {line!r}: redraw it"


def _first_markdown(name: str) -> str:
    nb = json.loads((ROOT / "notebooks" / f"{name}.ipynb").read_text(encoding="utf-8"))
    return "".join(next(c for c in nb["cells"] if c["cell_type"] == "markdown")["source"])


@pytest.mark.parametrize("name", ["02_scenes", "03_text_side", "04_temporal_chunking", "05_grl", "06_three_way_loss",
                                  "07_loss_schedule", "08_doa", "09_modality_gap", "11_results", "12_try_it"])
def test_each_chapter_opens_with_its_part_of_the_model(name):
    first = _first_markdown(name)
    found = re.findall(r"\.\./figures/(model(?:_\w+)?)\.png", first)
    assert found, f"{name}: its first Markdown cell shows no picture of the model"
    for stem in found:
        assert (FIGURES / f"{stem}.png").exists(), stem


def test_the_introduction_shows_the_whole_model():
    assert "../figures/model.png" in (ROOT / "notebooks" / "01_introduction.md").read_text(encoding="utf-8")

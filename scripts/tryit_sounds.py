"""Write the try-it chapter's real recordings, ``notebooks/sounds/``, from the built sound library.

    python scripts/tryit_sounds.py [--library data/library] [--out notebooks/sounds]

One recording for each of ``CLASSES``, all from the Debian package ``gcompris-qt-data``, which the
library holds out whole (``report.json``'s ``heldout_packages``): no model trained on the library's
train split has heard it, and the soundfont-trained default model has heard no recording at all.
Of each class the longest recording of the package is taken, and of it the loudest ``SECONDS`` s
(the whole recording when it is shorter), written as 16-bit FLAC at the library's 16 kHz, mono.

The folder gets what ``sclap_nb.data.FolderSource`` reads (``captions.csv``: ``file_name,
caption_1 ... caption_3, label``, the captions the library's class vocabulary gives each class) and,
for every file, where it comes from and under which licence (``SOURCES.csv``: the package, its
version, the file inside it, the licence, the SHA-256 of the library's copy and of the file
written, the crop) and the package copyright file's paragraph that covers it (``COPYRIGHT.md``).
Refuses to write into a folder that exists: the chapter's files are never overwritten silently.
"""

from __future__ import annotations

import argparse
import csv
import hashlib
import json
import re
import sys
import tarfile
from pathlib import Path

import numpy as np
import soundfile as sf

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
from sclap_nb.data.library import _pattern_matches, _tar_members, dep5_paragraphs  # noqa: E402

PACKAGE = "gcompris-qt-data"
SECONDS = 3.0
# twelve classes the soundfont also has (named in the library's words) and twelve it has not
CLASSES = (
    "Piano", "Organ", "Acoustic guitar", "Violin, fiddle", "Cello", "Harp", "Trumpet", "Flute",
    "Accordion", "Tambourine", "Applause", "Helicopter",
    "Dog", "Cat", "Horse", "Duck", "Sheep", "Pig", "Frog", "Owl", "Rain", "Train", "Door", "Knock",
)  # fmt: skip


def slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")


def loudest(x: np.ndarray, rate: int, seconds: float) -> tuple[int, int]:
    """``(start, length)`` in samples of the loudest ``seconds`` of ``x`` (by energy, on a 10 ms grid)."""
    n = int(round(seconds * rate))
    if len(x) <= n:
        return 0, len(x)
    hop = rate // 100
    energy = np.concatenate([[0.0], np.cumsum(x.astype(np.float64) ** 2)])
    starts = np.arange(0, len(x) - n + 1, hop)
    return int(starts[np.argmax(energy[starts + n] - energy[starts])]), n


def covering(paras: list[dict[str, str]], path: str) -> dict[str, str]:
    """The last paragraph whose ``Files`` pattern matches ``path`` (DEP-5: the last match wins)."""
    found = None
    for p in paras:
        if any(_pattern_matches(pattern, path) for pattern in p["Files"].split()):
            found = p
    if found is None:
        raise SystemExit(f"error: no paragraph of {PACKAGE}'s copyright file covers {path}")
    return found


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--library", default=str(ROOT / "data" / "library"), help="the built library (python -m sclap_nb.data.library build)")
    ap.add_argument("--out", default=str(ROOT / "notebooks" / "sounds"), help="folder to create (must not exist)")
    args = ap.parse_args(argv)
    lib, out = Path(args.library), Path(args.out)
    if out.exists():
        raise SystemExit(f"error: {out} exists; remove it yourself to write it again")
    report = json.loads((lib / "report.json").read_text())
    if PACKAGE not in report["heldout_packages"]:
        raise SystemExit(f"error: {lib}: {PACKAGE} is not a held-out package of this library ({report['heldout_packages']})")
    classes = json.loads((lib / "classes.json").read_text())
    with open(lib / "manifest.csv", newline="") as f:
        rows = [r for r in csv.DictReader(f) if r["package"] == PACKAGE]
    deb = lib / "debs" / json.loads((lib / "packages" / f"{PACKAGE}.json").read_text())["deb"]
    doc = f"usr/share/doc/{PACKAGE}/copyright"
    text = next((data.decode() for name, _, data in _tar_members(deb, lambda n, i: n == doc) if data is not None), None)
    if text is None:
        raise SystemExit(f"error: {deb}: no {doc}")
    paras = [p for p in dep5_paragraphs(text) if "Files" in p]

    tmp = out.with_name(out.name + ".partial")
    if tmp.exists():
        raise SystemExit(f"error: {tmp} exists (a build that did not finish?); remove it yourself")
    tmp.mkdir(parents=True)
    captions, sources, notes = [], [], {}
    for cls in CLASSES:
        mine = [r for r in rows if r["class"] == cls]
        if not mine:
            raise SystemExit(f"error: {lib / 'manifest.csv'}: no {PACKAGE} recording of class {cls!r}")
        r = max(mine, key=lambda r: (float(r["duration_s"]), r["file"]))
        x, rate = sf.read(lib / r["file"], dtype="float32", always_2d=True)
        x = x.mean(1)
        start, n = loudest(x, rate, SECONDS)
        name = f"{slug(cls.split(',')[0])}.flac"
        sf.write(tmp / name, x[start : start + n], rate, subtype="PCM_16")
        caps = classes[cls]["captions"][:3]
        captions.append({"file_name": name, **{f"caption_{i}": c for i, c in enumerate(caps, 1)}, "label": cls})
        inner = r["source_path"].split("!")[-1]
        para = covering(paras, inner)
        sources.append({
            "file_name": name, "class": cls, "package": PACKAGE, "version": r["version"], "licence": r["licence"],
            "source_path": r["source_path"], "library_sha256": r["sha256"],
            "sha256": hashlib.sha256((tmp / name).read_bytes()).hexdigest(),
            "start_s": f"{start / rate:.2f}", "seconds": f"{n / rate:.2f}", "sample_rate": rate,
        })  # fmt: skip
        block = "\n".join(f"{k}: {v}" for k, v in para.items())
        notes.setdefault(block, []).append(f"* `{name}`: `{r['source_path']}`")
    for name, table in (("captions.csv", captions), ("SOURCES.csv", sources)):
        with open(tmp / name, "w", newline="") as f:
            w = csv.DictWriter(f, fieldnames=list(table[0]))
            w.writeheader()
            w.writerows(table)
    (tmp / "COPYRIGHT.md").write_text(
        f"# Where these recordings come from\n\nEach file here is a crop of a recording of the Debian package "
        f"`{PACKAGE}` (the GCompris educational suite's data), converted to 16 kHz mono 16-bit FLAC by "
        "`scripts/tryit_sounds.py`. Each keeps the licence of its original, as the package's copyright file "
        "states it; the paragraph that covers each file follows. The full licence texts are in the package "
        f"(`{doc}`) and, on Debian, in `/usr/share/common-licenses/`.\n\n"
        + "\n".join(f"## {re.search(r'^License: (.*)$', block, re.M).group(1)}, {len(files)} file{'s' * (len(files) > 1)}\n\n" + "\n".join(files) + f"\n\nfrom `{PACKAGE}` {sources[0]['version']}, "
                     f"covered by this paragraph of `{doc}`:\n\n```\n{block}\n```\n" for block, files in notes.items())
    )
    tmp.rename(out)
    total = sum(p.stat().st_size for p in out.iterdir())
    print(f"wrote {out}: {len(captions)} recordings, {total / 1e6:.2f} MB")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

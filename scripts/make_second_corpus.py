"""Write a folder of real, non-soundfont recordings for a second corpus (``captions.csv`` + WAV files).

    python scripts/make_second_corpus.py data/sources/effects-speech

Two kinds of sound reach this machine through its package registries:

* game sound effects recorded and released under CC0 by Kenney (www.kenney.nl), shipped inside the
  PyPI wheel of the ``arcade`` game library (``arcade/resources/assets/sounds/``). The wheel is
  fetched with ``pip download`` into a cache beside the output folder and checked against its
  SHA-256; the sounds are grouped into classes by their file stem (coin1 ... coin5 -> coin);
* speech synthesised by Debian's ``espeak-ng`` (``apt-get install espeak-ng``): short phrases, each
  spoken by several voices and speeds, one class per phrase.

Each recording is one row of ``captions.csv`` (Clotho layout: ``file_name, caption_1 ... caption_5``)
with a ``label`` column naming its class, so that ``python -m sclap_nb.data build --folder`` pairs
two different classes in a scene, and a ``split`` column: every class has recordings in train and
test (and in val when it has three or more), and each recording is in one split only, as the
soundfont corpus holds every class in every split with other renderings. The folder must not exist.
"""

from __future__ import annotations

import argparse
import csv
import hashlib
import shutil
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

ARCADE_WHEEL = "arcade-3.3.3-py3-none-any.whl"
ARCADE_SHA256 = "25f4e0e5b8bcbe7a7d087c0a23b19e9f423b0c70ec00945c8712c9a3e541ebd2"
SOUNDS = "arcade/resources/assets/sounds/"

#: effect class (file stem without its number) -> captions (the first is the class's main caption)
EFFECTS = {
    "coin": ("a coin is collected with a bright chime", "a bright chime rings", "a short coin chime plays"),
    "error": ("an error buzzer sounds", "a harsh buzzer goes off", "a low error tone buzzes"),
    "explosion": ("an explosion booms", "something explodes with a rumble", "a loud blast rumbles"),
    "fall": ("a whistle slides downwards", "a falling whistle sweeps down", "a tone glides down in pitch"),
    "gameover": ("a game over jingle plays", "a short sad jingle plays", "a jingle ends the game"),
    "hit": ("something is hit with a thud", "a short thud sounds", "a dull impact thumps"),
    "hurt": ("a short pained blip sounds", "a hurt sound blips", "a quick crunchy blip plays"),
    "jump": ("a springy jump sound rises", "a boing goes upwards", "a short rising boing plays"),
    "laser": ("a laser zaps", "a laser gun fires", "a sharp zap sounds"),
    "lose": ("a losing tune descends", "a falling tune plays", "a few notes step downwards"),
    "upgrade": ("a power-up tune rises", "an upgrade jingle climbs", "a rising arpeggio sparkles"),
}

#: speech class -> (text spoken, captions)
PHRASES = {
    "hello": ("hello there", ("a voice says hello there", "someone says hello", "a person greets with hello")),
    "count": ("one, two, three, four", ("a voice counts to four", "someone counts from one to four", "a person counts out loud")),
    "morning": ("good morning everyone", ("a voice says good morning", "someone wishes everyone a good morning", "a greeting is spoken")),
    "stop": ("stop right there", ("a voice shouts stop", "someone orders to stop", "a person says stop right there")),
    "weather": ("it is raining again today", ("a voice talks about the rain", "someone says it is raining", "a person remarks on the weather")),
    "thanks": ("thank you very much", ("a voice says thank you", "someone thanks a listener", "a person says thanks")),
    "question": ("where are you going", ("a voice asks a question", "someone asks where you are going", "a person asks where to")),
    "alphabet": ("a, b, c, d, e", ("a voice spells out letters", "someone recites the alphabet", "a person reads letters aloud")),
}
#: (espeak-ng voice, words per minute): five speakers per phrase
VOICES = (("en-us", 150), ("en-gb", 170), ("en-us+f3", 140), ("en-gb-scotland+m3", 160), ("en-029+f2", 180))


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def fetch_arcade(cache: Path) -> Path:
    """The ``arcade`` wheel in ``cache`` (``pip download`` from the package index when absent)."""
    wheel = cache / ARCADE_WHEEL
    if not wheel.is_file():
        cache.mkdir(parents=True, exist_ok=True)
        subprocess.run([sys.executable, "-m", "pip", "download", "--no-deps", "-q", "-d", str(cache),
                        "arcade==" + ARCADE_WHEEL.split("-")[1]], check=True)  # fmt: skip
    return wheel


def write_effects(wheel: Path, out: Path) -> list[dict]:
    rows = []
    with zipfile.ZipFile(wheel) as z:
        for name in sorted(z.namelist()):
            if not (name.startswith(SOUNDS) and name.endswith(".wav")):
                continue
            stem = Path(name).stem
            label = stem.rstrip("0123456789")
            if label not in EFFECTS:
                continue
            target = out / f"effect_{stem}.wav"
            target.write_bytes(z.read(name))
            rows.append({"file_name": target.name, "label": label, **_captions(EFFECTS[label])})
    return rows


def write_speech(out: Path) -> list[dict]:
    espeak = shutil.which("espeak-ng")
    if espeak is None:
        raise SystemExit("espeak-ng not found: apt-get install espeak-ng")
    rows = []
    for label, (text, captions) in PHRASES.items():
        for k, (voice, wpm) in enumerate(VOICES):
            target = out / f"speech_{label}_{k}.wav"
            subprocess.run([espeak, "-v", voice, "-s", str(wpm), "-w", str(target), text], check=True)
            rows.append({"file_name": target.name, "label": f"speech_{label}", **_captions(captions)})
    return rows


def assign_splits(rows: list[dict]) -> list[dict]:
    """Per class (in file order): the last recording to test, the one before to val (from three on), the rest to train."""
    by_label: dict[str, list[dict]] = {}
    for r in rows:
        by_label.setdefault(r["label"], []).append(r)
    for group in by_label.values():
        for k, r in enumerate(group):
            back = len(group) - k
            r["split"] = "test" if back == 1 else ("val" if back == 2 and len(group) >= 3 else "train")
    return rows


def _captions(caps: tuple[str, ...]) -> dict[str, str]:
    return {f"caption_{j + 1}": (caps[j] if j < len(caps) else "") for j in range(5)}


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("out", type=Path, help="folder to create (must not exist)")
    p.add_argument("--cache", type=Path, help="where the arcade wheel is kept (default: OUT/../.wheels)")
    args = p.parse_args(argv)
    if args.out.exists():
        raise SystemExit(f"{args.out}: already exists")
    wheel = fetch_arcade(args.cache or args.out.parent / ".wheels")
    if _sha256(wheel) != ARCADE_SHA256:
        raise SystemExit(f"{wheel}: SHA-256 {_sha256(wheel)} is not the pinned {ARCADE_SHA256}")
    args.out.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{args.out.name}.tmp-", dir=args.out.parent))
    try:
        rows = assign_splits(write_effects(wheel, tmp) + write_speech(tmp))
        with open(tmp / "captions.csv", "w", newline="", encoding="utf-8") as f:
            w = csv.DictWriter(f, fieldnames=["file_name", *(f"caption_{j}" for j in range(1, 6)), "label", "split"])
            w.writeheader()
            w.writerows(rows)
        (tmp / "LICENSE.md").write_text(
            "effect_*.wav: sound effects by Kenney (www.kenney.nl), CC0 1.0, from the arcade wheel "
            f"({ARCADE_WHEEL}, arcade/resources/assets/sounds/License.txt).\n"
            "speech_*.wav: synthesised here with espeak-ng (the software is GPL-3; its output is not restricted).\n"
        )
        tmp.rename(args.out)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    labels = {r["label"] for r in rows}
    print(f"wrote {args.out}: {len(rows)} recordings of {len(labels)} classes")
    return 0


if __name__ == "__main__":
    sys.exit(main())

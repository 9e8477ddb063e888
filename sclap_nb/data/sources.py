"""Sound sources: mono events with captions.

* ``SoundfontSource`` renders instruments, drums and sound effects of the General MIDI
  soundfont ``TimGM6mb.sf2`` that ships inside pretty_midi, through tinysoundfont.
* ``FolderSource`` reads a folder of recordings with a Clotho-style captions CSV
  (``file_name, caption_1 ... caption_5``).

Both expose ``labels`` (one per sound class) and ``render(k, rng, duration_s) -> Event``.
Every event is loudness-normalised (RMS ``TARGET_RMS``) and faded in and out.
"""

from __future__ import annotations

import csv
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .errors import CorpusError

__all__ = [
    "Event",
    "SoundClass",
    "SOUND_CLASSES",
    "SoundfontSource",
    "FolderSource",
    "soundfont_path",
    "normalise_event",
    "TARGET_RMS",
]

TARGET_RMS = 0.05


@dataclass(frozen=True)
class Event:
    """One rendered sound event (mono, float32)."""

    audio: np.ndarray
    label: str  # sound class
    captions: tuple[str, ...]  # paraphrases
    rendering_id: str  # unique per rendering (class, split, index / file, crop)


@dataclass(frozen=True)
class SoundClass:
    """A General MIDI sound class: program (or drum keys), playing style, note range, captions."""

    name: str
    program: int  # GM program (0-based); ignored for drums
    drums: bool
    style: str  # melody | chords | arpeggio | single | hits | roll | fill | run (see SoundfontSource._notes)
    keys: tuple[int, ...]  # (low, high) note range, or drum keys / a fixed sfx key
    captions: tuple[str, ...]


def _c(*caps: str) -> tuple[str, ...]:
    return caps


SOUND_CLASSES: tuple[SoundClass, ...] = (
    SoundClass("piano", 0, False, "melody", (48, 84), _c("a piano plays a melody", "someone plays a tune on the piano", "piano keys are struck one after another")),
    SoundClass("church organ", 19, False, "chords", (48, 72), _c("a church organ plays chords", "someone plays a pipe organ", "an organ sounds sustained chords")),
    SoundClass("acoustic guitar", 24, False, "arpeggio", (40, 76), _c("an acoustic guitar is plucked", "someone picks notes on a nylon string guitar", "a guitar plays a few gentle notes")),
    SoundClass("electric guitar", 30, False, "chords", (40, 64), _c("a distorted electric guitar plays power chords", "an electric guitar roars with distortion", "someone plays a heavy rock guitar")),
    SoundClass("bass guitar", 33, False, "melody", (28, 52), _c("a bass guitar plays low notes", "someone plucks an electric bass", "a deep bass line plays")),
    SoundClass("violin", 40, False, "melody", (55, 88), _c("a violin plays a melody", "someone bows a violin", "a violin sings a short tune")),
    SoundClass("cello", 42, False, "melody", (36, 64), _c("a cello plays low notes", "someone bows a cello", "a cello plays a short phrase")),
    SoundClass("harp", 46, False, "arpeggio", (48, 84), _c("a harp is plucked", "someone plays an arpeggio on a harp", "harp strings ring out")),
    SoundClass("choir", 52, False, "chords", (48, 72), _c("a choir sings", "voices sing together in harmony", "a group of people sing a long aah")),
    SoundClass("trumpet", 56, False, "melody", (55, 82), _c("a trumpet plays a melody", "someone blows a trumpet", "a bright trumpet plays a fanfare")),
    SoundClass("trombone", 57, False, "melody", (40, 70), _c("a trombone plays", "someone plays a trombone", "a brass trombone blows low notes")),
    SoundClass("saxophone", 65, False, "melody", (49, 80), _c("a saxophone plays", "someone plays a saxophone", "a saxophone plays a jazzy phrase")),
    SoundClass("clarinet", 71, False, "melody", (50, 84), _c("a clarinet plays a melody", "someone plays a clarinet", "a woodwind clarinet plays softly")),
    SoundClass("flute", 73, False, "melody", (60, 96), _c("a flute plays a melody", "someone plays a flute", "a high flute whistles a tune")),
    SoundClass("bagpipe", 109, False, "melody", (55, 77), _c("bagpipes play", "someone plays the bagpipes", "a bagpipe drones a tune")),
    SoundClass("xylophone", 13, False, "melody", (60, 96), _c("a xylophone is played", "someone strikes the bars of a xylophone", "xylophone notes tinkle")),
    SoundClass("bells", 14, False, "melody", (55, 79), _c("bells ring", "tubular bells chime", "someone strikes chimes")),
    SoundClass("steel drums", 114, False, "melody", (55, 84), _c("steel drums play", "someone plays a steel pan", "a steel drum plays a calypso tune")),
    SoundClass("accordion", 21, False, "chords", (48, 76), _c("an accordion plays", "someone squeezes an accordion", "an accordion plays chords")),
    SoundClass("harmonica", 22, False, "melody", (60, 84), _c("a harmonica plays", "someone blows a harmonica", "a harmonica wails a few notes")),
    SoundClass("snare roll", 0, True, "roll", (38, 40), _c("a snare drum rolls", "someone plays a drum roll on a snare", "a rapid snare drum roll")),
    SoundClass("cymbal", 0, True, "hits", (49, 57), _c("a cymbal crashes several times", "someone hits a crash cymbal repeatedly", "repeated loud cymbal crashes ring out")),
    SoundClass("hi-hat", 0, True, "hits", (42, 44), _c("a hi-hat ticks steadily", "someone taps a closed hi-hat repeatedly", "a hi-hat keeps a steady rhythm")),
    SoundClass("kick drum", 0, True, "hits", (35, 36), _c("a bass drum thumps several times", "someone kicks a bass drum repeatedly", "a low drum beats in rhythm")),
    SoundClass("toms", 0, True, "run", (50, 48, 47, 45, 43, 41), _c("someone plays a fill on the toms", "tom drums are hit in a descending roll", "toms are played one after another")),
    SoundClass("hand claps", 0, True, "hits", (39,), _c("someone claps their hands several times", "hands clap in rhythm", "several hand claps ring out")),
    SoundClass("cowbell", 0, True, "hits", (56,), _c("a cowbell is struck several times", "someone hits a cowbell repeatedly", "a cowbell clanks in rhythm")),
    SoundClass("tambourine", 0, True, "roll", (54,), _c("a tambourine jingles", "someone shakes a tambourine", "a tambourine rattles")),
    SoundClass("congas", 0, True, "fill", (62, 63, 64), _c("someone plays congas", "hand drums are played", "conga drums are tapped")),
    SoundClass("seashore", 122, False, "single", (60,), _c("waves crash", "the sea surges and foams", "ocean waves roll and break")),
    SoundClass("bird", 123, False, "single", (60,), _c("a bird tweets", "a bird chirps", "a small bird sings")),
    SoundClass("telephone", 124, False, "single", (60,), _c("a telephone rings", "a phone is ringing", "an old telephone rings loudly")),
    SoundClass("helicopter", 125, False, "single", (60,), _c("a helicopter flies", "helicopter rotor blades whir", "a helicopter engine drones")),
    SoundClass("applause", 126, False, "single", (60,), _c("people applaud", "a crowd claps", "an audience gives applause")),
    SoundClass("gunshot", 127, False, "hits", (60,), _c("a gun is fired several times", "several gunshots ring out", "someone fires a gun repeatedly")),
)

_SCALES = ((0, 2, 4, 5, 7, 9, 11), (0, 2, 3, 5, 7, 8, 10), (0, 2, 4, 7, 9))


def soundfont_path() -> Path:
    """Path of ``TimGM6mb.sf2`` inside the installed pretty_midi package."""
    from importlib import resources

    path = Path(str(resources.files("pretty_midi") / "TimGM6mb.sf2"))
    if not path.is_file():
        raise FileNotFoundError(f"{path}: the General MIDI soundfont of pretty_midi is missing")
    return path


def normalise_event(audio: np.ndarray, sample_rate: int, target_rms: float = TARGET_RMS, fade_s: float = 0.02) -> np.ndarray:
    """Fade in and out, then scale to ``target_rms`` (computed over the louder half of 20 ms frames)."""
    x = np.asarray(audio, dtype=np.float64).copy()
    n_fade = min(int(fade_s * sample_rate), len(x) // 4)
    if n_fade > 0:
        ramp = np.linspace(0.0, 1.0, n_fade)
        x[:n_fade] *= ramp
        x[-n_fade:] *= ramp[::-1]
    hop = max(1, int(0.02 * sample_rate))
    frames = x[: len(x) // hop * hop].reshape(-1, hop) if len(x) >= hop else x[None]
    energy = np.sort((frames**2).mean(1))[::-1]
    rms = float(np.sqrt(energy[: max(1, len(energy) // 2)].mean()))
    if not np.isfinite(rms) or rms < 1e-6:
        raise ValueError("silent or non-finite event")
    return (x * (target_rms / rms)).astype(np.float32)


class SoundfontSource:
    """General MIDI sound classes rendered through tinysoundfont (see ``SOUND_CLASSES``).

    Every call to ``render`` draws new notes, tempo, velocity and length from ``rng``.
    """

    def __init__(self, sample_rate: int = 16000, classes: tuple[SoundClass, ...] = SOUND_CLASSES, sf2: str | os.PathLike | None = None):
        import tinysoundfont

        self.sample_rate = int(sample_rate)
        self.classes = tuple(classes)
        self.labels = [c.name for c in self.classes]
        self._synth = tinysoundfont.Synth(samplerate=self.sample_rate)
        self._sfid = self._synth.sfload(str(sf2 or soundfont_path()))

    def __len__(self) -> int:
        return len(self.classes)

    def _notes(self, cls: SoundClass, rng: np.random.Generator, dur: float) -> list[tuple[float, float, int, int]]:
        """(start s, length s, key, velocity) of the notes of one event.

        What each style renders (the captions say no more than this):

        * melody: notes of a random scale, moving by -2..+2 degrees, one per 0.09-0.3 s;
          arpeggio: the same, rising one degree per note, each note ringing 2.5 steps;
        * chords: 2-3 triads that share the event's length;
        * single: one long note (a sound effect);
        * hits: one key struck at least 3 times (every 0.12-0.35 s, faster when the event is short);
          roll: one key every 35-70 ms;
        * fill: ``keys`` in turn (cycling, from a random one) every 70-160 ms;
          run: ``keys`` once in the given order (from a random one of the first ``len - 2``), each
          held for an equal share of the notes, so the pitch only moves one way (toms: downwards).
        """
        vel = int(rng.integers(70, 121))
        notes = []
        if cls.style in ("melody", "arpeggio"):
            scale = _SCALES[int(rng.integers(len(_SCALES)))]
            lo, hi = cls.keys
            root = int(rng.integers(lo, max(lo + 1, hi - 12)))
            step = float(rng.uniform(0.09, 0.3))  # tempo
            t, degree = 0.0, int(rng.integers(0, len(scale)))
            while t < dur - 0.05:
                key = root + 12 * (degree // len(scale)) + scale[degree % len(scale)]
                length = step * (2.5 if cls.style == "arpeggio" else float(rng.uniform(0.8, 1.0)))
                notes.append((t, min(length, dur - t), int(np.clip(key, lo, hi)), int(np.clip(vel + rng.integers(-10, 11), 1, 127))))
                degree = max(0, degree + (1 if cls.style == "arpeggio" else int(rng.integers(-2, 3))))
                t += step
        elif cls.style == "chords":
            scale = _SCALES[int(rng.integers(2))]
            lo, hi = cls.keys
            n_chords = int(rng.integers(2, 4))
            step = dur / n_chords
            for i in range(n_chords):
                root = int(rng.integers(lo, hi - 7))
                for iv in (0, 4 if scale[2] == 4 else 3, 7):
                    notes.append((i * step, step * 0.95, root + iv, vel))
        elif cls.style == "single":
            notes.append((0.0, dur, cls.keys[0] + int(rng.integers(-3, 4)), vel))
        elif cls.style in ("hits", "roll"):
            if cls.style == "roll":
                step = float(rng.uniform(0.035, 0.07))
            else:  # at least 3 hits: the 3rd starts before dur - 0.03
                hi = max(0.01, min(0.35, (dur - 0.04) / 2))
                step = float(rng.uniform(min(0.12, hi), hi))
            key = int(rng.choice(cls.keys))
            t = 0.0
            while t < dur - 0.03:
                accent = 1.0 if cls.style == "roll" else (1.0 if len(notes) % 2 == 0 else 0.8)
                notes.append((t, min(0.1, dur - t), key, int(np.clip(vel * accent + rng.integers(-8, 9), 1, 127))))
                t += step
        elif cls.style == "fill":
            step = float(rng.uniform(0.07, 0.16))
            t, i = 0.0, 0
            offset = int(rng.integers(len(cls.keys)))
            while t < dur - 0.03:
                notes.append((t, min(0.1, dur - t), cls.keys[(offset + i) % len(cls.keys)], vel))
                t, i = t + step, i + 1
        elif cls.style == "run":
            step = float(rng.uniform(0.07, 0.16))
            n_notes = max(1, int(np.ceil((dur - 0.03) / step)))
            first = int(rng.integers(max(1, len(cls.keys) - 2)))
            span = len(cls.keys) - first
            for i in range(n_notes):
                t = i * step
                notes.append((t, min(0.1, dur - t), cls.keys[first + i * span // n_notes], vel))
        else:
            raise ValueError(f"{cls.name}: unknown style {cls.style!r}")
        return notes

    def _synthesise(self, cls: SoundClass, notes: list[tuple[float, float, int, int]], n: int) -> np.ndarray:
        syn, sr = self._synth, self.sample_rate
        syn.program_select(0, self._sfid, 128 if cls.drums else 0, cls.program, cls.drums)
        events = sorted([(int(s * sr), 1, k, v) for s, d, k, v in notes] + [(int((s + d) * sr), 0, k, 0) for s, d, k, v in notes])
        out = np.zeros(n, np.float32)
        pos = 0
        for at, on, key, vel in events:
            at = min(at, n)
            if at > pos:
                out[pos:at] = np.frombuffer(syn.generate(at - pos), dtype=np.float32).reshape(-1, 2).mean(1)
                pos = at
            if on:
                syn.noteon(0, key, vel)
            else:
                syn.noteoff(0, key)
        if n > pos:
            out[pos:] = np.frombuffer(syn.generate(n - pos), dtype=np.float32).reshape(-1, 2).mean(1)
        syn.sounds_off()
        syn.generate(sr // 10)  # flush the released voices
        return out

    def render(self, k: int, rng: np.random.Generator, duration_s: float, rendering_id: str = "") -> Event:
        """Render class ``k`` for ``duration_s`` seconds with random notes, tempo and velocity."""
        cls = self.classes[k]
        n = int(round(duration_s * self.sample_rate))
        for _ in range(5):
            audio = self._synthesise(cls, self._notes(cls, rng, duration_s), n)
            try:
                audio = normalise_event(audio, self.sample_rate)
            except ValueError:
                continue
            return Event(audio, cls.name, cls.captions, rendering_id or cls.name)
        raise RuntimeError(f"soundfont class {cls.name!r} rendered silence")


CLOTHO_COLUMNS = ("file_name", "caption_1", "caption_2", "caption_3", "caption_4", "caption_5")


class FolderSource:
    """Recordings in ``folder`` with a Clotho-layout captions CSV.

    The CSV has the columns ``file_name, caption_1 ... caption_5`` (``caption_1`` must be
    non-empty, the others may be empty). Each file is one sound class (its label is the
    file name) with its captions as paraphrases. Audio is mixed to mono and resampled
    to ``sample_rate``; ``render`` cuts a random crop of the requested length (looping
    clips that are shorter).
    """

    def __init__(self, folder: str | os.PathLike, captions_csv: str | os.PathLike | None = None, sample_rate: int = 16000):
        import soundfile as sf

        self.folder = Path(folder)
        self.sample_rate = int(sample_rate)
        csv_path = Path(captions_csv) if captions_csv else self.folder / "captions.csv"
        if not csv_path.is_file():
            raise CorpusError(f"{csv_path}: captions CSV not found")
        with open(csv_path, newline="", encoding="utf-8") as f:
            reader = csv.DictReader(f)
            header = reader.fieldnames or []
            missing = [c for c in ("file_name", "caption_1") if c not in header]
            if missing:
                raise CorpusError(f"{csv_path}: missing column(s) {missing} (need {list(CLOTHO_COLUMNS)})")
            rows = list(reader)
        if not rows:
            raise CorpusError(f"{csv_path}: no rows")
        self.labels, self.captions, self._audio = [], [], []
        seen = set()
        for i, row in enumerate(rows, start=1):
            where = f"{csv_path}, row {i}"
            name = (row.get("file_name") or "").strip()
            if not name:
                raise CorpusError(f"{where}: empty file_name")
            if name in seen:
                raise CorpusError(f"{where}: duplicate file_name {name!r}")
            seen.add(name)
            caps = tuple(c.strip().rstrip(".").strip() for c in (row.get(f"caption_{j}") or "" for j in range(1, 6)))
            if not caps[0]:
                raise CorpusError(f"{where} ({name}): empty caption_1")
            path = self.folder / name
            if not path.is_file():
                raise CorpusError(f"{where}: audio file {path} not found")
            try:
                audio, sr = sf.read(str(path), dtype="float32", always_2d=True)
            except Exception as e:  # soundfile raises its own error types
                raise CorpusError(f"{where}: cannot read {path}: {e}") from e
            audio = audio.mean(1)
            if audio.size == 0 or not np.isfinite(audio).all() or float(np.abs(audio).max()) == 0.0:
                raise CorpusError(f"{where}: {path} is empty, silent or has NaN samples")
            if sr != self.sample_rate:
                import librosa

                audio = librosa.resample(audio, orig_sr=sr, target_sr=self.sample_rate).astype(np.float32)
            self.labels.append(name)
            self.captions.append(tuple(c for c in caps if c))
            self._audio.append(audio)

    def __len__(self) -> int:
        return len(self.labels)

    def render(self, k: int, rng: np.random.Generator, duration_s: float, rendering_id: str = "") -> Event:
        """A random ``duration_s`` crop of file ``k`` (loudness-normalised)."""
        audio = self._audio[k]
        n = int(round(duration_s * self.sample_rate))
        if len(audio) < n:
            audio = np.tile(audio, n // len(audio) + 1)
        start = int(rng.integers(0, len(audio) - n + 1))
        crop = audio[start : start + n]
        try:
            crop = normalise_event(crop, self.sample_rate)
        except ValueError:
            crop = normalise_event(audio[:n] + 1e-3 * rng.standard_normal(n).astype(np.float32), self.sample_rate)
        return Event(crop, self.labels[k], self.captions[k], rendering_id or f"{self.labels[k]}@{start}")

"""Sound sources: mono events with captions.

* ``SoundfontSource`` renders instruments, drums and sound effects of the General MIDI
  soundfont ``TimGM6mb.sf2`` that ships inside pretty_midi, through tinysoundfont.
* ``FolderSource`` reads a folder of recordings with a Clotho-style captions CSV
  (``file_name, caption_1 ... caption_5``, optionally ``split`` and ``label``).

Both expose ``labels`` (one per sound class) and ``render(k, rng, duration_s) -> Event``.
Every event is loudness-normalised (RMS ``TARGET_RMS``) and faded in and out.
"""

from __future__ import annotations

import csv
import logging
import os
import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..config import FeatureConfig
from .errors import CorpusError

#: the splits of a corpus, in order
SPLITS = ("train", "val", "test")

__all__ = [
    "Event",
    "SoundClass",
    "SOUND_CLASSES",
    "SoundfontSource",
    "FolderSource",
    "soundfont_path",
    "normalise_event",
    "TARGET_RMS",
    "SPLIT_NAMES",
    "states_direction",
    "usable_captions",
    "frame_rms",
    "active_crop",
    "read_span",
    "wav_frames",
    "truncation",
    "mono_mix",
]

log = logging.getLogger(__name__)

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

    def __init__(self, sample_rate: int = FeatureConfig.sample_rate, classes: tuple[SoundClass, ...] = SOUND_CLASSES, sf2: str | os.PathLike | None = None):
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
#: values of a captions CSV's ``split`` column (Clotho's split names included), case-insensitive
SPLIT_NAMES = {
    "train": "train", "development": "train",
    "val": "val", "valid": "val", "validation": "val",
    "test": "test", "evaluation": "test",
}  # fmt: skip
#: crops come from where the sound is: a window of ``ACTIVE_FRAME_S`` whose RMS is within
#: ``ACTIVE_RANGE_DB`` of the file's loudest window, and louder than ``SILENCE_DBFS``
ACTIVE_FRAME_S = 0.05
ACTIVE_RANGE_DB = 30.0
SILENCE_DBFS = -80.0
#: a caption holding one of these words states a direction (this package's direction phrases use
#: front / left / right / behind, its compass words north / south / east / west)
_DIRECTION_WORD = re.compile(r"\b(front|left|right|behind|north|south|east|west)\b", re.IGNORECASE)


def states_direction(caption: str) -> bool:
    """Whether ``caption`` names a direction ("to the left", "in front", "from the west")."""
    return _DIRECTION_WORD.search(caption) is not None


def usable_captions(captions, where: str) -> tuple[str, ...]:
    """The non-empty ``captions`` (stripped, without a final full stop) that state no direction:
    a scene adds its own direction words, so a caption that already has one would contradict or
    repeat them. ``CorpusError`` (naming ``where``) if none is left."""
    caps = [str(c).strip().rstrip(".").strip() for c in captions]
    caps = [c for c in caps if c]
    kept = tuple(c for c in caps if not states_direction(c))
    if not kept:
        shown = caps[0] if caps else ""
        raise CorpusError(
            f"{where}: every caption states a direction (e.g. {shown!r}); scenes add their own direction "
            "words, so give at least one caption without left / right / front / behind / compass words"
        )
    return kept


def frame_rms(x: np.ndarray, hop: int) -> np.ndarray:
    """RMS of each ``hop``-sample frame of the mono signal ``x`` (the last frame may be shorter)."""
    x = np.asarray(x, dtype=np.float64)
    n_full = len(x) // hop
    rms = np.sqrt((x[: n_full * hop].reshape(n_full, hop) ** 2).mean(1)) if n_full else np.zeros(0)
    if len(x) > n_full * hop:
        rms = np.append(rms, np.sqrt(np.mean(x[n_full * hop :] ** 2)))
    return rms


def _loudest(rms: np.ndarray, frame_s: float, where: str) -> float:
    """The largest of ``rms``; ``CorpusError`` (naming ``where``) if it is below ``SILENCE_DBFS``."""
    loud = float(np.max(rms)) if len(rms) else 0.0
    if not loud > 10 ** (SILENCE_DBFS / 20):
        level = 20 * np.log10(loud) if loud > 0 else -np.inf
        raise CorpusError(
            f"{where}: no sound to crop (its loudest {frame_s * 1e3:.0f} ms window is at {level:.0f} dBFS, below {SILENCE_DBFS:.0f})"
        )
    return loud


def active_crop(rms: np.ndarray, frame_s: float, length_s: float, crop_s: float, rng: np.random.Generator, where: str) -> float:
    """Start (seconds) of a ``crop_s`` crop of a ``length_s`` signal that holds its sound.

    ``rms`` is the signal's ``frame_rms`` over frames of ``frame_s``. One active frame (RMS within
    ``ACTIVE_RANGE_DB`` of the loudest) is drawn from ``rng``, and the crop placed so that the whole
    frame lies in it, in its middle half where it fits (so fades at the crop's ends do not hide it).
    ``0.0`` when the crop is not shorter than the signal. ``CorpusError`` (naming ``where``) when the
    loudest frame is below ``SILENCE_DBFS``: nothing to crop.
    """
    loud = _loudest(rms, frame_s, where)
    if crop_s >= length_s:
        return 0.0
    active = np.flatnonzero(rms >= loud * 10 ** (-ACTIVE_RANGE_DB / 20))
    f = int(active[int(rng.integers(len(active)))])
    f_start = f * frame_s
    f_len = min(frame_s, length_s - f_start)
    lo, hi = crop_s / 4, 3 * crop_s / 4 - f_len
    if hi < lo:
        lo, hi = 0.0, max(0.0, crop_s - f_len)
    start = f_start - float(rng.uniform(lo, hi))
    return float(np.clip(start, 0.0, length_s - crop_s))


def wav_frames(path: str | os.PathLike) -> tuple[int, int] | None:
    """``(frames its header declares, whole frames the file holds)`` of a RIFF/WAVE file, read from its
    chunk headers; ``None`` for any other format, or a WAV whose data size was never written (a stream).
    soundfile reports the frames present, so a truncated WAV reads without a word: compare the two."""
    with open(path, "rb") as f:
        head = f.read(12)
        if len(head) < 12 or head[:4] != b"RIFF" or head[8:12] != b"WAVE":
            return None
        size, pos, block = os.fstat(f.fileno()).st_size, 12, 0
        while pos + 8 <= size:
            f.seek(pos)
            chunk, n = f.read(4), int.from_bytes(f.read(4), "little")
            if chunk == b"fmt ":
                block = int.from_bytes(f.read(16)[12:14], "little")  # nBlockAlign: bytes a frame
            elif chunk == b"data":
                if not block or n in (0, 0xFFFFFFFF):
                    return None
                return n // block, min(n, size - pos - 8) // block
            pos += 8 + n + (n & 1)
    return None


def truncation(path: str | os.PathLike) -> str | None:
    """``"truncated: its header says N frames, the file holds M"`` for a WAV cut short (a copy or a
    recording that did not finish), else ``None``."""
    frames = wav_frames(path)
    if frames is None or frames[1] >= frames[0]:
        return None
    return f"truncated: its header says {frames[0]} frames, the file holds {frames[1]}"


def mono_mix(audio: np.ndarray, axis: int = 0) -> np.ndarray:
    """The one signal of a file's channels along ``axis``: a 4-channel file is first-order ambisonics
    (W, Y, Z, X), whose omnidirectional channel W (the first) is the sound as such; the mean of the
    four would cancel a source behind (W + X = 0) or on the right (W + Y = 0). Other channel counts
    are averaged."""
    audio = np.asarray(audio)
    if audio.shape[axis] == 4:
        return np.take(audio, 0, axis=axis)
    return audio.mean(axis)


def read_span(path: str | os.PathLike, start_s: float, n: int, sample_rate: int) -> np.ndarray:
    """``n`` samples at ``sample_rate`` of every channel of an audio file from ``start_s`` seconds on,
    ``(C, n)`` float32; only that span (and a 20 ms margin for the resampler) is read and resampled
    from the file's own rate. Past the end of the file is zeros."""
    import soundfile as sf

    with sf.SoundFile(str(path)) as f:
        sr, frames = f.samplerate, f.frames
        margin = 0 if sr == sample_rate else sr // 50
        i0 = min(frames, max(0, int(np.floor(start_s * sr)) - margin))
        i1 = min(frames, int(np.ceil((start_s + n / sample_rate) * sr)) + margin)
        f.seek(i0)
        x = f.read(max(0, i1 - i0), dtype="float32", always_2d=True).T
    if sr != sample_rate and x.shape[1]:
        import librosa

        x = librosa.resample(x, orig_sr=sr, target_sr=sample_rate, axis=-1)
    off = max(0, int(round((start_s - i0 / sr) * sample_rate)))
    out = np.zeros((x.shape[0], n), np.float32)
    m = max(0, min(n, x.shape[1] - off))
    out[:, :m] = x[:, off : off + m]
    return out


@dataclass(frozen=True)
class _Recording:
    """A file of a ``FolderSource``: where it is, its captions and its activity (``frame_rms``)."""

    name: str
    path: Path
    where: str  # "captions.csv, row i"
    captions: tuple[str, ...]
    seconds: float
    rms: np.ndarray  # frame_rms of the mono mix at the file's own rate
    frame_s: float


def _scan(path: Path, where: str) -> tuple[float, np.ndarray, float, int]:
    """Read ``path`` once, block by block: its length (s), the ``frame_rms`` of its ``mono_mix``, the
    frame length (s) and its channel count. ``CorpusError`` if it cannot be read or is truncated,
    empty, silent or not finite."""
    import soundfile as sf

    try:
        cut = truncation(path)
        info = sf.info(str(path))
        hop = max(1, int(round(ACTIVE_FRAME_S * info.samplerate)))
        parts, peak = [], 0.0
        for block in sf.blocks(str(path), blocksize=hop * 256, dtype="float32", always_2d=True):
            mono = mono_mix(block, axis=1)
            if not np.isfinite(mono).all():
                peak = np.nan
                break
            peak = max(peak, float(np.abs(mono).max())) if len(mono) else peak
            parts.append(frame_rms(mono, hop))
    except Exception as e:  # soundfile raises its own error types
        raise CorpusError(f"{where}: cannot read {path}: {e}") from e
    if cut:
        raise CorpusError(f"{where}: {path}: {cut} (copy it again, or leave it out of the CSV)")
    if info.frames == 0 or not peak > 0.0:
        raise CorpusError(f"{where}: {path} is empty, silent or has NaN samples")
    rms = np.concatenate(parts).astype(np.float32)
    _loudest(rms, hop / info.samplerate, f"{where}: {path}")
    return info.frames / info.samplerate, rms, hop / info.samplerate, info.channels


class FolderSource:
    """Recordings in ``folder`` with a Clotho-layout captions CSV.

    The CSV has the columns ``file_name, caption_1 ... caption_5`` (``caption_1`` must be non-empty,
    the others may be empty; ``file_name`` is relative to ``folder``), optionally ``split`` and
    ``label``; a UTF-8 byte-order mark and spaces after the commas are allowed.

    * Classes: files with the same ``label`` (else the same ``caption_1``, compared without case and
      final full stop) form one sound class, so two recordings of "a dog barks" are never the two
      events of a scene. A class is named by its label, else by its first file's name.
    * Splits: the ``split`` column (``train`` / ``val`` / ``test``, or Clotho's ``development`` /
      ``validation`` / ``evaluation``), or ``split`` for every file, puts each file in that split (a
      class whose files lie in several splits is one class per split). Without either, whole classes
      are shared out between the splits by the build's seed (``partition``). A file is in one split.
    * Captions: the paraphrases of a file that state no direction (``usable_captions``): a scene adds
      its own direction words. A file none of whose captions is left is refused.
    * Audio is read lazily: the constructor reads each file once, block by block, to check it and
      to find where its sound is (``frame_rms``); ``render`` reads only the crop it cuts, mixed to
      mono (``mono_mix``) and resampled to ``sample_rate``. A crop comes from where the sound is
      (``active_crop``); a file shorter than the crop is looped.
    * A 4-channel file is taken as first-order ambisonics (W, Y, Z, X): its omnidirectional channel
      W is the event (averaging the four would cancel a source behind or on the right), and a scene
      places it anew, so the directions it was recorded at are not kept (a warning says so, naming
      the files). Recordings whose directions are known come in through ``dcase.import_dcase``
      (DCASE / STARSS metadata) or ``spatial_clotho.import_spatial_clotho`` (T-SALM's JSON).
      Other channel counts are averaged.

    Every problem is a ``CorpusError`` naming the CSV, the row and the file: a row with more fields
    than the header (an unquoted comma in a caption), a truncated WAV, a silent file.
    """

    def __init__(
        self,
        folder: str | os.PathLike,
        captions_csv: str | os.PathLike | None = None,
        sample_rate: int = FeatureConfig.sample_rate,
        split: str | None = None,
    ):
        self.folder = Path(folder)
        self.sample_rate = int(sample_rate)
        csv_path = Path(captions_csv) if captions_csv else self.folder / "captions.csv"
        self.csv_path = csv_path
        if not csv_path.is_file():
            raise CorpusError(f"{csv_path}: captions CSV not found")
        try:
            with open(csv_path, newline="", encoding="utf-8-sig") as f:
                reader = csv.DictReader(f, skipinitialspace=True)
                header = [h.strip() for h in reader.fieldnames or []]
                reader.fieldnames = header
                rows, lines = [], []
                for row in reader:
                    if None in row:  # more fields than the header: an unquoted comma shifts the captions
                        raise CorpusError(
                            f"{csv_path}, row {len(rows) + 1} (line {reader.line_num}): {len(header) + len(row[None])} "
                            f"fields, the header has {len(header)}: a caption with a comma must be in double quotes "
                            '("a car passes, then a bus")'
                        )
                    rows.append(row)
                    lines.append(reader.line_num)
        except (csv.Error, UnicodeDecodeError) as e:
            raise CorpusError(f"{csv_path}: malformed CSV: {e}") from e
        missing = [c for c in ("file_name", "caption_1") if c not in header]
        if missing:
            raise CorpusError(f"{csv_path}: missing column(s) {missing} (need {list(CLOTHO_COLUMNS)})")
        if not rows:
            raise CorpusError(f"{csv_path}: no rows")
        if split is not None and "split" in header:
            raise CorpusError(f"{csv_path}: has a split column, and split={split!r} was given too; use one of them")
        given = self._split_name(split, f"{csv_path}: split argument") if split is not None else None
        self._files: list[_Recording] = []
        units: dict[tuple, int] = {}
        self.labels: list[str] = []
        self.splits: list[str | None] = []
        self._members: list[list[int]] = []
        seen, foa = set(), []
        for i, row in enumerate(rows, start=1):
            where = f"{csv_path}, row {i}"
            name = (row.get("file_name") or "").strip()
            if not name:
                raise CorpusError(f"{where}: empty file_name")
            if Path(name).is_absolute() or ".." in Path(name).parts:
                raise CorpusError(f"{where}: file_name {name!r} must be relative to {self.folder}, without '..'")
            if name in seen:
                raise CorpusError(f"{where}: duplicate file_name {name!r}")
            seen.add(name)
            first = (row.get("caption_1") or "").strip().rstrip(".").strip()
            if not first:
                raise CorpusError(f"{where} ({name}): empty caption_1")
            captions = usable_captions((row.get(f"caption_{j}") or "" for j in range(1, 6)), f"{where} ({name})")
            file_split = self._split_name(row.get("split"), where) if "split" in header else given
            path = self.folder / name
            if not path.is_file():
                raise CorpusError(f"{where}: audio file {path} not found")
            seconds, rms, frame_s, channels = _scan(path, where)
            self._files.append(_Recording(name, path, where, captions, seconds, rms, frame_s))
            if channels == 4:
                foa.append(name)
            label = (row.get("label") or "").strip()
            key = ("label", label, file_split) if label else ("caption", " ".join(first.lower().split()), file_split)
            if key not in units:
                units[key] = len(self.labels)
                self.labels.append(label or name)
                self.splits.append(file_split)
                self._members.append([])
            self._members[units[key]].append(len(self._files) - 1)
        self.captions = [tuple(dict.fromkeys(c for f in m for c in self._files[f].captions)) for m in self._members]
        if foa:
            log.warning(
                "%s: %d of %d files have 4 channels (%s%s): read as FOA (W, Y, Z, X), their omni channel W is the "
                "sound and each scene places it anew; to keep the directions they were recorded at, import them with "
                "python -m sclap_nb.data import-dcase (DCASE / STARSS metadata) or import-spatial-clotho (T-SALM's JSON)",
                csv_path, len(foa), len(self._files), ", ".join(foa[:3]), " ..." if len(foa) > 3 else "",
            )  # fmt: skip

    @staticmethod
    def _split_name(value: str | None, where: str) -> str:
        name = SPLIT_NAMES.get((value or "").strip().lower())
        if name is None:
            raise CorpusError(f"{where}: split {value!r} is not one of {sorted(SPLIT_NAMES)}")
        return name

    def __len__(self) -> int:
        return len(self.labels)

    def files(self, k: int) -> list[str]:
        """The file names of class ``k``."""
        return [self._files[f].name for f in self._members[k]]

    def partition(self, sizes: dict[str, int], seed: int) -> dict[str, list[int]]:
        """The classes each split draws from: the given splits, else whole classes shared out between
        the splits that have scenes (``sizes``), in proportion to their scenes, by ``seed``.
        ``CorpusError`` when a split with scenes has fewer than 2 classes."""
        active = [s for s in SPLITS if sizes[s] > 0]
        if self.splits and self.splits[0] is not None:
            out = {s: [k for k, sp in enumerate(self.splits) if sp == s] for s in SPLITS}
            for s in active:
                if len(out[s]) < 2:
                    raise CorpusError(
                        f"{self.csv_path}: split {s!r} has {len(out[s])} sound class(es) "
                        f"({', '.join(self.labels[k] for k in out[s]) or 'none'}); {sizes[s]} scenes need at least 2"
                    )
            return out
        n_items = len(self)
        if n_items < 2 * len(active):
            raise CorpusError(
                f"{self.csv_path}: a folder source needs at least 2 sound classes per split, has {n_items} for {len(active)} splits"
            )
        perm = np.random.default_rng([int(seed), 9]).permutation(n_items).tolist()
        total = sum(sizes[s] for s in active)
        counts = {s: max(2, int(n_items * sizes[s] / total)) for s in active}
        while sum(counts.values()) > n_items:
            biggest = max(active, key=lambda s: counts[s])
            counts[biggest] -= 1
        out, at = {s: [] for s in SPLITS}, 0
        for s in active:
            out[s] = perm[at : at + counts[s]]
            at += counts[s]
        return out

    def render(self, k: int, rng: np.random.Generator, duration_s: float, rendering_id: str = "") -> Event:
        """A ``duration_s`` crop of one file of class ``k`` (drawn from ``rng``), from where its sound is,
        loudness-normalised; its rendering id names the file and the crop's start."""
        members = self._members[k]
        rec = self._files[members[int(rng.integers(len(members)))]]
        sr = self.sample_rate
        n = int(round(duration_s * sr))
        start = active_crop(rec.rms, rec.frame_s, rec.seconds, n / sr, rng, f"{rec.where}: {rec.path}")
        if rec.seconds * sr < n:
            whole = mono_mix(read_span(rec.path, 0.0, max(1, int(np.floor(rec.seconds * sr))), sr))
            audio = np.tile(whole, n // len(whole) + 1)[:n]
        else:
            audio = mono_mix(read_span(rec.path, start, n, sr))
        try:
            audio = normalise_event(audio, sr)
        except ValueError:
            raise CorpusError(f"{rec.where}: {rec.path}: its {duration_s:.2f} s crop at {start:.2f} s is silent") from None
        return Event(audio, self.labels[k], rec.captions, f"{rendering_id or self.labels[k]}:{rec.name}@{start:.2f}s")

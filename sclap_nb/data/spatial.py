"""FOA spatialisation: direction words, source positions, shoebox-room impulse responses.

Conventions (ambisonic): azimuth 0 = front, +90 = left, elevation + = up; Cartesian x front,
y left, z up. FOA channels are ACN/SN3D, order ``(W, Y, Z, X)``; a plane wave from unit
direction ``u`` is encoded with gains ``(1, u_y, u_z, u_x)``.

Rooms (``sample_room`` defaults): shoebox of 4-10 m x 3-8 m x 2.7-4 m, RT60 uniform in
0.2-0.5 s (Sabine; the wall energy absorption follows from ``pyroomacoustics.inverse_sabine``
and lies roughly in 0.15-0.6), the array near the room centre (+-0.5 m, at least 1.5 m from the side walls,
height 1.2-1.6 m).
The RIR is the sum of pyroomacoustics' image sources up to ``max_order`` (at most 12), each
encoded by its own direction as seen from the array, scaled by its wall damping and 1/distance,
delayed by its extra path length, normalised so that the direct path has unit gain at delay 0,
and truncated to ``max(RT60, 0.1)`` seconds.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.signal import fftconvolve

__all__ = [
    "SECTOR_WORDS",
    "COMPASS_WORDS",
    "SPEED_OF_SOUND",
    "Room",
    "Position",
    "sector_of",
    "direction_phrase",
    "doa_vector",
    "foa_gains",
    "sample_room",
    "sample_position",
    "foa_rir",
    "anechoic_rir",
    "spatialise",
]

#: index k names the sector centred on azimuth k * 45 deg (0 = front, 90 = left)
SECTOR_WORDS = ("front", "front-left", "left", "back-left", "back", "back-right", "right", "front-right")
#: the same sectors as compass words (front = north, left = west)
COMPASS_WORDS = ("north", "north-west", "west", "south-west", "south", "south-east", "east", "north-east")

_RELATIVE_PHRASES = (
    "in front",
    "to the front left",
    "on the left",
    "to the back left",
    "behind",
    "to the back right",
    "on the right",
    "to the front right",
)
SPEED_OF_SOUND = 343.0


def sector_of(az_deg: float) -> int:
    """Index (0-7) of the 45-degree azimuth sector that contains ``az_deg``."""
    return int(np.floor((float(az_deg) + 22.5) / 45.0)) % 8


def direction_phrase(az_deg: float, words: str = "relative") -> str:
    """Phrase for a direction: ``"on the left"`` (relative) or ``"from the west"`` (compass)."""
    k = sector_of(az_deg)
    if words == "relative":
        return _RELATIVE_PHRASES[k]
    if words == "compass":
        return f"from the {COMPASS_WORDS[k]}"
    raise ValueError(f"direction words must be 'relative' or 'compass', got {words!r}")


def doa_vector(az_deg: float, el_deg: float) -> np.ndarray:
    """Unit vector (x front, y left, z up) of a direction in degrees."""
    az, el = np.deg2rad(az_deg), np.deg2rad(el_deg)
    return np.array([np.cos(az) * np.cos(el), np.sin(az) * np.cos(el), np.sin(el)])


def foa_gains(unit: np.ndarray) -> np.ndarray:
    """SN3D first-order gains ``(W, Y, Z, X)`` for unit direction(s) ``unit`` of shape (3, ...)."""
    unit = np.asarray(unit, dtype=np.float64)
    return np.stack([np.ones_like(unit[0]), unit[1], unit[2], unit[0]])


@dataclass(frozen=True)
class Room:
    """A shoebox room with the array inside it."""

    room_id: str
    dims: tuple[float, float, float]
    rt60: float
    absorption: float  # energy absorption of every wall
    max_order: int
    mic: tuple[float, float, float]


@dataclass(frozen=True)
class Position:
    """A source position relative to the array."""

    azimuth: float  # degrees, (-180, 180]
    elevation: float  # degrees
    distance: float  # metres
    sector: int


def sample_room(
    rng: np.random.Generator,
    room_id: str,
    size_range: tuple[tuple[float, float], ...] = ((4.0, 10.0), (3.0, 8.0), (2.7, 4.0)),
    rt60_range: tuple[float, float] = (0.2, 0.5),
    max_order: int = 12,
) -> Room:
    """A random shoebox room (ranges in the module docstring)."""
    import pyroomacoustics as pra

    dims = tuple(float(rng.uniform(lo, hi)) for lo, hi in size_range)
    rt60 = float(rng.uniform(*rt60_range))
    absorption, order = pra.inverse_sabine(rt60, list(dims))
    # near the centre, and at least 1.5 m from every side wall so that every azimuth fits a source
    mic = (
        *(float(np.clip(d / 2 + rng.uniform(-0.5, 0.5), 1.5, d - 1.5)) for d in dims[:2]),
        float(rng.uniform(1.2, 1.6)),
    )
    return Room(room_id, dims, rt60, float(absorption), int(min(order, max_order)), mic)


def _max_distance(room: Room, unit: np.ndarray, margin: float) -> float:
    """How far one can go from the array along ``unit`` and stay ``margin`` inside the walls."""
    mic = np.asarray(room.mic)
    lo, hi = margin - mic, np.asarray(room.dims) - margin - mic
    with np.errstate(divide="ignore"):
        t = np.where(unit > 0, hi / unit, np.where(unit < 0, lo / unit, np.inf))
    return float(t.min())


def sample_position(
    rng: np.random.Generator,
    sector: int,
    room: Room | None = None,
    jitter_deg: float = 22.5,
    max_elevation: float = 45.0,
    distance_range: tuple[float, float] = (1.0, 3.0),
    margin: float = 0.3,
) -> Position:
    """A position in azimuth sector ``sector`` (centre +- ``jitter_deg``), |elevation| <= ``max_elevation``,
    at least ``distance_range[0]`` from the array and, with a room, ``margin`` inside its walls."""
    az = sector * 45.0 + float(rng.uniform(-jitter_deg, jitter_deg))
    az = (az + 180.0) % 360.0 - 180.0
    el_max = max_elevation
    for _ in range(100):
        el = float(rng.uniform(-el_max, el_max))
        d_hi = distance_range[1]
        if room is not None:
            d_hi = min(d_hi, _max_distance(room, doa_vector(az, el), margin))
        if d_hi >= distance_range[0]:
            dist = float(rng.uniform(distance_range[0], d_hi))
            return Position(az, el, dist, sector_of(az))
        el_max *= 0.8
    raise ValueError(f"room {room.room_id if room else ''}: no position {distance_range[0]} m from the array fits")


def foa_rir(room: Room, pos: Position, sample_rate: int) -> np.ndarray:
    """FOA room impulse response ``(4, L)`` from pyroomacoustics' image sources (see module docstring)."""
    import pyroomacoustics as pra

    mic = np.asarray(room.mic)
    src = mic + pos.distance * doa_vector(pos.azimuth, pos.elevation)
    shoebox = pra.ShoeBox(
        list(room.dims),
        fs=sample_rate,
        materials=pra.Material(room.absorption),
        max_order=room.max_order,
        air_absorption=False,
    )
    shoebox.add_source(src)
    shoebox.add_microphone(mic)
    shoebox.image_source_model()
    source = shoebox.sources[0]
    vec = source.images - mic[:, None]  # (3, K)
    dist = np.linalg.norm(vec, axis=0)
    d0 = dist.min()
    gain = source.damping[0] * d0 / dist
    delay = (dist - d0) / SPEED_OF_SOUND * sample_rate
    length = int(max(room.rt60, 0.1) * sample_rate)
    keep = delay < length - 1
    delay, gain, vec, dist = delay[keep], gain[keep], vec[:, keep], dist[keep]
    enc = foa_gains(vec / dist) * gain  # (4, K)
    i0 = np.floor(delay).astype(np.int64)
    frac = delay - i0
    rir = np.zeros((4, length))
    for c in range(4):  # linear-interpolated fractional delays
        rir[c] += np.bincount(i0, enc[c] * (1 - frac), minlength=length)[:length]
        rir[c] += np.bincount(i0 + 1, enc[c] * frac, minlength=length)[:length]
    return rir.astype(np.float32)


def anechoic_rir(pos: Position) -> np.ndarray:
    """A single plane wave from ``pos``: ``(4, 1)`` gains."""
    return foa_gains(doa_vector(pos.azimuth, pos.elevation))[:, None].astype(np.float32)


def spatialise(mono: np.ndarray, rir: np.ndarray) -> np.ndarray:
    """Convolve a mono signal with a ``(4, L)`` FOA impulse response -> ``(4, N + L - 1)``."""
    if rir.shape[1] == 1:
        return (rir * mono[None, :]).astype(np.float32)
    return fftconvolve(mono[None, :], rir, axes=1).astype(np.float32)

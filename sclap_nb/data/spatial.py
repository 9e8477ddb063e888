"""FOA spatialisation: direction words, source positions, shoebox-room impulse responses.

Conventions (ambisonic): azimuth 0 = front, +90 = left, elevation + = up; Cartesian x front,
y left, z up. FOA channels are ACN/SN3D, order ``(W, Y, Z, X)``; a plane wave from unit
direction ``u`` is encoded with gains ``(1, u_y, u_z, u_x)``.

Positions (``sample_position``): azimuth within its 45-degree sector, at least
``boundary_margin_deg`` (7.5) inside the sector's boundaries so that the direction word is never a
coin toss; elevation within +-45 deg; 1-3 m from the array and 0.3 m inside the walls.

Rooms (``sample_room`` defaults): shoebox of 4-10 m x 3-8 m x 2.7-4 m, RT60 uniform in
0.2-0.5 s (Sabine; the wall energy absorption follows from ``pyroomacoustics.inverse_sabine``
and lies roughly in 0.15-0.6), the array near the room centre (+-0.5 m, at least 1.5 m from the side walls,
height 1.2-1.6 m).

The RIR (``foa_rir``) has two parts, its time axis starting at the direct path's arrival:

* early: pyroomacoustics' image sources up to ``max_order`` (at most 12), each encoded by its own
  direction as seen from the array, scaled by its wall damping and ``1 m / distance`` (a source
  at 2 m has a direct path 6 dB below one at 1 m; the reverberant level hardly depends on the
  distance, so the direct-to-reverberant ratio falls with it) and delayed by its extra path length.
  The images of order <= N are complete up to the distance ``r_c = N / |(1/Lx, 1/Ly, 1/Lz)|`` (every
  lattice image nearer than that needs at most N reflections).
* late, from ``t_c = min(r_c / c, TAIL_START_S = 50 ms)`` after the direct path, where the image
  sources stop: a diffuse tail, Gaussian noise under the envelope ``exp(-6.91 t / RT60)`` (60 dB of
  energy decay per RT60), its level fitted to the W energy of the image sources between ``t_c / 2``
  and ``t_c`` so that the energy envelope is continuous. It is encoded as a diffuse field: every
  sample comes from its own uniformly random direction (``W = n``, ``(Y, Z, X) = n u``), so the tail
  carries no net intensity and each dipole channel a third of W's energy. Its noise is drawn from a
  generator seeded by a hash of the room, the position and the sample rate (the same inputs give
  the same RIR, whatever the global random state).

Why: pyroomacoustics asks image orders of about 25-60 for these rooms, and order 12 alone ends
the decay early (T20 0.4-1.1 x RT60). Beyond ~50 ms, a shoebox with equal absorption on every wall
is not diffuse and its image sources decay up to ~15 % off the Sabine RT60; the tail from 50 ms
keeps the Schroeder T20 within ~8 % of ``rt60`` (T30 within ~4 %).

The RIR is ``max(1.25 RT60, 0.1 s)`` long (75 dB of decay).
"""

from __future__ import annotations

import hashlib
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
    "azimuth_of",
    "direction_phrase",
    "doa_vector",
    "foa_gains",
    "sample_room",
    "sample_position",
    "min_separation_deg",
    "complete_distance",
    "tail_start",
    "foa_rir",
    "anechoic_rir",
    "spatialise",
    "PATH_STEP_DEG",
    "SourcePath",
    "direction_noun",
    "motion_phrase",
    "wrap_azimuth",
    "sample_path",
    "spatialise_moving",
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
#: RIR length in units of RT60 (75 dB of energy decay)
RIR_LENGTH_RT60 = 1.25
#: the late tail starts at most this long after the direct path (the end of the early reflections)
TAIL_START_S = 0.05


def sector_of(az_deg):
    """Index (0-7) of the 45-degree azimuth sector that contains ``az_deg`` (the package's one rule).

    Sector k spans ``[k * 45 - 22.5, k * 45 + 22.5)`` degrees, so a boundary belongs to the sector
    counter-clockwise of it: 22.5 -> 1, -22.5 -> 0, 157.5 -> 4, 180 -> 4. A number gives an ``int``;
    an array or a tensor of azimuths gives one of sector indices, of the same kind.
    """
    # azimuths are rounded to 1e-9 degrees first, so that a direction computed to lie on a boundary
    # (atan2 of a vector at 22.5 degrees gives 22.499999999999996) falls on the same side as the number
    if hasattr(az_deg, "detach"):  # a torch tensor (no import of torch here)
        return ((((az_deg.double() * 1e9).round() / 1e9 + 22.5) / 45.0).floor().long()) % 8
    if np.ndim(az_deg):
        return (np.floor((np.round(np.asarray(az_deg, dtype=np.float64), 9) + 22.5) / 45.0).astype(np.int64)) % 8
    return int(np.floor((round(float(az_deg), 9) + 22.5) / 45.0)) % 8


def azimuth_of(vectors):
    """Azimuth in degrees of direction vectors ``(..., 3)`` (x front, y left): numpy or torch alike."""
    if hasattr(vectors, "detach"):
        return vectors[..., 1].atan2(vectors[..., 0]).rad2deg()
    v = np.asarray(vectors, dtype=np.float64)
    return np.rad2deg(np.arctan2(v[..., 1], v[..., 0]))


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


def min_separation_deg(min_sector_gap: int, boundary_margin_deg: float = 7.5) -> float:
    """Least azimuth difference of two positions ``min_sector_gap`` (1-4) sectors apart.

    ``45 * min_sector_gap`` degrees, except that opposite sectors (gap 4) can only promise
    ``180 - 2 * (22.5 - boundary_margin_deg)`` (their jitters may not both be zero).
    """
    if not 1 <= int(min_sector_gap) <= 4:
        raise ValueError(f"min_sector_gap must be in 1..4, got {min_sector_gap}")
    return min(45.0 * int(min_sector_gap), 180.0 - 2.0 * (22.5 - boundary_margin_deg))


def sample_position(
    rng: np.random.Generator,
    sector: int,
    room: Room | None = None,
    boundary_margin_deg: float = 7.5,
    max_elevation: float = 45.0,
    distance_range: tuple[float, float] = (1.0, 3.0),
    margin: float = 0.3,
    away_from: Position | None = None,
    min_sector_gap: int = 2,
) -> Position:
    """A position in azimuth sector ``sector``, |elevation| <= ``max_elevation``, at least
    ``distance_range[0]`` from the array and, with a room, ``margin`` inside its walls.

    The azimuth is uniform in the sector's centre +- ``22.5 - boundary_margin_deg`` degrees, so it
    is at least ``boundary_margin_deg`` away from the neighbouring sectors. With ``away_from``, it is
    uniform over the part of that range that lies ``min_separation_deg(min_sector_gap,
    boundary_margin_deg)`` or more from ``away_from``'s azimuth (one draw: the bound holds by
    construction; ``sector`` must be at least ``min_sector_gap`` sectors from ``away_from``'s).
    """
    if not 0.0 <= boundary_margin_deg < 22.5:
        raise ValueError(f"boundary_margin_deg must be in [0, 22.5), got {boundary_margin_deg}")
    jitter = 22.5 - boundary_margin_deg
    lo, hi = -jitter, jitter
    if away_from is not None:
        gap = (sector - away_from.sector + 4) % 8 - 4  # signed, -4..3 (+ = counter-clockwise, to the left)
        if abs(gap) < min_sector_gap:
            raise ValueError(f"sector {sector} is {abs(gap)} sector(s) from sector {away_from.sector}, need {min_sector_gap}")
        need = min_separation_deg(min_sector_gap, boundary_margin_deg)
        j0 = (away_from.azimuth - away_from.sector * 45.0 + 180.0) % 360.0 - 180.0  # its offset from its sector centre
        if abs(gap) == 4:  # opposite: separation 180 - |j - j0|
            lo, hi = max(lo, j0 - (180.0 - need)), min(hi, j0 + (180.0 - need))
        elif gap > 0:  # separation 45 * gap + (j - j0)
            lo = max(lo, j0 + need - 45.0 * gap)
        else:  # separation 45 * |gap| - (j - j0)
            hi = min(hi, j0 - need + 45.0 * abs(gap))
        if lo > hi:
            raise ValueError(f"no azimuth in sector {sector} is {need} deg from {away_from.azimuth:.1f} deg")
    az = sector * 45.0 + float(rng.uniform(lo, hi))
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


def _tail_rng(room: Room, pos: Position, sample_rate: int) -> np.random.Generator:
    """Generator of the late tail's noise: a function of the room, the position and the rate alone."""
    key = repr((room.room_id, room.dims, room.rt60, room.absorption, room.max_order, room.mic, pos.azimuth, pos.elevation, pos.distance, int(sample_rate)))
    return np.random.default_rng(int.from_bytes(hashlib.sha256(key.encode()).digest()[:16], "little"))


def complete_distance(room: Room) -> float:
    """Distance (m, from the array) up to which the image sources of order <= ``max_order`` are all there."""
    return room.max_order / float(np.linalg.norm(1.0 / np.asarray(room.dims, dtype=np.float64)))


def tail_start(room: Room, pos: Position, sample_rate: int) -> int:
    """First sample (from the direct path) of the late tail: ``min(r_c - distance, c * TAIL_START_S) / c``."""
    return int(np.ceil(min(complete_distance(room) - pos.distance, SPEED_OF_SOUND * TAIL_START_S) / SPEED_OF_SOUND * sample_rate))


def foa_rir(room: Room, pos: Position, sample_rate: int) -> np.ndarray:
    """FOA room impulse response ``(4, L)``: image sources, then a diffuse tail (see module docstring).

    Sample 0 is the direct path's arrival, with gain ``1 m / pos.distance``.
    """
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
    gain = source.damping[0] / dist  # 1 m reference distance
    delay = (dist - d0) / SPEED_OF_SOUND * sample_rate  # from the direct path
    length = int(max(RIR_LENGTH_RT60 * room.rt60, 0.1) * sample_rate)
    n_c = min(length, tail_start(room, pos, sample_rate))
    keep = delay < n_c - 1
    delay, gain, vec, dist = delay[keep], gain[keep], vec[:, keep], dist[keep]
    enc = foa_gains(vec / dist) * gain  # (4, K)
    i0 = np.floor(delay).astype(np.int64)
    frac = delay - i0
    rir = np.zeros((4, length))
    for c in range(4):  # linear-interpolated fractional delays
        rir[c] += np.bincount(i0, enc[c] * (1 - frac), minlength=length)[:length]
        rir[c] += np.bincount(i0 + 1, enc[c] * frac, minlength=length)[:length]
    if n_c < length:
        rir[:, n_c:] = _diffuse_tail(rir[0], n_c, length, room, pos, sample_rate)
    return rir.astype(np.float32)


def _diffuse_tail(w: np.ndarray, n_c: int, length: int, room: Room, pos: Position, sample_rate: int) -> np.ndarray:
    """Samples ``n_c:length`` of the late tail ``(4, length - n_c)`` (module docstring).

    Its energy per sample is ``A exp(-13.82 t / RT60)`` (t from the direct path), ``A`` fitted so that the
    same envelope carries the W energy ``w`` of the image sources from ``n_c / 2`` (at least 5 ms after
    the direct path) to ``n_c``.
    """
    k = 6.0 * np.log(10.0) / room.rt60 / sample_rate  # energy decay per sample (60 dB per RT60)
    n_a = max(int(0.005 * sample_rate), n_c // 2)
    if n_c - n_a < int(0.005 * sample_rate):
        raise ValueError(
            f"room {room.room_id}: image sources of order <= {room.max_order} are complete only "
            f"{(n_c / sample_rate) * 1e3:.1f} ms after the direct path, too short to set the late tail's level; raise max_order"
        )
    t_fit = np.arange(n_a, n_c)
    energy = float(np.sum(w[n_a:n_c] ** 2))
    if energy <= 0.0:
        raise ValueError(f"room {room.room_id}: no image-source energy between {n_a} and {n_c} samples to set the late tail's level")
    amp = energy / float(np.sum(np.exp(-k * t_fit)))
    t = np.arange(n_c, length)
    rng = _tail_rng(room, pos, sample_rate)
    noise = rng.standard_normal(t.size) * np.sqrt(amp * np.exp(-k * t))
    u = rng.standard_normal((3, t.size))
    u /= np.linalg.norm(u, axis=0)  # uniform on the sphere, one direction per sample
    return foa_gains(u) * noise


def anechoic_rir(pos: Position) -> np.ndarray:
    """A single plane wave from ``pos``: ``(4, 1)`` gains."""
    return foa_gains(doa_vector(pos.azimuth, pos.elevation))[:, None].astype(np.float32)


def spatialise(mono: np.ndarray, rir: np.ndarray) -> np.ndarray:
    """Convolve a mono signal with a ``(4, L)`` FOA impulse response -> ``(4, N + L - 1)``."""
    if rir.shape[1] == 1:
        return (rir * mono[None, :]).astype(np.float32)
    return fftconvolve(mono[None, :], rir, axes=1).astype(np.float32)


# ---------------------------------------------------------------- moving sources (the "timed" scenes)

#: noun phrases of the 8 sectors for "from X to Y" (relative words); compass words use "the north" etc.
_RELATIVE_NOUNS = (
    "the front",
    "the front left",
    "the left",
    "the back left",
    "the back",
    "the back right",
    "the right",
    "the front right",
)
#: largest azimuth step (degrees) between the points of a path whose early reflections are crossfaded
PATH_STEP_DEG = 10.0


def direction_noun(az_deg: float, words: str = "relative") -> str:
    """Noun phrase of a direction, as it reads after "from" or "to": ``"the left"``, ``"the west"``."""
    k = sector_of(az_deg)
    if words == "relative":
        return _RELATIVE_NOUNS[k]
    if words == "compass":
        return f"the {COMPASS_WORDS[k]}"
    raise ValueError(f"direction words must be 'relative' or 'compass', got {words!r}")


def motion_phrase(az_start: float, az_end: float, words: str = "relative") -> str:
    """``"moving from the left to the front"``: where a moving source starts and where it ends."""
    return f"moving from {direction_noun(az_start, words)} to {direction_noun(az_end, words)}"


def wrap_azimuth(az_deg):
    """Azimuth(s) wrapped into [-180, 180)."""
    return (np.asarray(az_deg, dtype=np.float64) + 180.0) % 360.0 - 180.0


@dataclass(frozen=True)
class SourcePath:
    """A source that moves at constant angular speed along the shorter arc from ``az_start`` to
    ``az_end`` (degrees; the arc is less than 180 deg, so "from X to Y" names one way round), at a
    fixed elevation and distance (metres) from the array. ``reversed()`` is the same path the other
    way round."""

    az_start: float
    az_end: float
    elevation: float
    distance: float

    @property
    def sweep(self) -> float:
        """Signed azimuth travelled, degrees (+ = counter-clockwise, towards the left)."""
        return float(wrap_azimuth(self.az_end - self.az_start))

    def azimuth_at(self, u):
        """Azimuth (degrees) at the share ``u`` in [0, 1] of the way (number or array)."""
        return wrap_azimuth(self.az_start + self.sweep * np.asarray(u, dtype=np.float64))

    def position_at(self, u: float) -> Position:
        """The ``Position`` at the share ``u`` of the way, its azimuth rounded to 1e-6 deg (so a path and its
        reverse meet the same points, bit for bit)."""
        az = round(float(self.azimuth_at(u)), 6)
        return Position(az, self.elevation, self.distance, sector_of(az))

    def reversed(self) -> SourcePath:
        return SourcePath(self.az_end, self.az_start, self.elevation, self.distance)


def sample_path(
    rng: np.random.Generator,
    start_sector: int,
    end_sector: int,
    room: Room | None = None,
    boundary_margin_deg: float = 7.5,
    max_elevation: float = 20.0,
    distance_range: tuple[float, float] = (1.0, 3.0),
    margin: float = 0.3,
) -> SourcePath:
    """A path from sector ``start_sector`` to ``end_sector`` (2 or 3 sectors apart, so it sweeps 60-165 deg
    along the shorter arc): each end uniform in its sector's centre +- ``22.5 - boundary_margin_deg``,
    the elevation uniform in +- ``max_elevation``, the distance uniform from ``distance_range[0]`` to the
    most that keeps every point of the arc ``margin`` inside the room's walls (and ``distance_range[1]``)."""
    gap = (end_sector - start_sector + 4) % 8 - 4
    if abs(gap) not in (2, 3):
        raise ValueError(f"a path needs its ends 2 or 3 sectors apart, got sectors {start_sector} and {end_sector}")
    jitter = 22.5 - boundary_margin_deg
    a0 = float(wrap_azimuth(start_sector * 45.0 + rng.uniform(-jitter, jitter)))
    a1 = float(wrap_azimuth(end_sector * 45.0 + rng.uniform(-jitter, jitter)))
    el_max = max_elevation
    for _ in range(100):
        el = float(rng.uniform(-el_max, el_max))
        d_hi = distance_range[1]
        if room is not None:
            arc = SourcePath(a0, a1, el, 1.0).azimuth_at(np.linspace(0.0, 1.0, 19))
            d_hi = min(d_hi, min(_max_distance(room, doa_vector(a, el), margin) for a in arc))
        if d_hi >= distance_range[0]:
            return SourcePath(a0, a1, el, float(rng.uniform(distance_range[0], d_hi)))
        el_max *= 0.8
    raise ValueError(f"room {room.room_id if room else ''}: no path {distance_range[0]} m from the array fits")


def spatialise_moving(
    mono: np.ndarray,
    path: SourcePath,
    room: Room | None,
    sample_rate: int,
    step_deg: float = PATH_STEP_DEG,
    rir=None,
) -> np.ndarray:
    """A mono signal moving along ``path`` over its whole length, as FOA ``(4, N + L - 1)`` (``L``: the
    room's RIR length; 1 without a room).

    * Direct path: encoded per sample, from the direction at sample ``n``'s share ``(n + 0.5) / N`` of the
      way (so a path and its reverse give the same directions in reverse order), with the gain
      ``1 m / distance`` of ``foa_rir`` (1 without a room, as ``anechoic_rir``).
    * Early reflections (a room only): the image sources of ``foa_rir`` at ``K + 1`` points evenly spaced
      along the path (``K = ceil(|sweep| / step_deg)``), each fed the signal under a triangular
      window that is 1 at its point and 0 at its neighbours (the windows sum to 1: a linear crossfade
      between neighbouring points), convolved and added (overlap-add).
    * Late tail: the diffuse tail of ``foa_rir`` at the middle of the path, for the whole signal (a diffuse
      field has no direction; the tails of the other points would be independent noises whose crossfade
      dips the tail's level between points).

    A path of zero sweep gives ``spatialise(mono, foa_rir(room, position))``. ``rir``: a function
    ``Position -> (4, L)`` RIR to use instead of ``foa_rir(room, ., sample_rate)`` (e.g. a cache).
    """
    x = np.asarray(mono, dtype=np.float64)
    n = len(x)
    u = (np.arange(n) + 0.5) / n
    unit = doa_vector(path.azimuth_at(u), np.full(n, path.elevation))  # (3, n)
    if room is None:
        return (foa_gains(unit) * x).astype(np.float32)
    rir = rir or (lambda p: foa_rir(room, p, sample_rate))
    k_steps = max(1, int(np.ceil(abs(path.sweep) / step_deg)))
    mid = rir(path.position_at(0.5))
    length = mid.shape[1]
    n_c = min(length, tail_start(room, path.position_at(0.5), sample_rate))
    out = np.zeros((4, n + length - 1))
    out[:, :n] += foa_gains(unit) * x / path.distance
    f = u * k_steps
    for k in range(k_steps + 1):
        w = np.clip(1.0 - np.abs(f - k), 0.0, None)
        on = np.flatnonzero(w)
        if not len(on) or n_c <= 1:
            continue
        a, b = on[0], on[-1] + 1
        early = rir(path.position_at(k / k_steps))[:, 1:n_c].astype(np.float64)  # without the direct path
        out[:, a + 1 : b + n_c - 1] += fftconvolve((w * x)[None, a:b], early, axes=1)
    if n_c < length:
        out[:, n_c : n + length - 1] += fftconvolve(x[None, :], mid[:, n_c:].astype(np.float64), axes=1)
    return out.astype(np.float32)

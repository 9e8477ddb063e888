"""FOA features: log-mel of the omni channel and the 7-channel logmelIV.

Input waveforms are first-order ambisonics in ACN channel order with SN3D
normalisation: ``(W, Y, Z, X)``. Everything is torch, batched, and runs on
whatever device the waveform lives on.

Outputs follow the axis order ``(B, C, T, M)``: batch, channel, time frames,
mel bands.

* ``logmel``   ``(B, 1, T, M)``: power log-mel (dB) of W.
* ``logmeliv`` ``(B, 7, T, M)``: the log-mels of W, Y, Z, X followed by the
  three active-intensity components ``Re(conj(W) * {X, Y, Z})``, projected on the
  mel filterbank and divided by the mel-projected energy ``(|W|^2 + |X|^2 + |Y|^2 + |Z|^2) / 2``
  (``iv_norm="energy"``, the DCASE convention with the normalisation after the projection):
  within a band, loud bins weigh by their energy and bins far below them (noise) hardly count.
  Each channel lies in ``[-1, 1]``; a plane wave from unit direction ``u`` gives exactly ``u``
  (x front, y left, z up), a diffuse field a shorter vector. ``iv_norm="unit"`` is the earlier
  variant: each bin's vector unit-normalised before the projection, so a bin 50 dB below the
  peak weighs as much as the loudest one.
"""

from __future__ import annotations


import numpy as np
import torch
from torch import nn

from .config import FeatureConfig

__all__ = ["FeatureConfig", "FOAFeatures", "check_foa", "feature_frames", "iv_direction"]


def feature_frames(n_samples: int, cfg: FeatureConfig) -> int:
    """Number of STFT frames (centred) for a clip of ``n_samples``."""
    return n_samples // cfg.hop_length + 1


def check_foa(wave: torch.Tensor, cfg: FeatureConfig, name: str = "waveform") -> None:
    """Raise a ValueError naming the problem if ``wave`` is not a usable FOA batch."""
    if wave.ndim != 3:
        raise ValueError(f"{name}: expected a (batch, 4, samples) tensor, got shape {tuple(wave.shape)}")
    if wave.shape[1] != 4:
        raise ValueError(
            f"{name}: expected 4 FOA channels (W, Y, Z, X), got {wave.shape[1]} channels"
        )
    if wave.shape[2] < cfg.n_fft:
        raise ValueError(
            f"{name}: clip too short: {wave.shape[2]} samples, need at least n_fft={cfg.n_fft}"
        )
    if not torch.isfinite(wave).all():
        bad = (~torch.isfinite(wave)).flatten(1).any(1).nonzero().flatten().tolist()
        raise ValueError(f"{name}: NaN or infinite samples in batch item(s) {bad}")


class FOAFeatures(nn.Module):
    """Batched log-mel and logmelIV of FOA waveforms ``(B, 4, N)``."""

    def __init__(self, cfg: FeatureConfig | None = None):
        super().__init__()
        import librosa

        self.cfg = cfg = cfg or FeatureConfig()
        fb = librosa.filters.mel(
            sr=cfg.sample_rate,
            n_fft=cfg.n_fft,
            n_mels=cfg.n_mels,
            fmin=cfg.fmin,
            fmax=cfg.fmax,
            htk=False,
            norm="slaney",
        )  # (M, F)
        self.register_buffer("mel_fb", torch.from_numpy(fb.astype(np.float32)).T.contiguous(), persistent=False)
        self.register_buffer("window", torch.hann_window(cfg.n_fft), persistent=False)

    def stft(self, wave: torch.Tensor) -> torch.Tensor:
        """Complex STFT ``(B, 4, T, F)``."""
        b, c, n = wave.shape
        spec = torch.stft(
            wave.reshape(b * c, n).float(),
            n_fft=self.cfg.n_fft,
            hop_length=self.cfg.hop_length,
            window=self.window,
            center=True,
            pad_mode="constant",
            return_complex=True,
        )  # (B*C, F, T)
        return spec.reshape(b, c, spec.shape[-2], spec.shape[-1]).transpose(-1, -2)

    def _power_to_db(self, power_mel: torch.Tensor) -> torch.Tensor:
        db = 10.0 * torch.log10(power_mel.clamp_min(self.cfg.eps))
        # clip the dynamic range per clip (over all channels, frames, bands), as librosa's top_db
        peak = db.flatten(1).amax(1).view(-1, *([1] * (db.ndim - 1)))
        return torch.maximum(db, peak - self.cfg.top_db)

    def forward(self, wave: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Return ``(logmel (B,1,T,M), logmeliv (B,7,T,M))``."""
        check_foa(wave, self.cfg)
        spec = self.stft(wave)  # (B, 4, T, F)
        power = spec.real**2 + spec.imag**2
        logmels = self._power_to_db(power @ self.mel_fb)  # (B, 4, T, M)
        w, y, z, x = spec.unbind(1)
        iv = torch.stack([(w.conj() * x).real, (w.conj() * y).real, (w.conj() * z).real], 1)  # (B,3,T,F)
        if self.cfg.iv_norm == "energy":
            energy = power.sum(1, keepdim=True) / 2  # (|W|^2 + |X|^2 + |Y|^2 + |Z|^2) / 2 >= |intensity|
            iv_mel = (iv @ self.mel_fb) / (energy @ self.mel_fb).clamp_min(self.cfg.eps)  # (B, 3, T, M)
        else:
            iv = iv / (iv * iv).sum(1, keepdim=True).sqrt().clamp_min(self.cfg.eps)
            # project on the filterbank, weights of each band normalised to sum to 1 -> stays in [-1, 1]
            fb = self.mel_fb / self.mel_fb.sum(0, keepdim=True).clamp_min(self.cfg.eps)
            iv_mel = iv @ fb  # (B, 3, T, M)
        return logmels[:, :1], torch.cat([logmels, iv_mel], 1)


def iv_direction(logmeliv: torch.Tensor, weights: torch.Tensor | None = None) -> torch.Tensor:
    """Azimuth and elevation (degrees) of the mean intensity vector of each clip.

    ``logmeliv`` is ``(B, 7, T, M)``; ``weights`` (optional, ``(B, T)``) weights frames,
    e.g. by energy, so silent frames do not count. Returns ``(B, 2)``: azimuth (0 front,
    +90 left) and elevation.
    """
    iv = logmeliv[:, 4:7]  # (B, 3, T, M)  x, y, z
    if weights is not None:
        iv = iv * weights[:, None, :, None]
    v = iv.sum((2, 3))
    az = torch.rad2deg(torch.atan2(v[:, 1], v[:, 0]))
    el = torch.rad2deg(torch.atan2(v[:, 2], v[:, :2].norm(dim=1)))
    return torch.stack([az, el], 1)

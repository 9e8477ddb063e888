"""The chapters' plotting helpers, kept importable under their old module name.

Every figure helper of the book lives in :mod:`sclap_nb.viz` (one module, one style); this module
re-exports the names chapters import as ``viz_book.<name>``.
"""

from __future__ import annotations

from .viz import (  # noqa: F401
    FOA_NAMES,
    frame_azimuth,
    frame_energy,
    plot_curves,
    plot_embedding_2d,
    plot_mask,
    plot_paired_hist,
    plot_sweep,
    plot_triplet_directions,
    plot_triplet_logmel,
    plot_triplet_waves,
)

__all__ = [
    "FOA_NAMES",
    "frame_energy",
    "frame_azimuth",
    "plot_triplet_waves",
    "plot_triplet_logmel",
    "plot_triplet_directions",
    "plot_curves",
    "plot_sweep",
    "plot_paired_hist",
    "plot_mask",
    "plot_embedding_2d",
]

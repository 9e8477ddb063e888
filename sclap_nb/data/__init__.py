"""stClotho data: sound sources, FOA spatialiser, scene builder, on-disk corpus, loaders.

Build a corpus with ``python -m sclap_nb.data build --out DIR --train N --val N --test N --seed S``
or ``build_corpus``; convert recorded FOA sets with ``import_dcase`` (DCASE / STARSS) and
``import_spatial_clotho`` (T-SALM's sClotho / stClotho); read a corpus with ``StClothoDataset`` /
``StClothoDataModule``.

Modules: ``sources`` (soundfont and folder sources), ``spatial`` (directions, rooms, FOA RIRs),
``scenes`` (pos / neg_t / neg_s / neg_c groups), ``corpus`` (writer, reader, validation),
``dataset`` (torch dataset, collate, feature cache, Lightning module), ``dcase`` and
``spatial_clotho`` (recorded FOA corpora in this layout).
"""

from .corpus import (
    FILE_PREFIX,
    METADATA_COLUMNS,
    SPLITS,
    build_corpus,
    ensure_corpus,
    load_clip,
    read_metadata,
    scene_roles,
    stale_builds,
    validate_corpus,
    write_corpus,
)
from .dataset import EpochShuffleSampler, StClothoDataset, collate_groups, feature_cache
from .errors import CorpusError
from .scenes import CONNECTORS, ROLES, SPEC_ROLES, allowed_gaps, make_scene
from .dcase import import_dcase, rotate_foa
from .sources import SOUND_CLASSES, Event, FolderSource, SoundClass, SoundfontSource, soundfont_path
from .spatial_clotho import import_spatial_clotho
from .spatial import (
    COMPASS_WORDS,
    SECTOR_WORDS,
    Position,
    Room,
    anechoic_rir,
    direction_phrase,
    doa_vector,
    foa_rir,
    sample_position,
    sample_room,
    sector_of,
    azimuth_of,
    spatialise,
)

__all__ = [
    "build_corpus", "ensure_corpus", "validate_corpus", "read_metadata", "load_clip", "stale_builds", "scene_roles",
    "StClothoDataset", "StClothoDataModule", "EpochShuffleSampler", "collate_groups", "feature_cache",
    "CorpusError", "SoundfontSource", "FolderSource", "SoundClass", "SOUND_CLASSES", "Event", "soundfont_path",
    "SECTOR_WORDS", "COMPASS_WORDS", "direction_phrase", "sector_of", "azimuth_of", "doa_vector",
    "Room", "Position", "sample_room", "sample_position", "foa_rir", "anechoic_rir", "spatialise",
    "CONNECTORS", "ROLES", "SPEC_ROLES", "allowed_gaps", "make_scene",
    "SPLITS", "METADATA_COLUMNS", "FILE_PREFIX", "write_corpus", "import_dcase", "import_spatial_clotho", "rotate_foa",
]  # fmt: skip


def __getattr__(name: str):
    # StClothoDataModule needs Lightning, deferred on purpose: inference (sclap_nb.api, sclap_nb.evaluate)
    # reads corpora and datasets without loading it
    if name == "StClothoDataModule":
        from .datamodule import StClothoDataModule

        return StClothoDataModule
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")

"""The error every data check raises."""

from __future__ import annotations

__all__ = ["CorpusError"]


class CorpusError(ValueError):
    """Bad corpus, source folder or captions file; the message names the file and the row."""

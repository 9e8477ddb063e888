"""Embed FOA clips with a trained model into an ``.npz``: embeddings, file names, DOA and sectors.

    python -m sclap_nb.embed results/train/model my_clips/ --out emb.npz

``MODEL`` is an export directory, a Lightning checkpoint (``best.ckpt``) or a run directory. The
``.npz`` holds ``names``, ``joint``, ``triplet`` and ``sed`` (the audio embeddings, L2-normalised; no
``triplet`` without a temporal path; ``sed``: the semantic branch, what a sound is without where), ``doa`` (unit vectors ``(N, 2, 3)``), ``sectors``,
``azimuth`` and ``elevation`` (degrees), ``sector_words``, ``default`` (the embedding to search
with: ``--embedding``, which ``python -m sclap_nb.search --embeddings`` honours) and ``model_id``.
An existing ``--out`` is refused unless ``--overwrite``.

A file that cannot be embedded (not audio, not 4 channels, truncated, silent, too short) ends the
command with one ``error:`` line naming it; ``--skip-bad`` embeds the others and prints one
``skipped`` line per file left out, naming it and why. The embeddings of files are cached by
content (``--cache DIR``, default ``$XDG_CACHE_HOME/sclap_nb`` or ``~/.cache/sclap_nb``, never the
audio's folder; ``--no-cache``), so a file embedded before is read back. A progress bar on stderr
shows while many files are embedded (``--quiet``: none). Audio conventions (resampling, clip
length): ``sclap_nb.api``.
"""

from __future__ import annotations

import argparse
import sys
import warnings
from pathlib import Path

from .api import BadAudio, SkippedAudio, load
from .export import ExportError

__all__ = ["main", "add_embedding_options", "embed_files"]


def add_embedding_options(p: argparse.ArgumentParser) -> None:
    """The flags of ``embed`` and ``search`` that choose how clips are embedded."""
    p.add_argument("--device", help="where the model runs: cpu, cuda, cuda:1, ... (default: a GPU where there is one)")
    p.add_argument("--batch-size", type=int, default=32, help="clips per forward pass: more is faster and takes more "
                   "memory (default 32)")  # fmt: skip
    p.add_argument("--skip-bad", action="store_true", help="embed the files that can be and leave out the others (not "
                   "audio, not 4 channels, truncated, silent, too short), one 'skipped' line each on stderr")  # fmt: skip
    cache = p.add_mutually_exclusive_group()
    cache.add_argument("--cache", metavar="DIR", help="keep the files' embeddings in DIR by content (a hash of each "
                       "file and of the model) and read them back next time (default: $XDG_CACHE_HOME/sclap_nb, "
                       "else ~/.cache/sclap_nb; never the audio's folder)")  # fmt: skip
    cache.add_argument("--no-cache", action="store_true", help="embed every file anew and keep nothing")
    p.add_argument("--quiet", action="store_true", help="no progress bar (one shows on stderr while 64 files or more "
                   "are embedded)")  # fmt: skip


def embed_files(model, args: argparse.Namespace):
    """``model.embed_audio`` of ``args.audio`` with the flags of :func:`add_embedding_options`; one
    ``skipped`` line per file left out goes to stderr."""
    cache = False if args.no_cache else (args.cache or True)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", SkippedAudio)  # printed below, one line each
        emb = model.embed_audio(args.audio, batch_size=args.batch_size, skip_bad=args.skip_bad, cache=cache,
                                progress=False if args.quiet else None)  # fmt: skip
    for _, why in emb.skipped:
        print(f"skipped {why}", file=sys.stderr)
    return emb


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m sclap_nb.embed", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)  # fmt: skip
    p.add_argument("model", metavar="MODEL", help="the trained model: an export directory, a best.ckpt or a run directory")
    p.add_argument("audio", metavar="FILES_OR_FOLDER", nargs="+", help="the clips to embed: 4-channel FOA WAV/FLAC "
                   "files, or folders of them (their .wav and .flac files)")  # fmt: skip
    p.add_argument("--out", required=True, help="the .npz file to write the embeddings, DOA and file names into")
    p.add_argument("--overwrite", action="store_true", help="replace --out if it exists (else an existing file is refused)")
    p.add_argument("--embedding", choices=("joint", "triplet", "sed", "aligned", "combined"), help="the audio embedding the file records as the one to "
                   "search with (default: triplet where the model has a temporal path, else joint; sed: the semantic branch alone, "
                   "what a sound is, not where or when; aligned: the frames of the aligned scores, models with model.align_dim; combined: the triplet cosine plus "
                   "the aligned score, models with both)")  # fmt: skip
    add_embedding_options(p)
    return p


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_intermixed_args(argv)  # the files may come after the options
    out = Path(args.out)
    if out.suffix != ".npz":
        print(f"error: {out}: --out must end in .npz", file=sys.stderr)
        return 2
    if out.exists() and not args.overwrite:
        print(f"error: {out} exists: pass --overwrite to replace it", file=sys.stderr)
        return 2
    try:
        model = load(args.model, args.device, args.embedding)
        emb = embed_files(model, args)
        emb.save(out, overwrite=args.overwrite)
    except BadAudio as e:
        print(f"error: {e} (--skip-bad embeds the other files)", file=sys.stderr)
        return 2
    except (ExportError, ValueError, OSError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    kinds = ", ".join(k for k in ("joint", "triplet", "sed") if getattr(emb, k) is not None)
    left = f", {len(emb.skipped)} skipped" if emb.skipped else ""
    print(f"wrote {out}: {len(emb)} clips{left}, embeddings {kinds} ({emb.joint.shape[1]} dims, default {emb.default}), "
          "DOA and sectors", file=sys.stderr)  # fmt: skip
    return 0


if __name__ == "__main__":
    sys.exit(main())

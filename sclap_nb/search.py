"""Rank FOA clips for a caption with a trained model: the top files and their scores.

    python -m sclap_nb.search results/train/model --caption "a violin plays on the left, then a drum" my_clips/ -k 5
    python -m sclap_nb.search results/train/model --caption "..." --embeddings emb.npz -k 5

The clips are folders or files (embedded now, or read back from the embedding cache: see
``python -m sclap_nb.embed --help``), or the ``.npz`` of ``python -m sclap_nb.embed`` (embedded
before, by the same model; scored with the embedding it records unless ``--embedding`` says
otherwise). ``MODEL`` is an export directory, a Lightning checkpoint (``best.ckpt``) or a run
directory. Scores are cosine similarities; one line per clip, best first.
"""

from __future__ import annotations

import argparse
import sys

from .api import AudioEmbeddings, BadAudio, load
from .embed import add_embedding_options, embed_files
from .export import ExportError

__all__ = ["main"]


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m sclap_nb.search", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)  # fmt: skip
    p.add_argument("model", metavar="MODEL", help="the trained model: an export directory, a best.ckpt or a run directory")
    p.add_argument("audio", metavar="FILES_OR_FOLDER", nargs="*", help="the clips to rank: 4-channel FOA WAV/FLAC "
                   "files, or folders of them (their .wav and .flac files)")  # fmt: skip
    p.add_argument("--caption", required=True, help="the text to search for, e.g. 'a dog barks on the left, then a bell rings'")
    p.add_argument("--embeddings", help="an .npz written by python -m sclap_nb.embed, ranked instead of FILES_OR_FOLDER "
                   "(no audio is read)")  # fmt: skip
    p.add_argument("-k", type=int, default=5, help="how many of the best clips to print (default 5)")
    p.add_argument("--embedding", choices=("joint", "triplet", "sed", "aligned", "combined"), help="the audio embedding to score with (default: the "
                   "one the --embeddings file records; for audio, triplet where the model has a temporal path, else joint; aligned: the "
                   "caption's events against the clip's frames in order, models with model.align_dim; combined: the triplet cosine "
                   "plus the aligned score, models with both)")  # fmt: skip
    add_embedding_options(p)
    return p


def main(argv: list[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_intermixed_args(argv)  # the files may come after the options
    if bool(args.audio) == bool(args.embeddings):
        parser.error("give either FILES_OR_FOLDER or --embeddings")
    try:
        model = load(args.model, args.device, args.embedding)
        clips = AudioEmbeddings.load(args.embeddings) if args.embeddings else embed_files(model, args)
        matches = model.search(args.caption, clips, k=args.k, embedding=args.embedding)
    except BadAudio as e:
        print(f"error: {e} (--skip-bad ranks the other files)", file=sys.stderr)
        return 2
    except (ExportError, ValueError, OSError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    for rank, m in enumerate(matches, 1):
        print(f"{rank:>3}  {m}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

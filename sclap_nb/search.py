"""Rank FOA clips for a caption with a trained model: the top files and their scores.

    python -m sclap_nb.search results/train/model --caption "a violin plays on the left, then a drum" my_clips/ -k 5
    python -m sclap_nb.search results/train/model --caption "..." --embeddings emb.npz -k 5

The clips are folders or files (embedded now), or the ``.npz`` of ``python -m sclap_nb.embed``
(embedded before, by the same model). ``MODEL`` is an export directory, a Lightning checkpoint
(``best.ckpt``) or a run directory. Scores are cosine similarities; one line per clip, best first.
"""

from __future__ import annotations

import argparse
import sys

__all__ = ["main"]


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m sclap_nb.search", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)  # fmt: skip
    p.add_argument("model", metavar="MODEL", help="an export directory, a best.ckpt or a run directory")
    p.add_argument("audio", metavar="FILES_OR_FOLDER", nargs="*", help="4-channel FOA WAV/FLAC files or folders of them")
    p.add_argument("--caption", required=True, help="the text to search for")
    p.add_argument("--embeddings", help="an .npz written by python -m sclap_nb.embed (instead of FILES_OR_FOLDER)")
    p.add_argument("-k", type=int, default=5, help="how many clips to show (default 5)")
    p.add_argument("--embedding", choices=("joint", "triplet"),
                   help="the audio embedding (default: triplet where the model has a temporal path, else joint)")
    p.add_argument("--device", help="cpu, cuda, ... (default: a GPU where there is one)")
    p.add_argument("--batch-size", type=int, default=32, help="clips per forward pass (default 32)")
    return p


def main(argv: list[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_intermixed_args(argv)  # the files may come after the options
    if bool(args.audio) == bool(args.embeddings):
        parser.error("give either FILES_OR_FOLDER or --embeddings")
    from .api import AudioEmbeddings, load
    from .export import ExportError

    try:
        model = load(args.model, args.device, args.embedding)
        if args.embeddings:
            clips = AudioEmbeddings.load(args.embeddings)
        else:
            clips = model.embed_audio(args.audio, batch_size=args.batch_size)
        matches = model.search(args.caption, clips, k=args.k)
    except (ExportError, ValueError, FileNotFoundError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    for rank, m in enumerate(matches, 1):
        print(f"{rank:>3}  {m}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Embed FOA clips with a trained model into an ``.npz``: embeddings, file names, DOA and sectors.

    python -m sclap_nb.embed results/train/model my_clips/ --out emb.npz

``MODEL`` is an export directory, a Lightning checkpoint (``best.ckpt``) or a run directory. The
``.npz`` holds ``names``, ``joint`` and ``triplet`` (the two audio embeddings, L2-normalised; no
``triplet`` without a temporal path), ``doa`` (unit vectors ``(N, 2, 3)``), ``sectors``,
``azimuth`` and ``elevation`` (degrees), ``sector_words``, ``default`` (the embedding to use) and
``model_id``; ``python -m sclap_nb.search --embeddings`` reads it. An existing ``--out`` is
refused unless ``--overwrite``. Audio conventions (resampling, clip length): ``sclap_nb.api``.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

__all__ = ["main"]


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m sclap_nb.embed", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)  # fmt: skip
    p.add_argument("model", metavar="MODEL", help="an export directory, a best.ckpt or a run directory")
    p.add_argument("audio", metavar="FILES_OR_FOLDER", nargs="+", help="4-channel FOA WAV/FLAC files or folders of them")
    p.add_argument("--out", required=True, help="the .npz to write")
    p.add_argument("--overwrite", action="store_true", help="replace --out if it exists")
    p.add_argument("--embedding", choices=("joint", "triplet"), help="the default embedding recorded in the file "
                   "(default: triplet where the model has a temporal path, else joint)")  # fmt: skip
    p.add_argument("--device", help="cpu, cuda, ... (default: a GPU where there is one)")
    p.add_argument("--batch-size", type=int, default=32, help="clips per forward pass (default 32)")
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
    from .api import load
    from .export import ExportError

    try:
        model = load(args.model, args.device, args.embedding)
        emb = model.embed_audio(args.audio, batch_size=args.batch_size)
        emb.save(out, overwrite=args.overwrite)
    except (ExportError, ValueError, FileNotFoundError, FileExistsError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    kinds = ", ".join(k for k in ("joint", "triplet") if getattr(emb, k) is not None)
    print(f"wrote {out}: {len(emb)} clips, embeddings {kinds} ({emb.joint.shape[1]} dims, default {emb.default}), "
          "DOA and sectors", file=sys.stderr)  # fmt: skip
    return 0


if __name__ == "__main__":
    sys.exit(main())

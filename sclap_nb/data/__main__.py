"""Command line: ``python -m sclap_nb.data build|import-dcase|import-spatial-clotho|validate|clean-stale ...``."""

from __future__ import annotations

import argparse
import sys
import time

from .corpus import build_corpus, stale_builds, validate_corpus
from .dcase import import_dcase
from .errors import CorpusError
from .scenes import ROLES
from .timed import TIMED_ROLES
from .sounds import SOUNDS, heldout_source, sound_source
from .sources import FolderSource
from .spatial_clotho import import_spatial_clotho


SEED_HELP = "seed of every random draw: the same seed gives byte-identical files (default 2025)"
RATE_HELP = "sample rate of the written clips in Hz; sources at other rates are resampled (default 16000)"
SECONDS_HELP = "length of every clip in seconds, one sound event in each half (default 2.0)"
COMPASS_HELP = "captions name directions by compass words (north, west ...) instead of left, right, in front, behind"
PROGRESS_HELP = "no progress bar while the clips are written"


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m sclap_nb.data", description="Build or check an stClotho FOA corpus.")
    sub = parser.add_subparsers(dest="command", required=True)
    b = sub.add_parser("build", help="build a corpus directory (atomically)")
    b.add_argument("--out", required=True, help="corpus directory to create (must not exist)")
    b.add_argument("--train", type=int, default=512, help="how many training scenes to build, four clips each")
    b.add_argument("--val", type=int, default=64, help="how many validation scenes to build, four clips each")
    b.add_argument("--test", type=int, default=128, help="how many test scenes to build, four clips each")
    b.add_argument("--seed", type=int, default=2025, help=SEED_HELP)
    b.add_argument("--sample-rate", type=int, default=16000, help=RATE_HELP)
    b.add_argument("--clip-seconds", type=float, default=2.0, help=SECONDS_HELP)
    b.add_argument("--anechoic", action="store_true", help="plane waves instead of room impulse responses")
    b.add_argument("--compass", action="store_true", help=COMPASS_HELP)
    b.add_argument("--layout", choices=("spill", "isolated", "timed"), default="spill",
                   help="spill: reverberation runs on past each half (default); isolated: each event confined to its half; "
                        "timed: 2-3 events at random onsets, one moving, five clips a scene (needs --clip-seconds >= 3)")
    b.add_argument("--min-sector-gap", type=int, default=2, help="fewest 45-degree azimuth sectors between the two positions of a scene (default 2)")
    b.add_argument("--folder", metavar="DIR", help="build the scenes from your recordings in DIR (WAV/FLAC files listed in a "
                   "Clotho-layout captions CSV) instead of the soundfont; a 4-channel file is read as FOA, its W channel "
                   "the sound (recorded directions are not kept: import-dcase / import-spatial-clotho keep them)")
    b.add_argument("--captions", metavar="CSV", help="the captions CSV of --folder: file_name, caption_1 ... caption_5, "
                   "optionally split and label; a caption with a comma in double quotes (default FOLDER/captions.csv)")
    b.add_argument("--folder-split", choices=("train", "val", "test"),
                   help="every file of --folder belongs to this split (else its CSV's split column, else shared out by seed)")
    b.add_argument("--sounds", choices=SOUNDS, default="soundfont",
                   help="soundfont: the 35 General MIDI classes (default); library: the recorded sounds of --library "
                   "(python -m sclap_nb.data.library build); mixed: both; --heldout-test: the library's held-out "
                   "packages as the test split")  # fmt: skip
    b.add_argument("--library", metavar="DIR", default="data/library", help="the built library of --sounds (default data/library)")
    b.add_argument("--heldout-test", action="store_true",
                   help="with --sounds library: the test split from the library's held-out packages (never heard in training)")
    b.add_argument("--no-progress", action="store_true", help=PROGRESS_HELP)
    d = sub.add_parser("import-dcase", help="cut two-event scenes out of DCASE / STARSS FOA recordings (atomically)")
    d.add_argument("root", help="dataset folder holding foa_dev/ and metadata_dev/")
    d.add_argument("--scenes-per-recording", type=int, default=8, help="the most scenes cut out of one recording (default 8)")
    d.add_argument("--val-fraction", type=float, default=0.1, help="training recordings that go to val, without a val fold")
    d.add_argument("--max-spread", type=float, default=10.0, help="degrees a segment's direction may move")
    d.add_argument("--min-sector-gap", type=int, default=2, help="fewest 45-degree azimuth sectors between the two events of a scene (default 2)")
    t = sub.add_parser("import-spatial-clotho", help="convert T-SALM's stClotho / sClotho into a corpus (atomically)")
    t.add_argument("root", help="dataset folder holding audio/{train,valid,test}/ and metadata/")
    for p in (d, t):
        p.add_argument("--out", required=True, help="corpus directory to create (must not exist)")
        p.add_argument("--seed", type=int, default=2025, help=SEED_HELP)
        p.add_argument("--sample-rate", type=int, default=16000, help=RATE_HELP)
        p.add_argument("--clip-seconds", type=float, default=2.0, help=SECONDS_HELP)
        p.add_argument("--compass", action="store_true", help=COMPASS_HELP)
        p.add_argument("--no-progress", action="store_true", help=PROGRESS_HELP)
    v = sub.add_parser("validate", help="check a corpus directory")
    v.add_argument("root", help="the corpus directory to check (its metadata and every WAV header)")
    v.add_argument("--deep", action="store_true", help="read every clip too (empty, all-zero or non-finite audio), not only the headers")
    c = sub.add_parser("clean-stale", help="remove the temporary directories that dead builds of a corpus left beside it")
    c.add_argument("root", help="corpus directory (need not exist)")
    return parser


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        if args.command == "build":
            if args.folder and args.sounds != "soundfont":
                raise ValueError("--folder and --sounds are two sources: give one of them")
            if args.heldout_test and args.sounds != "library":
                raise ValueError("--heldout-test needs --sounds library (the held-out packages are library recordings)")
            source = heldout_source(args.library, args.sample_rate) if args.heldout_test else sound_source(args.sounds, args.library, args.sample_rate)
            if args.folder:
                source = FolderSource(args.folder, args.captions, args.sample_rate, split=args.folder_split)
            t0 = time.perf_counter()
            out = build_corpus(
                args.out, args.train, args.val, args.test, seed=args.seed, sample_rate=args.sample_rate,
                clip_seconds=args.clip_seconds, anechoic=args.anechoic,
                direction_words="compass" if args.compass else "relative",
                min_sector_gap=args.min_sector_gap, progress=not args.no_progress, source=source, layout=args.layout,
            )  # fmt: skip
            dt = time.perf_counter() - t0
            n = args.train + args.val + args.test
            clips = len(TIMED_ROLES if args.layout == "timed" else ROLES) * n
            print(f"built {out}: {n} scenes ({clips} clips) in {dt:.1f} s, {n / dt:.1f} scenes/s")
        elif args.command in ("import-dcase", "import-spatial-clotho"):
            common = dict(sample_rate=args.sample_rate, clip_seconds=args.clip_seconds, seed=args.seed,
                          direction_words="compass" if args.compass else "relative", progress=not args.no_progress)  # fmt: skip
            t0 = time.perf_counter()
            if args.command == "import-dcase":
                out = import_dcase(args.root, args.out, scenes_per_recording=args.scenes_per_recording, val_fraction=args.val_fraction,
                                   max_spread_deg=args.max_spread, min_sector_gap=args.min_sector_gap, **common)  # fmt: skip
            else:
                out = import_spatial_clotho(args.root, args.out, **common)
            rows = validate_corpus(out)
            print(f"wrote {out} in {time.perf_counter() - t0:.1f} s: "
                  + ", ".join(f"{s} {len({x['scene'] for x in r})} scenes" for s, r in rows.items()))  # fmt: skip
        elif args.command == "clean-stale":
            import shutil

            stale = stale_builds(args.root)
            for path in stale:
                shutil.rmtree(path)
                print(f"removed {path}")
            if not stale:
                print(f"{args.root}: no stale temporary builds")
        else:
            for path in stale_builds(args.root):
                print(f"warning: {path}: temporary directory of a build that died (remove it: clean-stale {args.root})", file=sys.stderr)
            rows = validate_corpus(args.root, deep=args.deep)
            print(f"{args.root}: ok, " + ", ".join(f"{s} {len({x['scene'] for x in r})} scenes ({len(r)} clips)" for s, r in rows.items()))
    except (CorpusError, FileExistsError, ValueError, OSError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())

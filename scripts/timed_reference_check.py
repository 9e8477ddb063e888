"""No free cue on timed scenes: what each reference scorer scores on a timed corpus.

Builds (or reuses, ``ensure_corpus``) a timed corpus of ``--train`` / ``--val`` scenes from ``--seed``
and a test split from its own seed ``--test-seed``, both with 4 s clips in rooms, and scores the
reference scorers of ``sclap_nb.reference`` on the train, val and test splits and on all of them
pooled (weighted by their scenes), with both tie rules (``share``: a tie counts its expectation, exactly 0.5 against one tied clip; ``priority``: a tie is
a coin flip, the models' rule). Each scorer must stay at or below ``--limit`` (0.55) on the tests that
are not its own (the module docstring of ``sclap_nb.reference`` says which are):

=================  ==================  ===========================
scorer             its own test(s)     must be <= limit on
=================  ==================  ===========================
direction_only     motion_acc          order_acc, place_acc
order_blind        place_acc           order_acc, motion_acc
sound_order        order_acc           place_acc, motion_acc
motion_blind       order_acc, place    motion_acc
=================  ==================  ===========================

Writes the numbers to ``--out`` (JSON; refused if it exists) and prints them.

    python scripts/timed_reference_check.py --data-dir data --out results/timed_study/reference_check.json
    # a test split alone (the timed study's held-out split, seed 9103):
    python scripts/timed_reference_check.py --train 0 --val 0 --test-seed 9103 --out results/timed_study/reference_heldout_9103.json
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from sclap_nb.data import ensure_corpus
from sclap_nb.files import write_json_atomic
from sclap_nb.metrics import order_place_from_scores
from sclap_nb.reference import METRICS, reference_scores
from sclap_nb.reference import OWN_TESTS as OWN  # every other of order_acc, place_acc, motion_acc must sit at chance
TESTS = ("order_acc", "place_acc", "motion_acc")


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--data-dir", default="data", help="where the corpora are built (or found)")
    p.add_argument("--train", type=int, default=256)
    p.add_argument("--val", type=int, default=64)
    p.add_argument("--test", type=int, default=128)
    p.add_argument("--seed", type=int, default=2025, help="seed of the train / val corpus")
    p.add_argument("--test-seed", type=int, default=6001, help="seed of the test split, built on its own")
    p.add_argument("--clip-seconds", type=float, default=4.0)
    p.add_argument("--limit", type=float, default=0.55)
    p.add_argument("--out", help="JSON file to write (must not exist)")
    args = p.parse_args(argv)
    if args.out and Path(args.out).exists():
        print(f"error: {args.out} exists; pass another --out", file=sys.stderr)
        return 1
    data = Path(args.data_dir)
    common = dict(clip_seconds=args.clip_seconds, layout="timed", progress=False)
    t0 = time.perf_counter()
    seen = None  # --train 0 --val 0: only the test split (a held-out split scored on its own)
    if args.train + args.val:
        seen = ensure_corpus(data / f"timed-{args.train}-{args.val}-0-s{args.seed}-{args.clip_seconds:g}s", args.train, args.val, 0,
                             seed=args.seed, **common)  # fmt: skip
    test = ensure_corpus(data / f"timed-0-0-{args.test}-s{args.test_seed}-{args.clip_seconds:g}s", 0, 0, args.test,
                         seed=args.test_seed, **common)  # fmt: skip
    built = time.perf_counter() - t0
    out = {"corpora": {"train_val": str(seen) if seen else None, "test": str(test)}, "corpora_ready_seconds": round(built, 1), "limit": args.limit,
           "own_tests": OWN, "results": {}}  # fmt: skip
    worst = {}
    sizes = {k: n for k, n in {"train": args.train, "val": args.val, "test": args.test}.items() if n}
    scores = {split: reference_scores(root, split) for split, root in (("train", seen), ("val", seen), ("test", test)) if split in sizes}
    for ties in ("share", "priority"):
        per = {split: {f"reference/{name}/{k}": v for name, sc in by_name.items() for k, v in order_place_from_scores(sc, ties=ties).items()}
               for split, by_name in scores.items()}  # fmt: skip
        total = sum(sizes.values())
        per["pooled"] = {k: sum(per[s][k] * sizes[s] for s in sizes) / total for k in per["test"]}
        for split, m in per.items():
            root = {"train": seen, "val": seen, "test": test}.get(split, "train + val + test")
            out["results"][f"{split}/{ties}"] = m
            print(f"\n{split} ({root}, {sizes.get(split, sum(sizes.values()))} scenes), ties={ties}")
            shown = [k for k in METRICS if any(key.endswith(f"/{k}") for key in m)]
            print(f"{'scorer':<16}" + "".join(f"{k:>11}" for k in shown))
            for name in OWN:
                print(f"{name:<16}" + "".join(f"{m.get(f'reference/{name}/{k}', float('nan')):>11.3f}" for k in shown))
                for k in TESTS:
                    if k not in OWN[name]:
                        worst[f"{split}/{ties}/{name}/{k}"] = m[f"reference/{name}/{k}"]
    over = {k: v for k, v in worst.items() if v > args.limit}
    out["over_limit"] = over
    print(f"\ncorpora built or found in {built:.0f} s; highest score on a test not the scorer's own: {max(worst.values()):.3f} "
          f"({max(worst, key=worst.get)}); above {args.limit}: {over or 'none'}")  # fmt: skip
    if args.out:
        write_json_atomic(out, args.out)
    return 0 if not over else 2


if __name__ == "__main__":
    sys.exit(main())

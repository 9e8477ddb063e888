"""The study of ``results/weight_study/PLAN.md``: the combined scorer's weight chosen on validation scenes, and
where ``ME12`` loses the order.

    python scripts/weight_study.py check      # the rebuilt mix split: ME12_s2025's float16 export against its stored scores
    python scripts/weight_study.py run        # every run of ME12, in the plan's order (scored, not printed)
    python scripts/weight_study.py analyse    # refuses until every run has its validation and test scores
    python scripts/weight_study.py decide     # the plan's decision: the stored export records the chosen weight

What the plan fixes is fixed here: configuration ``ME12`` (``results/epochs_study``'s, retrained), the seeds and
thread counts (seed 2025 at 2 threads: ``results/epochs_study/model_ME12_s2025``, not retrained), the validation
scenes that choose the weight (``val_scenes``: 384 timed scenes of seed 6263, validation recordings only), the
weights tried (``WEIGHTS``) and the rule that chooses among them (``choose_weight``), the test splits (``splits``:
``mix`` of seed 4817, as in the earlier studies, and ``sf`` and ``lib`` of seed 7129, 128 timed scenes of soundfont
instruments only and of library recordings only) and the comparisons W1-W3 (``comparisons``). Runs are those of
``scripts/doa_study.py``; scoring that of ``scripts/scorers_study.py`` plus the combined scorer at each weight
(``weight_metrics``).
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import doa_study as ds  # noqa: E402
import epochs_study as eps  # noqa: E402
import probe_order_failures as pof  # noqa: E402
import scorers_study as ss  # noqa: E402
import timed_study as ts  # noqa: E402

import pandas as pd  # noqa: E402
import torch  # noqa: E402
from torch.utils.data import DataLoader  # noqa: E402

from sclap_nb.config import DataConfig, FeatureConfig  # noqa: E402
from sclap_nb.data import StClothoDataset, collate_groups, ensure_corpus  # noqa: E402
from sclap_nb.data.sounds import sound_source  # noqa: E402
from sclap_nb.evaluation import embed_split, score_matrix_metrics  # noqa: E402
from sclap_nb.export import load_model, resolve_device  # noqa: E402
from sclap_nb.files import atomic_write, write_json_atomic  # noqa: E402
from sclap_nb.model import aligned_scores  # noqa: E402

ROOT = ds.ROOT
SPLIT = ss.SPLIT
VAL_SEED, VAL_SCENES = 6263, 384
VAL = f"val_{VAL_SEED}.json"
#: the weights w of ``cos(triplet) + w * aligned`` scored on the validation scenes and the test split
WEIGHTS = (0.5, 1.0, 2.0, 4.0, 8.0)
#: the least mean validation motion_acc a weight must keep to be chosen
MOTION_FLOOR = 0.95
CONFIGS = {"ME12": eps.CONFIGS["ME12"]}
#: seed 2025 at 2 threads first (the stored export, scored), then the four other seeds, the 1-thread rerun last
ORDER = [("ME12", s, ds.THREADS) for s in ds.SEEDS] + [("ME12", ds.RERUN_SEED, ds.RERUN_THREADS)]
EPOCHS_RESULTS = ROOT / "results" / "epochs_study"
#: the run whose export is not trained again: results/epochs_study's float16 export of ME12_s2025_t2
STORED = ("ME12", ds.RERUN_SEED, ds.THREADS)
STORED_EXPORT = EPOCHS_RESULTS / "model_ME12_s2025"
SOURCES_SEED = 7129


def wkey(w: float) -> str:
    """The metrics' name of the combined scorer at weight ``w``: ``combined_w2``, ``combined_w0.5``."""
    return f"combined_w{w:g}"


def _cmp(name, a, b, a_metric, b_metric, alternative="greater", margin=0.0):
    return {"name": name, "a": a, "b": b, "a_metric": a_metric, "b_metric": b_metric, "alternative": alternative,
            "margin": margin}  # fmt: skip


def comparisons(w_star: float) -> list[dict]:
    """W1 and W2 (the chosen weight against 1, on the same runs) unless the chosen weight is 1; W3 (the aligned
    scores' order on soundfont scenes against recorded ones) always."""
    out = []
    if w_star != 1.0:
        out += [
            _cmp("W1", "ME12", "ME12", f"mix/{wkey(w_star)}/order_acc", "mix/combined/order_acc"),
            _cmp("W2", "ME12", "ME12", f"mix/{wkey(w_star)}/motion_acc", "mix/combined/motion_acc", margin=0.05),
        ]
    out.append(_cmp("W3", "ME12", "ME12", "sf/aligned/vs_neg_c", "lib/aligned/vs_neg_c"))
    return out


REPORTED_BASE = [
    "mix/combined/order_acc", "mix/combined/motion_acc", "mix/combined/place_acc", "mix/combined/t2a/R@1",
    "mix/aligned/order_acc", "mix/aligned/motion_acc", "mix/aligned/t2a/R@1", "mix/triplet/order_acc",
    "mix/triplet/motion_acc", "mix/triplet/t2a/R@1", "mix/LE_deg",
    *[f"{split}/{scorer}/{m}" for split in ("sf", "lib") for scorer in ("aligned", "combined")
      for m in ("order_acc", "vs_neg_t", "vs_neg_c", "motion_acc", "t2a/R@1")],
]  # fmt: skip


def reported(w_star: float) -> list[str]:
    extra = [f"mix/{wkey(w_star)}/{m}" for m in ("order_acc", "motion_acc", "place_acc", "t2a/R@1")] if w_star != 1.0 else []
    return list(dict.fromkeys(REPORTED_BASE + extra))


def val_scenes() -> Path:
    """The plan's validation scenes (``VAL_SCENES`` timed scenes of seed ``VAL_SEED``, validation recordings only):
    those of ``scripts/probe_order_failures.py``, which suggested the study."""
    return pof.corpus(VAL_SEED, VAL_SCENES)


def splits(library_dir: Path = ROOT / DataConfig.library_dir, sr: int = FeatureConfig.sample_rate) -> dict[str, Path]:
    """The plan's test splits: ``mix`` of seed 4817 (``scorers_study.splits``), and ``sf`` and ``lib`` of seed
    ``SOURCES_SEED``: 128 timed scenes of soundfont instruments only, and of the library's test recordings only."""
    scenes = dict(n_train=0, n_val=0, n_test=128, seed=SOURCES_SEED, sample_rate=sr, clip_seconds=ss.CLIP_SECONDS,
                  layout="timed", progress=False)  # fmt: skip
    tag = f"s{SOURCES_SEED}-{ss.CLIP_SECONDS:g}s"
    return {
        "mix": ss.splits(library_dir, sr)["mix"],
        "sf": ensure_corpus(ROOT / f"data/weight-sf-{tag}", **scenes, source=sound_source("soundfont", library_dir, sr)),
        "lib": ensure_corpus(ROOT / f"data/weight-lib-{tag}", **scenes, source=sound_source("library", library_dir, sr)),
    }


def weight_metrics(emb: dict, weights=WEIGHTS, aligned_alone: bool = False) -> dict[str, float]:
    """``sclap_nb.evaluation.score_matrix_metrics`` of ``cos(triplet) + w * aligned`` for each ``w``
    (``combined_w<w>/...``), and of the aligned scores alone (``aligned/...``) if ``aligned_alone``, from an
    ``embed_split``."""
    cosine = (emb["text_comb"] @ emb["e_triplet"].T).double()  # (captions, clips), one caption per clip
    aligned = aligned_scores(emb["t_items"], emb["a_frames"]).double()
    scores = {wkey(w): cosine + w * aligned for w in weights} | ({"aligned": aligned} if aligned_alone else {})
    return {f"{name}/{k}": float(v) for name, s in scores.items() for k, v in score_matrix_metrics(s, emb).items()}


def _embed(model, corpus: Path, split: str) -> dict:
    data = StClothoDataset(corpus, split, "triplet", model.cfg.features, None, roles="all", pretrained=model.cfg.pretrained_input)
    return embed_split(model, DataLoader(data, batch_size=16, collate_fn=collate_groups))


def score(model_dir: Path, where: dict[str, Path]) -> dict[str, float]:
    """``scorers_study.score`` (every scorer of ``metrics.json`` on the test splits) plus the combined scorer at
    each of ``WEIGHTS`` on the ``mix`` split (``mix/combined_w<w>/...``)."""
    out = ss.score(model_dir, where)
    model, _ = load_model(model_dir, resolve_device("cpu"))
    out.update({f"mix/{k}": v for k, v in weight_metrics(_embed(model, where["mix"], "test")).items()})
    return out


def score_val(model_dir: Path) -> dict[str, float]:
    """The combined scorer at each of ``WEIGHTS``, and the aligned scores alone, on the plan's validation scenes."""
    model, _ = load_model(model_dir, resolve_device("cpu"))
    return weight_metrics(_embed(model, val_scenes(), "val"), aligned_alone=True)


def choose_weight(val: pd.DataFrame) -> float:
    """The plan's rule: among ``WEIGHTS``, the one whose mean validation ``order_acc`` over ``ME12``'s five 2-thread
    runs is highest, among those whose mean validation ``motion_acc`` is at least ``MOTION_FLOOR``; a tie goes to
    the smaller weight; 1 (the weight already in use) if none keeps the motion."""
    mean = val.mean(numeric_only=True)
    kept = [w for w in WEIGHTS if mean[f"{wkey(w)}/motion_acc"] >= MOTION_FLOOR]
    if not kept:
        return 1.0
    best = max(mean[f"{wkey(w)}/order_acc"] for w in kept)
    return min(w for w in kept if mean[f"{wkey(w)}/order_acc"] == best)


def val_table(results: Path) -> pd.DataFrame:
    """``ME12``'s validation scores, one row per 2-thread run (the seeds), read from each run's ``VAL`` file."""
    rows = []
    for config, seed, threads in ORDER:
        if threads != ds.THREADS:
            continue
        path = results / "runs" / f"{config}_s{seed}_t{threads}" / VAL
        if not path.is_file():
            raise SystemExit(f"{path}: missing; the weight is chosen on every seed's validation scores")
        rows.append({"seed": seed, **json.loads(path.read_text())})
    return pd.DataFrame(rows)


GOAL = 0.9


def goal_table(runs: pd.DataFrame, w_star: float) -> pd.DataFrame:
    """``ME12``'s seed means (2 threads) of the order and motion of the combined scorer at weight 1 and at the
    chosen weight, and of the aligned scores' order, on ``mix``, and of the aligned scores' order on ``sf`` and
    ``lib``, with 95 % t-intervals, against ``GOAL`` (not a test; ``epochs_study.goal_table``)."""
    metrics = ["mix/combined/order_acc", "mix/combined/motion_acc"]
    if w_star != 1.0:
        metrics += [f"mix/{wkey(w_star)}/order_acc", f"mix/{wkey(w_star)}/motion_acc"]
    return eps.goal_table(runs, metrics + ["mix/aligned/order_acc", "sf/aligned/order_acc", "lib/aligned/order_acc"], GOAL)


def analyse(args) -> None:
    """The weight from the validation scores (``choose_weight``, written to ``weight.json`` first), then the plan's
    analysis (``ds.analyse_variant``) and the goal: ``goal.csv``, and its table added to ``analysis.md``."""
    val = val_table(args.results)
    w_star = choose_weight(val)
    mean = val.drop(columns="seed").mean()
    write_json_atomic({"chosen": w_star, "motion_floor": MOTION_FLOOR, "validation_mean": mean.to_dict()}, args.results / "weight.json")
    ds.analyse_variant(args, "ME12", ORDER, comparisons(w_star), reported(w_star), [], split=SPLIT)
    goal = goal_table(pd.read_csv(args.results / "runs.csv"), w_star)
    goal.to_csv(args.results / "goal.csv", index=False)
    shown = goal.assign(**{"95 % interval": [f"[{a:.3f}, {b:.3f}]" for a, b in zip(goal["ci_low"], goal["ci_high"])]})
    names = [wkey(w) for w in WEIGHTS] + ["aligned"]
    text = (args.results / "analysis.md").read_text()
    text += (f"\n## The weight (validation: {VAL_SCENES} scenes of seed {VAL_SEED}, mean over the five seeds)\n\n"
             f"Chosen: w = {w_star:g}.\n\n"
             + pd.DataFrame({n: {m: mean[f"{n}/{m}"] for m in ("order_acc", "motion_acc", "place_acc", "t2a/R@1")}
                             for n in names}).to_markdown(floatfmt=".3f")
             + "\n\n## The goal (not a test)\n\n"
             + shown[["metric", "seeds", "mean", "95 % interval", "goal", "met", "met_with_interval"]].to_markdown(index=False, floatfmt=".3f")
             + "\n\nME12's seed means (2 threads) with their t-intervals over the seeds; met: the mean at least the goal; "
             "met with its interval: the interval's lower end at least the goal.\n")  # fmt: skip
    atomic_write(args.results / "analysis.md", text)


def check(args) -> dict:
    """``results/epochs_study/model_ME12_s2025`` (float16) scored on the ``mix`` split as rebuilt here, beside the
    scores that ``results/epochs_study`` stored for ``ME12_s2025_t2``: ``{metric: {"stored", "rebuilt",
    "difference"}}``, written to ``split_check.json``."""
    stored = json.loads((args.epochs_results / "runs" / "ME12_s2025_t2" / SPLIT).read_text())
    rebuilt = ss.score(STORED_EXPORT, {"mix": splits()["mix"]})
    out = {k: {"stored": stored[k], "rebuilt": rebuilt[k], "difference": rebuilt[k] - stored[k]}
           for k in REPORTED_BASE if k in stored and k in rebuilt}  # fmt: skip
    args.results.mkdir(parents=True, exist_ok=True)
    write_json_atomic(out, args.results / "split_check.json")
    return out


def prepare_stored(args) -> Path:
    """The run directory of ``STORED``: the stored export as its ``model/`` and the epochs study's small files of that
    run, so that ``ds.run_variant`` scores it without training it."""
    where = ts.run_dir(args.out, *STORED)
    if not (where / "metrics.json").is_file():
        shutil.copytree(STORED_EXPORT, where / "model", dirs_exist_ok=True)
        for name in ("metrics.csv", "run.json", "host.json", "metrics.json"):  # metrics.json last: it marks the run done
            shutil.copyfile(args.epochs_results / "runs" / where.name / name, where / name)
    return where


def decide(args) -> float | None:
    """The plan's decision: if W1 and W2 are findings, the stored export of ``ME12`` (``STORED_EXPORT``) records the
    chosen weight as its ``embeddings.combined_weight`` (``config.json``, rewritten atomically), which the API's
    ``embedding="combined"`` uses; returns that weight, or ``None`` where the plan keeps weight 1."""
    table = pd.read_csv(args.results / "comparisons.csv").set_index("name")
    if not {"W1", "W2"} <= set(table.index) or not (table.loc["W1", "finding"] and table.loc["W2", "finding"]):
        return None
    w_star = float(json.loads((args.results / "weight.json").read_text())["chosen"])
    path = args.export / "config.json"
    config = json.loads(path.read_text())
    config["embeddings"]["combined_weight"] = w_star
    atomic_write(path, json.dumps(config, indent=2, sort_keys=True) + "\n")
    return w_star


def run(args) -> None:
    """Every run of ``ORDER`` (``ds.run_variant``: trained, except ``STORED``; its export scored on the test splits,
    written and not printed), each also scored on the validation scenes (``VAL``) first."""
    prepare_stored(args)

    def scored(model_dir: Path, where: dict[str, Path]) -> dict[str, float]:
        kept = args.results / "runs" / model_dir.parent.name
        kept.mkdir(parents=True, exist_ok=True)
        write_json_atomic(score_val(model_dir), kept / VAL)
        return score(model_dir, where)

    ds.run_variant(args, ORDER, CONFIGS, split=SPLIT, split_dirs=splits, score=scored)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("command", choices=("check", "run", "analyse", "decide"))
    ap.add_argument("--out", type=Path, default=ROOT / "runs" / "weight_study", help="where the runs of ME12 go")
    ap.add_argument("--results", type=Path, default=ROOT / "results" / "weight_study", help="where they are kept")
    ap.add_argument("--epochs-results", type=Path, default=EPOCHS_RESULTS, help="results/epochs_study (ME12_s2025)")
    ap.add_argument("--export", type=Path, default=STORED_EXPORT, help="the export that decide gives the chosen weight")
    args = ap.parse_args(argv)
    if args.command == "check":
        for k, v in check(args).items():
            print(f"{k:28s} stored {v['stored']:.4f}  rebuilt {v['rebuilt']:.4f}  difference {v['difference']:+.4f}")
    elif args.command == "run":
        run(args)
    elif args.command == "decide":
        w = decide(args)
        print(f"{args.export}: combined_weight {w:g}" if w is not None else "W1 and W2 are not both findings: weight 1 stays")
    else:
        analyse(args)
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Ablation: the main job over {SALM baseline, +temporal, +3-way, +GRL, all} x seeds.

``python -m sclap_nb.ablation --out runs/ablation`` runs every configuration (each run
in ``OUT/{config}_s{seed}/``, skipped if its ``metrics.json`` exists, so an interrupted ablation
resumes), then writes ``OUT/table.csv`` (one row per run) and ``OUT/table.md`` (mean +- std per
configuration over seeds, sample std). Every configuration starts from the ``specification`` preset
(``sclap_nb.config``); ``-p NAME VALUE`` passes any other run setting, by its dotted name, to every run.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np
import pandas as pd
from scipy import stats

from .config import RunConfig, migrate_run_json, preset
from .publish import publish_ablation
from .run import run
from .viz import EMBEDDING_PALETTE

# every row masks false negatives (the same in all), so a row differs from the baseline by its additions only;
# the temporal path trains with a loss of its own (L_sCL on the triplet embedding) wherever it is present.
# The ablation measures the four additions at the specification's settings (the ``specification`` preset of
# sclap_nb.config: 3-way term at 0.2 ramped over 4 epochs, mean readout, DOA head on E_joint), so that it
# reproduces results/ablation; the departures the default run makes from them are measured by the sweep
# (results/sweep). Each configuration is a set of settings (dotted names) on that preset.
_OFF = {"model.use_temporal": False, "loss.use_ts_loss": False, "model.use_modality": False,
        "loss.triplet_contrastive": False, "loss.mask_false_negatives": True}  # fmt: skip
_TEMPORAL = {"model.use_temporal": True, "loss.triplet_contrastive": True}
_ALL = {**_OFF, **_TEMPORAL, "loss.use_ts_loss": True, "model.use_modality": True}
CONFIGS: dict[str, dict] = {
    "SALM baseline": _OFF,
    "+temporal": {**_OFF, **_TEMPORAL},
    "+3-way": {**_OFF, "loss.use_ts_loss": True},
    "+GRL": {**_OFF, "model.use_modality": True},
    "+temporal+3-way": {**_OFF, **_TEMPORAL, "loss.use_ts_loss": True},
    "all": _ALL,
    "all, 4-way with neg_c": {**_ALL, "loss.negatives": ("neg_t", "neg_s", "neg_c")},
}
PRESET = "specification"
SEEDS = (2025, 2026, 2027)

# the metrics the table shows, in order (each present for the runs where it exists)
COLUMNS = [
    "joint/t2a/R@1", "joint/t2a/mAP@10", "joint/a2t/R@1", "joint/a2t/mAP@10",
    "joint/3way_temporal", "joint/3way_spatial", "joint/order_acc", "joint/place_acc",
    "triplet/t2a/R@1", "triplet/t2a/mAP@10", "triplet/a2t/R@1", "triplet/a2t/mAP@10",
    "triplet/3way_temporal", "triplet/3way_spatial", "triplet/order_acc", "triplet/place_acc",
    "LE_deg", "modality/probe_acc", "train_seconds",
]
# the metrics whose paired difference from the baseline the table reports
PAIRED = ["joint/t2a/R@1", "best/t2a/R@1", "joint/order_acc", "triplet/order_acc", "joint/place_acc", "LE_deg", "modality/probe_acc"]


def slug(name: str) -> str:
    s = name.lower().replace("+", "plus_").replace("-", "").replace(",", "")
    return "_".join("".join(c if c.isalnum() else " " for c in s).split())


def ablation_config(name: str, seed: int, settings: dict | None = None, base: str = PRESET) -> RunConfig:
    """The run settings of configuration ``name`` at ``seed``: the preset ``base``, the configuration's
    switches, then ``settings`` (dotted names, e.g. the quick preset's sizes for a smoke test)."""
    return preset(base, {**CONFIGS[name], "runtime.seed": seed, **(settings or {})})


def run_one(out: Path, cfg: RunConfig) -> Path:
    """One training run (the training notebook's main job, ``sclap_nb.run``) into ``out``; return its metrics.json."""
    run(cfg.with_settings({"runtime.out_dir": str(out)}), Path.cwd())
    return out / "metrics.json"


def collect(out: Path) -> pd.DataFrame:
    """One row per finished run under ``out``."""
    rows = []
    for name in CONFIGS:
        for path in sorted(out.glob(f"{slug(name)}_s*/metrics.json")):
            m = json.loads(path.read_text())
            rows.append({"config": name, "seed": int(path.parent.name.rsplit("_s", 1)[1]), **m})
    return pd.DataFrame(rows)


def with_best(table: pd.DataFrame) -> pd.DataFrame:
    """Add ``best/t2a/R@1``: the better of the two embeddings' T2A R@1 (the embedding a user would serve)."""
    t = table.copy()
    cols = [c for c in ("joint/t2a/R@1", "triplet/t2a/R@1") if c in t]
    if cols:
        t["best/t2a/R@1"] = t[cols].max(axis=1)
    return t


def _configs(table: pd.DataFrame, configs) -> list[str]:
    """The configurations to show: ``configs``, else the ablation's that the table has, else the table's own, in order."""
    if configs is not None:
        return list(configs)
    present = list(dict.fromkeys(table["config"])) if "config" in table else []
    known = [c for c in CONFIGS if c in present]
    return known if known else present


def paired_differences(table: pd.DataFrame, baseline: str = "SALM baseline", metrics=PAIRED, configs=None) -> pd.DataFrame:
    """Per configuration and metric: the mean over seeds of (config - baseline) on the same seed, its
    95 % t-interval (``t_interval``), the number of paired seeds, and the ratio of the means."""
    t = with_best(table)
    base = t[t["config"] == baseline].set_index("seed")
    rows = []
    for name in _configs(t, configs):
        if name == baseline:
            continue
        part = t[t["config"] == name].set_index("seed")
        seeds = sorted(set(part.index) & set(base.index))
        for m in metrics:
            if m not in t or not seeds:
                continue
            d = (part.loc[seeds, m] - base.loc[seeds, m]).dropna()
            if d.empty:
                continue
            n, mean = len(d), float(d.mean())
            lo, hi = t_interval(d) if n > 1 else (float("nan"), float("nan"))
            ratio = float(part.loc[seeds, m].mean() / base.loc[seeds, m].mean()) if base.loc[seeds, m].mean() else float("nan")
            rows.append({"config": name, "metric": m, "n": n, "diff": mean, "ci_low": lo, "ci_high": hi,
                         "ratio": ratio})  # fmt: skip
    return pd.DataFrame(rows)


def paired_markdown(table: pd.DataFrame, baseline: str = "SALM baseline", configs=None) -> str:
    """The paired differences as a Markdown table."""
    p = paired_differences(table, baseline, configs=configs)
    if p.empty:
        return "(no configuration shares a seed with the baseline yet)\n"
    lines = ["| config | metric | seeds | config - baseline [95 % CI] | ratio |", "|---|---|---|---|---|"]
    for r in p.itertuples():
        ci = "n/a" if r.n < 2 else f"[{r.ci_low:+.3f}, {r.ci_high:+.3f}]"
        lines.append(f"| {r.config} | {r.metric} | {r.n} | {r.diff:+.3f} {ci} | {r.ratio:.2f}x |")
    return "\n".join(lines) + "\n"


def summary_markdown(table: pd.DataFrame, configs=None) -> str:
    """Mean +- sample std (ddof 1) over seeds per configuration, one column per metric."""
    cols = [c for c in COLUMNS if c in table]
    lines = ["| config | seeds | " + " | ".join(cols) + " |", "|---|---|" + "---|" * len(cols)]
    for name in _configs(table, configs):
        part = table[table["config"] == name]
        if part.empty:
            continue
        cells = []
        for c in cols:
            v = part[c].dropna()
            if v.empty:
                cells.append("n/a")
            elif c == "train_seconds":
                cells.append(f"{v.mean():.0f}")
            else:
                cells.append(f"{v.mean():.3f} ± {v.std(ddof=1):.3f}" if len(v) > 1 else f"{v.mean():.3f}")
        lines.append(f"| {name} | {len(part)} | " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


def write_tables(out: Path) -> pd.DataFrame:
    """``table.csv`` (one row per finished run), ``table.md`` (means, paired differences) under ``out``."""
    table = collect(out)
    table.to_csv(out / "table.csv", index=False)
    if not table.empty:
        (out / "table.md").write_text(summary_markdown(table) + "\nPaired with the baseline (same seed):\n\n" + paired_markdown(table))
    return table


def _seed_rows(paths, config: str | None = None) -> pd.DataFrame:
    """One row per ``{config}_s{seed}/metrics.json`` of ``paths``: its config (the folder name before ``_s``,
    or ``config``), seed and metrics."""
    rows = []
    for path in sorted(paths):
        name, seed = path.parent.name.rsplit("_s", 1)
        rows.append({"config": config or name, "seed": int(seed), **json.loads(path.read_text())})
    return pd.DataFrame(rows)


def collect_named(out: Path) -> pd.DataFrame:
    """One row per finished run under ``out``, named ``{config}_s{seed}/metrics.json`` (a sweep's layout:
    the config is the folder name before ``_s``), in the order of the folder names."""
    return _seed_rows(Path(out).glob("*_s[0-9]*/metrics.json"))


def collect_experiments(exp_dir: str | Path, pattern: str, config: str) -> pd.DataFrame:
    """One row per seed of the experiment folders of ``exp_dir`` matching ``pattern`` (``*`` stands for the
    seed, e.g. ``"tokennorm_isolated_circular_s*"``), labelled ``config``: the shape of ``collect_named``."""
    return _seed_rows(Path(exp_dir).glob(pattern + "/metrics.json"), config)


def write_sweep_tables(out: Path, baseline: str, configs: list[str] | None = None) -> pd.DataFrame:
    """``table.csv`` and ``table.md`` of a sweep (``collect_named``), paired with ``baseline`` by seed."""
    out = Path(out)
    table = collect_named(out / "runs")
    table.to_csv(out / "table.csv", index=False)
    if not table.empty:
        (out / "table.md").write_text(summary_markdown(table, configs) + f"\nPaired with `{baseline}` (same seed):\n\n"
                                      + paired_markdown(table, baseline, configs))
    return table


# --------------------------------------------------------------------------- the results chapter's figures and tables


def t_interval(values, level: float = 0.95) -> tuple[float, float]:
    """The ``level`` interval of the mean of ``values`` from the t distribution (n - 1 degrees of
    freedom); one value gives ``(v, v)``. With three seeds the 95 % half-width is 2.48 sample sds."""
    v = np.asarray(values, dtype=float)
    v = v[np.isfinite(v)]
    if len(v) < 2:
        m = float(v.mean()) if len(v) else float("nan")
        return m, m
    half = float(stats.t.ppf(0.5 + level / 2, len(v) - 1) * v.std(ddof=1) / len(v) ** 0.5)
    return float(v.mean()) - half, float(v.mean()) + half


def planned_comparisons(table: pd.DataFrame, comparisons: list[dict], alpha: float = 0.05) -> pd.DataFrame:
    """The comparisons a study's plan names, paired by seed, with Holm's correction over all of them.

    ``table``: one row per run (``config``, ``seed`` and metric columns such as ``triplet/order_acc``).
    Each comparison is a dict: ``name``, ``a`` and ``b`` (configurations), ``metric`` (a column, or
    ``a_metric`` / ``b_metric`` when the two sides read different embeddings), ``alternative``
    (``"greater"``, ``"less"`` or ``"two-sided"``) and ``margin`` (default 0: the null is a difference
    of ``-margin``, e.g. 0.05 for non-inferiority by 0.05). Per comparison: the metric of each side
    (``metric``, ``b_metric``), the seeds paired, the mean
    difference ``a - b``, its two-sided ``1 - alpha`` t-interval, the paired t-test's p-value
    (``scipy.stats.ttest_1samp`` of the differences plus the margin), Holm's adjusted p-value over the
    comparisons (``statsmodels``' ``multipletests``), whether it is a finding (adjusted p < ``alpha``) and
    the Bonferroni-level interval (``1 - alpha / k``), a conservative simultaneous interval."""
    from statsmodels.stats.multitest import multipletests

    rows = []
    for c in comparisons:
        a = table[table["config"] == c["a"]].set_index("seed")[c.get("a_metric", c.get("metric"))]
        b = table[table["config"] == c["b"]].set_index("seed")[c.get("b_metric", c.get("metric"))]
        seeds = sorted(set(a.dropna().index) & set(b.dropna().index))
        d = (a.loc[seeds] - b.loc[seeds]).astype(float).to_numpy()
        margin = float(c.get("margin", 0.0))
        alternative = c.get("alternative", "two-sided")
        p = float(stats.ttest_1samp(d + margin, 0.0, alternative=alternative).pvalue) if len(d) > 1 else float("nan")
        lo, hi = t_interval(d, 1 - alpha)
        blo, bhi = t_interval(d, 1 - alpha / len(comparisons))
        rows.append({"name": c["name"], "a": c["a"], "b": c["b"], "metric": c.get("a_metric", c.get("metric")),
                     "b_metric": c.get("b_metric", c.get("metric")), "alternative": alternative, "margin": margin, "n": len(d), "diff": float(d.mean()) if len(d) else float("nan"),
                     "ci_low": lo, "ci_high": hi, "p": p, "bonferroni_low": blo, "bonferroni_high": bhi})  # fmt: skip
    out = pd.DataFrame(rows)
    ok = out["p"].notna()
    out["p_holm"] = np.nan
    if ok.any():
        reject, adjusted, _, _ = multipletests(out.loc[ok, "p"], alpha=alpha, method="holm")
        out.loc[ok, "p_holm"] = adjusted
    out["finding"] = out["p_holm"] < alpha
    return out


def plot_comparisons(comparisons: pd.DataFrame, labels: dict[str, str] | None = None, alpha: float = 0.05):
    """A study's planned comparisons (the table of :func:`planned_comparisons`), one row each: the mean
    paired difference ``a - b`` (marker), its ``1 - alpha`` t-interval (thick bar) and the
    Bonferroni-level interval (thin bar, ``1 - alpha / k``); filled where Holm's adjusted p-value is under
    ``alpha`` (a finding), open where not. A solid line marks 0, a dotted one each non-inferiority
    margin (``-margin``). ``labels`` names the comparisons (default: :func:`comparison_label`). Rows whose
    metrics differ in scale (accuracies, degrees) belong in separate calls."""
    import matplotlib.pyplot as plt

    labels = labels or {}
    rows = comparisons.reset_index(drop=True)
    fig, ax = plt.subplots(figsize=(7.0, 0.3 * len(rows) + 0.95))
    y = np.arange(len(rows))[::-1]
    for yi, (_, r) in zip(y, rows.iterrows()):
        color = "C0" if bool(r["finding"]) else "0.45"
        ax.plot([r["bonferroni_low"], r["bonferroni_high"]], [yi, yi], color=color, lw=1.0)
        ax.plot([r["ci_low"], r["ci_high"]], [yi, yi], color=color, lw=3.2, solid_capstyle="butt")
        ax.plot([r["diff"]], [yi], "o", ms=6.5, color=color, mfc=color if bool(r["finding"]) else "white", mew=1.4)
        if r.get("margin", 0):
            ax.plot([-r["margin"]] * 2, [yi - 0.38, yi + 0.38], color="0.1", ls=":", lw=1.3)
    ax.axvline(0.0, color="0.2", lw=0.8)
    ax.set_yticks(y, [labels.get(r["name"], comparison_label(r)) for _, r in rows.iterrows()])
    ax.set_ylim(-0.7, len(rows) - 0.3)
    ax.set_xlabel(f"paired difference a − b ({1 - alpha:.0%}, thin: Bonferroni-level)")
    ax.grid(axis="x", alpha=0.3)
    fig.tight_layout()
    return fig


def comparison_label(r, name: bool = True) -> str:
    """A row of :func:`planned_comparisons` in words: ``E1: P triplet − A joint, order_acc`` where the
    two sides read different embeddings (``A1: MA aligned − MT triplet, mix/order_acc`` where the metric
    names a split first: the part in which the two metrics differ goes beside each side), else
    ``E4: P − N, triplet/order_acc`` (``name=False``: no ``E1:``)."""
    a_parts = str(r["metric"]).split("/")
    b_raw = r.get("b_metric", r["metric"])
    b_parts = str(r["metric"] if pd.isna(b_raw) else b_raw).split("/")
    head = f"{r['name']}: " if name else ""
    differ = [i for i, (x, y) in enumerate(zip(a_parts, b_parts)) if x != y]
    if len(a_parts) == len(b_parts) and len(differ) == 1:
        i = differ[0]
        rest = "/".join(a_parts[:i] + a_parts[i + 1 :])
        return f"{head}{r['a']} {a_parts[i]} − {r['b']} {b_parts[i]}, {rest}"
    if a_parts != b_parts:
        return f"{head}{r['a']} {'/'.join(a_parts)} − {r['b']} {'/'.join(b_parts)}"
    return f"{head}{r['a']} − {r['b']}, {r['metric']}"


def ratio_interval(table: pd.DataFrame, config: str, metric: str = "best/t2a/R@1", baseline: str = "SALM baseline",
                   level: float = 0.95) -> dict:
    """``config`` / ``baseline`` for ``metric``, paired by seed: the per-seed ratios, their mean and its
    t-interval (``t_interval``), and the number of paired seeds."""
    t = with_best(table)
    a = t[t["config"] == config].set_index("seed")[metric]
    b = t[t["config"] == baseline].set_index("seed")[metric]
    seeds = sorted(set(a.dropna().index) & set(b.dropna().index))
    ratios = (a.loc[seeds] / b.loc[seeds]).astype(float)
    low, high = t_interval(ratios, level)
    return {"ratio": float(ratios.mean()) if seeds else float("nan"), "low": low, "high": high, "n": len(seeds),
            "per_seed": ratios.to_dict()}  # fmt: skip


def result_panels(n_retrieval: int = 384) -> list[dict]:
    """The panels of the results chapter's ablation figure: a title, the metric of each embedding, the
    y label (with its unit), chance (``None``: no chance level) and the book's goal. ``n_retrieval``:
    the clips a caption is retrieved among (chance R@1 = 1 / n)."""
    return [
        dict(title="text-to-audio retrieval", metrics={"joint/t2a/R@1": "E_joint", "triplet/t2a/R@1": "triplet"},
             ylabel=f"T2A R@1 (share of {n_retrieval} captions)", chance=1 / n_retrieval, goal=None, lim=(0, 1.02)),
        dict(title="order: pos above neg_t and neg_c", metrics={"joint/order_acc": "E_joint", "triplet/order_acc": "triplet"},
             ylabel="order_acc (share of scenes)", chance=1 / 3, goal=0.95, lim=(0, 1.02)),
        dict(title="place: pos above neg_s and neg_c", metrics={"joint/place_acc": "E_joint", "triplet/place_acc": "triplet"},
             ylabel="place_acc (share of scenes)", chance=1 / 3, goal=0.95, lim=(0, 1.02)),
        dict(title="localisation error", metrics={"LE_deg": "DOA head"}, ylabel="mean angular error (degrees)",
             chance=None, goal=10.0, lim=(0, None)),
        dict(title="modality gap: fresh linear probe", metrics={"modality/probe_acc": "probe"},
             ylabel="probe accuracy, audio vs text", chance=0.5, goal=0.65, lim=(0.4, 1.02)),
    ]  # fmt: skip


def seed_frame(table: pd.DataFrame, metrics: dict[str, str]) -> pd.DataFrame:
    """One row per run and metric of ``metrics`` (column -> embedding label): config, seed, embedding, value."""
    parts = [table[["config", "seed"]].assign(embedding=label, value=table[col]) for col, label in metrics.items() if col in table]
    if not parts:
        return pd.DataFrame(columns=["config", "seed", "embedding", "value"])
    return pd.concat(parts, ignore_index=True).dropna(subset=["value"])


def plot_seed_intervals(table: pd.DataFrame, panels: list[dict] | None = None, order: list[str] | None = None,
                        level: float = 0.95):
    """One panel per entry of ``panels`` (``result_panels``), one row per configuration: the mean over
    seeds (marker) with its ``level`` t-interval (bar) and each seed (small dots), per embedding
    (colour); chance dashed grey, the goal dotted black. Panels whose metrics no run has are left out."""
    import matplotlib.pyplot as plt


    panels = panels if panels is not None else result_panels()
    order = [c for c in (order or list(CONFIGS)) if c in set(table["config"])]
    frames = [(p, seed_frame(table, p["metrics"])) for p in panels]
    frames = [(p, f) for p, f in frames if not f.empty]
    palette = {"E_joint": EMBEDDING_PALETTE["joint"], "triplet": EMBEDDING_PALETTE["triplet"], "DOA head": "0.3", "probe": "0.3"}
    per_row = -(-len(frames) // 2) if len(frames) > 3 else len(frames)  # 5 panels: 3 above, 2 (wider) below
    rows = [frames[:per_row], frames[per_row:]] if len(frames) > per_row else [frames]
    fig = plt.figure(figsize=(4.0 * per_row, (0.36 * len(order) + 1.5) * len(rows)))
    grid = fig.add_gridspec(len(rows), per_row * len(rows[-1]) if len(rows) > 1 else per_row)
    width = grid.ncols
    for r, row in enumerate(rows):
        span = width // len(row)
        for j, (p, f) in enumerate(row):
            ax = fig.add_subplot(grid[r, j * span : (j + 1) * span])
            _interval_panel(ax, p, f, order, palette, level)
            if j:
                ax.set_yticklabels([])
    fig.tight_layout()
    return fig


def _interval_panel(ax, p: dict, f: pd.DataFrame, order: list[str], palette: dict, level: float) -> None:
    import seaborn as sns

    hue_order = [h for h in p["metrics"].values() if h in set(f["embedding"])]
    several = len(hue_order) > 1
    sns.stripplot(data=f, x="value", y="config", hue="embedding", order=order, hue_order=hue_order, palette=palette,
                  dodge=several, size=3.5, alpha=0.55, jitter=False, legend=False, ax=ax)  # fmt: skip
    sns.pointplot(data=f, x="value", y="config", hue="embedding", order=order, hue_order=hue_order, palette=palette,
                  errorbar=lambda v: t_interval(v, level), dodge=0.4 if several else False, linestyle="none",
                  markers="D", markersize=4.5, capsize=0.12, err_kws={"linewidth": 1.3}, legend=several, ax=ax)  # fmt: skip
    for value, label, style, dy in ((p.get("chance"), "chance", dict(color="gray", ls="--", lw=1), -10),
                                    (p.get("goal"), "goal", dict(color="0.1", ls=":", lw=1.4), -20)):  # fmt: skip
        if value is not None:
            ax.axvline(value, **style)
            ax.annotate(label, (value, 1.0), xycoords=("data", "axes fraction"), xytext=(3, dy), textcoords="offset points",
                        fontsize="x-small", color=style["color"])  # fmt: skip
    if p.get("lim"):
        ax.set_xlim(*p["lim"])
    ax.set_title(p["title"])
    ax.set_xlabel(p["ylabel"])
    ax.set_ylabel("")
    if several:
        ax.legend(title=None, loc="lower left", fontsize="x-small")


def experiments_table(exp_dir: str | Path, reference: dict | None = None, metrics: list[str] | None = None) -> pd.DataFrame:
    """One row per folder of ``exp_dir`` holding a ``metrics.json`` (in name order): the settings of its
    ``run.json`` (of any age: ``sclap_nb.config.migrate_run_json``) that differ from ``reference`` (a
    ``run.json``'s content, e.g. the default run's; default: the default run's settings), and ``metrics``."""
    metrics = metrics or ["joint/t2a/R@1", "triplet/t2a/R@1", "joint/order_acc", "triplet/order_acc", "joint/place_acc",
                          "triplet/place_acc", "LE_deg", "modality/probe_acc"]  # fmt: skip
    ref = migrate_run_json(reference).identity() if reference else RunConfig().identity()
    rows = []
    for path in sorted(Path(exp_dir).glob("*/metrics.json")):
        m = json.loads(path.read_text())
        run_json = path.parent / "run.json"
        have = migrate_run_json(json.loads(run_json.read_text())).identity() if run_json.is_file() else {}
        differs = {k: v for k, v in have.items() if ref.get(k) != v and k != "runtime.seed"}
        rows.append({"experiment": path.parent.name, "seed": m.get("seed", have.get("runtime.seed")),
                     "settings that differ": ", ".join(f"{k}={v}" for k, v in sorted(differs.items())) or "none",
                     **{k: m.get(k, float("nan")) for k in metrics}})  # fmt: skip
    return pd.DataFrame(rows)


def _value(text: str):
    """A parameter value from the command line: JSON (numbers, true/false, lists) or else a string."""
    try:
        return json.loads(text)
    except json.JSONDecodeError:
        return text


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", default="runs/ablation")
    ap.add_argument("--seeds", type=int, nargs="+", default=list(SEEDS))
    ap.add_argument("--configs", nargs="+", default=list(CONFIGS), choices=list(CONFIGS))
    ap.add_argument("--preset", default=PRESET, help="the preset every configuration starts from (default: the "
                    "specification's settings, which results/ablation was run with)")  # fmt: skip
    ap.add_argument("-p", nargs=2, action="append", default=[], metavar=("NAME", "VALUE"),
                    help="a run setting for every run, by its dotted name (e.g. -p optim.epochs 4)")  # fmt: skip
    ap.add_argument("--publish", help="after each run, copy the tables and every finished run's metrics.json here "
                    "(e.g. results/ablation)")  # fmt: skip
    args = ap.parse_args(argv)
    out = Path(args.out)
    extra = {k: _value(v) for k, v in args.p}
    publish = Path(args.publish) if args.publish else None
    for seed in args.seeds:  # seed by seed: a partial table has every configuration on the same seeds
        for name in args.configs:
            run_dir = out / f"{slug(name)}_s{seed}"
            if (run_dir / "metrics.json").exists():
                print(f"[skip] {name} seed {seed}: {run_dir}/metrics.json exists", flush=True)
            else:
                print(f"[run ] {name} seed {seed} -> {run_dir}", flush=True)
                run_one(run_dir, ablation_config(name, seed, extra, base=args.preset))
            write_tables(out)
            if publish is not None:  # each finished run goes to results/ at once, to be committed
                publish_ablation(out, publish.parent if publish.name == "ablation" else publish)
    print((out / "table.md").read_text())
    return 0


if __name__ == "__main__":
    sys.exit(main())


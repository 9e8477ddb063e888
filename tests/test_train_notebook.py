"""The main job headless: the training notebook through papermill, in its quick setting."""

import json
import math
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
REQUIRED = [
    "joint/t2a/R@1", "joint/t2a/R@5", "joint/t2a/R@10", "joint/t2a/mAP@10",
    "joint/a2t/R@1", "joint/a2t/R@5", "joint/a2t/R@10", "joint/a2t/mAP@10",
    "joint/3way_temporal", "joint/3way_spatial", "joint/zeroshot_direction",
    "triplet/t2a/R@1", "triplet/a2t/mAP@10", "triplet/3way_temporal", "triplet/3way_spatial",
    "triplet/zeroshot_direction", "LE_deg", "modality_acc", "train_seconds",
]


@pytest.mark.slow
def test_training_notebook_runs_headless_and_writes_metrics(tmp_path):
    import papermill as pm

    out = tmp_path / "run"
    pm.execute_notebook(
        str(ROOT / "notebooks" / "10_train.ipynb"),
        str(tmp_path / "train.ipynb"),
        parameters={"preset": "quick", "settings": {"optim.epochs": 1, "runtime.out_dir": str(out),
                                                    "data.corpus_dir": str(tmp_path / "corpus")}},
        cwd=str(ROOT),
        progress_bar=False,
        kernel_name="python3",
    )
    metrics = json.loads((out / "metrics.json").read_text())
    missing = [k for k in REQUIRED if k not in metrics]
    assert not missing, missing
    bad = {k: v for k, v in metrics.items() if isinstance(v, float) and not math.isfinite(v)}
    assert not bad, bad
    assert 0.0 <= metrics["triplet/3way_temporal"] <= 1.0 and metrics["LE_deg"] <= 180.0
    for name in ("train_losses.png", "train_modality_acc.png", "train_3way_acc.png"):
        assert (out / "figures" / name).stat().st_size > 1000, name
    assert sorted(p.name for p in (out / "checkpoints").iterdir()) == ["best.ckpt", "last.ckpt"]

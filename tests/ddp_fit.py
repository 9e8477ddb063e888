"""Two-process Lightning DDP fit on CPU (gloo), run by tests/test_distributed.py as a script:
Lightning's ddp launcher starts the second rank by re-running this file."""

import json
import os
import sys

os.environ.setdefault("HF_HUB_OFFLINE", "1")

from sclap_nb.data import StClothoDataModule, ensure_corpus
from sclap_nb.features import FeatureConfig
from sclap_nb.training import fit

sys.path.insert(0, os.path.dirname(__file__))
from conftest import tiny_config  # noqa: E402  (the tests' one tiny model)

if __name__ == "__main__":
    work = sys.argv[1]
    root = ensure_corpus(os.path.join(work, "corpus"), n_train=8, n_val=4, n_test=4, seed=7, progress=False)
    dm = StClothoDataModule(root, batch_size=2, features=FeatureConfig(), cache_dir=root / "cache", seed=3)
    cfg = tiny_config(optim__epochs=1, optim__batch_size=2, runtime__devices=2, runtime__strategy="ddp",
                      runtime__accelerator="cpu", runtime__num_threads=1)  # fmt: skip
    module, trainer = fit(cfg, dm, os.path.join(work, "run"), resume=False)
    result = {"rank": trainer.global_rank, "world": trainer.world_size, "steps": trainer.global_step,
              "total": float(trainer.callback_metrics["train/total_epoch"])}
    with open(os.path.join(work, f"rank{trainer.global_rank}.json"), "w") as f:
        json.dump(result, f)

"""One training or validation run for tests/test_ddp_equivalence.py, run as a script:
``python tests/ddp_equivalence.py SPEC.json``. With ``devices: 2`` Lightning's ddp launcher starts
the second rank by re-running this file (gloo, CPU).

SPEC keys: ``mode`` ("fit" or "validate"), ``corpus`` (a built corpus whose feature cache is
``corpus/cache``), ``out`` (a folder for the results), ``devices``, ``batch_size`` (triplets per
rank), ``epochs``, ``precision`` (default "32-true"), ``fixes`` (harness-side changes, see below), ``weights`` (validate: a
state_dict file), ``val_scenes`` (validate: list of scene counts, each a run over the first k
val scenes).

Dropout is switched off in every run: masks drawn for 12 clips in one process cannot equal
masks drawn for 6 + 6 clips in two, so with dropout no two such runs can be compared.

``fixes`` (what a 2-process run needs to be the 1-process run; the package now does both itself,
so with the fixes the harness only makes sure of them; "plain_bn" undoes the BatchNorm one):
  * "sampler": the training loader of each rank takes the items ``r, r + W, ...`` of the
    1-process order (a DistributedSamplerWrapper with shuffle=False), so the union of the
    ranks' step-k batches is the 1-process step-k batch. Without it Lightning wraps the
    EpochShuffleSampler with shuffle=True, which permutes its order once more.
  * "syncbn": every BatchNorm2d normalises a training batch with the statistics of the global
    batch (all ranks), on CPU too (torch's SyncBatchNorm, and so the Trainer's
    sync_batchnorm=True, refuses CPU tensors): sclap_nb.model.GlobalBatchNorm2d.

Results (rank r): ``fit``: ``fit_rank{r}.json`` (per step: the batch's clip ids and the total
loss; the last validation metrics; ``moved``, the largest parameter change), and from rank 0 ``params.pt`` (the trainable parameters)
and ``weights.pt`` (the whole state_dict). ``validate``: ``val_rank{r}.json`` ({k: metrics}).
"""

import json
import os
import sys

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

import torch
import torch.distributed as dist
from torch import nn
from torch.utils.data import DataLoader, DistributedSampler, Subset

import lightning.pytorch as pl

from sclap_nb.data import StClothoDataModule, collate_groups
from sclap_nb.features import FeatureConfig
from sclap_nb.model import GlobalBatchNorm2d
from sclap_nb.config import RunConfig
from sclap_nb.training import SCLAPModule, build_trainer, fit

# the default run's token norm included: its BatchNorm of the chunk tokens must see the global batch too
sys.path.insert(0, os.path.dirname(__file__))
from conftest import tiny_config  # noqa: E402  (the tests' one tiny model)


def distributed() -> bool:
    return dist.is_available() and dist.is_initialized() and dist.get_world_size() > 1


class Harness(pl.Callback):
    """Before Lightning wraps the model (``setup`` runs before DDP): no dropout; optionally global BN."""

    def __init__(self, sync_bn: bool = False, plain_bn: bool = False):
        self.sync_bn, self.plain_bn = sync_bn, plain_bn
        self.steps: list[dict] = []

    def setup(self, trainer, pl_module, stage):
        for m in pl_module.modules():
            if isinstance(m, nn.Dropout):
                m.p = 0.0
            if isinstance(m, nn.MultiheadAttention):
                m.dropout = 0.0
            if self.sync_bn and type(m) is nn.BatchNorm2d:
                m.__class__ = GlobalBatchNorm2d
            if self.plain_bn and type(m) is GlobalBatchNorm2d:  # undo the package's fix, to show what it does
                m.__class__ = nn.BatchNorm2d

    def on_train_start(self, trainer, pl_module):
        self.initial = {k: p.detach().clone() for k, p in pl_module.model.named_parameters() if p.requires_grad}

    def on_train_batch_start(self, trainer, pl_module, batch, batch_idx):
        self.steps.append({"ids": list(batch["ids"])})

    def on_train_batch_end(self, trainer, pl_module, outputs, batch, batch_idx):
        loss = outputs.get("loss") if isinstance(outputs, dict) else outputs
        self.steps[-1]["total"] = None if loss is None else float(loss)


class DataModule(StClothoDataModule):
    """StClothoDataModule with an in-order shard of the training order per rank ("sampler" fix)
    and validation over the first ``val_scenes`` scenes."""

    def __init__(self, *args, shard_in_order: bool = False, val_scenes: int | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        self.shard_in_order, self.val_scenes = shard_in_order, val_scenes

    def train_dataloader(self):
        loader = super().train_dataloader()
        if not (self.shard_in_order and distributed()) or isinstance(loader.sampler, DistributedSampler):
            return loader  # (already a DistributedSampler: the data module shards the order itself)
        from lightning.fabric.utilities.distributed import DistributedSamplerWrapper

        # a DistributedSampler: Lightning leaves it as it is (and still calls its set_epoch)
        sampler = DistributedSamplerWrapper(loader.sampler, shuffle=False)
        return DataLoader(loader.dataset, batch_size=self.batch_size, sampler=sampler, collate_fn=collate_groups)

    def val_dataloader(self):
        loader = super().val_dataloader()
        if self.val_scenes is None:
            return loader
        subset = Subset(loader.dataset, range(self.val_scenes))
        return DataLoader(subset, batch_size=self.batch_size, collate_fn=collate_groups)


def config(spec: dict) -> RunConfig:
    ddp = spec["devices"] > 1
    return tiny_config(settings={
        "optim.epochs": spec.get("epochs", 1), "optim.batch_size": spec["batch_size"], "runtime.devices": spec["devices"],
        "runtime.strategy": "ddp" if ddp else "auto", "runtime.accelerator": "cpu", "runtime.num_threads": 1,
        "runtime.seed": spec.get("seed", 2025), "model.temporal_token_norm": True,
        "runtime.precision": spec.get("precision", "32-true"),
    })  # fmt: skip


def out_dir(spec: dict) -> str:
    return os.path.join(spec["out"], "run")


def datamodule(spec: dict, **kwargs) -> DataModule:
    root = spec["corpus"]
    return DataModule(root, batch_size=spec["batch_size"], features=FeatureConfig(), cache_dir=os.path.join(root, "cache"),
                      seed=3, check_headers=False, **kwargs)


def run_fit(spec: dict) -> None:
    fixes = set(spec.get("fixes", ()))
    cfg = config(spec)
    harness = Harness(sync_bn="syncbn" in fixes, plain_bn="plain_bn" in fixes)
    module, trainer = fit(cfg, datamodule(spec, shard_in_order="sampler" in fixes), out_dir(spec), resume=False,
                          callbacks=[harness])  # fmt: skip
    r = trainer.global_rank
    result = {"rank": r, "world": trainer.world_size, "global_step": trainer.global_step, "steps": harness.steps,
              "val": {k: float(v) for k, v in module.val_metrics.items()},
              "bn": sorted({type(m).__name__ for m in module.modules() if isinstance(m, nn.BatchNorm2d)})}
    params = {k: p.detach().clone() for k, p in module.model.named_parameters() if p.requires_grad}
    # how far training moved the parameters: the scale a difference between runs is judged against
    result["moved"] = max((params[k] - harness.initial[k]).abs().max().item() for k in params)
    result["moved_norm"] = sum(((params[k] - harness.initial[k]).double() ** 2).sum().item() for k in params) ** 0.5
    with open(os.path.join(spec["out"], f"fit_rank{r}.json"), "w") as f:
        json.dump(result, f)
    if r == 0:
        torch.save(params, os.path.join(spec["out"], "params.pt"))
        torch.save(module.state_dict(), os.path.join(spec["out"], "weights.pt"))


def run_validate(spec: dict) -> None:
    cfg = config(spec)
    torch.set_num_threads(cfg.runtime.num_threads)
    pl.seed_everything(cfg.runtime.seed, verbose=False)
    module = SCLAPModule(cfg)
    module.load_state_dict(torch.load(spec["weights"], weights_only=True))
    trainer = build_trainer(cfg, out_dir(spec), callbacks=[Harness()], enable_checkpoints=False)
    results = {}
    for k in spec["val_scenes"]:
        module.val_metrics = {}
        trainer.validate(module, datamodule=datamodule(spec, val_scenes=k), verbose=False)
        results[str(k)] = {
            "metrics": {key: float(v) for key, v in module.val_metrics.items()},
            "logged": {key: float(v) for key, v in trainer.callback_metrics.items() if key.startswith("val/")},
        }
    with open(os.path.join(spec["out"], f"val_rank{trainer.global_rank}.json"), "w") as f:
        json.dump(results, f)


if __name__ == "__main__":
    with open(sys.argv[1]) as f:
        spec = json.load(f)
    {"fit": run_fit, "validate": run_validate}[spec["mode"]](spec)

#!/usr/bin/env bash
# One session on a lent GPU machine (torch, Lightning and transformers there; the rest carried):
#   1. the GPU checks of benchmarks/gpu_check.py (unit checks on CUDA, bf16-mixed and DDP/NCCL fits,
#      resume, best.ckpt on CUDA, step time, loader throughput, GPU utilisation);
#   2. the ablation at the default size, every configuration and seed as its own process, all at
#      once on the one GPU (each uses under 1 GiB and a fraction of the chip).
# Carried: .whl/ (wheels of the missing packages) and .textmodel/ (all-MiniLM-L6-v2 in float16).
# Writes to $OUT: gpu_check.json, ablation.json (every finished run's metrics), table.md, logs.
#   bash benchmarks/gpu_session.sh [check|ablation|all]
set -uo pipefail
MODE=${1:-all}
cd "$(dirname "$0")/.."
OUT=${OUT:-/tmp/out}
ABLATION_SECONDS=${ABLATION_SECONDS:-330}
mkdir -p "$OUT"
export HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1 PYTHONUNBUFFERED=1
python3 -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --target /tmp/site .whl/*.whl || exit 1
export PYTHONPATH=/tmp/site:$PWD
# the text encoder: float16 weights carried, float32 on disk here
mkdir -p /tmp/minilm && cp .textmodel/*.json .textmodel/vocab.txt /tmp/minilm/
python3 - <<'EOF' || exit 1
from safetensors.torch import load_file, save_file
sd = load_file(".textmodel/model.fp16.safetensors")
save_file({k: (v.float() if v.is_floating_point() else v).contiguous() for k, v in sd.items()}, "/tmp/minilm/model.safetensors")
EOF
export SCLAP_TEXT_MODEL=/tmp/minilm
nvidia-smi --query-gpu=name,memory.total,utilization.gpu --format=csv,noheader

if [ "$MODE" != ablation ]; then
  echo "== 1. GPU checks"
  python3 benchmarks/gpu_check.py --out "$OUT" > "$OUT/gpu_check.log" 2>&1
  tail -n 14 "$OUT/gpu_check.log"
fi
[ "$MODE" = check ] && exit 0

echo "== 2. ablation: corpora and feature caches, one per seed"
A=/tmp/ablation
mkdir -p $A
for seed in 2025 2026 2027; do
  python3 - "$seed" <<'EOF' &
import sys
from pathlib import Path
from sclap_nb.data import ensure_corpus, feature_cache
from sclap_nb.features import FeatureConfig
from sclap_nb.run import RunConfig, corpus_dir_for
seed = int(sys.argv[1])
cfg = RunConfig(seed=seed)
root = ensure_corpus(Path.cwd() / corpus_dir_for(cfg), n_train=cfg.n_train, n_val=cfg.n_val, n_test=cfg.n_test, seed=seed, progress=False)
for split in ("train", "val", "test"):
    feature_cache(root, split, FeatureConfig(), root / "cache")
print("corpus", seed, root)
EOF
done
wait
echo "== 2b. every configuration x seed at once"
python3 - <<'EOF'
from sclap_nb.ablation import CONFIGS, slug
with open("/tmp/ablation/jobs.txt", "w") as f:
    for seed in (2025, 2026, 2027):
        for name in CONFIGS:
            f.write(f"{seed}\t{name}\n")
EOF
while IFS=$'\t' read -r seed name; do
  OMP_NUM_THREADS=1 timeout "$ABLATION_SECONDS" python3 -m sclap_nb.ablation --out $A --seeds "$seed" --configs "$name" \
    -p accelerator gpu -p num_threads 1 > "$A/$(echo "$name" | tr -c 'a-zA-Z0-9' '_')_$seed.log" 2>&1 &
done < $A/jobs.txt
wait
python3 - "$OUT" <<'EOF'
import json, sys
from pathlib import Path
from sclap_nb.ablation import write_tables
out, a = Path(sys.argv[1]), Path("/tmp/ablation")
runs = {p.parent.name: json.loads(p.read_text()) for p in sorted(a.glob("*/metrics.json"))}
(out / "ablation.json").write_text(json.dumps(runs, indent=1))
if runs:
    write_tables(a)
    (out / "table.md").write_text((a / "table.md").read_text())
    print((a / "table.md").read_text())
print(f"{len(runs)} finished runs")
EOF
tail -n 3 $A/*.log | tail -n 60 > "$OUT/ablation_logs.txt"

#!/usr/bin/env bash
# A sweep of design variants on a lent GPU machine, every run at the default size as its own process,
# all at once on the one GPU and its 16 CPU cores (each run uses under 1 GiB of GPU memory).
#   bash benchmarks/gpu_sweep.sh JOBS_FILE
# JOBS_FILE: one run a line, "NAME<TAB>SEED<TAB>ARGS" (ARGS: flags of python -m sclap_nb.train,
# --layout among them when the run needs the isolated corpus). Corpora of every (seed, layout) named
# are built first, in parallel. Carried: .gpucarry/whl (wheels of the missing packages) and
# .gpucarry/textmodel (all-MiniLM-L6-v2 in float16, its word embeddings cut to the rows of the tokens
# this package's captions use: benchmarks/prune_text_model.py). Writes to $OUT: sweep.json (every
# finished run's metrics.json and run.json), logs.txt (the last lines of each run's log).
set -uo pipefail
JOBS=${1:?a jobs file}
cd "$(dirname "$0")/.."
OUT=${OUT:-/tmp/out}
DEADLINE=$(( $(date +%s) + ${SWEEP_SECONDS:-540} ))
mkdir -p "$OUT"
export HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1 PYTHONUNBUFFERED=1
python3 -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --target /tmp/site .gpucarry/whl/*.whl || exit 1
export PYTHONPATH=/tmp/site:$PWD
python3 benchmarks/prune_text_model.py unpack .gpucarry/textmodel /tmp/minilm || exit 1
export SCLAP_TEXT_MODEL=/tmp/minilm
nvidia-smi --query-gpu=name,memory.total --format=csv,noheader
S=/tmp/sweep
mkdir -p $S

echo "== corpora and feature caches, one process per (seed, layout)"
cut -f2,3 "$JOBS" | python3 -c "
import sys
seen = set()
for line in sys.stdin:
    seed, args = line.rstrip('\n').split('\t')
    a = args.split()
    layout = a[a.index('--layout') + 1] if '--layout' in a else 'spill'
    seen.add((int(seed), layout))
print('\n'.join(f'{s} {l}' for s, l in sorted(seen)))" > $S/corpora.txt
while read -r seed layout; do
  python3 - "$seed" "$layout" > "$S/corpus_${seed}_${layout}.log" 2>&1 <<'EOF' &
import sys
from pathlib import Path
from sclap_nb.data import ensure_corpus, feature_cache
from sclap_nb.features import FeatureConfig
from sclap_nb.run import RunConfig, corpus_dir_for
cfg = RunConfig(seed=int(sys.argv[1]), layout=sys.argv[2])
root = ensure_corpus(Path.cwd() / corpus_dir_for(cfg), n_train=cfg.n_train, n_val=cfg.n_val, n_test=cfg.n_test,
                     seed=cfg.seed, layout=cfg.layout, progress=False)
for split in ("train", "val", "test"):
    feature_cache(root, split, FeatureConfig(), root / "cache")
print("corpus", root)
EOF
done < $S/corpora.txt
wait
tail -qn 1 $S/corpus_*.log
python3 benchmarks/prune_text_model.py check /tmp/minilm data || exit 1
echo "corpora ready after $(( $(date +%s) - DEADLINE + ${SWEEP_SECONDS:-540} )) s"

echo "== every run at once"
while IFS=$'\t' read -r name seed args; do
  left=$(( DEADLINE - $(date +%s) - 25 ))
  # shellcheck disable=SC2086
  OMP_NUM_THREADS=1 timeout "$left" python3 -m sclap_nb.train --seed "$seed" $args --out-dir "$S/${name}_s${seed}" \
    --accelerator gpu --num-threads 1 --progress-bar false < /dev/null > "$S/${name}_s${seed}.log" 2>&1 &
done < "$JOBS"
wait
python3 - "$OUT" <<'EOF'
import json, sys
from pathlib import Path
out, s = Path(sys.argv[1]), Path("/tmp/sweep")
runs = {p.parent.name: {"metrics": json.loads(p.read_text()), "run": json.loads((p.parent / "run.json").read_text())}
        for p in sorted(s.glob("*/metrics.json"))}
(out / "sweep.json").write_text(json.dumps(runs, indent=1))
print(f"{len(runs)} finished runs")
for name, r in runs.items():
    m = r["metrics"]
    print(name, " ".join(f"{k}={m.get(k, float('nan')):.3f}" for k in
          ("joint/t2a/R@1", "triplet/t2a/R@1", "joint/order_acc", "triplet/order_acc", "triplet/place_acc",
           "triplet/vs_neg_c", "LE_deg")))
EOF
for f in $S/*.log; do echo "## $f"; tail -n 4 "$f"; done > "$OUT/logs.txt"

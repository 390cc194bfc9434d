#!/usr/bin/env bash
# Training throughput on this machine's cores, end to end (`jepa train`: data loading, logging and
# checkpoints included): the same config (global batch = data.batch_size) in one process with 1
# thread, in one process with 2 threads (the default: the batch split into one shard per thread),
# and, when Open MPI is installed, under `mpirun -np 2` with 1 thread per rank. Prints steps/s of
# each, measured between the first and the last logged step (start-up is left out), and the
# speed-up over 1 thread. Needs a release build and the config's dataset.
# Usage: scripts/bench-ddp.sh [config.yaml] [steps]     (default: experiments/balls-vjepa.yaml, 40)
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
config=${1:-experiments/balls-vjepa.yaml}
steps=${2:-40}
jepa=.build/release/jepa
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
common=(train --config "$config" --runs "$out" --set "train.steps=$steps" --set train.log_every=5
        --set "train.checkpoint_every=$steps" --set optim.warmup_steps=1)

rate() {  # steps/s between the first and the last line of metrics.jsonl
  python3 - "$1" <<'PY'
import json, sys
lines = [json.loads(l) for l in open(sys.argv[1])]
a, b = lines[0], lines[-1]
print(f"{(b['step'] - a['step']) / (b['seconds'] - a['seconds']):.3f}")
PY
}

"$jepa" "${common[@]}" --threads 1 --set name=one >/dev/null 2>&1
one=$(rate "$out/one/metrics.jsonl")
"$jepa" "${common[@]}" --threads 2 --set name=threads >/dev/null 2>&1
threads=$(rate "$out/threads/metrics.jsonl")
echo "$config: 1 process × 1 thread $one steps/s; 1 process × 2 threads $threads steps/s (×$(python3 -c "print(f'{$threads/$one:.2f}')"))"
if command -v mpirun >/dev/null 2>&1; then
  OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 mpirun -np 2 "$jepa" "${common[@]}" --threads 1 --set name=ranks >/dev/null 2>&1
  ranks=$(rate "$out/ranks/metrics.jsonl")
  echo "$config: 2 ranks × 1 thread $ranks steps/s (×$(python3 -c "print(f'{$ranks/$one:.2f}')"))"
fi

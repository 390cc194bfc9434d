#!/usr/bin/env bash
# Data-parallel scaling on this machine: the same training (global batch = data.batch_size) in one
# process with 1 thread, then under `mpirun -np 2` with 1 thread per rank; prints steps/s of each
# (measured between the first and the last logged step, so start-up is left out) and the efficiency
# (speed-up / ranks). Needs a release build, Open MPI and the config's dataset.
# Usage: scripts/bench-ddp.sh [config.yaml] [steps]     (default: experiments/balls-vjepa.yaml, 40)
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
config=${1:-experiments/balls-vjepa.yaml}
steps=${2:-40}
jepa=.build/release/jepa
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
common=(train --config "$config" --runs "$out" --threads 1 --set "train.steps=$steps" --set train.log_every=5
        --set "train.checkpoint_every=$steps" --set optim.warmup_steps=1)

rate() {  # steps/s between the first and the last line of metrics.jsonl
  python3 - "$1" <<'PY'
import json, sys
lines = [json.loads(l) for l in open(sys.argv[1])]
a, b = lines[0], lines[-1]
print(f"{(b['step'] - a['step']) / (b['seconds'] - a['seconds']):.3f}")
PY
}

"$jepa" "${common[@]}" --set name=one >/dev/null 2>&1
one=$(rate "$out/one/metrics.jsonl")
OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 mpirun -np 2 "$jepa" "${common[@]}" --set name=two >/dev/null 2>&1
two=$(rate "$out/two/metrics.jsonl")
python3 -c "print(f'1 process × 1 thread: {$one} steps/s; 2 ranks × 1 thread: {$two} steps/s; speed-up {$two/$one:.2f}, efficiency {$two/$one/2:.0%}')"

#!/usr/bin/env bash
# Training throughput on this machine's cores, end to end (`jepa train`: data loading, logging and
# checkpoints included): the same config (global batch = data.batch_size) in one process with 1
# thread, in one process with 2 threads (the default: the batch split into one shard per thread),
# when Open MPI is installed, under `mpirun -np 2` with 1 thread per rank, and as two independent
# 1-thread processes training side by side (their summed steps/s is what this machine's two cores
# give two unrelated jobs: the ceiling of any split of one job). They run in turn, `rounds` times (the machine drifts; alternating keeps the comparison fair); each prints
# steps/s measured between the first and the last logged step (start-up is left out), then the
# medians and speed-ups over 1 thread. Needs a release build and the config's dataset.
# Usage: scripts/bench-ddp.sh [config.yaml] [steps] [rounds]   (default: experiments/balls-vjepa.yaml, 60, 3)
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
config=${1:-experiments/balls-vjepa.yaml}
steps=${2:-60}
rounds=${3:-3}
jepa=${JEPA:-.build/release/jepa}   # JEPA=path times another build
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
common=(train --config "$config" --runs "$out" --set "train.steps=$steps" --set "train.log_every=$((steps / 6))"
        --set "train.checkpoint_every=$steps" --set optim.warmup_steps=1)

rate() {  # steps/s between the first and the last line of metrics.jsonl
  python3 - "$1" <<'PY'
import json, sys
lines = [json.loads(l) for l in open(sys.argv[1])]
a, b = lines[0], lines[-1]
print(f"{(b['step'] - a['step']) / (b['seconds'] - a['seconds']):.3f}")
PY
}

modes=(one threads)
command -v mpirun >/dev/null 2>&1 && modes+=(ranks)
modes+=(pair)
declare -A rates
for round in $(seq "$rounds"); do
  for mode in "${modes[@]}"; do
    rm -rf "${out:?}/$mode"
    case $mode in
      one) "$jepa" "${common[@]}" --threads 1 --set name=$mode >/dev/null 2>&1 ;;
      threads) "$jepa" "${common[@]}" --threads 2 --set name=$mode >/dev/null 2>&1 ;;
      ranks) OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 \
               mpirun -np 2 "$jepa" "${common[@]}" --threads 1 --set name=$mode >/dev/null 2>&1 ;;
      pair) rm -rf "${out:?}/pair2"
            "$jepa" "${common[@]}" --threads 1 --set name=pair2 >/dev/null 2>&1 &
            "$jepa" "${common[@]}" --threads 1 --set name=$mode >/dev/null 2>&1
            wait ;;
    esac
    if [ "$mode" = pair ]; then
      rates[$mode]+="$(python3 -c "print(f'{$(rate "$out/pair/metrics.jsonl") + $(rate "$out/pair2/metrics.jsonl"):.3f}')") "
    else
      rates[$mode]+="$(rate "$out/$mode/metrics.jsonl") "
    fi
  done
  echo "after round $round: 1 thread ${rates[one]}| 2 threads ${rates[threads]}| 2 ranks ${rates[ranks]:-}| 2 processes ${rates[pair]}"
done
python3 - "$config" "${rates[one]}" "${rates[threads]}" "${rates[pair]}" "${rates[ranks]:-}" <<'PY'
import statistics, sys
config, one, threads, pair, ranks = sys.argv[1], *[[float(v) for v in a.split()] for a in sys.argv[2:]]
m1 = statistics.median(one)
line = f"{config}: steps/s, median of {len(one)} alternating rounds: 1 process × 1 thread {m1:.3f}; 1 process × 2 threads {statistics.median(threads):.3f} (×{statistics.median(threads) / m1:.2f})"
if ranks:
    line += f"; 2 ranks × 1 thread {statistics.median(ranks):.3f} (×{statistics.median(ranks) / m1:.2f})"
line += f"; two independent 1-thread processes together {statistics.median(pair):.3f} (×{statistics.median(pair) / m1:.2f})"
print(line)
print("per round, 2 threads / 1 thread: " + ", ".join(f"{t / o:.2f}" for o, t in zip(one, threads)))
PY

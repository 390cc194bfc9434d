#!/usr/bin/env bash
# The reference training step against the PyTorch peer (`../shared/peer/peer_jepa.py`), alternating
# on one machine (it drifts by up to 25 % over minutes): each round runs `jepa bench --sections
# train-step` (1 and 2 threads) and the peer at 1 and 2 threads, in the order peer 1, peer 2, jepa
# in odd rounds and jepa, peer 2, peer 1 in even ones; then the per-round ratios and their medians.
# Every build named in JEPA_OTHER (space-separated paths) is timed right after jepa in each round.
# Needs a release build, and `pip install torch numpy` for the peer.
# Usage: scripts/bench-peer.sh [rounds] [seconds per jepa case]   (default 3, 8)
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
rounds=${1:-3}
seconds=${2:-8}
jepa=${JEPA:-.build/release/jepa}
peer=${PEER:-../shared/peer}
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT

peer_ms() {  # median step of the peer at $1 threads, in ms
  (cd "$peer" && OMP_NUM_THREADS=$1 python3 peer_jepa.py --mode bench --batch 16 --threads "$1" --warmup 3 --steps 10) \
    | python3 -c "import json, sys; r = [l for l in sys.stdin if l.startswith('RESULT ')][-1]; print(f\"{json.loads(r[7:])['step_ms_median']:.1f}\")"
}
jepa_run() {  # $1 binary, $2 json
  "$1" bench --sections train-step --seconds "$seconds" --json "$2" >/dev/null
}
jepa_ms() {  # median of the data-parallel "train step" row at $2 threads in json $1
  python3 - "$1" "$2" <<'PY'
import json, sys
rows = json.load(open(sys.argv[1]))["rows"]
row = next(r for r in rows if r["name"] == "train step" and r["threads"] == int(sys.argv[2]))
print(f"{row['medianMs']:.1f}")
PY
}

others=(${JEPA_OTHER:-})
for round in $(seq "$rounds"); do
  if [ $((round % 2)) -eq 1 ]; then
    p1=$(peer_ms 1); p2=$(peer_ms 2)
    jepa_run "$jepa" "$out/j$round.json"
    for i in "${!others[@]}"; do jepa_run "${others[$i]}" "$out/o$i-$round.json"; done
  else
    jepa_run "$jepa" "$out/j$round.json"
    for i in "${!others[@]}"; do jepa_run "${others[$i]}" "$out/o$i-$round.json"; done
    p2=$(peer_ms 2); p1=$(peer_ms 1)
  fi
  j1=$(jepa_ms "$out/j$round.json" 1); j2=$(jepa_ms "$out/j$round.json" 2)
  line="round $round: jepa 1 thread $j1 ms, peer 1 thread $p1 ms (×$(python3 -c "print(f'{$p1 / $j1:.2f}')")); jepa 2 threads $j2 ms, peer 2 threads $p2 ms (×$(python3 -c "print(f'{$p2 / $j2:.2f}')"))"
  for i in "${!others[@]}"; do
    line+="; ${others[$i]}: $(jepa_ms "$out/o$i-$round.json" 1) / $(jepa_ms "$out/o$i-$round.json" 2) ms"
  done
  echo "$line"
  echo "$p1 $j1 $p2 $j2" >> "$out/ratios"
done
python3 - "$out/ratios" <<'PY'
import statistics, sys
rows = [[float(v) for v in line.split()] for line in open(sys.argv[1])]
for t, (p, j) in ((1, (0, 1)), (2, (2, 3))):
    ratios = [r[p] / r[j] for r in rows]
    print(f"{t} thread(s): jepa median {statistics.median(r[j] for r in rows):.1f} ms, peer {statistics.median(r[p] for r in rows):.1f} ms; "
          f"peer/jepa median of rounds ×{statistics.median(ratios):.2f} ({', '.join(f'{x:.2f}' for x in ratios)})")
PY

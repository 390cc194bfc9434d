#!/usr/bin/env bash
# The main job: install what is missing, build in release mode, train the embedded default model (a
# next-frame world model of falling balls, 5–6 minutes on 2 cores (BENCHMARKS §14); `jepa train` generates
# datasets/balls-default.h5 on the way and ends by fitting the model's calibrated surprise energy),
# write a preview of its data, and evaluate it with `jepa eval` on held-out data it generates
# (position and velocity probes, open-loop rollouts against constant velocity, violation-of-expectation
# pairs of the four IntPhys 2 principles, collapse diagnostics): runs/balls-small/eval/report.md.
# The job ends with the report's one-paragraph reading.
# Extra arguments go to `jepa train`, e.g. `scripts/main.sh --set train.steps=100`.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

bash scripts/bootstrap.sh
swift build -c release
jepa=.build/release/jepa
"$jepa" train --force "$@"
"$jepa" data preview --input datasets/balls-default.h5 --out runs/balls-small/data-preview --episodes 4
"$jepa" eval --checkpoint "runs/balls-small/checkpoints/$(cat runs/balls-small/checkpoints/latest)" --pairs 270
cat runs/balls-small/eval/report.md
echo
grep '^\*\*Reading\.\*\*' runs/balls-small/eval/report.md

#!/usr/bin/env bash
# The main job: install what is missing, build in release mode, train the embedded default model (a
# small video JEPA on falling balls; `jepa train` generates datasets/balls-default.h5 on the way),
# write a preview of its data, and evaluate it with `jepa eval` on held-out data it generates
# (probes next to a random encoder, violation-of-expectation pairs, collapse diagnostics):
# runs/balls-small/eval/report.md.
# Extra arguments go to `jepa train`, e.g. `scripts/main.sh --set train.steps=100`.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

bash scripts/bootstrap.sh
swift build -c release
jepa=.build/release/jepa
"$jepa" train --force "$@"
"$jepa" data preview --input datasets/balls-default.h5 --out runs/balls-small/data-preview --episodes 4
"$jepa" eval --checkpoint "runs/balls-small/checkpoints/$(cat runs/balls-small/checkpoints/latest)" --pairs 90
cat runs/balls-small/eval/report.md

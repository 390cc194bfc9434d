#!/usr/bin/env bash
# The main job: install what is missing, build in release mode, train the embedded default model (a
# small video JEPA on falling balls; `jepa train` generates datasets/balls-default.h5 on the way),
# write a preview of its data, and probe the trained encoder for the ball's position on held-out
# one-ball episodes (next to a random encoder of the same shape).
# Extra arguments go to `jepa train`, e.g. `scripts/main.sh --set train.steps=100`.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

bash scripts/bootstrap.sh
swift build -c release
jepa=.build/release/jepa
"$jepa" train --force "$@"
"$jepa" data preview --input datasets/balls-default.h5 --out runs/balls-small/data-preview --episodes 4
"$jepa" data generate --world balls --episodes 600 --frames 32 --seed 1 --config experiments/one-ball-world.json \
    --out datasets/balls-probe-1ball.h5 --force
"$jepa" probe --checkpoint "runs/balls-small/checkpoints/$(cat runs/balls-small/checkpoints/latest)" \
    --data datasets/balls-probe-1ball.h5 --train-episodes 450 --test-episodes 150

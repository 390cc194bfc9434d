#!/usr/bin/env bash
# The main job: install what is missing, build in release mode, generate the default balls dataset
# and a preview of it, then benchmark the building blocks (`jepa bench`). Training and evaluation
# join this job with the training issue. Extra arguments go to `jepa bench`,
# e.g. `scripts/main.sh --threads 1 --seconds 1`.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

bash scripts/bootstrap.sh
swift build -c release
jepa=.build/release/jepa
"$jepa" data generate --world balls --episodes 500 --frames 32 --seed 0 --out datasets/balls-default.h5 --force
"$jepa" data preview --input datasets/balls-default.h5 --out datasets/balls-default-preview --episodes 4
"$jepa" bench "$@"

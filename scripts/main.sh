#!/usr/bin/env bash
# The main job: install what is missing, build in release mode and run it.
# For now the main job is the benchmark (`jepa bench`); extra arguments are passed to it,
# e.g. `scripts/main.sh --threads 1 --seconds 1`.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

bash scripts/bootstrap.sh
swift run -c release jepa bench "$@"

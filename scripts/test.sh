#!/usr/bin/env bash
# Install what is missing, then run the whole test suite (debug build; the tests use tiny tensors).
# Extra arguments are passed to `swift test`, e.g. `scripts/test.sh --filter TensorsTests`.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

bash scripts/bootstrap.sh
swift test "$@"

#!/usr/bin/env bash
# Install the system packages jepa-swift needs on a fresh Debian/Ubuntu machine that has only Swift.
# Idempotent: when everything is already installed it checks with dpkg and exits silently.
set -euo pipefail

packages=(libopenblas-dev libhdf5-dev pkg-config)

missing=()
for pkg in "${packages[@]}"; do
  if ! dpkg -s "$pkg" >/dev/null 2>&1; then
    missing+=("$pkg")
  fi
done

if [ ${#missing[@]} -eq 0 ]; then
  exit 0
fi

if ! command -v swift >/dev/null 2>&1; then
  echo "bootstrap: note: 'swift' is not on PATH; install a Swift 6.x toolchain (https://swift.org/install)" >&2
fi

if ! command -v apt-get >/dev/null 2>&1; then
  echo "bootstrap: missing packages: ${missing[*]}; no apt-get here, install the equivalents yourself" >&2
  exit 1
fi

# Run as root directly; otherwise go through sudo when it exists.
as_root=()
if [ "$(id -u)" -ne 0 ]; then
  if command -v sudo >/dev/null 2>&1; then
    as_root=(sudo)
  else
    echo "bootstrap: missing packages: ${missing[*]}" >&2
    echo "bootstrap: not root and no sudo; install them as root with:" >&2
    echo "  apt-get update && apt-get install -y ${missing[*]}" >&2
    exit 1
  fi
fi

echo "bootstrap: installing missing packages: ${missing[*]}"
"${as_root[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update -qq
"${as_root[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}"
echo "bootstrap: installed ${missing[*]}"

#!/usr/bin/env bash
# Installs the dependencies and builds into ${MEGASWIFT_BUILD_DIR:-build} (Release, Ninja).
# Shared by quickstart.sh and check.sh.
set -euo pipefail
cd "$(dirname "$0")/.."
build=${MEGASWIFT_BUILD_DIR:-build}

./scripts/install-deps.sh
cmake -S . -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Release
cmake --build "$build" --parallel "$(nproc)"

#!/usr/bin/env bash
# Installs the dependencies, builds, and runs every test suite (CTest). GPU suites report themselves as
# skipped when no GPU is present. This is the README's test command and what CI runs.
set -euo pipefail
cd "$(dirname "$0")/.."
build=${MEGASWIFT_BUILD_DIR:-build}

./scripts/build.sh
ctest --test-dir "$build" --output-on-failure --parallel "$(nproc)" --timeout 600
# ASan+UBSan unit tests and a short run of every fuzzer, in their own build directory (build-san).
./scripts/check_sanitized.sh

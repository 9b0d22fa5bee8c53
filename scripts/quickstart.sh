#!/usr/bin/env bash
# Installs the dependencies, builds, and runs the main job on the embedded defaults.
# Until the training engine lands, the main job is the plugin list and the sft flags.
set -euo pipefail
cd "$(dirname "$0")/.."
build=${MEGASWIFT_BUILD_DIR:-build}

./scripts/build.sh
"$build/bin/megatron" plugins
"$build/bin/megatron" sft --help

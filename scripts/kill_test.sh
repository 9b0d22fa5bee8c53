#!/usr/bin/env bash
# Issue 12's crash-safety demonstration: N (default 50) random SIGKILLs of a CPU `megatron pt` run that saves every
# 2 iterations, each followed by a resume with the same command (tests/integration/crash_safety). Prints every kill
# and the summary: kills, unloadable latest checkpoints, the largest resume gap, the loss difference to the
# uninterrupted run. Exit status 0 only when every promise held.
#   scripts/kill_test.sh [N]       MEGASWIFT_KILL_SEED=S repeats a run (its seed is printed first)
set -euo pipefail
cd "$(dirname "$0")/.."
build=${MEGASWIFT_BUILD_DIR:-build}
count=${1:-50}
if ! [[ $count =~ ^[1-9][0-9]{0,4}$ ]]; then
  echo "kill_test.sh: N must be a number from 1 to 99999, got '$count'" >&2
  exit 2
fi
binary=$build/tests/test_crash_safety
if [[ ! -x $binary ]]; then
  echo "kill_test.sh: $binary is missing; build it first: cmake --build $build --target test_crash_safety" >&2
  exit 2
fi
start=$(date +%s)
status=0
MEGASWIFT_KILL_COUNT=$count "$binary" --test-case='random SIGKILLs*' --no-intro=true || status=$?
echo "kill_test.sh: $count kills requested, $(( $(date +%s) - start )) s, exit status $status"
exit "$status"

#!/usr/bin/env bash
# Runs the libFuzzer targets of fuzz/ for <seconds> each: scripts/fuzz.sh <seconds> [target...]
# (no target: all of them). Configures and builds ${MEGASWIFT_SAN_BUILD_DIR:-build-san} (clang, ASan+UBSan,
# fuzzers, no CUDA) as needed. Each target runs on a scratch copy of its seed corpus fuzz/corpus/<target>, so
# the repository stays clean, with -rss_limit_mb=2048 -timeout=10 (a hang over 10 s or 2 GB of memory is a
# finding as a crash is). Prints executions and the result per target; crash inputs and logs are kept in
# ${MEGASWIFT_FUZZ_FINDINGS:-<build>/fuzz-findings}/<target>/. Exits 1 when any target found something.
set -euo pipefail
cd "$(dirname "$0")/.."

if [[ $# -lt 1 || ! $1 =~ ^[0-9]+$ || $1 -lt 1 ]]; then
  echo "usage: scripts/fuzz.sh <seconds per target> [target...]" >&2
  exit 2
fi
seconds=$1
shift
build=${MEGASWIFT_SAN_BUILD_DIR:-build-san}
findings=${MEGASWIFT_FUZZ_FINDINGS:-$build/fuzz-findings}

# Target -> the dictionaries (fuzz/dict/*.dict) it uses, merged into one (libFuzzer takes a single -dict).
declare -A dicts=(
  [safetensors_host]="json safetensors" [safetensors_plugin]="json safetensors" [hf_config]="json hf_config"
  [tokenizer_json]="json tokenizer" [dataset_rows]="json dataset" [pickle]="pickle" [zip]="zip"
  [dcp_metadata]="pickle" [zarray]="json zarray" [hdf5_attrs]="" [tfrecord]="" [cli_args]="cli"
  [elf_check]="elf")
all=(safetensors_host safetensors_plugin hf_config tokenizer_json dataset_rows pickle zip dcp_metadata zarray
     hdf5_attrs tfrecord cli_args elf_check)
targets=("$@")
[[ ${#targets[@]} -gt 0 ]] || targets=("${all[@]}")
for t in "${targets[@]}"; do
  if [[ ! -v "dicts[$t]" ]]; then
    echo "fuzz.sh: unknown target '$t'; the targets are: ${all[*]}" >&2
    exit 2
  fi
done

if [[ ! -f $build/build.ninja ]] || ! grep -q '^MEGASWIFT_FUZZERS:BOOL=ON' "$build/CMakeCache.txt"; then
  cmake -S . -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Release -DCMAKE_C_COMPILER=clang -DCMAKE_CXX_COMPILER=clang++ \
        -DMEGASWIFT_ENABLE_CUDA=OFF -DMEGASWIFT_SANITIZE=ON -DMEGASWIFT_FUZZERS=ON >/dev/null
fi
cmake --build "$build" --parallel "$(nproc)" --target "${targets[@]/#/fuzz_}"

scratch=$(mktemp -d "${TMPDIR:-/tmp}/msw-fuzz.XXXXXX")
trap 'rm -rf "$scratch"' EXIT
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:allocator_may_return_null=0}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
export LSAN_OPTIONS=${LSAN_OPTIONS:-suppressions=$PWD/fuzz/lsan.supp:print_suppressions=0}

failed=()
total_execs=0
printf '%-20s %12s %10s  %s\n' target executions exec/s result
for t in "${targets[@]}"; do
  work=$scratch/$t
  mkdir -p "$work/corpus" "$work/artifacts"
  [[ -d fuzz/corpus/$t ]] && cp -r "fuzz/corpus/$t/." "$work/corpus/"
  args=("$work/corpus" -max_total_time="$seconds" -rss_limit_mb=2048 -timeout=10 -print_final_stats=1
        -artifact_prefix="$work/artifacts/")
  if [[ -n ${dicts[$t]} ]]; then
    for d in ${dicts[$t]}; do cat "fuzz/dict/$d.dict"; done >"$work/dict"
    args+=(-dict="$work/dict")
  fi
  rc=0
  "$build/fuzz/fuzz_$t" "${args[@]}" >"$work/log" 2>&1 || rc=$?
  execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$work/log" | tail -1)
  rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$work/log" | tail -1)
  execs=${execs:-0}
  total_execs=$((total_execs + execs))
  if [[ $rc -eq 0 ]] && ! compgen -G "$work/artifacts/*" >/dev/null; then
    printf '%-20s %12s %10s  %s\n' "$t" "$execs" "${rate:-?}" ok
  else
    failed+=("$t")
    mkdir -p "$findings/$t"
    cp "$work/log" "$findings/$t/log"
    cp -r "$work/artifacts/." "$findings/$t/" 2>/dev/null || true
    printf '%-20s %12s %10s  %s\n' "$t" "$execs" "${rate:-?}" "FINDING (exit $rc): $findings/$t/"
    grep -m2 -E 'ERROR: (AddressSanitizer|LeakSanitizer|libFuzzer)|runtime error:|terminate called|  what\(\)|ParseDictionaryFile' \
      "$work/log" | sed 's/^/    /' || true
  fi
done
echo "total executions: $total_execs"
if [[ ${#failed[@]} -gt 0 ]]; then
  echo "fuzz.sh: findings in ${failed[*]} (reproduce: $build/fuzz/fuzz_<target> <crash file>)" >&2
  exit 1
fi

#!/usr/bin/env bash
# CPU step benchmark: Megaswift vs plain PyTorch, same model shape, same batch, same thread count.
#   tests/bench/cpu_step/run.sh <build-dir> [threads] [steps]
# Needs msw_bench_cpu_step built (ninja -C <build-dir> msw_bench_cpu_step megaswift_model_qwen2) and Debian's
# python3-torch for /usr/bin/python3. Prints both results and the ratio megaswift / pytorch (< 1 is faster).
set -euo pipefail
build=${1:?usage: run.sh <build-dir> [threads] [steps]}
threads=${2:-$(nproc)}
steps=${3:-5}
here=$(cd "$(dirname "$0")" && pwd)
python=${PYTHON:-/usr/bin/python3}

# Attention keeps no probabilities (flash semantics), so selective recompute is no recompute here; full
# recompute runs every layer's forward twice.
ours=$("$build/bin/msw_bench_cpu_step" --threads "$threads" --steps "$steps" --recompute none)
ours_full=$("$build/bin/msw_bench_cpu_step" --threads "$threads" --steps "$steps" --recompute full)
theirs=$("$python" "$here/torch_step.py" --threads "$threads" --steps "$steps")
echo "$ours"
echo "$ours_full"
echo "$theirs"
"$python" - "$ours" "$ours_full" "$theirs" <<'PY'
import json, sys
ours, full, theirs = (json.loads(x) for x in sys.argv[1:])
print(f"megaswift: {ours['median_s']:.3f} s/step, megaswift (full recompute): {full['median_s']:.3f} s/step, "
      f"pytorch {theirs['torch']}: {theirs['median_s']:.3f} s/step, threads {ours['threads']}, "
      f"{ours['params'] / 1e6:.1f}M parameters, batch {ours['batch']}x{ours['seq']}")
print(f"ratio megaswift/pytorch (median): {ours['median_s'] / theirs['median_s']:.2f}, "
      f"{full['median_s'] / theirs['median_s']:.2f} (full recompute)")
print(f"ratio megaswift/pytorch (fastest step, least disturbed by other load): "
      f"{ours['min_s'] / theirs['min_s']:.2f}, {full['min_s'] / theirs['min_s']:.2f} (full recompute); "
      f"fastest steps {ours['min_s']:.3f} / {full['min_s']:.3f} / {theirs['min_s']:.3f} s")
PY

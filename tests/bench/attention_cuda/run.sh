#!/usr/bin/env bash
# CUDA attention benchmark: Megaswift's tensor-core and SIMT attention vs PyTorch SDPA (flash), same shapes.
#   tests/bench/attention_cuda/run.sh <build-dir> [reps]
# Needs msw_bench_attention_cuda built (cmake --build <build-dir> --target msw_bench_attention_cuda); the PyTorch
# part needs a CUDA build of torch for $PYTHON (default python3) and is skipped when it cannot import one.
set -euo pipefail
build=${1:?usage: run.sh <build-dir> [reps]}
reps=${2:-10}
here=$(cd "$(dirname "$0")" && pwd)
python=${PYTHON:-python3}
"$build/bench/msw_bench_attention_cuda" "$reps" both
if "$python" -c 'import torch, sys; sys.exit(0 if torch.cuda.is_available() else 1)' 2>/dev/null; then
  "$python" "$here/torch_sdpa.py" "$reps"
else
  echo "torch_sdpa.py skipped: $python has no CUDA torch" >&2
fi

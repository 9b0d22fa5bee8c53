#!/usr/bin/env bash
# GPU training benchmark: Megaswift (msw_bench_train_gpu) vs transformers (eager and torch.compile), Qwen2.5-0.5B
# and 1.5B shapes, bf16, AdamW, one H200.
#
#   tests/bench/train_gpu/run.sh <build-dir> [python]
#
# <build-dir> holds bin/msw_bench_train_gpu (ninja -C <build-dir> msw_bench_train_gpu; the bench is not installed)
# and finds the plugins in <build-dir>/lib/megaswift/plugins (or MEGASWIFT_PLUGIN_PATH). [python] (default
# python3) has torch with CUDA and transformers 5.x. Prints every run's JSON line as it finishes, then a markdown
# table. A run that fails (out of memory, a missing kernel) prints a JSON line with "error" and the rest go on.
#
# Environment (defaults in brackets):
#   SEQS ["4096 2048"]       sequence lengths for ours and transformers eager
#   COMPILE_SEQS ["4096"]    sequence lengths that also run transformers + torch.compile (compiling costs a minute
#                            or more per run, which is what keeps the whole script near 6 minutes)
#   MODELS ["0.5b 1.5b"]     STEPS [10]  WARMUP [3]  DTYPE [bf16]  RECOMPUTE [none]
#   RECOMPUTE_METHOD [uniform]  RECOMPUTE_LAYERS [1]   with RECOMPUTE=full (Megatron's --recompute_method/_num_layers)
#   MB_0_5B_4096 [8]  MB_0_5B_2048 [16]  MB_1_5B_4096 [4]  MB_1_5B_2048 [8]   micro batch per model and sequence
#   (any other pair: MB_<model with _ for .>_<seq>, default 4096 / seq * the 4096 value)
#   SKIP_HF [0]  SKIP_OURS [0]  PROFILE [0] (1: ours with --profile, the per-op table on stderr)
#   DEVICE [cuda]  CONFIG [none]: ours only, for a smoke test without a GPU, e.g.
#     SKIP_HF=1 DEVICE=cpu DTYPE=f32 CONFIG=tiny.json MODELS=tiny SEQS=64 MB_TINY_64=2 run.sh <build-dir>
#   OUT [a fresh temp file]  where the JSON lines are collected
set -uo pipefail
build=${1:?usage: run.sh <build-dir> [python]}
python=${2:-python3}
here=$(cd "$(dirname "$0")" && pwd)
bench="$build/bin/msw_bench_train_gpu"
hf="$here/../baselines/hf_train.py"
SEQS=${SEQS:-"4096 2048"}
COMPILE_SEQS=${COMPILE_SEQS:-"4096"}
MODELS=${MODELS:-"0.5b 1.5b"}
STEPS=${STEPS:-10}
WARMUP=${WARMUP:-3}
DTYPE=${DTYPE:-bf16}
RECOMPUTE=${RECOMPUTE:-none}
RECOMPUTE_METHOD=${RECOMPUTE_METHOD:-uniform}
RECOMPUTE_LAYERS=${RECOMPUTE_LAYERS:-1}
SKIP_HF=${SKIP_HF:-0}
SKIP_OURS=${SKIP_OURS:-0}
PROFILE=${PROFILE:-0}
DEVICE=${DEVICE:-cuda}
CONFIG=${CONFIG:-}
OUT=${OUT:-$(mktemp /tmp/train_gpu.XXXXXX.jsonl)}
: >"$OUT"

if [[ $SKIP_OURS != 1 && ! -x $bench ]]; then
  echo "run.sh: $bench not found: build it with ninja -C $build msw_bench_train_gpu (needs the CUDA toolkit)" >&2
  exit 2
fi

micro_batch() {  # model seq
  local upper=${1^^}
  local var="MB_${upper//./_}_$2"
  if [[ -n ${!var:-} ]]; then echo "${!var}"; return; fi
  case "$1_$2" in
    0.5b_4096) echo 8 ;; 0.5b_2048) echo 16 ;; 1.5b_4096) echo 4 ;; 1.5b_2048) echo 8 ;;
    *) local base="MB_${upper//./_}_4096"; local b=${!base:-$([[ $1 == 0.5b ]] && echo 8 || echo 4)}
       echo $(( b * 4096 / $2 > 0 ? b * 4096 / $2 : 1 )) ;;
  esac
}

# Runs one command; its JSON line goes to stdout and $OUT, or an error line naming the run when it printed none.
run_one() {  # impl model seq mb -- command...
  local impl=$1 model=$2 seq=$3 mb=$4
  shift 5
  local err out line rc
  err=$(mktemp)
  out=$(mktemp)
  "$@" >"$out" 2>"$err"
  rc=$?
  line=$(grep '^{' "$out" | tail -n 1)
  if [[ $PROFILE == 1 && $impl == megaswift ]]; then cat "$err" >&2; fi
  if [[ -z $line || ${line:0:1} != "{" ]]; then
    local msg
    msg=$(grep -v '^\s*$' "$err" | tail -n 1)
    line=$("$python" -c 'import json,sys; print(json.dumps({"impl": sys.argv[1], "model": sys.argv[2], "seq": int(sys.argv[3]), "micro_batch": int(sys.argv[4]), "error": sys.argv[5] or "exit status " + sys.argv[6]}))' \
      "$impl" "$model" "$seq" "$mb" "$msg" "$rc" 2>/dev/null ||
      echo "{\"impl\": \"$impl\", \"model\": \"$model\", \"seq\": $seq, \"micro_batch\": $mb, \"error\": \"exit status $rc\"}")
  fi
  rm -f "$err" "$out"
  echo "$line"
  echo "$line" >>"$OUT"
}

start=$(date +%s)
for model in $MODELS; do
  for seq in $SEQS; do
    mb=$(micro_batch "$model" "$seq")
    if [[ $SKIP_OURS != 1 ]]; then
      profile_flag=()
      [[ $PROFILE == 1 ]] && profile_flag=(--profile)
      model_flag=(--model "$model")
      [[ -n $CONFIG ]] && model_flag=(--config "$CONFIG")
      run_one megaswift "$model" "$seq" "$mb" -- "$bench" "${model_flag[@]}" --seq "$seq" --micro-batch "$mb" \
        --steps "$STEPS" --warmup "$WARMUP" --dtype "$DTYPE" --recompute "$RECOMPUTE" --recompute-method "$RECOMPUTE_METHOD" \
        --recompute-layers "$RECOMPUTE_LAYERS" --device "$DEVICE" \
        "${profile_flag[@]}"
    fi
    if [[ $SKIP_HF != 1 ]]; then
      run_one transformers "$model" "$seq" "$mb" -- "$python" "$hf" --model "$model" --seq "$seq" --micro-batch "$mb" \
        --steps "$STEPS" --warmup "$WARMUP"
      if [[ " $COMPILE_SEQS " == *" $seq "* ]]; then
        run_one transformers+compile "$model" "$seq" "$mb" -- "$python" "$hf" --model "$model" --seq "$seq" \
          --micro-batch "$mb" --steps "$STEPS" --warmup "$WARMUP" --compile
      fi
    fi
  done
done
echo "# $(($(date +%s) - start)) s; JSON lines in $OUT"

"$python" - "$OUT" <<'PY'
import json, sys
rows = [json.loads(l) for l in open(sys.argv[1]) if l.strip().startswith("{")]
def key(r): return (r.get("model", ""), -int(r.get("seq", 0)), r.get("impl", ""))
eager = {(r.get("model"), r.get("seq")): r for r in rows if r.get("impl") == "transformers" and "error" not in r}
print()
print("| model | seq | micro batch | impl | tokens/s | TFLOP/s (Megatron) | MFU % | peak GiB | vs transformers eager |")
print("|---|---|---|---|---|---|---|---|---|")
for r in sorted(rows, key=key):
    if "error" in r:
        print(f"| {r.get('model')} | {r.get('seq')} | {r.get('micro_batch')} | {r.get('impl')} | failed: {r['error'][:80]} | | | | |")
        continue
    base = eager.get((r.get("model"), r.get("seq")))
    ratio = f"{r['tokens_per_s'] / base['tokens_per_s']:.2f}x" if base else ""
    print(f"| {r['model']} | {r['seq']} | {r['micro_batch']} | {r['impl']} | {r['tokens_per_s']:,.0f} | "
          f"{r['tflops_megatron']:.1f} | {r['mfu_percent']:.1f} | {r['peak_bytes'] / 2**30:.1f} | {ratio} |")
PY

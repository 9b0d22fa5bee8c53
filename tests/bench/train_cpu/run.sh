#!/usr/bin/env bash
# CPU training throughput of megatron sft on the bundled sft mix (self-cognition + alpaca en + zh), padded batches
# against padding-free (THD) batches, beside the PyTorch + transformers loop training the same steps (padded
# micro-batches with an attention mask, as an HF training loop batches) on the same CPU.
#
#   run.sh <install prefix or build dir with bin/megatron> <tokenizer dir (tokenizer.json)> [python with torch+transformers]
#
# PYTHON_NUMPY names a python with numpy for the model (default /usr/bin/python3).
# Prints one JSON line per run: tokens/s (real tokens, no padding) and seconds over the timed iterations.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../../.." && pwd)
prefix=$1
tokenizer=$2
py=${3:-}
work=$(mktemp -d)
cd "$work"  # the runs save under megatron_output/ here
trap 'rm -rf "$work"' EXIT
"${PYTHON_NUMPY:-/usr/bin/python3}" "$root/tests/fixtures/training/make_tiny_qwen2.py" "$work/model" --tokenizer-dir "$tokenizer" >/dev/null
flags=(--model "$work/model" --dataset 'swift/self-cognition#200' 'megaswift/alpaca-mini-en#200'
       'megaswift/alpaca-mini-zh#200' --model_author swift --model_name swift-robot --split_dataset_ratio 0
       --train_iters 12 --micro_batch_size 8 --global_batch_size 32 --lr 1e-3 --lr_warmup_iters 2 --max_length 512
       --eval_iters 0 --log_interval 12 --num_workers 2)
for mode in false true; do
  MEGASWIFT_DUMP_STEPS="$work/steps-$mode.jsonl" "$prefix/bin/megatron" sft "${flags[@]}" --padding_free $mode \
    > "$work/log-$mode.txt" 2>&1 || { cat "$work/log-$mode.txt"; exit 1; }
  line=$(grep "training done" "$work/log-$mode.txt")
  tps=$(sed -E 's/.*\(([0-9.]+) tokens\/s\).*/\1/' <<<"$line")
  engine=$(sed -E 's/.*outside model compute ([0-9.]+)%.*/\1/' <<<"$line")
  echo "{\"run\": \"megaswift padding_free=$mode\", \"tokens_per_second\": $tps, \"engine_percent\": $engine}"
done
if [[ -n "$py" ]]; then
  "$py" "$root/tests/fixtures/training/train_reference.py" --model "$work/model" --steps "$work/steps-false.jsonl" \
    --out "$work/ref.json" --device cpu --batched --attn sdpa --global-batch-size 32 --lr 1e-3 --warmup 2 \
    --decay-iters 12 | sed 's/^/{"run": "pytorch+transformers (padded micro-batches, sdpa)", "result": /; s/$/}/'
fi

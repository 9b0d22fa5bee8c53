#!/usr/bin/env bash
# The seed's quick start on real weights (Qwen2.5-7B-Instruct, two 80 GiB GPUs in Megatron-SWIFT), with the same
# command lines: for users with GPUs and the model downloaded. scripts/quickstart.sh runs the same flow on a tiny
# model on any machine. Megaswift does not download models: pass the local directory of Qwen2.5-7B-Instruct.
#
#   examples/quickstart-7b.sh /path/to/Qwen2.5-7B-Instruct
#
# Tensor parallelism (NPROC_PER_NODE=2, --tensor_model_parallel_size 2) needs the parallel backend; until it lands,
# megatron refuses it with a message saying so (drop both for one device).
set -euo pipefail
model=${1:?usage: quickstart-7b.sh <Qwen2.5-7B-Instruct directory>}

CUDA_VISIBLE_DEVICES=0 \
swift export \
    --model "$model" \
    --to_mcore true \
    --torch_dtype bfloat16 \
    --test_convert_precision true \
    --output_dir Qwen2.5-7B-Instruct-mcore

NPROC_PER_NODE=2 \
CUDA_VISIBLE_DEVICES=0,1 \
megatron sft \
    --load Qwen2.5-7B-Instruct-mcore \
    --dataset 'AI-ModelScope/alpaca-gpt4-data-zh#500' \
              'AI-ModelScope/alpaca-gpt4-data-en#500' \
              'swift/self-cognition#500' \
    --tensor_model_parallel_size 2 \
    --micro_batch_size 4 \
    --global_batch_size 16 \
    --recompute_granularity selective \
    --train_iters 100 \
    --eval_iters 5 \
    --finetune true \
    --cross_entropy_loss_fusion true \
    --lr 1e-5 \
    --lr_warmup_iters 10 \
    --min_lr 1e-6 \
    --save megatron_output/Qwen2.5-7B-Instruct \
    --save_interval 100 \
    --max_length 2048 \
    --system 'You are a helpful assistant.' \
    --num_workers 4 \
    --no_save_optim true \
    --no_save_rng true \
    --dataset_num_proc 4 \
    --model_author swift \
    --model_name swift-robot

run=$(ls -d megatron_output/Qwen2.5-7B-Instruct/v*-* | tail -1)
CUDA_VISIBLE_DEVICES=0 \
swift export \
    --mcore_model "$run" \
    --to_hf true \
    --torch_dtype bfloat16 \
    --test_convert_precision true \
    --output_dir "$run-hf"

CUDA_VISIBLE_DEVICES=0 \
swift infer \
    --model "$run-hf" \
    --stream true \
    --temperature 0 \
    --max_new_tokens 2048

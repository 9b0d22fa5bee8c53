#!/usr/bin/env python3
"""GPU training baseline for msw_bench_train_gpu: transformers' Qwen2ForCausalLM trained with torch on one GPU.

The independent reference (PyTorch + transformers, not our code) that tests/bench/train_gpu compares with. Same
models (Qwen2.5-0.5B / 1.5B shapes, random init), same micro batch and sequence length, random tokens; one training
step is what a user's plain loop does:

    loss = model(input_ids=ids, labels=ids).loss      # transformers shifts the labels itself
    loss.backward()
    torch.nn.utils.clip_grad_norm_(params, 1.0)       # as HF Trainer's max_grad_norm=1.0 and ours (--clip 0: off)
    optimizer.step(); optimizer.zero_grad(set_to_none=True)

The model is built from a Qwen2Config with attn_implementation="sdpa" (no flash-attn package on the GPU host), then
model.to(torch.bfloat16) as users run it: pure bf16 weights, gradients and AdamW states (fused torch.optim.AdamW,
lr 1e-4, torch's defaults otherwise). That keeps no fp32 main weights, unlike our mixed precision (fp32 main
weights, fp32 gradients, fp32 Adam states), so it moves fewer bytes per parameter in the optimizer and holds less
memory; the comparison is "what a user gets from transformers", not the same numerics.
--compile wraps the model in torch.compile (compilation happens in the warm-up steps, which are not timed);
--grad-ckpt enables transformers' gradient checkpointing (non-reentrant).

Metrics, one JSON line on stdout per run:
  tokens_per_s     micro_batch * seq * steps / time of the timed steps (torch.cuda.synchronize before and after)
  tflops_megatron  by Megatron-LM's num_floating_point_operations, the formula our training log and
                   msw_bench_train_gpu use (ported below from host/training/flops.cpp)
  mfu_percent      tflops_megatron against 989 TFLOP/s (H100/H200 SXM dense bf16)
  tflops_palm      6*N*T + 12*L*H*S*T (PaLM's count, N all parameters with the tied embedding once), for reference
  peak_bytes       torch.cuda.max_memory_allocated over the run (model, optimizer state, activations)
A run that runs out of GPU memory prints a JSON line with "error": "out of memory" and exits with status 3.

  python3 tests/bench/baselines/hf_train.py --model 1.5b --seq 4096 --micro-batch 4 --steps 10 --warmup 3 [--compile]

Written for torch 2.x and transformers 5.x (Qwen2Config still accepts rope_theta and files it under
rope_parameters).
"""
import argparse
import json
import sys
import time

import torch

PEAK_TFLOPS = 989.0  # H100/H200 SXM, dense bf16: what MFU is measured against (host/training/flops.cpp)

# The real config.json values of Qwen/Qwen2.5-0.5B and Qwen/Qwen2.5-1.5B (as tests/bench/train_gpu/train_gpu.cpp).
COMMON = dict(vocab_size=151936, rms_norm_eps=1e-6, rope_theta=1000000.0, tie_word_embeddings=True, hidden_act="silu",
              attention_dropout=0.0, initializer_range=0.02, use_sliding_window=False, sliding_window=None,
              use_cache=False, bos_token_id=151643, eos_token_id=151643)
MODELS = {
    "0.5b": dict(hidden_size=896, intermediate_size=4864, num_hidden_layers=24, num_attention_heads=14,
                 num_key_value_heads=2, max_position_embeddings=32768, max_window_layers=24),
    "1.5b": dict(hidden_size=1536, intermediate_size=8960, num_hidden_layers=28, num_attention_heads=12,
                 num_key_value_heads=2, max_position_embeddings=131072, max_window_layers=28),
}


def megatron_training_flops(num_layers, hidden_size, num_attention_heads, num_query_groups, kv_channels,
                            ffn_hidden_size, padded_vocab_size, gated_mlp, batch, seq_len):
    """Port of host/training/flops.cpp training_flops (Megatron-LM's num_floating_point_operations).

    F = 12 * L * h^2 * [ tokens * ((1 + g/a) * q/h + f/h * m + V / (2 L h)) + sum(s_i^2) / h * q/h ]
    with q = kv_channels * a, m = 3/2 for a gated MLP; a GEMM counted 3 times (forward, two backward) at 2mnk.
    Keep in step with flops.cpp: the two must agree for the comparison to mean anything.
    """
    h = float(hidden_size)
    L = float(num_layers)
    a = float(num_attention_heads)
    g = float(num_query_groups if num_query_groups > 0 else num_attention_heads)
    q_ratio = float(kv_channels) * a / h
    mlp = float(ffn_hidden_size) / h * (1.5 if gated_mlp else 1.0)
    logit = float(padded_vocab_size) / (2.0 * L * h)
    tokens = float(batch * seq_len)
    squares = float(batch) * float(seq_len) * float(seq_len)
    return 12.0 * L * h * h * (tokens * ((1.0 + g / a) * q_ratio + mlp + logit) + squares / h * q_ratio)


def palm_flops(num_params, num_layers, hidden_size, seq_len, tokens):
    """PaLM's training FLOPs (appendix B): 6 N T + 12 L H S T (attention over the full sequence)."""
    return 6.0 * num_params * tokens + 12.0 * num_layers * hidden_size * seq_len * tokens


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--model", choices=sorted(MODELS), default="0.5b")
    ap.add_argument("--seq", type=int, default=4096)
    ap.add_argument("--micro-batch", type=int, default=1)
    ap.add_argument("--steps", type=int, default=10)
    ap.add_argument("--warmup", type=int, default=3)
    ap.add_argument("--compile", action="store_true", help="torch.compile the model")
    ap.add_argument("--grad-ckpt", action="store_true", help="gradient checkpointing (non-reentrant)")
    ap.add_argument("--lr", type=float, default=1e-4)
    ap.add_argument("--clip", type=float, default=1.0, help="gradient clipping norm; 0: none")
    ap.add_argument("--seed", type=int, default=1234)
    args = ap.parse_args()
    if args.steps < 1 or args.warmup < 0 or args.seq < 2 or args.micro_batch < 1:
        ap.error("--steps >= 1, --warmup >= 0, --seq >= 2 and --micro-batch >= 1")
    if not torch.cuda.is_available():
        sys.exit("hf_train.py: no CUDA device visible (this baseline measures GPU training)")

    import transformers
    from transformers import AutoModelForCausalLM, Qwen2Config, Qwen2ForCausalLM

    torch.manual_seed(args.seed)
    device = torch.device("cuda", 0)
    shape = MODELS[args.model]
    config = Qwen2Config(**COMMON, **shape)
    result = {
        "impl": "transformers" + ("+compile" if args.compile else ""),
        "model": args.model,
        "device": torch.cuda.get_device_name(device),
        "dtype": "bf16",
        "micro_batch": args.micro_batch,
        "seq": args.seq,
        "compile": args.compile,
        "grad_ckpt": args.grad_ckpt,
        "warmup": args.warmup,
        "steps": args.steps,
        "torch": torch.__version__,
        "transformers": transformers.__version__,
    }

    try:
        # Initialised on the GPU directly (a 1.5B model built on the CPU first costs a minute of init); fp32 init as
        # transformers does, then bf16 as users run it.
        with torch.device(device):
            model = AutoModelForCausalLM.from_config(config, attn_implementation="sdpa")
        if not isinstance(model, Qwen2ForCausalLM):
            sys.exit(f"hf_train.py: expected Qwen2ForCausalLM, transformers built {type(model).__name__}")
        model.to(device=device, dtype=torch.bfloat16)
        model.train()
        if args.grad_ckpt:
            model.gradient_checkpointing_enable(gradient_checkpointing_kwargs={"use_reentrant": False})
        params = [p for p in model.parameters() if p.requires_grad]
        num_params = sum(p.numel() for p in model.parameters())  # parameters() yields the tied weight once
        optimizer = torch.optim.AdamW(params, lr=args.lr, fused=True)
        step_model = torch.compile(model) if args.compile else model

        generator = torch.Generator(device=device).manual_seed(args.seed)
        input_ids = torch.randint(0, config.vocab_size, (args.micro_batch, args.seq), device=device,
                                  generator=generator)

        def step():
            loss = step_model(input_ids=input_ids, labels=input_ids).loss
            loss.backward()
            grad_norm = torch.nn.utils.clip_grad_norm_(params, args.clip) if args.clip > 0 else None
            optimizer.step()
            optimizer.zero_grad(set_to_none=True)
            return loss, grad_norm

        torch.cuda.reset_peak_memory_stats(device)
        first_loss = None
        for _ in range(args.warmup):
            loss, _ = step()
            if first_loss is None:
                first_loss = loss.item()
        torch.cuda.synchronize(device)
        times = []
        t_start = time.perf_counter()
        for _ in range(args.steps):
            t0 = time.perf_counter()
            loss, grad_norm = step()
            torch.cuda.synchronize(device)
            times.append(time.perf_counter() - t0)
        total_s = time.perf_counter() - t_start
        loss_value = loss.item()
        if first_loss is None:
            first_loss = loss_value
    except Exception as e:  # noqa: BLE001 - out of memory also surfaces wrapped (inside torch.compile's backend)
        if not (isinstance(e, torch.cuda.OutOfMemoryError) or "out of memory" in str(e).lower()):
            raise
        result["error"] = "out of memory"
        result["detail"] = str(e).splitlines()[0] if str(e) else ""
        result["peak_bytes"] = torch.cuda.max_memory_allocated(device)
        print(json.dumps(result), flush=True)
        sys.exit(3)

    tokens_per_step = args.micro_batch * args.seq
    head_dim = shape["hidden_size"] // shape["num_attention_heads"]
    flops_step = megatron_training_flops(
        num_layers=shape["num_hidden_layers"], hidden_size=shape["hidden_size"],
        num_attention_heads=shape["num_attention_heads"], num_query_groups=shape["num_key_value_heads"],
        kv_channels=head_dim, ffn_hidden_size=shape["intermediate_size"],
        # Qwen2.5's 151936 is a multiple of 128, so Megatron's vocabulary padding changes nothing here (and our
        # runner's padded_vocab_size is 151936 too).
        padded_vocab_size=COMMON["vocab_size"], gated_mlp=True, batch=args.micro_batch,
        seq_len=args.seq)
    palm_step = palm_flops(num_params, shape["num_hidden_layers"], shape["hidden_size"], args.seq, tokens_per_step)
    tflops = flops_step * args.steps / total_s / 1e12
    times_sorted = sorted(times)
    result.update({
        "params": num_params,
        "first_loss": first_loss,
        "loss": loss_value,
        "grad_norm": float(grad_norm) if grad_norm is not None else None,
        "step_s_mean": total_s / args.steps,
        "step_s_median": times_sorted[len(times_sorted) // 2],
        "step_s_min": times_sorted[0],
        "tokens_per_s": tokens_per_step * args.steps / total_s,
        "tflops_megatron": tflops,
        "mfu_percent": 100.0 * tflops / PEAK_TFLOPS,
        "peak_tflops": PEAK_TFLOPS,
        "flops_per_step_megatron": flops_step,
        "tflops_palm": palm_step * args.steps / total_s / 1e12,
        "mfu_palm_percent": 100.0 * palm_step * args.steps / total_s / 1e12 / PEAK_TFLOPS,
        "peak_bytes": torch.cuda.max_memory_allocated(device),
        "peak_reserved_bytes": torch.cuda.max_memory_reserved(device),
        "peak_source": "torch.cuda.max_memory_allocated",
    })
    print(json.dumps(result), flush=True)


if __name__ == "__main__":
    main()

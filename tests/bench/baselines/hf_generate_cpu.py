#!/usr/bin/env python3
"""Decode baseline for `swift infer`: HF transformers' greedy generation speed on the CPU in fp32 (default), or on a
GPU with --device cuda (and --dtype bfloat16, as GPU users load Qwen models).

This is the independent reference (PyTorch + transformers, not our code) that Megaswift's inference benchmarks are
compared with. It measures, for one model on this machine's CPU:

  1. model.generate at batch 1 and batch 8 (--batches): prompts of --prompt_len random ids (all rows the same length,
     so there is no padding), greedy (do_sample=False, num_beams=1), --new_tokens new tokens with
     min_new_tokens = max_new_tokens and the eos token switched off, so every row generates the full count; one
     warm-up generate first, then the median of --repeats runs. Prefill is timed on its own as a generate with
     max_new_tokens=1 (one forward over the prompt and the first token); decode time is the full generate's time
     minus that, over the new_tokens - 1 tokens that the decode steps produce:
       decode_tok_s = batch * (new_tokens - 1) / (total_s - prefill_s)
  2. the per-token decode cost as the context grows: for each context length of --contexts (default 128 512 1024
     2048; those where context + --decode_steps exceeds max_position_embeddings are skipped), batch 1, a prefill
     of that many random ids into a DynamicCache through the model's forward, then --decode_steps (32) single-token
     forwards with past_key_values, timed without the prefill; the median over --repeats of the mean ms per step.

Model: --model HF_DIR (loaded in fp32), or --random-config CONFIG.json (an HF config.json, a directory holding one,
or the preset name qwen2.5-0.5b, Qwen2.5-0.5B's published shape) for a randomly initialised model of that shape
(torch.manual_seed(--seed) before HF's initialisation): a Qwen2.5-0.5B-shaped model without its weights.
--attn eager|sdpa (default sdpa); --threads N (default: every CPU this process may run on) is passed to
torch.set_num_threads.

Prints a table and, with --json OUT, writes:
  {"versions": {"torch", "transformers", "python"},
   "machine": {"cpu": model name from /proc/cpuinfo, "cores": physical cores (logical CPUs where unknown),
               "logical_cpus": int, "threads": int},
   "model": {"source", "model_type", "parameters", "hidden_size", "num_hidden_layers", "vocab_size",
             "max_position_embeddings", "attn_implementation", "dtype": "float32"},
   "settings": {"prompt_len", "new_tokens", "repeats", "decode_steps", "seed"},
   "batch": {"1": {"prefill_s", "total_s", "decode_s", "decode_tok_s", "prefill_tok_s"}, "8": {...}},
   "per_token_ms_by_context": {"128": ms, "512": ms, ...},
   "skipped_contexts": [contexts beyond max_position_embeddings]}

Run on the GPU machine's CPU (torch 2.x + transformers 5.x), from the repository root, e.g.:

  python3 tests/bench/baselines/hf_generate_cpu.py --random-config qwen2.5-0.5b --json hf_cpu_qwen2.5-0.5b.json
  python3 tests/bench/baselines/hf_generate_cpu.py --model HF_DIR --attn eager --threads 16 --json hf_cpu.json
"""
import argparse
import inspect
import json
import os
import statistics
import sys
import time

import torch

FIRST_PROMPT_ID = 3  # below are pad/bos/eos in many vocabularies; prompts stay clear of them

# Shapes that --random-config takes by name, so the offline GPU machine needs no config file. qwen2.5-0.5b: the
# published Qwen/Qwen2.5-0.5B config.json (494M parameters with tied embeddings).
PRESETS = {
    "qwen2.5-0.5b": {
        "model_type": "qwen2", "architectures": ["Qwen2ForCausalLM"], "vocab_size": 151936, "hidden_size": 896,
        "intermediate_size": 4864, "num_hidden_layers": 24, "num_attention_heads": 14, "num_key_value_heads": 2,
        "max_position_embeddings": 32768, "rms_norm_eps": 1e-6, "rope_theta": 1000000.0, "hidden_act": "silu",
        "tie_word_embeddings": True, "use_sliding_window": False, "sliding_window": 32768, "max_window_layers": 24,
        "attention_dropout": 0.0, "initializer_range": 0.02, "bos_token_id": 151643, "eos_token_id": 151643,
    },
}


# ---------------------------------------------------------------------------------------------- pure helpers

def parse_cpuinfo(text):
    """(CPU model name or None, physical core count or None) from the text of /proc/cpuinfo. Cores are the distinct
    (physical id, core id) pairs; where those fields are missing (some VMs, ARM) the count is unknown."""
    name, cores, physical = None, set(), None
    for line in text.splitlines():
        key, sep, value = line.partition(":")
        if not sep:
            continue
        key, value = key.strip(), value.strip()
        if key == "model name" and name is None:
            name = value
        elif key == "physical id":
            physical = value
        elif key == "core id":
            cores.add((physical, value))
    return name, (len(cores) or None)


def machine_info(threads):
    name, cores = None, None
    try:
        with open("/proc/cpuinfo") as f:
            name, cores = parse_cpuinfo(f.read())
    except OSError:
        pass
    logical = os.cpu_count()
    return {"cpu": name or "unknown", "cores": cores or logical, "logical_cpus": logical, "threads": threads}


def split_contexts(wanted, max_positions, decode_steps):
    """The context lengths whose prefill plus decode steps fit in max_positions (None: no bound), and the rest."""
    kept = [c for c in wanted if max_positions is None or c + decode_steps <= max_positions]
    return kept, [c for c in wanted if c not in kept]


def decode_rates(batch, new_tokens, total_s, prefill_s, prompt_len):
    """Decode throughput from a full generate's time and a prefill-only generate's time."""
    decode_s = total_s - prefill_s
    if decode_s <= 0:
        raise SystemExit(f"batch {batch}: generating {new_tokens} tokens ({total_s:.4f} s) took no longer than the "
                         f"prefill alone ({prefill_s:.4f} s); raise --new_tokens or --repeats")
    return {"prefill_s": prefill_s, "total_s": total_s, "decode_s": decode_s,
            "decode_tok_s": batch * (new_tokens - 1) / decode_s, "prefill_tok_s": batch * prompt_len / prefill_s}


# Where the model runs (--device) and in which dtype (--dtype); set once by main().
DEVICE = "cpu"
DTYPE = "float32"


def sync():
    """Waits for the GPU's queued work, so wall-clock times cover it (a no-op on the CPU)."""
    if DEVICE != "cpu":
        torch.cuda.synchronize()


def random_ids(generator, batch, length, vocab_size):
    ids = torch.randint(FIRST_PROMPT_ID, vocab_size, (batch, length), generator=generator, dtype=torch.long)
    return ids.to(DEVICE)


def format_table(result):
    lines = [f"{result['model']['source']}: {result['model']['parameters'] / 1e6:.1f}M parameters, "
             f"{result['model']['attn_implementation']}, {result['model']['dtype']} on {result['model']['device']}, "
             f"{result['machine']['threads']} threads on "
             f"{result['machine']['cpu']}",
             f"prompt {result['settings']['prompt_len']} tokens, {result['settings']['new_tokens']} new tokens, "
             f"median of {result['settings']['repeats']}",
             f"{'batch':>5}  {'prefill s':>10}  {'total s':>9}  {'decode tok/s':>12}"]
    for batch, r in result["batch"].items():
        lines.append(f"{batch:>5}  {r['prefill_s']:>10.4f}  {r['total_s']:>9.3f}  {r['decode_tok_s']:>12.1f}")
    lines.append(f"{'context':>7}  {'ms/token':>9}  (batch 1, {result['settings']['decode_steps']} decode steps)")
    for ctx, ms in result["per_token_ms_by_context"].items():
        lines.append(f"{ctx:>7}  {ms:>9.2f}")
    if result["skipped_contexts"]:
        lines.append(f"skipped contexts {result['skipped_contexts']}: beyond max_position_embeddings "
                     f"{result['model']['max_position_embeddings']}")
    return "\n".join(lines)


# ---------------------------------------------------------------------------------------------- model

def load_model(args):
    import transformers

    if args.model:
        model = transformers.AutoModelForCausalLM.from_pretrained(args.model, dtype=getattr(torch, DTYPE),
                                                                  attn_implementation=args.attn)
        source = args.model
    else:
        path = args.random_config
        if path in PRESETS:
            fields = dict(PRESETS[path])
        else:
            if os.path.isdir(path):
                path = os.path.join(path, "config.json")
            if not os.path.isfile(path):
                raise SystemExit(f"--random-config {args.random_config}: neither a config.json (or a directory "
                                 f"holding one) nor a preset of {sorted(PRESETS)}")
            with open(path) as f:
                fields = json.load(f)
        model_type = fields.pop("model_type", None)
        if not model_type:
            raise SystemExit(f"{path}: no model_type; --random-config needs an HF config.json")
        config = transformers.AutoConfig.for_model(model_type, **fields)
        torch.manual_seed(args.seed)
        model = transformers.AutoModelForCausalLM.from_config(config, attn_implementation=args.attn)
        source = f"random weights (seed {args.seed}) of {path}"
    model = model.to(device=DEVICE, dtype=getattr(torch, DTYPE)).eval()
    # A plain generation config in place of the model's (a generation_config.json may ask for a repetition penalty
    # or sampling, which would add logits processors to the timed loop): greedy, and no eos, so no row stops early.
    model.generation_config = transformers.GenerationConfig()
    config = model.config
    info = {"source": source, "model_type": config.model_type,
            "parameters": sum(p.numel() for p in model.parameters()), "hidden_size": config.hidden_size,
            "num_hidden_layers": config.num_hidden_layers, "vocab_size": config.vocab_size,
            "max_position_embeddings": getattr(config, "max_position_embeddings", None),
            "attn_implementation": args.attn, "dtype": DTYPE, "device": DEVICE}
    return model, info


def new_cache(model):
    from transformers import DynamicCache

    try:
        return DynamicCache(config=model.config)  # transformers >= 4.56: layers laid out from the config
    except TypeError:
        return DynamicCache()


# ---------------------------------------------------------------------------------------------- measurements

def generate_seconds(model, ids, new_tokens):
    sync()
    start = time.perf_counter()
    with torch.inference_mode():
        out = model.generate(input_ids=ids, attention_mask=torch.ones_like(ids), do_sample=False, num_beams=1,
                             max_new_tokens=new_tokens, min_new_tokens=new_tokens, use_cache=True, pad_token_id=0)
    sync()
    seconds = time.perf_counter() - start
    sequences = out if isinstance(out, torch.Tensor) else out.sequences
    if tuple(sequences.shape) != (ids.shape[0], ids.shape[1] + new_tokens):
        raise SystemExit(f"generate returned shape {tuple(sequences.shape)}, expected "
                         f"{(ids.shape[0], ids.shape[1] + new_tokens)}: a row stopped early")
    return seconds


def bench_batch(model, batch, args, generator, vocab_size):
    ids = random_ids(generator, batch, args.prompt_len, vocab_size)
    generate_seconds(model, ids, min(8, args.new_tokens))  # warm-up: first-call allocations, thread pool start
    prefill = statistics.median(generate_seconds(model, ids, 1) for _ in range(args.repeats))
    total = statistics.median(generate_seconds(model, ids, args.new_tokens) for _ in range(args.repeats))
    return decode_rates(batch, args.new_tokens, total, prefill, args.prompt_len)


def decode_step_ms(model, context, steps, repeats, generator, vocab_size, make_cache=new_cache):
    """Median over repeats of the mean time of one single-token forward with a KV cache that holds `context` to
    `context + steps - 1` positions; the prefill that fills the cache is not timed."""
    ids = random_ids(generator, 1, context, vocab_size)
    # The prefill needs only the last position's logits (not [context, vocab] of them), where the model allows it.
    last_only = {"logits_to_keep": 1} if "logits_to_keep" in inspect.signature(model.forward).parameters else {}
    times = []
    for _ in range(repeats):
        cache = make_cache(model)
        with torch.inference_mode():
            out = model(input_ids=ids, past_key_values=cache, use_cache=True, **last_only)
            cache = out.past_key_values
            token = out.logits[:, -1:].argmax(dim=-1)
            sync()
            start = time.perf_counter()
            for _ in range(steps):
                out = model(input_ids=token, past_key_values=cache, use_cache=True)
                cache = out.past_key_values
                token = out.logits[:, -1:].argmax(dim=-1)
            sync()
            seconds = time.perf_counter() - start
        held = cache.get_seq_length()
        if held != context + steps:
            raise SystemExit(f"context {context}: the cache holds {held} positions after {steps} decode steps, "
                             f"expected {context + steps}: the forward did not use past_key_values")
        times.append(1000.0 * seconds / steps)
    return statistics.median(times)


# ---------------------------------------------------------------------------------------------- main

def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    source = p.add_mutually_exclusive_group(required=True)
    source.add_argument("--model", help="HF model directory (config.json + safetensors)")
    source.add_argument("--random-config", "--random_config", dest="random_config", metavar="CONFIG",
                        help="HF config.json, its directory, or a preset name "
                             f"({', '.join(sorted(PRESETS))}): benchmark random weights of that shape")
    p.add_argument("--attn", default="sdpa", choices=["eager", "sdpa"])
    p.add_argument("--threads", type=int, default=len(os.sched_getaffinity(0)))
    p.add_argument("--prompt_len", "--prompt-len", dest="prompt_len", type=int, default=32)
    p.add_argument("--new_tokens", "--new-tokens", dest="new_tokens", type=int, default=128)
    p.add_argument("--repeats", type=int, default=3)
    p.add_argument("--batches", type=int, nargs="+", default=[1, 8])
    p.add_argument("--contexts", type=int, nargs="+", default=[128, 512, 1024, 2048])
    p.add_argument("--decode_steps", "--decode-steps", dest="decode_steps", type=int, default=32)
    p.add_argument("--seed", type=int, default=1234)
    p.add_argument("--json", metavar="OUT", help="write the results here")
    p.add_argument("--device", default="cpu", help="cpu (default) or cuda[:N]: the GPU baseline of swift infer --device cuda")
    p.add_argument("--dtype", default="float32", choices=["float32", "bfloat16"],
                   help="weights and activations (default float32; bfloat16 is how a GPU user loads Qwen)")
    a = p.parse_args(argv)
    for name in ("threads", "prompt_len", "repeats", "decode_steps"):
        if getattr(a, name) < 1:
            p.error(f"--{name} {getattr(a, name)}: give at least 1")
    if a.new_tokens < 2:
        p.error(f"--new_tokens {a.new_tokens}: give at least 2 (one token is the prefill's, the rest are decode)")
    if any(b < 1 for b in a.batches) or any(c < 1 for c in a.contexts):
        p.error("--batches and --contexts take positive numbers")
    return a


def main():
    args = parse_args()
    import transformers

    global DEVICE, DTYPE
    DEVICE, DTYPE = args.device, args.dtype

    torch.set_num_threads(args.threads)
    model, info = load_model(args)
    generator = torch.Generator().manual_seed(args.seed)
    vocab_size = info["vocab_size"]
    limit = info["max_position_embeddings"]
    if limit is not None and args.prompt_len + args.new_tokens > limit:
        raise SystemExit(f"--prompt_len {args.prompt_len} + --new_tokens {args.new_tokens} exceeds the model's "
                         f"max_position_embeddings {limit}; lower them")

    batches = {}
    for batch in args.batches:
        batches[str(batch)] = bench_batch(model, batch, args, generator, vocab_size)
        print(f"batch {batch}: {batches[str(batch)]['decode_tok_s']:.1f} decode tokens/s", flush=True)

    contexts, skipped = split_contexts(args.contexts, limit, args.decode_steps)
    per_token = {}
    if contexts:
        decode_step_ms(model, min(contexts), 4, 1, generator, vocab_size)  # warm-up
    for context in contexts:
        per_token[str(context)] = decode_step_ms(model, context, args.decode_steps, args.repeats, generator,
                                                 vocab_size)
        print(f"context {context}: {per_token[str(context)]:.2f} ms/token", flush=True)

    result = {"versions": {"torch": torch.__version__, "transformers": transformers.__version__,
                           "python": sys.version.split()[0]},
              "machine": machine_info(torch.get_num_threads()),
              "model": info,
              "settings": {"prompt_len": args.prompt_len, "new_tokens": args.new_tokens, "repeats": args.repeats,
                           "decode_steps": args.decode_steps, "seed": args.seed},
              "batch": batches,
              "per_token_ms_by_context": per_token,
              "skipped_contexts": skipped}
    print(format_table(result))
    if args.json:
        with open(args.json, "w") as f:
            json.dump(result, f, indent=2, allow_nan=False)
            f.write("\n")
        print(f"wrote {args.json}")


if __name__ == "__main__":
    main()

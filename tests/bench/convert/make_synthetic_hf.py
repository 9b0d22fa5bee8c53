#!/usr/bin/env python3
"""Writes a synthetic Hugging Face model directory of a real architecture's shape, for the conversion benchmark
(tests/bench/convert/run.sh): config.json plus sharded bf16 safetensors with model.safetensors.index.json, values
normal(0, 0.02) truncated to bf16. The default is Qwen2.5-1.5B's shape (1.54 B parameters, 3.1 GB).

Usage: make_synthetic_hf.py OUT_DIR [--layers N] [--shard-gb G]
Needs numpy (Debian python3-numpy, /usr/bin/python3).
"""
import argparse
import json
import os
import struct

import numpy as np

CONFIG = {
    "architectures": ["Qwen2ForCausalLM"], "model_type": "qwen2", "hidden_size": 1536, "intermediate_size": 8960,
    "num_hidden_layers": 28, "num_attention_heads": 12, "num_key_value_heads": 2, "vocab_size": 151936,
    "max_position_embeddings": 32768, "rms_norm_eps": 1e-6, "rope_theta": 1000000.0, "tie_word_embeddings": True,
    "hidden_act": "silu", "torch_dtype": "bfloat16", "bos_token_id": 151643, "eos_token_id": 151645,
}


def tensors(cfg):
    h, f, v = cfg["hidden_size"], cfg["intermediate_size"], cfg["vocab_size"]
    d = h // cfg["num_attention_heads"]
    kv = cfg["num_key_value_heads"] * d
    yield "model.embed_tokens.weight", (v, h)
    for i in range(cfg["num_hidden_layers"]):
        p = f"model.layers.{i}."
        yield p + "input_layernorm.weight", (h,)
        yield p + "self_attn.q_proj.weight", (h, h)
        yield p + "self_attn.q_proj.bias", (h,)
        yield p + "self_attn.k_proj.weight", (kv, h)
        yield p + "self_attn.k_proj.bias", (kv,)
        yield p + "self_attn.v_proj.weight", (kv, h)
        yield p + "self_attn.v_proj.bias", (kv,)
        yield p + "self_attn.o_proj.weight", (h, h)
        yield p + "post_attention_layernorm.weight", (h,)
        yield p + "mlp.gate_proj.weight", (f, h)
        yield p + "mlp.up_proj.weight", (f, h)
        yield p + "mlp.down_proj.weight", (h, f)
    yield "model.norm.weight", (h,)


def bf16_bytes(rng, shape):
    x = (rng.standard_normal(int(np.prod(shape)), dtype=np.float32) * 0.02).view(np.uint32)
    return (x >> 16).astype(np.uint16).tobytes()


def write_shard(path, items):
    header, offset = {}, 0
    for name, shape in items:
        n = int(np.prod(shape)) * 2
        header[name] = {"dtype": "BF16", "shape": list(shape), "data_offsets": [offset, offset + n]}
        offset += n
    text = json.dumps(header, separators=(",", ":")).encode()
    text += b" " * ((8 - len(text) % 8) % 8)
    rng = np.random.default_rng(len(items))
    with open(path, "wb") as out:
        out.write(struct.pack("<Q", len(text)))
        out.write(text)
        for _, shape in items:
            out.write(bf16_bytes(rng, shape))
    return offset


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("out")
    ap.add_argument("--layers", type=int, default=CONFIG["num_hidden_layers"])
    ap.add_argument("--shard-gb", type=float, default=2.0)
    a = ap.parse_args()
    cfg = dict(CONFIG, num_hidden_layers=a.layers)
    os.makedirs(a.out, exist_ok=True)
    shards, cur, size, limit = [], [], 0, int(a.shard_gb * 1e9)
    for name, shape in tensors(cfg):
        n = int(np.prod(shape)) * 2
        if cur and size + n > limit:
            shards.append(cur)
            cur, size = [], 0
        cur.append((name, shape))
        size += n
    shards.append(cur)
    weight_map, total = {}, 0
    for i, items in enumerate(shards):
        fname = f"model-{i + 1:05d}-of-{len(shards):05d}.safetensors"
        total += write_shard(os.path.join(a.out, fname), items)
        weight_map.update({name: fname for name, _ in items})
    with open(os.path.join(a.out, "model.safetensors.index.json"), "w") as f:
        json.dump({"metadata": {"total_size": total}, "weight_map": weight_map}, f, indent=1)
    with open(os.path.join(a.out, "config.json"), "w") as f:
        json.dump(cfg, f, indent=1)
    params = total // 2
    print(f"{a.out}: {params / 1e9:.3f} B parameters, {total / 1e9:.2f} GB in {len(shards)} shards")


if __name__ == "__main__":
    main()

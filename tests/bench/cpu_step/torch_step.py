#!/usr/bin/env python3
"""The PyTorch side of the CPU step benchmark: the same Qwen2-shaped model as msw_bench_cpu_step (read from the
same config file), written with plain torch modules (no transformers), one forward+backward per step, timed.

Usage: torch_step.py [--config qwen2_20m.json] [--threads N] [--steps K] [--warmup W]
Prints one JSON line: {"impl": "pytorch", "median_s": ...}. Runs on Debian's python3-torch (1.13) or newer.
"""
import argparse
import json
import math
import os
import time

import torch
import torch.nn.functional as F
from torch import nn


class RMSNorm(nn.Module):
    def __init__(self, dim, eps):
        super().__init__()
        self.weight = nn.Parameter(torch.ones(dim))
        self.eps = eps

    def forward(self, x):
        return x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + self.eps) * self.weight


def rotate_half(x):
    x1, x2 = x.chunk(2, dim=-1)
    return torch.cat((-x2, x1), dim=-1)


class Attention(nn.Module):
    def __init__(self, hidden, heads, kv_heads, head_dim):
        super().__init__()
        self.heads, self.kv_heads, self.head_dim = heads, kv_heads, head_dim
        self.qkv = nn.Linear(hidden, (heads + 2 * kv_heads) * head_dim, bias=True)  # Qwen2: qkv bias
        self.proj = nn.Linear(heads * head_dim, hidden, bias=False)

    def forward(self, x, cos, sin, mask):
        b, s, _ = x.shape
        q, k, v = self.qkv(x).split([self.heads * self.head_dim, self.kv_heads * self.head_dim,
                                     self.kv_heads * self.head_dim], dim=-1)
        q = q.view(b, s, self.heads, self.head_dim).transpose(1, 2)
        k = k.view(b, s, self.kv_heads, self.head_dim).transpose(1, 2)
        v = v.view(b, s, self.kv_heads, self.head_dim).transpose(1, 2)
        q = q * cos + rotate_half(q) * sin
        k = k * cos + rotate_half(k) * sin
        rep = self.heads // self.kv_heads
        k = k.repeat_interleave(rep, dim=1)
        v = v.repeat_interleave(rep, dim=1)
        scores = torch.matmul(q, k.transpose(-1, -2)) / math.sqrt(self.head_dim) + mask
        probs = torch.softmax(scores.float(), dim=-1)
        out = torch.matmul(probs, v).transpose(1, 2).reshape(b, s, self.heads * self.head_dim)
        return self.proj(out)


class Mlp(nn.Module):
    def __init__(self, hidden, ffn):
        super().__init__()
        self.fc1 = nn.Linear(hidden, 2 * ffn, bias=False)  # [gate | up], as Megatron's linear_fc1
        self.fc2 = nn.Linear(ffn, hidden, bias=False)

    def forward(self, x):
        gate, up = self.fc1(x).chunk(2, dim=-1)
        return self.fc2(F.silu(gate) * up)


class Block(nn.Module):
    def __init__(self, c, head_dim):
        super().__init__()
        self.ln1 = RMSNorm(c["hidden_size"], c["rms_norm_eps"])
        self.attn = Attention(c["hidden_size"], c["num_attention_heads"], c["num_key_value_heads"], head_dim)
        self.ln2 = RMSNorm(c["hidden_size"], c["rms_norm_eps"])
        self.mlp = Mlp(c["hidden_size"], c["intermediate_size"])

    def forward(self, x, cos, sin, mask):
        h = x + self.attn(self.ln1(x), cos, sin, mask)
        return h + self.mlp(self.ln2(h))


class Model(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.head_dim = c["hidden_size"] // c["num_attention_heads"]
        self.theta = c["rope_theta"]
        self.embed = nn.Embedding(c["vocab_size"], c["hidden_size"])
        self.blocks = nn.ModuleList(Block(c, self.head_dim) for _ in range(c["num_hidden_layers"]))
        self.norm = RMSNorm(c["hidden_size"], c["rms_norm_eps"])
        self.tied = c.get("tie_word_embeddings", False)
        if not self.tied:
            self.lm_head = nn.Linear(c["hidden_size"], c["vocab_size"], bias=False)

    def forward(self, ids, labels):
        s = ids.shape[1]
        inv_freq = 1.0 / (self.theta ** (torch.arange(0, self.head_dim, 2, dtype=torch.float32) / self.head_dim))
        freqs = torch.arange(s, dtype=torch.float32)[:, None] * inv_freq[None, :]
        emb = torch.cat((freqs, freqs), dim=-1)
        cos, sin = emb.cos(), emb.sin()
        mask = torch.full((s, s), float("-inf")).triu(1)
        x = self.embed(ids)
        for block in self.blocks:
            x = block(x, cos, sin, mask)
        x = self.norm(x)
        logits = F.linear(x, self.embed.weight) if self.tied else self.lm_head(x)
        return F.cross_entropy(logits.view(-1, logits.shape[-1]), labels.view(-1), ignore_index=-100)


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--config", default=os.path.join(here, "qwen2_20m.json"))
    p.add_argument("--threads", type=int, default=os.cpu_count())
    p.add_argument("--steps", type=int, default=5)
    p.add_argument("--warmup", type=int, default=1)
    a = p.parse_args()
    torch.set_num_threads(a.threads)
    torch.manual_seed(1234)
    with open(a.config) as f:
        c = json.load(f)
    b, s = c["bench_batch_size"], c["bench_seq_len"]
    model = Model(c)
    for name, param in model.named_parameters():
        if param.dim() > 1:
            nn.init.normal_(param, std=c.get("initializer_range", 0.02))
    ids = torch.randint(0, c["vocab_size"], (b, s))
    labels = torch.cat([ids[:, 1:], torch.full((b, 1), -100)], dim=1)
    times = []
    for step in range(a.warmup + a.steps):
        model.zero_grad(set_to_none=False)
        t0 = time.perf_counter()
        loss = model(ids, labels)
        loss.backward()
        dt = time.perf_counter() - t0
        if step >= a.warmup:
            times.append(dt)
    times.sort()
    median = times[len(times) // 2]
    print(json.dumps({"impl": "pytorch", "torch": torch.__version__, "threads": torch.get_num_threads(),
                      "params": sum(p.numel() for p in model.parameters()), "batch": b, "seq": s,
                      "loss": loss.item(), "median_s": median, "min_s": times[0], "tokens_per_s": b * s / median}))


if __name__ == "__main__":
    main()

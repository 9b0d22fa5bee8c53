#!/usr/bin/env python3
"""PyTorch SDPA (flash backend, causal, bf16, GQA) on the shapes of msw_bench_attention_cuda, timed with
torch.cuda.Event; the same JSON fields. The THD case (2 sequences of 4096 packed) is timed as B = 2 batched,
which is the same work for equal lengths.
   python3 torch_sdpa.py [reps]"""
import json
import sys

import torch
import torch.nn.functional as F
from torch.nn.attention import SDPBackend, sdpa_kernel

REPS = int(sys.argv[1]) if len(sys.argv) > 1 else 10
SHAPES = [("sbhd", 4, 4096, 12, 2, 128), ("sbhd", 8, 4096, 14, 2, 64), ("thd", 2, 4096, 12, 2, 128)]


def time_ms(fn, reps):
    fn()
    torch.cuda.synchronize()
    a, b = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
    a.record()
    for _ in range(reps):
        fn()
    b.record()
    b.synchronize()
    return a.elapsed_time(b) / reps


def main():
    dev = torch.device("cuda")
    for layout, B, S, Hq, Hkv, D in SHAPES:
        q = torch.empty(B, Hq, S, D, device=dev, dtype=torch.bfloat16).uniform_(-1, 1).requires_grad_()
        k = torch.empty(B, Hkv, S, D, device=dev, dtype=torch.bfloat16).uniform_(-1, 1).requires_grad_()
        v = torch.empty(B, Hkv, S, D, device=dev, dtype=torch.bfloat16).uniform_(-1, 1).requires_grad_()
        do = torch.empty(B, Hq, S, D, device=dev, dtype=torch.bfloat16).uniform_(-1, 1)
        gqa = "native"

        def attn():
            return F.scaled_dot_product_attention(q, k, v, is_causal=True, enable_gqa=True)

        def attn_expanded():
            # The flash backend of some PyTorch versions refuses enable_gqa: K and V repeated per q head instead.
            kk = k.repeat_interleave(Hq // Hkv, dim=1)
            vv = v.repeat_interleave(Hq // Hkv, dim=1)
            return F.scaled_dot_product_attention(q, kk, vv, is_causal=True)

        with sdpa_kernel(SDPBackend.FLASH_ATTENTION):
            f = attn
            try:
                f()
            except RuntimeError:
                f, gqa = attn_expanded, "expanded"
            with torch.no_grad():
                fwd_ms = time_ms(f, REPS)
            fwd_bwd_ms = time_ms(lambda: torch.autograd.grad(f(), (q, k, v), do), REPS)
        flops = 4.0 * B * Hq * S * S * D / 2.0
        print(json.dumps({"case": f"{layout} B{B} S{S} Hq{Hq} Hkv{Hkv} D{D}", "impl": "torch_sdpa_flash", "gqa": gqa,
                          "torch": torch.__version__, "layout": layout, "B": B, "S": S, "Hq": Hq, "Hkv": Hkv, "D": D,
                          "causal": True, "dtype": "bf16", "fwd_ms": round(fwd_ms, 3),
                          "fwd_tflops": round(flops / (fwd_ms * 1e9), 1), "fwd_bwd_ms": round(fwd_bwd_ms, 3),
                          "fwd_bwd_tflops": round(3.5 * flops / (fwd_bwd_ms * 1e9), 1)}), flush=True)


if __name__ == "__main__":
    main()

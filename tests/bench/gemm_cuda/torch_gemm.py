#!/usr/bin/env python3
"""torch.matmul on the products of msw_bench_gemm_cuda (bf16, 16,384 tokens), timed with torch.cuda.Event; the
same JSON fields. wgrad_f32_accumulate is torch.mm with out_dtype=float32 added into an fp32 buffer where this
PyTorch has out_dtype, else left out.
   python3 torch_gemm.py [reps] [0.5b|1.5b|both]"""
import json
import sys

import torch

REPS = int(sys.argv[1]) if len(sys.argv) > 1 else 20
WHICH = sys.argv[2] if len(sys.argv) > 2 else "both"
TOKENS = 16384
MODELS = {
    "0.5b": [("qkv", 896, 1152), ("proj", 896, 896), ("fc1", 896, 9728), ("fc2", 4864, 896), ("head", 896, 151936)],
    "1.5b": [("qkv", 1536, 2048), ("proj", 1536, 1536), ("fc1", 1536, 17920), ("fc2", 8960, 1536), ("head", 1536, 151936)],
}


def time_ms(fn):
    fn()
    torch.cuda.synchronize()
    a, b = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
    a.record()
    for _ in range(REPS):
        fn()
    b.record()
    b.synchronize()
    return a.elapsed_time(b) / REPS


def main():
    dev = torch.device("cuda")
    bf = torch.bfloat16
    for model, linears in MODELS.items():
        if WHICH not in ("both", model):
            continue
        for name, fin, fout in linears:
            x = torch.full((TOKENS, fin), 2.0**-7, device=dev, dtype=bf)
            w = torch.full((fout, fin), 2.0**-7, device=dev, dtype=bf)
            dy = torch.full((TOKENS, fout), 2.0**-7, device=dev, dtype=bf)
            dw32 = torch.zeros((fout, fin), device=dev, dtype=torch.float32)
            cases = [("forward", lambda: torch.matmul(x, w.t())), ("dgrad", lambda: torch.matmul(dy, w)),
                     ("wgrad_bf16", lambda: torch.matmul(dy.t(), x))]
            try:
                torch.mm(dy.t(), x, out_dtype=torch.float32)
                cases.append(("wgrad_f32_accumulate", lambda: dw32.add_(torch.mm(dy.t(), x, out_dtype=torch.float32))))
            except TypeError:
                pass
            for product, fn in cases:
                ms = time_ms(fn)
                print(json.dumps({"impl": "torch", "model": model, "linear": name, "product": product, "tokens": TOKENS,
                                  "in": fin, "out": fout, "ms": round(ms, 4),
                                  "tflops": round(2.0 * TOKENS * fin * fout / (ms * 1e-3) / 1e12, 1)}), flush=True)
            del x, w, dy, dw32
            torch.cuda.empty_cache()


if __name__ == "__main__":
    main()

#!/usr/bin/python3
"""PyTorch CPU timings of the shapes of bench_kernels_cpu (Debian's python3-torch).
   /usr/bin/python3 bench_kernels_torch.py [threads]"""
import os
import sys
import time

# torch.set_num_threads does not reach Debian's OpenBLAS (pthread build), which torch's GEMMs call:
# without this, torch's "1 thread" GEMMs run on every core. Must be set before torch loads OpenBLAS.
THREADS = int(sys.argv[1]) if len(sys.argv) > 1 else os.cpu_count()
os.environ["OPENBLAS_NUM_THREADS"] = str(THREADS)

import torch  # noqa: E402
import torch.nn.functional as F  # noqa: E402

torch.set_num_threads(THREADS)
print("threads", torch.get_num_threads())
B, T, C, Hq, Hkv, D, FF, V = 4, 512, 512, 8, 2, 64, 1408, 32000
M = B * T


def time_it(name, fn):
    fn()
    reps, t0 = 0, time.perf_counter()
    while True:
        fn()
        reps += 1
        el = time.perf_counter() - t0
        if el >= 0.5 and reps >= 3:
            break
    print(f"{name:28s} {1e3 * el / reps:9.2f} ms")


x = torch.randn(M, C, requires_grad=True)
w = torch.randn(3 * C, C, requires_grad=True)
y = F.linear(x, w)
dy = torch.randn_like(y)
time_it("linear fwd 2048x512->1536", lambda: F.linear(x, w))
time_it("linear bwd 2048x512->1536", lambda: torch.autograd.grad(F.linear(x, w), (x, w), dy))

q = torch.randn(B, Hq, T, D, requires_grad=True)
k = torch.randn(B, Hkv, T, D, requires_grad=True)
v = torch.randn(B, Hkv, T, D, requires_grad=True)
mask = torch.full((T, T), float("-inf")).triu(1)


def attn():
    kk = k.repeat_interleave(Hq // Hkv, dim=1)
    vv = v.repeat_interleave(Hq // Hkv, dim=1)
    s = q @ kk.transpose(-1, -2) / D ** 0.5 + mask
    return torch.softmax(s, dim=-1) @ vv


o = attn()
go = torch.randn_like(o)
time_it("attention fwd", lambda: attn())
time_it("attention fwd+bwd", lambda: torch.autograd.grad(attn(), (q, k, v), go))

xn = torch.randn(M, C, requires_grad=True)
wn = torch.ones(C, requires_grad=True)


def rms():
    return wn * (xn * torch.rsqrt(xn.pow(2).mean(-1, keepdim=True) + 1e-6))


gn = torch.randn(M, C)
time_it("rmsnorm fwd", rms)
time_it("rmsnorm fwd+bwd", lambda: torch.autograd.grad(rms(), (xn, wn), gn))

fc1 = torch.randn(M, 2 * FF, requires_grad=True)


def swiglu():
    g, u = fc1.chunk(2, dim=-1)
    return F.silu(g) * u


gs = torch.randn(M, FF)
time_it("swiglu fwd", swiglu)
time_it("swiglu fwd+bwd", lambda: torch.autograd.grad(swiglu(), (fc1,), gs))

logits = torch.randn(M, V, requires_grad=True)
labels = torch.randint(0, V, (M,))
time_it("cross_entropy fwd V=32000", lambda: F.cross_entropy(logits, labels))
time_it("cross_entropy fwd+bwd", lambda: torch.autograd.grad(F.cross_entropy(logits, labels), (logits,)))

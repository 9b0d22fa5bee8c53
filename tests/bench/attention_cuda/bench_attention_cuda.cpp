// Times kernels/cuda attention_forward and forward + attention_backward (the launchers the ops table calls) with
// CUDA events on causal bf16 GQA shapes of Qwen2.5-0.5B/1.5B at sequence 4096, for the tensor-core path (tc: the
// automatic choice of kernels; mma: all on mma.sync; wgmma: all on wgmma) and the SIMT kernels (set_attention_kernels). One JSON
// line per case and path; TFLOP/s from the causal FLOP count (forward 4 * B * Hq * S * S * D / 2, backward 2.5
// times that), as FlashAttention reports it. On the tensor-core paths each of the backward's three kernels
// (attention_tc_backward_part: delta, dq, dk/dv) is also timed alone.
//   msw_bench_attention_cuda [reps] [tc|mma|wgmma|simt|both]
#include <kernels/cuda/attention.hpp>
#include <kernels/cuda/attention_tc.hpp>

#include "tests/bench/cuda_bench_support.hpp"

#include <cuda_runtime.h>

#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <random>
#include <string>
#include <utility>
#include <vector>

namespace kc = megaswift::kernels::cuda;
using megaswift::bench::Buf;
using megaswift::bench::check;
using megaswift::bench::time_ms;

namespace {

// n bf16 values uniform in [-1, 1] (rounded to nearest even) at dst.
void fill_bf16(void* dst, size_t n, uint32_t seed) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> u(-1.0f, 1.0f);
  std::vector<uint16_t> h(n);
  for (auto& x : h) {
    const float f = u(rng);
    uint32_t b;
    std::memcpy(&b, &f, 4);
    x = static_cast<uint16_t>((b + 0x7fffu + ((b >> 16) & 1u)) >> 16);
  }
  check(cudaMemcpy(dst, h.data(), n * 2, cudaMemcpyHostToDevice), "upload");
}

struct Shape {
  const char* layout;
  int64_t b, s, hq, hkv, d;
};

void run(const Shape& sh, const char* impl, int reps) {
  const bool thd = std::strcmp(sh.layout, "thd") == 0;
  const int64_t tokens = sh.b * sh.s;
  const size_t nq = size_t(tokens * sh.hq * sh.d), nkv = size_t(tokens * sh.hkv * sh.d);
  Buf q(nq * 2), k(nkv * 2), v(nkv * 2), out(nq * 2), dout(nq * 2), dq(nq * 2), dk(nkv * 2), dv(nkv * 2);
  Buf lse(size_t(tokens * sh.hq) * 4), cu(size_t(sh.b + 1) * 4);
  fill_bf16(q.p, nq, 1);
  fill_bf16(k.p, nkv, 2);
  fill_bf16(v.p, nkv, 3);
  fill_bf16(dout.p, nq, 4);
  kc::AttentionGeometry g;
  g.n_seqs = sh.b;
  g.q_heads = static_cast<int32_t>(sh.hq);
  g.kv_heads = static_cast<int32_t>(sh.hkv);
  g.head_dim = static_cast<int32_t>(sh.d);
  g.scale = 1.0f / std::sqrt(static_cast<float>(sh.d));
  if (thd) {  // B sequences of S tokens packed one after another
    std::vector<int32_t> offsets(size_t(sh.b + 1));
    for (int64_t i = 0; i <= sh.b; ++i) offsets[size_t(i)] = static_cast<int32_t>(i * sh.s);
    check(cudaMemcpy(cu.p, offsets.data(), offsets.size() * 4, cudaMemcpyHostToDevice), "upload");
    g.q_packed = true;
    g.q_rows = tokens;
    g.cu_q = static_cast<const int32_t*>(cu.p);
    g.max_q = sh.s;
    g.kv = kc::AttentionKv::packed;
    g.kv_rows = tokens;
    g.cu_kv = g.cu_q;
    g.max_kv = sh.s;
  } else {
    g.q_len = sh.s;
    g.kv = kc::AttentionKv::batched;
    g.kv_len = sh.s;
  }
  kc::set_attention_kernels(std::strcmp(impl, "simt") == 0    ? kc::AttentionKernels::simt
                            : std::strcmp(impl, "mma") == 0   ? kc::AttentionKernels::mma_sync
                            : std::strcmp(impl, "wgmma") == 0 ? kc::AttentionKernels::wgmma
                                                              : kc::AttentionKernels::automatic);
  const auto dt = kc::Dtype::bf16;
  const int64_t ds_bytes = kc::attention_tc_ds_bytes(g, dt);  // after the choice: it decides whether dS is kept
  Buf scratch(size_t(kc::attention_backward_scratch(g, dt)) * 4);
  auto fwd = [&] { kc::attention_forward(g, q.p, k.p, v.p, dt, dt, out.p, static_cast<float*>(lse.p), nullptr); };
  auto fwd_bwd = [&] {
    fwd();
    kc::attention_backward(g, q.p, k.p, v.p, out.p, static_cast<const float*>(lse.p), dout.p, dq.p, dk.p, dv.p, dt,
                           static_cast<float*>(scratch.p), nullptr);
  };
  const int64_t tc_before = kc::attention_tc_forward_calls();
  const double f_ms = time_ms(fwd, reps), fb_ms = time_ms(fwd_bwd, reps);
  const bool took_tc = kc::attention_tc_forward_calls() > tc_before;
  // The backward's kernels one at a time (fwd_bwd left delta in scratch, which dq and dk/dv read).
  std::string parts;
  if (took_tc) {
    const std::pair<const char*, kc::AttentionTcBackwardPart> names[] = {{"bwd_delta_ms", kc::AttentionTcBackwardPart::delta},
                                                                         {"bwd_dq_ms", kc::AttentionTcBackwardPart::dq},
                                                                         {"bwd_dkdv_ms", kc::AttentionTcBackwardPart::dkdv}};
    for (const auto& named : names) {
      const double ms = time_ms(
          [&] {
            kc::attention_tc_backward_part(named.second, g, q.p, k.p, v.p, out.p, static_cast<const float*>(lse.p), dout.p, dq.p,
                                           dk.p, dv.p, dt, static_cast<float*>(scratch.p), nullptr);
          },
          reps);
      char buf[64];
      std::snprintf(buf, sizeof buf, ", \"%s\": %.3f", named.first, ms);
      parts += buf;
    }
  }
  const double flops = 4.0 * sh.b * sh.hq * double(sh.s) * sh.s * sh.d / 2.0;
  std::printf("{\"case\": \"%s B%lld S%lld Hq%lld Hkv%lld D%lld\", \"impl\": \"%s\", \"path_taken\": \"%s\", \"layout\": \"%s\", "
              "\"B\": %lld, \"S\": %lld, \"Hq\": %lld, \"Hkv\": %lld, \"D\": %lld, \"causal\": true, \"dtype\": \"bf16\", "
              "\"ds_mib\": %.1f, \"fwd_ms\": %.3f, \"fwd_tflops\": %.1f, \"fwd_bwd_ms\": %.3f, \"fwd_bwd_tflops\": %.1f%s}\n",
              sh.layout, (long long)sh.b, (long long)sh.s, (long long)sh.hq, (long long)sh.hkv, (long long)sh.d, impl,
              took_tc ? impl : "simt", sh.layout, (long long)sh.b, (long long)sh.s, (long long)sh.hq, (long long)sh.hkv,
              (long long)sh.d, double(ds_bytes) / (1 << 20), f_ms, flops / (f_ms * 1e9), fb_ms, 3.5 * flops / (fb_ms * 1e9), parts.c_str());
  std::fflush(stdout);
}

}  // namespace

int main(int argc, char** argv) {
  const int reps = argc > 1 ? std::atoi(argv[1]) : 10;
  const std::string which = argc > 2 ? argv[2] : "both";
  int n = 0;
  if (cudaGetDeviceCount(&n) != cudaSuccess || n == 0) {
    std::fprintf(stderr, "msw_bench_attention_cuda: no CUDA device\n");
    return 2;
  }
  const Shape shapes[] = {{"sbhd", 4, 4096, 12, 2, 128}, {"sbhd", 8, 4096, 14, 2, 64}, {"thd", 2, 4096, 12, 2, 128}};
  try {
    for (const Shape& sh : shapes) {
      if (which == "both" || which == "tc") run(sh, "tc", reps);
      if (which == "both" || which == "mma") run(sh, "mma", reps);
      if (which == "both" || which == "wgmma") run(sh, "wgmma", reps);
      if (which == "both" || which == "simt") run(sh, "simt", reps < 3 ? reps : 3);  // the fp32 kernels are slow
    }
  } catch (const std::exception& e) {
    std::fprintf(stderr, "msw_bench_attention_cuda: %s\n", e.what());
    return 1;
  }
  return 0;
}

// Times the cuBLASLt products (kernels/cuda/gemm.hpp, the calls host/ops/cuda/dense_ops.cpp makes) of one training
// step's linear layers with CUDA events, for the Qwen2.5-0.5B and 1.5B shapes at 16,384 tokens (micro batch x
// sequence): per layer kind, the forward y = x W^T, the input gradient dx = dy W, the weight gradient dW += dy^T x
// into an fp32 main gradient (what training runs) and dW = dy^T x into bf16 (what PyTorch's bf16 training runs).
// One JSON line per product with ms and TFLOP/s; torch_gemm.py prints the same lines for torch.matmul, so the two
// can be set side by side. Used to find where the linear layers' backward loses time against their forward.
//   msw_bench_gemm_cuda [reps] [0.5b|1.5b|both]
#include <kernels/cuda/gemm.hpp>

#include "tests/bench/cuda_bench_support.hpp"

#include <cuda_runtime.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

namespace kc = megaswift::kernels::cuda;
using megaswift::bench::Buf;
using megaswift::bench::check;

namespace {

// Small values, so fp32 accumulations stay finite over many repetitions: 0x3c3c is bf16 0.0115.
void fill_small(const Buf& b, size_t bytes) { check(cudaMemset(b.p, 0x3c, bytes), "cudaMemset"); }

struct Linear {
  const char* name;
  int64_t in, out;
};

struct Model {
  const char* name;
  std::vector<Linear> linears;
};

// Times `reps` runs of p (after one untimed run, which also makes the choice) in ms per run.
double time_product(const kc::LtProblem& p, int reps, cudaStream_t s) {
  const kc::LtChoice* choice = kc::lt_choose(0, p, s);
  if (!choice) {
    std::fprintf(stderr, "cuBLASLt has no algorithm for a product\n");
    std::exit(1);
  }
  Buf workspace(kc::lt_workspace_bytes(choice));
  return megaswift::bench::time_ms([&] { kc::lt_matmul(0, p, choice, workspace.p, s); }, reps, s);
}

kc::Matrix matrix(const Buf& b, kc::Dtype dt, int64_t rows, int64_t cols) { return {b.p, dt, rows, cols, cols}; }

}  // namespace

int main(int argc, char** argv) {
  const int reps = argc > 1 ? std::atoi(argv[1]) : 20;
  const std::string which = argc > 2 ? argv[2] : "both";
  const int64_t tokens = 16384;
  const std::vector<Model> models = {
      {"0.5b", {{"qkv", 896, 1152}, {"proj", 896, 896}, {"fc1", 896, 9728}, {"fc2", 4864, 896}, {"head", 896, 151936}}},
      {"1.5b", {{"qkv", 1536, 2048}, {"proj", 1536, 1536}, {"fc1", 1536, 17920}, {"fc2", 8960, 1536}, {"head", 1536, 151936}}}};
  cudaStream_t s;
  check(cudaStreamCreate(&s), "stream");
  for (const Model& m : models) {
    if (which != "both" && which != m.name) continue;
    for (const Linear& l : m.linears) {
      const size_t xb = size_t(tokens) * l.in * 2, wb = size_t(l.out) * l.in * 2, yb = size_t(tokens) * l.out * 2;
      Buf x(xb), w(wb), y(yb), dx(xb), dw32(2 * wb), dw16(wb);
      fill_small(x, xb);
      fill_small(w, wb);
      fill_small(y, yb);
      fill_small(dw32, 2 * wb);
      const kc::Dtype bf = kc::Dtype::bf16;
      struct Case {
        const char* product;
        kc::LtProblem p;
      };
      const Case cases[] = {
          // y (tokens, out) = x (tokens, in) W^T
          {"forward", {matrix(x, bf, tokens, l.in), matrix(w, bf, l.out, l.in), matrix(y, bf, tokens, l.out), false, true}},
          // dx (tokens, in) = dy (tokens, out) W (out, in)
          {"dgrad", {matrix(y, bf, tokens, l.out), matrix(w, bf, l.out, l.in), matrix(dx, bf, tokens, l.in), false, false}},
          // dW (out, in) += dy^T x, fp32 main gradient
          {"wgrad_f32_accumulate",
           {matrix(y, bf, tokens, l.out), matrix(x, bf, tokens, l.in), matrix(dw32, kc::Dtype::f32, l.out, l.in), true,
            false, 1.0f, 1.0f}},
          // dW (out, in) = dy^T x in bf16
          {"wgrad_bf16", {matrix(y, bf, tokens, l.out), matrix(x, bf, tokens, l.in), matrix(dw16, bf, l.out, l.in), true, false}},
      };
      for (const Case& c : cases) {
        const double ms = time_product(c.p, reps, s);
        const double tflops = 2.0 * tokens * l.in * l.out / (ms * 1e-3) / 1e12;
        std::printf("{\"impl\": \"megaswift\", \"model\": \"%s\", \"linear\": \"%s\", \"product\": \"%s\", \"tokens\": %lld, "
                    "\"in\": %lld, \"out\": %lld, \"ms\": %.4f, \"tflops\": %.1f}\n",
                    m.name, l.name, c.product, static_cast<long long>(tokens), static_cast<long long>(l.in),
                    static_cast<long long>(l.out), ms, tflops);
        std::fflush(stdout);
      }
    }
  }
  cudaStreamDestroy(s);
  return 0;
}

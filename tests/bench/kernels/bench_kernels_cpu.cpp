// Times the CPU kernels on transformer-sized shapes (forward and backward of each op family), to
// compare with bench_kernels_torch.py (same shapes, PyTorch on CPU). Not a test: prints a table.
//   bench_kernels_cpu [threads]
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <random>
#include <vector>

#include <kernels/cpu/attention.hpp>
#include <kernels/cpu/cross_entropy.hpp>
#include <kernels/cpu/linear.hpp>
#include <kernels/cpu/rmsnorm.hpp>
#include <kernels/cpu/rope.hpp>
#include <kernels/cpu/swiglu.hpp>
#include <kernels/cpu/threading.hpp>

namespace cpu = megaswift::kernels::cpu;

namespace {

std::vector<float> random_floats(size_t n) {
  static std::mt19937 gen(1);
  std::uniform_real_distribution<float> d(-1.0f, 1.0f);
  std::vector<float> v(n);
  for (auto& x : v) x = d(gen);
  return v;
}

void time_it(const char* name, const std::function<void()>& fn) {
  fn();  // warm-up
  int reps = 0;
  const auto t0 = std::chrono::steady_clock::now();
  double elapsed = 0.0;
  do {
    fn();
    ++reps;
    elapsed = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  } while (elapsed < 0.5 || reps < 3);
  std::printf("%-28s %9.2f ms\n", name, 1e3 * elapsed / reps);
}

}  // namespace

int main(int argc, char** argv) {
  cpu::set_num_threads(argc > 1 ? std::atoi(argv[1]) : 0);
  std::printf("threads %d\n", cpu::num_threads());
  const int64_t B = 4, T = 512, C = 512, Hq = 8, Hkv = 2, D = 64, F = 1408, V = 32000;
  const int64_t M = B * T;

  {
    auto x = random_floats(M * C), w = random_floats(3 * C * C), dy = random_floats(M * 3 * C);
    std::vector<float> y(M * 3 * C), dx(M * C), dw(3 * C * C);
    time_it("linear fwd 2048x512->1536", [&] { cpu::linear_forward(x.data(), w.data(), nullptr, y.data(), M, C, 3 * C); });
    time_it("linear bwd 2048x512->1536", [&] {
      cpu::linear_backward(x.data(), w.data(), dy.data(), M, C, 3 * C, dx.data(), dw.data(), nullptr);
    });
  }
  {
    // SBHD (T, B, heads, D), as Megatron lays out activations.
    cpu::AttentionProblem pr = cpu::attention_sbhd(B, T, T, Hq, Hkv, D);
    pr.params.scale = 1.0f / std::sqrt(static_cast<float>(D));
    const auto n = static_cast<int64_t>(pr.seqs.size());
    auto q = random_floats(M * Hq * D), k = random_floats(M * Hkv * D), v = random_floats(M * Hkv * D),
         g = random_floats(M * Hq * D);
    std::vector<float> o(q.size()), lse(B * Hq * T), dq(q.size()), dk(k.size()), dv(v.size());
    time_it("attention fwd", [&] {
      cpu::attention_forward(pr.params, pr.seqs.data(), n, q.data(), k.data(), v.data(), o.data(), lse.data());
    });
    time_it("attention bwd (recompute)", [&] {
      cpu::attention_backward(pr.params, pr.seqs.data(), n, q.data(), k.data(), v.data(), o.data(), lse.data(),
                              g.data(), dq.data(), dk.data(), dv.data());
    });
    cpu::RopeConfig cfg;
    cfg.head_dim = D;
    std::vector<int64_t> pos(T);
    for (int64_t t = 0; t < T; ++t) pos[t] = t;
    std::vector<float> cs(T * D / 2), sn(T * D / 2);
    cpu::rope_tables(cfg, pos.data(), T, cs.data(), sn.data());
    time_it("rope fwd (q)", [&] { cpu::rope_forward(q.data(), o.data(), cs.data(), sn.data(), M, Hq, D, D, B); });
  }
  {
    auto x = random_floats(M * C), w = random_floats(C), g = random_floats(M * C);
    std::vector<float> y(M * C), r(M), dx(M * C), dw(C);
    time_it("rmsnorm fwd", [&] { cpu::rmsnorm_forward(x.data(), w.data(), y.data(), r.data(), M, C, 1e-6f); });
    time_it("rmsnorm bwd", [&] {
      cpu::rmsnorm_backward(x.data(), w.data(), r.data(), g.data(), dx.data(), dw.data(), M, C);
    });
  }
  {
    auto fc1 = random_floats(M * 2 * F), g = random_floats(M * F);
    std::vector<float> out(M * F), d(M * 2 * F);
    time_it("swiglu fwd", [&] { cpu::swiglu_forward(fc1.data(), fc1.data() + F, 2 * F, out.data(), M, F); });
    time_it("swiglu bwd", [&] {
      cpu::swiglu_backward(fc1.data(), fc1.data() + F, 2 * F, g.data(), d.data(), d.data() + F, M, F);
    });
  }
  {
    auto logits = random_floats(M * V);
    std::vector<int64_t> labels(M);
    for (int64_t i = 0; i < M; ++i) labels[i] = (i * 7919) % V;
    std::vector<float> lse(M), d(M * V);
    time_it("cross_entropy fwd V=32000", [&] {
      cpu::cross_entropy_forward(logits.data(), labels.data(), M, V, lse.data());
    });
    time_it("cross_entropy bwd V=32000", [&] {
      cpu::cross_entropy_backward(logits.data(), labels.data(), lse.data(), M, V, 1.0f / M, d.data());
    });
  }
  return 0;
}

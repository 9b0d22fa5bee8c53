// adamw_step and sgd_step on the GPU against the CPU backend through the ops table, on fresh random data: many
// tensors of awkward sizes in one call (more than one launch batch, empty tensors, tensors not 16-byte aligned),
// per-tensor lr_mult and weight decay, several steps (bias correction), grad_scale and found_inf device scalars.
// Each element is computed with the CPU's operations in the CPU's order, so the results are compared exactly.
#include "dense_twins.hpp"

#include <vector>

using namespace cuda_ops_test;
using ops_test::FVec;

namespace {

// An f32 tensor of n elements; with `misaligned`, a view starting one element into its buffer (4-byte aligned
// only, so the kernels take their scalar path).
TwinPtr f32_tensor(int64_t n, bool misaligned, float lo = -1, float hi = 1) {
  auto t = twin(ops_test::random_floats(n + (misaligned ? 1 : 0), lo, hi), MSW_DTYPE_F32, {n + (misaligned ? 1 : 0)});
  if (misaligned) t->narrow(0, 1, n);
  return t;
}

std::vector<int64_t> sizes_of_a_model() {
  // 60 tensors (two launch batches of 48): odd sizes, an empty one, one larger than many chunks.
  std::vector<int64_t> n = {1, 3, 0, 4096, 4097, 100003, 257, 12289};
  while (n.size() < 60) n.push_back(ops_test::random_int(1, 3000));
  return n;
}

struct AdamState {
  TwinPtr p, g, m, v;
  int32_t decay;
  double lr_mult;
};

void check_all(const std::vector<AdamState>& s, const std::string& when) {
  for (size_t i = 0; i < s.size(); ++i) {
    CAPTURE(i);
    check_twin(when + " param", *s[i].p, 0.0);
    check_twin(when + " exp_avg", *s[i].m, 0.0);
    check_twin(when + " exp_avg_sq", *s[i].v, 0.0);
  }
}

}  // namespace

TEST_CASE("CUDA adamw_step equals the CPU backend exactly over many tensors, steps, grad_scale and found_inf") {
  REQUIRE_GPU_OR_SKIP();
  std::vector<AdamState> s;
  const auto sizes = sizes_of_a_model();
  for (size_t i = 0; i < sizes.size(); ++i) {
    const bool misaligned = i % 3 == 1;
    AdamState a{f32_tensor(sizes[i], misaligned), f32_tensor(sizes[i], misaligned), f32_tensor(sizes[i], misaligned, -0.1f, 0.1f),
                f32_tensor(sizes[i], misaligned, 0.0f, 0.01f), static_cast<int32_t>(i % 2), i % 5 == 0 ? 0.0 : 0.5 + 0.1 * (i % 4)};
    s.push_back(std::move(a));
  }
  Twin grad_scale(FVec{0.5f}, MSW_DTYPE_F32, {});
  Twin no_inf(std::vector<double>{0.0}, MSW_DTYPE_F64, {});
  Twin inf(std::vector<int64_t>{1}, MSW_DTYPE_I64, {});
  // Steps 1..3; step 2 unscales the gradients, and a skipped call between 2 and 3 changes nothing.
  for (int round = 0; round < 4; ++round) {
    const int64_t step = round < 3 ? round + 1 : 3;
    const bool skip = round == 2;
    for (bool gpu : {false, true}) {
      std::vector<msw_adamw_param> records(s.size());
      for (size_t i = 0; i < s.size(); ++i) {
        msw_adamw_param& r = records[i];
        r.struct_size = sizeof r;
        r.apply_weight_decay = s[i].decay;
        r.param = gpu ? s[i].p->dev : s[i].p->cpu;
        r.grad = gpu ? s[i].g->dev : s[i].g->cpu;
        r.exp_avg = gpu ? s[i].m->dev : s[i].m->cpu;
        r.exp_avg_sq = gpu ? s[i].v->dev : s[i].v->cpu;
        r.lr_mult = s[i].lr_mult;
      }
      msw_adamw_step_args a = sdk::Ops::args<msw_adamw_step_args>();
      a.params = records.data();
      a.count = records.size();
      a.param_size = sizeof(msw_adamw_param);
      a.lr = 1e-3;
      a.weight_decay = 0.1;
      a.beta1 = 0.9;
      a.beta2 = 0.95;
      a.eps = 1e-8;
      a.step = step;
      if (step == 2) a.grad_scale = gpu ? grad_scale.dev : grad_scale.cpu;
      a.found_inf = skip ? (gpu ? inf.dev : inf.cpu) : (gpu ? no_inf.dev : no_inf.cpu);
      const msw_exec_ctx& ctx = gpu ? gpu_ctx() : ops_table::cpu_ctx();
      expect_ok(gpu_ops().api().adamw_step(&ctx, &a));
    }
    check_all(s, "after round " + std::to_string(round));
  }
}

TEST_CASE("CUDA sgd_step equals the CPU backend exactly, with and without momentum") {
  REQUIRE_GPU_OR_SKIP();
  for (double momentum : {0.0, 0.9}) {
    CAPTURE(momentum);
    const auto sizes = sizes_of_a_model();
    std::vector<TwinPtr> p, g, buf;
    for (size_t i = 0; i < sizes.size(); ++i) {
      const bool misaligned = i % 4 == 2;
      p.push_back(f32_tensor(sizes[i], misaligned));
      g.push_back(f32_tensor(sizes[i], misaligned));
      buf.push_back(f32_tensor(sizes[i], misaligned));  // garbage: step 1 starts it as d
    }
    Twin grad_scale(std::vector<double>{0.25}, MSW_DTYPE_F64, {});
    for (int64_t step = 1; step <= 3; ++step) {
      for (bool gpu : {false, true}) {
        std::vector<msw_sgd_param> records(sizes.size());
        for (size_t i = 0; i < sizes.size(); ++i) {
          msw_sgd_param& r = records[i];
          r.struct_size = sizeof r;
          r.apply_weight_decay = i % 2 == 0;
          r.param = gpu ? p[i]->dev : p[i]->cpu;
          r.grad = gpu ? g[i]->dev : g[i]->cpu;
          if (momentum != 0.0) r.momentum_buffer = gpu ? buf[i]->dev : buf[i]->cpu;  // absent without momentum
          r.lr_mult = i % 3 == 0 ? 2.0 : 0.0;
        }
        msw_sgd_step_args a = sdk::Ops::args<msw_sgd_step_args>();
        a.params = records.data();
        a.count = records.size();
        a.param_size = sizeof(msw_sgd_param);
        a.lr = 0.05;
        a.weight_decay = 0.01;
        a.momentum = momentum;
        a.step = step;
        if (step == 3) a.grad_scale = gpu ? grad_scale.dev : grad_scale.cpu;
        const msw_exec_ctx& ctx = gpu ? gpu_ctx() : ops_table::cpu_ctx();
        expect_ok(gpu_ops().api().sgd_step(&ctx, &a));
      }
      for (size_t i = 0; i < sizes.size(); ++i) {
        CAPTURE(i);
        CAPTURE(step);
        check_twin("param", *p[i], 0.0);
        check_twin("momentum_buffer", *buf[i], 0.0);
      }
    }
  }
}

TEST_CASE("CUDA optimizer steps check every record before writing any, as the CPU backend") {
  REQUIRE_GPU_OR_SKIP();
  auto p = f32_tensor(10, false), g = f32_tensor(10, false), m = f32_tensor(10, false), v = f32_tensor(10, false);
  auto bad = twin(ops_test::random_floats(9), MSW_DTYPE_F32, {9});
  const FVec before = p->gpu_values();
  std::vector<msw_adamw_param> records(2);
  for (auto& r : records) {
    r.struct_size = sizeof r;
    r.param = p->dev;
    r.grad = g->dev;
    r.exp_avg = m->dev;
    r.exp_avg_sq = v->dev;
  }
  records[1].grad = bad->dev;  // the second record's gradient has the wrong shape
  msw_adamw_step_args a = sdk::Ops::args<msw_adamw_step_args>();
  a.params = records.data();
  a.count = 2;
  a.param_size = sizeof(msw_adamw_param);
  a.lr = 1e-3;
  a.beta1 = 0.9;
  a.beta2 = 0.999;
  a.eps = 1e-8;
  a.step = 1;
  msw_status* st = gpu_ops().api().adamw_step(&gpu_ctx(), &a);
  REQUIRE(st != nullptr);
  const std::string message = megaswift::host::host_api().status_message(st);
  megaswift::host::host_api().status_free(st);
  CHECK(message.find("params[1].grad") != std::string::npos);
  check_near("param untouched", p->gpu_values(), before, 0.0);
}

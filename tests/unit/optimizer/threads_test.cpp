// The updates do not depend on the thread count (ctx.num_threads) nor on how the parameter list is split into
// calls: every element is computed alone, so the results are bit-for-bit the same. Tensor sizes straddle the
// kernels' 16384-element work chunks and are large enough for the kernels to start several threads.
#include "optimizer_test_support.hpp"

#include <doctest/doctest.h>

#include <cstring>
#include <random>
#include <vector>

using namespace megaswift::optimizer_test;

namespace {

std::vector<Param> random_params(bool adam, uint32_t seed) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> normal(0.0f, 1.0f);
  std::vector<Param> params;
  int32_t decay = 1;
  for (int64_t n : {1, 7, 16383, 16384, 16385, 100000, 250001}) {
    Param p;
    p.shape = {n};
    p.apply_weight_decay = decay;
    decay = 1 - decay;
    p.lr_mult = n == 7 ? 0.25 : 1.0;
    for (int64_t i = 0; i < n; ++i) p.value.push_back(normal(rng));
    p.grad.assign(p.value.size(), 0.0f);
    // Non-zero starting state, as after earlier steps (exp_avg_sq must stay >= 0).
    p.states.assign(adam ? 2 : 1, std::vector<float>(p.value.size()));
    for (auto& s : p.states)
      for (auto& v : s) v = 0.01f * normal(rng);
    if (adam)
      for (auto& v : p.states[1]) v = v * v;
    params.push_back(std::move(p));
  }
  return params;
}

void set_grads(std::vector<Param>& params, uint32_t seed) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> normal(0.0f, 1.0f);
  for (auto& p : params)
    for (auto& g : p.grad) g = normal(rng);
}

bool bitwise_equal(const std::vector<Param>& a, const std::vector<Param>& b) {
  for (size_t i = 0; i < a.size(); ++i) {
    if (std::memcmp(a[i].value.data(), b[i].value.data(), a[i].value.size() * sizeof(float)) != 0) return false;
    for (size_t k = 0; k < a[i].states.size(); ++k)
      if (std::memcmp(a[i].states[k].data(), b[i].states[k].data(), a[i].states[k].size() * sizeof(float)) != 0)
        return false;
  }
  return true;
}

// Three steps (the first starts the SGD buffer, the second uses grad_scale) on `threads` threads; `split`
// sends each parameter in its own call.
std::vector<Param> run(bool adam, int threads, bool split) {
  std::vector<Param> params = random_params(adam, 7);
  const msw_exec_ctx ctx = cpu_ctx(threads);
  for (int64_t step = 1; step <= 3; ++step) {
    set_grads(params, static_cast<uint32_t>(100 + step));
    StepConfig c;
    c.adam = adam;
    c.lr = 0.01 * static_cast<double>(step);
    c.step = step;
    c.has_grad_scale = step == 2;
    c.grad_scale = 0.3f;
    if (!split) {
      const Result r = ops_step(ctx, params, c);
      REQUIRE_MESSAGE(r.ok(), r.message);
      continue;
    }
    for (auto& p : params) {
      std::vector<Param> one{p};
      const Result r = ops_step(ctx, one, c);
      REQUIRE_MESSAGE(r.ok(), r.message);
      p = std::move(one[0]);
    }
  }
  return params;
}

}  // namespace

TEST_CASE("adamw_step and sgd_step give the same bits on 1, 2, 3 and 8 threads") {
  for (bool adam : {true, false}) {
    INFO("optimizer " << (adam ? "adamw" : "sgd"));
    const std::vector<Param> one = run(adam, 1, false);
    // The run changed something (a test over a no-op would pass trivially).
    CHECK_FALSE(bitwise_equal(one, random_params(adam, 7)));
    for (int threads : {2, 3, 8}) {
      INFO(threads << " threads");
      CHECK(bitwise_equal(one, run(adam, threads, false)));
    }
  }
}

TEST_CASE("one call over all parameters equals one call per parameter, bit for bit") {
  for (bool adam : {true, false}) {
    INFO("optimizer " << (adam ? "adamw" : "sgd"));
    CHECK(bitwise_equal(run(adam, 4, false), run(adam, 4, true)));
  }
}

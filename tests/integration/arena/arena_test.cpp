// The runner's parameter arenas and the optimizer driver over them, on the CPU backend. The layout: every parameter
// at a 128-element offset shared by the value, gradient and compute arenas, the groups (weight decay, no weight
// decay, frozen) one after the other, zero padding. The driver: one record per group and one reduction over the
// trainable range, which must update exactly as one record per parameter does. The per-parameter reference is the
// driver's own fallback, reached honestly: a parameter frozen after the runner was built leaves a hole in its group.
#include "host/core/status.hpp"
#include "host/model/model_runner.hpp"
#include "host/training/optimizer_driver.hpp"
#include "fixture_models.hpp"

#include <megaswift/ckpt/convert.hpp>

#include <doctest/doctest.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <map>
#include <string>
#include <vector>

using namespace megaswift;
using Arena = host::ModelRunner::Arena;
using Group = host::ModelRunner::ParamGroup;

namespace {

// A matrix (weight decay) and a norm weight (none): each group loses a member in the middle of its range.
const std::vector<std::string> kFrozen = {"decoder.layers.0.mlp.linear_fc2.weight",
                                          "decoder.layers.1.self_attention.linear_qkv.layer_norm_weight"};

host::ModelRunner model(int32_t dtype, const std::vector<std::string>& frozen = {}) {
  host::RunnerOptions o;
  o.compute_dtype = dtype;
  o.frozen = frozen;
  return testing::fixture_model("qwen2", o);
}

std::vector<host::Batch> batches() {
  using testing::token_row;
  return {host::Batch::pad({token_row(13, 1), token_row(7, 2), token_row(16, 3)}),
          host::Batch::pack({token_row(11, 4), token_row(16, 5)})};
}

size_t elem_size(const msw_tensor& t) { return msw_dtype_size(t.dtype); }

std::vector<float> values_of(const host::Parameter& p) { return {p.values(), p.values() + p.numel()}; }

// Every element of arena `a` outside the parameters' own elements.
void check_padding_zero(const host::ModelRunner& r, Arena a) {
  const msw_tensor all = r.arena_span(a, 0, r.arena_elements());
  std::vector<char> inside(static_cast<size_t>(r.arena_elements()), 0);
  for (const host::Parameter& p : r.params())
    std::fill_n(inside.begin() + p.arena_offset, p.numel(), char{1});
  const size_t es = elem_size(all);
  const auto* bytes = static_cast<const unsigned char*>(all.data);
  int64_t nonzero = 0;
  for (int64_t i = 0; i < r.arena_elements(); ++i)
    if (!inside[static_cast<size_t>(i)])
      for (size_t b = 0; b < es; ++b) nonzero += bytes[static_cast<size_t>(i) * es + b] != 0;
  CHECK(nonzero == 0);
}

double host_sum_of_squares(const host::ModelRunner& r, bool gradients) {
  double s = 0;
  for (const host::Parameter& p : r.params()) {
    if (!p.requires_grad) continue;
    const float* x = gradients ? p.grads() : p.values();
    for (int64_t i = 0; i < p.numel(); ++i) s += static_cast<double>(x[i]) * x[i];
  }
  return s;
}

struct OptimizerCase {
  const char* name;
  nlohmann::json config;
};
const std::vector<OptimizerCase> kOptimizers = {
    {"adam", {{"adam_beta1", 0.9}, {"adam_beta2", 0.95}, {"adam_eps", 1e-8}}},
    {"sgd", {{"sgd_momentum", 0.9}}}};

}  // namespace

TEST_CASE("parameters live in three arenas at one 128-aligned offset, grouped decay then no decay then frozen with zero padding") {
  host::ModelRunner r = model(MSW_DTYPE_BF16, kFrozen);
  const auto& params = r.params();
  const auto* values = static_cast<const char*>(r.arena_span(Arena::value, 0, r.arena_elements()).data);
  const auto* grads = static_cast<const char*>(r.arena_span(Arena::grad, 0, r.arena_elements()).data);
  const auto* compute = static_cast<const char*>(r.arena_span(Arena::compute, 0, r.arena_elements()).data);
  for (const host::Parameter& p : params) {
    CAPTURE(p.name);
    CHECK(p.arena_offset % host::ModelRunner::kArenaAlignment == 0);
    CHECK(static_cast<const char*>(p.value.data) == values + p.arena_offset * 4);
    CHECK(static_cast<const char*>(p.grad.data) == grads + p.arena_offset * 4);
    CHECK(static_cast<const char*>(p.compute.data) == compute + p.arena_offset * 2);
    CHECK(p.compute.dtype == MSW_DTYPE_BF16);
    CHECK(reinterpret_cast<uintptr_t>(p.value.data) % 512 == reinterpret_cast<uintptr_t>(values) % 512);
    CHECK(reinterpret_cast<uintptr_t>(p.compute.data) % 256 == 0);
  }
  // Back to back in group order: each parameter starts where the previous one's padded range ends.
  std::vector<size_t> order;
  for (Group g : {Group::decay, Group::no_decay, Group::frozen}) {
    const std::vector<size_t> members = r.group_params(g);
    REQUIRE_FALSE(members.empty());
    for (size_t i : members) CHECK(host::ModelRunner::group_of(params[i]) == g);
    order.insert(order.end(), members.begin(), members.end());
    const auto range = r.arena_range(members);
    REQUIRE(range);
    CHECK(range->begin == params[members.front()].arena_offset);
    CHECK(range->end == params[members.back()].arena_offset + params[members.back()].numel());
  }
  REQUIRE(order.size() == params.size());
  int64_t next = 0;
  for (size_t i : order) {
    CAPTURE(params[i].name);
    CHECK(params[i].arena_offset == next);
    next += (params[i].numel() + 127) / 128 * 128;
  }
  CHECK(next == r.arena_elements());
  for (const std::string& name : kFrozen) CHECK(host::ModelRunner::group_of(r.param(name)) == Group::frozen);
  // A frozen parameter taken back leaves its group's range until the runner is rebuilt.
  r.set_requires_grad(kFrozen[0], true);
  CHECK_FALSE(r.arena_range(r.group_params(Group::decay)));
  CHECK(r.arena_range(r.group_params(Group::no_decay)));
  r.set_requires_grad(kFrozen[0], false);

  r.zero_grads();
  r.forward_backward(batches()[0]);  // recasts the compute arena and writes the gradients
  for (Arena a : {Arena::value, Arena::grad, Arena::compute}) check_padding_zero(r, a);
  // The one cast over the arena is the per-parameter cast: compute = main rounded to bf16.
  for (const host::Parameter& p : params) {
    const auto* half = static_cast<const uint16_t*>(p.compute.data);
    int64_t wrong = 0;
    for (int64_t i = 0; i < p.numel(); ++i) wrong += half[i] != ckpt::f32_to_bf16(p.values()[i]);
    CHECK_MESSAGE(wrong == 0, p.name);
  }
}

TEST_CASE("zero_grads clears every gradient (frozen ones included) with one fill over the arena") {
  host::ModelRunner r = model(MSW_DTYPE_F32, kFrozen);
  r.forward_backward(batches()[1]);
  int64_t nonzero = 0;
  for (const host::Parameter& p : r.params())
    for (int64_t i = 0; i < p.numel(); ++i) nonzero += p.grads()[i] != 0.0f;
  REQUIRE(nonzero > 0);
  r.zero_grads();
  const msw_tensor all = r.arena_span(Arena::grad, 0, r.arena_elements());
  const auto* g = static_cast<const float*>(all.data);
  CHECK(std::count(g, g + r.arena_elements(), 0.0f) == r.arena_elements());
  check_padding_zero(r, Arena::value);
}

TEST_CASE("the optimizer's records per group update bit for bit as its records per parameter (adam and sgd in fp32 and bf16)") {
  for (const OptimizerCase& oc : kOptimizers)
    for (int32_t dtype : {MSW_DTYPE_F32, MSW_DTYPE_BF16}) {
      CAPTURE(oc.name);
      CAPTURE(dtype);
      // flat: frozen at construction, so every group is one range. per_param: the same parameters frozen after the
      // runner was laid out, so the groups have holes and the driver falls back to one record per parameter.
      host::ModelRunner flat = model(dtype, kFrozen), per_param = model(dtype);
      for (const std::string& name : kFrozen) per_param.set_requires_grad(name, false);
      const host::LoadedComponent& component = testing::plugins().require(MSW_KIND_OPTIMIZER, oc.name);
      training::OptimizerDriver a(component, oc.config, flat), b(component, oc.config, per_param);
      size_t trainable = 0;
      for (const host::Parameter& p : flat.params()) trainable += p.requires_grad;
      CHECK(a.norm_reductions() == 1);
      CHECK(b.norm_reductions() == trainable);

      // The flat run's norms drive both (so both clip alike); the per-parameter run's norms must agree closely
      // (a double sum in another order, not bit for bit).
      const std::vector<double> norms = {3.0, 0.02, 1.5};
      const auto bs = batches();
      for (size_t s = 0; s < norms.size(); ++s) {
        CAPTURE(s);
        for (host::ModelRunner* r : {&flat, &per_param}) {
          r->zero_grads();
          r->forward_backward(bs[s % bs.size()]);
        }
        const double na = a.grad_norm(), nb = b.grad_norm();
        CHECK(std::abs(na - nb) <= 1e-12 * nb);
        CHECK(std::abs(a.params_norm() - b.params_norm()) <= 1e-12 * b.params_norm());
        // clip_grad na on a norm of norms[s] * na: clipped by about 1/3 and 2/3, and not clipped, in turn.
        a.step(norms[s] * na, 1e-2, 0.1, na);
        b.step(norms[s] * na, 1e-2, 0.1, na);
        CHECK(a.step_records() == 2);
        CHECK(b.step_records() == trainable);
      }
      for (size_t i = 0; i < flat.params().size(); ++i) {
        const host::Parameter &p = flat.params()[i], &q = per_param.params()[i];
        CAPTURE(p.name);
        REQUIRE(p.name == q.name);
        CHECK(std::memcmp(p.values(), q.values(), static_cast<size_t>(p.numel()) * 4) == 0);
        CHECK(std::memcmp(p.compute.data, q.compute.data, static_cast<size_t>(p.numel()) * elem_size(p.compute)) == 0);
      }
      CHECK(values_of(flat.params()[0]) != values_of(model(dtype).params()[0]));  // the steps did move the weights
      // Checkpoints stay per parameter, with the parameters' shapes, and hold the same state.
      const auto sa = a.state_shards(), sb = b.state_shards();
      REQUIRE(sa.size() == sb.size());
      REQUIRE(sa.size() == trainable * a.state_names().size());
      for (size_t k = 0; k < sa.size(); ++k) {
        CAPTURE(sa[k].key);
        REQUIRE(sa[k].key == sb[k].key);
        const int64_t n = msw_tensor_numel(&sa[k].data);
        REQUIRE(n == msw_tensor_numel(&sb[k].data));
        CHECK(std::memcmp(sa[k].data.data, sb[k].data.data, static_cast<size_t>(n) * 4) == 0);
      }
      for (Arena arena : {Arena::value, Arena::compute}) check_padding_zero(flat, arena);
    }
}

TEST_CASE("the gradient and parameter norms over the arena are the per-parameter sums") {
  host::ModelRunner r = model(MSW_DTYPE_F32, kFrozen);
  const host::LoadedComponent& adam = testing::plugins().require(MSW_KIND_OPTIMIZER, "adam");
  training::OptimizerDriver opt(adam, kOptimizers[0].config, r);
  r.forward_backward(batches()[0]);
  const double g = opt.grad_norm(), want_g = std::sqrt(host_sum_of_squares(r, true));
  const double v = opt.params_norm(), want_v = std::sqrt(host_sum_of_squares(r, false));
  CHECK(g > 0);
  CHECK(std::abs(g - want_g) <= 1e-12 * want_g);
  CHECK(std::abs(v - want_v) <= 1e-12 * want_v);
  // The frozen parameters are outside the trainable range; counting them would change the norm.
  double frozen = 0;
  for (const std::string& name : kFrozen)
    for (float x : values_of(r.param(name))) frozen += static_cast<double>(x) * x;
  CHECK(frozen > 1e-6 * want_v * want_v);
  CHECK(opt.norm_reductions() == 1);
}

TEST_CASE("a parameter unfrozen after the runner was built is trained through per-parameter records") {
  host::ModelRunner r = model(MSW_DTYPE_F32, kFrozen);
  r.set_requires_grad(kFrozen[0], true);
  const host::LoadedComponent& adam = testing::plugins().require(MSW_KIND_OPTIMIZER, "adam");
  training::OptimizerDriver opt(adam, kOptimizers[0].config, r);
  const std::vector<float> before = values_of(r.param(kFrozen[0])), other = values_of(r.param(kFrozen[1]));
  r.zero_grads();
  r.forward_backward(batches()[0]);
  opt.step(opt.grad_norm(), 1e-2, 0.1, 1.0);
  size_t trainable = 0;
  for (const host::Parameter& p : r.params()) trainable += p.requires_grad;
  CHECK(opt.step_records() == trainable);
  CHECK(values_of(r.param(kFrozen[0])) != before);
  CHECK(values_of(r.param(kFrozen[1])) == other);
  check_padding_zero(r, Arena::value);
}

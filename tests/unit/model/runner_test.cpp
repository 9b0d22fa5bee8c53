// The model runner's bookkeeping around the plugin: deterministic from-scratch init, gradient accumulation,
// position ids, recompute settings, buffer-size checks and refusals.
#include "host/core/host_api.hpp"
#include "host/core/status.hpp"
#include "host/model/init.hpp"
#include "host/model/model_runner.hpp"
#include "host/plugin_host/registry.hpp"

#include <doctest/doctest.h>
#include <nlohmann/json.hpp>

#include <cmath>
#include <cstdlib>
#include <cstring>

using namespace megaswift;
using nlohmann::json;

namespace {

const host::PluginRegistry& registry() {
  static host::PluginRegistry r = [] {
    host::PluginRegistry reg(host::host_api());
    const char* b = std::getenv("MEGASWIFT_BINARY_DIR");
    reg.load_directories({std::filesystem::path(b ? b : MEGASWIFT_TEST_BINARY_DIR) / "lib" / "megaswift" / "plugins"});
    return reg;
  }();
  return r;
}

json tiny_qwen2(int layers = 2) {
  return {{"model_type", "qwen2"}, {"hidden_size", 32}, {"intermediate_size", 48}, {"num_hidden_layers", layers},
          {"num_attention_heads", 4}, {"num_key_value_heads", 2}, {"vocab_size", 64}, {"max_position_embeddings", 64},
          {"rms_norm_eps", 1e-6}, {"rope_theta", 10000.0}, {"tie_word_embeddings", false}, {"initializer_range", 0.02}};
}

host::RunnerOptions opts(uint64_t seed = 1234, const std::string& overrides = "{}") {
  host::RunnerOptions o;
  o.num_threads = 1;
  o.seed = seed;
  o.config_overrides_json = overrides;
  return o;
}

host::Batch batch(int64_t b = 2, int64_t s = 8) {
  host::Batch x;
  x.batch_size = b;
  x.seq_len = s;
  for (int64_t i = 0; i < b * s; ++i) {
    x.input_ids.push_back((i * 7 + 3) % 64);
    x.labels.push_back(i % 5 == 0 ? -100 : (i * 11 + 1) % 64);
  }
  return x;
}

double stddev(const host::Parameter& p) {
  double s = 0, s2 = 0;
  for (int64_t i = 0; i < p.numel(); ++i) {
    s += p.values()[i];
    s2 += double(p.values()[i]) * p.values()[i];
  }
  const double n = static_cast<double>(p.numel());
  return std::sqrt(s2 / n - (s / n) * (s / n));
}

}  // namespace

TEST_CASE("initialisation from scratch depends only on the seed, with Megatron's rules") {
  auto a = host::ModelRunner::from_hf_config(registry(), tiny_qwen2(4).dump(), opts(7));
  auto b = host::ModelRunner::from_hf_config(registry(), tiny_qwen2(4).dump(), opts(7));
  auto c = host::ModelRunner::from_hf_config(registry(), tiny_qwen2(4).dump(), opts(8));
  const auto& qkv = a.param("decoder.layers.0.self_attention.linear_qkv.weight");
  CHECK(std::memcmp(qkv.values(), b.param(qkv.name).values(), qkv.numel() * 4) == 0);
  CHECK(std::memcmp(qkv.values(), c.param(qkv.name).values(), qkv.numel() * 4) != 0);
  CHECK(stddev(qkv) == doctest::Approx(0.02).epsilon(0.1));
  CHECK(stddev(a.param("decoder.layers.3.mlp.linear_fc2.weight")) == doctest::Approx(0.02 / std::sqrt(8.0)).epsilon(0.1));
  const auto& norm = a.param("decoder.layers.0.mlp.linear_fc1.layer_norm_weight");
  for (int64_t i = 0; i < norm.numel(); ++i) CHECK(norm.values()[i] == 1.0f);
  const auto& bias = a.param("decoder.layers.0.self_attention.linear_qkv.bias");
  for (int64_t i = 0; i < bias.numel(); ++i) CHECK(bias.values()[i] == 0.0f);
  // Different parameters draw different streams.
  CHECK(std::memcmp(a.param("decoder.layers.0.mlp.linear_fc1.weight").values(),
                    a.param("decoder.layers.1.mlp.linear_fc1.weight").values(), 64) != 0);
}

TEST_CASE("an initialised slice equals the same elements of the whole tensor (layout-independent init)") {
  std::vector<float> whole(100), part(10);
  host::init_parameter("w", MSW_INIT_NORMAL, 0.5, 99, 0, 100, whole.data());
  host::init_parameter("w", MSW_INIT_NORMAL, 0.5, 99, 37, 10, part.data());
  CHECK(std::equal(part.begin(), part.end(), whole.begin() + 37));
}

TEST_CASE("gradients accumulate over backward calls until zero_grads") {
  auto r = host::ModelRunner::from_hf_config(registry(), tiny_qwen2().dump(), opts());
  const auto x = batch();
  r.forward_backward(x);
  const auto& g = r.param("embedding.word_embeddings.weight");
  std::vector<float> once(g.grads(), g.grads() + g.numel());
  r.forward_backward(x);
  double max_rel = 0;
  for (size_t i = 0; i < once.size(); ++i)
    if (once[i] != 0) max_rel = std::max(max_rel, std::abs(double(g.grads()[i]) / (2.0 * once[i]) - 1.0));
  CHECK(max_rel < 1e-5);
  r.zero_grads();
  for (int64_t i = 0; i < g.numel(); ++i) CHECK(g.grads()[i] == 0.0f);
}

TEST_CASE("explicit position ids 0..S-1 equal the default, shifted positions change the logits") {
  auto r = host::ModelRunner::from_hf_config(registry(), tiny_qwen2().dump(), opts());
  auto x = batch();
  const auto base = r.forward(x, true);
  for (int64_t b = 0; b < x.batch_size; ++b)
    for (int64_t t = 0; t < x.seq_len; ++t) x.position_ids.push_back(t);
  const auto same = r.forward(x, true);
  CHECK(same.logits == base.logits);
  for (auto& p : x.position_ids) p += 3;
  const auto shifted = r.forward(x, true);
  CHECK(shifted.logits != base.logits);
  CHECK(shifted.loss() == doctest::Approx(base.loss()).epsilon(0.05));  // same model, nearby positions
}

TEST_CASE("keeping the softmax (recompute none) gives the gradients of selective recompute") {
  auto sel = host::ModelRunner::from_hf_config(registry(), tiny_qwen2().dump(), opts());
  auto keep = host::ModelRunner::from_hf_config(registry(), tiny_qwen2().dump(),
                                                opts(1234, R"({"recompute_granularity": "none"})"));
  CHECK(keep.memory(2, 8).layer_saved > sel.memory(2, 8).layer_saved);
  sel.forward_backward(batch());
  keep.forward_backward(batch());
  for (size_t i = 0; i < sel.params().size(); ++i) {
    const auto& a = sel.params()[i];
    const auto& b = keep.params()[i];
    double num = 0, den = 0;
    for (int64_t k = 0; k < a.numel(); ++k) {
      num += std::pow(double(a.grads()[k]) - b.grads()[k], 2);
      den += std::pow(double(a.grads()[k]), 2);
    }
    CAPTURE(a.name);
    CHECK(std::sqrt(num) <= 1e-5 * std::sqrt(den));
  }
}

TEST_CASE("a sequence longer than the sliding window is refused with the limit") {
  json c = tiny_qwen2();
  c["model_type"] = "mistral";
  c["sliding_window"] = 4;
  auto r = host::ModelRunner::from_hf_config(registry(), c.dump(), opts());
  CHECK_THROWS_WITH_AS(r.forward(batch(1, 8)), doctest::Contains("exceeds the model's sliding_window 4"), host::HostError);
}

TEST_CASE("a saved buffer smaller than memory() reports is refused, naming what to allocate") {
  auto r = host::ModelRunner::from_hf_config(registry(), tiny_qwen2().dump(), opts());
  const auto& vt = r.instance().vt();
  const auto x = batch(1, 4);
  std::vector<float> h(4 * 32), y(4 * 32);
  std::vector<char> saved(64), ws(r.memory(1, 4).workspace);
  auto t = [](void* d, int32_t dt, std::vector<int64_t> s) {
    msw_tensor out{};
    out.data = d;
    out.device = {MSW_DEVICE_CPU, 0};
    out.dtype = dt;
    out.ndim = static_cast<int32_t>(s.size());
    int64_t st = 1;
    for (int i = out.ndim - 1; i >= 0; --i) {
      out.shape[i] = s[i];
      out.strides[i] = st;
      st *= s[i];
    }
    return out;
  };
  msw_model_batch mb{};
  mb.struct_size = sizeof(mb);
  mb.batch_size = 1;
  mb.seq_len = 4;
  mb.input_ids = t(const_cast<int64_t*>(x.input_ids.data()), MSW_DTYPE_I64, {1, 4});
  std::vector<msw_tensor> params;
  for (const auto& p : r.params())
    if (p.info.layer == 0) params.push_back(p.value);
  const msw_tensor xt = t(h.data(), MSW_DTYPE_F32, {1, 4, 32}), yt = t(y.data(), MSW_DTYPE_F32, {1, 4, 32});
  const msw_tensor st = t(saved.data(), MSW_DTYPE_U8, {64}), wt = t(ws.data(), MSW_DTYPE_U8, {(int64_t)ws.size()});
  msw_status* s = vt.layer_forward(r.instance().self(), &r.exec_ctx(), 0, &mb, params.data(), &xt, &st, &wt, &yt);
  REQUIRE(s);
  const std::string message = host::host_api().status_message(s);
  host::host_api().status_free(s);
  CHECK(message.find("layer saved buffer holds 64 bytes") != std::string::npos);
  CHECK(message.find("msw_model_vtable.memory") != std::string::npos);
}

TEST_CASE("backward without a forward, or without labels, is refused") {
  auto r = host::ModelRunner::from_hf_config(registry(), tiny_qwen2().dump(), opts());
  CHECK_THROWS_WITH_AS(r.backward(1.0), doctest::Contains("without a preceding forward"), host::HostError);
  auto x = batch();
  x.labels.clear();
  const auto f = r.forward(x);
  CHECK(f.token_count == 0);
  CHECK_THROWS_WITH_AS(r.backward(1.0), doctest::Contains("needs a batch with labels"), host::HostError);
}

TEST_CASE("an out-of-vocabulary token id names the id and its position") {
  auto r = host::ModelRunner::from_hf_config(registry(), tiny_qwen2().dump(), opts());
  auto x = batch(1, 4);
  x.input_ids[2] = 64;
  CHECK_THROWS_WITH_AS(r.forward(x), doctest::Contains("64"), host::HostError);
}

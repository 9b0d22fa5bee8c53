// The model runner's bookkeeping around the plugin: deterministic from-scratch init, gradient accumulation,
// position ids, recompute settings, frozen parameters, buffer-size checks and refusals (bad buffers, and
// layouts the plugin's capabilities do not cover).
#include "host/core/host_api.hpp"
#include "host/core/status.hpp"
#include "host/model/init.hpp"
#include "host/model/model_runner.hpp"
#include "host/plugin_host/registry.hpp"

#include <doctest/doctest.h>
#include <nlohmann/json.hpp>

#include <cmath>
#include <cstddef>
#include <cstdlib>
#include <cstring>
#include <map>

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

TEST_CASE("a tensor large enough to be initialised by several threads gets the same values as slice by slice") {
  // 3.5 M elements: more than one thread's share (1 M) wherever there are two or more cores; the slices below
  // are small enough for one thread each and straddle the threads' chunk borders.
  const int64_t n = (int64_t(7) << 20) / 2;
  std::vector<float> whole(static_cast<size_t>(n));
  host::init_parameter("big", MSW_INIT_NORMAL, 0.02, 7, 0, n, whole.data());
  for (int64_t first : {int64_t(0), (int64_t(1) << 20) - 5, n / 2 - 3, n - 1000}) {
    std::vector<float> part(1000);
    host::init_parameter("big", MSW_INIT_NORMAL, 0.02, 7, first, 1000, part.data());
    CHECK(std::equal(part.begin(), part.end(), whole.begin() + first));
  }
  double sum = 0, sq = 0;
  for (float v : whole) sum += v, sq += double(v) * v;
  CHECK(std::abs(sum / n) < 1e-4);
  CHECK(std::abs(std::sqrt(sq / n) - 0.02) < 1e-4);
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

static double relative_error(const host::Parameter& a, const host::Parameter& b) {
  double num = 0, den = 0;
  for (int64_t k = 0; k < a.numel(); ++k) {
    num += std::pow(double(a.grads()[k]) - b.grads()[k], 2);
    den += std::pow(double(b.grads()[k]), 2);
  }
  return den > 0 ? std::sqrt(num / den) : std::sqrt(num);
}

TEST_CASE("full recompute keeps no layer activations and gives exactly the gradients of no recompute") {
  auto none = host::ModelRunner::from_hf_config(registry(), tiny_qwen2().dump(), opts());
  host::RunnerOptions o = opts();
  o.layout.recompute = "full";
  auto full = host::ModelRunner::from_hf_config(registry(), tiny_qwen2().dump(), o);
  CHECK(json::parse(full.transformer_config())["recompute_granularity"] == "full");
  for (uint64_t l : full.memory(2, 8, false, 0, true).layer_saved) CHECK(l == 0);
  const auto a = none.forward_backward(batch());
  const auto b = full.forward_backward(batch());
  CHECK(a.loss_sum == b.loss_sum);
  for (size_t i = 0; i < none.params().size(); ++i) {
    CAPTURE(none.params()[i].name);
    CHECK(std::memcmp(none.params()[i].grads(), full.params()[i].grads(), none.params()[i].numel() * 4) == 0);
  }
}

TEST_CASE("full recompute by uniform groups and by block gives exactly the gradients of no recompute, in less memory") {
  // 5 layers: uniform groups of 2 leave a group of one at the end; block 3 keeps the last two layers.
  const std::string config = tiny_qwen2(5).dump();
  auto none = host::ModelRunner::from_hf_config(registry(), config, opts());
  const auto a = none.forward_backward(batch());
  const uint64_t none_bytes = none.activation_bytes();
  std::map<std::string, uint64_t> bytes;
  for (const auto& [method, n] : std::vector<std::pair<std::string, int64_t>>{
           {"uniform", 1}, {"uniform", 2}, {"uniform", 5}, {"block", 2}, {"block", 3}, {"block", 9}}) {
    const std::string name = method + " " + std::to_string(n);
    CAPTURE(name);
    host::RunnerOptions o = opts();
    o.layout.recompute = "full";
    o.layout.recompute_method = method;
    o.layout.recompute_num_layers = n;
    auto r = host::ModelRunner::from_hf_config(registry(), config, o);
    const auto b = r.forward_backward(batch());
    CHECK(a.loss_sum == b.loss_sum);
    for (size_t i = 0; i < none.params().size(); ++i) {
      CAPTURE(none.params()[i].name);
      CHECK(std::memcmp(none.params()[i].grads(), r.params()[i].grads(), none.params()[i].numel() * 4) == 0);
    }
    bytes[name] = r.activation_bytes();
    // A second step on the same buffers (the recompute groups' buffers are reused) gives the same loss.
    r.zero_grads();
    CHECK(r.forward_backward(batch()).loss_sum == a.loss_sum);
  }
  // Each layer's own recompute keeps the least; recomputing the first 2 or 3 layers keeps less than none and
  // more the fewer it recomputes (backward holds one recomputed layer at a time, so block 1 would save nothing);
  // one group of all 5 layers holds all of them again in backward.
  CHECK(bytes["uniform 1"] < bytes["block 3"]);
  CHECK(bytes["block 3"] < bytes["block 2"]);
  CHECK(bytes["block 2"] < none_bytes);
  CHECK(bytes["block 9"] == bytes["uniform 1"]);
  CHECK(bytes["uniform 1"] < bytes["uniform 2"]);
  CHECK(bytes["uniform 2"] < bytes["uniform 5"]);
}

TEST_CASE("keeping the head's logits for backward gives exactly the recomputed gradients and keeps T x V more") {
  // Chunks of 3 tokens (64 logits of 4 bytes each): 16 tokens in six chunks, the last of one token.
  const std::string chunked = R"({"logits_chunk_bytes": 768})";
  auto recompute = host::ModelRunner::from_hf_config(registry(), tiny_qwen2().dump(), opts(1234, chunked));
  auto keep = host::ModelRunner::from_hf_config(registry(), tiny_qwen2().dump(),
                                                opts(1234, R"({"logits_chunk_bytes": 768, "keep_logits": true})"));
  CHECK(json::parse(recompute.transformer_config())["keep_logits"] == false);
  CHECK(json::parse(keep.transformer_config())["keep_logits"] == true);
  const auto a = recompute.forward_backward(batch());
  const auto b = keep.forward_backward(batch());
  CHECK(a.loss_sum == b.loss_sum);
  CHECK(a.token_count == b.token_count);
  for (size_t i = 0; i < recompute.params().size(); ++i) {
    CAPTURE(recompute.params()[i].name);
    CHECK(std::memcmp(recompute.params()[i].grads(), keep.params()[i].grads(), recompute.params()[i].numel() * 4) == 0);
  }
  CHECK(keep.activation_bytes() >= recompute.activation_bytes() + 16 * 64 * 4);  // 16 tokens x 64 logits, fp32 on the CPU
  // The kept logits became their gradient in backward; a second step writes them afresh.
  keep.zero_grads();
  recompute.zero_grads();
  CHECK(keep.forward_backward(batch()).loss_sum == recompute.forward_backward(batch()).loss_sum);
  for (size_t i = 0; i < recompute.params().size(); ++i)
    CHECK(std::memcmp(recompute.params()[i].grads(), keep.params()[i].grads(), recompute.params()[i].numel() * 4) == 0);
}

TEST_CASE("full recompute with a method other than uniform or block, or fewer than one layer, is refused by name") {
  for (const auto& [method, n] : std::vector<std::pair<std::string, int64_t>>{{"blocks", 1}, {"uniform", 0}}) {
    host::RunnerOptions o = opts();
    o.layout.recompute = "full";
    o.layout.recompute_method = method;
    o.layout.recompute_num_layers = n;
    auto r = host::ModelRunner::from_hf_config(registry(), tiny_qwen2().dump(), o);
    CHECK_THROWS_WITH_AS(r.forward_backward(batch()), doctest::Contains("--recompute_method uniform|block"),
                         host::HostError);
  }
}

TEST_CASE("a frozen parameter's gradient stays zero while every other gradient matches the unfrozen run") {
  const std::string frozen = "decoder.layers.0.self_attention.linear_qkv.weight";
  auto all = host::ModelRunner::from_hf_config(registry(), tiny_qwen2().dump(), opts());
  host::RunnerOptions o = opts();
  o.frozen = {frozen, "decoder.layers.1.mlp.linear_fc1.layer_norm_weight"};
  auto some = host::ModelRunner::from_hf_config(registry(), tiny_qwen2().dump(), o);
  CHECK_FALSE(some.param(frozen).requires_grad);
  all.forward_backward(batch());
  some.forward_backward(batch());
  for (size_t i = 0; i < all.params().size(); ++i) {
    const auto& p = some.params()[i];
    CAPTURE(p.name);
    if (!p.requires_grad) {
      for (int64_t k = 0; k < p.numel(); ++k) REQUIRE(p.grads()[k] == 0.0f);
      continue;
    }
    CHECK(relative_error(p, all.params()[i]) <= 1e-6);
  }
  // Unfreezing takes effect at the next backward.
  some.set_requires_grad(frozen, true);
  some.zero_grads();
  some.forward_backward(batch());
  CHECK(relative_error(some.param(frozen), all.param(frozen)) <= 1e-6);
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
    msw_tensor_set_dense_shape(&out, static_cast<int32_t>(s.size()), s.data());
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
  msw_model_call c{};
  c.struct_size = sizeof(c);
  c.batch = &mb;
  c.layer = 0;
  c.params = params.data();
  c.param_count = params.size();
  c.input = t(h.data(), MSW_DTYPE_F32, {4, 1, 32});
  c.output = t(y.data(), MSW_DTYPE_F32, {4, 1, 32});
  c.saved = t(saved.data(), MSW_DTYPE_U8, {64});
  c.workspace = t(ws.data(), MSW_DTYPE_U8, {(int64_t)ws.size()});
  msw_status* s = vt.layer_forward(r.instance().self(), &r.exec_ctx(), &c);
  REQUIRE(s);
  const std::string message = host::host_api().status_message(s);
  host::host_api().status_free(s);
  CHECK(message.find("saved buffer holds") != std::string::npos);
  CHECK(message.find("msw_model_vtable.memory") != std::string::npos);

  // A hidden state in the old [B, S, H] order of a B > 1 batch is refused with the expected [S, B, H] shape.
  const auto x2 = batch(2, 4);
  std::vector<float> h2(8 * 32), y2(8 * 32);
  mb.batch_size = 2;
  mb.input_ids = t(const_cast<int64_t*>(x2.input_ids.data()), MSW_DTYPE_I64, {2, 4});
  c.input = t(h2.data(), MSW_DTYPE_F32, {2, 4, 32});
  c.output = t(y2.data(), MSW_DTYPE_F32, {4, 2, 32});
  s = vt.layer_forward(r.instance().self(), &r.exec_ctx(), &c);
  REQUIRE(s);
  const std::string m2 = host::host_api().status_message(s);
  host::host_api().status_free(s);
  CHECK(m2.find("expected dense float32 [S, B, H] = (4, 2, 32)") != std::string::npos);
}

TEST_CASE("a call written by an older minor (a smaller msw_model_call) reads the missing members as zero") {
  auto r = host::ModelRunner::from_hf_config(registry(), tiny_qwen2().dump(), opts());
  const auto& vt = r.instance().vt();
  const auto x = batch(1, 4);
  std::vector<char> ws(r.memory(1, 4).workspace);
  std::vector<float> hidden(4 * 32, 7.0f);
  msw_model_batch mb{};
  mb.struct_size = sizeof(mb);
  mb.batch_size = 1;
  mb.seq_len = 4;
  mb.input_ids.data = const_cast<int64_t*>(x.input_ids.data());
  mb.input_ids.device = {MSW_DEVICE_CPU, 0};
  mb.input_ids.dtype = MSW_DTYPE_I64;
  const int64_t ids_shape[2] = {1, 4};
  msw_tensor_set_dense_shape(&mb.input_ids, 2, ids_shape);
  std::vector<msw_tensor> params;
  for (const auto& p : r.params())
    if (p.info.parts & (1u << MSW_MODEL_PART_EMBEDDING)) params.push_back(p.value);
  msw_model_call c{};
  c.batch = &mb;
  c.params = params.data();
  c.param_count = params.size();
  c.workspace.data = ws.data();
  c.workspace.device = {MSW_DEVICE_CPU, 0};
  c.workspace.dtype = MSW_DTYPE_U8;
  const int64_t ws_shape[1] = {static_cast<int64_t>(ws.size())};
  msw_tensor_set_dense_shape(&c.workspace, 1, ws_shape);
  c.output.data = hidden.data();
  c.output.device = {MSW_DEVICE_CPU, 0};
  c.output.dtype = MSW_DTYPE_F32;
  const int64_t h_shape[3] = {4, 1, 32};
  msw_tensor_set_dense_shape(&c.output, 3, h_shape);
  // Garbage past the older caller's size: the plugin must not read it.
  std::memset(&c.d_output, 0xff, sizeof(msw_model_call) - offsetof(msw_model_call, d_output));
  c.struct_size = offsetof(msw_model_call, d_output);
  msw_status* s = vt.embedding_forward(r.instance().self(), &r.exec_ctx(), &c);
  CHECK(s == nullptr);
  if (s) {
    MESSAGE(host::host_api().status_message(s));
    host::host_api().status_free(s);
  }
  const auto& table = r.param("embedding.word_embeddings.weight");
  CHECK(hidden[0] == table.values()[x.input_ids[0] * 32]);
}

TEST_CASE("a record a caller of an older minor sized smaller is written only within its struct_size") {
  auto r = host::ModelRunner::from_hf_config(registry(), tiny_qwen2().dump(), opts());
  const auto& vt = r.instance().vt();
  msw_param_info info;
  std::memset(&info, 0xab, sizeof(info));
  info.struct_size = offsetof(msw_param_info, requires_grad);  // before requires_grad and expert existed
  REQUIRE(vt.param_info(r.instance().self(), 0, &info) == nullptr);
  CHECK(std::string(info.name) == r.params()[0].name);
  CHECK(info.struct_size == offsetof(msw_param_info, requires_grad));
  int32_t untouched;
  std::memset(&untouched, 0xab, sizeof(untouched));
  CHECK(info.requires_grad == untouched);
  CHECK(info.expert == untouched);
}

TEST_CASE("--tensor_model_parallel_size 2 is refused naming the plugin and the capability tensor_parallel") {
  host::RunnerOptions o = opts();
  o.layout.tensor_parallel = 2;
  CHECK_THROWS_WITH_AS(host::ModelRunner::from_hf_config(registry(), tiny_qwen2().dump(), o),
                       doctest::Contains("model plugin 'qwen2' cannot run --tensor_model_parallel_size 2: it does not "
                                         "declare the capability tensor_parallel; run with "
                                         "--tensor_model_parallel_size 1"),
                       host::HostError);
}

TEST_CASE("--context_parallel_size 2 is refused naming the plugin and the capability context_parallel") {
  host::RunnerOptions o = opts();
  o.layout.context_parallel = 2;
  CHECK_THROWS_WITH_AS(host::ModelRunner::from_hf_config(registry(), tiny_qwen2().dump(), o),
                       doctest::Contains("model plugin 'qwen2' cannot run --context_parallel_size 2: it does not "
                                         "declare the capability context_parallel; run with --context_parallel_size 1"),
                       host::HostError);
}

TEST_CASE("every layout flag maps to its capability; a declared capability passes the check") {
  msw_model_caps none{};
  none.struct_size = sizeof(none);
  auto error = [](const msw_model_caps& caps, const host::ParallelLayout& l) -> std::string {
    try {
      host::check_layout("fake", caps, MSW_DTYPE_F32, l);
    } catch (const host::HostError& e) {
      CHECK(e.code() == MSW_STATUS_UNSUPPORTED);
      return e.what();
    }
    return "";
  };
  host::ParallelLayout sp, pp, packed, sel, full;
  sp.sequence_parallel = true;
  pp.pipeline_parallel = 4;
  packed.packed = true;
  sel.recompute = "selective";
  full.recompute = "full";
  CHECK(error(none, sp).find("--sequence_parallel: it does not declare the capability sequence_parallel") != std::string::npos);
  CHECK(error(none, pp).find("--pipeline_model_parallel_size 4: it does not declare the capability pipeline_parallel") !=
        std::string::npos);
  CHECK(error(none, packed).find("capability packed_sequences") != std::string::npos);
  CHECK(error(none, sel).find("capability recompute_selective") != std::string::npos);
  CHECK(error(none, full).find("capability recompute_full") != std::string::npos);
  CHECK(error(none, host::ParallelLayout{}) == "");

  msw_model_caps tp = none;
  tp.flags = MSW_CAP_TENSOR_PARALLEL | MSW_CAP_CONTEXT_PARALLEL;
  tp.max_tensor_parallel = 4;
  host::ParallelLayout tp2;
  tp2.tensor_parallel = 2;
  tp2.context_parallel = 2;
  CHECK(error(tp, tp2) == "");
  tp2.tensor_parallel = 8;
  CHECK(error(tp, tp2).find("it runs at most 4 tensor-parallel ranks") != std::string::npos);
  msw_model_caps bf16_only = none;
  bf16_only.activation_dtypes = uint64_t{1} << MSW_DTYPE_BF16;
  CHECK(error(bf16_only, host::ParallelLayout{}).find("does not accept activations") != std::string::npos);
}

// The qwen2 plugin's vtable with capabilities that declare nothing (a plugin that cannot run packed batches).
static msw_status* no_capabilities(const void*, msw_model_caps* out) {
  const uint32_t size = out->struct_size;
  std::memset(reinterpret_cast<char*>(out) + sizeof(uint32_t), 0, size - sizeof(uint32_t));
  return nullptr;
}

TEST_CASE("a packed batch is refused by a plugin that does not declare packed_sequences") {
  host::ModelComponent c = host::select_model_component(registry(), "qwen2");
  msw_model_vtable vt = c.vtable;
  vt.capabilities = no_capabilities;
  const host::ModelComponent limited = host::model_component_of("limited", &vt);
  const std::string config = host::transformer_config_from_hf(c, tiny_qwen2().dump(), "config.json");
  auto r = host::ModelRunner::from_component(limited, config, opts());
  const auto packed = host::Batch::pack({{{1, 2, 3}, {2, 3, -100}}, {{4, 5}, {5, -100}}});
  CHECK_THROWS_WITH_AS(r.forward(packed), doctest::Contains("model plugin 'limited' cannot run packed sequences"),
                       host::HostError);
  host::RunnerOptions o = opts();
  o.layout.packed = true;
  CHECK_THROWS_WITH_AS(host::ModelRunner::from_component(limited, config, o),
                       doctest::Contains("does not declare the capability packed_sequences"), host::HostError);
}

TEST_CASE("Batch::pack concatenates rows with restarting positions; Batch::pad right-pads with ignored labels") {
  const std::vector<host::Batch::Row> rows = {{{1, 2, 3}, {2, 3, -100}}, {{4, 5}, {5, -100}}};
  const host::Batch p = host::Batch::pack(rows);
  CHECK(p.packed);
  CHECK(p.batch_size == 1);
  CHECK(p.seq_len == 5);
  CHECK(p.input_ids == std::vector<int64_t>{1, 2, 3, 4, 5});
  CHECK(p.labels == std::vector<int64_t>{2, 3, -100, 5, -100});
  CHECK(p.position_ids == std::vector<int64_t>{0, 1, 2, 0, 1});
  CHECK(p.cu_seqlens == std::vector<int32_t>{0, 3, 5});
  CHECK(p.max_seqlen == 3);
  const host::Batch d = host::Batch::pad(rows, 9);
  CHECK_FALSE(d.packed);
  CHECK(d.batch_size == 2);
  CHECK(d.seq_len == 3);
  CHECK(d.input_ids == std::vector<int64_t>{1, 2, 3, 4, 5, 9});
  CHECK(d.labels == std::vector<int64_t>{2, 3, -100, 5, -100, -100});
}

TEST_CASE("a packed batch without position ids derives them from cu_seqlens") {
  auto r = host::ModelRunner::from_hf_config(registry(), tiny_qwen2().dump(), opts());
  std::vector<host::Batch::Row> rows;
  for (int64_t len : {5, 3, 6}) {
    host::Batch::Row row;
    for (int64_t t = 0; t < len; ++t) {
      row.input_ids.push_back((len * 13 + t * 7) % 64);
      row.labels.push_back(t + 1 < len ? (len + t * 5) % 64 : -100);
    }
    rows.push_back(row);
  }
  host::Batch with = host::Batch::pack(rows);
  const auto a = r.forward(with, true);
  host::Batch without = with;
  without.position_ids.clear();
  const auto b = r.forward(without, true);
  CHECK(a.logits == b.logits);
  CHECK(a.loss_sum == b.loss_sum);
  CHECK(a.token_count == 4 + 2 + 5);  // every label but the last of each row
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

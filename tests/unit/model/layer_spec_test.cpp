// The layer spec: a model overrides one submodule of nn::GptModel without forking it. Each override is
// checked against an equivalent default model (zero-centred norms against ones, a scaled embedding against a
// pre-scaled table) and, for a Gemma-like model with all of them plus an MLP whose activation is an op the
// test registers through msw_host_api.register_op, by finite differences of the loss through the runner.
#include "host/core/host_api.hpp"
#include "host/core/status.hpp"
#include "host/model/model_runner.hpp"

#include <megaswift/nn/gpt_model.hpp>

#include <doctest/doctest.h>
#include <nlohmann/json.hpp>

#include <atomic>
#include <cmath>
#include <cstring>
#include <typeinfo>

using namespace megaswift;
using nlohmann::json;

namespace {

nn::HfFamily family(const std::string&) { return {"spec_test", false, false, "LlamaForCausalLM"}; }

// A model class per spec; the runner drives them through the same C trampolines a plugin exports.
template <class Derived>
struct TestModel : nn::GptModel {
  TestModel(std::string_view config, nn::ModelSpec spec) : GptModel(config, family, std::move(spec)) {}
  static const char* const* hf_model_types() {
    static const char* const t[] = {"llama", nullptr};
    return t;
  }
  static std::string config_from_hf(std::string_view hf) { return nn::config_from_hf_for(hf, hf_model_types(), family); }
};

struct Plain : TestModel<Plain> {
  explicit Plain(std::string_view c) : TestModel(c, {}) {}
};

struct ZeroCentred : TestModel<ZeroCentred> {
  explicit ZeroCentred(std::string_view c) : TestModel(c, spec()) {}
  static nn::ModelSpec spec() {
    nn::ModelSpec s;
    s.set_norms(nn::rms_norm(1.0));
    return s;
  }
};

struct Scaled : TestModel<Scaled> {
  explicit Scaled(std::string_view c) : TestModel(c, spec()) {}
  static nn::ModelSpec spec() {
    nn::ModelSpec s;
    s.embedding = nn::word_embedding(nn::sqrt_hidden_size);
    return s;
  }
};

// ---- GeGLU as a plugin-registered op: out = gelu_tanh(gate) * up over x = [gate | up] per row ----

struct GegluArgs {
  MSW_ARGS_HEADER;
  msw_tensor x;     // (R, 2F)
  msw_tensor out;   // forward: (R, F)
  msw_tensor dout;  // backward: (R, F)
  msw_tensor dx;    // backward: (R, 2F) written
};

std::atomic<int> g_geglu_calls{0};

double gelu_tanh(double g, double* derivative) {
  const double k = std::sqrt(2.0 / 3.14159265358979323846), u = k * (g + 0.044715 * g * g * g), t = std::tanh(u);
  *derivative = 0.5 * (1 + t) + 0.5 * g * (1 - t * t) * k * (1 + 3 * 0.044715 * g * g);
  return 0.5 * g * (1 + t);
}

float* f32(const msw_tensor& t) { return reinterpret_cast<float*>(static_cast<char*>(t.data) + t.byte_offset); }

msw_status* geglu_forward(const msw_exec_ctx*, const void* p) {
  const auto& a = *static_cast<const GegluArgs*>(p);
  const int64_t f = a.out.shape[a.out.ndim - 1], rows = msw_tensor_numel(&a.out) / f;
  for (int64_t r = 0; r < rows; ++r)
    for (int64_t j = 0; j < f; ++j) {
      double d;
      const double gate = f32(a.x)[r * 2 * f + j], up = f32(a.x)[r * 2 * f + f + j];
      f32(a.out)[r * f + j] = static_cast<float>(gelu_tanh(gate, &d) * up);
    }
  ++g_geglu_calls;
  return nullptr;
}

msw_status* geglu_backward(const msw_exec_ctx*, const void* p) {
  const auto& a = *static_cast<const GegluArgs*>(p);
  const int64_t f = a.dout.shape[a.dout.ndim - 1], rows = msw_tensor_numel(&a.dout) / f;
  for (int64_t r = 0; r < rows; ++r)
    for (int64_t j = 0; j < f; ++j) {
      double d;
      const double gate = f32(a.x)[r * 2 * f + j], up = f32(a.x)[r * 2 * f + f + j], dy = f32(a.dout)[r * f + j];
      const double act = gelu_tanh(gate, &d);
      f32(a.dx)[r * 2 * f + j] = static_cast<float>(dy * up * d);
      f32(a.dx)[r * 2 * f + f + j] = static_cast<float>(dy * act);
    }
  ++g_geglu_calls;
  return nullptr;
}

void register_geglu() {
  static const bool done = [] {
    const msw_host_api& h = host::host_api();
    const bool has_register_op = h.register_op != nullptr;
    REQUIRE_MESSAGE(has_register_op, "the host table has no register_op");
    for (auto [name, fn] : {std::pair{"spec_test.geglu_forward", &geglu_forward},
                            std::pair{"spec_test.geglu_backward", &geglu_backward}}) {
      msw_custom_op op{};
      op.struct_size = sizeof(op);
      op.device_type = MSW_DEVICE_CPU;
      op.name = name;
      op.fn = fn;
      host::throw_if_error(h.register_op(&op), name);
    }
    return true;
  }();
  (void)done;
}

// The MLP of a Gemma-like model: nn::Mlp with its activation step replaced by the registered op.
class GegluMlp : public nn::Mlp {
 public:
  using nn::Mlp::Mlp;

 protected:
  void activation_forward(const nn::Step& st, nn::Arena&, const msw_tensor& fc1_out, const msw_tensor& act) const override {
    GegluArgs a{};
    a.struct_size = sizeof(a);
    a.x = fc1_out;
    a.out = act;
    sdk::check(sdk::host().call_op("spec_test.geglu_forward", &st.ops.ctx(), &a));
  }
  void activation_backward(const nn::Step& st, nn::Arena&, const msw_tensor& fc1_out, const msw_tensor& dact,
                           const msw_tensor& dfc1) const override {
    GegluArgs a{};
    a.struct_size = sizeof(a);
    a.x = fc1_out;
    a.dout = dact;
    a.dx = dfc1;
    sdk::check(sdk::host().call_op("spec_test.geglu_backward", &st.ops.ctx(), &a));
  }
};

struct GemmaLike : TestModel<GemmaLike> {
  explicit GemmaLike(std::string_view c) : TestModel(c, spec()) {}
  static nn::ModelSpec spec() {
    nn::ModelSpec s;
    s.set_norms(nn::rms_norm(1.0));
    s.mlp = nn::module<GegluMlp>();
    s.embedding = nn::word_embedding(nn::sqrt_hidden_size);
    return s;
  }
};

// ---- harness ----

json config(bool tied = false) {
  // head_dim 16 with 4 heads over hidden 32: the head dimension is independent of hidden / heads (Gemma).
  return {{"hf_model_type", "llama"}, {"num_layers", 2}, {"hidden_size", 32}, {"ffn_hidden_size", 48},
          {"num_attention_heads", 4}, {"num_query_groups", 2}, {"kv_channels", 16}, {"rotary_base", 10000.0},
          {"norm_epsilon", 1e-6}, {"vocab_size", 64}, {"init_method_std", 0.2}, {"qk_layernorm", true},
          {"untie_embeddings_and_output_weights", !tied}};
}

template <class T>
host::ModelRunner runner(const json& cfg, uint64_t seed = 5) {
  sdk::detail::g_host = &host::host_api();  // the trampolines of this binary report through the host table
  const host::ModelComponent c = host::model_component_of(typeid(T).name(), &sdk::detail::ModelTrampolines<T>::vtable());
  host::RunnerOptions o;
  o.num_threads = 1;
  o.seed = seed;
  return host::ModelRunner::from_component(c, cfg.dump(), o);
}

host::Batch batch() {
  host::Batch b;
  b.batch_size = 2;
  b.seq_len = 6;
  for (int64_t i = 0; i < 12; ++i) {
    b.input_ids.push_back((i * 11 + 5) % 64);
    b.labels.push_back(i % 6 == 5 ? -100 : (i * 7 + 2) % 64);
  }
  return b;
}

bool is_norm(const std::string& name) { return name.find("norm") != std::string::npos; }

double max_abs_diff(const std::vector<float>& a, const std::vector<float>& b) {
  double m = 0;
  for (size_t i = 0; i < a.size(); ++i) m = std::max(m, std::abs(double(a[i]) - b[i]));
  return m;
}

double relative_error(const float* a, const float* b, int64_t n, double scale_b = 1.0) {
  double num = 0, den = 0;
  for (int64_t i = 0; i < n; ++i) {
    num += std::pow(double(a[i]) - scale_b * b[i], 2);
    den += std::pow(scale_b * b[i], 2);
  }
  return std::sqrt(num / std::max(den, 1e-30));
}

// Every parameter tensor's gradient of the loss sum against finite differences of the forward, along a
// +-1 direction per tensor.
void check_gradients_by_finite_differences(host::ModelRunner& r) {
  const host::Batch x = batch();
  r.zero_grads();
  const double loss_sum = r.forward(x).loss_sum;
  r.backward(1.0);  // gradients of the loss sum
  const double eps = 1e-2;
  for (auto& p : r.params()) {
    CAPTURE(p.name);
    std::vector<float> saved(p.values(), p.values() + p.numel());
    double analytic = 0;
    std::vector<float> dir(static_cast<size_t>(p.numel()));
    for (int64_t k = 0; k < p.numel(); ++k) {
      dir[k] = ((k * 2654435761u) >> 7) % 2 ? 1.0f : -1.0f;
      analytic += double(p.grads()[k]) * dir[k];
    }
    auto loss_at = [&](double t) {
      for (int64_t k = 0; k < p.numel(); ++k) p.values()[k] = static_cast<float>(saved[k] + t * dir[k]);
      return r.forward(x).loss_sum;
    };
    // Central differences at eps and eps/2, extrapolated (Richardson) to cancel the eps^2 term: a whole
    // tensor moves at once, so the curvature term of a plain central difference is not small.
    const double wide = (loss_at(eps) - loss_at(-eps)) / (2 * eps);
    const double narrow = (loss_at(eps / 2) - loss_at(-eps / 2)) / eps;
    const double numeric = (4 * narrow - wide) / 3;
    std::copy(saved.begin(), saved.end(), p.values());
    INFO("analytic " << analytic << ", numeric " << numeric);
    CHECK(std::abs(analytic - numeric) <= 5e-3 * std::abs(numeric) + 1e-3);
  }
  CHECK(r.forward(x).loss_sum == loss_sum);  // restored
}

}  // namespace

TEST_CASE("zero-centred norms (weight_offset 1, weights initialised to zeros) compute what w = 1 + their weights computes") {
  auto plain = runner<Plain>(config());
  auto centred = runner<ZeroCentred>(config());
  REQUIRE(plain.params().size() == centred.params().size());
  int norms = 0;
  for (size_t i = 0; i < plain.params().size(); ++i) {
    auto& p = plain.params()[i];
    auto& c = centred.params()[i];
    REQUIRE(p.name == c.name);
    if (!is_norm(p.name)) {
      CHECK(std::memcmp(p.values(), c.values(), p.numel() * 4) == 0);  // init depends on (seed, name) only
      continue;
    }
    ++norms;
    CAPTURE(p.name);
    CHECK(c.info.init == MSW_INIT_ZEROS);
    CHECK(p.info.init == MSW_INIT_ONES);
    for (int64_t k = 0; k < p.numel(); ++k) {
      CHECK(c.values()[k] == 0.0f);
      // Non-trivial weights: w = 1 + d for the plain norm, d for the zero-centred one.
      const float d = 0.1f * std::sin(float(k + i));
      c.values()[k] = d;
      p.values()[k] = 1.0f + d;
    }
  }
  CHECK(norms == 2 * 4 + 1);  // per layer input, pre-MLP, q and k norms; the final norm
  const auto a = plain.forward_backward(batch(), true);
  const auto b = centred.forward_backward(batch(), true);
  CHECK(max_abs_diff(a.logits, b.logits) < 1e-5);
  for (size_t i = 0; i < plain.params().size(); ++i) {
    CAPTURE(plain.params()[i].name);
    CHECK(relative_error(centred.params()[i].grads(), plain.params()[i].grads(), plain.params()[i].numel()) < 1e-5);
  }
}

TEST_CASE("a scaled word embedding equals the plain one over a table scaled the same; its gradient is scaled too") {
  auto plain = runner<Plain>(config());
  auto scaled = runner<Scaled>(config());
  const double s = static_cast<float>(std::sqrt(32.0));
  auto& e_plain = plain.param("embedding.word_embeddings.weight");
  const auto& e_scaled = scaled.param("embedding.word_embeddings.weight");
  for (int64_t k = 0; k < e_plain.numel(); ++k) e_plain.values()[k] = static_cast<float>(e_scaled.values()[k] * s);
  const auto a = plain.forward_backward(batch(), true);
  const auto b = scaled.forward_backward(batch(), true);
  CHECK(max_abs_diff(a.logits, b.logits) < 1e-5);
  CHECK(a.loss() == doctest::Approx(b.loss()).epsilon(1e-6));
  CHECK(relative_error(e_scaled.grads(), e_plain.grads(), e_plain.numel(), s) < 1e-5);
  for (size_t i = 1; i < plain.params().size(); ++i) {
    CAPTURE(plain.params()[i].name);
    CHECK(relative_error(scaled.params()[i].grads(), plain.params()[i].grads(), plain.params()[i].numel()) < 1e-5);
  }
}

TEST_CASE("a gated gelu_tanh MLP without an override is refused, naming how a plugin provides it") {
  json cfg = config();
  cfg["swiglu"] = false;
  cfg["gated_linear_unit"] = true;
  cfg["activation_func"] = "gelu_tanh";
  auto r = runner<Plain>(cfg);
  CHECK_THROWS_WITH_AS(r.forward(batch()), doctest::Contains("overriding activation_forward/activation_backward"),
                       host::HostError);
}

TEST_CASE("a Gemma-like spec (zero-centred norms, scaled tied embedding, head_dim 16, GeGLU through a registered op) "
          "has the gradients of its own forward") {
  register_geglu();
  json cfg = config(true);
  cfg["swiglu"] = false;
  cfg["gated_linear_unit"] = true;
  cfg["activation_func"] = "gelu_tanh";
  auto r = runner<GemmaLike>(cfg, 11);
  // Zero-centred norms start at zero: move them off it so their gradient paths are exercised.
  for (auto& p : r.params())
    if (is_norm(p.name))
      for (int64_t k = 0; k < p.numel(); ++k) p.values()[k] = 0.2f * std::cos(float(3 * k + 1));
  g_geglu_calls = 0;
  check_gradients_by_finite_differences(r);
  CHECK(g_geglu_calls >= 2 * 2);  // both layers, forward and backward
}

TEST_CASE("a plain (not gated) GELU MLP runs on the ops table's gelu and has the gradients of its forward") {
  json cfg = config();
  cfg["swiglu"] = false;
  cfg["gated_linear_unit"] = false;
  cfg["activation_func"] = "gelu";
  auto r = runner<Plain>(cfg, 13);
  CHECK(r.param("decoder.layers.0.mlp.linear_fc1.weight").shape == std::vector<int64_t>{48, 32});
  check_gradients_by_finite_differences(r);
}

namespace {

// A model class of its own (not a GptModel, which decodes) that forwards every entry of sdk::Model to a decoder
// but has no layer_decode.
struct WithoutDecode : sdk::Model {
  explicit WithoutDecode(std::string_view c) : inner(c) {}
  static const char* const* hf_model_types() { return Plain::hf_model_types(); }
  static std::string config_from_hf(std::string_view hf) { return Plain::config_from_hf(hf); }
  msw_model_info describe() const override { return inner.describe(); }
  msw_model_caps capabilities() const override { return inner.capabilities(); }
  const std::string& config_json() const override { return inner.config_json(); }
  int64_t param_count() const override { return inner.param_count(); }
  msw_param_info param_info(int64_t i) const override { return inner.param_info(i); }
  int64_t hf_mapping_count() const override { return inner.hf_mapping_count(); }
  msw_hf_mapping hf_mapping(int64_t i) const override { return inner.hf_mapping(i); }
  void hf_to_megatron(int64_t i, const msw_tensor* hf, size_t n, const msw_tensor& out) const override {
    inner.hf_to_megatron(i, hf, n, out);
  }
  void megatron_to_hf(int64_t i, const msw_tensor& m, const msw_tensor* hf, size_t n) const override {
    inner.megatron_to_hf(i, m, hf, n);
  }
  sdk::ModelMemory memory(const msw_model_shape& s, bool full) const override { return inner.memory(s, full); }
  void embedding_forward(const msw_exec_ctx& x, const msw_model_call& c) override { inner.embedding_forward(x, c); }
  void embedding_backward(const msw_exec_ctx& x, const msw_model_call& c) override { inner.embedding_backward(x, c); }
  void layer_forward(const msw_exec_ctx& x, const msw_model_call& c) override { inner.layer_forward(x, c); }
  void layer_backward(const msw_exec_ctx& x, const msw_model_call& c) override { inner.layer_backward(x, c); }
  void head_forward(const msw_exec_ctx& x, const msw_model_call& c) override { inner.head_forward(x, c); }
  void head_backward(const msw_exec_ctx& x, const msw_model_call& c) override { inner.head_backward(x, c); }
  Plain inner;
};

// Claims decoding without implementing it.
struct ClaimsDecode : WithoutDecode {
  explicit ClaimsDecode(std::string_view c) : WithoutDecode(c) {}
  msw_model_caps capabilities() const override {
    msw_model_caps c = inner.capabilities();
    c.flags |= MSW_CAP_DECODE;
    return c;
  }
};

// Declares layer_decode (here only to count the calls the trampoline forwards).
struct Decodes : TestModel<Decodes> {
  explicit Decodes(std::string_view c) : TestModel(c, {}) {}
  void layer_decode(const msw_exec_ctx&, const msw_model_call& call) { last_layer = call.layer; }
  int64_t last_layer = -1;
};

}  // namespace

TEST_CASE("layer_decode is wired only for a class that declares it, and MSW_CAP_DECODE without it is refused") {
  sdk::detail::g_host = &host::host_api();
  const bool without_decodes = sdk::detail::ModelTrampolines<WithoutDecode>::vtable().layer_decode != nullptr;
  const bool plain_decodes = sdk::detail::ModelTrampolines<Plain>::vtable().layer_decode != nullptr;  // GptModel's
  const bool decodes = sdk::detail::ModelTrampolines<Decodes>::vtable().layer_decode != nullptr;
  CHECK_FALSE(without_decodes);
  CHECK(plain_decodes);
  CHECK(decodes);

  const auto& vt = sdk::detail::ModelTrampolines<ClaimsDecode>::vtable();
  void* self = nullptr;
  REQUIRE(vt.create(config().dump().c_str(), &self) == nullptr);
  msw_model_caps caps{};
  caps.struct_size = sizeof(caps);
  msw_status* s = vt.capabilities(self, &caps);
  REQUIRE(s != nullptr);
  CHECK(std::string(host::host_api().status_message(s)).find("MSW_CAP_DECODE but its class has no layer_decode") !=
        std::string::npos);
  host::host_api().status_free(s);
  vt.destroy(self);

  const auto& dv = sdk::detail::ModelTrampolines<Decodes>::vtable();
  REQUIRE(dv.create(config().dump().c_str(), &self) == nullptr);
  msw_model_batch b{};
  b.struct_size = sizeof(b);
  msw_model_call c{};
  c.struct_size = sizeof(c);
  c.batch = &b;
  c.layer = 1;
  msw_exec_ctx ctx{};
  ctx.struct_size = sizeof(ctx);
  CHECK(dv.layer_decode(self, &ctx, &c) == nullptr);
  CHECK(static_cast<Decodes*>(self)->last_layer == 1);
  dv.destroy(self);
}

TEST_CASE("entries without a status never let an exception out: param_count reports -1 for a NULL instance") {
  sdk::detail::g_host = &host::host_api();
  const auto& vt = sdk::detail::ModelTrampolines<Plain>::vtable();
  CHECK(vt.param_count(nullptr) == -1);
  CHECK(vt.hf_mapping_count(nullptr) == -1);
}

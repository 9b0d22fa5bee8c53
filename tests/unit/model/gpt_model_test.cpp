// The shared GPT decoder's parameter table (Megatron names, TP split, init rule, weight decay, parts), its
// HF layout transforms checked element by element against the documented layouts, its records, its
// capabilities and its memory plan (per layer, full recompute, no whole-batch logits).
#include <megaswift/nn/gpt_model.hpp>

#include <doctest/doctest.h>

#include <cmath>
#include <map>
#include <numeric>

using namespace megaswift;
using nlohmann::json;

namespace {

nn::HfFamily family(const std::string&) { return {"test", false, false, "LlamaForCausalLM"}; }

json tiny(int layers = 2) {
  return {{"hf_model_type", "llama"}, {"num_layers", layers}, {"hidden_size", 16}, {"ffn_hidden_size", 24},
          {"num_attention_heads", 4}, {"num_query_groups", 2}, {"kv_channels", 8}, {"rotary_base", 10000.0},
          {"norm_epsilon", 1e-6}, {"vocab_size", 32}, {"init_method_std", 0.02}};
}

nn::GptModel model(const json& j) { return nn::GptModel(j.dump(), family); }

std::map<std::string, msw_param_info> table_of(const nn::GptModel& m) {
  std::map<std::string, msw_param_info> out;
  for (int64_t i = 0; i < m.param_count(); ++i) out[m.param_info(i).name] = m.param_info(i);
  return out;
}

msw_tensor cpu(std::vector<float>& v, std::vector<int64_t> shape) {
  msw_tensor t{};
  t.data = v.data();
  t.device = {MSW_DEVICE_CPU, 0};
  t.dtype = MSW_DTYPE_F32;
  t.ndim = static_cast<int32_t>(shape.size());
  int64_t stride = 1;
  for (int i = t.ndim - 1; i >= 0; --i) {
    t.shape[i] = shape[i];
    t.strides[i] = stride;
    stride *= shape[i];
  }
  return t;
}

int64_t mapping_index(const nn::GptModel& m, const std::string& megatron) {
  for (int64_t i = 0; i < m.hf_mapping_count(); ++i)
    if (m.hf_mapping(i).megatron_name == megatron) return i;
  FAIL("no mapping for " << megatron);
  return -1;
}

}  // namespace

TEST_CASE("layer parameters follow Megatron's TE names, in the order the layer call receives them") {
  json j = tiny();
  j["add_qkv_bias"] = true;
  j["qk_layernorm"] = true;
  const nn::GptModel m = model(j);
  std::vector<std::string> layer1;
  for (int64_t i = 0; i < m.param_count(); ++i)
    if (m.param_info(i).layer == 1) layer1.push_back(m.param_info(i).name);
  CHECK(layer1 == std::vector<std::string>{
                      "decoder.layers.1.self_attention.linear_qkv.layer_norm_weight",
                      "decoder.layers.1.self_attention.linear_qkv.weight",
                      "decoder.layers.1.self_attention.linear_qkv.bias",
                      "decoder.layers.1.self_attention.q_layernorm.weight",
                      "decoder.layers.1.self_attention.k_layernorm.weight",
                      "decoder.layers.1.self_attention.linear_proj.weight",
                      "decoder.layers.1.mlp.linear_fc1.layer_norm_weight",
                      "decoder.layers.1.mlp.linear_fc1.weight",
                      "decoder.layers.1.mlp.linear_fc2.weight",
                  });
  const auto t = table_of(m);
  CHECK(t.count("embedding.word_embeddings.weight"));
  CHECK(t.count("decoder.final_layernorm.weight"));
  CHECK(t.count("output_layer.weight"));
}

TEST_CASE("global shapes, tensor-parallel splits, init rules and weight decay are Megatron's") {
  const nn::GptModel m = model(tiny(3));
  const auto t = table_of(m);
  const auto& qkv = t.at("decoder.layers.0.self_attention.linear_qkv.weight");
  CHECK(qkv.shape[0] == (4 + 2 * 2) * 8);
  CHECK(qkv.shape[1] == 16);
  CHECK(qkv.tp_split == MSW_TP_CONTIGUOUS);
  CHECK(qkv.tp_split_dim == 0);
  CHECK(qkv.init == MSW_INIT_NORMAL);
  CHECK(qkv.init_std == doctest::Approx(0.02));
  CHECK(qkv.weight_decay == 1);
  const auto& proj = t.at("decoder.layers.2.self_attention.linear_proj.weight");
  CHECK(proj.tp_split_dim == 1);
  CHECK(proj.init_std == doctest::Approx(0.02 / std::sqrt(6.0)));  // scaled for output projections
  const auto& fc1 = t.at("decoder.layers.0.mlp.linear_fc1.weight");
  CHECK(fc1.shape[0] == 48);
  CHECK(fc1.tp_split == MSW_TP_GLU);
  const auto& fc2 = t.at("decoder.layers.0.mlp.linear_fc2.weight");
  CHECK(fc2.tp_split_dim == 1);
  CHECK(fc2.init_std == doctest::Approx(0.02 / std::sqrt(6.0)));
  const auto& norm = t.at("decoder.layers.0.mlp.linear_fc1.layer_norm_weight");
  CHECK(norm.init == MSW_INIT_ONES);
  CHECK(norm.tp_split == MSW_TP_REPLICATED);
  CHECK(norm.weight_decay == 0);
  const auto& emb = t.at("embedding.word_embeddings.weight");
  CHECK(emb.tp_split_dim == 0);
  CHECK(emb.parts == (1u << MSW_MODEL_PART_EMBEDDING));
  CHECK(t.at("output_layer.weight").parts == (1u << MSW_MODEL_PART_HEAD));
}

TEST_CASE("biases are zero-initialised and exempt from weight decay") {
  json j = tiny();
  j["add_qkv_bias"] = true;
  j["add_bias_linear"] = true;
  const auto t = table_of(model(j));
  for (const char* name : {"decoder.layers.0.self_attention.linear_qkv.bias", "decoder.layers.0.self_attention.linear_proj.bias",
                           "decoder.layers.0.mlp.linear_fc1.bias", "decoder.layers.0.mlp.linear_fc2.bias"}) {
    CAPTURE(name);
    REQUIRE(t.count(name));
    CHECK(t.at(name).init == MSW_INIT_ZEROS);
    CHECK(t.at(name).weight_decay == 0);
  }
  CHECK(t.at("decoder.layers.0.mlp.linear_fc1.bias").tp_split == MSW_TP_GLU);
}

TEST_CASE("tied embeddings: no output_layer, the word embedding is read by the embedding and the head") {
  json j = tiny();
  j["untie_embeddings_and_output_weights"] = false;
  const nn::GptModel m = model(j);
  const auto t = table_of(m);
  CHECK_FALSE(t.count("output_layer.weight"));
  CHECK(t.at("embedding.word_embeddings.weight").parts ==
        ((1u << MSW_MODEL_PART_EMBEDDING) | (1u << MSW_MODEL_PART_HEAD)));
  for (int64_t i = 0; i < m.hf_mapping_count(); ++i) CHECK(std::string(m.hf_mapping(i).hf[0].name) != "lm_head.weight");
}

TEST_CASE("q, k, v rows are interleaved per query group into linear_qkv, and back") {
  const nn::GptModel m = model(tiny());
  const int64_t idx = mapping_index(m, "decoder.layers.0.self_attention.linear_qkv.weight");
  const msw_hf_mapping rec = m.hf_mapping(idx);
  CHECK(rec.transform == MSW_HF_QKV);
  const int64_t H = 16, D = 8;
  // Element value = tensor * 1000 + row, so each Megatron row says where it came from.
  std::vector<float> q(4 * D * H), k(2 * D * H), v(2 * D * H), fused(8 * D * H);
  for (int64_t r = 0; r < 4 * D; ++r) std::fill_n(q.begin() + r * H, H, 1000.0f + r);
  for (int64_t r = 0; r < 2 * D; ++r) std::fill_n(k.begin() + r * H, H, 2000.0f + r);
  for (int64_t r = 0; r < 2 * D; ++r) std::fill_n(v.begin() + r * H, H, 3000.0f + r);
  msw_tensor hf[3] = {cpu(q, {4 * D, H}), cpu(k, {2 * D, H}), cpu(v, {2 * D, H})};
  m.hf_to_megatron(idx, hf, 3, cpu(fused, {8 * D, H}));
  // Group g holds query heads 2g, 2g+1 (16 rows), then key head g, then value head g (8 rows each).
  for (int64_t g = 0; g < 2; ++g) {
    const int64_t base = g * 4 * D;
    for (int64_t r = 0; r < 2 * D; ++r) CHECK(fused[(base + r) * H] == 1000.0f + g * 2 * D + r);
    for (int64_t r = 0; r < D; ++r) CHECK(fused[(base + 2 * D + r) * H] == 2000.0f + g * D + r);
    for (int64_t r = 0; r < D; ++r) CHECK(fused[(base + 3 * D + r) * H] == 3000.0f + g * D + r);
  }
  std::vector<float> q2(q.size()), k2(k.size()), v2(v.size());
  msw_tensor back[3] = {cpu(q2, {4 * D, H}), cpu(k2, {2 * D, H}), cpu(v2, {2 * D, H})};
  m.megatron_to_hf(idx, cpu(fused, {8 * D, H}), back, 3);
  CHECK(q2 == q);
  CHECK(k2 == k);
  CHECK(v2 == v);
}

TEST_CASE("gate and up are stacked [gate; up] into linear_fc1") {
  const nn::GptModel m = model(tiny());
  const int64_t idx = mapping_index(m, "decoder.layers.1.mlp.linear_fc1.weight");
  std::vector<float> gate(24 * 16), up(24 * 16), fc1(48 * 16);
  std::iota(gate.begin(), gate.end(), 0.0f);
  std::iota(up.begin(), up.end(), 10000.0f);
  msw_tensor hf[2] = {cpu(gate, {24, 16}), cpu(up, {24, 16})};
  m.hf_to_megatron(idx, hf, 2, cpu(fc1, {48, 16}));
  CHECK(std::equal(gate.begin(), gate.end(), fc1.begin()));
  CHECK(std::equal(up.begin(), up.end(), fc1.begin() + 24 * 16));
}

TEST_CASE("a padded vocabulary pads the embedding with zero rows and export drops them") {
  json j = tiny();
  j["vocab_size"] = 30;
  j["padded_vocab_size"] = 32;
  const nn::GptModel m = model(j);
  const int64_t idx = mapping_index(m, "embedding.word_embeddings.weight");
  CHECK(m.hf_mapping(idx).transform == MSW_HF_PAD_ROWS);
  CHECK(m.hf_mapping(idx).hf[0].shape[0] == 30);
  std::vector<float> hf_values(30 * 16, 1.5f), padded(32 * 16, -7.0f), back(30 * 16);
  msw_tensor hf[1] = {cpu(hf_values, {30, 16})};
  m.hf_to_megatron(idx, hf, 1, cpu(padded, {32, 16}));
  CHECK(padded[29 * 16] == 1.5f);
  CHECK(padded[30 * 16] == 0.0f);
  CHECK(padded[32 * 16 - 1] == 0.0f);
  msw_tensor out[1] = {cpu(back, {30, 16})};
  m.megatron_to_hf(idx, cpu(padded, {32, 16}), out, 1);
  CHECK(back == hf_values);
}

TEST_CASE("a Megatron tensor of the wrong shape is refused by name") {
  const nn::GptModel m = model(tiny());
  const int64_t idx = mapping_index(m, "decoder.final_layernorm.weight");
  std::vector<float> a(16), b(15);
  msw_tensor hf[1] = {cpu(a, {16})};
  CHECK_THROWS_WITH_AS(m.hf_to_megatron(idx, hf, 1, cpu(b, {15})),
                       doctest::Contains("decoder.final_layernorm.weight is (15)"), sdk::Error);
  CHECK_THROWS_WITH_AS(m.hf_to_megatron(idx, hf, 2, cpu(a, {16})), doctest::Contains("made of 1 HF tensors but 2"),
                       sdk::Error);
}

TEST_CASE("records carry struct_size; mappings list their HF tensors as (pointer, count, element size)") {
  const nn::GptModel m = model(tiny());
  const msw_param_info p = m.param_info(0);
  CHECK(p.struct_size == sizeof(msw_param_info));
  CHECK(p.requires_grad == 1);
  CHECK(p.expert == -1);
  const msw_hf_mapping r = m.hf_mapping(mapping_index(m, "decoder.layers.0.self_attention.linear_qkv.weight"));
  CHECK(r.struct_size == sizeof(msw_hf_mapping));
  REQUIRE(r.hf_count == 3);
  CHECK(r.hf_elem_size == sizeof(msw_hf_tensor));
  CHECK(std::string(r.hf[2].name) == "model.layers.0.self_attn.v_proj.weight");
  CHECK(r.hf[2].struct_size == sizeof(msw_hf_tensor));
  CHECK(r.hf[2].ndim == 2);
  CHECK(r.hf[2].shape[0] == 2 * 8);
}

TEST_CASE("the decoder declares packed sequences, both recompute modes, KV-cache decoding and fp32/bf16/fp16 activations, and nothing it cannot run") {
  const msw_model_caps c = model(tiny()).capabilities();
  CHECK(c.struct_size == sizeof(msw_model_caps));
  CHECK((c.flags & MSW_CAP_PACKED_SEQUENCES));
  CHECK((c.flags & MSW_CAP_RECOMPUTE_SELECTIVE));
  CHECK((c.flags & MSW_CAP_RECOMPUTE_FULL));
  CHECK((c.flags & MSW_CAP_DECODE));
  for (uint64_t missing : {MSW_CAP_TENSOR_PARALLEL, MSW_CAP_SEQUENCE_PARALLEL, MSW_CAP_CONTEXT_PARALLEL,
                           MSW_CAP_PIPELINE_PARALLEL, MSW_CAP_EXPERT_PARALLEL})
    CHECK_FALSE((c.flags & missing));
  CHECK(c.activation_dtypes == ((uint64_t{1} << MSW_DTYPE_F32) | (uint64_t{1} << MSW_DTYPE_BF16) | (uint64_t{1} << MSW_DTYPE_F16)));
}

TEST_CASE("params_dtype sets the activation dtype the decoder reports, and 16-bit activations halve its saved bytes") {
  json c = tiny(2);
  const nn::GptModel f32 = model(c);
  CHECK(f32.describe().activation_dtype == MSW_DTYPE_F32);
  c["params_dtype"] = "bfloat16";
  const nn::GptModel bf16 = model(c);
  CHECK(bf16.describe().activation_dtype == MSW_DTYPE_BF16);
  const msw_model_shape s{sizeof(msw_model_shape), 0, 2, 16, 0};
  const uint64_t full = f32.memory(s, false).layer_saved[0], half = bf16.memory(s, false).layer_saved[0];
  // Everything a layer keeps is an activation but the fp32 rstd and lse statistics.
  CHECK(half < full * 6 / 10);
  CHECK(half > full * 4 / 10);
  c["params_dtype"] = "fp8";
  CHECK_THROWS_WITH(model(c), doctest::Contains("params_dtype must be float32, bfloat16 or float16"));
}

TEST_CASE("the memory plan: one saved size per layer, growing with the batch, the KV bytes per token, and no whole-batch logits in the head") {
  const nn::GptModel m = model(tiny(3));
  const msw_model_shape s{sizeof(msw_model_shape), 0, 2, 16, 0};
  const sdk::ModelMemory a = m.memory(s, false);
  CHECK(a.embedding_saved == 0);
  REQUIRE(a.layer_saved.size() == 3);
  REQUIRE(a.kv_bytes_per_token.size() == 3);
  for (uint64_t l : a.layer_saved) CHECK(l == a.layer_saved[0]);  // identical layers
  CHECK(a.layer_saved[0] > 0);
  // The KV cache keeps each token's keys and values of every kv head, fp32.
  const nn::TransformerConfig& cfg = m.config();
  CHECK(a.kv_bytes_per_token[0] == uint64_t(2 * cfg.num_query_groups * cfg.kv_channels * 4));
  CHECK(a.workspace > 0);
  // The head keeps the normed hidden state and the log-sum-exp, not the (T, V) logits.
  CHECK(a.head_saved < uint64_t(2 * 16) * (16 + 4) * 4 + 3 * 256);
  const msw_model_shape s2{sizeof(msw_model_shape), 0, 4, 16, 0};
  CHECK(m.memory(s2, false).layer_saved[0] > a.layer_saved[0]);
}

TEST_CASE("under full recompute the layers keep nothing and the workspace holds one layer's saved tensors") {
  const nn::GptModel m = model(tiny(2));
  const msw_model_shape s{sizeof(msw_model_shape), 0, 2, 16, 0};
  const sdk::ModelMemory kept = m.memory(s, false), full = m.memory(s, true);
  for (uint64_t l : full.layer_saved) CHECK(l == 0);
  CHECK(full.workspace >= kept.layer_saved[0]);
  CHECK(full.workspace > kept.workspace);
  CHECK(full.head_saved == kept.head_saved);
}

TEST_CASE("selective recompute keeps what none keeps: attention never keeps its probabilities") {
  json j = tiny();
  const nn::GptModel selective = model(j);
  j["recompute_granularity"] = "none";
  const nn::GptModel none = model(j);
  const msw_model_shape s{sizeof(msw_model_shape), 0, 2, 64, 0};
  CHECK(selective.memory(s, false).layer_saved == none.memory(s, false).layer_saved);
  // Linear in S: no (S, S) term.
  const msw_model_shape s2{sizeof(msw_model_shape), 0, 2, 128, 0};
  const double ratio = double(none.memory(s2, false).layer_saved[0]) / double(none.memory(s, false).layer_saved[0]);
  CHECK(ratio == doctest::Approx(2.0).epsilon(0.02));
}

TEST_CASE("a packed shape plans the same layer bytes as one row of the same tokens") {
  const nn::GptModel m = model(tiny());
  const msw_model_shape packed{sizeof(msw_model_shape), 1, 1, 32, 12};
  const msw_model_shape row{sizeof(msw_model_shape), 0, 1, 32, 0};
  CHECK(m.memory(packed, false).layer_saved == m.memory(row, false).layer_saved);
  const msw_model_shape bad{sizeof(msw_model_shape), 1, 2, 32, 12};
  CHECK_THROWS_WITH_AS(m.memory(bad, false), doctest::Contains("batch_size 1"), sdk::Error);
}

#include "host/inference/kv_decoder.hpp"

#include "host/core/device_copy.hpp"
#include "host/core/host_api.hpp"
#include "host/core/status.hpp"
#include "host/ops/ops_api.hpp"

#include <algorithm>
#include <cstring>
#include <string>

namespace megaswift::inference {

using host::HostBuffer;
using host::HostError;

namespace {

// `buffer` holds at least `bytes` (reallocated when smaller; contents are not kept).
void ensure(HostBuffer& buffer, const msw_device& device, uint64_t bytes) {
  if (buffer.size() < bytes) buffer = HostBuffer(device, static_cast<size_t>(bytes));
}

// `host` as a tensor on `device`: the host array itself on the CPU, else its copy in `buffer` (grown as needed).
msw_tensor on_device(HostBuffer& buffer, const msw_device& device, const void* host, int32_t dtype,
                     std::initializer_list<int64_t> shape, void* stream, const char* what);

msw_tensor tensor_over(void* data, const msw_device& device, int32_t dtype, std::initializer_list<int64_t> shape) {
  msw_tensor t{};
  t.data = data;
  t.device = device;
  t.dtype = dtype;
  const std::vector<int64_t> dims(shape);
  msw_tensor_set_dense_shape(&t, static_cast<int32_t>(dims.size()), dims.data());
  return t;
}

msw_tensor on_device(HostBuffer& buffer, const msw_device& device, const void* host, int32_t dtype,
                     std::initializer_list<int64_t> shape, void* stream, const char* what) {
  if (device.type == MSW_DEVICE_CPU) return tensor_over(const_cast<void*>(host), device, dtype, shape);
  int64_t n = 1;
  for (int64_t d : shape) n *= d;
  const size_t bytes = static_cast<size_t>(n) * msw_dtype_size(dtype);
  ensure(buffer, device, bytes);
  host::copy_to_device(device, buffer.data(), host, bytes, stream, what);
  return tensor_over(buffer.data(), device, dtype, shape);
}

}  // namespace

KvDecoder::KvDecoder(host::ModelRunner& model, int64_t rows, int64_t capacity)
    : model_(model), rows_(rows), capacity_(capacity), lengths_(static_cast<size_t>(std::max<int64_t>(rows, 0)), 0) {
  const std::string who = "model plugin '" + model.plugin_name() + "'";
  if (!(model.capabilities().flags & MSW_CAP_DECODE))
    throw HostError(MSW_STATUS_UNSUPPORTED, who + " does not declare the capability decode (layer_decode with a KV "
                                                  "cache), so it cannot generate; update the plugin or use one that does");
  if (rows <= 0 || capacity <= 0)
    throw HostError(MSW_STATUS_INVALID_ARGUMENT, "a KV cache needs at least one row and one token, got " +
                                                     std::to_string(rows) + " rows of " + std::to_string(capacity));
  const int64_t max_pos = model.info().max_position_embeddings;
  if (max_pos > 0 && capacity > max_pos)
    throw HostError(MSW_STATUS_INVALID_ARGUMENT, "the prompt plus the new tokens need " + std::to_string(capacity) +
                                                     " positions, more than the model's max_position_embeddings " +
                                                     std::to_string(max_pos) + ": shorten the prompt or lower --max_new_tokens");
  const msw_device device = model.exec_ctx().device;
  const host::ModelRunner::Memory mem = model.memory(1, 1, true, 1, true);  // bytes per token do not depend on the shape
  for (uint64_t per_token : mem.kv_bytes_per_token)
    caches_.emplace_back(device, static_cast<size_t>(per_token * static_cast<uint64_t>(capacity * rows)));
  cache_seqlens_ = HostBuffer(device, static_cast<size_t>(rows) * sizeof(int32_t), MSW_ALLOC_ZERO);
  loss_sum_ = HostBuffer(device, sizeof(double), MSW_ALLOC_ZERO);
  token_count_ = HostBuffer(device, sizeof(int64_t), MSW_ALLOC_ZERO);
}

int64_t KvDecoder::vocab_size() const { return model_.info().vocab_size; }

int64_t KvDecoder::length(int64_t row) const {
  if (row < 0 || row >= rows_) throw HostError(MSW_STATUS_INVALID_ARGUMENT, "no row " + std::to_string(row));
  return lengths_[static_cast<size_t>(row)];
}

void KvDecoder::clear(int64_t row) {
  length(row);  // range check
  lengths_[static_cast<size_t>(row)] = 0;
  const int32_t zero = 0;  // what the plugin reads next
  host::copy_to_device(model_.exec_ctx().device, static_cast<int32_t*>(cache_seqlens_.data()) + row, &zero, sizeof zero,
                       model_.exec_ctx().stream, "cache length");
}

uint64_t KvDecoder::cache_bytes() const {
  uint64_t n = 0;
  for (const auto& c : caches_) n += c.size();
  return n;
}

void KvDecoder::plan(int64_t tokens, int64_t max_new, int64_t heads) {
  const msw_device device = model_.exec_ctx().device;
  const int64_t h = model_.info().hidden_size;
  // Layers plan as under full recompute (model.h: layer_decode keeps nothing); the head runs on `heads` rows.
  const host::ModelRunner::Memory body = model_.memory(1, tokens, true, max_new, true);
  const host::ModelRunner::Memory head = model_.memory(heads, 1, false, 0, false);
  const uint64_t act = msw_dtype_size(model_.compute_dtype());  // hidden states are in the compute dtype
  const uint64_t hidden = static_cast<uint64_t>(tokens * h) * act;
  ensure(hidden_a_, device, hidden);
  ensure(hidden_b_, device, hidden);
  ensure(embedding_saved_, device, body.embedding_saved);
  ensure(head_saved_, device, head.head_saved);
  ensure(workspace_, device, std::max(body.workspace, head.workspace));
  ensure(last_hidden_, device, static_cast<uint64_t>(heads * h) * act);
  ensure(logits_, device, static_cast<uint64_t>(heads * model_.info().padded_vocab_size) * sizeof(float));
}

std::vector<std::vector<float>> KvDecoder::append(const std::vector<std::vector<int64_t>>& tokens) {
  if (static_cast<int64_t>(tokens.size()) != rows_)
    throw HostError(MSW_STATUS_INVALID_ARGUMENT, "append takes one token list per row: " + std::to_string(tokens.size()) +
                                                     " lists for " + std::to_string(rows_) + " rows");
  // The packed batch of every row's new tokens, at the positions after the row's cache.
  std::vector<int64_t> ids, positions, last_ids;
  std::vector<int32_t> cu{0};
  std::vector<int64_t> last_rows;  // row index of each head row
  int64_t max_new = 0;
  for (int64_t i = 0; i < rows_; ++i) {
    const auto& t = tokens[static_cast<size_t>(i)];
    const int64_t n = static_cast<int64_t>(t.size()), have = lengths_[static_cast<size_t>(i)];
    if (have + n > capacity_)
      throw HostError(MSW_STATUS_INVALID_ARGUMENT, "row " + std::to_string(i) + " holds " + std::to_string(have) +
                                                       " tokens and would get " + std::to_string(n) +
                                                       " more, past the KV cache's capacity of " + std::to_string(capacity_) +
                                                       " (the longest prompt plus --max_new_tokens)");
    for (int64_t j = 0; j < n; ++j) {
      ids.push_back(t[static_cast<size_t>(j)]);
      positions.push_back(have + j);
    }
    cu.push_back(static_cast<int32_t>(ids.size()));
    max_new = std::max(max_new, n);
    if (n) {
      last_rows.push_back(i);
      last_ids.push_back(t.back());
    }
  }
  std::vector<std::vector<float>> out(static_cast<size_t>(rows_));
  if (ids.empty()) return out;
  const int64_t total = static_cast<int64_t>(ids.size()), heads = static_cast<int64_t>(last_rows.size());
  plan(total, max_new, heads);

  const msw_device device = model_.exec_ctx().device;
  const msw_exec_ctx& ctx = model_.exec_ctx();
  const msw_model_vtable& vt = model_.instance().vt();
  void* self = model_.instance().self();
  const std::string who = "model " + model_.plugin_name();
  const int64_t h = model_.info().hidden_size, vp = model_.info().padded_vocab_size;

  msw_model_batch mb{};
  mb.struct_size = sizeof(mb);
  mb.packed = 1;
  mb.batch_size = 1;
  mb.seq_len = total;
  mb.input_ids = on_device(ids_, device, ids.data(), MSW_DTYPE_I64, {1, total}, ctx.stream, "decode input ids");
  mb.position_ids = on_device(positions_, device, positions.data(), MSW_DTYPE_I64, {1, total}, ctx.stream,
                              "decode positions");
  mb.cu_seqlens = on_device(cu_seqlens_, device, cu.data(), MSW_DTYPE_I32, {rows_ + 1}, ctx.stream, "decode cu_seqlens");
  mb.num_sequences = rows_;
  mb.max_seqlen = max_new;

  auto base_call = [&] {
    msw_model_call c{};
    c.struct_size = sizeof(c);
    c.batch = &mb;
    c.workspace = workspace_.bytes();
    c.training = 0;
    return c;
  };
  const int32_t act = model_.compute_dtype();
  const uint64_t act_bytes = msw_dtype_size(act);
  msw_tensor a = hidden_a_.tensor(act, {total, 1, h}), b = hidden_b_.tensor(act, {total, 1, h});
  {
    msw_model_call c = base_call();
    const auto& p = model_.part_values(MSW_MODEL_PART_EMBEDDING);
    c.params = p.data();
    c.param_count = p.size();
    c.saved = embedding_saved_.bytes();
    c.output = a;
    host::throw_if_error(vt.embedding_forward(self, &ctx, &c), who + ": embedding forward (decode)");
  }
  const msw_tensor seqlens = cache_seqlens_.tensor(MSW_DTYPE_I32, {rows_});
  for (int64_t l = 0; l < model_.info().num_layers; ++l) {
    msw_model_call c = base_call();
    const auto& p = model_.part_values(MSW_MODEL_PART_LAYER, l);
    c.layer = l;
    c.params = p.data();
    c.param_count = p.size();
    c.input = a;
    c.output = b;
    c.kv_cache = caches_[static_cast<size_t>(l)].bytes();
    c.cache_seqlens = seqlens;
    c.cache_capacity = capacity_;
    host::throw_if_error(vt.layer_decode(self, &ctx, &c), who + ": layer " + std::to_string(l) + " decode");
    std::swap(a, b);
  }

  // The last new token of each row that got tokens, gathered into [1, heads, H] for the head.
  for (int64_t k = 0; k < heads; ++k) {
    const int64_t row = cu[static_cast<size_t>(last_rows[static_cast<size_t>(k)]) + 1] - 1;
    msw_copy_args cp{};
    cp.struct_size = sizeof(cp);
    cp.src = tensor_over(a.data, device, act, {h});
    cp.src.byte_offset = static_cast<uint64_t>(row * h) * act_bytes;
    cp.dst = tensor_over(last_hidden_.data(), device, act, {h});
    cp.dst.byte_offset = static_cast<uint64_t>(k * h) * act_bytes;
    host::throw_if_error(host::ops_api().copy(&ctx, &cp), who + ": gathering the last hidden states");
  }
  msw_model_batch hb{};
  hb.struct_size = sizeof(hb);
  hb.batch_size = heads;
  hb.seq_len = 1;
  hb.input_ids = on_device(last_ids_, device, last_ids.data(), MSW_DTYPE_I64, {heads, 1}, ctx.stream, "decode last ids");
  {
    msw_model_call c = base_call();
    c.batch = &hb;
    const auto& p = model_.part_values(MSW_MODEL_PART_HEAD);
    c.params = p.data();
    c.param_count = p.size();
    c.saved = head_saved_.bytes();
    c.input = last_hidden_.tensor(act, {1, heads, h});
    c.logits = logits_.tensor(MSW_DTYPE_F32, {1, heads, vp});
    c.loss_sum = loss_sum_.tensor(MSW_DTYPE_F64, {});
    c.token_count = token_count_.tensor(MSW_DTYPE_I64, {});
    host::throw_if_error(vt.head_forward(self, &ctx, &c), who + ": head forward (decode)");
  }
  // The one host read of a step: the logits of the rows' last tokens (waits for the stream).
  std::vector<float> logits(static_cast<size_t>(heads * vp));
  host::copy_to_host(device, logits.data(), logits_.data(), logits.size() * sizeof(float), ctx.stream, "decode logits");
  const int64_t v = vocab_size();
  for (int64_t k = 0; k < heads; ++k)
    out[static_cast<size_t>(last_rows[static_cast<size_t>(k)])].assign(logits.data() + k * vp, logits.data() + k * vp + v);
  std::vector<int32_t> lens(static_cast<size_t>(rows_));
  for (int64_t i = 0; i < rows_; ++i) {
    lengths_[static_cast<size_t>(i)] += static_cast<int64_t>(tokens[static_cast<size_t>(i)].size());
    lens[static_cast<size_t>(i)] = static_cast<int32_t>(lengths_[static_cast<size_t>(i)]);
  }
  host::copy_to_device(device, cache_seqlens_.data(), lens.data(), lens.size() * sizeof(int32_t), ctx.stream,
                       "cache lengths");
  return out;
}

}  // namespace megaswift::inference

// The pieces every module of a decoder is made of: where it registers its parameters (ModuleContext), how it
// finds their tensors in a compute call (Params), the shape of the batch it runs on (Geometry), and the
// interface of a module on activations (Module).
//
// Activations are [S, B, H] as in Megatron-Core (model.h); a module sees them as T = S*B rows of H in that
// order (token t is sequence position t / B of batch row t % B). A packed batch (THD) has B = 1 and the
// sequences of cu_seqlens one after the other.
//
// Memory: a module says how many bytes it keeps from forward to backward (saved_bytes) and how much scratch
// it takes (workspace_bytes); its forward and backward carve the same saved tensors, in the same order, from
// the Arena they receive, so the sizes the model reports and the bytes it uses cannot disagree.
#pragma once

#include <megaswift/nn/arena.hpp>
#include <megaswift/nn/param_table.hpp>
#include <megaswift/nn/transformer_config.hpp>
#include <megaswift/sdk/ops.hpp>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

namespace megaswift::nn {

using ParamId = int64_t;  // index into the model's parameter table
inline constexpr ParamId kNoParam = -1;

// Where a module is being built: the model's config and parameter table, the part and layer its parameters
// belong to, and the name prefixes of that place ("decoder.layers.3." / "model.layers.3." for layer 3).
class ModuleContext {
 public:
  ModuleContext(const TransformerConfig& config, ParamTable& table, msw_model_part part, int32_t layer,
                std::string megatron_prefix, std::string hf_prefix)
      : config_(&config), table_(&table), part_(part), layer_(layer), megatron_prefix_(std::move(megatron_prefix)),
        hf_prefix_(std::move(hf_prefix)) {}

  const TransformerConfig& config() const { return *config_; }
  // The dtype of the activations this model's modules carve (the config's params_dtype).
  int32_t act_dtype() const { return config_->activation_dtype(); }
  msw_model_part part() const { return part_; }
  int32_t layer() const { return layer_; }
  std::string megatron(const std::string& suffix) const { return megatron_prefix_ + suffix; }
  std::string hf(const std::string& suffix) const { return hf_prefix_ + suffix; }

  // Megatron's init stds: weights normal(0, init_method_std); output projections (linear_proj, linear_fc2)
  // init_method_std / sqrt(2 * num_layers).
  double init_std() const { return config_->init_method_std; }
  double output_init_std() const {
    return config_->init_method_std / std::sqrt(2.0 * static_cast<double>(config_->num_layers));
  }

  // Adds a parameter of this part and layer (the spec's name is the full Megatron name) with the HF tensors
  // it is made of (none: it is not in HF checkpoints); returns its id. Parameters are listed in the order
  // they are added, which is the order of the part's `params` array.
  ParamId add(ParamSpec spec, msw_hf_transform transform, std::vector<std::string> hf_names,
              std::vector<std::vector<int64_t>> hf_shapes) {
    spec.parts |= part_bit(part_);
    spec.layer = part_ == MSW_MODEL_PART_LAYER ? layer_ : -1;
    const std::string name = spec.name;
    const ParamId id = table_->add(std::move(spec));
    if (!hf_names.empty()) table_->add_mapping(id, {name, transform, std::move(hf_names), std::move(hf_shapes)});
    return id;
  }
  // A weight matrix: normal init, weight decay.
  ParamId matrix(const std::string& megatron_name, std::vector<int64_t> shape, msw_tp_split split, int32_t split_dim,
                 double init_std, msw_hf_transform transform, std::vector<std::string> hf_names,
                 std::vector<std::vector<int64_t>> hf_shapes) {
    ParamSpec s;
    s.name = megatron_name;
    s.shape = std::move(shape);
    s.tp_split = split;
    s.tp_split_dim = split == MSW_TP_REPLICATED ? -1 : split_dim;
    s.init = MSW_INIT_NORMAL;
    s.init_std = init_std;
    s.weight_decay = true;
    return add(std::move(s), transform, std::move(hf_names), std::move(hf_shapes));
  }
  // A vector (norm weight, bias): no weight decay, as Megatron.
  ParamId vector(const std::string& megatron_name, int64_t n, msw_tp_split split, msw_param_init init,
                 msw_hf_transform transform, std::vector<std::string> hf_names,
                 std::vector<std::vector<int64_t>> hf_shapes) {
    ParamSpec s;
    s.name = megatron_name;
    s.shape = {n};
    s.tp_split = split;
    s.tp_split_dim = split == MSW_TP_REPLICATED ? -1 : 0;
    s.init = init;
    s.weight_decay = false;
    return add(std::move(s), transform, std::move(hf_names), std::move(hf_shapes));
  }
  // A parameter of another part that this part reads too (the tied word embedding in the head).
  void share(ParamId id) { table_->at(id).parts |= part_bit(part_); }

 private:
  const TransformerConfig* config_;
  ParamTable* table_;
  msw_model_part part_;
  int32_t layer_;
  std::string megatron_prefix_, hf_prefix_;
};

// The parameter ids one part call receives, in table order (the order of the call's params array).
class PartIds {
 public:
  PartIds() = default;
  PartIds(std::vector<ParamId> ids, std::string what) : ids_(std::move(ids)), what_(std::move(what)) {}
  size_t size() const { return ids_.size(); }
  const std::string& what() const { return what_; }
  // Position of `id` in the array; -1 when the part does not receive it.
  int64_t slot(ParamId id) const {
    const auto it = std::lower_bound(ids_.begin(), ids_.end(), id);
    return it != ids_.end() && *it == id ? it - ids_.begin() : -1;
  }

 private:
  std::vector<ParamId> ids_;
  std::string what_;
};

// The tensors of one compute call, looked up by parameter id.
class Params {
 public:
  Params(const PartIds& ids, const msw_model_call& call) : ids_(&ids), call_(&call) {
    if (call.param_count != ids.size() || (ids.size() && !call.params))
      throw sdk::Error(MSW_STATUS_INVALID_ARGUMENT, ids.what() + " call passes " + std::to_string(call.param_count) +
                                                        " parameters, expected " + std::to_string(ids.size()) +
                                                        " (the part's entries of the parameter table, in table order)");
    if (call.grad_count != 0 && (call.grad_count != ids.size() || !call.grads))
      throw sdk::Error(MSW_STATUS_INVALID_ARGUMENT, ids.what() + " call passes " + std::to_string(call.grad_count) +
                                                        " gradients, expected 0 or " + std::to_string(ids.size()));
  }
  const msw_tensor& operator[](ParamId id) const { return call_->params[slot(id)]; }
  // The value, or NULL for kNoParam (an optional parameter the model does not have).
  const msw_tensor* opt(ParamId id) const { return id == kNoParam ? nullptr : &(*this)[id]; }
  // The gradient to accumulate into, or NULL when no gradient is wanted or the parameter is frozen.
  const msw_tensor* grad(ParamId id) const {
    if (id == kNoParam || call_->grad_count == 0) return nullptr;
    const msw_tensor* g = &call_->grads[slot(id)];
    return msw_tensor_is_absent(g) ? nullptr : g;
  }

 private:
  size_t slot(ParamId id) const {
    const int64_t s = ids_->slot(id);
    if (s < 0) throw sdk::Error(MSW_STATUS_INTERNAL, ids_->what() + " does not receive parameter " + std::to_string(id));
    return static_cast<size_t>(s);
  }
  const PartIds* ids_;
  const msw_model_call* call_;
};

// The shape of the micro-batch a call runs on.
struct Geometry {
  int64_t s = 0;               // sequence length on this rank (T for a packed batch)
  int64_t b = 0;               // batch rows (1 for a packed batch)
  bool packed = false;         // THD: sequences delimited by cu_seqlens
  int64_t num_sequences = 0;   // packed: N
  int64_t max_seqlen = 0;      // packed: the longest sequence
  // RoPE tables with one row per token (explicit position ids, or packed sequences) instead of one per
  // position shared by the batch rows. Planning assumes they may be.
  bool per_token_positions = false;
  msw_tensor cu_seqlens{};     // packed: I32 (N+1)
  msw_tensor position_ids{};   // I64 [B, S] or absent
  msw_tensor input_ids{};      // I64 [B, S]
  msw_tensor labels{};         // I64 [B, S] or absent

  int64_t t() const { return s * b; }
  // The longest sequence attention sees.
  int64_t longest() const { return packed ? max_seqlen : s; }

  // The worst case of a batch shape, for memory().
  static Geometry planned(const msw_model_shape& shape) {
    Geometry g;
    g.packed = shape.packed != 0;
    g.b = shape.batch_size;
    g.s = shape.seq_len;
    g.max_seqlen = shape.max_seqlen > 0 ? shape.max_seqlen : shape.seq_len;
    g.per_token_positions = true;
    check(g);
    return g;
  }
  // The geometry of a call's batch, with its tensors checked: token tensors I64 [B, S] and dense, a packed
  // batch with one row and its cu_seqlens.
  static Geometry of(const msw_model_batch& batch) {
    Geometry g;
    g.packed = batch.packed != 0;
    g.b = batch.batch_size;
    g.s = batch.seq_len;
    g.num_sequences = batch.num_sequences;
    g.max_seqlen = batch.max_seqlen;
    g.cu_seqlens = batch.cu_seqlens;
    g.position_ids = batch.position_ids;
    g.input_ids = batch.input_ids;
    g.labels = batch.labels;
    g.per_token_positions = g.packed || !msw_tensor_is_absent(&batch.position_ids);
    check(g);
    if (batch.cp_size > 1)
      throw sdk::Error(MSW_STATUS_UNSUPPORTED, "the batch is split for context parallelism (cp_size " +
                                                   std::to_string(batch.cp_size) +
                                                   ") but this model does not declare the capability context_parallel");
    require_tokens(batch.input_ids, "input_ids", g, true);
    require_tokens(batch.position_ids, "position_ids", g, false);
    require_tokens(batch.labels, "labels", g, false);
    if (g.packed) {
      const msw_tensor& c = batch.cu_seqlens;
      if (g.num_sequences < 1 || c.ndim != 1 || c.dtype != MSW_DTYPE_I32 || c.shape[0] != g.num_sequences + 1)
        throw sdk::Error(MSW_STATUS_INVALID_ARGUMENT,
                         "a packed batch needs cu_seqlens int32 (num_sequences + 1) = (" +
                             std::to_string(g.num_sequences + 1) + "), got " + sdk::dtype_name(c.dtype) + " " +
                             sdk::shape_string(c));
    }
    return g;
  }

 private:
  static void check(const Geometry& g) {
    if (g.b <= 0 || g.s <= 0)
      throw sdk::Error(MSW_STATUS_INVALID_ARGUMENT, "batch_size and seq_len must be positive, got " +
                                                        std::to_string(g.b) + " and " + std::to_string(g.s));
    if (g.packed && g.b != 1)
      throw sdk::Error(MSW_STATUS_INVALID_ARGUMENT, "a packed (THD) batch has batch_size 1, got " + std::to_string(g.b));
    if (g.packed && (g.max_seqlen <= 0 || g.max_seqlen > g.s))
      throw sdk::Error(MSW_STATUS_INVALID_ARGUMENT, "a packed batch needs max_seqlen in [1, seq_len " +
                                                        std::to_string(g.s) + "], got " + std::to_string(g.max_seqlen));
  }
  static void require_tokens(const msw_tensor& t, const char* what, const Geometry& g, bool required) {
    if (msw_tensor_is_absent(&t)) {
      if (required) throw sdk::Error(MSW_STATUS_INVALID_ARGUMENT, std::string("the batch has no ") + what);
      return;
    }
    if (t.ndim != 2 || t.shape[0] != g.b || t.shape[1] != g.s || t.dtype != MSW_DTYPE_I64 || !msw_tensor_is_contiguous(&t))
      throw sdk::Error(MSW_STATUS_SHAPE_MISMATCH, std::string("batch ") + what + " is " + sdk::dtype_name(t.dtype) + " " +
                                                      sdk::shape_string(t) + ", expected dense int64 [B, S] = (" +
                                                      std::to_string(g.b) + ", " + std::to_string(g.s) + ")");
  }
};

// A layer's KV cache in a layer_decode call: N rows of `capacity` tokens, kv_bytes_per_token bytes each, row i
// at i * capacity * kv_bytes_per_token (model.h), with the tokens each row already holds.
struct KvCache {
  msw_tensor bytes{};          // U8 (N * capacity * kv_bytes_per_token)
  msw_tensor cache_seqlens{};  // I32 (N)
  int64_t rows = 0;            // N
  int64_t capacity = 0;

  // The cache of a call, checked against the layer's bytes per token and the batch's rows.
  static KvCache of(const msw_model_call& call, uint64_t bytes_per_token, int64_t rows) {
    KvCache c{call.kv_cache, call.cache_seqlens, rows, call.cache_capacity};
    const uint64_t want = bytes_per_token * static_cast<uint64_t>(rows) * static_cast<uint64_t>(std::max<int64_t>(c.capacity, 0));
    if (c.capacity <= 0 || msw_tensor_is_absent(&c.bytes) || c.bytes.dtype != MSW_DTYPE_U8 ||
        !msw_tensor_is_contiguous(&c.bytes) || static_cast<uint64_t>(msw_tensor_numel(&c.bytes)) != want)
      throw sdk::Error(MSW_STATUS_SHAPE_MISMATCH,
                       "layer_decode: kv_cache is " + std::string(sdk::dtype_name(c.bytes.dtype)) + " " +
                           sdk::shape_string(c.bytes) + " with cache_capacity " + std::to_string(c.capacity) +
                           ", expected dense u8 of kv_bytes_per_token x capacity x rows = " + std::to_string(bytes_per_token) +
                           " x " + std::to_string(c.capacity) + " x " + std::to_string(rows) + " bytes");
    const msw_tensor& l = c.cache_seqlens;
    if (l.dtype != MSW_DTYPE_I32 || l.ndim != 1 || l.shape[0] != rows)
      throw sdk::Error(MSW_STATUS_SHAPE_MISMATCH, "layer_decode: cache_seqlens is " + std::string(sdk::dtype_name(l.dtype)) +
                                                      " " + sdk::shape_string(l) + ", expected int32 (" +
                                                      std::to_string(rows) + ") = one length per cache row");
    return c;
  }
  // The bytes from `offset` on as a dense float32 tensor of `shape` (a plugin's own layout inside the cache).
  msw_tensor f32_at(uint64_t offset, std::initializer_list<int64_t> shape) const {
    msw_tensor t = sdk::make_tensor(bytes.data, MSW_DTYPE_F32, bytes.device, shape);
    t.byte_offset = bytes.byte_offset + offset;
    return t;
  }
};

// One compute call as modules see it.
struct Step {
  const sdk::Ops& ops;
  const msw_model_call& call;
  const Params& params;
  const Geometry& geo;
};

// A module on activations: (T, in) -> (T, out) rows in activation order. Norms, self-attention, MLPs and
// whole decoder layers are Modules; a plugin replaces one by subclassing it and naming the subclass in the
// layer spec (layer_spec.hpp).
class Module {
 public:
  virtual ~Module() = default;
  // Bytes forward keeps for backward (0 by default).
  virtual uint64_t saved_bytes(const Geometry&) const { return 0; }
  // Scratch bytes forward or backward takes from the workspace, whichever is more (0 by default).
  virtual uint64_t workspace_bytes(const Geometry&) const { return 0; }
  // y written from x; what backward needs is carved from `saved` (an Arena of saved_bytes).
  virtual void forward(const Step& step, Arena& saved, Arena& ws, const msw_tensor& x, const msw_tensor& y) const = 0;
  // dx written from dy (added when accumulate_dx); parameter gradients accumulate. `x` is the forward's input.
  virtual void backward(const Step& step, Arena& saved, Arena& ws, const msw_tensor& x, const msw_tensor& dy,
                        const msw_tensor& dx, bool accumulate_dx) const = 0;

  // ---- incremental decoding (layer_decode, swift infer) ----
  // KV-cache bytes per token this module keeps between decode calls (self-attention: its keys and values).
  virtual uint64_t kv_bytes_per_token() const { return 0; }
  // y written from the new tokens x, with the module's per-row state in `cache`. `saved` is scratch of
  // saved_bytes() for the tensors forward would keep (nothing outlives the call: there is no backward), so
  // decode fits the workspace memory() plans for full recompute. Modules that keep state across tokens
  // (attention) must override it; the default refuses rather than decode without the context.
  virtual void decode(const Step&, Arena&, Arena&, const KvCache&, const msw_tensor&, const msw_tensor&) const {
    throw sdk::Error(MSW_STATUS_UNSUPPORTED, "this module has no decode(): a module on the path of layer_decode that "
                                             "keeps state across tokens must implement it (or the model must not "
                                             "declare MSW_CAP_DECODE)");
  }
};

// A (T, C) view of a dense activation tensor whose rows are tokens (any leading shape).
inline msw_tensor rows_view(const msw_tensor& t, int64_t rows, int64_t cols) { return sdk::reshape(t, {rows, cols}); }

// A token tensor [B, S] (input ids, labels, position ids) in activation order (T = S*B: position-major),
// as a (T) I64 tensor: a view when B = 1, else a transposing copy into the workspace.
inline msw_tensor tokens_in_activation_order(const sdk::Ops& ops, Arena& ws, const msw_tensor& tokens, const Geometry& g) {
  if (g.b == 1) return sdk::reshape(tokens, {g.t()});
  msw_tensor transposed = tokens;  // (S, B) view of the [B, S] tensor
  transposed.shape[0] = g.s;
  transposed.shape[1] = g.b;
  transposed.strides[0] = tokens.strides[1];
  transposed.strides[1] = tokens.strides[0];
  const msw_tensor out = ws.i64({g.s, g.b});
  ops.copy(transposed, out);
  return sdk::reshape(out, {g.t()});
}
// Workspace bytes tokens_in_activation_order takes.
inline void declare_tokens_in_activation_order(Arena& ws, const Geometry& g) {
  if (g.b != 1) ws.i64({g.s, g.b});
}

}  // namespace megaswift::nn

// C++ layer for model plugins: derive from Model, construct from the transformer config JSON text, provide
// two static functions for part 1, and register with model_component<T>(). See megaswift/c/model.h for the
// contract (ownership, the host-allocated saved/workspace buffers, gradient accumulation, [S, B, H]).
//
//   class MyModel : public megaswift::sdk::Model {
//    public:
//     explicit MyModel(std::string_view transformer_config_json);
//     static const char* const* hf_model_types();                      // {"my_type", nullptr}
//     static std::string config_from_hf(std::string_view hf_config);   // HF config.json -> transformer config
//     ... the pure virtual methods below ...
//     // optional (ABI 2.1): void layer_decode(const msw_exec_ctx&, const msw_model_call&);
//   };
//   MEGASWIFT_PLUGIN("mine", "0.1.0", megaswift::sdk::model_component<MyModel>("mine", "0.1.0", "My models"))
//
// megaswift/nn/gpt_model.hpp implements every method for Llama-style decoders, built from a layer spec
// (megaswift/nn/layer_spec.hpp) whose submodules a plugin may replace.
//
// The trampolines generated here:
//   - catch every exception (guard), also in the entries that return no status: param_count and
//     hf_mapping_count return -1 and hf_model_types an empty list, with the reason logged through the host;
//   - read records and args structs written by a caller of another minor through their struct_size (the
//     members past it are read as zero), and write records only within the caller's struct_size;
//   - wire layer_decode only when T declares it, and refuse MSW_CAP_DECODE without it.
#pragma once

#include <megaswift/c/model.h>
#include <megaswift/sdk/buffer.hpp>
#include <megaswift/sdk/object.hpp>
#include <megaswift/sdk/plugin.hpp>
#include <megaswift/sdk/records.hpp>

#include <algorithm>
#include <cstring>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

namespace megaswift::sdk {

// What memory() reports for one batch shape (msw_model_memory without the caller's arrays).
struct ModelMemory {
  uint64_t embedding_saved = 0;
  uint64_t head_saved = 0;
  uint64_t workspace = 0;
  std::vector<uint64_t> layer_saved;         // one entry per layer
  std::vector<uint64_t> kv_bytes_per_token;  // one entry per layer (0: the layer keeps no KV cache)
};

class Model {
 public:
  virtual ~Model() = default;

  // ---- part 1 ----
  virtual msw_model_info describe() const = 0;
  virtual msw_model_caps capabilities() const = 0;
  virtual const std::string& config_json() const = 0;
  virtual std::string config_to_hf() const {
    throw Error(MSW_STATUS_UNSUPPORTED, "this model plugin cannot write an HF config.json");
  }

  // ---- part 2 ----
  virtual int64_t param_count() const = 0;
  virtual msw_param_info param_info(int64_t index) const = 0;
  virtual int64_t hf_mapping_count() const = 0;
  // The record's strings and msw_hf_tensor array are the instance's (valid until destroy).
  virtual msw_hf_mapping hf_mapping(int64_t index) const = 0;
  virtual void hf_to_megatron(int64_t index, const msw_tensor* hf, size_t hf_count, const msw_tensor& out) const = 0;
  virtual void megatron_to_hf(int64_t index, const msw_tensor& megatron, const msw_tensor* hf, size_t hf_count) const = 0;

  // ---- part 3 ----
  // recompute_full: the layers run under full recompute (model.h, msw_model_memory_args).
  virtual ModelMemory memory(const msw_model_shape& shape, bool recompute_full) const = 0;
  // `call` and `*call.batch` are full-size copies: members the caller's minor lacks read as zero.
  virtual void embedding_forward(const msw_exec_ctx& ctx, const msw_model_call& call) = 0;
  virtual void embedding_backward(const msw_exec_ctx& ctx, const msw_model_call& call) = 0;
  virtual void layer_forward(const msw_exec_ctx& ctx, const msw_model_call& call) = 0;
  virtual void layer_backward(const msw_exec_ctx& ctx, const msw_model_call& call) = 0;
  virtual void head_forward(const msw_exec_ctx& ctx, const msw_model_call& call) = 0;
  virtual void head_backward(const msw_exec_ctx& ctx, const msw_model_call& call) = 0;
};

namespace detail {

// A model call with its batch, both read through their struct_size; call.batch points at `batch`.
struct CallCopy {
  msw_model_call call{};
  msw_model_batch batch{};
  CallCopy(const msw_exec_ctx* ctx, const msw_model_call* in, const char* entry) {
    if (!ctx) throw Error(MSW_STATUS_INVALID_ARGUMENT, std::string(entry) + ": ctx is NULL");
    call = read_record(in, (std::string(entry) + ": call").c_str());
    batch = read_record(call.batch, (std::string(entry) + ": call->batch").c_str());
    call.batch = &batch;
  }
  CallCopy(const CallCopy&) = delete;
  CallCopy& operator=(const CallCopy&) = delete;
};

template <class T>
const T& const_self(const void* self) {
  if (!self) throw Error(MSW_STATUS_INVALID_ARGUMENT, "method called on a NULL instance");
  return *static_cast<const T*>(self);
}

template <class T, class = void>
struct has_layer_decode : std::false_type {};
template <class T>
struct has_layer_decode<T, std::void_t<decltype(std::declval<T&>().layer_decode(std::declval<const msw_exec_ctx&>(),
                                                                              std::declval<const msw_model_call&>()))>>
    : std::true_type {};

template <class T>
struct ModelTrampolines {
  static const char* const* hf_model_types() noexcept {
    static const char* const none[] = {nullptr};
    const char* const* types =
        guard_value<const char* const*>(none, "model hf_model_types", [] { return T::hf_model_types(); });
    return types ? types : none;
  }
  static msw_status* config_from_hf(const char* hf, char* out, size_t capacity, size_t* needed) noexcept {
    return guard([&] {
      if (!hf) throw Error(MSW_STATUS_INVALID_ARGUMENT, "config_from_hf: hf_config_json is NULL");
      write_text(T::config_from_hf(hf), out, capacity, needed, "config_from_hf");
    });
  }
  static msw_status* describe(const void* self, msw_model_info* out) noexcept {
    return guard([&] { write_record(out, const_self<T>(self).describe(), "describe"); });
  }
  static msw_status* capabilities(const void* self, msw_model_caps* out) noexcept {
    return guard([&] {
      msw_model_caps caps = const_self<T>(self).capabilities();
      if ((caps.flags & MSW_CAP_DECODE) && !has_layer_decode<T>::value)
        throw Error(MSW_STATUS_INTERNAL, "the model declares MSW_CAP_DECODE but its class has no layer_decode");
      write_record(out, caps, "capabilities");
    });
  }
  static msw_status* config_json(const void* self, char* out, size_t capacity, size_t* needed) noexcept {
    return guard([&] { write_text(const_self<T>(self).config_json(), out, capacity, needed, "config_json"); });
  }
  static msw_status* config_to_hf(const void* self, char* out, size_t capacity, size_t* needed) noexcept {
    return guard([&] { write_text(const_self<T>(self).config_to_hf(), out, capacity, needed, "config_to_hf"); });
  }
  static int64_t param_count(const void* self) noexcept {
    return guard_value<int64_t>(-1, "model param_count", [&] { return const_self<T>(self).param_count(); });
  }
  static msw_status* param_info(const void* self, int64_t index, msw_param_info* out) noexcept {
    return guard([&] { write_record(out, const_self<T>(self).param_info(index), "param_info"); });
  }
  static int64_t hf_mapping_count(const void* self) noexcept {
    return guard_value<int64_t>(-1, "model hf_mapping_count", [&] { return const_self<T>(self).hf_mapping_count(); });
  }
  static msw_status* hf_mapping(const void* self, int64_t index, msw_hf_mapping* out) noexcept {
    return guard([&] { write_record(out, const_self<T>(self).hf_mapping(index), "hf_mapping"); });
  }
  static msw_status* hf_to_megatron(const void* self, int64_t index, const msw_tensor* hf, size_t hf_count,
                                    const msw_tensor* out) noexcept {
    return guard([&] {
      if ((!hf && hf_count) || !out) throw Error(MSW_STATUS_INVALID_ARGUMENT, "hf_to_megatron: a tensor argument is NULL");
      const_self<T>(self).hf_to_megatron(index, hf, hf_count, *out);
    });
  }
  static msw_status* megatron_to_hf(const void* self, int64_t index, const msw_tensor* megatron, const msw_tensor* hf,
                                    size_t hf_count) noexcept {
    return guard([&] {
      if ((!hf && hf_count) || !megatron)
        throw Error(MSW_STATUS_INVALID_ARGUMENT, "megatron_to_hf: a tensor argument is NULL");
      const_self<T>(self).megatron_to_hf(index, *megatron, hf, hf_count);
    });
  }
  static msw_status* memory(const void* self, const msw_model_memory_args* args, msw_model_memory* out) noexcept {
    return guard([&] {
      const msw_model_memory_args a = read_record(args, "memory: args");
      const msw_model_shape shape = read_record(a.shape, "memory: args->shape");
      const ModelMemory m = const_self<T>(self).memory(shape, a.recompute_full != 0);
      if (!out) throw Error(MSW_STATUS_INVALID_ARGUMENT, "memory: out is NULL");
      // The arrays are the caller's: read where they are before writing the scalars.
      const msw_model_memory in = read_record(out, "memory: out");
      if (in.layer_count < m.layer_saved.size() || (!in.layer_saved && !m.layer_saved.empty()))
        throw Error(MSW_STATUS_INVALID_ARGUMENT, "memory: out->layer_saved must hold num_layers (" +
                                                     std::to_string(m.layer_saved.size()) + ") entries, got " +
                                                     std::to_string(in.layer_count));
      std::copy(m.layer_saved.begin(), m.layer_saved.end(), in.layer_saved);
      if (in.kv_bytes_per_token) std::copy(m.kv_bytes_per_token.begin(), m.kv_bytes_per_token.end(), in.kv_bytes_per_token);
      msw_model_memory r = in;
      r.embedding_saved = m.embedding_saved;
      r.head_saved = m.head_saved;
      r.workspace = m.workspace;
      write_record(out, r, "memory");
    });
  }
  // One trampoline per compute entry: the call is read through its struct_size first. (An enum rather than
  // a member pointer: T's methods may be declared in a base class such as nn::GptModel.)
  enum class Entry { embedding_forward, embedding_backward, layer_forward, layer_backward, head_forward, head_backward,
                     layer_decode };
  template <Entry E>
  static msw_status* compute(void* self, const msw_exec_ctx* ctx, const msw_model_call* call) noexcept {
    return guard([&] {
      const CallCopy c(ctx, call, entry_name(E));
      T& m = self_cast<T>(self);
      if constexpr (E == Entry::embedding_forward) m.embedding_forward(*ctx, c.call);
      if constexpr (E == Entry::embedding_backward) m.embedding_backward(*ctx, c.call);
      if constexpr (E == Entry::layer_forward) m.layer_forward(*ctx, c.call);
      if constexpr (E == Entry::layer_backward) m.layer_backward(*ctx, c.call);
      if constexpr (E == Entry::head_forward) m.head_forward(*ctx, c.call);
      if constexpr (E == Entry::head_backward) m.head_backward(*ctx, c.call);
      if constexpr (E == Entry::layer_decode) m.layer_decode(*ctx, c.call);
    });
  }
  static constexpr const char* entry_name(Entry e) {
    switch (e) {
      case Entry::embedding_forward: return "embedding_forward";
      case Entry::embedding_backward: return "embedding_backward";
      case Entry::layer_forward: return "layer_forward";
      case Entry::layer_backward: return "layer_backward";
      case Entry::head_forward: return "head_forward";
      case Entry::head_backward: return "head_backward";
      case Entry::layer_decode: return "layer_decode";
    }
    return "model compute call";
  }

  static const msw_model_vtable& vtable() {
    static const msw_model_vtable vt = [] {
      msw_model_vtable v{};
      v.struct_size = sizeof(msw_model_vtable);
      v.hf_model_types = hf_model_types;
      v.config_from_hf = config_from_hf;
      v.create = create_instance<T>;
      v.destroy = destroy_instance<T>;
      v.describe = describe;
      v.capabilities = capabilities;
      v.config_json = config_json;
      v.config_to_hf = config_to_hf;
      v.param_count = param_count;
      v.param_info = param_info;
      v.hf_mapping_count = hf_mapping_count;
      v.hf_mapping = hf_mapping;
      v.hf_to_megatron = hf_to_megatron;
      v.megatron_to_hf = megatron_to_hf;
      v.memory = memory;
      v.embedding_forward = compute<Entry::embedding_forward>;
      v.embedding_backward = compute<Entry::embedding_backward>;
      v.layer_forward = compute<Entry::layer_forward>;
      v.layer_backward = compute<Entry::layer_backward>;
      v.head_forward = compute<Entry::head_forward>;
      v.head_backward = compute<Entry::head_backward>;
      if constexpr (has_layer_decode<T>::value) v.layer_decode = compute<Entry::layer_decode>;
      return v;
    }();
    return vt;
  }
};

}  // namespace detail

template <class T>
msw_component model_component(const char* name, const char* version, const char* summary) {
  static_assert(std::is_base_of_v<Model, T>, "T must derive from megaswift::sdk::Model");
  return make_component(MSW_KIND_MODEL, name, version, summary, &detail::ModelTrampolines<T>::vtable());
}

}  // namespace megaswift::sdk

// C++ layer for model plugins: derive from Model, construct from the transformer config JSON text, provide
// two static functions for part 1, and register with model_component<T>(). See megaswift/c/model.h for the
// contract (ownership, the host-allocated saved/workspace buffers, gradient accumulation).
//
//   class MyModel : public megaswift::sdk::Model {
//    public:
//     explicit MyModel(std::string_view transformer_config_json);
//     static const char* const* hf_model_types();                      // {"my_type", nullptr}
//     static std::string config_from_hf(std::string_view hf_config);   // HF config.json -> transformer config
//     ... the pure virtual methods below ...
//   };
//   MEGASWIFT_PLUGIN("mine", "0.1.0", megaswift::sdk::model_component<MyModel>("mine", "0.1.0", "My models"))
//
// megaswift/nn/gpt_model.hpp implements every method for Llama-style decoders.
#pragma once

#include <megaswift/c/model.h>
#include <megaswift/sdk/object.hpp>
#include <megaswift/sdk/plugin.hpp>

#include <cstring>
#include <string>
#include <string_view>
#include <type_traits>

namespace megaswift::sdk {

class Model {
 public:
  virtual ~Model() = default;

  // part 1
  virtual msw_model_info describe() const = 0;
  virtual const std::string& config_json() const = 0;
  virtual std::string config_to_hf() const {
    throw Error(MSW_STATUS_UNSUPPORTED, "this model plugin cannot write an HF config.json");
  }

  // part 2
  virtual int64_t param_count() const = 0;
  virtual msw_param_info param_info(int64_t index) const = 0;
  virtual int64_t hf_mapping_count() const = 0;
  virtual msw_hf_mapping hf_mapping(int64_t index) const = 0;
  virtual void hf_to_megatron(int64_t index, const msw_tensor* hf, const msw_tensor& out) const = 0;
  virtual void megatron_to_hf(int64_t index, const msw_tensor& megatron, const msw_tensor* hf) const = 0;

  // part 3
  virtual msw_model_memory memory(const msw_model_shape& shape) const = 0;
  virtual void embedding_forward(const msw_exec_ctx& ctx, const msw_model_batch& batch, const msw_tensor* params,
                                 const msw_tensor& saved, const msw_tensor& workspace, const msw_tensor& hidden) = 0;
  virtual void embedding_backward(const msw_exec_ctx& ctx, const msw_model_batch& batch, const msw_tensor* params,
                                  const msw_tensor& saved, const msw_tensor& workspace, const msw_tensor& d_hidden,
                                  const msw_tensor* grads) = 0;
  virtual void layer_forward(const msw_exec_ctx& ctx, int64_t layer, const msw_model_batch& batch,
                             const msw_tensor* params, const msw_tensor& x, const msw_tensor& saved,
                             const msw_tensor& workspace, const msw_tensor& y) = 0;
  virtual void layer_backward(const msw_exec_ctx& ctx, int64_t layer, const msw_model_batch& batch,
                              const msw_tensor* params, const msw_tensor& x, const msw_tensor& saved,
                              const msw_tensor& workspace, const msw_tensor& dy, const msw_tensor& dx,
                              const msw_tensor* grads) = 0;
  virtual msw_model_loss head_forward(const msw_exec_ctx& ctx, const msw_model_batch& batch, const msw_tensor* params,
                                      const msw_tensor& hidden, const msw_tensor& saved, const msw_tensor& workspace,
                                      const msw_tensor* logits) = 0;
  virtual void head_backward(const msw_exec_ctx& ctx, const msw_model_batch& batch, const msw_tensor* params,
                             const msw_tensor& hidden, const msw_tensor& saved, const msw_tensor& workspace,
                             double loss_scale, const msw_tensor& d_hidden, const msw_tensor* grads) = 0;
};

namespace detail {

// The buffer protocol of model.h: *needed = size with NUL; writes only when it fits.
inline void write_text(const std::string& text, char* out, size_t capacity, size_t* needed) {
  if (!needed) throw Error(MSW_STATUS_INVALID_ARGUMENT, "needed is NULL");
  *needed = text.size() + 1;
  if (out && capacity >= *needed) std::memcpy(out, text.c_str(), *needed);
}

// A zero-byte buffer stands in for a NULL saved/workspace pointer (a part that keeps nothing).
inline const msw_tensor& buffer_or_empty(const msw_tensor* t) {
  static const msw_tensor empty = [] {
    msw_tensor e{};
    e.dtype = MSW_DTYPE_U8;
    e.ndim = 1;
    e.device = {MSW_DEVICE_CPU, 0};
    return e;
  }();
  return t ? *t : empty;
}

inline void require_args(const void* a, const void* b, const char* what) {
  if (!a || !b) throw Error(MSW_STATUS_INVALID_ARGUMENT, std::string(what) + ": a required argument is NULL");
}

template <class T>
struct ModelTrampolines {
  static const char* const* hf_model_types() noexcept { return T::hf_model_types(); }
  static msw_status* config_from_hf(const char* hf, char* out, size_t capacity, size_t* needed) noexcept {
    return guard([&] {
      if (!hf) throw Error(MSW_STATUS_INVALID_ARGUMENT, "config_from_hf: hf_config_json is NULL");
      write_text(T::config_from_hf(hf), out, capacity, needed);
    });
  }
  static msw_status* describe(const void* self, msw_model_info* out) noexcept {
    return guard([&] {
      require_args(self, out, "describe");
      *out = static_cast<const T*>(self)->describe();
    });
  }
  static const char* config_json(const void* self) noexcept {
    return self ? static_cast<const T*>(self)->config_json().c_str() : "";
  }
  static msw_status* config_to_hf(const void* self, char* out, size_t capacity, size_t* needed) noexcept {
    return guard([&] {
      require_args(self, needed, "config_to_hf");
      write_text(static_cast<const T*>(self)->config_to_hf(), out, capacity, needed);
    });
  }
  static int64_t param_count(const void* self) noexcept {
    return self ? static_cast<const T*>(self)->param_count() : 0;
  }
  static msw_status* param_info(const void* self, int64_t index, msw_param_info* out) noexcept {
    return guard([&] {
      require_args(self, out, "param_info");
      *out = static_cast<const T*>(self)->param_info(index);
    });
  }
  static int64_t hf_mapping_count(const void* self) noexcept {
    return self ? static_cast<const T*>(self)->hf_mapping_count() : 0;
  }
  static msw_status* hf_mapping(const void* self, int64_t index, msw_hf_mapping* out) noexcept {
    return guard([&] {
      require_args(self, out, "hf_mapping");
      *out = static_cast<const T*>(self)->hf_mapping(index);
    });
  }
  static msw_status* hf_to_megatron(const void* self, int64_t index, const msw_tensor* hf, const msw_tensor* out) noexcept {
    return guard([&] {
      require_args(self, hf, "hf_to_megatron");
      require_args(out, out, "hf_to_megatron");
      static_cast<const T*>(self)->hf_to_megatron(index, hf, *out);
    });
  }
  static msw_status* megatron_to_hf(const void* self, int64_t index, const msw_tensor* megatron,
                                    const msw_tensor* hf) noexcept {
    return guard([&] {
      require_args(self, megatron, "megatron_to_hf");
      require_args(hf, hf, "megatron_to_hf");
      static_cast<const T*>(self)->megatron_to_hf(index, *megatron, hf);
    });
  }
  static msw_status* memory(const void* self, const msw_model_shape* shape, msw_model_memory* out) noexcept {
    return guard([&] {
      require_args(self, shape, "memory");
      require_args(out, out, "memory");
      *out = static_cast<const T*>(self)->memory(*shape);
    });
  }
  static msw_status* embedding_forward(void* self, const msw_exec_ctx* ctx, const msw_model_batch* batch,
                                       const msw_tensor* params, const msw_tensor* saved, const msw_tensor* ws,
                                       const msw_tensor* hidden) noexcept {
    return guard([&] {
      require_args(ctx, batch, "embedding_forward");
      require_args(params, hidden, "embedding_forward");
      self_cast<T>(self).embedding_forward(*ctx, *batch, params, buffer_or_empty(saved), buffer_or_empty(ws), *hidden);
    });
  }
  static msw_status* embedding_backward(void* self, const msw_exec_ctx* ctx, const msw_model_batch* batch,
                                        const msw_tensor* params, const msw_tensor* saved, const msw_tensor* ws,
                                        const msw_tensor* d_hidden, const msw_tensor* grads) noexcept {
    return guard([&] {
      require_args(ctx, batch, "embedding_backward");
      require_args(params, d_hidden, "embedding_backward");
      self_cast<T>(self).embedding_backward(*ctx, *batch, params, buffer_or_empty(saved), buffer_or_empty(ws),
                                            *d_hidden, grads);
    });
  }
  static msw_status* layer_forward(void* self, const msw_exec_ctx* ctx, int64_t layer, const msw_model_batch* batch,
                                   const msw_tensor* params, const msw_tensor* x, const msw_tensor* saved,
                                   const msw_tensor* ws, const msw_tensor* y) noexcept {
    return guard([&] {
      require_args(ctx, batch, "layer_forward");
      require_args(params, x, "layer_forward");
      require_args(y, y, "layer_forward");
      self_cast<T>(self).layer_forward(*ctx, layer, *batch, params, *x, buffer_or_empty(saved), buffer_or_empty(ws), *y);
    });
  }
  static msw_status* layer_backward(void* self, const msw_exec_ctx* ctx, int64_t layer, const msw_model_batch* batch,
                                    const msw_tensor* params, const msw_tensor* x, const msw_tensor* saved,
                                    const msw_tensor* ws, const msw_tensor* dy, const msw_tensor* dx,
                                    const msw_tensor* grads) noexcept {
    return guard([&] {
      require_args(ctx, batch, "layer_backward");
      require_args(params, x, "layer_backward");
      require_args(dy, dx, "layer_backward");
      self_cast<T>(self).layer_backward(*ctx, layer, *batch, params, *x, buffer_or_empty(saved), buffer_or_empty(ws),
                                        *dy, *dx, grads);
    });
  }
  static msw_status* head_forward(void* self, const msw_exec_ctx* ctx, const msw_model_batch* batch,
                                  const msw_tensor* params, const msw_tensor* hidden, const msw_tensor* saved,
                                  const msw_tensor* ws, const msw_tensor* logits, msw_model_loss* loss) noexcept {
    return guard([&] {
      require_args(ctx, batch, "head_forward");
      require_args(params, hidden, "head_forward");
      msw_model_loss l = self_cast<T>(self).head_forward(*ctx, *batch, params, *hidden, buffer_or_empty(saved),
                                                         buffer_or_empty(ws), logits);
      if (loss) *loss = l;
    });
  }
  static msw_status* head_backward(void* self, const msw_exec_ctx* ctx, const msw_model_batch* batch,
                                   const msw_tensor* params, const msw_tensor* hidden, const msw_tensor* saved,
                                   const msw_tensor* ws, double loss_scale, const msw_tensor* d_hidden,
                                   const msw_tensor* grads) noexcept {
    return guard([&] {
      require_args(ctx, batch, "head_backward");
      require_args(params, hidden, "head_backward");
      require_args(d_hidden, d_hidden, "head_backward");
      self_cast<T>(self).head_backward(*ctx, *batch, params, *hidden, buffer_or_empty(saved), buffer_or_empty(ws),
                                       loss_scale, *d_hidden, grads);
    });
  }

  static constexpr msw_model_vtable vtable = {
      sizeof(msw_model_vtable), hf_model_types,     config_from_hf,     create_instance<T>, destroy_instance<T>,
      describe,                 config_json,        config_to_hf,       param_count,        param_info,
      hf_mapping_count,         hf_mapping,         hf_to_megatron,     megatron_to_hf,     memory,
      embedding_forward,        embedding_backward, layer_forward,      layer_backward,     head_forward,
      head_backward};
};

}  // namespace detail

template <class T>
msw_component model_component(const char* name, const char* version, const char* summary) {
  static_assert(std::is_base_of_v<Model, T>, "T must derive from megaswift::sdk::Model");
  return make_component(MSW_KIND_MODEL, name, version, summary, &detail::ModelTrampolines<T>::vtable);
}

}  // namespace megaswift::sdk

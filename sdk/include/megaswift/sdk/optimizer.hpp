// C++ layer for optimizer plugins: derive from Optimizer, construct from the config JSON text, and
// register with optimizer_component<T>(). See megaswift/c/optimizer.h for the contract.
#pragma once

#include <megaswift/c/optimizer.h>
#include <megaswift/sdk/object.hpp>
#include <megaswift/sdk/plugin.hpp>

#include <string_view>
#include <type_traits>

namespace megaswift::sdk {

class Optimizer {
 public:
  virtual ~Optimizer() = default;
  // Number and names of per-parameter state tensors (Adam: exp_avg, exp_avg_sq).
  virtual int32_t state_count() const = 0;
  virtual const char* state_name(int32_t index) const = 0;
  // One update of every parameter in args, in place.
  virtual void step(const msw_exec_ctx& ctx, const msw_optimizer_step_args& args) = 0;
};

namespace detail {
template <class T>
struct OptimizerTrampolines {
  static int32_t state_count(const void* self) noexcept { return static_cast<const T*>(self)->state_count(); }
  static const char* state_name(const void* self, int32_t index) noexcept {
    return static_cast<const T*>(self)->state_name(index);
  }
  static msw_status* step(void* self, const msw_exec_ctx* ctx, const msw_optimizer_step_args* args) noexcept {
    return guard([&] {
      if (!ctx || !args) throw Error(MSW_STATUS_INVALID_ARGUMENT, "optimizer step: ctx and args must not be NULL");
      self_cast<T>(self).step(*ctx, *args);
    });
  }
  static constexpr msw_optimizer_vtable vtable = {sizeof(msw_optimizer_vtable), create_instance<T>,
                                                  destroy_instance<T>,          state_count,
                                                  state_name,                   step};
};
}  // namespace detail

template <class T>
msw_component optimizer_component(const char* name, const char* version, const char* summary) {
  static_assert(std::is_base_of_v<Optimizer, T>, "T must derive from megaswift::sdk::Optimizer");
  return make_component(MSW_KIND_OPTIMIZER, name, version, summary, &detail::OptimizerTrampolines<T>::vtable);
}

}  // namespace megaswift::sdk

// Trampolines shared by every plugin kind whose components create instances.
//
// Each kind's C vtable has
//     msw_status* (*create)(const char* config_json, void** out_self);   // required
//     void (*destroy)(void* self);                                       // required
// and instance methods taking `void* self` first. For a C++ class T constructible from the config
// JSON text (std::string_view), create_instance<T> and destroy_instance<T> fill those two entries;
// self_cast<T> recovers the object inside a method trampoline.
#pragma once

#include <megaswift/sdk/status.hpp>

#include <exception>
#include <memory>
#include <string_view>

namespace megaswift::sdk {

template <class T>
msw_status* create_instance(const char* config_json, void** out_self) noexcept {
  if (!out_self) return detail::g_host->status_new(MSW_STATUS_INVALID_ARGUMENT, "create: out_self is NULL");
  return guard([&] {
    auto object = std::make_unique<T>(std::string_view(config_json ? config_json : "{}"));
    *out_self = object.release();
  });
}

// A destructor declared noexcept(false) may throw; it must not cross the C boundary either.
template <class T>
void destroy_instance(void* self) noexcept {
  try {
    delete static_cast<T*>(self);
  } catch (const std::exception& e) {
    detail::log_swallowed("destroy", e.what());
  } catch (...) {
    detail::log_swallowed("destroy", "an exception that is not a std::exception");
  }
}

template <class T>
T& self_cast(void* self) {
  if (!self) throw Error(MSW_STATUS_INVALID_ARGUMENT, "method called on a NULL instance");
  return *static_cast<T*>(self);
}

// The same for the entries that take `const void* self`.
template <class T>
const T& self_cast_const(const void* self) {
  if (!self) throw Error(MSW_STATUS_INVALID_ARGUMENT, "method called on a NULL instance");
  return *static_cast<const T*>(self);
}

}  // namespace megaswift::sdk

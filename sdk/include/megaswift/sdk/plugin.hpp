// MEGASWIFT_PLUGIN(name, version, components...) generates the one exported entry symbol.
//
//   MEGASWIFT_PLUGIN("qwen2", "0.1.0",
//                    megaswift::sdk::model_component<Qwen2Model>("qwen2", "0.1.0", "Qwen2 and Qwen2.5"))
//
// The generated msw_plugin_entry checks the host's ABI (refusing another major or an older minor,
// with both versions in the message), remembers the host table for host(), and returns a static
// descriptor listing the components. Each *_component<T>() helper lives in the header of its kind
// (model.hpp, tokenizer.hpp, ...) and builds a static vtable of noexcept trampolines for T.
#pragma once

#include <megaswift/c/plugin.h>
#include <megaswift/sdk/status.hpp>

#include <array>
#include <string>

namespace megaswift::sdk {

// Builds the component record for a static vtable; used by every kind's *_component<T>() helper.
template <class VTable>
msw_component make_component(msw_plugin_kind kind, const char* name, const char* version, const char* summary,
                             const VTable* vtable) {
  msw_component c{};
  c.struct_size = sizeof(msw_component);
  c.kind = kind;
  c.name = name;
  c.version = version;
  c.summary = summary;
  c.vtable = vtable;
  return c;
}

namespace detail {

inline std::string abi_string(uint32_t major, uint32_t minor) {
  return std::to_string(major) + "." + std::to_string(minor);
}

// Shared body of every generated entry symbol. `make_components` returns a std::array of
// msw_component and runs once per process.
template <class MakeComponents>
const msw_plugin_desc* plugin_entry(const msw_host_api* h, msw_status** status, const char* name,
                                    const char* version, MakeComponents make_components) noexcept {
  if (!h) return nullptr;
  if (h->abi_major != MSW_ABI_MAJOR || static_cast<int64_t>(h->abi_minor) < static_cast<int64_t>(MSW_ABI_MINOR)) {
    if (status) {
      std::string m = std::string("plugin '") + name + "' needs Megaswift ABI " +
                      abi_string(MSW_ABI_MAJOR, MSW_ABI_MINOR) + " but the host provides ABI " +
                      abi_string(h->abi_major, h->abi_minor) + ": " +
                      (h->abi_major != MSW_ABI_MAJOR ? "rebuild the plugin against the host's SDK"
                                                     : "upgrade Megaswift or rebuild the plugin against its SDK");
      *status = h->status_new(MSW_STATUS_VERSION_MISMATCH, m.c_str());
    }
    return nullptr;
  }
  g_host = h;
  try {
    static const auto components = make_components();
    static const msw_plugin_desc desc = [&] {
      msw_plugin_desc d{};
      d.struct_size = sizeof(msw_plugin_desc);
      d.abi_major = MSW_ABI_MAJOR;
      d.abi_minor = MSW_ABI_MINOR;
      d.name = name;
      d.version = version;
      d.components = components.data();
      d.num_components = static_cast<uint32_t>(components.size());
      return d;
    }();
    return &desc;
  } catch (const std::exception& e) {
    if (status) *status = h->status_new(MSW_STATUS_INTERNAL, e.what());
    return nullptr;
  }
}

}  // namespace detail
}  // namespace megaswift::sdk

#define MEGASWIFT_PLUGIN(NAME, VERSION, ...)                                                               \
  extern "C" MSW_EXPORT const msw_plugin_desc* msw_plugin_entry(const msw_host_api* host,                 \
                                                                 msw_status** status) {                   \
    return ::megaswift::sdk::detail::plugin_entry(host, status, NAME, VERSION,                            \
                                                  [] { return std::array{__VA_ARGS__}; });                                   \
  }

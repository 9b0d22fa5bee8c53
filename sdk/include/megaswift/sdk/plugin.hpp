// MEGASWIFT_PLUGIN(name, version, components...) generates the one exported entry symbol.
//
//   MEGASWIFT_PLUGIN("qwen2", "0.1.0",
//                    megaswift::sdk::model_component<Qwen2Model>("qwen2", "0.1.0", "Qwen2 and Qwen2.5"))
//
// The generated msw_plugin_entry applies the version rule of docs/abi.md: it refuses a host of another
// major, or one whose minor is older than the minor the plugin TARGETS (MSW_PLUGIN_TARGET_MINOR, default
// 0; define it before including the SDK to rely on a later minor), with both versions in the message. A
// plugin built with this SDK therefore runs on every host of the same major from its target minor on; it
// checks MSW_HOST_HAS before using a host entry newer than its target. The entry remembers the host table
// for host() and returns a static descriptor listing the components. Each *_component<T>() helper lives
// in the header of its kind (model.hpp, tokenizer.hpp, ...) and builds a static vtable of noexcept
// trampolines for T.
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

// Why a host is refused, or "" when the plugin runs on it.
inline std::string host_refusal(const msw_host_api& h, const char* name, uint32_t target_minor) {
  const std::string plugin = std::string("plugin '") + name + "' (built with SDK " +
                             abi_string(MSW_ABI_MAJOR, MSW_ABI_MINOR) + ")";
  if (h.abi_major != MSW_ABI_MAJOR)
    return plugin + " needs a host of Megaswift ABI " + std::to_string(MSW_ABI_MAJOR) + ".x but the host provides " +
           "ABI " + abi_string(h.abi_major, h.abi_minor) + ": rebuild the plugin against the host's SDK";
  if (h.abi_minor < target_minor)
    return plugin + " targets Megaswift ABI " + abi_string(MSW_ABI_MAJOR, target_minor) +
           " but the host provides ABI " + abi_string(h.abi_major, h.abi_minor) + ": upgrade Megaswift to ABI " +
           abi_string(MSW_ABI_MAJOR, target_minor) + " or newer, or rebuild the plugin with a lower " +
           "MSW_PLUGIN_TARGET_MINOR (checking MSW_HOST_HAS before using newer host entries)";
  return "";
}

// Shared body of every generated entry symbol. `make_components` returns a std::array of msw_component
// and runs once per process. Nothing may throw out of it: it is called from C.
template <class MakeComponents>
const msw_plugin_desc* plugin_entry(const msw_host_api* h, msw_status** status, const char* name,
                                    const char* version, uint32_t target_minor,
                                    MakeComponents make_components) noexcept {
  if (!h) return nullptr;
  try {
    if (std::string why = host_refusal(*h, name, target_minor); !why.empty()) {
      // Only the permanent prefix of the table (status_new) is read from a host that is refused.
      if (status) *status = h->status_new(MSW_STATUS_VERSION_MISMATCH, why.c_str());
      return nullptr;
    }
    g_host = h;
    static const auto components = make_components();
    static const msw_plugin_desc desc = [&] {
      msw_plugin_desc d{};
      d.struct_size = sizeof(msw_plugin_desc);
      d.abi_major = MSW_ABI_MAJOR;
      d.abi_minor = MSW_ABI_MINOR;
      d.name = name;
      d.version = version;
      d.target_minor = target_minor;
      d.components = components.data();
      d.component_count = components.size();
      d.component_size = sizeof(msw_component);
      return d;
    }();
    return &desc;
  } catch (const std::exception& e) {
    if (status) *status = h->status_new(MSW_STATUS_INTERNAL, e.what());
  } catch (...) {
    if (status) *status = h->status_new(MSW_STATUS_INTERNAL, "plugin entry: an exception that is not a std::exception");
  }
  return nullptr;
}

}  // namespace detail
}  // namespace megaswift::sdk

// MSW_PLUGIN_TARGET_MINOR is read where the macro expands, so a definition before the SDK's headers
// (or on the compiler's command line) is what counts.
#define MEGASWIFT_PLUGIN(NAME, VERSION, ...)                                                                  \
  static_assert(MSW_PLUGIN_TARGET_MINOR <= MSW_ABI_MINOR,                                                    \
                "MSW_PLUGIN_TARGET_MINOR is newer than the SDK this plugin is built with");                  \
  extern "C" MSW_EXPORT const msw_plugin_desc* msw_plugin_entry(const msw_host_api* host,                    \
                                                                 msw_status** status) {                      \
    return ::megaswift::sdk::detail::plugin_entry(host, status, NAME, VERSION, MSW_PLUGIN_TARGET_MINOR,       \
                                                  [] { return std::array{__VA_ARGS__}; });                   \
  }

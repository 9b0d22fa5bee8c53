// The plugin registry: every component of every loaded plugin library, indexed by (kind, name).
//
// Loading never unloads: the libraries stay mapped until the process exits (plugins may hand out
// pointers to static data, and threads they started may still run code from them).
#pragma once

#include <megaswift/c/plugin.h>

#include <cstring>
#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

namespace megaswift::host {

struct LoadedComponent {
  msw_plugin_kind kind{};
  std::string name;
  std::string version;
  std::string summary;
  std::string plugin_name;
  std::string plugin_version;
  std::filesystem::path library_path;
  uint32_t abi_major = 0;     // the SDK the plugin was built with
  uint32_t abi_minor = 0;
  uint32_t target_minor = 0;  // the oldest host minor it runs on (MSW_PLUGIN_TARGET_MINOR)
  const void* vtable = nullptr;  // starts with the plugin's uint32_t struct_size
};

// A library that was found but not used, and why (shown by `megatron plugins` and in lookup errors).
struct RefusedLibrary {
  std::filesystem::path library_path;
  std::string reason;
};

const char* kind_name(msw_plugin_kind kind);  // "model", "tokenizer", ...

class PluginRegistry {
 public:
  explicit PluginRegistry(const msw_host_api& host);

  // The directories searched, in order: each --plugin_path value, then MEGASWIFT_PLUGIN_PATH
  // (':'-separated), then <directory of the executable>/../lib/megaswift/plugins.
  static std::vector<std::filesystem::path> search_path(const std::vector<std::string>& plugin_path_flag);
  // The same with `default_directory` last instead of <exe>/../lib/megaswift/plugins: a library that embeds the
  // host (libmegaswift_runtime.so) passes the plugin folder beside itself, not the one of whatever program loaded it.
  static std::vector<std::filesystem::path> search_path(const std::vector<std::string>& plugin_path_flag,
                                                        const std::filesystem::path& default_directory);

  // Loads every libmegaswift_*.so in the directories (a plain file path is loaded as a library).
  // Bad libraries are logged and recorded in refused(); missing directories are skipped silently
  // unless they came from --plugin_path, which must exist.
  void load_directories(const std::vector<std::filesystem::path>& directories,
                        size_t explicit_count = 0);

  // Loads one library; throws HostError naming the library and the reason on any refusal.
  void load_library(const std::filesystem::path& path);

  const LoadedComponent* find(msw_plugin_kind kind, std::string_view name) const;
  // Like find, but throws HostError listing the known names of that kind (and refused libraries).
  const LoadedComponent& require(msw_plugin_kind kind, std::string_view name) const;
  std::vector<const LoadedComponent*> list(msw_plugin_kind kind) const;
  const std::vector<LoadedComponent>& all() const { return components_; }
  const std::vector<RefusedLibrary>& refused() const { return refused_; }

  // The plugin's vtable copied into a zeroed VT: entries past the plugin's struct_size (a plugin of an
  // older minor) read as NULL.
  template <class VT>
  static VT vtable_copy(const LoadedComponent& c) {
    VT out{};
    uint32_t plugin_size = *static_cast<const uint32_t*>(c.vtable);
    std::memcpy(&out, c.vtable, plugin_size < sizeof(VT) ? plugin_size : sizeof(VT));
    return out;
  }

 private:
  void register_library(const std::filesystem::path& path);

  const msw_host_api& host_;
  std::vector<LoadedComponent> components_;
  std::vector<RefusedLibrary> refused_;
  std::vector<std::filesystem::path> loaded_paths_;
};

}  // namespace megaswift::host

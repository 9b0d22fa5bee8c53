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

  // Loads every libmegaswift_*.so in the directories (a path that is not a directory is loaded as a
  // library). The first `explicit_count` came from --plugin_path. Bad libraries (not an ELF shared library
  // of this machine, truncated, unreadable, a FIFO, a symlink loop, refused by the checks below) are logged
  // and recorded in refused(); missing directories are skipped silently unless they came from --plugin_path,
  // which must exist and be readable. Scanning never throws for an entry of a directory.
  //
  // The last directory, unless it came from --plugin_path, is the host's own plugin folder (search_path
  // puts it there): it is loaded first, so that when a library elsewhere names a component like a built-in
  // one, that library is the one refused and the built-in libraries stay whole.
  void load_directories(const std::vector<std::filesystem::path>& directories,
                        size_t explicit_count = 0);

  // Loads one library; throws HostError naming the library and the reason on any refusal. A component
  // whose name holds a control character or is not UTF-8 is refused (names are typed as flag values and
  // printed). The other plugin-provided strings (plugin name, versions, summary) are stored through
  // printable(), so whatever shows them later cannot print a control character.
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
  void load_directory(const std::filesystem::path& dir, bool named_by_user);
  // load_library, with a refusal logged and recorded instead of thrown.
  void load_or_refuse(const std::filesystem::path& path);
  void register_library(const std::filesystem::path& path);

  const msw_host_api& host_;
  std::vector<LoadedComponent> components_;
  std::vector<RefusedLibrary> refused_;
  std::vector<std::filesystem::path> loaded_paths_;
  std::filesystem::path builtin_directory_;  // canonical; empty until load_directories names one
};

}  // namespace megaswift::host

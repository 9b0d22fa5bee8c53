#include "host/plugin_host/registry.hpp"

#include "host/core/printable.hpp"
#include "host/core/status.hpp"
#include "host/plugin_host/elf_check.hpp"
#include "host/plugin_host/vtable_checks.hpp"

#include <boost/dll/shared_library.hpp>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <cstring>
#include <memory>
#include <numeric>
#include <system_error>

namespace megaswift::host {
namespace {

// Libraries are deliberately leaked: never unloaded, see registry.hpp.
std::vector<boost::dll::shared_library*>& loaded_libraries() {
  static auto* libs = new std::vector<boost::dll::shared_library*>;
  return *libs;
}

std::string abi(uint32_t major, uint32_t minor) { return std::to_string(major) + "." + std::to_string(minor); }

// Component `i` of the descriptor's array, whose records are component_size bytes (the plugin's
// sizeof), read through the record's own struct_size: members it does not have read as zero.
msw_component read_component(const msw_plugin_desc* desc, size_t i) {
  const char* at = reinterpret_cast<const char*>(desc->components) + i * desc->component_size;
  uint32_t record_size = 0;
  std::memcpy(&record_size, at, sizeof(record_size));
  msw_component c{};
  std::memcpy(&c, at, std::min({static_cast<size_t>(record_size), desc->component_size, sizeof(c)}));
  return c;
}

std::filesystem::path canonical_or_self(const std::filesystem::path& path) {
  std::error_code ec;
  auto canonical = std::filesystem::weakly_canonical(path, ec);
  return ec ? path : canonical;
}

bool is_plugin_file_name(const std::filesystem::path& p) {
  std::string name = p.filename().string();
  return name.rfind("libmegaswift_", 0) == 0 && p.extension() == ".so";
}

}  // namespace

const char* kind_name(msw_plugin_kind kind) {
  switch (kind) {
    case MSW_KIND_MODEL: return "model";
    case MSW_KIND_PARALLEL: return "parallel";
    case MSW_KIND_OPTIMIZER: return "optimizer";
    case MSW_KIND_TOKENIZER: return "tokenizer";
    case MSW_KIND_TEMPLATE: return "template";
    case MSW_KIND_CHECKPOINT: return "checkpoint";
  }
  return "unknown";
}

PluginRegistry::PluginRegistry(const msw_host_api& host) : host_(host) {}

void PluginRegistry::load_directories(const std::vector<std::filesystem::path>& directories, size_t explicit_count) {
  std::vector<size_t> order(directories.size());
  std::iota(order.begin(), order.end(), size_t{0});
  if (directories.size() > explicit_count) {
    // The host's own folder first: see registry.hpp.
    std::rotate(order.begin(), order.end() - 1, order.end());
    builtin_directory_ = canonical_or_self(directories.back());
  }
  for (size_t i : order) load_directory(directories[i], i < explicit_count);
}

void PluginRegistry::load_directory(const std::filesystem::path& dir, bool named_by_user) {
  namespace fs = std::filesystem;
  const std::string shown = printable(dir.string());
  std::error_code ec;
  const fs::file_status st = fs::status(dir, ec);
  if (st.type() == fs::file_type::not_found) {
    if (named_by_user)
      throw HostError(MSW_STATUS_NOT_FOUND, "--plugin_path " + shown +
                                                ": no such directory or file; pass a directory holding "
                                                "libmegaswift_<kind>_<name>.so files");
    return;
  }
  if (ec) {  // a symlink loop, a folder on the way that may not be entered
    if (named_by_user)
      throw HostError(MSW_STATUS_IO, "--plugin_path " + shown + ": cannot be read (" + ec.message() +
                                         "); fix it or pass another directory");
    spdlog::warn("skipping plugin directory {}: cannot be read ({})", shown, ec.message());
    return;
  }
  if (!fs::is_directory(st)) {  // a file named directly; the ELF check says what is wrong with a non-library
    load_or_refuse(dir);
    return;
  }
  fs::directory_iterator it(dir, ec);
  if (ec) {
    if (named_by_user)
      throw HostError(MSW_STATUS_IO, "--plugin_path " + shown + ": cannot be listed (" + ec.message() +
                                         "); fix its permissions or pass another directory");
    spdlog::warn("skipping plugin directory {}: cannot be listed ({})", shown, ec.message());
    return;
  }
  // Only names here: whether an entry is a readable regular file is load_library's to say (a symlink loop
  // or a FIFO is refused there with the reason), so nothing in the folder can throw out of the scan.
  std::vector<fs::path> files;
  for (; !ec && it != fs::directory_iterator(); it.increment(ec)) {
    if (is_plugin_file_name(it->path())) files.push_back(it->path());
  }
  if (ec) spdlog::warn("plugin directory {}: listing stopped early ({})", shown, ec.message());
  std::sort(files.begin(), files.end());  // deterministic order, so "duplicate" always names the same one
  for (const auto& file : files) load_or_refuse(file);
}

void PluginRegistry::load_or_refuse(const std::filesystem::path& path) {
  try {
    load_library(path);
  } catch (const HostError& e) {
    spdlog::warn("skipping plugin {}", e.what());
    refused_.push_back({path, e.what()});
  }
}

void PluginRegistry::load_library(const std::filesystem::path& path) {
  const auto canonical = canonical_or_self(path);
  // The same library reached twice (say through the build tree and MEGASWIFT_PLUGIN_PATH) is one.
  if (std::find(loaded_paths_.begin(), loaded_paths_.end(), canonical) != loaded_paths_.end()) return;
  register_library(canonical);
  loaded_paths_.push_back(canonical);
}

void PluginRegistry::register_library(const std::filesystem::path& path) {
  const std::string where = printable(path.string());
  // Before dlopen: the dynamic loader maps whatever the headers say and dies (SIGBUS) on a short file.
  if (const std::string problem = elf_file_problem(path); !problem.empty())
    throw HostError(MSW_STATUS_IO, where + ": not a loadable shared library: " + problem +
                                       "; rebuild it or remove it from the plugin path");
  auto lib = std::make_unique<boost::dll::shared_library>();
  boost::dll::fs::error_code load_error;
  lib->load(path.string(), boost::dll::load_mode::rtld_now | boost::dll::load_mode::rtld_local, load_error);
  if (load_error || !lib->is_loaded())
    throw HostError(MSW_STATUS_IO, where + ": not a loadable shared library (" + load_error.message() +
                                       "); remove it from the plugin path or rebuild it");
  if (!lib->has(MSW_PLUGIN_ENTRY_SYMBOL))
    throw HostError(MSW_STATUS_NOT_FOUND, where + ": does not export " MSW_PLUGIN_ENTRY_SYMBOL
                                                  "; build it with megaswift_add_plugin() and MEGASWIFT_PLUGIN()");

  auto entry = lib->get<const msw_plugin_desc*(const msw_host_api*, msw_status**)>(MSW_PLUGIN_ENTRY_SYMBOL);
  msw_status* status = nullptr;
  const msw_plugin_desc* desc = entry(&host_, &status);
  if (!desc) {
    std::string why = status ? printable(status->message) : "its entry returned no descriptor and no reason";
    int32_t code = status ? status->code : MSW_STATUS_INTERNAL;
    status_free(status);
    throw HostError(static_cast<msw_status_code>(code), where + ": the plugin refused to load: " + why);
  }
  status_free(status);

  const std::string plugin_name = desc->name ? printable(desc->name) : "?";
  // The frozen head (struct_size .. version) is readable whatever the plugin's major.
  if (desc->abi_major != MSW_ABI_MAJOR)
    throw HostError(MSW_STATUS_VERSION_MISMATCH,
                    where + ": plugin '" + plugin_name + "' was built for Megaswift ABI " +
                        abi(desc->abi_major, desc->abi_minor) + " but this host provides ABI " +
                        abi(MSW_ABI_MAJOR, MSW_ABI_MINOR) + "; rebuild the plugin against the SDK of this host");
  if (desc->struct_size < offsetof(msw_plugin_desc, component_size) + sizeof(size_t))
    throw HostError(MSW_STATUS_INVALID_ARGUMENT, where + ": plugin '" + plugin_name + "' has a descriptor of " +
                                                     std::to_string(desc->struct_size) + " bytes, too short for ABI " +
                                                     std::to_string(MSW_ABI_MAJOR) + ".x; rebuild it");
  // The version rule (docs/abi.md): a plugin runs on every host minor from the one it targets on.
  if (desc->target_minor > MSW_ABI_MINOR)
    throw HostError(MSW_STATUS_VERSION_MISMATCH,
                    where + ": plugin '" + plugin_name + "' targets Megaswift ABI " +
                        abi(desc->abi_major, desc->target_minor) + " (built with SDK " +
                        abi(desc->abi_major, desc->abi_minor) + ") but this host provides ABI " +
                        abi(MSW_ABI_MAJOR, MSW_ABI_MINOR) + "; upgrade Megaswift, or rebuild the plugin with "
                        "MSW_PLUGIN_TARGET_MINOR " + std::to_string(MSW_ABI_MINOR) + " or lower");
  if (desc->target_minor > desc->abi_minor)
    throw HostError(MSW_STATUS_INVALID_ARGUMENT,
                    where + ": plugin '" + plugin_name + "' targets ABI minor " + std::to_string(desc->target_minor) +
                        ", newer than the SDK it was built with (" + abi(desc->abi_major, desc->abi_minor) +
                        "): its descriptor is malformed");
  if (desc->component_count > 0 &&
      (!desc->components || desc->component_size < offsetof(msw_component, vtable) + sizeof(void*)))
    throw HostError(MSW_STATUS_INVALID_ARGUMENT, where + ": plugin '" + plugin_name + "' has a malformed descriptor "
                                                     "(no components array, or component_size " +
                                                     std::to_string(desc->component_size) + " too small)");

  // Validate every component before registering any, so a library is either fully in or fully out.
  std::vector<LoadedComponent> incoming;
  for (size_t i = 0; i < desc->component_count; ++i) {
    const msw_component c = read_component(desc, i);
    const std::string cname = c.name ? c.name : "";
    if (c.struct_size < offsetof(msw_component, vtable) + sizeof(void*) || cname.empty() || !c.vtable)
      throw HostError(MSW_STATUS_INVALID_ARGUMENT,
                      where + ": component #" + std::to_string(i) + " of plugin '" + plugin_name + "' is malformed");
    // A name is typed as a flag value and printed in every message about the component: it must be
    // printable UTF-8, so that `cname` may be shown as it is from here on.
    if (!is_printable(cname))
      throw HostError(MSW_STATUS_INVALID_ARGUMENT,
                      where + ": component #" + std::to_string(i) + " of plugin '" + plugin_name + "' is named '" +
                          printable(cname) + "', which holds a control character or bytes that are not UTF-8; "
                          "component names must be printable UTF-8 (by convention [a-z0-9_]+): fix the name in "
                          "the plugin and rebuild it, or remove this library");
    auto kind = static_cast<msw_plugin_kind>(c.kind);
    if (std::string(kind_name(kind)) == "unknown")
      throw HostError(MSW_STATUS_UNSUPPORTED, where + ": component '" + cname + "' has unknown kind " +
                                                   std::to_string(c.kind) + "; this host knows kinds 1-6");
    if (std::string missing = missing_required_entry(kind, c.vtable); !missing.empty())
      throw HostError(MSW_STATUS_INVALID_ARGUMENT, where + ": " + kind_name(kind) + " component '" + cname +
                                                       "' lacks the required vtable entry '" + missing + "'");
    if (const LoadedComponent* existing = find(kind, cname)) {
      // Built-ins load first (load_directories), so a clash with one is always this library's doing.
      const bool builtin = !builtin_directory_.empty() && existing->library_path.parent_path() == builtin_directory_;
      throw HostError(MSW_STATUS_INVALID_ARGUMENT,
                      where + ": " + kind_name(kind) + " component '" + cname + "' is already provided by " +
                          (builtin ? "the built-in library " : "") + printable(existing->library_path.string()) +
                          (builtin ? "; plugin '" + plugin_name + "' is not loaded: rename its " + kind_name(kind) +
                                         " '" + cname + "' (names are unique per kind) or remove this library"
                                   : "; remove one of the two libraries"));
    }
    for (const auto& other : incoming)
      if (other.kind == kind && other.name == cname)
        throw HostError(MSW_STATUS_INVALID_ARGUMENT, where + ": plugin '" + plugin_name + "' lists " +
                                                         kind_name(kind) + " component '" + cname + "' twice");
    LoadedComponent loaded;
    loaded.kind = kind;
    loaded.name = cname;
    loaded.version = c.version ? printable(c.version) : "";
    loaded.summary = c.summary ? printable(c.summary) : "";
    loaded.plugin_name = plugin_name;
    loaded.plugin_version = desc->version ? printable(desc->version) : "";
    loaded.library_path = path;
    loaded.abi_major = desc->abi_major;
    loaded.abi_minor = desc->abi_minor;
    loaded.target_minor = desc->target_minor;
    loaded.vtable = c.vtable;
    incoming.push_back(std::move(loaded));
  }
  for (auto& c : incoming) {
    spdlog::debug("loaded {}/{} {} from {} (built with ABI {}, targets {}, host ABI {})", kind_name(c.kind), c.name,
                  c.version, c.library_path.string(), abi(c.abi_major, c.abi_minor), abi(c.abi_major, c.target_minor),
                  abi(MSW_ABI_MAJOR, MSW_ABI_MINOR));
    components_.push_back(std::move(c));
  }
  loaded_libraries().push_back(lib.release());
}

const LoadedComponent* PluginRegistry::find(msw_plugin_kind kind, std::string_view name) const {
  for (const auto& c : components_)
    if (c.kind == kind && c.name == name) return &c;
  return nullptr;
}

std::vector<const LoadedComponent*> PluginRegistry::list(msw_plugin_kind kind) const {
  std::vector<const LoadedComponent*> out;
  for (const auto& c : components_)
    if (c.kind == kind) out.push_back(&c);
  return out;
}

const LoadedComponent& PluginRegistry::require(msw_plugin_kind kind, std::string_view name) const {
  if (const LoadedComponent* c = find(kind, name)) return *c;
  std::string known;
  for (const auto* c : list(kind)) known += (known.empty() ? "" : ", ") + c->name;
  std::string message = std::string("no ") + kind_name(kind) + " plugin named '" + std::string(name) +
                        "' is loaded; available: " + (known.empty() ? "none" : known) +
                        ". Put libmegaswift_" + kind_name(kind) + "_<name>.so into a directory of --plugin_path "
                        "or MEGASWIFT_PLUGIN_PATH";
  if (!refused_.empty()) {
    message += ". Refused libraries:";
    for (const auto& r : refused_) message += "\n  " + r.reason;
  }
  throw HostError(MSW_STATUS_NOT_FOUND, message);
}

}  // namespace megaswift::host

#include "host/plugin_host/registry.hpp"

#include "host/core/status.hpp"
#include "host/plugin_host/vtable_checks.hpp"

#include <boost/dll/shared_library.hpp>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <memory>
#include <system_error>

namespace megaswift::host {
namespace {

// Libraries are deliberately leaked: never unloaded, see registry.hpp.
std::vector<boost::dll::shared_library*>& loaded_libraries() {
  static auto* libs = new std::vector<boost::dll::shared_library*>;
  return *libs;
}

std::string abi(uint32_t major, uint32_t minor) { return std::to_string(major) + "." + std::to_string(minor); }

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
  for (size_t i = 0; i < directories.size(); ++i) {
    const auto& dir = directories[i];
    std::error_code ec;
    if (std::filesystem::is_regular_file(dir, ec)) {
      try {
        load_library(dir);
      } catch (const HostError& e) {
        spdlog::warn("skipping plugin {}", e.what());
        refused_.push_back({dir, e.what()});
      }
      continue;
    }
    if (!std::filesystem::is_directory(dir, ec)) {
      if (i < explicit_count)
        throw HostError(MSW_STATUS_NOT_FOUND, "--plugin_path " + dir.string() +
                                                  ": no such directory or file; pass a directory holding "
                                                  "libmegaswift_<kind>_<name>.so files");
      continue;
    }
    std::vector<std::filesystem::path> files;
    for (const auto& entry : std::filesystem::directory_iterator(dir, ec))
      if (entry.is_regular_file() && is_plugin_file_name(entry.path())) files.push_back(entry.path());
    std::sort(files.begin(), files.end());  // deterministic order, so "duplicate" always names the same one
    for (const auto& file : files) {
      try {
        load_library(file);
      } catch (const HostError& e) {
        spdlog::warn("skipping plugin {}", e.what());
        refused_.push_back({file, e.what()});
      }
    }
  }
}

void PluginRegistry::load_library(const std::filesystem::path& path) {
  std::error_code ec;
  auto canonical = std::filesystem::weakly_canonical(path, ec);
  if (ec) canonical = path;
  // The same library reached twice (say through the build tree and MEGASWIFT_PLUGIN_PATH) is one.
  if (std::find(loaded_paths_.begin(), loaded_paths_.end(), canonical) != loaded_paths_.end()) return;
  register_library(canonical);
  loaded_paths_.push_back(canonical);
}

void PluginRegistry::register_library(const std::filesystem::path& path) {
  const std::string where = path.string();
  auto lib = std::make_unique<boost::dll::shared_library>();
  boost::dll::fs::error_code load_error;
  lib->load(where, boost::dll::load_mode::rtld_now | boost::dll::load_mode::rtld_local, load_error);
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
    std::string why = status ? status->message : "its entry returned no descriptor and no reason";
    int32_t code = status ? status->code : MSW_STATUS_INTERNAL;
    status_free(status);
    throw HostError(static_cast<msw_status_code>(code), where + ": the plugin refused to load: " + why);
  }
  status_free(status);

  const std::string plugin_name = desc->name ? desc->name : "?";
  if (desc->abi_major != MSW_ABI_MAJOR || desc->abi_minor > MSW_ABI_MINOR)
    throw HostError(MSW_STATUS_VERSION_MISMATCH,
                    where + ": plugin '" + plugin_name + "' was built for Megaswift ABI " +
                        abi(desc->abi_major, desc->abi_minor) + " but this host provides ABI " +
                        abi(MSW_ABI_MAJOR, MSW_ABI_MINOR) + "; rebuild the plugin against the SDK of this host");
  if (desc->struct_size < offsetof(msw_plugin_desc, num_components) + sizeof(uint32_t) ||
      (desc->num_components > 0 && !desc->components))
    throw HostError(MSW_STATUS_INVALID_ARGUMENT, where + ": plugin '" + plugin_name + "' has a malformed descriptor");

  // Validate every component before registering any, so a library is either fully in or fully out.
  std::vector<LoadedComponent> incoming;
  for (uint32_t i = 0; i < desc->num_components; ++i) {
    const msw_component& c = desc->components[i];
    const std::string cname = c.name ? c.name : "";
    if (c.struct_size < sizeof(msw_component) || cname.empty() || !c.vtable)
      throw HostError(MSW_STATUS_INVALID_ARGUMENT,
                      where + ": component #" + std::to_string(i) + " of plugin '" + plugin_name + "' is malformed");
    auto kind = static_cast<msw_plugin_kind>(c.kind);
    if (std::string(kind_name(kind)) == "unknown")
      throw HostError(MSW_STATUS_UNSUPPORTED, where + ": component '" + cname + "' has unknown kind " +
                                                   std::to_string(c.kind) + "; this host knows kinds 1-6");
    if (std::string missing = missing_required_entry(kind, c.vtable); !missing.empty())
      throw HostError(MSW_STATUS_INVALID_ARGUMENT, where + ": " + kind_name(kind) + " component '" + cname +
                                                       "' lacks the required vtable entry '" + missing + "'");
    if (const LoadedComponent* existing = find(kind, cname))
      throw HostError(MSW_STATUS_INVALID_ARGUMENT,
                      where + ": " + kind_name(kind) + " component '" + cname + "' is already provided by " +
                          existing->library_path.string() + "; remove one of the two libraries");
    incoming.push_back(LoadedComponent{kind, cname, c.version ? c.version : "", c.summary ? c.summary : "",
                                       plugin_name, desc->version ? desc->version : "", path, desc->abi_major,
                                       desc->abi_minor, c.vtable});
  }
  for (auto& c : incoming) {
    spdlog::debug("loaded {}/{} {} from {} (ABI {}, host ABI {})", kind_name(c.kind), c.name, c.version,
                  c.library_path.string(), abi(c.abi_major, c.abi_minor), abi(MSW_ABI_MAJOR, MSW_ABI_MINOR));
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

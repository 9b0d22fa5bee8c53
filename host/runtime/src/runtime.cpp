#include <megaswift/runtime/runtime.hpp>

#include "host/core/host_api.hpp"
#include "host/core/logging.hpp"
#include "host/runtime/src/state.hpp"

#include <dlfcn.h>

#include <system_error>

namespace megaswift::runtime {

namespace fs = std::filesystem;

Error::Error(const std::string& message) : std::runtime_error(message) {}
Error::~Error() = default;

namespace detail {

std::string RuntimeState::searched() const {
  std::string out = "searched:";
  for (size_t i = 0; i < search_path.size(); ++i) out.append(i ? ", " : " ").append(search_path[i].string());
  return out;
}

}  // namespace detail

namespace {

// An address inside this library, for dladdr.
const char kAnchor = 0;

Component component_of(const host::LoadedComponent& c) {
  return Component{host::kind_name(c.kind), c.name, c.version, c.summary, c.library_path.string()};
}

}  // namespace

Runtime::Runtime(const RuntimeOptions& options) {
  state_ = detail::translate("loading the Megaswift plugins", [&] {
    if (!options.log_level.empty()) {
      detail::translate("RuntimeOptions::log_level", [&] { host::init_logging(0, options.log_level); });
    }
    auto state = std::make_shared<detail::RuntimeState>();
    state->search_path = host::PluginRegistry::search_path(options.plugin_path, default_plugin_directory());
    state->registry = std::make_unique<host::PluginRegistry>(host::host_api());
    state->registry->load_directories(state->search_path, options.plugin_path.size());
    return std::shared_ptr<const detail::RuntimeState>(std::move(state));
  });
}

Runtime::~Runtime() = default;
Runtime::Runtime(const Runtime&) = default;
Runtime& Runtime::operator=(const Runtime&) = default;

std::vector<std::string> Runtime::search_path() const {
  std::vector<std::string> out;
  for (const auto& p : state_->search_path) out.push_back(p.string());
  return out;
}

std::vector<Component> Runtime::components() const {
  std::vector<Component> out;
  for (const auto& c : state_->registry->all()) out.push_back(component_of(c));
  return out;
}

std::vector<Component> Runtime::components(const std::string& kind) const {
  std::vector<Component> out;
  for (const auto& c : state_->registry->all())
    if (kind == host::kind_name(c.kind)) out.push_back(component_of(c));
  return out;
}

std::vector<RefusedLibrary> Runtime::refused() const {
  std::vector<RefusedLibrary> out;
  for (const auto& r : state_->registry->refused()) out.push_back(RefusedLibrary{r.library_path.string(), r.reason});
  return out;
}

std::string Runtime::default_plugin_directory() {
  Dl_info info{};
  if (::dladdr(&kAnchor, &info) == 0 || !info.dli_fname || !*info.dli_fname) return "lib/megaswift/plugins";
  std::error_code ec;
  fs::path library = fs::canonical(info.dli_fname, ec);
  if (ec) library = fs::absolute(info.dli_fname, ec);
  return (library.parent_path() / "megaswift" / "plugins").string();
}

std::string Runtime::version() { return MEGASWIFT_VERSION; }

}  // namespace megaswift::runtime

// What the facade classes share behind their pimpl: the plugin registry of a Runtime, and the translation of the
// host's exceptions into megaswift::runtime::Error. Private to libmegaswift_runtime.so.
#pragma once

#include "host/plugin_host/registry.hpp"

#include <megaswift/runtime/error.hpp>

#include <exception>
#include <filesystem>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace megaswift::runtime::detail {

struct RuntimeState {
  std::vector<std::filesystem::path> search_path;
  std::unique_ptr<host::PluginRegistry> registry;

  // "searched: a, b, c" for messages about a missing plugin.
  std::string searched() const;
};

// Runs f; any exception other than Error (HostError, sdk::Error, nlohmann, std) comes out as Error whose message
// is "<context>: <what>".
template <class F>
auto translate(std::string_view context, F&& f) -> decltype(f()) {
  try {
    return f();
  } catch (const Error&) {
    throw;
  } catch (const std::exception& e) {
    std::string message(context);
    message.append(": ").append(e.what());
    throw Error(message);
  }
}

}  // namespace megaswift::runtime::detail

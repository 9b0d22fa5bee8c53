// What plugins of every kind do with what the host hands them at create(): the config JSON text (the parsed
// arguments, or a plugin's own settings) read as an object with typed, defaulted members, and the check that the
// host's ops table has an op the plugin needs (an op added by a later minor than the host's).
#pragma once

#include <megaswift/c/ops.h>
#include <megaswift/sdk/plugin.hpp>
#include <megaswift/sdk/status.hpp>

#include <nlohmann/json.hpp>

#include <cstddef>
#include <cstring>
#include <string>
#include <string_view>

namespace megaswift::sdk {

// The config text as a JSON object ("" reads as {}); anything else is INVALID_ARGUMENT naming `who` and, from
// `expected`, what the object should hold.
inline nlohmann::json parse_config_object(std::string_view text, std::string_view who, std::string_view expected) {
  nlohmann::json j = nlohmann::json::parse(text.empty() ? std::string_view("{}") : text, nullptr, false);
  if (j.is_discarded() || !j.is_object())
    throw Error(MSW_STATUS_INVALID_ARGUMENT, std::string(who) + ": the config must be a JSON object of " +
                                                 std::string(expected) + ", got: " + std::string(text.substr(0, 200)));
  return j;
}

// A number member; missing or null gives `fallback` (the CLI's default), another type is INVALID_ARGUMENT.
inline double config_number(const nlohmann::json& config, const char* key, double fallback, std::string_view who) {
  const auto it = config.find(key);
  if (it == config.end() || it->is_null()) return fallback;
  if (!it->is_number())
    throw Error(MSW_STATUS_INVALID_ARGUMENT,
                std::string(who) + ": '" + key + "' must be a number, got " + it->dump());
  return it->get<double>();
}

// The host's ops table when it has the op at `offset` (offsetof(msw_ops_api, <op>)); UNSUPPORTED naming the op and
// the ABI minor that added it otherwise. The plugin entry already refuses hosts older than the plugin's target minor;
// the table's own struct_size is what says the entry is there.
inline const msw_ops_api& require_host_op(size_t offset, const char* op, int added_in_minor, std::string_view who) {
  const msw_host_api& h = host();
  if (!MSW_HOST_HAS(ops) || !h.ops)
    throw Error(MSW_STATUS_UNSUPPORTED, std::string(who) + ": the host provides no ops table (msw_host_api.ops is "
                                                           "NULL); this plugin runs on the host's " + op + " op");
  const void* entry = nullptr;
  if (h.ops->struct_size > offset) std::memcpy(&entry, reinterpret_cast<const char*>(h.ops) + offset, sizeof entry);
  if (!entry)
    throw Error(MSW_STATUS_UNSUPPORTED, std::string(who) + ": the host's ops table (struct_size " +
                                            std::to_string(h.ops->struct_size) + ") has no " + op +
                                            ", added in Megaswift ABI " + std::to_string(MSW_ABI_MAJOR) + "." +
                                            std::to_string(added_in_minor) + ": run this plugin with a host of ABI " +
                                            std::to_string(MSW_ABI_MAJOR) + "." + std::to_string(added_in_minor) +
                                            " or newer");
  return *h.ops;
}

}  // namespace megaswift::sdk

// Shared by the plugin host suite: where its plugins are, files made from them, and loading in a child.
#pragma once

#include <filesystem>
#include <string>

namespace megaswift::plugin_host_test {

namespace fs = std::filesystem;

inline const fs::path kTestPlugins = MSW_PLUGIN_HOST_TEST_PLUGINS;
inline const fs::path kTinyPlugin = kTestPlugins / "tiny" / "libmegaswift_optimizer_tiny_opt.so";
inline const fs::path kChatTemplates = fs::path(MSW_PLUGIN_BUILD_DIR) / "libmegaswift_template_chat.so";

// An empty directory under the suite's scratch folder, fresh on every call.
fs::path fresh_dir(const std::string& name);

std::string read_bytes(const fs::path& path);
void write_bytes(const fs::path& path, const std::string& bytes);

// What happened to load_library(path) in a forked child. A regression that kills the loader (SIGBUS) or
// blocks it (a FIFO) then fails the test that caused it instead of taking the whole suite down: the child
// has a 20 s alarm.
struct ChildLoad {
  bool exited = false;     // ended by returning, not by a signal
  int signal = 0;          // the signal that ended it, if one did
  bool loaded = false;     // load_library returned
  std::string message;     // the HostError's message when it threw
};
ChildLoad load_in_child(const fs::path& path);

bool contains(const std::string& text, const std::string& part);

}  // namespace megaswift::plugin_host_test

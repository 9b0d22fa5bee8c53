// Megaswift embedded in another program: the plugin registry, tokenizers, chat templates and the model runner
// behind a small C++ interface (C++17; no header of the host or of its third-party libraries is needed).
//
//   find_package(MegaswiftRuntime REQUIRED)
//   target_link_libraries(app PRIVATE MegaswiftRuntime::runtime)
//
//   megaswift::runtime::Runtime runtime;                            // loads the plugins
//   megaswift::runtime::Tokenizer tokenizer(runtime, model_dir);   // tokenizer.json
//   megaswift::runtime::Model model(runtime, model_dir);           // config.json + safetensors
//   auto ids = tokenizer.encode("Hello world");
//   auto loss = model.forward(as_int64(ids), shift_labels(ids));   // next-token cross-entropy
//
// Failures throw megaswift::runtime::Error. Objects are not thread-safe unless a comment says so; a Tokenizer,
// Template or Model keeps what it needs of its Runtime alive, so the Runtime object may go first.
#pragma once

#include <megaswift/runtime/error.hpp>
#include <megaswift/runtime/export.hpp>

#include <memory>
#include <string>
#include <vector>

namespace megaswift::runtime {

namespace detail {
struct RuntimeState;
}

struct RuntimeOptions {
  // Searched first, in order, like `--plugin_path`: plugin folders or single plugin libraries; each must exist.
  // Then come the folders in MEGASWIFT_PLUGIN_PATH (':'-separated), then default_plugin_directory().
  std::vector<std::string> plugin_path;
  // Level of the log lines the host and the plugins write to stderr: trace, debug, info, warning, error or
  // critical. Empty leaves the process's spdlog default logger as it is (for programs that configure it).
  std::string log_level = "warning";
};

// One component of a loaded plugin library (what `megatron plugins` lists).
struct Component {
  std::string kind;     // model, parallel, optimizer, tokenizer, template, checkpoint
  std::string name;     // e.g. "qwen2", "hf_bpe", "qwen2_5"
  std::string version;
  std::string summary;
  std::string library;  // the file it came from
};

// A library found on the search path but not used, and why (e.g. a newer ABI).
struct RefusedLibrary {
  std::string library;
  std::string reason;
};

class MEGASWIFT_RUNTIME_API Runtime {
 public:
  // Loads every plugin library on the search path. Throws Error when a plugin_path entry does not exist.
  explicit Runtime(const RuntimeOptions& options = RuntimeOptions());
  ~Runtime();
  // Copies share the loaded plugins (libraries are never unloaded).
  Runtime(const Runtime&);
  Runtime& operator=(const Runtime&);

  // The folders and files searched, in order.
  std::vector<std::string> search_path() const;
  std::vector<Component> components() const;
  std::vector<Component> components(const std::string& kind) const;
  std::vector<RefusedLibrary> refused() const;

  // <folder of libmegaswift_runtime.so>/megaswift/plugins: lib/megaswift/plugins of the install (or build) tree.
  static std::string default_plugin_directory();
  // The Megaswift version this library was built from, e.g. "0.1.0".
  static std::string version();

 private:
  friend class Tokenizer;
  friend class Template;
  friend class Model;
  std::shared_ptr<const detail::RuntimeState> state_;
};

}  // namespace megaswift::runtime

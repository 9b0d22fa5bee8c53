// Which tokenizer plugin reads a model directory: every loaded tokenizer component with a probe entry
// scores the directory (0 to 100) and the highest score wins (issue 7: chosen through the registry, not
// by a hard-coded name).
#pragma once

#include "host/plugin_host/registry.hpp"

#include <filesystem>
#include <string>

namespace megaswift::host {

struct TokenizerChoice {
  const LoadedComponent* component = nullptr;
  int32_t score = 0;
  std::string why;  // for the log: the scores of every candidate
};

// Throws HostError (NOT_FOUND) listing the tokenizer plugins, their scores and the tokenizer files found in
// `model_dir` when no plugin accepts it. Ties go to the component name that sorts first.
TokenizerChoice choose_tokenizer(const PluginRegistry& registry, const std::filesystem::path& model_dir);

}  // namespace megaswift::host

#include "host/plugin_host/tokenizer_choice.hpp"

#include "host/core/status.hpp"

#include <megaswift/c/tokenizer.h>

#include <algorithm>
#include <system_error>
#include <vector>

namespace megaswift::host {
namespace {

// The files of `dir` that look like tokenizer files, for the error message.
std::string tokenizer_files(const std::filesystem::path& dir) {
  std::vector<std::string> names;
  std::error_code ec;
  for (const auto& entry : std::filesystem::directory_iterator(dir, ec)) {
    const std::string n = entry.path().filename().string();
    const std::string ext = entry.path().extension().string();
    if (n.find("token") != std::string::npos || n.find("vocab") != std::string::npos ||
        n.find("merges") != std::string::npos || ext == ".model" || ext == ".tiktoken")
      names.push_back(n);
  }
  if (ec) return "(the directory cannot be read: " + ec.message() + ")";
  std::sort(names.begin(), names.end());
  if (names.empty()) return "no tokenizer files (tokenizer.json, tokenizer.model, vocab.json, ...)";
  std::string out;
  for (const auto& n : names) out += (out.empty() ? "" : ", ") + n;
  return out;
}

}  // namespace

TokenizerChoice choose_tokenizer(const PluginRegistry& registry, const std::filesystem::path& model_dir) {
  std::vector<const LoadedComponent*> candidates = registry.list(MSW_KIND_TOKENIZER);
  std::sort(candidates.begin(), candidates.end(), [](auto* a, auto* b) { return a->name < b->name; });
  TokenizerChoice best;
  std::string scores;
  for (const LoadedComponent* c : candidates) {
    const auto vt = PluginRegistry::vtable_copy<msw_tokenizer_vtable>(*c);
    std::string entry = c->name;
    if (!vt.probe) {
      scores += (scores.empty() ? "" : ", ") + entry + " (no probe: chosen only by name)";
      continue;
    }
    const int32_t score = std::clamp<int32_t>(vt.probe(model_dir.c_str()), 0, 100);
    scores += (scores.empty() ? "" : ", ") + entry + " " + std::to_string(score);
    if (score > best.score) {
      best.component = c;
      best.score = score;
    }
  }
  if (!best.component) {
    std::string message = "no tokenizer plugin reads the model directory " + model_dir.string() + " (it holds " +
                          tokenizer_files(model_dir) + "); tokenizer plugins loaded: " +
                          (candidates.empty() ? std::string("none") : scores) +
                          ". Point --model at a Hugging Face directory with tokenizer.json, or add a tokenizer "
                          "plugin for its format to --plugin_path";
    if (!registry.refused().empty()) {
      message += ". Refused libraries:";
      for (const auto& r : registry.refused()) message += "\n  " + r.reason;
    }
    throw HostError(MSW_STATUS_NOT_FOUND, message);
  }
  best.why = "probe scores: " + scores;
  return best;
}

}  // namespace megaswift::host

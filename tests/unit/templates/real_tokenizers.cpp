#include "real_tokenizers.hpp"

#include "host/core/host_api.hpp"
#include "host/plugin_host/registry.hpp"

#include <nlohmann/json.hpp>

#include <filesystem>
#include <map>
#include <mutex>
#include <stdexcept>

namespace megaswift::test {

const sdk::TokenizerHandle& real_tokenizer(const std::string& name) {
  static std::mutex mu;
  static std::map<std::string, std::unique_ptr<sdk::TokenizerHandle>> cache;
  static host::PluginRegistry* registry = [] {
    auto* r = new host::PluginRegistry(host::host_api());
    r->load_library(std::filesystem::path(MSW_PLUGIN_BUILD_DIR) / "libmegaswift_tokenizer_hf_bpe.so");
    return r;
  }();
  std::lock_guard lock(mu);
  auto& slot = cache[name];
  if (!slot) {
    std::filesystem::path dir = std::filesystem::path(MSW_TOKENIZER_CACHE) / name / "package" / "models";
    if (!std::filesystem::exists(dir / "tokenizer.json"))
      throw std::runtime_error(dir.string() + "/tokenizer.json is missing: run tests/fixtures/tokenizers/fetch.sh " +
                               MSW_TOKENIZER_CACHE + " (ctest runs it as a fixture)");
    auto vt = host::PluginRegistry::vtable_copy<msw_tokenizer_vtable>(registry->require(MSW_KIND_TOKENIZER, "hf_bpe"));
    slot = std::make_unique<sdk::TokenizerHandle>(vt, host::host_api(), nlohmann::json{{"model_dir", dir.string()}}.dump());
  }
  return *slot;
}

}  // namespace megaswift::test

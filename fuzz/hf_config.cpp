// config.json -> TransformerConfig as ModelRunner::from_hf_config does it: model_type picks the model plugin
// (qwen2, qwen3, llama from the build's plugin folder), the plugin's config_from_hf validates and converts,
// and the resulting transformer config is parsed back as the plugin's create() parses it.
#include "fuzz_support.hpp"
#include "quiet_logs.hpp"
#include "host/core/host_api.hpp"
#include "host/core/status.hpp"
#include "host/model/model_plugin.hpp"
#include "host/plugin_host/registry.hpp"

#include <megaswift/nn/transformer_config.hpp>

namespace {

const megaswift::host::PluginRegistry& registry() {
  static const megaswift::host::PluginRegistry r = [] {
    megaswift::host::PluginRegistry reg(megaswift::host::host_api());
    reg.load_directories(megaswift::host::PluginRegistry::search_path({}));
    if (reg.list(MSW_KIND_MODEL).empty()) {
      std::fprintf(stderr, "fuzz_hf_config: no model plugin in <exe>/../lib/megaswift/plugins (build them)\n");
      std::abort();
    }
    return reg;
  }();
  return r;
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  registry();
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace megaswift;
  const std::string text(msw_fuzz::as_text(data, size));
  try {
    const auto model = host::select_model_component(registry(), host::hf_model_type(text, "config.json"));
    const std::string transformer = host::transformer_config_from_hf(model, text, "config.json");
    // What the plugin wrote must read back: a failure here is the plugin contradicting itself.
    (void)nn::transformer_config_from_text(transformer);
  } catch (const host::HostError& e) {
    msw_fuzz::check_message(e);
  }
  return 0;
}

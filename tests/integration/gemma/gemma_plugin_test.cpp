// Google's Gemma as a third party would ship it: examples/plugins/gemma builds against the installed SDK alone,
// exports only its entry symbol, registers its own op (gemma.geglu_*) through the host table, and computes the
// same logits, loss and gradients as transformers' GemmaForCausalLM on the committed fixture.
#include "host/inference/generator.hpp"
#include "host/inference/kv_decoder.hpp"
#include "out_of_tree.hpp"
#include "parity_checks.hpp"
#include "parity_support.hpp"
#include "run_command.hpp"

#include <doctest/doctest.h>

#include <nlohmann/json.hpp>

#include <filesystem>
#include <fstream>
#include <regex>
#include <string>

namespace fs = std::filesystem;
using namespace megaswift;

namespace {

const fs::path kPrefix = MSW_INSTALL_PREFIX;

// Built once for the suite: <prefix>/../example_gemma_build/libmegaswift_model_gemma.so.
const fs::path& gemma_build() {
  static const fs::path build = [] {
    const fs::path dir = kPrefix.parent_path() / "example_gemma_build";
    testing::build_against_prefix(MSW_GEMMA_PLUGIN_DIR, dir, kPrefix, MSW_CMAKE_COMMAND);
    return dir;
  }();
  return build;
}

// The build's first-party plugins plus the out-of-tree Gemma library.
const host::PluginRegistry& registry_with_gemma() {
  static host::PluginRegistry r = [] {
    host::PluginRegistry reg(host::host_api());
    reg.load_directories({test::binary_dir() / "lib" / "megaswift" / "plugins", gemma_build()});
    return reg;
  }();
  return r;
}

}  // namespace

TEST_CASE("the gemma example plugin builds against the installed SDK alone and targets ABI 2.1") {
  testing::check_plugin_is_self_contained(gemma_build() / "libmegaswift_model_gemma.so");
  const auto list = testing::run_command(testing::shell_quoted(kPrefix / "bin" / "megatron") + " plugins --plugin_path " +
                                         testing::shell_quoted(gemma_build()));
  INFO(list.output);
  CHECK(list.status == 0);
  // Built with this SDK and needing minor 1 (register_op/call_op), so hosts of ABI 2.0 refuse it.
  const std::string built_with = std::to_string(MSW_ABI_MAJOR) + "\\." + std::to_string(MSW_ABI_MINOR);
  CHECK(std::regex_search(list.output, std::regex(R"(model\s+gemma\s+0\.1\.0\s+)" + built_with + R"(/2\.1\s)")));
}

TEST_CASE("gemma fixture: logits, loss and every gradient of the out-of-tree plugin match transformers") {
  test::check_parity(registry_with_gemma(), "gemma", "gemma");
  // The MLP ran on the plugin's own op, registered with the host when the model was created.
  for (const char* op : {"gemma.geglu_forward", "gemma.geglu_backward"}) {
    CAPTURE(op);
    const bool registered = host::host_api().find_op(op, MSW_DEVICE_CPU) != nullptr;
    CHECK(registered);
  }
}

TEST_CASE("gemma: HF -> Megatron -> HF mapping is bit-exact for every tensor") {
  test::check_round_trip(registry_with_gemma(), "gemma");
}

TEST_CASE("gemma: greedy generation with the KV cache equals transformers' generate") {
  // The plugin's decoder comes from the installed SDK's header-only layer, so it decodes as the first-party ones.
  const fs::path file = test::source_dir() / "tests/fixtures/inference/generate_fixtures.json";
  REQUIRE_MESSAGE(fs::exists(file), "missing " << file << ": run tests/fixtures/inference/make_generate_fixtures.py");
  const nlohmann::json fx = nlohmann::json::parse(std::ifstream(file));
  REQUIRE(fx["models"].contains("gemma"));
  host::ModelRunner runner =
      host::ModelRunner::from_hf_directory(registry_with_gemma(), test::source_dir() / "tests/fixtures/models/gemma");
  for (const auto& c : fx["models"]["gemma"]["cases"]) {
    const auto prompt = c["prompt"].get<std::vector<int64_t>>();
    const auto want = c["generated"].get<std::vector<int64_t>>();
    CAPTURE(prompt.size());
    inference::KvDecoder kv(runner, 1, static_cast<int64_t>(prompt.size() + want.size()));
    inference::GenerationOptions g;
    g.max_new_tokens = static_cast<int64_t>(want.size());
    CHECK(inference::generate(kv, {prompt}, g)[0].tokens == want);
  }
}

#include "pipeline_fixture.hpp"

#include "test_paths.hpp"

#include "host/config/config.hpp"
#include "host/core/host_api.hpp"

#include <unistd.h>

#include <fstream>
#include <stdexcept>

namespace megaswift::test {
namespace fs = std::filesystem;

const host::PluginRegistry& plugins() {
  static const host::PluginRegistry* registry = [] {
    auto* r = new host::PluginRegistry(host::host_api());
    r->load_library(testing::plugin_dir() / "libmegaswift_tokenizer_hf_bpe.so");
    r->load_library(testing::plugin_dir() / "libmegaswift_template_chat.so");
    return r;
  }();
  return *registry;
}

namespace {

struct Scratch {
  fs::path dir = fs::temp_directory_path() / ("msw_data_pipeline_test_" + std::to_string(::getpid()));
  Scratch() { fs::create_directories(dir); }
  ~Scratch() {
    std::error_code ec;
    fs::remove_all(dir, ec);
  }
};

fs::path qwen_tokenizer_files() {
  fs::path dir = fs::path(MSW_TOKENIZER_CACHE) / "qwen3" / "package" / "models";
  if (!fs::exists(dir / "tokenizer.json"))
    throw std::runtime_error(dir.string() + "/tokenizer.json is missing: run tests/fixtures/tokenizers/fetch.sh " +
                             MSW_TOKENIZER_CACHE + " (ctest runs it as a fixture)");
  return dir;
}

}  // namespace

fs::path scratch_dir() {
  static Scratch scratch;
  return scratch.dir;
}

fs::path make_model_dir(const std::string& name, const nlohmann::json& config, bool with_tokenizer) {
  fs::path dir = scratch_dir() / name;
  fs::create_directories(dir);
  std::ofstream(dir / "config.json") << config.dump(2);
  if (with_tokenizer)
    for (const char* file : {"tokenizer.json", "tokenizer_config.json"})
      if (!fs::exists(dir / file)) fs::create_symlink(qwen_tokenizer_files() / file, dir / file);
  return dir;
}

fs::path qwen_model_dir() {
  static const fs::path dir = make_model_dir(
      "tiny-qwen", {{"model_type", "qwen2"}, {"architectures", {"Qwen2ForCausalLM"}}, {"max_position_embeddings", 32768}});
  return dir;
}

fs::path write_jsonl(const std::string& name, const std::vector<nlohmann::json>& rows) {
  fs::path file = scratch_dir() / name;
  std::ofstream out(file);
  for (const auto& row : rows) out << row.dump() << "\n";
  return file;
}

config::ParsedArgs parse_args(config::Command command, const std::vector<std::string>& flags) {
  // The training length is required by validation; the data pipeline does not read it.
  std::vector<std::string> all = flags;
  all.insert(all.end(), {"--train_iters", "10"});
  config::ParsedArgs args = config::parse_command_line(command, all);
  config::resolve_derived_defaults(args);
  return args;
}

}  // namespace megaswift::test

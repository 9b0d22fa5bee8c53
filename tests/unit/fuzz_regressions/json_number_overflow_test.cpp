// fuzz_tokenizer_json, fuzz_dataset_rows and fuzz_cli_args: a JSON number beyond double's range (1e309) makes
// nlohmann::json::parse throw out_of_range.406, not parse_error, so every parse site that caught parse_error
// alone let it escape: std::terminate in a tool, the raw "[json.exception.out_of_range.406]" text through a
// plugin boundary. Each case feeds the reproducer to the parser and wants that parser's own error.
#include "datasets/core/columns.hpp"
#include "datasets/core/error.hpp"
#include "datasets/core/loader.hpp"
#include "datasets/core/record_reader.hpp"
#include "host/config/args.hpp"
#include "host/config/args_json.hpp"
#include "host/config/error.hpp"
#include "hf_tokenizer.hpp"
#include "scratch_dir.hpp"

#include <megaswift/sdk/status.hpp>

#include "thrown_message.hpp"

#include <doctest/doctest.h>

#include <fstream>
#include <string>

namespace {

std::filesystem::path write_file(const std::string& name, const std::string& text) {
  const auto path = megaswift::testing::scratch_dir("msw_fuzz_regressions") / name;
  std::ofstream(path, std::ios::binary) << text;
  return path;
}

template <class E, class F>
std::string error_of(F&& f) { return megaswift::testing::thrown_message<E>(std::forward<F>(f)); }

}  // namespace

TEST_CASE("a tokenizer.json holding the number 1e309 is refused as invalid JSON naming the file") {
  // fuzz_tokenizer_json's crash input, reduced: the number may sit anywhere in the document.
  hf_bpe::TokenizerFiles files;
  files.tokenizer_json = write_file("tokenizer.json", R"({"model": {"type": "BPE", "vocab": {"a": 1e309}}})").string();
  const std::string message = error_of<megaswift::sdk::Error>([&] { hf_bpe::HfTokenizer tok(files); });
  CHECK(message.find("tokenizer.json") != std::string::npos);
  CHECK(message.find("is not valid JSON") != std::string::npos);
  CHECK(message.find("1e309") != std::string::npos);
}

TEST_CASE("a JSON lines dataset row holding 1e309 is a DatasetError naming the file and line") {
  const std::string text = "{\"instruction\": \"a\", \"output\": \"b\"}\n{\"instruction\": \"a\", \"output\": 1e309}\n";
  const std::string message = error_of<megaswift::datasets::DatasetError>(
      [&] { (void)megaswift::datasets::parse_json_records(text, "rows.jsonl"); });
  CHECK(message == "rows.jsonl line 2: invalid JSON: a number is too large for a 64-bit float (e.g. 1e309)");
}

TEST_CASE("a JSON list dataset holding 1e309 is a DatasetError naming the file") {
  const auto path = write_file("rows.json", "[{\"instruction\": \"a\", \"output\": 1e309}]");
  const std::string message = error_of<megaswift::datasets::DatasetError>(
      [&] { (void)megaswift::datasets::load_dataset(path.string(), megaswift::datasets::LoadOptions{}); });
  CHECK(message.find("rows.json: invalid JSON: a number is too large") != std::string::npos);
}

TEST_CASE("a CSV list cell holding 1e309 drops the row as not a JSON list instead of escaping") {
  const auto path = write_file("rows.csv", "messages\n\"[1e309]\"\n\"[{\"\"role\"\": \"\"user\"\", \"\"content\"\": \"\"hi\"\"}, "
                                           "{\"\"role\"\": \"\"assistant\"\", \"\"content\"\": \"\"yo\"\"}]\"\n");
  const auto loaded = megaswift::datasets::load_dataset(path.string(), megaswift::datasets::LoadOptions{});
  CHECK(loaded.rows.size() == 1);
}

TEST_CASE("--columns holding 1e309 is a DatasetError saying it is not valid JSON") {
  const std::string message = error_of<megaswift::datasets::DatasetError>(
      [] { (void)megaswift::datasets::parse_columns(R"({"a": 1e309})"); });
  CHECK(message.find("--columns is not valid JSON") != std::string::npos);
}

TEST_CASE("a JSON-object flag holding 1e309 is a ConfigError naming the flag") {
  using namespace megaswift::config;
  const std::string message = error_of<ConfigError>(
      [] { (void)parse_command_line(Command::sft, {"--rope_scaling", R"({"factor": 1e309})"}); });
  CHECK(message.find("--rope_scaling") != std::string::npos);
  CHECK(message.find("is not valid JSON") != std::string::npos);
}

TEST_CASE("an args.json holding 1e309 is a ConfigError naming the file") {
  const auto path = write_file("args.json", R"({"lr": 1e309})");
  const std::string message = error_of<megaswift::config::ConfigError>(
      [&] { (void)megaswift::config::read_args_json(megaswift::config::Command::sft, path); });
  CHECK(message.find("args.json is not valid JSON") != std::string::npos);
}

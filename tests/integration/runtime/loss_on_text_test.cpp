// The installed runtime, used the way a third party would: examples/runtime/loss_on_text configures against the
// install prefix alone (find_package(MegaswiftRuntime)), builds, and prints for a text the loss HF transformers
// computes (hf_loss_on_text.py) and the in-tree model runner computes on the text's bytes (the byte-level tokenizer
// fixture maps byte b to id b, so the expected ids need no tokenizer).
#include "host/core/host_api.hpp"
#include "host/model/model_runner.hpp"
#include "host/plugin_host/registry.hpp"
#include "out_of_tree.hpp"
#include "run_command.hpp"
#include "test_paths.hpp"
#include "tree_dependencies.hpp"

#include <doctest/doctest.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <regex>
#include <sstream>
#include <string>
#include <vector>

namespace fs = std::filesystem;
using megaswift::testing::run_command;
using megaswift::testing::shell_quoted;

namespace {

const fs::path kPrefix = MSW_INSTALL_PREFIX;
const std::string kText = "Megaswift computes the loss of a tiny model on this text: na\xC3\xAFve caf\xC3\xA9.";
// HF transformers' loss (labels = input_ids) of the qwen2 fixture on kText, without and with BOS, as printed by
// hf_loss_on_text.py (transformers 5.17.0, torch 2.11.0, fp32 on the CPU).
constexpr double kHfLoss = 5.77812624;
constexpr double kHfLossWithBos = 5.81781769;

// The qwen2 fixture model with the byte-level tokenizer beside it: a complete HF model directory.
fs::path model_dir() {
  const fs::path dir = megaswift::testing::binary_dir() / "tests" / "runtime_install" / "qwen2_bytes";
  const fs::path src = megaswift::testing::source_dir() / "tests" / "fixtures";
  fs::remove_all(dir);
  fs::create_directories(dir);
  for (const char* f : {"config.json", "model.safetensors"}) fs::copy_file(src / "models" / "qwen2" / f, dir / f);
  for (const char* f : {"tokenizer.json", "tokenizer_config.json"})
    fs::copy_file(src / "tokenizers" / "byte_level" / f, dir / f);
  return dir;
}

// Configures and builds the example with only the install prefix visible; returns the program.
fs::path build_example() {
  const fs::path build = kPrefix.parent_path() / "example_loss_on_text_build";
  megaswift::testing::build_against_prefix(MSW_EXAMPLE_DIR, build, kPrefix, MSW_CMAKE_COMMAND);
  REQUIRE(fs::exists(build / "loss_on_text"));
  return build / "loss_on_text";
}

// Runs the program from / with no plugin or library path in the environment.
megaswift::testing::CommandResult run_example(const fs::path& program, const std::string& args) {
  return run_command("cd / && env -u MEGASWIFT_PLUGIN_PATH -u LD_LIBRARY_PATH " + shell_quoted(program) + " " + args);
}

double printed(const std::string& output, const std::string& key) {
  std::smatch m;
  REQUIRE_MESSAGE(std::regex_search(output, m, std::regex("(^|\\n)" + key + ": (\\S+)")), key << " is not printed");
  return std::stod(m[2].str());
}

// The mean next-token loss of the in-tree model runner (static host libraries, the build's plugins) on `ids`.
double in_tree_loss(const fs::path& dir, const std::vector<int64_t>& ids) {
  using namespace megaswift::host;
  PluginRegistry registry(host_api());
  registry.load_directories({megaswift::testing::plugin_dir()});
  ModelRunner runner = ModelRunner::from_hf_directory(registry, dir);
  Batch batch;
  batch.batch_size = 1;
  batch.seq_len = static_cast<int64_t>(ids.size());
  batch.input_ids = ids;
  batch.labels.assign(ids.begin() + 1, ids.end());
  batch.labels.push_back(-100);
  return runner.forward(batch).loss();
}

}  // namespace

TEST_CASE("the install tree holds the runtime library, its public headers and its CMake package") {
  CHECK(fs::exists(kPrefix / "lib" / "libmegaswift_runtime.so"));
  for (const char* f : {"MegaswiftRuntimeConfig.cmake", "MegaswiftRuntimeConfigVersion.cmake",
                        "MegaswiftRuntimeTargets.cmake"})
    CHECK_MESSAGE(fs::exists(kPrefix / "lib" / "cmake" / "MegaswiftRuntime" / f), f);
  const fs::path headers = kPrefix / "include" / "megaswift" / "runtime";
  for (const char* h : {"runtime.hpp", "tokenizer.hpp", "model.hpp", "template.hpp", "error.hpp", "export.hpp"})
    CHECK_MESSAGE(fs::exists(headers / h), h);
  // The public headers need nothing but each other and the standard library (no host, nlohmann or spdlog header).
  const std::regex include(R"(^\s*#\s*include\s*(\S+))");
  const std::regex allowed(R"(^(<megaswift/runtime/[a-z_]+\.hpp>|<[a-z_]+>)$)");
  for (const auto& entry : fs::directory_iterator(headers)) {
    std::ifstream in(entry.path());
    std::string line;
    while (std::getline(in, line)) {
      std::smatch m;
      if (!std::regex_search(line, m, include)) continue;
      INFO(entry.path().filename().string() << ": " << line);
      CHECK(std::regex_match(m[1].str(), allowed));
    }
  }
}

TEST_CASE("the installed runtime library exports only megaswift::runtime and resolves its libraries from lib/") {
  const fs::path library = kPrefix / "lib" / "libmegaswift_runtime.so";
  megaswift::testing::check_dependencies_resolve_inside(library, kPrefix / "lib");
  auto syms = run_command("nm -D -C --defined-only " + shell_quoted(library));
  REQUIRE(syms.status == 0);
  std::istringstream lines(syms.output);
  std::string line;
  int exported = 0;
  const std::regex ours(R"(^\S+ [A-Za-z] ((typeinfo|typeinfo name|vtable) for )?megaswift::runtime::)");
  while (std::getline(lines, line)) {
    if (line.empty()) continue;
    INFO(line);
    CHECK(std::regex_search(line, ours));
    ++exported;
  }
  CHECK(exported > 20);
  auto rpath = run_command("readelf -d " + shell_quoted(library));
  CHECK(rpath.output.find("[$ORIGIN]") != std::string::npos);
}

TEST_CASE("examples/runtime/loss_on_text builds against the installed MegaswiftRuntime alone and prints the loss") {
  const fs::path program = build_example();
  megaswift::testing::check_dependencies_resolve_inside(program, kPrefix / "lib");
  const fs::path dir = model_dir();
  std::vector<int64_t> bytes;
  for (unsigned char c : kText) bytes.push_back(c);

  auto r = run_example(program, shell_quoted(dir) + " " + shell_quoted(kText));
  INFO(r.output);
  REQUIRE(r.status == 0);
  CHECK(printed(r.output, "tokens") == static_cast<double>(bytes.size()));
  CHECK(printed(r.output, "predicted tokens") == static_cast<double>(bytes.size() - 1));
  const double loss = printed(r.output, "loss"), expected = in_tree_loss(dir, bytes);
  MESSAGE("loss_on_text: " << loss << ", in-tree model runner: " << expected << ", HF transformers: " << kHfLoss);
  CHECK(std::abs(loss - kHfLoss) <= 1e-6 * kHfLoss);
  CHECK(std::abs(loss - expected) <= 1e-6 * expected);
  CHECK(std::abs(printed(r.output, "perplexity") - std::exp(expected)) <= 1e-5 * std::exp(expected));

  // --bos puts the tokenizer's BOS (byte 1, the model's bos_token_id) first.
  auto with_bos = run_example(program, "--bos " + shell_quoted(dir) + " " + shell_quoted(kText));
  INFO(with_bos.output);
  REQUIRE(with_bos.status == 0);
  bytes.insert(bytes.begin(), 1);
  CHECK(printed(with_bos.output, "tokens") == static_cast<double>(bytes.size()));
  const double loss_with_bos = printed(with_bos.output, "loss");
  CHECK(std::abs(loss_with_bos - kHfLossWithBos) <= 1e-6 * kHfLossWithBos);
  CHECK(std::abs(loss_with_bos - in_tree_loss(dir, bytes)) <= 1e-6 * kHfLossWithBos);

  // A directory without a model is a message and exit code 1, not a crash.
  auto bad = run_example(program, shell_quoted(dir / "missing") + " 'some text'");
  CHECK(bad.status == 1);
  CHECK(bad.output.find("loss_on_text: ") != std::string::npos);
  CHECK(bad.output.find("missing") != std::string::npos);
}

// Runs the installed programs the way a user on another machine would and checks what the tree holds.
#include "out_of_tree.hpp"
#include "run_command.hpp"
#include "tree_dependencies.hpp"

#include <megaswift/c/abi.h>

#include <doctest/doctest.h>

#include <filesystem>
#include <regex>
#include <sstream>
#include <string>

namespace fs = std::filesystem;

namespace {

const fs::path kPrefix = MSW_INSTALL_PREFIX;

using Result = megaswift::testing::CommandResult;
using megaswift::testing::run_command;
Result run(const std::string& command) { return run_command(command); }

using megaswift::testing::check_dependencies_resolve_inside;
std::string quoted(const fs::path& path) { return megaswift::testing::shell_quoted(path); }
void check_dependencies_resolve_inside_tree(const fs::path& binary) {
  check_dependencies_resolve_inside(binary, kPrefix / "lib");
}

}  // namespace

TEST_CASE("the installed executables and plugins resolve their non-system libraries from the tree's lib/") {
  check_dependencies_resolve_inside_tree(kPrefix / "bin" / "megatron");
  check_dependencies_resolve_inside_tree(kPrefix / "bin" / "swift");
  for (const auto& entry : fs::directory_iterator(kPrefix / "lib" / "megaswift" / "plugins"))
    check_dependencies_resolve_inside_tree(entry.path());
}

TEST_CASE("the installed megatron lists its plugins from <exe>/../lib/megaswift/plugins") {
  Result r = run("env -u MEGASWIFT_PLUGIN_PATH " + quoted(kPrefix / "bin" / "megatron") + " plugins");
  INFO(r.output);
  CHECK(r.status == 0);
  CHECK(r.output.find("KIND") != std::string::npos);
  CHECK(r.output.find("refused") == std::string::npos);
}

TEST_CASE("the tree holds the SDK headers and CMake package but no host headers") {
  CHECK(fs::exists(kPrefix / "include" / "megaswift" / "c" / "plugin.h"));
  CHECK(fs::exists(kPrefix / "include" / "megaswift" / "sdk" / "plugin.hpp"));
  CHECK(fs::exists(kPrefix / "include" / "megaswift" / "c" / "dlpack.h"));
  CHECK(fs::exists(kPrefix / "include" / "megaswift" / "sdk" / "buffer.hpp"));
  CHECK(fs::exists(kPrefix / "lib" / "cmake" / "MegaswiftSDK" / "MegaswiftSDKConfig.cmake"));
  CHECK_FALSE(fs::exists(kPrefix / "include" / "host"));
}

TEST_CASE("the out-of-tree example plugin builds against the installed SDK alone and is listed") {
  const fs::path build = kPrefix.parent_path() / "example_lion_build";
  megaswift::testing::build_against_prefix(MSW_EXAMPLE_PLUGIN_DIR, build, kPrefix, MSW_CMAKE_COMMAND);
  megaswift::testing::check_plugin_is_self_contained(build / "libmegaswift_optimizer_lion.so");

  Result list = run(quoted(kPrefix / "bin" / "megatron") + " plugins --plugin_path " + quoted(build));
  INFO(list.output);
  CHECK(list.status == 0);
  // ABI column: built with this SDK, runs on every host of the major from minor 0 (its target).
  CHECK(std::regex_search(list.output, std::regex(R"(optimizer\s+lion\s+1\.0\.0\s+)" + std::to_string(MSW_ABI_MAJOR) +
                                                  "\\." + std::to_string(MSW_ABI_MINOR) + "/" +
                                                  std::to_string(MSW_ABI_MAJOR) + "\\.0\\s")));
}

TEST_CASE("the installed megatron trains with the out-of-tree lion optimizer plugin and saves its state") {
  const fs::path build = kPrefix.parent_path() / "example_lion_build";
  megaswift::testing::build_against_prefix(MSW_EXAMPLE_PLUGIN_DIR, build, kPrefix, MSW_CMAKE_COMMAND);
  // The tiny qwen2 fixture with the byte-level tokenizer fixture: megatron pt needs no chat tokens.
  const fs::path model = kPrefix.parent_path() / "lion_model";
  fs::create_directories(model);
  const fs::path fixtures = fs::path(MSW_TEST_SOURCE_DIR) / "tests" / "fixtures";
  for (const fs::path& f : {fixtures / "models/qwen2/config.json", fixtures / "models/qwen2/model.safetensors",
                            fixtures / "tokenizers/byte_level/tokenizer.json",
                            fixtures / "tokenizers/byte_level/tokenizer_config.json"})
    fs::copy_file(f, model / f.filename(), fs::copy_options::overwrite_existing);
  const fs::path out = kPrefix.parent_path() / "lion_run";
  fs::remove_all(out);
  Result r = run("cd " + quoted(kPrefix.parent_path()) + " && env -u MEGASWIFT_PLUGIN_PATH " +
                 quoted(kPrefix / "bin" / "megatron") + " pt --model " + quoted(model) +
                 " --dataset 'megaswift/pt-corpus#32' --split_dataset_ratio 0 --truncation_strategy right"
                 " --train_iters 3 --global_batch_size 8 --micro_batch_size 4 --eval_iters 0 --log_interval 1"
                 " --lr 1e-3 --optimizer lion --plugin_path " + quoted(build) + " --save " + quoted(out) +
                 " --add_version false --ckpt_format zarr");
  INFO(r.output);
  REQUIRE(r.status == 0);
  CHECK(r.output.find("[lion] beta1=") != std::string::npos);
  CHECK(r.output.find("iteration        3/       3") != std::string::npos);
  // Its one state tensor per parameter, under the name the plugin reports, beside the weights.
  bool state_saved = false;
  for (const auto& e : fs::directory_iterator(out / "iter_0000003"))
    state_saved |= e.path().filename().string().rfind("optimizer.state.", 0) == 0;
  CHECK(state_saved);
}

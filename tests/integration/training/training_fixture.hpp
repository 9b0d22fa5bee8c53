// What the training tests share: a scratch folder, the tiny Qwen2 model (tests/fixtures/training/make_tiny_qwen2.py
// with the real Qwen tokenizer), running `megatron` / `swift` from the build tree, and reading the step dumps
// (MEGASWIFT_DUMP_STEPS) and TensorBoard files back.
#pragma once

#include "run_command.hpp"

#include <nlohmann/json.hpp>

#include <filesystem>
#include <string>
#include <vector>

namespace megaswift::test {

// This process's scratch folder, removed at exit.
std::filesystem::path scratch();
// The tiny Qwen2 model directory (made once per process).
std::filesystem::path tiny_model();

// `megatron <args>` / `swift <args>` run in the scratch folder with `env` ("NAME=value ..." or empty) in front.
testing::CommandResult megatron(const std::string& args, const std::string& env = "");
testing::CommandResult swift(const std::string& args, const std::string& env = "");

// The JSON lines of a step dump.
std::vector<nlohmann::json> read_steps(const std::filesystem::path& file);

// The one directory below `parent` whose name starts with `prefix` (e.g. the "v0-" run folder).
std::filesystem::path only_child(const std::filesystem::path& parent, const std::string& prefix);

std::string quote(const std::filesystem::path& p);

// A whole file as bytes ("" when it cannot be read).
std::string slurp(const std::filesystem::path& p);

}  // namespace megaswift::test

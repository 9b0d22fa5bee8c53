// What the data pipeline tests share: the plugins from the build tree, temporary model directories with the real
// Qwen tokenizer files (fetched by tests/fixtures/tokenizers/fetch.sh), small dataset files, and parsed arguments.
#pragma once

#include "host/config/args.hpp"
#include "host/plugin_host/registry.hpp"

#include <nlohmann/json.hpp>

#include <filesystem>
#include <string>
#include <vector>

namespace megaswift::test {

// hf_bpe and the chat templates, loaded from the build tree's plugin folder.
const host::PluginRegistry& plugins();

// A folder for this process's files, removed at exit.
std::filesystem::path scratch_dir();

// A model directory named `name` in the scratch folder: config.json (`config`) and, unless `with_tokenizer` is
// false, the Qwen tokenizer.json and tokenizer_config.json.
std::filesystem::path make_model_dir(const std::string& name, const nlohmann::json& config, bool with_tokenizer = true);
// "tiny-qwen": model_type qwen2, max_position_embeddings 32768.
std::filesystem::path qwen_model_dir();

// A .jsonl file in the scratch folder with one line per row.
std::filesystem::path write_jsonl(const std::string& name, const std::vector<nlohmann::json>& rows);

// `megatron <command> <flags>`, parsed and with derived defaults resolved, as the front end does.
config::ParsedArgs parse_args(config::Command command, const std::vector<std::string>& flags);

}  // namespace megaswift::test

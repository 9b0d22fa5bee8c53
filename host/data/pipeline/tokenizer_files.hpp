// The Hugging Face tokenizer files of a --model directory, checked by the host so that a damaged one is named: a
// tokenizer plugin's probe only says whether it can read a directory, not what is wrong with a file in it.
#pragma once

#include <filesystem>
#include <optional>
#include <string>

namespace megaswift::data {

// Throws DataPipelineError when tokenizer.json or tokenizer_config.json exists but is not a regular file (a FIFO
// would block the plugin that opens it).
void require_regular_tokenizer_files(const std::filesystem::path& model_dir);

// Why tokenizer.json or tokenizer_config.json cannot be read as JSON (unreadable, over the size limit, not JSON, not
// an object), naming the file and the position; nothing when both are fine or absent. For the failure path only: it
// parses the files.
std::optional<std::string> damaged_tokenizer_file(const std::filesystem::path& model_dir);

}  // namespace megaswift::data

// The Hugging Face model directory given by --model, as far as the data pipeline needs it: the tokenizer files
// and the parts of config.json that pick the template and the default --max_length.
#pragma once

#include <nlohmann/json.hpp>

#include <cstddef>
#include <filesystem>
#include <optional>
#include <string>

namespace megaswift::data {

struct ModelDirectory {
  std::filesystem::path dir;
  nlohmann::json config;   // config.json; an empty object when the directory has none
  std::string model_type;  // config.json's model_type; empty when absent
  // The longest sequence the model supports, as ms-swift's max_model_len: the smallest of config.json's
  // seq_length, max_position_embeddings, n_positions, model_max_length, seq_len, max_seq_len,
  // max_sequence_length, max_seq_length. None when it has none of them.
  std::optional<std::size_t> max_model_len;
  std::string name() const;  // the directory's last component, e.g. "Qwen2.5-7B-Instruct"
};

// Reads `model` (the --model value). Throws DataPipelineError when it is not a directory (Megaswift does not
// download models) or when config.json is not valid JSON. Whether its tokenizer files can be read is the
// tokenizer plugins' call (Encoding asks the registry).
ModelDirectory open_model_directory(const std::string& model);

// True when `model` names an existing directory (a hub id such as "Qwen/Qwen2.5-7B-Instruct" usually does not).
bool is_local_directory(const std::string& model);

}  // namespace megaswift::data

// The data of a megatron pt/sft run: --model's tokenizer, the template, the datasets loaded and split, and their
// samples tokenized (eagerly on --dataset_num_proc threads, or lazily with --lazy_tokenize), with a summary.
//
//   auto registry = cli::load_plugins(...);
//   data::TrainingData data = data::build_training_data(parsed_args, *registry);
//   for (size_t i = 0; i < data.train->size(); ++i) EncodedSample s = data.train->get(i);
//   nlohmann::json summary = data::to_json(data.summary);
#pragma once

#include "host/config/args.hpp"
#include "host/data/pipeline/encoded_dataset.hpp"
#include "host/data/pipeline/encoding.hpp"
#include "host/data/pipeline/summary.hpp"

#include <filesystem>
#include <memory>
#include <vector>

namespace megaswift::host {
class PluginRegistry;
}

namespace megaswift::data {

struct BuildOptions {
  // Where dataset ids are looked up; empty: datasets::default_search_dirs() (bundled, then $MEGASWIFT_DATASETS).
  std::vector<std::filesystem::path> dataset_search_dirs;
  // Log the summary (log_summary) when done.
  bool log = true;
};

struct TrainingData {
  std::shared_ptr<const Encoding> encoding;    // tokenizer, template, encoder (the datasets share it)
  std::shared_ptr<const EncodedDataset> train;
  std::shared_ptr<const EncodedDataset> val;   // size() 0 when there is no validation split
  // For lazy datasets, the splits' summaries hold what is known up front (rows); LazyDataset::observed() the rest.
  DataSummary summary;
};

// Reads from `args` (of megatron pt or sft, after config::resolve_derived_defaults): model, template, system,
// max_length, truncation_strategy, loss_scale, dataset, val_dataset, split_dataset_ratio, data_seed (seed),
// columns, strict, model_name, model_author, dataset_num_proc, lazy_tokenize. The tokenizer is the tokenizer plugin
// whose probe accepts --model, a local Hugging Face directory (hf_bpe for tokenizer.json); --max_length unset means
// the model's max_model_len from config.json.
// Throws DataPipelineError (no usable model directory, no template), datasets::DatasetError (a dataset cannot be
// read, no training row left), TemplateMismatch (template and tokenizer do not fit), host::HostError (a plugin is
// missing).
TrainingData build_training_data(const config::ParsedArgs& args, const host::PluginRegistry& registry,
                                 const BuildOptions& options = {});

// The encoder options build_training_data() derives from the arguments (exposed for tests and for the inference
// front end, which encodes prompts the same way).
EncoderOptions encoder_options(const config::ParsedArgs& args, std::optional<std::size_t> model_max_len);

}  // namespace megaswift::data

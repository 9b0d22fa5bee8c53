// --test_convert_precision: the HF model and the Megatron checkpoint, each loaded into a ModelRunner in fp32,
// run one built-in sample; the logits are compared as ms-swift does: per-token mean |diff| over the vocabulary,
// averaged (mean_diff) or over the tokens that carry loss (mean_diff (with loss)), the largest |diff| (max_diff,
// and over loss tokens), and how many argmax tokens differ (token_diff, and over loss tokens).
#pragma once

#include "host/checkpoint/format.hpp"
#include "host/model/model_runner.hpp"

#include <nlohmann/json.hpp>

#include <cstdint>
#include <ostream>
#include <string>
#include <vector>

namespace megaswift::exporter {

struct PrecisionReport {
  double mean_diff = 0, max_diff = 0, mean_diff_with_loss = 0, max_diff_with_loss = 0;
  int64_t token_diff = 0, token_diff_with_loss = 0;
  std::vector<int64_t> hf_tokens, mg_tokens;
};

// The built-in sample: a prompt part without loss and an answer part with loss, token ids below `vocab`.
host::Batch precision_sample(int64_t vocab);

PrecisionReport compare_models(host::ModelRunner& hf, host::ModelRunner& mg);

// The lines ms-swift prints.
void print_report(const PrecisionReport& report, std::ostream& out);

// A runner of the model that `hf_config` describes, filled from a checkpoint.
host::ModelRunner runner_from_checkpoint(const host::PluginRegistry& registry, const nlohmann::json& hf_config,
                                         const host::CheckpointReader& reader, const std::string& recorded);

}  // namespace megaswift::exporter

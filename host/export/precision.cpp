#include "host/export/precision.hpp"

#include "host/checkpoint/model_io.hpp"

#include <algorithm>
#include <cmath>

namespace megaswift::exporter {

host::Batch precision_sample(int64_t vocab) {
  // 24 tokens spread over the vocabulary; the first 8 are the "prompt" (no loss), as a chat sample's user turn.
  host::Batch::Row row;
  const int64_t n = 24;
  for (int64_t i = 0; i < n; ++i) row.input_ids.push_back((i * 37 + 11) % vocab);
  for (int64_t i = 0; i < n; ++i) row.labels.push_back(i < 7 || i + 1 >= n ? -100 : row.input_ids[i + 1]);
  return host::Batch::pad({row});
}

PrecisionReport compare_models(host::ModelRunner& hf, host::ModelRunner& mg) {
  const int64_t vocab = hf.info().vocab_size;
  const host::Batch batch = precision_sample(vocab);
  const host::ForwardResult a = hf.forward(batch, true);
  const host::ForwardResult b = mg.forward(batch, true);
  PrecisionReport r;
  double sum = 0, sum_loss = 0;
  int64_t tokens_loss = 0;
  for (int64_t s = 0; s < batch.seq_len; ++s) {
    double token_sum = 0;
    int64_t ha = 0, mb = 0;
    for (int64_t v = 0; v < vocab; ++v) {  // the real vocabulary; padded rows are not HF logits
      const double x = a.logit(0, s, v), y = b.logit(0, s, v);
      const double d = std::abs(x - y);
      token_sum += d;
      r.max_diff = std::max(r.max_diff, d);
      if (batch.labels[static_cast<size_t>(s)] != -100) r.max_diff_with_loss = std::max(r.max_diff_with_loss, d);
      if (x > a.logit(0, s, ha)) ha = v;
      if (y > b.logit(0, s, mb)) mb = v;
    }
    const double token_mean = token_sum / static_cast<double>(vocab);
    sum += token_mean;
    r.hf_tokens.push_back(ha);
    r.mg_tokens.push_back(mb);
    r.token_diff += ha != mb;
    if (batch.labels[static_cast<size_t>(s)] != -100) {
      sum_loss += token_mean;
      ++tokens_loss;
      r.token_diff_with_loss += ha != mb;
    }
  }
  r.mean_diff = sum / static_cast<double>(batch.seq_len);
  r.mean_diff_with_loss = tokens_loss ? sum_loss / static_cast<double>(tokens_loss) : 0;
  return r;
}

void print_report(const PrecisionReport& r, std::ostream& out) {
  auto list = [](const std::vector<int64_t>& v) {
    std::string s = "[";
    for (size_t i = 0; i < v.size(); ++i) s += (i ? ", " : "") + std::to_string(v[i]);
    return s + "]";
  };
  out << "mean_diff: " << r.mean_diff << ", max_diff: " << r.max_diff << "\n";
  out << "mean_diff (with loss): " << r.mean_diff_with_loss << ", max_diff (with loss): " << r.max_diff_with_loss
      << " (Please check that mean_diff (with loss) is less than 0.1).\n";
  out << "hf_tokens: " << list(r.hf_tokens) << "\nmg_tokens: " << list(r.mg_tokens) << "\n";
  out << "token_diff: " << r.token_diff << "\ntoken_diff (with loss): " << r.token_diff_with_loss << "\n";
}

host::ModelRunner runner_from_checkpoint(const host::PluginRegistry& registry, const nlohmann::json& hf_config,
                                         const host::CheckpointReader& reader, const std::string& recorded) {
  host::RunnerOptions o;
  o.seed = 0;
  auto runner = host::ModelRunner::from_hf_config(registry, hf_config.dump(), o);
  host::load_parameters(runner, reader, recorded);
  return runner;
}

}  // namespace megaswift::exporter

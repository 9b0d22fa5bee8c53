#include "host/inference/full_sequence_decoder.hpp"

#include "host/core/status.hpp"

#include <string>

namespace megaswift::inference {

using host::HostError;

FullSequenceDecoder::FullSequenceDecoder(host::ModelRunner& model, int64_t rows, int64_t capacity)
    : model_(model), capacity_(capacity) {
  if (rows <= 0 || capacity <= 0)
    throw HostError(MSW_STATUS_INVALID_ARGUMENT, "a decoder needs at least one row and one token, got " +
                                                     std::to_string(rows) + " rows of " + std::to_string(capacity));
  sequences_.resize(static_cast<size_t>(rows));
}

int64_t FullSequenceDecoder::vocab_size() const { return model_.info().vocab_size; }

int64_t FullSequenceDecoder::length(int64_t row) const {
  if (row < 0 || row >= rows()) throw HostError(MSW_STATUS_INVALID_ARGUMENT, "no row " + std::to_string(row));
  return static_cast<int64_t>(sequences_[static_cast<size_t>(row)].size());
}

void FullSequenceDecoder::clear(int64_t row) {
  length(row);
  sequences_[static_cast<size_t>(row)].clear();
}

std::vector<std::vector<float>> FullSequenceDecoder::append(const std::vector<std::vector<int64_t>>& tokens) {
  if (tokens.size() != sequences_.size())
    throw HostError(MSW_STATUS_INVALID_ARGUMENT, "append takes one token list per row: " + std::to_string(tokens.size()) +
                                                     " lists for " + std::to_string(rows()) + " rows");
  std::vector<host::Batch::Row> batch_rows;
  std::vector<size_t> which;
  for (size_t i = 0; i < tokens.size(); ++i) {
    if (tokens[i].empty()) continue;
    auto& seq = sequences_[i];
    if (static_cast<int64_t>(seq.size() + tokens[i].size()) > capacity_)
      throw HostError(MSW_STATUS_INVALID_ARGUMENT, "row " + std::to_string(i) + " would pass its capacity of " +
                                                       std::to_string(capacity_) + " tokens");
    seq.insert(seq.end(), tokens[i].begin(), tokens[i].end());
    batch_rows.push_back({seq, std::vector<int64_t>(seq.size(), -100)});
    which.push_back(i);
  }
  std::vector<std::vector<float>> out(tokens.size());
  if (batch_rows.empty()) return out;
  const host::Batch batch = host::Batch::pack(batch_rows);
  const host::ForwardResult r = model_.forward(batch, true);
  const int64_t v = vocab_size();
  for (size_t k = 0; k < which.size(); ++k) {
    const int64_t last = batch.cu_seqlens[k + 1] - 1;
    auto& logits = out[which[k]];
    logits.resize(static_cast<size_t>(v));
    for (int64_t j = 0; j < v; ++j) logits[static_cast<size_t>(j)] = r.logit(0, last, j);
  }
  return out;
}

}  // namespace megaswift::inference

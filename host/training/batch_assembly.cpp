#include "host/training/batch_assembly.hpp"

#include "host/core/status.hpp"

namespace megaswift::training {
namespace {

// The samples of a row: the whole row, or the pieces its seq_boundaries mark (--packing).
template <class F>
void for_each_sequence(const data::TrainRow& row, F&& f) {
  const auto& b = row.seq_boundaries;
  if (b.size() <= 2) {
    f(size_t{0}, row.input_ids.size());
    return;
  }
  for (size_t i = 0; i + 1 < b.size(); ++i) f(static_cast<size_t>(b[i]), static_cast<size_t>(b[i + 1]));
}

bool any_packed_row(const data::MicroBatch& mb) {
  for (const auto& r : mb.rows)
    if (r.seq_boundaries.size() > 2) return true;
  return false;
}

}  // namespace

host::Batch assemble_batch(const data::MicroBatch& mb, int64_t pad_id) {
  if (mb.rows.empty()) throw host::HostError(MSW_STATUS_INTERNAL, "the data loader gave an empty micro-batch");
  for (const auto& r : mb.rows)
    if (!r.loss_scale.empty())
      throw host::HostError(MSW_STATUS_UNSUPPORTED,
                            "--loss_scale gives token weights other than 0 and 1, which the training engine does not "
                            "apply yet; use --loss_scale default (loss on every response token)");
  std::vector<host::Batch::Row> rows;
  if (mb.padding_free || any_packed_row(mb)) {
    for (const auto& r : mb.rows)
      for_each_sequence(r, [&](size_t begin, size_t end) {
        rows.push_back({{r.input_ids.begin() + static_cast<std::ptrdiff_t>(begin), r.input_ids.begin() + static_cast<std::ptrdiff_t>(end)},
                        {r.labels.begin() + static_cast<std::ptrdiff_t>(begin), r.labels.begin() + static_cast<std::ptrdiff_t>(end)}});
      });
    return host::Batch::pack(rows);
  }
  for (const auto& r : mb.rows) rows.push_back({r.input_ids, r.labels});
  return host::Batch::pad(rows, pad_id);
}

std::vector<int64_t> sequence_lengths(const data::MicroBatch& mb) {
  std::vector<int64_t> out;
  for (const auto& r : mb.rows)
    for_each_sequence(r, [&](size_t begin, size_t end) { out.push_back(static_cast<int64_t>(end - begin)); });
  return out;
}

}  // namespace megaswift::training

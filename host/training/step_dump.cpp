#include "host/training/step_dump.hpp"

#include "host/core/status.hpp"

#include <nlohmann/json.hpp>

#include <cstdlib>

namespace megaswift::training {

using nlohmann::json;

std::unique_ptr<StepDump> StepDump::from_environment() {
  const char* path = std::getenv("MEGASWIFT_DUMP_STEPS");
  if (!path || !*path) return nullptr;
  return std::make_unique<StepDump>(path);
}

StepDump::StepDump(const std::string& path) : out_(path, std::ios::app), path_(path) {
  if (!out_) throw host::HostError(MSW_STATUS_IO, "MEGASWIFT_DUMP_STEPS=" + path + ": cannot open the file for writing");
}

void StepDump::write(int64_t iteration, double lr, const std::vector<data::MicroBatch>& micro_batches, double loss,
                     double grad_norm, bool skipped) {
  json mbs = json::array();
  for (const auto& mb : micro_batches) {
    json seqs = json::array();
    for (const auto& row : mb.rows) {
      std::vector<int32_t> b = row.seq_boundaries;
      if (b.size() < 2) b = {0, static_cast<int32_t>(row.input_ids.size())};
      for (size_t i = 0; i + 1 < b.size(); ++i)
        seqs.push_back({{"input_ids", std::vector<int64_t>(row.input_ids.begin() + b[i], row.input_ids.begin() + b[i + 1])},
                        {"labels", std::vector<int64_t>(row.labels.begin() + b[i], row.labels.begin() + b[i + 1])}});
    }
    mbs.push_back(std::move(seqs));
  }
  // %.17g round-trips a double; nlohmann's dump does the same.
  out_ << json{{"iteration", iteration}, {"lr", lr},           {"loss", loss},
               {"grad_norm", grad_norm}, {"skipped", skipped}, {"micro_batches", std::move(mbs)}}
              .dump()
       << '\n';
  out_.flush();
  if (!out_) throw host::HostError(MSW_STATUS_IO, "MEGASWIFT_DUMP_STEPS=" + path_ + ": writing failed (disk full?)");
}

}  // namespace megaswift::training

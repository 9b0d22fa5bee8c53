// MEGASWIFT_DUMP_STEPS=<file>: one JSON line per training iteration with what an independent implementation needs
// to replay it: the iteration, the learning rate, every micro-batch's sequences (input ids and shifted labels, a
// packed row split into its samples) and our loss and gradient norm at full precision. The parity check
// (tests/fixtures/training/train_reference.py) trains the same steps with PyTorch + transformers from this file.
#pragma once

#include "host/data/batching/data_loader.hpp"

#include <cstdint>
#include <fstream>
#include <memory>
#include <vector>

namespace megaswift::training {

class StepDump {
 public:
  // Opens the file MEGASWIFT_DUMP_STEPS names (appending, so a resumed run continues it); null when unset.
  static std::unique_ptr<StepDump> from_environment();
  explicit StepDump(const std::string& path);
  void write(int64_t iteration, double lr, const std::vector<data::MicroBatch>& micro_batches, double loss,
             double grad_norm, bool skipped);

 private:
  std::ofstream out_;
  std::string path_;
};

}  // namespace megaswift::training

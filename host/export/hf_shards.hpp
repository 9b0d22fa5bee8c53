// Writes an HF weights directory in the layout transformers' save_pretrained produces: model.safetensors when
// everything fits one file, else model-0000k-of-0000n.safetensors (each at most --max_shard_size, a bigger
// single tensor alone in its file) and model.safetensors.index.json mapping every tensor to its file. The
// shard plan is made up front from the tensors' sizes; each shard is written (through the host's safetensors
// writer) and freed as soon as its last tensor arrives, so one shard at most is resident.
#pragma once

#include <megaswift/c/tensor.h>

#include <cstdint>
#include <filesystem>
#include <string>
#include <utility>
#include <vector>

namespace megaswift::exporter {

class HfShardWriter {
 public:
  // `plan`: every tensor (name, bytes) in the order add() will receive them.
  HfShardWriter(std::filesystem::path dir, const std::vector<std::pair<std::string, uint64_t>>& plan,
                uint64_t max_shard_size);
  void add(const std::string& name, int32_t dtype, std::vector<int64_t> shape, std::vector<uint8_t> bytes);
  // Checks that every planned tensor arrived and writes the index (when there are several files).
  void finish();
  size_t file_count() const { return files_; }

 private:
  struct Pending {
    std::string name;
    int32_t dtype;
    std::vector<int64_t> shape;
    std::vector<uint8_t> bytes;
  };
  std::string file_name(size_t shard) const;
  void flush();

  std::filesystem::path dir_;
  std::vector<std::pair<std::string, size_t>> plan_;  // name -> shard
  size_t next_ = 0, files_ = 0;
  uint64_t total_ = 0;
  std::vector<Pending> pending_;
};

}  // namespace megaswift::exporter

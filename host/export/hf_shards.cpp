#include "host/export/hf_shards.hpp"

#include "host/checkpoint/layout.hpp"
#include "host/core/status.hpp"
#include "host/model/safetensors_writer.hpp"

#include <nlohmann/json.hpp>

#include <cstdio>

namespace megaswift::exporter {

HfShardWriter::HfShardWriter(std::filesystem::path dir, const std::vector<std::pair<std::string, uint64_t>>& plan,
                             uint64_t max_shard_size)
    : dir_(std::move(dir)) {
  size_t shard = 0;
  uint64_t in_shard = 0;
  for (const auto& [name, bytes] : plan) {
    // A tensor that would overflow a non-empty shard starts the next one (as save_pretrained splits).
    if (in_shard > 0 && in_shard + bytes > max_shard_size) {
      ++shard;
      in_shard = 0;
    }
    in_shard += bytes;
    total_ += bytes;
    plan_.emplace_back(name, shard);
  }
  files_ = plan_.empty() ? 0 : shard + 1;
}

std::string HfShardWriter::file_name(size_t shard) const {
  if (files_ <= 1) return "model.safetensors";
  char buf[64];
  std::snprintf(buf, sizeof buf, "model-%05zu-of-%05zu.safetensors", shard + 1, files_);
  return buf;
}

void HfShardWriter::add(const std::string& name, int32_t dtype, std::vector<int64_t> shape, std::vector<uint8_t> bytes) {
  if (next_ >= plan_.size() || plan_[next_].first != name)
    throw host::HostError(MSW_STATUS_INTERNAL, "HF export: tensor " + name + " arrived out of the planned order");
  pending_.push_back({name, dtype, std::move(shape), std::move(bytes)});
  ++next_;
  if (next_ == plan_.size() || plan_[next_].second != plan_[next_ - 1].second) flush();
}

void HfShardWriter::flush() {
  if (pending_.empty()) return;
  std::vector<std::pair<std::string, msw_tensor>> tensors;
  for (const Pending& p : pending_) {
    msw_tensor t{};
    t.data = const_cast<uint8_t*>(p.bytes.data());
    t.device = {MSW_DEVICE_CPU, 0};
    t.dtype = p.dtype;
    msw_tensor_set_dense_shape(&t, static_cast<int32_t>(p.shape.size()), p.shape.data());
    tensors.emplace_back(p.name, t);
  }
  const auto path = dir_ / file_name(plan_[next_ - 1].second);
  host::write_safetensors(path, tensors);
  host::fsync_path(path, false);
  pending_.clear();
}

void HfShardWriter::finish() {
  if (next_ != plan_.size())
    throw host::HostError(MSW_STATUS_INTERNAL, "HF export: " + std::to_string(plan_.size() - next_) +
                                                   " planned tensors were not written");
  if (files_ <= 1) return;
  nlohmann::json map = nlohmann::json::object();
  for (const auto& [name, shard] : plan_) map[name] = file_name(shard);
  const nlohmann::json index = {{"metadata", {{"total_size", total_}}}, {"weight_map", map}};
  host::write_file_atomic(dir_ / "model.safetensors.index.json", index.dump(2));
}

}  // namespace megaswift::exporter

// A bounded, thread-safe cache from a pre-token's bytes to its BPE ids, sharded by hash so threads
// of a batch rarely wait on each other. Once a shard is full it stops inserting (HF does the same),
// which keeps the hot entries of the first few MB of text and never pays for eviction.
#pragma once

#include <array>
#include <cstdint>
#include <functional>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace hf_bpe {

class MergeCache {
 public:
  static constexpr size_t kShards = 64;
  static constexpr size_t kEntriesPerShard = 4096;
  static constexpr size_t kMaxKeyBytes = 128;

  // Appends the cached ids of `key` to `out` and returns true, or returns false.
  bool lookup(std::string_view key, size_t hash, std::vector<int32_t>& out) const {
    const Shard& s = shards_[hash % kShards];
    std::lock_guard<std::mutex> lock(s.mutex);
    auto it = s.map.find(key);
    if (it == s.map.end()) return false;
    out.insert(out.end(), it->second.begin(), it->second.end());
    return true;
  }
  void insert(std::string_view key, size_t hash, const int32_t* ids, size_t n) const {
    if (key.size() > kMaxKeyBytes) return;
    Shard& s = shards_[hash % kShards];
    std::lock_guard<std::mutex> lock(s.mutex);
    if (s.map.size() >= kEntriesPerShard) return;
    s.map.emplace(std::string(key), std::vector<int32_t>(ids, ids + n));
  }
  static size_t hash(std::string_view key) { return std::hash<std::string_view>{}(key); }

 private:
  struct Hash {
    using is_transparent = void;
    size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
  };
  struct Shard {
    mutable std::mutex mutex;
    std::unordered_map<std::string, std::vector<int32_t>, Hash, std::equal_to<>> map;
  };
  mutable std::array<Shard, kShards> shards_;
};

}  // namespace hf_bpe

#include "names.hpp"

#include <cstdio>

namespace st {

std::string shard_file_name(size_t i, size_t n) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "model-%05zu-of-%05zu.safetensors", i, n);
  return buf;
}

std::string rank_file_name(int32_t rank) {
  char buf[64];
  std::snprintf(buf, sizeof buf, ".megaswift-rank-%05d.safetensors", static_cast<int>(rank));
  return buf;
}

}  // namespace st

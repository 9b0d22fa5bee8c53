// --max_shard_size as ms-swift / transformers spell it: "5GB" (10^9), "500MB", "2GiB" (2^30), "100KB", or a
// plain byte count (a string or a JSON number).
#pragma once

#include <cstdint>
#include <string_view>

namespace st {

inline constexpr uint64_t kDefaultMaxShardSize = 5'000'000'000ull;  // transformers' default, "5GB"

// Throws INVALID_ARGUMENT naming the text and the accepted forms.
uint64_t parse_shard_size(std::string_view text);

}  // namespace st

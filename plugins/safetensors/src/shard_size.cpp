#include "shard_size.hpp"

#include <megaswift/sdk/status.hpp>

#include <array>
#include <cctype>
#include <string>
#include <utility>

namespace st {

uint64_t parse_shard_size(std::string_view text) {
  const auto fail = [&] {
    throw megaswift::sdk::Error(MSW_STATUS_INVALID_ARGUMENT,
                                "max_shard_size \"" + std::string(text) +
                                    "\" is not a size: use a byte count or a number with KB, MB, GB, TB (powers of "
                                    "1000) or KiB, MiB, GiB, TiB (powers of 1024), e.g. \"5GB\"");
  };
  size_t i = 0;
  uint64_t value = 0;
  while (i < text.size() && std::isdigit(static_cast<unsigned char>(text[i]))) {
    if (__builtin_mul_overflow(value, 10u, &value) || __builtin_add_overflow(value, static_cast<uint64_t>(text[i] - '0'), &value))
      fail();
    ++i;
  }
  if (i == 0) fail();
  std::string unit;
  for (; i < text.size(); ++i)
    if (!std::isspace(static_cast<unsigned char>(text[i]))) unit += static_cast<char>(std::toupper(static_cast<unsigned char>(text[i])));
  static const std::array<std::pair<const char*, uint64_t>, 10> kUnits{{{"", 1},
                                                                        {"B", 1},
                                                                        {"KB", 1000ull},
                                                                        {"MB", 1000ull * 1000},
                                                                        {"GB", 1000ull * 1000 * 1000},
                                                                        {"TB", 1000ull * 1000 * 1000 * 1000},
                                                                        {"KIB", 1ull << 10},
                                                                        {"MIB", 1ull << 20},
                                                                        {"GIB", 1ull << 30},
                                                                        {"TIB", 1ull << 40}}};
  for (const auto& [name, mult] : kUnits)
    if (unit == name) {
      uint64_t bytes;
      if (__builtin_mul_overflow(value, mult, &bytes) || bytes == 0) fail();
      return bytes;
    }
  fail();
  return 0;
}

}  // namespace st

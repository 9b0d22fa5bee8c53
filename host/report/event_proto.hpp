// The slice of tensorflow's Event protobuf that scalar logging needs, encoded and decoded by hand (proto3 wire
// format): Event{wall_time=1 double, step=2 int64, file_version=3 string, summary=5 Summary},
// Summary{value=1 repeated Value}, Value{tag=1 string, simple_value=2 float}.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace megaswift::report {

// Canonical proto3 serialization (fields in number order, zero scalars left out), so the bytes equal what
// protobuf's own SerializeToString gives for the same message.
std::string encode_file_version_event(double wall_time, std::string_view file_version);
std::string encode_scalar_event(double wall_time, int64_t step, std::string_view tag, float value);

struct DecodedEvent {
  double wall_time = 0;
  int64_t step = 0;
  std::optional<std::string> file_version;
  std::vector<std::pair<std::string, float>> simple_values;  // (tag, value) of each Summary.Value that has one
};

// Skips fields it does not know (other Event kinds, summary metadata, tensor values), as protobuf readers do.
// Malformed bytes throw std::invalid_argument saying what is wrong; the caller adds the file and offset.
DecodedEvent decode_event(std::string_view bytes);

}  // namespace megaswift::report

// TFRecord framing, the container of TensorBoard event files: per record a uint64 little-endian length, the
// masked CRC32C of those 8 bytes, the data, and the masked CRC32C of the data.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

namespace megaswift::report {

// The framed bytes of one record holding `data`.
std::string frame_record(std::string_view data);

struct Record {
  uint64_t offset;        // byte offset of the record's length field in the file
  std::string_view data;  // points into the buffer given to split_records
};

// Splits a whole file's bytes into records, checking every length and data CRC. A short or corrupt record throws
// HostError(MSW_STATUS_IO) naming `file` (used only in the message) and the record's byte offset.
std::vector<Record> split_records(std::string_view bytes, const std::filesystem::path& file);

}  // namespace megaswift::report

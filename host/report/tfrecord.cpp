#include "host/report/tfrecord.hpp"

#include "host/core/status.hpp"
#include "host/report/crc32c.hpp"

namespace megaswift::report {

namespace {

void put_le(std::string& out, uint64_t v, int bytes) {
  for (int i = 0; i < bytes; ++i) out.push_back(static_cast<char>((v >> (8 * i)) & 0xFFu));
}

uint64_t get_le(const char* p, int bytes) {
  uint64_t v = 0;
  for (int i = 0; i < bytes; ++i) v |= static_cast<uint64_t>(static_cast<unsigned char>(p[i])) << (8 * i);
  return v;
}

[[noreturn]] void bad(const std::filesystem::path& file, uint64_t offset, const std::string& what) {
  throw host::HostError(MSW_STATUS_IO, "TensorBoard event file " + file.string() + ": " + what + " at byte offset " +
                                           std::to_string(offset) +
                                           " (the file is damaged or was cut short; a writer that was killed leaves "
                                           "a partial last record)");
}

}  // namespace

std::string frame_record(std::string_view data) {
  std::string out;
  out.reserve(data.size() + 16);
  put_le(out, data.size(), 8);
  put_le(out, mask_crc(crc32c(out.data(), 8)), 4);
  out.append(data);
  put_le(out, mask_crc(crc32c(data)), 4);
  return out;
}

std::vector<Record> split_records(std::string_view bytes, const std::filesystem::path& file) {
  std::vector<Record> records;
  uint64_t pos = 0;
  while (pos < bytes.size()) {
    const uint64_t left = bytes.size() - pos;
    const char* p = bytes.data() + pos;
    if (left < 12) bad(file, pos, "truncated record header (" + std::to_string(left) + " of 12 bytes)");
    if (static_cast<uint32_t>(get_le(p + 8, 4)) != mask_crc(crc32c(p, 8))) bad(file, pos, "length CRC mismatch");
    const uint64_t length = get_le(p, 8);
    if (length > left - 12 || left - 12 - length < 4)
      bad(file, pos,
          "truncated record (length " + std::to_string(length) + ", " + std::to_string(left - 12) +
              " bytes follow the header, " + std::to_string(length + 4) + " needed)");
    const std::string_view data(p + 12, length);
    if (static_cast<uint32_t>(get_le(p + 12 + length, 4)) != mask_crc(crc32c(data)))
      bad(file, pos, "data CRC mismatch (record of " + std::to_string(length) + " bytes)");
    records.push_back({pos, data});
    pos += 16 + length;
  }
  return records;
}

}  // namespace megaswift::report

// The torch.save container: a ZIP of stored (uncompressed) records (formats.md 3.3).
//
// The writer emits each record with a real CRC and sizes in its local header (no data descriptor), pads the
// local header's extra field ("FB" id, 'Z' bytes) so record data starts at a multiple of 64 from the
// archive's start, as torch does, and switches to ZIP64 fields once a size, offset or count needs them.
// The reader trusts the central directory but checks every local header against it, and every size and
// offset against the archive's bounds; it refuses compressed or encrypted records.
#pragma once

#include "io.hpp"

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace torchfmt {

uint32_t crc32_of(const void* data, size_t n, uint32_t crc = 0);

struct ZipRecord {
  std::string name;
  uint64_t data_offset = 0;  // from the archive's start
  uint64_t size = 0;
  uint32_t crc = 0;
};

class ZipReader {
 public:
  // `base`/`size`: the whole archive (which may sit inside a larger file); `what` names it in errors.
  ZipReader(const uint8_t* base, size_t size, std::string what);
  const std::vector<ZipRecord>& records() const { return records_; }
  const ZipRecord* find(std::string_view name) const;
  std::string_view data(const ZipRecord& r) const {
    return {reinterpret_cast<const char*>(base_ + r.data_offset), static_cast<size_t>(r.size)};
  }
  // Checks a record's CRC-32 (done by the caller for small records; large data is read in regions).
  void verify_crc(const ZipRecord& r) const;
  const std::string& what() const { return what_; }

 private:
  [[noreturn]] void fail(const std::string& msg) const;
  const uint8_t* base_;
  size_t size_;
  std::string what_;
  std::vector<ZipRecord> records_;
};

// Writes an archive into `out` starting at its current position (offsets are archive-relative).
class ZipWriter {
 public:
  // force_zip64: ZIP64 fields and end records even when nothing needs them (what torch always writes for
  // its end records; tests use it to exercise the ZIP64 paths without 4 GiB files).
  explicit ZipWriter(OutFile& out, bool force_zip64 = false);
  void add(std::string_view name, const void* data, size_t n);
  void add(std::string_view name, std::string_view text) { add(name, text.data(), text.size()); }
  void finish();  // central directory and end records
  uint64_t size() const { return out_.position() - start_; }

 private:
  struct Central {
    std::string name;
    uint32_t crc;
    uint64_t size;
    uint64_t local_offset;
  };
  OutFile& out_;
  uint64_t start_;
  bool force64_;
  std::vector<Central> central_;
};

}  // namespace torchfmt

// File helpers: a read-only mapping of a whole file, and a buffered positional writer.
#pragma once

#include <megaswift/sdk/status.hpp>

#include <cstdint>
#include <string>
#include <string_view>

namespace torchfmt {

using megaswift::sdk::Error;

// A read-only mmap of a file (empty files map to size 0, data nullptr).
class MappedFile {
 public:
  explicit MappedFile(const std::string& path);
  ~MappedFile();
  MappedFile(const MappedFile&) = delete;
  MappedFile& operator=(const MappedFile&) = delete;
  const uint8_t* data() const { return data_; }
  size_t size() const { return size_; }
  const std::string& path() const { return path_; }
  // Lets the kernel drop the pages read so far (they are read again from the file if touched), so a reader
  // that streams a large checkpoint region by region keeps its resident memory near one region.
  void drop_resident_pages() const;

 private:
  std::string path_;
  const uint8_t* data_ = nullptr;
  size_t size_ = 0;
};

// Appends to a new file; position() counts bytes written so far.
class OutFile {
 public:
  explicit OutFile(const std::string& path);
  ~OutFile();
  OutFile(const OutFile&) = delete;
  OutFile& operator=(const OutFile&) = delete;
  void write(const void* data, size_t n);
  void write(std::string_view s) { write(s.data(), s.size()); }
  uint64_t position() const { return pos_; }
  void close(bool fsync_data);  // flushes; throws on failure
  const std::string& path() const { return path_; }

 private:
  void flush();
  std::string path_;
  int fd_ = -1;
  uint64_t pos_ = 0;
  std::string buf_;
};

// Writes `text` to `path` through a temporary sibling and a rename, so readers never see half a file.
void write_file_atomic(const std::string& path, std::string_view text, bool fsync_data = true);
std::string read_small_file(const std::string& path, size_t limit);

}  // namespace torchfmt

// POSIX file helpers that report failures as megaswift::sdk::Error naming the file.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

namespace st {

// An open file descriptor, closed on destruction.
class Fd {
 public:
  Fd() = default;
  Fd(int fd, std::string path) : fd_(fd), path_(std::move(path)) {}
  Fd(Fd&& o) noexcept : fd_(o.fd_), path_(std::move(o.path_)) { o.fd_ = -1; }
  Fd& operator=(Fd&& o) noexcept;
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  ~Fd();
  int get() const { return fd_; }
  const std::string& path() const { return path_; }
  void close();  // throws when close() reports a write error

 private:
  int fd_ = -1;
  std::string path_;
};

Fd open_read(const std::string& path);                 // NOT_FOUND when absent
Fd open_write_new(const std::string& path);            // creates or truncates
uint64_t file_size(const Fd& f);
// Reads exactly n bytes at `offset`; a short read is the file ending early (IO, "truncated").
void pread_exact(const Fd& f, void* buf, size_t n, uint64_t offset, const std::string& what);
void pwrite_all(const Fd& f, const void* buf, size_t n, uint64_t offset);
// Copies n bytes from `src` at src_off to `dst` at dst_off (copy_file_range, which may share extents, with a
// bounded-buffer fallback when the kernel cannot).
void copy_range(const Fd& src, uint64_t src_off, const Fd& dst, uint64_t dst_off, uint64_t n);
void fsync_file(const Fd& f);
void fsync_dir(const std::string& dir);
bool path_exists(const std::string& path);
std::string join(const std::string& dir, const std::string& name);

}  // namespace st

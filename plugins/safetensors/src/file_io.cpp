#include "file_io.hpp"

#include <megaswift/sdk/regular_file.hpp>
#include <megaswift/sdk/status.hpp>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>
#include <vector>

namespace st {

using megaswift::sdk::Error;

namespace {
[[noreturn]] void fail_errno(const std::string& what, const std::string& path) {
  const int e = errno;
  throw Error(e == ENOENT ? MSW_STATUS_NOT_FOUND : MSW_STATUS_IO, what + " " + path + ": " + std::strerror(e));
}
}  // namespace

Fd& Fd::operator=(Fd&& o) noexcept {
  if (this != &o) {
    if (fd_ >= 0) ::close(fd_);
    fd_ = o.fd_;
    path_ = std::move(o.path_);
    o.fd_ = -1;
  }
  return *this;
}

Fd::~Fd() {
  if (fd_ >= 0) ::close(fd_);
}

void Fd::close() {
  if (fd_ < 0) return;
  const int fd = fd_;
  fd_ = -1;
  if (::close(fd) != 0) fail_errno("cannot close", path_);
}

Fd open_read(const std::string& path) {
  // Non-blocking, so a FIFO in place of a shard does not wait forever for a writer; file_size() refuses it then.
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK);
  if (fd < 0) fail_errno("cannot open", path);
  struct stat st {};
  if (::fstat(fd, &st) == 0 && !S_ISREG(st.st_mode)) {
    ::close(fd);
    throw megaswift::sdk::not_regular_file_error("safetensors file", path, st.st_mode);
  }
  return Fd(fd, path);
}

Fd open_write_new(const std::string& path) {
  const int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) fail_errno("cannot create", path);
  return Fd(fd, path);
}

uint64_t file_size(const Fd& f) {
  struct stat st {};
  if (::fstat(f.get(), &st) != 0) fail_errno("cannot stat", f.path());
  if (!S_ISREG(st.st_mode)) throw Error(MSW_STATUS_IO, f.path() + " is not a regular file");
  return static_cast<uint64_t>(st.st_size);
}

void pread_exact(const Fd& f, void* buf, size_t n, uint64_t offset, const std::string& what) {
  auto* p = static_cast<char*>(buf);
  size_t done = 0;
  while (done < n) {
    const ssize_t r = ::pread(f.get(), p + done, n - done, static_cast<off_t>(offset + done));
    if (r < 0) {
      if (errno == EINTR) continue;
      fail_errno("cannot read " + what + " from", f.path());
    }
    if (r == 0)
      throw Error(MSW_STATUS_IO, "safetensors file " + f.path() + " is truncated: reading " + what + " needs bytes [" +
                                     std::to_string(offset) + ", " + std::to_string(offset + n) +
                                     ") but the file ends at " + std::to_string(offset + done));
    done += static_cast<size_t>(r);
  }
}

void pwrite_all(const Fd& f, const void* buf, size_t n, uint64_t offset) {
  const auto* p = static_cast<const char*>(buf);
  size_t done = 0;
  while (done < n) {
    const ssize_t r = ::pwrite(f.get(), p + done, n - done, static_cast<off_t>(offset + done));
    if (r < 0) {
      if (errno == EINTR) continue;
      fail_errno("cannot write", f.path());
    }
    done += static_cast<size_t>(r);
  }
}

void copy_range(const Fd& src, uint64_t src_off, const Fd& dst, uint64_t dst_off, uint64_t n) {
  while (n > 0) {
    loff_t in = static_cast<loff_t>(src_off), out = static_cast<loff_t>(dst_off);
    const ssize_t r = ::copy_file_range(src.get(), &in, dst.get(), &out, n, 0);
    if (r > 0) {
      src_off += static_cast<uint64_t>(r);
      dst_off += static_cast<uint64_t>(r);
      n -= static_cast<uint64_t>(r);
      continue;
    }
    if (r < 0 && errno == EINTR) continue;
    if (r == 0)
      throw Error(MSW_STATUS_IO, "staged file " + src.path() + " ends at " + std::to_string(src_off) + ", " +
                                     std::to_string(n) + " bytes short of the data to copy into " + dst.path());
    if (errno != EXDEV && errno != ENOSYS && errno != EINVAL && errno != EOPNOTSUPP)
      fail_errno("cannot copy data into", dst.path());
    // The kernel cannot copy between these files: move the bytes through a bounded buffer instead.
    std::vector<char> buf(static_cast<size_t>(std::min<uint64_t>(n, 8u << 20)));
    while (n > 0) {
      const size_t k = static_cast<size_t>(std::min<uint64_t>(n, buf.size()));
      pread_exact(src, buf.data(), k, src_off, "staged tensor data");
      pwrite_all(dst, buf.data(), k, dst_off);
      src_off += k;
      dst_off += k;
      n -= k;
    }
  }
}

void fsync_file(const Fd& f) {
  if (::fsync(f.get()) != 0) fail_errno("cannot fsync", f.path());
}

void fsync_dir(const std::string& dir) {
  Fd d(::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC), dir);
  if (d.get() < 0) fail_errno("cannot open directory", dir);
  if (::fsync(d.get()) != 0) fail_errno("cannot fsync directory", dir);
}

bool path_exists(const std::string& path) {
  struct stat st {};
  return ::stat(path.c_str(), &st) == 0;
}

std::string join(const std::string& dir, const std::string& name) {
  if (dir.empty() || dir.back() == '/') return dir + name;
  return dir + "/" + name;
}

}  // namespace st

#include "io.hpp"

#include <megaswift/sdk/regular_file.hpp>

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace torchfmt {

namespace {
std::string err() { return std::strerror(errno); }
}  // namespace

MappedFile::MappedFile(const std::string& path) : path_(path) {
  // A regular file only (sdk::RegularFile): a FIFO would block the open, a device has no size to map.
  const megaswift::sdk::RegularFile file(path, "checkpoint file");
  size_ = static_cast<size_t>(file.size());
  if (size_) {
    void* p = ::mmap(nullptr, size_, PROT_READ, MAP_PRIVATE, file.fd(), 0);
    if (p == MAP_FAILED) throw Error(MSW_STATUS_IO, path + ": cannot map: " + err());
    data_ = static_cast<const uint8_t*>(p);
  }
}

MappedFile::~MappedFile() {
  if (data_) ::munmap(const_cast<uint8_t*>(data_), size_);
}

void MappedFile::drop_resident_pages() const {
  // A read-only private file mapping has no dirty pages, so MADV_DONTNEED only discards cached copies.
  if (data_) ::madvise(const_cast<uint8_t*>(data_), size_, MADV_DONTNEED);
}

OutFile::OutFile(const std::string& path) : path_(path) {
  fd_ = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd_ < 0) throw Error(MSW_STATUS_IO, path + ": cannot create: " + err());
  buf_.reserve(1 << 20);
}

OutFile::~OutFile() {
  if (fd_ >= 0) ::close(fd_);
}

void OutFile::flush() {
  size_t done = 0;
  while (done < buf_.size()) {
    const ssize_t w = ::write(fd_, buf_.data() + done, buf_.size() - done);
    if (w < 0) {
      if (errno == EINTR) continue;
      throw Error(MSW_STATUS_IO, path_ + ": write failed: " + err());
    }
    done += static_cast<size_t>(w);
  }
  buf_.clear();
}

void OutFile::write(const void* data, size_t n) {
  if (fd_ < 0) throw Error(MSW_STATUS_INTERNAL, path_ + ": write after close");
  if (n == 0) return;
  const char* p = static_cast<const char*>(data);
  pos_ += n;
  if (buf_.size() + n <= buf_.capacity()) {
    buf_.append(p, n);
    return;
  }
  flush();
  if (n < buf_.capacity()) {
    buf_.append(p, n);
    return;
  }
  size_t done = 0;  // large payloads go straight to the file
  while (done < n) {
    const ssize_t w = ::write(fd_, p + done, n - done);
    if (w < 0) {
      if (errno == EINTR) continue;
      throw Error(MSW_STATUS_IO, path_ + ": write failed: " + err());
    }
    done += static_cast<size_t>(w);
  }
}

void OutFile::close(bool fsync_data) {
  if (fd_ < 0) return;
  flush();
  if (fsync_data && ::fsync(fd_) != 0) throw Error(MSW_STATUS_IO, path_ + ": fsync failed: " + err());
  if (::close(fd_) != 0) {
    fd_ = -1;
    throw Error(MSW_STATUS_IO, path_ + ": close failed: " + err());
  }
  fd_ = -1;
}

void write_file_atomic(const std::string& path, std::string_view text, bool fsync_data) {
  const std::string tmp = path + ".tmp";
  OutFile f(tmp);
  f.write(text);
  f.close(fsync_data);
  if (::rename(tmp.c_str(), path.c_str()) != 0)
    throw Error(MSW_STATUS_IO, path + ": cannot rename " + tmp + " into place: " + err());
}

std::string read_small_file(const std::string& path, size_t limit) {
  MappedFile f(path);
  if (f.size() > limit)
    throw Error(MSW_STATUS_IO, path + ": " + std::to_string(f.size()) + " bytes, more than the " +
                                   std::to_string(limit) + " expected for this file");
  return std::string(reinterpret_cast<const char*>(f.data()), f.size());
}

}  // namespace torchfmt

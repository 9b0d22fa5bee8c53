// Opening a file a user named (a dataset, weights, config.json, tokenizer files): only a regular file is read.
// A FIFO blocks open() and read() forever and /dev/zero or /dev/urandom never end, so each is refused with a
// message naming the path before a byte is read. The open itself is non-blocking (O_NONBLOCK), because opening a
// FIFO for reading waits for a writer; the file type is then taken from the open descriptor (fstat), so a path
// swapped between a check and the open cannot slip through. Header-only, C++17, POSIX; the host and plugins share it.
#pragma once

#include <megaswift/sdk/status.hpp>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <cstring>
#include <string>

namespace megaswift::sdk {

// "a FIFO (named pipe)", "a directory", ... for a st_mode that is not a regular file.
inline const char* file_kind_name(mode_t mode) {
  if (S_ISDIR(mode)) return "a directory";
  if (S_ISFIFO(mode)) return "a FIFO (named pipe)";
  if (S_ISCHR(mode)) return "a character device";
  if (S_ISBLK(mode)) return "a block device";
  if (S_ISSOCK(mode)) return "a socket";
  return "not a regular file";
}

inline Error not_regular_file_error(const std::string& what, const std::string& path, mode_t mode) {
  return Error(MSW_STATUS_INVALID_ARGUMENT,
               what + " " + path + " is " + file_kind_name(mode) +
                   ", not a regular file: only regular files are read (a pipe or a device could block or never end); "
                   "copy the data into a file and pass that");
}

// A regular file opened for reading; the descriptor closes with the object.
class RegularFile {
 public:
  // `what` names the file for messages ("dataset file", "model config"). Throws Error: NOT_FOUND when the path does
  // not exist, INVALID_ARGUMENT when it is not a regular file, IO for any other failure (with the errno text).
  RegularFile(const std::string& path, const std::string& what) : path_(path), what_(what) {
    fd_ = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY);
    if (fd_ < 0) {
      const int err = errno;
      if (err == ENOENT) throw Error(MSW_STATUS_NOT_FOUND, what + " " + path + " does not exist");
      throw Error(MSW_STATUS_IO, what + " " + path + " cannot be opened: " + std::strerror(err));
    }
    struct stat st{};
    if (::fstat(fd_, &st) != 0) {
      const int err = errno;
      close();
      throw Error(MSW_STATUS_IO, what + " " + path + " cannot be examined (fstat): " + std::strerror(err));
    }
    if (!S_ISREG(st.st_mode)) {
      close();
      throw not_regular_file_error(what, path, st.st_mode);
    }
    size_ = static_cast<uint64_t>(st.st_size);
    // Regular files ignore O_NONBLOCK, but the descriptor may be handed on (mmap, a plugin): leave it plain.
    const int flags = ::fcntl(fd_, F_GETFL);
    if (flags >= 0) ::fcntl(fd_, F_SETFL, flags & ~O_NONBLOCK);
  }
  RegularFile(const RegularFile&) = delete;
  RegularFile& operator=(const RegularFile&) = delete;
  ~RegularFile() { close(); }

  int fd() const { return fd_; }
  uint64_t size() const { return size_; }  // at the time of opening

  // The whole file as it was when opened (a file growing meanwhile is read up to that size, so memory stays bounded
  // by it). Refused past `max_bytes` (INVALID_ARGUMENT) before anything is allocated; a failing read is IO with the
  // errno text; a file that shrank meanwhile is IO naming both sizes.
  std::string read_all(uint64_t max_bytes) const {
    if (size_ > max_bytes)
      throw Error(MSW_STATUS_INVALID_ARGUMENT, what_ + " " + path_ + " has " + std::to_string(size_) +
                                                   " bytes, more than the " + std::to_string(max_bytes) +
                                                   " such a file may have; check that it is the right file");
    std::string text(static_cast<size_t>(size_), '\0');
    size_t done = 0;
    while (done < text.size()) {
      const ssize_t n = ::read(fd_, text.data() + done, text.size() - done);
      if (n < 0) {
        if (errno == EINTR) continue;
        throw Error(MSW_STATUS_IO, "reading " + what_ + " " + path_ + " failed after " + std::to_string(done) +
                                       " bytes: " + std::strerror(errno));
      }
      if (n == 0)
        throw Error(MSW_STATUS_IO, what_ + " " + path_ + " ended after " + std::to_string(done) + " of its " +
                                       std::to_string(size_) + " bytes (was it truncated while being read?)");
      done += static_cast<size_t>(n);
    }
    return text;
  }

 private:
  void close() {
    if (fd_ >= 0) ::close(fd_);
    fd_ = -1;
  }

  std::string path_;
  std::string what_;
  int fd_ = -1;
  uint64_t size_ = 0;
};

// The whole regular file `path`, at most `max_bytes` long (see RegularFile).
inline std::string read_regular_file(const std::string& path, const std::string& what, uint64_t max_bytes) {
  return RegularFile(path, what).read_all(max_bytes);
}

}  // namespace megaswift::sdk

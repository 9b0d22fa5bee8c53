// POSIX file helpers for checkpoint plugins: every failure names the file and says what was being done
// (header-only SDK helpers for checkpoint-format plugins).
#pragma once

#include <megaswift/sdk/regular_file.hpp>
#include <megaswift/sdk/status.hpp>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <string>
#include <vector>

namespace megaswift::ckpt {

inline std::string errno_text() { return std::strerror(errno); }

// Closes on scope exit.
class Fd {
 public:
  explicit Fd(int fd) : fd_(fd) {}
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  ~Fd() {
    if (fd_ >= 0) ::close(fd_);
  }
  int get() const { return fd_; }
  // Closes now, reporting a failure (a deferred write error surfaces here on some filesystems).
  void close_checked(const std::string& path) {
    const int fd = fd_;
    fd_ = -1;
    if (::close(fd) != 0)
      throw sdk::Error(MSW_STATUS_IO, "closing " + path + " failed: " + errno_text());
  }

 private:
  int fd_;
};

inline bool path_exists(const std::string& path) {
  struct stat st{};
  return ::stat(path.c_str(), &st) == 0;
}
inline bool is_directory(const std::string& path) {
  struct stat st{};
  return ::stat(path.c_str(), &st) == 0 && S_ISDIR(st.st_mode);
}
inline bool is_regular_file(const std::string& path) {
  struct stat st{};
  return ::stat(path.c_str(), &st) == 0 && S_ISREG(st.st_mode);
}

inline void write_all(int fd, const char* data, size_t size, const std::string& path) {
  while (size) {
    const ssize_t n = ::write(fd, data, size);
    if (n < 0) {
      if (errno == EINTR) continue;
      throw sdk::Error(MSW_STATUS_IO, "writing " + path + " failed: " + errno_text());
    }
    data += n;
    size -= static_cast<size_t>(n);
  }
}

// Reads exactly `size` bytes at `offset`; a short file is an error naming both sizes.
inline void read_exact(int fd, char* out, size_t size, const std::string& path) {
  size_t done = 0;
  while (done < size) {
    const ssize_t n = ::pread(fd, out + done, size - done, static_cast<off_t>(done));
    if (n < 0) {
      if (errno == EINTR) continue;
      throw sdk::Error(MSW_STATUS_IO, "reading " + path + " failed: " + errno_text());
    }
    if (n == 0)
      throw sdk::Error(MSW_STATUS_IO, path + " is truncated: expected " + std::to_string(size) + " bytes, found " +
                                          std::to_string(done));
    done += static_cast<size_t>(n);
  }
}

// A whole small file (metadata, JSON), refused past `max_bytes` so a wrong path cannot exhaust memory, and refused
// unless a regular file (sdk::RegularFile: a FIFO would block forever).
inline std::string read_text_file(const std::string& path, size_t max_bytes) {
  return sdk::read_regular_file(path, "checkpoint metadata file", max_bytes);
}

inline void fsync_path(const std::string& path, bool directory) {
  Fd fd(::open(path.c_str(), (directory ? O_RDONLY | O_DIRECTORY : O_RDONLY) | O_CLOEXEC));
  if (fd.get() < 0) throw sdk::Error(MSW_STATUS_IO, "cannot open " + path + " to fsync it: " + errno_text());
  if (::fsync(fd.get()) != 0) throw sdk::Error(MSW_STATUS_IO, "fsync of " + path + " failed: " + errno_text());
}

// Creates `path` (it must not exist: two writers of one file are a bug the caller reports through
// `on_exists`), writes `size` bytes, fsyncs and closes it.
template <class OnExists>
void write_new_file(const std::string& path, const char* data, size_t size, OnExists&& on_exists) {
  Fd fd(::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644));
  if (fd.get() < 0) {
    if (errno == EEXIST) on_exists();
    throw sdk::Error(MSW_STATUS_IO, "cannot create " + path + ": " + errno_text());
  }
  write_all(fd.get(), data, size, path);
  if (::fsync(fd.get()) != 0) throw sdk::Error(MSW_STATUS_IO, "fsync of " + path + " failed: " + errno_text());
  fd.close_checked(path);
}

// Replaces `path` atomically: a temporary sibling, fsync, rename.
inline void write_file_atomic(const std::string& path, const std::string& text) {
  const std::string tmp = path + ".tmp." + std::to_string(::getpid());
  {
    Fd fd(::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644));
    if (fd.get() < 0) throw sdk::Error(MSW_STATUS_IO, "cannot create " + tmp + ": " + errno_text());
    write_all(fd.get(), text.data(), text.size(), tmp);
    if (::fsync(fd.get()) != 0) throw sdk::Error(MSW_STATUS_IO, "fsync of " + tmp + " failed: " + errno_text());
    fd.close_checked(tmp);
  }
  if (::rename(tmp.c_str(), path.c_str()) != 0) {
    const std::string why = errno_text();
    ::unlink(tmp.c_str());
    throw sdk::Error(MSW_STATUS_IO, "cannot rename " + tmp + " to " + path + ": " + why);
  }
}

inline void make_directory(const std::string& path) {
  if (::mkdir(path.c_str(), 0755) != 0 && errno != EEXIST)
    throw sdk::Error(MSW_STATUS_IO, "cannot create the directory " + path + ": " + errno_text());
  if (!is_directory(path))
    throw sdk::Error(MSW_STATUS_IO, path + " exists but is not a directory");
}

inline void require_directory(const std::string& path, const char* what) {
  if (!is_directory(path))
    throw sdk::Error(MSW_STATUS_NOT_FOUND, std::string(what) + ": " + path + " is not a directory");
}

}  // namespace megaswift::ckpt

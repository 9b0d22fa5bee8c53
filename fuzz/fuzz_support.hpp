// What every fuzz target shares: the bytes as a string, and files for parsers that only read from disk.
//
// A parser's documented error (HostError, sdk::Error, ...) is caught by the target; anything else that
// escapes (another exception type, a crash, a sanitizer report) is what libFuzzer reports as a finding.
#pragma once

#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <string_view>
#include <system_error>

namespace msw_fuzz {

// Where targets store a value computed from the bytes they read, so the reads cannot be optimized away.
inline volatile unsigned sink = 0;

inline std::string_view as_text(const uint8_t* data, size_t size) {
  return {reinterpret_cast<const char*>(data), size};
}

// A folder of this process under the system temp folder, removed at exit. Per process so parallel fuzzing
// jobs (-jobs=N) never read each other's inputs.
class ScratchDir {
 public:
  ScratchDir() {
    path_ = std::filesystem::temp_directory_path() / ("msw-fuzz-" + std::to_string(::getpid()));
    std::filesystem::remove_all(path_);
    std::filesystem::create_directories(path_);
  }
  ~ScratchDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  ScratchDir(const ScratchDir&) = delete;
  ScratchDir& operator=(const ScratchDir&) = delete;
  const std::filesystem::path& path() const { return path_; }

  // Writes `bytes` to <dir>/<name> (replacing it) and returns the path. A failed write is the harness's
  // own problem, not a finding in the parser: it stops the run with a message.
  std::filesystem::path write(const std::string& name, std::string_view bytes) const {
    const std::filesystem::path p = path_ / name;
    std::ofstream out(p, std::ios::binary | std::ios::trunc);
    out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
    out.close();
    if (!out) {
      std::fprintf(stderr, "fuzz harness: cannot write %s\n", p.c_str());
      std::abort();
    }
    return p;
  }

  // Empties the folder between inputs (a parser that scans it must see only this input's files).
  void clear() const {
    for (const auto& entry : std::filesystem::directory_iterator(path_)) std::filesystem::remove_all(entry.path());
  }

 private:
  std::filesystem::path path_;
};

inline const ScratchDir& scratch() {
  static const ScratchDir dir;
  return dir;
}

// An error message must say something: an empty what() is a finding as much as a crash.
template <class E>
void check_message(const E& e) {
  if (std::string_view(e.what()).empty()) {
    std::fprintf(stderr, "fuzz: an error with an empty message\n");
    std::abort();
  }
}

}  // namespace msw_fuzz

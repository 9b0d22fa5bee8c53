#include "small_model.hpp"

#include "run_command.hpp"
#include "test_paths.hpp"

#include <stdexcept>
#include <string>
#include <unistd.h>

namespace fs = std::filesystem;

namespace crash_test {
namespace {

struct Scratch {
  fs::path dir = fs::temp_directory_path() / ("msw-crash-safety-" + std::to_string(::getpid()));
  Scratch() { fs::create_directories(dir); }
  ~Scratch() {
    std::error_code ec;
    fs::remove_all(dir, ec);
  }
};

std::string quote(const fs::path& p) { return "'" + p.string() + "'"; }

}  // namespace

fs::path scratch() {
  static Scratch s;
  return s.dir;
}

fs::path small_model() {
  static const fs::path dir = [] {
    const fs::path out = scratch() / "small-qwen2";
    const fs::path tokenizer = fs::path(MSW_TOKENIZER_CACHE) / "qwen3" / "package" / "models";
    if (!fs::exists(tokenizer / "tokenizer.json"))
      throw std::runtime_error(tokenizer.string() + "/tokenizer.json is missing: run tests/fixtures/tokenizers/fetch.sh " +
                               MSW_TOKENIZER_CACHE + " (ctest runs it as a fixture)");
    const auto r = megaswift::testing::run_command(
        "/usr/bin/python3 " + quote(megaswift::testing::source_dir() / "tests/fixtures/training/make_tiny_qwen2.py") +
        " " + quote(out) + " --hidden 16 --ffn 32 --heads 2 --kv-heads 1 --tokenizer-dir " + quote(tokenizer));
    if (r.status != 0) throw std::runtime_error("make_tiny_qwen2.py failed (python3-numpy missing?):\n" + r.output);
    return out;
  }();
  return dir;
}

}  // namespace crash_test

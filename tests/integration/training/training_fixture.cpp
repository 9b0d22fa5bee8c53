#include "training_fixture.hpp"

#include "test_paths.hpp"

#include <fstream>
#include <iterator>
#include <stdexcept>

namespace fs = std::filesystem;

namespace megaswift::test {
namespace {

struct Scratch {
  fs::path dir = fs::temp_directory_path() / ("msw-training-" + std::to_string(::getpid()));
  Scratch() { fs::create_directories(dir); }
  ~Scratch() {
    std::error_code ec;
    fs::remove_all(dir, ec);
  }
};

testing::CommandResult run_binary(const char* name, const std::string& args, const std::string& env) {
  return testing::run_command("cd " + quote(scratch()) + " && env " + env + " " +
                              quote(testing::binary_dir() / "bin" / name) + " " + args);
}

}  // namespace

std::string quote(const fs::path& p) { return "'" + p.string() + "'"; }

std::string slurp(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

fs::path scratch() {
  static Scratch s;
  return s.dir;
}

fs::path tiny_model() {
  static const fs::path dir = [] {
    const fs::path out = scratch() / "tiny-qwen2";
    const fs::path tokenizer = fs::path(MSW_TOKENIZER_CACHE) / "qwen3" / "package" / "models";
    if (!fs::exists(tokenizer / "tokenizer.json"))
      throw std::runtime_error(tokenizer.string() + "/tokenizer.json is missing: run tests/fixtures/tokenizers/fetch.sh " +
                               MSW_TOKENIZER_CACHE + " (ctest runs it as a fixture)");
    const auto r = testing::run_command("/usr/bin/python3 " +
                                        quote(testing::source_dir() / "tests/fixtures/training/make_tiny_qwen2.py") +
                                        " " + quote(out) + " --tokenizer-dir " + quote(tokenizer));
    if (r.status != 0) throw std::runtime_error("make_tiny_qwen2.py failed (python3-numpy missing?):\n" + r.output);
    return out;
  }();
  return dir;
}

testing::CommandResult megatron(const std::string& args, const std::string& env) {
  return run_binary("megatron", args, env);
}
testing::CommandResult swift(const std::string& args, const std::string& env) { return run_binary("swift", args, env); }

std::vector<nlohmann::json> read_steps(const fs::path& file) {
  std::ifstream in(file);
  if (!in) throw std::runtime_error("no step dump at " + file.string());
  std::vector<nlohmann::json> out;
  for (std::string line; std::getline(in, line);)
    if (!line.empty()) out.push_back(nlohmann::json::parse(line));
  return out;
}

fs::path only_child(const fs::path& parent, const std::string& prefix) {
  std::vector<fs::path> found;
  for (const auto& e : fs::directory_iterator(parent))
    if (e.path().filename().string().rfind(prefix, 0) == 0) found.push_back(e.path());
  if (found.size() != 1)
    throw std::runtime_error(std::to_string(found.size()) + " entries named " + prefix + "* in " + parent.string());
  return found[0];
}

}  // namespace megaswift::test

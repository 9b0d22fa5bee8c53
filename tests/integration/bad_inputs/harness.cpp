#include "bad_input_case.hpp"

#include "scratch_dir.hpp"
#include "test_paths.hpp"

#include <nlohmann/json.hpp>
#include <sys/stat.h>

#include <cstdlib>
#include <fstream>
#include <iterator>
#include <sstream>

namespace megaswift::bad_inputs {
namespace fs = std::filesystem;

namespace {
File file(File::Kind kind, std::string path, std::string content = {}) {
  File f;
  f.kind = kind;
  f.path = std::move(path);
  f.content = std::move(content);
  return f;
}
}  // namespace

File text(std::string path, std::string content) { return file(File::Kind::text, std::move(path), std::move(content)); }
File fixture(std::string path, std::string fixture_path) {
  return file(File::Kind::copy, std::move(path), std::move(fixture_path));
}
File fifo(std::string path) { return file(File::Kind::fifo, std::move(path)); }
File directory(std::string path) { return file(File::Kind::directory, std::move(path)); }
File symlink(std::string path, std::string target) {
  return file(File::Kind::symlink, std::move(path), std::move(target));
}
File filled(std::string path, std::string head, std::size_t fill_bytes, std::string tail, char fill) {
  File f = file(File::Kind::filled, std::move(path), std::move(head));
  f.tail = std::move(tail);
  f.fill_bytes = fill_bytes;
  f.fill = fill;
  return f;
}
File truncated(std::string path, std::size_t bytes) {
  File f = file(File::Kind::truncate, std::move(path));
  f.fill_bytes = bytes;
  return f;
}
File removed(std::string path) { return file(File::Kind::remove, std::move(path)); }

std::string model_config(const std::string& edit) {
  std::ifstream in(testing::source_dir() / "tests/fixtures/models/qwen2/config.json");
  nlohmann::json config = nlohmann::json::parse(in);
  config.merge_patch(nlohmann::json::parse(edit));
  return config.dump(2);
}

std::vector<File> model(const std::string& dir, const std::string& config) {
  return {config.empty() ? fixture(dir + "/config.json", "models/qwen2/config.json") : text(dir + "/config.json", config),
          fixture(dir + "/model.safetensors", "models/qwen2/model.safetensors"),
          fixture(dir + "/tokenizer.json", "tokenizers/byte_level/tokenizer.json"),
          fixture(dir + "/tokenizer_config.json", "tokenizers/byte_level/tokenizer_config.json")};
}

std::vector<File> with_model(std::vector<File> more, const std::string& config) {
  std::vector<File> out = model("model", config);
  out.insert(out.end(), more.begin(), more.end());
  return out;
}

std::vector<std::string> train_args(std::vector<std::string> head, int iters) {
  head.emplace_back("--train_iters");
  head.push_back(std::to_string(iters));
  for (const char* a : { "--global_batch_size", "2", "--micro_batch_size", "1", "--eval_iters", "0",
                        "--split_dataset_ratio", "0", "--log_interval", "1", "--lr", "1e-4"})
    head.emplace_back(a);
  return head;
}

std::vector<Registered>& registry() {
  static std::vector<Registered> cases;
  return cases;
}

bool add(const char* name, CaseFactory make) {
  registry().push_back({name, make});
  return true;
}

namespace {

void make(const fs::path& root, const File& f) {
  const fs::path p = root / f.path;
  fs::create_directories(p.parent_path());
  switch (f.kind) {
    case File::Kind::text: {
      std::ofstream(p, std::ios::binary) << f.content;
      break;
    }
    case File::Kind::copy: fs::copy_file(testing::source_dir() / "tests/fixtures" / f.content, p); break;
    case File::Kind::fifo: REQUIRE(::mkfifo(p.c_str(), 0644) == 0); break;
    case File::Kind::directory: fs::create_directories(p); break;
    case File::Kind::symlink: fs::create_symlink(f.content, p); break;
    case File::Kind::filled: {
      std::ofstream out(p, std::ios::binary);
      out << f.content;
      const std::string block(1 << 20, f.fill);
      for (std::size_t left = f.fill_bytes; left > 0;) {
        const std::size_t n = std::min(left, block.size());
        out.write(block.data(), static_cast<std::streamsize>(n));
        left -= n;
      }
      out << f.tail;
      break;
    }
    case File::Kind::truncate: fs::resize_file(p, f.fill_bytes); break;
    case File::Kind::remove: fs::remove_all(p); break;
  }
}

bool contains(const std::string& haystack, const std::string& needle) {
  return haystack.find(needle) != std::string::npos;
}

// What must never reach a user, whatever the input: a raw library exception or a crash report.
// (A JSON library's text after our own sentence naming the file is fine; on its own it is not.)
constexpr const char* kNeverShown[] = {"terminate called", "what():", "error: [json.exception", "basic_string::",
                                       "vector::reserve", "vector::_M", "std::bad_alloc"};

}  // namespace

void run(const char* name, const Case& c) {
  REQUIRE(!c.args.empty());
  const fs::path scratch = testing::scratch_dir("msw_bad_inputs");
  // One directory per case (a process may run several), removed when the case is done: some inputs are large.
  static int counter = 0;
  const fs::path dir = scratch / ("case" + std::to_string(counter++));
  struct Cleanup {
    fs::path dir;
    ~Cleanup() {
      std::error_code ec;
      fs::remove_all(dir, ec);
      fs::remove(dir.string() + ".output", ec);
    }
  } cleanup{dir};
  fs::create_directories(dir);
  for (const File& f : c.files) make(dir, f);

  auto command = [](std::vector<std::string> args) {
    args[0] = (testing::binary_dir() / "bin" / args[0]).string();
    return args;
  };
  std::vector<std::string> env = {"MEGASWIFT_PLUGIN_PATH", "NPROC_PER_NODE", "CUDA_VISIBLE_DEVICES="};
  for (const auto& setup : c.setup) {
    const RunResult s = run_bounded(command(setup), dir, env, Bounds{1024, 60});
    INFO("setup output:\n" << s.output);
    REQUIRE(s.exit_code == 0);
  }
  for (const File& f : c.after) make(dir, f);
  env.insert(env.end(), c.env.begin(), c.env.end());
  const RunResult r = run_bounded(command(c.args), dir, env, c.bounds);

  // MSW_BAD_INPUTS_SHOW=1 prints what each case's user sees (the last lines), to review the messages.
  if (const char* show = std::getenv("MSW_BAD_INPUTS_SHOW"); show && *show == '1') {
    const auto cut = r.output.rfind('\n', r.output.size() > 1 ? r.output.size() - 2 : 0);
    MESSAGE(std::string(name) << " -> " << r.exit_code << " | " << r.peak_rss_mib << " MiB " << r.seconds << " s | "
                 << (cut == std::string::npos ? r.output : r.output.substr(cut + 1)));
  }
  INFO("case: " << std::string(name));
  INFO("output (last 3000 bytes):\n" << (r.output.size() > 3000 ? r.output.substr(r.output.size() - 3000) : r.output));
  INFO("peak memory " << r.peak_rss_mib << " MiB, " << r.seconds << " s");
  CHECK_FALSE(r.killed_for_time);
  CHECK_FALSE(r.killed_for_memory);
  CHECK(r.signal == 0);
  CHECK(r.exit_code == c.exit_code);
  CHECK(contains(r.output, c.message));
  for (const char* raw : kNeverShown) CHECK_FALSE(contains(r.output, raw));
  for (const std::string& a : c.absent) CHECK_FALSE(contains(r.output, a));
  CHECK(r.peak_rss_mib <= c.bounds.max_rss_mib);
  CHECK(r.seconds <= c.bounds.max_seconds);
}

}  // namespace megaswift::bad_inputs

namespace {

using megaswift::bad_inputs::Case;
using megaswift::bad_inputs::registry;

// A markdown table cell: pipes escaped, the message in code.
std::string cell(std::string s) {
  std::string out;
  for (char ch : s) {
    if (ch == '|') out += "\\|";
    else if (ch == '\n') out += ' ';
    else out += ch;
  }
  return out;
}

std::string row_of(const char* name, const Case& c) {
  std::ostringstream row;
  std::ostringstream bounds;
  bounds << c.bounds.max_rss_mib << " MiB, " << c.bounds.max_seconds << " s";
  row << "| " << cell(c.input) << " | " << cell(c.wrong) << " | `" << cell(c.message) << "` | " << c.exit_code << " | "
      << bounds.str() << " | `test_bad_inputs: " << cell(name) << "` |";
  return row.str();
}

}  // namespace

// The table in docs/errors.md is this list: a case without its row (or a row whose case is gone) fails here, and
// the message holds the rows to paste.
TEST_CASE("docs/errors.md has one row for every bad-input case, with its message, exit code and bounds") {
  std::ifstream in(megaswift::testing::source_dir() / "docs/errors.md");
  const std::string doc((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  std::string missing;
  for (const auto& r : registry()) {
    const std::string row = row_of(r.name, r.make());
    if (doc.find(row) == std::string::npos) missing += row + "\n";
  }
  // MSW_BAD_INPUTS_TABLE=<file> writes every row there, in registration order, to regenerate the table.
  if (const char* out = std::getenv("MSW_BAD_INPUTS_TABLE"); out && *out) {
    std::ofstream table(out);
    for (const auto& r : registry()) table << row_of(r.name, r.make()) << "\n";
  }
  INFO("rows to put into docs/errors.md (MSW_BAD_INPUTS_TABLE=<file> writes them all):\n" << missing);
  CHECK(missing.empty());
  CHECK(registry().size() >= 80);
}

// Hostile run settings (issue 12) that used to pass without a word: NPROC_PER_NODE of abc or -1 (atoi read them as
// "one process"), a --model that is a file or missing, a config.json vocab_size smaller than the tokenizer's.
#include "host/config/config.hpp"
#include "host/core/status.hpp"
#include "host/training/feature_flags.hpp"
#include "host/training/model_source.hpp"
#include "host_failure.hpp"
#include "scratch_dir.hpp"

#include <doctest/doctest.h>

#include <cstdlib>
#include <fstream>

using namespace megaswift;
namespace fs = std::filesystem;

namespace {

using test::Failure;
using test::failure_of;

config::ParsedArgs sft(std::vector<std::string> extra) {
  std::vector<std::string> args{"--dataset", "d.jsonl", "--train_iters", "1"};
  args.insert(args.end(), extra.begin(), extra.end());
  return config::parse_command_line(config::Command::sft, args);
}

// Sets NPROC_PER_NODE for one test and restores the environment after it.
struct NprocPerNode {
  explicit NprocPerNode(const char* value) { ::setenv("NPROC_PER_NODE", value, 1); }
  ~NprocPerNode() { ::unsetenv("NPROC_PER_NODE"); }
};

}  // namespace

TEST_CASE("NPROC_PER_NODE that is not a whole number of at least 1 is refused, naming the value") {
  for (const char* bad : {"abc", "-1", "0", "2x", " 2", "1.5", "99999999999999999999"}) {
    CAPTURE(bad);
    const Failure f = failure_of([&] { training::nproc_per_node(bad); });
    CHECK(f.code == MSW_STATUS_INVALID_ARGUMENT);
    CHECK(f.message == std::string("NPROC_PER_NODE=") + bad + ": not a number of processes; set it to a whole "
                       "number of at least 1 (1 trains in one process) or unset it");
  }
  CHECK(training::nproc_per_node("1") == 1);
  CHECK(training::nproc_per_node("8") == 8);
}

TEST_CASE("check_feature_flags reads NPROC_PER_NODE strictly: abc and -1 fail, 1 and empty pass, 2 is unsupported") {
  const config::ParsedArgs args = sft({"--model", "m"});
  {
    NprocPerNode env("abc");
    CHECK(failure_of([&] { training::check_feature_flags(args); }).code == MSW_STATUS_INVALID_ARGUMENT);
  }
  {
    NprocPerNode env("-1");
    CHECK(failure_of([&] { training::check_feature_flags(args); }).message.find("NPROC_PER_NODE=-1: not a number") == 0);
  }
  {
    NprocPerNode env("1");
    CHECK_NOTHROW(training::check_feature_flags(args));
  }
  {
    NprocPerNode env("");
    CHECK_NOTHROW(training::check_feature_flags(args));
  }
  {
    NprocPerNode env("2");
    CHECK(failure_of([&] { training::check_feature_flags(args); }).code == MSW_STATUS_UNSUPPORTED);
  }
}

TEST_CASE("a --model that is a file is refused even when --load has a config.json") {
  const fs::path dir = testing::scratch_dir("msw_hostile_training_file");
  std::ofstream(dir / "config.json") << "{}";
  const fs::path file = dir / "config.json";
  const Failure f = failure_of([&] { training::model_directory(sft({"--model", file.string(), "--load", dir.string()})); });
  CHECK(f.code == MSW_STATUS_INVALID_ARGUMENT);
  CHECK(f.message.find("--model " + file.string() + " is a file, not a directory") == 0);
}

TEST_CASE("a missing --model without a usable --load is refused, naming it") {
  const Failure f = failure_of([] { training::model_directory(sft({"--model", "/nonexistent/model"})); });
  CHECK(f.code == MSW_STATUS_NOT_FOUND);
  CHECK(f.message.find("--model /nonexistent/model is not a local directory") == 0);
}

TEST_CASE("a missing --model beside a --load with config.json falls back to --load (with a warning)") {
  const fs::path dir = testing::scratch_dir("msw_hostile_training_load");
  std::ofstream(dir / "config.json") << "{}";
  CHECK(training::model_directory(sft({"--model", "Qwen/Qwen2.5-0.5B", "--load", dir.string()})) == dir);
}

TEST_CASE("a config.json vocab_size smaller than the tokenizer's vocabulary is refused with both sizes") {
  const Failure f = failure_of([] { training::check_vocab_fits(1000, 151665, "/models/q"); });
  CHECK(f.code == MSW_STATUS_INVALID_ARGUMENT);
  CHECK(f.message == "/models/q/config.json: vocab_size 1000 is smaller than the tokenizer's vocabulary (151665 "
                     "tokens): token ids from 1000 up would have no embedding row. Use the config.json and tokenizer "
                     "of one model (set vocab_size to at least 151665 when training from scratch)");
  CHECK_NOTHROW(training::check_vocab_fits(151936, 151665, "/models/q"));  // padded larger: normal
  CHECK_NOTHROW(training::check_vocab_fits(1000, 1000, "/models/q"));
}

// `swift export` through the real binary. Every fixture model whose model plugin is built goes HF -> checkpoint
// -> HF in every available format: fp32 bit-exact against the fixture; bf16 (--torch_dtype bfloat16) equal to
// the fixture rounded to nearest even, and a second trip from that bf16 directory bit-exact. Then
// --test_convert_precision, --max_shard_size and the error cases.
#include "run_command.hpp"

#include "host/checkpoint/dtype_cast.hpp"
#include "host/checkpoint/format.hpp"
#include "host/core/host_api.hpp"
#include "host/model/model_plugin.hpp"
#include "host/model/safetensors.hpp"

#include <doctest/doctest.h>
#include <nlohmann/json.hpp>

#include <cstdlib>
#include <cstring>
#include <fstream>
#include <regex>
#include <set>
#include <sstream>
#include <unistd.h>

namespace fs = std::filesystem;
namespace host = megaswift::host;
using megaswift::testing::CommandResult;

namespace {

const fs::path kFixtures = MSW_FIXTURE_DIR;

const host::PluginRegistry& registry() {
  static host::PluginRegistry r = [] {
    host::PluginRegistry reg(host::host_api());
    reg.load_directories({fs::path(MSW_CKPT_TEST_PLUGIN_DIR), fs::path(MEGASWIFT_TEST_BINARY_DIR) / "lib" / "megaswift" / "plugins"});
    return reg;
  }();
  return r;
}

struct Scratch {
  Scratch() {
    path = fs::temp_directory_path() / ("msw_export_" + std::to_string(::getpid()) + "_" + std::to_string(counter++));
    fs::remove_all(path);
    fs::create_directories(path);
  }
  ~Scratch() {
    std::error_code ec;
    fs::remove_all(path, ec);
  }
  fs::path path;
  static inline int counter = 0;
};

// host_writer: --to_hf writes through the host's safetensors writer instead of the safetensors plugin.
CommandResult swift(const std::string& args, bool host_writer = false) {
  return megaswift::testing::run_command(std::string(host_writer ? "MEGASWIFT_EXPORT_HOST_WRITER=1 " : "") + "'" +
                                         MSW_BIN_DIR + "/swift' export --plugin_path '" + MSW_CKPT_TEST_PLUGIN_DIR +
                                         "' " + args);
}

bool have_safetensors_plugin() { return registry().find(MSW_KIND_CHECKPOINT, "safetensors") != nullptr; }

std::string q(const fs::path& p) { return "'" + p.string() + "'"; }

// The fixture models whose model plugin is in the build.
std::vector<std::string> fixture_models() {
  std::vector<std::string> out;
  for (const auto& e : fs::directory_iterator(kFixtures)) {
    if (!fs::exists(e.path() / "config.json")) continue;
    std::ifstream in(e.path() / "config.json");
    const auto type = nlohmann::json::parse(in)["model_type"].get<std::string>();
    bool served = false;
    for (const auto& c : host::model_components(registry()))
      for (const auto& t : c.hf_model_types) served |= t == type;
    if (served) out.push_back(e.path().filename().string());
    else MESSAGE("skipping fixture " << e.path().filename().string() << ": no model plugin serves " << type);
  }
  std::sort(out.begin(), out.end());
  return out;
}

std::vector<std::string> formats() { return host::checkpoint_format_names(registry()); }

// Every tensor of the HF directory `a` equals (dtype, shape, bytes) the one of `b`, and both have the same names.
// With `as_dtype` set, `a` is first rounded to that dtype.
void check_same_weights(const fs::path& a, const fs::path& b, int32_t as_dtype = -1) {
  const host::SafetensorsCheckpoint ca(a), cb(b);
  REQUIRE(ca.names() == cb.names());
  for (const std::string& name : ca.names()) {
    CAPTURE(name);
    const host::TensorRef x = ca.get(name), y = cb.get(name);
    CHECK(x.entry->shape == y.entry->shape);
    auto xb = x.file->bytes(*x.entry);
    std::vector<uint8_t> want(xb.size());
    std::memcpy(want.data(), xb.data(), xb.size());
    if (as_dtype >= 0 && as_dtype != x.entry->msw_dtype) {
      int64_t n = 1;
      for (int64_t v : x.entry->shape) n *= v;
      want.assign(static_cast<size_t>(n) * msw_dtype_size(as_dtype), 0);
      host::cast_floats(xb.data(), x.entry->msw_dtype, want.data(), as_dtype, n);
      CHECK(y.entry->msw_dtype == as_dtype);
    } else {
      CHECK(y.entry->msw_dtype == x.entry->msw_dtype);
    }
    auto yb = y.file->bytes(*y.entry);
    REQUIRE(yb.size() == want.size());
    CHECK(std::memcmp(yb.data(), want.data(), want.size()) == 0);
  }
}

double number_after(const std::string& text, const std::string& label) {
  std::smatch m;
  const std::regex re(std::regex_replace(label, std::regex(R"([()])"), R"(\$&)") + R"(: ([-+0-9.eE]+|nan|inf))");
  if (!std::regex_search(text, m, re)) return -1;
  return std::stod(m[1].str());
}

}  // namespace

TEST_CASE("HF -> each checkpoint format -> HF is bit-exact for every fixture model, fp32 and bf16") {
  const auto models = fixture_models();
  REQUIRE(models.size() >= 4);
  for (const std::string& format : formats()) {
    for (const std::string& model : models) {
      CAPTURE(format);
      CAPTURE(model);
      Scratch s;
      const fs::path src = kFixtures / model;
      // fp32: the fixture's own dtype.
      CommandResult r = swift("--model " + q(src) + " --to_mcore true --ckpt_format " + format + " --output_dir " +
                              q(s.path / "mcore"));
      INFO(r.output);
      REQUIRE(r.status == 0);
      CHECK(fs::exists(s.path / "mcore" / "iter_0000001"));
      CHECK(fs::exists(s.path / "mcore" / "args.json"));
      CHECK(fs::exists(s.path / "mcore" / "config.json"));
      r = swift("--mcore_model " + q(s.path / "mcore") + " --to_hf true --output_dir " + q(s.path / "hf"));
      INFO(r.output);
      REQUIRE(r.status == 0);
      CHECK(r.output.find("B/s)") != std::string::npos);
      check_same_weights(src, s.path / "hf");
      if (have_safetensors_plugin()) {  // the other HF writer too
        r = swift("--mcore_model " + q(s.path / "mcore") + " --to_hf true --output_dir " + q(s.path / "hf_host"), true);
        REQUIRE(r.status == 0);
        check_same_weights(src, s.path / "hf_host");
      }

      // bf16: rounded once on the way in, then exact.
      r = swift("--model " + q(src) + " --to_mcore true --torch_dtype bfloat16 --ckpt_format " + format +
                " --output_dir " + q(s.path / "mcore16"));
      REQUIRE(r.status == 0);
      r = swift("--mcore_model " + q(s.path / "mcore16") + " --to_hf true --output_dir " + q(s.path / "hf16"));
      INFO(r.output);
      REQUIRE(r.status == 0);
      check_same_weights(src, s.path / "hf16", MSW_DTYPE_BF16);
      r = swift("--model " + q(s.path / "hf16") + " --to_mcore true --ckpt_format " + format + " --output_dir " +
                q(s.path / "mcore16b"));
      REQUIRE(r.status == 0);
      r = swift("--mcore_model " + q(s.path / "mcore16b") + " --to_hf true --output_dir " + q(s.path / "hf16b"));
      REQUIRE(r.status == 0);
      check_same_weights(s.path / "hf16", s.path / "hf16b");
    }
  }
}

TEST_CASE("--test_convert_precision prints ms-swift's lines with mean_diff (with loss) below 1e-5 in fp32") {
  Scratch s;
  for (const char* dir : {"to_mcore", "to_hf"}) {
    CAPTURE(dir);
    const bool to_mcore = std::string(dir) == "to_mcore";
    const CommandResult r =
        to_mcore ? swift("--model " + q(kFixtures / "qwen2") + " --to_mcore true --ckpt_format rawdir "
                         "--test_convert_precision true --output_dir " + q(s.path / "mcore"))
                 : swift("--mcore_model " + q(s.path / "mcore") + " --to_hf true --test_convert_precision true "
                         "--output_dir " + q(s.path / "hf"));
    INFO(r.output);
    REQUIRE(r.status == 0);
    const double mean_loss = number_after(r.output, "mean_diff (with loss)");
    CHECK(mean_loss >= 0);
    CHECK(mean_loss < 1e-5);
    CHECK(number_after(r.output, "mean_diff") >= 0);
    CHECK(number_after(r.output, "max_diff") >= 0);
    CHECK(number_after(r.output, "max_diff (with loss)") >= 0);
    CHECK(number_after(r.output, "token_diff") == 0);
    CHECK(r.output.find("hf_tokens: [") != std::string::npos);
  }
}

TEST_CASE("--max_shard_size splits the HF weights with an index, as save_pretrained does") {
  Scratch s;
  REQUIRE(swift("--model " + q(kFixtures / "qwen2") + " --to_mcore true --ckpt_format rawdir --output_dir " +
                q(s.path / "mcore")).status == 0);
  for (bool host_writer : {false, true}) {
  CAPTURE(host_writer);
  const fs::path out = s.path / (host_writer ? "hf_host" : "hf");
  const CommandResult r = swift("--mcore_model " + q(s.path / "mcore") + " --to_hf true --max_shard_size 100KB "
                                "--output_dir " + q(out), host_writer);
  INFO(r.output);
  REQUIRE(r.status == 0);
  std::ifstream in(out / "model.safetensors.index.json");
  REQUIRE(in);
  const auto index = nlohmann::json::parse(in);
  std::set<std::string> files;
  for (const auto& [name, file] : index["weight_map"].items()) files.insert(file.get<std::string>());
  CHECK(files.size() > 2);
  for (const auto& f : files) {
    CHECK(fs::exists(out / f));
    CHECK(f.find("-of-0000") != std::string::npos);
  }
  CHECK_FALSE(fs::exists(out / "model.safetensors"));
  check_same_weights(kFixtures / "qwen2", out);
  }
  CHECK(swift("--mcore_model " + q(s.path / "mcore") + " --to_hf true --max_shard_size lots --output_dir " +
              q(s.path / "hf2")).output.find("--max_shard_size 'lots' is not a size") != std::string::npos);
}

TEST_CASE("export errors: unknown --ckpt_format, missing tracker, a checkpoint of another model, an existing output") {
  Scratch s;
  CommandResult r = swift("--model " + q(kFixtures / "qwen2") + " --to_mcore true --ckpt_format foo --output_dir " +
                          q(s.path / "x"));
  INFO(r.output);
  CHECK(r.status != 0);
  CHECK(r.output.find("unknown --ckpt_format 'foo': available: ") != std::string::npos);
  CHECK(r.output.find("rawdir") != std::string::npos);

  // A directory with a config.json but no tracker.
  fs::create_directories(s.path / "notrack");
  fs::copy_file(kFixtures / "qwen2" / "config.json", s.path / "notrack" / "config.json");
  r = swift("--mcore_model " + q(s.path / "notrack") + " --to_hf true --output_dir " + q(s.path / "y"));
  CHECK(r.status != 0);
  CHECK(r.output.find("latest_checkpointed_iteration.txt") != std::string::npos);

  // A qwen2 checkpoint whose config.json says it is llama3_1: shapes and keys do not match.
  REQUIRE(swift("--model " + q(kFixtures / "qwen2") + " --to_mcore true --ckpt_format rawdir --output_dir " +
                q(s.path / "mcore")).status == 0);
  fs::copy_file(kFixtures / "qwen3" / "config.json", s.path / "mcore" / "config.json",
                fs::copy_options::overwrite_existing);
  r = swift("--mcore_model " + q(s.path / "mcore") + " --to_hf true --output_dir " + q(s.path / "z"));
  INFO(r.output);
  CHECK(r.status != 0);
  const bool named = r.output.find("expects") != std::string::npos;
  CHECK(named);
  CHECK(r.output.find("the checkpoint records model_type qwen2") != std::string::npos);

  // The output directory exists.
  r = swift("--model " + q(kFixtures / "qwen2") + " --to_mcore true --ckpt_format rawdir --output_dir " +
            q(s.path / "mcore"));
  CHECK(r.status != 0);
  CHECK(r.output.find("already exists; remove it or pass --exist_ok true") != std::string::npos);
}

TEST_CASE("megatron checks --ckpt_format against the loaded checkpoint plugins; a first-party one not built passes") {
  auto megatron = [](const std::string& args) {
    return megaswift::testing::run_command(std::string("cd \"$(mktemp -d)\" && '") + MSW_BIN_DIR + "/megatron' " + args);
  };
  CommandResult r = megatron("sft --model m --dataset d.jsonl --train_iters 10 --ckpt_format foo");
  INFO(r.output);
  CHECK(r.status != 0);
  CHECK(r.output.find("unknown --ckpt_format 'foo': available: ") != std::string::npos);
  for (const char* name : {"torch_dist", "zarr", "torch", "safetensors", "hdf5"}) {
    CAPTURE(name);
    r = megatron(std::string("sft --model m --dataset d.jsonl --train_iters 10 --ckpt_format ") + name);
    CHECK(r.output.find("unknown --ckpt_format") == std::string::npos);
    CHECK(r.output.find("--model m is not a local directory") != std::string::npos);  // the run got past the check
  }
}

TEST_CASE("an export to HF that fails midway leaves no output directory behind") {
  Scratch s;
  REQUIRE(swift("--model " + q(kFixtures / "qwen2") + " --to_mcore true --ckpt_format rawdir --output_dir " +
                q(s.path / "mcore")).status == 0);
  // Truncate the last stored shard: the export reads the first tensors, then fails on this one.
  fs::path last;
  for (const auto& e : fs::directory_iterator(s.path / "mcore" / "iter_0000001"))
    if (e.path().extension() == ".bin" && (last.empty() || e.path().filename().string().size() >= last.filename().string().size()))
      last = std::max(last, e.path());
  REQUIRE_FALSE(last.empty());
  fs::resize_file(last, fs::file_size(last) / 2);
  for (bool host_writer : {false, true}) {
    const CommandResult r = swift("--mcore_model " + q(s.path / "mcore") + " --to_hf true --output_dir " +
                                  q(s.path / "hf"), host_writer);
    INFO(r.output);
    CHECK(r.status != 0);
    CHECK(r.output.find("wrong size") != std::string::npos);
    CHECK_FALSE(fs::exists(s.path / "hf"));
    for (const auto& e : fs::directory_iterator(s.path)) CHECK(e.path().filename().string().find(".tmp-") == std::string::npos);
  }
}

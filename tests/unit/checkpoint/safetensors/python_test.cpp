// Our files through an independent reader: check_safetensors.py parses them from the bytes up with Python's
// standard library (and numpy when installed) and reports every tensor's bytes as a hash and the formula
// tensors' values; and we read an HF directory that the script writes the way the Python package lays it out.
#include "names.hpp"
#include "reader.hpp"
#include "run_command.hpp"
#include "st_test_util.hpp"
#include "writer.hpp"

#include <nlohmann/json.hpp>

using namespace st_test;
using nlohmann::json;

namespace {

const char* kPython = "/usr/bin/python3";

bool have_python() {
  if (fs::exists(kPython)) return true;
  MESSAGE("skipped: " << kPython << " is missing (scripts/install-deps.sh installs python3)");
  return false;
}

std::string fnv1a64(const std::vector<char>& v) {
  uint64_t h = 0xcbf29ce484222325ull;
  for (char c : v) h = (h ^ static_cast<unsigned char>(c)) * 0x100000001b3ull;
  char buf[17];
  std::snprintf(buf, sizeof buf, "%016llx", static_cast<unsigned long long>(h));
  return buf;
}

double formula_value(size_t i) { return static_cast<double>(i % 64) * 0.25 - 3; }

// `n` elements of formula values in `dtype` (I64: i * 1000003 - 5).
std::vector<char> formula_bytes(int32_t dtype, size_t n) {
  std::vector<char> out(n * msw_dtype_size(dtype));
  for (size_t i = 0; i < n; ++i) {
    if (dtype == MSW_DTYPE_I64) {
      const int64_t v = static_cast<int64_t>(i) * 1000003 - 5;
      std::memcpy(out.data() + i * 8, &v, 8);
    } else {
      st::encode_one(formula_value(i), dtype, out.data() + i * msw_dtype_size(dtype));
    }
  }
  return out;
}

json verify(const fs::path& dir) {
  const auto r = megaswift::testing::run_command(std::string(kPython) + " " + MSW_ST_CHECK_SCRIPT + " verify " +
                                                 dir.string());
  INFO("python output: " << r.output);
  REQUIRE(r.status == 0);
  return json::parse(r.output);
}

struct Written {
  std::string key;
  int32_t dtype;
  std::vector<int64_t> shape;
  std::vector<char> bytes;
};

void write_and_verify(const fs::path& dir, uint64_t max_shard, size_t expect_files) {
  std::vector<Written> ts{
      {"formula.embedding.f32", MSW_DTYPE_F32, {16, 8}, formula_bytes(MSW_DTYPE_F32, 128)},
      {"formula.qkv.bf16", MSW_DTYPE_BF16, {2, 12, 8}, formula_bytes(MSW_DTYPE_BF16, 192)},
      {"formula.norm.f16", MSW_DTYPE_F16, {40}, formula_bytes(MSW_DTYPE_F16, 40)},
      {"formula.step.i64", MSW_DTYPE_I64, {5}, formula_bytes(MSW_DTYPE_I64, 5)},
      {"random.mask.u8", MSW_DTYPE_U8, {7}, pattern(7, 9)},
      {"random.fc1.bf16", MSW_DTYPE_BF16, {6, 10}, pattern(120, 10)},
  };
  const std::string common = R"({"args":{"hidden_size":8},"iteration":42,"opt_param_scheduler":null})";
  st::WriterConfig cfg;
  cfg.dir = dir.string();
  cfg.max_shard_size = max_shard;
  cfg.first_file_metadata = {{st::kMetaMarker, st::kMarkerValue}, {st::kMetaCommonState, common}};
  st::StreamingWriter w(cfg);
  for (Written& t : ts) {
    if (t.key == "formula.qkv.bf16") {  // written as two per-layer shards, assembled into one tensor
      for (int64_t layer = 1; layer >= 0; --layer)
        w.add(t.key, t.shape, {layer, 0, 0}, view(t.bytes.data() + layer * 96 * 2, t.dtype, {1, 12, 8}));
    } else {
      w.add(t.key, t.shape, std::vector<int64_t>(t.shape.size(), 0), view(t.bytes.data(), t.dtype, t.shape));
    }
  }
  w.finish();
  const json out = verify(dir);
  CHECK(out["files"].size() == expect_files);
  CHECK(out["metadata"]["format"] == "pt");
  CHECK(out["metadata"][st::kMetaMarker] == st::kMarkerValue);
  CHECK(json::parse(out["metadata"][st::kMetaCommonState].get<std::string>()) == json::parse(common));
  REQUIRE(out["tensors"].size() == ts.size());
  for (const Written& t : ts) {
    INFO(t.key);
    const json& got = out["tensors"][t.key];
    CHECK(got["dtype"] == std::string(st::dtype_name(t.dtype)));
    CHECK(got["shape"] == json(t.shape));
    CHECK(got["fnv1a64"] == fnv1a64(t.bytes));
    if (t.key.rfind("formula.", 0) == 0) CHECK(out["formula_ok"][t.key] == true);
  }
  MESSAGE("python check used numpy: " << out["numpy"]);
  // For check_with_safetensors.py (the Python safetensors package, on a machine that has it).
  if (const char* keep = std::getenv("MSW_ST_EXPORT_DIR")) {
    fs::create_directories(keep);
    fs::remove_all(fs::path(keep) / dir.filename());
    fs::copy(dir, fs::path(keep) / dir.filename(), fs::copy_options::recursive);
  }
}

// Every tensor of `dir` is a "formula.*" tensor: bytes equal to the formula in its dtype, and as f32 too.
void check_formula_dir(const fs::path& dir, size_t expect_count) {
  st::DirectoryReader reader(dir.string());
  CHECK_FALSE(reader.written_by_megaswift());
  CHECK(reader.common_state_json() == "{}");
  REQUIRE(reader.tensor_count() == expect_count);
  for (size_t k = 0; k < reader.tensor_count(); ++k) {
    const st::TensorEntry& e = *reader.tensor(k).entry;
    INFO(dir << ": " << e.name);
    std::vector<char> got(e.numel * e.dtype.size);
    reader.read_region(e.name, std::vector<int64_t>(e.shape.size(), 0), view(got.data(), e.dtype.msw, e.shape));
    CHECK(got == formula_bytes(e.dtype.msw, e.numel));
    if (e.dtype.msw != MSW_DTYPE_I64) {  // and converted to f32 on the way
      std::vector<float> f(e.numel);
      reader.read_region(e.name, std::vector<int64_t>(e.shape.size(), 0), view(f.data(), MSW_DTYPE_F32, e.shape));
      for (size_t i = 0; i < f.size(); ++i) REQUIRE(f[i] == formula_value(i));
    }
  }
}

}  // namespace

TEST_CASE("python (stdlib, numpy if present) parses our single file: layout, metadata, bytes, values") {
  if (!have_python()) return;
  write_and_verify(scratch("py-single"), UINT64_MAX, 1);
}

TEST_CASE("python parses our sharded directory: HF shard names, index total_size and weight_map, bytes, values") {
  if (!have_python()) return;
  // 512 and 384 bytes each above the limit stand alone; the four small ones (247 bytes) share the third.
  write_and_verify(scratch("py-sharded"), 300, 3);
}

TEST_CASE("we read a sharded HF directory laid out as the Python safetensors package writes it") {
  if (!have_python()) return;
  const fs::path dir = scratch("py-written");
  const auto r = megaswift::testing::run_command(std::string(kPython) + " " + MSW_ST_CHECK_SCRIPT + " write " +
                                                 dir.string());
  INFO(r.output);
  REQUIRE(r.status == 0);
  check_formula_dir(dir, 5);
}

TEST_CASE("we read what the Python safetensors package and huggingface_hub wrote (fixtures/package, MSW_ST_PACKAGE_DIR)") {
  // The committed fixtures by default; MSW_ST_PACKAGE_DIR points at a fresh `check_with_safetensors.py write`.
  const char* env = std::getenv("MSW_ST_PACKAGE_DIR");
  const fs::path d = env ? fs::path(env) : fs::path(MSW_ST_CHECK_SCRIPT).parent_path() / "fixtures" / "package";
  check_formula_dir(d / "single", 5);
  check_formula_dir(d / "sharded", 5);
}

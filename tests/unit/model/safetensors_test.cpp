// The safetensors reader validates every byte range before handing data out, and the writer produces what
// the reader (and the reference implementation's layout rules) accept.
#include "host/core/status.hpp"
#include "host/model/safetensors.hpp"
#include "host/model/safetensors_writer.hpp"

#include <doctest/doctest.h>

#include <cstring>
#include <fstream>
#include <unistd.h>

using namespace megaswift::host;

namespace {

struct TempDir {
  std::filesystem::path path;
  TempDir() {
    static int n = 0;
    path = std::filesystem::temp_directory_path() / ("msw_st_" + std::to_string(::getpid()) + "_" + std::to_string(n++));
    std::filesystem::create_directories(path);
  }
  ~TempDir() { std::filesystem::remove_all(path); }
};

// A file with an arbitrary header and `data_bytes` zero bytes of data.
void write_raw(const std::filesystem::path& p, const std::string& header, size_t data_bytes) {
  std::ofstream out(p, std::ios::binary);
  uint64_t n = header.size();
  out.write(reinterpret_cast<const char*>(&n), 8);
  out << header;
  out << std::string(data_bytes, '\0');
}

std::string open_error(const std::filesystem::path& p) {
  try {
    SafetensorsFile f(p);
  } catch (const HostError& e) {
    return e.what();
  }
  return "";
}

msw_tensor cpu(void* data, int32_t dtype, std::initializer_list<int64_t> shape) {
  msw_tensor t{};
  t.data = data;
  t.device = {MSW_DEVICE_CPU, 0};
  t.dtype = dtype;
  t.ndim = static_cast<int32_t>(shape.size());
  int i = 0;
  for (int64_t d : shape) t.shape[i++] = d;
  int64_t stride = 1;
  for (int j = t.ndim - 1; j >= 0; --j) {
    t.strides[j] = stride;
    stride *= t.shape[j];
  }
  return t;
}

}  // namespace

TEST_CASE("writer output reads back with dtypes, shapes, scalars, metadata and 8-byte aligned data") {
  TempDir d;
  std::vector<float> a = {1, 2, 3, 4, 5, 6};
  std::vector<int64_t> ids = {7, -100};
  std::vector<uint16_t> h = {0x3f80, 0xbf80, 0x4000};
  float loss = 2.5f;
  write_safetensors(d.path / "t.safetensors", {{"w", cpu(a.data(), MSW_DTYPE_F32, {2, 3})},
                                              {"ids", cpu(ids.data(), MSW_DTYPE_I64, {2})},
                                              {"h", cpu(h.data(), MSW_DTYPE_BF16, {3})},
                                              {"loss", cpu(&loss, MSW_DTYPE_F32, {})}});
  SafetensorsFile f(d.path / "t.safetensors");
  CHECK(f.metadata().at("format") == "pt");
  REQUIRE(f.entries().size() == 4);
  CHECK(f.entries()[0].name == "ids");  // largest alignment first, as the reference writer orders them
  const auto* w = f.find("w");
  REQUIRE(w);
  CHECK(w->dtype == "F32");
  CHECK(w->shape == std::vector<int64_t>{2, 3});
  CHECK(std::memcmp(f.bytes(*w).data(), a.data(), 24) == 0);
  const auto* s = f.find("loss");
  REQUIRE(s);
  CHECK(s->shape.empty());
  const msw_tensor t = f.descriptor(*s);
  CHECK(t.ndim == 0);
  CHECK(*static_cast<float*>(t.data) == 2.5f);
  const auto* b = f.find("h");
  CHECK(b->msw_dtype == MSW_DTYPE_BF16);
  CHECK(reinterpret_cast<uintptr_t>(f.bytes(*f.find("ids")).data()) % 8 == 0);
  CHECK(f.find("absent") == nullptr);
}

TEST_CASE("a header length past the end of the file is refused as truncated") {
  TempDir d;
  std::ofstream(d.path / "x.safetensors", std::ios::binary).write("\xff\x00\x00\x00\x00\x00\x00\x00{}", 10);
  const std::string e = open_error(d.path / "x.safetensors");
  CHECK(e.find("runs past the end") != std::string::npos);
}

TEST_CASE("a header that is not JSON is refused") {
  TempDir d;
  write_raw(d.path / "x.safetensors", "{not json", 0);
  CHECK(open_error(d.path / "x.safetensors").find("not valid JSON") != std::string::npos);
}

TEST_CASE("data offsets outside the data section are refused with the sizes") {
  TempDir d;
  write_raw(d.path / "x.safetensors", R"({"a":{"dtype":"F32","shape":[4],"data_offsets":[0,16]}})", 8);
  const std::string e = open_error(d.path / "x.safetensors");
  CHECK(e.find("'a'") != std::string::npos);
  CHECK(e.find("8-byte data section") != std::string::npos);
}

TEST_CASE("a byte range that disagrees with dtype and shape is refused") {
  TempDir d;
  write_raw(d.path / "x.safetensors", R"({"a":{"dtype":"BF16","shape":[4],"data_offsets":[0,16]}})", 16);
  CHECK(open_error(d.path / "x.safetensors").find("needs 8 bytes but data_offsets span 16") != std::string::npos);
}

TEST_CASE("overlapping tensors and holes are refused") {
  TempDir d;
  write_raw(d.path / "x.safetensors",
            R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"b":{"dtype":"F32","shape":[2],"data_offsets":[4,12]}})",
            12);
  CHECK(open_error(d.path / "x.safetensors").find("overlap or leave a hole") != std::string::npos);
  write_raw(d.path / "y.safetensors", R"({"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}})", 8);
  CHECK(open_error(d.path / "y.safetensors").find("cover 4") != std::string::npos);
}

TEST_CASE("dtypes Megaswift cannot compute with are listed but refused when used") {
  TempDir d;
  write_raw(d.path / "x.safetensors", R"({"a":{"dtype":"F8_E4M3","shape":[4],"data_offsets":[0,4]}})", 4);
  SafetensorsFile f(d.path / "x.safetensors");
  REQUIRE(f.find("a"));
  CHECK(f.find("a")->msw_dtype == -1);
  CHECK_THROWS_WITH_AS(f.descriptor(*f.find("a")), doctest::Contains("F8_E4M3"), HostError);
  write_raw(d.path / "y.safetensors", R"({"a":{"dtype":"Q4","shape":[4],"data_offsets":[0,4]}})", 4);
  CHECK(open_error(d.path / "y.safetensors").find("unknown dtype 'Q4'") != std::string::npos);
}

TEST_CASE("a sharded checkpoint resolves every tensor through the index") {
  TempDir d;
  std::vector<float> a = {1, 2}, b = {3, 4, 5};
  write_safetensors(d.path / "model-00001-of-00002.safetensors", {{"a", cpu(a.data(), MSW_DTYPE_F32, {2})}});
  write_safetensors(d.path / "model-00002-of-00002.safetensors", {{"b", cpu(b.data(), MSW_DTYPE_F32, {3})}});
  std::ofstream(d.path / "model.safetensors.index.json")
      << R"({"metadata":{"total_size":20},"weight_map":{"a":"model-00001-of-00002.safetensors","b":"model-00002-of-00002.safetensors"}})";
  SafetensorsCheckpoint c(d.path);
  CHECK(c.names() == std::vector<std::string>{"a", "b"});
  const int32_t f32[] = {MSW_DTYPE_F32};
  const int64_t shape_b[] = {3};
  const TensorRef r = c.require("b", f32, shape_b);
  CHECK(r.file->path().filename() == "model-00002-of-00002.safetensors");
  CHECK(std::memcmp(r.file->bytes(*r.entry).data(), b.data(), 12) == 0);
  const int64_t wrong[] = {4};
  CHECK_THROWS_WITH_AS(c.require("b", f32, wrong), doctest::Contains("has shape [3], expected [4]"), HostError);
  CHECK_THROWS_WITH_AS(c.get("c"), doctest::Contains("'c' is missing"), HostError);
}

TEST_CASE("an index that names a missing shard is refused with the tensor and the shard") {
  TempDir d;
  std::ofstream(d.path / "model.safetensors.index.json") << R"({"weight_map":{"a":"model-00009-of-00009.safetensors"}})";
  CHECK_THROWS_WITH_AS(SafetensorsCheckpoint(d.path),
                       doctest::Contains("maps 'a' to model-00009-of-00009.safetensors, which does not exist"), HostError);
}

TEST_CASE("an index whose shard escapes the model directory is refused") {
  TempDir d;
  std::ofstream(d.path / "model.safetensors.index.json") << R"({"weight_map":{"a":"../elsewhere.safetensors"}})";
  CHECK_THROWS_WITH_AS(SafetensorsCheckpoint(d.path), doctest::Contains("must be a file name inside"), HostError);
}

TEST_CASE("the writer refuses duplicate names and non-contiguous tensors") {
  TempDir d;
  std::vector<float> a = {1, 2, 3, 4};
  msw_tensor t = cpu(a.data(), MSW_DTYPE_F32, {2, 2});
  CHECK_THROWS_WITH_AS(write_safetensors(d.path / "x.safetensors", {{"a", t}, {"a", t}}),
                       doctest::Contains("duplicate tensor 'a'"), HostError);
  msw_tensor transposed = t;
  transposed.strides[0] = 1;
  transposed.strides[1] = 2;
  CHECK_THROWS_WITH_AS(write_safetensors(d.path / "x.safetensors", {{"t", transposed}}), doctest::Contains("contiguous"),
                       HostError);
}

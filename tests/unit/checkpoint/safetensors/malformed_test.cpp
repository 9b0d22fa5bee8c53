// Malformed safetensors input, one case per test: each is refused before any tensor byte is used, with an error
// that names the file, the tensor and the field. Files are written byte by byte here, not by our writer.
#include "reader.hpp"
#include "st_test_util.hpp"

using namespace st_test;

namespace {

// A directory holding model.safetensors with `header` (its length in the first 8 bytes unless overridden) and
// `data`; returns the file's path.
fs::path one_file(const std::string& name, const std::string& header, const std::string& data,
                  int64_t len_override = -1) {
  const fs::path dir = scratch(name);
  write_raw(dir / "model.safetensors", header, data, len_override);
  return dir;
}

void expect_open_error(const fs::path& dir, msw_status_code code, std::initializer_list<std::string> parts) {
  expect_error([&] { st::DirectoryReader r(dir.string()); }, code, parts);
}

const std::string kGood = R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}})";

}  // namespace

TEST_CASE("a well-formed hand-made file opens (the baseline the malformed cases change one thing of)") {
  const fs::path dir = one_file("good", kGood, std::string(8, '\1'));
  st::DirectoryReader r(dir.string());
  CHECK(r.tensor_count() == 1);
  CHECK(r.common_state_json() == "{}");
  CHECK_FALSE(r.written_by_megaswift());
}

TEST_CASE("\"__metadata__\": null is no metadata, as the reference reader takes it") {
  const fs::path dir = one_file("meta-null", R"({"__metadata__":null,"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}})",
                                std::string(8, '\1'));
  st::DirectoryReader r(dir.string());
  CHECK(r.tensor_count() == 1);
  CHECK(r.first_header().metadata.empty());
}

TEST_CASE("a file shorter than the 8-byte header length is truncated") {
  const fs::path dir = scratch("tiny");
  { std::ofstream(dir / "model.safetensors") << "abc"; }
  expect_open_error(dir, MSW_STATUS_IO, {"model.safetensors", "3 bytes", "truncated"});
}

TEST_CASE("a header length beyond the end of the file is refused") {
  const fs::path dir = one_file("len-past-end", kGood, std::string(8, '\0'), 5000);
  expect_open_error(dir, MSW_STATUS_IO, {"model.safetensors", "header length 5000", "past the end"});
}

TEST_CASE("a header length above the 100 MB limit is refused before anything is read") {
  const fs::path dir = one_file("len-limit", kGood, std::string(8, '\0'), 100'000'001);
  expect_open_error(dir, MSW_STATUS_INVALID_ARGUMENT, {"model.safetensors", "100000001", "limit of 100000000"});
}

TEST_CASE("a header that is not JSON is refused") {
  const fs::path dir = one_file("not-json", R"({"a":{"dtype":"F32",)", "");
  expect_open_error(dir, MSW_STATUS_INVALID_ARGUMENT, {"model.safetensors", "not valid JSON"});
}

TEST_CASE("a header that is not a JSON object is refused") {
  const fs::path dir = one_file("not-object", "[1,2]   ", "");
  expect_open_error(dir, MSW_STATUS_INVALID_ARGUMENT, {"model.safetensors", "must start with '{'"});
}

TEST_CASE("a header that is not valid UTF-8 is refused") {
  const fs::path dir = one_file("not-utf8", "{\"a\xff\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]}}",
                                std::string(8, '\0'));
  expect_open_error(dir, MSW_STATUS_INVALID_ARGUMENT, {"model.safetensors", "UTF-8", "byte 3"});
}

TEST_CASE("a key given twice is refused (the spec forbids duplicates)") {
  const fs::path dir = one_file(
      "duplicate", R"({"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},"a":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}})",
      std::string(8, '\0'));
  expect_open_error(dir, MSW_STATUS_INVALID_ARGUMENT, {"model.safetensors", "\"a\" twice"});
}

TEST_CASE("an unknown dtype is refused, naming the tensor, the field and the known dtypes") {
  const fs::path dir = one_file("dtype-unknown", R"({"w":{"dtype":"Q7","shape":[2],"data_offsets":[0,8]}})",
                                std::string(8, '\0'));
  expect_open_error(dir, MSW_STATUS_INVALID_ARGUMENT,
                    {"model.safetensors", "tensor \"w\" field \"dtype\"", "\"Q7\"", "not a safetensors dtype", "BF16"});
}

TEST_CASE("a safetensors dtype this plugin does not read (U16) is UNSUPPORTED, by name") {
  const fs::path dir = one_file("dtype-u16", R"({"w":{"dtype":"U16","shape":[2],"data_offsets":[0,4]}})",
                                std::string(4, '\0'));
  expect_open_error(dir, MSW_STATUS_UNSUPPORTED, {"tensor \"w\" field \"dtype\"", "\"U16\"", "does not read"});
}

TEST_CASE("I16 validates but is refused at open: Megaswift has no 16-bit integer dtype") {
  const fs::path dir = one_file("dtype-i16", R"({"w":{"dtype":"I16","shape":[2],"data_offsets":[0,4]}})",
                                std::string(4, '\0'));
  expect_open_error(dir, MSW_STATUS_UNSUPPORTED, {"model.safetensors", "tensor \"w\"", "I16"});
}

TEST_CASE("data_offsets beyond the data area are out of range") {
  const fs::path dir = one_file("offsets-range", R"({"w":{"dtype":"F32","shape":[16],"data_offsets":[0,64]}})",
                                std::string(16, '\0'));
  expect_open_error(dir, MSW_STATUS_IO,
                    {"model.safetensors", "tensor \"w\" field \"data_offsets\"", "[0, 64]", "out of range", "16 bytes"});
}

TEST_CASE("overlapping data_offsets are refused, naming both tensors") {
  const fs::path dir = one_file(
      "offsets-overlap",
      R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"b":{"dtype":"F32","shape":[2],"data_offsets":[4,12]}})",
      std::string(12, '\0'));
  expect_open_error(dir, MSW_STATUS_INVALID_ARGUMENT,
                    {"model.safetensors", "tensor \"b\" field \"data_offsets\"", "overlaps tensor \"a\""});
}

TEST_CASE("a gap between tensors in the data area is refused") {
  const fs::path dir = one_file(
      "offsets-gap",
      R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"b":{"dtype":"F32","shape":[2],"data_offsets":[12,20]}})",
      std::string(20, '\0'));
  expect_open_error(dir, MSW_STATUS_INVALID_ARGUMENT,
                    {"model.safetensors", "tensor \"b\" field \"data_offsets\"", "gap of 4 bytes"});
}

TEST_CASE("a data area that does not start at offset 0 is a gap too") {
  const fs::path dir = one_file("offsets-start", R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[4,12]}})",
                                std::string(12, '\0'));
  expect_open_error(dir, MSW_STATUS_INVALID_ARGUMENT, {"tensor \"a\" field \"data_offsets\"", "gap of 4 bytes after offset 0"});
}

TEST_CASE("trailing bytes that no tensor owns are refused") {
  const fs::path dir = one_file("trailing", kGood, std::string(12, '\0'));
  expect_open_error(dir, MSW_STATUS_INVALID_ARGUMENT, {"model.safetensors", "4 trailing bytes"});
}

TEST_CASE("a shape whose byte size differs from the data_offsets span is refused") {
  const fs::path dir = one_file("shape-bytes", R"({"w":{"dtype":"F32","shape":[3],"data_offsets":[0,8]}})",
                                std::string(8, '\0'));
  expect_open_error(dir, MSW_STATUS_INVALID_ARGUMENT,
                    {"model.safetensors", "tensor \"w\" field \"data_offsets\"", "spans 8 bytes", "needs 12"});
}

TEST_CASE("a shape whose element count overflows 64 bits is refused") {
  const fs::path dir = one_file(
      "numel-overflow", R"({"w":{"dtype":"U8","shape":[4294967296,4294967296],"data_offsets":[0,0]}})", "");
  expect_open_error(dir, MSW_STATUS_INVALID_ARGUMENT,
                    {"model.safetensors", "tensor \"w\" field \"shape\"", "overflows 64 bits"});
}

TEST_CASE("a shape whose byte count overflows 64 bits is refused") {
  const fs::path dir = one_file(
      "bytes-overflow", R"({"w":{"dtype":"F64","shape":[4611686018427387904],"data_offsets":[0,0]}})", "");
  expect_open_error(dir, MSW_STATUS_INVALID_ARGUMENT, {"tensor \"w\" field \"shape\"", "bytes per element overflows"});
}

TEST_CASE("negative or fractional shapes and offsets are refused") {
  expect_open_error(one_file("shape-negative", R"({"w":{"dtype":"F32","shape":[-1],"data_offsets":[0,4]}})",
                             std::string(4, '\0')),
                    MSW_STATUS_INVALID_ARGUMENT, {"tensor \"w\" field \"shape\"", "non-negative integer"});
  expect_open_error(one_file("offset-float", R"({"w":{"dtype":"F32","shape":[1],"data_offsets":[0,4.0]}})",
                             std::string(4, '\0')),
                    MSW_STATUS_INVALID_ARGUMENT, {"tensor \"w\" field \"data_offsets\"", "non-negative integer"});
}

TEST_CASE("more dimensions than msw tensors have are UNSUPPORTED") {
  const fs::path dir = one_file(
      "too-many-dims", R"({"w":{"dtype":"F32","shape":[1,1,1,1,1,1,1,1,1],"data_offsets":[0,4]}})", std::string(4, '\0'));
  expect_open_error(dir, MSW_STATUS_UNSUPPORTED, {"tensor \"w\" field \"shape\"", "9 dimensions"});
}

TEST_CASE("entries missing a field, or metadata holding a non-string, are refused") {
  expect_open_error(one_file("no-offsets", R"({"w":{"dtype":"F32","shape":[1]}})", std::string(4, '\0')),
                    MSW_STATUS_INVALID_ARGUMENT, {"tensor \"w\" field \"data_offsets\"", "[begin, end]"});
  expect_open_error(one_file("meta-int", R"({"__metadata__":{"format":"pt","n":3}})", ""), MSW_STATUS_INVALID_ARGUMENT,
                    {"\"__metadata__\" entry \"n\"", "only strings"});
}

TEST_CASE("a truncated file (the last tensor cut short) is refused at open") {
  const fs::path dir = one_file(
      "truncated",
      R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"b":{"dtype":"F32","shape":[4],"data_offsets":[8,24]}})",
      std::string(24, '\0'));
  fs::resize_file(dir / "model.safetensors", fs::file_size(dir / "model.safetensors") - 5);
  expect_open_error(dir, MSW_STATUS_IO, {"model.safetensors", "tensor \"b\" field \"data_offsets\"", "out of range"});
}

TEST_CASE("a file truncated after it was opened fails the read with IO naming the file") {
  const fs::path dir = one_file("truncated-later", kGood, std::string(8, '\0'));
  st::DirectoryReader r(dir.string());
  fs::resize_file(dir / "model.safetensors", fs::file_size(dir / "model.safetensors") - 4);
  float out[2];
  expect_error([&] { r.read_region("a", {0}, view(out, MSW_DTYPE_F32, {2})); }, MSW_STATUS_IO,
               {"model.safetensors", "truncated", "tensor \"a\""});
}

TEST_CASE("an index naming a missing shard file is refused, naming the file and a tensor") {
  const fs::path dir = scratch("index-missing");
  write_raw(dir / "model-00001-of-00002.safetensors", kGood, std::string(8, '\0'));
  std::ofstream(dir / "model.safetensors.index.json")
      << R"({"metadata":{"total_size":16},"weight_map":{"a":"model-00001-of-00002.safetensors","b":"model-00002-of-00002.safetensors"}})";
  expect_open_error(dir, MSW_STATUS_NOT_FOUND,
                    {"model.safetensors.index.json", "tensor \"b\"", "model-00002-of-00002.safetensors", "does not exist"});
}

TEST_CASE("an index naming a tensor its file does not hold is refused") {
  const fs::path dir = scratch("index-no-tensor");
  write_raw(dir / "model-00001-of-00001.safetensors", kGood, std::string(8, '\0'));
  std::ofstream(dir / "model.safetensors.index.json")
      << R"({"weight_map":{"a":"model-00001-of-00001.safetensors","zz":"model-00001-of-00001.safetensors"}})";
  expect_open_error(dir, MSW_STATUS_NOT_FOUND, {"model.safetensors.index.json", "tensor \"zz\"", "no such tensor"});
}

TEST_CASE("an index whose weight_map leaves the directory, or is not an object, is refused") {
  const fs::path dir = scratch("index-escape");
  std::ofstream(dir / "model.safetensors.index.json") << R"({"weight_map":{"a":"../model.safetensors"}})";
  expect_open_error(dir, MSW_STATUS_INVALID_ARGUMENT, {"model.safetensors.index.json", "tensor \"a\"", "inside the directory"});
  std::ofstream(dir / "model.safetensors.index.json", std::ios::trunc) << R"({"weight_map":[1]})";
  expect_open_error(dir, MSW_STATUS_INVALID_ARGUMENT, {"model.safetensors.index.json", "\"weight_map\""});
  std::ofstream(dir / "model.safetensors.index.json", std::ios::trunc) << "{nope";
  expect_open_error(dir, MSW_STATUS_INVALID_ARGUMENT, {"model.safetensors.index.json", "not valid JSON"});
}

TEST_CASE("a directory without safetensors files is NOT_FOUND") {
  expect_open_error(scratch("empty"), MSW_STATUS_NOT_FOUND, {"model.safetensors", "model.safetensors.index.json"});
}

TEST_CASE("deeply nested JSON in the header is refused without exhausting the stack") {
  const std::string deep = "{\"w\":" + std::string(2'000'000, '[') + std::string(2'000'000, ']') + "}";
  const fs::path dir = one_file("deep", deep, "");
  expect_open_error(dir, MSW_STATUS_INVALID_ARGUMENT, {"model.safetensors", "2000001 deep"});
}

TEST_CASE("a deeply nested index is refused without exhausting the stack") {
  const fs::path dir = scratch("index-deep");
  std::ofstream(dir / "model.safetensors.index.json")
      << "{\"weight_map\":" << std::string(1'000'000, '[') << std::string(1'000'000, ']') << "}";
  expect_open_error(dir, MSW_STATUS_INVALID_ARGUMENT, {"model.safetensors.index.json", "1000001 deep"});
}

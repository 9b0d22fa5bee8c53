// Malformed zarr arrays are clear errors naming the file and the field, never a crash: .zarray that is not
// JSON or lacks a field, unknown dtypes, compressors, truncated or oversized chunk files, missing chunks.
#include "checkpoint_driver.hpp"

#include <doctest/doctest.h>

#include <fstream>

using namespace ckpt_test;

namespace {

// One f32 array "w" of shape (4, 2) with chunks (2, 2), written by hand.
fs::path hand_array(const std::string& name, const std::string& zarray) {
  const fs::path dir = fresh_dir(name);
  fs::create_directories(dir / "w");
  std::ofstream(dir / "w" / ".zarray") << zarray;
  std::vector<char> chunk(16, 0);
  for (const char* c : {"0.0", "1.0"}) std::ofstream(dir / "w" / c, std::ios::binary).write(chunk.data(), 16);
  std::ofstream(dir / "common_state.json") << "{}";
  return dir;
}

std::string zarray(const std::string& dtype = "\"<f4\"", const std::string& compressor = "null",
                   const std::string& fill = "null") {
  return R"({"chunks": [2, 2], "compressor": )" + compressor + R"(, "dtype": )" + dtype + R"(, "fill_value": )" + fill +
         R"(, "filters": null, "order": "C", "shape": [4, 2], "zarr_format": 2})";
}

std::string open_error(const fs::path& dir) {
  Plugin p("zarr");
  try {
    Reader r(p, dir);
  } catch (const Error& e) {
    return e.what();
  }
  return "(opened without error)";
}

std::string read_error(const fs::path& dir) {
  Plugin p("zarr");
  Reader r(p, dir);
  try {
    r.read("w", MSW_DTYPE_F32, {0, 0}, {4, 2});
  } catch (const Error& e) {
    return e.what();
  }
  return "(read without error)";
}

}  // namespace

TEST_CASE("zarr: a .zarray that is not JSON is an error naming the file") {
  const fs::path dir = hand_array("zarr_bad_json", "{\"chunks\": [2, ");
  const std::string e = open_error(dir);
  CHECK(e.find((dir / "w" / ".zarray").string()) != std::string::npos);
  CHECK(e.find("is not valid JSON") != std::string::npos);
}

TEST_CASE("zarr: a .zarray without a field or with mismatched chunks names the field") {
  CHECK(open_error(hand_array("zarr_no_shape", R"({"chunks": [2], "compressor": null, "dtype": "<f4", )"
                                               R"("fill_value": null, "order": "C", "zarr_format": 2})"))
            .find("the field \"shape\" is missing") != std::string::npos);
  CHECK(open_error(hand_array("zarr_chunk_rank", R"({"chunks": [2], "compressor": null, "dtype": "<f4", )"
                                                 R"("fill_value": null, "order": "C", "shape": [4, 2], "zarr_format": 2})"))
            .find("have different lengths") != std::string::npos);
  CHECK(open_error(hand_array("zarr_neg_shape", R"({"chunks": [2, 2], "compressor": null, "dtype": "<f4", )"
                                                R"("fill_value": null, "order": "C", "shape": [-4, 2], "zarr_format": 2})"))
            .find("non-negative integers") != std::string::npos);
  CHECK(open_error(hand_array("zarr_huge", R"({"chunks": [2, 2], "compressor": null, "dtype": "<f4", )"
                                           R"("fill_value": null, "order": "C", "shape": [4611686018427387904, 4], "zarr_format": 2})"))
            .find("overflows 64 bits") != std::string::npos);
  CHECK(open_error(hand_array("zarr_v3", R"({"chunks": [2, 2], "compressor": null, "dtype": "<f4", )"
                                         R"("fill_value": null, "order": "C", "shape": [4, 2], "zarr_format": 3})"))
            .find("only zarr v2") != std::string::npos);
  CHECK(open_error(hand_array("zarr_fortran", R"({"chunks": [2, 2], "compressor": null, "dtype": "<f4", )"
                                              R"("fill_value": null, "order": "F", "shape": [4, 2], "zarr_format": 2})"))
            .find("only C (row-major) order") != std::string::npos);
}

TEST_CASE("zarr: an unknown dtype is refused naming it and the known ones") {
  const std::string e = open_error(hand_array("zarr_c8", zarray("\"<c8\"")));
  CHECK(e.find("\"<c8\" is not supported") != std::string::npos);
  CHECK(e.find("bfloat16") != std::string::npos);
  CHECK(open_error(hand_array("zarr_be", zarray("\">f4\""))).find("\">f4\" is not supported") != std::string::npos);
  CHECK(open_error(hand_array("zarr_struct", zarray(R"([["a", "<f4"]])"))).find("structured dtype") != std::string::npos);
}

TEST_CASE("zarr: a compressor other than null is refused naming it") {
  const std::string e = open_error(
      hand_array("zarr_blosc", zarray("\"<f4\"", R"({"id": "blosc", "cname": "lz4", "clevel": 5, "shuffle": 1})")));
  CHECK(e.find("\"blosc\"") != std::string::npos);
  CHECK(e.find("only uncompressed arrays") != std::string::npos);
}

TEST_CASE("zarr: a fill_value of the wrong type is refused") {
  CHECK(open_error(hand_array("zarr_bad_fill", zarray("\"<i8\"", "null", "\"zero\""))).find("\"fill_value\"") !=
        std::string::npos);
  CHECK(open_error(hand_array("zarr_fill_range", zarray("\"|u1\"", "null", "300"))).find("is not a uint8") !=
        std::string::npos);
}

TEST_CASE("zarr: a truncated chunk file is an error naming the file and both sizes") {
  const fs::path dir = hand_array("zarr_truncated", zarray());
  fs::resize_file(dir / "w" / "1.0", 10);
  const std::string e = read_error(dir);
  CHECK(e.find((dir / "w" / "1.0").string()) != std::string::npos);
  CHECK(e.find("has 10 bytes, expected 16") != std::string::npos);
  CHECK(e.find("truncated") != std::string::npos);
}

TEST_CASE("zarr: a chunk file of the wrong size (a compressed or foreign chunk) is an error") {
  const fs::path dir = hand_array("zarr_oversized", zarray());
  fs::resize_file(dir / "w" / "0.0", 20);
  CHECK(read_error(dir).find("has 20 bytes, expected 16") != std::string::npos);
}

TEST_CASE("zarr: a missing chunk is an error when fill_value is null and fill_value otherwise") {
  {
    const fs::path dir = hand_array("zarr_missing_null", zarray());
    fs::remove(dir / "w" / "1.0");
    CHECK(read_error(dir).find("is missing and the array's fill_value is null") != std::string::npos);
  }
  {
    const fs::path dir = hand_array("zarr_missing_fill", zarray("\"<f4\"", "null", "\"NaN\""));
    fs::remove(dir / "w" / "1.0");
    Plugin p("zarr");
    Reader r(p, dir);
    const auto v = r.read("w", MSW_DTYPE_F32, {1, 1}, {2, 1});
    float f[2];
    std::memcpy(f, v.data(), 8);
    CHECK(f[0] == 0.0f);
    CHECK(std::isnan(f[1]));
  }
}

TEST_CASE("zarr: read_common explains a Megatron-written common.pt and a missing common_state.json") {
  const fs::path dir = hand_array("zarr_common_pt", zarray());
  fs::remove(dir / "common_state.json");
  Plugin p("zarr");
  {
    Reader r(p, dir);
    CHECK_THROWS_WITH_AS(r.common(), doctest::Contains("is missing"), Error);
  }
  std::ofstream(dir / "common.pt") << "PK";
  Reader r(p, dir);
  CHECK_THROWS_WITH_AS(r.common(), doctest::Contains("keeps its common state in common.pt"), Error);
  // The tensors stay readable.
  CHECK(r.read("w", MSW_DTYPE_F32, {0, 0}, {4, 2}) == std::vector<char>(32, 0));
}

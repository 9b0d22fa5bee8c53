// The safetensors format code on files it writes: round trips, sharding by max_shard_size with the index, keys
// assembled from shards (one rank and several), region reads with conversion, and the size and rounding rules.
#include "dtype.hpp"
#include "names.hpp"
#include "reader.hpp"
#include "shard_size.hpp"
#include "st_test_util.hpp"
#include "writer.hpp"

#include <nlohmann/json.hpp>

#include <cmath>
#include <map>

using namespace st_test;
using nlohmann::json;

namespace {

struct T {
  std::string key;
  int32_t dtype;
  std::vector<int64_t> shape;
  std::vector<char> bytes;
};

T make(const std::string& key, int32_t dtype, std::vector<int64_t> shape, uint32_t seed) {
  size_t n = msw_dtype_size(dtype);
  for (int64_t d : shape) n *= static_cast<size_t>(d);
  return {key, dtype, shape, pattern(n, seed)};
}

st::WriterConfig config(const fs::path& dir, uint64_t max_shard = UINT64_MAX, const std::string& common = "{}") {
  st::WriterConfig c;
  c.dir = dir.string();
  c.max_shard_size = max_shard;
  c.first_file_metadata = {{st::kMetaMarker, st::kMarkerValue}, {st::kMetaCommonState, common}};
  return c;
}

void write_whole(st::StreamingWriter& w, T& t) {
  w.add(t.key, t.shape, std::vector<int64_t>(t.shape.size(), 0), view(t.bytes.data(), t.dtype, t.shape));
}

std::vector<char> read_all(const st::DirectoryReader& r, const std::string& key, int32_t dtype) {
  const st::TensorEntry& e = *r.find(key).entry;
  std::vector<char> out(e.numel * msw_dtype_size(dtype));
  r.read_region(key, std::vector<int64_t>(e.shape.size(), 0), view(out.data(), dtype, e.shape));
  return out;
}

std::vector<std::string> files_in(const fs::path& dir) {
  std::vector<std::string> v;
  for (const auto& e : fs::directory_iterator(dir)) v.push_back(e.path().filename().string());
  std::sort(v.begin(), v.end());
  return v;
}

}  // namespace

TEST_CASE("one file round trip keeps F32, BF16, F16, I64 (and a scalar) bit-exact, with the common state") {
  const fs::path dir = scratch("roundtrip");
  std::vector<T> ts{make("decoder.layers.self_attention.linear_qkv.weight", MSW_DTYPE_BF16, {2, 6, 5}, 1),
                    make("embedding.word_embeddings.weight", MSW_DTYPE_F32, {7, 3}, 2),
                    make("output_layer.bias", MSW_DTYPE_F16, {9}, 3), make("step", MSW_DTYPE_I64, {4}, 4),
                    make("scalar", MSW_DTYPE_F32, {}, 5), make("empty", MSW_DTYPE_F32, {0, 3}, 6)};
  const std::string common = R"({"args":{"lr":0.0001,"seq_length":4096},"checkpoint_version":3.0,"iteration":100,)"
                             R"("rng_state":null,"text":"h\u00e9llo \"q\""})";
  st::StreamingWriter w(config(dir, UINT64_MAX, common));
  for (T& t : ts) write_whole(w, t);
  const auto names = w.finish();
  CHECK(names == std::vector<std::string>{"model.safetensors"});
  CHECK(files_in(dir) == std::vector<std::string>{"model.safetensors"});  // no staging file left, no index

  st::DirectoryReader r(dir.string());
  CHECK(r.written_by_megaswift());
  CHECK(json::parse(r.common_state_json()) == json::parse(common));
  CHECK(json::parse(r.common_state_json())["iteration"].is_number_integer());
  REQUIRE(r.tensor_count() == ts.size());
  for (const T& t : ts) {
    const st::TensorEntry& e = *r.find(t.key).entry;
    CHECK(e.dtype.msw == t.dtype);
    CHECK(e.shape == t.shape);
    CHECK(read_all(r, t.key, t.dtype) == t.bytes);
  }
  // The reference writer's order (alignment descending, then name) keeps every tensor naturally aligned.
  const auto& hdr = r.first_header();
  CHECK(hdr.data_start % 8 == 0);
  for (const st::TensorEntry& e : hdr.tensors) CHECK(e.begin % e.dtype.size == 0);
  CHECK(hdr.metadata.at("format") == "pt");
}

TEST_CASE("max_shard_size splits into HF-named shards with an index; a tensor above the limit stands alone") {
  const fs::path dir = scratch("sharded");
  // 400-byte tensors under a 1000-byte limit: two per shard; the 1200-byte one gets its own shard.
  std::vector<T> ts{make("a", MSW_DTYPE_F32, {100}, 1), make("b", MSW_DTYPE_F32, {10, 10}, 2),
                    make("c", MSW_DTYPE_BF16, {200}, 3), make("big", MSW_DTYPE_F32, {300}, 4),
                    make("d", MSW_DTYPE_I64, {50}, 5)};
  st::StreamingWriter w(config(dir, 1000, R"({"iteration":7})"));
  for (T& t : ts) write_whole(w, t);
  w.finish();
  CHECK(files_in(dir) == std::vector<std::string>{"model-00001-of-00004.safetensors", "model-00002-of-00004.safetensors",
                                                  "model-00003-of-00004.safetensors", "model-00004-of-00004.safetensors",
                                                  "model.safetensors.index.json"});
  const json index = json::parse(read_file(dir / "model.safetensors.index.json"));
  CHECK(index["metadata"]["total_size"] == 400 + 400 + 400 + 1200 + 400);
  const json expected_map = {{"a", "model-00001-of-00004.safetensors"}, {"b", "model-00001-of-00004.safetensors"},
                             {"c", "model-00002-of-00004.safetensors"}, {"big", "model-00003-of-00004.safetensors"},
                             {"d", "model-00004-of-00004.safetensors"}};
  CHECK(index["weight_map"] == expected_map);
  st::DirectoryReader r(dir.string());
  CHECK(r.tensor_count() == 5);
  CHECK(json::parse(r.common_state_json())["iteration"] == 7);
  for (const T& t : ts) CHECK(read_all(r, t.key, t.dtype) == t.bytes);
}

TEST_CASE("a key written as several shards is assembled into one whole tensor (splits along each dimension)") {
  const fs::path dir = scratch("assemble");
  T full0 = make("split.dim0", MSW_DTYPE_BF16, {4, 6}, 11), full1 = make("split.dim1", MSW_DTYPE_F32, {3, 8}, 12);
  T full2 = make("split.both", MSW_DTYPE_F16, {4, 2, 6}, 13);
  st::StreamingWriter w(config(dir));
  // dim 0, two shards of 2 rows, the second first; dim 1: two column halves, interleaved with the others.
  w.add(full0.key, full0.shape, {2, 0}, view(full0.bytes.data() + 2 * 6 * 2, MSW_DTYPE_BF16, {2, 6}));
  std::vector<char> left, right;
  left.reserve(48);  // sized up front: GCC 12 warns (-Wstringop-overflow, a false positive) on growing inserts
  right.reserve(48);
  for (int r = 0; r < 3; ++r) {
    left.insert(left.end(), full1.bytes.begin() + r * 32, full1.bytes.begin() + r * 32 + 16);
    right.insert(right.end(), full1.bytes.begin() + r * 32 + 16, full1.bytes.begin() + r * 32 + 32);
  }
  w.add(full1.key, full1.shape, {0, 4}, view(right.data(), MSW_DTYPE_F32, {3, 4}));
  w.add(full0.key, full0.shape, {0, 0}, view(full0.bytes.data(), MSW_DTYPE_BF16, {2, 6}));
  w.add(full1.key, full1.shape, {0, 0}, view(left.data(), MSW_DTYPE_F32, {3, 4}));
  // 4-way along dim 2 of a 3-D tensor (1.5 columns each are not allowed: 6 / 3 = 2 columns per shard).
  for (int s = 0; s < 3; ++s) {
    std::vector<char> part;
    for (int i = 0; i < 4 * 2; ++i)
      part.insert(part.end(), full2.bytes.begin() + (i * 6 + s * 2) * 2, full2.bytes.begin() + (i * 6 + s * 2 + 2) * 2);
    w.add(full2.key, full2.shape, {0, 0, 2 * s}, view(part.data(), MSW_DTYPE_F16, {4, 2, 2}));
  }
  w.finish();
  st::DirectoryReader r(dir.string());
  CHECK(r.tensor_count() == 3);
  CHECK(read_all(r, full0.key, MSW_DTYPE_BF16) == full0.bytes);
  CHECK(read_all(r, full1.key, MSW_DTYPE_F32) == full1.bytes);
  CHECK(read_all(r, full2.key, MSW_DTYPE_F16) == full2.bytes);
}

TEST_CASE("shards of a key that overlap, repeat, disagree or stay incomplete are refused by name") {
  T t = make("w", MSW_DTYPE_F32, {4, 4}, 1);
  auto half = [&](int64_t row) { return view(t.bytes.data() + row * 16, MSW_DTYPE_F32, {2, 4}); };
  {
    st::StreamingWriter w(config(scratch("overlap")));
    w.add("w", t.shape, {0, 0}, half(0));
    expect_error([&] { w.add("w", t.shape, {1, 0}, half(1)); }, MSW_STATUS_INVALID_ARGUMENT, {"\"w\"", "overlaps"});
  }
  {
    st::StreamingWriter w(config(scratch("incomplete")));
    w.add("w", t.shape, {0, 0}, half(0));
    expect_error([&] { w.finish(); }, MSW_STATUS_INVALID_ARGUMENT, {"\"w\"", "incomplete", "8 of 16"});
  }
  {
    st::StreamingWriter w(config(scratch("twice")));
    write_whole(w, t);
    expect_error([&] { write_whole(w, t); }, MSW_STATUS_INVALID_ARGUMENT, {"\"w\"", "complete"});
  }
  {
    st::StreamingWriter w(config(scratch("disagree")));
    w.add("w", t.shape, {0, 0}, half(0));
    expect_error([&] { w.add("w", {4, 5}, {2, 0}, half(2)); }, MSW_STATUS_SHAPE_MISMATCH, {"\"w\"", "earlier shard"});
  }
  {
    st::StreamingWriter w(config(scratch("outside")));
    expect_error([&] { w.add("w", t.shape, {3, 0}, half(0)); }, MSW_STATUS_SHAPE_MISMATCH, {"\"w\"", "does not fit"});
  }
}

TEST_CASE("several ranks: staged per rank, merged and indexed by the coordinator, staging files removed") {
  const fs::path dir = scratch("ranks");
  T a = make("a", MSW_DTYPE_F32, {4, 3}, 21), b = make("b", MSW_DTYPE_BF16, {6}, 22), c = make("c", MSW_DTYPE_I64, {2}, 23);
  for (int32_t rank = 0; rank < 2; ++rank) {
    st::WriterConfig cfg;
    cfg.dir = dir.string();
    cfg.staging = true;
    cfg.rank = rank;
    st::StreamingWriter w(cfg);
    w.add("a", a.shape, {2 * rank, 0}, view(a.bytes.data() + rank * 24, MSW_DTYPE_F32, {2, 3}));  // TP-style split
    if (rank == 0) write_whole(w, b);
    else write_whole(w, c);
    CHECK(w.finish() == std::vector<std::string>{st::rank_file_name(rank)});
  }
  st::merge_rank_files(dir.string(), 2, config(dir, 50, R"({"iteration":3})"));
  CHECK(files_in(dir) == std::vector<std::string>{"model-00001-of-00002.safetensors", "model-00002-of-00002.safetensors",
                                                  "model.safetensors.index.json"});
  st::DirectoryReader r(dir.string());
  CHECK(json::parse(r.common_state_json()) == json{{"iteration", 3}});
  CHECK(read_all(r, "a", MSW_DTYPE_F32) == a.bytes);
  CHECK(read_all(r, "b", MSW_DTYPE_BF16) == b.bytes);
  CHECK(read_all(r, "c", MSW_DTYPE_I64) == c.bytes);

  const fs::path missing = scratch("ranks-missing");
  expect_error([&] { st::merge_rank_files(missing.string(), 2, config(missing)); }, MSW_STATUS_NOT_FOUND,
               {"rank 0", ".megaswift-rank-00000.safetensors"});
}

TEST_CASE("region reads: any sub-box, converted between float dtypes; out-of-range regions refused") {
  const fs::path dir = scratch("regions");
  std::vector<float> vals(3 * 4 * 5);
  for (size_t i = 0; i < vals.size(); ++i) vals[i] = static_cast<float>(i) * 0.25f - 3.0f;
  std::vector<int64_t> ivals{1, 2, 3, 4};
  st::StreamingWriter w(config(dir));
  w.add("x", {3, 4, 5}, {0, 0, 0}, view(vals.data(), MSW_DTYPE_F32, {3, 4, 5}));
  w.add("i", {4}, {0}, view(ivals.data(), MSW_DTYPE_I64, {4}));
  w.finish();
  st::DirectoryReader r(dir.string());
  const std::vector<std::pair<std::vector<int64_t>, std::vector<int64_t>>> boxes{
      {{0, 0, 0}, {3, 4, 5}}, {{1, 0, 0}, {2, 4, 5}}, {{0, 1, 2}, {3, 2, 3}}, {{2, 3, 4}, {1, 1, 1}}, {{0, 0, 1}, {3, 4, 4}},
      {{1, 2, 0}, {1, 2, 5}}, {{0, 0, 0}, {0, 4, 5}}};
  for (const auto& [off, shape] : boxes) {
    size_t n = 1;
    for (int64_t d : shape) n *= static_cast<size_t>(d);
    std::vector<float> got(n, -99.0f);
    std::vector<uint16_t> got_bf16(n);
    r.read_region("x", off, view(got.data(), MSW_DTYPE_F32, shape));
    r.read_region("x", off, view(got_bf16.data(), MSW_DTYPE_BF16, shape));
    size_t k = 0;
    for (int64_t a = 0; a < shape[0]; ++a)
      for (int64_t b = 0; b < shape[1]; ++b)
        for (int64_t c = 0; c < shape[2]; ++c, ++k) {
          const float want = vals[static_cast<size_t>(((off[0] + a) * 4 + off[1] + b) * 5 + off[2] + c)];
          CHECK(got[k] == want);
          uint16_t want_bf16;
          st::encode_one(want, MSW_DTYPE_BF16, &want_bf16);
          CHECK(got_bf16[k] == want_bf16);
          CHECK(st::decode_one(&got_bf16[k], MSW_DTYPE_BF16) == want);  // these values are exact in bf16
        }
  }
  float one = 0;
  expect_error([&] { r.read_region("x", {2, 0, 0}, view(vals.data(), MSW_DTYPE_F32, {2, 4, 5})); },
               MSW_STATUS_SHAPE_MISMATCH, {"\"x\"", "outside"});
  expect_error([&] { r.read_region("x", {0, 0}, view(&one, MSW_DTYPE_F32, {1, 1})); }, MSW_STATUS_SHAPE_MISMATCH,
               {"\"x\"", "dimensions"});
  expect_error([&] { r.read_region("i", {0}, view(vals.data(), MSW_DTYPE_F32, {4})); }, MSW_STATUS_SHAPE_MISMATCH,
               {"\"i\"", "I64"});
  expect_error([&] { r.read_region("nope", {0}, view(&one, MSW_DTYPE_F32, {1})); }, MSW_STATUS_NOT_FOUND, {"\"nope\""});
}

TEST_CASE("float conversion rounds to nearest even, with the overflow rules of each format") {
  auto bits = [](double v, int32_t dtype) {
    uint16_t b = 0;
    st::encode_one(v, dtype, &b);
    return b;
  };
  // bf16: ulp at 1.0 is 2^-7. Ties go to the even mantissa.
  CHECK(bits(1.0 + std::ldexp(1.0, -8), MSW_DTYPE_BF16) == 0x3F80);
  CHECK(bits(1.0 + 3 * std::ldexp(1.0, -8), MSW_DTYPE_BF16) == 0x3F82);
  CHECK(bits(1.0 + std::ldexp(1.0, -8) + std::ldexp(1.0, -20), MSW_DTYPE_BF16) == 0x3F81);
  CHECK(bits(-2.0, MSW_DTYPE_BF16) == 0xC000);
  CHECK(bits(3.5e38, MSW_DTYPE_BF16) == 0x7F80);  // above bf16's max after rounding: inf
  CHECK((bits(std::nan(""), MSW_DTYPE_BF16) & 0x7FC0) == 0x7FC0);
  // f16: max 65504; 65520 is the tie with the next (inf) and rounds up to inf.
  CHECK(bits(65504, MSW_DTYPE_F16) == 0x7BFF);
  CHECK(bits(65519, MSW_DTYPE_F16) == 0x7BFF);
  CHECK(bits(65520, MSW_DTYPE_F16) == 0x7C00);
  CHECK(bits(std::ldexp(1.0, -24), MSW_DTYPE_F16) == 0x0001);      // smallest subnormal
  CHECK(bits(std::ldexp(1.0, -25), MSW_DTYPE_F16) == 0x0000);      // tie with 0: even
  CHECK(bits(3 * std::ldexp(1.0, -26), MSW_DTYPE_F16) == 0x0001);  // 0.75 ulp rounds up
  CHECK(bits(-0.0, MSW_DTYPE_F16) == 0x8000);
  // fp8 e4m3fn: max 448, no inf; 464 ties to 448 (even), 480 and above become NaN (as torch).
  CHECK(bits(448, MSW_DTYPE_F8_E4M3) == 0x7E);
  CHECK(bits(464, MSW_DTYPE_F8_E4M3) == 0x7E);
  CHECK(bits(480, MSW_DTYPE_F8_E4M3) == 0x7F);
  CHECK(bits(-1e9, MSW_DTYPE_F8_E4M3) == 0xFF);
  CHECK(bits(std::ldexp(1.0, -9), MSW_DTYPE_F8_E4M3) == 0x01);
  // fp8 e5m2: max 57344, then inf.
  CHECK(bits(57344, MSW_DTYPE_F8_E5M2) == 0x7B);
  CHECK(bits(1e6, MSW_DTYPE_F8_E5M2) == 0x7C);
  // Every bf16, f16 and fp8 pattern decodes and re-encodes to itself (NaNs stay NaN).
  for (int32_t dt : {MSW_DTYPE_BF16, MSW_DTYPE_F16, MSW_DTYPE_F8_E4M3, MSW_DTYPE_F8_E5M2}) {
    const uint32_t n = msw_dtype_size(dt) == 1 ? 256 : 65536;
    for (uint32_t b = 0; b < n; ++b) {
      const double v = st::decode_one(&b, dt);
      if (std::isnan(v)) continue;
      uint32_t back = 0;
      st::encode_one(v, dt, &back);
      REQUIRE(back == b);
    }
  }
  // The bf16 -> f32 fast path agrees with the exact path, and f32 -> bf16 -> f32 of bf16 values is exact.
  std::vector<uint16_t> src(65536);
  for (uint32_t b = 0; b < 65536; ++b) src[b] = static_cast<uint16_t>(b);
  std::vector<float> f(65536);
  st::convert(src.data(), MSW_DTYPE_BF16, f.data(), MSW_DTYPE_F32, src.size());
  for (uint32_t b = 0; b < 65536; ++b) {
    const double exact = st::decode_one(&src[b], MSW_DTYPE_BF16);
    if (std::isnan(exact)) CHECK(std::isnan(f[b]));
    else REQUIRE(static_cast<double>(f[b]) == exact);
  }
  expect_error([&] { st::convert(src.data(), MSW_DTYPE_I32, f.data(), MSW_DTYPE_F32, 1); }, MSW_STATUS_INVALID_ARGUMENT,
               {"only float"});
}

TEST_CASE("max_shard_size accepts 5GB, 500MB, 2GiB and byte counts, and refuses anything else") {
  CHECK(st::parse_shard_size("5GB") == 5'000'000'000ull);
  CHECK(st::parse_shard_size("500MB") == 500'000'000ull);
  CHECK(st::parse_shard_size("2GiB") == 2ull << 30);
  CHECK(st::parse_shard_size("100kb") == 100'000ull);
  CHECK(st::parse_shard_size("3 MiB") == 3ull << 20);
  CHECK(st::parse_shard_size("123456") == 123456ull);
  for (const char* bad : {"", "GB", "5XB", "-5GB", "0", "99999999999999999999GB", "1.5GB"})
    expect_error([&] { st::parse_shard_size(bad); }, MSW_STATUS_INVALID_ARGUMENT, {"max_shard_size", "5GB"});
}

TEST_CASE("narrow regions of large tensors: short runs read in batches of a bounded span, or one by one") {
  const fs::path dir = scratch("regions-large");
  // [3, 2048, 600] f32: a 5-column slice has 2400-byte strides, so ~1747 rows fit one 4 MiB span: two batches per
  // outer index. [2, 3, 600000] f64: a stride of 4.8 MB is above the span, so runs are read one at a time.
  std::vector<float> a(3 * 2048 * 600);
  for (size_t i = 0; i < a.size(); ++i) a[i] = static_cast<float>(i % 100003) * 0.5f;
  std::vector<double> b(2 * 3 * 600000);
  for (size_t i = 0; i < b.size(); ++i) b[i] = static_cast<double>(i) * 0.125;
  st::StreamingWriter w(config(dir));
  w.add("a", {3, 2048, 600}, {0, 0, 0}, view(a.data(), MSW_DTYPE_F32, {3, 2048, 600}));
  w.add("b", {2, 3, 600000}, {0, 0, 0}, view(b.data(), MSW_DTYPE_F64, {2, 3, 600000}));
  w.finish();
  st::DirectoryReader r(dir.string());
  {
    const std::vector<int64_t> off{1, 100, 7}, shape{2, 1900, 5};
    std::vector<float> got(2 * 1900 * 5);
    std::vector<double> got64(got.size());
    r.read_region("a", off, view(got.data(), MSW_DTYPE_F32, shape));
    r.read_region("a", off, view(got64.data(), MSW_DTYPE_F64, shape));
    size_t k = 0, bad = 0;
    for (int64_t i = 0; i < 2; ++i)
      for (int64_t j = 0; j < 1900; ++j)
        for (int64_t c = 0; c < 5; ++c, ++k) {
          const float want = a[static_cast<size_t>(((off[0] + i) * 2048 + off[1] + j) * 600 + off[2] + c)];
          bad += got[k] != want || got64[k] != static_cast<double>(want);
        }
    CHECK(bad == 0);
  }
  {
    const std::vector<int64_t> off{0, 1, 599990}, shape{2, 2, 10};
    std::vector<double> got(40);
    r.read_region("b", off, view(got.data(), MSW_DTYPE_F64, shape));
    size_t k = 0, bad = 0;
    for (int64_t i = 0; i < 2; ++i)
      for (int64_t j = 0; j < 2; ++j)
        for (int64_t c = 0; c < 10; ++c, ++k)
          bad += got[k] != b[static_cast<size_t>(((off[0] + i) * 3 + off[1] + j) * 600000 + off[2] + c)];
    CHECK(bad == 0);
  }
}

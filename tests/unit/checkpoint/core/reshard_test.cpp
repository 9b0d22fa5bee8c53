// Resharding by offsets: a tensor saved split 2-way and 4-way along each dimension by simulated ranks loads
// whole, and a tensor saved whole loads split, bit-exact for F32 and BF16. Also a stacked-layer parameter.
#include "core_support.hpp"

#include "host/checkpoint/keys.hpp"
#include "host/core/status.hpp"

#include <doctest/doctest.h>

#include <cstring>

namespace host = megaswift::host;
using ckpt_test::cpu_view;
using ckpt_test::pattern;

namespace {

// The bytes of region [offset, offset + shape) of a dense row-major tensor.
std::vector<uint8_t> extract(const std::vector<uint8_t>& all, const std::vector<int64_t>& gshape,
                             const std::vector<int64_t>& offset, const std::vector<int64_t>& shape, size_t es) {
  int64_t n = 1;
  for (int64_t v : shape) n *= v;
  std::vector<uint8_t> out(static_cast<size_t>(n) * es);
  const size_t nd = gshape.size();
  std::vector<int64_t> idx(nd, 0);
  for (int64_t i = 0; i < n; ++i) {
    int64_t rem = i, src = 0, stride = 1;
    for (size_t d = nd; d-- > 0;) {
      idx[d] = rem % shape[d];
      rem /= shape[d];
    }
    for (size_t d = nd; d-- > 0;) {
      src += (idx[d] + offset[d]) * stride;
      stride *= gshape[d];
    }
    std::memcpy(&out[static_cast<size_t>(i) * es], &all[static_cast<size_t>(src) * es], es);
  }
  return out;
}

struct Piece {
  std::vector<int64_t> offset, shape;
};

std::vector<Piece> split(const std::vector<int64_t>& gshape, size_t dim, int64_t ways) {
  std::vector<Piece> out;
  const int64_t chunk = gshape[dim] / ways;
  for (int64_t r = 0; r < ways; ++r) {
    Piece p{std::vector<int64_t>(gshape.size(), 0), gshape};
    p.offset[dim] = r * chunk;
    p.shape[dim] = chunk;
    out.push_back(p);
  }
  return out;
}

}  // namespace

TEST_CASE("a tensor saved split along each dimension by 2 and 4 ranks loads whole, and saved whole loads split") {
  ckpt_test::ScratchDir scratch("reshard");
  const host::CheckpointFormat fmt = ckpt_test::rawdir();
  const std::vector<int64_t> gshape = {8, 4, 12};
  const int64_t n = 8 * 4 * 12;
  int case_no = 0;
  for (int32_t dtype : {MSW_DTYPE_F32, MSW_DTYPE_BF16}) {
    const size_t es = msw_dtype_size(dtype);
    const std::vector<uint8_t> all = pattern(dtype, n, static_cast<uint32_t>(dtype) + 3);
    for (size_t dim = 0; dim < gshape.size(); ++dim) {
      for (int64_t ways : {2, 4}) {
        CAPTURE(dtype);
        CAPTURE(dim);
        CAPTURE(ways);
        const std::vector<Piece> pieces = split(gshape, dim, ways);

        // Split save (one simulated rank per piece), whole load.
        const auto split_dir = scratch.path / ("split" + std::to_string(case_no));
        std::filesystem::create_directories(split_dir);
        std::vector<std::vector<uint8_t>> bytes;
        std::vector<std::vector<host::TensorShard>> ranks;
        for (const Piece& p : pieces) bytes.push_back(extract(all, gshape, p.offset, p.shape, es));
        for (size_t r = 0; r < pieces.size(); ++r)
          ranks.push_back({{"w", gshape, pieces[r].offset, cpu_view(bytes[r].data(), dtype, pieces[r].shape)}});
        fmt.save_simulated_ranks(split_dir, "{\"iteration\":1}", ranks);
        auto reader = fmt.open(split_dir);
        REQUIRE(reader->find("w"));
        CHECK(reader->find("w")->global_shape == gshape);
        CHECK(reader->find("w")->dtype == dtype);
        std::vector<uint8_t> whole(all.size(), 0xAB);
        const std::vector<int64_t> zero(3, 0);
        reader->read_region("w", zero, cpu_view(whole.data(), dtype, gshape));
        CHECK(whole == all);

        // Whole save, split load.
        const auto whole_dir = scratch.path / ("whole" + std::to_string(case_no++));
        std::filesystem::create_directories(whole_dir);
        fmt.save_simulated_ranks(whole_dir, "{\"iteration\":1}", {{{"w", gshape, zero, cpu_view(all.data(), dtype, gshape)}}});
        auto whole_reader = fmt.open(whole_dir);
        for (const Piece& p : pieces) {
          std::vector<uint8_t> got(static_cast<size_t>(n / ways) * es, 0xCD);
          whole_reader->read_region("w", p.offset, cpu_view(got.data(), dtype, p.shape));
          CHECK(got == extract(all, gshape, p.offset, p.shape, es));
        }
        // A 4-way save read back 2-way (pieces spanning two stored shards each).
        if (ways == 4) {
          for (const Piece& p : split(gshape, dim, 2)) {
            std::vector<uint8_t> got(static_cast<size_t>(n / 2) * es, 0xEF);
            reader->read_region("w", p.offset, cpu_view(got.data(), dtype, p.shape));
            CHECK(got == extract(all, gshape, p.offset, p.shape, es));
          }
        }
      }
    }
  }
}

TEST_CASE("per-layer parameters are stacked under one key with a leading layer axis") {
  const auto k = host::sharded_key("decoder.layers.3.self_attention.linear_qkv.weight", {96, 32}, 4);
  CHECK(k.key == "decoder.layers.self_attention.linear_qkv.weight");
  CHECK(k.global_shape == std::vector<int64_t>{4, 96, 32});
  CHECK(k.offset == std::vector<int64_t>{3, 0, 0});
  CHECK(k.shape == std::vector<int64_t>{1, 96, 32});
  const auto e = host::sharded_key("embedding.word_embeddings.weight", {128, 32}, 4);
  CHECK(e.key == "embedding.word_embeddings.weight");
  CHECK(e.global_shape == std::vector<int64_t>{128, 32});
  CHECK(e.offset == std::vector<int64_t>{0, 0});
  CHECK_THROWS_WITH_AS(host::sharded_key("decoder.layers.7.mlp.linear_fc2.weight", {4, 4}, 4),
                       doctest::Contains("names layer 7 of a model with 4 layers"), host::HostError);
  CHECK_FALSE(host::split_layer_name("decoder.final_layernorm.weight"));
}

TEST_CASE("a region is converted between float dtypes on read") {
  ckpt_test::ScratchDir scratch("convert");
  const host::CheckpointFormat fmt = ckpt_test::rawdir();
  const std::vector<float> values = {1.0f, -2.5f, 3.0078125f, 0.1f};
  fmt.save_simulated_ranks(scratch.path, "{}", {{{"v", {4}, {0}, cpu_view(values.data(), MSW_DTYPE_F32, {4})}}});
  auto reader = fmt.open(scratch.path);
  std::vector<uint16_t> bf(4);
  reader->read_region("v", std::vector<int64_t>{0}, cpu_view(bf.data(), MSW_DTYPE_BF16, {4}));
  CHECK(bf[0] == 0x3f80);
  CHECK(bf[1] == 0xc020);
  CHECK(bf[3] == 0x3dcd);  // 0.1 rounds to nearest even
}

// Robustness: thousands of damaged .zarray texts and chunk files are opened and read; each must either
// work or fail with a megaswift Error, never crash or hang (the suite also runs under ASan/UBSan builds).
#include "checkpoint_driver.hpp"

#include <doctest/doctest.h>

#include <fstream>
#include <sstream>

using namespace ckpt_test;

TEST_CASE("zarr: mutated and truncated .zarray files are an error or a valid array, never a crash") {
  Plugin p("zarr");
  const fs::path dir = fresh_dir("zarr_fuzz");
  std::vector<std::vector<TestShard>> ranks{
      {{"w", MSW_DTYPE_BF16, {4, 6}, {0, 0}, {2, 6}, global_bytes(MSW_DTYPE_BF16, {2, 6}, 1)},
       {"w", MSW_DTYPE_BF16, {4, 6}, {2, 0}, {2, 6}, global_bytes(MSW_DTYPE_BF16, {2, 6}, 2)}}};
  p.save(dir, "{}", ranks);
  std::stringstream ss;
  ss << std::ifstream(dir / "w" / ".zarray").rdbuf();
  const std::string good = ss.str();
  std::mt19937 rng(7);
  const std::string alphabet = "0123456789-[]{},:\" .e";
  int opened = 0, refused = 0;
  for (int i = 0; i < 1500; ++i) {
    std::string text = good;
    if (i < static_cast<int>(good.size())) {
      text.resize(static_cast<size_t>(i));  // every truncation
    } else {
      for (int k = 0; k < 1 + static_cast<int>(rng() % 3); ++k)
        text[rng() % text.size()] = alphabet[rng() % alphabet.size()];
    }
    std::ofstream(dir / "w" / ".zarray", std::ios::trunc) << text;
    try {
      Reader r(p, dir);
      ++opened;
      if (r.count() == 1) {
        const msw_tensor_info info = r.info(0);
        Dims shape(info.global_shape, info.global_shape + info.ndim);
        if (numel(shape) <= 4096) {
          try {
            r.read("w", MSW_DTYPE_F32, Dims(shape.size(), 0), shape);
          } catch (const Error&) {
          }
        }
      }
    } catch (const Error&) {
      ++refused;
    }
  }
  CHECK(opened + refused == 1500);
  CHECK(refused > 500);
  MESSAGE("opened " << opened << ", refused " << refused);
}

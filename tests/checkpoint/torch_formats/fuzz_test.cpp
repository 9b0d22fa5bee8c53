// Mutation fuzzing of the parsers on real inputs (our .metadata and torch.save archives, and Megatron's
// .metadata when the shared fixture is present): every mutant is either parsed or refused with an Error;
// nothing else may escape and nothing may crash (this suite also runs under ASan/UBSan).
#include "common_state.hpp"
#include "dcp_metadata.hpp"
#include "io.hpp"
#include "test_support.hpp"
#include "torch_save.hpp"

#include <doctest/doctest.h>

#include <random>

using namespace tft;
using torchfmt::Error;

namespace {

std::string mutate(const std::string& seed, std::mt19937_64& rng) {
  std::string s = seed;
  const int edits = 1 + static_cast<int>(rng() % 4);
  for (int e = 0; e < edits && !s.empty(); ++e) {
    const size_t at = rng() % s.size();
    switch (rng() % 6) {
      case 0: s[at] = static_cast<char>(rng()); break;
      case 1: s[at] ^= static_cast<char>(1u << (rng() % 8)); break;
      case 2: s.erase(at, 1 + rng() % 8); break;
      case 3: s.insert(at, 1, static_cast<char>(rng())); break;
      case 4: s.resize(at); break;
      default: {  // a large little-endian length where a length may be
        const uint32_t v = static_cast<uint32_t>(rng());
        for (int b = 0; b < 4 && at + b < s.size(); ++b) s[at + b] = static_cast<char>(v >> (8 * b));
      }
    }
  }
  return s;
}

template <class F>
size_t fuzz(const std::string& seed, int iterations, uint64_t salt, F&& parse) {
  std::mt19937_64 rng(0x5eed ^ salt);
  size_t refused = 0;
  for (int i = 0; i < iterations; ++i) {
    const std::string m = mutate(seed, rng);
    try {
      parse(m);
    } catch (const Error&) {
      ++refused;
    } catch (const std::exception& e) {
      FAIL("mutant " << i << " escaped with a non-Error exception: " << e.what());
    }
  }
  return refused;
}

const uint8_t* u8(const std::string& s) { return reinterpret_cast<const uint8_t*>(s.data()); }

std::string sample_metadata() {
  torchfmt::DcpMetadata m;
  m.tensors.push_back({"decoder.layers.w", MSW_DTYPE_BF16, {2, 6, 4},
                       {{{0, 0, 0}, {1, 6, 4}, {"__0_0.distcp", 0, 1500}}, {{1, 0, 0}, {1, 6, 4}, {"__1_0.distcp", 1500, 1500}}}});
  m.tensors.push_back({"b", MSW_DTYPE_F32, {3}, {{{0}, {3}, {"__0_0.distcp", 3000, 1400}}}});
  m.bytes.push_back({"common_state/shard_0_1", {"__0_0.distcp", 4400, 1000}});
  return torchfmt::write_dcp_metadata(m);
}

std::string sample_archive() {
  const fs::path p = fresh_dir("fuzz") / "a.pt";
  Tensor t(MSW_DTYPE_BF16, {3, 4}, 3);
  torchfmt::PickleWriter w;
  torchfmt::pickle_tensor(w, t.dtype, t.shape, "0");
  w.stop();
  torchfmt::OutFile f(p.string());
  torchfmt::write_torch_archive(f, "archive", w.bytes_out(), {{t.bytes.data(), t.bytes.size()}});
  f.close(false);
  return torchfmt::read_small_file(p.string(), 1 << 20);
}

}  // namespace

TEST_CASE("fuzz: mutated .metadata pickles are parsed or refused, never crash") {
  std::vector<std::string> seeds = {sample_metadata()};
  for (const fs::path& base : {megaswift::testing::source_dir() / ".." / "shared", megaswift::testing::source_dir() / "shared"}) {
    const fs::path tgz = base / "fixtures" / "megatron-core" / "mc-qwen2-tiny.tgz";
    if (!fs::exists(tgz)) continue;
    const fs::path d = fresh_dir("fuzz_fixture");
    if (std::system(("tar xzf '" + tgz.string() + "' -C '" + d.string() + "' mc-qwen2-tiny/iter_0000007/.metadata").c_str()) == 0)
      seeds.push_back(torchfmt::read_small_file((d / "mc-qwen2-tiny/iter_0000007/.metadata").string(), 1 << 20));
    break;
  }
  for (size_t k = 0; k < seeds.size(); ++k) {
    const size_t refused = fuzz(seeds[k], 3000, k, [](const std::string& m) {
      torchfmt::Pickle p = torchfmt::parse_pickle(u8(m), m.size(), "fuzz");
      try {  // storage_data's keys are objects, which the JSON view refuses: exercise it, count only the parse
        (void)torchfmt::to_json(p.root(), "fuzz").dump(-1, ' ', false, torchfmt::Json::error_handler_t::replace);
      } catch (const Error&) {
      }
      (void)torchfmt::parse_dcp_metadata(u8(m), m.size(), "fuzz");
    });
    MESSAGE("seed " << k << ": " << refused << " of 3000 mutants refused");
    CHECK(refused > 0);
    CHECK(refused < 3000);  // some mutants (a changed digit in a name or size) still parse
  }
}

TEST_CASE("fuzz: mutated torch.save archives are read or refused, never crash") {
  const std::string seed = sample_archive();
  const size_t refused = fuzz(seed, 3000, 99, [](const std::string& m) {
    torchfmt::TorchArchive a(u8(m), m.size(), "fuzz");
    if (torchfmt::TorchArchive::is_tensor(a.root())) {
      const torchfmt::TensorRef t = a.tensor(a.root());
      // Touch every element the reference claims, so ASan sees any out-of-range pointer.
      torchfmt::ChunkView v{t.data, t.dtype, std::vector<int64_t>(t.shape.size(), 0), t.shape, t.strides};
      Tensor out;
      out.dtype = t.dtype;
      out.shape = t.shape;
      out.bytes.resize(static_cast<size_t>(torchfmt::numel_checked(t.shape, "f")) * msw_dtype_size(t.dtype));
      torchfmt::copy_intersection(v, std::vector<int64_t>(t.shape.size(), 0), out.view());
    }
  });
  MESSAGE(refused << " of 3000 mutants refused");
  CHECK(refused > 0);
}

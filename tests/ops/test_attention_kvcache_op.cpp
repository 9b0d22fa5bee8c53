// attention_kvcache_forward (ABI 2.3) through the host's table: a prefill of rows of different lengths
// (THD) followed by decode steps (SBHD, one token per row) equals, step by step, the float64 reference over
// the row's whole sequence so far; the new keys and values land in the cache rows (keys and values of a row
// side by side, as a plugin may lay them out); a row past the cache's
// capacity, a wrong cache_seqlens and an older host table are refused with what is wrong.
#include <doctest/doctest.h>

#include <cmath>
#include <string>

#include "ops_table_support.hpp"
#include "reference_attention.hpp"
#include "test_support.hpp"

using namespace ops_test;
using namespace ops_table;

namespace {

constexpr int64_t kHq = 4, kHkv = 2, kD = 8, kCap = 16, kRows = 3;

// One buffer with each row's keys and then its values (a plugin's layout: rows contiguous in the cache).
constexpr int64_t kRowElems = 2 * kCap * kHkv * kD;

struct Cache {
  FVec kv = FVec(kRows * kRowElems, 7.0f);
  std::vector<int32_t> lens = std::vector<int32_t>(kRows, 0);
  // Every token each row has seen so far, (L, H, D) per row, to recompute the reference from scratch.
  std::vector<FVec> q_all = std::vector<FVec>(kRows), k_all = std::vector<FVec>(kRows), v_all = std::vector<FVec>(kRows);
};

msw_attention_kvcache_args cache_args(Cache& c) {
  msw_attention_kvcache_args a = sdk::Ops::args<msw_attention_kvcache_args>();
  a.k_cache = f32(c.kv, {kRows, kCap, kHkv, kD});
  a.k_cache.strides[0] = kRowElems;
  a.v_cache = a.k_cache;
  a.v_cache.byte_offset = kCap * kHkv * kD * sizeof(float);
  a.cache_seqlens = i32(c.lens, {kRows});
  return a;
}

// out of row r's last `n` queries, recomputed over all of the row's tokens.
Vec reference_tail(const Cache& c, int64_t r, int64_t n, const ops_ref::AttentionOptions& o) {
  const int64_t L = static_cast<int64_t>(c.k_all[r].size()) / (kHkv * kD);
  const Vec q = to_double(c.q_all[r]);
  const Vec all = ops_ref::attention_seq(q, to_double(c.k_all[r]), to_double(c.v_all[r]), L, L, kHq, kHkv, kD, o);
  return Vec(all.end() - n * kHq * kD, all.end());
}

void append(FVec& to, const FVec& from, int64_t first_token, int64_t count, int64_t elems) {
  to.insert(to.end(), from.begin() + first_token * elems, from.begin() + (first_token + count) * elems);
}

}  // namespace

TEST_CASE("attention over a KV cache: a ragged THD prefill, then SBHD decode steps, equal the reference on the whole sequence") {
  Cache c;
  const ops_ref::AttentionOptions opt{1.0 / std::sqrt(double(kD)), 5, 2.0};
  // Prefill: rows of 5, 0 and 3 tokens in one packed call.
  std::vector<int32_t> cu = {0, 5, 5, 8};
  const int64_t T = 8;
  FVec q = random_floats(T * kHq * kD, -2.0f, 2.0f), k = random_floats(T * kHkv * kD, -2.0f, 2.0f),
       v = random_floats(T * kHkv * kD), out(q.size(), 9.0f);
  msw_attention_kvcache_args a = cache_args(c);
  a.layout = MSW_ATTN_THD;
  a.q = f32(q, {T, kHq, kD});
  a.k_new = f32(k, {T, kHkv, kD});
  a.v_new = f32(v, {T, kHkv, kD});
  a.out = f32(out, {T, kHq, kD});
  a.cu_seqlens_q = i32(cu, {kRows + 1});
  a.window_left = opt.window_left;
  a.softcap = opt.softcap;
  ops().attention_kvcache_forward(a);
  for (int64_t r = 0; r < kRows; ++r) {
    const int64_t n = cu[r + 1] - cu[r];
    append(c.q_all[r], q, cu[r], n, kHq * kD);
    append(c.k_all[r], k, cu[r], n, kHkv * kD);
    append(c.v_all[r], v, cu[r], n, kHkv * kD);
    if (n) check_close("prefill row " + std::to_string(r), FVec(out.begin() + cu[r] * kHq * kD, out.begin() + cu[r + 1] * kHq * kD),
                       reference_tail(c, r, n, opt), 5e-6, 5e-6);
    // The new keys sit at the row's first positions of the cache.
    for (int64_t i = 0; i < n * kHkv * kD; ++i) {
      REQUIRE(c.kv[r * kRowElems + i] == k[cu[r] * kHkv * kD + i]);
      REQUIRE(c.kv[r * kRowElems + kCap * kHkv * kD + i] == v[cu[r] * kHkv * kD + i]);
    }
    c.lens[r] += static_cast<int32_t>(n);
  }

  // Decode: one token per row (row 1 starts from an empty cache), SBHD (1, N, heads, D), six steps.
  for (int step = 0; step < 6; ++step) {
    FVec qs = random_floats(kRows * kHq * kD, -2.0f, 2.0f), ks = random_floats(kRows * kHkv * kD, -2.0f, 2.0f),
         vs = random_floats(kRows * kHkv * kD), os(qs.size());
    msw_attention_kvcache_args d = cache_args(c);
    d.layout = MSW_ATTN_SBHD;
    d.q = f32(qs, {1, kRows, kHq, kD});
    d.k_new = f32(ks, {1, kRows, kHkv, kD});
    d.v_new = f32(vs, {1, kRows, kHkv, kD});
    d.out = f32(os, {1, kRows, kHq, kD});
    d.window_left = opt.window_left;
    d.softcap = opt.softcap;
    ops().attention_kvcache_forward(d);
    for (int64_t r = 0; r < kRows; ++r) {
      append(c.q_all[r], qs, r, 1, kHq * kD);
      append(c.k_all[r], ks, r, 1, kHkv * kD);
      append(c.v_all[r], vs, r, 1, kHkv * kD);
      check_close("decode step " + std::to_string(step) + " row " + std::to_string(r),
                  FVec(os.begin() + r * kHq * kD, os.begin() + (r + 1) * kHq * kD), reference_tail(c, r, 1, opt), 5e-6, 5e-6);
      ++c.lens[r];
    }
  }
}

TEST_CASE("attention over a KV cache: refusals name the capacity, the lengths and the missing entry") {
  Cache c;
  c.lens = {kCap - 1, 0, 0};
  FVec q = random_floats(2 * kRows * kHq * kD), k = random_floats(2 * kRows * kHkv * kD), v = k, out(q.size());
  msw_attention_kvcache_args a = cache_args(c);
  a.layout = MSW_ATTN_SBHD;
  a.q = f32(q, {2, kRows, kHq, kD});
  a.k_new = f32(k, {2, kRows, kHkv, kD});
  a.v_new = f32(v, {2, kRows, kHkv, kD});
  a.out = f32(out, {2, kRows, kHq, kD});
  CHECK_THROWS_WITH(ops().attention_kvcache_forward(a), doctest::Contains("past its capacity of 16 tokens"));

  c.lens = {0, 0, 99};
  a.cache_seqlens = i32(c.lens, {kRows});
  CHECK_THROWS_WITH(ops().attention_kvcache_forward(a), doctest::Contains("cache_seqlens[2] = 99 is outside [0, 16]"));

  std::vector<int32_t> two = {0, 0};
  a.cache_seqlens = i32(two, {2});
  CHECK_THROWS_WITH(ops().attention_kvcache_forward(a), doctest::Contains("one length per cache row"));

  // A host table from before ABI 2.3 ends before the entry: the SDK wrapper says which op and which minor.
  const msw_exec_ctx& ctx = cpu_ctx();  // connects the SDK to the current host first
  msw_ops_api old = ops().api();
  old.struct_size = static_cast<uint32_t>(offsetof(msw_ops_api, attention_kvcache_forward));
  msw_host_api old_host = *sdk::detail::g_host;
  old_host.ops = &old;
  const msw_host_api* saved = sdk::detail::g_host;
  sdk::detail::g_host = &old_host;
  CHECK_THROWS_WITH(sdk::Ops(ctx).attention_kvcache_forward(a), doctest::Contains("added in ABI 2.3"));
  sdk::detail::g_host = saved;
}

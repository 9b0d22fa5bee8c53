// Attention through the ops table (msw_attention_args): the SBHD and THD layouts against the float64
// reference, rows outside every THD sequence zeroed, the 2.0-sized args (no window/softcap members), scale 0
// read as 1/sqrt(D), and the refusals that name what is wrong.
#include <doctest/doctest.h>

#include <cmath>

#include "ops_table_support.hpp"
#include "reference_attention.hpp"
#include "test_support.hpp"

using namespace ops_test;
using namespace ops_table;

namespace {

msw_attention_args sbhd_args(FVec& q, FVec& k, FVec& v, FVec& out, FVec& lse, int64_t B, int64_t Sq, int64_t Skv,
                             int64_t Hq, int64_t Hkv, int64_t D) {
  msw_attention_args a = sdk::Ops::args<msw_attention_args>();
  a.layout = MSW_ATTN_SBHD;
  a.q = f32(q, {Sq, B, Hq, D});
  a.k = f32(k, {Skv, B, Hkv, D});
  a.v = f32(v, {Skv, B, Hkv, D});
  a.out = f32(out, {Sq, B, Hq, D});
  a.lse = f32(lse, {Sq, B, Hq});
  return a;
}

}  // namespace

TEST_CASE("attention through the table: SBHD with a KV cache, window and softcap matches the float64 reference") {
  const int64_t B = 2, Sq = 3, Skv = 11, Hq = 4, Hkv = 2, D = 8;
  FVec q = random_floats(Sq * B * Hq * D, -2.0f, 2.0f), k = random_floats(Skv * B * Hkv * D, -2.0f, 2.0f),
       v = random_floats(Skv * B * Hkv * D), out(q.size()), lse(Sq * B * Hq);
  msw_attention_args a = sbhd_args(q, k, v, out, lse, B, Sq, Skv, Hq, Hkv, D);
  a.window_left = 4;
  a.softcap = 1.0;
  // scale 0 is read as 1/sqrt(D)
  ops().attention_forward(a);
  Vec want_lse;
  const ops_ref::AttentionOptions opt{1.0 / std::sqrt(8.0), 4, 1.0};
  check_close("out", out, ops_ref::attention_sbhd(to_double(q), to_double(k), to_double(v), B, Sq, Skv, Hq, Hkv, D, opt, &want_lse),
              5e-6, 5e-6);
  check_close("lse", lse, want_lse, 5e-6, 5e-6);
}

TEST_CASE("attention through the table: THD rows outside every sequence are zero and each sequence is its own") {
  const int64_t Hq = 2, Hkv = 1, D = 4, T = 12;
  std::vector<int32_t> cu = {0, 4, 9};  // rows 9..11 are padding
  FVec q = random_floats(T * Hq * D), k = random_floats(T * Hkv * D), v = random_floats(T * Hkv * D),
       out(q.size(), 3.0f), lse(T * Hq, 3.0f);
  msw_attention_args a = sdk::Ops::args<msw_attention_args>();
  a.layout = MSW_ATTN_THD;
  a.q = f32(q, {T, Hq, D});
  a.k = f32(k, {T, Hkv, D});
  a.v = f32(v, {T, Hkv, D});
  a.out = f32(out, {T, Hq, D});
  a.lse = f32(lse, {T, Hq});
  a.cu_seqlens_q = i32(cu, {3});
  a.max_seqlen_q = a.max_seqlen_kv = 5;
  a.scale = 0.5;
  ops().attention_forward(a);
  for (int64_t i = 9 * Hq * D; i < T * Hq * D; ++i) REQUIRE(out[i] == 0.0f);
  for (int64_t i = 9 * Hq; i < T * Hq; ++i) REQUIRE(lse[i] == 0.0f);
  const ops_ref::AttentionOptions opt{0.5};
  for (int s = 0; s < 2; ++s) {
    const int64_t r0 = cu[s], n = cu[s + 1] - cu[s];
    const Vec qs(q.begin() + r0 * Hq * D, q.begin() + (r0 + n) * Hq * D);
    const Vec ks(k.begin() + r0 * Hkv * D, k.begin() + (r0 + n) * Hkv * D);
    const Vec vs(v.begin() + r0 * Hkv * D, v.begin() + (r0 + n) * Hkv * D);
    check_close("THD sequence", FVec(out.begin() + r0 * Hq * D, out.begin() + (r0 + n) * Hq * D),
                ops_ref::attention_seq(qs, ks, vs, n, n, Hq, Hkv, D, opt), 5e-6, 5e-6);
  }

  // Backward writes zeros on the padding too, and the gradient matches the SBHD run of sequence 0.
  FVec g = random_floats(q.size()), dq(q.size(), 3.0f), dk(k.size(), 3.0f), dv(v.size(), 3.0f);
  a.dout = f32(g, {T, Hq, D});
  a.dq = f32(dq, {T, Hq, D});
  a.dk = f32(dk, {T, Hkv, D});
  a.dv = f32(dv, {T, Hkv, D});
  ops().attention_backward(a);
  for (int64_t i = 9 * Hkv * D; i < T * Hkv * D; ++i) REQUIRE((dk[i] == 0.0f && dv[i] == 0.0f));
  FVec q0(q.begin(), q.begin() + 4 * Hq * D), k0(k.begin(), k.begin() + 4 * Hkv * D), v0(v.begin(), v.begin() + 4 * Hkv * D),
      o0(out.begin(), out.begin() + 4 * Hq * D), l0(lse.begin(), lse.begin() + 4 * Hq), g0(g.begin(), g.begin() + 4 * Hq * D),
      dq0(q0.size()), dk0(k0.size()), dv0(v0.size());
  msw_attention_args b = sbhd_args(q0, k0, v0, o0, l0, 1, 4, 4, Hq, Hkv, D);
  b.scale = 0.5;
  b.dout = f32(g0, {4, 1, Hq, D});
  b.dq = f32(dq0, {4, 1, Hq, D});
  b.dk = f32(dk0, {4, 1, Hkv, D});
  b.dv = f32(dv0, {4, 1, Hkv, D});
  ops().attention_backward(b);
  CHECK(FVec(dq.begin(), dq.begin() + 4 * Hq * D) == dq0);
  CHECK(FVec(dk.begin(), dk.begin() + 4 * Hkv * D) == dk0);
}

TEST_CASE("attention args of the 2.0 size leave the window and softcap at zero whatever follows them") {
  const int64_t B = 1, S = 9, H = 2, D = 4;
  FVec q = random_floats(S * B * H * D), k = random_floats(S * B * H * D), v = random_floats(S * B * H * D);
  FVec out_old(q.size()), lse_old(S * B * H), out_full(q.size()), lse_full(S * B * H);
  msw_attention_args full = sbhd_args(q, k, v, out_full, lse_full, B, S, S, H, H, D);
  full.scale = 0.5;
  ops().attention_forward(full);
  // A caller compiled against 2.0 has no window_left/softcap: whatever bytes follow its struct are not read.
  msw_attention_args old = sbhd_args(q, k, v, out_old, lse_old, B, S, S, H, H, D);
  old.scale = 0.5;
  old.window_left = 2;
  old.softcap = 0.1;
  old.struct_size = static_cast<uint32_t>(offsetof(msw_attention_args, window_left));
  const msw_exec_ctx& ctx = cpu_ctx();
  CHECK(megaswift::host::ops_api().attention_forward(&ctx, &old) == nullptr);
  CHECK(out_old == out_full);
  CHECK(lse_old == lse_full);
}

TEST_CASE("attention through the table refuses bad THD offsets, more queries than keys and non-causal masks") {
  const int64_t T = 6, H = 1, D = 2;
  FVec q(T * H * D), k(T * H * D), v(T * H * D), out(q.size()), lse(T * H);
  std::vector<int32_t> cu = {0, 4, 3};
  msw_attention_args a = sdk::Ops::args<msw_attention_args>();
  a.layout = MSW_ATTN_THD;
  a.q = f32(q, {T, H, D});
  a.k = f32(k, {T, H, D});
  a.v = f32(v, {T, H, D});
  a.out = f32(out, {T, H, D});
  a.lse = f32(lse, {T, H});
  CHECK_THROWS_WITH(ops().attention_forward(a), doctest::Contains("the THD layout needs cu_seqlens_q"));
  a.cu_seqlens_q = i32(cu, {3});
  CHECK_THROWS_WITH(ops().attention_forward(a), doctest::Contains("cu_seqlens_q[2] = 3: offsets must be non-decreasing"));
  cu = {0, 4, 6};
  std::vector<int32_t> cu_kv = {0, 2, 6};
  a.cu_seqlens_kv = i32(cu_kv, {3});
  CHECK_THROWS_WITH(ops().attention_forward(a), doctest::Contains("sequence 0 has 4 queries but only 2 keys"));
  a.cu_seqlens_kv = {};
  a.max_seqlen_q = 3;
  CHECK_THROWS_WITH(ops().attention_forward(a), doctest::Contains("sequence 0 has 4 tokens, more than max_seqlen_q = 3"));
  a.max_seqlen_q = 0;
  a.causal = 2;
  try {
    ops().attention_forward(a);
    FAIL("causal = 2 was accepted");
  } catch (const sdk::Error& e) {
    CHECK(e.code() == MSW_STATUS_UNSUPPORTED);
    CHECK(std::string(e.what()).find("ops.attention_forward: causal = 2") != std::string::npos);
  }
}

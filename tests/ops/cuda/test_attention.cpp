// attention_forward, attention_backward and attention_kvcache_forward on the GPU against the CPU backend through
// the ops table, on fresh random data in f32 (rel 1e-5) and bf16 (rel 1e-2), one case in f16: SBHD and THD (ragged sequences,
// padding rows no sequence covers, separate kv offsets with fewer queries than keys, a sequence without
// queries), GQA, bottom-right causal alignment, sliding window, softcap, explicit and default scale, head dims
// 32 to 256 that are not all multiples of the tile sizes. Backward runs both sides on the GPU forward's out and
// lse, so it compares the backward alone; it is checked to be bitwise repeatable. The KV-cache op runs a ragged
// THD prefill, then SBHD and THD decode steps, against the CPU op step by step, with f32 and bf16 caches whose
// keys and values sit side by side in one buffer (the SDK's layout).
#include "cuda_op_support.hpp"
#include "shaped_tensors.hpp"

#include <cmath>
#include <string>
#include <vector>

using namespace cuda_ops_test;
using ops_test::FVec;

namespace {

struct AttnCase {
  const char* name = "";
  int32_t layout = MSW_ATTN_SBHD;
  int64_t b = 0, sq = 0, skv = 0;   // SBHD
  std::vector<int32_t> cu_q, cu_kv;  // THD (cu_kv empty: absent, the kv offsets are q's)
  int64_t tq = 0, tkv = 0;           // THD rows (more than the sequences cover: padding rows)
  int64_t max_q = 0, max_kv = 0;     // THD (0: not given)
  int64_t hq = 0, hkv = 0, d = 0;
  int64_t window = 0;
  double softcap = 0.0, scale = 0.0;
  float range = 1.0f;  // of q and k: larger makes the softcap bite
};

Shape q_shape(const AttnCase& c) { return c.layout == MSW_ATTN_SBHD ? Shape{c.sq, c.b, c.hq, c.d} : Shape{c.tq, c.hq, c.d}; }
Shape kv_shape(const AttnCase& c) { return c.layout == MSW_ATTN_SBHD ? Shape{c.skv, c.b, c.hkv, c.d} : Shape{c.tkv, c.hkv, c.d}; }
Shape lse_shape(const AttnCase& c) { return c.layout == MSW_ATTN_SBHD ? Shape{c.sq, c.b, c.hq} : Shape{c.tq, c.hq}; }

msw_attention_args base_args(const AttnCase& c) {
  msw_attention_args a = sdk::Ops::args<msw_attention_args>();
  a.layout = c.layout;
  a.causal = 1;
  a.max_seqlen_q = c.max_q;
  a.max_seqlen_kv = c.max_kv;
  a.scale = c.scale;
  a.window_left = c.window;
  a.softcap = c.softcap;
  return a;
}

void run_attention_case(const AttnCase& c, int32_t dt) {
  INFO(c.name << " in " << megaswift::host::ops::dtype_short(dt));
  const Shape qs = q_shape(c), kvs = kv_shape(c), ls = lse_shape(c);
  const int64_t nq = numel(qs), nkv = numel(kvs), nl = numel(ls);
  const FVec q = rounded(ops_test::random_floats(nq, -c.range, c.range), dt);
  const FVec k = rounded(ops_test::random_floats(nkv, -c.range, c.range), dt);
  const FVec v = rounded(ops_test::random_floats(nkv), dt);
  const FVec dout = rounded(ops_test::random_floats(nq), dt);
  const bool thd = c.layout == MSW_ATTN_THD;
  std::vector<int32_t> cu_q = thd ? c.cu_q : std::vector<int32_t>{0}, cu_kv = c.cu_kv.empty() ? cu_q : c.cu_kv;
  const int64_t n_cu = static_cast<int64_t>(cu_q.size());

  // Forward on the GPU (outputs start as garbage: every element must be written).
  Gpu gq(q, dt, qs), gk(k, dt, kvs), gv(v, dt, kvs), gout(FVec(nq, 9.0f), dt, qs), glse(FVec(nl, 9.0f), MSW_DTYPE_F32, ls);
  GpuTensor gcu_q(cu_q, MSW_DTYPE_I32, {n_cu}), gcu_kv(cu_kv, MSW_DTYPE_I32, {n_cu});
  msw_attention_args a = base_args(c);
  a.q = gq.t;
  a.k = gk.t;
  a.v = gv.t;
  a.out = gout.t;
  a.lse = glse.t;
  if (thd) {
    a.cu_seqlens_q = gcu_q.t;
    if (!c.cu_kv.empty()) a.cu_seqlens_kv = gcu_kv.t;
  }
  gpu_ops().attention_forward(a);

  // The same on the CPU.
  FVec cq = q, ck = k, cv = v, cout(nq, 9.0f), clse(nl, 9.0f);
  msw_attention_args ca = base_args(c);
  ca.q = cpu_tensor(cq, qs);
  ca.k = cpu_tensor(ck, kvs);
  ca.v = cpu_tensor(cv, kvs);
  ca.out = cpu_tensor(cout, qs);
  ca.lse = cpu_tensor(clse, ls);
  if (thd) {
    ca.cu_seqlens_q = ops_table::i32(cu_q, {n_cu});
    if (!c.cu_kv.empty()) ca.cu_seqlens_kv = ops_table::i32(cu_kv, {n_cu});
  }
  ops_table::ops().attention_forward(ca);
  const FVec g_out = gout.values(), g_lse = glse.values();
  check_near("out", g_out, rounded(cout, dt), tolerance(dt));
  check_near("lse", g_lse, clse, tolerance(dt));

  // Backward, both sides from the GPU forward's out and lse.
  Gpu gdout(dout, dt, qs), gdq(FVec(nq, 9.0f), dt, qs), gdk(FVec(nkv, 9.0f), dt, kvs), gdv(FVec(nkv, 9.0f), dt, kvs);
  a.dout = gdout.t;
  a.dq = gdq.t;
  a.dk = gdk.t;
  a.dv = gdv.t;
  gpu_ops().attention_backward(a);
  FVec co = g_out, cl = g_lse, cdo = dout, cdq(nq, 9.0f), cdk(nkv, 9.0f), cdv(nkv, 9.0f);
  ca.out = cpu_tensor(co, qs);
  ca.lse = cpu_tensor(cl, ls);
  ca.dout = cpu_tensor(cdo, qs);
  ca.dq = cpu_tensor(cdq, qs);
  ca.dk = cpu_tensor(cdk, kvs);
  ca.dv = cpu_tensor(cdv, kvs);
  ops_table::ops().attention_backward(ca);
  const FVec g_dq = gdq.values(), g_dk = gdk.values(), g_dv = gdv.values();
  check_near("dq", g_dq, rounded(cdq, dt), tolerance(dt));
  check_near("dk", g_dk, rounded(cdk, dt), tolerance(dt));
  check_near("dv", g_dv, rounded(cdv, dt), tolerance(dt));

  // No atomics: a second run gives the same bits.
  gpu_ops().attention_backward(a);
  CHECK(gdq.values() == g_dq);
  CHECK(gdk.values() == g_dk);
  CHECK(gdv.values() == g_dv);
}

const int32_t kDtypes[] = {MSW_DTYPE_F32, MSW_DTYPE_BF16};

}  // namespace

TEST_CASE("CUDA attention SBHD with GQA, equal and fewer queries than keys, forward and backward equal the CPU") {
  REQUIRE_GPU_OR_SKIP();
  AttnCase square;
  square.name = "SBHD square, GQA 4/2, D 64";
  square.b = 2, square.sq = 77, square.skv = 77, square.hq = 4, square.hkv = 2, square.d = 64;
  AttnCase tail;
  tail.name = "SBHD 19 queries over 131 keys, GQA 6/2, D 96, explicit scale";
  tail.b = 3, tail.sq = 19, tail.skv = 131, tail.hq = 6, tail.hkv = 2, tail.d = 96, tail.scale = 0.07;
  AttnCase small;
  small.name = "SBHD D 32, MHA, one query tile";
  small.b = 1, small.sq = 5, small.skv = 40, small.hq = 3, small.hkv = 3, small.d = 32;
  for (int32_t dt : kDtypes)
    for (const AttnCase* c : {&square, &tail, &small}) run_attention_case(*c, dt);
  run_attention_case(square, MSW_DTYPE_F16);  // f16 storage too (tolerance 2e-3)
}

TEST_CASE("CUDA attention with a sliding window and a softcap equals the CPU, D 64 and 128") {
  REQUIRE_GPU_OR_SKIP();
  AttnCase win;
  win.name = "SBHD window 37, softcap 5, GQA 2/1, D 64";
  win.b = 2, win.sq = 150, win.skv = 150, win.hq = 2, win.hkv = 1, win.d = 64, win.window = 37, win.softcap = 5.0,
  win.range = 2.5f;
  AttnCase win_tail;
  win_tail.name = "SBHD window 70 with 50 queries over 200 keys, softcap 8, D 128";
  win_tail.b = 2, win_tail.sq = 50, win_tail.skv = 200, win_tail.hq = 4, win_tail.hkv = 2, win_tail.d = 128,
  win_tail.window = 70, win_tail.softcap = 8.0, win_tail.range = 2.0f;
  for (int32_t dt : kDtypes)
    for (const AttnCase* c : {&win, &win_tail}) run_attention_case(*c, dt);
}

TEST_CASE("CUDA attention THD: ragged sequences and padding rows (zeroed), forward and backward equal the CPU") {
  REQUIRE_GPU_OR_SKIP();
  AttnCase packed;
  packed.name = "THD ragged 70, 1, 130, 0, 9 with 3 leading and 5 trailing padding rows, D 80, max_seqlen given";
  packed.layout = MSW_ATTN_THD;
  packed.cu_q = {3, 73, 74, 204, 204, 213};
  packed.tq = packed.tkv = 218;
  packed.max_q = packed.max_kv = 130;
  packed.hq = 4, packed.hkv = 4, packed.d = 80;
  AttnCase packed_kv;
  packed_kv.name = "THD separate kv offsets (fewer queries than keys, a sequence without queries), window 45, "
                     "softcap 6, GQA 4/1, D 256, max_seqlen not given";
  packed_kv.layout = MSW_ATTN_THD;
  packed_kv.cu_q = {0, 20, 20, 85, 86};
  packed_kv.cu_kv = {2, 102, 132, 217, 300};
  packed_kv.tq = 90;
  packed_kv.tkv = 301;
  packed_kv.hq = 4, packed_kv.hkv = 1, packed_kv.d = 256, packed_kv.window = 45, packed_kv.softcap = 6.0,
  packed_kv.range = 2.0f;
  AttnCase gqa;
  gqa.name = "THD GQA 8/2, D 128, window 20";
  gqa.layout = MSW_ATTN_THD;
  gqa.cu_q = {0, 65, 129, 200};
  gqa.tq = gqa.tkv = 200;
  gqa.max_q = gqa.max_kv = 71;
  gqa.hq = 8, gqa.hkv = 2, gqa.d = 128, gqa.window = 20;
  for (int32_t dt : kDtypes)
    for (const AttnCase* c : {&packed, &packed_kv, &gqa}) run_attention_case(*c, dt);
}

TEST_CASE("CUDA attention refuses what its kernels do not take, naming it") {
  REQUIRE_GPU_OR_SKIP();
  auto message = [](msw_status* st) {
    REQUIRE(st != nullptr);
    std::string m = megaswift::host::host_api().status_message(st);
    megaswift::host::host_api().status_free(st);
    return m;
  };
  const int64_t d = 320;
  Gpu q(FVec(2 * d), MSW_DTYPE_F32, {1, 1, 2, d}), out(FVec(2 * d), MSW_DTYPE_F32, {1, 1, 2, d}),
      lse(FVec(2), MSW_DTYPE_F32, {1, 1, 2}), lse16(FVec(2), MSW_DTYPE_BF16, {1, 1, 2});
  msw_attention_args a = sdk::Ops::args<msw_attention_args>();
  a.q = a.k = a.v = q.t;
  a.out = out.t;
  a.lse = lse.t;
  CHECK(message(gpu_ops().api().attention_forward(&gpu_ctx(), &a)).find("head_dim 320") != std::string::npos);
  a.lse = lse16.t;
  CHECK(message(gpu_ops().api().attention_forward(&gpu_ctx(), &a)).find("lse in f32") != std::string::npos);
}

namespace {

// KV caches of N rows, each row's keys then its values in one buffer (the SDK's layout), on both sides.
struct KvCaches {
  int64_t n, cap, hq, hkv, d;
  int32_t dt, cache_dt;
  int64_t window;
  double softcap;
  int64_t row_elems() const { return 2 * cap * hkv * d; }
  FVec cpu;
  Gpu gpu;
  std::vector<int32_t> lens;
  KvCaches(int64_t n_, int64_t cap_, int64_t hq_, int64_t hkv_, int64_t d_, int32_t dt_, int32_t cache_dt_, int64_t w,
           double sc)
      : n(n_), cap(cap_), hq(hq_), hkv(hkv_), d(d_), dt(dt_), cache_dt(cache_dt_), window(w), softcap(sc),
        cpu(static_cast<size_t>(n_ * 2 * cap_ * hkv_ * d_), 7.0f), gpu(cpu, cache_dt_, {n_ * 2 * cap_ * hkv_ * d_}),
        lens(static_cast<size_t>(n_), 0) {}

  void set_caches(msw_attention_kvcache_args& a, msw_tensor whole) const {
    a.k_cache = whole;
    set_shape(a.k_cache, {n, cap, hkv, d});
    a.k_cache.strides[0] = row_elems();
    a.v_cache = a.k_cache;
    a.v_cache.byte_offset += static_cast<uint64_t>(cap * hkv * d * msw_dtype_size(whole.dtype));
  }

  // One call with new tokens: SBHD `s` per row, or THD `counts` per row (plus `pad` rows of no row at the end).
  void step(const std::string& what, int32_t layout, int64_t s, const std::vector<int32_t>& counts, int64_t pad,
            int64_t max_q) {
    INFO(what << " in " << megaswift::host::ops::dtype_short(dt) << " with a " << megaswift::host::ops::dtype_short(cache_dt)
              << " cache");
    std::vector<int32_t> cu(1, 0);
    for (int32_t c : counts) cu.push_back(cu.back() + c);
    const bool thd = layout == MSW_ATTN_THD;
    const int64_t rows = thd ? cu.back() + pad : s * n;
    const Shape qs = thd ? Shape{rows, hq, d} : Shape{s, n, hq, d};
    const Shape ks = thd ? Shape{rows, hkv, d} : Shape{s, n, hkv, d};
    const FVec q = rounded(ops_test::random_floats(numel(qs), -2.0f, 2.0f), dt);
    const FVec k = rounded(ops_test::random_floats(numel(ks), -2.0f, 2.0f), dt);
    const FVec v = rounded(ops_test::random_floats(numel(ks)), dt);
    auto args = [&](msw_attention_kvcache_args& a) {
      a.layout = layout;
      a.window_left = window;
      a.softcap = softcap;
      a.max_seqlen_q = max_q;
    };

    Gpu gq(q, dt, qs), gk(k, dt, ks), gv(v, dt, ks), gout(FVec(numel(qs), 9.0f), dt, qs);
    GpuTensor glens(lens, MSW_DTYPE_I32, {n}), gcu(cu, MSW_DTYPE_I32, {n + 1});
    msw_attention_kvcache_args a = sdk::Ops::args<msw_attention_kvcache_args>();
    args(a);
    a.q = gq.t;
    a.k_new = gk.t;
    a.v_new = gv.t;
    a.out = gout.t;
    set_caches(a, gpu.t);
    a.cache_seqlens = glens.t;
    if (thd) a.cu_seqlens_q = gcu.t;
    gpu_ops().attention_kvcache_forward(a);

    FVec cq = q, ck = k, cv = v, cout(numel(qs), 9.0f);
    msw_attention_kvcache_args ca = sdk::Ops::args<msw_attention_kvcache_args>();
    args(ca);
    ca.q = cpu_tensor(cq, qs);
    ca.k_new = cpu_tensor(ck, ks);
    ca.v_new = cpu_tensor(cv, ks);
    ca.out = cpu_tensor(cout, qs);
    set_caches(ca, ops_table::f32(cpu, {static_cast<int64_t>(cpu.size())}));
    ca.cache_seqlens = ops_table::i32(lens, {n});
    if (thd) ca.cu_seqlens_q = ops_table::i32(cu, {n + 1});
    ops_table::ops().attention_kvcache_forward(ca);

    check_near("out", gout.values(), rounded(cout, dt), tolerance(dt));
    // The caches hold the same values (the new tokens are exact in either cache dtype; the rest is the fill).
    check_near("caches", gpu.values(), cpu, 0.0);
    for (int64_t i = 0; i < n; ++i) lens[static_cast<size_t>(i)] += thd ? counts[static_cast<size_t>(i)] : static_cast<int32_t>(s);
  }
};

}  // namespace

TEST_CASE("CUDA attention over a KV cache: a ragged THD prefill, then SBHD and THD decode steps, equal the CPU op") {
  REQUIRE_GPU_OR_SKIP();
  struct Setup {
    int32_t dt, cache_dt;
    int64_t window;
    double softcap;
  };
  for (const Setup& su : {Setup{MSW_DTYPE_F32, MSW_DTYPE_F32, 0, 0.0}, Setup{MSW_DTYPE_F32, MSW_DTYPE_F32, 50, 10.0},
                          Setup{MSW_DTYPE_BF16, MSW_DTYPE_F32, 0, 0.0}, Setup{MSW_DTYPE_BF16, MSW_DTYPE_BF16, 50, 10.0}}) {
    // Capacity 700: decode splits every row's keys into several chunks (the merge path).
    KvCaches c(4, 700, 8, 2, 64, su.dt, su.cache_dt, su.window, su.softcap);
    c.step("THD prefill of 37, 0, 90, 5 tokens and 3 padding rows", MSW_ATTN_THD, 0, {37, 0, 90, 5}, 3, 90);
    for (int i = 0; i < 3; ++i) c.step("SBHD decode step " + std::to_string(i), MSW_ATTN_SBHD, 1, {}, 0, 0);
    c.step("SBHD step of 3 tokens per row", MSW_ATTN_SBHD, 3, {}, 0, 0);
    c.step("THD step of 1, 0, 2, 1 tokens", MSW_ATTN_THD, 0, {1, 0, 2, 1}, 1, 2);
    c.step("THD step of 2, 1, 0, 1 tokens without max_seqlen_q", MSW_ATTN_THD, 0, {2, 1, 0, 1}, 0, 0);
    c.step("THD chunked prefill of 20, 9, 30, 11 tokens", MSW_ATTN_THD, 0, {20, 9, 30, 11}, 0, 30);
  }
  for (int32_t dt : kDtypes) {
    // Capacity 100: one chunk per row (decode writes out directly); SBHD prefill through the tiled kernel; D 128.
    KvCaches c(3, 100, 4, 4, 128, dt, MSW_DTYPE_F32, 0, 0.0);
    c.step("SBHD prefill of 20 tokens per row", MSW_ATTN_SBHD, 20, {}, 0, 0);
    for (int i = 0; i < 4; ++i) c.step("SBHD decode step " + std::to_string(i), MSW_ATTN_SBHD, 1, {}, 0, 0);
  }
}

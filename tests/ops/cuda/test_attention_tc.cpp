// The tensor-core attention path (kernels/cuda/attention_tc.cu) through the ops table: forward out and lse and
// backward dq, dk, dv against the CPU backend on fresh random data, bf16 (rel 1e-2) and f16 (2e-3), head_dim 64
// and 128, GQA 12/2 and MHA 4/4; SBHD with B = 2 and 1, 63, 200, 513 positions and with fewer queries than keys,
// THD ragged sequences with padding rows no sequence covers, THD with separate kv offsets (fewer queries than keys,
// a sequence without queries). Each case also checks that the tensor-core launchers really ran, that a second
// backward gives the same bits, that the SIMT kernels (forced with set_attention_kernels) agree on the GPU, and
// that the tensor-core kernels all on mma.sync and all on wgmma (on a Hopper GPU) equal the CPU as well.
#include "cuda_op_support.hpp"
#include "shaped_tensors.hpp"

#include "kernels/cuda/attention_tc.hpp"
#include "kernels/cuda/attention_wgmma.hpp"

#include <string>
#include <vector>

using namespace cuda_ops_test;
using ops_test::FVec;
namespace kc = megaswift::kernels::cuda;

namespace {

struct TcCase {
  std::string name;
  int32_t layout = MSW_ATTN_SBHD;
  int64_t b = 0, sq = 0, skv = 0;    // SBHD
  std::vector<int32_t> cu_q, cu_kv;  // THD (cu_kv empty: the kv offsets are q's)
  int64_t tq = 0, tkv = 0;           // THD rows (more than the sequences cover: padding rows)
  int64_t max_q = 0, max_kv = 0;     // THD (0: not given)
  int64_t hq = 0, hkv = 0, d = 0;
};

Shape q_shape(const TcCase& c) { return c.layout == MSW_ATTN_SBHD ? Shape{c.sq, c.b, c.hq, c.d} : Shape{c.tq, c.hq, c.d}; }
Shape kv_shape(const TcCase& c) { return c.layout == MSW_ATTN_SBHD ? Shape{c.skv, c.b, c.hkv, c.d} : Shape{c.tkv, c.hkv, c.d}; }
Shape lse_shape(const TcCase& c) { return c.layout == MSW_ATTN_SBHD ? Shape{c.sq, c.b, c.hq} : Shape{c.tq, c.hq}; }

msw_attention_args base_args(const TcCase& c) {
  msw_attention_args a = sdk::Ops::args<msw_attention_args>();
  a.layout = c.layout;
  a.causal = 1;
  a.max_seqlen_q = c.max_q;
  a.max_seqlen_kv = c.max_kv;
  return a;
}

// Restores the automatic kernel choice however a case ends.
struct KernelChoice {
  explicit KernelChoice(kc::AttentionKernels k) { kc::set_attention_kernels(k); }
  ~KernelChoice() { kc::set_attention_kernels(kc::AttentionKernels::automatic); }
};

// Sets the dS budget (attention_tc.hpp) for a scope, then goes back to the environment's.
struct DsBudget {
  explicit DsBudget(int64_t bytes) { kc::set_attention_ds_budget(bytes); }
  ~DsBudget() { kc::set_attention_ds_budget(-1); }
};

// Sets the warpgroups per block of the unspecialized wgmma dk/dv kernel and whether dk/dv runs warp-specialized
// where it can for a scope, then goes back to the environment's.
struct WgmmaShape {
  WgmmaShape(int warpgroups, bool ws) {
    kc::set_attention_wgmma_warpgroups(warpgroups);
    kc::set_attention_wgmma_backward_ws(ws ? 1 : 0);
  }
  ~WgmmaShape() {
    kc::set_attention_wgmma_warpgroups(0);
    kc::set_attention_wgmma_backward_ws(-1);
  }
};

struct GpuRun {
  FVec out, lse, dq, dk, dv;
};

// Inputs of one case, and the GPU's forward and backward on them with the current kernel choice. Backward runs
// on `fwd`'s out and lse when given (to compare backward alone), else on this run's own.
struct TcInputs {
  const TcCase& c;
  int32_t dt;
  Shape qs, kvs, ls;
  FVec q, k, v, dout;
  std::vector<int32_t> cu_q, cu_kv;
  TcInputs(const TcCase& c_, int32_t dt_) : c(c_), dt(dt_), qs(q_shape(c_)), kvs(kv_shape(c_)), ls(lse_shape(c_)) {
    q = rounded(ops_test::random_floats(numel(qs), -1.5f, 1.5f), dt);
    k = rounded(ops_test::random_floats(numel(kvs), -1.5f, 1.5f), dt);
    v = rounded(ops_test::random_floats(numel(kvs)), dt);
    dout = rounded(ops_test::random_floats(numel(qs)), dt);
    cu_q = c.layout == MSW_ATTN_THD ? c.cu_q : std::vector<int32_t>{0};
    cu_kv = c.cu_kv.empty() ? cu_q : c.cu_kv;
  }

  GpuRun gpu(const GpuRun* fwd, bool repeat_backward) const {
    const bool thd = c.layout == MSW_ATTN_THD;
    const int64_t nq = numel(qs), nkv = numel(kvs), nl = numel(ls), n_cu = static_cast<int64_t>(cu_q.size());
    // Outputs start as garbage: every element must be written.
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
    GpuRun r;
    r.out = gout.values();
    r.lse = glse.values();
    Gpu bout(fwd ? fwd->out : r.out, dt, qs), blse(fwd ? fwd->lse : r.lse, MSW_DTYPE_F32, ls);
    Gpu gdout(dout, dt, qs), gdq(FVec(nq, 9.0f), dt, qs), gdk(FVec(nkv, 9.0f), dt, kvs), gdv(FVec(nkv, 9.0f), dt, kvs);
    a.out = bout.t;
    a.lse = blse.t;
    a.dout = gdout.t;
    a.dq = gdq.t;
    a.dk = gdk.t;
    a.dv = gdv.t;
    gpu_ops().attention_backward(a);
    r.dq = gdq.values();
    r.dk = gdk.values();
    r.dv = gdv.values();
    if (repeat_backward) {  // no atomics: a second run gives the same bits
      gpu_ops().attention_backward(a);
      CHECK(gdq.values() == r.dq);
      CHECK(gdk.values() == r.dk);
      CHECK(gdv.values() == r.dv);
    }
    return r;
  }

  // The CPU backend's forward (out, lse) and its backward on the GPU forward's out and lse.
  GpuRun cpu(const GpuRun& g) const {
    const bool thd = c.layout == MSW_ATTN_THD;
    const int64_t nq = numel(qs), nkv = numel(kvs), nl = numel(ls), n_cu = static_cast<int64_t>(cu_q.size());
    FVec cq = q, ck = k, cv = v, cdo = dout, go = g.out, gl = g.lse;
    std::vector<int32_t> ccu_q = cu_q, ccu_kv = cu_kv;
    GpuRun r{FVec(nq, 9.0f), FVec(nl, 9.0f), FVec(nq, 9.0f), FVec(nkv, 9.0f), FVec(nkv, 9.0f)};
    msw_attention_args a = base_args(c);
    // The CPU reference takes the lengths from cu_seqlens: it refuses a max_seqlen below a sequence's length, which
    // the GPU op (reading cu_seqlens only on the device) takes as a grid size hint.
    a.max_seqlen_q = a.max_seqlen_kv = 0;
    a.q = cpu_tensor(cq, qs);
    a.k = cpu_tensor(ck, kvs);
    a.v = cpu_tensor(cv, kvs);
    a.out = cpu_tensor(r.out, qs);
    a.lse = cpu_tensor(r.lse, ls);
    if (thd) {
      a.cu_seqlens_q = ops_table::i32(ccu_q, {n_cu});
      if (!c.cu_kv.empty()) a.cu_seqlens_kv = ops_table::i32(ccu_kv, {n_cu});
    }
    ops_table::ops().attention_forward(a);
    a.out = cpu_tensor(go, qs);
    a.lse = cpu_tensor(gl, ls);
    a.dout = cpu_tensor(cdo, qs);
    a.dq = cpu_tensor(r.dq, qs);
    a.dk = cpu_tensor(r.dk, kvs);
    a.dv = cpu_tensor(r.dv, kvs);
    ops_table::ops().attention_backward(a);
    return r;
  }
};

void run_tc_case(const TcCase& c, int32_t dt) {
  INFO(c.name << ", D " << c.d << ", GQA " << c.hq << "/" << c.hkv << " in " << megaswift::host::ops::dtype_short(dt));
  const TcInputs in(c, dt);
  const KernelChoice automatic(kc::AttentionKernels::automatic);  // whatever MEGASWIFT_ATTENTION_KERNEL says
  const int64_t fwd_calls = kc::attention_tc_forward_calls(), bwd_calls = kc::attention_tc_backward_calls();
  const GpuRun tc = in.gpu(nullptr, true);
  // The case ran on the tensor-core path (two backward calls: the repeat).
  CHECK(kc::attention_tc_forward_calls() == fwd_calls + 1);
  CHECK(kc::attention_tc_backward_calls() == bwd_calls + 2);

  const GpuRun ref = in.cpu(tc);
  const double tol = tolerance(dt);
  // The backward rounds P and dS to the 16-bit dtype before their tensor-core products, as FlashAttention-2 does,
  // so its error grows with the keys summed over: at 513 keys a bf16 dv element was 3 ulps (1.2%) off the fp32
  // reference. The gradients get twice the forward's bf16 tolerance; fp16's finer mantissa keeps its own.
  const double grad_tol = dt == MSW_DTYPE_BF16 ? 2 * tol : tol;
  check_near("out", tc.out, rounded(ref.out, dt), tol);
  check_near("lse", tc.lse, ref.lse, tol);
  check_near("dq", tc.dq, rounded(ref.dq, dt), grad_tol);
  check_near("dk", tc.dk, rounded(ref.dk, dt), grad_tol);
  check_near("dv", tc.dv, rounded(ref.dv, dt), grad_tol);

  // The SIMT kernels on the GPU agree (backward on the tensor-core forward's out and lse).
  {
    const KernelChoice simt(kc::AttentionKernels::simt);
    const GpuRun sm = in.gpu(&tc, false);
    CHECK(kc::attention_tc_forward_calls() == fwd_calls + 1);
    CHECK(kc::attention_tc_backward_calls() == bwd_calls + 2);
    check_near("out tc vs simt", tc.out, sm.out, tol);
    check_near("lse tc vs simt", tc.lse, sm.lse, tol);
    check_near("dq tc vs simt", tc.dq, sm.dq, grad_tol);
    check_near("dk tc vs simt", tc.dk, sm.dk, grad_tol);
    check_near("dv tc vs simt", tc.dv, sm.dv, grad_tol);
  }
  // Every tensor-core kernel on mma.sync, then every one on wgmma (where the device has it; on mma.sync again
  // otherwise): with dq from materialized dS where the geometry has it (batched self-attention) and with the dq
  // kernel, and dk/dv warp-specialized or not (then with one or two warpgroups a block). The wgmma
  // forward is warp-specialized; both warp-specialized kernels copy SBHD with the bulk tensor copy and THD with
  // cp.async. Each equals the CPU (the
  // backward on the automatic forward's out and lse) and its backward is deterministic on its own.
  const bool has_ds = c.layout != MSW_ATTN_THD && c.sq == c.skv;
  struct Set {
    kc::AttentionKernels choice;
    bool ds;
    int warpgroups;
    bool ws;
  };
  constexpr auto wgmma_choice = kc::AttentionKernels::wgmma;
  for (const Set set : {Set{kc::AttentionKernels::mma_sync, false, 0, false}, Set{wgmma_choice, true, 2, true},
                        Set{wgmma_choice, false, 2, true}, Set{wgmma_choice, true, 2, false},
                        Set{wgmma_choice, false, 1, false}}) {
    const bool wgmma = set.choice == wgmma_choice && kc::attention_wgmma_device();
    const bool ds = wgmma && set.ds && has_ds;
    const std::string name = !wgmma ? "mma.sync"
                             : std::string(set.ds ? "wgmma" : "wgmma, dq kernel") +
                                   (set.ws ? ", warp-specialized dk/dv" : ", dk/dv of " + std::to_string(set.warpgroups) + " warpgroups");
    const KernelChoice chosen(set.choice);
    const DsBudget budget(set.ds ? int64_t{1} << 40 : 0);
    const WgmmaShape shape(set.warpgroups, set.ws);
    const int64_t wgmma_before = kc::attention_wgmma_calls(), ds_before = kc::attention_ds_backward_calls();
    const int64_t tma_before = kc::attention_wgmma_forward_tma_calls(), dkdv_ws_before = kc::attention_wgmma_dkdv_ws_calls();
    const int64_t dkdv_tma_before = kc::attention_wgmma_dkdv_tma_calls();
    const GpuRun r = in.gpu(&tc, true);
    // forward, dq (from dS or by its kernel) and dk/dv twice
    CHECK(kc::attention_wgmma_calls() == wgmma_before + (wgmma ? 5 : 0));
    CHECK(kc::attention_ds_backward_calls() == ds_before + (ds ? 2 : 0));
    // The warp-specialized kernels copy batched layouts with the bulk tensor copy, packed ones with cp.async.
    const bool batched = wgmma && c.layout == MSW_ATTN_SBHD;
    CHECK(kc::attention_wgmma_forward_tma_calls() == tma_before + (batched ? 1 : 0));
    CHECK(kc::attention_wgmma_dkdv_ws_calls() == dkdv_ws_before + (wgmma && set.ws ? 2 : 0));
    CHECK(kc::attention_wgmma_dkdv_tma_calls() == dkdv_tma_before + (batched && set.ws ? 2 : 0));
    check_near("out " + name, r.out, rounded(ref.out, dt), tol);
    check_near("lse " + name, r.lse, ref.lse, tol);
    check_near("dq " + name, r.dq, rounded(ref.dq, dt), grad_tol);
    check_near("dk " + name, r.dk, rounded(ref.dk, dt), grad_tol);
    check_near("dv " + name, r.dv, rounded(ref.dv, dt), grad_tol);
  }
}

const int32_t kTcDtypes[] = {MSW_DTYPE_BF16, MSW_DTYPE_F16};
const int64_t kTcHeadDims[] = {64, 128};

}  // namespace

TEST_CASE("CUDA tensor-core attention SBHD, B 2, 1 to 513 positions, GQA 12/2, 14/2, 8/4 and 4/4, equals the CPU and SIMT") {
  REQUIRE_GPU_OR_SKIP();
  for (int32_t dt : kTcDtypes)
    for (int64_t d : kTcHeadDims) {
      for (int64_t s : {1, 63, 200, 513}) {
        TcCase c;
        c.name = "SBHD B 2, S " + std::to_string(s);
        c.b = 2, c.sq = s, c.skv = s, c.hq = 12, c.hkv = 2, c.d = d;
        run_tc_case(c, dt);
      }
      // dq from dS takes a kv group's heads six (group 6 above), four and three (group 7) or two (group 2) to a block.
      for (const auto& [hq, hkv] : {std::pair<int64_t, int64_t>{14, 2}, {8, 4}}) {
        TcCase gqa;
        gqa.name = "SBHD B 2, S 200, GQA " + std::to_string(hq) + "/" + std::to_string(hkv);
        gqa.b = 2, gqa.sq = 200, gqa.skv = 200, gqa.hq = hq, gqa.hkv = hkv, gqa.d = d;
        run_tc_case(gqa, dt);
      }
      TcCase mha;
      mha.name = "SBHD B 2, S 200, MHA";
      mha.b = 2, mha.sq = 200, mha.skv = 200, mha.hq = 4, mha.hkv = 4, mha.d = d;
      run_tc_case(mha, dt);
      TcCase tail;
      tail.name = "SBHD B 2, 70 queries over 200 keys (bottom-right causal)";
      tail.b = 2, tail.sq = 70, tail.skv = 200, tail.hq = 12, tail.hkv = 2, tail.d = d;
      run_tc_case(tail, dt);
    }
}

TEST_CASE("CUDA tensor-core attention THD: ragged sequences, padding rows, separate kv offsets, equals the CPU and SIMT") {
  REQUIRE_GPU_OR_SKIP();
  for (int32_t dt : kTcDtypes)
    for (int64_t d : kTcHeadDims) {
      TcCase ragged;
      ragged.name = "THD lengths 1, 70, 129, 300 after 2 and before 5 padding rows, max_seqlen given";
      ragged.layout = MSW_ATTN_THD;
      ragged.cu_q = {2, 3, 73, 202, 502};
      ragged.tq = ragged.tkv = 507;
      ragged.max_q = ragged.max_kv = 300;
      ragged.hq = 12, ragged.hkv = 2, ragged.d = d;
      run_tc_case(ragged, dt);
      TcCase unbounded = ragged;
      unbounded.name = "THD lengths 1, 70, 129, 300 with padding rows, MHA 4/4, max_seqlen not given";
      unbounded.max_q = unbounded.max_kv = 0;
      unbounded.hq = 4, unbounded.hkv = 4;
      run_tc_case(unbounded, dt);
      TcCase short_bound = ragged;
      short_bound.name = "THD lengths 1, 70, 129, 300, max_seqlen 100 (smaller than a sequence: blocks loop past it)";
      short_bound.max_q = short_bound.max_kv = 100;
      run_tc_case(short_bound, dt);
      TcCase sep;
      sep.name = "THD separate kv offsets: 20/100, 0/30, 65/85, 1/83 queries/keys and a padding row";
      sep.layout = MSW_ATTN_THD;
      sep.cu_q = {0, 20, 20, 85, 86};
      sep.cu_kv = {2, 102, 132, 217, 300};
      sep.tq = 87;
      sep.tkv = 301;
      sep.hq = 12, sep.hkv = 2, sep.d = d;
      run_tc_case(sep, dt);
    }
}

TEST_CASE("the backward's dS tiles exist for batched self-attention only, 8 KiB per tile below the diagonal") {
  // No device needed: what the scratch is sized by.
  kc::AttentionGeometry g;
  g.n_seqs = 4;
  g.q_heads = 12;
  g.kv_heads = 2;
  g.head_dim = 128;
  g.q_len = g.kv_len = 4096;  // 64 query tiles: 64 * 65 / 2 tiles per sequence and head
  CHECK(kc::attention_wgmma_ds_bytes(g) == int64_t{4} * 12 * 2080 * 8192);
  g.q_len = g.kv_len = 65;  // a partial second tile counts whole
  CHECK(kc::attention_wgmma_ds_bytes(g) == int64_t{4} * 12 * 3 * 8192);
  g.q_len = 64;  // queries at the end of longer keys: the tiles would not share a grid
  CHECK(kc::attention_wgmma_ds_bytes(g) == 0);
  g.q_len = g.kv_len = 0;
  CHECK(kc::attention_wgmma_ds_bytes(g) == 0);
  g.q_len = g.kv_len = 128;
  g.q_packed = true;  // THD: sequences of their own lengths
  CHECK(kc::attention_wgmma_ds_bytes(g) == 0);
}

TEST_CASE("CUDA attention keeps the SIMT kernels where the tensor-core path does not apply") {
  REQUIRE_GPU_OR_SKIP();
  // f32, head_dim 96, a window: each still equals the CPU (test_attention.cpp) and must not reach attention_tc.
  struct Off {
    int32_t dt;
    int64_t d, window;
  };
  for (const Off& o : {Off{MSW_DTYPE_F32, 64, 0}, Off{MSW_DTYPE_BF16, 96, 0}, Off{MSW_DTYPE_BF16, 64, 10}}) {
    INFO("dtype " << o.dt << ", D " << o.d << ", window " << o.window);
    const int64_t s = 40, b = 1, h = 2, n = s * b * h * o.d;
    const FVec x = rounded(ops_test::random_floats(n), o.dt);
    Gpu q(x, o.dt, {s, b, h, o.d}), out(FVec(n), o.dt, {s, b, h, o.d}), lse(FVec(s * b * h), MSW_DTYPE_F32, {s, b, h});
    msw_attention_args a = sdk::Ops::args<msw_attention_args>();
    a.causal = 1;
    a.window_left = o.window;
    a.q = a.k = a.v = q.t;
    a.out = out.t;
    a.lse = lse.t;
    const int64_t before = kc::attention_tc_forward_calls();
    gpu_ops().attention_forward(a);
    out.values();
    CHECK(kc::attention_tc_forward_calls() == before);
  }
}

// The pointwise family on the GPU against the CPU backend through the ops table, on fresh random data in f32, bf16
// and f16 (the CPU side runs on the same stored values, in the same dtype): RMSNorm (weight offset, fused residual,
// f32 weights and gradients beside 16-bit activations, accumulate, in place) and LayerNorm, RoPE tables of every
// scaling variant and the rotation, the QKV split, SwiGLU, GELU (erf and tanh), the embedding (I64/I32 ids,
// repeated ids, vocab-parallel shards). Parameter gradients and the embedding's scatter-add are also checked to be
// the same bit for bit on a second run (no atomics).
#include "cuda_op_support.hpp"

#include <cmath>
#include <cstring>

using namespace cuda_ops_test;
using ops_test::FVec;

namespace {

const int32_t kDtypes[] = {MSW_DTYPE_F32, MSW_DTYPE_BF16, MSW_DTYPE_F16};

FVec rnd(int64_t n, float lo = -1.0f, float hi = 1.0f) { return ops_test::random_floats(n, lo, hi); }

// A tensor on the host in `dtype` storage, for the CPU backend.
struct HostTensor {
  std::vector<unsigned char> bytes;
  msw_tensor t{};
  int32_t dtype;
  size_t n;
  HostTensor(const FVec& v, int32_t dtype_, std::initializer_list<int64_t> shape)
      : bytes(encode(v, dtype_)), dtype(dtype_), n(v.size()) {
    t = sdk::make_tensor(bytes.data(), dtype, {MSW_DEVICE_CPU, 0}, shape);
  }
  HostTensor(const HostTensor&) = delete;
  HostTensor& operator=(const HostTensor&) = delete;
  FVec values() const { return decode(bytes, dtype, n); }
};

// The same stored values on the CPU and on the GPU; on(gpu) picks a side.
struct Both {
  HostTensor cpu;
  GpuTensor gpu;
  Both(const FVec& v, int32_t dtype, std::initializer_list<int64_t> shape) : cpu(v, dtype, shape), gpu(v, dtype, shape) {}
  const msw_tensor& on(bool g) const { return g ? gpu.t : cpu.t; }
};

// Integer tensors (ids, positions) on both sides.
template <class I>
struct BothInts {
  std::vector<I> host;
  msw_tensor cpu_t{};
  GpuTensor gpu;
  BothInts(const std::vector<I>& v, int32_t dtype, std::initializer_list<int64_t> shape)
      : host(v), gpu(v, dtype, shape) {
    cpu_t = sdk::make_tensor(host.data(), dtype, {MSW_DEVICE_CPU, 0}, shape);
  }
  const msw_tensor& on(bool g) const { return g ? gpu.t : cpu_t; }
};

sdk::Ops side(bool g) { return g ? gpu_ops() : ops_table::ops(); }
const msw_exec_ctx& ctx_of(bool g) { return g ? gpu_ctx() : ops_table::cpu_ctx(); }

void ok(msw_status* s, const char* what) {
  if (!s) return;
  const std::string m = megaswift::host::host_api().status_message(s);
  megaswift::host::host_api().status_free(s);
  FAIL(what << ": " << m);
}

std::string error_of(msw_status* s) {
  REQUIRE(s != nullptr);
  const std::string m = megaswift::host::host_api().status_message(s);
  megaswift::host::host_api().status_free(s);
  return m;
}

void same(const std::string& what, const Both& b, double tol) { check_near(what, b.gpu.values(), b.cpu.values(), tol); }

bool bitwise_equal(const FVec& a, const FVec& b) {
  return a.size() == b.size() && std::memcmp(a.data(), b.data(), a.size() * sizeof(float)) == 0;
}

}  // namespace

// ---------------------------------------------------------------------------------------------------------------
// RMSNorm, LayerNorm

TEST_CASE("CUDA rmsnorm forward and backward equal the CPU backend (weight offset, f32 weights, accumulate)") {
  REQUIRE_GPU_OR_SKIP();
  struct Shape {
    int64_t rows, dim;
  };
  for (int32_t dt : kDtypes)
    // 64, 1536, 2048 and 4096: 16-byte chunks; 333, 4099 and 7: element-wise.
    for (Shape s : {Shape{37, 333}, Shape{1000, 64}, Shape{3, 4099}, Shape{300, 7}, Shape{21, 1536}, Shape{37, 2048},
                    Shape{9, 4096}})
      for (double offset : {0.0, 1.0}) {
        // Weights (and dweight) in the activations' dtype without an offset, in f32 with one: both kinds run.
        const int32_t wdt = offset == 0.0 ? dt : MSW_DTYPE_F32;
        const bool accumulate = offset != 0.0;
        CAPTURE(dt);
        CAPTURE(s.rows);
        CAPTURE(s.dim);
        CAPTURE(offset);
        const int64_t R = s.rows, C = s.dim;
        Both x(rnd(R * C, -2, 2), dt, {R, C});
        Both w(offset == 0.0 ? rnd(C, 0.5f, 1.5f) : rnd(C, -0.5f, 0.5f), wdt, {C});
        Both y(FVec(R * C), dt, {R, C}), rstd(FVec(R), MSW_DTYPE_F32, {R});
        for (bool g : {false, true}) side(g).rmsnorm_forward(x.on(g), w.on(g), 1e-5, y.on(g), rstd.on(g), offset);
        same("y", y, tolerance(dt));
        same("rstd", rstd, tolerance(MSW_DTYPE_F32));

        Both dy(rnd(R * C), dt, {R, C}), dx(rnd(R * C), dt, {R, C}), dw(ops_test::prefill(C), wdt, {C});
        for (bool g : {false, true})
          side(g).rmsnorm_backward(x.on(g), w.on(g), rstd.on(g), dy.on(g), &dx.on(g), &dw.on(g), offset, accumulate);
        same("dx", dx, tolerance(dt));
        same("dweight", dw, tolerance(wdt));
      }
}

TEST_CASE("CUDA rmsnorm with the fused residual add, dx in place of dy, and only one of dx or dweight (16-byte "
          "chunks and element-wise)") {
  REQUIRE_GPU_OR_SKIP();
  for (int64_t C : {515, 512})
  for (int32_t dt : kDtypes) {
    CAPTURE(dt);
    CAPTURE(C);
    const int64_t S = 9, B = 5, R = S * B;
    Both x(rnd(R * C, -2, 2), dt, {S, B, C}), res(rnd(R * C, -2, 2), dt, {S, B, C});
    Both xo(FVec(R * C), dt, {S, B, C}), y(FVec(R * C), dt, {S, B, C}), rstd(FVec(R), MSW_DTYPE_F32, {S, B});
    Both w(rnd(C, 0.5f, 1.5f), dt, {C});
    for (bool g : {false, true}) {
      auto a = sdk::Ops::args<msw_rmsnorm_forward_args>();
      a.x = x.on(g);
      a.residual = res.on(g);
      a.x_out = xo.on(g);
      a.weight = w.on(g);
      a.y = y.on(g);
      a.rstd = rstd.on(g);
      a.eps = 1e-6;
      ok(side(g).api().rmsnorm_forward(&ctx_of(g), &a), "fused rmsnorm_forward");
    }
    same("x_out = x + residual", xo, tolerance(dt));
    same("y", y, tolerance(dt));
    same("rstd", rstd, tolerance(MSW_DTYPE_F32));

    // dx written over dy (in place), then dweight alone, then dx alone with accumulate.
    Both dy(rnd(R * C), dt, {S, B, C}), dw(ops_test::prefill(C), MSW_DTYPE_F32, {C});
    for (bool g : {false, true}) side(g).rmsnorm_backward(xo.on(g), w.on(g), rstd.on(g), dy.on(g), &dy.on(g), nullptr);
    same("dx over dy", dy, tolerance(dt));
    for (bool g : {false, true}) side(g).rmsnorm_backward(xo.on(g), w.on(g), rstd.on(g), dy.on(g), nullptr, &dw.on(g));
    same("dweight alone", dw, tolerance(MSW_DTYPE_F32));
    Both dx(rnd(R * C), dt, {S, B, C});
    for (bool g : {false, true})
      side(g).rmsnorm_backward(xo.on(g), w.on(g), rstd.on(g), dy.on(g), &dx.on(g), nullptr, 0.0, true);
    same("dx accumulated", dx, tolerance(dt));
  }
}

TEST_CASE("CUDA layernorm forward and backward equal the CPU backend (bias or none, any gradient absent)") {
  REQUIRE_GPU_OR_SKIP();
  for (int32_t dt : kDtypes)
    for (bool with_bias : {true, false}) {
      CAPTURE(dt);
      CAPTURE(with_bias);
      const int64_t R = 259, C = 771;
      Both x(rnd(R * C, -1, 3), dt, {R, C}), w(rnd(C, 0.5f, 1.5f), dt, {C}), b(rnd(C), MSW_DTYPE_F32, {C});
      Both y(FVec(R * C), dt, {R, C}), mean(FVec(R), MSW_DTYPE_F32, {R}), rstd(FVec(R), MSW_DTYPE_F32, {R});
      for (bool g : {false, true})
        side(g).layernorm_forward(x.on(g), w.on(g), with_bias ? &b.on(g) : nullptr, 1e-5, y.on(g), mean.on(g), rstd.on(g));
      same("y", y, tolerance(dt));
      same("mean", mean, tolerance(MSW_DTYPE_F32));
      same("rstd", rstd, tolerance(MSW_DTYPE_F32));

      Both dy(rnd(R * C), dt, {R, C}), dx(FVec(R * C), dt, {R, C});
      Both dw(ops_test::prefill(C), MSW_DTYPE_F32, {C}), db(ops_test::prefill(C), dt, {C});
      for (bool g : {false, true})
        side(g).layernorm_backward(x.on(g), w.on(g), mean.on(g), rstd.on(g), dy.on(g), &dx.on(g), &dw.on(g),
                                   with_bias ? &db.on(g) : nullptr);
      same("dx", dx, tolerance(dt));
      same("dweight", dw, tolerance(MSW_DTYPE_F32));
      same("dbias", db, tolerance(dt));
      // dx over dy with no parameter gradient.
      for (bool g : {false, true})
        side(g).layernorm_backward(x.on(g), w.on(g), mean.on(g), rstd.on(g), dy.on(g), &dy.on(g), nullptr, nullptr);
      same("dx over dy", dy, tolerance(dt));
    }
}

TEST_CASE("CUDA norm parameter gradients are the same bit for bit on every run (a column or a pack a thread)") {
  REQUIRE_GPU_OR_SKIP();
  for (int64_t C : {1031, 1024}) {
  CAPTURE(C);
  const int64_t R = 6001;  // several row blocks of the reduction
  const FVec prefill = ops_test::prefill(C);
  GpuTensor x(rnd(R * C, -2, 2), MSW_DTYPE_BF16, {R, C}), w(rnd(C, 0.5f, 1.5f), MSW_DTYPE_BF16, {C});
  GpuTensor dy(rnd(R * C), MSW_DTYPE_BF16, {R, C}), y(FVec(R * C), MSW_DTYPE_BF16, {R, C});
  GpuTensor mean(FVec(R), MSW_DTYPE_F32, {R}), rstd(FVec(R), MSW_DTYPE_F32, {R});
  FVec first_w, first_b;
  for (int run = 0; run < 2; ++run) {
    GpuTensor dw(prefill, MSW_DTYPE_F32, {C}), db(prefill, MSW_DTYPE_F32, {C});
    gpu_ops().layernorm_forward(x.t, w.t, nullptr, 1e-5, y.t, mean.t, rstd.t);
    gpu_ops().layernorm_backward(x.t, w.t, mean.t, rstd.t, dy.t, nullptr, &dw.t, &db.t);
    if (run == 0) {
      first_w = dw.values();
      first_b = db.values();
    } else {
      CHECK(bitwise_equal(dw.values(), first_w));
      CHECK(bitwise_equal(db.values(), first_b));
    }
  }
  FVec first;
  for (int run = 0; run < 2; ++run) {
    GpuTensor dw(prefill, MSW_DTYPE_F32, {C});
    gpu_ops().rmsnorm_forward(x.t, w.t, 1e-6, y.t, rstd.t);
    gpu_ops().rmsnorm_backward(x.t, w.t, rstd.t, dy.t, nullptr, &dw.t);
    if (run == 0)
      first = dw.values();
    else
      CHECK(bitwise_equal(dw.values(), first));
  }
  }
}

TEST_CASE("CUDA rmsnorm gives the same bits through 16-byte chunks as element by element") {
  REQUIRE_GPU_OR_SKIP();
  // The same rows once in an aligned tensor (packed kernels) and once one element past an aligned start (the
  // element-wise kernels): y, rstd, dx and dweight must agree bit for bit.
  const int64_t R = 300, C = 1536;
  const FVec xv = rnd(R * C, -2, 2), wv = rnd(C, 0.5f, 1.5f), dyv = rnd(R * C);
  std::vector<FVec> got[2];
  for (int shift = 0; shift < 2; ++shift) {
    FVec xs(shift), dys(shift);
    xs.insert(xs.end(), xv.begin(), xv.end());
    dys.insert(dys.end(), dyv.begin(), dyv.end());
    GpuTensor xb(xs, MSW_DTYPE_BF16, {int64_t(xs.size())}), dyb(dys, MSW_DTYPE_BF16, {int64_t(dys.size())});
    GpuTensor yb(FVec(R * C + shift), MSW_DTYPE_BF16, {R * C + shift}), dxb(FVec(R * C + shift), MSW_DTYPE_BF16, {R * C + shift});
    GpuTensor w(wv, MSW_DTYPE_BF16, {C}), rstd(FVec(R), MSW_DTYPE_F32, {R}), dw(FVec(C), MSW_DTYPE_F32, {C});
    auto shifted = [&](const GpuTensor& b) {
      return sdk::make_tensor(static_cast<char*>(b.t.data) + shift * 2, MSW_DTYPE_BF16, b.t.device, {R, C});
    };
    const msw_tensor x = shifted(xb), dy = shifted(dyb);
    msw_tensor y = shifted(yb), dx = shifted(dxb);
    gpu_ops().rmsnorm_forward(x, w.t, 1e-6, y, rstd.t);
    gpu_ops().rmsnorm_backward(x, w.t, rstd.t, dy, &dx, &dw.t);
    FVec yall = yb.values(), dxall = dxb.values();
    got[shift] = {FVec(yall.begin() + shift, yall.end()), rstd.values(), FVec(dxall.begin() + shift, dxall.end()),
                  dw.values()};
  }
  const char* names[] = {"y", "rstd", "dx", "dweight"};
  for (int i = 0; i < 4; ++i) {
    CAPTURE(names[i]);
    CHECK(bitwise_equal(got[0][i], got[1][i]));
  }
}

// ---------------------------------------------------------------------------------------------------------------
// RoPE

namespace {

msw_rope_config rope_config(int32_t scaling, int64_t head_dim, double theta) {
  msw_rope_config c{};
  c.struct_size = sizeof c;
  c.scaling = scaling;
  c.theta = theta;
  c.head_dim = head_dim;
  c.partial_rotary_factor = 1.0;
  c.factor = 1.0;
  c.low_freq_factor = 1.0;
  c.high_freq_factor = 4.0;
  c.beta_fast = 32.0;
  c.beta_slow = 1.0;
  c.truncate = 1;
  return c;
}

std::vector<std::pair<std::string, msw_rope_config>> rope_variants() {
  std::vector<std::pair<std::string, msw_rope_config>> v;
  v.emplace_back("none", rope_config(MSW_ROPE_NONE, 128, 10000.0));
  auto partial = rope_config(MSW_ROPE_NONE, 256, 1000000.0);
  partial.partial_rotary_factor = 0.25;
  v.emplace_back("partial rotary", partial);
  auto linear = rope_config(MSW_ROPE_LINEAR, 80, 10000.0);
  linear.factor = 4.0;
  linear.partial_rotary_factor = 0.5;
  v.emplace_back("linear, partial", linear);
  auto dynamic = rope_config(MSW_ROPE_DYNAMIC, 64, 10000.0);
  dynamic.factor = 2.0;
  dynamic.max_position_embeddings = 256;
  v.emplace_back("dynamic", dynamic);
  auto llama3 = rope_config(MSW_ROPE_LLAMA3, 128, 500000.0);
  llama3.factor = 8.0;
  llama3.original_max_position_embeddings = 8192;
  v.emplace_back("llama3", llama3);
  auto yarn = rope_config(MSW_ROPE_YARN, 64, 10000.0);
  yarn.factor = 4.0;
  yarn.original_max_position_embeddings = 4096;
  v.emplace_back("yarn", yarn);
  auto yarn_mscale = rope_config(MSW_ROPE_YARN, 128, 10000.0);
  yarn_mscale.factor = 40.0;
  yarn_mscale.max_position_embeddings = 2048;  // original 0: max_position_embeddings serves
  yarn_mscale.mscale = 1.0;
  yarn_mscale.mscale_all_dim = 0.707;
  yarn_mscale.truncate = 0;
  v.emplace_back("yarn, mscale, no truncation", yarn_mscale);
  auto yarn_af = rope_config(MSW_ROPE_YARN, 96, 50000.0);
  yarn_af.factor = 8.0;
  yarn_af.original_max_position_embeddings = 1024;
  yarn_af.has_attention_factor = 1;
  yarn_af.attention_factor = 1.3;
  v.emplace_back("yarn, attention factor", yarn_af);
  return v;
}

std::vector<int64_t> random_positions(int64_t n, int64_t hi) {
  std::vector<int64_t> p(static_cast<size_t>(n));
  for (auto& v : p) v = ops_test::random_int(0, hi);
  return p;
}

}  // namespace

TEST_CASE("CUDA rope_tables of every scaling variant equal the CPU backend, positions absent, I64 or I32") {
  REQUIRE_GPU_OR_SKIP();
  for (const auto& [name, config] : rope_variants()) {
    CAPTURE(name);
    const int64_t half = ops_table::ops().rope_rotary_dim(config) / 2;
    // Absent positions past and within the dynamic variant's max_position_embeddings (256), given positions far
    // past it (the device finds their maximum) and within it, as I64 and I32.
    for (int64_t p : {int64_t{300}, int64_t{100}}) {
      CAPTURE(p);
      Both cos(FVec(p * half), MSW_DTYPE_F32, {p, half}), sin(FVec(p * half), MSW_DTYPE_F32, {p, half});
      for (bool g : {false, true}) side(g).rope_tables(config, nullptr, cos.on(g), sin.on(g));
      same("cos, positions 0..P-1", cos, tolerance(MSW_DTYPE_F32));
      same("sin, positions 0..P-1", sin, tolerance(MSW_DTYPE_F32));
    }
    {
      const int64_t p = 257;
      BothInts<int64_t> pos(random_positions(p, 20000), MSW_DTYPE_I64, {p});
      Both cos(FVec(p * half), MSW_DTYPE_F32, {p, half}), sin(FVec(p * half), MSW_DTYPE_F32, {p, half});
      for (bool g : {false, true}) side(g).rope_tables(config, &pos.on(g), cos.on(g), sin.on(g));
      same("cos, I64 positions up to 20000", cos, tolerance(MSW_DTYPE_F32));
      same("sin, I64 positions up to 20000", sin, tolerance(MSW_DTYPE_F32));
    }
    {
      const int64_t p = 64;
      std::vector<int32_t> p32;
      for (int64_t v : random_positions(p, 200)) p32.push_back(static_cast<int32_t>(v));
      BothInts<int32_t> pos(p32, MSW_DTYPE_I32, {p});
      Both cos(FVec(p * half), MSW_DTYPE_F32, {p, half}), sin(FVec(p * half), MSW_DTYPE_F32, {p, half});
      for (bool g : {false, true}) side(g).rope_tables(config, &pos.on(g), cos.on(g), sin.on(g));
      same("cos, I32 positions up to 200", cos, tolerance(MSW_DTYPE_F32));
      same("sin, I32 positions up to 200", sin, tolerance(MSW_DTYPE_F32));
    }
  }
}

TEST_CASE("CUDA rope_tables write NaN rows for negative positions, which the CPU backend refuses") {
  REQUIRE_GPU_OR_SKIP();
  const msw_rope_config config = rope_config(MSW_ROPE_NONE, 64, 10000.0);
  const int64_t half = 32;
  GpuTensor pos(std::vector<int64_t>{3, -1, 5}, MSW_DTYPE_I64, {3});
  GpuTensor cos(FVec(3 * half), MSW_DTYPE_F32, {3, half}), sin(FVec(3 * half), MSW_DTYPE_F32, {3, half});
  gpu_ops().rope_tables(config, &pos.t, cos.t, sin.t);
  std::vector<int64_t> fixed = {3, 0, 5};
  FVec want_cos(3 * half), want_sin(3 * half);
  msw_tensor cpos = ops_table::i64(fixed, {3}), ccos = ops_table::f32(want_cos, {3, half}),
             csin = ops_table::f32(want_sin, {3, half});
  ops_table::ops().rope_tables(config, &cpos, ccos, csin);
  const FVec got_cos = cos.values(), got_sin = sin.values();
  for (int64_t i = 0; i < 3 * half; ++i) {
    if (i / half == 1) {
      CHECK(std::isnan(got_cos[i]));
      CHECK(std::isnan(got_sin[i]));
    } else {
      CHECK(got_cos[i] == want_cos[i]);
      CHECK(got_sin[i] == want_sin[i]);
    }
  }
  std::vector<int64_t> negative = {3, -1, 5};
  msw_tensor npos = ops_table::i64(negative, {3});
  CHECK_THROWS_AS(ops_table::ops().rope_tables(config, &npos, ccos, csin), sdk::Error);
}

TEST_CASE("CUDA rope forward and backward equal the CPU backend (partial rotary, one table row per position or per "
          "token, in place, 16-byte packs and element-wise)") {
  REQUIRE_GPU_OR_SKIP();
  struct Geometry {
    int64_t head_dim, half;
  };
  // 64 of 96 channels rotate (packed for every dtype); 24 of 40 (half 12: element-wise for 2-byte types, packed
  // for f32); 10 of 20 (half 5: element-wise for all).
  for (Geometry geo : {Geometry{96, 32}, Geometry{40, 12}, Geometry{20, 5}})
  for (int32_t dt : kDtypes)
    for (int64_t rows_per_position : {int64_t{0}, int64_t{1}, int64_t{3}})
      for (bool in_place : {false, true}) {
        CAPTURE(geo.head_dim);
        CAPTURE(dt);
        CAPTURE(rows_per_position);
        CAPTURE(in_place);
        const int64_t S = 7, B = 3, H = 5, D = geo.head_dim, half = geo.half;
        const int64_t rows = rows_per_position == 3 ? S : S * B;
        Both x(rnd(S * B * H * D, -2, 2), dt, {S, B, H, D}), y(FVec(S * B * H * D), dt, {S, B, H, D});
        const FVec angles = rnd(rows * half, -3.2f, 3.2f);
        FVec c(angles.size()), s(angles.size());
        for (size_t i = 0; i < angles.size(); ++i) {
          c[i] = std::cos(angles[i]);
          s[i] = std::sin(angles[i]);
        }
        Both cos(c, MSW_DTYPE_F32, {rows, half}), sin(s, MSW_DTYPE_F32, {rows, half});
        const Both& out = in_place ? x : y;
        for (bool g : {false, true}) side(g).rope_forward(x.on(g), cos.on(g), sin.on(g), out.on(g), rows_per_position);
        same("y", out, tolerance(dt));
        Both dy(rnd(S * B * H * D), dt, {S, B, H, D}), dx(FVec(S * B * H * D), dt, {S, B, H, D});
        const Both& dout = in_place ? dy : dx;
        for (bool g : {false, true}) side(g).rope_backward(dy.on(g), cos.on(g), sin.on(g), dout.on(g), rows_per_position);
        same("dx", dout, tolerance(dt));
      }
}

// ---------------------------------------------------------------------------------------------------------------
// QKV split, SwiGLU, GELU

TEST_CASE("CUDA qkv_split forward and backward move exactly the CPU backend's elements (GQA and MHA)") {
  REQUIRE_GPU_OR_SKIP();
  struct Heads {
    int64_t q, kv, d;
  };
  for (int32_t dt : kDtypes)
    for (Heads h : {Heads{12, 4, 40}, Heads{6, 6, 33}, Heads{8, 1, 64}}) {
      CAPTURE(dt);
      CAPTURE(h.q);
      CAPTURE(h.kv);
      const int64_t S = 13, B = 2, width = h.kv * (h.q / h.kv + 2) * h.d;
      Both qkv(rnd(S * B * width), dt, {S, B, width});
      Both q(FVec(S * B * h.q * h.d), dt, {S, B, h.q, h.d}), k(FVec(S * B * h.kv * h.d), dt, {S, B, h.kv, h.d});
      Both v(FVec(S * B * h.kv * h.d), dt, {S, B, h.kv, h.d});
      for (bool g : {false, true}) side(g).qkv_split_forward(qkv.on(g), q.on(g), k.on(g), v.on(g));
      same("q", q, 0.0);
      same("k", k, 0.0);
      same("v", v, 0.0);
      Both dq(rnd(S * B * h.q * h.d), dt, {S, B, h.q, h.d}), dk(rnd(S * B * h.kv * h.d), dt, {S, B, h.kv, h.d});
      Both dv(rnd(S * B * h.kv * h.d), dt, {S, B, h.kv, h.d}), dqkv(FVec(S * B * width), dt, {S, B, width});
      for (bool g : {false, true}) side(g).qkv_split_backward(dq.on(g), dk.on(g), dv.on(g), dqkv.on(g));
      same("dqkv", dqkv, 0.0);
    }
}

TEST_CASE("CUDA qkv split with RoPE equals the CPU backend, and the bits of the split then rope on the GPU (one "
          "pass in 16-byte packs, two passes otherwise)") {
  REQUIRE_GPU_OR_SKIP();
  struct Geometry {
    int64_t q, kv, d, half;
  };
  // 12/2 heads of 128 rotating fully (the 1.5B shape), 64 of 96 rotating (packed for every dtype), 24 of 40
  // (half 12: two passes for 2-byte types, one for f32), 10 of 20 (two passes for all).
  for (Geometry h : {Geometry{12, 2, 128, 64}, Geometry{6, 2, 96, 32}, Geometry{4, 4, 40, 12}, Geometry{8, 1, 20, 5}})
    for (int32_t dt : kDtypes) {
      CAPTURE(h.d);
      CAPTURE(dt);
      const int64_t S = 9, B = 2, width = h.kv * (h.q / h.kv + 2) * h.d;
      const FVec angles = rnd(S * h.half, -3.2f, 3.2f);
      FVec c(angles.size()), sn(angles.size());
      for (size_t i = 0; i < angles.size(); ++i) {
        c[i] = std::cos(angles[i]);
        sn[i] = std::sin(angles[i]);
      }
      Both cos(c, MSW_DTYPE_F32, {S, h.half}), sin(sn, MSW_DTYPE_F32, {S, h.half});
      Both qkv(rnd(S * B * width), dt, {S, B, width});
      Both q(FVec(S * B * h.q * h.d), dt, {S, B, h.q, h.d}), k(FVec(S * B * h.kv * h.d), dt, {S, B, h.kv, h.d});
      Both v(FVec(S * B * h.kv * h.d), dt, {S, B, h.kv, h.d});
      for (bool g : {false, true}) {
        const sdk::Ops::SplitRope rope{cos.on(g), sin.on(g), B};
        side(g).qkv_split_forward(qkv.on(g), q.on(g), k.on(g), v.on(g), &rope);
      }
      same("q", q, tolerance(dt));
      same("k", k, tolerance(dt));
      same("v", v, 0.0);
      // Two passes on the GPU give the same bits.
      GpuTensor q2(FVec(S * B * h.q * h.d), dt, {S, B, h.q, h.d}), k2(FVec(S * B * h.kv * h.d), dt, {S, B, h.kv, h.d});
      GpuTensor v2(FVec(S * B * h.kv * h.d), dt, {S, B, h.kv, h.d});
      gpu_ops().qkv_split_forward(qkv.gpu.t, q2.t, k2.t, v2.t);
      gpu_ops().rope_forward(q2.t, cos.gpu.t, sin.gpu.t, q2.t, B);
      gpu_ops().rope_forward(k2.t, cos.gpu.t, sin.gpu.t, k2.t, B);
      CHECK(bitwise_equal(q.gpu.values(), q2.values()));
      CHECK(bitwise_equal(k.gpu.values(), k2.values()));

      const FVec dqv = rnd(S * B * h.q * h.d), dkv = rnd(S * B * h.kv * h.d);
      Both dq(dqv, dt, {S, B, h.q, h.d}), dk(dkv, dt, {S, B, h.kv, h.d});
      Both dv(rnd(S * B * h.kv * h.d), dt, {S, B, h.kv, h.d}), dqkv(FVec(S * B * width), dt, {S, B, width});
      for (bool g : {false, true}) {
        const sdk::Ops::SplitRope rope{cos.on(g), sin.on(g), B};
        side(g).qkv_split_backward(dq.on(g), dk.on(g), dv.on(g), dqkv.on(g), &rope);
      }
      same("dqkv", dqkv, tolerance(dt));
      same("dq untouched", dq, 0.0);
      same("dk untouched", dk, 0.0);
      GpuTensor dq2(dqv, dt, {S, B, h.q, h.d}), dk2(dkv, dt, {S, B, h.kv, h.d}), dqkv2(FVec(S * B * width), dt, {S, B, width});
      gpu_ops().rope_backward(dq2.t, cos.gpu.t, sin.gpu.t, dq2.t, B);
      gpu_ops().rope_backward(dk2.t, cos.gpu.t, sin.gpu.t, dk2.t, B);
      gpu_ops().qkv_split_backward(dq2.t, dk2.t, dv.gpu.t, dqkv2.t);
      CHECK(bitwise_equal(dqkv.gpu.values(), dqkv2.values()));
    }
}

TEST_CASE("CUDA swiglu forward and backward equal the CPU backend") {
  REQUIRE_GPU_OR_SKIP();
  for (int32_t dt : kDtypes)
    for (int64_t F : {301, 256}) {  // 256: the 16-byte packed kernels
      CAPTURE(dt);
      CAPTURE(F);
      const int64_t R = 37;
      Both x(rnd(R * 2 * F, -6, 6), dt, {R, 2 * F}), out(FVec(R * F), dt, {R, F});
      for (bool g : {false, true}) side(g).swiglu_forward(x.on(g), out.on(g));
      same("out", out, tolerance(dt));
      Both dout(rnd(R * F), dt, {R, F}), dx(FVec(R * 2 * F), dt, {R, 2 * F});
      for (bool g : {false, true}) side(g).swiglu_backward(x.on(g), dout.on(g), dx.on(g));
      same("dx", dx, tolerance(dt));
    }
}

TEST_CASE("CUDA gelu (erf and tanh) forward and backward equal the CPU backend, also in place") {
  REQUIRE_GPU_OR_SKIP();
  for (int32_t dt : kDtypes)
    for (msw_gelu_approximation approx : {MSW_GELU_EXACT, MSW_GELU_TANH}) {
      const int approximation = approx;
      CAPTURE(dt);
      CAPTURE(approximation);
      const int64_t n = 10007;
      Both x(rnd(n, -8, 8), dt, {n}), y(FVec(n), dt, {n});
      for (bool g : {false, true}) side(g).gelu_forward(x.on(g), y.on(g), approx);
      same("y", y, tolerance(dt));
      Both dy(rnd(n), dt, {n}), dx(FVec(n), dt, {n});
      for (bool g : {false, true}) side(g).gelu_backward(x.on(g), dy.on(g), dx.on(g), approx);
      same("dx", dx, tolerance(dt));
      for (bool g : {false, true}) side(g).gelu_backward(x.on(g), dy.on(g), dy.on(g), approx);
      same("dx over dy", dy, tolerance(dt));
      for (bool g : {false, true}) side(g).gelu_forward(x.on(g), x.on(g), approx);
      same("y over x", x, tolerance(dt));
    }
}

// ---------------------------------------------------------------------------------------------------------------
// Embedding

namespace {

template <class I>
std::vector<I> random_ids(int64_t n, int64_t lo, int64_t hi) {
  std::vector<I> ids(static_cast<size_t>(n));
  for (auto& v : ids) v = static_cast<I>(ops_test::random_int(lo, hi));
  return ids;
}

template <class I>
void embedding_case(int32_t dt, int32_t grad_dt, int32_t id_dtype, int64_t vocab_start, bool vocab_parallel) {
  const int64_t V = 400, C = 77, n = 1029;
  // Ids crowd onto a few rows (long runs of one row backward); with a shard they also fall outside it.
  std::vector<I> ids = vocab_parallel ? random_ids<I>(n, 0, 999) : random_ids<I>(n, vocab_start, vocab_start + 40);
  ids[5] = static_cast<I>(vocab_start + V - 1);  // the last row
  BothInts<I> tids(ids, id_dtype, {n});
  Both table(rnd(V * C), dt, {V, C}), out(rnd(n * C), dt, {n, C});
  for (bool g : {false, true}) {
    auto a = sdk::Ops::args<msw_embedding_forward_args>();
    a.ids = tids.on(g);
    a.table = table.on(g);
    a.out = out.on(g);
    a.vocab_start = vocab_start;
    a.vocab_parallel = vocab_parallel;
    ok(side(g).api().embedding_forward(&ctx_of(g), &a), "embedding_forward");
  }
  same("out", out, 0.0);
  // Backward: the same additions in the same (token) order as the CPU, so equal bit for bit.
  Both dout(rnd(n * C), dt, {n, C}), dtable(ops_test::prefill(V * C), grad_dt, {V, C});
  for (bool g : {false, true}) {
    auto a = sdk::Ops::args<msw_embedding_backward_args>();
    a.ids = tids.on(g);
    a.dout = dout.on(g);
    a.dtable = dtable.on(g);
    a.vocab_start = vocab_start;
    a.vocab_parallel = vocab_parallel;
    ok(side(g).api().embedding_backward(&ctx_of(g), &a), "embedding_backward");
  }
  same("dtable", dtable, 0.0);
}

}  // namespace

TEST_CASE("CUDA embedding forward and backward equal the CPU backend bit for bit (I64/I32 ids, shards, f32 grads)") {
  REQUIRE_GPU_OR_SKIP();
  for (int32_t dt : kDtypes) {
    CAPTURE(dt);
    embedding_case<int64_t>(dt, dt, MSW_DTYPE_I64, 0, false);
    embedding_case<int32_t>(dt, MSW_DTYPE_F32, MSW_DTYPE_I32, 1000, false);
    embedding_case<int64_t>(dt, MSW_DTYPE_F32, MSW_DTYPE_I64, 300, true);
    embedding_case<int32_t>(dt, dt, MSW_DTYPE_I32, 600, true);
  }
}

TEST_CASE("CUDA embedding: out-of-range ids give zero rows and no gradient; backward is the same on every run") {
  REQUIRE_GPU_OR_SKIP();
  const int64_t V = 50, C = 300, n = 4000;
  std::vector<int64_t> ids = random_ids<int64_t>(n, 0, 9);
  ids[7] = V;   // outside [0, V): the CPU backend refuses it without vocab_parallel; see kernels/cuda/embedding.hpp
  ids[8] = -3;
  GpuTensor tids(ids, MSW_DTYPE_I64, {n});
  const FVec table = rnd(V * C);
  GpuTensor gtable(table, MSW_DTYPE_F32, {V, C}), out(rnd(n * C), MSW_DTYPE_F32, {n, C});
  gpu_ops().embedding_forward(tids.t, gtable.t, out.t);
  const FVec got = out.values();
  for (int64_t j = 0; j < C; ++j) {
    CHECK(got[7 * C + j] == 0.0f);
    CHECK(got[8 * C + j] == 0.0f);
    CHECK(got[9 * C + j] == table[ids[9] * C + j]);
  }
  const FVec dout = rnd(n * C), prefill = ops_test::prefill(V * C);
  GpuTensor gdout(dout, MSW_DTYPE_F32, {n, C});
  FVec first;
  for (int run = 0; run < 2; ++run) {
    GpuTensor dtable(prefill, MSW_DTYPE_F32, {V, C});
    gpu_ops().embedding_backward(tids.t, gdout.t, dtable.t);
    const FVec v = dtable.values();
    if (run == 0) {
      first = v;
      // Rows no in-range id names keep their values; the others took their tokens' rows in token order.
      FVec want = prefill;
      for (int64_t i = 0; i < n; ++i)
        if (ids[i] >= 0 && ids[i] < V)
          for (int64_t j = 0; j < C; ++j) want[ids[i] * C + j] += dout[i * C + j];
      CHECK(bitwise_equal(v, want));
    } else {
      CHECK(bitwise_equal(v, first));
    }
  }
}

// ---------------------------------------------------------------------------------------------------------------
// What the CUDA kernels do not take is refused, naming it

TEST_CASE("CUDA pointwise ops refuse mixed activation dtypes and non-F32 tables or statistics, naming them") {
  REQUIRE_GPU_OR_SKIP();
  const int64_t R = 4, C = 8;
  GpuTensor x(rnd(R * C), MSW_DTYPE_BF16, {R, C}), y32(FVec(R * C), MSW_DTYPE_F32, {R, C});
  GpuTensor w(rnd(C), MSW_DTYPE_BF16, {C}), rstd(FVec(R), MSW_DTYPE_F32, {R}), rstd16(FVec(R), MSW_DTYPE_BF16, {R});
  auto a = sdk::Ops::args<msw_rmsnorm_forward_args>();
  a.x = x.t;
  a.weight = w.t;
  a.y = y32.t;
  a.rstd = rstd.t;
  a.eps = 1e-6;
  std::string m = error_of(gpu_ops().api().rmsnorm_forward(&gpu_ctx(), &a));
  CHECK(m.find("one dtype") != std::string::npos);
  CHECK(m.find("ops.rmsnorm_forward") != std::string::npos);
  GpuTensor y(FVec(R * C), MSW_DTYPE_BF16, {R, C});
  a.y = y.t;
  a.rstd = rstd16.t;
  m = error_of(gpu_ops().api().rmsnorm_forward(&gpu_ctx(), &a));
  CHECK(m.find("rstd") != std::string::npos);
  CHECK(m.find("F32") != std::string::npos);

  const msw_rope_config config = rope_config(MSW_ROPE_NONE, 16, 10000.0);
  GpuTensor cos(FVec(R * 8), MSW_DTYPE_BF16, {R, 8}), sin(FVec(R * 8), MSW_DTYPE_BF16, {R, 8});
  auto t = sdk::Ops::args<msw_rope_tables_args>();
  t.config = &config;
  t.cos = cos.t;
  t.sin = sin.t;
  m = error_of(gpu_ops().api().rope_tables(&gpu_ctx(), &t));
  CHECK(m.find("cos") != std::string::npos);
}

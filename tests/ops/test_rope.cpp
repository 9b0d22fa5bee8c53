// RoPE: inverse frequencies, attention factor and cos/sin tables of every variant against float64
// values from tests/fixtures/rope_reference.py (numpy, formulas of HF's modeling_rope_utils written
// independently of the kernel); the rotation against the float64 reference and its backward against
// central differences.
#include <doctest/doctest.h>

#include <cmath>
#include <filesystem>
#include <fstream>

#include <nlohmann/json.hpp>

#include <kernels/cpu/rope.hpp>

#include "reference_attention.hpp"
#include "ops_table_support.hpp"
#include "test_paths.hpp"
#include "test_support.hpp"

namespace cpu = megaswift::kernels::cpu;
using namespace ops_test;

namespace {

nlohmann::json load_reference() {
  const auto path = megaswift::testing::source_dir() / "tests" / "fixtures" / "rope_reference.json";
  std::ifstream in(path);
  REQUIRE_MESSAGE(in.good(), "cannot open " << path.string() << "; regenerate it with tests/fixtures/rope_reference.py");
  return nlohmann::json::parse(in);
}

cpu::RopeConfig config_from(const nlohmann::json& c) {
  cpu::RopeConfig r;
  r.scaling = cpu::rope_scaling_from_name(c.at("scaling").get<std::string>());
  r.theta = c.at("theta");
  r.head_dim = c.at("head_dim");
  r.partial_rotary_factor = c.value("partial_rotary_factor", 1.0);
  r.max_position_embeddings = c.value("max_position_embeddings", int64_t{0});
  r.factor = c.value("factor", 1.0);
  r.original_max_position_embeddings = c.value("original_max_position_embeddings", int64_t{0});
  r.low_freq_factor = c.value("low_freq_factor", 1.0);
  r.high_freq_factor = c.value("high_freq_factor", 4.0);
  r.beta_fast = c.value("beta_fast", 32.0);
  r.beta_slow = c.value("beta_slow", 1.0);
  r.mscale = c.value("mscale", 0.0);
  r.mscale_all_dim = c.value("mscale_all_dim", 0.0);
  if (c.contains("attention_factor")) r.attention_factor = c.at("attention_factor").get<double>();
  r.truncate = c.value("truncate", true);
  return r;
}

}  // namespace

TEST_CASE("rope inv_freq and attention factor and cos/sin tables of every variant match the numpy float64 reference") {
  const auto ref = load_reference();
  REQUIRE(ref.at("cases").size() >= 8);
  for (const auto& c : ref.at("cases")) {
    INFO(c.at("name").get<std::string>());
    const cpu::RopeConfig cfg = config_from(c.at("config"));
    const auto positions = c.at("positions").get<std::vector<int64_t>>();
    const auto want_inv = c.at("inv_freq").get<std::vector<double>>();
    const int64_t max_pos = *std::max_element(positions.begin(), positions.end());

    const auto inv = cpu::rope_inv_freq(cfg, max_pos);
    REQUIRE(inv.size() == want_inv.size());
    REQUIRE(cpu::rope_rotary_dim(cfg) == static_cast<int64_t>(2 * inv.size()));
    for (size_t i = 0; i < inv.size(); ++i) {
      // float32 inv_freq with HF's float32 exponent: a few 1e-7 relative.
      CHECK(std::abs(inv[i] - want_inv[i]) <= 2e-6 * want_inv[i]);
    }
    CHECK(cpu::rope_attention_factor(cfg) == doctest::Approx(c.at("attention_factor").get<double>()).epsilon(1e-12));

    const int64_t half = static_cast<int64_t>(inv.size());
    FVec cos(positions.size() * half), sin(positions.size() * half);
    cpu::rope_tables(cfg, positions.data(), static_cast<int64_t>(positions.size()), cos.data(), sin.data());
    const auto want_cos = c.at("cos").get<std::vector<std::vector<double>>>();
    const auto want_sin = c.at("sin").get<std::vector<std::vector<double>>>();
    for (size_t p = 0; p < positions.size(); ++p) {
      for (int64_t i = 0; i < half; ++i) {
        // The angle pos*inv_freq is taken in float32 (as HF does), so allow its rounding.
        const double angle = static_cast<double>(positions[p]) * want_inv[i];
        const double tol = 2e-6 + 4e-6 * angle;
        CHECK(std::abs(cos[p * half + i] - want_cos[p][i]) <= tol);
        CHECK(std::abs(sin[p * half + i] - want_sin[p][i]) <= tol);
      }
    }
  }
}

TEST_CASE("dynamic rope equals the default rope while positions stay within max_position_embeddings") {
  cpu::RopeConfig dyn;
  dyn.scaling = cpu::RopeScaling::dynamic;
  dyn.head_dim = 64;
  dyn.factor = 2.0;
  dyn.max_position_embeddings = 2048;
  cpu::RopeConfig plain = dyn;
  plain.scaling = cpu::RopeScaling::none;
  CHECK(cpu::rope_inv_freq(dyn, 2047) == cpu::rope_inv_freq(plain, 2047));
  CHECK(cpu::rope_inv_freq(dyn, 2048) != cpu::rope_inv_freq(plain, 2048));
}

TEST_CASE("rope config errors name the field and unknown rope types list the supported ones") {
  CHECK_THROWS_WITH_AS(cpu::rope_scaling_from_name("longrope"), doctest::Contains("default, linear, dynamic, llama3, yarn"),
                       std::invalid_argument);
  CHECK(cpu::rope_scaling_from_name("default") == cpu::RopeScaling::none);
  cpu::RopeConfig c;
  c.head_dim = 64;
  c.scaling = cpu::RopeScaling::llama3;
  c.factor = 8.0;
  CHECK_THROWS_WITH_AS(cpu::rope_validate(c), doctest::Contains("original_max_position_embeddings"),
                       std::invalid_argument);
  c.scaling = cpu::RopeScaling::none;
  c.head_dim = 6;
  c.partial_rotary_factor = 0.5;  // rotary dim 3 is odd
  CHECK_THROWS_WITH_AS(cpu::rope_validate(c), doctest::Contains("must be even"), std::invalid_argument);
}

TEST_CASE("rope rotation (full or partial rotary, one table row per position or per token) matches the reference and backward is its transpose") {
  struct Case {
    int64_t S, B, H, D, rot;
    bool per_token;  // tables with one row per token (rows_per_position 1) instead of one per position (B)
  };
  for (const Case& k : {Case{1, 1, 1, 2, 2, false}, Case{3, 2, 3, 8, 8, false}, Case{7, 1, 2, 17, 10, true},
                        Case{3, 2, 1, 7, 4, false}, Case{17, 2, 1, 12, 6, false}, Case{5, 3, 2, 10, 4, true}}) {
    CAPTURE(k.S);
    CAPTURE(k.B);
    CAPTURE(k.D);
    CAPTURE(k.rot);
    CAPTURE(k.per_token);
    cpu::RopeConfig cfg;
    cfg.head_dim = k.D;
    // int(D * factor) must land on rot exactly: aim half a channel above it unless everything rotates.
    cfg.partial_rotary_factor = k.rot == k.D ? 1.0 : (static_cast<double>(k.rot) + 0.5) / static_cast<double>(k.D);
    cfg.scaling = cpu::RopeScaling::yarn;  // attention factor != 1 exercises the scaled tables too
    cfg.factor = 4.0;
    cfg.original_max_position_embeddings = 64;
    REQUIRE(cpu::rope_rotary_dim(cfg) == k.rot);
    const int64_t T = k.S * k.B, rpp = k.per_token ? 1 : k.B, n_rows = T / rpp;
    std::vector<int64_t> pos(n_rows);
    for (auto& p : pos) p = random_int(0, 300);
    const int64_t half = k.rot / 2;
    FVec cos(n_rows * half), sin(n_rows * half);
    cpu::rope_tables(cfg, pos.data(), n_rows, cos.data(), sin.data());

    FVec x = random_floats(T * k.H * k.D), y(x.size());
    cpu::rope_forward(x.data(), y.data(), cos.data(), sin.data(), T, k.H, k.D, k.rot, rpp);
    const Vec cd = to_double(cos), sd = to_double(sin);
    check_close("rope forward", y, ops_ref::rope(to_double(x), cd, sd, T, k.H, k.D, k.rot, rpp));

    FVec g = random_floats(x.size()), dx(x.size());
    cpu::rope_backward(g.data(), dx.data(), cos.data(), sin.data(), T, k.H, k.D, k.rot, rpp);
    Vec xd = to_double(x);
    const Vec gd = to_double(g);
    check_gradient("x", xd, dx, [&] { return dot(gd, ops_ref::rope(xd, cd, sd, T, k.H, k.D, k.rot, rpp)); });

    FVec inplace = x;
    cpu::rope_forward(inplace.data(), inplace.data(), cos.data(), sin.data(), T, k.H, k.D, k.rot, rpp);
    CHECK(inplace == y);
    FVec ginplace = g;
    cpu::rope_backward(ginplace.data(), ginplace.data(), cos.data(), sin.data(), T, k.H, k.D, k.rot, rpp);
    CHECK(ginplace == dx);
  }
}

TEST_CASE("rope through the table: [S, B] activations with one row per position equal per-token tables") {
  const int64_t S = 6, B = 3, H = 2, D = 8;
  msw_rope_config cfg{};
  cfg.struct_size = sizeof cfg;
  cfg.theta = 10000.0;
  cfg.head_dim = D;
  cfg.partial_rotary_factor = 1.0;
  cfg.factor = 1.0;
  auto ops = ops_table::ops();
  REQUIRE(ops.rope_rotary_dim(cfg) == D);
  // One row per position (S rows, shared by the batch rows) and one row per token ([S, B] order: token t
  // is position t / B).
  std::vector<int64_t> positions(S * B);
  for (int64_t t = 0; t < S * B; ++t) positions[t] = t / B;
  FVec cs(S * D / 2), sn(S * D / 2), ct(S * B * D / 2), st(S * B * D / 2);
  ops.rope_tables(cfg, nullptr, ops_table::f32(cs, {S, D / 2}), ops_table::f32(sn, {S, D / 2}));
  const msw_tensor pt = ops_table::i64(positions, {S * B});
  ops.rope_tables(cfg, &pt, ops_table::f32(ct, {S * B, D / 2}), ops_table::f32(st, {S * B, D / 2}));
  FVec x = random_floats(S * B * H * D), y_shared(x.size()), y_token(x.size());
  const msw_tensor tx = ops_table::f32(x, {S, B, H, D});
  ops.rope_forward(tx, ops_table::f32(cs, {S, D / 2}), ops_table::f32(sn, {S, D / 2}), ops_table::f32(y_shared, {S, B, H, D}), B);
  ops.rope_forward(tx, ops_table::f32(ct, {S * B, D / 2}), ops_table::f32(st, {S * B, D / 2}),
                   ops_table::f32(y_token, {S, B, H, D}), 1);
  CHECK(y_shared == y_token);
  check_close("rope forward", y_shared, ops_ref::rope(to_double(x), to_double(cs), to_double(sn), S * B, H, D, D, B));
  // Tables whose row count does not fit tokens / rows_per_position are refused, naming the rule.
  CHECK_THROWS_WITH(ops.rope_forward(tx, ops_table::f32(ct, {S * B, D / 2}), ops_table::f32(st, {S * B, D / 2}),
                                     ops_table::f32(y_token, {S, B, H, D}), B),
                    doctest::Contains("the tables need tokens / rows_per_position rows"));
}

TEST_CASE("qkv split with RoPE (ABI 2.4) equals the split then rope_forward, and its backward joins the inverse "
          "rotation without touching dq or dk") {
  // GQA: 2 kv groups of 3 query heads; head_dim 12 with 8 channels rotating; [S, B] rows, one table row per
  // position (rows_per_position = B).
  const int64_t S = 5, B = 2, R = S * B, G = 2, n = 3, Hq = G * n, D = 12, half = 4, width = G * (n + 2) * D;
  const FVec qkv = random_floats(R * width, -2, 2), angles = random_floats(S * half, -3, 3);
  FVec cs(angles.size()), sn(angles.size());
  for (size_t i = 0; i < angles.size(); ++i) {
    cs[i] = std::cos(angles[i]);
    sn[i] = std::sin(angles[i]);
  }
  // The split by its definition: per row, group g holds [n query heads | key head | value head].
  FVec q0(R * Hq * D), k0(R * G * D), v0(R * G * D);
  for (int64_t r = 0; r < R; ++r)
    for (int64_t g = 0; g < G; ++g)
      for (int64_t w = 0; w < n + 2; ++w)
        for (int64_t e = 0; e < D; ++e) {
          const float x = qkv[(r * G * (n + 2) + g * (n + 2) + w) * D + e];
          if (w < n) q0[(r * Hq + g * n + w) * D + e] = x;
          else if (w == n) k0[(r * G + g) * D + e] = x;
          else v0[(r * G + g) * D + e] = x;
        }
  auto ops = ops_table::ops();
  const msw_tensor tcos = ops_table::f32(cs, {S, half}), tsin = ops_table::f32(sn, {S, half});
  const megaswift::sdk::Ops::SplitRope rope{tcos, tsin, B};
  FVec q(q0.size()), k(k0.size()), v(v0.size());
  FVec qkv_in = qkv;
  ops.qkv_split_forward(ops_table::f32(qkv_in, {S, B, width}), ops_table::f32(q, {S, B, Hq, D}),
                        ops_table::f32(k, {S, B, G, D}), ops_table::f32(v, {S, B, G, D}), &rope);
  check_close("q", q, ops_ref::rope(to_double(q0), to_double(cs), to_double(sn), R, Hq, D, 2 * half, B));
  check_close("k", k, ops_ref::rope(to_double(k0), to_double(cs), to_double(sn), R, G, D, 2 * half, B));
  CHECK(v == v0);
  // The same bits as the two ops it replaces.
  FVec q2(q0.size()), k2(k0.size()), v2(v0.size());
  ops.qkv_split_forward(ops_table::f32(qkv_in, {S, B, width}), ops_table::f32(q2, {S, B, Hq, D}),
                        ops_table::f32(k2, {S, B, G, D}), ops_table::f32(v2, {S, B, G, D}));
  ops.rope_forward(ops_table::f32(q2, {S, B, Hq, D}), tcos, tsin, ops_table::f32(q2, {S, B, Hq, D}), B);
  ops.rope_forward(ops_table::f32(k2, {S, B, G, D}), tcos, tsin, ops_table::f32(k2, {S, B, G, D}), B);
  CHECK(q == q2);
  CHECK(k == k2);

  // Backward: dqkv = join(R^T dq, R^T dk, dv); the inverse rotation is the rotation by -angle.
  const FVec dq = random_floats(q0.size()), dk = random_floats(k0.size()), dv = random_floats(v0.size());
  FVec dq_in = dq, dk_in = dk, dv_in = dv, dqkv(R * width);
  ops.qkv_split_backward(ops_table::f32(dq_in, {S, B, Hq, D}), ops_table::f32(dk_in, {S, B, G, D}),
                         ops_table::f32(dv_in, {S, B, G, D}), ops_table::f32(dqkv, {S, B, width}), &rope);
  CHECK(dq_in == dq);
  CHECK(dk_in == dk);
  Vec neg_sin = to_double(sn);
  for (double& x : neg_sin) x = -x;
  const Vec rq = ops_ref::rope(to_double(dq), to_double(cs), neg_sin, R, Hq, D, 2 * half, B);
  const Vec rk = ops_ref::rope(to_double(dk), to_double(cs), neg_sin, R, G, D, 2 * half, B);
  Vec want(R * width);
  for (int64_t r = 0; r < R; ++r)
    for (int64_t g = 0; g < G; ++g)
      for (int64_t w = 0; w < n + 2; ++w)
        for (int64_t e = 0; e < D; ++e)
          want[(r * G * (n + 2) + g * (n + 2) + w) * D + e] = w < n    ? rq[(r * Hq + g * n + w) * D + e]
                                                              : w == n ? rk[(r * G + g) * D + e]
                                                                       : dv[(r * G + g) * D + e];
  check_close("dqkv", dqkv, want);

  // Tables that do not fit the tokens are refused with rope_forward's words; sin without cos is named.
  const msw_tensor short_cos = ops_table::f32(cs, {S - 1, half}), short_sin = ops_table::f32(sn, {S - 1, half});
  const megaswift::sdk::Ops::SplitRope bad{short_cos, short_sin, B};
  CHECK_THROWS_WITH(ops.qkv_split_forward(ops_table::f32(qkv_in, {S, B, width}), ops_table::f32(q, {S, B, Hq, D}),
                                          ops_table::f32(k, {S, B, G, D}), ops_table::f32(v, {S, B, G, D}), &bad),
                    doctest::Contains("the tables need tokens / rows_per_position rows"));
  const megaswift::sdk::Ops::SplitRope no_cos{msw_tensor{}, tsin, B};
  CHECK_THROWS_WITH(ops.qkv_split_forward(ops_table::f32(qkv_in, {S, B, width}), ops_table::f32(q, {S, B, Hq, D}),
                                          ops_table::f32(k, {S, B, G, D}), ops_table::f32(v, {S, B, G, D}), &no_cos),
                    doctest::Contains("sin is given without cos"));
}

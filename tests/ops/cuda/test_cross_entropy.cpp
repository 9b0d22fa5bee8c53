// cross_entropy_forward and cross_entropy_backward on the GPU against the CPU backend through the ops table, on
// fresh random data with f32, bf16 and f16 logits: lse, per-token losses, the loss sum (F64 and F32) and the token
// count added to device scalars, ignored rows, I64 and I32 labels, a vocabulary shard (vocab_start) read as a
// column block of wider logits, large vocabularies, and the gradient scaled by a number, by a device scalar, and
// written over the logits themselves.
#include "dense_twins.hpp"

#include <cmath>

using namespace cuda_ops_test;
using ops_test::FVec;

namespace {

const int32_t kDtypes[] = {MSW_DTYPE_F32, MSW_DTYPE_BF16, MSW_DTYPE_F16};

// Labels in [vocab_start, vocab_start + vocab), about one in four set to ignore_index.
std::vector<int64_t> random_labels(int64_t rows, int64_t vocab, int64_t vocab_start, int64_t ignore_index) {
  std::vector<int64_t> y(rows);
  for (auto& v : y) v = ops_test::random_int(0, 3) == 0 ? ignore_index : vocab_start + ops_test::random_int(0, vocab - 1);
  return y;
}

std::unique_ptr<Twin> labels_twin(const std::vector<int64_t>& y, int32_t dtype) {
  if (dtype == MSW_DTYPE_I64) return std::make_unique<Twin>(y, MSW_DTYPE_I64, std::initializer_list<int64_t>{static_cast<int64_t>(y.size())});
  std::vector<int32_t> y32(y.begin(), y.end());
  return std::make_unique<Twin>(y32, MSW_DTYPE_I32, std::initializer_list<int64_t>{static_cast<int64_t>(y.size())});
}

struct CeCase {
  Twin& logits;
  Twin& labels;
  int64_t ignore_index;
  int64_t vocab_start;
};

// Runs the forward on both sides and compares every output.
void forward_both(const CeCase& c, int64_t rows, bool f64_sum, const char* what) {
  CAPTURE(what);
  Twin lse(FVec(rows, 0.0f), MSW_DTYPE_F32, {rows});
  Twin ptl(FVec(rows, 0.0f), MSW_DTYPE_F32, {rows});
  Twin sum64(std::vector<double>{1.5}, MSW_DTYPE_F64, {});
  Twin sum32(FVec{1.5f}, MSW_DTYPE_F32, {});
  Twin count(std::vector<int64_t>{3}, MSW_DTYPE_I64, {});
  for (bool gpu : {false, true}) {
    msw_cross_entropy_args a{};
    a.logits = gpu ? c.logits.dev : c.logits.cpu;
    a.labels = gpu ? c.labels.dev : c.labels.cpu;
    a.ignore_index = c.ignore_index;
    a.vocab_start = c.vocab_start;
    a.lse = gpu ? lse.dev : lse.cpu;
    a.per_token_loss = gpu ? ptl.dev : ptl.cpu;
    a.loss_sum = f64_sum ? (gpu ? sum64.dev : sum64.cpu) : (gpu ? sum32.dev : sum32.cpu);
    a.count = gpu ? count.dev : count.cpu;
    (gpu ? gpu_ops() : ops_table::ops()).cross_entropy_forward(a);
  }
  check_twin("lse", lse, 1e-5);
  check_twin("per_token_loss", ptl, 1e-5);
  const double want = f64_sum ? sum64.raw_cpu<double>()[0] : sum32.cpu_values()[0];
  const double got = f64_sum ? sum64.raw_gpu<double>()[0] : sum32.gpu_values()[0];
  CHECK(std::abs(got - want) <= 1e-5 * std::max(1.0, std::abs(want)));
  CHECK(count.raw_gpu<int64_t>()[0] == count.raw_cpu<int64_t>()[0]);
}

}  // namespace

TEST_CASE("CUDA cross_entropy_forward equals the CPU backend: lse, per-token loss, loss sum and count") {
  REQUIRE_GPU_OR_SKIP();
  for (int32_t dt : kDtypes)
    for (int32_t label_type : {MSW_DTYPE_I64, MSW_DTYPE_I32}) {
      CAPTURE(dtype_name(dt));
      CAPTURE(dtype_name(label_type));
      const int64_t rows = 37, vocab = 1000;
      Twin logits(ops_test::random_floats(rows * vocab, -8, 8), dt, {rows, vocab});
      auto labels = labels_twin(random_labels(rows, vocab, 0, -100), label_type);
      forward_both({logits, *labels, -100, 0}, rows, true, "f64 loss_sum");
      forward_both({logits, *labels, -100, 0}, rows, false, "f32 loss_sum");
    }
}

TEST_CASE("CUDA cross_entropy_forward on a vocabulary shard (vocab_start, a column block) and a large vocabulary") {
  REQUIRE_GPU_OR_SKIP();
  for (int32_t dt : kDtypes) {
    CAPTURE(dtype_name(dt));
    // Columns [100, 100 + 777) of wider logits; labels are ids of the shard starting at 5000; ignore_index -1.
    const int64_t rows = 19, vocab = 777;
    Twin logits(ops_test::random_floats(rows * (vocab + 150), -4, 4), dt, {rows, vocab + 150});
    logits.narrow(1, 100, vocab);
    auto labels = labels_twin(random_labels(rows, vocab, 5000, -1), MSW_DTYPE_I64);
    forward_both({logits, *labels, -1, 5000}, rows, true, "shard");
    // 50257 columns (GPT-2's vocabulary) over a few rows: many elements per thread.
    const int64_t big_rows = 6, big_vocab = 50257;
    Twin big(ops_test::random_floats(big_rows * big_vocab, -10, 10), dt, {big_rows, big_vocab});
    auto big_labels = labels_twin(random_labels(big_rows, big_vocab, 0, -100), MSW_DTYPE_I64);
    forward_both({big, *big_labels, -100, 0}, big_rows, true, "large vocabulary");
  }
}

TEST_CASE("CUDA cross_entropy_backward equals the CPU backend, scaled by a number or a device scalar, and in place") {
  REQUIRE_GPU_OR_SKIP();
  for (int32_t dt : kDtypes)
    for (int mode = 0; mode < 3; ++mode) {  // 0: grad_scale, 1: grad_scale_tensor, 2: dlogits aliasing logits
      CAPTURE(dtype_name(dt));
      CAPTURE(mode);
      const int64_t rows = 41, vocab = 3001;
      Twin logits(ops_test::random_floats(rows * vocab, -6, 6), dt, {rows, vocab});
      auto labels = labels_twin(random_labels(rows, vocab, 0, -100), MSW_DTYPE_I64);
      Twin lse(FVec(rows, 0.0f), MSW_DTYPE_F32, {rows});
      Twin dlogits(FVec(rows * vocab, 7.0f), dt, {rows, vocab});
      Twin scale(FVec{0.75f}, MSW_DTYPE_F32, {});
      for (bool gpu : {false, true}) {
        msw_cross_entropy_args a{};
        a.logits = gpu ? logits.dev : logits.cpu;
        a.labels = gpu ? labels->dev : labels->cpu;
        a.ignore_index = -100;
        a.lse = gpu ? lse.dev : lse.cpu;
        const sdk::Ops ops = gpu ? gpu_ops() : ops_table::ops();
        ops.cross_entropy_forward(a);
        a.grad_scale = 1.0;  // large enough that a wrong one-hot term shows at the bf16 tolerance
        if (mode == 1) a.grad_scale_tensor = gpu ? scale.dev : scale.cpu;
        a.dlogits = mode == 2 ? a.logits : (gpu ? dlogits.dev : dlogits.cpu);
        ops.cross_entropy_backward(a);
      }
      check_twin("lse", lse, 1e-5);
      if (mode == 2)
        check_twin("dlogits in place", logits, tolerance(dt));
      else
        check_twin("dlogits", dlogits, tolerance(dt));
    }
}

TEST_CASE("CUDA cross-entropy marks a label outside the vocabulary with NaN (the CPU backend throws)") {
  REQUIRE_GPU_OR_SKIP();
  const int64_t rows = 4, vocab = 10;
  GpuTensor logits(ops_test::random_floats(rows * vocab), MSW_DTYPE_F32, {rows, vocab});
  GpuTensor labels(std::vector<int64_t>{1, 10, -100, 3}, MSW_DTYPE_I64, {rows});
  GpuTensor lse(FVec(rows), MSW_DTYPE_F32, {rows});
  GpuTensor ptl(FVec(rows), MSW_DTYPE_F32, {rows});
  GpuTensor sum(FVec{0.0f}, MSW_DTYPE_F32, {});
  GpuTensor grad(FVec(rows * vocab), MSW_DTYPE_F32, {rows, vocab});
  msw_cross_entropy_args a{};
  a.logits = logits.t;
  a.labels = labels.t;
  a.ignore_index = -100;
  a.lse = lse.t;
  a.per_token_loss = ptl.t;
  a.loss_sum = sum.t;
  gpu_ops().cross_entropy_forward(a);
  const FVec l = ptl.values();
  CHECK(std::isfinite(l[0]));
  CHECK(std::isnan(l[1]));
  CHECK(l[2] == 0.0f);
  CHECK(std::isnan(sum.values()[0]));
  a.grad_scale = 1.0;
  a.dlogits = grad.t;
  gpu_ops().cross_entropy_backward(a);
  const FVec g = grad.values();
  CHECK(std::isnan(g[vocab + 4]));
  CHECK(std::isfinite(g[4]));
  CHECK(g[2 * vocab + 4] == 0.0f);
}

TEST_CASE("CUDA cross-entropy gives the same bits through 16-byte groups and element by element") {
  REQUIRE_GPU_OR_SKIP();
  // The same logits twice: dense (rows of 3000, 16-byte aligned: the packed kernels) and as columns 1 .. 3000 of
  // rows of 3001 (misaligned: element by element). lse, the losses and the in-place gradient must agree exactly.
  for (int32_t dt : kDtypes) {
    CAPTURE(dtype_name(dt));
    const int64_t rows = 23, vocab = 3000;
    const FVec x = ops_test::random_floats(rows * vocab, -7, 7);
    FVec shifted(rows * (vocab + 1), 0.0f);
    for (int64_t r = 0; r < rows; ++r)
      for (int64_t v = 0; v < vocab; ++v) shifted[r * (vocab + 1) + 1 + v] = x[r * vocab + v];
    GpuTensor dense(x, dt, {rows, vocab}), wide(shifted, dt, {rows, vocab + 1});
    std::vector<int64_t> y = random_labels(rows, vocab, 0, -100);
    GpuTensor labels(y, MSW_DTYPE_I64, {rows});
    struct Out {
      FVec lse, ptl, grad;
    };
    auto run = [&](GpuTensor& logits, const msw_tensor& view) {
      GpuTensor lse(FVec(rows), MSW_DTYPE_F32, {rows}), ptl(FVec(rows), MSW_DTYPE_F32, {rows});
      msw_cross_entropy_args a{};
      a.logits = view;
      a.labels = labels.t;
      a.ignore_index = -100;
      a.lse = lse.t;
      a.per_token_loss = ptl.t;
      gpu_ops().cross_entropy_forward(a);
      a.grad_scale = 0.5;
      a.dlogits = view;  // in place, as the LM head runs it
      gpu_ops().cross_entropy_backward(a);
      return Out{lse.values(), ptl.values(), logits.values()};
    };
    const Out p = run(dense, dense.t);
    const Out s = run(wide, sdk::narrow(wide.t, 1, 1, vocab));
    CHECK(p.lse == s.lse);
    CHECK(p.ptl == s.ptl);
    bool same = true;
    for (int64_t r = 0; r < rows; ++r)
      for (int64_t v = 0; v < vocab; ++v) same = same && p.grad[r * vocab + v] == s.grad[r * (vocab + 1) + 1 + v];
    CHECK(same);
  }
}

// Packed (THD) batches, ms-swift's padding-free training: rows of different lengths packed one after the
// other (cu_seqlens, positions restarting in each row) give the loss and every parameter gradient of the
// padded [B, S] batch of the same rows (labels -100 on the padding), on fixture models of several families.
#include "parity_support.hpp"

#include <doctest/doctest.h>

#include <cmath>

using namespace megaswift;

namespace {

// Three rows of different lengths cut from the fixture's reference inputs (16 tokens per row).
std::vector<host::Batch::Row> rows_of(const std::filesystem::path& dir) {
  const auto ref = host::SafetensorsCheckpoint::single_file(dir / "reference.safetensors");
  const int64_t S = ref.get("input_ids").entry->shape[1];
  const auto ids = test::read_values<int64_t>(ref, "input_ids");
  const auto labels = test::read_values<int64_t>(ref, "labels");
  auto cut = [&](int64_t row, int64_t begin, int64_t end) {
    host::Batch::Row r;
    r.input_ids.assign(ids.begin() + row * S + begin, ids.begin() + row * S + end);
    r.labels.assign(labels.begin() + row * S + begin, labels.begin() + row * S + end);
    return r;
  };
  return {cut(0, 0, S), cut(1, 0, S - 5), cut(0, 3, S - 4)};
}

void check_packed_equals_padded(const std::string& fixture) {
  CAPTURE(fixture);
  const auto dir = test::fixture_dir(fixture);
  host::RunnerOptions o;
  o.num_threads = 2;
  o.layout.packed = true;
  host::ModelRunner padded_runner = host::ModelRunner::from_hf_directory(test::registry(), dir, o);
  host::ModelRunner packed_runner = host::ModelRunner::from_hf_directory(test::registry(), dir, o);
  const auto rows = rows_of(dir);
  const host::Batch padded = host::Batch::pad(rows);
  const host::Batch packed = host::Batch::pack(rows);
  REQUIRE(packed.cu_seqlens == std::vector<int32_t>{0, 16, 27, 36});

  const host::ForwardResult a = padded_runner.forward_backward(padded);
  const host::ForwardResult b = packed_runner.forward_backward(packed);
  CHECK(a.token_count == b.token_count);
  CHECK(a.token_count > 0);
  MESSAGE(fixture << ": padded loss " << a.loss() << ", packed loss " << b.loss());
  CHECK(std::abs(a.loss_sum - b.loss_sum) <= 1e-6 * std::abs(a.loss_sum));

  double worst = 0;
  for (size_t i = 0; i < padded_runner.params().size(); ++i) {
    const auto& p = padded_runner.params()[i];
    const auto& q = packed_runner.params()[i];
    double num = 0, den = 0;
    for (int64_t k = 0; k < p.numel(); ++k) {
      num += std::pow(double(p.grads()[k]) - q.grads()[k], 2);
      den += std::pow(double(p.grads()[k]), 2);
    }
    CAPTURE(p.name);
    REQUIRE(den > 0);
    const double rel = std::sqrt(num / den);
    CHECK(rel <= 1e-6);
    worst = std::max(worst, rel);
  }
  MESSAGE(fixture << ": worst gradient relative difference packed vs padded " << worst);
}

}  // namespace

TEST_CASE("qwen2: a packed batch of rows of different lengths has the loss and gradients of the padded batch") {
  check_packed_equals_padded("qwen2");
}
TEST_CASE("llama 3.1: a packed batch of rows of different lengths has the loss and gradients of the padded batch") {
  check_packed_equals_padded("llama3_1");
}
TEST_CASE("qwen3 (qk-norm): a packed batch of rows of different lengths has the loss and gradients of the padded batch") {
  check_packed_equals_padded("qwen3");
}

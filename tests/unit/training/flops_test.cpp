// The FLOPs count against Megatron-LM's num_floating_point_operations, written out here as Megatron writes it, and
// the throughput figures derived from it.
#include "host/training/flops.hpp"

#include <doctest/doctest.h>

using megaswift::training::FlopsModel;
using megaswift::training::training_flops;

namespace {

// Megatron-LM's formula (training.py, num_floating_point_operations, dense GPT), as a reader of that file sees it.
double megatron_formula(const FlopsModel& m, double batch, double seq) {
  const double query_projection_size = static_cast<double>(m.kv_channels * m.num_attention_heads);
  const double ratio = query_projection_size / static_cast<double>(m.hidden_size);
  const double gated = m.gated_mlp ? 3.0 / 2.0 : 1.0;
  const double h = static_cast<double>(m.hidden_size), L = static_cast<double>(m.num_layers);
  return 12 * batch * seq * L * h * h *
         ((1 + static_cast<double>(m.num_query_groups) / static_cast<double>(m.num_attention_heads) + seq / h) * ratio +
          static_cast<double>(m.ffn_hidden_size) / h * gated + static_cast<double>(m.padded_vocab_size) / (2 * L * h));
}

FlopsModel qwen2_5_1_5b() {
  FlopsModel m;
  m.num_layers = 28;
  m.hidden_size = 1536;
  m.num_attention_heads = 12;
  m.num_query_groups = 2;
  m.kv_channels = 128;
  m.ffn_hidden_size = 8960;
  m.padded_vocab_size = 151936;
  m.gated_mlp = true;
  return m;
}

}  // namespace

TEST_CASE("a batch of equal sequences counts exactly Megatron's FLOPs") {
  const FlopsModel m = qwen2_5_1_5b();
  CHECK(training_flops(m, 4, 4096) == doctest::Approx(megatron_formula(m, 4, 4096)).epsilon(1e-12));
  FlopsModel gelu = m;
  gelu.gated_mlp = false;
  gelu.num_query_groups = 12;
  CHECK(training_flops(gelu, 2, 1000) == doctest::Approx(megatron_formula(gelu, 2, 1000)).epsilon(1e-12));
}

TEST_CASE("sequences of different lengths count each at its own length, padding not counted") {
  const FlopsModel m = qwen2_5_1_5b();
  const double mixed = training_flops(m, std::vector<int64_t>{100, 300, 2000});
  CHECK(mixed == doctest::Approx(megatron_formula(m, 1, 100) + megatron_formula(m, 1, 300) + megatron_formula(m, 1, 2000))
                     .epsilon(1e-12));
  CHECK(mixed < training_flops(m, 3, 2000));  // the padded batch would claim more work than was done
}

TEST_CASE("the 1.5B shape at seq 4096 costs about 6 N per token plus attention, as the PaLM count says") {
  // 6 * 1.54e9 parameters (tied embedding counted once) + the attention term 12 * L * h * s * ratio: a sanity anchor
  // that the count is of the right size, independent of the formula above.
  const FlopsModel m = qwen2_5_1_5b();
  const double per_token = training_flops(m, 1, 4096) / 4096;
  CHECK(per_token > 6 * 1.3e9);
  CHECK(per_token < 6 * 2.2e9);
}

TEST_CASE("the log's throughput figures: ms per iteration, TFLOP/s and tokens/s per device, MFU against the peak") {
  using megaswift::training::throughput;
  // 4 iterations in 2 s on 8 devices doing 8e15 FLOPs on 1e6 tokens.
  const auto t = throughput(8e15, 1000000, 2.0, 4, 8, 989.0);
  CHECK(t.ms_per_iteration == doctest::Approx(500.0));
  CHECK(t.tflops_per_device == doctest::Approx(500.0));
  CHECK(t.tokens_per_second_per_device == doctest::Approx(62500.0));
  CHECK(t.mfu_percent == doctest::Approx(100.0 * 500.0 / 989.0));
  // No peak (CPU): no MFU; nothing timed: all zero rather than a division by zero.
  CHECK(throughput(1e12, 10, 1.0, 1, 1, 0.0).mfu_percent == 0.0);
  CHECK(throughput(1e12, 10, 0.0, 0, 1, 989.0).tflops_per_device == 0.0);
}

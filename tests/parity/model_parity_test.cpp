// Every fixture model (built by tests/fixtures/make_model_fixtures.py with HF transformers) loaded through its
// model plugin and run on the CPU in fp32: logits, loss and every parameter gradient must match transformers,
// and the HF -> Megatron -> HF mapping must reproduce every tensor bit for bit. The references are [B, S, ...]
// (HF's order); Megaswift's activations and logits are [S, B, ...], so logits are compared by (b, s, v).
#include "parity_checks.hpp"
#include "parity_support.hpp"

#include <doctest/doctest.h>

using namespace megaswift;

TEST_CASE("qwen2 fixture: logits, loss and every gradient match transformers") {
  test::check_parity(test::registry(), "qwen2", "qwen2");
}
TEST_CASE("qwen2.5 fixture with tied embeddings: logits, loss and every gradient match transformers") {
  test::check_parity(test::registry(), "qwen2_5_tied", "qwen2");
}
TEST_CASE("llama 3.1 fixture with llama3 rope scaling: logits, loss and every gradient match transformers") {
  test::check_parity(test::registry(), "llama3_1", "llama");
}
TEST_CASE("qwen3 fixture with qk-norm and head_dim 32: logits, loss and every gradient match transformers") {
  test::check_parity(test::registry(), "qwen3", "qwen3");
}
TEST_CASE("mistral fixture from sharded safetensors: logits, loss and every gradient match transformers") {
  test::check_parity(test::registry(), "mistral", "llama");
}

TEST_CASE("HF -> Megatron -> HF mapping is bit-exact for every tensor of every fixture") {
  for (const char* name : {"qwen2", "qwen2_5_tied", "llama3_1", "qwen3", "mistral"}) {
    CAPTURE(name);
    test::check_round_trip(test::registry(), name);
  }
}

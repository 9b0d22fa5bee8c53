// Parity of one fixture model (built by tests/fixtures/make_model_fixtures.py with HF transformers), run on the
// CPU in fp32 through the model plugin `registry` picks for it. Shared by the in-tree suite and the out-of-tree
// example plugins' suites, so every model is held to the same tolerances:
//   check_parity      logits (max |diff| < 1e-4), loss (< 1e-5) and every parameter gradient (relative < 1e-4)
//                     against transformers; the references are [B, S, ...], ours [S, B, ...], compared by (b, s, v)
//   check_round_trip  HF -> Megatron -> HF reproduces every tensor bit for bit
#pragma once

#include "host/plugin_host/registry.hpp"

#include <string>

namespace megaswift::test {

void check_parity(const host::PluginRegistry& registry, const std::string& name, const std::string& expected_plugin);
void check_round_trip(const host::PluginRegistry& registry, const std::string& name);

}  // namespace megaswift::test

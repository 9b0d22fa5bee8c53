// A plugin compiled against ABI 2.0 on this host: its model vtable ends before layer_decode and the
// attention args it hands the ops table end before window_left and softcap. It loads, a real call runs,
// and the host reads every member past the plugin's struct_size as absent (zero), even though the
// plugin's memory there holds something else.
#include "abi_2_0.h"
#include "abi_test_support.hpp"

#include "host/core/host_api.hpp"
#include "host/core/status.hpp"
#include "host/ops/ops_api.hpp"
#include "host/plugin_host/registry.hpp"

#include <megaswift/c/model.h>
#include <megaswift/c/ops.h>

#include <doctest/doctest.h>

#include <cmath>
#include <string>
#include <vector>

using megaswift::abi_test::cpu_tensor;
using megaswift::abi_test::kPluginDir;
using megaswift::abi_test::take_message;
using megaswift::host::PluginRegistry;

namespace {

constexpr int64_t S = 4, B = 1, H = 4, kHeads = 2;

msw_exec_ctx cpu_ctx() {
  msw_exec_ctx ctx{};
  ctx.struct_size = sizeof(ctx);
  ctx.num_threads = 1;
  ctx.device = {MSW_DEVICE_CPU, 0};
  return ctx;
}

// Causal self-attention of x with itself through the host's ops table, as the old plugin computes it, with
// a full 2.1 args struct whose window_left is `window`.
msw_status* attention_2_1(std::vector<float>& x, std::vector<float>& out, std::vector<float>& lse, int64_t window) {
  msw_attention_args a{};
  a.struct_size = sizeof(a);
  a.layout = MSW_ATTN_SBHD;
  a.causal = 1;
  a.q = cpu_tensor(x.data(), MSW_DTYPE_F32, {S, B, kHeads, H / kHeads});
  a.k = a.q;
  a.v = a.q;
  a.out = cpu_tensor(out.data(), MSW_DTYPE_F32, {S, B, kHeads, H / kHeads});
  a.lse = cpu_tensor(lse.data(), MSW_DTYPE_F32, {S, B, kHeads});
  a.scale = 0.5;
  a.window_left = window;
  msw_exec_ctx ctx = cpu_ctx();
  return megaswift::host::ops_api().attention_forward(&ctx, &a);
}

}  // namespace

TEST_CASE("a plugin built against ABI 2.0 loads and the host reads its vtable's 2.1 entry as absent") {
  PluginRegistry registry(megaswift::host::host_api());
  registry.load_library(kPluginDir / "libmegaswift_model_old_minor.so");
  const auto& c = registry.require(MSW_KIND_MODEL, "old_model");
  CHECK(c.abi_minor == 0);
  CHECK(c.target_minor == 0);
  CHECK(*static_cast<const uint32_t*>(c.vtable) == MSW_2_0_MODEL_VTABLE_SIZE);
  // The plugin's static struct holds a layer_decode pointer past its struct_size: not part of the vtable.
  CHECK(static_cast<bool>(static_cast<const msw_model_vtable*>(c.vtable)->layer_decode));
  auto vt = PluginRegistry::vtable_copy<msw_model_vtable>(c);
  CHECK_FALSE(static_cast<bool>(vt.layer_decode));
  CHECK(static_cast<bool>(vt.layer_forward));

  // The records it fills are the caller's size: a 2.1 msw_model_info, filled where the plugin knows it.
  void* self = nullptr;
  REQUIRE(vt.create("{}", &self) == nullptr);
  msw_model_info info{};
  info.struct_size = sizeof(info);
  REQUIRE(vt.describe(self, &info) == nullptr);
  CHECK(info.num_layers == 1);
  CHECK(info.hidden_size == 8);
  vt.destroy(self);
}

TEST_CASE("a plugin built against ABI 2.0 runs a real call whose args lack the 2.1 members, read as absent") {
  if (!megaswift::host::host_api().ops) megaswift::host::install_ops(&megaswift::host::ops_api());
  PluginRegistry registry(megaswift::host::host_api());
  registry.load_library(kPluginDir / "libmegaswift_model_old_minor.so");
  auto vt = PluginRegistry::vtable_copy<msw_model_vtable>(registry.require(MSW_KIND_MODEL, "old_model"));
  void* self = nullptr;
  REQUIRE(vt.create("{}", &self) == nullptr);

  std::vector<float> x(S * B * H), y(S * B * H, -1.0f), lse(S * B * kHeads);
  for (size_t i = 0; i < x.size(); ++i) x[i] = std::sin(0.7f * static_cast<float>(i) + 0.3f);
  msw_model_call call{};
  call.struct_size = sizeof(call);
  call.input = cpu_tensor(x.data(), MSW_DTYPE_F32, {S, B, H});
  call.output = cpu_tensor(y.data(), MSW_DTYPE_F32, {S, B, H});
  call.workspace = cpu_tensor(lse.data(), MSW_DTYPE_U8, {static_cast<int64_t>(lse.size() * sizeof(float))});
  msw_exec_ctx ctx = cpu_ctx();
  msw_status* status = vt.layer_forward(self, &ctx, &call);
  REQUIRE_MESSAGE(status == nullptr, take_message(status));
  vt.destroy(self);

  // Equal to full causal attention (no window): the window_left of 1 in the plugin's memory past its
  // struct_size was not read.
  std::vector<float> full(y.size()), full_lse(lse.size());
  REQUIRE(attention_2_1(x, full, full_lse, 0) == nullptr);
  for (size_t i = 0; i < y.size(); ++i) CHECK(y[i] == full[i]);

  // The member does matter when it is inside the struct: a window of one token changes the result (or is
  // refused where the backend does not implement windows).
  std::vector<float> windowed(y.size()), windowed_lse(lse.size());
  msw_status* w = attention_2_1(x, windowed, windowed_lse, 1);
  if (w) {
    CHECK(w->code == MSW_STATUS_UNSUPPORTED);
    take_message(w);
  } else {
    bool differs = false;
    for (size_t i = 0; i < y.size(); ++i) differs |= windowed[i] != full[i];
    CHECK(differs);
  }
}

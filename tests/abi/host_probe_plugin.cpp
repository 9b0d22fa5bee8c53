// A C++ SDK plugin that uses a 2.1 host entry (register_op) only when the host has it (MSW_HOST_HAS), as a
// plugin targeting an older minor must. Built twice (tests/abi/CMakeLists.txt): targeting minor 0 (the
// default: it runs on a 2.0 host and skips the registration there) and with MSW_PLUGIN_TARGET_MINOR 1
// (a 2.0 host is refused by the SDK's entry, naming both versions). Its optimizer scales every weight by
// (1 - lr); creating an instance registers the op "host_probe.noop" when the host can take it.
#include <megaswift/sdk/optimizer.hpp>
#include <megaswift/sdk/plugin.hpp>

#include <string_view>

#ifndef HOST_PROBE_NAME
#error "define HOST_PROBE_NAME"
#endif

namespace {

msw_status* noop_op(const msw_exec_ctx*, const void*) { return nullptr; }

class HostProbe final : public megaswift::sdk::Optimizer {
 public:
  explicit HostProbe(std::string_view) {
    if (!MSW_HOST_HAS(register_op)) return;  // a 2.0 host: the entry is not there
    msw_custom_op op{};
    op.struct_size = sizeof(op);
    op.device_type = MSW_DEVICE_CPU;
    op.name = "host_probe.noop";
    op.summary = "does nothing (ABI test)";
    op.fn = &noop_op;
    megaswift::sdk::check(megaswift::sdk::host().register_op(&op));
  }
  int32_t state_count() const override { return 0; }
  const char* state_name(int32_t) const override { return nullptr; }
  void step(const msw_exec_ctx&, const megaswift::sdk::OptimizerStep& s) override {
    for (const auto& p : s.params) {
      float* w = megaswift::sdk::data_as<float>(p.param, MSW_DTYPE_F32, "host_probe param");
      for (int64_t j = 0; j < msw_tensor_numel(&p.param); ++j) w[j] *= static_cast<float>(1.0 - s.lr);
    }
  }
};

}  // namespace

MEGASWIFT_PLUGIN(HOST_PROBE_NAME, "1.0.0",
                 megaswift::sdk::optimizer_component<HostProbe>(HOST_PROBE_NAME, "1.0.0",
                                                                "uses register_op when the host has it (ABI test)"))

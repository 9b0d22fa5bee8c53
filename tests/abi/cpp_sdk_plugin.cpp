// A plugin written with the header-only C++ layer but its own vtable: a MEGASWIFT_PLUGIN-generated entry
// symbol (which checks the host's ABI) around trampolines written by hand with guard(), create_instance
// and OptimizerStep::read, as an author who does not derive from sdk::Optimizer would. Its step throws
// for a negative learning rate.
#include <megaswift/c/optimizer.h>
#include <megaswift/sdk/object.hpp>
#include <megaswift/sdk/optimizer.hpp>
#include <megaswift/sdk/plugin.hpp>

#include <string>
#include <string_view>

namespace {

class ScaleOptimizer {
 public:
  explicit ScaleOptimizer(std::string_view) {}
  void step(const msw_optimizer_step_args& args) {
    const auto s = megaswift::sdk::OptimizerStep::read(args, 0);
    if (s.lr < 0)
      throw megaswift::sdk::Error(MSW_STATUS_INVALID_ARGUMENT,
                                  "scale_opt: learning rate " + std::to_string(s.lr) + " is negative");
    for (const auto& p : s.params) {
      auto* w = megaswift::sdk::data_as<float>(p.param, MSW_DTYPE_F32, "scale_opt param");
      for (int64_t j = 0; j < msw_tensor_numel(&p.param); ++j) w[j] *= static_cast<float>(1.0 - s.lr);
    }
  }
};

const msw_optimizer_vtable kVtable = {
    sizeof(msw_optimizer_vtable),
    megaswift::sdk::create_instance<ScaleOptimizer>,
    megaswift::sdk::destroy_instance<ScaleOptimizer>,
    [](const void*) -> int32_t { return 0; },
    [](const void*, int32_t) -> const char* { return nullptr; },
    [](void* self, const msw_exec_ctx*, const msw_optimizer_step_args* args) noexcept -> msw_status* {
      return megaswift::sdk::guard([&] { megaswift::sdk::self_cast<ScaleOptimizer>(self).step(*args); });
    },
};

}  // namespace

MEGASWIFT_PLUGIN("scale_opt", "0.2.0",
                 megaswift::sdk::make_component(MSW_KIND_OPTIMIZER, "scale_opt", "0.2.0",
                                                "multiplies weights by (1 - lr); ABI test", &kVtable))

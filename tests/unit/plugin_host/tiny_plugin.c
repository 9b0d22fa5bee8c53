/* A healthy one-component plugin: it loads, and truncated or patched copies of its file are the bad inputs. */
#include "stub_optimizer.h"

static const msw_component components[] = {
    {sizeof(msw_component), MSW_KIND_OPTIMIZER, "tiny_opt", "0.1.0", "does nothing", &stub_optimizer_vt},
};
static const msw_plugin_desc desc = {sizeof(msw_plugin_desc), MSW_ABI_MAJOR, MSW_ABI_MINOR, "tiny_opt", "0.1.0",
                                     0, 0, components, 1, sizeof(msw_component)};

MSW_EXPORT const msw_plugin_desc* msw_plugin_entry(const msw_host_api* host, msw_status** status) {
  (void)host;
  (void)status;
  return &desc;
}

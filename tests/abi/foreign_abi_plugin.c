/* A plugin that claims to be built for the next ABI major and does not check the host itself, as a
 * plugin from a future SDK would look to this host: the host must refuse it and name both versions. */
#include <megaswift/c/optimizer.h>
#include <megaswift/c/plugin.h>

static const msw_optimizer_vtable never_called = {sizeof(msw_optimizer_vtable), 0, 0, 0, 0, 0};
static const msw_component components[] = {
    {sizeof(msw_component), MSW_KIND_OPTIMIZER, "future_opt", "9.0.0", "built for another ABI", &never_called},
};
static const msw_plugin_desc desc = {sizeof(msw_plugin_desc), MSW_ABI_MAJOR + 1, 0, "future_opt", "9.0.0",
                                     0, 0, components, 1, sizeof(msw_component)};

MSW_EXPORT const msw_plugin_desc* msw_plugin_entry(const msw_host_api* host, msw_status** status) {
  (void)host;
  (void)status;
  return &desc;
}

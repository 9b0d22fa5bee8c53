/* A plugin whose optimizer vtable lacks the required `step` entry: the host must refuse it by name. */
#include <megaswift/c/optimizer.h>
#include <megaswift/c/plugin.h>

#include <stdlib.h>

static msw_status* create(const char* config_json, void** out_self) {
  (void)config_json;
  *out_self = malloc(1);
  return NULL;
}
static void destroy(void* self) { free(self); }
static int32_t state_count(const void* self) { (void)self; return 0; }
static const char* state_name(const void* self, int32_t i) { (void)self; (void)i; return NULL; }

static const msw_optimizer_vtable vt = {sizeof(msw_optimizer_vtable), create, destroy, state_count, state_name, NULL};
static const msw_component components[] = {
    {sizeof(msw_component), MSW_KIND_OPTIMIZER, "incomplete_opt", "0.1.0", "missing step", &vt},
};
static const msw_plugin_desc desc = {sizeof(msw_plugin_desc), MSW_ABI_MAJOR, MSW_ABI_MINOR, "incomplete_opt", "0.1.0",
                                     0, 0, components, 1, sizeof(msw_component)};

MSW_EXPORT const msw_plugin_desc* msw_plugin_entry(const msw_host_api* host, msw_status** status) {
  (void)host;
  (void)status;
  return &desc;
}

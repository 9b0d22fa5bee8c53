/* A plugin as a LATER SDK (ABI 2.(MINOR+1)) would build it: its descriptor says abi_minor MINOR+1, its
 * component records and its optimizer vtable are longer than this host's (a member the host does not know
 * was appended to each), and it targets NEXT_TARGET_MINOR. Built twice (tests/abi/CMakeLists.txt):
 *   - targeting this host's minor: the host loads it, reads the records through component_size and the
 *     vtable through its struct_size, ignoring what it does not know;
 *   - targeting MINOR+1: the host refuses it, naming both versions.
 * Like a careless C plugin, its entry does not check the host itself, so the host's rule is what is tested.
 * The optimizer scales every weight by (1 - lr). */
#include <megaswift/c/optimizer.h>
#include <megaswift/c/plugin.h>

#ifndef NEXT_TARGET_MINOR
#error "define NEXT_TARGET_MINOR"
#endif
#ifndef NEXT_NAME
#error "define NEXT_NAME"
#endif

/* What the later SDK's structs look like: this host's, plus one appended member each. */
typedef struct next_optimizer_vtable {
  msw_optimizer_vtable v2_1;
  msw_status* (*future_entry)(void* self); /* a 2.(MINOR+1) entry this host does not know */
} next_optimizer_vtable;

typedef struct next_component {
  msw_component v2_1;
  const char* future_field;
} next_component;

static const msw_host_api* g_host;

static msw_status* create(const char* config_json, void** out_self) {
  (void)config_json;
  static int instance;
  *out_self = &instance;
  return NULL;
}
static void destroy(void* self) { (void)self; }
static int32_t state_count(const void* self) {
  (void)self;
  return 0;
}
static const char* state_name(const void* self, int32_t index) {
  (void)self, (void)index;
  return NULL;
}
static msw_status* step(void* self, const msw_exec_ctx* ctx, const msw_optimizer_step_args* args) {
  size_t i;
  (void)self, (void)ctx;
  for (i = 0; i < args->count; ++i) {
    const msw_optimizer_param* p = (const msw_optimizer_param*)((const char*)args->params + i * args->param_size);
    float* w = (float*)((char*)p->param.data + p->param.byte_offset);
    int64_t j, n = msw_tensor_numel(&p->param);
    if (p->param.dtype != MSW_DTYPE_F32 || p->param.device.type != MSW_DEVICE_CPU)
      return g_host->status_new(MSW_STATUS_UNSUPPORTED, "next_minor: CPU fp32 only");
    for (j = 0; j < n; ++j) w[j] *= (float)(1.0 - args->lr);
  }
  return NULL;
}
static msw_status* future_entry(void* self) {
  (void)self;
  return g_host->status_new(MSW_STATUS_INTERNAL, "next_minor: a host of this minor must not know this entry");
}

static const next_optimizer_vtable vtable = {
    {sizeof(next_optimizer_vtable), create, destroy, state_count, state_name, step}, future_entry};

static const next_component components[] = {
    {{sizeof(next_component), MSW_KIND_OPTIMIZER, NEXT_NAME, "1.0.0", "built by a later SDK (ABI test)", &vtable},
     "a member this host does not know"},
};

static const msw_plugin_desc desc = {sizeof(msw_plugin_desc), MSW_ABI_MAJOR, MSW_ABI_MINOR + 1, NEXT_NAME, "1.0.0",
                                     NEXT_TARGET_MINOR, 0, &components[0].v2_1, 1, sizeof(next_component)};

MSW_EXPORT const msw_plugin_desc* msw_plugin_entry(const msw_host_api* host, msw_status** status) {
  (void)status;
  g_host = host;
  return &desc;
}

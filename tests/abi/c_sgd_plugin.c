/* A plugin written in plain C11 against the C headers alone: an optimizer component doing plain SGD
 * (param -= lr * grad, with decoupled weight decay) on CPU fp32 tensors. It proves that the ABI
 * headers are C-clean and that a non-C++ plugin loads and runs through the host. */
#include <megaswift/c/optimizer.h>
#include <megaswift/c/plugin.h>

#include <stdlib.h>

static const msw_host_api* g_host;

typedef struct c_sgd {
  int unused;
} c_sgd;

static msw_status* c_sgd_create(const char* config_json, void** out_self) {
  (void)config_json;
  c_sgd* self = (c_sgd*)calloc(1, sizeof(c_sgd));
  if (!self) return g_host->status_new(MSW_STATUS_OUT_OF_MEMORY, "c_sgd: out of memory");
  *out_self = self;
  return NULL;
}

static void c_sgd_destroy(void* self) { free(self); }

static int32_t c_sgd_state_count(const void* self) {
  (void)self;
  return 0;
}

static const char* c_sgd_state_name(const void* self, int32_t index) {
  (void)self;
  (void)index;
  return NULL;
}

static msw_status* c_sgd_step(void* self, const msw_exec_ctx* ctx, const msw_optimizer_step_args* args) {
  (void)self;
  (void)ctx;
  for (size_t i = 0; i < args->count; ++i) {
    const msw_optimizer_param* p = &args->params[i];
    if (p->param.device.type != MSW_DEVICE_CPU || p->param.dtype != MSW_DTYPE_F32 || p->grad.dtype != MSW_DTYPE_F32)
      return g_host->status_new(MSW_STATUS_UNSUPPORTED, "c_sgd: only fp32 CPU tensors are supported");
    int64_t n = msw_tensor_numel(&p->param);
    if (msw_tensor_numel(&p->grad) != n)
      return g_host->status_new(MSW_STATUS_SHAPE_MISMATCH, "c_sgd: param and grad sizes differ");
    float* w = (float*)((char*)p->param.data + p->param.byte_offset);
    const float* g = (const float*)((const char*)p->grad.data + p->grad.byte_offset);
    float decay = p->apply_weight_decay ? (float)(args->lr * args->weight_decay) : 0.0f;
    for (int64_t j = 0; j < n; ++j) w[j] = w[j] - decay * w[j] - (float)args->lr * g[j];
  }
  return NULL;
}

static const msw_optimizer_vtable c_sgd_vtable = {
    sizeof(msw_optimizer_vtable), c_sgd_create, c_sgd_destroy, c_sgd_state_count, c_sgd_state_name, c_sgd_step};

static const msw_component c_components[] = {
    {sizeof(msw_component), MSW_KIND_OPTIMIZER, "c_sgd", "1.0.0", "plain SGD written in C (ABI test)", &c_sgd_vtable},
};

static const msw_plugin_desc c_desc = {sizeof(msw_plugin_desc), MSW_ABI_MAJOR, MSW_ABI_MINOR, "c_sgd", "1.0.0",
                                       c_components, 1};

MSW_EXPORT const msw_plugin_desc* msw_plugin_entry(const msw_host_api* host, msw_status** status) {
  int host_too_old = 0;
#if MSW_ABI_MINOR > 0 /* with minor 0 every host of this major is new enough */
  host_too_old = host->abi_minor < MSW_ABI_MINOR;
#endif
  if (host->abi_major != MSW_ABI_MAJOR || host_too_old) {
    if (status) *status = host->status_new(MSW_STATUS_VERSION_MISMATCH, "c_sgd: host ABI too old");
    return NULL;
  }
  g_host = host;
  return &c_desc;
}

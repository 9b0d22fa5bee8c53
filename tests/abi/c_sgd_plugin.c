/* A plugin written in plain C11 against the C headers alone: an optimizer component doing plain SGD
 * (param -= lr * lr_mult * (grad_scale * grad), with decoupled weight decay, skipped when found_inf is
 * set) on CPU fp32 tensors. It proves that the ABI headers are C-clean, that a non-C++ plugin loads and
 * runs through the host, and shows the reader's side of the struct_size rules by hand: the step's args
 * are read through their struct_size (grad_scale and found_inf are absent when the caller's struct
 * stops before them) and the parameter records through param_size and their own struct_size. It targets
 * minor 0 (MSW_PLUGIN_TARGET_MINOR's default), so it runs on every 2.x host. */
#include <megaswift/c/optimizer.h>
#include <megaswift/c/plugin.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const msw_host_api* g_host;
/* A variable, not the macro: "abi_minor < 0" with the default target would be a constant comparison. */
static const uint32_t k_target_minor = MSW_PLUGIN_TARGET_MINOR;

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

/* Element 0 of a CPU F32 scalar; 0 on success. */
static int cpu_f32_scalar(const msw_tensor* t, float* out) {
  if (t->device.type != MSW_DEVICE_CPU || t->dtype != MSW_DTYPE_F32 || !t->data) return -1;
  memcpy(out, (const char*)t->data + t->byte_offset, sizeof(float));
  return 0;
}

static msw_status* c_sgd_step(void* self, const msw_exec_ctx* ctx, const msw_optimizer_step_args* args) {
  (void)self;
  (void)ctx;
  float grad_scale = 1.0f, found_inf = 0.0f;
  size_t i;
  if (args->struct_size < offsetof(msw_optimizer_step_args, param_size) + sizeof(size_t))
    return g_host->status_new(MSW_STATUS_INVALID_ARGUMENT, "c_sgd: the step's args are too short");
  /* Members past the caller's struct_size are absent, whatever the memory there holds. */
  if (MSW_HAS_MEMBER(args, msw_optimizer_step_args, found_inf) && !msw_tensor_is_absent(&args->found_inf) &&
      cpu_f32_scalar(&args->found_inf, &found_inf) != 0)
    return g_host->status_new(MSW_STATUS_UNSUPPORTED, "c_sgd: found_inf must be a CPU fp32 scalar");
  if (found_inf != 0.0f) return NULL; /* an overflowed fp16 step changes nothing */
  if (MSW_HAS_MEMBER(args, msw_optimizer_step_args, grad_scale) && !msw_tensor_is_absent(&args->grad_scale) &&
      cpu_f32_scalar(&args->grad_scale, &grad_scale) != 0)
    return g_host->status_new(MSW_STATUS_UNSUPPORTED, "c_sgd: grad_scale must be a CPU fp32 scalar");

  for (i = 0; i < args->count; ++i) {
    /* The record as this plugin knows it: at most param_size and its own struct_size, the rest zero. */
    const char* at = (const char*)args->params + i * args->param_size;
    msw_optimizer_param p;
    uint32_t record_size;
    size_t n;
    memcpy(&record_size, at, sizeof(record_size));
    n = record_size < args->param_size ? record_size : args->param_size;
    if (n > sizeof(p)) n = sizeof(p);
    if (n < offsetof(msw_optimizer_param, grad) + sizeof(msw_tensor))
      return g_host->status_new(MSW_STATUS_INVALID_ARGUMENT, "c_sgd: a parameter record is too short");
    memset(&p, 0, sizeof(p));
    memcpy(&p, at, n);
    if (p.param.device.type != MSW_DEVICE_CPU || p.param.dtype != MSW_DTYPE_F32 || p.grad.dtype != MSW_DTYPE_F32)
      return g_host->status_new(MSW_STATUS_UNSUPPORTED, "c_sgd: only fp32 CPU tensors are supported");
    {
      int64_t count = msw_tensor_numel(&p.param), j;
      float* w = (float*)((char*)p.param.data + p.param.byte_offset);
      const float* g = (const float*)((const char*)p.grad.data + p.grad.byte_offset);
      float lr = (float)(args->lr * (p.lr_mult != 0 ? p.lr_mult : 1.0));
      float decay = p.apply_weight_decay ? (float)(lr * args->weight_decay) : 0.0f;
      if (msw_tensor_numel(&p.grad) != count) {
        char message[128];
        snprintf(message, sizeof message, "c_sgd: parameter %zu: param and grad sizes differ", i);
        return g_host->status_new(MSW_STATUS_SHAPE_MISMATCH, message);
      }
      for (j = 0; j < count; ++j) w[j] = w[j] - decay * w[j] - lr * grad_scale * g[j];
    }
  }
  return NULL;
}

static const msw_optimizer_vtable c_sgd_vtable = {
    sizeof(msw_optimizer_vtable), c_sgd_create, c_sgd_destroy, c_sgd_state_count, c_sgd_state_name, c_sgd_step};

static const msw_component c_components[] = {
    {sizeof(msw_component), MSW_KIND_OPTIMIZER, "c_sgd", "1.0.0", "plain SGD written in C (ABI test)", &c_sgd_vtable},
};

static const msw_plugin_desc c_desc = {sizeof(msw_plugin_desc), MSW_ABI_MAJOR, MSW_ABI_MINOR, "c_sgd", "1.0.0",
                                       MSW_PLUGIN_TARGET_MINOR, 0, c_components, 1, sizeof(msw_component)};

MSW_EXPORT const msw_plugin_desc* msw_plugin_entry(const msw_host_api* host, msw_status** status) {
  /* The version rule: same major, and a host minor at least the one this plugin targets. */
  if (host->abi_major != MSW_ABI_MAJOR || host->abi_minor < k_target_minor) {
    if (status) {
      char message[200];
      snprintf(message, sizeof message, "c_sgd targets Megaswift ABI %d.%d but the host provides ABI %u.%u",
               MSW_ABI_MAJOR, MSW_PLUGIN_TARGET_MINOR, host->abi_major, host->abi_minor);
      *status = host->status_new(MSW_STATUS_VERSION_MISMATCH, message);
    }
    return NULL;
  }
  g_host = host;
  return &c_desc;
}

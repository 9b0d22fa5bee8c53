/* A plugin as it looks when compiled against the ABI 2.0 headers, for the host of a later minor: its
 * descriptor says abi_minor 0, its model vtable ends before layer_decode (the 2.1 member) and the
 * attention args it hands the host's ops table end before window_left and softcap (2.1 members). The
 * memory past each struct_size holds values a careless reader would pick up (a layer_decode pointer, a
 * window of 1 token): the host must read those members as absent. The model is a test model, not a
 * transformer: its one layer is causal self-attention of the input with itself (q = k = v = x viewed as
 * (S, B, 2 heads, H / 2)), the only entry the tests call; its other compute entries are UNSUPPORTED. */
#include <megaswift/c/model.h>
#include <megaswift/c/ops.h>
#include <megaswift/c/plugin.h>

#include "abi_2_0.h"

#include <stdlib.h>
#include <string.h>

#define OLD_HEADS 2

static const msw_host_api* g_host;

static msw_status* fail(int32_t code, const char* message) { return g_host->status_new(code, message); }

static const char* const k_types[] = {"abi_test_2_0", NULL};
static const char* const* old_types(void) { return k_types; }

/* MSW buffer protocol for a fixed text. */
static msw_status* write_text(const char* text, char* out, size_t capacity, size_t* needed) {
  size_t n = strlen(text) + 1;
  if (!needed) return fail(MSW_STATUS_INVALID_ARGUMENT, "old_model: needed is NULL");
  if (n <= capacity) memcpy(out, text, n);
  *needed = n;
  return NULL;
}

static const char k_config[] = "{\"num_layers\": 1, \"hidden_size\": 8}";

static msw_status* old_config_from_hf(const char* hf, char* out, size_t capacity, size_t* needed) {
  (void)hf;
  return write_text(k_config, out, capacity, needed);
}
static msw_status* old_create(const char* config, void** out_self) {
  (void)config;
  *out_self = calloc(1, 1);
  return *out_self ? NULL : fail(MSW_STATUS_OUT_OF_MEMORY, "old_model: out of memory");
}
static void old_destroy(void* self) { free(self); }
/* The caller's record: only the members its struct_size covers are written. */
static msw_status* old_describe(const void* self, msw_model_info* out) {
  (void)self;
  if (MSW_HAS_MEMBER(out, msw_model_info, num_layers)) out->num_layers = 1;
  if (MSW_HAS_MEMBER(out, msw_model_info, hidden_size)) out->hidden_size = 8;
  if (MSW_HAS_MEMBER(out, msw_model_info, activation_dtype)) out->activation_dtype = MSW_DTYPE_F32;
  return NULL;
}
static msw_status* old_capabilities(const void* self, msw_model_caps* out) {
  (void)self;
  if (MSW_HAS_MEMBER(out, msw_model_caps, activation_dtypes)) out->activation_dtypes = 1u << MSW_DTYPE_F32;
  return NULL;
}
static msw_status* old_config_json(const void* self, char* out, size_t capacity, size_t* needed) {
  (void)self;
  return write_text(k_config, out, capacity, needed);
}
static int64_t old_param_count(const void* self) {
  (void)self;
  return 0;
}
static msw_status* old_param_info(const void* self, int64_t index, msw_param_info* out) {
  (void)self, (void)index, (void)out;
  return fail(MSW_STATUS_NOT_FOUND, "old_model has no parameters");
}
static msw_status* old_hf_mapping(const void* self, int64_t index, msw_hf_mapping* out) {
  (void)self, (void)index, (void)out;
  return fail(MSW_STATUS_NOT_FOUND, "old_model has no HF tensors");
}
static msw_status* old_hf_to_megatron(const void* self, int64_t i, const msw_tensor* hf, size_t n, const msw_tensor* o) {
  (void)self, (void)i, (void)hf, (void)n, (void)o;
  return fail(MSW_STATUS_NOT_FOUND, "old_model has no HF tensors");
}
static msw_status* old_megatron_to_hf(const void* self, int64_t i, const msw_tensor* m, const msw_tensor* hf, size_t n) {
  (void)self, (void)i, (void)m, (void)hf, (void)n;
  return fail(MSW_STATUS_NOT_FOUND, "old_model has no HF tensors");
}
static msw_status* old_memory(const void* self, const msw_model_memory_args* args, msw_model_memory* out) {
  (void)self, (void)args;
  if (MSW_HAS_MEMBER(out, msw_model_memory, workspace)) out->workspace = 0;
  return NULL;
}
static msw_status* old_unsupported(void* self, const msw_exec_ctx* ctx, const msw_model_call* call) {
  (void)self, (void)ctx, (void)call;
  return fail(MSW_STATUS_UNSUPPORTED, "old_model computes only layer_forward (an ABI test model)");
}

/* (S, B, H) seen as (S, B, OLD_HEADS, H / OLD_HEADS). */
static msw_tensor heads_view(const msw_tensor* x) {
  msw_tensor t = *x;
  int64_t shape[4] = {x->shape[0], x->shape[1], OLD_HEADS, x->shape[2] / OLD_HEADS};
  msw_tensor_set_dense_shape(&t, 4, shape);
  return t;
}

/* output = causal attention(x, x, x); lse goes to the workspace (F32, S x B x heads). Calls the host's ops
 * table with attention args of the 2.0 size. */
static msw_status* old_layer_forward(void* self, const msw_exec_ctx* ctx, const msw_model_call* call) {
  msw_attention_args a;
  int64_t lse_shape[3];
  (void)self;
  if (call->input.ndim != 3 || call->input.shape[2] % OLD_HEADS != 0)
    return fail(MSW_STATUS_SHAPE_MISMATCH, "old_model: input must be (S, B, H) with H divisible by 2");
  memset(&a, 0, sizeof a);
  a.struct_size = (uint32_t)MSW_2_0_ATTENTION_ARGS_SIZE;
  a.layout = MSW_ATTN_SBHD;
  a.causal = 1;
  a.q = heads_view(&call->input);
  a.k = a.q;
  a.v = a.q;
  a.out = heads_view(&call->output);
  a.lse = call->workspace;
  a.lse.dtype = MSW_DTYPE_F32;
  lse_shape[0] = call->input.shape[0];
  lse_shape[1] = call->input.shape[1];
  lse_shape[2] = OLD_HEADS;
  msw_tensor_set_dense_shape(&a.lse, 3, lse_shape);
  a.scale = 0.5;
  /* Stale bytes past struct_size, as a 2.0 caller's stack could hold: a 2.1 window of one token. */
  a.window_left = 1;
  return g_host->ops->attention_forward(ctx, &a);
}

static msw_status* old_layer_decode(void* self, const msw_exec_ctx* ctx, const msw_model_call* call) {
  (void)self, (void)ctx, (void)call;
  return fail(MSW_STATUS_INTERNAL, "old_model: layer_decode lies past the vtable's 2.0 struct_size and must not be called");
}

/* A full 2.1-sized struct whose struct_size says 2.0: layer_decode is set but not part of the vtable. */
static const msw_model_vtable old_vtable = {
    (uint32_t)MSW_2_0_MODEL_VTABLE_SIZE,
    old_types,
    old_config_from_hf,
    old_create,
    old_destroy,
    old_describe,
    old_capabilities,
    old_config_json,
    NULL, /* config_to_hf: optional */
    old_param_count,
    old_param_info,
    old_param_count, /* hf_mapping_count */
    old_hf_mapping,
    old_hf_to_megatron,
    old_megatron_to_hf,
    old_memory,
    old_unsupported, /* embedding_forward */
    old_unsupported, /* embedding_backward */
    old_layer_forward,
    old_unsupported, /* layer_backward */
    old_unsupported, /* head_forward */
    old_unsupported, /* head_backward */
    old_layer_decode};

static const msw_component components[] = {
    {sizeof(msw_component), MSW_KIND_MODEL, "old_model", "2.0.0", "a plugin built against ABI 2.0 (ABI test)", &old_vtable},
};

static const msw_plugin_desc desc = {sizeof(msw_plugin_desc), MSW_ABI_MAJOR, 0, "old_minor", "2.0.0",
                                     0, 0, components, 1, sizeof(msw_component)};

MSW_EXPORT const msw_plugin_desc* msw_plugin_entry(const msw_host_api* host, msw_status** status) {
  if (host->abi_major != MSW_ABI_MAJOR) {
    if (status) *status = host->status_new(MSW_STATUS_VERSION_MISMATCH, "old_minor: another ABI major");
    return NULL;
  }
  g_host = host;
  return &desc;
}

/* Model plugins (kind MSW_KIND_MODEL), chosen by the `model_type` of an HF config.json.
 *
 * A model plugin has three parts (DESIGN.md section 5):
 *   1. configuration: it declares the HF model_type values it serves and turns an HF config.json into the
 *      transformer config, a JSON object with Megatron's argument names (num_layers, hidden_size,
 *      ffn_hidden_size, num_attention_heads, num_query_groups, kv_channels, rotary_base, rope_scaling,
 *      norm_epsilon, padded_vocab_size, untie_embeddings_and_output_weights, add_qkv_bias, qk_layernorm, ...).
 *      An instance is created from that transformer config.
 *   2. parameters: the table of Megatron-named parameters (global shapes, tensor-parallel split, init rule,
 *      weight-decay flag) and the mapping to and from HF tensor names and layouts.
 *   3. compute: forward and backward of the embedding, of ONE decoder layer, and of the head with the loss,
 *      on descriptors through msw_host_api.ops. The host owns the layer loop, so it can place layers on
 *      pipeline stages, recompute them and overlap communication.
 *
 * Memory (the choice this ABI makes): the plugin DECLARES sizes and the HOST allocates. memory() reports, for
 * a batch shape, the bytes each part keeps from forward to backward ("saved") and the scratch bytes any
 * single compute call needs ("workspace"). The host allocates one saved buffer per part invocation (one per
 * layer), hands it to forward, keeps it until the matching backward, and frees it; the workspace is shared
 * by all calls. So no allocation crosses the boundary, the host knows the whole step's footprint before it
 * starts, and recomputation is the host calling forward again into the same saved buffer. Buffers are U8
 * tensors on ctx->device, aligned to 256 bytes.
 *
 * Parameters per call: every compute entry receives `params`, the part's parameters in parameter-table order
 * (the entries whose `parts` mask includes the part, and for a layer those of that layer), and `grads`
 * laid out the same way, or NULL when no parameter gradient is wanted. Parameter gradients ACCUMULATE (+=):
 * micro-batches add up, and a tied word embedding, listed for both EMBEDDING and HEAD, receives the sum of
 * both uses when the host passes the same gradient buffer to both. Activation gradients are WRITTEN.
 *
 * Activations: hidden states are (B, S, H) tensors of msw_model_info.activation_dtype owned by the host.
 *
 * Threading: calls on one instance never overlap; different instances are independent.
 */
#ifndef MEGASWIFT_C_MODEL_H
#define MEGASWIFT_C_MODEL_H

#include <stddef.h>
#include <stdint.h>

#include "abi.h"
#include "host.h"
#include "tensor.h"

MSW_EXTERN_C_BEGIN

#define MSW_MODEL_MAX_HF_TENSORS 4

/* The parts of a model; a parameter's `parts` mask is a bit-or of (1u << part). */
typedef enum msw_model_part {
  MSW_MODEL_PART_EMBEDDING = 0,
  MSW_MODEL_PART_LAYER = 1,
  MSW_MODEL_PART_HEAD = 2
} msw_model_part;

/* How the host initialises a parameter when training from scratch (Megatron's rules). */
typedef enum msw_param_init {
  MSW_INIT_NORMAL = 0, /* normal(0, init_std): weights; output projections get init_std / sqrt(2 * num_layers) */
  MSW_INIT_ONES = 1,   /* norm weights */
  MSW_INIT_ZEROS = 2   /* biases */
} msw_param_init;

/* How a parameter is split across tensor-parallel ranks along tp_split_dim. */
typedef enum msw_tp_split {
  MSW_TP_REPLICATED = 0, /* every rank holds all of it (norms) */
  MSW_TP_CONTIGUOUS = 1, /* rank r holds the r-th contiguous chunk of tp_split_dim */
  MSW_TP_GLU = 2         /* [gate; up] on dim 0: rank r holds [gate_r; up_r] (linear_fc1 of a gated MLP) */
} msw_tp_split;

typedef struct msw_param_info {
  const char* name;             /* Megatron name, e.g. "decoder.layers.0.self_attention.linear_qkv.weight";
                                   owned by the instance, valid until destroy */
  int32_t ndim;
  int32_t tp_split;             /* msw_tp_split */
  int64_t shape[MSW_MAX_DIMS];  /* global (TP = 1) shape; entries past ndim are 0 */
  int32_t tp_split_dim;         /* dimension split by TP; -1 when replicated */
  int32_t layer;                /* decoder layer index for LAYER parameters, -1 otherwise */
  uint32_t parts;               /* bit-or of (1u << msw_model_part): the parts whose calls receive it */
  int32_t init;                 /* msw_param_init */
  double init_std;              /* standard deviation for MSW_INIT_NORMAL, already scaled */
  int32_t weight_decay;         /* 1: apply weight decay (matrices); 0: norms and biases, as Megatron */
  int32_t reserved0;
} msw_param_info;

/* Layout transforms between HF tensors and one Megatron parameter. */
typedef enum msw_hf_transform {
  MSW_HF_IDENTITY = 0, /* one HF tensor, same shape */
  MSW_HF_QKV = 1,      /* q, k, v (weights or biases) interleaved per query group into linear_qkv */
  MSW_HF_GLU = 2,      /* gate, up concatenated on dim 0 into linear_fc1 */
  MSW_HF_PAD_ROWS = 3  /* one HF tensor (V, ...) padded with zero rows to (padded V, ...); export drops them */
} msw_hf_transform;

typedef struct msw_hf_mapping {
  const char* megatron_name;                               /* owned by the instance, valid until destroy */
  int32_t transform;                                       /* msw_hf_transform */
  int32_t num_hf;                                          /* 1..MSW_MODEL_MAX_HF_TENSORS */
  const char* hf_names[MSW_MODEL_MAX_HF_TENSORS];          /* owned by the instance */
  int32_t hf_ndim[MSW_MODEL_MAX_HF_TENSORS];
  int64_t hf_shape[MSW_MODEL_MAX_HF_TENSORS][MSW_MAX_DIMS];
} msw_hf_mapping;

typedef struct msw_model_info {
  uint32_t struct_size;
  int32_t activation_dtype;        /* msw_dtype of hidden states */
  int64_t num_layers;
  int64_t hidden_size;
  int64_t vocab_size;              /* the tokenizer's (HF config's) vocabulary */
  int64_t padded_vocab_size;       /* rows of the embedding and output layer (>= vocab_size) */
  int64_t max_position_embeddings;
} msw_model_info;

typedef struct msw_model_shape {
  uint32_t struct_size;
  int32_t reserved0;
  int64_t batch_size;
  int64_t seq_len;
} msw_model_shape;

/* Bytes, for one batch shape. */
typedef struct msw_model_memory {
  uint32_t struct_size;
  int32_t reserved0;
  uint64_t embedding_saved;  /* kept from embedding_forward to embedding_backward */
  uint64_t layer_saved;      /* kept from layer_forward to layer_backward, per layer */
  uint64_t head_saved;       /* kept from head_forward to head_backward */
  uint64_t workspace;        /* scratch of any single compute call */
} msw_model_memory;

/* One micro-batch. Tensors are on ctx->device. */
typedef struct msw_model_batch {
  uint32_t struct_size;
  int32_t reserved0;
  int64_t batch_size;
  int64_t seq_len;
  msw_tensor input_ids;     /* I64 (B, S) */
  msw_tensor position_ids;  /* I64 (B, S), or data == NULL for 0..S-1 in every row */
  msw_tensor labels;        /* I64 (B, S) aligned with the positions: labels[b, t] is the token after position t
                               (the caller shifts, as Megatron and ms-swift do); -100 = no loss. data == NULL
                               when no loss is wanted (inference) */
} msw_model_batch;

typedef struct msw_model_loss {
  double loss_sum;      /* sum of the per-token cross-entropy over counted tokens */
  int64_t token_count;  /* tokens whose label is not -100 */
} msw_model_loss;

typedef struct msw_model_vtable {
  uint32_t struct_size;

  /* ---- part 1: configuration ---- */
  /* REQUIRED. The HF model_type values this component serves, a NULL-terminated static array. */
  const char* const* (*hf_model_types)(void);
  /* REQUIRED. Converts an HF config.json (JSON text) into the transformer config (JSON text). Buffer protocol:
   * *needed receives the size including the terminating NUL; when out is NULL or capacity < *needed nothing
   * is written and the call succeeds, so the caller retries with a larger buffer. A missing or invalid field
   * is an INVALID_ARGUMENT naming the field. */
  msw_status* (*config_from_hf)(const char* hf_config_json, char* out, size_t capacity, size_t* needed);
  /* REQUIRED. Creates an instance from a transformer config (as config_from_hf writes it; host-side
   * settings such as recompute_granularity may be added). The caller owns the instance until destroy. */
  msw_status* (*create)(const char* config_json, void** out_self);
  /* REQUIRED. */
  void (*destroy)(void* self);
  /* REQUIRED. Sizes the host needs for its loop. */
  msw_status* (*describe)(const void* self, msw_model_info* out);
  /* REQUIRED. The instance's transformer config with every default filled in (what checkpoints record);
   * owned by the instance, valid until destroy. */
  const char* (*config_json)(const void* self);
  /* OPTIONAL. The HF config.json that describes this instance (export to HF); buffer protocol as
   * config_from_hf. */
  msw_status* (*config_to_hf)(const void* self, char* out, size_t capacity, size_t* needed);

  /* ---- part 2: parameters ---- */
  /* REQUIRED. Number of parameters; the table order is the order of `params` arrays in compute calls. */
  int64_t (*param_count)(const void* self);
  /* REQUIRED. Entry `index` of the table; strings owned by the instance, valid until destroy. */
  msw_status* (*param_info)(const void* self, int64_t index, msw_param_info* out);
  /* REQUIRED. Number of HF mapping records (one per Megatron parameter that exists in HF checkpoints). */
  int64_t (*hf_mapping_count)(const void* self);
  /* REQUIRED. Record `index`; strings owned by the instance, valid until destroy. */
  msw_status* (*hf_mapping)(const void* self, int64_t index, msw_hf_mapping* out);
  /* REQUIRED. Builds Megatron parameter `out` (the record's global shape) from the record's num_hf HF tensors
   * `hf` (in hf_names order). CPU, contiguous, one dtype for all; bytes are moved, never converted, so the
   * round trip is exact. */
  msw_status* (*hf_to_megatron)(const void* self, int64_t mapping_index, const msw_tensor* hf, const msw_tensor* out);
  /* REQUIRED. The inverse: fills the num_hf tensors `hf` from Megatron parameter `megatron`. */
  msw_status* (*megatron_to_hf)(const void* self, int64_t mapping_index, const msw_tensor* megatron,
                                const msw_tensor* hf);

  /* ---- part 3: compute ---- */
  /* REQUIRED. Saved and workspace bytes for a batch shape. */
  msw_status* (*memory)(const void* self, const msw_model_shape* shape, msw_model_memory* out);
  /* REQUIRED. hidden (B, S, H) written from batch->input_ids. */
  msw_status* (*embedding_forward)(void* self, const msw_exec_ctx* ctx, const msw_model_batch* batch,
                                   const msw_tensor* params, const msw_tensor* saved, const msw_tensor* workspace,
                                   const msw_tensor* hidden);
  /* REQUIRED. grads += d/dparams given d_hidden (B, S, H). */
  msw_status* (*embedding_backward)(void* self, const msw_exec_ctx* ctx, const msw_model_batch* batch,
                                    const msw_tensor* params, const msw_tensor* saved, const msw_tensor* workspace,
                                    const msw_tensor* d_hidden, const msw_tensor* grads);
  /* REQUIRED. y = layer(x) for decoder layer `layer`; x and y (B, S, H) must not alias. */
  msw_status* (*layer_forward)(void* self, const msw_exec_ctx* ctx, int64_t layer, const msw_model_batch* batch,
                               const msw_tensor* params, const msw_tensor* x, const msw_tensor* saved,
                               const msw_tensor* workspace, const msw_tensor* y);
  /* REQUIRED. dx written from dy; grads accumulate. x is the same input forward saw (the host keeps it);
   * saved is what that forward wrote. dx may alias dy. */
  msw_status* (*layer_backward)(void* self, const msw_exec_ctx* ctx, int64_t layer, const msw_model_batch* batch,
                                const msw_tensor* params, const msw_tensor* x, const msw_tensor* saved,
                                const msw_tensor* workspace, const msw_tensor* dy, const msw_tensor* dx,
                                const msw_tensor* grads);
  /* REQUIRED. Final norm, output layer and loss. logits: (B, S, padded V) F32 to receive the logits, or NULL.
   * loss: filled when batch->labels.data is set (else zeros). */
  msw_status* (*head_forward)(void* self, const msw_exec_ctx* ctx, const msw_model_batch* batch,
                              const msw_tensor* params, const msw_tensor* hidden, const msw_tensor* saved,
                              const msw_tensor* workspace, const msw_tensor* logits, msw_model_loss* loss);
  /* REQUIRED. d_hidden written; loss_scale is d objective / d loss_sum (1/token_count for the mean loss). */
  msw_status* (*head_backward)(void* self, const msw_exec_ctx* ctx, const msw_model_batch* batch,
                               const msw_tensor* params, const msw_tensor* hidden, const msw_tensor* saved,
                               const msw_tensor* workspace, double loss_scale, const msw_tensor* d_hidden,
                               const msw_tensor* grads);
} msw_model_vtable;

static inline const char* msw_model_vtable_missing_required(const msw_model_vtable* vt) {
  if (!vt->hf_model_types) return "hf_model_types";
  if (!vt->config_from_hf) return "config_from_hf";
  if (!vt->create) return "create";
  if (!vt->destroy) return "destroy";
  if (!vt->describe) return "describe";
  if (!vt->config_json) return "config_json";
  if (!vt->param_count) return "param_count";
  if (!vt->param_info) return "param_info";
  if (!vt->hf_mapping_count) return "hf_mapping_count";
  if (!vt->hf_mapping) return "hf_mapping";
  if (!vt->hf_to_megatron) return "hf_to_megatron";
  if (!vt->megatron_to_hf) return "megatron_to_hf";
  if (!vt->memory) return "memory";
  if (!vt->embedding_forward) return "embedding_forward";
  if (!vt->embedding_backward) return "embedding_backward";
  if (!vt->layer_forward) return "layer_forward";
  if (!vt->layer_backward) return "layer_backward";
  if (!vt->head_forward) return "head_forward";
  if (!vt->head_backward) return "head_backward";
  return 0;
}

MSW_EXTERN_C_END

#endif /* MEGASWIFT_C_MODEL_H */

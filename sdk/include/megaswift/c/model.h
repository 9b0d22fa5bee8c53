/* Model plugins (kind MSW_KIND_MODEL), chosen by the `model_type` of an HF config.json.
 *
 * A model plugin has three parts (DESIGN.md section 5):
 *   1. configuration: it declares the HF model_type values it serves and turns an HF config.json into the
 *      transformer config, a JSON object with Megatron's argument names (num_layers, hidden_size,
 *      ffn_hidden_size, num_attention_heads, num_query_groups, kv_channels, rotary_base, rope_scaling,
 *      norm_epsilon, padded_vocab_size, untie_embeddings_and_output_weights, add_qkv_bias, qk_layernorm, ...).
 *      An instance is created from that transformer config. It also declares its CAPABILITIES (which
 *      parallel layouts, batch layouts, recompute modes, dtypes and decoding it can run); the host refuses a
 *      run that needs one it lacks, naming the plugin and the capability, instead of computing wrong results.
 *   2. parameters: the table of Megatron-named parameters (global shapes, tensor-parallel split, init rule,
 *      weight-decay flag, whether it trains) and the mapping to and from HF tensor names and layouts.
 *   3. compute: forward and backward of the embedding, of ONE decoder layer, and of the head with the loss,
 *      and the decode step of one layer with a KV cache, on descriptors through msw_host_api.ops. The host
 *      owns the layer loop, so it can place layers on pipeline stages, recompute them and overlap
 *      communication.
 *
 * Memory (the choice this ABI makes): the plugin DECLARES sizes and the HOST allocates. memory() reports, for
 * a batch shape, the bytes each part keeps from forward to backward ("saved", per layer: layers may differ)
 * and the scratch bytes any single compute call needs ("workspace"), and the KV-cache bytes per token of each
 * layer. The host allocates one saved buffer per part invocation, hands it to forward, keeps it until the
 * matching backward, and frees it; the workspace is shared by all calls. So no allocation crosses the
 * boundary, the host knows the whole step's footprint before it starts (and can balance pipeline stages by
 * it), and recomputation is the host calling forward again into the same saved buffer. Buffers are U8
 * tensors on ctx->device, aligned to 256 bytes.
 *
 * Parameters per call: every compute entry receives `params` (count entries), the part's parameters in
 * parameter-table order (the entries whose `parts` mask includes the part, and for a layer those of that
 * layer), and `grads` laid out the same way, or absent (count 0) when no parameter gradient is wanted. A
 * grads entry that is absent (zeroed) is a FROZEN parameter: its gradient is not computed (the requires-grad
 * mask: frozen layers, LoRA's base weights). Parameter gradients ACCUMULATE (+=): micro-batches add up, and
 * a tied word embedding, listed for both EMBEDDING and HEAD, receives the sum of both uses when the host
 * passes the same gradient buffer to both. Activation gradients are WRITTEN.
 *
 * Activations: hidden states are [S, B, H] tensors of msw_model_info.activation_dtype owned by the host,
 * sequence first as in Megatron-Core (sequence and context parallelism split S, which is contiguous only in
 * this layout). A packed batch (THD, ms-swift's padding-free training) is [T, 1, H]: the rows of several
 * sequences one after the other, with their boundaries in cu_seqlens. Token tensors (input_ids, labels,
 * position_ids) are [B, S] as Megatron's data loader makes them.
 *
 * Scalars (the loss sum, the token count, aux losses) are written to device tensors (host.h), so a step
 * runs without a host synchronisation.
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
  MSW_INIT_ZEROS = 2   /* biases, zero-centred norm weights */
} msw_param_init;

/* How a parameter is split across tensor-parallel ranks along tp_split_dim. */
typedef enum msw_tp_split {
  MSW_TP_REPLICATED = 0, /* every rank holds all of it (norms) */
  MSW_TP_CONTIGUOUS = 1, /* rank r holds the r-th contiguous chunk of tp_split_dim */
  MSW_TP_GLU = 2         /* [gate; up] on dim 0: rank r holds [gate_r; up_r] (linear_fc1 of a gated MLP) */
} msw_tp_split;

/* One entry of the parameter table (a record). */
typedef struct msw_param_info {
  uint32_t struct_size;
  int32_t ndim;
  const char* name;             /* Megatron name, e.g. "decoder.layers.0.self_attention.linear_qkv.weight";
                                   owned by the instance, valid until destroy */
  int64_t shape[MSW_MAX_DIMS];  /* global (TP = 1) shape; entries past ndim are 0 */
  int32_t tp_split;             /* msw_tp_split */
  int32_t tp_split_dim;         /* dimension split by TP; -1 when replicated */
  int32_t layer;                /* decoder layer index for LAYER parameters, -1 otherwise */
  uint32_t parts;               /* bit-or of (1u << msw_model_part): the parts whose calls receive it */
  int32_t init;                 /* msw_param_init */
  int32_t weight_decay;         /* 1: apply weight decay (matrices); 0: norms and biases, as Megatron */
  double init_std;              /* standard deviation for MSW_INIT_NORMAL, already scaled */
  int32_t requires_grad;        /* 1: trained; 0: frozen by the plugin (the host may freeze more) */
  int32_t expert;               /* expert index of an MoE expert parameter, -1 otherwise */
} msw_param_info;

/* Layout transforms between HF tensors and one Megatron parameter. */
typedef enum msw_hf_transform {
  MSW_HF_IDENTITY = 0, /* one HF tensor, same shape */
  MSW_HF_QKV = 1,      /* q, k, v (weights or biases) interleaved per query group into linear_qkv */
  MSW_HF_GLU = 2,      /* gate, up concatenated on dim 0 into linear_fc1 */
  MSW_HF_PAD_ROWS = 3, /* one HF tensor (V, ...) padded with zero rows to (padded V, ...); export drops them */
  MSW_HF_CONCAT = 4,   /* N tensors concatenated on dim 0 in order (grouped MoE experts: 2 x experts) */
  MSW_HF_PLUGIN = 5    /* a layout only the plugin knows: the host calls hf_to_megatron/megatron_to_hf */
} msw_hf_transform;

/* One HF tensor of a mapping (a record). */
typedef struct msw_hf_tensor {
  uint32_t struct_size;
  int32_t ndim;
  const char* name;             /* owned by the instance */
  int64_t shape[MSW_MAX_DIMS];
} msw_hf_tensor;

/* How one Megatron parameter is made of HF tensors (a record). */
typedef struct msw_hf_mapping {
  uint32_t struct_size;
  int32_t transform;                 /* msw_hf_transform */
  const char* megatron_name;         /* owned by the instance, valid until destroy */
  const msw_hf_tensor* hf;           /* hf_count records of hf_elem_size bytes, owned by the instance */
  size_t hf_count;
  size_t hf_elem_size;
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

/* Capability bits (msw_model_caps.flags). */
enum {
  MSW_CAP_TENSOR_PARALLEL = 1u << 0,      /* runs with TP > 1 on its tp_comm shards */
  MSW_CAP_SEQUENCE_PARALLEL = 1u << 1,    /* runs with --sequence_parallel (S split across tp_comm) */
  MSW_CAP_CONTEXT_PARALLEL = 1u << 2,     /* runs with CP > 1: attention over every CP chunk (ring) */
  MSW_CAP_PIPELINE_PARALLEL = 1u << 3,    /* any layer range on a stage; embedding/head on first/last */
  MSW_CAP_PACKED_SEQUENCES = 1u << 4,     /* THD batches with cu_seqlens (--padding_free, --packing) */
  MSW_CAP_RECOMPUTE_SELECTIVE = 1u << 5,  /* --recompute_granularity selective */
  MSW_CAP_RECOMPUTE_FULL = 1u << 6,       /* forward may be called again into the same saved buffer */
  MSW_CAP_DECODE = 1u << 7,               /* layer_decode with a KV cache (swift infer) */
  MSW_CAP_EXPERT_PARALLEL = 1u << 8       /* MoE layers with EP > 1 */
};

/* What an instance can run. A record. */
typedef struct msw_model_caps {
  uint32_t struct_size;
  uint32_t reserved0;
  uint64_t flags;                  /* MSW_CAP_* */
  uint64_t activation_dtypes;      /* bit-or of (1 << msw_dtype) the compute entries accept */
  int64_t max_tensor_parallel;     /* largest TP size (0: any that divides the heads and the vocabulary) */
  int64_t max_context_parallel;    /* 0: any */
} msw_model_caps;

/* The shape of one micro-batch, for memory(). A record. */
typedef struct msw_model_shape {
  uint32_t struct_size;
  int32_t packed;                  /* 1: THD (batch_size 1, seq_len = total tokens) */
  int64_t batch_size;              /* B */
  int64_t seq_len;                 /* this rank's S (after the CP split) */
  int64_t max_seqlen;              /* packed: the longest sequence; 0 = seq_len */
} msw_model_shape;

/* Bytes, for one batch shape; filled by memory(). */
typedef struct msw_model_memory {
  uint32_t struct_size;
  int32_t reserved0;
  uint64_t embedding_saved;        /* kept from embedding_forward to embedding_backward */
  uint64_t head_saved;             /* kept from head_forward to head_backward */
  uint64_t workspace;              /* scratch of any single compute call */
  /* Per layer, layer_count entries provided by the host (num_layers): kept from layer_forward to
   * layer_backward, and the KV-cache bytes per token of that layer (0 when it keeps none). */
  uint64_t* layer_saved;
  uint64_t* kv_bytes_per_token;
  size_t layer_count;
} msw_model_memory;

/* One micro-batch. Tensors are on ctx->device. A record. */
typedef struct msw_model_batch {
  uint32_t struct_size;
  int32_t packed;           /* 1: THD: batch_size 1, the sequences of cu_seqlens one after the other */
  int64_t batch_size;       /* B */
  int64_t seq_len;          /* S on this rank (after the CP split) */
  msw_tensor input_ids;     /* I64 [B, S] */
  msw_tensor position_ids;  /* I64 [B, S], or absent for 0..S-1 in every row (packed: restarting at 0 in
                               each sequence, derived from cu_seqlens) */
  msw_tensor labels;        /* I64 [B, S] aligned with the positions: labels[b, t] is the token after position t
                               (the caller shifts, as Megatron and ms-swift do); -100 = no loss. Absent when
                               no loss is wanted (inference) */
  msw_tensor cu_seqlens;    /* packed: I32 (N+1) on the device, cumulative sequence starts on THIS rank */
  int64_t num_sequences;    /* packed: N */
  int64_t max_seqlen;       /* packed: the longest sequence on this rank */
  /* Context parallelism: this rank holds chunks of the global sequence (Megatron's load-balanced split:
   * with CP ranks the sequence is cut into 2*cp_size chunks and rank r holds chunks r and 2*cp_size-1-r). */
  int64_t global_seq_len;   /* S before the CP split (0 = seq_len) */
  int32_t cp_rank;          /* 0 without CP */
  int32_t cp_size;          /* 0 or 1 without CP */
  msw_tensor cu_seqlens_global; /* packed with CP: the boundaries before the split, else absent */
} msw_model_batch;

/* The arguments of every compute call; each entry's comment says which members it reads or writes. */
typedef struct msw_model_call {
  MSW_ARGS_HEADER;
  const msw_model_batch* batch;
  int64_t layer;                 /* layer_forward/backward/decode */
  const msw_tensor* params;      /* param_count tensors */
  size_t param_count;
  const msw_tensor* grads;       /* grad_count (0 or param_count) tensors; absent entries are frozen */
  size_t grad_count;
  msw_tensor saved;              /* this invocation's saved buffer (U8), may be absent when 0 bytes */
  msw_tensor workspace;          /* shared scratch (U8) */
  msw_tensor input;              /* layer: x [S, B, H]; head: hidden [S, B, H] */
  msw_tensor output;             /* embedding: hidden [S, B, H] written; layer: y [S, B, H] written */
  msw_tensor d_output;           /* backward: gradient of `output` (embedding: d_hidden; layer: dy) */
  msw_tensor d_input;            /* layer/head backward: dx / d_hidden written (may alias d_output) */
  msw_tensor logits;             /* head_forward: F32 [S, B, padded V] to receive the logits, optional */
  msw_tensor loss_sum;           /* head_forward: F32/F64 device scalar, += sum of per-token losses */
  msw_tensor token_count;        /* head_forward: I64 device scalar, += tokens whose label is not -100 */
  msw_tensor aux_loss;           /* layer_forward: F32 device scalar, += the layer's auxiliary loss (MoE
                                    load balancing), already weighted; absent = not wanted */
  double loss_scale;             /* head_backward: d objective / d loss_sum (1/token_count for the mean) */
  msw_tensor loss_scale_tensor;  /* head_backward: the same as a device scalar (wins when given) */
  double aux_loss_scale;         /* layer_backward: d objective / d aux_loss */
  /* Randomness (dropout): a call draws from the stream keyed by (ctx->seed, rng_offset); the host passes
   * the same offset to the forward of a layer and to its recompute, so the masks replay exactly. */
  uint64_t rng_offset;
  int32_t recompute;             /* 1: this forward recomputes one that already ran (same rng_offset) */
  int32_t training;              /* 1: training (dropout on), 0: evaluation and inference */
  /* layer_decode: the layer's KV cache (U8, kv_bytes_per_token x max_tokens x N, layout the plugin's),
   * and I32 [N] device tensor of the tokens already cached per row; the new tokens are appended after
   * them and attend to everything cached. N is B for an unpacked batch (row b's S new tokens) and
   * num_sequences for a packed one (sequence i of cu_seqlens is row i's new tokens, possibly none). */
  msw_tensor kv_cache;
  msw_tensor cache_seqlens;
  int64_t cache_capacity;        /* max_tokens the cache holds per row */
} msw_model_call;

/* Arguments of memory(). */
typedef struct msw_model_memory_args {
  MSW_ARGS_HEADER;
  const msw_model_shape* shape;
  int32_t recompute_full;        /* 1: layers under full recompute keep only their input (saved = 0) */
  int32_t reserved0;
} msw_model_memory_args;

typedef struct msw_model_vtable {
  uint32_t struct_size;

  /* ---- part 1: configuration ---- */
  /* REQUIRED. The HF model_type values this component serves, a NULL-terminated static array (an empty
   * array when the plugin failed; it logged why). */
  const char* const* (*hf_model_types)(void);
  /* REQUIRED. Converts an HF config.json (JSON text) into the transformer config (JSON text), MSW buffer
   * protocol. A missing or invalid field is an INVALID_ARGUMENT naming the field. */
  msw_status* (*config_from_hf)(const char* hf_config_json, char* out, size_t capacity, size_t* needed);
  /* REQUIRED. Creates an instance from a transformer config (as config_from_hf writes it; host-side
   * settings such as recompute_granularity may be added). The caller owns the instance until destroy. */
  msw_status* (*create)(const char* config_json, void** out_self);
  /* REQUIRED. */
  void (*destroy)(void* self);
  /* REQUIRED. Sizes the host needs for its loop (out->struct_size is the caller's). */
  msw_status* (*describe)(const void* self, msw_model_info* out);
  /* REQUIRED. What the instance can run (out->struct_size is the caller's). */
  msw_status* (*capabilities)(const void* self, msw_model_caps* out);
  /* REQUIRED. The instance's transformer config with every default filled in (what checkpoints record),
   * MSW buffer protocol. */
  msw_status* (*config_json)(const void* self, char* out, size_t capacity, size_t* needed);
  /* OPTIONAL. The HF config.json that describes this instance (export to HF), MSW buffer protocol. */
  msw_status* (*config_to_hf)(const void* self, char* out, size_t capacity, size_t* needed);

  /* ---- part 2: parameters ---- */
  /* REQUIRED. Number of parameters; the table order is the order of `params` arrays in compute calls.
   * A negative count means the plugin failed (it logged why); the host refuses the instance. */
  int64_t (*param_count)(const void* self);
  /* REQUIRED. Entry `index` of the table (out->struct_size is the caller's). */
  msw_status* (*param_info)(const void* self, int64_t index, msw_param_info* out);
  /* REQUIRED. Number of HF mapping records (one per Megatron parameter that exists in HF checkpoints);
   * negative on failure, as param_count. */
  int64_t (*hf_mapping_count)(const void* self);
  /* REQUIRED. Record `index` (out->struct_size is the caller's); what it points to is the instance's. */
  msw_status* (*hf_mapping)(const void* self, int64_t index, msw_hf_mapping* out);
  /* REQUIRED. Builds Megatron parameter `out` (the record's global shape) from the record's hf_count HF
   * tensors `hf` (in the record's order). CPU, dense, one dtype for all; bytes are moved, never converted,
   * so the round trip is exact. */
  msw_status* (*hf_to_megatron)(const void* self, int64_t mapping_index, const msw_tensor* hf, size_t hf_count,
                                const msw_tensor* out);
  /* REQUIRED. The inverse: fills the hf_count tensors `hf` from Megatron parameter `megatron`. */
  msw_status* (*megatron_to_hf)(const void* self, int64_t mapping_index, const msw_tensor* megatron,
                                const msw_tensor* hf, size_t hf_count);

  /* ---- part 3: compute (each takes the call's args, msw_model_call) ---- */
  /* REQUIRED. Saved, workspace and KV-cache bytes for a batch shape. */
  msw_status* (*memory)(const void* self, const msw_model_memory_args* args, msw_model_memory* out);
  /* REQUIRED. output = hidden [S, B, H] from batch->input_ids. */
  msw_status* (*embedding_forward)(void* self, const msw_exec_ctx* ctx, const msw_model_call* call);
  /* REQUIRED. grads += d/dparams given d_output (d_hidden [S, B, H]). */
  msw_status* (*embedding_backward)(void* self, const msw_exec_ctx* ctx, const msw_model_call* call);
  /* REQUIRED. output = layer(input) for decoder layer `layer`; input and output must not alias; aux_loss += . */
  msw_status* (*layer_forward)(void* self, const msw_exec_ctx* ctx, const msw_model_call* call);
  /* REQUIRED. d_input written from d_output; grads accumulate. input is the same x forward saw (the host
   * keeps it); saved is what that forward wrote. d_input may alias d_output. */
  msw_status* (*layer_backward)(void* self, const msw_exec_ctx* ctx, const msw_model_call* call);
  /* REQUIRED. Final norm, output layer and loss of `input`: logits (optional) written, loss_sum and
   * token_count added to when batch->labels is given. The head must not hold fp32 logits of the whole
   * micro-batch at once unless logits are asked for (chunk the vocabulary or the tokens). */
  msw_status* (*head_forward)(void* self, const msw_exec_ctx* ctx, const msw_model_call* call);
  /* REQUIRED. d_input (d_hidden) written from loss_scale. */
  msw_status* (*head_backward)(void* self, const msw_exec_ctx* ctx, const msw_model_call* call);

  /* ==== since ABI 2.1 ==== */
  /* OPTIONAL (MSW_CAP_DECODE). One layer of incremental decoding: input [S, B, H] holds the new tokens of
   * each row (S = the prompt for a prefill, 1 per step after it), whose positions start at
   * cache_seqlens[b]; their keys and values are appended to kv_cache and they attend to everything cached
   * (bottom-right causal). output [S, B, H] written. The head then runs on the last position only.
   * A packed batch [T, 1, H] gives each cache row its own number of new tokens (prompts of different
   * lengths in one prefill; a finished row gets none). The host passes position_ids (the positions after
   * each row's cached tokens), calls embedding_forward and head_forward as usual (head: no labels, logits
   * of the last new token of each row), and sizes the workspace by memory() with recompute_full = 1 for the
   * shape of the new tokens (the layer keeps nothing, so its transient tensors come from the workspace).
   * Rows are contiguous in kv_cache (row i at i x max_tokens x kv_bytes_per_token), so the host may hand
   * a plugin a range of rows. Since ABI 2.3 the ops table has attention_kvcache_forward for it. */
  msw_status* (*layer_decode)(void* self, const msw_exec_ctx* ctx, const msw_model_call* call);
} msw_model_vtable;

static inline const char* msw_model_vtable_missing_required(const msw_model_vtable* vt) {
  if (!vt->hf_model_types) return "hf_model_types";
  if (!vt->config_from_hf) return "config_from_hf";
  if (!vt->create) return "create";
  if (!vt->destroy) return "destroy";
  if (!vt->describe) return "describe";
  if (!vt->capabilities) return "capabilities";
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

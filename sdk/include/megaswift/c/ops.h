/* msw_ops_api: the compute ops the host hands to plugins (msw_host_api.ops).
 *
 * Every op family a decoder needs, forward and backward side by side, on tensor descriptors. The host
 * dispatches each call by the device of its tensors (ctx->device), so a model plugin written against this
 * table runs unchanged on CPU and CUDA. The table is append-only within a major version: a plugin that needs
 * an entry added in a later minor checks `struct_size > offsetof(msw_ops_api, entry)` first.
 *
 * Conventions for every entry:
 *   - `ctx` comes first: where (device, stream) and how (num_threads) the op runs. All tensors of a call live
 *     on ctx->device; a tensor elsewhere is an INVALID_ARGUMENT.
 *   - Tensors are borrowed for the duration of the call. Optional tensors are passed as NULL.
 *   - Floating-point tensors may be F32, BF16 or F16. Compute is float32 with float32 accumulation; 16-bit
 *     inputs are widened exactly and 16-bit outputs rounded to nearest even. Saved statistics (rstd, mean,
 *     lse) and the cross-entropy's logits work are F32 always. Index tensors (ids, labels, positions) are I64.
 *   - Gradients of PARAMETERS accumulate (+=), so micro-batches and tied weights add into one buffer.
 *     Gradients of ACTIVATIONS are written (=) unless the entry has an `accumulate` flag.
 *   - "(R, C)" means the tensor is viewed as R rows of C elements: every leading dimension is flattened, so a
 *     (B, S, C) hidden state is (B*S, C). Tensors need not be contiguous; the host copies as needed (dense
 *     row-major tensors take the fast path).
 *   - A failure returns a status owned by the caller (msw_host_api.status_free) and leaves outputs
 *     unspecified. UNSUPPORTED names the op and the device when a device has no implementation yet.
 *   - Results never depend on ctx->num_threads (each output element is reduced in a fixed order).
 * Thread-safety: entries may be called from any thread; calls writing the same tensors must not overlap.
 */
#ifndef MEGASWIFT_C_OPS_H
#define MEGASWIFT_C_OPS_H

#include <stdint.h>

#include "abi.h"
#include "host.h"
#include "tensor.h"

MSW_EXTERN_C_BEGIN

/* RoPE frequency variants, as HF transformers' rope_scaling "rope_type". */
typedef enum msw_rope_scaling {
  MSW_ROPE_NONE = 0,    /* inv_freq[i] = theta^(-2i/d) */
  MSW_ROPE_LINEAR = 1,  /* inv_freq / factor */
  MSW_ROPE_DYNAMIC = 2, /* NTK-aware theta when the positions exceed max_position_embeddings */
  MSW_ROPE_LLAMA3 = 3,  /* Llama 3.1 wavelength bands */
  MSW_ROPE_YARN = 4     /* YaRN ramp and attention factor */
} msw_rope_scaling;

/* The resolved numbers of a model's rotary embedding (the model plugin reads them from its config). */
typedef struct msw_rope_config {
  uint32_t struct_size;
  int32_t scaling;                            /* msw_rope_scaling */
  double theta;                               /* rope_theta / rotary_base */
  int64_t head_dim;                           /* channels per head */
  double partial_rotary_factor;               /* fraction of head_dim that rotates (1.0 = all) */
  int64_t max_position_embeddings;            /* DYNAMIC */
  double factor;                              /* LINEAR, DYNAMIC, LLAMA3, YARN */
  int64_t original_max_position_embeddings;   /* LLAMA3 (required), YARN (0 = max_position_embeddings) */
  double low_freq_factor;                     /* LLAMA3 */
  double high_freq_factor;                    /* LLAMA3 */
  double beta_fast;                           /* YARN (HF default 32) */
  double beta_slow;                           /* YARN (HF default 1) */
  double mscale;                              /* YARN; 0 = absent */
  double mscale_all_dim;                      /* YARN; 0 = absent */
  double attention_factor;                    /* YARN; used when has_attention_factor */
  int32_t has_attention_factor;
  int32_t truncate;                           /* YARN: floor/ceil the correction range (HF default 1) */
} msw_rope_config;

/* Result of a cross-entropy forward. */
typedef struct msw_cross_entropy_result {
  double loss;       /* mean over counted rows; 0 when count == 0 */
  double loss_sum;   /* sum over counted rows */
  int64_t count;     /* rows whose label is not the ignore index */
} msw_cross_entropy_result;

typedef enum msw_gelu_approximation {
  MSW_GELU_EXACT = 0, /* erf */
  MSW_GELU_TANH = 1
} msw_gelu_approximation;

typedef struct msw_ops_api {
  uint32_t struct_size; /* sizeof(msw_ops_api) as compiled into the host */
  uint32_t reserved0;

  /* ---- memory and element-wise ---- */
  /* out[...] = value. */
  msw_status* (*fill)(const msw_exec_ctx* ctx, const msw_tensor* out, double value);
  /* dst = src, element by element over equal shapes, converting the dtype (floats round to nearest even;
   * float <-> integer is not supported). Any strides: this is also the gather of a strided view. */
  msw_status* (*copy)(const msw_exec_ctx* ctx, const msw_tensor* src, const msw_tensor* dst);
  /* out = a + b over equal element counts (the residual add); out may alias a or b. */
  msw_status* (*add)(const msw_exec_ctx* ctx, const msw_tensor* a, const msw_tensor* b, const msw_tensor* out);
  /* dst += src over equal element counts. */
  msw_status* (*accumulate)(const msw_exec_ctx* ctx, const msw_tensor* src, const msw_tensor* dst);
  /* x *= s. */
  msw_status* (*scale)(const msw_exec_ctx* ctx, const msw_tensor* x, double s);
  /* *out = sum of x^2 in double, the same for any thread count (gradient norms). */
  msw_status* (*sum_squares)(const msw_exec_ctx* ctx, const msw_tensor* x, double* out);

  /* ---- dense layers ---- */
  /* C = alpha * op(A) op(B) + beta * C on 2-D tensors (op = transpose when trans_* != 0); each matrix may
   * have a row stride larger than its width (a column block of a wider matrix). */
  msw_status* (*gemm)(const msw_exec_ctx* ctx, int32_t trans_a, int32_t trans_b, double alpha, const msw_tensor* a,
                      const msw_tensor* b, double beta, const msw_tensor* c);
  /* y = x W^T + b.  x (R, K), weight (N, K) as stored by PyTorch/Megatron, bias (N) or NULL, y (R, N). */
  msw_status* (*linear_forward)(const msw_exec_ctx* ctx, const msw_tensor* x, const msw_tensor* weight,
                                const msw_tensor* bias, const msw_tensor* y);
  /* dx = dy W (written, or added when accumulate_dx), dweight += dy^T x, dbias += sum_rows(dy).
   * dx, dweight, dbias may be NULL to skip them. */
  msw_status* (*linear_backward)(const msw_exec_ctx* ctx, const msw_tensor* x, const msw_tensor* weight,
                                 const msw_tensor* dy, const msw_tensor* dx, const msw_tensor* dweight,
                                 const msw_tensor* dbias, int32_t accumulate_dx);

  /* ---- embedding ---- */
  /* out[i, :] = table[ids[i], :].  ids (N) I64, table (V, C), out (N, C). An id outside [0, V) fails,
   * naming the id and its position. */
  msw_status* (*embedding_forward)(const msw_exec_ctx* ctx, const msw_tensor* ids, const msw_tensor* table,
                                   const msw_tensor* out);
  /* dtable[ids[i], :] += dout[i, :]. */
  msw_status* (*embedding_backward)(const msw_exec_ctx* ctx, const msw_tensor* ids, const msw_tensor* dout,
                                    const msw_tensor* dtable);

  /* ---- normalization ---- */
  /* y = weight * x / rms(x) over the last dimension.  x, y (R, C), weight (C), rstd (R) F32 saved. */
  msw_status* (*rmsnorm_forward)(const msw_exec_ctx* ctx, const msw_tensor* x, const msw_tensor* weight, double eps,
                                 const msw_tensor* y, const msw_tensor* rstd);
  /* dx written (NULL to skip), dweight += (NULL to skip). */
  msw_status* (*rmsnorm_backward)(const msw_exec_ctx* ctx, const msw_tensor* x, const msw_tensor* weight,
                                  const msw_tensor* rstd, const msw_tensor* dy, const msw_tensor* dx,
                                  const msw_tensor* dweight);
  /* LayerNorm: mean (R) and rstd (R) F32 saved; bias may be NULL. */
  msw_status* (*layernorm_forward)(const msw_exec_ctx* ctx, const msw_tensor* x, const msw_tensor* weight,
                                   const msw_tensor* bias, double eps, const msw_tensor* y, const msw_tensor* mean,
                                   const msw_tensor* rstd);
  /* dx written; dweight, dbias accumulate; any may be NULL. */
  msw_status* (*layernorm_backward)(const msw_exec_ctx* ctx, const msw_tensor* x, const msw_tensor* weight,
                                    const msw_tensor* mean, const msw_tensor* rstd, const msw_tensor* dy,
                                    const msw_tensor* dx, const msw_tensor* dweight, const msw_tensor* dbias);

  /* ---- rotary position embedding ---- */
  /* Number of channels per head that rotate for `config` (even), or a status for an invalid config. */
  msw_status* (*rope_rotary_dim)(const msw_exec_ctx* ctx, const msw_rope_config* config, int64_t* out);
  /* cos and sin tables (P, rotary_dim/2) F32 for P positions (I64, each >= 0; NULL means 0..P-1), the
   * attention factor included. */
  msw_status* (*rope_tables)(const msw_exec_ctx* ctx, const msw_rope_config* config, const msw_tensor* positions,
                             const msw_tensor* cos, const msw_tensor* sin);
  /* Rotate-half RoPE on x (B, S, H, D) -> y (same shape; y may alias x). Tables have S rows (positions shared
   * by the batch) or B*S rows (per-token positions, e.g. packed sequences). */
  msw_status* (*rope_forward)(const msw_exec_ctx* ctx, const msw_tensor* x, const msw_tensor* cos,
                              const msw_tensor* sin, const msw_tensor* y);
  /* dx = the inverse rotation of dy (dx may alias dy). */
  msw_status* (*rope_backward)(const msw_exec_ctx* ctx, const msw_tensor* dy, const msw_tensor* cos,
                               const msw_tensor* sin, const msw_tensor* dx);

  /* ---- attention ---- */
  /* Splits Megatron's fused QKV projection output (R, G*(n+2)*D), rows grouped per kv group g as
   * [n query heads | key head | value head], into q (R, G*n, D), k (R, G, D), v (R, G, D). */
  msw_status* (*qkv_split_forward)(const msw_exec_ctx* ctx, const msw_tensor* qkv, const msw_tensor* q,
                                   const msw_tensor* k, const msw_tensor* v);
  /* The join: dqkv written from dq, dk, dv. */
  msw_status* (*qkv_split_backward)(const msw_exec_ctx* ctx, const msw_tensor* dq, const msw_tensor* dk,
                                    const msw_tensor* dv, const msw_tensor* dqkv);
  /* Causal self-attention with GQA and float32 softmax. q (B, S, Hq, D), k and v (B, S, Hkv, D) with Hkv
   * dividing Hq (query head h reads kv head h / (Hq/Hkv)), out (B, S, Hq, D), lse (B, Hq, S) F32 saved.
   * probs (B, Hq, S, S) F32 or NULL: when given, the softmax is kept for backward (no recompute). */
  msw_status* (*attention_forward)(const msw_exec_ctx* ctx, const msw_tensor* q, const msw_tensor* k,
                                   const msw_tensor* v, double scale, const msw_tensor* out, const msw_tensor* lse,
                                   const msw_tensor* probs);
  /* dq, dk, dv written. probs as saved by forward, or NULL to recompute the softmax from q, k and lse. */
  msw_status* (*attention_backward)(const msw_exec_ctx* ctx, const msw_tensor* q, const msw_tensor* k,
                                    const msw_tensor* v, const msw_tensor* out, const msw_tensor* lse,
                                    const msw_tensor* probs, const msw_tensor* dout, double scale,
                                    const msw_tensor* dq, const msw_tensor* dk, const msw_tensor* dv);

  /* ---- activations ---- */
  /* out = silu(gate) * up where x (R, 2F) holds [gate | up] per row (Megatron's fc1 output), out (R, F). */
  msw_status* (*swiglu_forward)(const msw_exec_ctx* ctx, const msw_tensor* x, const msw_tensor* out);
  /* dx (R, 2F) written in the same [dgate | dup] layout. */
  msw_status* (*swiglu_backward)(const msw_exec_ctx* ctx, const msw_tensor* x, const msw_tensor* dout,
                                 const msw_tensor* dx);
  /* y = gelu(x) (approximation: msw_gelu_approximation); y may alias x. */
  msw_status* (*gelu_forward)(const msw_exec_ctx* ctx, const msw_tensor* x, const msw_tensor* y,
                              int32_t approximation);
  /* dx = dy * gelu'(x) written; dx may alias dy. */
  msw_status* (*gelu_backward)(const msw_exec_ctx* ctx, const msw_tensor* x, const msw_tensor* dy,
                               const msw_tensor* dx, int32_t approximation);

  /* ---- loss ---- */
  /* Cross-entropy of logits (R, V) against labels (R) I64 aligned with the rows (labels[i] is row i's target;
   * ignore_index rows count nothing). lse (R) F32 saved; per_token_loss (R) F32 or NULL. *out gets the mean,
   * the sum and the count of counted rows (all rows ignored: 0, 0, 0). */
  msw_status* (*cross_entropy_forward)(const msw_exec_ctx* ctx, const msw_tensor* logits, const msw_tensor* labels,
                                       int64_t ignore_index, const msw_tensor* lse, const msw_tensor* per_token_loss,
                                       msw_cross_entropy_result* out);
  /* dlogits = grad_scale * (softmax(logits) - onehot(label)), 0 on ignored rows, written; grad_scale is
   * d objective / d loss_sum (1/count for the mean). dlogits may alias logits (in place). */
  msw_status* (*cross_entropy_backward)(const msw_exec_ctx* ctx, const msw_tensor* logits, const msw_tensor* labels,
                                        const msw_tensor* lse, int64_t ignore_index, double grad_scale,
                                        const msw_tensor* dlogits);
} msw_ops_api;

MSW_EXTERN_C_END

#endif /* MEGASWIFT_C_OPS_H */

/* msw_ops_api: the compute ops the host hands to plugins (msw_host_api.ops).
 *
 * Every op family a decoder needs, forward and backward side by side, on tensor descriptors. The host
 * dispatches each call by the device of ctx, so a model plugin written against this table runs unchanged on
 * CPU and CUDA. The table is append-only within a major version: a plugin that needs an entry added in a
 * later minor than it targets checks `struct_size > offsetof(msw_ops_api, entry)` first.
 *
 * Every entry takes (ctx, args): `ctx` says where (device, stream) and how (num_threads) the op runs, and
 * `args` is the op's own args struct (MSW_ARGS_HEADER first), so an op gains arguments in a minor by
 * appending members: the host reads members past the caller's struct_size as zero, and every member's zero
 * value means "absent / the old behaviour". Extension records (abi.h) carry what only some callers need.
 *
 * Conventions for every entry:
 *   - All tensors of a call live on ctx->device; a tensor elsewhere is an INVALID_ARGUMENT.
 *   - Tensors are held BY VALUE in the args; an optional tensor is absent when it is zeroed
 *     (msw_tensor_is_absent). They are borrowed under the stream semantics of host.h.
 *   - Floating-point tensors may be F32, BF16 or F16. Compute is float32 with float32 accumulation; 16-bit
 *     inputs are widened exactly and 16-bit outputs rounded to nearest even. Saved statistics (rstd, mean,
 *     lse) and the cross-entropy's logits work are F32 always. Index tensors (ids, labels, positions) are I64.
 *   - Gradients of PARAMETERS accumulate (+=), so micro-batches and tied weights add into one buffer.
 *     Gradients of ACTIVATIONS are written (=) unless the entry has an `accumulate` flag.
 *   - "(R, C)" means the tensor is viewed as R rows of C elements: every leading dimension is flattened, so an
 *     (S, B, C) hidden state is (S*B, C). Unless an entry says otherwise a tensor may have any row stride but
 *     its last dimension must be dense; no op copies a tensor to make it fit (host.h: no hidden copies).
 *   - Scalars an op produces are written to device tensors (host.h), so nothing here synchronises.
 *   - Hidden states are [S, B, H] as in Megatron-Core (sequence first: sequence and context parallelism
 *     split S, which is contiguous only in this layout); packed batches are [T, 1, H] with cu_seqlens.
 *   - A failure returns a status owned by the caller (msw_host_api.status_free) and leaves outputs
 *     unspecified. UNSUPPORTED names the op and the device when a device has no implementation yet.
 *   - Results never depend on ctx->num_threads (each output element is reduced in a fixed order).
 * Thread-safety: entries may be called from any thread; calls writing the same tensors must not overlap.
 */
#ifndef MEGASWIFT_C_OPS_H
#define MEGASWIFT_C_OPS_H

#include <stddef.h>
#include <stdint.h>

#include "abi.h"
#include "comm.h"
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

typedef enum msw_gelu_approximation {
  MSW_GELU_EXACT = 0, /* erf */
  MSW_GELU_TANH = 1
} msw_gelu_approximation;

/* ---- args structs, one per op (zero members = absent / default) ---- */

typedef struct msw_fill_args {
  MSW_ARGS_HEADER;
  msw_tensor out;
  double value;
} msw_fill_args;

/* dst = src element by element over equal shapes, converting the dtype (floats round to nearest even;
 * float <-> integer is not supported). Any strides on both sides: this is the one explicit copy. */
typedef struct msw_copy_args {
  MSW_ARGS_HEADER;
  msw_tensor src;
  msw_tensor dst;
} msw_copy_args;

/* out = a + alpha * b over equal element counts (the residual add; alpha 0 is read as 1); out may alias
 * a or b. */
typedef struct msw_add_args {
  MSW_ARGS_HEADER;
  msw_tensor a;
  msw_tensor b;
  msw_tensor out;
  double alpha;
} msw_add_args;

/* dst += src over equal element counts. */
typedef struct msw_accumulate_args {
  MSW_ARGS_HEADER;
  msw_tensor src;
  msw_tensor dst;
} msw_accumulate_args;

/* x *= s, or x *= scale_tensor[0] when that device scalar is given (a loss scale, 1/num_tokens). */
typedef struct msw_scale_args {
  MSW_ARGS_HEADER;
  msw_tensor x;
  double s;
  msw_tensor scale_tensor; /* optional F32/F64 scalar on the device */
} msw_scale_args;

/* out[0] (+)= sum of x^2, reduced in a fixed order (the same for any thread count). out is an F32 or F64
 * scalar DEVICE tensor; with accumulate != 0 the sum is added to it (a global norm over many tensors). */
typedef struct msw_sum_squares_args {
  MSW_ARGS_HEADER;
  msw_tensor x;
  msw_tensor out;
  int32_t accumulate;
  int32_t reserved0;
} msw_sum_squares_args;

/* C = alpha * op(A) op(B) + beta * C on 2-D tensors (op = transpose when trans_* != 0); each matrix may
 * have a row stride larger than its width (a column block of a wider matrix). alpha 0 is read as 1. */
typedef struct msw_gemm_args {
  MSW_ARGS_HEADER;
  msw_tensor a;
  msw_tensor b;
  msw_tensor c;
  int32_t trans_a;
  int32_t trans_b;
  double alpha;
  double beta;
} msw_gemm_args;

/* Per-tensor scales of fp8 operands (dequantised value = stored * scale). Absent for 16/32-bit. */
typedef struct msw_fp8_scales {
  msw_tensor x_scale;   /* F32 scalar on the device */
  msw_tensor w_scale;
  msw_tensor y_scale;   /* output quantisation scale when y is fp8 */
  msw_tensor y_amax;    /* F32 scalar that receives max|y| (delayed scaling), optional */
} msw_fp8_scales;

/* y = x W^T + b.  x (R, K), weight (N, K) as stored by PyTorch/Megatron, bias (N) optional, y (R, N). */
typedef struct msw_linear_forward_args {
  MSW_ARGS_HEADER;
  msw_tensor x;
  msw_tensor weight;
  msw_tensor bias;
  msw_tensor y;
  msw_fp8_scales fp8;
} msw_linear_forward_args;

/* dx = dy W (written, or added when accumulate_dx), dweight += dy^T x, dbias += sum_rows(dy); each of
 * dx, dweight, dbias may be absent to skip it. dweight may be F32 while x and dy are 16-bit (fp32 main
 * gradients: Megatron's gradient-accumulation fusion). */
typedef struct msw_linear_backward_args {
  MSW_ARGS_HEADER;
  msw_tensor x;
  msw_tensor weight;
  msw_tensor dy;
  msw_tensor dx;
  msw_tensor dweight;
  msw_tensor dbias;
  int32_t accumulate_dx;
  int32_t reserved0;
  msw_fp8_scales fp8;
} msw_linear_backward_args;

/* out[i, :] = table[ids[i] - vocab_start, :] for ids inside [vocab_start, vocab_start + V), zeros for ids
 * outside it when vocab_parallel != 0 (a vocab-parallel shard; the TP all-reduce is the caller's), and an
 * error naming the id and its position otherwise. ids (N) I64, table (V, C), out (N, C). */
typedef struct msw_embedding_forward_args {
  MSW_ARGS_HEADER;
  msw_tensor ids;
  msw_tensor table;
  msw_tensor out;
  int64_t vocab_start;
  int32_t vocab_parallel;
  int32_t reserved0;
} msw_embedding_forward_args;

/* dtable[ids[i] - vocab_start, :] += dout[i, :] (ids outside the shard skipped when vocab_parallel). */
typedef struct msw_embedding_backward_args {
  MSW_ARGS_HEADER;
  msw_tensor ids;
  msw_tensor dout;
  msw_tensor dtable;
  int64_t vocab_start;
  int32_t vocab_parallel;
  int32_t reserved0;
} msw_embedding_backward_args;

/* y = (weight_offset + weight) * x / rms(x) over the last dimension (weight_offset 1 for Gemma-style
 * zero-centred weights, 0 otherwise). x, y (R, C), weight (C), rstd (R) F32 saved. When `residual` is
 * given, x_out receives x + residual first and the norm is taken of that sum (fused residual add). */
typedef struct msw_rmsnorm_forward_args {
  MSW_ARGS_HEADER;
  msw_tensor x;
  msw_tensor weight;
  msw_tensor y;
  msw_tensor rstd;
  double eps;
  double weight_offset;
  msw_tensor residual;  /* optional */
  msw_tensor x_out;     /* receives x + residual when residual is given */
} msw_rmsnorm_forward_args;

/* dx written (or added when accumulate_dx; absent to skip), dweight += (absent to skip). */
typedef struct msw_rmsnorm_backward_args {
  MSW_ARGS_HEADER;
  msw_tensor x;
  msw_tensor weight;
  msw_tensor rstd;
  msw_tensor dy;
  msw_tensor dx;
  msw_tensor dweight;
  double weight_offset;
  int32_t accumulate_dx;
  int32_t reserved0;
} msw_rmsnorm_backward_args;

/* LayerNorm: mean (R) and rstd (R) F32 saved; bias optional. */
typedef struct msw_layernorm_forward_args {
  MSW_ARGS_HEADER;
  msw_tensor x;
  msw_tensor weight;
  msw_tensor bias;
  msw_tensor y;
  msw_tensor mean;
  msw_tensor rstd;
  double eps;
} msw_layernorm_forward_args;

/* dx written; dweight, dbias accumulate; any may be absent. */
typedef struct msw_layernorm_backward_args {
  MSW_ARGS_HEADER;
  msw_tensor x;
  msw_tensor weight;
  msw_tensor mean;
  msw_tensor rstd;
  msw_tensor dy;
  msw_tensor dx;
  msw_tensor dweight;
  msw_tensor dbias;
} msw_layernorm_backward_args;

/* Number of channels per head that rotate for `config` (even). A host-side query: *out is host memory. */
typedef struct msw_rope_rotary_dim_args {
  MSW_ARGS_HEADER;
  const msw_rope_config* config;
  int64_t* out;
} msw_rope_rotary_dim_args;

/* cos and sin tables (P, rotary_dim/2) F32 for P positions (I64 on the device, each >= 0; absent means
 * 0..P-1), the attention factor included. */
typedef struct msw_rope_tables_args {
  MSW_ARGS_HEADER;
  const msw_rope_config* config;
  msw_tensor positions;
  msw_tensor cos;
  msw_tensor sin;
} msw_rope_tables_args;

/* Rotate-half RoPE on x (T, H, D) -> y (same shape; y may alias x), where T counts tokens in the
 * activation order ([S, B] flattened: token t is sequence position t / B of batch row t % B). Table row
 * of token t: t / rows_per_position, with rows_per_position = B when the tables have one row per
 * position shared by the batch rows, and 1 when they have one row per token (packed sequences, explicit
 * position ids); 0 is read as 1. Backward (rope_backward) applies the inverse rotation, dx may alias dy. */
typedef struct msw_rope_args {
  MSW_ARGS_HEADER;
  msw_tensor x;  /* backward: dy */
  msw_tensor cos;
  msw_tensor sin;
  msw_tensor y;  /* backward: dx */
  int64_t rows_per_position;
} msw_rope_args;

/* Splits Megatron's fused QKV projection output (R, G*(n+2)*D), rows grouped per kv group g as
 * [n query heads | key head | value head], into q (R, G*n, D), k (R, G, D), v (R, G, D); backward joins
 * dq, dk, dv into dqkv (written).
 * Since ABI 2.4, RoPE may ride on the move: with cos and sin given (the tables of rope_forward, F32
 * (R / rows_per_position, rotary_dim / 2)), forward writes q and k rotated exactly as rope_forward would, and
 * backward joins the inverse rotation of dq and dk (rope_backward) without writing dq or dk; v moves as is.
 * rows_per_position as in msw_rope_args. Absent cos (a caller of an older minor) is the plain move. */
typedef struct msw_qkv_split_args {
  MSW_ARGS_HEADER;
  msw_tensor qkv;
  msw_tensor q;
  msw_tensor k;
  msw_tensor v;
  msw_tensor cos; /* since 2.4, optional; with sin */
  msw_tensor sin;
  int64_t rows_per_position;
} msw_qkv_split_args;

/* Layouts of attention's q, k, v and out. */
typedef enum msw_attention_layout {
  MSW_ATTN_SBHD = 0, /* (S, B, heads, D): Megatron's activation order; every batch row one sequence */
  MSW_ATTN_THD = 1   /* (T, heads, D): packed sequences, boundaries in cu_seqlens (padding-free training) */
} msw_attention_layout;

/* Causal self-attention with GQA and float32 softmax (flash-attention semantics: the probabilities are
 * never kept; backward recomputes them from lse).
 *   SBHD: q (Sq, B, Hq, D), k and v (Skv, B, Hkv, D), out (Sq, B, Hq, D), lse (Sq, B, Hq) F32.
 *   THD:  q (Tq, Hq, D), k and v (Tkv, Hkv, D), out (Tq, Hq, D), lse (Tq, Hq) F32; sequence i spans rows
 *         [cu_seqlens_q[i], cu_seqlens_q[i+1]) of q and [cu_seqlens_kv[i], cu_seqlens_kv[i+1]) of k and v
 *         (cu_seqlens_* I32 (N+1) on the device; cu_seqlens_kv absent = cu_seqlens_q); max_seqlen_* bound
 *         the lengths (kernels size their grids with them, so no host read of cu_seqlens is needed).
 * Hkv divides Hq: query head h reads kv head h / (Hq/Hkv). When a sequence has fewer queries than keys
 * (decoding with a KV cache, a chunked prefill) the queries are its LAST positions: query i of a sequence
 * of Lq queries and Lkv keys sits at position i + Lkv - Lq and sees the keys up to it (bottom-right causal).
 * scale multiplies q.k (1/sqrt(D) normally). Since 2.1: window_left > 0 limits each query to the
 * window_left keys before it (sliding window, as HF's sliding_window - 1), softcap > 0 applies
 * softcap * tanh(s / softcap) to the scores (Gemma 2). */
typedef struct msw_attention_args {
  MSW_ARGS_HEADER;
  int32_t layout;          /* msw_attention_layout */
  int32_t causal;          /* 0 is read as 1: only causal attention exists so far */
  msw_tensor q;
  msw_tensor k;
  msw_tensor v;
  msw_tensor out;          /* forward: written; backward: the forward's output */
  msw_tensor lse;          /* forward: written; backward: read */
  msw_tensor dout;         /* backward only */
  msw_tensor dq;           /* backward only: written */
  msw_tensor dk;           /* backward only: written */
  msw_tensor dv;           /* backward only: written */
  msw_tensor cu_seqlens_q; /* THD */
  msw_tensor cu_seqlens_kv;
  int64_t max_seqlen_q;
  int64_t max_seqlen_kv;
  double scale;
  /* ---- since ABI 2.1 ---- */
  int64_t window_left;     /* 0: no window */
  double softcap;          /* 0: none */
} msw_attention_args;

/* out = silu(gate) * up where x (R, 2F) holds [gate | up] per row (Megatron's fc1 output), out (R, F);
 * backward writes dx (R, 2F) in the same [dgate | dup] layout from dout. */
typedef struct msw_swiglu_args {
  MSW_ARGS_HEADER;
  msw_tensor x;
  msw_tensor out;   /* forward */
  msw_tensor dout;  /* backward */
  msw_tensor dx;    /* backward */
} msw_swiglu_args;

/* y = gelu(x); y may alias x. Backward: dx = dy * gelu'(x) written; dx may alias dy. */
typedef struct msw_gelu_args {
  MSW_ARGS_HEADER;
  msw_tensor x;
  msw_tensor y;     /* forward */
  msw_tensor dy;    /* backward */
  msw_tensor dx;    /* backward */
  int32_t approximation; /* msw_gelu_approximation */
  int32_t reserved0;
} msw_gelu_args;

/* Cross-entropy of logits (R, V) against labels (R) I64 aligned with the rows (labels[i] is row i's target;
 * ignore_index rows count nothing; 0 is NOT read as -100: callers set it). lse (R) F32 saved;
 * per_token_loss (R) F32 optional. loss_sum (F32/F64 scalar) and count (I64 scalar) are device tensors that
 * the counted rows are ADDED to, so a step sums its micro-batches (and a chunked head its chunks) without a
 * host read.
 * Vocab-parallel: with tp_comm given, logits hold columns [vocab_start, vocab_start + V) of the full
 * vocabulary on this rank, and the max, the sum of exponentials and the target logit are all-reduced over
 * tp_comm (Megatron's vocab-parallel cross-entropy); the results are those of the full vocabulary.
 * Backward: dlogits = grad_scale * (softmax(logits) - onehot(label)), 0 on ignored rows, written, with
 * grad_scale = d objective / d loss_sum (1/count for the mean), or grad_scale_tensor[0] when given (a
 * device scalar, 1/global token count, known only on the device). dlogits may alias logits. */
typedef struct msw_cross_entropy_args {
  MSW_ARGS_HEADER;
  msw_tensor logits;
  msw_tensor labels;
  int64_t ignore_index;
  msw_tensor lse;
  msw_tensor per_token_loss;    /* forward, optional */
  msw_tensor loss_sum;          /* forward, optional: += */
  msw_tensor count;             /* forward, optional: += */
  double grad_scale;            /* backward */
  msw_tensor grad_scale_tensor; /* backward, optional */
  msw_tensor dlogits;           /* backward */
  msw_comm* tp_comm;            /* vocab-parallel group, or NULL */
  int64_t vocab_start;
} msw_cross_entropy_args;

/* ---- optimizer updates (since ABI 2.2) ----
 * Multi-tensor updates of fp32 main weights, in place, as the optimizer plugins (adam, sgd) run them: one call
 * updates every parameter shard of a step, so a device backend can do them all in one launch. Every tensor of
 * a record is F32, dense, on ctx->device, and has the param's shape. lr_eff = lr * lr_mult (lr_mult 0 is read
 * as 1) and wd_eff = apply_weight_decay ? weight_decay : 0 per record. Gradients are first multiplied by
 * grad_scale[0] when that device scalar is given (unscaling and clipping in one pass); when found_inf[0] != 0
 * the call changes nothing (fp16 loss scaling); both without a host read. step is 1-based and counts the
 * updates applied so far including this one (a call skipped by found_inf does not count), as torch's
 * state['step']. Each element is computed alone in float32 (the scalars are formed in double and rounded once),
 * so results depend neither on the thread count nor on how the list is split into calls. Every record is
 * checked before any tensor is written. */

/* One parameter of adamw_step. A record: arrays of it travel with their element size. */
typedef struct msw_adamw_param {
  uint32_t struct_size;
  int32_t apply_weight_decay; /* 0 for norms and biases, as Megatron */
  msw_tensor param;           /* updated in place */
  msw_tensor grad;            /* read only */
  msw_tensor exp_avg;         /* first moment, updated in place */
  msw_tensor exp_avg_sq;      /* second moment, updated in place */
  double lr_mult;             /* 0 is read as 1 */
} msw_adamw_param;

/* AdamW as torch.optim.AdamW (amsgrad off), for each record with g = grad * grad_scale:
 *   param *= 1 - lr_eff * wd_eff                       (decoupled decay, before the update)
 *   exp_avg    = beta1 * exp_avg    + (1 - beta1) * g
 *   exp_avg_sq = beta2 * exp_avg_sq + (1 - beta2) * g * g
 *   param -= lr_eff / (1 - beta1^step) * exp_avg / (sqrt(exp_avg_sq) / sqrt(1 - beta2^step) + eps)
 * beta1 and beta2 lie in [0, 1), eps >= 0, step >= 1. */
typedef struct msw_adamw_step_args {
  MSW_ARGS_HEADER;
  const msw_adamw_param* params; /* count records of param_size bytes, borrowed for the call */
  size_t count;
  size_t param_size;
  double lr;
  double weight_decay;
  double beta1;
  double beta2;
  double eps;
  int64_t step;
  msw_tensor grad_scale; /* optional F32/F64 scalar on the device */
  msw_tensor found_inf;  /* optional F32/F64/I64 scalar on the device */
} msw_adamw_step_args;

/* One parameter of sgd_step. A record: arrays of it travel with their element size. */
typedef struct msw_sgd_param {
  uint32_t struct_size;
  int32_t apply_weight_decay; /* 0 for norms and biases, as Megatron */
  msw_tensor param;           /* updated in place */
  msw_tensor grad;            /* read only */
  msw_tensor momentum_buffer; /* updated in place; may be absent when momentum is 0 (then it is not touched) */
  double lr_mult;             /* 0 is read as 1 */
} msw_sgd_param;

/* SGD as torch.optim.SGD (coupled weight decay, no dampening, no Nesterov), for each record with
 * g = grad * grad_scale:
 *   d = g + wd_eff * param
 *   momentum_buffer = step == 1 ? d : momentum * momentum_buffer + d      (only when momentum != 0)
 *   param -= lr_eff * (momentum != 0 ? momentum_buffer : d)
 * momentum >= 0, step >= 1 (step 1 starts the buffer as torch's first step does, whatever it held). */
typedef struct msw_sgd_step_args {
  MSW_ARGS_HEADER;
  const msw_sgd_param* params; /* count records of param_size bytes, borrowed for the call */
  size_t count;
  size_t param_size;
  double lr;
  double weight_decay;
  double momentum;
  int64_t step;
  msw_tensor grad_scale; /* optional F32/F64 scalar on the device */
  msw_tensor found_inf;  /* optional F32/F64/I64 scalar on the device */
} msw_sgd_step_args;

/* Attention of new tokens over a KV cache, appending them to it first (since ABI 2.3; the semantics of
 * flash-attention's attention-with-KV-cache). The cache has N rows: k_cache and v_cache are (N, C, Hkv, D)
 * float tensors with dense rows (strides (>= C*Hkv*D, Hkv*D, D, 1), the same for both, so a plugin may keep a
 * row's keys and values side by side), row i holding cache_seqlens[i] tokens (I32 (N) on the device) at its
 * first positions. The new tokens:
 *   SBHD: q (Sq, N, Hq, D), k_new and v_new (Sq, N, Hkv, D): Sq new tokens in every row.
 *   THD:  q (Tq, Hq, D), k_new and v_new (Tq, Hkv, D): row i's new tokens are rows [cu_seqlens_q[i],
 *         cu_seqlens_q[i+1]) (I32 (N+1) on the device; a row may have none).
 * The op writes row i's new keys and values at positions [cache_seqlens[i], cache_seqlens[i] + Lq_i) of the
 * caches, then out (q's shape) = attention of its new queries over its cache_seqlens[i] + Lq_i keys, the queries
 * being the last positions (bottom-right causal), with GQA, scale, window_left and softcap as attention_forward.
 * cache_seqlens itself is not changed: the caller advances it. A row whose tokens would pass C is an error.
 * The caches are not read outside each row's valid positions, so they need no initialisation. */
typedef struct msw_attention_kvcache_args {
  MSW_ARGS_HEADER;
  int32_t layout;          /* msw_attention_layout of q, k_new, v_new, out: SBHD or THD */
  int32_t reserved0;
  msw_tensor q;
  msw_tensor k_new;
  msw_tensor v_new;
  msw_tensor out;          /* written */
  msw_tensor k_cache;      /* (N, C, Hkv, D): row i's new keys written */
  msw_tensor v_cache;
  msw_tensor cache_seqlens;
  msw_tensor cu_seqlens_q; /* THD */
  int64_t max_seqlen_q;    /* THD: bounds every Lq_i (0: not given) */
  double scale;            /* 0 is read as 1/sqrt(D) */
  int64_t window_left;     /* 0: no window */
  double softcap;          /* 0: none */
} msw_attention_kvcache_args;

typedef msw_status* (*msw_op_fn)(const msw_exec_ctx* ctx, const void* args);

#define MSW_OP(name, args_type) msw_status* (*name)(const msw_exec_ctx* ctx, const args_type* args)

typedef struct msw_ops_api {
  uint32_t struct_size; /* sizeof(msw_ops_api) as compiled into the host */
  uint32_t reserved0;

  /* ---- memory and element-wise ---- */
  MSW_OP(fill, msw_fill_args);
  MSW_OP(copy, msw_copy_args);
  MSW_OP(add, msw_add_args);
  MSW_OP(accumulate, msw_accumulate_args);
  MSW_OP(scale, msw_scale_args);
  MSW_OP(sum_squares, msw_sum_squares_args);

  /* ---- dense layers ---- */
  MSW_OP(gemm, msw_gemm_args);
  MSW_OP(linear_forward, msw_linear_forward_args);
  MSW_OP(linear_backward, msw_linear_backward_args);

  /* ---- embedding ---- */
  MSW_OP(embedding_forward, msw_embedding_forward_args);
  MSW_OP(embedding_backward, msw_embedding_backward_args);

  /* ---- normalization ---- */
  MSW_OP(rmsnorm_forward, msw_rmsnorm_forward_args);
  MSW_OP(rmsnorm_backward, msw_rmsnorm_backward_args);
  MSW_OP(layernorm_forward, msw_layernorm_forward_args);
  MSW_OP(layernorm_backward, msw_layernorm_backward_args);

  /* ---- rotary position embedding ---- */
  MSW_OP(rope_rotary_dim, msw_rope_rotary_dim_args);
  MSW_OP(rope_tables, msw_rope_tables_args);
  MSW_OP(rope_forward, msw_rope_args);
  MSW_OP(rope_backward, msw_rope_args);

  /* ---- attention ---- */
  MSW_OP(qkv_split_forward, msw_qkv_split_args);
  MSW_OP(qkv_split_backward, msw_qkv_split_args);
  MSW_OP(attention_forward, msw_attention_args);
  MSW_OP(attention_backward, msw_attention_args);

  /* ---- activations ---- */
  MSW_OP(swiglu_forward, msw_swiglu_args);
  MSW_OP(swiglu_backward, msw_swiglu_args);
  MSW_OP(gelu_forward, msw_gelu_args);
  MSW_OP(gelu_backward, msw_gelu_args);

  /* ---- loss ---- */
  MSW_OP(cross_entropy_forward, msw_cross_entropy_args);
  MSW_OP(cross_entropy_backward, msw_cross_entropy_args);

  /* ---- optimizer updates (since ABI 2.2: check struct_size > offsetof(msw_ops_api, adamw_step)) ---- */
  MSW_OP(adamw_step, msw_adamw_step_args);
  MSW_OP(sgd_step, msw_sgd_step_args);

  /* ---- decoding (since ABI 2.3: check struct_size > offsetof(msw_ops_api, attention_kvcache_forward)) ---- */
  MSW_OP(attention_kvcache_forward, msw_attention_kvcache_args);
} msw_ops_api;

#undef MSW_OP

MSW_EXTERN_C_END

#endif /* MEGASWIFT_C_OPS_H */

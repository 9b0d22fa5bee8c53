/* Optimizer plugins (kind MSW_KIND_OPTIMIZER), chosen with --optimizer: `adam` (AdamW, decoupled
 * weight decay, as Megatron's) and `sgd` (with --sgd_momentum).
 *
 * The host owns every buffer: fp32 main weights, fp32 gradients (already reduced, unscaled and
 * clipped by the host), and the optimizer state, which it allocates zero-filled with the shapes of
 * the parameters, shards with the distributed optimizer, and saves in checkpoints under the names the
 * plugin reports (Megatron's torch_dist names them exp_avg and exp_avg_sq for Adam). The plugin only
 * updates them in place, on the device of the tensors, through the ops table or its own kernels.
 */
#ifndef MEGASWIFT_C_OPTIMIZER_H
#define MEGASWIFT_C_OPTIMIZER_H

#include <stdint.h>

#include "abi.h"
#include "host.h"
#include "tensor.h"

MSW_EXTERN_C_BEGIN

/* One parameter shard: all tensors have the same shape and device, and are fp32. A record: arrays of it
 * travel with their element size. */
typedef struct msw_optimizer_param {
  uint32_t struct_size;
  int32_t apply_weight_decay;      /* 0 for norms and biases, as Megatron */
  msw_tensor param;                /* main weights, updated in place */
  msw_tensor grad;                 /* read only */
  msw_tensor* states;              /* state_count() tensors, updated in place */
  size_t state_count;
  double lr_mult;                  /* per-parameter learning-rate multiplier; 0 is read as 1 */
} msw_optimizer_param;

typedef struct msw_optimizer_step_args {
  MSW_ARGS_HEADER;
  int64_t step;                    /* 1-based step number (bias correction) */
  double lr;                       /* learning rate of this step, after warmup/decay */
  double weight_decay;             /* this step's weight decay */
  const msw_optimizer_param* params; /* array of count records of param_size bytes, borrowed for the call */
  size_t count;
  size_t param_size;
  /* Optional device scalars: gradients are multiplied by grad_scale[0] first (unscaling and clipping in
   * one pass), and when found_inf[0] != 0 the step changes nothing (fp16 loss scaling) - both without a
   * host read. */
  msw_tensor grad_scale;
  msw_tensor found_inf;
} msw_optimizer_step_args;

typedef struct msw_optimizer_vtable {
  uint32_t struct_size;
  /* REQUIRED. config_json holds the parsed arguments (adam_beta1, adam_beta2, adam_eps,
   * sgd_momentum, ...); the instance is owned by the caller until destroy. */
  msw_status* (*create)(const char* config_json, void** out_self);
  /* REQUIRED. */
  void (*destroy)(void* self);
  /* REQUIRED. Number of state tensors per parameter. */
  int32_t (*state_count)(const void* self);
  /* REQUIRED. Name of state `index` for checkpoints; static string owned by the plugin. */
  const char* (*state_name)(const void* self, int32_t index);
  /* REQUIRED. Applies one update to every parameter in args. Never called concurrently on one
   * instance. */
  msw_status* (*step)(void* self, const msw_exec_ctx* ctx, const msw_optimizer_step_args* args);
} msw_optimizer_vtable;

static inline const char* msw_optimizer_vtable_missing_required(const msw_optimizer_vtable* vt) {
  if (!vt->create) return "create";
  if (!vt->destroy) return "destroy";
  if (!vt->state_count) return "state_count";
  if (!vt->state_name) return "state_name";
  if (!vt->step) return "step";
  return 0;
}

MSW_EXTERN_C_END

#endif /* MEGASWIFT_C_OPTIMIZER_H */

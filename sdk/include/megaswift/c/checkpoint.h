/* Checkpoint-format plugins (kind MSW_KIND_CHECKPOINT), chosen with --ckpt_format on save and
 * detected on load: `torch_dist`, `zarr`, `torch` (Megatron layouts, readable by Megatron-LM and
 * PyTorch), `safetensors` and `hdf5`.
 *
 * The host describes a checkpoint as sharded tensors plus common state (iteration, args, RNG,
 * scheduler) as JSON; the plugin only encodes and decodes them. Atomicity is the host's job: it asks
 * the plugin to write into a temporary directory and renames it into place once every rank finished,
 * writing the tracker file (latest_checkpointed_iteration.txt) last. Resharding onto another
 * TP/PP/DP layout is also the host's: it reads regions of global tensors by offset.
 */
#ifndef MEGASWIFT_C_CHECKPOINT_H
#define MEGASWIFT_C_CHECKPOINT_H

#include <stdint.h>

#include "abi.h"
#include "tensor.h"

MSW_EXTERN_C_BEGIN

/* One rank's piece of a global tensor. */
typedef struct msw_shard {
  const char* key;                      /* e.g. "decoder.layers.0.self_attention.linear_qkv.weight" */
  int32_t ndim;
  int32_t replica_id;                   /* 0 for the copy that is written; others are skipped */
  int64_t global_shape[MSW_MAX_DIMS];
  int64_t global_offset[MSW_MAX_DIMS];  /* where `data` starts inside the global tensor */
  msw_tensor data;                      /* this rank's part: contiguous, on the CPU */
} msw_shard;

/* What a reader holds: one entry per global tensor. */
typedef struct msw_tensor_info {
  const char* key;                      /* valid until the reader is closed */
  int32_t dtype;                        /* msw_dtype as stored */
  int32_t ndim;
  int64_t global_shape[MSW_MAX_DIMS];
} msw_tensor_info;

typedef struct msw_checkpoint_vtable {
  uint32_t struct_size;
  /* REQUIRED. config_json: {"args": {...parsed arguments...}}; owned by the caller until destroy. */
  msw_status* (*create)(const char* config_json, void** out_self);
  /* REQUIRED. */
  void (*destroy)(void* self);
  /* OPTIONAL. How sure the plugin is that `dir` holds a checkpoint in its format: 0 (no) to 100. The
   * host picks the highest score when --ckpt_format is not given. */
  int32_t (*probe)(void* self, const char* dir);

  /* REQUIRED. Starts writing this rank's part into `dir` (an empty temporary directory the host made).
   * The writer is owned by the caller until finish_save. */
  msw_status* (*begin_save)(void* self, const char* dir, const char* common_state_json, int32_t rank,
                            int32_t world_size, void** out_writer);
  /* REQUIRED. Writes shards; may be called several times. Data is only read during the call. */
  msw_status* (*write_shards)(void* writer, const msw_shard* shards, size_t count);
  /* REQUIRED. Flushes, fsyncs and frees the writer (also on failure). */
  msw_status* (*finish_save)(void* writer);

  /* REQUIRED. Opens `dir` for reading; the reader is owned by the caller until close. */
  msw_status* (*open)(void* self, const char* dir, int32_t rank, void** out_reader);
  /* REQUIRED. Copies the common-state JSON into buf (NUL-terminated) when capacity suffices; always
   * sets *needed to the size including the NUL. */
  msw_status* (*read_common)(void* reader, char* buf, size_t capacity, size_t* needed);
  /* REQUIRED. Number of global tensors, and the description of tensor `index`. */
  size_t (*tensor_count)(void* reader);
  msw_status* (*tensor_info)(void* reader, size_t index, msw_tensor_info* out);
  /* REQUIRED. Reads the region [offset, offset + out->shape) of tensor `key` into `out` (CPU,
   * contiguous, caller-owned), converting to out->dtype. */
  msw_status* (*read_region)(void* reader, const char* key, const int64_t* offset, msw_tensor* out);
  /* REQUIRED. Frees the reader. */
  void (*close)(void* reader);
} msw_checkpoint_vtable;

static inline const char* msw_checkpoint_vtable_missing_required(const msw_checkpoint_vtable* vt) {
  if (!vt->create) return "create";
  if (!vt->destroy) return "destroy";
  if (!vt->begin_save) return "begin_save";
  if (!vt->write_shards) return "write_shards";
  if (!vt->finish_save) return "finish_save";
  if (!vt->open) return "open";
  if (!vt->read_common) return "read_common";
  if (!vt->tensor_count) return "tensor_count";
  if (!vt->tensor_info) return "tensor_info";
  if (!vt->read_region) return "read_region";
  if (!vt->close) return "close";
  return 0;
}

MSW_EXTERN_C_END

#endif /* MEGASWIFT_C_CHECKPOINT_H */

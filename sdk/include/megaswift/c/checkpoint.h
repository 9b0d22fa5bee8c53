/* Checkpoint-format plugins (kind MSW_KIND_CHECKPOINT), chosen with --ckpt_format on save and
 * detected on load: `torch_dist`, `zarr`, `torch` (Megatron layouts, readable by Megatron-LM and
 * PyTorch), `safetensors` and `hdf5`.
 *
 * The host describes a checkpoint as sharded tensors plus common state (iteration, args, RNG,
 * scheduler, data position) as JSON; the plugin only encodes and decodes them. Atomicity is the host's
 * job: it asks the plugin to write into a temporary directory and renames it into place once every rank
 * finished, writing the tracker file (latest_checkpointed_iteration.txt) last. Resharding onto another
 * TP/PP/DP layout is also the host's: it reads regions of global tensors by offset.
 *
 * A save on N ranks runs in three steps:
 *   1. every rank: begin_save, write_shards (any number of times), finish_save. A format whose files are
 *      per rank (torch_dist's __<rank>_0.distcp) writes them here.
 *   2. the host waits for every rank (barrier on the communicator it passed).
 *   3. every rank: commit_save, with the same communicator: the step where the format gathers what one
 *      rank writes for all (torch_dist's .metadata and metadata.json, gathered on the coordinator; a
 *      zarr array's .zarray, created once). Ranks exchange what they need through msw_host_api.comm.
 * With async != 0 in begin_save the plugin may keep writing after finish_save returns (the host keeps
 * the shard data alive until then); commit_save completes every pending write before it returns.
 */
#ifndef MEGASWIFT_C_CHECKPOINT_H
#define MEGASWIFT_C_CHECKPOINT_H

#include <stddef.h>
#include <stdint.h>

#include "abi.h"
#include "comm.h"
#include "tensor.h"

MSW_EXTERN_C_BEGIN

/* One rank's piece of a global tensor (a record; arrays of it travel with their element size). */
typedef struct msw_shard {
  uint32_t struct_size;
  int32_t ndim;
  const char* key;                      /* e.g. "decoder.layers.0.self_attention.linear_qkv.weight" */
  int32_t replica_id;                   /* 0 for the copy that is written; others are skipped */
  int32_t reserved0;
  int64_t global_shape[MSW_MAX_DIMS];
  int64_t global_offset[MSW_MAX_DIMS];  /* where `data` starts inside the global tensor */
  msw_tensor data;                      /* this rank's part: dense, on the CPU */
} msw_shard;

/* What a reader holds: one entry per global tensor. */
typedef struct msw_tensor_info {
  uint32_t struct_size;
  int32_t dtype;                        /* msw_dtype as stored */
  const char* key;                      /* valid until the reader is destroyed */
  int32_t ndim;
  int32_t reserved0;
  int64_t global_shape[MSW_MAX_DIMS];
} msw_tensor_info;

typedef struct msw_save_args {
  MSW_ARGS_HEADER;
  const char* dir;                /* an empty temporary directory the host made */
  const char* common_state_json;  /* written by the coordinator (or by every rank, as the format wants) */
  int32_t rank;
  int32_t world_size;
  int32_t coordinator_rank;       /* the rank that writes what is written once */
  int32_t async;                  /* 1: writes may continue after finish_save (see above) */
  msw_comm* comm;                 /* all saving ranks; NULL with one rank */
} msw_save_args;

typedef struct msw_open_args {
  MSW_ARGS_HEADER;
  const char* dir;
  int32_t rank;
  int32_t world_size;
  msw_comm* comm;                 /* NULL with one rank */
} msw_open_args;

/* Reads the region [offset, offset + out.shape) of tensor `key` into `out` (CPU, dense, caller-owned),
 * converting to out.dtype. */
typedef struct msw_read_args {
  MSW_ARGS_HEADER;
  const char* key;
  const int64_t* offset;          /* ndim entries */
  msw_tensor out;
} msw_read_args;

typedef struct msw_checkpoint_vtable {
  uint32_t struct_size;
  /* REQUIRED. config_json: {"args": {...parsed arguments...}}; owned by the caller until destroy. */
  msw_status* (*create)(const char* config_json, void** out_self);
  /* REQUIRED. */
  void (*destroy)(void* self);
  /* OPTIONAL. How sure the plugin is that `dir` holds a checkpoint in its format: 0 (no) to 100. The
   * host picks the highest score for --auto_detect_ckpt_format. */
  int32_t (*probe)(void* self, const char* dir);

  /* REQUIRED. Starts writing this rank's part; the writer is owned by the caller until finish_save. */
  msw_status* (*begin_save)(void* self, const msw_save_args* args, void** out_writer);
  /* REQUIRED. Writes `count` shards of `elem_size` bytes each; may be called several times. The data is
   * read during the call, or (async) until commit_save. */
  msw_status* (*write_shards)(void* writer, const msw_shard* shards, size_t count, size_t elem_size);
  /* REQUIRED. Flushes, fsyncs (unless async) and frees the writer, also on failure. */
  msw_status* (*finish_save)(void* writer);
  /* REQUIRED. The coordinator step (see above); called on every rank after all finished. */
  msw_status* (*commit_save)(void* self, const msw_save_args* args);

  /* REQUIRED. Opens a checkpoint for reading; the reader is owned by the caller until reader_destroy. */
  msw_status* (*open)(void* self, const msw_open_args* args, void** out_reader);
  /* REQUIRED. The common-state JSON, MSW buffer protocol (abi.h). */
  msw_status* (*read_common)(void* reader, char* out, size_t capacity, size_t* needed);
  /* REQUIRED. Number of global tensors, and the description of tensor `index` (out->struct_size is the
   * caller's; the plugin writes only what it covers). */
  size_t (*tensor_count)(void* reader);
  msw_status* (*tensor_info)(void* reader, size_t index, msw_tensor_info* out);
  /* REQUIRED. */
  msw_status* (*read_region)(void* reader, const msw_read_args* args);
  /* REQUIRED. Frees the reader. */
  void (*reader_destroy)(void* reader);
} msw_checkpoint_vtable;

static inline const char* msw_checkpoint_vtable_missing_required(const msw_checkpoint_vtable* vt) {
  if (!vt->create) return "create";
  if (!vt->destroy) return "destroy";
  if (!vt->begin_save) return "begin_save";
  if (!vt->write_shards) return "write_shards";
  if (!vt->finish_save) return "finish_save";
  if (!vt->commit_save) return "commit_save";
  if (!vt->open) return "open";
  if (!vt->read_common) return "read_common";
  if (!vt->tensor_count) return "tensor_count";
  if (!vt->tensor_info) return "tensor_info";
  if (!vt->read_region) return "read_region";
  if (!vt->reader_destroy) return "reader_destroy";
  return 0;
}

MSW_EXTERN_C_END

#endif /* MEGASWIFT_C_CHECKPOINT_H */

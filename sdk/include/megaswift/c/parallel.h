/* Parallel plugins (kind MSW_KIND_PARALLEL): the communication engine behind --distributed_backend.
 * First-party: `nccl` (GPUs, across nodes) and `gloo` (CPUs). The host builds Megatron's rank layout
 * (tensor fastest, then context, data, pipeline) by splitting the world communicator, and exposes
 * the groups to other plugins through msw_comm_api (comm.h), which forwards to this vtable.
 *
 * Plugin communicators are opaque `void*` owned by the plugin instance: they stay valid until
 * `destroy` of the instance that made them. All collectives follow comm.h's contract.
 */
#ifndef MEGASWIFT_C_PARALLEL_H
#define MEGASWIFT_C_PARALLEL_H

#include <stdint.h>

#include "abi.h"
#include "comm.h"
#include "tensor.h"

MSW_EXTERN_C_BEGIN

typedef struct msw_parallel_vtable {
  uint32_t struct_size;
  /* REQUIRED. config_json: {"rank": int, "world_size": int, "local_rank": int, "master_addr": str,
   * "master_port": int, "timeout_minutes": int, "device": {"type": int, "id": int}}. Joins the world:
   * returns only when every rank has joined or the timeout passed (then an error naming the ranks
   * that are missing when the backend can tell). The instance is owned by the caller until destroy. */
  msw_status* (*create)(const char* config_json, void** out_self);
  /* REQUIRED. Frees the instance and every communicator it made. */
  void (*destroy)(void* self);
  /* REQUIRED. The communicator of all ranks; owned by the instance. */
  msw_status* (*world)(void* self, void** out_comm);
  /* REQUIRED. Collective over `parent`: ranks with equal `color` form a new communicator, ordered by
   * `key`; owned by the instance. */
  msw_status* (*split)(void* self, void* parent, int32_t color, int32_t key, void** out_comm);
  /* REQUIRED. Rank and size of a communicator made by this instance. */
  int32_t (*comm_rank)(const void* comm);
  int32_t (*comm_size)(const void* comm);
  /* REQUIRED. Collectives, with comm.h's semantics; requests are owned by the caller until wait. */
  msw_status* (*all_reduce)(void* comm, msw_tensor* inout, int32_t op, void* stream, void** out_request);
  msw_status* (*reduce_scatter)(void* comm, const msw_tensor* input, msw_tensor* output, int32_t op,
                                void* stream, void** out_request);
  msw_status* (*all_gather)(void* comm, const msw_tensor* input, msw_tensor* output, void* stream,
                            void** out_request);
  msw_status* (*broadcast)(void* comm, msw_tensor* inout, int32_t root, void* stream, void** out_request);
  msw_status* (*send)(void* comm, const msw_tensor* input, int32_t peer, void* stream, void** out_request);
  msw_status* (*recv)(void* comm, msw_tensor* output, int32_t peer, void* stream, void** out_request);
  msw_status* (*barrier)(void* comm);
  msw_status* (*wait)(void* request);
  /* OPTIONAL. 1 when the backend can move tensors of this msw_device_type (NULL: CPU only). */
  int32_t (*supports_device)(int32_t device_type);
} msw_parallel_vtable;

static inline const char* msw_parallel_vtable_missing_required(const msw_parallel_vtable* vt) {
  if (!vt->create) return "create";
  if (!vt->destroy) return "destroy";
  if (!vt->world) return "world";
  if (!vt->split) return "split";
  if (!vt->comm_rank) return "comm_rank";
  if (!vt->comm_size) return "comm_size";
  if (!vt->all_reduce) return "all_reduce";
  if (!vt->reduce_scatter) return "reduce_scatter";
  if (!vt->all_gather) return "all_gather";
  if (!vt->broadcast) return "broadcast";
  if (!vt->send) return "send";
  if (!vt->recv) return "recv";
  if (!vt->barrier) return "barrier";
  if (!vt->wait) return "wait";
  return 0;
}

MSW_EXTERN_C_END

#endif /* MEGASWIFT_C_PARALLEL_H */

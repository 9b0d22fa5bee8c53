/* Parallel plugins (kind MSW_KIND_PARALLEL): the communication engine behind --distributed_backend.
 * First-party: `nccl` (GPUs, across nodes) and `gloo` (CPUs). The host builds Megatron's rank layout
 * (tensor fastest, then context, expert/data, pipeline) by splitting the world communicator into every
 * group msw_exec_ctx names, and exposes the groups to other plugins through msw_comm_api (comm.h), which
 * forwards to this vtable.
 *
 * Plugin communicators are opaque `void*` owned by the plugin instance: they stay valid until `destroy`
 * of the instance that made them. Every operation follows comm.h's contract (args structs, requests,
 * grouping, timeouts, abort); in the args, `comm` is the plugin's own communicator pointer.
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
   * returns only when every rank has joined or the timeout passed (then MSW_STATUS_TIMEOUT naming the
   * ranks that are missing when the backend can tell). The instance is owned by the caller until destroy. */
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
  /* REQUIRED. Collectives, with comm.h's semantics (args->comm is this plugin's communicator);
   * requests are owned by the caller until wait. */
  msw_status* (*all_reduce)(const msw_comm_args* args, void** out_request);
  msw_status* (*reduce_scatter)(const msw_comm_args* args, void** out_request);
  msw_status* (*all_gather)(const msw_comm_args* args, void** out_request);
  msw_status* (*broadcast)(const msw_comm_args* args, void** out_request);
  msw_status* (*all_to_all)(const msw_comm_args* args, void** out_request);
  msw_status* (*send)(const msw_comm_args* args, void** out_request);
  msw_status* (*recv)(const msw_comm_args* args, void** out_request);
  msw_status* (*group_begin)(void* comm);
  msw_status* (*group_end)(void* comm);
  msw_status* (*barrier)(void* comm, int64_t timeout_ms);
  msw_status* (*wait)(void* request, int64_t timeout_ms);
  /* REQUIRED. comm.h's abort. */
  void (*abort)(void* comm);
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
  if (!vt->all_to_all) return "all_to_all";
  if (!vt->send) return "send";
  if (!vt->recv) return "recv";
  if (!vt->group_begin) return "group_begin";
  if (!vt->group_end) return "group_end";
  if (!vt->barrier) return "barrier";
  if (!vt->wait) return "wait";
  if (!vt->abort) return "abort";
  return 0;
}

MSW_EXTERN_C_END

#endif /* MEGASWIFT_C_PARALLEL_H */

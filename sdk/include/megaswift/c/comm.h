/* Collectives on communicators: the table the host hands plugins as msw_host_api.comm.
 *
 * A communicator (msw_comm*) is a process group created by the host from the `parallel` plugin chosen
 * with --distributed_backend (nccl on GPUs, gloo on CPUs); plugins receive the groups they may use in
 * msw_exec_ctx (tp_comm, cp_comm, dp_comm, pp_comm) and never create or free them.
 *
 * Every collective is asynchronous when `out_request` is non-NULL: it returns at once with a request
 * that must be passed to wait() exactly once (wait frees it). With out_request == NULL the call
 * blocks until the result is usable. On CUDA, `stream` orders the operation after prior work on
 * that stream; on CPU it is ignored. Tensors must be contiguous, on the communicator's device, and
 * must stay alive until the operation completes.
 */
#ifndef MEGASWIFT_C_COMM_H
#define MEGASWIFT_C_COMM_H

#include <stdint.h>

#include "abi.h"
#include "host.h"
#include "tensor.h"

MSW_EXTERN_C_BEGIN

typedef enum msw_reduce_op {
  MSW_REDUCE_SUM = 0,
  MSW_REDUCE_AVG = 1,
  MSW_REDUCE_MAX = 2,
  MSW_REDUCE_MIN = 3
} msw_reduce_op;

typedef struct msw_comm_request msw_comm_request;

struct msw_comm_api {
  uint32_t struct_size;
  int32_t (*rank)(const msw_comm* comm); /* this process's rank in the group */
  int32_t (*size)(const msw_comm* comm); /* number of ranks in the group */
  /* In place: every rank ends with op over all ranks' `inout`. */
  msw_status* (*all_reduce)(msw_comm* comm, msw_tensor* inout, int32_t op, void* stream,
                            msw_comm_request** out_request);
  /* `input` has size() times the elements of `output`; rank r receives the reduction of chunk r. */
  msw_status* (*reduce_scatter)(msw_comm* comm, const msw_tensor* input, msw_tensor* output, int32_t op,
                                void* stream, msw_comm_request** out_request);
  /* `output` has size() times the elements of `input`, chunks in rank order. */
  msw_status* (*all_gather)(msw_comm* comm, const msw_tensor* input, msw_tensor* output, void* stream,
                            msw_comm_request** out_request);
  /* `inout` of rank `root` is copied to every rank. */
  msw_status* (*broadcast)(msw_comm* comm, msw_tensor* inout, int32_t root, void* stream,
                           msw_comm_request** out_request);
  /* Point to point (pipeline stages); `peer` is a rank in this group. */
  msw_status* (*send)(msw_comm* comm, const msw_tensor* input, int32_t peer, void* stream,
                      msw_comm_request** out_request);
  msw_status* (*recv)(msw_comm* comm, msw_tensor* output, int32_t peer, void* stream,
                      msw_comm_request** out_request);
  msw_status* (*barrier)(msw_comm* comm);
  /* Blocks until the request completed (on CUDA: until its work is ordered on the stream), then frees
   * it, also on failure. */
  msw_status* (*wait)(msw_comm_request* request);
};

MSW_EXTERN_C_END

#endif /* MEGASWIFT_C_COMM_H */

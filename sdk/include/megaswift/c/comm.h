/* Collectives on communicators: the table the host hands plugins as msw_host_api.comm.
 *
 * A communicator (msw_comm*) is a process group created by the host from the `parallel` plugin chosen
 * with --distributed_backend (nccl on GPUs, gloo on CPUs); plugins receive the groups they may use in
 * msw_exec_ctx (tp_comm, cp_comm, dp_comm, pp_comm, ep_comm, dp_cp_comm, embd_comm, tp_ep_comm) and
 * never create or free them.
 *
 * Every operation takes one args struct (MSW_ARGS_HEADER first: operations gain arguments by appending).
 * It is asynchronous when `out_request` is non-NULL: it returns at once with a request that must be
 * passed to wait() exactly once (wait frees it). With out_request == NULL the call blocks until the result
 * is usable. On CUDA the operation is enqueued on args->stream after the work already there (stream
 * semantics of host.h) and "usable" means ordered on that stream; on CPU the stream is ignored. Tensors
 * must be dense, on the communicator's device, and stay valid until the operation completed.
 *
 * Ordering and deadlocks: every rank of a group must issue the group's collectives in the same order.
 * Point-to-point operations that must progress together (the send and recv of a 1F1B step, the two
 * directions of a ring-attention exchange) go between group_begin and group_end: the backend then issues
 * them as one unit (NCCL's grouped calls), so two ranks that send to each other first cannot deadlock.
 *
 * Failures: timeout_ms in the args (0 = the communicator's default, from --distributed_timeout_minutes)
 * bounds how long a blocking call or wait() may take; past it the status is MSW_STATUS_TIMEOUT naming the
 * operation and the group. abort() cancels everything pending on a communicator (another rank failed):
 * pending and later operations fail with MSW_STATUS_ABORTED.
 */
#ifndef MEGASWIFT_C_COMM_H
#define MEGASWIFT_C_COMM_H

#include <stdint.h>

#include "abi.h"
#include "tensor.h"

MSW_EXTERN_C_BEGIN

typedef struct msw_comm msw_comm;

typedef enum msw_reduce_op {
  MSW_REDUCE_SUM = 0,
  MSW_REDUCE_AVG = 1,
  MSW_REDUCE_MAX = 2,
  MSW_REDUCE_MIN = 3
} msw_reduce_op;

typedef struct msw_comm_request msw_comm_request;

/* The arguments of every collective; each operation's comment says which members it reads.
 *   all_reduce      in place on `output`: every rank ends with `op` over all ranks' `output`.
 *   reduce_scatter  `input` has size() times the elements of `output`; rank r receives the reduction of
 *                   chunk r.
 *   all_gather      `output` has size() times the elements of `input`, chunks in rank order.
 *   broadcast       in place on `output`: rank `peer` (the root) is copied to every rank.
 *   all_to_all      `input` and `output` have size() equal chunks; chunk j of rank i's input becomes
 *                   chunk i of rank j's output (expert-parallel token dispatch). With `send_counts` and
 *                   `recv_counts` (I64 (size()) on the host, elements) the chunks have those sizes.
 *   send            `input` to rank `peer` of the group.
 *   recv            `output` from rank `peer`. */
typedef struct msw_comm_args {
  MSW_ARGS_HEADER;
  msw_comm* comm;
  msw_tensor input;
  msw_tensor output;
  int32_t op;            /* msw_reduce_op */
  int32_t peer;          /* root of broadcast, peer of send/recv */
  void* stream;          /* CUDA stream; NULL: the default stream */
  int64_t timeout_ms;    /* 0: the communicator's default */
  const int64_t* send_counts; /* all_to_all with uneven chunks, else NULL */
  const int64_t* recv_counts;
} msw_comm_args;

typedef struct msw_comm_api {
  uint32_t struct_size;
  uint32_t reserved0;
  int32_t (*rank)(const msw_comm* comm); /* this process's rank in the group */
  int32_t (*size)(const msw_comm* comm); /* number of ranks in the group */
  msw_status* (*all_reduce)(const msw_comm_args* args, msw_comm_request** out_request);
  msw_status* (*reduce_scatter)(const msw_comm_args* args, msw_comm_request** out_request);
  msw_status* (*all_gather)(const msw_comm_args* args, msw_comm_request** out_request);
  msw_status* (*broadcast)(const msw_comm_args* args, msw_comm_request** out_request);
  msw_status* (*all_to_all)(const msw_comm_args* args, msw_comm_request** out_request);
  msw_status* (*send)(const msw_comm_args* args, msw_comm_request** out_request);
  msw_status* (*recv)(const msw_comm_args* args, msw_comm_request** out_request);
  /* Operations issued on `comm` between group_begin and group_end by this thread are started together
   * at group_end (their requests complete after it). Groups do not nest across communicators. */
  msw_status* (*group_begin)(msw_comm* comm);
  msw_status* (*group_end)(msw_comm* comm);
  msw_status* (*barrier)(msw_comm* comm, int64_t timeout_ms);
  /* Blocks until the request completed (on CUDA: until its work is ordered on its stream) or timeout_ms
   * passed (0: the communicator's default; then MSW_STATUS_TIMEOUT), and frees the request either way. */
  msw_status* (*wait)(msw_comm_request* request, int64_t timeout_ms);
  /* Cancels the communicator: pending and later operations on it fail with MSW_STATUS_ABORTED. */
  void (*abort)(msw_comm* comm);
} msw_comm_api;

MSW_EXTERN_C_END

#endif /* MEGASWIFT_C_COMM_H */

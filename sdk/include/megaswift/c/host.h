/* msw_host_api: the function table the host implements and hands to every plugin at load time.
 *
 * A plugin never links against the host: everything it needs from the host arrives through this
 * table (ONNX Runtime's plugin execution providers work the same way), so a plugin builds from the
 * SDK headers alone and a fake table is enough to unit-test it.
 *
 * The members up to and including `log` form the permanent prefix: they keep their offsets across
 * major versions too, so that a plugin of another major can still read the host's version and report
 * why it refuses to load. Everything after the prefix is append-only within a major version; a plugin
 * that wants an entry added in a later minor checks `struct_size > offsetof(msw_host_api, entry)`
 * first (the C++ layer's megaswift::sdk::host_has does this).
 *
 * Threading: every entry may be called from any thread at any time after the entry symbol returned.
 */
#ifndef MEGASWIFT_C_HOST_H
#define MEGASWIFT_C_HOST_H

#include <stdint.h>

#include "abi.h"
#include "tensor.h"

MSW_EXTERN_C_BEGIN

typedef struct msw_ops_api msw_ops_api;   /* kernels/ops table, see ops.h */
typedef struct msw_comm_api msw_comm_api; /* collectives on communicators, see comm.h */
typedef struct msw_comm msw_comm;         /* opaque process group */
typedef struct msw_progress msw_progress; /* opaque progress bar */

/* Where and how an operation runs. The host owns it; a plugin may read it for the duration of the
 * call it was passed to. Grows by struct_size like the vtables. */
typedef struct msw_exec_ctx {
  uint32_t struct_size;
  int32_t num_threads;      /* CPU threads the call may use (--num_threads); >= 1 */
  msw_device device;        /* where tensors of this call live */
  void* stream;             /* cudaStream_t on CUDA, NULL on CPU */
  uint64_t seed;            /* base seed (--seed); combine with rank/step for per-call streams */
  int32_t deterministic;    /* 1 under --deterministic_mode: no atomics-order-dependent kernels */
  int32_t reserved0;
  msw_comm* tp_comm;        /* tensor-parallel group; NULL when TP = 1 */
  msw_comm* cp_comm;        /* context-parallel group; NULL when CP = 1 */
  msw_comm* dp_comm;        /* data-parallel group; NULL when DP = 1 */
  msw_comm* pp_comm;        /* pipeline-parallel group; NULL when PP = 1 */
} msw_exec_ctx;

typedef struct msw_host_api {
  /* ---- permanent prefix: frozen across major versions ---- */
  uint32_t struct_size; /* sizeof(msw_host_api) as compiled into the host */
  uint32_t abi_major;   /* MSW_ABI_MAJOR of the host */
  uint32_t abi_minor;   /* MSW_ABI_MINOR of the host */
  uint32_t reserved0;
  const char* host_version; /* e.g. "0.1.0"; static, owned by the host */

  /* Creates a status with a copy of `message` (UTF-8, may be NULL). The caller owns the result.
   * `code` must not be MSW_STATUS_OK. Never returns NULL: on allocation failure a static
   * out-of-memory status is returned, which status_free accepts. */
  msw_status* (*status_new)(int32_t code, const char* message);
  /* Frees a status; NULL is allowed. */
  void (*status_free)(msw_status* status);
  /* The code of a status (MSW_STATUS_OK for NULL). */
  int32_t (*status_code)(const msw_status* status);
  /* The message of a status, valid until status_free; "" for NULL. */
  const char* (*status_message)(const msw_status* status);
  /* Writes one log line through the host's logger (spdlog, rank-prefixed). `component` names the
   * plugin component (may be NULL); both strings are only read during the call. */
  void (*log)(int32_t level, const char* component, const char* message);
  /* ---- end of the permanent prefix ---- */

  /* The lowest level that log() prints; lets a plugin skip formatting messages nobody sees. */
  int32_t (*log_threshold)(void);

  /* Allocates `bytes` on `device`, aligned to `alignment` (a power of two, 0 = 256). The memory
   * comes from the host's pools (a caching allocator on CUDA) and must be given back with free()
   * on the same device. bytes == 0 yields *out == NULL. */
  msw_status* (*alloc)(msw_device device, size_t bytes, size_t alignment, void** out);
  void (*free)(msw_device device, void* ptr);

  /* Kernel ops table (ops.h). Valid for the life of the process; the host dispatches each op by
   * the device of its tensors, so one model plugin runs on CPU and CUDA unchanged. */
  const msw_ops_api* ops;
  /* Collectives on communicator handles (comm.h). Valid for the life of the process; the
   * communicators themselves are handed to plugins in msw_exec_ctx. */
  const msw_comm_api* comm;

  /* Progress reporting for long jobs (tokenizing a dataset, saving a checkpoint). `label` is copied.
   * total < 0 means unknown. The handle is owned by the caller until progress_end. */
  msw_progress* (*progress_begin)(const char* label, int64_t total);
  void (*progress_advance)(msw_progress* progress, int64_t done);
  void (*progress_end)(msw_progress* progress);

  /* Experimental features outside the versioned ABI, looked up by name; NULL when unknown.
   * A feature moves into this table when it is stable. */
  const void* (*get_extension)(const char* name);
} msw_host_api;

MSW_EXTERN_C_END

#endif /* MEGASWIFT_C_HOST_H */

/* msw_host_api: the function table the host implements and hands to every plugin at load time.
 *
 * A plugin never links against the host: everything it needs from the host arrives through this
 * table (ONNX Runtime's plugin execution providers work the same way), so a plugin builds from the
 * SDK headers alone and a fake table is enough to unit-test it.
 *
 * The members up to and including `log` form the permanent prefix: they keep their offsets across
 * major versions too, so that a plugin of another major can still read the host's version and report
 * why it refuses to load. Everything after the prefix is append-only within a major version; a plugin
 * that uses an entry added in a later minor than the one it targets checks
 * `struct_size > offsetof(msw_host_api, entry)` first (MSW_HOST_HAS in the C++ layer): an older host
 * of the same major may load it (docs/abi.md).
 *
 * Stream semantics (defined here for every kind; the CUDA backend implements them, the CPU backend is
 * synchronous, which satisfies them trivially):
 *   - Work is ENQUEUED on the stream of the msw_exec_ctx a call receives (ctx->stream; NULL is the
 *     device's default stream) and may still be running when the call returns. Every tensor the call
 *     reads or writes must stay valid until the stream has passed that work; a host read of a result
 *     needs an event (event_record + event_synchronize) or stream_synchronize first.
 *   - alloc/free are stream-ordered: memory freed on stream s may be handed out again to work ordered
 *     after it on s at once, and to other streams only after an event. Freeing memory that work on
 *     another stream still uses needs that stream to wait on an event first.
 *   - Scalars a step produces (sum of squares, the loss sum and count, aux losses) are written to
 *     DEVICE tensors, never returned by value, so a training step needs no host synchronisation and
 *     can be captured in a CUDA graph.
 *   - No op allocates device memory or copies a tensor behind the caller's back: scratch comes from the
 *     workspace the caller passes, and a tensor an op cannot take as it is (not dense where dense is
 *     required) is an INVALID_ARGUMENT, not a hidden copy. Every call is therefore capturable. (The CPU
 *     reference backend, which no graph captures, may stage 16-bit data and keep scratch in host memory.)
 *
 * Threading: every entry may be called from any thread at any time after the entry symbol returned.
 */
#ifndef MEGASWIFT_C_HOST_H
#define MEGASWIFT_C_HOST_H

#include <stddef.h>
#include <stdint.h>

#include "abi.h"
#include "tensor.h"

MSW_EXTERN_C_BEGIN

typedef struct msw_ops_api msw_ops_api;   /* kernels/ops table, see ops.h */
typedef struct msw_comm_api msw_comm_api; /* collectives on communicators, see comm.h */
typedef struct msw_comm msw_comm;         /* opaque process group */
typedef struct msw_progress msw_progress; /* opaque progress bar */
typedef struct msw_event msw_event;       /* opaque device event (cudaEvent_t on CUDA) */

/* Where and how an operation runs. The host owns it; a plugin may read it for the duration of the
 * call it was passed to. A record: grows by struct_size. */
typedef struct msw_exec_ctx {
  uint32_t struct_size;
  int32_t num_threads;      /* CPU threads the call may use (--num_threads); >= 1 */
  msw_device device;        /* where tensors of this call live */
  void* stream;             /* cudaStream_t on CUDA (NULL: the default stream), NULL on CPU */
  uint64_t seed;            /* base seed (--seed); combine with rank/step/rng_offset for per-call streams */
  int32_t deterministic;    /* 1 under --deterministic_mode: no atomics-order-dependent kernels */
  int32_t reserved0;
  /* Process groups (NULL when the group has one rank). Megatron's layout: tensor fastest, then
   * context, expert/data, pipeline. */
  msw_comm* tp_comm;        /* tensor-parallel (and sequence-parallel) group */
  msw_comm* cp_comm;        /* context-parallel group (ring attention) */
  msw_comm* dp_comm;        /* data-parallel group */
  msw_comm* pp_comm;        /* pipeline-parallel group */
  msw_comm* ep_comm;        /* expert-parallel group (MoE all-to-all) */
  msw_comm* dp_cp_comm;     /* data x context group: gradients of CP runs are reduced over it */
  msw_comm* embd_comm;      /* first and last pipeline stage: the tied word embedding's gradient */
  msw_comm* tp_ep_comm;     /* expert tensor-parallel x expert-parallel group */
} msw_exec_ctx;

/* Arguments of msw_host_api.alloc. */
typedef struct msw_alloc_args {
  MSW_ARGS_HEADER;
  msw_device device;
  size_t bytes;          /* 0 yields NULL */
  size_t alignment;      /* a power of two; 0 = 256 */
  void* stream;          /* the stream the memory is first used on (stream-ordered); NULL = default */
  uint32_t flags;        /* MSW_ALLOC_* */
  uint32_t reserved0;
} msw_alloc_args;

enum {
  MSW_ALLOC_ZERO = 1,      /* the memory is zero-filled (in stream order) */
  MSW_ALLOC_PERSISTENT = 2 /* lives for the run (parameters, optimizer state): not from the step's cache */
};

/* Arguments of msw_host_api.free. */
typedef struct msw_free_args {
  MSW_ARGS_HEADER;
  msw_device device;
  void* ptr;             /* NULL is allowed */
  void* stream;          /* the last stream that used it: the memory is reusable in its order */
} msw_free_args;

/* A plugin-provided op (ONNX Runtime's custom ops): a named kernel for one device type that any
 * plugin may look up and call through the host, so a model plugin can bring the op its architecture
 * needs (CPU, and optionally CUDA) without the host knowing it. The op follows ops.h's conventions
 * (ctx first, one args struct, stream semantics); the args struct is the op's own, starting with
 * MSW_ARGS_HEADER, documented by whoever registers it. */
typedef msw_status* (*msw_custom_op_fn)(const msw_exec_ctx* ctx, const void* args);

typedef struct msw_custom_op {
  uint32_t struct_size;
  int32_t device_type;     /* msw_device_type this implementation runs on */
  const char* name;        /* "<plugin>.<op>", e.g. "gemma.geglu_forward"; [a-z0-9_.]+; copied */
  const char* summary;     /* one line; may be NULL; copied */
  msw_custom_op_fn fn;     /* must stay valid for the process (plugins are never unloaded) */
} msw_custom_op;

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

  /* Allocates from the host's pools (a caching allocator on CUDA, aligned blocks on CPU), stream
   * ordered (see the top of this file). Give it back with free() on the same device. */
  msw_status* (*alloc)(const msw_alloc_args* args, void** out);
  void (*free)(const msw_free_args* args);

  /* Kernel ops table (ops.h). Valid for the life of the process; the host dispatches each op by
   * the device of ctx, so one model plugin runs on CPU and CUDA unchanged. */
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

  /* ==== since ABI 2.1 ==== (a plugin targeting 2.0 checks MSW_HOST_HAS before using these) */

  /* ---- events and streams (CUDA; on CPU events are complete at once and waits return) ---- */
  /* Creates an event on `device`; owned by the caller until event_destroy. */
  msw_status* (*event_create)(msw_device device, msw_event** out);
  void (*event_destroy)(msw_event* event);
  /* Marks the point `stream` has reached (all work enqueued on it so far). */
  msw_status* (*event_record)(msw_event* event, void* stream);
  /* Orders all later work on `stream` after the event, without blocking the host. */
  msw_status* (*stream_wait_event)(void* stream, msw_event* event);
  /* Blocks the calling thread until the event has completed. */
  msw_status* (*event_synchronize)(msw_event* event);
  /* Blocks until every piece of work enqueued on `stream` of `device` has completed. */
  msw_status* (*stream_synchronize)(msw_device device, void* stream);

  /* ---- plugin-provided ops ---- */
  /* Registers `op` (its strings are copied). A second registration of the same (name, device_type)
   * is an INVALID_ARGUMENT naming both. Call it from the plugin's entry or an instance's create. */
  msw_status* (*register_op)(const msw_custom_op* op);
  /* The implementation of `name` for `device_type`, or NULL when none is registered. */
  msw_custom_op_fn (*find_op)(const char* name, int32_t device_type);
  /* Runs `name` on ctx->device: a NOT_FOUND naming the op and the device when none is registered. */
  msw_status* (*call_op)(const char* name, const msw_exec_ctx* ctx, const void* args);
} msw_host_api;

MSW_EXTERN_C_END

#endif /* MEGASWIFT_C_HOST_H */

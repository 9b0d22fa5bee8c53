/* Megaswift plugin ABI: versions, export macro, status objects, plugin kinds, the rules every
 * struct crossing the boundary follows.
 *
 * This directory is the stable boundary between the host and every plugin. It is C11 (and C++17)
 * clean and includes only <stdint.h>, <stddef.h> and <stdbool.h>. docs/abi.md is the policy in full
 * (what a minor may add, what needs a major, the platform). In short:
 *   - The platform is 64-bit little-endian (LP64); every struct is naturally aligned, no packing
 *     pragmas; tests/abi/ freezes the offset of every member and the size of every struct.
 *   - Everything that crosses is one of: a vtable (a table of entries, first member
 *     `uint32_t struct_size`), a record (plain data, first member `uint32_t struct_size`), or an
 *     args struct (the arguments of one call that may grow: MSW_ARGS_HEADER first). A minor only
 *     APPENDS members to these; whoever reads a struct reads only the members its struct_size covers
 *     and treats the rest as zero (MSW_HAS_MEMBER), so both an older plugin on a newer host and a
 *     newer plugin on an older host work, for everything they have in common.
 *   - Arrays of records travel as (pointer, count, element size): the element size is the
 *     writer's sizeof, so an array of a newer (longer) record is still walked correctly.
 *   - Enums have explicit values and cross the boundary as int32_t, never as the enum type.
 *   - No C++ type, no exception and no allocation of one side freed by the other crosses it.
 *   - Buffers that a callee fills follow one protocol (MSW buffer protocol below).
 */
#ifndef MEGASWIFT_C_ABI_H
#define MEGASWIFT_C_ABI_H

#include <stddef.h>
#include <stdint.h>

/* The ABI this header describes. A plugin records the version it was compiled against and the minor
 * it needs at run time (MSW_PLUGIN_TARGET_MINOR, plugin.h); see docs/abi.md for the rule. */
#define MSW_ABI_MAJOR 2
#define MSW_ABI_MINOR 4

#ifdef __cplusplus
#define MSW_EXTERN_C extern "C"
#define MSW_EXTERN_C_BEGIN extern "C" {
#define MSW_EXTERN_C_END }
#else
#define MSW_EXTERN_C
#define MSW_EXTERN_C_BEGIN
#define MSW_EXTERN_C_END
#endif

#if defined(_WIN32)
#define MSW_EXPORT __declspec(dllexport)
#else
#define MSW_EXPORT __attribute__((visibility("default")))
#endif

MSW_EXTERN_C_BEGIN

/* A failure travels as a `msw_status*`; NULL means success. Statuses are created by the host
 * (msw_host_api.status_new) and owned by whoever receives one, who frees it with status_free.
 * A function that fails leaves its out-parameters untouched. */
typedef struct msw_status msw_status;

typedef enum msw_status_code {
  MSW_STATUS_OK = 0,
  MSW_STATUS_INVALID_ARGUMENT = 1, /* a bad value from the user or the caller */
  MSW_STATUS_NOT_FOUND = 2,        /* a missing file, key, tensor or component */
  MSW_STATUS_IO = 3,               /* reading or writing failed */
  MSW_STATUS_UNSUPPORTED = 4,      /* valid, but this plugin or device cannot do it */
  MSW_STATUS_SHAPE_MISMATCH = 5,   /* tensor shapes or dtypes disagree */
  MSW_STATUS_OUT_OF_MEMORY = 6,
  MSW_STATUS_VERSION_MISMATCH = 7, /* ABI or file-format version refused */
  MSW_STATUS_NUMERICAL = 8,        /* NaN or Inf where a finite value is required */
  MSW_STATUS_INTERNAL = 9,         /* a bug: report it */
  MSW_STATUS_TIMEOUT = 10,         /* a collective, a lock or a wait ran past its deadline */
  MSW_STATUS_ABORTED = 11          /* the operation was cancelled (a communicator was aborted, a signal) */
} msw_status_code;

/* ---- extension chains (Vulkan's sType/pNext) ----
 * Every args struct may carry a chain of extension records for options that only some callers or
 * some implementations know. A reader walks the chain and ignores types it does not know, unless the
 * record's MSW_EXT_REQUIRED bit is set: then an implementation that does not know the type fails with
 * MSW_STATUS_UNSUPPORTED naming it (so a caller can demand, say, fp8 scales be honoured). Types below
 * 0x10000 are the SDK's; plugins pick theirs from a hash of their name with bit 30 set. */
typedef struct msw_ext {
  uint32_t struct_size;
  int32_t type;               /* bit 31 (MSW_EXT_REQUIRED) marks a record that must be understood */
  const struct msw_ext* next; /* NULL ends the chain */
} msw_ext;

#define MSW_EXT_REQUIRED ((int32_t)0x80000000u)

/* The first members of every args struct. `struct_size` is sizeof as compiled by the CALLER; `next`
 * starts the extension chain (may be NULL). */
#define MSW_ARGS_HEADER \
  uint32_t struct_size;   \
  uint32_t reserved_hdr;  \
  const msw_ext* next

/* True when the struct at `ptr` (of type `type`, read through its struct_size) contains `member`:
 * members past the writer's struct_size are absent and must be read as zero. */
#define MSW_HAS_MEMBER(ptr, type, member) \
  ((size_t)(ptr)->struct_size >= offsetof(type, member) + sizeof(((type*)0)->member))

/* ---- the MSW buffer protocol ----
 * Every entry that returns variable-sized data into a caller's buffer takes (out, capacity, needed):
 *   - The callee ALWAYS sets *needed to the full size: elements for arrays, bytes INCLUDING a
 *     terminating NUL for text (text may contain NUL bytes; its length is *needed - 1).
 *   - It writes the result only when it fits completely (capacity >= *needed); otherwise it writes
 *     nothing into `out` and still succeeds, and the caller calls again with a larger buffer.
 *   - `out` may be NULL when capacity is 0.
 * megaswift/sdk/buffer.hpp does the retry loop. */

/* The kinds of components a plugin library can provide; values are frozen. */
typedef enum msw_plugin_kind {
  MSW_KIND_MODEL = 1,
  MSW_KIND_PARALLEL = 2,
  MSW_KIND_OPTIMIZER = 3,
  MSW_KIND_TOKENIZER = 4,
  MSW_KIND_TEMPLATE = 5,
  MSW_KIND_CHECKPOINT = 6
} msw_plugin_kind;

typedef enum msw_log_level {
  MSW_LOG_TRACE = 0,
  MSW_LOG_DEBUG = 1,
  MSW_LOG_INFO = 2,
  MSW_LOG_WARN = 3,
  MSW_LOG_ERROR = 4,
  MSW_LOG_CRITICAL = 5
} msw_log_level;

MSW_EXTERN_C_END

#endif /* MEGASWIFT_C_ABI_H */

/* Megaswift plugin ABI: versions, export macro, status objects, plugin kinds.
 *
 * This directory is the stable boundary between the host and every plugin. It is C11 (and C++17)
 * clean and includes only <stdint.h>, <stddef.h> and <stdbool.h>. Rules that keep it stable:
 *   - Tables and vtables are append-only within a major version; every member's offset is frozen by
 *     static asserts in tests/abi/.
 *   - Every vtable a plugin implements starts with `uint32_t struct_size` (sizeof as compiled into the
 *     plugin); the host reads only what the plugin's size covers, so a plugin built against an older
 *     minor simply lacks the newer entries.
 *   - Enums have explicit values and cross the boundary as int32_t, never as the enum type.
 *   - No C++ type, no exception and no allocation of one side freed by the other crosses it.
 */
#ifndef MEGASWIFT_C_ABI_H
#define MEGASWIFT_C_ABI_H

#include <stddef.h>
#include <stdint.h>

#define MSW_ABI_MAJOR 1
#define MSW_ABI_MINOR 0

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
  MSW_STATUS_INTERNAL = 9          /* a bug: report it */
} msw_status_code;

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

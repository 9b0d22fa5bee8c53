/* The plugin descriptor and the one symbol every plugin library exports.
 *
 * A plugin library is a shared object named libmegaswift_<kind>_<name>.so that exports exactly one
 * symbol, `msw_plugin_entry`. The host looks for libraries in, in order: --plugin_path,
 * MEGASWIFT_PLUGIN_PATH (':'-separated), <exe>/../lib/megaswift/plugins. Libraries are never
 * unloaded, so any pointer a plugin hands out may live until the process exits.
 *
 * Loading, and the version rule (docs/abi.md):
 *   1. The host calls msw_plugin_entry(host, &status). The plugin reads the permanent prefix of
 *      msw_host_api and refuses a host whose major differs from its own, or whose minor is older than
 *      the minor the plugin TARGETS (MSW_PLUGIN_TARGET_MINOR, default 0: the plugin uses nothing newer
 *      than x.0 unconditionally), by returning NULL and setting *status to a message naming both
 *      versions. A plugin compiled against a newer minor than the host's, but targeting one the host
 *      has, loads; it checks MSW_HOST_HAS before using an entry of a newer minor than it targets.
 *   2. Otherwise the plugin returns its static descriptor. The host refuses a descriptor whose
 *      abi_major differs from its own or whose target_minor is newer than its own minor, naming both
 *      versions; it then refuses a component whose (kind, name) another library already registered.
 *      It reads the plugin's vtables and records through their struct_size, so a plugin compiled
 *      against an older minor simply lacks the newer members (read as zero/NULL).
 *   The first five members of msw_plugin_desc are frozen across majors so step 2 can always read
 *   them.
 */
#ifndef MEGASWIFT_C_PLUGIN_H
#define MEGASWIFT_C_PLUGIN_H

#include <stdint.h>

#include "abi.h"
#include "host.h"

MSW_EXTERN_C_BEGIN

/* One component: a (kind, name) pair and the vtable that implements it. The vtable is one of
 * msw_model_vtable, msw_parallel_vtable, msw_optimizer_vtable, msw_tokenizer_vtable,
 * msw_template_vtable or msw_checkpoint_vtable, chosen by `kind`, and starts with its struct_size. */
typedef struct msw_component {
  uint32_t struct_size;
  int32_t kind;          /* msw_plugin_kind */
  const char* name;      /* unique within the kind, e.g. "qwen2"; [a-z0-9_]+ */
  const char* version;   /* the component's own version, e.g. "1.2.0" */
  const char* summary;   /* one line for `megatron plugins`; may be NULL */
  const void* vtable;
} msw_component;

typedef struct msw_plugin_desc {
  /* ---- frozen across majors ---- */
  uint32_t struct_size;
  uint32_t abi_major; /* MSW_ABI_MAJOR the plugin was compiled against */
  uint32_t abi_minor; /* MSW_ABI_MINOR the plugin was compiled against (the sizes of its structs) */
  const char* name;   /* library name, e.g. "qwen2" */
  const char* version;
  /* ---- end of frozen part ---- */
  uint32_t target_minor;            /* the oldest host minor the plugin runs on (MSW_PLUGIN_TARGET_MINOR) */
  uint32_t reserved0;
  const msw_component* components;  /* component_count records of component_size bytes, static */
  size_t component_count;
  size_t component_size;
} msw_plugin_desc;

/* The minor a plugin needs at run time; define it before including the SDK to use entries of a later
 * minor unconditionally (e.g. `#define MSW_PLUGIN_TARGET_MINOR 1` for msw_host_api.register_op). */
#ifndef MSW_PLUGIN_TARGET_MINOR
#define MSW_PLUGIN_TARGET_MINOR 0
#endif

#define MSW_PLUGIN_ENTRY_SYMBOL "msw_plugin_entry"

/* Returns a descriptor that stays valid for the life of the process, or NULL with *status set.
 * `host` stays valid for the life of the process too; the plugin may keep the pointer. */
typedef const msw_plugin_desc* (*msw_plugin_entry_fn)(const msw_host_api* host, msw_status** status);

MSW_EXTERN_C_END

#endif /* MEGASWIFT_C_PLUGIN_H */

/* The plugin descriptor and the one symbol every plugin library exports.
 *
 * A plugin library is a shared object named libmegaswift_<kind>_<name>.so that exports exactly one
 * symbol, `msw_plugin_entry`. The host looks for libraries in, in order: --plugin_path,
 * MEGASWIFT_PLUGIN_PATH (':'-separated), <exe>/../lib/megaswift/plugins. Libraries are never
 * unloaded, so any pointer a plugin hands out may live until the process exits.
 *
 * Loading:
 *   1. The host calls msw_plugin_entry(host, &status). The plugin checks the host's ABI (the
 *      permanent prefix of msw_host_api): it refuses a host whose major differs from its own or whose
 *      minor is older than its own, by returning NULL and setting *status to a message naming both
 *      versions.
 *   2. Otherwise the plugin returns its static descriptor. The host refuses a descriptor whose
 *      abi_major differs from its own or whose abi_minor is newer, naming both versions; it then
 *      refuses a component whose (kind, name) another library already registered.
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
  uint32_t abi_minor; /* MSW_ABI_MINOR the plugin was compiled against */
  const char* name;   /* library name, e.g. "qwen2" */
  const char* version;
  /* ---- end of frozen part ---- */
  const msw_component* components; /* array of num_components, static */
  uint32_t num_components;
} msw_plugin_desc;

#define MSW_PLUGIN_ENTRY_SYMBOL "msw_plugin_entry"

/* Returns a descriptor that stays valid for the life of the process, or NULL with *status set.
 * `host` stays valid for the life of the process too; the plugin may keep the pointer. */
typedef const msw_plugin_desc* (*msw_plugin_entry_fn)(const msw_host_api* host, msw_status** status);

MSW_EXTERN_C_END

#endif /* MEGASWIFT_C_PLUGIN_H */

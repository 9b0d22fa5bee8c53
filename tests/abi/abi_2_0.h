/* The sizes of the structs that grew in ABI 2.1, as a plugin or host compiled against the 2.0 headers has
 * them: each 2.0 struct ends where the first 2.1 member starts (a minor only appends). The ABI tests use
 * them to act as a 2.0 plugin (records, args and vtables of these sizes) and as a 2.0 host (a host table
 * of this size, abi_minor 0); abi_layout.c freezes the numbers. */
#ifndef MEGASWIFT_TESTS_ABI_2_0_H
#define MEGASWIFT_TESTS_ABI_2_0_H

#include <megaswift/c/host.h>
#include <megaswift/c/model.h>
#include <megaswift/c/ops.h>

#include <stddef.h>

#define MSW_2_0_HOST_API_SIZE offsetof(msw_host_api, event_create)
#define MSW_2_0_MODEL_VTABLE_SIZE offsetof(msw_model_vtable, layer_decode)
#define MSW_2_0_ATTENTION_ARGS_SIZE offsetof(msw_attention_args, window_left)

#endif /* MEGASWIFT_TESTS_ABI_2_0_H */

/* An optimizer vtable with every required entry and no arithmetic: the test plugins here are about what the
 * registry does with a library (its file, its names), not about optimizing. */
#ifndef MSW_TEST_STUB_OPTIMIZER_H
#define MSW_TEST_STUB_OPTIMIZER_H

#include <megaswift/c/optimizer.h>
#include <megaswift/c/plugin.h>

#include <stdlib.h>

static msw_status* stub_create(const char* config_json, void** out_self) {
  (void)config_json;
  *out_self = malloc(1);
  return NULL;
}
static void stub_destroy(void* self) { free(self); }
static int32_t stub_state_count(const void* self) {
  (void)self;
  return 0;
}
static const char* stub_state_name(const void* self, int32_t i) {
  (void)self;
  (void)i;
  return NULL;
}
static msw_status* stub_step(void* self, const msw_exec_ctx* ctx, const msw_optimizer_step_args* args) {
  (void)self;
  (void)ctx;
  (void)args;
  return NULL;
}
static const msw_optimizer_vtable stub_optimizer_vt = {sizeof(msw_optimizer_vtable), stub_create, stub_destroy,
                                                        stub_state_count, stub_state_name, stub_step};

#endif

/* A third-party template library that names one of its templates "qwen", like a built-in one, beside a
 * name of its own. The host must refuse this library, not the built-in one. */
#include <megaswift/c/plugin.h>
#include <megaswift/c/template.h>

#include <stdlib.h>

static msw_status* create(const char* config_json, void** out_self) {
  (void)config_json;
  *out_self = malloc(1);
  return NULL;
}
static void destroy(void* self) { free(self); }
static msw_status* render(const void* self, const msw_render_args* args) {
  (void)self;
  (void)args;
  return NULL;
}
static const char* no_text(const void* self) {
  (void)self;
  return NULL;
}
static size_t stop_word_count(const void* self) {
  (void)self;
  return 0;
}
static const char* stop_word(const void* self, size_t i) {
  (void)self;
  (void)i;
  return NULL;
}
static const char* const k_any_model[] = {"*", NULL};
static const char* const* model_types(const void* self) {
  (void)self;
  return k_any_model;
}

static const msw_template_vtable vt = {sizeof(msw_template_vtable), create, destroy, render, no_text,
                                       stop_word_count, stop_word, no_text, model_types};
static const msw_component components[] = {
    {sizeof(msw_component), MSW_KIND_TEMPLATE, "clash_own", "0.1.0", "a name of its own", &vt},
    {sizeof(msw_component), MSW_KIND_TEMPLATE, "qwen", "0.1.0", "named like the built-in", &vt},
};
static const msw_plugin_desc desc = {sizeof(msw_plugin_desc), MSW_ABI_MAJOR, MSW_ABI_MINOR, "clash", "0.1.0",
                                     0, 0, components, 2, sizeof(msw_component)};

MSW_EXPORT const msw_plugin_desc* msw_plugin_entry(const msw_host_api* host, msw_status** status) {
  (void)host;
  (void)status;
  return &desc;
}

/* A plugin whose strings are hostile to a terminal. ODD_TEXT_VARIANT picks which:
 *   1: a component name with an ANSI escape (refused), plugin name with a carriage return;
 *   2: a component name in Latin-1, not UTF-8 (refused);
 *   3: a clean component name, but a version, summary and plugin version holding an escape, a newline, a
 *      lone UTF-8 continuation byte and a right-to-left override (loads; shown escaped). */
#include "stub_optimizer.h"

#if ODD_TEXT_VARIANT == 1
#define PLUGIN_NAME "esc\rname"
#define COMPONENT_NAME "esc\x1b[31mred"
#define VERSION "0.1.0"
#define SUMMARY "plain"
#define PLUGIN_VERSION "0.1.0"
#elif ODD_TEXT_VARIANT == 2
#define PLUGIN_NAME "latin1"
#define COMPONENT_NAME "caf\xe9"
#define VERSION "0.1.0"
#define SUMMARY "plain"
#define PLUGIN_VERSION "0.1.0"
#else
#define PLUGIN_NAME "odd_text"
#define COMPONENT_NAME "odd_text"
#define VERSION "1.0\x1b[2J"
#define SUMMARY "line one\nline two \x9b caf\xc3\xa9"
#define PLUGIN_VERSION "\xe2\x80\xae" "1.0"
#endif

static const msw_component components[] = {
    {sizeof(msw_component), MSW_KIND_OPTIMIZER, COMPONENT_NAME, VERSION, SUMMARY, &stub_optimizer_vt},
};
static const msw_plugin_desc desc = {sizeof(msw_plugin_desc), MSW_ABI_MAJOR, MSW_ABI_MINOR, PLUGIN_NAME,
                                     PLUGIN_VERSION, 0, 0, components, 1, sizeof(msw_component)};

MSW_EXPORT const msw_plugin_desc* msw_plugin_entry(const msw_host_api* host, msw_status** status) {
  (void)host;
  (void)status;
  return &desc;
}

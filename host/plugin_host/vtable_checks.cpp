#include "host/plugin_host/vtable_checks.hpp"

#include <megaswift/c/checkpoint.h>
#include <megaswift/c/optimizer.h>
#include <megaswift/c/parallel.h>
#if __has_include(<megaswift/c/model.h>)
#include <megaswift/c/model.h>
#define MSW_HAVE_MODEL_H 1
#endif
#if __has_include(<megaswift/c/tokenizer.h>)
#include <megaswift/c/tokenizer.h>
#define MSW_HAVE_TOKENIZER_H 1
#endif
#if __has_include(<megaswift/c/template.h>)
#include <megaswift/c/template.h>
#define MSW_HAVE_TEMPLATE_H 1
#endif

#include <cstring>

namespace megaswift::host {
namespace {

// Copies the plugin's vtable into a zeroed host-sized one (entries past its struct_size read as NULL)
// and asks the kind's header which required entry is missing.
template <class VT, class Check>
std::string check(const void* vtable, Check missing) {
  uint32_t size = *static_cast<const uint32_t*>(vtable);
  if (size < sizeof(uint32_t) + sizeof(void*)) return "struct_size";
  VT copy{};
  std::memcpy(&copy, vtable, size < sizeof(VT) ? size : sizeof(VT));
  const char* name = missing(&copy);
  return name ? name : "";
}

}  // namespace

std::string missing_required_entry(msw_plugin_kind kind, const void* vtable) {
  switch (kind) {
    case MSW_KIND_PARALLEL: return check<msw_parallel_vtable>(vtable, msw_parallel_vtable_missing_required);
    case MSW_KIND_OPTIMIZER: return check<msw_optimizer_vtable>(vtable, msw_optimizer_vtable_missing_required);
    case MSW_KIND_CHECKPOINT: return check<msw_checkpoint_vtable>(vtable, msw_checkpoint_vtable_missing_required);
#ifdef MSW_HAVE_MODEL_H
    case MSW_KIND_MODEL: return check<msw_model_vtable>(vtable, msw_model_vtable_missing_required);
#endif
#ifdef MSW_HAVE_TOKENIZER_H
    case MSW_KIND_TOKENIZER: return check<msw_tokenizer_vtable>(vtable, msw_tokenizer_vtable_missing_required);
#endif
#ifdef MSW_HAVE_TEMPLATE_H
    case MSW_KIND_TEMPLATE: return check<msw_template_vtable>(vtable, msw_template_vtable_missing_required);
#endif
    default: return "";
  }
}

}  // namespace megaswift::host

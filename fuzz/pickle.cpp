// The restricted pickle VM of the torch formats (plugins/torch_formats: parse_pickle), then the common-state
// consumer that turns a pickle (Megatron's common.pt) into JSON with its depth limit.
#include "common_state.hpp"
#include "fuzz_support.hpp"
#include "pickle.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  try {
    const torchfmt::Pickle p = torchfmt::parse_pickle(data, size, "common.pt");
    if (p.root()) (void)torchfmt::to_json(p.root(), "common.pt");
  } catch (const megaswift::sdk::Error& e) {
    msw_fuzz::check_message(e);
  }
  return 0;
}

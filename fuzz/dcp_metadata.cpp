// torch_dist's DCP .metadata (plugins/torch_formats: parse_dcp_metadata): a pickled Metadata or
// MCoreMetadata, validated into tensors, chunks and storage locations.
#include "dcp_metadata.hpp"
#include "fuzz_support.hpp"

#include <megaswift/sdk/status.hpp>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  try {
    (void)torchfmt::parse_dcp_metadata(data, size, ".metadata");
  } catch (const megaswift::sdk::Error& e) {
    msw_fuzz::check_message(e);
  }
  return 0;
}

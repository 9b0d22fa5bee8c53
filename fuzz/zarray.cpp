// zarr's .zarray metadata (plugins/zarr: parse_zarray), as the zarr checkpoint reader validates each array,
// then the chunk file names it derives from the grid.
#include "fuzz_support.hpp"
#include "plugins/zarr/src/zarray.hpp"

#include <megaswift/sdk/status.hpp>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  try {
    const auto z = megaswift::zarr::parse_zarray(std::string(msw_fuzz::as_text(data, size)), "ckpt/key/.zarray");
    (void)z.chunk_key(megaswift::zarr::Dims(z.shape.size(), 0));
  } catch (const megaswift::sdk::Error& e) {
    msw_fuzz::check_message(e);
  }
  return 0;
}

// An hdf5 checkpoint file as the hdf5 plugin scans it (plugins/hdf5: scan_files): the root attributes, every
// shard dataset's key/global_shape/global_offset/dtype attributes and the index checks. The input is the
// whole rank_0.h5 file.
#include "fuzz_support.hpp"
#include "hdf5_format.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const auto& dir = msw_fuzz::scratch();
  dir.clear();
  dir.write("rank_0.h5", msw_fuzz::as_text(data, size));
  try {
    megaswift::hdf5::Silence quiet;
    (void)megaswift::hdf5::scan_files(dir.path().string());
  } catch (const megaswift::sdk::Error& e) {
    msw_fuzz::check_message(e);
  }
  return 0;
}

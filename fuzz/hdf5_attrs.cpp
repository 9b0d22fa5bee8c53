// An hdf5 checkpoint file as the hdf5 plugin's reader scans it (plugins/hdf5: isolated_scan, then scan_files):
// the root attributes, every shard dataset's key/global_shape/global_offset/dtype attributes and the index
// checks. The input is the whole rank_0.h5 file.
#include "fuzz_support.hpp"
#include "hdf5_format.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const auto& dir = msw_fuzz::scratch();
  dir.clear();
  dir.write("rank_0.h5", msw_fuzz::as_text(data, size));
  try {
    // As the reader does: libhdf5 walks the metadata in a child first (a damaged file that makes libhdf5 loop or
    // crash is refused there; 5 s keeps it inside libFuzzer's -timeout), then in this process.
    megaswift::hdf5::isolated_scan(dir.path().string(), 5.0);
    megaswift::hdf5::Silence quiet;
    (void)megaswift::hdf5::scan_files(dir.path().string());
  } catch (const megaswift::sdk::Error& e) {
    msw_fuzz::check_message(e);
  }
  return 0;
}

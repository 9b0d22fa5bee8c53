// The torch.save ZIP reader (plugins/torch_formats: ZipReader), as the legacy torch checkpoint reader opens
// an archive: central directory, every local header, each record's bytes and CRC.
#include "fuzz_support.hpp"
#include "zip.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  try {
    const torchfmt::ZipReader zip(data, size, "model_optim_rng.pt");
    unsigned sum = 0;
    for (const auto& r : zip.records()) {
      if (zip.find(r.name) == nullptr) std::abort();
      const auto bytes = zip.data(r);
      if (!bytes.empty()) sum += static_cast<unsigned char>(bytes.front()) + static_cast<unsigned char>(bytes.back());
      zip.verify_crc(r);
    }
    msw_fuzz::sink = sum;
  } catch (const megaswift::sdk::Error& e) {
    msw_fuzz::check_message(e);
  }
  return 0;
}

// The host's safetensors reader (host/model/safetensors): what megatron/swift use to read HF weights. The
// input is a whole .safetensors file; every tensor it accepts is read end to end.
#include "fuzz_support.hpp"
#include "quiet_logs.hpp"
#include "host/core/status.hpp"
#include "host/model/safetensors.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const auto path = msw_fuzz::scratch().write("model.safetensors", msw_fuzz::as_text(data, size));
  try {
    megaswift::host::SafetensorsFile file(path);
    unsigned sum = 0;
    for (const auto& e : file.entries()) {
      const auto bytes = file.bytes(e);
      if (!bytes.empty()) sum += static_cast<unsigned>(bytes.front()) + static_cast<unsigned>(bytes.back());
      (void)file.descriptor(e);
      if (file.find(e.name) != &e) std::abort();
    }
    msw_fuzz::sink = sum;
  } catch (const megaswift::host::HostError& e) {
    msw_fuzz::check_message(e);
  }
  return 0;
}

// The safetensors checkpoint plugin's header reader (plugins/safetensors: st::read_header), which validates
// a whole .safetensors file before any tensor byte is used. Each accepted tensor is then read.
#include "fuzz_support.hpp"
#include "header.hpp"
#include "reader.hpp"

#include <megaswift/sdk/status.hpp>

#include <vector>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const auto path = msw_fuzz::scratch().write("model.safetensors", msw_fuzz::as_text(data, size));
  try {
    st::OpenFile file{st::open_read(path.string()), {}};
    file.header = st::read_header(file.fd);
    std::vector<char> buffer;
    for (const auto& t : file.header.tensors) {
      buffer.resize(static_cast<size_t>(t.end - t.begin));
      st::read_tensor_bytes(file, t, buffer.data());
    }
  } catch (const megaswift::sdk::Error& e) {
    msw_fuzz::check_message(e);
  }
  return 0;
}

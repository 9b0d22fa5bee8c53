// The check every plugin library passes before dlopen (host/plugin_host/elf_check): the input is the file.
// The in-memory form is what the file form runs after its regular-file check; both are driven, the file
// form on every 16th input to keep the rate up.
#include "fuzz_support.hpp"
#include "host/plugin_host/elf_check.hpp"

#include <cstring>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const auto read_at = [&](uint64_t offset, void* out, size_t n) {
    if (offset > size || n > size - offset) return false;
    std::memcpy(out, data + offset, n);
    return true;
  };
  const std::string problem = megaswift::host::elf_image_problem(size, read_at);
  if (size % 16 == 0) {
    const auto path = msw_fuzz::scratch().write("libmegaswift_fuzz.so", msw_fuzz::as_text(data, size));
    // Same bytes, same verdict: a regular file holding an image is judged as the image is.
    const std::string from_file = megaswift::host::elf_file_problem(path);
    if (problem.empty() != from_file.empty()) {
      std::fprintf(stderr, "elf_check: memory says '%s', file says '%s'\n", problem.c_str(), from_file.c_str());
      std::abort();
    }
  }
  return 0;
}

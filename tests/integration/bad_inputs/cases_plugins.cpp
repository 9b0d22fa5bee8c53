// Plugin files in --plugin_path: damaged, foreign or special files are refused with what is wrong with them, and the
// healthy plugins still load (so `megatron plugins` lists the refusal and exits 0).
#include "bad_input_case.hpp"

#include <cstdint>
#include <string>

namespace {

using namespace megaswift::bad_inputs;

std::vector<std::string> plugins() { return {"megatron", "plugins", "--plugin_path", "p"}; }

// A 64-byte ELF header with the given class, byte order, type and machine; the rest zero.
std::string elf_header(uint8_t elf_class, uint8_t data, uint16_t type, uint16_t machine) {
  std::string h(64, '\0');
  h[0] = 0x7f;
  h[1] = 'E';
  h[2] = 'L';
  h[3] = 'F';
  h[4] = static_cast<char>(elf_class);
  h[5] = static_cast<char>(data);
  h[6] = 1;
  h[16] = static_cast<char>(type & 0xff);
  h[17] = static_cast<char>(type >> 8);
  h[18] = static_cast<char>(machine & 0xff);
  h[19] = static_cast<char>(machine >> 8);
  return h;
}

constexpr const char* kRefused = "not a loadable shared library";

}  // namespace

BAD_INPUT("plugin: an empty .so is refused by name") {
  return {.input = "an empty `p/libmegaswift_model_x.so`", .wrong = "no bytes", .files = {text("p/libmegaswift_model_x.so", "")}, .args = plugins(),
          .exit_code = 0, .message = "it is empty (0 bytes)"};
}
BAD_INPUT("plugin: a text file named .so is refused by name") {
  return {.input = "`p/libmegaswift_model_x.so` holding `this is text`", .wrong = "not ELF", .files = {text("p/libmegaswift_model_x.so", "this is text")},
          .args = plugins(), .exit_code = 0, .message = "it is not an ELF file"};
}
BAD_INPUT("plugin: a 64-byte ELF header alone is refused as truncated") {
  return {.input = "`p/libmegaswift_model_x.so` of a bare 64-byte header", .wrong = "truncated",
          .files = {text("p/libmegaswift_model_x.so", elf_header(2, 1, 3, 62))}, .args = plugins(), .exit_code = 0, .message = kRefused};
}
BAD_INPUT("plugin: a 32-bit ELF is refused by class") {
  return {.input = "a 32-bit ELF `.so`", .wrong = "wrong class", .files = {text("p/libmegaswift_model_x.so", elf_header(1, 1, 3, 3))},
          .args = plugins(), .exit_code = 0, .message = "32-bit ELF"};
}
BAD_INPUT("plugin: a big-endian ELF is refused by byte order") {
  return {.input = "a big-endian ELF `.so`", .wrong = "wrong byte order",
          .files = {text("p/libmegaswift_model_x.so", elf_header(2, 2, 3, 62))}, .args = plugins(), .exit_code = 0,
          .message = "big-endian"};
}
BAD_INPUT("plugin: an aarch64 library on x86-64 is refused by machine") {
  return {.input = "an aarch64 `.so`", .wrong = "wrong machine", .files = {text("p/libmegaswift_model_x.so", elf_header(2, 1, 3, 183))},
          .args = plugins(), .exit_code = 0, .message = "aarch64"};
}
BAD_INPUT("plugin: an ELF executable named .so is refused by type") {
  return {.input = "an ET_EXEC file named `.so`", .wrong = "not a shared library",
          .files = {text("p/libmegaswift_model_x.so", elf_header(2, 1, 2, 62))}, .args = plugins(), .exit_code = 0,
          .message = "executable (ET_EXEC)"};
}
BAD_INPUT("plugin: a FIFO named .so is refused instead of blocking") {
  return {.input = "`p/libmegaswift_model_x.so` is a FIFO", .wrong = "would block", .files = {fifo("p/libmegaswift_model_x.so")}, .args = plugins(),
          .exit_code = 0, .message = "it is a FIFO (named pipe), not a regular file"};
}
BAD_INPUT("plugin: a symlink loop in the plugin folder is named and the rest loads") {
  return {.input = "`p/libmegaswift_model_loop.so` -> itself", .wrong = "symlink loop", .files = {symlink("p/libmegaswift_model_loop.so", "libmegaswift_model_loop.so")},
          .args = plugins(), .exit_code = 0, .message = "loops"};
}
BAD_INPUT("plugin: a --plugin_path that is a symlink loop is named") {
  return {.input = "`--plugin_path p` where p -> p", .wrong = "unreadable folder", .files = {symlink("p", "p")},
          .args = plugins(), .exit_code = 1, .message = "--plugin_path p: cannot be read"};
}
BAD_INPUT("plugin: a damaged .so does not stop training with the built-in plugins") {
  return {.input = "a truncated `.so` in `--plugin_path` of `megatron pt`", .wrong = "damaged plugin",
          .files = with_model({text("p/libmegaswift_model_x.so", elf_header(2, 1, 3, 62)), text("c.txt", "hello\n")}),
          .args = train_args({"megatron", "pt", "--model", "model", "--dataset", "c.txt", "--plugin_path", "p",
                              "--save", "out", "--no_save_optim", "true", "--no_save_rng", "true"}),
          .exit_code = 0, .message = kRefused};
}

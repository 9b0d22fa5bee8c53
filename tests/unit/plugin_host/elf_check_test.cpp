// The file checks before dlopen: truncated, empty, foreign and special files are refused with what is wrong,
// and the process survives them (each load runs in a child, which must exit normally).
#include "host/plugin_host/elf_check.hpp"
#include "plugin_host_test_support.hpp"

#include <doctest/doctest.h>
#include <elf.h>
#include <sys/stat.h>

#include <cstring>
#include <string>

using namespace megaswift::plugin_host_test;
using megaswift::host::elf_file_problem;
using megaswift::host::elf_image_problem;

namespace {

// Loads `bytes` written as a plugin file in a child and checks the refusal: the child exits normally, the
// message names the file, says it is not a loadable library, contains `why`, and says what to do.
void check_refused(const std::string& bytes, const std::string& why) {
  const fs::path file = fresh_dir("elf") / "libmegaswift_optimizer_bad.so";
  write_bytes(file, bytes);
  const ChildLoad r = load_in_child(file);
  INFO("message: " << r.message);
  CHECK(r.exited);
  CHECK(r.signal == 0);
  CHECK_FALSE(r.loaded);
  CHECK(contains(r.message, file.string() + ": not a loadable shared library: "));
  CHECK(contains(r.message, why));
  CHECK(contains(r.message, "rebuild it or remove it from the plugin path"));
}

megaswift::host::ReadAt reader_of(const std::string& bytes) {
  return [&bytes](uint64_t offset, void* out, size_t size) {
    if (offset > bytes.size() || size > bytes.size() - offset) return false;
    std::memcpy(out, bytes.data() + offset, size);
    return true;
  };
}

template <class T>
void patch(std::string& bytes, size_t offset, T value) {
  std::memcpy(bytes.data() + offset, &value, sizeof value);
}

Elf64_Ehdr header_of(const std::string& bytes) {
  Elf64_Ehdr eh;
  std::memcpy(&eh, bytes.data(), sizeof eh);
  return eh;
}

#if defined(__x86_64__)
constexpr uint16_t kForeignMachine = EM_AARCH64;
constexpr const char* kForeignName = "aarch64 (e_machine 183)";
#else
constexpr uint16_t kForeignMachine = EM_X86_64;
constexpr const char* kForeignName = "x86-64 (e_machine 62)";
#endif

}  // namespace

TEST_CASE("the healthy test plugin and the built-in template library pass the file check") {
  CHECK(elf_file_problem(kTinyPlugin) == "");
  CHECK(elf_file_problem(kChatTemplates) == "");
}

TEST_CASE("truncated copies of a real plugin are refused as truncated and the process survives") {
  for (const fs::path& library : {kTinyPlugin, kChatTemplates}) {
    const std::string whole = read_bytes(library);
    REQUIRE(whole.size() > 4096);
    for (size_t length : {sizeof(Elf64_Ehdr), sizeof(Elf64_Ehdr) + 100, whole.size() / 2, whole.size() - 1}) {
      INFO(library.filename().string() << " cut to " << length << " of " << whole.size() << " bytes");
      check_refused(whole.substr(0, length), "it is truncated: ");
      check_refused(whole.substr(0, length), "but the file has " + std::to_string(length) + " bytes");
    }
  }
}

TEST_CASE("every proper prefix of a plugin library is refused, the whole file is not") {
  const std::string whole = read_bytes(kTinyPlugin);
  size_t accepted = 0;
  for (size_t length = 0; length < whole.size(); ++length)
    if (elf_image_problem(length, reader_of(whole)).empty()) ++accepted;
  CHECK(accepted == 0);
  CHECK(elf_image_problem(whole.size(), reader_of(whole)) == "");
}

TEST_CASE("a segment or header table whose end overflows 64 bits is refused, not wrapped around") {
  std::string bytes = read_bytes(kTinyPlugin);
  const Elf64_Ehdr eh = header_of(bytes);
  size_t load = eh.e_phnum;
  for (size_t i = 0; i < eh.e_phnum && load == eh.e_phnum; ++i) {
    Elf64_Phdr ph;
    std::memcpy(&ph, bytes.data() + eh.e_phoff + i * sizeof ph, sizeof ph);
    if (ph.p_type == PT_LOAD && ph.p_filesz > 0) load = i;
  }
  REQUIRE(load < eh.e_phnum);
  const size_t at = eh.e_phoff + load * sizeof(Elf64_Phdr);
  patch<uint64_t>(bytes, at + offsetof(Elf64_Phdr, p_offset), UINT64_MAX - 16);
  CHECK(elf_image_problem(bytes.size(), reader_of(bytes)) ==
        "it is truncated: its segment #" + std::to_string(load) + " (PT_LOAD) ends past byte 2^64 but the file has " +
            std::to_string(bytes.size()) + " bytes (a copy or download cut short?)");
  std::string table = read_bytes(kTinyPlugin);
  patch<uint64_t>(table, offsetof(Elf64_Ehdr, e_shoff), UINT64_MAX - 64);
  CHECK(contains(elf_image_problem(table.size(), reader_of(table)), "its section header table ends past byte 2^64"));
}

TEST_CASE("an empty file named like a plugin is refused as empty") { check_refused("", "it is empty (0 bytes)"); }

TEST_CASE("a text file named like a plugin is refused as not ELF, naming its first bytes") {
  check_refused("this is not an ELF file\n", "it is not an ELF file: it starts with the bytes 74 68 69 73");
  check_refused("\x7f" "E", "it is not an ELF file: it starts with the bytes 7f 45,");
}

TEST_CASE("a 32-bit ELF is refused naming its class") {
  std::string bytes = read_bytes(kTinyPlugin);
  bytes[EI_CLASS] = ELFCLASS32;
  check_refused(bytes, "it is a 32-bit ELF file (EI_CLASS 1); this host loads 64-bit libraries");
}

TEST_CASE("an ELF of the other byte order is refused naming it") {
  std::string bytes = read_bytes(kTinyPlugin);
  bytes[EI_DATA] = ELFDATA2MSB;
  check_refused(bytes, "its byte order is big-endian (EI_DATA 2); this host is little-endian");
}

TEST_CASE("an ELF built for another machine is refused naming both machines") {
  std::string bytes = read_bytes(kTinyPlugin);
  patch<uint16_t>(bytes, offsetof(Elf64_Ehdr, e_machine), kForeignMachine);
  check_refused(bytes, std::string("it was built for ") + kForeignName + "; this host is ");
}

TEST_CASE("an ELF executable or object file is refused as not a shared library") {
  std::string bytes = read_bytes(kTinyPlugin);
  patch<uint16_t>(bytes, offsetof(Elf64_Ehdr, e_type), ET_EXEC);
  check_refused(bytes, "it is an executable (ET_EXEC), not a shared library");
  patch<uint16_t>(bytes, offsetof(Elf64_Ehdr, e_type), ET_REL);
  check_refused(bytes, "it is a relocatable object (ET_REL, a .o file), not a shared library");
}

TEST_CASE("an ELF header with a corrupt program header entry size is refused") {
  std::string bytes = read_bytes(kTinyPlugin);
  patch<uint16_t>(bytes, offsetof(Elf64_Ehdr, e_phentsize), 7);
  check_refused(bytes, "its program header entries are 7 bytes, not 56: the header is corrupt");
}

TEST_CASE("a FIFO named like a plugin is refused without opening it, so nothing blocks") {
  const fs::path fifo = fresh_dir("fifo") / "libmegaswift_optimizer_fifo.so";
  REQUIRE(::mkfifo(fifo.c_str(), 0600) == 0);
  const ChildLoad r = load_in_child(fifo);
  INFO("message: " << r.message);
  CHECK(r.exited);
  CHECK(contains(r.message, fifo.string() + ": not a loadable shared library: it is a FIFO (named pipe), not a "
                                            "regular file; rebuild it or remove it from the plugin path"));
}

TEST_CASE("a character device given as a plugin is refused without reading it") {
  const ChildLoad r = load_in_child("/dev/zero");
  CHECK(r.exited);
  CHECK(contains(r.message, "/dev/zero: not a loadable shared library: it is a character device, not a regular file"));
}

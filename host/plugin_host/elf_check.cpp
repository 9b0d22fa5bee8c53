#include "host/plugin_host/elf_check.hpp"

#include <megaswift/sdk/regular_file.hpp>

#include <elf.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <string>

namespace megaswift::host {
namespace {

// The ELF identity of the libraries this build can load, from the compiler's own target macros.
#if defined(__x86_64__)
constexpr uint16_t kMachine = EM_X86_64;
#elif defined(__aarch64__)
constexpr uint16_t kMachine = EM_AARCH64;
#elif defined(__riscv) && __riscv_xlen == 64
constexpr uint16_t kMachine = EM_RISCV;
#elif defined(__powerpc64__)
constexpr uint16_t kMachine = EM_PPC64;
#else
#error "elf_check.cpp: name the ELF e_machine of this architecture"
#endif
#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
constexpr unsigned char kData = ELFDATA2LSB;
#else
constexpr unsigned char kData = ELFDATA2MSB;
#endif

std::string machine_name(uint16_t machine) {
  switch (machine) {
    case EM_386: return "x86 (32-bit)";
    case EM_X86_64: return "x86-64";
    case EM_ARM: return "ARM (32-bit)";
    case EM_AARCH64: return "aarch64";
    case EM_RISCV: return "RISC-V";
    case EM_PPC: return "PowerPC (32-bit)";
    case EM_PPC64: return "PowerPC 64";
    case EM_S390: return "s390x";
    case EM_MIPS: return "MIPS";
    default: return "machine " + std::to_string(machine);
  }
}

std::string type_name(uint16_t type) {
  switch (type) {
    case ET_NONE: return "an ELF file of no type (ET_NONE)";
    case ET_REL: return "a relocatable object (ET_REL, a .o file), not a shared library";
    case ET_EXEC: return "an executable (ET_EXEC), not a shared library";
    case ET_CORE: return "a core dump (ET_CORE), not a shared library";
    default: return "an ELF file of type " + std::to_string(type) + ", not a shared library (ET_DYN)";
  }
}

std::string hex_bytes(const unsigned char* bytes, size_t n) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  for (size_t i = 0; i < n; ++i) {
    if (i) out += ' ';
    out += kHex[bytes[i] >> 4];
    out += kHex[bytes[i] & 0xF];
  }
  return out;
}

std::string truncated(const std::string& what, uint64_t end, uint64_t file_size) {
  const std::string at = end == UINT64_MAX ? "past byte 2^64" : "at byte " + std::to_string(end);
  return "it is truncated: " + what + " ends " + at + " but the file has " +
         std::to_string(file_size) + " bytes (a copy or download cut short?)";
}

// [offset, offset + count * entry_size) within the file; the header's numbers are untrusted, so the
// arithmetic is checked (an overflowing range ends "past 2^64"). Sets `end` to the range's end.
bool table_inside(uint64_t offset, uint64_t count, uint64_t entry_size, uint64_t file_size, uint64_t& end) {
  uint64_t bytes = 0;
  if (__builtin_mul_overflow(count, entry_size, &bytes) || __builtin_add_overflow(offset, bytes, &end)) {
    end = UINT64_MAX;
    return false;
  }
  return end <= file_size;
}

std::string byte_order(unsigned char data) {
  if (data == ELFDATA2LSB) return "little-endian";
  if (data == ELFDATA2MSB) return "big-endian";
  return "unknown";
}

// The file kinds are the SDK's, named as every other reader of user files names them.
std::string file_type_problem(mode_t mode) {
  const std::string kind = sdk::file_kind_name(mode);
  return kind == "not a regular file" ? "it is not a regular file" : "it is " + kind + ", not a regular file";
}

}  // namespace

std::string elf_image_problem(uint64_t file_size, const ReadAt& read_at) {
  if (file_size == 0) return "it is empty (0 bytes)";
  unsigned char ident[EI_NIDENT] = {};
  const size_t head = file_size < EI_NIDENT ? static_cast<size_t>(file_size) : EI_NIDENT;
  if (!read_at(0, ident, head)) return "its first bytes cannot be read";
  if (head < SELFMAG || std::memcmp(ident, ELFMAG, SELFMAG) != 0)
    return "it is not an ELF file: it starts with the bytes " + hex_bytes(ident, head < SELFMAG ? head : SELFMAG) +
           ", not 7f 45 4c 46 (\"\\x7fELF\")";
  if (file_size < sizeof(Elf64_Ehdr))
    return truncated("the ELF header", sizeof(Elf64_Ehdr), file_size);
  if (ident[EI_CLASS] != ELFCLASS64)
    return "it is a " + std::string(ident[EI_CLASS] == ELFCLASS32 ? "32-bit" : "unknown-class") +
           " ELF file (EI_CLASS " + std::to_string(ident[EI_CLASS]) + "); this host loads 64-bit libraries";
  if (ident[EI_DATA] != kData)
    return "its byte order is " + byte_order(ident[EI_DATA]) + " (EI_DATA " + std::to_string(ident[EI_DATA]) +
           "); this host is " + byte_order(kData);
  if (ident[EI_VERSION] != EV_CURRENT)
    return "its ELF version is " + std::to_string(ident[EI_VERSION]) + ", not 1 (EV_CURRENT)";

  Elf64_Ehdr eh;
  if (!read_at(0, &eh, sizeof eh)) return "its ELF header cannot be read";
  if (eh.e_type != ET_DYN) return "it is " + type_name(eh.e_type);
  if (eh.e_machine != kMachine)
    return "it was built for " + machine_name(eh.e_machine) + " (e_machine " + std::to_string(eh.e_machine) +
           "); this host is " + machine_name(kMachine);
  if (eh.e_phnum == 0) return "it has no program headers, so nothing to load";
  if (eh.e_phentsize != sizeof(Elf64_Phdr))
    return "its program header entries are " + std::to_string(eh.e_phentsize) + " bytes, not " +
           std::to_string(sizeof(Elf64_Phdr)) + ": the header is corrupt";
  // PN_XNUM would move the count into section 0; no shared library has 65535 segments.
  if (eh.e_phnum == PN_XNUM) return "it claims more than 65534 program headers (PN_XNUM): the header is corrupt";
  uint64_t end = 0;
  if (!table_inside(eh.e_phoff, eh.e_phnum, eh.e_phentsize, file_size, end))
    return truncated("its program header table", end, file_size);
  if (eh.e_shoff != 0) {
    if (eh.e_shentsize != sizeof(Elf64_Shdr))
      return "its section header entries are " + std::to_string(eh.e_shentsize) + " bytes, not " +
             std::to_string(sizeof(Elf64_Shdr)) + ": the header is corrupt";
    // e_shnum 0 with a table present means the count lives in section 0 (SHN_LORESERVE or more sections):
    // at least that first entry must be there.
    const uint64_t sections = eh.e_shnum == 0 ? 1 : eh.e_shnum;
    if (!table_inside(eh.e_shoff, sections, eh.e_shentsize, file_size, end))
      return truncated("its section header table", end, file_size);
  }
  bool any_load = false;
  for (uint16_t i = 0; i < eh.e_phnum; ++i) {
    Elf64_Phdr ph;
    if (!read_at(eh.e_phoff + static_cast<uint64_t>(i) * sizeof ph, &ph, sizeof ph))
      return "its program header #" + std::to_string(i) + " cannot be read";
    if (ph.p_type == PT_LOAD) any_load = true;
    if (ph.p_filesz == 0) continue;
    // Every segment's bytes come from the file; PT_LOAD ones get mapped, where a short file means SIGBUS.
    if (!table_inside(ph.p_offset, 1, ph.p_filesz, file_size, end))
      return truncated("its segment #" + std::to_string(i) + (ph.p_type == PT_LOAD ? " (PT_LOAD)" : ""), end,
                       file_size);
  }
  if (!any_load) return "it has no loadable (PT_LOAD) segment";
  return "";
}

std::string elf_file_problem(const std::filesystem::path& path) {
  // stat before open: opening a FIFO waits for a writer, and opening some devices has side effects.
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) {
    const int err = errno;
    if (err == ELOOP) return "it is a symbolic link that loops (" + std::string(std::strerror(err)) + ")";
    return "it cannot be read (" + std::string(std::strerror(err)) + ")";
  }
  if (!S_ISREG(st.st_mode)) return file_type_problem(st.st_mode);
  // O_NONBLOCK: should a FIFO have replaced the file since the stat, the open still returns.
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK);
  if (fd < 0) return "it cannot be opened (" + std::string(std::strerror(errno)) + ")";
  std::string problem;
  if (::fstat(fd, &st) != 0) {
    problem = "it cannot be read (" + std::string(std::strerror(errno)) + ")";
  } else if (!S_ISREG(st.st_mode)) {
    problem = file_type_problem(st.st_mode);
  } else {
    const ReadAt read_at = [fd](uint64_t offset, void* out, size_t size) {
      auto* bytes = static_cast<char*>(out);
      while (size > 0) {
        const ssize_t got = ::pread(fd, bytes, size, static_cast<off_t>(offset));
        if (got < 0 && errno == EINTR) continue;
        if (got <= 0) return false;
        bytes += got;
        size -= static_cast<size_t>(got);
        offset += static_cast<uint64_t>(got);
      }
      return true;
    };
    problem = elf_image_problem(static_cast<uint64_t>(st.st_size), read_at);
  }
  ::close(fd);
  return problem;
}

}  // namespace megaswift::host

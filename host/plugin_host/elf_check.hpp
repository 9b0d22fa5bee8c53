// What a plugin library must be before dlopen sees it. The dynamic loader trusts the file: it maps the
// segments the program headers name, and touching a mapped page past the end of a truncated file kills the
// process with SIGBUS; a FIFO blocks it; a foreign file gets only "Bad file descriptor". These checks read
// the headers with plain reads (never a mapping) and say what is wrong instead.
#pragma once

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <string>

namespace megaswift::host {

// Reads `size` bytes at `offset` into `out`; false when they cannot all be read.
using ReadAt = std::function<bool(uint64_t offset, void* out, size_t size)>;

// What keeps an ELF image of `file_size` bytes from being a shared library this process can load, as a
// phrase naming the value found ("it is a 32-bit ELF file (EI_CLASS 1) ..."), or "" when nothing does.
// Checked: the magic, 64-bit class, this machine's byte order, ELF version 1, type ET_DYN, this machine's
// e_machine, sane header entry sizes, at least one PT_LOAD, and that the program header table, the section
// header table and every segment's file bytes [p_offset, p_offset + p_filesz) lie inside the file.
std::string elf_image_problem(uint64_t file_size, const ReadAt& read_at);

// The same for a file, which must first be a regular file (a FIFO, device, socket or directory is refused
// without opening it, so that nothing blocks).
std::string elf_file_problem(const std::filesystem::path& path);

}  // namespace megaswift::host

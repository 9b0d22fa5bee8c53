// Argument checks shared by the kernels: a bad size or pointer is a programming error of the caller,
// reported as std::invalid_argument that names the kernel, the argument and the value.
#pragma once

#include <cstdint>
#include <stdexcept>
#include <string>

namespace megaswift::kernels::cpu::detail {

[[noreturn]] inline void fail(const char* op, const std::string& what) {
  throw std::invalid_argument(std::string(op) + ": " + what);
}

inline void check_nonneg(const char* op, const char* name, int64_t value) {
  if (value < 0) fail(op, std::string(name) + " must be >= 0, got " + std::to_string(value));
}

inline void check_positive(const char* op, const char* name, int64_t value) {
  if (value <= 0) fail(op, std::string(name) + " must be > 0, got " + std::to_string(value));
}

inline void check_ptr(const char* op, const char* name, const void* p, bool needed = true) {
  if (needed && p == nullptr) fail(op, std::string(name) + " is null");
}

}  // namespace megaswift::kernels::cpu::detail

// The MSW buffer protocol (megaswift/c/abi.h) from both sides, so no plugin or host writes it by hand:
//   - callee: write_array / write_text set *needed and write only when the whole result fits;
//   - caller: read_array / read_text call again with a buffer of *needed until the result fits.
// Text is NUL-terminated on the wire and *needed counts the NUL. Header-only, C++17.
#pragma once

#include <megaswift/sdk/status.hpp>

#include <cstring>
#include <string>
#include <string_view>
#include <vector>

namespace megaswift::sdk {

// ---- callee side ----

// Elements `data[0..count)` into `out` (capacity elements): *needed = count, copied only when it fits.
template <class T>
void write_array(const T* data, size_t count, T* out, size_t capacity, size_t* needed, const char* what) {
  if (!needed) throw Error(MSW_STATUS_INVALID_ARGUMENT, std::string(what) + ": the needed pointer is NULL");
  if (capacity && !out)
    throw Error(MSW_STATUS_INVALID_ARGUMENT, std::string(what) + ": the output buffer is NULL but its capacity is " +
                                                 std::to_string(capacity));
  if (count <= capacity && count) std::memcpy(out, data, count * sizeof(T));
  *needed = count;
}

// `text` plus a NUL into `out` (capacity bytes): *needed = text.size() + 1, copied only when it fits.
inline void write_text(std::string_view text, char* out, size_t capacity, size_t* needed, const char* what) {
  if (!needed) throw Error(MSW_STATUS_INVALID_ARGUMENT, std::string(what) + ": the needed pointer is NULL");
  if (capacity && !out)
    throw Error(MSW_STATUS_INVALID_ARGUMENT, std::string(what) + ": the output buffer is NULL but its capacity is " +
                                                 std::to_string(capacity));
  if (text.size() + 1 <= capacity) {
    if (!text.empty()) std::memcpy(out, text.data(), text.size());
    out[text.size()] = '\0';
  }
  *needed = text.size() + 1;
}

// ---- caller side ----

// A callee that keeps answering with a larger size is broken; stop instead of looping forever.
inline constexpr int kBufferAttempts = 4;

// Calls `call(out, capacity, &needed)` (which throws on failure) with `buf`, growing it to *needed until
// the result fits; `buf` ends holding exactly the result. `buf`'s initial size is the first guess.
template <class T, class Call>
void read_array(std::vector<T>& buf, Call&& call, const char* what) {
  for (int attempt = 0; attempt < kBufferAttempts; ++attempt) {
    size_t needed = 0;
    call(buf.data(), buf.size(), &needed);
    if (needed <= buf.size()) {
      buf.resize(needed);
      return;
    }
    buf.resize(needed);
  }
  throw Error(MSW_STATUS_INTERNAL, std::string(what) + ": the callee reported a larger size on every call (MSW "
                                                       "buffer protocol: *needed must not change between calls)");
}

// The same for text: `call(char* out, size_t capacity, size_t* needed)` with *needed counting the NUL.
template <class Call>
std::string read_text(Call&& call, const char* what, size_t first_guess = 256) {
  std::string buf(first_guess, '\0');
  for (int attempt = 0; attempt < kBufferAttempts; ++attempt) {
    size_t needed = 0;
    call(buf.data(), buf.size(), &needed);
    if (needed == 0)
      throw Error(MSW_STATUS_INTERNAL, std::string(what) + ": the callee reported 0 bytes; text always needs at "
                                                           "least its NUL (MSW buffer protocol)");
    if (needed <= buf.size()) {
      buf.resize(needed - 1);
      return buf;
    }
    buf.resize(needed);
  }
  throw Error(MSW_STATUS_INTERNAL, std::string(what) + ": the callee reported a larger size on every call (MSW "
                                                       "buffer protocol: *needed must not change between calls)");
}

}  // namespace megaswift::sdk

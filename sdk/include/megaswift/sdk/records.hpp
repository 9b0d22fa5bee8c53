// Reading and writing the structs that cross the boundary through their struct_size (docs/abi.md), so no
// trampoline copies bytes by hand:
//   read_record     a full-size copy of a record or args struct a caller of any minor wrote (missing members
//                   are zero), refusing one shorter than the members every writer has
//   write_record    a record into a caller's out-struct, only the members its struct_size covers
//   read_records    an array travelling as (pointer, count, element size), each record through its struct_size
// Header-only, C++17.
#pragma once

#include <megaswift/sdk/status.hpp>

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <string>
#include <vector>

namespace megaswift::sdk {

// `in` read through its struct_size into a zeroed R whose struct_size is ours. `min_size`: the bytes every
// writer of R writes (the members a reader cannot do without).
template <class R>
R read_record(const R* in, const std::string& what, size_t min_size = sizeof(uint32_t)) {
  if (!in) throw Error(MSW_STATUS_INVALID_ARGUMENT, what + " is NULL");
  if (in->struct_size < std::max(min_size, sizeof(uint32_t)))
    throw Error(MSW_STATUS_INVALID_ARGUMENT, what + " has struct_size " + std::to_string(in->struct_size) +
                                                 ", smaller than the " + std::to_string(min_size) +
                                                 " bytes every writer writes; set it to sizeof the struct");
  R r{};
  std::memcpy(&r, in, std::min<size_t>(in->struct_size, sizeof(R)));
  r.struct_size = sizeof(R);
  return r;
}

// Copies `value` into the caller's `out`, whose struct_size is the caller's sizeof: members past it are not
// written (an older caller), members the caller has past ours are zeroed (a newer caller). out->struct_size
// itself is left as the caller set it.
template <class R>
void write_record(R* out, const R& value, const std::string& what, size_t min_size = sizeof(uint32_t)) {
  if (!out) throw Error(MSW_STATUS_INVALID_ARGUMENT, what + ": the output record is NULL");
  const size_t caller = out->struct_size;
  if (caller < std::max(min_size, sizeof(uint32_t)))
    throw Error(MSW_STATUS_INVALID_ARGUMENT, what + ": the output record's struct_size is " + std::to_string(caller) +
                                                 ", smaller than " + std::to_string(min_size) +
                                                 "; set it to sizeof the record before the call");
  const size_t n = std::min(caller, sizeof(R));
  char* dst = reinterpret_cast<char*>(out);
  std::memcpy(dst + sizeof(uint32_t), reinterpret_cast<const char*>(&value) + sizeof(uint32_t), n - sizeof(uint32_t));
  if (caller > sizeof(R)) std::memset(dst + sizeof(R), 0, caller - sizeof(R));
}

// `count` records of `elem_size` bytes from `base`, each read through min(its struct_size, elem_size).
template <class R>
std::vector<R> read_records(const R* base, size_t count, size_t elem_size, const std::string& what,
                            size_t min_size = sizeof(uint32_t)) {
  if (count && !base) throw Error(MSW_STATUS_INVALID_ARGUMENT, what + " is NULL but its count is " + std::to_string(count));
  if (count && elem_size < min_size)
    throw Error(MSW_STATUS_INVALID_ARGUMENT, what + ": element size " + std::to_string(elem_size) + " is smaller than the " +
                                                 std::to_string(min_size) + " bytes every record has");
  std::vector<R> out;
  out.reserve(count);
  const char* bytes = reinterpret_cast<const char*>(base);
  for (size_t i = 0; i < count; ++i) {
    const char* at = bytes + i * elem_size;
    uint32_t record_size = 0;
    std::memcpy(&record_size, at, sizeof(record_size));
    const size_t n = std::min({static_cast<size_t>(record_size), elem_size, sizeof(R)});
    if (n < std::max(min_size, sizeof(uint32_t)))
      throw Error(MSW_STATUS_INVALID_ARGUMENT, what + " " + std::to_string(i) + " has struct_size " +
                                                   std::to_string(record_size) + ", smaller than the " +
                                                   std::to_string(min_size) + " bytes every record has");
    R r{};
    std::memcpy(&r, at, n);
    r.struct_size = sizeof(R);
    out.push_back(r);
  }
  return out;
}

}  // namespace megaswift::sdk

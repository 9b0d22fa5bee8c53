// Reading an args struct the way abi.h requires: only the members within the caller's struct_size, the
// rest as zero. The caller's bytes are copied into a zeroed struct of this host's size (as the registry
// does for vtables), so the code behind it reads every member without checking MSW_HAS_MEMBER each time,
// and a caller compiled against an older minor gets the zero value ("absent / the old behaviour") for
// every member it does not know. The extension chain is walked too: a record marked MSW_EXT_REQUIRED that
// this host does not understand (none exist yet) is refused, naming its type.
#pragma once

#include <megaswift/c/abi.h>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>

namespace megaswift::host {

// The bytes of `type` up to and including `member`: the smallest struct_size that holds it.
#define MSW_SIZE_THROUGH(type, member) (offsetof(type, member) + sizeof(((type*)0)->member))

// A refused args struct: code is 0 when the struct was accepted.
struct ArgsError {
  int32_t code = 0;
  std::string message;
  explicit operator bool() const { return code != 0; }
};

// Copies *in (its struct_size bytes, at most sizeof(A)) into *out, zeroing the rest. `required` is the
// struct_size below which a member the call cannot do without is missing; `last_required` names that
// member for the message.
template <class A>
ArgsError read_args(const A* in, size_t required, const char* last_required, A* out) {
  if (!in) return {MSW_STATUS_INVALID_ARGUMENT, "args is NULL"};
  if (in->struct_size < required)
    return {MSW_STATUS_INVALID_ARGUMENT,
            "args->struct_size " + std::to_string(in->struct_size) + " is smaller than " + std::to_string(required) +
                ", the size that holds the args header and the required members up to `" + last_required +
                "` (set struct_size = sizeof(the args struct))"};
  *out = A{};
  std::memcpy(static_cast<void*>(out), in, std::min<size_t>(in->struct_size, sizeof(A)));
  return {};
}

// Walks the extension chain starting at `next`: ignores records of unknown types, refuses one marked
// MSW_EXT_REQUIRED (UNSUPPORTED naming the type), and a chain that does not end (INVALID_ARGUMENT).
ArgsError check_extensions(const msw_ext* next);

}  // namespace megaswift::host

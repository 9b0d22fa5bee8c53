// Carving tensors out of a host-allocated byte buffer (the saved and workspace buffers of the model ABI).
//
// The same code sizes and fills a buffer: an Arena over no buffer only counts (planning), an Arena over a
// buffer hands out descriptors. A block declares its buffers once, in a function run in both modes, so the
// bytes reported by msw_model_vtable.memory and the bytes used by forward/backward cannot disagree.
// A module hands each submodule its own region (sub), sized by planning the submodule alone.
#pragma once

#include <megaswift/c/tensor.h>
#include <megaswift/sdk/status.hpp>
#include <megaswift/sdk/tensor.hpp>

#include <cstdint>
#include <initializer_list>
#include <string>

namespace megaswift::nn {

class Arena {
 public:
  static constexpr uint64_t kAlignment = 256;

  // Planning: counts bytes, hands out descriptors with NULL data.
  explicit Arena(msw_device device) : device_(device) {}
  Arena() : Arena(msw_device{MSW_DEVICE_CPU, 0}) {}
  // Carving from `buffer` (a U8 tensor, or any tensor whose bytes are the space); `what` names it in errors.
  // An absent buffer (a part that keeps nothing) holds 0 bytes.
  Arena(const msw_tensor& buffer, const char* what) : device_(buffer.device), what_(what), planning_(false) {
    if (msw_tensor_is_absent(&buffer)) return;
    base_ = static_cast<char*>(buffer.data) + buffer.byte_offset;
    capacity_ = static_cast<uint64_t>(msw_tensor_numel(&buffer)) * msw_dtype_size(buffer.dtype);
  }

  msw_tensor take(int32_t dtype, std::initializer_list<int64_t> shape) {
    if (shape.size() > MSW_MAX_DIMS) throw sdk::Error(MSW_STATUS_INVALID_ARGUMENT, "Arena::take: too many dimensions");
    msw_tensor t{};
    t.device = device_;
    t.dtype = dtype;
    msw_tensor_set_dense_shape(&t, static_cast<int32_t>(shape.size()), shape.begin());
    t.data = claim(static_cast<uint64_t>(msw_tensor_numel(&t)) * msw_dtype_size(dtype));
    return t;
  }
  msw_tensor f32(std::initializer_list<int64_t> shape) { return take(MSW_DTYPE_F32, shape); }
  msw_tensor i64(std::initializer_list<int64_t> shape) { return take(MSW_DTYPE_I64, shape); }

  // `bytes` at the next aligned offset, for a submodule's scratch or saved region (see sub).
  void reserve(uint64_t bytes) { claim(bytes); }
  // An Arena over the next `bytes` (aligned) of this one; planning when this one plans.
  Arena sub(uint64_t bytes, const char* what) {
    char* base = static_cast<char*>(claim(bytes));
    Arena a(device_);
    a.what_ = what;
    if (!planning_) {
      a.planning_ = false;
      a.base_ = base;
      a.capacity_ = bytes;
    }
    return a;
  }

  // Scratch that is dead after a phase can be reused: mark, use, release back to the mark.
  uint64_t mark() const { return used_; }
  void release(uint64_t mark) { used_ = mark; }

  uint64_t peak() const { return peak_; }
  bool planning() const { return planning_; }

 private:
  // Advances past `bytes` at the next aligned offset; the address (NULL when planning).
  void* claim(uint64_t bytes) {
    const uint64_t offset = (used_ + kAlignment - 1) / kAlignment * kAlignment;
    used_ = offset + bytes;
    if (used_ > peak_) peak_ = used_;
    if (planning_) return nullptr;
    if (used_ > capacity_)
      throw sdk::Error(MSW_STATUS_INVALID_ARGUMENT, std::string(what_) + " buffer holds " + std::to_string(capacity_) +
                                                        " bytes but the call needs at least " + std::to_string(used_) +
                                                        " (allocate what msw_model_vtable.memory reports)");
    return base_ + offset;
  }

  msw_device device_;
  const char* what_ = "";
  bool planning_ = true;
  char* base_ = nullptr;
  uint64_t capacity_ = 0;
  uint64_t used_ = 0;
  uint64_t peak_ = 0;
};

// The peak bytes `declare` takes from an empty planning Arena.
template <class F>
uint64_t planned_bytes(F&& declare) {
  Arena a(msw_device{MSW_DEVICE_CPU, 0});
  declare(a);
  return a.peak();
}

}  // namespace megaswift::nn

// Carving tensors out of a host-allocated byte buffer (the saved and workspace buffers of the model ABI).
//
// The same code sizes and fills a buffer: an Arena over no buffer only counts (planning), an Arena over a
// buffer hands out descriptors. A block declares its buffers once, in a function run in both modes, so the
// bytes reported by msw_model_vtable.memory and the bytes used by forward/backward cannot disagree.
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
  // Carving from `buffer` (a U8 tensor, or any tensor whose bytes are the space); `what` names it in errors.
  Arena(const msw_tensor& buffer, const char* what) : device_(buffer.device), what_(what), planning_(false) {
    base_ = static_cast<char*>(buffer.data) + buffer.byte_offset;
    capacity_ = static_cast<uint64_t>(msw_tensor_numel(&buffer)) * msw_dtype_size(buffer.dtype);
  }

  msw_tensor take(int32_t dtype, std::initializer_list<int64_t> shape) {
    if (shape.size() > MSW_MAX_DIMS) throw sdk::Error(MSW_STATUS_INVALID_ARGUMENT, "Arena::take: too many dimensions");
    msw_tensor t{};
    t.device = device_;
    t.dtype = dtype;
    msw_tensor_set_dense_shape(&t, static_cast<int32_t>(shape.size()), shape.begin());
    const uint64_t bytes = static_cast<uint64_t>(msw_tensor_numel(&t)) * msw_dtype_size(dtype);
    const uint64_t offset = (used_ + kAlignment - 1) / kAlignment * kAlignment;
    used_ = offset + bytes;
    if (used_ > peak_) peak_ = used_;
    if (!planning_) {
      if (used_ > capacity_)
        throw sdk::Error(MSW_STATUS_INVALID_ARGUMENT, std::string(what_) + " buffer holds " + std::to_string(capacity_) +
                                                          " bytes but the call needs at least " + std::to_string(used_) +
                                                          " (allocate what msw_model_vtable.memory reports)");
      t.data = base_ + offset;
    }
    return t;
  }
  msw_tensor f32(std::initializer_list<int64_t> shape) { return take(MSW_DTYPE_F32, shape); }

  // Scratch that is dead after a phase can be reused: mark, use, release back to the mark.
  uint64_t mark() const { return used_; }
  void release(uint64_t mark) { used_ = mark; }

  uint64_t peak() const { return peak_; }
  bool planning() const { return planning_; }

 private:
  msw_device device_;
  const char* what_ = "";
  bool planning_ = true;
  char* base_ = nullptr;
  uint64_t capacity_ = 0;
  uint64_t used_ = 0;
  uint64_t peak_ = 0;
};

}  // namespace megaswift::nn

// What the CUDA launchers share with their C++ callers (no CUDA header needed): the element types the kernels
// store, the error a launcher throws, and the stream type. Launchers are asynchronous on `stream`; a bad launch
// configuration or a CUDA error seen at launch throws KernelError naming the kernel.
#pragma once

#include <cstdint>
#include <stdexcept>
#include <string>

namespace megaswift::kernels::cuda {

// Storage types of floating tensors; arithmetic is fp32 whatever the storage.
enum class Dtype : int32_t { f32 = 0, bf16 = 1, f16 = 2 };

struct KernelError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

using Stream = void*;  // a cudaStream_t (NULL: the legacy default stream)

}  // namespace megaswift::kernels::cuda

/* The tensor descriptor that crosses the boundary: plain data in the layout of DLPack's DLTensor
 * (device type codes are DLPack's), so a descriptor converts to and from PyTorch with no copy.
 * A descriptor never owns memory: storage belongs to the host (msw_host_api.alloc) or to the object
 * that handed the descriptor out, and the function that receives one says how long it may be kept. */
#ifndef MEGASWIFT_C_TENSOR_H
#define MEGASWIFT_C_TENSOR_H

#include <stdbool.h>
#include <stdint.h>

#include "abi.h"

MSW_EXTERN_C_BEGIN

#define MSW_MAX_DIMS 8

typedef enum msw_dtype {
  MSW_DTYPE_F32 = 0,
  MSW_DTYPE_F16 = 1,
  MSW_DTYPE_BF16 = 2,
  MSW_DTYPE_F64 = 3,
  MSW_DTYPE_I8 = 4,
  MSW_DTYPE_U8 = 5,
  MSW_DTYPE_I32 = 6,
  MSW_DTYPE_I64 = 7,
  MSW_DTYPE_BOOL = 8
} msw_dtype;

/* DLPack device type codes. */
typedef enum msw_device_type {
  MSW_DEVICE_CPU = 1,
  MSW_DEVICE_CUDA = 2,
  MSW_DEVICE_CUDA_HOST = 3 /* pinned host memory */
} msw_device_type;

typedef struct msw_device {
  int32_t type; /* msw_device_type */
  int32_t id;   /* CUDA ordinal; 0 on CPU */
} msw_device;

typedef struct msw_tensor {
  void* data;                     /* first element is at (char*)data + byte_offset */
  msw_device device;
  int32_t dtype;                  /* msw_dtype */
  int32_t ndim;                   /* 0..MSW_MAX_DIMS; 0 is a scalar */
  int64_t shape[MSW_MAX_DIMS];    /* entries past ndim are 0 */
  int64_t strides[MSW_MAX_DIMS];  /* in elements, not bytes (as DLPack) */
  uint64_t byte_offset;
} msw_tensor;

/* Size in bytes of one element of `dtype`; 0 for an unknown code. */
static inline size_t msw_dtype_size(int32_t dtype) {
  switch (dtype) {
    case MSW_DTYPE_F64: case MSW_DTYPE_I64: return 8;
    case MSW_DTYPE_F32: case MSW_DTYPE_I32: return 4;
    case MSW_DTYPE_F16: case MSW_DTYPE_BF16: return 2;
    case MSW_DTYPE_I8: case MSW_DTYPE_U8: case MSW_DTYPE_BOOL: return 1;
    default: return 0;
  }
}

/* Number of elements (1 for a scalar). */
static inline int64_t msw_tensor_numel(const msw_tensor* t) {
  int64_t n = 1;
  for (int32_t i = 0; i < t->ndim; ++i) n *= t->shape[i];
  return n;
}

/* Sets ndim, shape and dense row-major strides (entries past ndim become 0) and returns the element count.
 * `ndim` must be 0..MSW_MAX_DIMS; the caller fills data, device, dtype and byte_offset. */
static inline int64_t msw_tensor_set_dense_shape(msw_tensor* t, int32_t ndim, const int64_t* shape) {
  int64_t stride = 1;
  t->ndim = ndim;
  for (int32_t i = MSW_MAX_DIMS - 1; i >= 0; --i) {
    t->shape[i] = i < ndim ? shape[i] : 0;
    t->strides[i] = i < ndim ? stride : 0;
    if (i < ndim) stride *= shape[i];
  }
  return stride;
}

/* True when the strides are those of a dense row-major tensor. */
static inline bool msw_tensor_is_contiguous(const msw_tensor* t) {
  int64_t expected = 1;
  for (int32_t i = t->ndim - 1; i >= 0; --i) {
    if (t->shape[i] != 1 && t->strides[i] != expected) return false;
    expected *= t->shape[i];
  }
  return true;
}

MSW_EXTERN_C_END

#endif /* MEGASWIFT_C_TENSOR_H */

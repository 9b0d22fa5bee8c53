/* The tensor descriptor that crosses the boundary.
 *
 * DLPack: msw_tensor is NOT binary-compatible with DLPack's DLTensor (it holds its shape and strides
 * inline, up to MSW_MAX_DIMS, so a descriptor is a value that needs no second allocation, and its
 * dtype is one code instead of (code, bits, lanes)). It carries the same information: device type
 * codes ARE DLPack's, strides are in elements as in DLPack, byte_offset means the same. dlpack.h
 * converts both ways with no copy of the data, so PyTorch, JAX or CuPy tensors cross unchanged.
 *
 * A descriptor never owns memory: storage belongs to the host (msw_host_api.alloc) or to the object
 * that handed the descriptor out, and the function that receives one says how long it may be kept.
 *
 * Stream semantics (CUDA; see host.h): a tensor passed to a call that enqueues work on a stream must
 * stay valid until that stream has passed the work, not merely until the call returns. */
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
  MSW_DTYPE_BOOL = 8,
  MSW_DTYPE_F8_E4M3 = 9, /* OCP FP8 E4M3 (finite-only "fn" variant, max 448), as torch.float8_e4m3fn */
  MSW_DTYPE_F8_E5M2 = 10 /* OCP FP8 E5M2 (with inf/nan), as torch.float8_e5m2 */
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
    case MSW_DTYPE_I8: case MSW_DTYPE_U8: case MSW_DTYPE_BOOL:
    case MSW_DTYPE_F8_E4M3: case MSW_DTYPE_F8_E5M2: return 1;
    default: return 0;
  }
}

/* 1 for the floating-point dtypes (F32, F16, BF16, F64, F8_*). */
static inline int msw_dtype_is_float(int32_t dtype) {
  return dtype == MSW_DTYPE_F32 || dtype == MSW_DTYPE_F16 || dtype == MSW_DTYPE_BF16 || dtype == MSW_DTYPE_F64 ||
         dtype == MSW_DTYPE_F8_E4M3 || dtype == MSW_DTYPE_F8_E5M2;
}

/* A tensor that is absent (an optional argument left out): data == NULL and ndim == 0. Args structs
 * hold optional tensors by value, so a zeroed member means "not given". */
static inline int msw_tensor_is_absent(const msw_tensor* t) { return t == 0 || (t->data == 0 && t->ndim == 0); }

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

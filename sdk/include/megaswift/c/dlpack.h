/* DLPack import and export for msw_tensor, with no copy of the data.
 *
 * msw_tensor is not binary-compatible with DLPack's DLTensor (tensor.h says why). This header declares
 * structs with DLTensor's documented layout (DLPack 1.x: DLDevice, DLDataType, DLTensor) under our own
 * names, so a plugin can hand a descriptor to, or take one from, any DLPack producer or consumer
 * (torch.utils.dlpack, CuPy, JAX) without including dlpack.h itself. The layouts are frozen by
 * tests/abi/abi_layout.c against the DLPack specification's sizes and offsets.
 *
 * Ownership is not transferred by these functions: they translate descriptors. Wrapping the result in
 * a DLManagedTensor (and its deleter) is the caller's business, as is keeping the storage alive.
 */
#ifndef MEGASWIFT_C_DLPACK_H
#define MEGASWIFT_C_DLPACK_H

#include <stddef.h>
#include <stdint.h>

#include "abi.h"
#include "tensor.h"

MSW_EXTERN_C_BEGIN

/* DLPack type codes (DLDataTypeCode) that msw_dtype maps to. */
enum {
  MSW_DL_INT = 0,
  MSW_DL_UINT = 1,
  MSW_DL_FLOAT = 2,
  MSW_DL_BFLOAT = 4,
  MSW_DL_BOOL = 6,
  MSW_DL_FLOAT8_E4M3FN = 10,
  MSW_DL_FLOAT8_E5M2 = 12
};

typedef struct msw_dl_device {
  int32_t device_type; /* DLDeviceType: the msw_device_type codes are DLPack's */
  int32_t device_id;
} msw_dl_device;

typedef struct msw_dl_dtype {
  uint8_t code;
  uint8_t bits;
  uint16_t lanes;
} msw_dl_dtype;

/* DLTensor's layout. */
typedef struct msw_dl_tensor {
  void* data;
  msw_dl_device device;
  int32_t ndim;
  msw_dl_dtype dtype;
  int64_t* shape;
  int64_t* strides; /* in elements; NULL means dense row-major */
  uint64_t byte_offset;
} msw_dl_tensor;

/* msw_dtype -> DLPack (code, bits, lanes = 1). Returns 0 on success, -1 for an unknown dtype. */
static inline int msw_dtype_to_dlpack(int32_t dtype, msw_dl_dtype* out) {
  out->lanes = 1;
  switch (dtype) {
    case MSW_DTYPE_F32: out->code = MSW_DL_FLOAT; out->bits = 32; return 0;
    case MSW_DTYPE_F16: out->code = MSW_DL_FLOAT; out->bits = 16; return 0;
    case MSW_DTYPE_BF16: out->code = MSW_DL_BFLOAT; out->bits = 16; return 0;
    case MSW_DTYPE_F64: out->code = MSW_DL_FLOAT; out->bits = 64; return 0;
    case MSW_DTYPE_I8: out->code = MSW_DL_INT; out->bits = 8; return 0;
    case MSW_DTYPE_U8: out->code = MSW_DL_UINT; out->bits = 8; return 0;
    case MSW_DTYPE_I32: out->code = MSW_DL_INT; out->bits = 32; return 0;
    case MSW_DTYPE_I64: out->code = MSW_DL_INT; out->bits = 64; return 0;
    case MSW_DTYPE_BOOL: out->code = MSW_DL_BOOL; out->bits = 8; return 0;
    case MSW_DTYPE_F8_E4M3: out->code = MSW_DL_FLOAT8_E4M3FN; out->bits = 8; return 0;
    case MSW_DTYPE_F8_E5M2: out->code = MSW_DL_FLOAT8_E5M2; out->bits = 8; return 0;
    default: return -1;
  }
}

/* DLPack -> msw_dtype; -1 for a type Megaswift has no code for (vector lanes, complex, int16, ...). */
static inline int32_t msw_dtype_from_dlpack(msw_dl_dtype t) {
  if (t.lanes != 1) return -1;
  switch (t.code) {
    case MSW_DL_FLOAT: return t.bits == 32 ? MSW_DTYPE_F32 : t.bits == 16 ? MSW_DTYPE_F16 : t.bits == 64 ? MSW_DTYPE_F64 : -1;
    case MSW_DL_BFLOAT: return t.bits == 16 ? MSW_DTYPE_BF16 : -1;
    case MSW_DL_INT: return t.bits == 8 ? MSW_DTYPE_I8 : t.bits == 32 ? MSW_DTYPE_I32 : t.bits == 64 ? MSW_DTYPE_I64 : -1;
    case MSW_DL_UINT: return t.bits == 8 ? MSW_DTYPE_U8 : -1;
    case MSW_DL_BOOL: return t.bits == 8 ? MSW_DTYPE_BOOL : -1;
    case MSW_DL_FLOAT8_E4M3FN: return t.bits == 8 ? MSW_DTYPE_F8_E4M3 : -1;
    case MSW_DL_FLOAT8_E5M2: return t.bits == 8 ? MSW_DTYPE_F8_E5M2 : -1;
    default: return -1;
  }
}

/* Imports a DLPack descriptor: 0 on success, -1 when ndim exceeds MSW_MAX_DIMS or the dtype has no
 * msw_dtype. A NULL `strides` becomes dense row-major strides. */
static inline int msw_tensor_from_dlpack(const msw_dl_tensor* in, msw_tensor* out) {
  int32_t dtype = msw_dtype_from_dlpack(in->dtype);
  int32_t i;
  if (dtype < 0 || in->ndim < 0 || in->ndim > MSW_MAX_DIMS) return -1;
  msw_tensor_set_dense_shape(out, in->ndim, in->shape);
  if (in->strides)
    for (i = 0; i < in->ndim; ++i) out->strides[i] = in->strides[i];
  out->data = in->data;
  out->device.type = in->device.device_type;
  out->device.id = in->device.device_id;
  out->dtype = dtype;
  out->byte_offset = in->byte_offset;
  return 0;
}

/* Exports a descriptor: `out` borrows `in`'s shape and strides arrays, so `in` must outlive it.
 * 0 on success, -1 for a dtype DLPack cannot name. */
static inline int msw_tensor_to_dlpack(msw_tensor* in, msw_dl_tensor* out) {
  if (msw_dtype_to_dlpack(in->dtype, &out->dtype) != 0) return -1;
  out->data = in->data;
  out->device.device_type = in->device.type;
  out->device.device_id = in->device.id;
  out->ndim = in->ndim;
  out->shape = in->shape;
  out->strides = in->strides;
  out->byte_offset = in->byte_offset;
  return 0;
}

MSW_EXTERN_C_END

#endif /* MEGASWIFT_C_DLPACK_H */

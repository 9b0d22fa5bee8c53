// Dense bytes of a shard's tensor (a copy only when it is strided), and the helpers both components share.
#pragma once

#include "region.hpp"

#include <megaswift/sdk/checkpoint.hpp>

#include <string>
#include <vector>

namespace torchfmt {

struct DenseBytes {
  const uint8_t* data = nullptr;
  size_t size = 0;
  std::vector<uint8_t> copy;  // holds the bytes when the source was strided
};

inline DenseBytes dense_bytes(const msw_tensor& t, const std::string& key) {
  if (t.device.type != MSW_DEVICE_CPU)
    throw Error(MSW_STATUS_UNSUPPORTED, "write_shards " + key + ": shard data must be on the CPU");
  const size_t isz = msw_dtype_size(t.dtype);
  if (!isz) throw Error(MSW_STATUS_INVALID_ARGUMENT, "write_shards " + key + ": unknown dtype code " + std::to_string(t.dtype));
  const std::vector<int64_t> shape(t.shape, t.shape + t.ndim);
  const int64_t n = numel_checked(shape, "write_shards " + key);
  DenseBytes d;
  d.size = static_cast<size_t>(n) * isz;
  if (n == 0) return d;
  if (!t.data) throw Error(MSW_STATUS_INVALID_ARGUMENT, "write_shards " + key + ": data is NULL");
  const uint8_t* base = static_cast<const uint8_t*>(t.data) + t.byte_offset;
  if (msw_tensor_is_contiguous(&t)) {
    d.data = base;
    return d;
  }
  d.copy.resize(d.size);
  ChunkView src{base, t.dtype, std::vector<int64_t>(shape.size(), 0), shape,
                std::vector<int64_t>(t.strides, t.strides + t.ndim)};
  msw_tensor out = t;
  out.data = d.copy.data();
  out.byte_offset = 0;
  const std::vector<int64_t> st = contiguous_strides(shape);
  for (size_t k = 0; k < st.size(); ++k) out.strides[k] = st[k];
  copy_intersection(src, std::vector<int64_t>(shape.size(), 0), out);
  d.data = d.copy.data();
  return d;
}

}  // namespace torchfmt

// N-D boxes inside dense row-major arrays: the one loop every checkpoint reader needs to move the
// intersection of a stored piece (a zarr chunk, an HDF5 shard) and a requested region. Part of the SDK's
// header-only helpers for checkpoint-format plugins (megaswift/ckpt/), so no plugin reaches into another's
// folder; each plugin compiles its own copy and no symbol crosses a library boundary.
#pragma once

#include "convert.hpp"

#include <megaswift/sdk/status.hpp>

#include <algorithm>
#include <cstdint>
#include <limits>
#include <string>
#include <vector>

namespace megaswift::ckpt {

using Dims = std::vector<int64_t>;

// Product of `dims`, or throws naming `what` when it does not fit in int64 (a malformed header must not
// wrap into a small allocation).
inline int64_t checked_numel(const Dims& dims, const std::string& what) {
  int64_t n = 1;
  for (int64_t d : dims) {
    if (d < 0) throw sdk::Error(MSW_STATUS_INVALID_ARGUMENT, what + ": negative dimension " + std::to_string(d));
    if (d != 0 && n > std::numeric_limits<int64_t>::max() / d)
      throw sdk::Error(MSW_STATUS_INVALID_ARGUMENT, what + ": the element count overflows 64 bits");
    n *= d;
  }
  return n;
}

inline int64_t checked_bytes(const Dims& dims, size_t elem_size, const std::string& what) {
  const int64_t n = checked_numel(dims, what);
  if (elem_size && n > std::numeric_limits<int64_t>::max() / static_cast<int64_t>(elem_size))
    throw sdk::Error(MSW_STATUS_INVALID_ARGUMENT, what + ": the byte count overflows 64 bits");
  return n * static_cast<int64_t>(elem_size);
}

inline std::string dims_string(const Dims& d) {
  std::string s = "(";
  for (size_t i = 0; i < d.size(); ++i) s += (i ? ", " : "") + std::to_string(d[i]);
  return s + (d.size() == 1 ? ",)" : ")");
}

// The intersection of [a_off, a_off + a_shape) and [b_off, b_off + b_shape); false when empty.
inline bool intersect(const Dims& a_off, const Dims& a_shape, const Dims& b_off, const Dims& b_shape, Dims& lo,
                      Dims& shape) {
  const size_t n = a_off.size();
  lo.assign(n, 0);
  shape.assign(n, 0);
  for (size_t d = 0; d < n; ++d) {
    lo[d] = std::max(a_off[d], b_off[d]);
    const int64_t hi = std::min(a_off[d] + a_shape[d], b_off[d] + b_shape[d]);
    if (hi <= lo[d]) return false;
    shape[d] = hi - lo[d];
  }
  return true;
}

inline int64_t row_major_index(const Dims& shape, const Dims& idx) {
  int64_t off = 0;
  for (size_t d = 0; d < shape.size(); ++d) off = off * shape[d] + idx[d];
  return off;
}

// Copies the box `box_shape` that starts at `src_start` inside the dense array `src` (shape `src_shape`,
// dtype `src_dtype`) to `dst_start` inside `dst` (shape `dst_shape`, dtype `dst_dtype`), converting
// (convert.hpp rules; the caller checked require_convertible). Contiguous innermost rows move as one.
inline void copy_box(const char* src, const Dims& src_shape, const Dims& src_start, int32_t src_dtype, char* dst,
                     const Dims& dst_shape, const Dims& dst_start, int32_t dst_dtype, const Dims& box_shape) {
  const size_t nd = box_shape.size();
  const size_t ss = msw_dtype_size(src_dtype), ds = msw_dtype_size(dst_dtype);
  if (nd == 0) {
    convert(src, src_dtype, dst, dst_dtype, 1);
    return;
  }
  for (int64_t d : box_shape)
    if (d == 0) return;
  const int64_t row = box_shape[nd - 1];
  Dims idx(nd, 0), s(nd), t(nd);
  while (true) {
    for (size_t d = 0; d < nd; ++d) {
      s[d] = src_start[d] + idx[d];
      t[d] = dst_start[d] + idx[d];
    }
    convert(src + row_major_index(src_shape, s) * ss, src_dtype, dst + row_major_index(dst_shape, t) * ds, dst_dtype,
            static_cast<size_t>(row));
    // Odometer over every dimension but the last.
    size_t d = nd - 1;
    while (d > 0) {
      --d;
      if (++idx[d] < box_shape[d]) break;
      idx[d] = 0;
      if (d == 0) return;
    }
    if (nd == 1) return;
  }
}

// Fills the box with one element `value` (stored dtype), converted to dst_dtype.
inline void fill_box(const char* value, int32_t src_dtype, char* dst, const Dims& dst_shape, const Dims& dst_start,
                     int32_t dst_dtype, const Dims& box_shape) {
  std::vector<char> one(msw_dtype_size(dst_dtype));
  convert(value, src_dtype, one.data(), dst_dtype, 1);
  const int64_t n = checked_numel(box_shape, "fill");
  if (n == 0) return;
  const size_t nd = box_shape.size();
  if (nd == 0) {
    std::memcpy(dst, one.data(), one.size());
    return;
  }
  const int64_t row = box_shape[nd - 1];
  std::vector<char> row_bytes(static_cast<size_t>(row) * one.size());
  for (int64_t i = 0; i < row; ++i) std::memcpy(row_bytes.data() + i * one.size(), one.data(), one.size());
  Dims idx(nd, 0), t(nd);
  while (true) {
    for (size_t d = 0; d < nd; ++d) t[d] = dst_start[d] + idx[d];
    std::memcpy(dst + row_major_index(dst_shape, t) * one.size(), row_bytes.data(), row_bytes.size());
    if (nd == 1) return;
    size_t d = nd - 1;
    while (d > 0) {
      --d;
      if (++idx[d] < box_shape[d]) break;
      idx[d] = 0;
      if (d == 0) return;
    }
  }
}

// Checks that `out` is a CPU, dense tensor of `ndim` dimensions and that [offset, offset + out.shape) lies
// inside `global`; returns out.shape as Dims.
inline Dims check_region(const std::string& key, const Dims& global, const Dims& offset, const msw_tensor& out) {
  sdk::require_cpu_contiguous(out, ("read_region of " + key).c_str());
  if (static_cast<size_t>(out.ndim) != global.size() || offset.size() != global.size())
    throw sdk::Error(MSW_STATUS_SHAPE_MISMATCH, "read_region: " + key + " has " + std::to_string(global.size()) +
                                                    " dimensions but the region has " + std::to_string(out.ndim));
  Dims shape(out.shape, out.shape + out.ndim);
  for (size_t d = 0; d < global.size(); ++d)
    if (offset[d] < 0 || shape[d] < 0 || offset[d] > global[d] || shape[d] > global[d] - offset[d])
      throw sdk::Error(MSW_STATUS_SHAPE_MISMATCH, "read_region: region " + dims_string(shape) + " at offset " +
                                                      dims_string(offset) + " lies outside " + key + " of shape " +
                                                      dims_string(global));
  if (msw_dtype_size(out.dtype) == 0)
    throw sdk::Error(MSW_STATUS_INVALID_ARGUMENT, "read_region: out.dtype " + std::to_string(out.dtype) + " is unknown");
  if (!out.data && checked_numel(shape, key) > 0)
    throw sdk::Error(MSW_STATUS_INVALID_ARGUMENT, "read_region: out.data is NULL");
  return shape;
}

inline char* tensor_bytes(const msw_tensor& t) { return static_cast<char*>(t.data) + t.byte_offset; }

// The bytes of a strided CPU tensor of shape `shape` in C order (writers store shards densely).
inline std::vector<char> gather_strided(const msw_tensor& t, const Dims& shape) {
  const size_t es = msw_dtype_size(t.dtype);
  std::vector<char> out(static_cast<size_t>(checked_numel(shape, "shard")) * es);
  if (out.empty()) return out;
  const char* base = tensor_bytes(t);
  const size_t nd = shape.size();
  Dims idx(nd, 0);
  for (size_t i = 0; i * es < out.size(); ++i) {
    int64_t off = 0;
    for (size_t d = 0; d < nd; ++d) off += idx[d] * t.strides[d];
    std::memcpy(out.data() + i * es, base + off * static_cast<int64_t>(es), es);
    for (size_t d = nd; d > 0; --d) {
      if (++idx[d - 1] < shape[d - 1]) break;
      idx[d - 1] = 0;
    }
  }
  return out;
}

}  // namespace megaswift::ckpt

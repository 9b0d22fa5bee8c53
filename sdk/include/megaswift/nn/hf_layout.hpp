// The HF <-> Megatron layout transforms of msw_hf_transform, on dense CPU tensors. They move bytes and never
// convert values, so HF -> Megatron -> HF is bit-exact for every dtype.
//
//   QKV      q (n*G*D, X...), k (G*D, X...), v (G*D, X...) -> rows grouped per kv group g:
//            [q rows of g's n heads | k rows of head g | v rows of head g]   (research/formats.md 5.2)
//   GLU      gate (F, X...), up (F, X...) -> [gate; up] (2F, X...)
//   PAD_ROWS (V, X...) -> (Vpad, X...) with zero rows appended; the inverse drops them
//   CONCAT   t_0 (r_0, X...), ..., t_n (r_n, X...) -> (sum r_i, X...) in order
//   IDENTITY a copy
// X is whatever follows the row dimension (the hidden size for weights, nothing for biases).
#pragma once

#include <megaswift/c/model.h>
#include <megaswift/sdk/status.hpp>
#include <megaswift/sdk/tensor.hpp>

#include <cstring>
#include <string>

namespace megaswift::nn {

namespace detail {

inline char* bytes_of(const msw_tensor& t) { return static_cast<char*>(t.data) + t.byte_offset; }

inline int64_t rows_of(const msw_tensor& t) { return t.ndim == 0 ? 1 : t.shape[0]; }

inline size_t row_bytes(const msw_tensor& t) {
  int64_t n = 1;
  for (int32_t i = 1; i < t.ndim; ++i) n *= t.shape[i];
  return static_cast<size_t>(n) * msw_dtype_size(t.dtype);
}

inline void check_dense(const msw_tensor& t, const msw_tensor& reference, const std::string& what) {
  sdk::require_cpu_contiguous(t, what.c_str());
  if (t.dtype != reference.dtype)
    throw sdk::Error(MSW_STATUS_SHAPE_MISMATCH, what + " is " + sdk::dtype_name(t.dtype) + " but the Megatron tensor is " +
                                                    sdk::dtype_name(reference.dtype) + ": the layout transform moves bytes, "
                                                    "so all tensors must share one dtype");
}

inline void check_shape(const msw_tensor& t, const int64_t* shape, int32_t ndim, const std::string& what) {
  bool ok = t.ndim == ndim;
  for (int32_t i = 0; ok && i < ndim; ++i) ok = t.shape[i] == shape[i];
  if (!ok) {
    std::string expected = "(";
    for (int32_t i = 0; i < ndim; ++i) expected += (i ? ", " : "") + std::to_string(shape[i]);
    throw sdk::Error(MSW_STATUS_SHAPE_MISMATCH, what + " is " + sdk::shape_string(t) + ", expected " + expected + ")");
  }
}

}  // namespace detail

// Record `i` of a mapping's HF tensor array, walked with the writer's element size.
inline const msw_hf_tensor& hf_tensor_record(const msw_hf_mapping& m, size_t i) {
  return *reinterpret_cast<const msw_hf_tensor*>(reinterpret_cast<const char*>(m.hf) + i * m.hf_elem_size);
}

// Megatron tensor `megatron` <-> the mapping's HF tensors `hf` (hf_count of them), in the direction
// `to_megatron`. `q_heads_per_group` and `head_dim` describe QKV rows; the record's shapes are checked first.
inline void apply_hf_layout(const msw_hf_mapping& m, const msw_tensor* hf, size_t hf_count, const msw_tensor& megatron,
                            bool to_megatron, int64_t q_heads_per_group, int64_t head_dim) {
  using namespace detail;
  const std::string name = m.megatron_name;
  if (hf_count != m.hf_count)
    throw sdk::Error(MSW_STATUS_INVALID_ARGUMENT, name + " is made of " + std::to_string(m.hf_count) +
                                                      " HF tensors but " + std::to_string(hf_count) + " were passed");
  sdk::require_cpu_contiguous(megatron, name.c_str());
  for (size_t i = 0; i < m.hf_count; ++i) {
    const msw_hf_tensor& r = hf_tensor_record(m, i);
    check_dense(hf[i], megatron, std::string(r.name));
    check_shape(hf[i], r.shape, r.ndim, std::string(r.name));
  }
  char* out = bytes_of(megatron);
  const size_t row = row_bytes(megatron);
  switch (m.transform) {
    case MSW_HF_IDENTITY: {
      const size_t n = row * static_cast<size_t>(rows_of(megatron));
      if (to_megatron) std::memcpy(out, bytes_of(hf[0]), n);
      else std::memcpy(bytes_of(hf[0]), out, n);
      return;
    }
    case MSW_HF_PAD_ROWS: {
      const size_t kept = row * static_cast<size_t>(rows_of(hf[0]));
      const size_t total = row * static_cast<size_t>(rows_of(megatron));
      if (to_megatron) {
        std::memcpy(out, bytes_of(hf[0]), kept);
        std::memset(out + kept, 0, total - kept);
      } else {
        std::memcpy(bytes_of(hf[0]), out, kept);
      }
      return;
    }
    case MSW_HF_GLU: {
      const size_t half = row * static_cast<size_t>(rows_of(hf[0]));
      if (to_megatron) {
        std::memcpy(out, bytes_of(hf[0]), half);
        std::memcpy(out + half, bytes_of(hf[1]), half);
      } else {
        std::memcpy(bytes_of(hf[0]), out, half);
        std::memcpy(bytes_of(hf[1]), out + half, half);
      }
      return;
    }
    case MSW_HF_CONCAT: {
      int64_t rows = 0;
      for (size_t i = 0; i < m.hf_count; ++i) rows += rows_of(hf[i]);
      if (rows != rows_of(megatron))
        throw sdk::Error(MSW_STATUS_SHAPE_MISMATCH, name + " has " + std::to_string(rows_of(megatron)) +
                                                        " rows but its HF tensors have " + std::to_string(rows));
      size_t offset = 0;
      for (size_t i = 0; i < m.hf_count; ++i) {
        const size_t n = row * static_cast<size_t>(rows_of(hf[i]));
        if (to_megatron) std::memcpy(out + offset, bytes_of(hf[i]), n);
        else std::memcpy(bytes_of(hf[i]), out + offset, n);
        offset += n;
      }
      return;
    }
    case MSW_HF_QKV: {
      const int64_t groups = rows_of(hf[1]) / head_dim;
      const size_t q_block = row * static_cast<size_t>(q_heads_per_group * head_dim);
      const size_t kv_block = row * static_cast<size_t>(head_dim);
      char* q = bytes_of(hf[0]);
      char* k = bytes_of(hf[1]);
      char* v = bytes_of(hf[2]);
      for (int64_t g = 0; g < groups; ++g) {
        char* dst = out + static_cast<size_t>(g) * (q_block + 2 * kv_block);
        char* parts[3] = {q + g * q_block, k + g * kv_block, v + g * kv_block};
        const size_t sizes[3] = {q_block, kv_block, kv_block};
        for (int i = 0; i < 3; ++i) {
          if (to_megatron) std::memcpy(dst, parts[i], sizes[i]);
          else std::memcpy(parts[i], dst, sizes[i]);
          dst += sizes[i];
        }
      }
      return;
    }
    default:
      throw sdk::Error(MSW_STATUS_INVALID_ARGUMENT, name + ": unknown HF transform code " + std::to_string(m.transform));
  }
}

}  // namespace megaswift::nn

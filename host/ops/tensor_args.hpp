// Checking the tensors an op receives and staging them for the CPU kernels, which take dense float32 (and
// int64) arrays: a dense F32 tensor is used in place; anything else (BF16/F16, a row stride wider than
// the row) is copied into a float32 scratch buffer, and outputs are written back, rounded to their dtype,
// by commit(). This staging is the CPU backend's own business (ops.h allows it: the CPU backend is
// synchronous and never captured); what a tensor may look like is the contract's: its last dimension is
// dense (require() refuses anything else), so a caller that runs on CPU runs on CUDA too.
#pragma once

#include <megaswift/c/tensor.h>

#include <cstdint>
#include <string>
#include <vector>

namespace megaswift::host::ops {

// Thrown by the checks below; the ops table turns it into a status prefixed with the op name.
struct OpError {
  int32_t code;
  std::string message;
};
[[noreturn]] void fail(int32_t code, const std::string& message);

std::string describe(const msw_tensor& t);  // "bf16 (2, 16, 64)"
const char* dtype_short(int32_t dtype);      // "bf16", "f8_e4m3", ...
bool is_float_dtype(int32_t dtype);          // F32, F16, BF16, F64: what the CPU backend computes on
bool is_fp8_dtype(int32_t dtype);            // F8_E4M3, F8_E5M2: known, but not computed on by the CPU backend

// An optional tensor argument: NULL when the args struct holds it zeroed (absent).
inline const msw_tensor* opt(const msw_tensor& t) { return msw_tensor_is_absent(&t) ? nullptr : &t; }

enum class Strides {
  rows,  // the last dimension must be dense (the ops' rule, ops.h); other dimensions may have any stride
  any    // any strides (copy)
};

// `t` is given (not NULL, not absent), has a known dtype, a floating-point one when `floating` (fp8 is
// UNSUPPORTED on CPU), lies on `device`, and follows `strides`.
const msw_tensor& require(const msw_tensor* t, const char* name, const msw_device& device, bool floating = true,
                          Strides strides = Strides::rows);
void require_index(const msw_tensor* t, const char* name, const msw_device& device);  // I64 or I32
void require_shape(const msw_tensor& t, const char* name, std::initializer_list<int64_t> shape);
void require_numel(const msw_tensor& t, const char* name, int64_t numel, const std::string& why);
int64_t last_dim(const msw_tensor& t);           // 1 for a scalar
int64_t rows_of(const msw_tensor& t);            // numel / last_dim

// Device scalars (loss sums, counts, scales): one element of a float (F32/F64 for `floats`) or I64 tensor.
const msw_tensor& require_scalar(const msw_tensor* t, const char* name, const msw_device& device,
                                 std::initializer_list<int32_t> dtypes);
double read_scalar(const msw_tensor& t);            // F32, F64 or I64, as double
void write_scalar(const msw_tensor& t, double v);   // F32 (rounded), F64
void add_to_count(const msw_tensor& t, int64_t v);  // I64 += v

// Element-wise copy between any two tensors of equal numel (row-major order), converting floats (rounding
// to nearest even when narrowing). Integers convert among I64/I32/I8/U8/BOOL.
void convert_copy(const msw_tensor& src, const msw_tensor& dst);

// A read-only float32 view of a floating-point tensor.
class F32In {
 public:
  F32In(const msw_tensor& t);
  const float* data() const { return ptr_; }

 private:
  const float* ptr_ = nullptr;
  std::vector<float> buffer_;
};

// A writable float32 view; `load` fills the scratch with the tensor's current values (for += outputs and
// in-place ops). commit() must be called once the kernel has written it.
class F32Out {
 public:
  F32Out(const msw_tensor& t, bool load);
  float* data() { return ptr_; }
  void commit();

 private:
  const msw_tensor* tensor_;
  float* ptr_ = nullptr;
  std::vector<float> buffer_;
};

// Optional variants: a NULL tensor gives a NULL pointer.
class F32InOpt {
 public:
  explicit F32InOpt(const msw_tensor* t) { if (t) in_.emplace_back(*t); }
  const float* data() const { return in_.empty() ? nullptr : in_[0].data(); }

 private:
  std::vector<F32In> in_;
};
class F32OutOpt {
 public:
  F32OutOpt(const msw_tensor* t, bool load) { if (t) out_.emplace_back(*t, load); }
  float* data() { return out_.empty() ? nullptr : out_[0].data(); }
  void commit() { if (!out_.empty()) out_[0].commit(); }

 private:
  std::vector<F32Out> out_;
};

// A read-only int64 view of an index tensor.
class I64In {
 public:
  explicit I64In(const msw_tensor& t);
  const int64_t* data() const { return ptr_; }

 private:
  const int64_t* ptr_ = nullptr;
  std::vector<int64_t> buffer_;
};

}  // namespace megaswift::host::ops

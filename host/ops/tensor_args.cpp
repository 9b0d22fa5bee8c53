#include "host/ops/tensor_args.hpp"

#include "kernels/cpu/cast.hpp"

#include <cstring>

namespace megaswift::host::ops {

namespace cpu = megaswift::kernels::cpu;

void fail(int32_t code, const std::string& message) { throw OpError{code, message}; }

const char* dtype_short(int32_t dtype) {
  switch (dtype) {
    case MSW_DTYPE_F32: return "f32";
    case MSW_DTYPE_F16: return "f16";
    case MSW_DTYPE_BF16: return "bf16";
    case MSW_DTYPE_F64: return "f64";
    case MSW_DTYPE_I8: return "i8";
    case MSW_DTYPE_U8: return "u8";
    case MSW_DTYPE_I32: return "i32";
    case MSW_DTYPE_I64: return "i64";
    case MSW_DTYPE_BOOL: return "bool";
    case MSW_DTYPE_F8_E4M3: return "f8_e4m3";
    case MSW_DTYPE_F8_E5M2: return "f8_e5m2";
    default: return "unknown-dtype";
  }
}

namespace {

char* base_of(const msw_tensor& t) { return static_cast<char*>(t.data) + t.byte_offset; }

double load_float(const char* p, int32_t dtype) {
  switch (dtype) {
    case MSW_DTYPE_F32: { float v; std::memcpy(&v, p, 4); return v; }
    case MSW_DTYPE_F64: { double v; std::memcpy(&v, p, 8); return v; }
    case MSW_DTYPE_BF16: { uint16_t v; std::memcpy(&v, p, 2); return cpu::bf16_to_float(v); }
    case MSW_DTYPE_F16: { uint16_t v; std::memcpy(&v, p, 2); return cpu::fp16_to_float(v); }
  }
  return 0;
}

void store_float(char* p, int32_t dtype, double x) {
  switch (dtype) {
    case MSW_DTYPE_F32: { float v = static_cast<float>(x); std::memcpy(p, &v, 4); return; }
    case MSW_DTYPE_F64: { std::memcpy(p, &x, 8); return; }
    // Narrowing to 16 bits goes through float32 first, as a float32 tensor cast in PyTorch would.
    case MSW_DTYPE_BF16: { uint16_t v = cpu::float_to_bf16(static_cast<float>(x)); std::memcpy(p, &v, 2); return; }
    case MSW_DTYPE_F16: { uint16_t v = cpu::float_to_fp16(static_cast<float>(x)); std::memcpy(p, &v, 2); return; }
  }
}

int64_t load_int(const char* p, int32_t dtype) {
  switch (dtype) {
    case MSW_DTYPE_I64: { int64_t v; std::memcpy(&v, p, 8); return v; }
    case MSW_DTYPE_I32: { int32_t v; std::memcpy(&v, p, 4); return v; }
    case MSW_DTYPE_I8: return static_cast<int8_t>(*p);
    case MSW_DTYPE_U8: case MSW_DTYPE_BOOL: return static_cast<uint8_t>(*p);
  }
  return 0;
}

void store_int(char* p, int32_t dtype, int64_t x) {
  switch (dtype) {
    case MSW_DTYPE_I64: std::memcpy(p, &x, 8); return;
    case MSW_DTYPE_I32: { int32_t v = static_cast<int32_t>(x); std::memcpy(p, &v, 4); return; }
    case MSW_DTYPE_I8: *p = static_cast<char>(static_cast<int8_t>(x)); return;
    case MSW_DTYPE_U8: *p = static_cast<char>(static_cast<uint8_t>(x)); return;
    case MSW_DTYPE_BOOL: *p = static_cast<char>(x != 0); return;
  }
}

// Visits the byte offsets of every element of `t` in row-major order.
template <class F>
void for_each_offset(const msw_tensor& t, F&& f) {
  const int64_t n = msw_tensor_numel(&t);
  if (n == 0) return;
  const int64_t esize = static_cast<int64_t>(msw_dtype_size(t.dtype));
  int64_t index[MSW_MAX_DIMS] = {};
  int64_t offset = 0;
  for (int64_t i = 0; i < n; ++i) {
    f(i, offset * esize);
    for (int32_t d = t.ndim - 1; d >= 0; --d) {
      if (++index[d] < t.shape[d]) {
        offset += t.strides[d];
        break;
      }
      offset -= t.strides[d] * (t.shape[d] - 1);
      index[d] = 0;
    }
  }
}

}  // namespace

std::string describe(const msw_tensor& t) {
  std::string s = std::string(dtype_short(t.dtype)) + " (";
  for (int32_t i = 0; i < t.ndim; ++i) s += (i ? ", " : "") + std::to_string(t.shape[i]);
  return s + ")";
}

bool is_float_dtype(int32_t d) {
  return d == MSW_DTYPE_F32 || d == MSW_DTYPE_F16 || d == MSW_DTYPE_BF16 || d == MSW_DTYPE_F64;
}

bool is_fp8_dtype(int32_t d) { return d == MSW_DTYPE_F8_E4M3 || d == MSW_DTYPE_F8_E5M2; }

const msw_tensor& require(const msw_tensor* t, const char* name, const msw_device& device, bool floating,
                          Strides strides) {
  if (!t) fail(MSW_STATUS_INVALID_ARGUMENT, std::string(name) + " is NULL");
  if (msw_tensor_is_absent(t))
    fail(MSW_STATUS_INVALID_ARGUMENT, std::string(name) + " is missing (the args struct holds it zeroed) but is required");
  if (t->ndim < 0 || t->ndim > MSW_MAX_DIMS)
    fail(MSW_STATUS_INVALID_ARGUMENT, std::string(name) + " has ndim " + std::to_string(t->ndim));
  if (msw_dtype_size(t->dtype) == 0)
    fail(MSW_STATUS_INVALID_ARGUMENT, std::string(name) + " has unknown dtype code " + std::to_string(t->dtype));
  if (is_fp8_dtype(t->dtype))
    fail(MSW_STATUS_UNSUPPORTED, std::string(name) + " is " + describe(*t) +
                                     ": fp8 tensors are not supported by the CPU backend (fp8 needs the CUDA backend; "
                                     "use bf16 or f32 on CPU)");
  if (floating && !is_float_dtype(t->dtype))
    fail(MSW_STATUS_SHAPE_MISMATCH, std::string(name) + " is " + describe(*t) + ", expected a floating-point tensor");
  if (t->device.type != device.type || t->device.id != device.id)
    fail(MSW_STATUS_INVALID_ARGUMENT, std::string(name) + " lives on device type " + std::to_string(t->device.type) +
                                          ":" + std::to_string(t->device.id) + " but the call runs on " +
                                          std::to_string(device.type) + ":" + std::to_string(device.id));
  for (int32_t i = 0; i < t->ndim; ++i)
    if (t->shape[i] < 0) fail(MSW_STATUS_INVALID_ARGUMENT, std::string(name) + " has a negative dimension");
  if (!t->data && msw_tensor_numel(t) > 0) fail(MSW_STATUS_INVALID_ARGUMENT, std::string(name) + " has no data");
  if (strides == Strides::rows && t->ndim > 0 && t->shape[t->ndim - 1] > 1 && t->strides[t->ndim - 1] != 1)
    fail(MSW_STATUS_INVALID_ARGUMENT, std::string(name) + " " + describe(*t) + " has stride " +
                                          std::to_string(t->strides[t->ndim - 1]) +
                                          " in its last dimension: ops take tensors whose last dimension is dense "
                                          "(make a dense copy with ops.copy first)");
  return *t;
}

void require_index(const msw_tensor* t, const char* name, const msw_device& device) {
  require(t, name, device, false);
  if (t->dtype != MSW_DTYPE_I64 && t->dtype != MSW_DTYPE_I32)
    fail(MSW_STATUS_SHAPE_MISMATCH, std::string(name) + " is " + describe(*t) + ", expected i64 (or i32) indices");
}

void require_shape(const msw_tensor& t, const char* name, std::initializer_list<int64_t> shape) {
  bool ok = t.ndim == static_cast<int32_t>(shape.size());
  int32_t i = 0;
  for (int64_t d : shape) ok = ok && t.shape[i++] == d;
  if (ok) return;
  std::string expected = "(";
  i = 0;
  for (int64_t d : shape) expected += (i++ ? ", " : "") + std::to_string(d);
  fail(MSW_STATUS_SHAPE_MISMATCH, std::string(name) + " is " + describe(t) + ", expected shape " + expected + ")");
}

void require_numel(const msw_tensor& t, const char* name, int64_t numel, const std::string& why) {
  if (msw_tensor_numel(&t) != numel)
    fail(MSW_STATUS_SHAPE_MISMATCH, std::string(name) + " is " + describe(t) + " (" +
                                        std::to_string(msw_tensor_numel(&t)) + " elements), expected " +
                                        std::to_string(numel) + " elements (" + why + ")");
}

const msw_tensor& require_scalar(const msw_tensor* t, const char* name, const msw_device& device,
                                 std::initializer_list<int32_t> dtypes) {
  require(t, name, device, false);
  std::string allowed;
  bool ok = false;
  for (int32_t d : dtypes) {
    ok = ok || t->dtype == d;
    allowed += (allowed.empty() ? "" : " or ") + std::string(dtype_short(d));
  }
  if (!ok) fail(MSW_STATUS_SHAPE_MISMATCH, std::string(name) + " is " + describe(*t) + ", expected a " + allowed + " scalar");
  if (msw_tensor_numel(t) != 1)
    fail(MSW_STATUS_SHAPE_MISMATCH, std::string(name) + " is " + describe(*t) + ", expected one element (a device scalar)");
  return *t;
}

double read_scalar(const msw_tensor& t) {
  const char* p = base_of(t);
  return t.dtype == MSW_DTYPE_I64 ? static_cast<double>(load_int(p, t.dtype)) : load_float(p, t.dtype);
}

void write_scalar(const msw_tensor& t, double v) { store_float(base_of(t), t.dtype, v); }

void add_to_count(const msw_tensor& t, int64_t v) {
  char* p = base_of(t);
  store_int(p, t.dtype, load_int(p, t.dtype) + v);
}

int64_t last_dim(const msw_tensor& t) { return t.ndim == 0 ? 1 : t.shape[t.ndim - 1]; }
int64_t rows_of(const msw_tensor& t) {
  const int64_t c = last_dim(t);
  return c == 0 ? 0 : msw_tensor_numel(&t) / c;
}

void convert_copy(const msw_tensor& src, const msw_tensor& dst) {
  const int64_t n = msw_tensor_numel(&src);
  if (n != msw_tensor_numel(&dst))
    fail(MSW_STATUS_SHAPE_MISMATCH, "copy from " + describe(src) + " to " + describe(dst) + ": element counts differ");
  const bool src_float = is_float_dtype(src.dtype), dst_float = is_float_dtype(dst.dtype);
  if (src_float != dst_float)
    fail(MSW_STATUS_UNSUPPORTED, "copy from " + describe(src) + " to " + describe(dst) +
                                     ": conversions between floating-point and integer tensors are not supported");
  const bool dense = msw_tensor_is_contiguous(&src) && msw_tensor_is_contiguous(&dst);
  if (dense && src.dtype == dst.dtype) {
    std::memmove(base_of(dst), base_of(src), static_cast<size_t>(n) * msw_dtype_size(src.dtype));
    return;
  }
  if (dense) {
    const char* s = base_of(src);
    char* d = base_of(dst);
    if (src.dtype == MSW_DTYPE_BF16 && dst.dtype == MSW_DTYPE_F32)
      return cpu::cast_bf16_to_f32(reinterpret_cast<const uint16_t*>(s), reinterpret_cast<float*>(d), n);
    if (src.dtype == MSW_DTYPE_F16 && dst.dtype == MSW_DTYPE_F32)
      return cpu::cast_f16_to_f32(reinterpret_cast<const uint16_t*>(s), reinterpret_cast<float*>(d), n);
    if (src.dtype == MSW_DTYPE_F32 && dst.dtype == MSW_DTYPE_BF16)
      return cpu::cast_f32_to_bf16(reinterpret_cast<const float*>(s), reinterpret_cast<uint16_t*>(d), n);
    if (src.dtype == MSW_DTYPE_F32 && dst.dtype == MSW_DTYPE_F16)
      return cpu::cast_f32_to_f16(reinterpret_cast<const float*>(s), reinterpret_cast<uint16_t*>(d), n);
  }
  // General path: gather the source in row-major order, then scatter into the destination. The
  // intermediate buffer makes overlapping source and destination safe.
  if (src_float) {
    std::vector<double> values(static_cast<size_t>(n));
    const char* s = base_of(src);
    for_each_offset(src, [&](int64_t i, int64_t off) { values[i] = load_float(s + off, src.dtype); });
    char* d = base_of(dst);
    for_each_offset(dst, [&](int64_t i, int64_t off) { store_float(d + off, dst.dtype, values[i]); });
  } else {
    std::vector<int64_t> values(static_cast<size_t>(n));
    const char* s = base_of(src);
    for_each_offset(src, [&](int64_t i, int64_t off) { values[i] = load_int(s + off, src.dtype); });
    char* d = base_of(dst);
    for_each_offset(dst, [&](int64_t i, int64_t off) { store_int(d + off, dst.dtype, values[i]); });
  }
}

namespace {
msw_tensor dense_like(const msw_tensor& t, void* data, int32_t dtype) {
  msw_tensor r{};
  r.data = data;
  r.device = t.device;
  r.dtype = dtype;
  msw_tensor_set_dense_shape(&r, t.ndim, t.shape);
  return r;
}
}  // namespace

F32In::F32In(const msw_tensor& t) {
  if (t.dtype == MSW_DTYPE_F32 && msw_tensor_is_contiguous(&t)) {
    ptr_ = reinterpret_cast<const float*>(base_of(t));
    return;
  }
  buffer_.resize(static_cast<size_t>(msw_tensor_numel(&t)));
  convert_copy(t, dense_like(t, buffer_.data(), MSW_DTYPE_F32));
  ptr_ = buffer_.data();
}

F32Out::F32Out(const msw_tensor& t, bool load) : tensor_(&t) {
  if (t.dtype == MSW_DTYPE_F32 && msw_tensor_is_contiguous(&t)) {
    ptr_ = reinterpret_cast<float*>(base_of(t));
    return;
  }
  buffer_.resize(static_cast<size_t>(msw_tensor_numel(&t)));
  if (load) convert_copy(t, dense_like(t, buffer_.data(), MSW_DTYPE_F32));
  ptr_ = buffer_.data();
}

void F32Out::commit() {
  if (buffer_.empty()) return;
  convert_copy(dense_like(*tensor_, buffer_.data(), MSW_DTYPE_F32), *tensor_);
}

I64In::I64In(const msw_tensor& t) {
  if (t.dtype == MSW_DTYPE_I64 && msw_tensor_is_contiguous(&t)) {
    ptr_ = reinterpret_cast<const int64_t*>(base_of(t));
    return;
  }
  buffer_.resize(static_cast<size_t>(msw_tensor_numel(&t)));
  convert_copy(t, dense_like(t, buffer_.data(), MSW_DTYPE_I64));
  ptr_ = buffer_.data();
}

}  // namespace megaswift::host::ops

// CPU implementation of gemma.geglu_forward / gemma.geglu_backward (see geglu_op.hpp).
#include "geglu_op.hpp"

#include <megaswift/sdk/status.hpp>
#include <megaswift/sdk/tensor.hpp>

#include <cmath>
#include <cstring>
#include <mutex>
#include <string>

namespace gemma {
namespace {

using megaswift::sdk::Error;

// HF's gelu_pytorch_tanh: 0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3))), in float as PyTorch does.
constexpr float kSqrt2OverPi = 0.7978845608028654f;
constexpr float kCubic = 0.044715f;

inline float gelu(float x) {
  const float inner = kSqrt2OverPi * (x + kCubic * x * x * x);
  return 0.5f * x * (1.0f + std::tanh(inner));
}

inline float gelu_grad(float x) {
  const float inner = kSqrt2OverPi * (x + kCubic * x * x * x);
  const float t = std::tanh(inner);
  return 0.5f * (1.0f + t) + 0.5f * x * (1.0f - t * t) * kSqrt2OverPi * (1.0f + 3.0f * kCubic * x * x);
}

// A float32 CPU matrix seen as rows of `width` elements: any row stride, dense rows.
struct Rows {
  float* data = nullptr;
  int64_t rows = 0, width = 0, stride = 0;
};

Rows rows_of(const msw_tensor& t, const char* what) {
  if (t.device.type != MSW_DEVICE_CPU)
    throw Error(MSW_STATUS_UNSUPPORTED, std::string(what) + ": gemma's geglu op has a CPU implementation only");
  if (t.dtype != MSW_DTYPE_F32)
    throw Error(MSW_STATUS_UNSUPPORTED, std::string(what) + " is " + megaswift::sdk::dtype_name(t.dtype) +
                                            ": gemma's geglu op takes float32");
  if (t.ndim < 1 || t.strides[t.ndim - 1] != 1)
    throw Error(MSW_STATUS_INVALID_ARGUMENT, std::string(what) + " " + megaswift::sdk::shape_string(t) +
                                                 " must have a dense last dimension");
  Rows r;
  r.width = t.shape[t.ndim - 1];
  r.rows = r.width ? msw_tensor_numel(&t) / r.width : 0;
  // Leading dimensions must flatten to rows of one stride (a row-major block, possibly narrowed).
  r.stride = t.ndim >= 2 ? t.strides[t.ndim - 2] : r.width;
  for (int32_t d = t.ndim - 3; d >= 0; --d)
    if (t.shape[d] != 1 && t.strides[d] != t.strides[d + 1] * t.shape[d + 1])
      throw Error(MSW_STATUS_INVALID_ARGUMENT, std::string(what) + ": leading dimensions must flatten to rows");
  r.data = reinterpret_cast<float*>(static_cast<char*>(t.data) + t.byte_offset);
  return r;
}

// Copies the caller's args into a zeroed full-size struct: members past its struct_size read as absent.
GegluArgs read_args(const void* raw, const char* op) {
  if (!raw) throw Error(MSW_STATUS_INVALID_ARGUMENT, std::string(op) + ": args is NULL");
  GegluArgs a{};
  const uint32_t size = *static_cast<const uint32_t*>(raw);
  if (size < offsetof(GegluArgs, out))
    throw Error(MSW_STATUS_INVALID_ARGUMENT, std::string(op) + ": args.struct_size " + std::to_string(size) +
                                                 " is too small to hold x");
  std::memcpy(&a, raw, size < sizeof(a) ? size : sizeof(a));
  return a;
}

void check_pair(const Rows& x, const Rows& half, const char* op) {
  if (x.width % 2 != 0 || half.width * 2 != x.width || half.rows != x.rows)
    throw Error(MSW_STATUS_SHAPE_MISMATCH, std::string(op) + ": x must be (R, 2F) and the other tensor (R, F); got " +
                                               std::to_string(x.rows) + " x " + std::to_string(x.width) + " and " +
                                               std::to_string(half.rows) + " x " + std::to_string(half.width));
}

msw_status* geglu_forward(const msw_exec_ctx*, const void* raw) {
  return megaswift::sdk::guard([&] {
    const GegluArgs a = read_args(raw, kGegluForward);
    const Rows x = rows_of(a.x, "x"), out = rows_of(a.out, "out");
    check_pair(x, out, kGegluForward);
    const int64_t f = out.width;
    for (int64_t r = 0; r < x.rows; ++r) {
      const float* gate = x.data + r * x.stride;
      const float* up = gate + f;
      float* o = out.data + r * out.stride;
      for (int64_t j = 0; j < f; ++j) o[j] = gelu(gate[j]) * up[j];
    }
  });
}

msw_status* geglu_backward(const msw_exec_ctx*, const void* raw) {
  return megaswift::sdk::guard([&] {
    const GegluArgs a = read_args(raw, kGegluBackward);
    const Rows x = rows_of(a.x, "x"), dout = rows_of(a.dout, "dout"), dx = rows_of(a.dx, "dx");
    check_pair(x, dout, kGegluBackward);
    check_pair(dx, dout, kGegluBackward);
    const int64_t f = dout.width;
    for (int64_t r = 0; r < x.rows; ++r) {
      const float* gate = x.data + r * x.stride;
      const float* up = gate + f;
      const float* g = dout.data + r * dout.stride;
      float* d_gate = dx.data + r * dx.stride;
      float* d_up = d_gate + f;
      for (int64_t j = 0; j < f; ++j) {
        // Read both inputs before writing: dx may not alias x, but keep the order obvious.
        const float gv = gate[j], uv = up[j];
        d_gate[j] = g[j] * uv * gelu_grad(gv);
        d_up[j] = g[j] * gelu(gv);
      }
    }
  });
}

void register_one(const char* name, msw_custom_op_fn fn, const char* summary) {
  msw_custom_op op{};
  op.struct_size = sizeof(op);
  op.device_type = MSW_DEVICE_CPU;
  op.name = name;
  op.summary = summary;
  op.fn = fn;
  megaswift::sdk::check(megaswift::sdk::host().register_op(&op));
}

}  // namespace

void register_geglu_ops() {
  // Instances may be created many times; the ops are registered with the host once.
  static std::once_flag once;
  std::call_once(once, [] {
    register_one(kGegluForward, geglu_forward, "gelu(tanh)(gate) * up over [gate | up] rows (Gemma MLP)");
    register_one(kGegluBackward, geglu_backward, "backward of gemma.geglu_forward");
  });
}

}  // namespace gemma

// AdamW and SGD over a list of tensors (see optimizer.hpp): batched launches, the batch table in the kernel's
// argument block, one chunk of one tensor per block, float4 accesses where a tensor's four buffers allow.
#include <kernels/cuda/common.cuh>
#include <kernels/cuda/optimizer.hpp>
#include <kernels/cuda/vec.cuh>

#include <cmath>
#include <cstdint>

namespace megaswift::kernels::cuda {
namespace {

constexpr int kThreads = 256;
constexpr int64_t kChunk = 4096;  // elements per block; a multiple of 4 so chunks keep float4 alignment

struct AdamWRecord {
  float* p;
  const float* g;
  float* m;
  float* v;
  int64_t n;
  float decay;          // 1 - lr * wd
  float neg_step_size;  // -lr / (1 - beta1^step)
  int32_t vec4;         // every buffer is 16-byte aligned
};

struct SgdRecord {
  float* p;
  const float* g;
  float* buf;
  int64_t n;
  float neg_lr;
  float wd;
  int32_t decay;  // wd != 0 (torch adds the term only then)
  int32_t vec4;
};

// The argument block of one launch: the batch's records and, per record, the index of its first block.
template <class R>
struct Batch {
  R rec[kOptimizerBatch];
  int64_t block_start[kOptimizerBatch + 1];
  int32_t count;
};

struct AdamWConst {
  float beta1, one_minus_beta1, beta2, one_minus_beta2, bc2_sqrt, eps;
};

struct SgdConst {
  float momentum;
  int32_t use_momentum;
  int32_t first_step;
};

// Kernel arguments stay within the 4 KiB every CUDA version accepts.
static_assert(sizeof(Batch<AdamWRecord>) + sizeof(AdamWConst) + sizeof(StepScalars) <= 4096, "adamw arguments");
static_assert(sizeof(Batch<SgdRecord>) + sizeof(SgdConst) + sizeof(StepScalars) <= 4096, "sgd arguments");

__device__ __forceinline__ double read_scalar(const void* p, ScalarType t) {
  switch (t) {
    case ScalarType::f32: return *static_cast<const float*>(p);
    case ScalarType::f64: return *static_cast<const double*>(p);
    case ScalarType::i64: return static_cast<double>(*static_cast<const int64_t*>(p));
    case ScalarType::none: break;
  }
  return 0.0;
}

// The record of this block and the element range of its chunk.
template <class R>
__device__ __forceinline__ const R& locate(const Batch<R>& b, int64_t* begin, int64_t* end) {
  const int64_t block = blockIdx.x;
  int lo = 0, hi = b.count - 1;  // the last record whose block_start <= block
  while (lo < hi) {
    const int mid = (lo + hi + 1) / 2;
    if (b.block_start[mid] <= block) lo = mid; else hi = mid - 1;
  }
  const R& r = b.rec[lo];
  *begin = (block - b.block_start[lo]) * kChunk;
  *end = min(r.n, *begin + kChunk);
  return r;
}

// One element of AdamW, in the CPU kernel's order with its roundings (__f*_rn: no contraction into FMA).
__device__ __forceinline__ void adamw_element(float& p, float g, float& m, float& v, float gs, float decay,
                                              float neg_step_size, const AdamWConst& c) {
  const float gi = __fmul_rn(g, gs);
  const float mi = __fadd_rn(__fmul_rn(m, c.beta1), __fmul_rn(c.one_minus_beta1, gi));
  const float vi = __fadd_rn(__fmul_rn(v, c.beta2), __fmul_rn(__fmul_rn(c.one_minus_beta2, gi), gi));
  const float denom = __fadd_rn(__fdiv_rn(__fsqrt_rn(vi), c.bc2_sqrt), c.eps);
  m = mi;
  v = vi;
  p = __fadd_rn(__fmul_rn(p, decay), __fdiv_rn(__fmul_rn(neg_step_size, mi), denom));
}

__global__ void __launch_bounds__(kThreads) adamw_kernel(Batch<AdamWRecord> batch, AdamWConst c, StepScalars s) {
  if (s.found_inf && read_scalar(s.found_inf, s.found_inf_type) != 0.0) return;
  const float gs = s.grad_scale ? static_cast<float>(read_scalar(s.grad_scale, s.grad_scale_type)) : 1.0f;
  int64_t begin, end;
  const AdamWRecord& r = locate(batch, &begin, &end);
  int64_t i = begin;
  if (r.vec4) {
    const int64_t end4 = begin + ((end - begin) / 4) * 4;
    for (int64_t j = begin + 4 * int64_t(threadIdx.x); j < end4; j += 4 * kThreads) {
      float4 p = *reinterpret_cast<const float4*>(r.p + j);
      const float4 g = *reinterpret_cast<const float4*>(r.g + j);
      float4 m = *reinterpret_cast<const float4*>(r.m + j);
      float4 v = *reinterpret_cast<const float4*>(r.v + j);
      adamw_element(p.x, g.x, m.x, v.x, gs, r.decay, r.neg_step_size, c);
      adamw_element(p.y, g.y, m.y, v.y, gs, r.decay, r.neg_step_size, c);
      adamw_element(p.z, g.z, m.z, v.z, gs, r.decay, r.neg_step_size, c);
      adamw_element(p.w, g.w, m.w, v.w, gs, r.decay, r.neg_step_size, c);
      *reinterpret_cast<float4*>(r.p + j) = p;
      *reinterpret_cast<float4*>(r.m + j) = m;
      *reinterpret_cast<float4*>(r.v + j) = v;
    }
    i = end4;
  }
  for (int64_t j = i + threadIdx.x; j < end; j += kThreads) {
    float p = r.p[j], m = r.m[j], v = r.v[j];
    adamw_element(p, r.g[j], m, v, gs, r.decay, r.neg_step_size, c);
    r.p[j] = p;
    r.m[j] = m;
    r.v[j] = v;
  }
}

// One element of SGD (the CPU kernel's order).
__device__ __forceinline__ void sgd_element(float& p, float g, float* buf, float gs, const SgdRecord& r, const SgdConst& c) {
  const float gi = __fmul_rn(g, gs);
  const float d = r.decay ? __fadd_rn(gi, __fmul_rn(r.wd, p)) : gi;
  float step = d;
  if (c.use_momentum) {
    step = c.first_step ? d : __fadd_rn(__fmul_rn(*buf, c.momentum), d);
    *buf = step;
  }
  p = __fadd_rn(p, __fmul_rn(r.neg_lr, step));
}

__global__ void __launch_bounds__(kThreads) sgd_kernel(Batch<SgdRecord> batch, SgdConst c, StepScalars s) {
  if (s.found_inf && read_scalar(s.found_inf, s.found_inf_type) != 0.0) return;
  const float gs = s.grad_scale ? static_cast<float>(read_scalar(s.grad_scale, s.grad_scale_type)) : 1.0f;
  int64_t begin, end;
  const SgdRecord& r = locate(batch, &begin, &end);
  int64_t i = begin;
  if (r.vec4) {
    const int64_t end4 = begin + ((end - begin) / 4) * 4;
    for (int64_t j = begin + 4 * int64_t(threadIdx.x); j < end4; j += 4 * kThreads) {
      float4 p = *reinterpret_cast<const float4*>(r.p + j);
      const float4 g = *reinterpret_cast<const float4*>(r.g + j);
      float4 b = c.use_momentum ? *reinterpret_cast<const float4*>(r.buf + j) : make_float4(0, 0, 0, 0);
      sgd_element(p.x, g.x, &b.x, gs, r, c);
      sgd_element(p.y, g.y, &b.y, gs, r, c);
      sgd_element(p.z, g.z, &b.z, gs, r, c);
      sgd_element(p.w, g.w, &b.w, gs, r, c);
      *reinterpret_cast<float4*>(r.p + j) = p;
      if (c.use_momentum) *reinterpret_cast<float4*>(r.buf + j) = b;
    }
    i = end4;
  }
  for (int64_t j = i + threadIdx.x; j < end; j += kThreads) {
    float p = r.p[j];
    float b = c.use_momentum ? r.buf[j] : 0.0f;
    sgd_element(p, r.g[j], &b, gs, r, c);
    r.p[j] = p;
    if (c.use_momentum) r.buf[j] = b;
  }
}

// Fills batches from the records that have elements and launches each one.
template <class R, class Make, class Launch>
void run_batches(int64_t count, Make make, Launch launch) {
  Batch<R> b{};
  int64_t blocks = 0;
  auto flush = [&] {
    if (b.count == 0) return;
    b.block_start[b.count] = blocks;
    if (blocks > 0x7fffffffLL) throw KernelError("optimizer step: a batch of more than 2^31 - 1 blocks");
    launch(b, static_cast<unsigned>(blocks));
    b = Batch<R>{};
    blocks = 0;
  };
  for (int64_t i = 0; i < count; ++i) {
    R r{};
    if (!make(i, &r)) continue;  // an empty tensor
    b.rec[b.count] = r;
    b.block_start[b.count] = blocks;
    blocks += (r.n + kChunk - 1) / kChunk;
    if (++b.count == kOptimizerBatch) flush();
  }
  flush();
}

}  // namespace

void adamw_step(const AdamWTensor* tensors, int64_t count, const AdamWHyper& h, const StepScalars& scalars,
                Stream stream) {
  // Formed in double and rounded once, as the CPU kernel (and torch's Python-side scalars) do.
  const double bias_correction1 = 1.0 - std::pow(h.beta1, static_cast<double>(h.step));
  const double bias_correction2 = 1.0 - std::pow(h.beta2, static_cast<double>(h.step));
  AdamWConst c{};
  c.beta1 = static_cast<float>(h.beta1);
  c.one_minus_beta1 = static_cast<float>(1.0 - h.beta1);
  c.beta2 = static_cast<float>(h.beta2);
  c.one_minus_beta2 = static_cast<float>(1.0 - h.beta2);
  c.bc2_sqrt = static_cast<float>(std::sqrt(bias_correction2));
  c.eps = static_cast<float>(h.eps);
  run_batches<AdamWRecord>(
      count,
      [&](int64_t i, AdamWRecord* r) {
        const AdamWTensor& t = tensors[i];
        if (t.n <= 0) return false;
        *r = {t.param, t.grad, t.exp_avg, t.exp_avg_sq, t.n, static_cast<float>(1.0 - t.lr * t.weight_decay),
              static_cast<float>(-(t.lr / bias_correction1)),
              vec::aligned(t.param) && vec::aligned(t.grad) && vec::aligned(t.exp_avg) && vec::aligned(t.exp_avg_sq)};
        return true;
      },
      [&](const Batch<AdamWRecord>& b, unsigned blocks) {
        adamw_kernel<<<blocks, kThreads, 0, stream_of(stream)>>>(b, c, scalars);
        check_launch("adamw_step");
      });
}

void sgd_step(const SgdTensor* tensors, int64_t count, const SgdHyper& h, const StepScalars& scalars, Stream stream) {
  SgdConst c{};
  c.momentum = static_cast<float>(h.momentum);
  c.use_momentum = h.momentum != 0.0;
  c.first_step = h.first_step;
  run_batches<SgdRecord>(
      count,
      [&](int64_t i, SgdRecord* r) {
        const SgdTensor& t = tensors[i];
        if (t.n <= 0) return false;
        *r = {t.param, t.grad, t.momentum_buffer, t.n, static_cast<float>(-t.lr), static_cast<float>(t.weight_decay),
              t.weight_decay != 0.0,
              vec::aligned(t.param) && vec::aligned(t.grad) && (!c.use_momentum || vec::aligned(t.momentum_buffer))};
        return true;
      },
      [&](const Batch<SgdRecord>& b, unsigned blocks) {
        sgd_kernel<<<blocks, kThreads, 0, stream_of(stream)>>>(b, c, scalars);
        check_launch("sgd_step");
      });
}

}  // namespace megaswift::kernels::cuda

// RMSNorm and LayerNorm (see norm.hpp). One warp per row: its lanes stride over the row, sum their terms in
// double, and a fixed butterfly adds the lanes, so a row's statistics do not depend on the launch. Parameter
// gradients: a column-per-thread pass over fixed row blocks into double partials, then an in-order sum.
#include <kernels/cuda/norm.hpp>
#include <kernels/cuda/pointwise_common.cuh>

#include <algorithm>
#include <cstdint>

namespace megaswift::kernels::cuda {
namespace {

using namespace pointwise;

constexpr int kThreads = 256;
constexpr int kRowsPerBlock = kThreads / kWarp;  // one warp per row
constexpr int64_t kMaxPartialBlocks = 128;       // bounds the scratch: 128 * dim doubles per parameter
constexpr int64_t kMinRowsPerPartial = 32;

struct RowBlocks {
  int64_t count, rows_per_block;
};

// The row grouping of the parameter-gradient reduction: a function of rows alone (determinism).
RowBlocks row_blocks(int64_t rows) {
  int64_t count = std::min<int64_t>(kMaxPartialBlocks, (rows + kMinRowsPerPartial - 1) / kMinRowsPerPartial);
  count = std::max<int64_t>(count, 1);
  const int64_t per = (rows + count - 1) / count;
  return {(rows + per - 1) / per, per};
}

// ---- RMSNorm ----

template <class T, bool kResidual>
__global__ void rmsnorm_forward_kernel(const T* x, const T* residual, T* x_out, const void* weight, Dtype wd, T* y,
                                       float* rstd, int64_t rows, int64_t dim, float eps, float offset) {
  const int lane = threadIdx.x % kWarp;
  for (int64_t row = blockIdx.x * int64_t(kRowsPerBlock) + threadIdx.x / kWarp; row < rows;
       row += int64_t(gridDim.x) * kRowsPerBlock) {
    const int64_t base = row * dim;
    double ss = 0.0;
    for (int64_t j = lane; j < dim; j += kWarp) {
      float v;
      if constexpr (kResidual) {
        // The norm is of the sum as stored in x_out (what an unfused add then norm computes, and what backward
        // reads as x).
        v = round_to<T>(load(x, base + j) + load(residual, base + j));
        store(x_out, base + j, v);
      } else {
        v = load(x, base + j);
      }
      ss += static_cast<double>(v) * v;
    }
    ss = warp_sum(ss);
    const float r = static_cast<float>(1.0 / sqrt(ss / static_cast<double>(dim) + static_cast<double>(eps)));
    if (lane == 0) rstd[row] = r;
    const T* src = kResidual ? x_out : x;
    for (int64_t j = lane; j < dim; j += kWarp)
      store(y, base + j, (offset + load_dyn(weight, wd, j)) * (load(src, base + j) * r));
  }
}

template <class T>
__global__ void rmsnorm_dx_kernel(const T* x, const void* weight, Dtype wd, const float* rstd, const T* dy, T* dx,
                                  int64_t rows, int64_t dim, float offset, bool accumulate) {
  const int lane = threadIdx.x % kWarp;
  for (int64_t row = blockIdx.x * int64_t(kRowsPerBlock) + threadIdx.x / kWarp; row < rows;
       row += int64_t(gridDim.x) * kRowsPerBlock) {
    const int64_t base = row * dim;
    const float r = rstd[row];
    double dot = 0.0;  // sum_j w' * dy * xhat
    for (int64_t j = lane; j < dim; j += kWarp)
      dot += static_cast<double>((offset + load_dyn(weight, wd, j)) * load(dy, base + j)) * (load(x, base + j) * r);
    dot = warp_sum(dot);
    const float c = static_cast<float>(dot / static_cast<double>(dim));
    for (int64_t j = lane; j < dim; j += kWarp) {
      // Each element's dy is read before its dx is written, by this lane alone: dx may alias dy.
      const float v = r * ((offset + load_dyn(weight, wd, j)) * load(dy, base + j) - (load(x, base + j) * r) * c);
      store(dx, base + j, accumulate ? load(dx, base + j) + v : v);
    }
  }
}

// ---- LayerNorm ----

template <class T>
__global__ void layernorm_forward_kernel(const T* x, const void* weight, Dtype wd, const void* bias, Dtype bd, T* y,
                                         float* mean, float* rstd, int64_t rows, int64_t dim, float eps) {
  const int lane = threadIdx.x % kWarp;
  for (int64_t row = blockIdx.x * int64_t(kRowsPerBlock) + threadIdx.x / kWarp; row < rows;
       row += int64_t(gridDim.x) * kRowsPerBlock) {
    const int64_t base = row * dim;
    double s = 0.0;
    for (int64_t j = lane; j < dim; j += kWarp) s += load(x, base + j);
    const double mu = warp_sum(s) / static_cast<double>(dim);
    double ss = 0.0;
    for (int64_t j = lane; j < dim; j += kWarp) {
      const double d = load(x, base + j) - mu;
      ss += d * d;
    }
    ss = warp_sum(ss);
    const float m = static_cast<float>(mu);
    const float r = static_cast<float>(1.0 / sqrt(ss / static_cast<double>(dim) + static_cast<double>(eps)));
    if (lane == 0) {
      mean[row] = m;
      rstd[row] = r;
    }
    for (int64_t j = lane; j < dim; j += kWarp) {
      float v = (load(x, base + j) - m) * r * load_dyn(weight, wd, j);
      if (bias) v += load_dyn(bias, bd, j);
      store(y, base + j, v);
    }
  }
}

template <class T>
__global__ void layernorm_dx_kernel(const T* x, const void* weight, Dtype wd, const float* mean, const float* rstd,
                                    const T* dy, T* dx, int64_t rows, int64_t dim) {
  const int lane = threadIdx.x % kWarp;
  for (int64_t row = blockIdx.x * int64_t(kRowsPerBlock) + threadIdx.x / kWarp; row < rows;
       row += int64_t(gridDim.x) * kRowsPerBlock) {
    const int64_t base = row * dim;
    const float m = mean[row], r = rstd[row];
    double sg = 0.0, sgx = 0.0;
    for (int64_t j = lane; j < dim; j += kWarp) {
      const float g = load_dyn(weight, wd, j) * load(dy, base + j);
      sg += g;
      sgx += static_cast<double>(g) * ((load(x, base + j) - m) * r);
    }
    const float mg = static_cast<float>(warp_sum(sg) / static_cast<double>(dim));
    const float mgx = static_cast<float>(warp_sum(sgx) / static_cast<double>(dim));
    for (int64_t j = lane; j < dim; j += kWarp)
      store(dx, base + j,
            r * (load_dyn(weight, wd, j) * load(dy, base + j) - mg - ((load(x, base + j) - m) * r) * mgx));
  }
}

// ---- parameter gradients ----

// Row block blockIdx.y, column j: pw = sum dy * xhat, pb = sum dy (when pb is given), in double over the block's
// rows in order. xhat = x * rstd (RMSNorm, mean null) or (x - mean) * rstd (LayerNorm).
template <class T>
__global__ void norm_param_partials_kernel(const T* x, const T* dy, const float* mean, const float* rstd, int64_t rows,
                                           int64_t dim, int64_t rows_per_block, double* pw, double* pb) {
  const int64_t j = blockIdx.x * int64_t(blockDim.x) + threadIdx.x;
  if (j >= dim) return;
  const int64_t i0 = blockIdx.y * rows_per_block;
  const int64_t i1 = i0 + rows_per_block < rows ? i0 + rows_per_block : rows;
  double aw = 0.0, ab = 0.0;
  for (int64_t i = i0; i < i1; ++i) {
    const float g = load(dy, i * dim + j);
    const float xv = load(x, i * dim + j);
    const float xhat = mean ? (xv - mean[i]) * rstd[i] : xv * rstd[i];
    aw += static_cast<double>(g * xhat);
    ab += g;
  }
  if (pw) pw[blockIdx.y * dim + j] = aw;
  if (pb) pb[blockIdx.y * dim + j] = ab;
}

// out[j] += float(sum_b partials[b, j]), the blocks added in order.
__global__ void add_partials_kernel(const double* partials, int64_t blocks, int64_t dim, void* out, Dtype od) {
  for (int64_t j = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; j < dim; j += int64_t(gridDim.x) * blockDim.x) {
    double s = 0.0;
    for (int64_t b = 0; b < blocks; ++b) s += partials[b * dim + j];
    store_dyn(out, od, j, load_dyn(out, od, j) + static_cast<float>(s));
  }
}

// dweight (and dbias) from x, dy and the saved statistics; launched before any dx pass, so dx may alias dy.
template <class T>
void param_grads(const T* x, const T* dy, const float* mean, const float* rstd, int64_t rows, int64_t dim, void* dweight,
                 Dtype dwd, void* dbias, Dtype dbd, double* partials, cudaStream_t s) {
  if (!dweight && !dbias) return;
  const RowBlocks rb = row_blocks(rows);
  double* pw = dweight ? partials : nullptr;
  double* pb = dbias ? partials + (dweight ? rb.count * dim : 0) : nullptr;
  const dim3 grid(static_cast<unsigned>((dim + kThreads - 1) / kThreads), static_cast<unsigned>(rb.count));
  norm_param_partials_kernel<T><<<grid, kThreads, 0, s>>>(x, dy, mean, rstd, rows, dim, rb.rows_per_block, pw, pb);
  if (pw) add_partials_kernel<<<blocks_for(dim, kThreads), kThreads, 0, s>>>(pw, rb.count, dim, dweight, dwd);
  if (pb) add_partials_kernel<<<blocks_for(dim, kThreads), kThreads, 0, s>>>(pb, rb.count, dim, dbias, dbd);
}

}  // namespace

int64_t norm_partials_doubles(int64_t rows, int64_t dim, int params) {
  return row_blocks(rows).count * dim * params;
}

void rmsnorm_forward(const void* x, const void* residual, void* x_out, const void* weight, Dtype weight_dtype, void* y,
                     float* rstd, Dtype dtype, int64_t rows, int64_t dim, float eps, float weight_offset, Stream stream) {
  if (rows <= 0 || dim <= 0) return;
  dispatch_dtype(dtype, [&](auto t) {
    using T = decltype(t);
    const unsigned blocks = blocks_for(rows, kRowsPerBlock);
    if (residual)
      rmsnorm_forward_kernel<T, true><<<blocks, kThreads, 0, stream_of(stream)>>>(
          static_cast<const T*>(x), static_cast<const T*>(residual), static_cast<T*>(x_out), weight, weight_dtype,
          static_cast<T*>(y), rstd, rows, dim, eps, weight_offset);
    else
      rmsnorm_forward_kernel<T, false><<<blocks, kThreads, 0, stream_of(stream)>>>(
          static_cast<const T*>(x), nullptr, nullptr, weight, weight_dtype, static_cast<T*>(y), rstd, rows, dim, eps,
          weight_offset);
  });
  check_launch("rmsnorm_forward");
}

void rmsnorm_backward(const void* x, const void* weight, Dtype weight_dtype, const float* rstd, const void* dy, void* dx,
                      void* dweight, Dtype dweight_dtype, Dtype dtype, int64_t rows, int64_t dim, float weight_offset,
                      bool accumulate_dx, double* partials, Stream stream) {
  if (rows <= 0 || dim <= 0) return;
  dispatch_dtype(dtype, [&](auto t) {
    using T = decltype(t);
    const cudaStream_t s = stream_of(stream);
    param_grads<T>(static_cast<const T*>(x), static_cast<const T*>(dy), nullptr, rstd, rows, dim, dweight, dweight_dtype,
                   nullptr, Dtype::f32, partials, s);
    if (dx)
      rmsnorm_dx_kernel<T><<<blocks_for(rows, kRowsPerBlock), kThreads, 0, s>>>(
          static_cast<const T*>(x), weight, weight_dtype, rstd, static_cast<const T*>(dy), static_cast<T*>(dx), rows, dim,
          weight_offset, accumulate_dx);
  });
  check_launch("rmsnorm_backward");
}

void layernorm_forward(const void* x, const void* weight, Dtype weight_dtype, const void* bias, Dtype bias_dtype,
                       void* y, float* mean, float* rstd, Dtype dtype, int64_t rows, int64_t dim, float eps,
                       Stream stream) {
  if (rows <= 0 || dim <= 0) return;
  dispatch_dtype(dtype, [&](auto t) {
    using T = decltype(t);
    layernorm_forward_kernel<T><<<blocks_for(rows, kRowsPerBlock), kThreads, 0, stream_of(stream)>>>(
        static_cast<const T*>(x), weight, weight_dtype, bias, bias_dtype, static_cast<T*>(y), mean, rstd, rows, dim, eps);
  });
  check_launch("layernorm_forward");
}

void layernorm_backward(const void* x, const void* weight, Dtype weight_dtype, const float* mean, const float* rstd,
                        const void* dy, void* dx, void* dweight, Dtype dweight_dtype, void* dbias, Dtype dbias_dtype,
                        Dtype dtype, int64_t rows, int64_t dim, double* partials, Stream stream) {
  if (rows <= 0 || dim <= 0) return;
  dispatch_dtype(dtype, [&](auto t) {
    using T = decltype(t);
    const cudaStream_t s = stream_of(stream);
    param_grads<T>(static_cast<const T*>(x), static_cast<const T*>(dy), mean, rstd, rows, dim, dweight, dweight_dtype,
                   dbias, dbias_dtype, partials, s);
    if (dx)
      layernorm_dx_kernel<T><<<blocks_for(rows, kRowsPerBlock), kThreads, 0, s>>>(
          static_cast<const T*>(x), weight, weight_dtype, mean, rstd, static_cast<const T*>(dy), static_cast<T*>(dx),
          rows, dim);
  });
  check_launch("layernorm_backward");
}

}  // namespace megaswift::kernels::cuda

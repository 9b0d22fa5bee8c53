// cuBLASLt products and the kernels around them (see gemm.hpp). One cuBLASLt handle per device, created on first
// use and kept for the process (destroying it at exit, after the CUDA runtime may have torn down, is unsafe).
// The heuristic's choice is cached per problem key: shapes, leading dimensions, dtypes, transposes, the bias
// epilogue and the operands' pointer alignments (the heuristic assumes 256-byte aligned buffers unless told,
// and a column block of a wider matrix is less aligned than that). With MEGASWIFT_GEMM_AUTOTUNE=1 the first
// call of a key times the heuristic's best few candidates on the problem itself and keeps the fastest (see
// fastest_candidate); the choice then depends on timings, so two processes may pick differently and their
// products differ in the last bits.
#include <kernels/cuda/common.cuh>
#include <kernels/cuda/gemm.hpp>

#include <cublasLt.h>

#include <array>
#include <cstdlib>
#include <cstring>
#include <map>
#include <memory>
#include <mutex>
#include <string>

namespace megaswift::kernels::cuda {

struct LtChoice {
  bool found = false;
  cublasLtMatmulAlgo_t algo{};
  size_t workspace = 0;
};

namespace {

// Upper bound on the workspace an algorithm may ask for (cuBLAS recommends 32 MiB on Hopper).
constexpr uint64_t kMaxWorkspace = 32ull << 20;

void check_lt(cublasStatus_t s, const char* what) {
  if (s != CUBLAS_STATUS_SUCCESS)
    throw KernelError(std::string("cuBLASLt ") + what + ": " + cublasLtGetStatusString(s));
}

cudaDataType_t lt_type(Dtype d) {
  switch (d) {
    case Dtype::f32: return CUDA_R_32F;
    case Dtype::bf16: return CUDA_R_16BF;
    case Dtype::f16: return CUDA_R_16F;
  }
  throw KernelError("gemm: unknown dtype " + std::to_string(static_cast<int>(d)));
}

cublasLtHandle_t handle_for(int device) {
  static std::mutex mutex;
  static std::map<int, cublasLtHandle_t> handles;
  std::lock_guard<std::mutex> lock(mutex);
  auto it = handles.find(device);
  if (it != handles.end()) return it->second;
  cublasLtHandle_t h = nullptr;
  check_lt(cublasLtCreate(&h), "create");
  handles.emplace(device, h);
  return h;
}

// The largest power of two up to 256 dividing the address: what the heuristic may assume of the buffer.
uint32_t alignment_of(const void* p) {
  const uintptr_t a = reinterpret_cast<uintptr_t>(p);
  uint32_t al = 256;
  while (al > 1 && a % al != 0) al >>= 1;
  return al;
}

// The column-major problem cuBLASLt sees: row-major C (m, n) = op(A) op(B) is column-major C^T (n, m) =
// op(B)^T op(A)^T, so cuBLASLt's first operand is B as stored (a column-major (cols, rows) matrix, transposed
// when trans_b) and its second is A.
struct Descriptors {
  cublasLtMatmulDesc_t op = nullptr;
  cublasLtMatrixLayout_t first = nullptr, second = nullptr, out = nullptr;

  explicit Descriptors(const LtProblem& p) {
    try {
      check_lt(cublasLtMatmulDescCreate(&op, CUBLAS_COMPUTE_32F, CUDA_R_32F), "matmul descriptor");
      const cublasOperation_t ta = p.trans_b ? CUBLAS_OP_T : CUBLAS_OP_N;
      const cublasOperation_t tb = p.trans_a ? CUBLAS_OP_T : CUBLAS_OP_N;
      check_lt(cublasLtMatmulDescSetAttribute(op, CUBLASLT_MATMUL_DESC_TRANSA, &ta, sizeof ta), "transa");
      check_lt(cublasLtMatmulDescSetAttribute(op, CUBLASLT_MATMUL_DESC_TRANSB, &tb, sizeof tb), "transb");
      if (p.bias) {
        const cublasLtEpilogue_t epilogue = CUBLASLT_EPILOGUE_BIAS;
        check_lt(cublasLtMatmulDescSetAttribute(op, CUBLASLT_MATMUL_DESC_EPILOGUE, &epilogue, sizeof epilogue), "epilogue");
        check_lt(cublasLtMatmulDescSetAttribute(op, CUBLASLT_MATMUL_DESC_BIAS_POINTER, &p.bias, sizeof p.bias),
                 "bias pointer");
      }
      check_lt(cublasLtMatrixLayoutCreate(&first, lt_type(p.b.dtype), static_cast<uint64_t>(p.b.cols),
                                          static_cast<uint64_t>(p.b.rows), p.b.ld),
               "layout of b");
      check_lt(cublasLtMatrixLayoutCreate(&second, lt_type(p.a.dtype), static_cast<uint64_t>(p.a.cols),
                                          static_cast<uint64_t>(p.a.rows), p.a.ld),
               "layout of a");
      check_lt(cublasLtMatrixLayoutCreate(&out, lt_type(p.c.dtype), static_cast<uint64_t>(p.c.cols),
                                          static_cast<uint64_t>(p.c.rows), p.c.ld),
               "layout of c");
    } catch (...) {
      release();
      throw;
    }
  }
  ~Descriptors() { release(); }
  Descriptors(const Descriptors&) = delete;
  Descriptors& operator=(const Descriptors&) = delete;

 private:
  void release() {
    if (out) cublasLtMatrixLayoutDestroy(out);
    if (second) cublasLtMatrixLayoutDestroy(second);
    if (first) cublasLtMatrixLayoutDestroy(first);
    if (op) cublasLtMatmulDescDestroy(op);
    out = second = first = nullptr;
    op = nullptr;
  }
};

using Key = std::array<int64_t, 17>;

Key key_of(int device, const LtProblem& p) {
  return {device,
          p.a.rows, p.a.cols, p.a.ld, static_cast<int64_t>(p.a.dtype),
          p.b.rows, p.b.cols, p.b.ld, static_cast<int64_t>(p.b.dtype),
          p.c.rows, p.c.ld, static_cast<int64_t>(p.c.dtype),
          (p.trans_a ? 1 : 0) | (p.trans_b ? 2 : 0) | (p.bias ? 4 : 0),
          alignment_of(p.a.data), alignment_of(p.b.data), alignment_of(p.c.data),
          p.bias ? alignment_of(p.bias) : 0};
}

void check_problem(const LtProblem& p) {
  const int64_t m = p.trans_a ? p.a.cols : p.a.rows, k = p.trans_a ? p.a.rows : p.a.cols;
  const int64_t kb = p.trans_b ? p.b.cols : p.b.rows, n = p.trans_b ? p.b.rows : p.b.cols;
  if (k != kb || p.c.rows != m || p.c.cols != n || m < 1 || n < 1 || k < 1)
    throw KernelError("gemm: op(a) (" + std::to_string(m) + ", " + std::to_string(k) + "), op(b) (" + std::to_string(kb) +
                      ", " + std::to_string(n) + ") and c (" + std::to_string(p.c.rows) + ", " + std::to_string(p.c.cols) +
                      ") do not make a product");
  for (const Matrix* x : {&p.a, &p.b, &p.c})
    if (x->ld < x->cols) throw KernelError("gemm: a row stride " + std::to_string(x->ld) + " below the width " + std::to_string(x->cols));
}

// Every element of a rows x cols matrix by flat index (grid-stride).
#define MSW_FOR_EACH_ELEMENT(n) \
  for (int64_t e = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; e < (n); e += int64_t(gridDim.x) * blockDim.x)

constexpr int kThreads = 256;

template <class T>
__global__ void scale_matrix_kernel(T* c, int64_t rows, int64_t cols, int64_t ld, float beta) {
  MSW_FOR_EACH_ELEMENT(rows * cols) {
    const int64_t at = (e / cols) * ld + e % cols;
    store(c, at, beta == 0.0f ? 0.0f : load(c, at) * beta);
  }
}

template <class T, class B>
__global__ void broadcast_rows_kernel(T* out, int64_t rows, int64_t cols, int64_t ld, const B* bias) {
  MSW_FOR_EACH_ELEMENT(rows * cols) {
    const int64_t j = e % cols;
    store(out, (e / cols) * ld + j, load(bias, j));
  }
}

// partials[blk, j] = sum of dy[i, j] over the rows of row block blk, in row order, in double.
template <class T>
__global__ void column_sum_partial_kernel(const T* dy, int64_t rows, int64_t cols, int64_t ld, double* partials) {
  const int64_t j = blockIdx.x * int64_t(blockDim.x) + threadIdx.x;
  if (j >= cols) return;
  const int64_t blocks = (rows + kColumnSumRowBlock - 1) / kColumnSumRowBlock;
  for (int64_t blk = blockIdx.y; blk < blocks; blk += gridDim.y) {
    const int64_t i1 = min(rows, (blk + 1) * kColumnSumRowBlock);
    double acc = 0.0;
    for (int64_t i = blk * kColumnSumRowBlock; i < i1; ++i) acc += load(dy, i * ld + j);
    partials[blk * cols + j] = acc;
  }
}

template <class T>
__global__ void column_sum_final_kernel(const double* partials, int64_t blocks, int64_t cols, T* dbias) {
  const int64_t j = blockIdx.x * int64_t(blockDim.x) + threadIdx.x;
  if (j >= cols) return;
  double s = 0.0;
  for (int64_t blk = 0; blk < blocks; ++blk) s += partials[blk * cols + j];
  store(dbias, j, load(dbias, j) + static_cast<float>(s));
}

#undef MSW_FOR_EACH_ELEMENT

// Candidates the heuristic is asked for: its first answer alone, or this many to time when autotuning.
constexpr int kCandidates = 8;

bool autotune() {
  static const bool on = [] {
    const char* e = std::getenv("MEGASWIFT_GEMM_AUTOTUNE");
    if (!e || !*e || std::strcmp(e, "0") == 0) return false;
    if (std::strcmp(e, "1") == 0) return true;
    throw KernelError(std::string("MEGASWIFT_GEMM_AUTOTUNE=") + e + ": expected 0 or 1");
  }();
  return on;
}

// Device memory for one timing, released however it ends.
struct TimingBuffer {
  void* p = nullptr;
  explicit TimingBuffer(size_t bytes) {
    if (bytes > 0 && cudaMalloc(&p, bytes) != cudaSuccess) {
      p = nullptr;
      (void)cudaGetLastError();  // a refused allocation is not the next launch's error
    }
  }
  ~TimingBuffer() {
    if (p) cudaFree(p);
  }
  TimingBuffer(const TimingBuffer&) = delete;
  TimingBuffer& operator=(const TimingBuffer&) = delete;
};

size_t dtype_bytes(Dtype d) { return d == Dtype::f32 ? 4 : 2; }

// The index of the fastest of n candidates for the problem, each run once to warm up and then 3 times on the
// caller's stream (after the inputs are ready) into a scratch C; -1 when it cannot time now: the stream is being
// captured into a graph (no synchronization allowed), or the scratch memory is not there.
int fastest_candidate(int device, const LtProblem& p, const Descriptors& d, const cublasLtMatmulHeuristicResult_t* r,
                      int n, Stream stream) {
  cudaStream_t s = stream_of(stream);
  cudaStreamCaptureStatus capturing = cudaStreamCaptureStatusNone;
  if (cudaStreamIsCapturing(s, &capturing) != cudaSuccess || capturing != cudaStreamCaptureStatusNone) return -1;
  size_t workspace = 0;
  for (int i = 0; i < n; ++i) workspace = workspace > r[i].workspaceSize ? workspace : r[i].workspaceSize;
  TimingBuffer c(size_t(p.c.rows) * size_t(p.c.ld) * dtype_bytes(p.c.dtype)), ws(workspace);
  if (!c.p || (workspace > 0 && !ws.p)) return -1;
  cudaEvent_t start = nullptr, stop = nullptr;
  if (cudaEventCreate(&start) != cudaSuccess || cudaEventCreate(&stop) != cudaSuccess) {
    if (start) cudaEventDestroy(start);
    (void)cudaGetLastError();
    return -1;
  }
  const float alpha = p.alpha, beta = p.beta;
  auto run = [&](int i) {
    return cublasLtMatmul(handle_for(device), d.op, &alpha, p.b.data, d.first, p.a.data, d.second, &beta, c.p, d.out, c.p,
                          d.out, &r[i].algo, ws.p, r[i].workspaceSize, s);
  };
  int best = -1;
  float best_ms = 0.0f;
  if (cudaStreamSynchronize(s) == cudaSuccess) {
    for (int i = 0; i < n; ++i) {
      if (run(i) != CUBLAS_STATUS_SUCCESS) continue;
      cudaEventRecord(start, s);
      bool ok = true;
      for (int rep = 0; rep < 3 && ok; ++rep) ok = run(i) == CUBLAS_STATUS_SUCCESS;
      cudaEventRecord(stop, s);
      float ms = 0.0f;
      if (ok && cudaEventSynchronize(stop) == cudaSuccess && cudaEventElapsedTime(&ms, start, stop) == cudaSuccess &&
          (best < 0 || ms < best_ms)) {
        best = i;
        best_ms = ms;
      }
    }
  }
  cudaStreamSynchronize(s);
  cudaEventDestroy(start);
  cudaEventDestroy(stop);
  (void)cudaGetLastError();
  return best;
}

}  // namespace

bool lt_direct(Dtype ab, Dtype c) { return c == ab || (c == Dtype::f32 && ab != Dtype::f32); }

const LtChoice* lt_choose(int device, const LtProblem& p, Stream stream) {
  check_problem(p);
  static std::mutex mutex;
  static std::map<Key, std::unique_ptr<LtChoice>> cache;
  const Key key = key_of(device, p);
  {
    std::lock_guard<std::mutex> lock(mutex);
    auto it = cache.find(key);
    if (it != cache.end()) return it->second->found ? it->second.get() : nullptr;
  }
  // The heuristic runs outside the lock (it takes a while); two threads racing on a new key both ask, and the
  // first answer is kept.
  auto choice = std::make_unique<LtChoice>();
  if (p.a.dtype == p.b.dtype && lt_direct(p.a.dtype, p.c.dtype)) {
    Descriptors d(p);
    cublasLtMatmulPreference_t pref = nullptr;
    check_lt(cublasLtMatmulPreferenceCreate(&pref), "preference");
    cublasLtMatmulHeuristicResult_t results[kCandidates]{};
    const int asked = autotune() ? kCandidates : 1;
    int returned = 0;
    cublasStatus_t st = CUBLAS_STATUS_SUCCESS;
    const uint32_t al_first = alignment_of(p.b.data), al_second = alignment_of(p.a.data), al_c = alignment_of(p.c.data);
    const std::pair<cublasLtMatmulPreferenceAttributes_t, uint32_t> aligns[] = {
        {CUBLASLT_MATMUL_PREF_MIN_ALIGNMENT_A_BYTES, al_first},
        {CUBLASLT_MATMUL_PREF_MIN_ALIGNMENT_B_BYTES, al_second},
        {CUBLASLT_MATMUL_PREF_MIN_ALIGNMENT_C_BYTES, al_c},
        {CUBLASLT_MATMUL_PREF_MIN_ALIGNMENT_D_BYTES, al_c}};
    st = cublasLtMatmulPreferenceSetAttribute(pref, CUBLASLT_MATMUL_PREF_MAX_WORKSPACE_BYTES, &kMaxWorkspace,
                                              sizeof kMaxWorkspace);
    for (const auto& [attr, value] : aligns)
      if (st == CUBLAS_STATUS_SUCCESS) st = cublasLtMatmulPreferenceSetAttribute(pref, attr, &value, sizeof value);
    if (st == CUBLAS_STATUS_SUCCESS)
      st = cublasLtMatmulAlgoGetHeuristic(handle_for(device), d.op, d.first, d.second, d.out, d.out, pref, asked, results,
                                          &returned);
    cublasLtMatmulPreferenceDestroy(pref);
    // NOT_SUPPORTED: no algorithm for this problem, which the caller answers by staging; anything else is an error.
    if (st != CUBLAS_STATUS_SUCCESS && st != CUBLAS_STATUS_NOT_SUPPORTED) check_lt(st, "heuristic");
    if (st == CUBLAS_STATUS_SUCCESS && returned > 0 && results[0].state == CUBLAS_STATUS_SUCCESS) {
      int pick = 0;
      if (returned > 1) {
        int usable = 0;  // the candidates in order up to the first the heuristic did not vouch for
        while (usable < returned && results[usable].state == CUBLAS_STATUS_SUCCESS) ++usable;
        const int fastest = fastest_candidate(device, p, d, results, usable, stream);
        if (fastest >= 0) pick = fastest;
      }
      choice->found = true;
      choice->algo = results[pick].algo;
      choice->workspace = results[pick].workspaceSize;
    }
  }
  std::lock_guard<std::mutex> lock(mutex);
  auto [it, inserted] = cache.emplace(key, std::move(choice));
  (void)inserted;
  return it->second->found ? it->second.get() : nullptr;
}

size_t lt_workspace_bytes(const LtChoice* choice) { return choice ? choice->workspace : 0; }

void lt_matmul(int device, const LtProblem& p, const LtChoice* choice, void* workspace, Stream stream) {
  if (!choice) throw KernelError("gemm: no cuBLASLt algorithm was chosen for this problem");
  check_problem(p);
  Descriptors d(p);
  const float alpha = p.alpha, beta = p.beta;
  check_lt(cublasLtMatmul(handle_for(device), d.op, &alpha, p.b.data, d.first, p.a.data, d.second, &beta, p.c.data,
                          d.out, p.c.data, d.out, &choice->algo, workspace, choice->workspace, stream_of(stream)),
           "matmul");
}

void scale_matrix(const Matrix& c, float beta, Stream stream) {
  const int64_t n = c.rows * c.cols;
  if (n <= 0) return;
  dispatch_dtype(c.dtype, [&](auto t) {
    using T = decltype(t);
    scale_matrix_kernel<T><<<blocks_for(n, kThreads), kThreads, 0, stream_of(stream)>>>(static_cast<T*>(c.data), c.rows,
                                                                                       c.cols, c.ld, beta);
  });
  check_launch("gemm (empty inner dimension)");
}

void broadcast_rows(const Matrix& out, const void* bias, Dtype bias_dtype, Stream stream) {
  const int64_t n = out.rows * out.cols;
  if (n <= 0) return;
  dispatch_dtype(out.dtype, [&](auto t) {
    dispatch_dtype(bias_dtype, [&](auto b) {
      using T = decltype(t);
      using B = decltype(b);
      broadcast_rows_kernel<T, B><<<blocks_for(n, kThreads), kThreads, 0, stream_of(stream)>>>(
          static_cast<T*>(out.data), out.rows, out.cols, out.ld, static_cast<const B*>(bias));
    });
  });
  check_launch("linear bias");
}

int64_t column_sum_partials(int64_t rows, int64_t cols) {
  return ((rows + kColumnSumRowBlock - 1) / kColumnSumRowBlock) * cols;
}

void column_sum(const Matrix& dy, void* dbias, Dtype dbias_dtype, double* partials, Stream stream) {
  if (dy.rows <= 0 || dy.cols <= 0) return;
  const int64_t blocks = (dy.rows + kColumnSumRowBlock - 1) / kColumnSumRowBlock;
  const dim3 grid(static_cast<unsigned>((dy.cols + kThreads - 1) / kThreads),
                  static_cast<unsigned>(blocks < 65535 ? blocks : 65535));
  dispatch_dtype(dy.dtype, [&](auto t) {
    using T = decltype(t);
    column_sum_partial_kernel<T><<<grid, kThreads, 0, stream_of(stream)>>>(static_cast<const T*>(dy.data), dy.rows,
                                                                           dy.cols, dy.ld, partials);
  });
  dispatch_dtype(dbias_dtype, [&](auto t) {
    using T = decltype(t);
    column_sum_final_kernel<T><<<grid.x, kThreads, 0, stream_of(stream)>>>(partials, blocks, dy.cols,
                                                                           static_cast<T*>(dbias));
  });
  check_launch("linear dbias (column sum)");
}

}  // namespace megaswift::kernels::cuda

// Embedding lookup and its sorted, deterministic scatter-add (see embedding.hpp).
#include <kernels/cuda/embedding.hpp>
#include <kernels/cuda/pointwise_common.cuh>

#include <cub/device/device_radix_sort.cuh>

#include <cstdint>

namespace megaswift::kernels::cuda {
namespace {

using namespace pointwise;

constexpr int kThreads = 256;
constexpr int kBatch = 8;  // dout rows loaded ahead per step of a run

__device__ __forceinline__ int64_t id_at(const void* ids, bool i32, int64_t i) {
  return i32 ? static_cast<int64_t>(static_cast<const int32_t*>(ids)[i]) : static_cast<const int64_t*>(ids)[i];
}

__device__ __forceinline__ bool in_table(int64_t id, int64_t vocab_start, int64_t vocab) {
  return id >= vocab_start && id - vocab_start < vocab;
}

template <class S, class D>
__global__ void embedding_forward_kernel(const void* ids, bool i32, int64_t n, const S* table, int64_t vocab,
                                         int64_t dim, D* out, int64_t vocab_start) {
  for (int64_t idx = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; idx < n * dim; idx += int64_t(gridDim.x) * blockDim.x) {
    const int64_t i = idx / dim, j = idx % dim;
    const int64_t id = id_at(ids, i32, i);
    store(out, idx, in_table(id, vocab_start, vocab) ? load(table, (id - vocab_start) * dim + j) : 0.0f);
  }
}

// key = the table row of token i (vocab for an id outside the table: it sorts after every real row), value = i.
__global__ void embedding_keys_kernel(const void* ids, bool i32, int64_t n, int64_t vocab, int64_t vocab_start,
                                      uint32_t* keys, int32_t* tokens) {
  for (int64_t i = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; i < n; i += int64_t(gridDim.x) * blockDim.x) {
    const int64_t id = id_at(ids, i32, i);
    keys[i] = static_cast<uint32_t>(in_table(id, vocab_start, vocab) ? id - vocab_start : vocab);
    tokens[i] = static_cast<int32_t>(i);
  }
}

// Block (p, column tile): when sorted position p starts a run of equal rows, its threads add the run's dout rows
// (token order: the sort is stable) to the row, one column each.
template <class G, class D>
__global__ void embedding_runs_kernel(const uint32_t* keys, const int32_t* tokens, int64_t n, const G* dout, D* dtable,
                                      int64_t vocab, int64_t dim) {
  const int64_t j = blockIdx.y * int64_t(blockDim.x) + threadIdx.x;
  if (j >= dim) return;
  for (int64_t p = blockIdx.x; p < n; p += gridDim.x) {
    const uint32_t key = keys[p];
    if (key >= vocab) return;                   // ids outside the table: all sorted from here on
    if (p > 0 && keys[p - 1] == key) continue;   // not the start of a run
    const int64_t at = static_cast<int64_t>(key) * dim + j;
    float acc = load(dtable, at);
    for (int64_t q = p;; q += kBatch) {
      float v[kBatch];
      bool in[kBatch];
#pragma unroll
      for (int u = 0; u < kBatch; ++u) {
        in[u] = q + u < n && keys[q + u] == key;
        v[u] = in[u] ? load(dout, static_cast<int64_t>(tokens[q + u]) * dim + j) : 0.0f;
      }
#pragma unroll
      for (int u = 0; u < kBatch; ++u)
        if (in[u]) acc += v[u];
      if (!in[kBatch - 1]) break;
    }
    store(dtable, at, acc);
  }
}

constexpr size_t kAlign = 256;
size_t aligned(size_t b) { return (b + kAlign - 1) / kAlign * kAlign; }

int end_bit_for(int64_t vocab) {  // bits of the largest key (the sentinel vocab)
  int bits = 0;
  while (bits < 31 && (int64_t{1} << bits) <= vocab) ++bits;
  return bits;
}

size_t sort_temp_bytes(int64_t n, int64_t vocab) {
  size_t bytes = 0;
  // A size query only (null storage): no work is queued and nothing synchronises.
  const cudaError_t rc = cub::DeviceRadixSort::SortPairs(nullptr, bytes, static_cast<const uint32_t*>(nullptr),
                                                         static_cast<uint32_t*>(nullptr), static_cast<const int32_t*>(nullptr),
                                                         static_cast<int32_t*>(nullptr), static_cast<int>(n), 0,
                                                         end_bit_for(vocab));
  if (rc != cudaSuccess) throw KernelError(std::string("embedding_backward: radix sort size: ") + cudaGetErrorString(rc));
  return bytes;
}

}  // namespace

void embedding_forward(const void* ids, bool ids_i32, int64_t n, const void* table, Dtype table_dtype, int64_t vocab,
                       int64_t dim, void* out, Dtype out_dtype, int64_t vocab_start, Stream stream) {
  if (n <= 0 || dim <= 0) return;
  dispatch_dtype(table_dtype, [&](auto s) {
    dispatch_dtype(out_dtype, [&](auto d) {
      using S = decltype(s);
      using D = decltype(d);
      embedding_forward_kernel<S, D><<<blocks_for(n * dim, kThreads), kThreads, 0, stream_of(stream)>>>(
          ids, ids_i32, n, static_cast<const S*>(table), vocab, dim, static_cast<D*>(out), vocab_start);
    });
  });
  check_launch("embedding_forward");
}

size_t embedding_backward_scratch_bytes(int64_t n, int64_t vocab) {
  if (n <= 0) return 0;
  return 4 * aligned(static_cast<size_t>(n) * sizeof(int32_t)) + aligned(sort_temp_bytes(n, vocab));
}

void embedding_backward(const void* ids, bool ids_i32, int64_t n, const void* dout, Dtype dout_dtype, int64_t vocab,
                        int64_t dim, void* dtable, Dtype dtable_dtype, int64_t vocab_start, void* scratch,
                        size_t scratch_bytes, Stream stream) {
  if (n <= 0 || dim <= 0) return;
  if (n > INT32_MAX || vocab >= INT32_MAX)
    throw KernelError("embedding_backward: " + std::to_string(n) + " ids and " + std::to_string(vocab) +
                      " rows: both must be below 2^31 - 1");
  const size_t slice = aligned(static_cast<size_t>(n) * sizeof(int32_t));
  size_t temp_bytes = sort_temp_bytes(n, vocab);
  if (scratch_bytes < 4 * slice + temp_bytes) throw KernelError("embedding_backward: scratch too small");
  char* base = static_cast<char*>(scratch);
  uint32_t* keys_in = reinterpret_cast<uint32_t*>(base);
  uint32_t* keys = reinterpret_cast<uint32_t*>(base + slice);
  int32_t* tokens_in = reinterpret_cast<int32_t*>(base + 2 * slice);
  int32_t* tokens = reinterpret_cast<int32_t*>(base + 3 * slice);
  void* temp = base + 4 * slice;
  const cudaStream_t s = stream_of(stream);

  embedding_keys_kernel<<<blocks_for(n, kThreads), kThreads, 0, s>>>(ids, ids_i32, n, vocab, vocab_start, keys_in,
                                                                    tokens_in);
  check_launch("embedding_backward keys");
  const cudaError_t rc = cub::DeviceRadixSort::SortPairs(temp, temp_bytes, keys_in, keys, tokens_in, tokens,
                                                         static_cast<int>(n), 0, end_bit_for(vocab), s);
  if (rc != cudaSuccess) throw KernelError(std::string("embedding_backward: radix sort: ") + cudaGetErrorString(rc));
  const int64_t tiles = (dim + kThreads - 1) / kThreads;
  if (tiles > 65535) throw KernelError("embedding_backward: dim " + std::to_string(dim) + " is too wide");
  const dim3 grid(static_cast<unsigned>(n < INT32_MAX ? n : INT32_MAX), static_cast<unsigned>(tiles));
  dispatch_dtype(dout_dtype, [&](auto g) {
    dispatch_dtype(dtable_dtype, [&](auto d) {
      using G = decltype(g);
      using D = decltype(d);
      embedding_runs_kernel<G, D><<<grid, kThreads, 0, s>>>(keys, tokens, n, static_cast<const G*>(dout),
                                                            static_cast<D*>(dtable), vocab, dim);
    });
  });
  check_launch("embedding_backward");
}

}  // namespace megaswift::kernels::cuda

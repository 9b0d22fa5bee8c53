// Thread-count setting of the kernels' OpenMP loops (OpenBLAS runs single-threaded inside them).
#include <kernels/cpu/threading.hpp>

#include <atomic>

#include <cblas.h>
#include <omp.h>

#include <kernels/cpu/detail/parallel.hpp>

namespace megaswift::kernels::cpu {
namespace {

// 0 until the first use; then the chosen count. The OpenMP regions pass it explicitly (num_threads
// clause) because omp_set_num_threads only affects the calling thread, and kernels may run on another.
std::atomic<int> g_threads{0};

}  // namespace

int available_cores() {
  const int n = omp_get_num_procs();
  return n > 0 ? n : 1;
}

void set_num_threads(int n) {
  if (n <= 0) n = available_cores();
  g_threads.store(n);
  // OpenBLAS itself stays on one thread: its own threading may split a GEMM's inner dimension
  // depending on the thread count (seen for dW = dY^T X with a long token dimension), which would
  // make results depend on --num_threads. gemm() spreads fixed output tiles over the kernel threads
  // instead, which also keeps a single thread pool busy (no OpenBLAS threads spinning against OpenMP's).
  openblas_set_num_threads(1);
}

int num_threads() {
  int n = g_threads.load();
  if (n == 0) {
    set_num_threads(0);
    n = g_threads.load();
  }
  return n;
}

namespace detail {

int threads_for(int64_t work) {
  // Below ~32k cheap operations a parallel region costs more than it saves.
  constexpr int64_t kMinWorkPerThread = 16384;
  const int n = num_threads();
  if (work < 2 * kMinWorkPerThread) return 1;
  const int64_t useful = work / kMinWorkPerThread;
  return static_cast<int>(useful < n ? useful : n);
}

}  // namespace detail
}  // namespace megaswift::kernels::cpu

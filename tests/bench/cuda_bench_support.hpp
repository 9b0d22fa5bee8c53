// What the CUDA kernel benchmarks share: a CUDA call checked with the benchmark's exit on failure (a benchmark has
// no one to report to but stderr), device memory freed on destruction, and the CUDA-event timing of a launch.
#pragma once

#include <cuda_runtime.h>

#include <cstddef>
#include <cstdio>
#include <cstdlib>

namespace megaswift::bench {

inline void check(cudaError_t rc, const char* what) {
  if (rc != cudaSuccess) {
    std::fprintf(stderr, "%s: %s\n", what, cudaGetErrorString(rc));
    std::exit(1);
  }
}

struct Buf {
  void* p = nullptr;
  explicit Buf(size_t bytes) { check(cudaMalloc(&p, bytes ? bytes : 1), "cudaMalloc"); }
  ~Buf() { cudaFree(p); }
  Buf(const Buf&) = delete;
  Buf& operator=(const Buf&) = delete;
};

// Milliseconds per call of f over `reps` calls on `stream`, after one untimed call (warm-up, one-time choices).
template <class F>
double time_ms(F&& f, int reps, cudaStream_t stream = nullptr) {
  f();
  check(cudaStreamSynchronize(stream), "warm-up");
  cudaEvent_t a, b;
  check(cudaEventCreate(&a), "event");
  check(cudaEventCreate(&b), "event");
  check(cudaEventRecord(a, stream), "record");
  for (int i = 0; i < reps; ++i) f();
  check(cudaEventRecord(b, stream), "record");
  check(cudaEventSynchronize(b), "synchronize");
  float ms = 0;
  check(cudaEventElapsedTime(&ms, a, b), "elapsed");
  cudaEventDestroy(a);
  cudaEventDestroy(b);
  return ms / reps;
}

}  // namespace megaswift::bench

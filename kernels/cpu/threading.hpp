// Thread count of the CPU kernels (the CLI's --num_threads).
//
// One process-wide setting for the OpenMP loops of every kernel, GEMMs included: OpenBLAS is kept
// single-threaded and gemm() spreads fixed output tiles over these threads, so a GEMM and the
// element-wise kernels around it share one pool. Results never depend on it: every kernel partitions
// its work by the shape alone, so each output element is reduced by one thread in a fixed order.
#pragma once

namespace megaswift::kernels::cpu {

// Sets the number of threads of the kernels (and pins OpenBLAS to one thread, see above). n <= 0 means
// all cores of the machine.
// Call it from the thread that runs the kernels, not from inside a kernel.
void set_num_threads(int n);

// The number of threads the kernels use now (>= 1).
int num_threads();

// The number of cores of the machine (what set_num_threads(0) picks).
int available_cores();

}  // namespace megaswift::kernels::cpu

#pragma once
// Library-internal: OpenBLAS threads only for products large enough to pay for them.
//
// OpenBLAS 0.3.21 splits every gemm with m * n * k above 262,144 over all of its threads. The
// products of a small model sit just above that line and lose: on the 2-core machine the benchmarks
// ran on, a 300x64x64 float gemm took 50 us on one thread and 70 us on two (the worker's wake-up and
// the split cost more than half the work), and a loaded machine makes it worse, since the product
// then waits for a second core to come free. Large products (a 256x512x512 layer) still gain from
// the threads. So a gemm below kThreadedGemmMinWork multiply-adds runs on the calling thread, and a
// larger one gets whatever thread count the user chose (OPENBLAS_NUM_THREADS or
// openblas_set_num_threads).
//
// OpenBLAS has no per-call thread count, so the guard lowers the process-wide setting for the
// duration of one product and restores it. Another thread running a large gemm at that moment may run
// it on one thread; results never change, only the speed.
#include <cstddef>

namespace xgrad {

inline constexpr double kThreadedGemmMinWork = 4.0e6;  // m * n * k, e.g. 256 x 128 x 128

// RAII: while alive (and `when` is true), OpenBLAS runs every product on the calling thread. For the
// products xgrad splits among its own threads (kernels/gemm.cpp): each part then runs on the thread
// that took it.
class OpenBlasOnOneThread {
 public:
  explicit OpenBlasOnOneThread(bool when = true);
  ~OpenBlasOnOneThread();
  OpenBlasOnOneThread(const OpenBlasOnOneThread&) = delete;
  OpenBlasOnOneThread& operator=(const OpenBlasOnOneThread&) = delete;

 private:
  int threads_to_restore_ = 0;  // 0: the setting was left alone
};

// RAII: while alive, OpenBLAS runs single-threaded if the product m x k times k x n is small.
class SmallGemmOnOneThread : OpenBlasOnOneThread {
 public:
  SmallGemmOnOneThread(std::size_t m, std::size_t n, std::size_t k)
      : OpenBlasOnOneThread(static_cast<double>(m) * static_cast<double>(n) * static_cast<double>(k) <
                            kThreadedGemmMinWork) {}
};

}  // namespace xgrad

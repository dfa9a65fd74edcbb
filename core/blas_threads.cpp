#include <xgrad/core/blas_threads_impl.hpp>
#include <xgrad/core/error.hpp>
#include <xgrad/core/factory.hpp>

// OpenBLAS's own header, for openblas_get_num_threads / openblas_set_num_threads. (It must not meet
// xtensor-blas in one file; this one has no xtensor at all.)
#include <cblas.h>

namespace xgrad {

SmallGemmOnOneThread::SmallGemmOnOneThread(std::size_t m, std::size_t n, std::size_t k) {
  const double work = static_cast<double>(m) * static_cast<double>(n) * static_cast<double>(k);
  if (work >= kThreadedGemmMinWork) return;
  const int threads = openblas_get_num_threads();
  if (threads <= 1) return;
  openblas_set_num_threads(1);  // lowering only stores the count: no thread is created or joined
  threads_to_restore_ = threads;
}

SmallGemmOnOneThread::~SmallGemmOnOneThread() {
  if (threads_to_restore_ > 0) openblas_set_num_threads(threads_to_restore_);
}

OpenBlasOnOneThread::OpenBlasOnOneThread() {
  const int threads = openblas_get_num_threads();
  if (threads <= 1) return;
  openblas_set_num_threads(1);
  threads_to_restore_ = threads;
}

OpenBlasOnOneThread::~OpenBlasOnOneThread() {
  if (threads_to_restore_ > 0) openblas_set_num_threads(threads_to_restore_);
}

void set_num_threads(int threads) {
  check(threads > 0, "set_num_threads: the thread count must be positive, got ", threads);
  openblas_set_num_threads(threads);
}

int get_num_threads() { return openblas_get_num_threads(); }

}  // namespace xgrad

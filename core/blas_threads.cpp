#include <xgrad/core/blas_threads_impl.hpp>
#include <xgrad/core/error.hpp>
#include <xgrad/core/factory.hpp>

// OpenBLAS's own header, for openblas_get_num_threads / openblas_set_num_threads. (It must not meet
// xtensor-blas in one file; this one has no xtensor at all.)
#include <cblas.h>

namespace xgrad {

OpenBlasOnOneThread::OpenBlasOnOneThread(bool when) {
  if (!when) return;
  const int threads = openblas_get_num_threads();
  if (threads <= 1) return;
  openblas_set_num_threads(1);  // lowering only stores the count: no thread is created or joined
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

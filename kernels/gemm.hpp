#pragma once
// Library-internal: the one matrix product behind matmul, linear and convolution.
//
// Each product goes to one of two implementations, chosen by its shape and transposes: small ones to
// a kernel that libxsmm's code generator writes for exactly that shape (built with
// XGRAD_WITH_LIBXSMM), everything else to OpenBLAS. kernels/gemm.cpp gives the rule and the measurements
// behind it. Both compute the same sums; only the order of the float additions may differ. Small
// products run on the calling thread; large ones get OpenBLAS's threads (core/blas_threads_impl.hpp).
#include <cstdint>

namespace xgrad {

// Who computes a product. kAuto applies the shape rule; the other two force an implementation, so
// that tests and benchmarks can compare them on any shape. Where libxsmm cannot run a product (a
// build without it, alpha other than 1, beta other than 0 or 1, both operands transposed, no kernel)
// kLibxsmm falls back to OpenBLAS.
enum class GemmPath { kAuto, kOpenBlas, kLibxsmm };

// c = alpha op(a) op(b) + beta c on row-major buffers: c is m x n with rows ldc elements apart,
// op(a) is m x k and op(b) is k x n. a holds m rows of k (lda >= k) or, when trans_a, k rows of m
// (lda >= m); b holds k rows of n (ldb >= n) or, when trans_b, n rows of k (ldb >= k). With beta 0,
// c is only written, so it may hold anything beforehand. Throws xgrad::Error for a negative size, a
// leading dimension shorter than its rows, or a size beyond the 32-bit integers of the BLAS interface.
void gemm(bool trans_a, bool trans_b, std::int64_t m, std::int64_t n, std::int64_t k, float alpha, const float* a,
          std::int64_t lda, const float* b, std::int64_t ldb, float beta, float* c, std::int64_t ldc,
          GemmPath path = GemmPath::kAuto);
void gemm(bool trans_a, bool trans_b, std::int64_t m, std::int64_t n, std::int64_t k, double alpha, const double* a,
          std::int64_t lda, const double* b, std::int64_t ldb, double beta, double* c, std::int64_t ldc,
          GemmPath path = GemmPath::kAuto);

// The implementation the shape rule picks (kOpenBlas or kLibxsmm; always kOpenBlas in a build without
// libxsmm): what gemm with kAuto tries first, for a product of m x k by k x n.
GemmPath gemm_path(bool trans_a, bool trans_b, std::int64_t m, std::int64_t n, std::int64_t k);

}  // namespace xgrad

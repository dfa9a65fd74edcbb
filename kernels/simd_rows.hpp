#pragma once
// Library-internal: kernels for long contiguous float32 rows, shared by softmax, log_softmax and
// cross_entropy, whose time goes to exp and to sums along rows of class scores. They run eight
// lanes at a time (AVX2 where the CPU has it, SSE2 otherwise), and for_row_blocks spreads the rows
// of a big input over threads. Each kernel does exactly what the plain loop in its comment does, to
// float32 rounding.
#include <cstddef>
#include <cstdint>

#include <xgrad/kernels/thread_pool.hpp>

namespace xgrad::simd_rows {

// max_c x_c   (-inf for an empty row; a NaN is skipped, and poisons the sums below instead)
float max_of(const float* x, std::size_t size);
// sum_c e^(x_c - shift), for shift >= every x_c
float exp_sum(const float* x, std::size_t size, float shift);
// out_c = e^(x_c - shift), returning sum_c out_c (exp_sum's sum, bit for bit), for shift >= every x_c
float store_exp_sum(const float* x, std::size_t size, float shift, float* out);
// out_c = factor * e^(x_c - shift), for shift >= every x_c; products below the smallest normal
// float are written as 0
void store_scaled_exp(const float* x, std::size_t size, float shift, float factor, float* out);
// sum_c x_c
float sum(const float* x, std::size_t size);
// sum_c w_c (x_c - shift), with w == nullptr meaning all ones
float shifted_dot(const float* x, const float* w, std::size_t size, float shift);
// The exact (erf) gelu, out_c = x_c Phi(x_c), and its backward, out_c = g_c (Phi(x_c) + x_c phi(x_c)),
// with Phi and phi the standard normal's distribution and density; within a few float32 ulps of
// libm's erf (Phi to 1.2e-7 relative, the negative tail included), where libm's scalar erff costs
// several times more than all of gelu here.
void gelu(const float* x, std::size_t size, float* out);
void gelu_backward(const float* grad, const float* x, std::size_t size, float* out);

// Scores each block of rows must get before a second block is made (some tens of microseconds of
// work, well above waking a pool worker).
inline constexpr std::size_t kElementsPerThread = std::size_t{1} << 15;

// Calls body(first, last) on consecutive blocks of [0, rows), thread_pool::blocks_for(rows,
// elements, kElementsPerThread) of them, on the calling thread and xgrad's pool
// (kernels/thread_pool.hpp); returns when all are done. Rows must be independent: each block
// writes only its own rows, so the results do not depend on the split.
template <class Body>
void for_row_blocks(std::size_t rows, std::size_t elements, const Body& body) {
  thread_pool::for_item_blocks(static_cast<std::int64_t>(rows), static_cast<double>(elements),
                               static_cast<double>(kElementsPerThread), [&](std::int64_t first, std::int64_t last) {
                                 body(static_cast<std::size_t>(first), static_cast<std::size_t>(last));
                               });
}

}  // namespace xgrad::simd_rows

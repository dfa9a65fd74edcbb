#pragma once
// Library-internal softmax kernels on raw buffers, for ops/softmax.cpp.
//
// Layout: a row-major tensor viewed as [outer, classes, inner] around the softmax dimension, so
// element (o, c, i) is at (o * classes + c) * inner + i. Each (o, i) pair is one distribution of
// `classes` values, `inner` apart in memory. inner == 1 (the last dimension) takes a contiguous
// fast path (float32 rows go to the SIMD kernels of kernels/simd_rows.hpp, split over threads
// like cross_entropy's); every other dimension is handled by sweeping whole rows of `inner` values
// at once so memory is still read in order.
#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <type_traits>
#include <vector>

#include <xgrad/core/dtype.hpp>
#include <xgrad/kernels/simd_rows.hpp>

namespace xgrad {

struct SoftmaxLayout {
  std::size_t outer = 1, classes = 1, inner = 1;
};

// The [outer, classes, inner] view of `shape` around `dim` (negative counts from the end; a 0-dim
// tensor is one distribution of one value). Throws Error naming op, dim and shape when out of range.
SoftmaxLayout softmax_layout(const Shape& shape, std::int64_t dim, const char* op);

namespace softmax_detail {

// The stable core for the contiguous case: writes exp(x - max) into out and returns max and sum.
template <class T>
void shifted_exp_row(const T* x, T* out, std::size_t classes, T& max, T& sum) {
  max = -std::numeric_limits<T>::infinity();
  for (std::size_t c = 0; c < classes; ++c) max = std::max(max, x[c]);
  sum = T(0);
  for (std::size_t c = 0; c < classes; ++c) {
    out[c] = std::exp(x[c] - max);
    sum += out[c];
  }
}

// The strided case: max[i] and sum[i] over the classes of each of the `inner` distributions of one
// outer block, with exp(x - max) left in out.
template <class T>
void shifted_exp_block(const T* x, T* out, std::size_t classes, std::size_t inner, T* max, T* sum) {
  std::fill(max, max + inner, -std::numeric_limits<T>::infinity());
  for (std::size_t c = 0; c < classes; ++c)
    for (std::size_t i = 0; i < inner; ++i) max[i] = std::max(max[i], x[c * inner + i]);
  std::fill(sum, sum + inner, T(0));
  for (std::size_t c = 0; c < classes; ++c)
    for (std::size_t i = 0; i < inner; ++i) {
      out[c * inner + i] = std::exp(x[c * inner + i] - max[i]);
      sum[i] += out[c * inner + i];
    }
}

// The contiguous float32 rows of [rows, classes]: the plain loops of the templates below, eight
// lanes at a time (exp to ~3e-7 relative, and values below the smallest normal float written as
// 0, as in cross_entropy). Softmax keeps the exponentials it sums and scales them in place.
inline void float_softmax_rows(const float* x, float* out, std::size_t rows, std::size_t classes) {
  simd_rows::for_row_blocks(rows, rows * classes, [&](std::size_t first, std::size_t last) {
    for (std::size_t r = first; r < last; ++r) {
      const float* row = x + r * classes;
      float* out_row = out + r * classes;
      const float max = simd_rows::max_of(row, classes);
      const float scale = 1.0f / simd_rows::store_exp_sum(row, classes, max, out_row);
      // Products below the smallest normal float become 0, as in store_scaled_exp: an instruction
      // producing a subnormal float costs a microcode assist of some hundred cycles.
      const float smallest_kept = std::numeric_limits<float>::min() / scale;
      // (The select comes before the product: a product the CPU might not need cannot be
      // vectorised under trapping math.)
      for (std::size_t c = 0; c < classes; ++c) out_row[c] = (out_row[c] < smallest_kept ? 0.0f : out_row[c]) * scale;
    }
  });
}

inline void float_log_softmax_rows(const float* x, float* out, std::size_t rows, std::size_t classes) {
  simd_rows::for_row_blocks(rows, rows * classes, [&](std::size_t first, std::size_t last) {
    for (std::size_t r = first; r < last; ++r) {
      const float* row = x + r * classes;
      float* out_row = out + r * classes;
      const float max = simd_rows::max_of(row, classes);
      const float log_sum = std::log(simd_rows::exp_sum(row, classes, max));
      for (std::size_t c = 0; c < classes; ++c) out_row[c] = (row[c] - max) - log_sum;
    }
  });
}

// dx = y * (g - sum_c g_c y_c); the sum is shifted_dot's with a shift of 0
inline void float_softmax_backward_rows(const float* y, const float* g, float* dx, std::size_t rows,
                                        std::size_t classes) {
  simd_rows::for_row_blocks(rows, rows * classes, [&](std::size_t first, std::size_t last) {
    for (std::size_t k = first * classes; k < last * classes; k += classes) {
      const float dot = simd_rows::shifted_dot(g + k, y + k, classes, 0.0f);
      for (std::size_t c = 0; c < classes; ++c) dx[k + c] = y[k + c] * (g[k + c] - dot);
    }
  });
}

// dx = g - exp(log_y) * sum_c g_c, as dx = (-sum) * exp(log_y - 0) first and then dx += g
inline void float_log_softmax_backward_rows(const float* log_y, const float* g, float* dx, std::size_t rows,
                                            std::size_t classes) {
  simd_rows::for_row_blocks(rows, rows * classes, [&](std::size_t first, std::size_t last) {
    for (std::size_t k = first * classes; k < last * classes; k += classes) {
      const float total = simd_rows::shifted_dot(g + k, nullptr, classes, 0.0f);
      simd_rows::store_scaled_exp(log_y + k, classes, 0.0f, -total, dx + k);
      for (std::size_t c = 0; c < classes; ++c) dx[k + c] += g[k + c];
    }
  });
}

}  // namespace softmax_detail

// out = softmax(x) along the classes of each distribution. out may alias x (each element is read
// before it is written).
template <class T>
void softmax_rows(const T* x, T* out, const SoftmaxLayout& layout) {
  const std::size_t classes = layout.classes, inner = layout.inner, block = classes * inner;
  if constexpr (std::is_same_v<T, float>)
    if (inner == 1) return softmax_detail::float_softmax_rows(x, out, layout.outer, classes);
  if (inner == 1) {
    for (std::size_t o = 0; o < layout.outer; ++o) {
      T max, sum;
      softmax_detail::shifted_exp_row(x + o * block, out + o * block, classes, max, sum);
      const T scale = T(1) / sum;
      for (std::size_t c = 0; c < classes; ++c) out[o * block + c] *= scale;
    }
    return;
  }
  std::vector<T> max(inner), sum(inner);
  for (std::size_t o = 0; o < layout.outer; ++o) {
    T* out_block = out + o * block;
    softmax_detail::shifted_exp_block(x + o * block, out_block, classes, inner, max.data(), sum.data());
    for (std::size_t i = 0; i < inner; ++i) sum[i] = T(1) / sum[i];
    for (std::size_t c = 0; c < classes; ++c)
      for (std::size_t i = 0; i < inner; ++i) out_block[c * inner + i] *= sum[i];
  }
}

// out = log_softmax(x) = (x - max) - log(sum exp(x - max)) along the classes, in that order: for
// logits near 1e4, max + log(sum) would round away the log term in float32 (PyTorch keeps the same
// order). out must not alias x: x is read again after out has held the exponentials.
template <class T>
void log_softmax_rows(const T* x, T* out, const SoftmaxLayout& layout) {
  const std::size_t classes = layout.classes, inner = layout.inner, block = classes * inner;
  if constexpr (std::is_same_v<T, float>)
    if (inner == 1) return softmax_detail::float_log_softmax_rows(x, out, layout.outer, classes);
  if (inner == 1) {
    for (std::size_t o = 0; o < layout.outer; ++o) {
      const T* row = x + o * block;
      T max, sum;
      softmax_detail::shifted_exp_row(row, out + o * block, classes, max, sum);
      const T log_sum = std::log(sum);
      for (std::size_t c = 0; c < classes; ++c) out[o * block + c] = (row[c] - max) - log_sum;
    }
    return;
  }
  std::vector<T> max(inner), sum(inner);
  for (std::size_t o = 0; o < layout.outer; ++o) {
    const T* in_block = x + o * block;
    T* out_block = out + o * block;
    softmax_detail::shifted_exp_block(in_block, out_block, classes, inner, max.data(), sum.data());
    for (std::size_t i = 0; i < inner; ++i) sum[i] = std::log(sum[i]);
    for (std::size_t c = 0; c < classes; ++c)
      for (std::size_t i = 0; i < inner; ++i)
        out_block[c * inner + i] = (in_block[c * inner + i] - max[i]) - sum[i];
  }
}

namespace softmax_detail {

// The shape of both backward kernels: for each distribution, total = sum over its classes of
// term(k), then update(k, total) for each of its classes (k is the flat element index).

template <class T, class Term, class Update>
void per_distribution(const SoftmaxLayout& layout, Term term, Update update) {
  const std::size_t classes = layout.classes, inner = layout.inner, block = classes * inner;
  if (inner == 1) {
    for (std::size_t o = 0; o < layout.outer; ++o) {
      const std::size_t base = o * block;
      T dot = T(0);
      for (std::size_t c = 0; c < classes; ++c) dot += term(base + c);
      for (std::size_t c = 0; c < classes; ++c) update(base + c, dot);
    }
    return;
  }
  std::vector<T> dot(inner);
  for (std::size_t o = 0; o < layout.outer; ++o) {
    const std::size_t base = o * block;
    std::fill(dot.begin(), dot.end(), T(0));
    for (std::size_t c = 0; c < classes; ++c)
      for (std::size_t i = 0; i < inner; ++i) dot[i] += term(base + c * inner + i);
    for (std::size_t c = 0; c < classes; ++c)
      for (std::size_t i = 0; i < inner; ++i) update(base + c * inner + i, dot[i]);
  }
}

}  // namespace softmax_detail

// Softmax backward: dx = y * (g - sum_c g_c y_c), with y the softmax output. dx may alias g.
template <class T>
void softmax_backward_rows(const T* y, const T* g, T* dx, const SoftmaxLayout& layout) {
  if constexpr (std::is_same_v<T, float>)
    if (layout.inner == 1)
      return softmax_detail::float_softmax_backward_rows(y, g, dx, layout.outer, layout.classes);
  softmax_detail::per_distribution<T>(
      layout, [&](std::size_t k) { return g[k] * y[k]; },
      [&](std::size_t k, T dot) { dx[k] = y[k] * (g[k] - dot); });
}

// Log-softmax backward: dx = g - exp(log_y) * sum_c g_c, with log_y the log_softmax output. dx must
// not alias g (the float32 rows write dx before reading g).
template <class T>
void log_softmax_backward_rows(const T* log_y, const T* g, T* dx, const SoftmaxLayout& layout) {
  if constexpr (std::is_same_v<T, float>)
    if (layout.inner == 1)
      return softmax_detail::float_log_softmax_backward_rows(log_y, g, dx, layout.outer, layout.classes);
  softmax_detail::per_distribution<T>(
      layout, [&](std::size_t k) { return g[k]; },
      [&](std::size_t k, T total) { dx[k] = g[k] - std::exp(log_y[k]) * total; });
}

}  // namespace xgrad

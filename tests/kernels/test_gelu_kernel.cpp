// kernels/simd_rows' exact gelu and its backward against the erf formula in double precision: every
// float32 input from -12 to 12 in steps of 1/1024 (the far negative tail, where Phi is tiny, is where
// an absolutely accurate erf would lose all its digits), row lengths that leave a partial last
// vector, and the IEEE cases.
#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <vector>

#include <xgrad/kernels/simd_rows.hpp>

namespace xgrad::simd_rows {
namespace {

// Phi as PyTorch evaluates it, erf of x / sqrt 2 rounded to float, but the rest in double: the
// kernel's own error is measured, not that of the rounded argument both share (which alone moves
// Phi(-11.6) by 1e-5 relative).
double exact_cdf(float x) { return 0.5 * std::erfc(-static_cast<double>(x * 0.70710678118654752f)); }
double exact_gelu(float x) { return x * exact_cdf(x); }
double exact_derivative(float x) {
  const double v = x;
  return exact_cdf(x) + v * std::exp(-0.5 * v * v) / std::sqrt(2.0 * M_PI);
}

// |got - want| relative to |want|, or absolute where want is below float32's normal range.
double error_of(float got, double want) {
  return std::abs(static_cast<double>(got) - want) / std::max(std::abs(want), 1e-30);
}

TEST(GeluKernel, MatchesTheErfFormulaIncludingTheNegativeTail) {
  std::vector<float> x;
  for (int i = -12 * 1024; i <= 12 * 1024; ++i) x.push_back(static_cast<float>(i) / 1024.0f);
  std::vector<float> y(x.size()), upstream(x.size(), 1.0f), d(x.size());
  gelu(x.data(), x.size(), y.data());
  gelu_backward(upstream.data(), x.data(), x.size(), d.data());
  double worst_value = 0, worst_derivative = 0;
  for (std::size_t i = 0; i < x.size(); ++i) {
    const double want = exact_gelu(x[i]);
    // Values below float32's smallest normal are flushed or rounded coarsely; compare those absolutely.
    worst_value = std::max(worst_value, std::abs(want) < 1e-37 ? std::abs(y[i] - want) : error_of(y[i], want));
    // The derivative crosses zero near x = -0.75: compare it absolutely against its scale, 1.
    worst_derivative = std::max(worst_derivative, std::abs(static_cast<double>(d[i]) - exact_derivative(x[i])));
  }
  EXPECT_LT(worst_value, 1e-6);
  EXPECT_LT(worst_derivative, 1e-6);
}

TEST(GeluKernel, EveryRowLengthGivesTheSameValues) {
  std::vector<float> x;
  for (int i = 0; i < 19; ++i) x.push_back(-3.0f + 0.37f * static_cast<float>(i));
  std::vector<float> whole(x.size()), upstream(x.size(), 0.5f), whole_d(x.size());
  gelu(x.data(), x.size(), whole.data());
  gelu_backward(upstream.data(), x.data(), x.size(), whole_d.data());
  for (std::size_t n = 0; n <= x.size(); ++n) {
    std::vector<float> part(n + 1, 99.0f), part_d(n + 1, 99.0f);
    gelu(x.data(), n, part.data());
    gelu_backward(upstream.data(), x.data(), n, part_d.data());
    for (std::size_t i = 0; i < n; ++i) {
      EXPECT_EQ(part[i], whole[i]) << "n " << n << " i " << i;
      EXPECT_EQ(part_d[i], whole_d[i]) << "n " << n << " i " << i;
    }
    EXPECT_EQ(part[n], 99.0f) << "wrote past the end, n " << n;
    EXPECT_EQ(part_d[n], 99.0f) << "wrote past the end, n " << n;
  }
}

TEST(GeluKernel, NanAndInfinitiesAsTheFormulaGivesThem) {
  const float inf = std::numeric_limits<float>::infinity();
  const std::vector<float> x = {std::nanf(""), inf, -inf, 0.0f, -0.0f};
  std::vector<float> y(x.size()), upstream(x.size(), 1.0f), d(x.size());
  gelu(x.data(), x.size(), y.data());
  gelu_backward(upstream.data(), x.data(), x.size(), d.data());
  EXPECT_TRUE(std::isnan(y[0]));
  EXPECT_EQ(y[1], inf);
  EXPECT_TRUE(std::isnan(y[2]));  // -inf * Phi(-inf) = -inf * 0, as PyTorch's formula gives
  EXPECT_EQ(y[3], 0.0f);
  EXPECT_TRUE(std::isnan(d[0]));
  EXPECT_FLOAT_EQ(d[3], 0.5f);
  EXPECT_FLOAT_EQ(d[4], 0.5f);
}

}  // namespace
}  // namespace xgrad::simd_rows

// The gemm dispatch against the textbook triple loop: every transpose combination, shapes the rule
// gives to libxsmm and shapes it gives to OpenBLAS (and each forced onto the other), beta 0 and 1,
// float and double, and leading dimensions wider than the rows they hold.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <limits>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include <xgrad/core/factory.hpp>
#include <xgrad/kernels/gemm.hpp>

#include "compare.hpp"

namespace xgrad {
namespace {

using testing::throws_error_containing;

// Whether this build has libxsmm: the rule gives it the tiny MLP's hidden layer whenever it can.
bool built_with_libxsmm() { return gemm_path(false, false, 30, 16, 16) == GemmPath::kLibxsmm; }

struct Product {
  bool trans_a, trans_b;
  std::int64_t m, n, k;
  std::int64_t pad;  // extra elements at the end of every row of a, b and c
};

std::string describe(const Product& p, double beta, GemmPath path) {
  const char* names[] = {"auto", "openblas", "libxsmm"};
  return std::string(p.trans_a ? "T" : "N") + (p.trans_b ? "T" : "N") + " " + std::to_string(p.m) + "x" +
         std::to_string(p.n) + "x" + std::to_string(p.k) + " pad " + std::to_string(p.pad) + " beta " +
         std::to_string(beta) + " " + names[static_cast<int>(path)];
}

// Row-major storage of op(a), op(b) and c as the gemm contract lays them out, padding included.
template <class T>
struct Operands {
  explicit Operands(const Product& p, std::uint32_t seed) {
    std::mt19937 gen(seed);
    std::uniform_real_distribution<double> value(-1.0, 1.0);
    a_rows = p.trans_a ? p.k : p.m;
    lda = (p.trans_a ? p.m : p.k) + p.pad;
    b_rows = p.trans_b ? p.n : p.k;
    ldb = (p.trans_b ? p.k : p.n) + p.pad;
    ldc = p.n + p.pad;
    a.resize(static_cast<std::size_t>(a_rows * lda));
    b.resize(static_cast<std::size_t>(b_rows * ldb));
    c.resize(static_cast<std::size_t>(p.m * ldc));
    for (T& x : a) x = static_cast<T>(value(gen));
    for (T& x : b) x = static_cast<T>(value(gen));
    for (T& x : c) x = static_cast<T>(value(gen));
  }
  T a_at(const Product& p, std::int64_t i, std::int64_t q) const { return p.trans_a ? a[q * lda + i] : a[i * lda + q]; }
  T b_at(const Product& p, std::int64_t q, std::int64_t j) const { return p.trans_b ? b[j * ldb + q] : b[q * ldb + j]; }

  std::int64_t a_rows, lda, b_rows, ldb, ldc;
  std::vector<T> a, b, c;
};

// c_ij = alpha sum_q op(a)_iq op(b)_qj + beta c_ij, in double, one multiply-add at a time.
template <class T>
std::vector<double> naive_gemm(const Product& p, const Operands<T>& in, double alpha, double beta) {
  std::vector<double> out(in.c.begin(), in.c.end());
  for (std::int64_t i = 0; i < p.m; ++i)
    for (std::int64_t j = 0; j < p.n; ++j) {
      double sum = 0.0;
      for (std::int64_t q = 0; q < p.k; ++q) sum += double(in.a_at(p, i, q)) * double(in.b_at(p, q, j));
      const double before = beta == 0.0 ? 0.0 : beta * out[i * in.ldc + j];
      out[i * in.ldc + j] = alpha * sum + before;
    }
  return out;
}

// Runs the dispatch on one product and compares every element of c, padding included (it must stay
// as it was).
template <class T>
::testing::AssertionResult matches_naive(const Product& p, double alpha, double beta, GemmPath path) {
  Operands<T> in(p, static_cast<std::uint32_t>(p.m * 131 + p.n * 17 + p.k));
  const std::vector<double> expected = naive_gemm(p, in, alpha, beta);
  if (beta == 0.0)  // beta 0 must overwrite c without reading it
    for (std::int64_t i = 0; i < p.m; ++i)
      for (std::int64_t j = 0; j < p.n; ++j) in.c[i * in.ldc + j] = std::numeric_limits<T>::quiet_NaN();
  gemm(p.trans_a, p.trans_b, p.m, p.n, p.k, static_cast<T>(alpha), in.a.data(), in.lda, in.b.data(), in.ldb,
       static_cast<T>(beta), in.c.data(), in.ldc, path);
  // Sums of k products of values in [-1, 1]: rounding error grows at most like k epsilon.
  const double tolerance = 4.0 * std::numeric_limits<T>::epsilon() * static_cast<double>(p.k + 2);
  for (std::size_t i = 0; i < expected.size(); ++i) {
    const double got = in.c[i];
    if (!(std::abs(got - expected[i]) <= tolerance))
      return ::testing::AssertionFailure() << describe(p, beta, path) << ": element " << i / in.ldc << ","
                                           << i % in.ldc << " is " << got << ", expected " << expected[i];
  }
  return ::testing::AssertionSuccess();
}

// Shapes of the benchmark models (toy 2-64-64-3 batch 300 and tiny 2-16-16-3 batch 30), a convolution
// per image, odd sizes, and products too narrow or too large for libxsmm.
std::vector<Product> products() {
  std::vector<Product> all;
  const std::vector<std::vector<std::int64_t>> shapes = {
      {30, 16, 16}, {300, 64, 64}, {300, 64, 2}, {64, 64, 300}, {17, 19, 23}, {16, 576, 25},
      {300, 3, 64}, {64, 2, 300}, {1, 1, 1},  {1, 33, 7},    {160, 160, 160}};
  for (const auto& s : shapes)
    for (bool trans_a : {false, true})
      for (bool trans_b : {false, true})
        for (std::int64_t pad : {0, 3}) all.push_back({trans_a, trans_b, s[0], s[1], s[2], pad});
  return all;
}

template <class T>
void check_every_product() {
  for (const Product& p : products())
    for (double beta : {0.0, 1.0})
      for (GemmPath path : {GemmPath::kAuto, GemmPath::kOpenBlas, GemmPath::kLibxsmm})
        EXPECT_TRUE(matches_naive<T>(p, 1.0, beta, path));
}

TEST(Gemm, FloatMatchesTheNaiveLoopOnEveryPathAndTranspose) { check_every_product<float>(); }

TEST(Gemm, DoubleMatchesTheNaiveLoopOnEveryPathAndTranspose) { check_every_product<double>(); }

TEST(Gemm, TheRuleSendsSmallWideProductsToLibxsmmAndTheRestToOpenBlas) {
  if (!built_with_libxsmm()) {
    EXPECT_EQ(gemm_path(false, false, 300, 64, 64), GemmPath::kOpenBlas);
    GTEST_SKIP() << "built without libxsmm: every product goes to OpenBLAS";
  }
  // The toy MLP's hidden layer: forward (NT), input gradient (NN), weight gradient (TN).
  EXPECT_EQ(gemm_path(false, true, 300, 64, 64), GemmPath::kLibxsmm);
  EXPECT_EQ(gemm_path(false, false, 300, 64, 64), GemmPath::kLibxsmm);
  EXPECT_EQ(gemm_path(true, false, 64, 64, 300), GemmPath::kLibxsmm);
  EXPECT_EQ(gemm_path(false, false, 300, 3, 64), GemmPath::kOpenBlas);      // three outputs per row
  EXPECT_EQ(gemm_path(true, false, 64, 2, 300), GemmPath::kOpenBlas);       // two
  EXPECT_EQ(gemm_path(false, true, 16, 25, 576), GemmPath::kOpenBlas);      // too few rows to pay for copying b
  EXPECT_EQ(gemm_path(true, true, 30, 16, 16), GemmPath::kOpenBlas);        // both transposed
  EXPECT_EQ(gemm_path(false, false, 256, 512, 512), GemmPath::kOpenBlas);   // large: OpenBLAS's threads
}

TEST(Gemm, AlphaOtherThanOneIsComputedOnEveryPath) {
  for (GemmPath path : {GemmPath::kAuto, GemmPath::kLibxsmm}) {
    EXPECT_TRUE(matches_naive<float>({false, true, 30, 16, 16, 2}, 0.5, 1.0, path));
    EXPECT_TRUE(matches_naive<double>({true, false, 30, 16, 16, 0}, -2.0, 0.0, path));
  }
}

TEST(Gemm, BetaOtherThanZeroOrOneScalesC) {
  EXPECT_TRUE(matches_naive<float>({false, false, 30, 16, 16, 1}, 1.0, 0.25, GemmPath::kAuto));
  EXPECT_TRUE(matches_naive<double>({false, true, 30, 16, 16, 0}, 1.0, -1.5, GemmPath::kLibxsmm));
}

TEST(Gemm, AnEmptySumWritesZerosForBetaZeroAndKeepsCForBetaOne) {
  std::vector<float> c = {std::numeric_limits<float>::quiet_NaN(), 7.f, 3.f, 4.f};
  gemm(false, false, 1, 2, 0, 1.f, nullptr, 0, nullptr, 2, 0.f, c.data(), 4);
  EXPECT_EQ(c, (std::vector<float>{0.f, 0.f, 3.f, 4.f}));
  gemm(false, false, 1, 2, 0, 1.f, nullptr, 0, nullptr, 2, 1.f, c.data(), 4);
  EXPECT_EQ(c, (std::vector<float>{0.f, 0.f, 3.f, 4.f}));
  gemm(false, false, 0, 2, 5, 1.f, nullptr, 5, nullptr, 2, 0.f, nullptr, 2);  // no rows: nothing to do
}

TEST(Gemm, ThreadsSharingShapesGetTheSameResults) {
  auto run = [](bool* ok) {
    for (int repeat = 0; repeat < 20; ++repeat)
      for (const Product& p : {Product{false, true, 300, 64, 64, 0}, Product{true, false, 64, 64, 300, 0},
                               Product{false, false, 30, 16, 16, 1}})
        *ok = *ok && matches_naive<float>(p, 1.0, repeat % 2, GemmPath::kAuto);
  };
  bool first = true, second = true;
  std::thread other(run, &second);
  run(&first);
  other.join();
  EXPECT_TRUE(first);
  EXPECT_TRUE(second);
}

// A product that gives each of two blocks 1M multiply-adds or more is split by blocks of columns
// among xgrad's threads: every element must still be the same sum in the same order as on one
// thread, bit for bit, also where a block alone would go to the other library (64 x 256 x 128 with a
// transposed b is OpenBLAS's whole and would be libxsmm's in halves), which rounds c + a b otherwise.
TEST(Gemm, ASplitProductEqualsTheOneThreadProductExactly) {
  const int previous = xgrad::get_num_threads();
  std::mt19937 generator(5);
  std::normal_distribution<float> normal;
  for (const Product& p : {Product{false, true, 64, 256, 784, 0}, Product{true, false, 256, 784, 64, 0},
                           Product{false, false, 100, 333, 200, 0}, Product{false, true, 64, 128, 256, 0},
                           Product{false, false, 64, 128, 256, 0}, Product{true, false, 256, 128, 64, 0}}) {
    const std::int64_t a_size = p.m * p.k, b_size = p.k * p.n;
    std::vector<float> a(static_cast<std::size_t>(a_size)), b(static_cast<std::size_t>(b_size));
    for (float& x : a) x = normal(generator);
    for (float& x : b) x = normal(generator);
    const std::int64_t lda = p.trans_a ? p.m : p.k, ldb = p.trans_b ? p.k : p.n;
    std::vector<float> c(static_cast<std::size_t>(p.m * p.n));
    for (float& x : c) x = normal(generator);
    // beta 0, and beta 1 onto c (linear's bias, a gradient accumulated)
    for (const float beta : {0.f, 1.f}) {
      std::vector<float> one = c, two = c;
      xgrad::set_num_threads(1);
      gemm(p.trans_a, p.trans_b, p.m, p.n, p.k, 1.f, a.data(), lda, b.data(), ldb, beta, one.data(), p.n);
      xgrad::set_num_threads(2);
      gemm(p.trans_a, p.trans_b, p.m, p.n, p.k, 1.f, a.data(), lda, b.data(), ldb, beta, two.data(), p.n);
      EXPECT_EQ(one, two) << p.m << " x " << p.k << " times " << p.k << " x " << p.n << ", beta " << beta;
    }
  }
  xgrad::set_num_threads(previous);
}

TEST(Gemm, BadSizesAndLeadingDimensionsAreErrors) {
  std::vector<float> buffer(64, 1.f);
  float* p = buffer.data();
  EXPECT_TRUE(throws_error_containing([&] { gemm(false, false, -1, 2, 2, 1.f, p, 2, p, 2, 0.f, p, 2); },
                                      {"gemm", "negative", "m -1"}));
  EXPECT_TRUE(throws_error_containing([&] { gemm(false, false, 2, 2, 3, 1.f, p, 2, p, 2, 0.f, p, 2); },
                                      {"gemm", "lda 2 for rows of 3"}));
  EXPECT_TRUE(throws_error_containing([&] { gemm(true, false, 4, 2, 3, 1.f, p, 3, p, 2, 0.f, p, 2); },
                                      {"gemm", "lda 3 for rows of 4"}));
  EXPECT_TRUE(throws_error_containing([&] { gemm(false, true, 2, 4, 3, 1.f, p, 3, p, 2, 0.f, p, 4); },
                                      {"gemm", "ldb 2 for rows of 3"}));
  EXPECT_TRUE(throws_error_containing([&] { gemm(false, false, 2, 4, 3, 1.f, p, 3, p, 4, 0.f, p, 3); },
                                      {"gemm", "ldc 3 for rows of 4"}));
  const std::int64_t huge = std::int64_t{1} << 32;
  EXPECT_TRUE(throws_error_containing([&] { gemm(false, false, 1, 1, huge, 1.f, p, huge, p, 1, 0.f, p, 1); },
                                      {"gemm", "32-bit"}));
}

}  // namespace
}  // namespace xgrad

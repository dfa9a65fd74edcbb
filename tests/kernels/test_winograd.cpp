// Winograd's F(4x4, 5x5) and F(6x6, 3x3), forward and weight gradient, against the direct sums in
// double: padding, partial tiles at the right and bottom edges, channel counts that fill no vector,
// several blocks of tiles, a range of images (as each thread gets), and no bias. The rounding is
// bounded relative to the sum of the absolute terms of the largest output in the plane (or of the
// filter), the scale a float32 convolution's error is measured on.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include <xgrad/kernels/winograd.hpp>

namespace xgrad {
namespace {

using winograd::Problem;

Problem problem(std::int64_t batch, std::int64_t channels, std::int64_t height, std::int64_t width,
                std::int64_t out_channels, std::int64_t pad_h, std::int64_t pad_w, std::int64_t kernel = 5) {
  const std::int64_t out_h = height + 2 * pad_h - kernel + 1, out_w = width + 2 * pad_w - kernel + 1;
  return {batch, channels, height, width, out_channels, kernel, pad_h, pad_w, out_h, out_w};
}

std::string describe(const Problem& p) {
  std::ostringstream text;
  text << "x (" << p.batch << ", " << p.channels << ", " << p.height << ", " << p.width << "), " << p.out_channels
       << " filters " << p.kernel << "x" << p.kernel << ", padding (" << p.pad_h << ", " << p.pad_w << ")";
  return text.str();
}

std::vector<float> uniform(std::size_t count, std::uint32_t seed) {
  std::mt19937 gen(seed);
  std::uniform_real_distribution<float> value(-1.0f, 1.0f);
  std::vector<float> out(count);
  for (float& v : out) v = value(gen);
  return out;
}

// y[n, o, i, j] and the sum of its terms' absolute values, both in double.
struct Reference {
  std::vector<double> y, scale;
};

Reference direct(const Problem& p, const std::vector<float>& x, const std::vector<float>& w, const float* bias) {
  Reference ref;
  const std::int64_t out_size = p.batch * p.out_channels * p.out_h * p.out_w;
  ref.y.assign(static_cast<std::size_t>(out_size), 0.0);
  ref.scale.assign(static_cast<std::size_t>(out_size), 0.0);
  std::size_t at = 0;
  for (std::int64_t n = 0; n < p.batch; ++n)
    for (std::int64_t o = 0; o < p.out_channels; ++o)
      for (std::int64_t i = 0; i < p.out_h; ++i)
        for (std::int64_t j = 0; j < p.out_w; ++j, ++at) {
          double sum = bias ? bias[o] : 0.0, scale = bias ? std::abs(bias[o]) : 0.0;
          for (std::int64_t c = 0; c < p.channels; ++c)
            for (std::int64_t a = 0; a < p.kernel; ++a)
              for (std::int64_t b = 0; b < p.kernel; ++b) {
                const std::int64_t h = i + a - p.pad_h, v = j + b - p.pad_w;
                if (h < 0 || h >= p.height || v < 0 || v >= p.width) continue;
                const double term =
                    double(x[static_cast<std::size_t>(((n * p.channels + c) * p.height + h) * p.width + v)]) *
                    double(w[static_cast<std::size_t>(((o * p.channels + c) * p.kernel + a) * p.kernel + b)]);
                sum += term;
                scale += std::abs(term);
              }
          ref.y[at] = sum;
          ref.scale[at] = scale;
        }
  return ref;
}

// Images [first, last) of `got` (images of `per_image` values in planes of `plane`) against the
// reference, and every other image still NaN as the caller filled it. Winograd's rounding spreads
// over a tile: a value that reads only padding has no terms of its own but does not come out
// exactly 0, so each value's error is measured against the largest sum of terms in its plane.
::testing::AssertionResult images_match(const Problem& p, const std::vector<float>& got, const Reference& ref,
                                        std::int64_t per_image, std::int64_t plane_size, std::int64_t first,
                                        std::int64_t last, const char* what) {
  const auto plane = static_cast<std::size_t>(plane_size);
  double worst = 0.0;
  for (std::int64_t e = 0; e < static_cast<std::int64_t>(got.size()); ++e) {
    const std::int64_t n = e / per_image;
    const auto k = static_cast<std::size_t>(e);
    if (n < first || n >= last) {
      if (!std::isnan(got[k]))
        return ::testing::AssertionFailure()
               << describe(p) << ": image " << n << " outside [" << first << ", " << last << ") was written";
      continue;
    }
    const auto plane_first = ref.scale.begin() + static_cast<std::ptrdiff_t>(k / plane * plane);
    const double scale = *std::max_element(plane_first, plane_first + static_cast<std::ptrdiff_t>(plane));
    const double error = std::abs(double(got[k]) - ref.y[k]) / (scale + 1e-30);
    if (!(error <= 5e-6))  // NaN fails too
      return ::testing::AssertionFailure() << describe(p) << ": " << what << " element " << e << " is " << got[k]
                                           << ", the direct sum " << ref.y[k] << " (relative to the terms' size "
                                           << error << ")";
    worst = std::max(worst, error);
  }
  return ::testing::AssertionSuccess() << "worst relative error " << worst;
}

// Runs winograd::forward on images [first, last) into an output filled with NaN, and checks those
// images against the direct sum and every other image untouched.
::testing::AssertionResult matches_direct(const Problem& p, bool with_bias, std::int64_t first, std::int64_t last) {
  const auto seed = static_cast<std::uint32_t>(p.channels * 31 + p.height * 7 + p.out_channels);
  const std::vector<float> x = uniform(static_cast<std::size_t>(p.batch * p.channels * p.height * p.width), seed);
  const std::vector<float> w =
      uniform(static_cast<std::size_t>(p.out_channels * p.channels * p.kernel * p.kernel), seed + 1);
  const std::vector<float> b = uniform(static_cast<std::size_t>(p.out_channels), seed + 2);
  const float* bias = with_bias ? b.data() : nullptr;
  std::vector<float> u(static_cast<std::size_t>(winograd::filter_values(p)));
  winograd::transform_filters(p, w.data(), u.data());
  std::vector<float> y(static_cast<std::size_t>(p.batch * p.out_channels * p.out_h * p.out_w),
                       std::numeric_limits<float>::quiet_NaN());
  winograd::forward(p, x.data(), u.data(), bias, y.data(), first, last);
  return images_match(p, y, direct(p, x, w, bias), p.out_channels * p.out_h * p.out_w, p.out_h * p.out_w, first, last,
                      "output");
}

// One product of the direct sum: output (n, o, i, j) gets input (n, c, h, v) times tap (a, b) of
// filter (o, c), the input inside the plane; with each one's index in its row-major array.
struct Term {
  std::int64_t o, c, a, b;
  std::size_t output, input, weight;
};

// term(t) for every product of the direct sums over the images [first, last).
template <class Visit>
void for_each_term(const Problem& p, std::int64_t first, std::int64_t last, const Visit& term) {
  for (std::int64_t n = first; n < last; ++n)
    for (std::int64_t o = 0; o < p.out_channels; ++o)
      for (std::int64_t i = 0; i < p.out_h; ++i)
        for (std::int64_t j = 0; j < p.out_w; ++j)
          for (std::int64_t c = 0; c < p.channels; ++c)
            for (std::int64_t a = 0; a < p.kernel; ++a)
              for (std::int64_t b = 0; b < p.kernel; ++b) {
                const std::int64_t h = i + a - p.pad_h, v = j + b - p.pad_w;
                if (h < 0 || h >= p.height || v < 0 || v >= p.width) continue;
                term(Term{o, c, a, b, static_cast<std::size_t>(((n * p.out_channels + o) * p.out_h + i) * p.out_w + j),
                          static_cast<std::size_t>(((n * p.channels + c) * p.height + h) * p.width + v),
                          static_cast<std::size_t>(((o * p.channels + c) * p.kernel + a) * p.kernel + b)});
              }
}

// dw[o, c, a, b] = sum over images [first, last) and output positions of dy x, and the sum of the
// terms' absolute values, in double.
Reference direct_weight_grad(const Problem& p, const std::vector<float>& x, const std::vector<float>& dy,
                             std::int64_t first, std::int64_t last) {
  Reference ref;
  ref.y.assign(static_cast<std::size_t>(p.out_channels * p.channels * p.kernel * p.kernel), 0.0);
  ref.scale = ref.y;
  for_each_term(p, first, last, [&](const Term& t) {
    const auto at = static_cast<std::size_t>(((t.o * p.channels + t.c) * p.kernel + t.a) * p.kernel + t.b);
    const double term = double(dy[t.output]) * double(x[t.input]);
    ref.y[at] += term;
    ref.scale[at] += std::abs(term);
  });
  return ref;
}

// backward's weight gradient over images [first, middle) and then [middle, last) into one sum, and
// filter_grads, against the direct sum over [first, last).
::testing::AssertionResult weight_grad_matches_direct(const Problem& p, std::int64_t first, std::int64_t middle,
                                                      std::int64_t last) {
  const auto seed = static_cast<std::uint32_t>(p.channels * 13 + p.width * 5 + p.out_channels);
  const std::vector<float> x = uniform(static_cast<std::size_t>(p.batch * p.channels * p.height * p.width), seed);
  const std::vector<float> dy =
      uniform(static_cast<std::size_t>(p.batch * p.out_channels * p.out_h * p.out_w), seed + 1);
  std::vector<float> du(static_cast<std::size_t>(winograd::filter_values(p)), 0.0f);
  winograd::backward(p, x.data(), dy.data(), nullptr, du.data(), nullptr, first, middle);
  winograd::backward(p, x.data(), dy.data(), nullptr, du.data(), nullptr, middle, last);
  std::vector<float> dw(static_cast<std::size_t>(p.out_channels * p.channels * p.kernel * p.kernel));
  winograd::filter_grads(p, du.data(), dw.data());
  const Reference ref = direct_weight_grad(p, x, dy, first, last);
  // Winograd's rounding spreads over a filter's elements: a tap that reads only padding has no terms
  // of its own but comes out near 1e-7, not 0. So the scale is the filter's largest.
  const auto taps = static_cast<std::size_t>(p.kernel * p.kernel);
  for (std::size_t k = 0; k < dw.size(); ++k) {
    const std::size_t filter = k / taps * taps;
    const auto first_tap = ref.scale.begin() + static_cast<std::ptrdiff_t>(filter);
    const double scale = *std::max_element(first_tap, first_tap + static_cast<std::ptrdiff_t>(taps));
    const double error = std::abs(double(dw[k]) - ref.y[k]) / (scale + 1e-30);
    if (!(error <= 5e-6))
      return ::testing::AssertionFailure()
             << describe(p) << ": weight gradient element " << k << " is " << dw[k] << ", the direct sum " << ref.y[k]
             << " (relative to the terms' size " << error << ")";
  }
  return ::testing::AssertionSuccess();
}

// dx[n, c, h, v] = sum over output channels and taps of dy w, and the sum of the terms' absolute
// values, in double.
Reference direct_input_grad(const Problem& p, const std::vector<float>& dy, const std::vector<float>& w) {
  Reference ref;
  ref.y.assign(static_cast<std::size_t>(p.batch * p.channels * p.height * p.width), 0.0);
  ref.scale = ref.y;
  for_each_term(p, 0, p.batch, [&](const Term& t) {
    const double term = double(dy[t.output]) * double(w[t.weight]);
    ref.y[t.input] += term;
    ref.scale[t.input] += std::abs(term);
  });
  return ref;
}

// backward's input gradient, alone or beside the weight gradient, over images [first, last) of a dx
// filled with NaN: those images against the direct sum, every other image untouched.
::testing::AssertionResult input_grad_matches_direct(const Problem& p, bool with_weight_grad, std::int64_t first,
                                                     std::int64_t last) {
  const auto seed = static_cast<std::uint32_t>(p.channels * 17 + p.height * 3 + p.out_channels);
  const std::vector<float> x = uniform(static_cast<std::size_t>(p.batch * p.channels * p.height * p.width), seed);
  const std::vector<float> dy =
      uniform(static_cast<std::size_t>(p.batch * p.out_channels * p.out_h * p.out_w), seed + 1);
  const std::vector<float> w =
      uniform(static_cast<std::size_t>(p.out_channels * p.channels * p.kernel * p.kernel), seed + 2);
  std::vector<float> u(static_cast<std::size_t>(winograd::filter_values(p)));
  winograd::transform_filters(p, w.data(), u.data());
  std::vector<float> du(with_weight_grad ? u.size() : 0, 0.0f);
  std::vector<float> dx(static_cast<std::size_t>(p.batch * p.channels * p.height * p.width),
                        std::numeric_limits<float>::quiet_NaN());
  winograd::backward(p, x.data(), dy.data(), u.data(), with_weight_grad ? du.data() : nullptr, dx.data(), first, last);
  return images_match(p, dx, direct_input_grad(p, dy, w), p.channels * p.height * p.width, p.height * p.width, first,
                      last, "input gradient");
}

TEST(Winograd, SuitsThreeAndFiveWideKernelsWithEnoughChannels) {
  EXPECT_TRUE(winograd::suits(problem(64, 16, 12, 12, 32, 0, 0)));  // a LeNet's second convolution
  EXPECT_FALSE(winograd::suits(problem(64, 1, 28, 28, 16, 0, 0)));  // its first: one input channel
  EXPECT_FALSE(winograd::suits(problem(4, 16, 12, 12, 4, 0, 0)));
  EXPECT_TRUE(winograd::suits(problem(4, 16, 12, 12, 16, 1, 1, 3)));
  EXPECT_FALSE(winograd::suits(problem(4, 16, 12, 12, 16, 0, 0, 7)));
}

// Each case for F(4x4, 5x5) and F(6x6, 3x3).
const std::int64_t kKernels[] = {5, 3};

TEST(Winograd, LeNetSecondConvolution) {
  EXPECT_TRUE(matches_direct(problem(5, 16, 12, 12, 32, 0, 0), true, 0, 5));
  EXPECT_TRUE(matches_direct(problem(5, 16, 14, 14, 32, 1, 1, 3), true, 0, 5));  // its 3x3 counterpart
}

TEST(Winograd, PaddingAndPartialTiles) {
  for (const std::int64_t k : kKernels) {
    EXPECT_TRUE(matches_direct(problem(2, 8, 12, 12, 8, k / 2, k / 2, k), true, 0, 2));  // "same" padding
    EXPECT_TRUE(matches_direct(problem(2, 8, 13, 11, 8, 0, 0, k), true, 0, 2));          // no multiple of the tile
    EXPECT_TRUE(matches_direct(problem(3, 9, 6, 17, 10, 1, 3, k), false, 0, 3));         // uneven padding, no bias
    EXPECT_TRUE(matches_direct(problem(1, 8, k, k, 8, 0, 0, k), true, 0, 1));            // one output
    EXPECT_TRUE(matches_direct(problem(1, 8, 3, 2, 8, 2, 2, k), true, 0, 1));            // smaller than the kernel
  }
}

TEST(Winograd, ChannelsThatFillNoVector) {
  for (const std::int64_t k : kKernels) EXPECT_TRUE(matches_direct(problem(2, 33, 10, 10, 17, 1, 1, k), true, 0, 2));
}

TEST(Winograd, ManyBlocksOfTiles) {
  // 64 + 64 channels leave room for 16 tiles per block; 3 images of 16 x 16 outputs are 48 tiles of
  // 4 x 4 (27 of 6 x 6).
  for (const std::int64_t k : kKernels)
    EXPECT_TRUE(matches_direct(problem(3, 64, 15 + k, 15 + k, 64, 0, 0, k), true, 0, 3));
}

TEST(Winograd, ARangeOfImages) {
  for (const std::int64_t k : kKernels) {
    EXPECT_TRUE(matches_direct(problem(7, 8, 12, 12, 8, 0, 0, k), true, 2, 5));
    EXPECT_TRUE(matches_direct(problem(7, 8, 12, 12, 8, 0, 0, k), true, 6, 7));
  }
}

TEST(Winograd, WeightGradient) {
  EXPECT_TRUE(weight_grad_matches_direct(problem(6, 16, 12, 12, 32, 0, 0), 0, 2, 6));  // a LeNet's second layer
  for (const std::int64_t k : kKernels) {
    EXPECT_TRUE(weight_grad_matches_direct(problem(2, 8, 12, 12, 8, k / 2, k / 2, k), 0, 1, 2));
    EXPECT_TRUE(
        weight_grad_matches_direct(problem(3, 9, 6, 17, 10, 1, 3, k), 1, 1, 3));  // partial tiles, an empty range
    EXPECT_TRUE(weight_grad_matches_direct(problem(2, 33, 10, 10, 17, 1, 1, k), 0, 1, 2));
    EXPECT_TRUE(weight_grad_matches_direct(problem(3, 64, 15 + k, 15 + k, 64, 0, 0, k), 0, 2, 3));  // several blocks
    EXPECT_TRUE(weight_grad_matches_direct(problem(1, 8, 3, 2, 8, 2, 2, k), 0, 0, 1));
  }
}

TEST(Winograd, InputGradient) {
  EXPECT_TRUE(input_grad_matches_direct(problem(6, 16, 12, 12, 32, 0, 0), true, 0, 6));  // a LeNet's second layer
  for (const std::int64_t k : kKernels) {
    EXPECT_TRUE(input_grad_matches_direct(problem(2, 8, 12, 12, 8, k / 2, k / 2, k), false, 0, 2));
    EXPECT_TRUE(input_grad_matches_direct(problem(3, 9, 6, 17, 10, 1, 3, k), true, 1, 3));  // partial tiles
    EXPECT_TRUE(input_grad_matches_direct(problem(2, 33, 10, 10, 17, 1, 1, k), false, 0, 2));
    EXPECT_TRUE(input_grad_matches_direct(problem(3, 64, 15 + k, 15 + k, 64, 0, 0, k), true, 1, 3));  // several blocks
    EXPECT_TRUE(input_grad_matches_direct(problem(1, 8, 3, 2, 8, 2, 2, k), false, 0, 1));  // smaller than the kernel
    EXPECT_TRUE(input_grad_matches_direct(problem(2, 8, 9, 9, 8, 4, 4, k), true, 0, 2));    // padding of k - 1 and more
  }
}

}  // namespace
}  // namespace xgrad

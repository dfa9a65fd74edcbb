#include <xgrad/kernels/simd_rows.hpp>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>

#include <xgrad/kernels/cpu_clones.hpp>

// The helpers taking or returning Floats are always inlined into the dispatched kernels, so GCC's
// note about passing 32-byte vectors between code compiled for different CPUs does not apply (it
// is reported at the end of the file, hence no matching pop).
#pragma GCC diagnostic ignored "-Wpsabi"

namespace xgrad::simd_rows {

namespace {

// Eight floats handled as one value through GCC/Clang vector extensions: + - * and comparisons act
// lane by lane, `mask ? a : b` selects lane by lane, and the compiler maps it all to AVX2 or SSE2.
typedef float Floats __attribute__((vector_size(32)));
typedef std::int32_t Ints __attribute__((vector_size(32)));
typedef std::uint32_t Bits __attribute__((vector_size(32)));
constexpr std::size_t kLanes = sizeof(Floats) / sizeof(float);

[[gnu::always_inline]] inline Floats load(const float* values) {
  Floats lanes;
  std::memcpy(&lanes, values, sizeof lanes);
  return lanes;
}

[[gnu::always_inline]] inline float lane_sum(const Floats& lanes) {
  float sum = 0;
  for (std::size_t j = 0; j < kLanes; ++j) sum += lanes[j];
  return sum;
}

// e^v for v <= 0 (shifted logits), to ~3e-7 relative (the float32 ulp is 6e-8), after Cephes expf:
// v = k ln2 + r with k an integer and |r| <= ln2 / 2, e^r by a degree-7 polynomial, 2^k written
// straight into a float's exponent bits. Below e^-87.33 (no longer a normal float) the result is
// 0; NaN stays NaN.
[[gnu::always_inline]] inline Floats exp_nonpositive(Floats v) {
  const Ints underflow = v < -87.33f;
  v = underflow ? Floats{} - 87.33f : v;
  const Floats k = (v * 1.44269504088896341f + 12582912.0f) - 12582912.0f;  // round to nearest
  const Floats r = (v - k * 0.693359375f) + k * 2.12194440e-4f;             // ln2 in two parts
  Floats p = r * 1.9875691500e-4f + 1.3981999507e-3f;
  p = p * r + 8.3334519073e-3f;
  p = p * r + 4.1665795894e-2f;
  p = p * r + 1.6666665459e-1f;
  p = p * r + 5.0000001201e-1f;
  p = p * r * r + r + 1.0f;
  const Bits exponent_bits = __builtin_convertvector(__builtin_convertvector(k, Ints) + 127, Bits) << 23;
  Floats power_of_two;
  std::memcpy(&power_of_two, &exponent_bits, sizeof power_of_two);
  return underflow ? Floats{} : p * power_of_two;
}

// Phi(x) = P(X <= x) for a standard normal X: Phi(x) = erfc(-x / sqrt 2) / 2, with erfc from a
// Chebyshev fit whose relative error is below 1.2e-7 for every z >= 0, so that the far negative
// tail, where Phi is tiny, keeps its digits (an absolute fit of erf would not):
//   erfc(z) = t e^(P(t) - z^2),  t = 1 / (1 + z / 2),  P a degree-9 polynomial,
// and erfc(-z) = 2 - erfc(z). NaN stays NaN; Phi(inf) = 1, Phi(-inf) = 0.
[[gnu::always_inline]] inline Floats normal_cdf(Floats x) {
  const Ints negative = x < 0.0f;
  Floats z = (negative ? -x : x) * 0.70710678118654752f;
  // erfc(10) = 2e-45 is below every float: larger z (and infinities, for which the split below would
  // give inf - inf) change nothing. NaN compares false and stays NaN.
  z = z > 10.0f ? Floats{} + 10.0f : z;
  const Floats t = 1.0f / (1.0f + 0.5f * z);
  Floats p = t * 0.17087277f - 0.82215223f;
  p = p * t + 1.48851587f;
  p = p * t - 1.13520398f;
  p = p * t + 0.27886807f;
  p = p * t - 0.18628806f;
  p = p * t + 0.09678418f;
  p = p * t + 0.37409196f;
  p = p * t + 1.00002368f;
  p = p * t - 1.26551223f;
  // e^(P - z^2) as e^(-h^2) e^(P - (z - h)(z + h)), with h = z with its low 12 bits cleared: h^2 is
  // exact in float, so the large part of the exponent is not rounded (rounding -z^2 itself would
  // cost the tail several digits, 7.6e-6 of relative error at z = 8.5).
  Bits bits;
  std::memcpy(&bits, &z, sizeof bits);
  bits &= 0xFFFFF000u;
  Floats h;
  std::memcpy(&h, &bits, sizeof h);
  Floats rest = p - (z - h) * (z + h);
  rest = rest > 0.0f ? Floats{} : rest;  // rounding at z = 0 must not leave exp's domain
  const Floats half_erfc = 0.5f * t * exp_nonpositive(-(h * h)) * exp_nonpositive(rest);
  return negative ? half_erfc : 1.0f - half_erfc;
}

// d gelu(v) = Phi(v) + v phi(v)
[[gnu::always_inline]] inline Floats gelu_derivative(Floats v) {
  const Floats density = 0.39894228040143267794f * exp_nonpositive(-0.5f * v * v);
  return normal_cdf(v) + v * density;
}

// The lanes of x[0..size) (size < kLanes) with zeros after them, so a row's last few elements go
// through the same arithmetic as the rest.
[[gnu::always_inline]] inline Floats load_partial(const float* values, std::size_t size) {
  Floats lanes = {};
  std::memcpy(&lanes, values, size * sizeof(float));
  return lanes;
}

}  // namespace

XGRAD_CLONES_V4 void gelu(const float* x, std::size_t size, float* out) {
  std::size_t c = 0;
  for (; c + kLanes <= size; c += kLanes) {
    const Floats v = load(x + c);
    const Floats y = v * normal_cdf(v);
    std::memcpy(out + c, &y, sizeof y);
  }
  if (c < size) {
    const Floats v = load_partial(x + c, size - c);
    const Floats y = v * normal_cdf(v);
    std::memcpy(out + c, &y, (size - c) * sizeof(float));
  }
}

XGRAD_CLONES_V4 void gelu_backward(const float* grad, const float* x, std::size_t size, float* out) {
  std::size_t c = 0;
  for (; c + kLanes <= size; c += kLanes) {
    const Floats d = load(grad + c) * gelu_derivative(load(x + c));
    std::memcpy(out + c, &d, sizeof d);
  }
  if (c < size) {
    const Floats d = load_partial(grad + c, size - c) * gelu_derivative(load_partial(x + c, size - c));
    std::memcpy(out + c, &d, (size - c) * sizeof(float));
  }
}

XGRAD_CLONES_V4 float max_of(const float* x, std::size_t size) {
  float best = -std::numeric_limits<float>::infinity();
  std::size_t c = 0;
  if (size >= kLanes) {
    Floats lanes = load(x);
    for (c = kLanes; c + kLanes <= size; c += kLanes) {
      const Floats next = load(x + c);
      lanes = next > lanes ? next : lanes;
    }
    for (std::size_t j = 0; j < kLanes; ++j) best = std::max(best, lanes[j]);
  }
  for (; c < size; ++c) best = std::max(best, x[c]);
  return best;
}

XGRAD_CLONES_V4 float exp_sum(const float* x, std::size_t size, float shift) {
  Floats lanes = {};
  std::size_t c = 0;
  for (; c + kLanes <= size; c += kLanes) lanes += exp_nonpositive(load(x + c) - shift);
  float sum = lane_sum(lanes);
  for (; c < size; ++c) sum += std::exp(x[c] - shift);
  return sum;
}

XGRAD_CLONES_V4 float store_exp_sum(const float* x, std::size_t size, float shift, float* out) {
  Floats lanes = {};
  std::size_t c = 0;
  for (; c + kLanes <= size; c += kLanes) {
    const Floats e = exp_nonpositive(load(x + c) - shift);
    lanes += e;
    std::memcpy(out + c, &e, sizeof e);
  }
  float sum = lane_sum(lanes);
  for (; c < size; ++c) {
    out[c] = std::exp(x[c] - shift);
    sum += out[c];
  }
  return sum;
}

// A product below the smallest normal float is written as 0 instead of being computed: on x86 an
// instruction that produces a subnormal float takes a microcode assist of some hundred cycles, and
// with logits straight out of a matmul (spread over +-50 or more) and a mean's factor of 1/N, most of
// a row would (a 2.5x slower backward, measured).
XGRAD_CLONES_V4 void store_scaled_exp(const float* x, std::size_t size, float shift, float factor, float* out) {
  const float smallest_kept = std::numeric_limits<float>::min() / std::abs(factor);  // inf for factor 0
  std::size_t c = 0;
  for (; c + kLanes <= size; c += kLanes) {
    Floats e = exp_nonpositive(load(x + c) - shift);
    e = e < smallest_kept ? Floats{} : e;
    const Floats scaled = factor * e;
    std::memcpy(out + c, &scaled, sizeof scaled);
  }
  for (; c < size; ++c) out[c] = factor * std::exp(x[c] - shift);
}

XGRAD_CLONES_V4 float sum(const float* x, std::size_t size) {
  // Four running sums: one would wait on each addition before the next (a chain of dependent adds).
  Floats lanes[4] = {};
  std::size_t c = 0;
  for (; c + 4 * kLanes <= size; c += 4 * kLanes)
    for (std::size_t k = 0; k < 4; ++k) lanes[k] += load(x + c + k * kLanes);
  for (; c + kLanes <= size; c += kLanes) lanes[0] += load(x + c);
  float total = lane_sum((lanes[0] + lanes[1]) + (lanes[2] + lanes[3]));
  for (; c < size; ++c) total += x[c];
  return total;
}

XGRAD_CLONES_V4 float shifted_dot(const float* x, const float* w, std::size_t size, float shift) {
  Floats lanes = {};
  std::size_t c = 0;
  for (; c + kLanes <= size; c += kLanes) lanes += w ? load(w + c) * (load(x + c) - shift) : load(x + c) - shift;
  float sum = lane_sum(lanes);
  for (; c < size; ++c) sum += (w ? w[c] : 1.0f) * (x[c] - shift);
  return sum;
}

}  // namespace xgrad::simd_rows

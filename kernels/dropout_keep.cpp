#include <xgrad/kernels/dropout_keep.hpp>

#include <cmath>

#include <xgrad/core/factory.hpp>
#include <xgrad/kernels/cpu_clones.hpp>

namespace xgrad::dropout_keep {

namespace {

// Written as one branch-free expression per element, so that the compiler computes eight positions
// per AVX-512 vector (its 64-bit multiplies) where the CPU has them.
template <class T>
inline void fill_elements(const Rule& rule, std::uint64_t first, std::size_t count, T scale, T* out) {
  const std::uint64_t seed = rule.seed, threshold = rule.threshold;
  for (std::size_t k = 0; k < count; ++k) out[k] = (bits(seed, first + k) >> 32) < threshold ? scale : T(0);
}

}  // namespace

Rule Rule::draw(double keep) {
  Rule rule;
  random_words(&rule.seed, 1);
  rule.threshold = static_cast<std::uint64_t>(std::ldexp(keep, 32));
  return rule;
}

XGRAD_CLONES_V4 void fill(const Rule& rule, std::uint64_t first, std::size_t count, float scale, float* out) {
  fill_elements(rule, first, count, scale, out);
}

XGRAD_CLONES_V4 void fill(const Rule& rule, std::uint64_t first, std::size_t count, double scale, double* out) {
  fill_elements(rule, first, count, scale, out);
}

}  // namespace xgrad::dropout_keep

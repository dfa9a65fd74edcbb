#pragma once
// Library-internal: dropout's keep-or-drop decisions, for ops/dropout.cpp and ops/attention.cpp.
//
// A mask is a seed, drawn once from manual_seed's generator, and a counter: element i is kept when
// the high 32 bits of SplitMix64's output at position i (its finaliser applied to
// seed + (i + 1) * 0x9e3779b97f4a7c15) fall below keep * 2^32. Each decision depends only on the seed
// and the element's position, not on the decisions before it, so a mask can be made in blocks on
// any number of threads with one result, and a fused kernel's backward (attention) can make its
// forward's decisions again instead of storing them. PyTorch's CPU bernoulli likewise draws one seed
// for the streams its threads skip ahead in, and FlashAttention keeps a seed and an offset.
#include <cstddef>
#include <cstdint>

namespace xgrad::dropout_keep {

struct Rule {
  std::uint64_t seed = 0;
  std::uint64_t threshold = 0;  // keep * 2^32: the 32 bits an element is kept below

  // The rule for keep probability `keep` in [0, 1], with a seed from manual_seed's generator.
  static Rule draw(double keep);
};

// SplitMix64's output at `index`: each bit is 0 or 1 with probability 1/2, independently of the
// neighbouring positions'.
inline std::uint64_t bits(std::uint64_t seed, std::uint64_t index) {
  std::uint64_t z = seed + (index + 1) * 0x9e3779b97f4a7c15ull;
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
  return z ^ (z >> 31);
}

inline bool keeps(const Rule& rule, std::uint64_t index) { return (bits(rule.seed, index) >> 32) < rule.threshold; }

// out[k] = keeps(rule, first + k) ? scale : 0, for k in [0, count).
void fill(const Rule& rule, std::uint64_t first, std::size_t count, float scale, float* out);
void fill(const Rule& rule, std::uint64_t first, std::size_t count, double scale, double* out);

}  // namespace xgrad::dropout_keep

// SequentialSampler and RandomSampler: libtorch's reset/next protocol, manual_seed reproducibility.
#include <gtest/gtest.h>

#include <xgrad/xgrad.hpp>

#include <algorithm>
#include <numeric>

#include "compare.hpp"

namespace {

namespace samplers = xgrad::data::samplers;
using Indices = std::vector<size_t>;

template <class Sampler>
Indices epoch(Sampler& sampler, size_t batch_size) {
  Indices all;
  while (auto batch = sampler.next(batch_size)) {
    EXPECT_LE(batch->size(), batch_size);
    all.insert(all.end(), batch->begin(), batch->end());
  }
  return all;
}

TEST(Samplers, SequentialGivesTheIndicesInOrder) {
  samplers::SequentialSampler sampler(5);
  EXPECT_EQ(sampler.next(2).value(), (Indices{0, 1}));
  EXPECT_EQ(sampler.next(2).value(), (Indices{2, 3}));
  EXPECT_EQ(sampler.next(2).value(), (Indices{4}));
  EXPECT_FALSE(sampler.next(2).has_value());
  EXPECT_EQ(sampler.index(), 5u);
  sampler.reset();
  EXPECT_EQ(sampler.next(10).value(), (Indices{0, 1, 2, 3, 4}));
  sampler.reset(2);
  EXPECT_EQ(epoch(sampler, 1), (Indices{0, 1}));
}

TEST(Samplers, RandomIsAPermutationEachEpoch) {
  samplers::RandomSampler sampler(50);
  Indices first = epoch(sampler, 8);
  Indices sorted = first;
  std::sort(sorted.begin(), sorted.end());
  Indices expected(50);
  std::iota(expected.begin(), expected.end(), 0);
  EXPECT_EQ(sorted, expected);
  sampler.reset();
  const Indices second = epoch(sampler, 8);
  EXPECT_NE(first, second);  // a fresh permutation
  sampler.reset(3);
  EXPECT_EQ(epoch(sampler, 8).size(), 3u);
  samplers::RandomSampler empty(0);
  EXPECT_FALSE(empty.next(4).has_value());
}

TEST(Samplers, RandomFollowsManualSeed) {
  xgrad::manual_seed(42);
  samplers::RandomSampler a(30);
  const Indices a1 = epoch(a, 7);
  a.reset();
  const Indices a2 = epoch(a, 7);
  xgrad::manual_seed(42);
  samplers::RandomSampler b(30);
  EXPECT_EQ(epoch(b, 7), a1);
  b.reset();
  EXPECT_EQ(epoch(b, 7), a2);
  // The permutation is randperm's, drawn from the same global generator.
  xgrad::manual_seed(42);
  const std::vector<std::int64_t> perm = xgrad::randperm(30).to_vector<std::int64_t>();
  EXPECT_EQ(a1, Indices(perm.begin(), perm.end()));
}

TEST(Samplers, RandomRejectsANegativeSize) {
  EXPECT_TRUE(xgrad::testing::throws_error_containing([] { samplers::RandomSampler(-1); },
                                                      {"RandomSampler", "non-negative", "-1"}));
}

}  // namespace

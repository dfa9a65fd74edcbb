// kernels/simd_rows' sum against a double-precision sum: every length from 0 to 200 (empty rows,
// partial vectors and partial groups of four vectors) and one long row, with every element counted
// once.
#include <gtest/gtest.h>

#include <cmath>
#include <vector>

#include <xgrad/kernels/simd_rows.hpp>

namespace xgrad::simd_rows {
namespace {

TEST(RowSums, EveryLengthCountsEachElementOnce) {
  std::vector<float> row;
  for (int i = 0; i < 4096; ++i) row.push_back(static_cast<float>((i * 37) % 101) / 8.0f - 6.0f);
  const auto exact = [&](std::size_t length) {
    double total = 0;
    for (std::size_t i = 0; i < length; ++i) total += row[i];
    return total;
  };
  // Multiples of 1/8 below 2^20: every partial sum is exact in float32, so any order gives the exact
  // total and an element dropped or added twice shows.
  for (std::size_t length = 0; length <= 200; ++length)
    ASSERT_EQ(static_cast<double>(sum(row.data(), length)), exact(length)) << "length " << length;
  EXPECT_EQ(static_cast<double>(sum(row.data(), row.size())), exact(row.size()));
}

TEST(RowSums, NaNAndInfinityPropagate) {
  std::vector<float> row(70, 1.0f);
  row[69] = std::nanf("");
  EXPECT_TRUE(std::isnan(sum(row.data(), row.size())));
  row[69] = 1.0f;
  row[3] = INFINITY;
  EXPECT_EQ(sum(row.data(), row.size()), INFINITY);
}

}  // namespace
}  // namespace xgrad::simd_rows

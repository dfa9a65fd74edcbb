// The c10 utilities libtorch programs use: irange, str, ArrayRef, optional.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include <xgrad/xgrad.hpp>

#include "compare.hpp"

namespace xgrad {
namespace {

using testing::throws_error_containing;

TEST(Utility, IrangeCountsInTheTypeOfItsEnd) {
  std::vector<std::int64_t> seen;
  for (const auto i : irange(std::int64_t{3})) {
    static_assert(std::is_same_v<decltype(i), const std::int64_t>);
    seen.push_back(i);
  }
  EXPECT_EQ(seen, (std::vector<std::int64_t>{0, 1, 2}));
  seen.clear();
  for (const auto i : irange(2, 5)) seen.push_back(i);
  EXPECT_EQ(seen, (std::vector<std::int64_t>{2, 3, 4}));
  int count = 0;
  for (const auto i : irange(-2)) count += i + 1;  // an end before the start gives nothing
  for (const auto i : irange(4, 1)) count += i + 1;
  EXPECT_EQ(count, 0);
}

TEST(Utility, StrStreamsEveryArgument) {
  EXPECT_EQ(str("size ", 3, " of ", IntArrayRef({2, 3})), "size 3 of [2, 3]");
  EXPECT_EQ(str(), "");
  const optional<std::int64_t> dim = nullopt;
  EXPECT_FALSE(dim.has_value());
}

TEST(Utility, ArrayRefViewsWithoutCopying) {
  const std::vector<double> values{1.5, 2.5, 3.5};
  const ArrayRef<double> view(values);
  EXPECT_EQ(view.data(), values.data());
  EXPECT_EQ(view.size(), 3u);
  EXPECT_EQ(view.slice(1).vec(), (std::vector<double>{2.5, 3.5}));
  EXPECT_TRUE(view.equals({1.5, 2.5, 3.5}));
  EXPECT_TRUE(throws_error_containing([&] { view.at(3); }, {"ArrayRef", "index 3", "length 3"}));
  EXPECT_TRUE(throws_error_containing([&] { view.slice(2, 2); }, {"ArrayRef::slice", "length 3"}));
  EXPECT_EQ(tensor(view).to_vector<float>(), (std::vector<float>{1.5f, 2.5f, 3.5f}));
}

}  // namespace
}  // namespace xgrad

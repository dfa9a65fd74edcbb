// OrderedDict: insertion order, lookup by key and by position, and the errors libtorch's raises.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "compare.hpp"

namespace xgrad {
namespace {

using testing::throws_error_containing;

OrderedDict<std::string, int> three() {
  OrderedDict<std::string, int> dict;
  dict.insert("c", 3);
  dict.insert("a", 1);
  dict.insert("b", 2);
  return dict;
}

TEST(OrderedDict, KeepsInsertionOrder) {
  const auto dict = three();
  EXPECT_EQ(dict.size(), 3u);
  EXPECT_FALSE(dict.is_empty());
  EXPECT_EQ(dict.keys(), (std::vector<std::string>{"c", "a", "b"}));
  EXPECT_EQ(dict.values(), (std::vector<int>{3, 1, 2}));
  std::vector<std::string> walked;
  for (const auto& item : dict) walked.push_back(item.key() + "=" + std::to_string(item.value()));
  EXPECT_EQ(walked, (std::vector<std::string>{"c=3", "a=1", "b=2"}));
  ASSERT_EQ(dict.items().size(), 3u);
  EXPECT_EQ(dict.items()[1].key(), "a");
  EXPECT_EQ(dict.front().key(), "c");
  EXPECT_EQ(dict.back().value(), 2);
  EXPECT_EQ(dict.pairs()[2], (std::pair<std::string, int>{"b", 2}));
}

TEST(OrderedDict, ItemsUnpackInARangeFor) {
  auto dict = three();
  std::string keys;
  int total = 0;
  for (const auto& [key, value] : dict) {
    keys += key;
    total += value;
  }
  EXPECT_EQ(keys, "cab");
  EXPECT_EQ(total, 6);
  for (auto& item : dict) *item *= 10;  // operator* reaches the value, as in libtorch
  EXPECT_EQ(dict["a"], 10);
}

TEST(OrderedDict, LooksUpByKeyAndByPosition) {
  auto dict = three();
  EXPECT_TRUE(dict.contains("a"));
  EXPECT_FALSE(dict.contains("z"));
  ASSERT_NE(dict.find("b"), nullptr);
  EXPECT_EQ(*dict.find("b"), 2);
  EXPECT_EQ(dict.find("z"), nullptr);
  EXPECT_EQ(dict["c"], 3);
  EXPECT_EQ(dict[0].key(), "c");
  EXPECT_EQ(dict[2].value(), 2);
  dict["a"] = 7;
  *dict.find("b") = 8;
  EXPECT_EQ(dict.values(), (std::vector<int>{3, 7, 8}));
}

TEST(OrderedDict, BadKeysAndPositionsAreErrors) {
  auto dict = three();
  EXPECT_TRUE(throws_error_containing([&] { dict.insert("a", 5); }, {"'a'", "already defined"}));
  EXPECT_EQ(dict.size(), 3u);
  EXPECT_EQ(dict["a"], 1);
  EXPECT_TRUE(throws_error_containing([&] { dict["zebra"]; }, {"'zebra'", "not defined"}));
  EXPECT_TRUE(throws_error_containing([&] { dict[3]; }, {"index 3", "out of bounds", "3 items"}));
  EXPECT_TRUE(throws_error_containing([&] { dict.erase("zebra"); }, {"'zebra'"}));
  OrderedDict<std::string, int> empty;
  EXPECT_TRUE(empty.is_empty());
  EXPECT_TRUE(throws_error_containing([&] { empty.front(); }, {"Called front() on an empty OrderedDict"}));
  // The description names what the keys are, as named_parameters()'s dict does.
  OrderedDict<std::string, int> parameters("Parameter");
  EXPECT_TRUE(throws_error_containing([&] { parameters["fc.weight"]; }, {"Parameter 'fc.weight' is not defined"}));
}

TEST(OrderedDict, EraseUpdateAndClear) {
  auto dict = three();
  dict.erase("c");
  EXPECT_EQ(dict.keys(), (std::vector<std::string>{"a", "b"}));
  EXPECT_EQ(dict["b"], 2);  // the index followed the shift
  dict.update(OrderedDict<std::string, int>{{"d", 4}, {"e", 5}});
  EXPECT_EQ(dict.keys(), (std::vector<std::string>{"a", "b", "d", "e"}));
  EXPECT_TRUE(throws_error_containing([&] { dict.update(three()); }, {"already defined"}));
  dict.clear();
  EXPECT_TRUE(dict.is_empty());
  EXPECT_FALSE(dict.contains("a"));
}

TEST(OrderedDict, CopiesAreIndependent) {
  auto dict = three();
  auto copy = dict;
  copy["a"] = 100;
  copy.insert("z", 26);
  EXPECT_EQ(dict["a"], 1);
  EXPECT_FALSE(dict.contains("z"));
  EXPECT_EQ(copy["z"], 26);
}

}  // namespace
}  // namespace xgrad

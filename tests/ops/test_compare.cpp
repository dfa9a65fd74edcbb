// Comparisons: eq ne lt le gt ge and their operators against PyTorch's fixtures (every dtype,
// promotion between dtypes, NaN, broadcasting, scalars on either side), their kBool results, that
// they never carry gradients, and their error messages.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <limits>
#include <string>
#include <utility>
#include <vector>

#include "compare.hpp"
#include "golden.hpp"

namespace xgrad {
namespace {

using testing::all_close;
using testing::throws_error_containing;

std::vector<bool> truths(const Tensor& t) {
  EXPECT_EQ(t.dtype(), kBool);
  const bool* data = t.data<bool>();
  return std::vector<bool>(data, data + t.numel());
}

Tensor compare_tensors(const std::string& fn, const Tensor& a, const Tensor& b) {
  if (fn == "eq") return eq(a, b);
  if (fn == "ne") return ne(a, b);
  if (fn == "lt") return lt(a, b);
  if (fn == "le") return le(a, b);
  if (fn == "gt") return gt(a, b);
  return ge(a, b);
}

Tensor compare_scalar(const std::string& fn, const Tensor& a, const Scalar& b) {
  if (fn == "eq") return eq(a, b);
  if (fn == "ne") return ne(a, b);
  if (fn == "lt") return lt(a, b);
  if (fn == "le") return le(a, b);
  if (fn == "gt") return gt(a, b);
  return ge(a, b);
}

// The same comparison through the operator, and through the operator with the operands swapped.
Tensor compare_by_operator(const std::string& fn, const Tensor& a, const Tensor& b) {
  if (fn == "eq") return a == b;
  if (fn == "ne") return a != b;
  if (fn == "lt") return a < b;
  if (fn == "le") return a <= b;
  if (fn == "gt") return a > b;
  return a >= b;
}
Tensor compare_swapped(const std::string& fn, const Scalar& s, const Tensor& t) {
  // t OP s written as s MIRROR(OP) t.
  if (fn == "eq") return s == t;
  if (fn == "ne") return s != t;
  if (fn == "lt") return s > t;
  if (fn == "le") return s >= t;
  if (fn == "gt") return s < t;
  return s <= t;
}

class CompareFixtures : public ::testing::TestWithParam<const char*> {};

TEST_P(CompareFixtures, MatchPyTorchForEveryDtypeAndScalarKind) {
  const std::string fn = GetParam();
  const auto cases = testing::golden_cases("math.json", fn);
  ASSERT_EQ(cases.size(), 31u);
  for (const auto& fixture : cases) {
    SCOPED_TRACE(fixture.at("name").get<std::string>());
    const Tensor a = testing::golden_tensor(fixture.at("inputs")[0]);
    const Tensor expected = testing::golden_tensor(fixture.at("output"));
    if (fixture.at("inputs").size() == 2) {
      const Tensor b = testing::golden_tensor(fixture.at("inputs")[1]);
      EXPECT_TRUE(all_close(compare_tensors(fn, a, b), expected, 0, 0));
      EXPECT_TRUE(all_close(compare_by_operator(fn, a, b), expected, 0, 0));
    } else {
      const Scalar s = testing::golden_scalar(fixture.at("args").at("other"));
      EXPECT_TRUE(all_close(compare_scalar(fn, a, s), expected, 0, 0));
      EXPECT_TRUE(all_close(compare_swapped(fn, s, a), expected, 0, 0));
    }
  }
}

INSTANTIATE_TEST_SUITE_P(MathJson, CompareFixtures, ::testing::Values("eq", "ne", "lt", "le", "gt", "ge"));

TEST(Compare, OperatorsGiveBoolTensorsOfTheBroadcastShape) {
  const Tensor a = tensor({{1.0, 2.0, 3.0}, {4.0, 5.0, 6.0}}, kFloat64);
  const Tensor row = tensor({1.0, 5.0, 3.0}, kFloat64);
  const Tensor equal = a == row;
  EXPECT_EQ(equal.dtype(), kBool);
  EXPECT_EQ(equal.shape(), (Shape{2, 3}));
  EXPECT_EQ(truths(equal), (std::vector<bool>{true, false, true, false, true, false}));
  EXPECT_EQ(truths(a != row), (std::vector<bool>{false, true, false, true, false, true}));
  EXPECT_EQ(truths(a < row), (std::vector<bool>{false, true, false, false, false, false}));
  EXPECT_EQ(truths(a <= row), (std::vector<bool>{true, true, true, false, true, false}));
  EXPECT_EQ(truths(a > row), (std::vector<bool>{false, false, false, true, false, true}));
  EXPECT_EQ(truths(a >= row), (std::vector<bool>{true, false, true, true, true, true}));
}

TEST(Compare, ScalarsOfAnyArithmeticTypeOnEitherSide) {
  const Tensor x = tensor({1.0f, 2.0f, 3.0f});
  EXPECT_EQ(truths(x > 2), (std::vector<bool>{false, false, true}));
  EXPECT_EQ(truths(x >= 2.0), (std::vector<bool>{false, true, true}));
  EXPECT_EQ(truths(x < 2.5f), (std::vector<bool>{true, true, false}));
  EXPECT_EQ(truths(x == std::int64_t{3}), (std::vector<bool>{false, false, true}));
  EXPECT_EQ(truths(x != std::size_t{1}), (std::vector<bool>{false, true, true}));
  EXPECT_EQ(truths(2 < x), (std::vector<bool>{false, false, true}));
  EXPECT_EQ(truths(2.0 >= x), (std::vector<bool>{true, true, false}));
  EXPECT_EQ(truths(1 == x), (std::vector<bool>{true, false, false}));
  // The Scalar that item() returns compares too.
  const Scalar two = tensor(2.0, kFloat64).item();
  EXPECT_EQ(truths(x <= two), (std::vector<bool>{true, true, false}));
  EXPECT_EQ(truths(two != x), (std::vector<bool>{true, false, true}));
}

TEST(Compare, NaNIsUnequalToEverything) {
  const double nan = std::nan("");
  const Tensor x = tensor({nan, 1.0}, kFloat64);
  EXPECT_EQ(truths(x == x), (std::vector<bool>{false, true}));
  EXPECT_EQ(truths(x != x), (std::vector<bool>{true, false}));
  EXPECT_EQ(truths(x < nan), (std::vector<bool>{false, false}));
  EXPECT_EQ(truths(x >= x), (std::vector<bool>{false, true}));
}

TEST(Compare, MixedDtypesPromoteAsPyTorch) {
  // int64 against float32 compares in float32, where 16777217 rounds to 16777216.
  EXPECT_EQ(truths(tensor({16777217, 3}) == tensor({16777216.0f, 3.5f})), (std::vector<bool>{true, false}));
  // Against float64 the int64 is exact.
  EXPECT_EQ(truths(tensor({16777217, 3}) == tensor({16777216.0, 3.0}, kFloat64)), (std::vector<bool>{false, true}));
  EXPECT_EQ(truths(tensor({1, 2, 3}) < 2.5), (std::vector<bool>{true, true, false}));
  EXPECT_EQ(truths(tensor({true, false}) == tensor({1, 1})), (std::vector<bool>{true, false}));
  // A float32 tensor compares with a double scalar in float32, so 0.1f == 0.1 holds, as in PyTorch.
  EXPECT_EQ(truths(tensor({0.1f}) == 0.1), (std::vector<bool>{true}));
  EXPECT_EQ(truths(tensor({0.1f}) == tensor({0.1}, kFloat64)), (std::vector<bool>{false}));
  // A uint8 tensor takes an integer scalar in uint8: -1 is 255.
  EXPECT_EQ(truths(full({2}, 255, kUInt8) == -1), (std::vector<bool>{true, true}));
  EXPECT_EQ(truths(zeros({1}, kUInt8) < -1), (std::vector<bool>{true}));
}

TEST(Compare, MasksCountAndSelect) {
  // The usual accuracy computation: predictions equal to labels, counted.
  const Tensor predicted = tensor({1, 0, 2, 2});
  const Tensor labels = tensor({1, 1, 2, 0});
  const Tensor correct = sum(predicted == labels);
  EXPECT_EQ(correct.dtype(), kInt64);
  EXPECT_EQ(correct.item<std::int64_t>(), 2);
  EXPECT_TRUE(all(labels == labels).item<bool>());
  EXPECT_FALSE(all(labels == predicted).item<bool>());
}

TEST(Compare, ResultsNeverRequireGrad) {
  Tensor x = tensor({1.0, -1.0}, kFloat64).requires_grad_();
  const Tensor positive = x > 0;
  EXPECT_FALSE(positive.requires_grad());
  EXPECT_EQ(positive.grad_fn(), nullptr);
  EXPECT_FALSE(eq(x, x).requires_grad());
  EXPECT_FALSE((x.to(kFloat32) < x).requires_grad());
}

TEST(Compare, TensorMethods) {
  const Tensor x = tensor({1, 2, 3});
  const Tensor y = tensor({3, 2, 1});
  EXPECT_EQ(truths(x.eq(y)), (std::vector<bool>{false, true, false}));
  EXPECT_EQ(truths(x.ne(y)), (std::vector<bool>{true, false, true}));
  EXPECT_EQ(truths(x.lt(y)), (std::vector<bool>{true, false, false}));
  EXPECT_EQ(truths(x.le(y)), (std::vector<bool>{true, true, false}));
  EXPECT_EQ(truths(x.gt(y)), (std::vector<bool>{false, false, true}));
  EXPECT_EQ(truths(x.ge(y)), (std::vector<bool>{false, true, true}));
  EXPECT_EQ(truths(x.eq(2)), (std::vector<bool>{false, true, false}));
  EXPECT_EQ(truths(x.ne(2)), (std::vector<bool>{true, false, true}));
  EXPECT_EQ(truths(x.lt(2)), (std::vector<bool>{true, false, false}));
  EXPECT_EQ(truths(x.le(2)), (std::vector<bool>{true, true, false}));
  EXPECT_EQ(truths(x.gt(2)), (std::vector<bool>{false, false, true}));
  EXPECT_EQ(truths(x.ge(2.5)), (std::vector<bool>{false, false, true}));
}

TEST(Compare, ZeroDimAndEmptyTensors) {
  EXPECT_EQ((tensor(2.0, kFloat64) == tensor(2.0, kFloat64)).shape(), Shape{});
  EXPECT_TRUE((tensor(2.0, kFloat64) == 2).item<bool>());
  EXPECT_EQ((zeros({0, 3}) < ones({3})).shape(), (Shape{0, 3}));
}

TEST(CompareErrors, MismatchedShapesNameTheOpAndBothShapes) {
  const Tensor a = ones({2, 3}), b = ones({4});
  EXPECT_TRUE(throws_error_containing([&] { eq(a, b); }, {"eq", "[2, 3]", "[4]"}));
  EXPECT_TRUE(throws_error_containing([&] { static_cast<void>(a != b); }, {"ne", "[2, 3]", "[4]"}));
  EXPECT_TRUE(throws_error_containing([&] { static_cast<void>(a < b); }, {"lt", "[2, 3]", "[4]"}));
  EXPECT_TRUE(throws_error_containing([&] { static_cast<void>(a <= b); }, {"le", "[2, 3]", "[4]"}));
  EXPECT_TRUE(throws_error_containing([&] { static_cast<void>(b > a); }, {"gt", "[4]", "[2, 3]"}));
  EXPECT_TRUE(throws_error_containing([&] { b.ge(a); }, {"ge", "[4]", "[2, 3]"}));
}

TEST(CompareErrors, UndefinedOperands) {
  EXPECT_TRUE(throws_error_containing([] { eq(Tensor(), ones({1})); }, {"eq", "undefined"}));
  EXPECT_TRUE(throws_error_containing([] { lt(ones({1}), Tensor()); }, {"lt", "undefined"}));
  EXPECT_TRUE(throws_error_containing([] { static_cast<void>(Tensor() > 1); }, {"gt", "undefined"}));
  EXPECT_TRUE(throws_error_containing([] { static_cast<void>(1 >= Tensor()); }, {"le", "undefined"}));
}

// Values from torch.isclose, torch.allclose and torch.equal on the same inputs.
TEST(Compare, IscloseAllcloseEqualAndClassesAsPyTorch) {
  const double nan = std::numeric_limits<double>::quiet_NaN(), inf = std::numeric_limits<double>::infinity();
  const Tensor a = tensor({1.0, 1.00001, nan, inf, -inf, 1e-9, 2.0}, kFloat64);
  const Tensor b = tensor({1.000001, 1.0, nan, inf, inf, 0.0, 2.1}, kFloat64);
  auto flags = [](const Tensor& t) { return t.to(kLong).to_vector<std::int64_t>(); };
  EXPECT_EQ(flags(isclose(a, b)), (std::vector<std::int64_t>{1, 1, 0, 1, 0, 1, 0}));
  EXPECT_EQ(flags(isclose(a, b, 1e-05, 1e-08, true)), (std::vector<std::int64_t>{1, 1, 1, 1, 0, 1, 0}));
  EXPECT_EQ(flags(a.isclose(b, 0.1)), (std::vector<std::int64_t>{1, 1, 0, 1, 0, 1, 1}));
  EXPECT_EQ(flags(isclose(tensor({1, 2}), tensor({1, 3}))), (std::vector<std::int64_t>{1, 0}));
  EXPECT_TRUE(allclose(a.slice(0, 0, 2), b.slice(0, 0, 2)));
  EXPECT_FALSE(a.allclose(b));
  EXPECT_TRUE(a.allclose(a, 1e-05, 1e-08, true));
  // Broadcasting, as every comparison.
  EXPECT_TRUE(allclose(ones({2, 3}), ones({3})));
  // equal: same sizes and the same values; NaN equals nothing.
  EXPECT_FALSE(equal(a, a));
  EXPECT_TRUE(a.slice(0, 0, 2).equal(a.slice(0, 0, 2)));
  EXPECT_FALSE(equal(tensor({1, 2}), tensor({{1, 2}})));
  EXPECT_TRUE(throws_error_containing([&] { isclose(a, a.to(kFloat32)); }, {"isclose", "same dtype", "float64", "float32"}));
  EXPECT_TRUE(throws_error_containing([&] { isclose(a, a, -1.0); }, {"isclose", "rtol", "-1"}));
  // torch.isfinite, isinf, isnan on the same a: [1, 1.00001, nan, inf, -inf, 1e-9, 2].
  EXPECT_EQ(flags(isfinite(a)), (std::vector<std::int64_t>{1, 1, 0, 0, 0, 1, 1}));
  EXPECT_EQ(flags(a.isinf()), (std::vector<std::int64_t>{0, 0, 0, 1, 1, 0, 0}));
  EXPECT_EQ(flags(isnan(a.to(kFloat32))), (std::vector<std::int64_t>{0, 0, 1, 0, 0, 0, 0}));
  EXPECT_EQ(flags(isfinite(tensor({1, 2}))), (std::vector<std::int64_t>{1, 1}));
  EXPECT_EQ(isinf(tensor({true})).dtype(), kBool);
}

}  // namespace
}  // namespace xgrad

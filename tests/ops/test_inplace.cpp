// In-place ops: values, the leaf rule, the version counter, and how a recorded in-place op moves a
// tensor's history (expected gradients worked out from PyTorch 1.13 runs of the same programs).
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <vector>

#include <xgrad/xgrad.hpp>

#include "compare.hpp"

namespace xgrad {
namespace {

using testing::all_close;
using testing::throws_error_containing;

TEST(InPlace, ArithmeticWritesIntoTheSameStorage) {
  Tensor a = tensor({1.0, 2.0, 3.0}, kFloat64);
  const Tensor alias = a.detach();
  a.add_(tensor({1.0, 1.0, 1.0}, kFloat64)).mul_(2.0).sub_(1.0).div_(tensor({1.0, 3.0, 7.0}, kFloat64));
  EXPECT_TRUE(all_close(alias, tensor({3.0, 5.0 / 3.0, 1.0}, kFloat64), 1e-15, 0.0));
  a.add_(tensor({1.0, 1.0, 1.0}, kFloat64), /*alpha=*/-2.0);
  EXPECT_TRUE(all_close(a, tensor({1.0, -1.0 / 3.0, -1.0}, kFloat64), 1e-15, 0.0));
  a += 1.0;
  a -= tensor({1.0, 1.0, 1.0}, kFloat64);
  a *= 3;
  a /= 3.0;
  EXPECT_TRUE(all_close(a, tensor({1.0, -1.0 / 3.0, -1.0}, kFloat64), 1e-15, 0.0));
}

TEST(InPlace, BroadcastsTheOtherOperandButNeverTheTarget) {
  Tensor a = zeros({2, 3}, kFloat64);
  a.add_(tensor({1.0, 2.0, 3.0}, kFloat64));
  EXPECT_TRUE(all_close(a, tensor({{1.0, 2.0, 3.0}, {1.0, 2.0, 3.0}}, kFloat64), 0.0, 0.0));
  Tensor row = zeros({3}, kFloat64);
  EXPECT_TRUE(throws_error_containing([&] { row.add_(a); }, {"add_", "[2, 3]", "[3]"}));
  EXPECT_TRUE(all_close(row, zeros({3}, kFloat64), 0.0, 0.0));  // nothing half-written
}

TEST(InPlace, EveryOpBumpsTheVersion) {
  Tensor a = zeros({3});
  const Tensor alias = a.detach();
  EXPECT_EQ(a._version(), 0);
  a.add_(1.0);
  a.fill_(2.0);
  a.zero_();
  a.copy_(ones({3}));
  a.uniform_(0.0, 1.0);
  a.normal_();
  EXPECT_EQ(a._version(), 6);
  EXPECT_EQ(alias._version(), 6);  // detach shares the version counter, as in PyTorch
  EXPECT_EQ(a.clone()._version(), 0);
}

TEST(InPlace, OnALeafThatRequiresGradOnlyUnderNoGradGuard) {
  Tensor w = ones({2}).requires_grad_();
  EXPECT_TRUE(throws_error_containing([&] { w.add_(1.0); }, {"add_", "a leaf Variable that requires grad is being used in an in-place operation", "NoGradGuard"}));
  EXPECT_TRUE(throws_error_containing([&] { w *= 2.0; }, {"mul_", "leaf"}));
  EXPECT_TRUE(all_close(w, ones({2}), 0.0, 0.0));
  {
    NoGradGuard no_grad;
    w.sub_(tensor({0.5f, 0.25f}));
  }
  EXPECT_TRUE(all_close(w, tensor({0.5f, 0.75f}), 0.0, 0.0));
  EXPECT_TRUE(w.is_leaf());
  EXPECT_TRUE(w.requires_grad());
  // The engine keeps working after the refused op.
  (w * w).sum().backward();
  EXPECT_TRUE(all_close(w.grad(), tensor({1.0f, 1.5f}), 0.0, 0.0));
}

TEST(InPlace, ModifyingASavedValueMakesBackwardThrow) {
  const Tensor x = tensor({0.5, -1.0, 2.0}, kFloat64).requires_grad_();
  Tensor y = x.exp();
  y.add_(1.0);  // ExpBackward0 saved y
  EXPECT_TRUE(throws_error_containing([&] { y.sum().backward(); },
                                      {"modified by an inplace operation", "ExpBackward0", "version 1",
                                       "expected version 0"}));
  // An op that saved nothing does not care.
  Tensor z = x + 1.0;
  z.mul_(2.0);
  z.sum().backward();
  EXPECT_TRUE(all_close(x.grad(), tensor({2.0, 2.0, 2.0}, kFloat64), 0.0, 0.0));
}

// PyTorch: x = [0.5, -1, 2], w = [3, 4, 5]; h = x * 2; h.mul_(w); h.sum().backward()
// gives x.grad = 2 w = [6, 8, 10] and w.grad = 2 x = [1, -2, 4], and h.grad_fn is MulBackward0.
TEST(InPlace, ARecordedOpMovesTheHistoryAndReadsTheOldValues) {
  const Tensor x = tensor({0.5, -1.0, 2.0}, kFloat64).requires_grad_();
  const Tensor w = tensor({3.0, 4.0, 5.0}, kFloat64).requires_grad_();
  Tensor h = x * 2.0;
  h.mul_(w);
  EXPECT_EQ(std::string(h.grad_fn()->name()), "MulBackward0");
  EXPECT_TRUE(all_close(h, tensor({3.0, -8.0, 20.0}, kFloat64), 0.0, 0.0));
  h.sum().backward();
  EXPECT_TRUE(all_close(x.grad(), tensor({6.0, 8.0, 10.0}, kFloat64), 0.0, 0.0));
  EXPECT_TRUE(all_close(w.grad(), tensor({1.0, -2.0, 4.0}, kFloat64), 0.0, 0.0));
}

TEST(InPlace, ALeafWithoutGradBecomesPartOfTheGraph) {
  const Tensor x = tensor({1.0, 2.0}, kFloat64).requires_grad_();
  Tensor total = zeros({2}, kFloat64);
  total.add_(x).add_(x * x);
  EXPECT_FALSE(total.is_leaf());
  EXPECT_EQ(std::string(total.grad_fn()->name()), "AddBackward0");
  total.sum().backward();
  EXPECT_TRUE(all_close(x.grad(), tensor({3.0, 5.0}, kFloat64), 0.0, 0.0));
}

// PyTorch: x = [-2, 0.5, 3]; h = x * 1; h.clamp_(-1, 1); h.sum().backward() gives x.grad = [0, 1, 0].
TEST(InPlace, ClampReadsTheOldValuesForItsGradient) {
  const Tensor x = tensor({-2.0, 0.5, 3.0}, kFloat64).requires_grad_();
  Tensor h = x * 1.0;
  h.clamp_(-1, 1);
  EXPECT_EQ(std::string(h.grad_fn()->name()), "ClampBackward1");
  EXPECT_EQ(h.to_vector<double>(), (std::vector<double>{-1.0, 0.5, 1.0}));
  h.sum().backward();
  EXPECT_EQ(x.grad().to_vector<double>(), (std::vector<double>{0.0, 1.0, 0.0}));
}

// PyTorch: x = [-2, 0.5, 3]; h = x * 1; h.relu_(); h.sum().backward() gives x.grad = [0, 1, 1] and
// h.grad_fn ReluBackward0, as the out-of-place relu.
TEST(InPlace, Relu) {
  const Tensor x = tensor({-2.0, 0.5, 3.0}, kFloat64).requires_grad_();
  Tensor h = x * 1.0;
  EXPECT_EQ(&h.relu_(), &h);
  EXPECT_EQ(std::string(h.grad_fn()->name()), "ReluBackward0");
  EXPECT_EQ(h.to_vector<double>(), (std::vector<double>{0.0, 0.5, 3.0}));
  EXPECT_EQ(h._version(), 1);
  Tensor g = h * 2.0;
  relu_(g);
  g.sum().backward();
  EXPECT_EQ(x.grad().to_vector<double>(), (std::vector<double>{0.0, 2.0, 2.0}));
  Tensor leaf = x;
  EXPECT_TRUE(throws_error_containing([&] { relu_(leaf); }, {"relu_", "leaf"}));
}

// PyTorch: h = x * 2; h.masked_fill_(h > 1, 0); h.sum().backward() gives x.grad 2 where h <= 1, else 0.
TEST(InPlace, MaskedFill) {
  const Tensor x = tensor({0.25, 1.0, -3.0}, kFloat64).requires_grad_();
  Tensor h = x * 2.0;
  h.masked_fill_(h > 1, 0.0);
  EXPECT_EQ(h.to_vector<double>(), (std::vector<double>{0.5, 0.0, -6.0}));
  EXPECT_EQ(std::string(h.grad_fn()->name()), "MaskedFillBackward0");
  h.sum().backward();
  EXPECT_EQ(x.grad().to_vector<double>(), (std::vector<double>{2.0, 0.0, 2.0}));
  Tensor ints = arange(4);
  ints.masked_fill_(ints.ge(2), -1);
  EXPECT_EQ(ints.to_vector<std::int64_t>(), (std::vector<std::int64_t>{0, 1, -1, -1}));
  EXPECT_TRUE(throws_error_containing([&] { ints.masked_fill_(zeros({3}, kBool), 0); }, {"masked_fill", "[3]"}));
}

TEST(InPlace, FillAndCopy) {
  Tensor a = zeros({2, 2}, kInt64);
  a.fill_(7);
  EXPECT_EQ(a.sum().item<std::int64_t>(), 28);
  a.copy_(tensor({1.5, 2.5}, kFloat64));  // broadcast over rows, converted to int64 (truncated)
  EXPECT_EQ(a.to_vector<std::int64_t>(), (std::vector<std::int64_t>{1, 2, 1, 2}));
  EXPECT_TRUE(throws_error_containing([&] { a.copy_(ones({3})); }, {"[3]", "[2, 2]"}));
  // copy_ from a tensor that requires grad passes the gradient to the source.
  const Tensor src = tensor({1.0, 2.0}, kFloat64).requires_grad_();
  Tensor dst = zeros({2, 2}, kFloat64);
  dst.copy_(src);
  (dst * dst).sum().backward();
  EXPECT_TRUE(all_close(src.grad(), tensor({4.0, 8.0}, kFloat64), 0.0, 0.0));
}

TEST(InPlace, RandomFillsStayInRange) {
  manual_seed(3);
  Tensor u = empty({1000}, kFloat64);
  u.uniform_(-2.0, -1.0);
  const std::vector<double> drawn = u.to_vector<double>();
  const auto [low, high] = std::minmax_element(drawn.begin(), drawn.end());
  EXPECT_GE(*low, -2.0);
  EXPECT_LT(*high, -1.0);
  Tensor n = empty({20000}, kFloat64);
  n.normal_(3.0, 0.5);
  EXPECT_NEAR(n.mean().item<double>(), 3.0, 0.02);
  EXPECT_NEAR(std::sqrt(((n - 3.0) * (n - 3.0)).mean().item<double>()), 0.5, 0.02);
  EXPECT_TRUE(throws_error_containing([&] { n.normal_(0.0, -1.0); }, {"normal_", "-1"}));
  Tensor ints = zeros({2}, kInt64);
  EXPECT_TRUE(throws_error_containing([&] { ints.uniform_(); }, {"uniform", "int64"}));
}

TEST(InPlace, StorageDtypesAreRejectedByArithmetic) {
  Tensor mask = zeros({2}, kBool);
  EXPECT_TRUE(throws_error_containing([&] { mask.add_(1.0); }, {"add", "bool"}));
  mask.fill_(true);
  EXPECT_EQ(mask.sum().item<std::int64_t>(), 2);
}

}  // namespace
}  // namespace xgrad

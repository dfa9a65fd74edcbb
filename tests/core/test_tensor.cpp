// Tensor handle, factories and interop: what a user touches before any op.
#include <gtest/gtest.h>

#include <xtensor/xarray.hpp>

#include "compare.hpp"

namespace xgrad {
namespace {

using testing::throws_error_containing;

TEST(Tensor, NestedListsGiveShapeAndDtype) {
  Tensor a = tensor({{1.0f, 2.0f, 3.0f}, {4.0f, 5.0f, 6.0f}});
  EXPECT_EQ(a.shape(), (Shape{2, 3}));
  EXPECT_EQ(a.dtype(), kFloat32);
  EXPECT_EQ(a.numel(), 6u);
  EXPECT_EQ(a.dim(), 2u);
  EXPECT_EQ(a.size(-1), 3u);
  EXPECT_EQ(a.size(0), 2u);
  EXPECT_TRUE(testing::throws_error_containing([&] { a.size(2); }, {"size", "dim 2", "[2, 3]"}));
  EXPECT_EQ(tensor({1.0, 2.0}).dtype(), kFloat64);
  EXPECT_EQ(tensor({1, 2, 3}).dtype(), kInt64);
  EXPECT_EQ(a.to_vector<float>(), (std::vector<float>{1, 2, 3, 4, 5, 6}));
}

TEST(Tensor, RaggedListIsAnError) {
  EXPECT_TRUE(throws_error_containing([] { tensor({{1.0f, 2.0f}, {3.0f}}); }, {"tensor", "ragged"}));
}

TEST(Tensor, FromAndToXarrayRoundTrip) {
  xt::xarray<double> values{{1.5, -2.0}, {3.25, 4.0}};
  Tensor t = from_xarray(values);
  EXPECT_EQ(t.dtype(), kFloat64);
  EXPECT_EQ(to_xarray<double>(t), values);
  Tensor labels = from_xarray(xt::xarray<std::int64_t>{2, 1});
  EXPECT_EQ(labels.dtype(), kInt64);
  EXPECT_TRUE(throws_error_containing([&] { to_xarray<float>(t); }, {"to_xarray", "float64", "float32"}));
}

TEST(Tensor, FactoriesFillAndSeed) {
  EXPECT_EQ(zeros({2}).to_vector<float>(), (std::vector<float>{0, 0}));
  EXPECT_EQ(ones({2}, kFloat64).to_vector<double>(), (std::vector<double>{1, 1}));
  EXPECT_EQ(full({3}, 0.5).to_vector<float>(), (std::vector<float>{0.5f, 0.5f, 0.5f}));
  EXPECT_EQ(arange(4, kInt64).to_vector<std::int64_t>(), (std::vector<std::int64_t>{0, 1, 2, 3}));
  manual_seed(3);
  const auto first = randn({5}).to_vector<float>();
  manual_seed(3);
  EXPECT_EQ(randn({5}).to_vector<float>(), first);
  for (float u : rand({100}).to_vector<float>()) {
    EXPECT_GE(u, 0.0f);
    EXPECT_LT(u, 1.0f);
  }
}

TEST(Tensor, ItemNeedsExactlyOneElement) {
  EXPECT_EQ(tensor({2.5f}).item<float>(), 2.5f);
  EXPECT_EQ(tensor({7}).item<std::int64_t>(), 7);
  EXPECT_TRUE(throws_error_containing([] { zeros({2, 3}).item<float>(); }, {"item", "[2, 3]"}));
}

TEST(Tensor, Int64CannotRequireGrad) {
  Tensor labels = tensor({1, 2});
  EXPECT_TRUE(throws_error_containing([&] { labels.requires_grad_(); }, {"requires_grad_", "int64"}));
  EXPECT_FALSE(labels.requires_grad());
}

TEST(Tensor, DetachSharesDataButNotGraph) {
  Tensor a = ones({2}).requires_grad_();
  Tensor d = a.detach();
  EXPECT_FALSE(d.requires_grad());
  d.mutable_data<float>()[0] = 5.0f;
  EXPECT_EQ(a.to_vector<float>()[0], 5.0f);
  Tensor c = a.clone();
  c.mutable_data<float>()[0] = 1.0f;
  EXPECT_EQ(a.to_vector<float>()[0], 5.0f);
}

TEST(Tensor, BackwardOnLeafSeedsOnes) {
  Tensor a = full({1}, 3.0, kFloat64).requires_grad_();
  a.backward();
  EXPECT_EQ(a.grad().to_vector<double>(), (std::vector<double>{1.0}));
}

TEST(Tensor, BackwardChecksItsArguments) {
  Tensor plain = ones({2});
  EXPECT_TRUE(throws_error_containing([&] { plain.backward(); }, {"backward", "does not require grad"}));
  Tensor a = ones({2, 3}).requires_grad_();
  EXPECT_TRUE(throws_error_containing([&] { a.backward(); }, {"backward", "one element", "[2, 3]"}));
  EXPECT_TRUE(throws_error_containing([&] { a.backward(ones({3})); }, {"backward", "[3]", "[2, 3]"}));
  EXPECT_TRUE(throws_error_containing([&] { a.backward(ones({2, 3}, kFloat64)); }, {"float64", "float32"}));
  a.backward(ones({2, 3}));  // still works after the errors
  EXPECT_TRUE(a.grad().defined());
}

TEST(Tensor, PrintsLikePyTorch) {
  EXPECT_EQ(tensor({{1.0f, 2.5f}}).to_string(), "tensor([[1, 2.5]])");
  EXPECT_EQ(tensor({1, 2}).to_string(), "tensor([1, 2])");
}

}  // namespace
}  // namespace xgrad

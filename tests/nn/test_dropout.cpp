// Dropout / Dropout2d modules and F::dropout / F::dropout2d: training versus evaluation mode,
// whole channels, in-place forms, options, printing and bad p.
#include <gtest/gtest.h>

#include <vector>

#include "compare.hpp"

namespace xgrad {
namespace {

namespace F = nn::functional;
using testing::all_close;
using testing::printed;
using testing::throws_error_containing;

double fraction_zero(const Tensor& t) {
  std::size_t zeros_seen = 0;
  const std::vector<float> v = t.to_vector<float>();
  for (float value : v) zeros_seen += value == 0.0f;
  return static_cast<double>(zeros_seen) / static_cast<double>(v.size());
}

TEST(DropoutModule, TrainingDropsAndEvalIsTheIdentity) {
  manual_seed(1);
  nn::Dropout drop(0.2);
  const Tensor x = uniform({100, 100}, 1.0, 2.0);
  EXPECT_TRUE(drop->is_training());
  EXPECT_NEAR(fraction_zero(drop(x)), 0.2, 0.02);
  drop->eval();
  const Tensor y = drop(x);
  EXPECT_EQ(y.impl(), x.impl());
  drop->train();
  EXPECT_NEAR(fraction_zero(drop(x)), 0.2, 0.02);
}

TEST(DropoutModule, FollowsItsParentsMode) {
  nn::Sequential net(nn::Linear(4, 4), nn::Dropout(0.5), nn::ReLU());
  net->eval();
  const Tensor x = randn({3, 4});
  EXPECT_TRUE(all_close(net->forward(x), relu(net[0]->as<nn::Linear>()->forward(x)), 0.0, 0.0));
  EXPECT_FALSE(net[1]->is_training());
  EXPECT_TRUE(net->named_parameters().size() == 2u);  // dropout has no parameters
  EXPECT_TRUE(net->named_buffers().is_empty());
}

TEST(DropoutModule, OptionsAndInPlace) {
  manual_seed(2);
  nn::Dropout drop(nn::DropoutOptions().p(0.5).inplace(true));
  EXPECT_EQ(drop->options.p(), 0.5);
  EXPECT_TRUE(drop->options.inplace());
  Tensor x = ones({20, 20});
  const Tensor y = drop(x);
  EXPECT_EQ(x._version(), 1);  // written into x
  EXPECT_TRUE(all_close(y, x, 0.0, 0.0));
  for (float v : x.to_vector<float>()) ASSERT_TRUE(v == 0.0f || v == 2.0f);
  EXPECT_EQ(nn::Dropout()->options.p(), 0.5);
}

TEST(Dropout2dModule, DropsWholeChannelsOfBatchesAndSingleImages) {
  manual_seed(3);
  nn::Dropout2d drop(0.5);
  for (const Shape& shape : {Shape{4, 6, 3, 3}, Shape{6, 3, 3}}) {
    const Tensor x = uniform(shape, 1.0, 2.0);
    const std::vector<float> in = x.to_vector<float>(), out = drop(x).to_vector<float>();
    std::size_t dropped = 0;
    for (std::size_t channel = 0; channel < in.size() / 9; ++channel) {
      const bool zero = out[channel * 9] == 0.0f;
      dropped += zero;
      for (std::size_t k = 0; k < 9; ++k)
        ASSERT_EQ(out[channel * 9 + k], zero ? 0.0f : in[channel * 9 + k] * 2.0f) << shape_str(shape);
    }
    EXPECT_GT(dropped, 0u) << shape_str(shape);
    EXPECT_LT(dropped, in.size() / 9) << shape_str(shape);
  }
  drop->eval();
  const Tensor image = randn({2, 3, 3});
  EXPECT_EQ(drop(image).impl(), image.impl());
}

TEST(Dropout2dModule, GradientOfASingleImageIsItsMask) {
  manual_seed(4);
  const Tensor x = uniform({5, 2, 2}, 1.0, 2.0, kFloat64).requires_grad_();
  const Tensor y = F::dropout2d(x, F::Dropout2dFuncOptions().p(0.4));
  EXPECT_STREQ(y.grad_fn()->name(), "MulBackward0");
  y.sum().backward();
  EXPECT_TRUE(all_close(x.grad(), y.detach() / x.detach(), 1e-15, 0.0));
}

TEST(DropoutFunctional, OptionsReachTheOp) {
  const Tensor x = randn({10, 10});
  manual_seed(5);
  const Tensor a = F::dropout(x, F::DropoutFuncOptions().p(0.3).training(true));
  manual_seed(5);
  EXPECT_TRUE(all_close(a, dropout(x, 0.3, true), 0.0, 0.0));
  EXPECT_EQ(F::dropout(x, F::DropoutFuncOptions().training(false)).impl(), x.impl());
  EXPECT_NEAR(fraction_zero(F::dropout(uniform({100, 100}, 1.0, 2.0))), 0.5, 0.03);  // defaults p 0.5, training
  Tensor y = ones({4, 3, 2, 2});
  F::dropout2d(y, F::Dropout2dFuncOptions().p(0.5).inplace(true));
  EXPECT_EQ(y._version(), 1);
}

TEST(DropoutModule, PrettyPrint) {
  EXPECT_EQ(printed(*nn::Dropout(0.5)), "Dropout(p=0.5, inplace=false)");
  EXPECT_EQ(printed(*nn::Dropout2d(nn::Dropout2dOptions(0.1).inplace(true))), "Dropout2d(p=0.1, inplace=true)");
  EXPECT_EQ(printed(nn::Sequential(nn::Dropout(0.25))), "Sequential(\n  (0): Dropout(p=0.25, inplace=false)\n)");
}

TEST(DropoutModule, BadArguments) {
  EXPECT_TRUE(throws_error_containing([] { nn::Dropout(1.5); },
                                      {"Dropout", "dropout probability has to be between 0 and 1, but got 1.5"}));
  EXPECT_TRUE(throws_error_containing([] { nn::Dropout2d(-0.5); }, {"Dropout2d", "but got -0.5"}));
  EXPECT_TRUE(throws_error_containing([] { F::dropout(randn({2}), F::DropoutFuncOptions().p(2.0)); },
                                      {"dropout", "but got 2"}));
  EXPECT_TRUE(throws_error_containing([] { F::dropout2d(randn({2, 3}), F::Dropout2dFuncOptions()); },
                                      {"dropout2d", "(N, C, H, W)", "[2, 3]"}));
  EXPECT_TRUE(throws_error_containing([] { F::dropout2d(randn({2, 3, 3}), F::Dropout2dFuncOptions().p(-1)); },
                                      {"dropout2d", "but got -1"}));
  Tensor leaf_tensor = randn({2, 3, 2, 2}, requires_grad());
  EXPECT_TRUE(throws_error_containing(
      [&] { F::dropout2d(leaf_tensor, F::Dropout2dFuncOptions().inplace(true)); }, {"leaf", "in-place"}));
}

}  // namespace
}  // namespace xgrad

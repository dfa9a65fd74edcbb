// Conv2d, MaxPool2d, AvgPool2d and AdaptiveAvgPool2d as modules, their options (libtorch's spellings
// and defaults, ExpandingArray) and the functional forms.
#include <gtest/gtest.h>

#include <cmath>

#include "compare.hpp"

namespace xgrad {
namespace {

namespace F = nn::functional;
using testing::all_close;
using testing::printed;
using testing::throws_error_containing;

TEST(ExpandingArray, OneNumberOrAList) {
  const ExpandingArray<2> single = 5, pair = {3, 4};
  EXPECT_EQ(*single, (std::array<std::int64_t, 2>{5, 5}));
  EXPECT_EQ(pair->at(1), 4);
  EXPECT_EQ(single->size(), 2u);
  EXPECT_EQ(printed(pair), "[3, 4]");
  EXPECT_EQ(IntArrayRef(pair), IntArrayRef({3, 4}));
  EXPECT_THROW((ExpandingArray<2>(std::vector<std::int64_t>{1, 2, 3})), Error);
}

TEST(Conv2dOptions, LibtorchDefaultsAndSetters) {
  const nn::Conv2dOptions defaults(1, 16, 5);
  EXPECT_EQ(*defaults.kernel_size(), (std::array<std::int64_t, 2>{5, 5}));
  EXPECT_EQ(*defaults.stride(), (std::array<std::int64_t, 2>{1, 1}));
  EXPECT_EQ(*defaults.padding(), (std::array<std::int64_t, 2>{0, 0}));
  EXPECT_EQ(*defaults.dilation(), (std::array<std::int64_t, 2>{1, 1}));
  EXPECT_EQ(defaults.groups(), 1);
  EXPECT_TRUE(defaults.bias());
  const auto o = nn::Conv2dOptions(2, 4, {3, 5}).stride({2, 1}).padding(1).dilation(2).groups(2).bias(false);
  EXPECT_EQ(*o.kernel_size(), (std::array<std::int64_t, 2>{3, 5}));
  EXPECT_EQ(*o.stride(), (std::array<std::int64_t, 2>{2, 1}));
  EXPECT_EQ(o.groups(), 2);
  EXPECT_FALSE(o.bias());
}

TEST(Conv2d, ParametersHaveLibtorchShapesAndNames) {
  nn::Conv2d conv(nn::Conv2dOptions(4, 6, {3, 2}).groups(2));
  EXPECT_EQ(conv->weight.sizes(), IntArrayRef({6, 2, 3, 2}));
  EXPECT_EQ(conv->bias.sizes(), IntArrayRef({6}));
  EXPECT_EQ(conv->named_parameters().keys(), (std::vector<std::string>{"weight", "bias"}));
  for (const Tensor& p : conv->parameters()) EXPECT_TRUE(p.requires_grad());
  nn::Conv2d no_bias(nn::Conv2dOptions(1, 2, 3).bias(false));
  EXPECT_FALSE(no_bias->bias.defined());
  EXPECT_EQ(no_bias->named_parameters().keys(), (std::vector<std::string>{"weight"}));
}

TEST(Conv2d, InitIsUniformWithinOneOverSqrtFanIn) {
  manual_seed(3);
  nn::Conv2d conv(nn::Conv2dOptions(4, 32, 3).groups(2));
  const double bound = 1.0 / std::sqrt(2.0 * 3 * 3);  // fan_in = in / groups * kH * kW = 18
  for (const Tensor& p : {conv->weight, conv->bias}) {
    EXPECT_LE(p.abs().max().item<float>(), bound);
    EXPECT_GT(p.abs().max().item<float>(), 0.8 * bound);  // spread over the whole range
  }
}

TEST(Conv2d, ForwardIsConv2dWithTheOptions) {
  nn::Conv2d conv(nn::Conv2dOptions(2, 3, 3).stride(2).padding(1));
  const Tensor x = randn({2, 2, 7, 6});
  const Tensor expected = conv2d(x, conv->weight, conv->bias, 2, 1);
  EXPECT_TRUE(all_close(conv(x), expected, 0, 0));
  EXPECT_EQ(conv(x).sizes(), IntArrayRef({2, 3, 4, 3}));
  EXPECT_EQ(conv(randn({2, 7, 6})).sizes(), IntArrayRef({3, 4, 3}));
  EXPECT_TRUE(all_close(F::conv2d(x, conv->weight, F::Conv2dFuncOptions().bias(conv->bias).stride(2).padding(1)),
                        expected, 0, 0));
}

TEST(Conv2d, PrettyPrintAsLibtorch) {
  EXPECT_EQ(printed(nn::Conv2d(1, 16, 5)), "Conv2d(1, 16, kernel_size=[5, 5], stride=[1, 1])");
  EXPECT_EQ(printed(nn::Conv2d(nn::Conv2dOptions(2, 4, {3, 5}).stride(2).padding(1).dilation(2).groups(2).bias(false))),
            "Conv2d(2, 4, kernel_size=[3, 5], stride=[2, 2], padding=[1, 1], dilation=[2, 2], groups=2, bias=false)");
}

TEST(Conv2d, RejectsBadOptions) {
  EXPECT_TRUE(throws_error_containing([] { nn::Conv2d(nn::Conv2dOptions(3, 4, 3).groups(2)); },
                                      {"Conv2d", "divisible by groups 2"}));
  EXPECT_TRUE(throws_error_containing([] { nn::Conv2d(0, 4, 3); }, {"Conv2d", "positive"}));
  EXPECT_TRUE(throws_error_containing([] { nn::Conv2d(nn::Conv2dOptions(1, 4, 3).stride(0)); }, {"Conv2d", "stride"}));
}

// libtorch's Conv2d pads in the other modes with F::pad, then convolves without padding.
TEST(Conv2d, PaddingModesPadTheInputFirst) {
  const Tensor x = randn({2, 3, 6, 5}, kFloat64);
  for (const auto& [mode, pad_mode] : {std::pair<nn::conv_padding_mode_t, F::PadFuncOptions::mode_t>{kReflect, kReflect},
                                       {kReplicate, kReplicate},
                                       {kCircular, kCircular}}) {
    nn::Conv2d conv(nn::Conv2dOptions(3, 4, 3).padding({1, 2}).padding_mode(mode));
    conv->to(kFloat64);
    const Tensor expected =
        conv2d(F::pad(x, F::PadFuncOptions({2, 2, 1, 1}).mode(pad_mode)), conv->weight, conv->bias);
    const Tensor y = conv(x);
    EXPECT_EQ(y.shape(), (Shape{2, 4, 6, 7}));
    EXPECT_TRUE(all_close(y, expected, 0, 0));
  }
  EXPECT_EQ(printed(nn::Conv2d(nn::Conv2dOptions(1, 2, 3).padding(1).padding_mode(kReflect))),
            "Conv2d(1, 2, kernel_size=[3, 3], stride=[1, 1], padding=[1, 1], padding_mode=kReflect)");
  EXPECT_TRUE(throws_error_containing(
      [] { nn::Conv2d(nn::Conv2dOptions(1, 1, 3).padding(4).padding_mode(kReflect))(zeros({1, 1, 4, 4})); },
      {"pad", "Padding size should be less than the corresponding input dimension"}));
}

TEST(Conv2d, ResetParametersDrawsNewValues) {
  nn::Conv2d conv(1, 2, 3);
  const Tensor before = conv->weight.clone();
  conv->reset_parameters();
  EXPECT_FALSE(all_close(conv->weight, before, 0, 0));
  conv->reset();
  EXPECT_EQ(conv->named_parameters().size(), 2u);
}

TEST(PoolOptions, StrideDefaultsToKernelSize) {
  const nn::MaxPool2dOptions max({2, 3});
  EXPECT_EQ(*max.stride(), (std::array<std::int64_t, 2>{2, 3}));
  EXPECT_EQ(*max.padding(), (std::array<std::int64_t, 2>{0, 0}));
  EXPECT_EQ(*max.dilation(), (std::array<std::int64_t, 2>{1, 1}));
  EXPECT_FALSE(max.ceil_mode());
  const nn::AvgPool2dOptions avg(3);
  EXPECT_EQ(*avg.stride(), (std::array<std::int64_t, 2>{3, 3}));
  EXPECT_TRUE(avg.count_include_pad());
  EXPECT_FALSE(avg.divisor_override().has_value());
}

TEST(Pooling, ModulesAndFunctionalsMatchTheOps) {
  const Tensor x = randn({2, 3, 7, 6});
  nn::MaxPool2d max(nn::MaxPool2dOptions(3).stride(2).padding(1).ceil_mode(true));
  EXPECT_TRUE(all_close(max(x), max_pool2d(x, 3, 2, 1, 1, true), 0, 0));
  EXPECT_TRUE(all_close(F::max_pool2d(x, F::MaxPool2dFuncOptions(2)), max_pool2d(x, 2), 0, 0));
  nn::AvgPool2d avg(nn::AvgPool2dOptions(3).stride(1).padding(1).count_include_pad(false).divisor_override(4));
  EXPECT_TRUE(all_close(avg(x), avg_pool2d(x, 3, 1, 1, false, false, 4), 0, 0));
  EXPECT_TRUE(all_close(F::avg_pool2d(x, F::AvgPool2dFuncOptions(2)), avg_pool2d(x, 2), 0, 0));
  nn::AdaptiveAvgPool2d gap(nn::AdaptiveAvgPool2dOptions({1, 1}));
  EXPECT_EQ(gap(x).sizes(), IntArrayRef({2, 3, 1, 1}));
  EXPECT_TRUE(all_close(F::adaptive_avg_pool2d(x, F::AdaptiveAvgPool2dFuncOptions({4, 3})),
                        adaptive_avg_pool2d(x, {4, 3}), 0, 0));
  EXPECT_TRUE(nn::MaxPool2d(2)->parameters().empty());
}

TEST(Pooling, PrettyPrintAsLibtorch) {
  EXPECT_EQ(printed(nn::MaxPool2d(2)),
            "MaxPool2d(kernel_size=[2, 2], stride=[2, 2], padding=[0, 0], dilation=[1, 1], ceil_mode=false)");
  EXPECT_EQ(printed(nn::AvgPool2d(nn::AvgPool2dOptions(3).stride(2).padding(1))),
            "AvgPool2d(kernel_size=[3, 3], stride=[2, 2], padding=[1, 1])");
  EXPECT_EQ(printed(nn::AdaptiveAvgPool2d(nn::AdaptiveAvgPool2dOptions({1, 1}))), "AdaptiveAvgPool2d(output_size=[1, 1])");
}

TEST(Conv2d, TrainsInASequential) {
  manual_seed(0);
  nn::Sequential net(nn::Conv2d(nn::Conv2dOptions(1, 4, 3).padding(1)), nn::ReLU(), nn::MaxPool2d(2),
                     nn::AdaptiveAvgPool2d(1), nn::Flatten(), nn::Linear(4, 2));
  const Tensor x = randn({8, 1, 6, 6});
  const Tensor y = tensor({0, 1, 0, 1, 0, 1, 0, 1});
  optim::SGD sgd(net->parameters(), 0.5);
  float first = 0, last = 0;
  for (int step = 0; step < 30; ++step) {
    sgd.zero_grad();
    Tensor loss = F::cross_entropy(net->forward(x), y);
    loss.backward();
    sgd.step();
    (step == 0 ? first : last) = loss.item<float>();
  }
  EXPECT_LT(last, first);
}

}  // namespace
}  // namespace xgrad

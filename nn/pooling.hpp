#pragma once
// MaxPool2d, AvgPool2d and AdaptiveAvgPool2d, as torch::nn's modules/pooling.h, and their functional
// forms F::max_pool2d, F::avg_pool2d and F::adaptive_avg_pool2d:
//
//   nn::MaxPool2d pool(nn::MaxPool2dOptions(2));                  // stride defaults to kernel_size
//   nn::AvgPool2d avg(nn::AvgPool2dOptions({3, 3}).stride(1).padding(1));
//   nn::AdaptiveAvgPool2d gap(nn::AdaptiveAvgPool2dOptions({1, 1}));
//   Tensor y = F::max_pool2d(x, F::MaxPool2dFuncOptions(2));
//
// The computations, gradients and errors are xgrad::max_pool2d's, avg_pool2d's and
// adaptive_avg_pool2d's (ops/pool.hpp). None of these modules has parameters.
#include <cstdint>
#include <iosfwd>
#include <optional>

#include <xgrad/core/arg.hpp>
#include <xgrad/core/tensor.hpp>
#include <xgrad/nn/expanding_array.hpp>
#include <xgrad/nn/module.hpp>
#include <xgrad/nn/module_holder.hpp>

namespace xgrad::nn {

// MaxPool2dOptions(kernel_size): stride (kernel_size), padding (0), dilation (1), ceil_mode (false).
class MaxPool2dOptions {
 public:
  MaxPool2dOptions(ExpandingArray<2> kernel_size) : kernel_size_(kernel_size), stride_(kernel_size) {}

  XGRAD_ARG(ExpandingArray<2>, kernel_size);
  XGRAD_ARG(ExpandingArray<2>, stride);
  XGRAD_ARG(ExpandingArray<2>, padding) = 0;
  XGRAD_ARG(ExpandingArray<2>, dilation) = 1;
  XGRAD_ARG(bool, ceil_mode) = false;
};

// AvgPool2dOptions(kernel_size): stride (kernel_size), padding (0), ceil_mode (false),
// count_include_pad (true), divisor_override (none).
class AvgPool2dOptions {
 public:
  AvgPool2dOptions(ExpandingArray<2> kernel_size) : kernel_size_(kernel_size), stride_(kernel_size) {}

  XGRAD_ARG(ExpandingArray<2>, kernel_size);
  XGRAD_ARG(ExpandingArray<2>, stride);
  XGRAD_ARG(ExpandingArray<2>, padding) = 0;
  XGRAD_ARG(bool, ceil_mode) = false;
  XGRAD_ARG(bool, count_include_pad) = true;
  XGRAD_ARG(std::optional<std::int64_t>, divisor_override);
};

// AdaptiveAvgPool2dOptions(output_size): one number or {OH, OW}. (libtorch also accepts a missing
// size, meaning the input's; xgrad does not.)
class AdaptiveAvgPool2dOptions {
 public:
  AdaptiveAvgPool2dOptions(ExpandingArray<2> output_size) : output_size_(output_size) {}
  XGRAD_ARG(ExpandingArray<2>, output_size);
};

// forward: (N, C, H, W) or (C, H, W) -> the maximum of each window.
class MaxPool2dImpl : public Module {
 public:
  MaxPool2dImpl(ExpandingArray<2> kernel_size) : MaxPool2dImpl(MaxPool2dOptions(kernel_size)) {}
  explicit MaxPool2dImpl(const MaxPool2dOptions& options) : options(options) {}
  Tensor forward(const Tensor& input);
  void reset() {}
  // MaxPool2d(kernel_size=[2, 2], stride=[2, 2], padding=[0, 0], dilation=[1, 1], ceil_mode=false)
  void pretty_print(std::ostream& out) const override;

  MaxPool2dOptions options;
};
XGRAD_MODULE(MaxPool2d);

// forward: (N, C, H, W) or (C, H, W) -> the mean of each window.
class AvgPool2dImpl : public Module {
 public:
  AvgPool2dImpl(ExpandingArray<2> kernel_size) : AvgPool2dImpl(AvgPool2dOptions(kernel_size)) {}
  explicit AvgPool2dImpl(const AvgPool2dOptions& options) : options(options) {}
  Tensor forward(const Tensor& input);
  void reset() {}
  // AvgPool2d(kernel_size=[2, 2], stride=[2, 2], padding=[0, 0])
  void pretty_print(std::ostream& out) const override;

  AvgPool2dOptions options;
};
XGRAD_MODULE(AvgPool2d);

// forward: (N, C, H, W) or (C, H, W) -> (N, C, OH, OW), windows that tile the input.
class AdaptiveAvgPool2dImpl : public Module {
 public:
  AdaptiveAvgPool2dImpl(ExpandingArray<2> output_size) : AdaptiveAvgPool2dImpl(AdaptiveAvgPool2dOptions(output_size)) {}
  explicit AdaptiveAvgPool2dImpl(const AdaptiveAvgPool2dOptions& options) : options(options) {}
  Tensor forward(const Tensor& input);
  void reset() {}
  // AdaptiveAvgPool2d(output_size=[1, 1])
  void pretty_print(std::ostream& out) const override;

  AdaptiveAvgPool2dOptions options;
};
XGRAD_MODULE(AdaptiveAvgPool2d);

namespace functional {

// libtorch's names for the functional options; here they are the module options.
using MaxPool2dFuncOptions = MaxPool2dOptions;
using AvgPool2dFuncOptions = AvgPool2dOptions;
using AdaptiveAvgPool2dFuncOptions = AdaptiveAvgPool2dOptions;

Tensor max_pool2d(const Tensor& input, const MaxPool2dFuncOptions& options);
Tensor avg_pool2d(const Tensor& input, const AvgPool2dFuncOptions& options);
Tensor adaptive_avg_pool2d(const Tensor& input, const AdaptiveAvgPool2dFuncOptions& options);

}  // namespace functional
}  // namespace xgrad::nn

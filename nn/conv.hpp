#pragma once
// Conv2d, as torch::nn's modules/conv.h, and its functional form F::conv2d:
//
//   nn::Conv2d conv(nn::Conv2dOptions(1, 16, 5).stride(1).padding(2));   // or nn::Conv2d(1, 16, 5)
//   Tensor y = conv(x);                       // x (N, 1, H, W) -> (N, 16, H, W)
//   conv->weight (16, 1, 5, 5), conv->bias (16), conv->options.kernel_size()
//   Tensor z = F::conv2d(x, w, F::Conv2dFuncOptions().bias(b).padding(1));
//
// The computation, its gradients and its errors are xgrad::conv2d's (ops/conv.hpp).
#include <cstdint>
#include <iosfwd>
#include <variant>

#include <xgrad/core/arg.hpp>
#include <xgrad/core/enum.hpp>
#include <xgrad/core/tensor.hpp>
#include <xgrad/nn/expanding_array.hpp>
#include <xgrad/nn/module.hpp>
#include <xgrad/nn/module_holder.hpp>

namespace xgrad {
namespace nn {

using conv_padding_mode_t = std::variant<enumtype::kZeros, enumtype::kReflect, enumtype::kReplicate, enumtype::kCircular>;

// Conv2dOptions(in_channels, out_channels, kernel_size) with stride (1), padding (0), dilation (1),
// groups (1), bias (true) and padding_mode (kZeros; kReflect, kReplicate and kCircular pad the
// input with F::pad first, as libtorch's Conv2d does); chainable setters and same-named getters,
// as libtorch's.
class Conv2dOptions {
 public:
  Conv2dOptions(std::int64_t in_channels, std::int64_t out_channels, ExpandingArray<2> kernel_size)
      : in_channels_(in_channels), out_channels_(out_channels), kernel_size_(kernel_size) {}

  XGRAD_ARG(std::int64_t, in_channels);
  XGRAD_ARG(std::int64_t, out_channels);
  XGRAD_ARG(ExpandingArray<2>, kernel_size);
  XGRAD_ARG(ExpandingArray<2>, stride) = 1;
  XGRAD_ARG(ExpandingArray<2>, padding) = 0;
  XGRAD_ARG(ExpandingArray<2>, dilation) = 1;
  XGRAD_ARG(std::int64_t, groups) = 1;
  XGRAD_ARG(bool, bias) = true;
  XGRAD_ARG(conv_padding_mode_t, padding_mode) = kZeros;
};

// Parameters "weight" (out_channels, in_channels / groups, kH, kW) and, unless bias(false), "bias"
// (out_channels), initialised as libtorch: kaiming_uniform_(weight, a = sqrt(5)) and the bias
// uniform in +-1/sqrt(fan_in), fan_in = in_channels / groups * kH * kW (both bounds come to
// 1/sqrt(fan_in)). forward: (N, in, H, W) or (in, H, W) -> (N, out, OH, OW) or (out, OH, OW).
// The constructor throws Error for non-positive channels, kernel sizes, strides, dilations or
// groups, negative padding and channels not divisible by groups; F::pad's Errors for a padding the
// padding_mode cannot make (a reflection as wide as the image).
class Conv2dImpl : public Module {
 public:
  Conv2dImpl(std::int64_t in_channels, std::int64_t out_channels, ExpandingArray<2> kernel_size)
      : Conv2dImpl(Conv2dOptions(in_channels, out_channels, kernel_size)) {}
  explicit Conv2dImpl(Conv2dOptions options);

  Tensor forward(const Tensor& input);
  // Registers the parameters anew from options (libtorch's reset) and initialises them.
  void reset();
  // Draws new weight and bias values.
  void reset_parameters();
  // Conv2d(1, 16, kernel_size=[5, 5], stride=[1, 1]), then padding, dilation, groups and bias where
  // they differ from the defaults, as libtorch prints it.
  void pretty_print(std::ostream& out) const override;

  Conv2dOptions options;
  Tensor weight;
  Tensor bias;  // undefined without a bias
};
XGRAD_MODULE(Conv2d);

namespace functional {

// F::conv2d's options: bias (undefined: none), stride (1), padding (0), dilation (1), groups (1).
class Conv2dFuncOptions {
  XGRAD_ARG(Tensor, bias);
  XGRAD_ARG(ExpandingArray<2>, stride) = 1;
  XGRAD_ARG(ExpandingArray<2>, padding) = 0;
  XGRAD_ARG(ExpandingArray<2>, dilation) = 1;
  XGRAD_ARG(std::int64_t, groups) = 1;
};

// xgrad::conv2d with the options unpacked.
Tensor conv2d(const Tensor& input, const Tensor& weight, const Conv2dFuncOptions& options = {});

}  // namespace functional
}  // namespace nn
}  // namespace xgrad

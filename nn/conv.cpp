#include <xgrad/nn/conv.hpp>

#include <cmath>
#include <ostream>

#include <xgrad/core/error.hpp>
#include <xgrad/core/factory.hpp>
#include <xgrad/nn/functional_sequence.hpp>
#include <xgrad/nn/init.hpp>
#include <xgrad/ops/conv.hpp>
#include <xgrad/ops/conv_impl.hpp>

namespace xgrad::nn {

namespace {

void check_options(const Conv2dOptions& o) {
  const auto& k = *o.kernel_size();
  const auto& s = *o.stride();
  const auto& p = *o.padding();
  const auto& d = *o.dilation();
  check(o.in_channels() > 0 && o.out_channels() > 0, "Conv2d: in_channels and out_channels must be positive, got ",
        o.in_channels(), " and ", o.out_channels());
  check(o.groups() > 0, "Conv2d: groups must be positive, got ", o.groups());
  check(o.in_channels() % o.groups() == 0 && o.out_channels() % o.groups() == 0, "Conv2d: in_channels ",
        o.in_channels(), " and out_channels ", o.out_channels(), " must both be divisible by groups ", o.groups());
  check(k[0] > 0 && k[1] > 0, "Conv2d: kernel_size must be positive, got ", o.kernel_size());
  check(s[0] > 0 && s[1] > 0, "Conv2d: stride must be positive, got ", o.stride());
  check(p[0] >= 0 && p[1] >= 0, "Conv2d: padding must not be negative, got ", o.padding());
  check(d[0] > 0 && d[1] > 0, "Conv2d: dilation must be positive, got ", o.dilation());
}

// F::pad's mode for a padding_mode other than kZeros.
PadFuncOptions::mode_t pad_mode(const conv_padding_mode_t& mode) {
  if (std::holds_alternative<enumtype::kReflect>(mode)) return kReflect;
  if (std::holds_alternative<enumtype::kReplicate>(mode)) return kReplicate;
  return kCircular;
}

const char* padding_mode_name(const conv_padding_mode_t& mode) {
  if (std::holds_alternative<enumtype::kReflect>(mode)) return "kReflect";
  if (std::holds_alternative<enumtype::kReplicate>(mode)) return "kReplicate";
  if (std::holds_alternative<enumtype::kCircular>(mode)) return "kCircular";
  return "kZeros";
}

}  // namespace

Conv2dImpl::Conv2dImpl(Conv2dOptions options) : options(std::move(options)) { reset(); }

void Conv2dImpl::reset() {
  check_options(options);
  // Registered once; a later reset() draws new values into the same parameters.
  if (!weight.defined()) {
    const auto& k = *options.kernel_size();
    weight = register_parameter("weight",
                                empty({options.out_channels(), options.in_channels() / options.groups(), k[0], k[1]}));
    // Without a bias the name is still taken, by an undefined tensor, as in libtorch.
    bias = options.bias() ? register_parameter("bias", empty({options.out_channels()}))
                          : register_parameter("bias", Tensor(), false);
  }
  reset_parameters();
}

void Conv2dImpl::reset_parameters() {
  // libtorch: kaiming_uniform_(weight, a = sqrt(5)), which comes to +-1/sqrt(fan_in), and the bias
  // uniform in the same bound.
  init::kaiming_uniform_(weight, std::sqrt(5.0));
  if (bias.defined()) {
    const auto& k = *options.kernel_size();
    const double fan_in = static_cast<double>(options.in_channels() / options.groups() * k[0] * k[1]);
    const double bound = 1.0 / std::sqrt(fan_in);
    init::uniform_(bias, -bound, bound);
  }
}

Tensor Conv2dImpl::forward(const Tensor& input) {
  // The options' pairs straight into the op's parameters: IntArrayRefs would be a vector each.
  const auto& stride = *options.stride();
  const auto& padding = *options.padding();
  const auto& dilation = *options.dilation();
  if (!std::holds_alternative<enumtype::kZeros>(options.padding_mode())) {
    // As libtorch's Conv2d: F::pad by (left, right, top, bottom) in that mode, then no padding.
    const Tensor padded = functional::pad(input, PadFuncOptions({padding[1], padding[1], padding[0], padding[0]})
                                                     .mode(pad_mode(options.padding_mode())));
    const im2col::ConvParams params{{stride[0], stride[1]}, {0, 0}, {dilation[0], dilation[1]}, options.groups()};
    return xgrad::detail::conv2d(padded, weight, bias, params);
  }
  const im2col::ConvParams params{
      {stride[0], stride[1]}, {padding[0], padding[1]}, {dilation[0], dilation[1]}, options.groups()};
  return xgrad::detail::conv2d(input, weight, bias, params);
}

void Conv2dImpl::pretty_print(std::ostream& out) const {
  out << "Conv2d(" << options.in_channels() << ", " << options.out_channels()
      << ", kernel_size=" << options.kernel_size() << ", stride=" << options.stride();
  if (options.padding() != ExpandingArray<2>(0)) out << ", padding=" << options.padding();
  if (options.dilation() != ExpandingArray<2>(1)) out << ", dilation=" << options.dilation();
  if (options.groups() != 1) out << ", groups=" << options.groups();
  if (!options.bias()) out << ", bias=false";
  if (!std::holds_alternative<enumtype::kZeros>(options.padding_mode()))
    out << ", padding_mode=" << padding_mode_name(options.padding_mode());
  out << ')';
}

namespace functional {

Tensor conv2d(const Tensor& input, const Tensor& weight, const Conv2dFuncOptions& options) {
  return xgrad::conv2d(input, weight, options.bias(), options.stride(), options.padding(), options.dilation(),
                       options.groups());
}

}  // namespace functional
}  // namespace xgrad::nn

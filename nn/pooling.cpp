#include <xgrad/nn/pooling.hpp>

#include <ostream>

#include <xgrad/ops/conv_impl.hpp>
#include <xgrad/ops/pool.hpp>

namespace xgrad::nn {

Tensor MaxPool2dImpl::forward(const Tensor& input) { return functional::max_pool2d(input, options); }

void MaxPool2dImpl::pretty_print(std::ostream& out) const {
  out << "MaxPool2d(kernel_size=" << options.kernel_size() << ", stride=" << options.stride()
      << ", padding=" << options.padding() << ", dilation=" << options.dilation()
      << ", ceil_mode=" << (options.ceil_mode() ? "true" : "false") << ')';
}

Tensor AvgPool2dImpl::forward(const Tensor& input) { return functional::avg_pool2d(input, options); }

void AvgPool2dImpl::pretty_print(std::ostream& out) const {
  out << "AvgPool2d(kernel_size=" << options.kernel_size() << ", stride=" << options.stride()
      << ", padding=" << options.padding() << ')';
}

Tensor AdaptiveAvgPool2dImpl::forward(const Tensor& input) { return functional::adaptive_avg_pool2d(input, options); }

void AdaptiveAvgPool2dImpl::pretty_print(std::ostream& out) const {
  out << "AdaptiveAvgPool2d(output_size=" << options.output_size() << ')';
}

namespace functional {

Tensor max_pool2d(const Tensor& input, const MaxPool2dFuncOptions& options) {
  // The options' pairs straight into the op's window: IntArrayRefs would be a vector each.
  const auto& kernel = *options.kernel_size();
  const auto& stride = *options.stride();
  const auto& padding = *options.padding();
  const auto& dilation = *options.dilation();
  const PoolWindow window{{kernel[0], kernel[1]}, {stride[0], stride[1]}, {padding[0], padding[1]},
                          {dilation[0], dilation[1]}};
  return xgrad::detail::max_pool2d(input, window, options.ceil_mode());
}

Tensor avg_pool2d(const Tensor& input, const AvgPool2dFuncOptions& options) {
  return xgrad::avg_pool2d(input, options.kernel_size(), options.stride(), options.padding(), options.ceil_mode(),
                           options.count_include_pad(), options.divisor_override());
}

Tensor adaptive_avg_pool2d(const Tensor& input, const AdaptiveAvgPool2dFuncOptions& options) {
  return xgrad::adaptive_avg_pool2d(input, options.output_size());
}

}  // namespace functional
}  // namespace xgrad::nn

#include <xgrad/nn/pooling.hpp>

#include <ostream>

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
  return xgrad::max_pool2d(input, options.kernel_size(), options.stride(), options.padding(), options.dilation(),
                           options.ceil_mode());
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

#pragma once
// Library-internal: conv2d and max_pool2d with their window already as pairs, for nn's modules, whose
// options hold them so. The public functions take IntArrayRefs, each a vector of its own, which a
// training step would otherwise allocate on every call.
#include <xgrad/core/tensor.hpp>
#include <xgrad/kernels/im2col.hpp>

namespace xgrad {

// The window of max_pool2d and avg_pool2d, per spatial dim (h, w).
struct PoolWindow {
  std::int64_t kernel[2], stride[2], padding[2], dilation[2];
};

namespace detail {

// conv2d(input, weight, bias, stride, padding, dilation, groups) with those four in `params`.
Tensor conv2d(const Tensor& input, const Tensor& weight, const Tensor& bias, const im2col::ConvParams& params);
// max_pool2d(x, kernel_size, stride, padding, dilation, ceil_mode) with the first four in `window`.
Tensor max_pool2d(const Tensor& x, const PoolWindow& window, bool ceil_mode);

}  // namespace detail
}  // namespace xgrad

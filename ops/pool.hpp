#pragma once
// 2-D pooling, as at::max_pool2d, at::avg_pool2d and at::adaptive_avg_pool2d.
//
// Input (N, C, H, W), or (C, H, W) unbatched; every (n, c) plane is pooled on its own and the result
// keeps the leading dimensions: (N, C, OH, OW). Window (oh, ow) starts at input position
// (oh * sh - ph, ow * sw - pw). Output size per spatial dim, with k the (dilated) kernel extent:
//   (H + 2p - k) / s + 1, rounded down, or up with ceil_mode, in which case a last window that
//   would start in the right/bottom padding is dropped (PyTorch's rule).
// stride {} means stride = kernel_size. kernel_size, stride and dilation must be positive, padding at
// most half the kernel size (PyTorch's limits), and the output at least 1 x 1; anything else throws
// Error naming the argument and the sizes.
#include <cstdint>
#include <optional>

#include <xgrad/core/int_array_ref.hpp>
#include <xgrad/core/tensor.hpp>

namespace xgrad {

// y = the maximum of each window, padding reading as -inf. NaN wins (the last NaN of a window, as
// PyTorch's CPU kernel); among equal maxima the first in row-major order. Gradient: each upstream
// element goes to the input position of its window's maximum (added up where windows overlap).
Tensor max_pool2d(const Tensor& x, IntArrayRef kernel_size, IntArrayRef stride = {}, IntArrayRef padding = 0,
                  IntArrayRef dilation = 1, bool ceil_mode = false);

// y = the sum of each window divided by: divisor_override if given (non-zero), else the window's
// size counted with the padding (count_include_pad, the default; a ceil_mode window that reaches
// past the padding counts only up to its end) or without it. Gradient: each upstream element divided
// by the same divisor, added to every input position of its window.
Tensor avg_pool2d(const Tensor& x, IntArrayRef kernel_size, IntArrayRef stride = {}, IntArrayRef padding = 0,
                  bool ceil_mode = false, bool count_include_pad = true,
                  std::optional<std::int64_t> divisor_override = std::nullopt);

// y = the mean of window (oh, ow), which covers rows floor(oh H / OH) to ceil((oh + 1) H / OH) - 1
// (columns likewise): the windows tile the input even when OH does not divide H (some then overlap by
// one). output_size is one number or a pair {OH, OW}, not negative. Gradient: each upstream element
// divided by its window's size, added to every position of the window.
Tensor adaptive_avg_pool2d(const Tensor& x, IntArrayRef output_size);

}  // namespace xgrad

#pragma once
// 2-D convolution (cross-correlation, as every deep-learning library computes it), as at::conv2d.
//
// Each output element is a dot product of the weight with one patch of the input:
//   y[n, o, oh, ow] = b[o] + sum_{c, i, j} w[o, c, i, j] * x[n, g*C/G + c, oh*sh - ph + i*dh, ow*sw - pw + j*dw]
// with g = o / (O/G) the group of output channel o and out-of-range input positions reading 0
// (zero padding). Output size per spatial dim: (H + 2p - d (k - 1) - 1) / s + 1, rounded down.
//
// How it is computed ("im2col"): the patches of one image are unfolded into a matrix with one
// column per output position and one row per (channel, kernel row, kernel column), so the whole
// image's convolution is one matrix product, weight (O x C k k) times columns (C k k x OH OW).
// The gradients are matrix products too, for upstream dy:
//   dw = dy (O x OH OW) times columns^T, summed over the images
//   dx = col2im(w^T dy): each column of w^T dy is a patch's worth of gradient, added back onto the
//        input positions the patch was read from (the transposed convolution)
//   db = dy summed over the images and positions
// Convolution is bilinear in (x, w), so the second derivatives are convolutions again and
// create_graph is supported.
//
// float32 convolutions with a 3x3 or 5x5 kernel, stride 1, dilation 1, one group and at least 8
// channels on each side compute all three by Winograd's minimal filtering instead
// (kernels/winograd.hpp): 5 to 6 times fewer multiplications, for results that differ from the
// direct sum by a few 1e-6 of the terms' size rather than 1e-7. (The input gradient stays on im2col
// when the padding exceeds k - 1.)
//
// Cost: the products run image by image (one image's columns stay in the cache between their
// unfolding and their product) on libxsmm or OpenBLAS as kernels/gemm.cpp decides, and the images are
// shared among as many threads as OpenBLAS is set to use. When the weight needs a gradient and
// Winograd does not compute it, the forward keeps every image's columns for it (N C k k OH OW
// values: 3.7 MB for a batch of 64 through a LeNet's first layer) until backward runs.
#include <cstdint>

#include <xgrad/core/int_array_ref.hpp>
#include <xgrad/core/tensor.hpp>

namespace xgrad {

// input  (N, C_in, H, W), or (C_in, H, W) for one unbatched image (the result is then 3-D)
// weight (C_out, C_in / groups, kH, kW)
// bias   (C_out), or an undefined Tensor for none
// stride, padding, dilation: one number for both spatial dims or a pair {h, w}; stride and dilation
//   positive, padding not negative
// groups: input and output channels are split into this many groups, each convolved with its own
//   slice of the weight (C_in and C_out must both be divisible by it)
// result (N, C_out, OH, OW). The input must be at least as large as the dilated kernel after
// padding. Throws Error naming the argument and the shapes for anything else.
Tensor conv2d(const Tensor& input, const Tensor& weight, const Tensor& bias = {}, IntArrayRef stride = 1,
              IntArrayRef padding = 0, IntArrayRef dilation = 1, std::int64_t groups = 1);

}  // namespace xgrad

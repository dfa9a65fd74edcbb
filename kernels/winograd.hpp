#pragma once
// Library-internal: stride-1 convolutions by Winograd's minimal filtering (Lavin and Gray, "Fast
// Algorithms for Convolutional Neural Networks", 2016), which ops/conv.cpp uses where it beats the
// im2col products (see suits()): for the forward, and for the weight and input gradients, its adjoint
// (backward, below).
//
// One dimension, F(m, r): m outputs of an r-tap correlation, y_i = sum_k g_k d_{i+k}, read
// alpha = m + r - 1 inputs. Rather than m r multiplications, both sides are transformed to alpha
// values, multiplied pairwise (alpha multiplications) and transformed back:
//   y = A^T [ (G g) . (B^T d) ]                                   (. : elementwise)
// G evaluates the filter as a polynomial at alpha - 1 points and at infinity (its top coefficient),
// B^T is the transposed evaluation of the data, A^T the interpolation back (winograd.cpp builds all
// three from the points). In two dimensions, for an m x m output tile read from an alpha x alpha
// input patch d:
//   Y = A^T [ (G g G^T) . (B^T d B) ] A
// Summed over the input channels, the elementwise products become one matrix product for each of the
// alpha^2 positions xi:
//   M[xi] (C_out x tiles) = U[xi] (C_out x C_in) . V[xi] (C_in x tiles)
// with U = G g G^T per (output channel, input channel) and V = B^T d B per (input channel, tile).
//
// xgrad uses two algorithms that both read 8 x 8 input patches: F(4x4, 5x5), 64 multiplications per
// (output channel, input channel, tile of 16 outputs) where the direct sum takes 400 (6.25 times
// fewer), and F(6x6, 3x3), 64 per 36 outputs where the direct sum takes 324 (5.06 times fewer), for
// the cost of the transforms. The price is rounding: A^T's entries reach 32 and 1/32, so
// in float32 an output differs from the direct sum by up to about 2e-6 of the largest sum of absolute
// terms in its plane (tests/ops/test_winograd.cpp bounds it at 5e-6), where im2col's order of
// additions differs by about 1e-7. float64 convolutions stay on im2col.
#include <cstdint>

namespace xgrad::winograd {

// One convolution with a square kernel (3 x 3 or 5 x 5), stride 1, dilation 1, one group.
struct Problem {
  std::int64_t batch, channels, height, width;
  std::int64_t out_channels, kernel;
  std::int64_t pad_h, pad_w;
  std::int64_t out_h, out_w;  // height + 2 pad_h - kernel + 1, and the same for the width
};

// Whether conv2d computes this convolution by Winograd: a 3x3 or 5x5 kernel and at least
// kMinChannels channels on both sides (with fewer, the per-position products are too small to run at
// speed; a LeNet's first convolution, one input channel, stays on im2col). Measured against im2col
// alone, forward and backward of a batch of 64 on one thread, eleven shapes from 8 x 8 to 28 x 28
// images and 8 to 64 channels, padded and not: 5x5 kernels 1.6 to 3.2 times faster, 3x3 kernels 1.03
// to 1.96 times.
inline constexpr std::int64_t kMinChannels = 8;
bool suits(const Problem& p);

// Values in the transformed filters U: 64 x C_out x C_in.
std::int64_t filter_values(const Problem& p);
// u = G w G^T for every (output channel, input channel), position-major (see M[xi] above); w is
// (C_out, C_in, k, k). Computed in double and rounded once.
void transform_filters(const Problem& p, const float* w, float* u);

// y[n] = conv(x[n], w) + bias for the images n in [first, last), from u = transform_filters(w); bias
// may be null. x is (N, C_in, H, W) and y (N, C_out, out_h, out_w), both whole batches.
void forward(const Problem& p, const float* x, const float* u, const float* bias, float* y, std::int64_t first,
             std::int64_t last);

// The gradients for upstream dy (N, C_out, out_h, out_w) over images [first, last), as the forward's
// adjoint, tile by tile, with dM = A dY A^T per output channel shared by both:
//   weight:  dU[xi] (C_out x C_in) += dM[xi] (C_out x tiles) . V[xi]^T,  V = B^T d B from x
//            (then dw = G^T dU G per filter: filter_grads)
//   input:   dV[xi] (C_in x tiles) = U[xi]^T . dM[xi],  dx += B dV B^T where each patch lies
//            (patches of neighbouring tiles overlap and add; their parts in the padding are dropped)
// 64 multiplications per (output channel, input channel, tile) each, as in the forward. du
// (filter_values floats, added onto) or dx ((N, C_in, H, W), images [first, last) overwritten) may
// be null, and then x or u (transform_filters(w)) is not read.
void backward(const Problem& p, const float* x, const float* dy, const float* u, float* du, float* dx,
              std::int64_t first, std::int64_t last);
void filter_grads(const Problem& p, const float* du, float* dw);

}  // namespace xgrad::winograd

#pragma once
// im2col and col2im: a convolution as a matrix product. The patches of one image are unfolded into
// its columns, a matrix with one row per (input channel, kernel row, kernel column) and one column
// per output position, so that the convolution of that image is one product, weight (O, C kH kW)
// times columns (C kH kW, OH OW); the input gradient folds the product's transpose back onto the
// image (col2im, the adjoint). ops/conv.cpp checks the arguments and wires the nodes; this is the
// copying, tuned for the short rows of small images.
#include <array>
#include <cstdint>
#include <vector>

#include <xgrad/core/dtype.hpp>
#include <xgrad/kernels/buffer_cache.hpp>

namespace xgrad::im2col {

// stride, padding, dilation per spatial dim (h, w) and the number of groups.
struct ConvParams {
  std::int64_t stride[2], padding[2], dilation[2], groups;
};

// Every size of one convolution of a batched (4-D) input.
struct ConvGeometry {
  std::int64_t batch, in_channels, height, width;
  std::int64_t out_channels, kernel_h, kernel_w;
  std::int64_t out_h, out_w;
  ConvParams p;

  std::int64_t groups() const { return p.groups; }
  std::int64_t group_in() const { return in_channels / p.groups; }
  std::int64_t group_out() const { return out_channels / p.groups; }
  // Rows of one group's columns: (channel, kernel row, kernel column) of its input channels.
  std::int64_t group_rows() const { return group_in() * kernel_h * kernel_w; }
  std::int64_t rows() const { return in_channels * kernel_h * kernel_w; }
  // Columns: one per output position of an image.
  std::int64_t positions() const { return out_h * out_w; }
  std::int64_t image_size() const { return in_channels * height * width; }
  std::int64_t plane() const { return height * width; }
  // A 1x1 kernel that reads every input position once, in order: the columns are the image itself.
  bool columns_are_input() const {
    return kernel_h == 1 && kernel_w == 1 && p.stride[0] == 1 && p.stride[1] == 1 && p.padding[0] == 0 &&
           p.padding[1] == 0;
  }
  // Fixed arrays rather than Shapes: arrays are made from them on every call, with no vector.
  std::array<std::int64_t, 4> input_shape() const { return {batch, in_channels, height, width}; }
  std::array<std::int64_t, 4> weight_shape() const { return {out_channels, group_in(), kernel_h, kernel_w}; }
  std::array<std::int64_t, 4> output_shape() const { return {batch, out_channels, out_h, out_w}; }
};

// The output positions o in [0, count) whose input position o * stride + offset lies in [0, size):
// [first, last).
struct ValidRange {
  std::int64_t first, last;
};
ValidRange valid_range(std::int64_t offset, std::int64_t stride, std::int64_t size, std::int64_t count);

// Without padding and with stride 1 along the width, every (channel, kernel row, kernel column) row
// of an image's columns is a plain block copy of the image: out_h rows of out_w elements, starting
// where that kernel element first reads, rows sh * W apart. unfold_unpadded and fold_unpadded_add
// run the whole image's blocks (C kH kW of them) in one call, out of line, so that the compiler
// keeps their few variables in registers; a call per block, with the general loop's bookkeeping
// around it, cost as much as the copying for a LeNet's second convolution.
struct UnpaddedBlocks {
  std::int64_t channels, plane, kernel_h, kernel_w;
  std::int64_t h_step, w_step;  // input offset between kernel rows, kernel columns (dilation)
  std::int64_t out_h, out_w, row_step;
};

// Where each kernel row i and kernel column j reads: the input offset of output position 0 and the
// output positions whose input lies inside the image. They do not depend on the channel or the
// image, so they are computed once per op rather than (with two divisions each) per row.
struct Unfold {
  explicit Unfold(const ConvGeometry& g)
      : g(g),
        unpadded(g.p.padding[0] == 0 && g.p.padding[1] == 0 && g.p.stride[1] == 1),
        blocks{g.in_channels, g.plane(),           g.kernel_h, g.kernel_w,
               g.p.dilation[0] * g.width, g.p.dilation[1], g.out_h,    g.out_w,
               g.p.stride[0] * g.width} {
    for (std::int64_t i = 0; i < g.kernel_h; ++i) {
      h_offset.push_back(i * g.p.dilation[0] - g.p.padding[0]);
      rows.push_back(valid_range(h_offset.back(), g.p.stride[0], g.height, g.out_h));
    }
    for (std::int64_t j = 0; j < g.kernel_w; ++j) {
      w_offset.push_back(j * g.p.dilation[1] - g.p.padding[1]);
      cols.push_back(valid_range(w_offset.back(), g.p.stride[1], g.width, g.out_w));
    }
  }
  const ConvGeometry& g;
  // Every kernel element reads only inside the image, each row of columns a block (UnpaddedBlocks).
  bool unpadded;
  UnpaddedBlocks blocks;
  cached_vector<std::int64_t> h_offset, w_offset;
  cached_vector<ValidRange> rows, cols;
};

// Unfolds one image (C, H, W) into its columns (C kH kW rows of OH OW): row (c, i, j) holds, for
// each output position, the input value kernel element (i, j) of channel c meets there (0 in the
// padding). Every element of `col` is written.
void unfold(const Unfold& u, const float* image, float* col);
void unfold(const Unfold& u, const double* image, double* col);

// The adjoint of unfold: adds each column element onto the input position it was read from
// (padding positions are dropped). `image` must be initialised (usually zeros).
void fold_add(const Unfold& u, const float* col, float* image);
void fold_add(const Unfold& u, const double* col, double* image);

}  // namespace xgrad::im2col

#include <xgrad/kernels/im2col.hpp>

#include <algorithm>
#include <type_traits>

#include <xgrad/kernels/cpu_clones.hpp>

namespace xgrad::im2col {

namespace {

// Copies in[o * stride] to out[o] for o in [first, last) and zeroes the rest of out[0, count).
// Inline loops rather than memcpy/memset: the rows are short (8 to 24 elements in a LeNet), where a
// call costs more than the copy (memmove calls took a third of a convolution's time); __restrict
// spares the compiler its overlap checks.
template <class T>
inline void copy_row(T* __restrict out, const T* __restrict in, std::int64_t first, std::int64_t last,
                     std::int64_t count, std::int64_t stride) {
  for (std::int64_t o = 0; o < first; ++o) out[o] = T(0);
  if (stride == 1) {
    // Blocks of a constant width, which the compiler turns into vector moves; a plain loop of
    // run-time length it would turn back into a memmove call.
    constexpr std::int64_t kBlock = 8;
    std::int64_t o = first;
    for (; o + kBlock <= last; o += kBlock)
      for (std::int64_t k = 0; k < kBlock; ++k) out[o + k] = in[o + k];
    for (std::int64_t k = 0; k < kBlock; ++k)
      if (o + k < last) out[o + k] = in[o + k];
  } else {
    for (std::int64_t o = first; o < last; ++o) out[o] = in[o * stride];
  }
  for (std::int64_t o = last; o < count; ++o) out[o] = T(0);
}

// The common case of a row of columns, nothing in the padding and stride 1 along the width:
// `rows` rows of `width` elements from rows `in_step` apart.
template <class T, class Width = std::int64_t>
inline __attribute__((always_inline)) void copy_rows(T* __restrict out, const T* __restrict in, std::int64_t rows,
                                                     Width width, std::int64_t in_step) {
  constexpr std::int64_t kBlock = 8;
  for (std::int64_t r = 0; r < rows; ++r, out += width, in += in_step) {
    std::int64_t o = 0;
    for (; o + kBlock <= width; o += kBlock)
      for (std::int64_t k = 0; k < kBlock; ++k) out[o + k] = in[o + k];
    for (; o < width; ++o) out[o] = in[o];
  }
}

// copy_rows' adjoint: out (rows `out_step` apart) += in (rows of `width`).
template <class T, class Width = std::int64_t>
inline __attribute__((always_inline)) void add_rows(T* __restrict out, const T* __restrict in, std::int64_t rows,
                                                    Width width, std::int64_t out_step) {
  constexpr std::int64_t kBlock = 8;
  for (std::int64_t r = 0; r < rows; ++r, in += width, out += out_step) {
    std::int64_t o = 0;
    for (; o + kBlock <= width; o += kBlock)
      for (std::int64_t k = 0; k < kBlock; ++k) out[o + k] += in[o + k];
    for (; o < width; ++o) out[o] += in[o];
  }
}

// The out-of-line copies below are compiled for AVX2 (32-byte moves) and for the baseline (16-byte
// SSE2 moves), the loader picking one (kernels/cpu_clones.hpp): the copies were an eighth of a LeNet
// convolution's time on SSE2.

// Calls body(width) with the row width as a number or, for rows of exactly one vector (a LeNet's
// second convolution), as a compile-time constant, so that those rows copy without any loop along
// the row.
template <class Body>
inline __attribute__((always_inline)) void with_row_width(std::int64_t width, const Body& body) {
  if (width == 8) return body(std::integral_constant<std::int64_t, 8>());
  body(width);
}

template <class T, class Width>
inline __attribute__((always_inline)) void unfold_blocks(const UnpaddedBlocks& b, Width width, const T* image,
                                                         T* col) {
  for (std::int64_t c = 0; c < b.channels; ++c)
    for (std::int64_t i = 0; i < b.kernel_h; ++i)
      for (std::int64_t j = 0; j < b.kernel_w; ++j, col += b.out_h * b.out_w)
        copy_rows(col, image + c * b.plane + i * b.h_step + j * b.w_step, b.out_h, width, b.row_step);
}

// The adjoint: every block added back onto the image, kernel column by kernel column. The blocks of
// one kernel column land at one alignment, so where two overlap a load finds the store before it
// whole; blocks of neighbouring columns overlap shifted by one element, and taken one after the
// other (kernel row by kernel row) each load waited on a store it only partly overlapped. For rows
// of 8 the column order folded a LeNet's second convolution 25% faster (with a run-time width the
// loop overhead hides the difference).
template <class T, class Width>
inline __attribute__((always_inline)) void fold_blocks_add(const UnpaddedBlocks& b, Width width, const T* col,
                                                           T* image) {
  const std::int64_t block = b.out_h * b.out_w;
  for (std::int64_t c = 0; c < b.channels; ++c, col += b.kernel_h * b.kernel_w * block)
    for (std::int64_t j = 0; j < b.kernel_w; ++j)
      for (std::int64_t i = 0; i < b.kernel_h; ++i)
        add_rows(image + c * b.plane + i * b.h_step + j * b.w_step, col + (i * b.kernel_w + j) * block, b.out_h,
                 width, b.row_step);
}

XGRAD_CLONES_V3 __attribute__((noinline)) void unfold_unpadded(const UnpaddedBlocks& b, const float* image,
                                                                 float* col) {
  with_row_width(b.out_w, [&](auto width) { unfold_blocks(b, width, image, col); });
}
XGRAD_CLONES_V3 __attribute__((noinline)) void unfold_unpadded(const UnpaddedBlocks& b, const double* image,
                                                                 double* col) {
  with_row_width(b.out_w, [&](auto width) { unfold_blocks(b, width, image, col); });
}
XGRAD_CLONES_V3 __attribute__((noinline)) void fold_unpadded_add(const UnpaddedBlocks& b, const float* col,
                                                                   float* image) {
  with_row_width(b.out_w, [&](auto width) { fold_blocks_add(b, width, col, image); });
}
XGRAD_CLONES_V3 __attribute__((noinline)) void fold_unpadded_add(const UnpaddedBlocks& b, const double* col,
                                                                   double* image) {
  with_row_width(b.out_w, [&](auto width) { fold_blocks_add(b, width, col, image); });
}

// One block of a padded convolution's columns (the kernel elements that read only inside the
// image), out of line for the same reason: inlined into im2col's loops, copy_rows' variables went
// to the stack.
XGRAD_CLONES_V3 __attribute__((noinline)) void copy_block(float* out, const float* in, std::int64_t rows,
                                                            std::int64_t width, std::int64_t in_step) {
  copy_rows(out, in, rows, width, in_step);
}
XGRAD_CLONES_V3 __attribute__((noinline)) void copy_block(double* out, const double* in, std::int64_t rows,
                                                            std::int64_t width, std::int64_t in_step) {
  copy_rows(out, in, rows, width, in_step);
}
XGRAD_CLONES_V3 __attribute__((noinline)) void add_block(float* out, const float* in, std::int64_t rows,
                                                           std::int64_t width, std::int64_t out_step) {
  add_rows(out, in, rows, width, out_step);
}
XGRAD_CLONES_V3 __attribute__((noinline)) void add_block(double* out, const double* in, std::int64_t rows,
                                                           std::int64_t width, std::int64_t out_step) {
  add_rows(out, in, rows, width, out_step);
}

template <class T>
void unfold_image(const Unfold& u, const T* image, T* col) {
  if (u.unpadded) return unfold_unpadded(u.blocks, image, col);
  const ConvGeometry& g = u.g;
  const std::int64_t sh = g.p.stride[0], sw = g.p.stride[1];
  const std::int64_t oh_count = g.out_h, ow_count = g.out_w;
  for (std::int64_t c = 0; c < g.in_channels; ++c) {
    const T* plane = image + c * g.plane();
    for (std::int64_t i = 0; i < g.kernel_h; ++i) {
      const ValidRange rows = u.rows[static_cast<std::size_t>(i)];
      const std::int64_t h_offset = u.h_offset[static_cast<std::size_t>(i)];
      for (std::int64_t j = 0; j < g.kernel_w; ++j, col += g.positions()) {
        const ValidRange cols = u.cols[static_cast<std::size_t>(j)];
        const std::int64_t w_offset = u.w_offset[static_cast<std::size_t>(j)];
        if (sw == 1 && cols.first == 0 && cols.last == ow_count && rows.first == 0 && rows.last == oh_count) {
          copy_block(col, plane + h_offset * g.width + w_offset, oh_count, ow_count, sh * g.width);
          continue;
        }
        for (std::int64_t oh = 0; oh < rows.first; ++oh) copy_row<T>(col + oh * ow_count, nullptr, 0, 0, ow_count, 1);
        for (std::int64_t oh = rows.first; oh < rows.last; ++oh)
          copy_row(col + oh * ow_count, plane + (oh * sh + h_offset) * g.width + w_offset, cols.first, cols.last,
                   ow_count, sw);
        for (std::int64_t oh = rows.last; oh < oh_count; ++oh) copy_row<T>(col + oh * ow_count, nullptr, 0, 0, ow_count, 1);
      }
    }
  }
}

// out[o * stride] += in[o] for o in [first, last).
template <class T>
inline void add_row(T* __restrict out, const T* __restrict in, std::int64_t first, std::int64_t last,
                    std::int64_t stride) {
  if (stride == 1) {
    for (std::int64_t o = first; o < last; ++o) out[o] += in[o];
  } else {
    for (std::int64_t o = first; o < last; ++o) out[o * stride] += in[o];
  }
}

template <class T>
void fold_image_add(const Unfold& u, const T* col, T* image) {
  if (u.unpadded) return fold_unpadded_add(u.blocks, col, image);
  const ConvGeometry& g = u.g;
  const std::int64_t sh = g.p.stride[0], sw = g.p.stride[1];
  for (std::int64_t c = 0; c < g.in_channels; ++c) {
    T* plane = image + c * g.plane();
    for (std::int64_t i = 0; i < g.kernel_h; ++i) {
      const ValidRange rows = u.rows[static_cast<std::size_t>(i)];
      const std::int64_t h_offset = u.h_offset[static_cast<std::size_t>(i)];
      for (std::int64_t j = 0; j < g.kernel_w; ++j, col += g.positions()) {
        const ValidRange cols = u.cols[static_cast<std::size_t>(j)];
        const std::int64_t w_offset = u.w_offset[static_cast<std::size_t>(j)];
        if (sw == 1 && cols.first == 0 && cols.last == g.out_w && rows.first == 0 && rows.last == g.out_h) {
          add_block(plane + h_offset * g.width + w_offset, col, g.out_h, g.out_w, sh * g.width);
          continue;
        }
        for (std::int64_t oh = rows.first; oh < rows.last; ++oh)
          add_row(plane + (oh * sh + h_offset) * g.width + w_offset, col + oh * g.out_w, cols.first, cols.last, sw);
      }
    }
  }
}

}  // namespace

ValidRange valid_range(std::int64_t offset, std::int64_t stride, std::int64_t size, std::int64_t count) {
  // first: smallest o with o * stride + offset >= 0; last: smallest o with o * stride + offset >= size.
  auto ceil_div = [](std::int64_t a, std::int64_t b) { return a <= 0 ? 0 : (a + b - 1) / b; };
  const std::int64_t first = std::min(ceil_div(-offset, stride), count);
  const std::int64_t last = std::max(first, std::min(ceil_div(size - offset, stride), count));
  return {first, last};
}

void unfold(const Unfold& u, const float* image, float* col) { unfold_image(u, image, col); }
void unfold(const Unfold& u, const double* image, double* col) { unfold_image(u, image, col); }
void fold_add(const Unfold& u, const float* col, float* image) { fold_image_add(u, col, image); }
void fold_add(const Unfold& u, const double* col, double* image) { fold_image_add(u, col, image); }

}  // namespace xgrad::im2col

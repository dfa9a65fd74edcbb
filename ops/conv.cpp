#include "ops/conv.hpp"

#include <algorithm>
#include <cstring>
#include <string>

#include "core/grad_mode.hpp"
#include "core/tensor_impl.hpp"
#include "ops/gemm_impl.hpp"
#include "ops/reduce.hpp"
#include "ops/shape.hpp"

namespace xgrad {

namespace {

// ---- geometry ------------------------------------------------------------------------------------

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
  Shape input_shape() const { return {batch, in_channels, height, width}; }
  Shape weight_shape() const { return {out_channels, group_in(), kernel_h, kernel_w}; }
  Shape output_shape() const { return {batch, out_channels, out_h, out_w}; }
};

// A size argument of one or two numbers, as a pair (h, w).
void expand_pair(const char* name, IntArrayRef values, std::int64_t out[2]) {
  if (values.size() == 1) {
    out[0] = out[1] = values[0];
  } else if (values.size() == 2) {
    out[0] = values[0];
    out[1] = values[1];
  } else {
    throw Error(concat("conv2d: ", name, " must be one number or a pair {h, w}, got ", values));
  }
}

ConvParams make_params(IntArrayRef stride, IntArrayRef padding, IntArrayRef dilation, std::int64_t groups) {
  ConvParams p{};
  expand_pair("stride", stride, p.stride);
  expand_pair("padding", padding, p.padding);
  expand_pair("dilation", dilation, p.dilation);
  p.groups = groups;
  check(p.stride[0] > 0 && p.stride[1] > 0, "conv2d: stride must be positive, got ", stride);
  check(p.padding[0] >= 0 && p.padding[1] >= 0, "conv2d: padding must not be negative, got ", padding);
  check(p.dilation[0] > 0 && p.dilation[1] > 0, "conv2d: dilation must be positive, got ", dilation);
  check(groups > 0, "conv2d: groups must be positive, got ", groups);
  return p;
}

// The geometry of a 4-D input and a weight, or an Error naming what does not fit. `shapes` is the
// caller's description of its arguments, built only on failure.
template <class Describe>
ConvGeometry make_geometry(const Shape& x, const Shape& w, const ConvParams& p, Describe shapes) {
  // Messages are built only on failure: they format every shape.
  if (w.size() != 4)
    throw Error(concat("conv2d: weight must be 4-D (out_channels, in_channels / groups, kH, kW), got ", shapes()));
  if (w[0] % p.groups != 0)
    throw Error(concat("conv2d: out_channels ", w[0], " of the weight is not divisible by groups ", p.groups, " (",
                       shapes(), ")"));
  if (x[1] % p.groups != 0)
    throw Error(concat("conv2d: the input's ", x[1], " channels are not divisible by groups ", p.groups, " (",
                       shapes(), ")"));
  if (w[1] * p.groups != x[1])
    throw Error(concat("conv2d: weight expects ", w[1] * p.groups, " input channels (", w[1], " per group, groups ",
                       p.groups, "), got ", shapes()));
  if (w[0] == 0 || w[2] == 0 || w[3] == 0 || x[1] == 0 || x[2] == 0 || x[3] == 0)
    throw Error(concat("conv2d: input and weight must not have an empty channel or spatial dimension, got ", shapes()));
  ConvGeometry g{};
  g.batch = x[0];
  g.in_channels = x[1];
  g.height = x[2];
  g.width = x[3];
  g.out_channels = w[0];
  g.kernel_h = w[2];
  g.kernel_w = w[3];
  g.p = p;
  const std::int64_t padded_h = g.height + 2 * p.padding[0], padded_w = g.width + 2 * p.padding[1];
  const std::int64_t reach_h = p.dilation[0] * (g.kernel_h - 1) + 1, reach_w = p.dilation[1] * (g.kernel_w - 1) + 1;
  if (padded_h < reach_h || padded_w < reach_w)
    throw Error(concat("conv2d: the padded input is ", padded_h, " x ", padded_w, " but the (dilated) kernel is ",
                       reach_h, " x ", reach_w, "; the kernel cannot be larger (", shapes(), ")"));
  g.out_h = (padded_h - reach_h) / p.stride[0] + 1;
  g.out_w = (padded_w - reach_w) / p.stride[1] + 1;
  return g;
}

// ---- im2col and col2im ---------------------------------------------------------------------------

// The output positions o in [0, count) whose input position o * stride + offset lies in [0, size):
// [first, last).
struct ValidRange {
  std::int64_t first, last;
};
ValidRange valid_range(std::int64_t offset, std::int64_t stride, std::int64_t size, std::int64_t count) {
  // first: smallest o with o * stride + offset >= 0; last: smallest o with o * stride + offset >= size.
  auto ceil_div = [](std::int64_t a, std::int64_t b) { return a <= 0 ? 0 : (a + b - 1) / b; };
  const std::int64_t first = std::min(ceil_div(-offset, stride), count);
  const std::int64_t last = std::max(first, std::min(ceil_div(size - offset, stride), count));
  return {first, last};
}

// Unfolds one image (C, H, W) into its columns (C kH kW rows of OH OW): row (c, i, j) holds, for
// each output position, the input value kernel element (i, j) of channel c meets there (0 in the
// padding). Every element of `col` is written.
template <class T>
void im2col(const ConvGeometry& g, const T* image, T* col) {
  const std::int64_t sh = g.p.stride[0], sw = g.p.stride[1];
  const std::int64_t oh_count = g.out_h, ow_count = g.out_w;
  for (std::int64_t c = 0; c < g.in_channels; ++c) {
    const T* plane = image + c * g.plane();
    for (std::int64_t i = 0; i < g.kernel_h; ++i) {
      const std::int64_t h_offset = i * g.p.dilation[0] - g.p.padding[0];
      const ValidRange rows = valid_range(h_offset, sh, g.height, oh_count);
      for (std::int64_t j = 0; j < g.kernel_w; ++j, col += g.positions()) {
        const std::int64_t w_offset = j * g.p.dilation[1] - g.p.padding[1];
        const ValidRange cols = valid_range(w_offset, sw, g.width, ow_count);
        std::fill(col, col + rows.first * ow_count, T(0));
        for (std::int64_t oh = rows.first; oh < rows.last; ++oh) {
          T* out = col + oh * ow_count;
          const T* in = plane + (oh * sh + h_offset) * g.width + w_offset;
          std::fill(out, out + cols.first, T(0));
          if (sw == 1) {
            std::memcpy(out + cols.first, in + cols.first, static_cast<std::size_t>(cols.last - cols.first) * sizeof(T));
          } else {
            for (std::int64_t ow = cols.first; ow < cols.last; ++ow) out[ow] = in[ow * sw];
          }
          std::fill(out + cols.last, out + ow_count, T(0));
        }
        std::fill(col + rows.last * ow_count, col + oh_count * ow_count, T(0));
      }
    }
  }
}

// The adjoint of im2col: adds each column element onto the input position it was read from
// (padding positions are dropped). `image` must be initialised (usually zeros).
template <class T>
void col2im_add(const ConvGeometry& g, const T* col, T* image) {
  const std::int64_t sh = g.p.stride[0], sw = g.p.stride[1];
  for (std::int64_t c = 0; c < g.in_channels; ++c) {
    T* plane = image + c * g.plane();
    for (std::int64_t i = 0; i < g.kernel_h; ++i) {
      const std::int64_t h_offset = i * g.p.dilation[0] - g.p.padding[0];
      const ValidRange rows = valid_range(h_offset, sh, g.height, g.out_h);
      for (std::int64_t j = 0; j < g.kernel_w; ++j, col += g.positions()) {
        const std::int64_t w_offset = j * g.p.dilation[1] - g.p.padding[1];
        const ValidRange cols = valid_range(w_offset, sw, g.width, g.out_w);
        for (std::int64_t oh = rows.first; oh < rows.last; ++oh) {
          const T* in = col + oh * g.out_w;
          T* out = plane + (oh * sh + h_offset) * g.width + w_offset;
          if (sw == 1) {
            for (std::int64_t ow = cols.first; ow < cols.last; ++ow) out[ow] += in[ow];
          } else {
            for (std::int64_t ow = cols.first; ow < cols.last; ++ow) out[ow * sw] += in[ow];
          }
        }
      }
    }
  }
}

// Scratch for one image's columns, from the buffer cache (each step reuses the last one's).
template <class T>
Array<T> column_buffer(const ConvGeometry& g) {
  return Array<T>::from_shape({static_cast<std::size_t>(g.columns_are_input() ? 0 : g.rows() * g.positions())});
}

// The columns of image n: the image itself for a 1x1 kernel, else unfolded into `scratch`.
template <class T>
const T* columns_of(const ConvGeometry& g, const T* x, std::int64_t n, Array<T>& scratch) {
  const T* image = x + n * g.image_size();
  if (g.columns_are_input()) return image;
  im2col(g, image, scratch.data());
  return scratch.data();
}

// ---- the three products --------------------------------------------------------------------------

// y = conv(x, w) + b, image by image: y[n] (O x OH OW) = w (O x C k k) . columns(x[n]), one gemm per
// group, the bias written first and the product added onto it.
template <class T>
void conv_forward(const ConvGeometry& g, const T* x, const T* w, const T* bias, T* y) {
  Array<T> scratch = column_buffer<T>(g);
  const std::int64_t L = g.positions(), Og = g.group_out(), Kg = g.group_rows();
  for (std::int64_t n = 0; n < g.batch; ++n) {
    const T* col = columns_of(g, x, n, scratch);
    T* out = y + n * g.out_channels * L;
    if (bias != nullptr)
      for (std::int64_t o = 0; o < g.out_channels; ++o) std::fill(out + o * L, out + (o + 1) * L, bias[o]);
    for (std::int64_t grp = 0; grp < g.groups(); ++grp)
      gemm(false, false, Og, L, Kg, T(1), w + grp * Og * Kg, Kg, col + grp * Kg * L, L, bias ? T(1) : T(0),
           out + grp * Og * L, L);
  }
}

// dx = col2im(w^T dy), image by image (the transposed convolution). Every element of dx is written.
template <class T>
void conv_input_grad(const ConvGeometry& g, const T* dy, const T* w, T* dx) {
  const std::int64_t L = g.positions(), Og = g.group_out(), Kg = g.group_rows();
  const bool direct = g.columns_are_input();
  Array<T> scratch = Array<T>::from_shape({static_cast<std::size_t>(direct ? 0 : g.rows() * L)});
  for (std::int64_t n = 0; n < g.batch; ++n) {
    T* image = dx + n * g.image_size();
    T* dcol = direct ? image : scratch.data();  // a 1x1 kernel's columns are the image itself
    const T* grad = dy + n * g.out_channels * L;
    for (std::int64_t grp = 0; grp < g.groups(); ++grp)
      gemm(true, false, Kg, L, Og, T(1), w + grp * Og * Kg, Kg, grad + grp * Og * L, L, T(0), dcol + grp * Kg * L, L);
    if (!direct) {
      std::fill(image, image + g.image_size(), T(0));
      col2im_add(g, dcol, image);
    }
  }
}

// dw = sum over images of dy[n] (O x OH OW) . columns(x[n])^T. Every element of dw is written.
template <class T>
void conv_weight_grad(const ConvGeometry& g, const T* x, const T* dy, T* dw) {
  Array<T> scratch = column_buffer<T>(g);
  const std::int64_t L = g.positions(), Og = g.group_out(), Kg = g.group_rows();
  if (g.batch == 0) std::fill(dw, dw + g.out_channels * Kg, T(0));
  for (std::int64_t n = 0; n < g.batch; ++n) {
    const T* col = columns_of(g, x, n, scratch);
    const T* grad = dy + n * g.out_channels * L;
    for (std::int64_t grp = 0; grp < g.groups(); ++grp)
      gemm(false, true, Og, Kg, L, T(1), grad + grp * Og * L, L, col + grp * Kg * L, L, n == 0 ? T(0) : T(1),
           dw + grp * Og * Kg, Kg);
  }
}

// db[o] = sum of dy[n, o, :, :] over n.
template <class T>
void conv_bias_grad(const ConvGeometry& g, const T* dy, T* db) {
  const std::int64_t L = g.positions();
  std::fill(db, db + g.out_channels, T(0));
  for (std::int64_t n = 0; n < g.batch; ++n)
    for (std::int64_t o = 0; o < g.out_channels; ++o) {
      const T* row = dy + (n * g.out_channels + o) * L;
      T total = T(0);
      for (std::int64_t l = 0; l < L; ++l) total += row[l];
      db[o] += total;
    }
}

template <class T, class Kernel>
Tensor computed(const Shape& shape, Kernel kernel) {
  Array<T> out = Array<T>::from_shape(to_xshape(shape));
  kernel(out.data());
  return make_tensor(std::move(out));
}

// ---- the differentiable ops ----------------------------------------------------------------------
//
// conv, its input gradient and its weight gradient are each linear in both their arguments, and
// each one's derivatives are the other two:
//   y  = conv(x, w):            dx = input_grad(dy, w),  dw = weight_grad(x, dy)
//   dx = input_grad(dy, w):     d(dy) = conv(u, w),       dw = weight_grad(u, dy)     (u: upstream of dx)
//   dw = weight_grad(x, dy):    dx = input_grad(dy, v),   d(dy) = conv(x, v)          (v: upstream of dw)

Tensor conv_4d(const Tensor& x, const Tensor& w, const Tensor& b, const ConvGeometry& g);
Tensor conv_input_grad_op(const Tensor& dy, const Tensor& w, const ConvGeometry& g);
Tensor conv_weight_grad_op(const Tensor& x, const Tensor& dy, const ConvGeometry& g);

Tensor sum_over_images_and_positions(const Tensor& dy) { return sum(sum(sum(dy, 3), 2), 0); }

// PyTorch names both second-order nodes after convolution_backward's own backward.
struct ConvInputGradBackward final : Node {
  ConvInputGradBackward(Tensor dy, Tensor w, ConvGeometry g) : dy(std::move(dy)), w(std::move(w)), g(g) {}
  const char* name() const override { return "ConvolutionBackwardBackward0"; }
  std::vector<Tensor> backward(const Tensor& u) override {
    std::vector<Tensor> grads(2);
    if (needs_input_grad(0)) grads[0] = conv_4d(u, w, Tensor(), g);
    if (needs_input_grad(1)) grads[1] = conv_weight_grad_op(u, dy, g);
    return grads;
  }
  bool supports_create_graph() const override { return true; }
  void release_saved() override { dy = w = Tensor(); }
  Tensor dy, w;
  ConvGeometry g;
};

Tensor conv_input_grad_op(const Tensor& dy, const Tensor& w, const ConvGeometry& g) {
  Tensor dx = visit_floating(dy.dtype(), "conv2d backward", [&](auto tag) {
    using T = decltype(tag);
    return computed<T>(g.input_shape(), [&](T* out) { conv_input_grad(g, array<T>(dy).data(), array<T>(w).data(), out); });
  });
  if (any_requires_grad({&dy, &w})) record(dx, std::make_shared<ConvInputGradBackward>(dy, w, g), {&dy, &w}, {&dy, &w});
  return dx;
}

struct ConvWeightGradBackward final : Node {
  ConvWeightGradBackward(Tensor x, Tensor dy, ConvGeometry g) : x(std::move(x)), dy(std::move(dy)), g(g) {}
  const char* name() const override { return "ConvolutionBackwardBackward0"; }
  std::vector<Tensor> backward(const Tensor& v) override {
    std::vector<Tensor> grads(2);
    if (needs_input_grad(0)) grads[0] = conv_input_grad_op(dy, v, g);
    if (needs_input_grad(1)) grads[1] = conv_4d(x, v, Tensor(), g);
    return grads;
  }
  bool supports_create_graph() const override { return true; }
  void release_saved() override { x = dy = Tensor(); }
  Tensor x, dy;
  ConvGeometry g;
};

Tensor conv_weight_grad_op(const Tensor& x, const Tensor& dy, const ConvGeometry& g) {
  Tensor dw = visit_floating(dy.dtype(), "conv2d backward", [&](auto tag) {
    using T = decltype(tag);
    return computed<T>(g.weight_shape(),
                       [&](T* out) { conv_weight_grad(g, array<T>(x).data(), array<T>(dy).data(), out); });
  });
  if (any_requires_grad({&x, &dy})) record(dw, std::make_shared<ConvWeightGradBackward>(x, dy, g), {&x, &dy}, {&x, &dy});
  return dw;
}

// y = conv(x, w) + b:  dx = input_grad(dy, w),  dw = weight_grad(x, dy),  db = sum of dy over n, h, w
struct ConvolutionBackward final : Node {
  ConvolutionBackward(Tensor x, Tensor w, ConvGeometry g) : x(std::move(x)), w(std::move(w)), g(g) {}
  const char* name() const override { return "ConvolutionBackward0"; }
  std::vector<Tensor> backward(const Tensor& dy) override {
    std::vector<Tensor> grads(3);
    if (GradMode::is_enabled()) {  // create_graph: the same three gradients as recorded ops
      if (needs_input_grad(0)) grads[0] = conv_input_grad_op(dy, w, g);
      if (needs_input_grad(1)) grads[1] = conv_weight_grad_op(x, dy, g);
      if (needs_input_grad(2)) grads[2] = sum_over_images_and_positions(dy);
      return grads;
    }
    visit_floating(dy.dtype(), "conv2d backward", [&](auto tag) {
      using T = decltype(tag);
      const T* grad = array<T>(dy).data();
      if (needs_input_grad(0))
        grads[0] = computed<T>(g.input_shape(), [&](T* out) { conv_input_grad(g, grad, array<T>(w).data(), out); });
      if (needs_input_grad(1))
        grads[1] = computed<T>(g.weight_shape(), [&](T* out) { conv_weight_grad(g, array<T>(x).data(), grad, out); });
      if (needs_input_grad(2))
        grads[2] = computed<T>({g.out_channels}, [&](T* out) { conv_bias_grad(g, grad, out); });
    });
    return grads;
  }
  bool supports_create_graph() const override { return true; }
  void release_saved() override { x = w = Tensor(); }
  Tensor x, w;
  ConvGeometry g;
};

Tensor conv_4d(const Tensor& x, const Tensor& w, const Tensor& b, const ConvGeometry& g) {
  Tensor y = visit_floating(x.dtype(), "conv2d", [&](auto tag) {
    using T = decltype(tag);
    const T* bias = b.defined() ? array<T>(b).data() : nullptr;
    return computed<T>(g.output_shape(), [&](T* out) { conv_forward(g, array<T>(x).data(), array<T>(w).data(), bias, out); });
  });
  if (any_requires_grad({&x, &w, &b}))
    record(y, std::make_shared<ConvolutionBackward>(x, w, g), {&x, &w, &b}, {&x, &w});
  return y;
}

void check_floating(const char* name, const Tensor& t, const Tensor& input) {
  check(t.defined(), "conv2d: ", name, " is an undefined tensor");
  check(is_floating(t.dtype()), "conv2d: ", name, " must be float32 or float64, got ", dtype_name(t.dtype()));
  check(t.dtype() == input.dtype(), "conv2d: ", name, " must have the input's dtype ", dtype_name(input.dtype()),
        ", got ", dtype_name(t.dtype()));
}

}  // namespace

Tensor conv2d(const Tensor& input, const Tensor& weight, const Tensor& bias, IntArrayRef stride, IntArrayRef padding,
              IntArrayRef dilation, std::int64_t groups) {
  check_floating("input", input, input);
  check_floating("weight", weight, input);
  if (bias.defined()) check_floating("bias", bias, input);
  const ConvParams p = make_params(stride, padding, dilation, groups);
  const Shape x_shape = input.shape(), w_shape = weight.shape();
  auto shapes = [&] {
    return concat("input of shape ", shape_str(x_shape), " and weight of shape ", shape_str(w_shape));
  };
  if (x_shape.size() != 3 && x_shape.size() != 4)
    throw Error(concat("conv2d: input must be 3-D (C, H, W) or 4-D (N, C, H, W), got ", shapes()));
  const bool batched = x_shape.size() == 4;
  Shape x4 = x_shape;
  if (!batched) x4.insert(x4.begin(), 1);
  const ConvGeometry g = make_geometry(x4, w_shape, p, shapes);
  if (bias.defined() && !has_shape(bias, {g.out_channels}))
    throw Error(concat("conv2d: bias must have shape [", g.out_channels, "] (out_channels), got ",
                       shape_str(bias.shape()), " with ", shapes()));
  // An unbatched image is a batch of one, as PyTorch computes it (so the result's grad_fn is the
  // squeeze, as there).
  if (!batched) return squeeze(conv_4d(unsqueeze(input, 0), weight, bias, g), 0);
  return conv_4d(input, weight, bias, g);
}

}  // namespace xgrad

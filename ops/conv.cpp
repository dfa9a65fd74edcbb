#include <xgrad/ops/conv.hpp>
#include <xgrad/ops/conv_impl.hpp>

#include <algorithm>
#include <exception>
#include <optional>
#include <string>
#include <type_traits>
#include <vector>

#include <xgrad/core/blas_threads_impl.hpp>
#include <xgrad/kernels/thread_pool.hpp>
#include <xgrad/core/factory.hpp>
#include <xgrad/core/grad_mode.hpp>
#include <xgrad/core/tensor_impl.hpp>
#include <xgrad/kernels/cpu_clones.hpp>
#include <xgrad/kernels/gemm.hpp>
#include <xgrad/kernels/im2col.hpp>
#include <xgrad/kernels/simd_rows.hpp>
#include <xgrad/ops/reduce.hpp>
#include <xgrad/ops/shape.hpp>
#include <xgrad/kernels/winograd.hpp>

namespace xgrad {

namespace {

using im2col::ConvGeometry;
using im2col::ConvParams;
using im2col::Unfold;

// ---- geometry ------------------------------------------------------------------------------------

// ConvParams and ConvGeometry, the sizes of one convolution, are kernels/im2col.hpp's.

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

// The checks of make_params, for parameters that come as pairs already (nn::Conv2d's options).
void check_params(const ConvParams& p) {
  auto pair = [](const std::int64_t* values) { return concat("[", values[0], ", ", values[1], "]"); };
  if (p.stride[0] <= 0 || p.stride[1] <= 0)
    throw Error(concat("conv2d: stride must be positive, got ", pair(p.stride)));
  if (p.padding[0] < 0 || p.padding[1] < 0)
    throw Error(concat("conv2d: padding must not be negative, got ", pair(p.padding)));
  if (p.dilation[0] <= 0 || p.dilation[1] <= 0)
    throw Error(concat("conv2d: dilation must be positive, got ", pair(p.dilation)));
  check(p.groups > 0, "conv2d: groups must be positive, got ", p.groups);
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
ConvGeometry make_geometry(const InlineShape& x, const InlineShape& w, const ConvParams& p, Describe shapes) {
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

// Scratch for one image's columns, from the buffer cache (each step reuses the last one's).
template <class T>
Array<T> column_buffer(const ConvGeometry& g, bool needed = true) {
  const bool empty = !needed || g.columns_are_input();
  return Array<T>::from_shape({static_cast<std::size_t>(empty ? 0 : g.rows() * g.positions())});
}

// The columns of image n: the image itself for a 1x1 kernel, else unfolded into `scratch`.
template <class T>
const T* columns_of(const Unfold& u, const T* x, std::int64_t n, Array<T>& scratch) {
  const ConvGeometry& g = u.g;
  const T* image = x + n * g.image_size();
  if (g.columns_are_input()) return image;
  im2col::unfold(u, image, scratch.data());
  return scratch.data();
}

// ---- threads -------------------------------------------------------------------------------------

// Multiply-adds a thread must get before a second one joins (about 40 us of work, well above a pool
// worker's wake-up).
constexpr double kMinWorkPerThread = 4.0e6;

// How many threads share a batch: the count the user gave OpenBLAS (OPENBLAS_NUM_THREADS or
// openblas_set_num_threads), xgrad's one thread setting, as libtorch spreads its convolutions over
// its own threads; at most one per image and one per kMinWorkPerThread multiply-adds.
std::int64_t image_threads(const ConvGeometry& g) {
  const double per_image = static_cast<double>(g.out_channels) * static_cast<double>(g.group_rows()) *
                           static_cast<double>(g.positions());
  return thread_pool::blocks_for(g.batch, per_image * static_cast<double>(g.batch), kMinWorkPerThread);
}

// Calls body(block, first, last) for `blocks` consecutive ranges of images covering [0, batch), on
// the calling thread and the pool's workers (kernels/thread_pool.hpp), and returns when all are
// done. An exception from any block is rethrown here, after every block has finished.
template <class Body>
void for_image_blocks(std::int64_t batch, std::int64_t blocks, const Body& body) {
  thread_pool::for_blocks(batch, blocks, 1, body);
}

// Calls body(first, last, sums) for each of the `blocks` ranges of images for_image_blocks makes,
// each with `size` values of its own, zeroed, to add into. Returns those buffers with the first one
// holding their total, added in block order (so the sum does not depend on which thread ran first).
template <class T, class Body>
Array<T> sum_over_image_blocks(std::int64_t batch, std::int64_t blocks, std::int64_t size, const Body& body) {
  Array<T> partial = Array<T>::from_shape({static_cast<std::size_t>(blocks * size)});
  std::fill(partial.begin(), partial.end(), T(0));  // a block without images adds zeros
  for_image_blocks(batch, blocks, [&](std::int64_t block, std::int64_t first, std::int64_t last) {
    body(first, last, partial.data() + block * size);
  });
  for (std::int64_t block = 1; block < blocks; ++block)
    for (std::int64_t i = 0; i < size; ++i)
      partial[static_cast<std::size_t>(i)] += partial[static_cast<std::size_t>(block * size + i)];
  return partial;
}

// The sum of a row: float32 rows by the SIMD kernel; float64 ones in eight interleaved running sums
// that the compiler keeps in vector registers (a single running sum is a chain of dependent
// additions it may not reorder).
template <class T>
T row_sum(const T* __restrict row, std::int64_t length) {
  if constexpr (std::is_same_v<T, float>) {
    return simd_rows::sum(row, static_cast<std::size_t>(length));
  } else {
    constexpr std::int64_t kLanes = 8;
    T lanes[kLanes] = {};
    std::int64_t l = 0;
    for (; l + kLanes <= length; l += kLanes)
      for (std::int64_t k = 0; k < kLanes; ++k) lanes[k] += row[l + k];
    T total = T(0);
    for (; l < length; ++l) total += row[l];
    for (std::int64_t k = 0; k < kLanes; ++k) total += lanes[k];
    return total;
  }
}

// db[o] += sum of dy[n, o, :, :] over the images [first, last): the bias gradient, summed by the
// backward's image blocks while their dy is still in the cache.
template <class T>
void add_bias_grads(const ConvGeometry& g, const T* dy, std::int64_t first, std::int64_t last, T* db) {
  const std::int64_t L = g.positions();
  for (std::int64_t n = first; n < last; ++n)
    for (std::int64_t o = 0; o < g.out_channels; ++o) db[o] += row_sum(dy + (n * g.out_channels + o) * L, L);
}

// ---- Winograd's forward ---------------------------------------------------------------------------

// The convolution as kernels/winograd.hpp takes it, when it has that form (a square kernel, stride
// 1, dilation 1, one group), is float32 and Winograd suits its sizes; else nothing.
std::optional<winograd::Problem> winograd_problem(const ConvGeometry& g, Dtype dtype) {
  const ConvParams& p = g.p;
  if (dtype != kFloat32 || g.kernel_h != g.kernel_w || p.groups != 1 || p.stride[0] != 1 || p.stride[1] != 1 ||
      p.dilation[0] != 1 || p.dilation[1] != 1)
    return std::nullopt;
  const winograd::Problem problem{g.batch,    g.in_channels, g.height,     g.width, g.out_channels,
                                  g.kernel_h, p.padding[0],  p.padding[1], g.out_h, g.out_w};
  if (!winograd::suits(problem)) return std::nullopt;
  return problem;
}

// y = conv(x, w) + b by Winograd: the filters transformed once, the images shared among threads.
void winograd_forward(const winograd::Problem& problem, const ConvGeometry& g, const float* x, const float* w,
                      const float* bias, float* y) {
  Array<float> u = Array<float>::from_shape({static_cast<std::size_t>(winograd::filter_values(problem))});
  winograd::transform_filters(problem, w, u.data());
  for_image_blocks(g.batch, image_threads(g), [&](std::int64_t, std::int64_t first, std::int64_t last) {
    winograd::forward(problem, x, u.data(), bias, y, first, last);
  });
}

// dx, dw and db (any may be null) by Winograd's adjoint (kernels/winograd.hpp's backward): each
// thread writes its images' dx and adds their transformed weight gradients into its own dU and their
// bias gradients into its own sums, and the total dU is transformed back. (dx as a transposed
// convolution, a forward of its own over dy padded by k - 1 on each side, read five times more
// tiles for a LeNet's second convolution, most of them padding, and transformed dy again after the
// weight gradient had.)
void winograd_backward(const winograd::Problem& problem, const ConvGeometry& g, const float* x, const float* dy,
                       const float* w, float* dx, float* dw, float* db) {
  Array<float> u = Array<float>::from_shape({static_cast<std::size_t>(dx ? winograd::filter_values(problem) : 0)});
  if (dx != nullptr) winograd::transform_filters(problem, w, u.data());
  const std::int64_t du_size = dw ? winograd::filter_values(problem) : 0, db_size = db ? g.out_channels : 0;
  const Array<float> sums = sum_over_image_blocks<float>(
      g.batch, image_threads(g), du_size + db_size, [&](std::int64_t first, std::int64_t last, float* block_sums) {
        winograd::backward(problem, x, dy, u.data(), dw ? block_sums : nullptr, dx, first, last);
        if (db != nullptr) add_bias_grads(g, dy, first, last, block_sums + du_size);
      });
  if (dw != nullptr) winograd::filter_grads(problem, sums.data(), dw);
  if (db != nullptr) std::copy(sums.data() + du_size, sums.data() + du_size + db_size, db);
}

// ---- the three products --------------------------------------------------------------------------
//
// Each runs image by image, so that one image's columns (at most a few hundred KB for a LeNet) stay
// in the cache between their unfolding and their product; the images are shared among
// image_threads() threads.

// y = conv(x, w) + b: y[n] (O x OH OW) = w (O x C k k) . columns(x[n]), one gemm per group, the bias
// written first and the product added onto it. With `kept` (N C k k OH OW elements), every image's
// columns are left there for the weight gradient; without, they go through a scratch buffer, or a
// float32 convolution that Winograd suits goes there instead.
template <class T>
void conv_forward(const ConvGeometry& g, const T* x, const T* w, const T* bias, T* y, T* kept) {
  if constexpr (std::is_same_v<T, float>) {
    if (kept == nullptr)
      if (const auto problem = winograd_problem(g, kFloat32)) return winograd_forward(*problem, g, x, w, bias, y);
  }
  const Unfold unfold(g);
  const std::int64_t L = g.positions(), Og = g.group_out(), Kg = g.group_rows();
  for_image_blocks(g.batch, image_threads(g), [&](std::int64_t, std::int64_t first, std::int64_t last) {
    Array<T> scratch = column_buffer<T>(g, kept == nullptr);
    for (std::int64_t n = first; n < last; ++n) {
      const T* col = nullptr;
      if (kept != nullptr) {
        im2col::unfold(unfold, x + n * g.image_size(), kept + n * g.rows() * L);
        col = kept + n * g.rows() * L;
      } else {
        col = columns_of(unfold, x, n, scratch);
      }
      T* out = y + n * g.out_channels * L;
      if (bias != nullptr)
        for (std::int64_t o = 0; o < g.out_channels; ++o) std::fill(out + o * L, out + (o + 1) * L, bias[o]);
      for (std::int64_t grp = 0; grp < g.groups(); ++grp)
        gemm(false, false, Og, L, Kg, T(1), w + grp * Og * Kg, Kg, col + grp * Kg * L, L, bias ? T(1) : T(0),
             out + grp * Og * L, L);
    }
  });
}

// dx[n] = col2im(w^T dy[n]) for one image (the transposed convolution); every element of the image
// is written. dcol: scratch for C k k x OH OW values (unused for a 1x1 kernel, whose columns are the
// image itself). (Running the product a few channels at a time, each chunk folded while still in the
// L1 cache, measured no faster for a LeNet's second convolution.)
template <class T>
void input_grad_of_image(const Unfold& unfold, const T* grad, const T* w, T* image, T* dcol) {
  const ConvGeometry& g = unfold.g;
  const std::int64_t L = g.positions(), Og = g.group_out(), Kg = g.group_rows();
  const bool direct = g.columns_are_input();
  if (direct) dcol = image;
  for (std::int64_t grp = 0; grp < g.groups(); ++grp)
    gemm(true, false, Kg, L, Og, T(1), w + grp * Og * Kg, Kg, grad + grp * Og * L, L, T(0), dcol + grp * Kg * L, L);
  if (!direct) {
    std::fill(image, image + g.image_size(), T(0));
    im2col::fold_add(unfold, dcol, image);
  }
}

// dw^T += columns (C k k x OH OW) . dy[n]^T for one image, per group, into dw_t (per group a
// Kg x Og block). dw^T rather than dw: the product then reads the large columns as they are and only
// dy[n] (O x OH OW values) transposed, which libxsmm's generated transpose copies on the way in (or
// OpenBLAS reads in place, where the gemm rule sends the product there).
template <class T>
void weight_grad_of_image(const ConvGeometry& g, const T* col, const T* grad, T* dw_t) {
  const std::int64_t L = g.positions(), Og = g.group_out(), Kg = g.group_rows();
  for (std::int64_t grp = 0; grp < g.groups(); ++grp)
    gemm(false, true, Kg, Og, L, T(1), col + grp * Kg * L, L, grad + grp * Og * L, L, T(1), dw_t + grp * Kg * Og, Og);
}

// dx = col2im(w^T dy), dw = sum over images of dy[n] columns(x[n])^T and db = dy summed over images
// and positions, any of them left out with a null pointer, in one pass over the images (dy[n] is
// read while in the cache, and one set of threads serves all three). Every element of dx, dw and db
// is written. Each thread sums its own images' weight and bias gradients; the partial sums are added
// in block order and dw's transposed back at the end.
// `kept`: the columns conv_forward left, or nullptr to unfold x again. A float32 convolution that
// Winograd suits has both computed there instead.
template <class T>
void conv_backward(const ConvGeometry& g, const T* x, const T* dy, const T* w, T* dx, T* dw, T* db,
                   const T* kept) {
  if constexpr (std::is_same_v<T, float>) {
    if (const auto problem = winograd_problem(g, kFloat32))
      return winograd_backward(*problem, g, x, dy, w, dx, dw, db);
  }
  const Unfold unfold(g);
  const std::int64_t L = g.positions(), O = g.out_channels, Og = g.group_out(), Kg = g.group_rows();
  const std::int64_t size = dw ? g.groups() * Kg * Og : 0, db_size = db ? O : 0;
  const Array<T> dw_t = sum_over_image_blocks<T>(
      g.batch, image_threads(g), size + db_size, [&](std::int64_t first, std::int64_t last, T* sums) {
        Array<T> dcol = column_buffer<T>(g, dx != nullptr);
        Array<T> col = column_buffer<T>(g, dw != nullptr && kept == nullptr);
        for (std::int64_t n = first; n < last; ++n) {
          const T* grad = dy + n * O * L;
          if (dx != nullptr) input_grad_of_image(unfold, grad, w, dx + n * g.image_size(), dcol.data());
          if (dw != nullptr) {
            const T* columns = kept ? kept + n * g.rows() * L : columns_of(unfold, x, n, col);
            weight_grad_of_image(g, columns, grad, sums);
          }
          if (db != nullptr) add_bias_grads(g, dy, n, n + 1, sums + size);
        }
      });
  if (db != nullptr) std::copy(dw_t.data() + size, dw_t.data() + size + db_size, db);
  if (dw == nullptr) return;
  for (std::int64_t grp = 0; grp < g.groups(); ++grp) {
    const T* sums = dw_t.data() + grp * Kg * Og;
    for (std::int64_t o = 0; o < Og; ++o)
      for (std::int64_t k = 0; k < Kg; ++k) dw[(grp * Og + o) * Kg + k] = sums[k * Og + o];
  }
}

template <class T, class Kernel>
Tensor computed(const std::array<std::int64_t, 4>& shape, Kernel kernel) {
  Array<T> out = Array<T>::from_shape(shape);
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
  ConvInputGradBackward(const Tensor& dy, const Tensor& w, ConvGeometry g)
      : saved_dy(dy, /*is_output=*/false), saved_w(w, /*is_output=*/false), g(g) {}
  const char* name() const override { return "ConvolutionBackwardBackward0"; }
  const char* formula() const override {
    return "d conv_transpose(dy, w)/d dy = conv(g, w)\nd conv_transpose(dy, w)/d w = correlation of g with dy";
  }
  gradient_list backward(const Tensor& u) override {
    const Tensor dy = saved_dy.unpack(*this), w = saved_w.unpack(*this);
    gradient_list grads(2);
    if (needs_input_grad(0)) grads[0] = conv_4d(u, w, Tensor(), g);
    if (needs_input_grad(1)) grads[1] = conv_weight_grad_op(u, dy, g);
    return grads;
  }
  void release_saved() override {
    saved_dy.reset();
    saved_w.reset();
  }
  SavedTensor saved_dy, saved_w;
  ConvGeometry g;
};

Tensor conv_input_grad_op(const Tensor& dy, const Tensor& w, const ConvGeometry& g) {
  Tensor dx = visit_floating(dy.dtype(), "conv2d backward", [&](auto tag) {
    using T = decltype(tag);
    return computed<T>(g.input_shape(), [&](T* out) {
      conv_backward<T>(g, nullptr, array<T>(dy).data(), array<T>(w).data(), out, nullptr, nullptr, nullptr);
    });
  });
  if (any_requires_grad({&dy, &w})) record(dx, make_node<ConvInputGradBackward>(dy, w, g), {&dy, &w});
  return dx;
}

struct ConvWeightGradBackward final : Node {
  ConvWeightGradBackward(const Tensor& x, const Tensor& dy, ConvGeometry g)
      : saved_x(x, /*is_output=*/false), saved_dy(dy, /*is_output=*/false), g(g) {}
  const char* name() const override { return "ConvolutionBackwardBackward0"; }
  const char* formula() const override {
    return "d correlation(x, dy)/d x = conv_transpose(dy, g)\nd correlation(x, dy)/d dy = conv(x, g)";
  }
  gradient_list backward(const Tensor& v) override {
    const Tensor x = saved_x.unpack(*this), dy = saved_dy.unpack(*this);
    gradient_list grads(2);
    if (needs_input_grad(0)) grads[0] = conv_input_grad_op(dy, v, g);
    if (needs_input_grad(1)) grads[1] = conv_4d(x, v, Tensor(), g);
    return grads;
  }
  void release_saved() override {
    saved_x.reset();
    saved_dy.reset();
  }
  SavedTensor saved_x, saved_dy;
  ConvGeometry g;
};

Tensor conv_weight_grad_op(const Tensor& x, const Tensor& dy, const ConvGeometry& g) {
  Tensor dw = visit_floating(dy.dtype(), "conv2d backward", [&](auto tag) {
    using T = decltype(tag);
    return computed<T>(g.weight_shape(), [&](T* out) {
      conv_backward<T>(g, array<T>(x).data(), array<T>(dy).data(), nullptr, nullptr, out, nullptr, nullptr);
    });
  });
  if (any_requires_grad({&x, &dy})) record(dw, make_node<ConvWeightGradBackward>(x, dy, g), {&x, &dy});
  return dw;
}

// y = conv(x, w) + b:  dx = input_grad(dy, w),  dw = weight_grad(x, dy),  db = sum of dy over n, h, w
struct ConvolutionBackward final : Node {
  ConvolutionBackward(const Tensor& x, const Tensor& w, Tensor columns, ConvGeometry g)
      : saved_x(x, /*is_output=*/false), saved_w(w, /*is_output=*/false), columns(std::move(columns)), g(g) {}
  const char* name() const override { return "ConvolutionBackward0"; }
  const char* formula() const override {
    return "d conv/d x = conv_transpose(g, w)\nd conv/d w = correlation of x with g\n"
           "d conv/d b = g summed over batch and positions";
  }
  gradient_list backward(const Tensor& dy) override {
    const Tensor x = saved_x.unpack(*this), w = saved_w.unpack(*this);
    gradient_list grads(3);
    if (needs_input_grad(0)) grads[0] = conv_input_grad_op(dy, w, g);
    if (needs_input_grad(1)) grads[1] = conv_weight_grad_op(x, dy, g);
    if (needs_input_grad(2)) grads[2] = sum_over_images_and_positions(dy);
    return grads;
  }
  // All three gradients in one pass over the images, reusing the forward's unfolded input.
  gradient_list fused_backward(const Tensor& dy) override {
    const Tensor x = saved_x.unpack(*this), w = saved_w.unpack(*this);
    gradient_list grads(3);
    visit_floating(dy.dtype(), "conv2d backward", [&](auto tag) {
      using T = decltype(tag);
      const T* grad = array<T>(dy).data();
      Array<T> dx, dw, db;
      if (needs_input_grad(0)) dx = Array<T>::from_shape(g.input_shape());
      if (needs_input_grad(1)) dw = Array<T>::from_shape(g.weight_shape());
      if (needs_input_grad(2)) db = Array<T>::from_shape({static_cast<std::size_t>(g.out_channels)});
      conv_backward(g, array<T>(x).data(), grad, array<T>(w).data(), needs_input_grad(0) ? dx.data() : nullptr,
                    needs_input_grad(1) ? dw.data() : nullptr, needs_input_grad(2) ? db.data() : nullptr,
                    columns.defined() ? array<T>(columns).data() : nullptr);
      if (needs_input_grad(0)) grads[0] = make_tensor(std::move(dx));
      if (needs_input_grad(1)) grads[1] = make_tensor(std::move(dw));
      if (needs_input_grad(2)) grads[2] = make_tensor(std::move(db));
    });
    return grads;
  }
  void release_saved() override {
    saved_x.reset();
    saved_w.reset();
    columns = Tensor();
  }
  SavedTensor saved_x, saved_w;
  // The forward's unfolded input, kept when the weight needs a gradient and a batch's columns are
  // small (kMostKeptColumnBytes); else empty, and the backward unfolds each image again.
  Tensor columns;
  ConvGeometry g;
};

// The most bytes of columns a forward keeps for its weight gradient: half of this machine's 1 MB L2.
constexpr double kMostKeptColumnBytes = 512.0 * 1024.0;

Tensor conv_4d(const Tensor& x, const Tensor& w, const Tensor& b, const ConvGeometry& g) {
  const bool record_op = any_requires_grad({&x, &w, &b});
  // Winograd computes the weight gradient from x itself: no columns to keep. Others keep theirs
  // only while a batch's columns are small: larger ones come back from memory slower than the
  // backward unfolds one image's again, warm, right before its product (a LeNet's first
  // convolution keeps 3.7 MB otherwise, and its training step ran 4-10% slower keeping them).
  const double column_bytes = static_cast<double>(g.batch) * static_cast<double>(g.rows()) *
                              static_cast<double>(g.positions()) * static_cast<double>(x.dtype().itemsize());
  const bool keep_columns = record_op && w.requires_grad() && !g.columns_are_input() &&
                            !winograd_problem(g, x.dtype()) && column_bytes <= kMostKeptColumnBytes;
  Tensor columns;
  Tensor y = visit_floating(x.dtype(), "conv2d", [&](auto tag) {
    using T = decltype(tag);
    const T* bias = b.defined() ? array<T>(b).data() : nullptr;
    T* kept = nullptr;
    if (keep_columns) {
      columns = make_tensor(Array<T>::from_shape({static_cast<std::size_t>(g.batch * g.rows() * g.positions())}));
      kept = mutable_array<T>(columns).data();
    }
    return computed<T>(g.output_shape(),
                       [&](T* out) { conv_forward(g, array<T>(x).data(), array<T>(w).data(), bias, out, kept); });
  });
  if (record_op) record(y, make_node<ConvolutionBackward>(x, w, std::move(columns), g), {&x, &w, &b});
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
  return detail::conv2d(input, weight, bias, make_params(stride, padding, dilation, groups));
}

Tensor detail::conv2d(const Tensor& input, const Tensor& weight, const Tensor& bias, const im2col::ConvParams& p) {
  check_floating("input", input, input);
  check_floating("weight", weight, input);
  if (bias.defined()) check_floating("bias", bias, input);
  check_params(p);
  const InlineShape x_shape = shape_of(input), w_shape = shape_of(weight);
  auto shapes = [&] {
    return concat("input of shape ", shape_str(x_shape.to_shape()), " and weight of shape ",
                  shape_str(w_shape.to_shape()));
  };
  if (x_shape.size() != 3 && x_shape.size() != 4)
    throw Error(concat("conv2d: input must be 3-D (C, H, W) or 4-D (N, C, H, W), got ", shapes()));
  const bool batched = x_shape.size() == 4;
  InlineShape x4 = x_shape;
  if (!batched) x4.assign(Shape{1, x_shape[0], x_shape[1], x_shape[2]});
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

#include <xgrad/ops/layer_norm.hpp>

#include <cmath>
#include <cstddef>
#include <vector>

#include <xgrad/core/grad_mode.hpp>
#include <xgrad/core/tensor_impl.hpp>
#include <xgrad/kernels/simd_rows.hpp>
#include <xgrad/kernels/thread_pool.hpp>
#include <xgrad/ops/elementwise.hpp>
#include <xgrad/ops/reduce.hpp>
#include <xgrad/ops/shape.hpp>

namespace xgrad {

namespace {

// The input as a row-major [rows, width] matrix: each row holds the values normalised together.
struct Rows {
  std::size_t rows = 0, width = 0;
  Shape as_2d() const { return {static_cast<std::int64_t>(rows), static_cast<std::int64_t>(width)}; }
};

// Per row: the mean and 1 / sqrt(var + eps), in double.
struct RowStats {
  std::vector<double> mean, rstd;
};

// ---- the recorded formula (the definition of the derivative) ----------------------------------------

// x_hat and rstd of the rows of x (a [rows, width] or [N, G, K L] tensor, normalised over its last
// dim), from recorded ops, so that their dependence on x reaches a second derivative.
struct Normalised {
  Tensor x_hat, rstd;
};
Normalised normalise_last_dim(const Tensor& x, double eps) {
  const Tensor centred = x - mean(x, -1, /*keepdim=*/true);
  const Tensor rstd = pow(mean(centred * centred, -1, /*keepdim=*/true) + eps, -0.5);
  return {centred * rstd, rstd};
}

// dx = rstd (gw - mean(gw) - x_hat mean(gw x_hat)), the means over the last dim.
Tensor normalised_input_gradient(const Tensor& gw, const Normalised& n) {
  return n.rstd * (gw - mean(gw, -1, /*keepdim=*/true) - n.x_hat * mean(gw * n.x_hat, -1, /*keepdim=*/true));
}

gradient_list layer_norm_gradients(const Tensor& grad, const Tensor& input, const Tensor& weight,
                                       const Shape& normalized_shape, const Rows& rows, double eps,
                                       const Node& node) {
  const Normalised n = normalise_last_dim(reshape(input, rows.as_2d()), eps);
  const Tensor g = reshape(grad, rows.as_2d());
  gradient_list grads(3);
  if (node.needs_input_grad(0)) {
    const Tensor gw = weight.defined() ? g * reshape(weight, {1, static_cast<std::int64_t>(rows.width)}) : g;
    grads[0] = reshape(normalised_input_gradient(gw, n), input.shape());
  }
  if (node.needs_input_grad(1)) grads[1] = reshape(sum(g * n.x_hat, 0), normalized_shape);
  if (node.needs_input_grad(2)) grads[2] = reshape(sum(g, 0), normalized_shape);
  return grads;
}

// ---- layer_norm's fused row kernels -----------------------------------------------------------------

// sum_j term(j) for j < n, in double, over eight partial sums: independent additions overlap (and
// vectorise), where one running sum would wait for each addition in turn.
template <class Term>
double lane_sum(std::size_t n, const Term& term) {
  double lanes[8] = {0, 0, 0, 0, 0, 0, 0, 0};
  std::size_t j = 0;
  for (; j + 8 <= n; j += 8)
    for (std::size_t lane = 0; lane < 8; ++lane) lanes[lane] += term(j + lane);
  for (; j < n; ++j) lanes[0] += term(j);
  return ((lanes[0] + lanes[1]) + (lanes[2] + lanes[3])) + ((lanes[4] + lanes[5]) + (lanes[6] + lanes[7]));
}

// Row r's mean and biased variance, two passes in double (no cancellation for rows whose mean is
// large against their spread), kept in stats, then y = (x - mean) rstd weight + bias.
template <class T>
void layer_norm_row(const T* x, T* y, std::size_t d, std::size_t r, const T* weight, const T* bias, double eps,
                    RowStats& stats) {
  const T* xr = x + r * d;
  const double mean = lane_sum(d, [xr](std::size_t j) { return static_cast<double>(xr[j]); }) / static_cast<double>(d);
  const double squares = lane_sum(d, [xr, mean](std::size_t j) {
    const double centred = static_cast<double>(xr[j]) - mean;
    return centred * centred;
  });
  const double rstd = 1.0 / std::sqrt(squares / static_cast<double>(d) + eps);
  stats.mean[r] = mean;
  stats.rstd[r] = rstd;
  const T m = static_cast<T>(mean), s = static_cast<T>(rstd);
  T* yr = y + r * d;
  for (std::size_t j = 0; j < d; ++j) yr[j] = (xr[j] - m) * s;
  if (weight)
    for (std::size_t j = 0; j < d; ++j) yr[j] *= weight[j];
  if (bias)
    for (std::size_t j = 0; j < d; ++j) yr[j] += bias[j];
}

// Every row; rows are independent, so they are split over xgrad's threads (kernels/thread_pool.hpp)
// without changing a bit.
template <class T>
void layer_norm_rows(const T* x, T* y, const Rows& rows, const T* weight, const T* bias, double eps,
                     RowStats& stats) {
  stats.mean.resize(rows.rows);
  stats.rstd.resize(rows.rows);
  const std::size_t d = rows.width;
  simd_rows::for_row_blocks(rows.rows, rows.rows * d, [&](std::size_t first, std::size_t last) {
    for (std::size_t r = first; r < last; ++r) layer_norm_row(x, y, d, r, weight, bias, eps, stats);
  });
}

// The formula above for row r with the forward's mean and rstd: dx's row. x_hat and gw are scratch
// of the row's width.
template <class T>
void layer_norm_backward_row(const T* g, const T* x, std::size_t d, std::size_t r, const T* weight,
                             const RowStats& stats, T* dx, double* x_hat, double* gw) {
  const T* gr = g + r * d;
  const T* xr = x + r * d;
  const double mean = stats.mean[r], rstd = stats.rstd[r];
  for (std::size_t j = 0; j < d; ++j) {
    x_hat[j] = (static_cast<double>(xr[j]) - mean) * rstd;
    gw[j] = static_cast<double>(gr[j]);
  }
  if (weight)
    for (std::size_t j = 0; j < d; ++j) gw[j] *= static_cast<double>(weight[j]);
  const double mean_gw = lane_sum(d, [gw](std::size_t j) { return gw[j]; }) / static_cast<double>(d);
  const double mean_gw_x_hat =
      lane_sum(d, [gw, x_hat](std::size_t j) { return gw[j] * x_hat[j]; }) / static_cast<double>(d);
  T* out = dx + r * d;
  for (std::size_t j = 0; j < d; ++j) out[j] = static_cast<T>(rstd * (gw[j] - mean_gw - x_hat[j] * mean_gw_x_hat));
}

// dweight_j = sum over rows of g x_hat and dbias_j = sum over rows of g, in double, rows in order,
// for the columns [first, last).
template <class T>
void layer_norm_column_sums(const T* g, const T* x, const Rows& rows, const RowStats& stats, std::size_t first,
                            std::size_t last, double* dweight, double* dbias) {
  const std::size_t d = rows.width;
  for (std::size_t r = 0; r < rows.rows; ++r) {
    const double mean = stats.mean[r], rstd = stats.rstd[r];
    for (std::size_t j = first; j < last; ++j) {
      const double gj = static_cast<double>(g[r * d + j]);
      dweight[j] += gj * ((static_cast<double>(x[r * d + j]) - mean) * rstd);
      dbias[j] += gj;
    }
  }
}

// dx row by row, and the column sums for dweight and dbias. The rows of dx are split over xgrad's
// threads, and the column sums by columns, each column still adding its rows in order: the same
// bits as on one thread.
template <class T>
void layer_norm_backward_rows(const T* g, const T* x, const Rows& rows, const T* weight, const RowStats& stats,
                              T* dx, std::vector<double>& dweight, std::vector<double>& dbias) {
  const std::size_t d = rows.width;
  dweight.assign(d, 0.0);
  dbias.assign(d, 0.0);
  if (dx)
    simd_rows::for_row_blocks(rows.rows, rows.rows * d, [&](std::size_t first, std::size_t last) {
      std::vector<double> x_hat(d), gw(d);
      for (std::size_t r = first; r < last; ++r)
        layer_norm_backward_row(g, x, d, r, weight, stats, dx, x_hat.data(), gw.data());
    });
  const std::int64_t column_blocks = thread_pool::blocks_for(static_cast<std::int64_t>(d),
                                                             static_cast<double>(rows.rows * d),
                                                             static_cast<double>(simd_rows::kElementsPerThread));
  thread_pool::for_blocks(static_cast<std::int64_t>(d), column_blocks, 8,
                          [&](std::int64_t, std::int64_t first, std::int64_t last) {
                            layer_norm_column_sums(g, x, rows, stats, static_cast<std::size_t>(first),
                                                   static_cast<std::size_t>(last), dweight.data(), dbias.data());
                          });
}

template <class T>
Tensor tensor_of(const std::vector<double>& values, const Shape& shape) {
  Array<T> out = Array<T>::from_shape(to_xshape(shape));
  for (std::size_t i = 0; i < values.size(); ++i) out.data()[i] = static_cast<T>(values[i]);
  return make_tensor(std::move(out));
}

// dx = rstd (gw - mean(gw) - x_hat mean(gw x_hat)), dweight = sum_rows(g x_hat), dbias = sum_rows(g)
struct NativeLayerNormBackward final : Node {
  NativeLayerNormBackward(const Tensor& input, const Tensor& weight, Shape normalized_shape, Rows rows, RowStats stats,
                          double eps)
      : input(input, /*is_output=*/false), weight(weight, /*is_output=*/false),
        normalized_shape(std::move(normalized_shape)), rows(rows), stats(std::move(stats)), eps(eps) {}
  const char* name() const override { return "NativeLayerNormBackward0"; }
  const char* formula() const override {
    return "d layer_norm(x)/d x = rstd * (g w - mean(g w) - x_hat * mean(g w x_hat)), x_hat = (x - mean) * rstd, "
           "means over the normalized dims\n"
           "d layer_norm(x)/d weight = g * x_hat summed over the leading dims\n"
           "d layer_norm(x)/d bias = g summed over the leading dims";
  }
  gradient_list backward(const Tensor& grad) override {
    const Tensor input = this->input.unpack(*this);
    const Tensor weight = this->weight.unpack(*this);
    return layer_norm_gradients(grad, input, weight, normalized_shape, rows, eps, *this);
  }
  // One pass over each row for its two sums and one to write dx, with the weight's and bias's
  // sums in double.
  gradient_list fused_backward(const Tensor& grad) override {
    const Tensor input = this->input.unpack(*this);
    const Tensor weight = this->weight.unpack(*this);
    return visit_floating(grad.dtype(), "layer_norm backward", [&](auto tag) {
      using T = decltype(tag);
      gradient_list grads(3);
      Array<T> dx;
      if (needs_input_grad(0)) dx = Array<T>::from_shape(to_xshape(input.shape()));
      std::vector<double> dweight, dbias;
      layer_norm_backward_rows(array<T>(grad).data(), array<T>(input).data(), rows,
                               weight.defined() ? array<T>(weight).data() : nullptr, stats,
                               needs_input_grad(0) ? dx.data() : nullptr, dweight, dbias);
      if (needs_input_grad(0)) grads[0] = make_tensor(std::move(dx));
      if (needs_input_grad(1)) grads[1] = tensor_of<T>(dweight, normalized_shape);
      if (needs_input_grad(2)) grads[2] = tensor_of<T>(dbias, normalized_shape);
      return grads;
    });
  }
  void release_saved() override {
    input.reset();
    weight.reset();
  }
  SavedTensor input;   // x with its graph: under create_graph the formula differentiates through it
  SavedTensor weight;  // undefined without an affine transform
  Shape normalized_shape;
  Rows rows;
  RowStats stats;  // what the fused backward reads instead of recomputing
  double eps;
};

// ---- group_norm ------------------------------------------------------------------------------------

// The input (N, C, *) as [N, G, K L] (K = C / G channels of L values per group) and as [N, C, L].
struct Groups {
  std::int64_t batch = 0, channels = 0, groups = 0, inner = 1;
  Shape grouped() const { return {batch, groups, channels / groups * inner}; }
  Shape by_channel() const { return {batch, channels, inner}; }
};

// dx = rstd (gw - mean(gw) - x_hat mean(gw x_hat)) over each group, gw = g weight_c;
// dweight_c = sum(g x_hat), dbias_c = sum(g) over the samples and the channel's values
struct NativeGroupNormBackward final : Node {
  NativeGroupNormBackward(const Tensor& input, const Tensor& weight, Groups groups, double eps)
      : input(input, /*is_output=*/false), weight(weight, /*is_output=*/false), groups(groups), eps(eps) {}
  const char* name() const override { return "NativeGroupNormBackward0"; }
  const char* formula() const override {
    return "d group_norm(x)/d x = rstd * (g w - mean(g w) - x_hat * mean(g w x_hat)), x_hat = (x - mean) * rstd, "
           "means over each sample's group of channels\n"
           "d group_norm(x)/d weight = g * x_hat summed over all but the channel dim\n"
           "d group_norm(x)/d bias = g summed over all but the channel dim";
  }
  gradient_list backward(const Tensor& grad) override {
    const Tensor input = this->input.unpack(*this);
    const Tensor weight = this->weight.unpack(*this);
    const Normalised n = normalise_last_dim(reshape(input, groups.grouped()), eps);
    const Tensor g = reshape(grad, groups.by_channel());
    const Tensor x_hat = reshape(n.x_hat, groups.by_channel());
    gradient_list grads(3);
    if (needs_input_grad(0)) {
      const Tensor gw = weight.defined() ? g * reshape(weight, {1, groups.channels, 1}) : g;
      grads[0] = reshape(normalised_input_gradient(reshape(gw, groups.grouped()), n), input.shape());
    }
    if (needs_input_grad(1)) grads[1] = reshape(sum(sum(g * x_hat, 2), 0), weight.shape());
    if (needs_input_grad(2)) grads[2] = reshape(sum(sum(g, 2), 0), {groups.channels});
    return grads;
  }
  void release_saved() override {
    input.reset();
    weight.reset();
  }
  SavedTensor input;
  SavedTensor weight;
  Groups groups;
  double eps;
};

// y = (x - mean_group) rstd_group weight_c + bias_c, the statistics of each [K L] run in double.
template <class T>
void group_norm_forward(const T* x, T* y, const Groups& groups, const T* weight, const T* bias, double eps) {
  const auto per_group = static_cast<std::size_t>(groups.channels / groups.groups * groups.inner);
  const auto per_channel = static_cast<std::size_t>(groups.inner);
  const auto channels_per_group = static_cast<std::size_t>(groups.channels / groups.groups);
  for (std::int64_t n = 0; n < groups.batch; ++n)
    for (std::int64_t grp = 0; grp < groups.groups; ++grp) {
      const std::size_t offset = static_cast<std::size_t>(n * groups.groups + grp) * per_group;
      double total = 0, squares = 0;
      for (std::size_t i = 0; i < per_group; ++i) total += static_cast<double>(x[offset + i]);
      const double mean = per_group ? total / static_cast<double>(per_group) : 0.0;
      for (std::size_t i = 0; i < per_group; ++i) {
        const double c = static_cast<double>(x[offset + i]) - mean;
        squares += c * c;
      }
      const double rstd = 1.0 / std::sqrt((per_group ? squares / static_cast<double>(per_group) : 0.0) + eps);
      for (std::size_t k = 0; k < channels_per_group; ++k) {
        const std::size_t c = static_cast<std::size_t>(grp) * channels_per_group + k;
        const T scale = static_cast<T>(rstd * (weight ? static_cast<double>(weight[c]) : 1.0));
        const T shift = bias ? bias[c] : T(0);
        const T m = static_cast<T>(mean);
        for (std::size_t l = 0; l < per_channel; ++l) {
          const std::size_t i = offset + k * per_channel + l;
          y[i] = (x[i] - m) * scale + shift;
        }
      }
    }
}

// ---- argument checks ------------------------------------------------------------------------------

void check_floating_input(const Tensor& input, const char* op) {
  if (!input.defined()) throw Error(concat(op, ": input is an undefined tensor"));
  if (!is_floating(input.dtype()))
    throw Error(concat(op, ": expected a floating point input (float32 or float64), got ", dtype_name(input.dtype())));
}

void check_same_dtype(const Tensor& t, const char* what, const Tensor& input, const char* op) {
  if (t.defined() && t.dtype() != input.dtype())
    throw Error(concat(op, ": ", what, " has dtype ", dtype_name(t.dtype()), " but the input has dtype ",
                       dtype_name(input.dtype())));
}

Rows check_layer_norm_arguments(const Tensor& input, const Shape& normalized_shape, const Tensor& weight,
                                const Tensor& bias) {
  check_floating_input(input, "layer_norm");
  if (normalized_shape.empty())
    throw Error("layer_norm: Expected normalized_shape to be at least 1-dimensional, i.e., containing at least one "
                "element, but got normalized_shape = []");
  for (const char* what : {"weight", "bias"}) {
    const Tensor& t = what[0] == 'w' ? weight : bias;
    if (t.defined() && t.shape() != normalized_shape)
      throw Error(concat("layer_norm: Expected ", what, " to be of same shape as normalized_shape, but got ", what,
                         " of shape ", shape_str(t.shape()), " and normalized_shape = ", shape_str(normalized_shape)));
    check_same_dtype(t, what, input, "layer_norm");
  }
  const Shape& shape = input.shape();
  const std::size_t k = normalized_shape.size();
  bool matches = shape.size() >= k;
  for (std::size_t i = 0; matches && i < k; ++i) matches = shape[shape.size() - k + i] == normalized_shape[i];
  if (!matches) {
    std::string expected = "[*";
    for (std::int64_t size : normalized_shape) expected += concat(", ", size);
    throw Error(concat("layer_norm: Given normalized_shape=", shape_str(normalized_shape), ", expected input with shape ",
                       expected, "], but got input of size", shape_str(shape)));
  }
  Rows rows;
  rows.width = 1;
  for (std::int64_t size : normalized_shape) rows.width *= static_cast<std::size_t>(size);
  rows.rows = rows.width ? static_cast<std::size_t>(input.numel()) / rows.width : 0;
  return rows;
}

Groups check_group_norm_arguments(const Tensor& input, std::int64_t num_groups, const Tensor& weight,
                                  const Tensor& bias) {
  check_floating_input(input, "group_norm");
  if (input.dim() < 2)
    throw Error(concat("group_norm: Expected at least 2 dimensions for input tensor but received ", input.dim()));
  const std::int64_t channels = input.size(1);
  if (num_groups <= 0 || channels % num_groups != 0)
    throw Error(concat("group_norm: Expected number of channels in input to be divisible by num_groups, but got input "
                       "of shape ", shape_str(input.shape()), " and num_groups=", num_groups));
  for (const char* what : {"weight", "bias"}) {
    const Tensor& t = what[0] == 'w' ? weight : bias;
    if (t.defined() && (t.dim() != 1 || t.numel() != channels))
      throw Error(concat("group_norm: Expected ", what, " to be a vector of size equal to the number of channels in ",
                         "input, but got ", what, " of shape ", shape_str(t.shape()), " and input of shape ",
                         shape_str(input.shape())));
    check_same_dtype(t, what, input, "group_norm");
  }
  Groups groups;
  groups.batch = input.size(0);
  groups.channels = channels;
  groups.groups = num_groups;
  for (std::int64_t d = 2; d < input.dim(); ++d) groups.inner *= input.size(d);
  return groups;
}

}  // namespace

Tensor layer_norm(const Tensor& input, IntArrayRef normalized_shape, const Tensor& weight, const Tensor& bias,
                  double eps, bool /*cudnn_enable*/) {
  const Shape norm_shape = normalized_shape.vec();
  const Rows rows = check_layer_norm_arguments(input, norm_shape, weight, bias);
  RowStats stats;
  Tensor out = visit_floating(input.dtype(), "layer_norm", [&](auto tag) {
    using T = decltype(tag);
    Array<T> y = Array<T>::from_shape(to_xshape(input.shape()));
    layer_norm_rows(array<T>(input).data(), y.data(), rows, weight.defined() ? array<T>(weight).data() : nullptr,
                    bias.defined() ? array<T>(bias).data() : nullptr, eps, stats);
    return make_tensor(std::move(y));
  });
  if (any_requires_grad({&input, &weight, &bias}))
    record(out, make_node<NativeLayerNormBackward>(input, weight, norm_shape, rows, std::move(stats), eps),
           {&input, &weight, &bias});
  return out;
}

Tensor group_norm(const Tensor& input, std::int64_t num_groups, const Tensor& weight, const Tensor& bias, double eps,
                  bool /*cudnn_enabled*/) {
  const Groups groups = check_group_norm_arguments(input, num_groups, weight, bias);
  Tensor out = visit_floating(input.dtype(), "group_norm", [&](auto tag) {
    using T = decltype(tag);
    Array<T> y = Array<T>::from_shape(to_xshape(input.shape()));
    group_norm_forward(array<T>(input).data(), y.data(), groups, weight.defined() ? array<T>(weight).data() : nullptr,
                       bias.defined() ? array<T>(bias).data() : nullptr, eps);
    return make_tensor(std::move(y));
  });
  if (any_requires_grad({&input, &weight, &bias}))
    record(out, make_node<NativeGroupNormBackward>(input, weight, groups, eps), {&input, &weight, &bias});
  return out;
}

}  // namespace xgrad

#include <xgrad/ops/normalization.hpp>

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <vector>

#include <xgrad/core/grad_mode.hpp>
#include <xgrad/core/tensor_impl.hpp>
#include <xgrad/ops/elementwise.hpp>
#include <xgrad/ops/reduce.hpp>
#include <xgrad/ops/shape.hpp>

namespace xgrad {

namespace {

// A row-major (N, C, d2, ...) tensor as [N, C, L]: element (n, c, l) sits at (n C + c) L + l, so
// each (n, c) pair owns one contiguous run of L values (the H W plane of NCHW).
struct ChannelLayout {
  std::size_t batch = 1, channels = 1, inner = 1;
  std::size_t per_channel() const { return batch * inner; }
  Shape as_3d() const {
    return {static_cast<std::int64_t>(batch), static_cast<std::int64_t>(channels), static_cast<std::int64_t>(inner)};
  }
  // A per-channel tensor shaped to broadcast against as_3d().
  Shape channel_3d() const { return {1, static_cast<std::int64_t>(channels), 1}; }
};

ChannelLayout channel_layout(const Shape& shape) {
  ChannelLayout layout;
  layout.batch = static_cast<std::size_t>(shape[0]);
  layout.channels = static_cast<std::size_t>(shape[1]);
  for (std::size_t d = 2; d < shape.size(); ++d) layout.inner *= static_cast<std::size_t>(shape[d]);
  return layout;
}

// The per-channel statistics the output was computed with: the batch's (training) or the running
// ones (evaluation), in double.
struct ChannelStats {
  std::vector<double> mean, invstd;
};

// ---- kernels ------------------------------------------------------------------------------------
// Every kernel walks the input in memory order, (n, c) run after run. For an (N, C) input each run
// is a single value, so those loops are written over c instead, where they vectorise.

// Calls f(c, i) for every element i of the input, c its channel, in memory order.
template <class F>
void for_each_value(const ChannelLayout& layout, F&& f) {
  const auto [batch, channels, inner] = layout;
  if (inner == 1) {
    for (std::size_t n = 0; n < batch; ++n)
      for (std::size_t c = 0; c < channels; ++c) f(c, n * channels + c);
    return;
  }
  for (std::size_t n = 0; n < batch; ++n)
    for (std::size_t c = 0; c < channels; ++c) {
      const std::size_t offset = (n * channels + c) * inner;
      for (std::size_t l = 0; l < inner; ++l) f(c, offset + l);
    }
}

// Adds sum(x - shift) and sum((x - shift)^2) over n contiguous values to sum1 and sum2, in double
// with four lanes.
template <class T>
void shifted_sums(const T* x, std::size_t n, double shift, double& sum1, double& sum2) {
  double s1[4] = {0, 0, 0, 0}, s2[4] = {0, 0, 0, 0};
  std::size_t i = 0;
  for (; i + 4 <= n; i += 4)
    for (std::size_t lane = 0; lane < 4; ++lane) {
      const double d = static_cast<double>(x[i + lane]) - shift;
      s1[lane] += d;
      s2[lane] += d * d;
    }
  for (; i < n; ++i) {
    const double d = static_cast<double>(x[i]) - shift;
    s1[0] += d;
    s2[0] += d * d;
  }
  sum1 += (s1[0] + s1[1]) + (s1[2] + s1[3]);
  sum2 += (s2[0] + s2[1]) + (s2[2] + s2[3]);
}

// Batch mean and biased variance of every channel, in one pass over the input. The sums are of
// x - shift, with the shift the channel's first value: then var = sum2 / m - (sum1 / m)^2 does not
// cancel catastrophically even when the mean is large against the spread (the shifted-data
// algorithm), which a plain sum of squares would.
template <class T>
void batch_moments(const T* x, const ChannelLayout& layout, std::vector<double>& mean, std::vector<double>& var) {
  const auto [batch, channels, inner] = layout;
  std::vector<double> shift(channels), sum1(channels, 0.0), sum2(channels, 0.0);
  for (std::size_t c = 0; c < channels; ++c) shift[c] = static_cast<double>(x[c * inner]);
  if (inner == 1) {
    for (std::size_t n = 0; n < batch; ++n)
      for (std::size_t c = 0; c < channels; ++c) {
        const double d = static_cast<double>(x[n * channels + c]) - shift[c];
        sum1[c] += d;
        sum2[c] += d * d;
      }
  } else {
    for (std::size_t n = 0; n < batch; ++n)
      for (std::size_t c = 0; c < channels; ++c)
        shifted_sums(x + (n * channels + c) * inner, inner, shift[c], sum1[c], sum2[c]);
  }
  const double count = static_cast<double>(layout.per_channel());
  mean.resize(channels);
  var.resize(channels);
  for (std::size_t c = 0; c < channels; ++c) {
    const double centred = sum1[c] / count;
    mean[c] = shift[c] + centred;
    var[c] = std::max(sum2[c] / count - centred * centred, 0.0);
  }
}

// A double mean as two T parts, high + low, so that x - mean keeps the digits a float32 mean would
// round away: for x near 100 with a spread of 0.01, rounding the mean to float32 alone moves every
// normalised value by about 4e-4. (x - high) is exact when x is close to the mean.
template <class T>
struct SplitMeans {
  explicit SplitMeans(const std::vector<double>& mean) : high(mean.size()), low(mean.size()) {
    for (std::size_t c = 0; c < mean.size(); ++c) {
      high[c] = static_cast<T>(mean[c]);
      low[c] = static_cast<T>(mean[c] - static_cast<double>(high[c]));
    }
  }
  T centre(T x, std::size_t c) const { return (x - high[c]) - low[c]; }
  std::vector<T> high, low;
};

// weight_c invstd_c (invstd_c without a weight), per channel.
template <class T>
std::vector<T> channel_scales(const ChannelStats& stats, const T* weight) {
  std::vector<T> scale(stats.invstd.size());
  for (std::size_t c = 0; c < scale.size(); ++c)
    scale[c] = static_cast<T>(stats.invstd[c] * (weight ? static_cast<double>(weight[c]) : 1.0));
  return scale;
}

// y = (x - mean_c) scale_c + bias_c with scale_c = weight_c invstd_c. Subtracting the mean first
// keeps a channel whose spread is small against its mean accurate in float32 (PyTorch folds the
// mean into the shift, x scale_c + (bias_c - mean_c scale_c), which cancels there).
template <class T>
void normalise(const T* x, T* y, const ChannelLayout& layout, const ChannelStats& stats, const T* weight,
               const T* bias) {
  const SplitMeans<T> mean(stats.mean);
  const std::vector<T> scale = channel_scales(stats, weight);
  const std::vector<T> shift = bias ? std::vector<T>(bias, bias + layout.channels) : std::vector<T>(layout.channels);
  for_each_value(layout, [&](std::size_t c, std::size_t i) { y[i] = mean.centre(x[i], c) * scale[c] + shift[c]; });
}

// running = (1 - momentum) running + momentum value, elementwise over the channels.
template <class T>
void blend_into(const Tensor& running, const std::vector<double>& values, double momentum) {
  T* target = mutable_array<T>(running).data();
  for (std::size_t c = 0; c < values.size(); ++c)
    target[c] = static_cast<T>((1.0 - momentum) * static_cast<double>(target[c]) + momentum * values[c]);
  running.impl()->storage->bump_version();
}

// Per channel: sum(g) and sum(g (x - mean)), in double.
template <class T>
void gradient_sums(const T* g, const T* x, const ChannelLayout& layout, const std::vector<double>& mean,
                   std::vector<double>& sum_g, std::vector<double>& sum_gx) {
  const auto [batch, channels, inner] = layout;
  sum_g.assign(channels, 0.0);
  sum_gx.assign(channels, 0.0);
  if (inner == 1) {
    for (std::size_t n = 0; n < batch; ++n)
      for (std::size_t c = 0; c < channels; ++c) {
        const double gv = static_cast<double>(g[n * channels + c]);
        sum_g[c] += gv;
        sum_gx[c] += gv * (static_cast<double>(x[n * channels + c]) - mean[c]);
      }
    return;
  }
  for (std::size_t n = 0; n < batch; ++n)
    for (std::size_t c = 0; c < channels; ++c) {
      const std::size_t offset = (n * channels + c) * inner;
      double a = 0, b = 0;
      for (std::size_t l = 0; l < inner; ++l) {
        const double gv = static_cast<double>(g[offset + l]);
        a += gv;
        b += gv * (static_cast<double>(x[offset + l]) - mean[c]);
      }
      sum_g[c] += a;
      sum_gx[c] += b;
    }
}

// dx = s (g - mean(g) - (x - mean) invstd^2 mean(g (x - mean))) in training, s g in evaluation,
// with s = weight_c invstd_c: the header's formula with x_hat written out.
template <class T>
Array<T> input_gradient(const T* g, const T* x, const Shape& shape, const ChannelLayout& layout,
                        const ChannelStats& stats, const T* weight, bool training, const std::vector<double>& sum_g,
                        const std::vector<double>& sum_gx) {
  Array<T> dx = Array<T>::from_shape(to_xshape(shape));
  T* out = dx.data();
  const double count = static_cast<double>(layout.per_channel());
  const SplitMeans<T> mean(stats.mean);
  const std::vector<T> scale = channel_scales(stats, weight);
  std::vector<T> mean_g(layout.channels, T(0)), slope(layout.channels, T(0));
  if (training)
    for (std::size_t c = 0; c < layout.channels; ++c) {
      mean_g[c] = static_cast<T>(sum_g[c] / count);
      slope[c] = static_cast<T>(stats.invstd[c] * stats.invstd[c] * sum_gx[c] / count);
    }
  for_each_value(layout, [&](std::size_t c, std::size_t i) {
    out[i] = scale[c] * (g[i] - mean_g[c] - mean.centre(x[i], c) * slope[c]);
  });
  return dx;
}

template <class T>
Tensor per_channel_tensor(const std::vector<double>& values, const Shape& shape) {
  Array<T> out = Array<T>::from_shape(to_xshape(shape));
  for (std::size_t c = 0; c < values.size(); ++c) out.data()[c] = static_cast<T>(values[c]);
  return make_tensor(std::move(out));
}

// ---- the gradients in xgrad's ops, on [N, C, L] views (backward) -------------------------------------

Tensor channel_sum(const Tensor& t) { return sum(sum(t, 2, /*keepdim=*/true), 0, /*keepdim=*/true); }
Tensor channel_mean(const Tensor& t) { return mean(mean(t, 2, /*keepdim=*/true), 0, /*keepdim=*/true); }

// dx, dweight, dbias as the header writes them, recorded: in training mean and invstd are rebuilt
// from x, so that their dependence on x reaches the second derivative; in evaluation they are
// constants (the running statistics).
gradient_list batch_norm_gradients(const Tensor& grad, const Tensor& input, const Tensor& weight,
                                       const ChannelLayout& layout, const ChannelStats& stats, bool training,
                                       double eps, const Node& node) {
  const Tensor x = reshape(input, layout.as_3d());
  const Tensor g = reshape(grad, layout.as_3d());
  Tensor mean_c, invstd;
  if (training) {
    mean_c = channel_mean(x);
    const Tensor centred = x - mean_c;
    invstd = pow(channel_mean(centred * centred) + eps, -0.5);
  } else {
    visit_floating(input.dtype(), "batch_norm backward", [&](auto tag) {
      using T = decltype(tag);
      mean_c = per_channel_tensor<T>(stats.mean, layout.channel_3d());
      invstd = per_channel_tensor<T>(stats.invstd, layout.channel_3d());
    });
  }
  const Tensor x_hat = (x - mean_c) * invstd;
  gradient_list grads(3);
  if (node.needs_input_grad(0)) {
    const Tensor scale = weight.defined() ? reshape(weight, layout.channel_3d()) * invstd : invstd;
    const Tensor dx = training ? scale * (g - channel_mean(g) - x_hat * channel_mean(g * x_hat)) : scale * g;
    grads[0] = reshape(dx, input.shape());
  }
  if (node.needs_input_grad(1)) grads[1] = reshape(channel_sum(g * x_hat), weight.shape());
  if (node.needs_input_grad(2)) grads[2] = reshape(channel_sum(g), {static_cast<std::int64_t>(layout.channels)});
  return grads;
}

// training: dx = s (g - mean(g) - x_hat mean(g x_hat)); evaluation: dx = s g; with s = weight invstd;
// dweight = sum(g x_hat), dbias = sum(g), over each channel's values
struct NativeBatchNormBackward final : Node {
  NativeBatchNormBackward(const Tensor& input, const Tensor& weight, ChannelLayout layout, ChannelStats stats,
                          bool training, double eps)
      : input(input, /*is_output=*/false), weight(weight, /*is_output=*/false), layout(layout),
        stats(std::move(stats)), training(training), eps(eps) {}
  const char* name() const override { return "NativeBatchNormBackward0"; }
  // Per channel, with s = w * invstd and x_hat the normalised input.
  const char* formula() const override {
    return training ? "d batch_norm/d x = s * (g - mean(g) - x_hat * mean(g * x_hat))\n"
                      "d batch_norm/d w = sum(g * x_hat)\nd batch_norm/d b = sum(g)"
                    : "d batch_norm/d x = s * g  (running statistics: constants)\n"
                      "d batch_norm/d w = sum(g * x_hat)\nd batch_norm/d b = sum(g)";
  }
  gradient_list backward(const Tensor& grad) override {
    const Tensor input = this->input.unpack(*this);
    const Tensor weight = this->weight.unpack(*this);
    return batch_norm_gradients(grad, input, weight, layout, stats, training, eps, *this);
  }
  // One pass over each channel for its two sums and one to write dx.
  gradient_list fused_backward(const Tensor& grad) override {
    const Tensor input = this->input.unpack(*this);
    const Tensor weight = this->weight.unpack(*this);
    return visit_floating(grad.dtype(), "batch_norm backward", [&](auto tag) {
      using T = decltype(tag);
      const T* g = array<T>(grad).data();
      const T* x = array<T>(input).data();
      std::vector<double> sum_g, sum_gx;
      gradient_sums(g, x, layout, stats.mean, sum_g, sum_gx);
      gradient_list grads(3);
      if (needs_input_grad(0)) {
        grads[0] = make_tensor(input_gradient(g, x, input.shape(), layout, stats,
                                              weight.defined() ? array<T>(weight).data() : nullptr, training,
                                              sum_g, sum_gx));
      }
      if (needs_input_grad(1)) {
        std::vector<double> dweight(layout.channels);
        for (std::size_t c = 0; c < layout.channels; ++c) dweight[c] = sum_gx[c] * stats.invstd[c];
        grads[1] = per_channel_tensor<T>(dweight, weight.shape());
      }
      if (needs_input_grad(2)) grads[2] = per_channel_tensor<T>(sum_g, {static_cast<std::int64_t>(layout.channels)});
      return grads;
    });
  }
  void release_saved() override {
    input.reset();
    weight.reset();
  }
  SavedTensor input;   // x with its graph: under create_graph the formula differentiates through it
  SavedTensor weight;  // undefined without an affine transform
  ChannelLayout layout;
  ChannelStats stats;
  bool training;
  double eps;
};

// ---- argument checks ----------------------------------------------------------------------------

void check_per_channel(const Tensor& t, const char* what, const Tensor& input) {
  if (!t.defined()) return;
  const std::int64_t channels = input.size(1);
  if (t.numel() != channels)
    throw Error(concat("batch_norm: ", what, " should contain ", channels, " elements not ", t.numel(),
                       " (one per channel of the input of shape ", shape_str(input.shape()), "; ", what,
                       " has shape ", shape_str(t.shape()), ")"));
  if (t.dtype() != input.dtype())
    throw Error(concat("batch_norm: ", what, " has dtype ", dtype_name(t.dtype()), " but the input has dtype ",
                       dtype_name(input.dtype())));
}

void check_batch_norm_arguments(const Tensor& input, const Tensor& weight, const Tensor& bias,
                                const Tensor& running_mean, const Tensor& running_var, bool training) {
  check(input.defined(), "batch_norm: input is an undefined tensor");
  if (input.dim() < 2)
    throw Error(concat("batch_norm: expected an input of shape (N, C) or (N, C, d1, ...), got shape ",
                       shape_str(input.shape())));
  if (!is_floating(input.dtype()))
    throw Error(concat("batch_norm: expected a floating point input (float32 or float64), got ",
                       dtype_name(input.dtype())));
  check_per_channel(weight, "weight", input);
  check_per_channel(bias, "bias", input);
  check_per_channel(running_mean, "running_mean", input);
  check_per_channel(running_var, "running_var", input);
  if (training) {
    const ChannelLayout layout = channel_layout(input.shape());
    if (layout.per_channel() == 1)
      throw Error(concat("batch_norm: Expected more than 1 value per channel when training, got input size ",
                         shape_str(input.shape())));
  } else {
    check(running_mean.defined(), "batch_norm: running_mean must be defined in evaluation mode");
    check(running_var.defined(), "batch_norm: running_var must be defined in evaluation mode");
  }
}

}  // namespace

Tensor batch_norm(const Tensor& input, const Tensor& weight, const Tensor& bias, const Tensor& running_mean,
                  const Tensor& running_var, bool training, double momentum, double eps, bool /*cudnn_enabled*/) {
  check_batch_norm_arguments(input, weight, bias, running_mean, running_var, training);
  const ChannelLayout layout = channel_layout(input.shape());
  ChannelStats stats;
  Tensor out = visit_floating(input.dtype(), "batch_norm", [&](auto tag) {
    using T = decltype(tag);
    const T* x = array<T>(input).data();
    Array<T> y = Array<T>::from_shape(to_xshape(input.shape()));
    if (layout.per_channel() == 0) return make_tensor(std::move(y));  // an empty batch: nothing to update
    std::vector<double> var;
    if (training) {
      batch_moments(x, layout, stats.mean, var);
    } else {
      stats.mean.assign(array<T>(running_mean).data(), array<T>(running_mean).data() + layout.channels);
      var.assign(array<T>(running_var).data(), array<T>(running_var).data() + layout.channels);
    }
    stats.invstd.resize(layout.channels);
    for (std::size_t c = 0; c < layout.channels; ++c) stats.invstd[c] = 1.0 / std::sqrt(var[c] + eps);
    normalise(x, y.data(), layout, stats, weight.defined() ? array<T>(weight).data() : nullptr,
              bias.defined() ? array<T>(bias).data() : nullptr);
    if (training) {
      if (running_mean.defined()) blend_into<T>(running_mean, stats.mean, momentum);
      if (running_var.defined()) {
        const double count = static_cast<double>(layout.per_channel());
        for (double& v : var) v *= count / (count - 1.0);
        blend_into<T>(running_var, var, momentum);
      }
    }
    return make_tensor(std::move(y));
  });
  if (any_requires_grad({&input, &weight, &bias})) {
    if (stats.mean.empty()) stats = ChannelStats{std::vector<double>(layout.channels, 0.0),
                                                 std::vector<double>(layout.channels, 0.0)};
    record(out,
           make_node<NativeBatchNormBackward>(input, weight, layout, std::move(stats), training, eps),
           {&input, &weight, &bias});
  }
  return out;
}

}  // namespace xgrad

#pragma once
// Batch normalisation layers, as torch::nn::BatchNorm1d / BatchNorm2d, and their functional form.
//
//   nn::BatchNorm2d bn(nn::BatchNorm2dOptions(16).eps(1e-5).momentum(0.1));
//   Tensor y = bn(x);                 // x (N, 16, H, W): each channel normalised over N, H and W
//   bn->eval();                       // from now on: the running statistics instead of the batch's
//
// A layer owns the parameters "weight" (ones) and "bias" (zeros) of the affine transform, and the
// buffers "running_mean" (zeros), "running_var" (ones) and "num_batches_tracked" (int64, 0), under
// PyTorch's names. In training mode each forward normalises by the batch's statistics and blends
// them into the running ones with `momentum`; with momentum = nullopt (Python's None) the running
// statistics are instead the plain average over all batches so far (momentum 1 / num_batches_tracked).
// Formulas and gradients: xgrad::batch_norm in ops/normalization.hpp.
#include <cstdint>
#include <iosfwd>
#include <optional>

#include <xgrad/core/arg.hpp>
#include <xgrad/core/tensor.hpp>
#include <xgrad/nn/module.hpp>
#include <xgrad/nn/module_holder.hpp>

namespace xgrad::nn {

// BatchNormOptions(num_features).eps(1e-5).momentum(0.1).affine(true).track_running_stats(true),
// as libtorch's (BatchNorm1dOptions and BatchNorm2dOptions are other names for it).
class BatchNormOptions {
 public:
  BatchNormOptions(std::int64_t num_features) : num_features_(num_features) {}  // NOLINT(google-explicit-constructor)

  XGRAD_ARG(std::int64_t, num_features);
  // Added to the variance before its square root, so a constant channel does not divide by 0.
  XGRAD_ARG(double, eps) = 1e-5;
  // The weight of the newest batch in the running statistics; nullopt for a cumulative average.
  XGRAD_ARG(std::optional<double>, momentum) = 0.1;
  // Whether the layer learns weight and bias (otherwise both are undefined).
  XGRAD_ARG(bool, affine) = true;
  // Whether the layer keeps running statistics; without them it normalises by the batch's
  // statistics in evaluation mode too.
  XGRAD_ARG(bool, track_running_stats) = true;
};
using BatchNorm1dOptions = BatchNormOptions;
using BatchNorm2dOptions = BatchNormOptions;

// What BatchNorm1d and BatchNorm2d share (libtorch's BatchNormImplBase); they differ in the input
// ranks they accept.
class BatchNormImplBase : public Module {
 public:
  explicit BatchNormImplBase(const BatchNormOptions& options);

  // input (N, C, ...) with C = num_features -> the same shape.
  Tensor forward(const Tensor& input);
  // Running statistics back to mean 0, variance 1, no batches tracked.
  void reset_running_stats();
  // reset_running_stats(), and weight 1, bias 0.
  void reset_parameters();
  // reset_parameters(), in place: the tensors keep their identity, so an optimiser holding them
  // keeps working. (libtorch's reset() registers new tensors.)
  void reset();
  // BatchNorm2d(4, eps=1e-05, momentum=0.1, affine=true, track_running_stats=true), libtorch's
  // text ("momentum=None" for nullopt).
  void pretty_print(std::ostream& out) const override;

  BatchNormOptions options;
  Tensor weight;               // (C), or undefined without affine
  Tensor bias;                 // (C), or undefined without affine
  Tensor running_mean;         // (C), or undefined without track_running_stats
  Tensor running_var;          // (C), or undefined without track_running_stats
  Tensor num_batches_tracked;  // int64 0-dim, or undefined without track_running_stats

 protected:
  // Throws Error naming the layer when the input's rank is not one the layer accepts.
  virtual void check_input_dim(const Tensor& input) const = 0;
};

// For (N, C) or (N, C, L) inputs.
class BatchNorm1dImpl : public BatchNormImplBase {
 public:
  using BatchNormImplBase::BatchNormImplBase;

 protected:
  void check_input_dim(const Tensor& input) const override;
};
XGRAD_MODULE(BatchNorm1d);

// For (N, C, H, W) inputs.
class BatchNorm2dImpl : public BatchNormImplBase {
 public:
  using BatchNormImplBase::BatchNormImplBase;

 protected:
  void check_input_dim(const Tensor& input) const override;
};
XGRAD_MODULE(BatchNorm2d);

namespace functional {

// F::batch_norm's options: weight and bias (undefined), training (false), momentum (0.1), eps (1e-5).
class BatchNormFuncOptions {
  XGRAD_ARG(Tensor, weight);
  XGRAD_ARG(Tensor, bias);
  XGRAD_ARG(bool, training) = false;
  XGRAD_ARG(std::optional<double>, momentum) = 0.1;
  XGRAD_ARG(double, eps) = 1e-5;
};

// xgrad::batch_norm with the options unpacked. running_mean and running_var may be undefined when
// training. A nullopt momentum is an Error (libtorch's functional form needs a value too).
Tensor batch_norm(const Tensor& input, const Tensor& running_mean, const Tensor& running_var,
                  const BatchNormFuncOptions& options = {});

}  // namespace functional

}  // namespace xgrad::nn

#include <xgrad/nn/batchnorm.hpp>

#include <ostream>

#include <xgrad/core/error.hpp>
#include <xgrad/core/factory.hpp>
#include <xgrad/core/grad_mode.hpp>
#include <xgrad/nn/init.hpp>
#include <xgrad/ops/normalization.hpp>

namespace xgrad::nn {

BatchNormImplBase::BatchNormImplBase(const BatchNormOptions& options) : options(options) {
  check(options.num_features() > 0, "BatchNorm: num_features must be positive, got ", options.num_features());
  const std::int64_t features = options.num_features();
  // Undefined tensors still take their names when switched off, as in libtorch.
  weight = options.affine() ? register_parameter("weight", ones({features})) : register_parameter("weight", {}, false);
  bias = options.affine() ? register_parameter("bias", zeros({features})) : register_parameter("bias", {}, false);
  const bool track = options.track_running_stats();
  running_mean = register_buffer("running_mean", track ? zeros({features}) : Tensor());
  running_var = register_buffer("running_var", track ? ones({features}) : Tensor());
  num_batches_tracked = register_buffer("num_batches_tracked", track ? zeros({}, kInt64) : Tensor());
}

void BatchNormImplBase::reset_running_stats() {
  if (!options.track_running_stats()) return;
  NoGradGuard no_grad;
  running_mean.zero_();
  running_var.fill_(1);
  num_batches_tracked.zero_();
}

void BatchNormImplBase::reset_parameters() {
  reset_running_stats();
  if (!options.affine()) return;
  init::ones_(weight);
  init::zeros_(bias);
}

void BatchNormImplBase::reset() { reset_parameters(); }

Tensor BatchNormImplBase::forward(const Tensor& input) {
  check_input_dim(input);
  const bool tracking = is_training() && options.track_running_stats() && num_batches_tracked.defined();
  // The count this batch will make: with momentum nullopt the running statistics are the average
  // of all batches, so the newest one weighs 1 / count.
  const std::int64_t count = tracking ? num_batches_tracked.item<std::int64_t>() + 1 : 0;
  double factor = options.momentum().value_or(0.0);
  if (tracking && !options.momentum()) factor = 1.0 / static_cast<double>(count);
  Tensor out = xgrad::batch_norm(input, weight, bias, running_mean, running_var,
                                 is_training() || !options.track_running_stats(), factor, options.eps());
  // Counted only once batch_norm has accepted the input, so a rejected batch changes nothing.
  if (tracking) {
    NoGradGuard no_grad;
    num_batches_tracked.fill_(count);
  }
  return out;
}

void BatchNormImplBase::pretty_print(std::ostream& out) const {
  out << display_name() << '(' << options.num_features() << ", eps=" << options.eps() << ", momentum=";
  if (options.momentum()) out << *options.momentum();
  else out << "None";
  out << ", affine=" << (options.affine() ? "true" : "false")
      << ", track_running_stats=" << (options.track_running_stats() ? "true" : "false") << ')';
}

void BatchNorm1dImpl::check_input_dim(const Tensor& input) const {
  check(input.defined(), "BatchNorm1d: input is an undefined tensor");
  if (input.dim() != 2 && input.dim() != 3)
    throw Error(concat("BatchNorm1d: expected 2D or 3D input (got ", input.dim(), "D input of shape ",
                       shape_str(input.shape()), ")"));
}

void BatchNorm2dImpl::check_input_dim(const Tensor& input) const {
  check(input.defined(), "BatchNorm2d: input is an undefined tensor");
  if (input.dim() != 4)
    throw Error(concat("BatchNorm2d: expected 4D input (got ", input.dim(), "D input of shape ",
                       shape_str(input.shape()), ")"));
}

namespace functional {

Tensor batch_norm(const Tensor& input, const Tensor& running_mean, const Tensor& running_var,
                  const BatchNormFuncOptions& options) {
  check(options.momentum().has_value(),
        "batch_norm: momentum must be a number in the functional form (nullopt, the cumulative average, "
        "is a module option: BatchNormOptions().momentum(std::nullopt))");
  return xgrad::batch_norm(input, options.weight(), options.bias(), running_mean, running_var, options.training(),
                           *options.momentum(), options.eps());
}

}  // namespace functional

}  // namespace xgrad::nn

#include <xgrad/nn/normalization.hpp>

#include <ostream>

#include <xgrad/core/error.hpp>
#include <xgrad/core/factory.hpp>
#include <xgrad/nn/init.hpp>
#include <xgrad/ops/layer_norm.hpp>

namespace xgrad::nn {

LayerNormImpl::LayerNormImpl(const LayerNormOptions& options) : options(options) {
  const std::vector<std::int64_t>& shape = options.normalized_shape();
  for (std::int64_t size : shape)
    check(size >= 0, "LayerNorm: normalized_shape must hold non-negative sizes, got ", IntArrayRef(shape));
  // Undefined tensors still take their names when switched off, as in libtorch.
  const bool affine = options.elementwise_affine();
  weight = affine ? register_parameter("weight", ones(shape)) : register_parameter("weight", {}, false);
  bias = affine ? register_parameter("bias", zeros(shape)) : register_parameter("bias", {}, false);
}

void LayerNormImpl::reset_parameters() {
  if (!options.elementwise_affine()) return;
  init::ones_(weight);
  init::zeros_(bias);
}

Tensor LayerNormImpl::forward(const Tensor& input) {
  return xgrad::layer_norm(input, options.normalized_shape(), weight, bias, options.eps());
}

void LayerNormImpl::pretty_print(std::ostream& out) const {
  out << "LayerNorm(" << IntArrayRef(options.normalized_shape())
      << ", elementwise_affine=" << (options.elementwise_affine() ? "true" : "false") << ", eps=" << options.eps()
      << ')';
}

GroupNormImpl::GroupNormImpl(const GroupNormOptions& options) : options(options) {
  check(options.num_groups() > 0 && options.num_channels() % options.num_groups() == 0,
        "GroupNorm: num_channels must be divisible by num_groups (got num_channels=", options.num_channels(),
        " and num_groups=", options.num_groups(), ")");
  const std::int64_t channels = options.num_channels();
  weight = options.affine() ? register_parameter("weight", ones({channels})) : register_parameter("weight", {}, false);
  bias = options.affine() ? register_parameter("bias", zeros({channels})) : register_parameter("bias", {}, false);
}

void GroupNormImpl::reset_parameters() {
  if (!options.affine()) return;
  init::ones_(weight);
  init::zeros_(bias);
}

Tensor GroupNormImpl::forward(const Tensor& input) {
  return xgrad::group_norm(input, options.num_groups(), weight, bias, options.eps());
}

void GroupNormImpl::pretty_print(std::ostream& out) const {
  out << "GroupNorm(" << options.num_groups() << ", " << options.num_channels() << ", eps=" << options.eps()
      << ", affine=" << (options.affine() ? "true" : "false") << ')';
}

namespace functional {

Tensor layer_norm(const Tensor& input, const LayerNormFuncOptions& options) {
  return xgrad::layer_norm(input, options.normalized_shape(), options.weight(), options.bias(), options.eps());
}

Tensor group_norm(const Tensor& input, const GroupNormFuncOptions& options) {
  return xgrad::group_norm(input, options.num_groups(), options.weight(), options.bias(), options.eps());
}

}  // namespace functional

}  // namespace xgrad::nn

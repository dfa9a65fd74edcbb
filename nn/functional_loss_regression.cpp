#include <xgrad/nn/functional_loss_regression.hpp>

#include <xgrad/ops/loss_regression.hpp>

namespace xgrad::nn::functional {

Tensor l1_loss(const Tensor& input, const Tensor& target, const L1LossFuncOptions& options) {
  return xgrad::l1_loss(input, target, options.reduction());
}

Tensor smooth_l1_loss(const Tensor& input, const Tensor& target, const SmoothL1LossFuncOptions& options) {
  return xgrad::smooth_l1_loss(input, target, options.reduction(), options.beta());
}

Tensor smooth_l1_loss(const Tensor& input, const Tensor& target, const SmoothL1LossFuncOptions& options,
                      double beta) {
  return xgrad::smooth_l1_loss(input, target, options.reduction(), beta);
}

Tensor huber_loss(const Tensor& input, const Tensor& target, const HuberLossFuncOptions& options) {
  return xgrad::huber_loss(input, target, options.reduction(), options.delta());
}

}  // namespace xgrad::nn::functional

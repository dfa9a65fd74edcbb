#include <xgrad/nn/loss_regression.hpp>

#include <xgrad/nn/functional_loss_regression.hpp>

namespace xgrad::nn {

namespace F = functional;

Tensor L1LossImpl::forward(const Tensor& input, const Tensor& target) { return F::l1_loss(input, target, options); }

Tensor SmoothL1LossImpl::forward(const Tensor& input, const Tensor& target) {
  return F::smooth_l1_loss(input, target, options);
}

Tensor HuberLossImpl::forward(const Tensor& input, const Tensor& target) {
  return F::huber_loss(input, target, options);
}

}  // namespace xgrad::nn

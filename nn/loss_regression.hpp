#pragma once
// Regression loss modules, as torch::nn::L1Loss, SmoothL1Loss and HuberLoss: each a FooImpl module
// holding its options and calling the functional form (nn/functional_loss_regression.hpp; formulas
// and gradients in ops/loss_regression.hpp), and its holder Foo:
//
//   nn::SmoothL1Loss criterion(nn::SmoothL1LossOptions().beta(0.5));
//   Tensor loss = criterion(prediction, target);
#include <utility>

#include <xgrad/core/tensor.hpp>
#include <xgrad/nn/loss_regression_options.hpp>
#include <xgrad/nn/module.hpp>
#include <xgrad/nn/module_holder.hpp>

namespace xgrad::nn {

// |input - target|, reduced.
class L1LossImpl : public Module {
 public:
  explicit L1LossImpl(L1LossOptions options = {}) : options(std::move(options)) {}
  Tensor forward(const Tensor& input, const Tensor& target);
  L1LossOptions options;
};
XGRAD_MODULE(L1Loss);

// Quadratic for |input - target| < beta, linear beyond, reduced.
class SmoothL1LossImpl : public Module {
 public:
  explicit SmoothL1LossImpl(SmoothL1LossOptions options = {}) : options(std::move(options)) {}
  Tensor forward(const Tensor& input, const Tensor& target);
  SmoothL1LossOptions options;
};
XGRAD_MODULE(SmoothL1Loss);

// Quadratic for |input - target| < delta, linear with slope delta beyond, reduced.
class HuberLossImpl : public Module {
 public:
  explicit HuberLossImpl(HuberLossOptions options = {}) : options(std::move(options)) {}
  Tensor forward(const Tensor& input, const Tensor& target);
  HuberLossOptions options;
};
XGRAD_MODULE(HuberLoss);

}  // namespace xgrad::nn

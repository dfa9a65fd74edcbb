#pragma once
// The functional forms of the regression losses, as torch::nn::functional's:
//
//   namespace F = xgrad::nn::functional;
//   Tensor loss = F::huber_loss(prediction, target, F::HuberLossFuncOptions().delta(0.5));
//
// Each unpacks its options (nn/loss_regression_options.hpp) and calls the op
// (ops/loss_regression.hpp, where the formulas, gradients, shapes and errors are documented).
#include <xgrad/core/tensor.hpp>
#include <xgrad/nn/loss_regression_options.hpp>

namespace xgrad::nn::functional {

Tensor l1_loss(const Tensor& input, const Tensor& target, const L1LossFuncOptions& options = {});

// Uses options.beta(), as Python's F.smooth_l1_loss(input, target, beta=...) does. (libtorch 1.13's
// F::smooth_l1_loss ignores the options' beta and takes it as a fourth argument instead.)
Tensor smooth_l1_loss(const Tensor& input, const Tensor& target, const SmoothL1LossFuncOptions& options = {});
// libtorch's four-argument form: the explicit beta is the one used.
Tensor smooth_l1_loss(const Tensor& input, const Tensor& target, const SmoothL1LossFuncOptions& options,
                      double beta);

Tensor huber_loss(const Tensor& input, const Tensor& target, const HuberLossFuncOptions& options = {});

}  // namespace xgrad::nn::functional

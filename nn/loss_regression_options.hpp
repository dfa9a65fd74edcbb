#pragma once
// Options of the regression losses, shared by the modules (nn::SmoothL1Loss, ...) and the
// functional forms (F::smooth_l1_loss, ...), with libtorch's names and defaults. As in libtorch,
// each converts from a reduction, so nn::L1Loss(xgrad::kSum) and F::l1_loss(x, y, xgrad::kNone) work:
//
//   nn::HuberLoss(nn::HuberLossOptions().reduction(xgrad::kSum).delta(0.5));
//   F::smooth_l1_loss(x, y, F::SmoothL1LossFuncOptions().beta(0.5));
#include <xgrad/core/arg.hpp>
#include <xgrad/core/reduction.hpp>

namespace xgrad::nn {

// l1_loss: reduction.
class L1LossOptions {
 public:
  L1LossOptions() = default;
  L1LossOptions(Reduction reduction) : reduction_(reduction) {}  // NOLINT(google-explicit-constructor)
  XGRAD_ARG(Reduction, reduction) = kMean;
};

// smooth_l1_loss: reduction, beta (>= 0; where the loss turns from quadratic to linear).
class SmoothL1LossOptions {
 public:
  SmoothL1LossOptions() = default;
  SmoothL1LossOptions(Reduction reduction) : reduction_(reduction) {}  // NOLINT(google-explicit-constructor)
  XGRAD_ARG(Reduction, reduction) = kMean;
  XGRAD_ARG(double, beta) = 1.0;
};

// huber_loss: reduction, delta (> 0; where the loss turns from quadratic to linear).
class HuberLossOptions {
 public:
  HuberLossOptions() = default;
  HuberLossOptions(Reduction reduction) : reduction_(reduction) {}  // NOLINT(google-explicit-constructor)
  XGRAD_ARG(Reduction, reduction) = kMean;
  XGRAD_ARG(double, delta) = 1.0;
};

namespace functional {
// libtorch's names for the options of the functional forms; here they are the module options.
using L1LossFuncOptions = L1LossOptions;
using SmoothL1LossFuncOptions = SmoothL1LossOptions;
using HuberLossFuncOptions = HuberLossOptions;
}  // namespace functional

}  // namespace xgrad::nn

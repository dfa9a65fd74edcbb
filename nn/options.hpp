#pragma once
// Options for the losses and for softmax / log_softmax, shared by the loss modules (nn::NLLLoss, ...)
// and the functional forms (nn::functional::nll_loss, ...), as in libtorch:
//
//   namespace F = xgrad::nn::functional;
//   F::cross_entropy(logits, target, CrossEntropyLossOptions().weight(w).ignore_index(2)
//                                        .reduction(xgrad::kSum).label_smoothing(0.1));
//
// Each field has a chainable setter and a same-named getter. Defaults are PyTorch's. The values are
// checked by the loss itself when it runs (an out-of-range label_smoothing throws there).
#include <cstdint>

#include <xgrad/core/arg.hpp>
#include <xgrad/core/reduction.hpp>
#include <xgrad/core/tensor.hpp>

namespace xgrad::nn {

// nll_loss: weight (one entry per class, undefined = all ones), ignore_index (targets equal to it
// contribute nothing, not even to the mean's divisor), reduction.
class NLLLossOptions {
  XGRAD_ARG(Tensor, weight);
  XGRAD_ARG(std::int64_t, ignore_index) = -100;
  XGRAD_ARG(Reduction, reduction) = kMean;
};

// cross_entropy: as NLLLossOptions, plus label_smoothing in [0, 1] (the target becomes
// (1 - label_smoothing) * one_hot + label_smoothing / C).
class CrossEntropyLossOptions {
  XGRAD_ARG(Tensor, weight);
  XGRAD_ARG(std::int64_t, ignore_index) = -100;
  XGRAD_ARG(Reduction, reduction) = kMean;
  XGRAD_ARG(double, label_smoothing) = 0.0;
};

// binary_cross_entropy: weight (broadcast to the input's shape), reduction.
class BCELossOptions {
  XGRAD_ARG(Tensor, weight);
  XGRAD_ARG(Reduction, reduction) = kMean;
};

// binary_cross_entropy_with_logits: weight and pos_weight (each broadcast to the input's shape;
// pos_weight is usually one entry per class, along the last dimension), reduction.
class BCEWithLogitsLossOptions {
  XGRAD_ARG(Tensor, weight);
  XGRAD_ARG(Tensor, pos_weight);
  XGRAD_ARG(Reduction, reduction) = kMean;
};

// kl_div: reduction (kBatchMean gives the true KL divergence per sample), log_target (the target is
// given as log-probabilities).
class KLDivLossOptions {
  XGRAD_ARG(Reduction, reduction) = kMean;
  XGRAD_ARG(bool, log_target) = false;
};

// mse_loss: reduction.
class MSELossOptions {
  XGRAD_ARG(Reduction, reduction) = kMean;
};

// softmax along dim (negative counts from the end). Implicit from an integer, as in libtorch.
class SoftmaxOptions {
 public:
  SoftmaxOptions(std::int64_t dim) : dim_(dim) {}  // NOLINT(google-explicit-constructor)
  XGRAD_ARG(std::int64_t, dim);
};

// log_softmax along dim (negative counts from the end). Implicit from an integer, as in libtorch.
class LogSoftmaxOptions {
 public:
  LogSoftmaxOptions(std::int64_t dim) : dim_(dim) {}  // NOLINT(google-explicit-constructor)
  XGRAD_ARG(std::int64_t, dim);
};

}  // namespace xgrad::nn

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
#include <utility>

#include "../core/reduction.hpp"
#include "../core/tensor.hpp"

namespace xgrad::nn {

// nll_loss: weight (one entry per class, undefined = all ones), ignore_index (targets equal to it
// contribute nothing, not even to the mean's divisor), reduction.
class NLLLossOptions {
 public:
  NLLLossOptions& weight(Tensor weight) {
    weight_ = std::move(weight);
    return *this;
  }
  const Tensor& weight() const { return weight_; }
  NLLLossOptions& ignore_index(std::int64_t ignore_index) {
    ignore_index_ = ignore_index;
    return *this;
  }
  std::int64_t ignore_index() const { return ignore_index_; }
  NLLLossOptions& reduction(Reduction reduction) {
    reduction_ = reduction;
    return *this;
  }
  Reduction reduction() const { return reduction_; }

 private:
  Tensor weight_;
  std::int64_t ignore_index_ = -100;
  Reduction reduction_ = kMean;
};

// cross_entropy: as NLLLossOptions, plus label_smoothing in [0, 1] (the target becomes
// (1 - label_smoothing) * one_hot + label_smoothing / C).
class CrossEntropyLossOptions {
 public:
  CrossEntropyLossOptions& weight(Tensor weight) {
    weight_ = std::move(weight);
    return *this;
  }
  const Tensor& weight() const { return weight_; }
  CrossEntropyLossOptions& ignore_index(std::int64_t ignore_index) {
    ignore_index_ = ignore_index;
    return *this;
  }
  std::int64_t ignore_index() const { return ignore_index_; }
  CrossEntropyLossOptions& reduction(Reduction reduction) {
    reduction_ = reduction;
    return *this;
  }
  Reduction reduction() const { return reduction_; }
  CrossEntropyLossOptions& label_smoothing(double label_smoothing) {
    label_smoothing_ = label_smoothing;
    return *this;
  }
  double label_smoothing() const { return label_smoothing_; }

 private:
  Tensor weight_;
  std::int64_t ignore_index_ = -100;
  Reduction reduction_ = kMean;
  double label_smoothing_ = 0.0;
};

// binary_cross_entropy: weight (broadcast to the input's shape), reduction.
class BCELossOptions {
 public:
  BCELossOptions& weight(Tensor weight) {
    weight_ = std::move(weight);
    return *this;
  }
  const Tensor& weight() const { return weight_; }
  BCELossOptions& reduction(Reduction reduction) {
    reduction_ = reduction;
    return *this;
  }
  Reduction reduction() const { return reduction_; }

 private:
  Tensor weight_;
  Reduction reduction_ = kMean;
};

// binary_cross_entropy_with_logits: weight and pos_weight (each broadcast to the input's shape;
// pos_weight is usually one entry per class, along the last dimension), reduction.
class BCEWithLogitsLossOptions {
 public:
  BCEWithLogitsLossOptions& weight(Tensor weight) {
    weight_ = std::move(weight);
    return *this;
  }
  const Tensor& weight() const { return weight_; }
  BCEWithLogitsLossOptions& pos_weight(Tensor pos_weight) {
    pos_weight_ = std::move(pos_weight);
    return *this;
  }
  const Tensor& pos_weight() const { return pos_weight_; }
  BCEWithLogitsLossOptions& reduction(Reduction reduction) {
    reduction_ = reduction;
    return *this;
  }
  Reduction reduction() const { return reduction_; }

 private:
  Tensor weight_;
  Tensor pos_weight_;
  Reduction reduction_ = kMean;
};

// kl_div: reduction (kBatchMean gives the true KL divergence per sample), log_target (the target is
// given as log-probabilities).
class KLDivLossOptions {
 public:
  KLDivLossOptions& reduction(Reduction reduction) {
    reduction_ = reduction;
    return *this;
  }
  Reduction reduction() const { return reduction_; }
  KLDivLossOptions& log_target(bool log_target) {
    log_target_ = log_target;
    return *this;
  }
  bool log_target() const { return log_target_; }

 private:
  Reduction reduction_ = kMean;
  bool log_target_ = false;
};

// mse_loss: reduction.
class MSELossOptions {
 public:
  MSELossOptions& reduction(Reduction reduction) {
    reduction_ = reduction;
    return *this;
  }
  Reduction reduction() const { return reduction_; }

 private:
  Reduction reduction_ = kMean;
};

// softmax along dim (negative counts from the end). Implicit from an integer, as in libtorch.
class SoftmaxOptions {
 public:
  SoftmaxOptions(std::int64_t dim) : dim_(dim) {}  // NOLINT(google-explicit-constructor)
  SoftmaxOptions& dim(std::int64_t dim) {
    dim_ = dim;
    return *this;
  }
  std::int64_t dim() const { return dim_; }

 private:
  std::int64_t dim_;
};

// log_softmax along dim (negative counts from the end). Implicit from an integer, as in libtorch.
class LogSoftmaxOptions {
 public:
  LogSoftmaxOptions(std::int64_t dim) : dim_(dim) {}  // NOLINT(google-explicit-constructor)
  LogSoftmaxOptions& dim(std::int64_t dim) {
    dim_ = dim;
    return *this;
  }
  std::int64_t dim() const { return dim_; }

 private:
  std::int64_t dim_;
};

}  // namespace xgrad::nn

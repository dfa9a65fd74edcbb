#pragma once
// Loss modules, as torch::nn::CrossEntropyLoss etc.: each holds its options and calls the functional
// form (nn/functional.hpp, where the formulas and gradients are documented):
//
//   nn::CrossEntropyLoss criterion(nn::CrossEntropyLossOptions().label_smoothing(0.1));
//   Tensor loss = criterion(logits, target);
//
// A loss takes two tensors, so it has no one-input forward and cannot sit inside a Sequential.
#include <iosfwd>
#include <utility>

#include "../core/tensor.hpp"
#include "module.hpp"
#include "options.hpp"

namespace xgrad::nn {

// -input[target], weighted and reduced; the input holds log-probabilities (LogSoftmax's output).
class NLLLoss : public Module {
 public:
  explicit NLLLoss(NLLLossOptions options = {}) : options(std::move(options)) {}
  const char* name() const override { return "NLLLoss"; }
  Tensor forward(const Tensor& input, const Tensor& target);
  Tensor operator()(const Tensor& input, const Tensor& target) { return forward(input, target); }
  NLLLossOptions options;
};

// LogSoftmax over the class dimension followed by NLLLoss, in one stable step; targets are class
// indices (int64) or class probabilities.
class CrossEntropyLoss : public Module {
 public:
  explicit CrossEntropyLoss(CrossEntropyLossOptions options = {}) : options(std::move(options)) {}
  const char* name() const override { return "CrossEntropyLoss"; }
  Tensor forward(const Tensor& input, const Tensor& target);
  Tensor operator()(const Tensor& input, const Tensor& target) { return forward(input, target); }
  CrossEntropyLossOptions options;
};

// -(y log p + (1 - y) log(1 - p)) for probabilities p (Sigmoid's output).
class BCELoss : public Module {
 public:
  explicit BCELoss(BCELossOptions options = {}) : options(std::move(options)) {}
  const char* name() const override { return "BCELoss"; }
  Tensor forward(const Tensor& input, const Tensor& target);
  Tensor operator()(const Tensor& input, const Tensor& target) { return forward(input, target); }
  BCELossOptions options;
};

// BCELoss of sigmoid(logits), computed from the logits directly (stable for large |logits|).
class BCEWithLogitsLoss : public Module {
 public:
  explicit BCEWithLogitsLoss(BCEWithLogitsLossOptions options = {}) : options(std::move(options)) {}
  const char* name() const override { return "BCEWithLogitsLoss"; }
  Tensor forward(const Tensor& input, const Tensor& target);
  Tensor operator()(const Tensor& input, const Tensor& target) { return forward(input, target); }
  BCEWithLogitsLossOptions options;
};

// target (log target - input), with the input as log-probabilities: KL(target || exp(input)).
class KLDivLoss : public Module {
 public:
  explicit KLDivLoss(KLDivLossOptions options = {}) : options(std::move(options)) {}
  const char* name() const override { return "KLDivLoss"; }
  Tensor forward(const Tensor& input, const Tensor& target);
  Tensor operator()(const Tensor& input, const Tensor& target) { return forward(input, target); }
  KLDivLossOptions options;
};

// (input - target)^2, reduced.
class MSELoss : public Module {
 public:
  explicit MSELoss(MSELossOptions options = {}) : options(std::move(options)) {}
  const char* name() const override { return "MSELoss"; }
  Tensor forward(const Tensor& input, const Tensor& target);
  Tensor operator()(const Tensor& input, const Tensor& target) { return forward(input, target); }
  MSELossOptions options;
};

}  // namespace xgrad::nn

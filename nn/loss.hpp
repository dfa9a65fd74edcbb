#pragma once
// Loss modules, as torch::nn::CrossEntropyLoss etc.: each a FooImpl module holding its options and
// calling the functional form (nn/functional.hpp, where the formulas and gradients are documented),
// and its holder Foo:
//
//   nn::CrossEntropyLoss criterion(nn::CrossEntropyLossOptions().label_smoothing(0.1));
//   Tensor loss = criterion(logits, target);
//   criterion->options.reduction(xgrad::kSum);
//
// A loss takes two tensors, so it cannot be a step of a Sequential (calling one there is an Error).
#include <iosfwd>
#include <utility>

#include <xgrad/core/tensor.hpp>
#include <xgrad/nn/module.hpp>
#include <xgrad/nn/module_holder.hpp>
#include <xgrad/nn/options.hpp>

namespace xgrad::nn {

// -input[target], weighted and reduced; the input holds log-probabilities (LogSoftmax's output).
class NLLLossImpl : public Module {
 public:
  explicit NLLLossImpl(NLLLossOptions options = {}) : options(std::move(options)) {}
  Tensor forward(const Tensor& input, const Tensor& target);
  NLLLossOptions options;
};
XGRAD_MODULE(NLLLoss);

// LogSoftmax over the class dimension followed by NLLLoss, in one stable step; targets are class
// indices (int64) or class probabilities.
class CrossEntropyLossImpl : public Module {
 public:
  explicit CrossEntropyLossImpl(CrossEntropyLossOptions options = {}) : options(std::move(options)) {}
  Tensor forward(const Tensor& input, const Tensor& target);
  CrossEntropyLossOptions options;
};
XGRAD_MODULE(CrossEntropyLoss);

// -(y log p + (1 - y) log(1 - p)) for probabilities p (Sigmoid's output).
class BCELossImpl : public Module {
 public:
  explicit BCELossImpl(BCELossOptions options = {}) : options(std::move(options)) {}
  Tensor forward(const Tensor& input, const Tensor& target);
  BCELossOptions options;
};
XGRAD_MODULE(BCELoss);

// BCELoss of sigmoid(logits), computed from the logits directly (stable for large |logits|).
class BCEWithLogitsLossImpl : public Module {
 public:
  explicit BCEWithLogitsLossImpl(BCEWithLogitsLossOptions options = {}) : options(std::move(options)) {}
  Tensor forward(const Tensor& input, const Tensor& target);
  BCEWithLogitsLossOptions options;
};
XGRAD_MODULE(BCEWithLogitsLoss);

// target (log target - input), with the input as log-probabilities: KL(target || exp(input)).
class KLDivLossImpl : public Module {
 public:
  explicit KLDivLossImpl(KLDivLossOptions options = {}) : options(std::move(options)) {}
  Tensor forward(const Tensor& input, const Tensor& target);
  KLDivLossOptions options;
};
XGRAD_MODULE(KLDivLoss);

// (input - target)^2, reduced.
class MSELossImpl : public Module {
 public:
  explicit MSELossImpl(MSELossOptions options = {}) : options(std::move(options)) {}
  Tensor forward(const Tensor& input, const Tensor& target);
  MSELossOptions options;
};
XGRAD_MODULE(MSELoss);

}  // namespace xgrad::nn

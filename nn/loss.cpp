#include "nn/loss.hpp"

#include "nn/functional.hpp"

namespace xgrad::nn {

namespace F = functional;

Tensor NLLLoss::forward(const Tensor& input, const Tensor& target) { return F::nll_loss(input, target, options); }

Tensor CrossEntropyLoss::forward(const Tensor& input, const Tensor& target) {
  return F::cross_entropy(input, target, options);
}

Tensor BCELoss::forward(const Tensor& input, const Tensor& target) {
  return F::binary_cross_entropy(input, target, options);
}

Tensor BCEWithLogitsLoss::forward(const Tensor& input, const Tensor& target) {
  return F::binary_cross_entropy_with_logits(input, target, options);
}

Tensor KLDivLoss::forward(const Tensor& input, const Tensor& target) { return F::kl_div(input, target, options); }

Tensor MSELoss::forward(const Tensor& input, const Tensor& target) { return F::mse_loss(input, target, options); }

}  // namespace xgrad::nn

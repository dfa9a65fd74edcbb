#include <xgrad/nn/functional.hpp>

#include <xgrad/ops/elementwise.hpp>
#include <xgrad/ops/loss.hpp>
#include <xgrad/ops/softmax.hpp>

namespace xgrad::nn::functional {

Tensor nll_loss(const Tensor& input, const Tensor& target, const NLLLossOptions& options) {
  return xgrad::nll_loss(input, target, options.weight(), options.reduction(), options.ignore_index());
}

Tensor cross_entropy(const Tensor& input, const Tensor& target, const CrossEntropyLossOptions& options) {
  return xgrad::cross_entropy_loss(input, target, options.weight(), options.reduction(), options.ignore_index(),
                              options.label_smoothing());
}

Tensor binary_cross_entropy(const Tensor& input, const Tensor& target, const BCELossOptions& options) {
  return xgrad::binary_cross_entropy(input, target, options.weight(), options.reduction());
}

Tensor binary_cross_entropy_with_logits(const Tensor& input, const Tensor& target,
                                        const BCEWithLogitsLossOptions& options) {
  return xgrad::binary_cross_entropy_with_logits(input, target, options.weight(), options.pos_weight(),
                                                 options.reduction());
}

Tensor kl_div(const Tensor& input, const Tensor& target, const KLDivLossOptions& options) {
  return xgrad::kl_div(input, target, options.reduction(), options.log_target());
}

Tensor mse_loss(const Tensor& input, const Tensor& target, const MSELossOptions& options) {
  return xgrad::mse_loss(input, target, options.reduction());
}

Tensor softmax(const Tensor& x, const SoftmaxOptions& options) { return xgrad::softmax(x, options.dim()); }

Tensor log_softmax(const Tensor& x, const LogSoftmaxOptions& options) {
  return xgrad::log_softmax(x, options.dim());
}

Tensor sigmoid(const Tensor& x) { return xgrad::sigmoid(x); }

Tensor relu(const Tensor& x) { return xgrad::relu(x); }

}  // namespace xgrad::nn::functional

#pragma once
// The functional forms of the losses and activations, as torch::nn::functional:
//
//   namespace F = xgrad::nn::functional;
//   Tensor loss = F::cross_entropy(logits, target, F::CrossEntropyFuncOptions().label_smoothing(0.1));
//   Tensor probabilities = F::softmax(logits, 1);
//
// Each loss unpacks its options struct (nn/options.hpp, shared with the loss modules) and calls the
// op with explicit arguments (ops/loss_classification.hpp, ops/loss_pointwise.hpp), where the
// formulas, gradients, shapes and errors are documented. Defaults are PyTorch's.
#include <xgrad/core/tensor.hpp>
#include <xgrad/nn/attention.hpp>
#include <xgrad/nn/batchnorm.hpp>
#include <xgrad/nn/dropout.hpp>
#include <xgrad/nn/embedding.hpp>
#include <xgrad/nn/functional_activation.hpp>
#include <xgrad/nn/functional_loss_regression.hpp>
#include <xgrad/nn/functional_sequence.hpp>
#include <xgrad/nn/conv.hpp>
#include <xgrad/nn/normalization.hpp>
#include <xgrad/nn/options.hpp>
#include <xgrad/nn/pooling.hpp>

namespace xgrad::nn::functional {

// libtorch's names for the options of the functional forms; here they are the module options.
using NLLLossFuncOptions = NLLLossOptions;
using CrossEntropyFuncOptions = CrossEntropyLossOptions;
using BinaryCrossEntropyFuncOptions = BCELossOptions;
using BinaryCrossEntropyWithLogitsFuncOptions = BCEWithLogitsLossOptions;
using KLDivFuncOptions = KLDivLossOptions;
using MSELossFuncOptions = MSELossOptions;
using SoftmaxFuncOptions = SoftmaxOptions;
using LogSoftmaxFuncOptions = LogSoftmaxOptions;

// input (C), (N, C) or (N, C, d1, ..., dk) of log-probabilities; target int64 class indices.
Tensor nll_loss(const Tensor& input, const Tensor& target, const NLLLossOptions& options = {});
// input of logits as for nll_loss; target int64 class indices, or class probabilities of the
// input's shape and dtype.
Tensor cross_entropy(const Tensor& input, const Tensor& target, const CrossEntropyLossOptions& options = {});
// input of probabilities in [0, 1]; target of the same shape.
Tensor binary_cross_entropy(const Tensor& input, const Tensor& target, const BCELossOptions& options = {});
// input of logits; target of the same shape.
Tensor binary_cross_entropy_with_logits(const Tensor& input, const Tensor& target,
                                        const BCEWithLogitsLossOptions& options = {});
// input of log-probabilities; target of probabilities (log-probabilities with log_target).
Tensor kl_div(const Tensor& input, const Tensor& target, const KLDivLossOptions& options = {});
Tensor mse_loss(const Tensor& input, const Tensor& target, const MSELossOptions& options = {});

// softmax / log_softmax along options.dim(); F::softmax(x, 1) works, as in libtorch.
Tensor softmax(const Tensor& x, const SoftmaxOptions& options);
Tensor log_softmax(const Tensor& x, const LogSoftmaxOptions& options);
Tensor sigmoid(const Tensor& x);
Tensor relu(const Tensor& x);

}  // namespace xgrad::nn::functional

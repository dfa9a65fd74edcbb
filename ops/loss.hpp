#pragma once
// The losses, with PyTorch's values and gradients:
//   loss_classification.hpp   nll_loss, cross_entropy (class scores with index or probability targets)
//   loss_pointwise.hpp        binary_cross_entropy, binary_cross_entropy_with_logits, kl_div, mse_loss
//   loss_regression.hpp       l1_loss, smooth_l1_loss, huber_loss
// nn/functional.hpp gives the same losses with libtorch-style options structs.
#include <xgrad/ops/loss_classification.hpp>
#include <xgrad/ops/loss_pointwise.hpp>
#include <xgrad/ops/loss_regression.hpp>

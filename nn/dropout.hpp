#pragma once
// Dropout layers, as torch::nn::Dropout and Dropout2d, and their functional forms.
//
//   nn::Dropout drop(0.2);            // or nn::Dropout(nn::DropoutOptions().p(0.2))
//   Tensor y = drop(x);               // training: each element zeroed with probability 0.2, the
//                                     // rest scaled by 1 / 0.8; after drop->eval(): y is x
//   nn::Dropout2d drop2d(0.1);        // whole channels of an (N, C, H, W) or (C, H, W) input
//
// The layers have no parameters; they follow the module's training flag (Module::train / eval).
// Randomness comes from the global generator (manual_seed). Formulas and gradients:
// ops/dropout.hpp.
#include <iosfwd>

#include <xgrad/core/arg.hpp>
#include <xgrad/core/tensor.hpp>
#include <xgrad/nn/module.hpp>
#include <xgrad/nn/module_holder.hpp>

namespace xgrad::nn {

// DropoutOptions(p = 0.5).inplace(false), as libtorch's; Dropout2dOptions is another name for it.
// p, the probability of zeroing, must lie in [0, 1] (checked when the layer is made).
class DropoutOptions {
 public:
  DropoutOptions(double p = 0.5) : p_(p) {}  // NOLINT(google-explicit-constructor)
  XGRAD_ARG(double, p);
  // Write the result into the input's storage instead of a new tensor.
  XGRAD_ARG(bool, inplace) = false;
};
using Dropout2dOptions = DropoutOptions;

// Zeroes each element with probability p in training mode; the identity in evaluation mode.
class DropoutImpl : public Module {
 public:
  explicit DropoutImpl(double p) : DropoutImpl(DropoutOptions(p)) {}
  explicit DropoutImpl(const DropoutOptions& options = {});
  Tensor forward(Tensor input);
  // Checks p again (libtorch's reset); there is nothing to initialise.
  void reset();
  // Dropout(p=0.5, inplace=false)
  void pretty_print(std::ostream& out) const override;
  DropoutOptions options;
};
XGRAD_MODULE(Dropout);

// Zeroes whole channels with probability p in training mode; the identity in evaluation mode.
// input (N, C, H, W), or (C, H, W) for a single image (libtorch's reading of a 3-D input).
class Dropout2dImpl : public Module {
 public:
  explicit Dropout2dImpl(double p) : Dropout2dImpl(Dropout2dOptions(p)) {}
  explicit Dropout2dImpl(const Dropout2dOptions& options = {});
  Tensor forward(Tensor input);
  void reset();
  // Dropout2d(p=0.5, inplace=false)
  void pretty_print(std::ostream& out) const override;
  Dropout2dOptions options;
};
XGRAD_MODULE(Dropout2d);

namespace functional {

// F::dropout's options: p (0.5), training (true: unlike the module, the function has no mode),
// inplace (false). Dropout2dFuncOptions is another name for it.
class DropoutFuncOptions {
  XGRAD_ARG(double, p) = 0.5;
  XGRAD_ARG(bool, training) = true;
  XGRAD_ARG(bool, inplace) = false;
};
using Dropout2dFuncOptions = DropoutFuncOptions;

// xgrad::dropout with the options; inplace writes into input (see Tensor::mul_ for the rules).
Tensor dropout(Tensor input, const DropoutFuncOptions& options = {});
// xgrad::feature_dropout on an (N, C, H, W) input, or on a (C, H, W) one as a batch of one.
// Other ranks are an Error (PyTorch 1.13 warns that they are deprecated).
Tensor dropout2d(Tensor input, const Dropout2dFuncOptions& options = {});

}  // namespace functional

}  // namespace xgrad::nn

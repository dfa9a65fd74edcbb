#include <xgrad/nn/dropout.hpp>

#include <ostream>

#include <xgrad/core/error.hpp>
#include <xgrad/core/factory.hpp>
#include <xgrad/ops/dropout.hpp>
#include <xgrad/ops/elementwise.hpp>

namespace xgrad::nn {

namespace {

void check_probability(double p, const char* layer) {
  if (!(p >= 0.0 && p <= 1.0))
    throw Error(concat(layer, ": dropout probability has to be between 0 and 1, but got ", p));
}

}  // namespace

DropoutImpl::DropoutImpl(const DropoutOptions& options) : options(options) { reset(); }

void DropoutImpl::reset() { check_probability(options.p(), "Dropout"); }

Tensor DropoutImpl::forward(Tensor input) {
  return functional::dropout(std::move(input),
                             functional::DropoutFuncOptions().p(options.p()).training(is_training()).inplace(
                                 options.inplace()));
}

void DropoutImpl::pretty_print(std::ostream& out) const {
  out << "Dropout(p=" << options.p() << ", inplace=" << (options.inplace() ? "true" : "false") << ')';
}

Dropout2dImpl::Dropout2dImpl(const Dropout2dOptions& options) : options(options) { reset(); }

void Dropout2dImpl::reset() { check_probability(options.p(), "Dropout2d"); }

Tensor Dropout2dImpl::forward(Tensor input) {
  return functional::dropout2d(std::move(input),
                               functional::Dropout2dFuncOptions().p(options.p()).training(is_training()).inplace(
                                   options.inplace()));
}

void Dropout2dImpl::pretty_print(std::ostream& out) const {
  out << "Dropout2d(p=" << options.p() << ", inplace=" << (options.inplace() ? "true" : "false") << ')';
}

namespace functional {

Tensor dropout(Tensor input, const DropoutFuncOptions& options) {
  if (options.inplace()) return xgrad::dropout_(input, options.p(), options.training());
  return xgrad::dropout(input, options.p(), options.training());
}

Tensor dropout2d(Tensor input, const Dropout2dFuncOptions& options) {
  check(input.defined(), "dropout2d: input is an undefined tensor");
  if (input.dim() == 4) {
    if (options.inplace()) return xgrad::feature_dropout_(input, options.p(), options.training());
    return xgrad::feature_dropout(input, options.p(), options.training());
  }
  if (input.dim() != 3)
    throw Error(concat("dropout2d: expected a 4-D (N, C, H, W) or 3-D (C, H, W) input, got shape ",
                       shape_str(input.shape())));
  // A single image: one draw per channel, the mask (C, 1, 1). libtorch unsqueezes the image into a
  // batch of one instead, which draws the same way but adds two reshapes to the graph.
  check_probability(options.p(), "dropout2d");
  check(is_floating(input.dtype()), "dropout2d: expected a floating point input (float32 or float64), got ",
        dtype_name(input.dtype()));
  if (!options.training() || options.p() == 0.0 || input.numel() == 0) return input;
  const Tensor mask = options.p() == 1.0 ? zeros({}, input.dtype())
                                         : dropout_mask({input.size(0), 1, 1}, options.p(), input.dtype());
  if (options.inplace()) return input.mul_(mask);
  return input * mask;
}

}  // namespace functional

}  // namespace xgrad::nn

#pragma once
// Gradient clipping, as torch.nn.utils.clip_grad_norm_ and clip_grad_value_ (PyTorch 1.13), in
// libtorch's spelling: nn::utils::clip_grad_norm_(model.parameters(), 1.0). Called between
// backward() and the optimiser's step(); each changes the gradients in place (their version goes
// up, as after an in-place op) and skips parameters without a gradient.
#include <initializer_list>
#include <vector>

#include <xgrad/core/tensor.hpp>

namespace xgrad::nn::utils {

// Scales every gradient by min(1, max_norm / (total + 1e-6)), where total is the norm_type-norm of
// all gradients together (as if concatenated into one vector), and returns total. norm_type may be
// any p (the p-norm (sum |g|^p)^(1/p)), INFINITY (max |g|), -INFINITY (min |g|) or 0 (the number
// of non-zero elements). Computed as PyTorch does: the norm of each gradient, then the norm of
// those norms, in the gradients' dtype (float64 if any is). With no gradient at all, returns 0 and
// changes nothing. A NaN or infinite total scales the gradients by NaN or 0, as PyTorch does, unless
// error_if_nonfinite, which throws Error and changes nothing.
//
// With norm_type 0 the total is the number of gradients that are not all zero, as Python's
// clip_grad_norm_ computes it; libtorch 1.13's C++ version returns the number of gradients instead.
double clip_grad_norm_(const std::vector<Tensor>& parameters, double max_norm, double norm_type = 2.0,
                       bool error_if_nonfinite = false);
double clip_grad_norm_(std::initializer_list<Tensor> parameters, double max_norm, double norm_type = 2.0,
                       bool error_if_nonfinite = false);
double clip_grad_norm_(const Tensor& parameter, double max_norm, double norm_type = 2.0,
                       bool error_if_nonfinite = false);

// Clamps every gradient element into [-clip_value, clip_value] (NaN stays NaN; with a negative
// clip_value every element becomes clip_value, as PyTorch's clamp with min > max gives max).
void clip_grad_value_(const std::vector<Tensor>& parameters, double clip_value);
void clip_grad_value_(std::initializer_list<Tensor> parameters, double clip_value);
void clip_grad_value_(const Tensor& parameter, double clip_value);

}  // namespace xgrad::nn::utils

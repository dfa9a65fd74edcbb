#pragma once
// Library-internal: what the optimisers' update loops share. Each optimiser's .cpp writes its rule
// as one plain loop over contiguous buffers, templated on the element type and on its option flags;
// these helpers pick the instantiation at run time, once per parameter.
#include <cmath>
#include <type_traits>

#include <xgrad/core/tensor.hpp>

namespace xgrad::optim {

// A state tensor made ready for an update: when undefined, created with the parameter's shape and
// dtype and every element `fill` (the only allocation a step makes). Optimizer::step() has already
// checked defined ones against the parameter.
Tensor& state_tensor(Tensor& slot, const Tensor& parameter, double fill = 0.0);

// Calls f(float{}) or f(double{}) for a parameter's dtype (optimisers accept only these two).
template <class F>
void with_element_type(Dtype dtype, F&& f) {
  if (dtype == kFloat32) f(float{});
  else f(double{});
}

// Calls f(std::true_type{}) or f(std::false_type{}): turns a run-time option into a compile-time
// one, so that each combination of options gets its own loop with no branch inside it, which is
// what lets the compiler vectorise the loop.
template <class F>
void with_flag(bool flag, F&& f) {
  if (flag) f(std::true_type{});
  else f(std::false_type{});
}

// max(a, b) that returns NaN when either is NaN, as torch.maximum does (std::max keeps `a` when b
// is NaN).
template <class T>
T nan_max(T a, T b) {
  return (a < b || b != b) ? b : a;
}

}  // namespace xgrad::optim

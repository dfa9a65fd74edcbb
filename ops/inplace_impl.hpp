#pragma once
// Library-internal: how an op defined outside ops/inplace.cpp (an in-place activation) runs in place
// under the same two rules as x.add_(y) and the rest (see ops/inplace.cpp).
#include <functional>

#include <xgrad/core/tensor.hpp>

namespace xgrad {

// self = compute(old self), written into self's storage with its version bumped. When the op is
// recorded, compute reads a private copy of the old values and self's history moves onto the node
// of compute's result. Throws xgrad::Error, naming `op`, for a leaf that requires grad outside a
// NoGradGuard.
Tensor& apply_in_place(Tensor& self, const char* op, const std::function<Tensor(const Tensor&)>& compute);

}  // namespace xgrad

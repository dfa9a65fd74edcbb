#pragma once
// Library-internal: the table of pointwise functions that ops/elementwise.cpp describes, which the
// tests walk so that every function listed there is checked against its PyTorch fixture, by
// gradcheck and gradgradcheck, and for its dtype errors, without a line of its own in a test.
#include <vector>

#include <xgrad/core/tensor.hpp>

namespace xgrad {

struct PointwiseFunction {
  const char* name;
  Tensor (*function)(const Tensor&);
  // Random test inputs are drawn from [low, high]: inside the domain, away from poles.
  double low, high;
};

const std::vector<PointwiseFunction>& pointwise_functions();

}  // namespace xgrad

#pragma once
// Module cases of attention.json (format: tests/golden/make_golden_attention.py): copying PyTorch's
// parameters into an xgrad module, and comparing outputs, input gradients and every parameter's
// gradient with PyTorch's.
#include <gtest/gtest.h>

#include <algorithm>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include <xgrad/xgrad.hpp>

#include "compare.hpp"
#include "golden.hpp"

namespace xgrad::testing {

// Puts the case's dtype and parameter values into module; the parameter names must be PyTorch's
// state_dict names, one for one.
inline ::testing::AssertionResult load_fixture_parameters(nn::Module& module, const Json& c) {
  module.to(c.at("dtype") == "float64" ? kFloat64 : kFloat32);
  auto parameters = module.named_parameters();
  if (parameters.size() != c.at("params").size())
    return ::testing::AssertionFailure() << "xgrad has " << parameters.size() << " parameters, PyTorch "
                                         << c.at("params").size();
  NoGradGuard no_grad;
  for (const auto& [name, value] : c.at("params").items()) {
    if (!parameters.contains(name)) return ::testing::AssertionFailure() << "no parameter named " << name;
    parameters[name].copy_(golden_tensor(value));
  }
  return ::testing::AssertionSuccess();
}

// The case's named inputs; the floating ones require grad.
inline std::map<std::string, Tensor> fixture_inputs(const Json& c) {
  std::map<std::string, Tensor> inputs;
  for (const auto& [name, value] : c.at("inputs").items()) {
    Tensor t = golden_tensor(value);
    if (is_floating(t.dtype()) && c.at("grads").contains(name)) t.requires_grad_();
    inputs[name] = t;
  }
  return inputs;
}

inline Tensor input_or_undefined(const std::map<std::string, Tensor>& inputs, const std::string& name) {
  const auto found = inputs.find(name);
  return found == inputs.end() ? Tensor() : found->second;
}

// matches_golden, but in float64 each element may also differ by 1e-12 of the tensor's largest
// value: some gradients are 0 in exact arithmetic and rounding noise of 1e-16 in both libraries (the
// key projection's bias, since softmax ignores a shift that every score of a row shares).
inline ::testing::AssertionResult matches_module_golden(const Tensor& actual, const Tensor& expected) {
  if (expected.dtype() != kFloat64) return matches_golden(actual, expected);
  const double largest = expected.numel() ? expected.abs().max().item<double>() : 0.0;
  return all_close(actual, expected, 1e-9, 1e-12 * std::max(1.0, largest));
}

// Compares outputs with PyTorch's, runs backward of sum(output_i * upstream_i) and compares the
// inputs' and every parameter's gradients.
inline void expect_module_matches(const nn::Module& module, const Json& c, const std::vector<Tensor>& outputs,
                                  const std::map<std::string, Tensor>& inputs) {
  ASSERT_EQ(outputs.size(), c.at("outputs").size());
  Tensor loss;
  for (std::size_t i = 0; i < outputs.size(); ++i) {
    EXPECT_TRUE(matches_module_golden(outputs[i], golden_tensor(c.at("outputs").at(i)))) << "output " << i;
    const Tensor term = (outputs[i] * golden_tensor(c.at("upstreams").at(i))).sum();
    loss = loss.defined() ? loss + term : term;
  }
  loss.backward();
  for (const auto& [name, expected] : c.at("grads").items())
    EXPECT_TRUE(matches_module_golden(inputs.at(name).grad(), golden_tensor(expected))) << "gradient of " << name;
  const auto parameters = module.named_parameters();
  for (const auto& [name, expected] : c.at("param_grads").items())
    EXPECT_TRUE(matches_module_golden(parameters[name].grad(), golden_tensor(expected))) << "gradient of " << name;
}

}  // namespace xgrad::testing

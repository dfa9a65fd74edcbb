// leaky_relu, gelu, elu, silu, softplus: values, gradients and grad_fn names against PyTorch's
// fixtures (activation.json: float32 and float64, signed zeros, NaN, infinities, thresholds, exp
// over- and underflow), float64 gradcheck and second derivatives with random upstreams, and the
// errors for bad inputs.
#include <gtest/gtest.h>

#include <cmath>
#include <functional>
#include <limits>
#include <string>
#include <vector>

#include "compare.hpp"
#include "create_graph_checks.hpp"
#include "golden.hpp"

namespace xgrad {
namespace {

using testing::Json;
using testing::passes_gradcheck;
using testing::throws_error_containing;

// The xgrad call of an activation.json case, with the case's keyword arguments.
Tensor call_fixture_op(const std::string& fn, const Json& args, const Tensor& x) {
  if (fn == "leaky_relu") return leaky_relu(x, args.value("negative_slope", 0.01));
  if (fn == "gelu") return gelu(x, args.value("approximate", std::string("none")));
  if (fn == "elu") return elu(x, args.value("alpha", 1.0), args.value("scale", 1.0), args.value("input_scale", 1.0));
  if (fn == "silu") return silu(x);
  if (fn == "softplus") return softplus(x, args.value("beta", 1.0), args.value("threshold", 20.0));
  throw Error("test_activation: no call for fixture fn " + fn);
}

class ActivationFixtures : public ::testing::TestWithParam<std::string> {};

// elu's negative branch is computed with expm1, where PyTorch 1.13 computes exp(x) - 1: for tiny
// negative x (the fixtures' -1e-8) the two differ by the rounding of exp near 1, about 1e-16
// absolute, which is more than 1e-9 relative of a value of 1e-8. Outputs of float64 cases with
// such inputs are compared with that absolute allowance; everything else is PyTorch-exact.
::testing::AssertionResult elu_output_close_to_pytorch(const Json& fixture) {
  const Tensor x = testing::golden_tensor(fixture.at("inputs")[0]);
  const Json& args = fixture.at("args");
  return testing::all_close(call_fixture_op("elu", args, x), testing::golden_tensor(fixture.at("output")), 1e-9,
                            4e-16);
}

TEST_P(ActivationFixtures, MatchPyTorch) {
  const std::string fn = GetParam();
  const auto cases = testing::golden_cases("activation.json", fn);
  ASSERT_GE(cases.size(), 6u);
  for (const auto& fixture : cases) {
    const std::string name = fixture.at("name");
    SCOPED_TRACE(name);
    const bool expm1_differs = fn == "elu" && fixture.at("dtype") == "float64" &&
                               (name.find("edges") != std::string::npos || name.find("selu") != std::string::npos);
    if (!expm1_differs) {
      EXPECT_TRUE(testing::matches_fixture(
          fixture, [&](const std::vector<Tensor>& in) { return call_fixture_op(fn, fixture.at("args"), in[0]); }));
      continue;
    }
    EXPECT_TRUE(elu_output_close_to_pytorch(fixture));
    EXPECT_FALSE(testing::matches_fixture(  // the difference is real, and only in the output
        fixture, [&](const std::vector<Tensor>& in) { return call_fixture_op(fn, fixture.at("args"), in[0]); }));
    std::vector<Tensor> in{testing::golden_tensor(fixture.at("inputs")[0]).requires_grad_()};
    const Tensor out = call_fixture_op(fn, fixture.at("args"), in[0]);
    out.backward(testing::golden_tensor(fixture.at("upstream")));
    EXPECT_TRUE(testing::matches_golden(in[0].grad(), testing::golden_tensor(fixture.at("grads")[0])));
  }
}

INSTANTIATE_TEST_SUITE_P(ActivationJson, ActivationFixtures,
                         ::testing::Values("leaky_relu", "gelu", "elu", "silu", "softplus"));

// ---- gradients ----------------------------------------------------------------------------------

using UnaryFn = std::function<Tensor(const Tensor&)>;

struct Named {
  const char* name;
  UnaryFn fn;
};

// Each activation with its default and with non-default constants. Inputs are standard normal, so
// finite differences stay away from the kinks with overwhelming probability (and the kinks of
// leaky_relu and elu are where the random values do not fall: exactly 0).
std::vector<Named> activations() {
  return {
      {"leaky_relu", [](const Tensor& x) { return leaky_relu(x); }},
      {"leaky_relu(0.3)", [](const Tensor& x) { return leaky_relu(x, 0.3); }},
      {"gelu", [](const Tensor& x) { return gelu(x); }},
      {"gelu(tanh)", [](const Tensor& x) { return gelu(x, "tanh"); }},
      {"elu", [](const Tensor& x) { return elu(x); }},
      {"elu(2, 1.5, 0.5)", [](const Tensor& x) { return elu(x, 2.0, 1.5, 0.5); }},
      {"silu", [](const Tensor& x) { return silu(x); }},
      {"softplus", [](const Tensor& x) { return softplus(x); }},
      // beta x crosses the threshold (1) for some of the inputs.
      {"softplus(2, 1)", [](const Tensor& x) { return softplus(x, 2, 1); }},
  };
}

TEST(Activation, PassesGradcheck) {
  manual_seed(11);
  for (const Named& a : activations()) {
    SCOPED_TRACE(a.name);
    EXPECT_TRUE(passes_gradcheck([&](const std::vector<Tensor>& in) { return a.fn(in[0]); },
                                 {testing::leaf({3, 5})}));
  }
}

TEST(Activation, DifferentiatesTwice) {
  manual_seed(12);
  for (const Named& a : activations()) {
    SCOPED_TRACE(a.name);
    testing::expect_differentiable_twice([&](const std::vector<Tensor>& in) { return a.fn(in[0]); },
                                         {testing::leaf({2, 4})});
  }
}

// leaky_relu is left out: its second derivative is 0 (the recorded gradient does not depend on x).
TEST(Activation, DifferentiatesThreeTimes) {
  manual_seed(13);
  for (const Named& a : activations()) {
    if (std::string(a.name).rfind("leaky_relu", 0) == 0) continue;
    SCOPED_TRACE(a.name);
    EXPECT_TRUE(testing::passes_third_order_check([&](const std::vector<Tensor>& in) { return a.fn(in[0]); },
                                                  {testing::leaf({5})}));
  }
}

// An activation inside a small composite, as in a network: the upstream of each node depends on
// the input too, which gradgradcheck of the activation alone does not exercise.
TEST(Activation, DifferentiatesTwiceInsideAComposite) {
  manual_seed(14);
  for (const Named& a : activations()) {
    SCOPED_TRACE(a.name);
    EXPECT_TRUE(testing::passes_gradgradcheck(
        [&](const std::vector<Tensor>& in) { return sum(a.fn(in[0] * in[1]) * in[1]); },
        {testing::leaf({4}), testing::leaf({4})}));
  }
}

TEST(Activation, GradFnNames) {
  const Tensor x = testing::leaf({3});
  EXPECT_STREQ(leaky_relu(x).grad_fn()->name(), "LeakyReluBackward0");
  EXPECT_STREQ(gelu(x).grad_fn()->name(), "GeluBackward0");
  EXPECT_STREQ(gelu(x, "tanh").grad_fn()->name(), "GeluBackward0");
  EXPECT_STREQ(elu(x).grad_fn()->name(), "EluBackward0");
  EXPECT_STREQ(silu(x).grad_fn()->name(), "SiluBackward0");
  EXPECT_STREQ(softplus(x).grad_fn()->name(), "SoftplusBackward0");
}

TEST(Activation, NoGraphWithoutGrad) {
  const Tensor x = randn({4});
  for (const Named& a : activations()) EXPECT_FALSE(a.fn(x).grad_fn()) << a.name;
  const Tensor y = testing::leaf({4});
  NoGradGuard no_grad;
  for (const Named& a : activations()) EXPECT_FALSE(a.fn(y).requires_grad()) << a.name;
}

// A value that the formulas would lose: softplus above its threshold is x itself (no overflow to
// inf), elu of a tiny negative x keeps its digits through expm1, gelu of a large negative x is 0.
TEST(Activation, StableAtExtremes) {
  const Tensor big = tensor({1000.0f, 88.0f, -1000.0f});
  const std::vector<float> soft = softplus(big).to_vector<float>();
  EXPECT_EQ(soft[0], 1000.0f);
  EXPECT_EQ(soft[1], 88.0f);
  EXPECT_EQ(soft[2], 0.0f);
  const double tiny = elu(tensor({-1e-10}, kFloat64)).item<double>();
  EXPECT_DOUBLE_EQ(tiny, std::expm1(-1e-10));
  EXPECT_EQ(gelu(tensor({-40.0f})).item<float>(), 0.0f);
  EXPECT_EQ(silu(tensor({-1000.0f})).item<float>(), 0.0f);
}

// ---- errors -------------------------------------------------------------------------------------

TEST(Activation, RejectsBadInputs) {
  for (const Named& a : activations()) {
    SCOPED_TRACE(a.name);
    EXPECT_TRUE(throws_error_containing([&] { a.fn(Tensor()); }, {"undefined"}));
    EXPECT_TRUE(throws_error_containing([&] { a.fn(arange(3, kInt64)); }, {"floating point", "int64"}));
    EXPECT_TRUE(throws_error_containing([&] { a.fn(ones({2}) > 0.0); }, {"floating point", "bool"}));
  }
  EXPECT_TRUE(throws_error_containing([] { gelu(ones({2}), "Tanh"); },
                                      {"gelu", "approximate", "none or tanh", "\"Tanh\""}));
  EXPECT_TRUE(throws_error_containing([] { leaky_relu(arange(3, kInt64)); }, {"leaky_relu"}));
}

// ---- in place -------------------------------------------------------------------------------------

// leaky_relu_ and elu_ on a copy of the input, as a differentiable function of it.
std::vector<Named> in_place_activations() {
  return {
      {"leaky_relu_(0.2)",
       [](const Tensor& x) {
         Tensor h = x * 1.0;
         return leaky_relu_(h, 0.2);
       }},
      {"elu_(0.5, 1.5, 0.7)",
       [](const Tensor& x) {
         Tensor h = x * 1.0;
         return elu_(h, 0.5, 1.5, 0.7);
       }},
  };
}

TEST(ActivationInPlace, ValuesGradientsAndNodesArePyTorchs) {
  manual_seed(15);
  const Tensor x = randn({3, 5}, kFloat64);
  Tensor h = x.clone(), e = x.clone();
  leaky_relu_(h, 0.2);
  elu_(e, 0.5, 1.5, 0.7);
  EXPECT_TRUE(testing::all_close(h, leaky_relu(x, 0.2), 0.0, 0.0));
  EXPECT_TRUE(testing::all_close(e, elu(x, 0.5, 1.5, 0.7), 0.0, 0.0));
  EXPECT_EQ(h._version(), 1);
  const std::vector<Named> ops = in_place_activations();
  EXPECT_STREQ(ops[0].fn(testing::leaf({2})).grad_fn()->name(), "LeakyReluBackward1");
  EXPECT_STREQ(ops[1].fn(testing::leaf({2})).grad_fn()->name(), "EluBackward1");
  for (const Named& a : ops) {
    SCOPED_TRACE(a.name);
    EXPECT_TRUE(passes_gradcheck([&](const std::vector<Tensor>& in) { return a.fn(in[0]); }, {testing::leaf({3, 5})}));
    testing::expect_differentiable_twice([&](const std::vector<Tensor>& in) { return a.fn(in[0]); },
                                         {testing::leaf({2, 4})});
  }
}

// PyTorch 1.13 computes these in-place gradients from the result and so refuses, at backward, a
// forward that ran with a negative slope; a zero slope, or no gradient at all, is fine.
TEST(ActivationInPlace, NegativeSlopeFailsAtBackwardAsInPyTorch) {
  const Tensor x = testing::leaf({4});
  Tensor h = x * 1.0;
  leaky_relu_(h, -0.1);
  EXPECT_TRUE(throws_error_containing([&] { sum(h).backward(); }, {"leaky_relu_", "negative_slope", "-0.1"}));
  Tensor e = x * 1.0;
  elu_(e, -0.5);
  EXPECT_TRUE(throws_error_containing([&] { sum(e).backward(); }, {"elu_", "alpha", "-0.5"}));
  Tensor zero_slope = x * 1.0;
  leaky_relu_(zero_slope, 0.0);
  sum(zero_slope).backward();
  EXPECT_TRUE(x.grad().defined());
  Tensor no_grad = randn({3});
  EXPECT_TRUE(testing::all_close(leaky_relu_(no_grad, -0.1), no_grad, 0.0, 0.0));
}

TEST(ActivationInPlace, FollowTheRulesOfInPlaceOps) {
  const Tensor leaf = testing::leaf({3});
  Tensor handle = leaf;
  EXPECT_TRUE(throws_error_containing([&] { leaky_relu_(handle); }, {"leaky_relu_", "leaf", "NoGradGuard"}));
  EXPECT_TRUE(throws_error_containing([&] { elu_(handle); }, {"elu_", "leaf"}));
  // sigmoid saved its output, which elu_ then overwrites.
  Tensor s = sigmoid(leaf);
  elu_(s);
  EXPECT_TRUE(throws_error_containing([&] { sum(s).backward(); }, {"modified by an inplace operation", "Sigmoid"}));
  Tensor undefined;
  EXPECT_TRUE(throws_error_containing([&] { leaky_relu_(undefined); }, {"leaky_relu_", "undefined"}));
}

TEST(Activation, ChangedInputIsCaughtAtBackward) {
  for (const Named& a : activations()) {
    SCOPED_TRACE(a.name);
    const Tensor x = testing::leaf({3});
    const Tensor h = x * 2.0;
    const Tensor y = a.fn(h);
    h.mul_(3.0);
    EXPECT_TRUE(throws_error_containing([&] { sum(y).backward(); }, {"modified by an inplace operation"}));
    // The engine keeps working afterwards.
    sum(a.fn(x)).backward();
    EXPECT_TRUE(x.grad().defined());
  }
}

// float32 gelu and its backward split their elements over two threads above a size; each element
// goes through the same vector arithmetic wherever a block starts, so the results match one thread
// bit for bit (an odd size leaves a block that is no multiple of the vector).
TEST(Gelu, TwoThreadsAgreeWithOneExactly) {
  const Tensor x0 = randn({3 * 32768 + 5});
  const Tensor up = randn({3 * 32768 + 5});
  EXPECT_TRUE(testing::same_on_one_and_two_threads([&] {
    Tensor x = x0.clone().requires_grad_();
    const Tensor y = gelu(x);
    y.backward(up);
    return std::vector<Tensor>{y.detach(), x.grad()};
  }));
}

}  // namespace
}  // namespace xgrad

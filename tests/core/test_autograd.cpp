// Autograd for teaching: retained gradients, hooks, grad_fn inspection, autograd::grad, custom
// Functions and anomaly detection. Expected behaviour is PyTorch 1.13's (checked with the same
// programs in Python).
#include <gtest/gtest.h>

#include <cmath>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include <xgrad/xgrad.hpp>

#include "compare.hpp"
#include "golden.hpp"

namespace xgrad {
namespace {

using autograd::AutogradContext;
using autograd::variable_list;
using testing::all_close;
using testing::golden_file;
using testing::golden_tensor;
using testing::Json;
using testing::matches_golden;
using testing::passes_gradcheck;
using testing::passes_gradgradcheck;
using testing::throws_error_containing;

TEST(RetainGrad, ANonLeafKeepsTheChainRuleValue) {
  const Tensor x = tensor({0.5, -1.0, 2.0}, kFloat64).requires_grad_();
  Tensor hidden = tanh(x);
  hidden.retain_grad();
  EXPECT_TRUE(hidden.retains_grad());
  (hidden * hidden).sum().backward();
  // d/dh sum(h^2) = 2h; the leaf then gets 2h (1 - h^2).
  EXPECT_TRUE(all_close(hidden.grad(), hidden.detach() * 2.0, 1e-15, 0.0));
  EXPECT_TRUE(all_close(x.grad(), hidden.detach() * 2.0 * (1.0 - hidden.detach() * hidden.detach()), 1e-15, 0.0));
  const Tensor not_retained = tanh(x);
  EXPECT_FALSE(not_retained.grad().defined());
  EXPECT_TRUE(throws_error_containing([] { tensor({1.0}, kFloat64).retain_grad(); }, {"retain_grad", "requires_grad"}));
}

// PyTorch 1.13 runs a tensor's hooks in registration order, retain_grad's included: registered
// before a doubling hook it keeps the plain gradient, after it the doubled one.
TEST(Hooks, RunInRegistrationOrderAndMayReplaceTheGradient) {
  const Tensor x = tensor({0.5, -1.0}, kFloat64).requires_grad_();
  Tensor first = tanh(x);
  first.retain_grad();
  first.register_hook([](Tensor grad) { return grad * 2; });
  (first * first).sum().backward();
  EXPECT_TRUE(all_close(first.grad(), first.detach() * 2.0, 1e-15, 0.0));
  const Tensor doubled_leaf_grad = x.grad();

  x.zero_grad();
  Tensor second = tanh(x);
  second.register_hook([](Tensor grad) { return grad * 2; });
  second.retain_grad();
  (second * second).sum().backward();
  EXPECT_TRUE(all_close(second.grad(), second.detach() * 4.0, 1e-15, 0.0));
  EXPECT_TRUE(all_close(x.grad(), doubled_leaf_grad, 1e-15, 0.0));  // both doubled what flowed on
}

// Hooks live in the grad_fn, as in PyTorch: a hook on a temporary still fires.
TEST(Hooks, OnATemporaryStillFire) {
  const Tensor x = tensor({1.0, 2.0}, kFloat64).requires_grad_();
  std::vector<double> seen;
  const auto build = [&] {
    Tensor temporary = x * 3.0;
    temporary.register_hook([&seen](const Tensor& grad) { seen = grad.to_vector<double>(); });
    return (temporary * temporary).sum();
  };
  const Tensor loss = build();
  loss.backward();
  EXPECT_EQ(seen, (std::vector<double>{6.0, 12.0}));
}

TEST(Hooks, OnLeavesObserversAndRemoval) {
  Tensor w = tensor({1.0, 2.0}, kFloat64).requires_grad_();
  std::vector<double> seen;
  w.register_hook([&seen](const Tensor& grad) { seen = grad.to_vector<double>(); });  // observes only
  const unsigned scale = w.register_hook([](Tensor grad) { return grad * 10; });
  (w * 3.0).sum().backward();
  EXPECT_EQ(seen, (std::vector<double>{3.0, 3.0}));
  EXPECT_EQ(w.grad().to_vector<double>(), (std::vector<double>{30.0, 30.0}));
  w.remove_hook(scale);
  w.zero_grad();
  (w * 3.0).sum().backward();
  EXPECT_EQ(w.grad().to_vector<double>(), (std::vector<double>{3.0, 3.0}));
  EXPECT_TRUE(throws_error_containing([&] { w.remove_hook(7); }, {"remove_hook: Invalid index", "7"}));
}

TEST(Hooks, BadHooksAreErrorsAndTheEngineRecovers) {
  Tensor w = tensor({1.0, 2.0}, kFloat64).requires_grad_();
  EXPECT_TRUE(throws_error_containing([] { tensor({1.0}, kFloat64).register_hook([](Tensor g) { return g; }); },
                                      {"register_hook", "doesn't require gradient"}));
  const unsigned bad = w.register_hook([](Tensor) { return tensor({1.0, 2.0, 3.0}, kFloat64); });
  EXPECT_TRUE(throws_error_containing([&] { (w * 2.0).sum().backward(); }, {"hook", "[2]", "[3]"}));
  w.remove_hook(bad);
  w.zero_grad();
  (w * 2.0).sum().backward();
  EXPECT_EQ(w.grad().to_vector<double>(), (std::vector<double>{2.0, 2.0}));
}

// Seven dimensions: past the inline dims of a node's output shape, which then lives on the heap;
// gradients are still checked against it and its error messages still print it.
TEST(Hooks, ShapesOfMoreThanSixDimsAreCheckedAndNamed) {
  Tensor w = ones({1, 2, 1, 1, 1, 1, 3}, kFloat64).requires_grad_();
  const unsigned bad = w.register_hook([](Tensor) { return ones({2, 3}, kFloat64); });
  EXPECT_TRUE(throws_error_containing([&] { (w * 2.0).sum().backward(); }, {"hook", "[1, 2, 1, 1, 1, 1, 3]", "[2, 3]"}));
  w.remove_hook(bad);
  w.zero_grad();
  (w * 2.0).sum().backward();
  EXPECT_EQ(w.grad().sizes().vec(), (std::vector<std::int64_t>{1, 2, 1, 1, 1, 1, 3}));
  EXPECT_EQ(w.grad().to_vector<double>(), std::vector<double>(6, 2.0));
}

TEST(GradFn, NamesAndNextFunctionsAsPyTorch) {
  const Tensor x = tensor({{1.0, 2.0}}, kFloat64).requires_grad_();
  const Tensor w = tensor({{3.0}, {4.0}}, kFloat64).requires_grad_();
  const Tensor out = (matmul(x, w) + 1.0).sum();
  EXPECT_STREQ(out.grad_fn()->name(), "SumBackward0");
  ASSERT_EQ(out.grad_fn()->next_functions().size(), 1u);
  const auto& add = out.grad_fn()->next_functions()[0].function;
  EXPECT_STREQ(add->name(), "AddBackward0");
  const auto& mm = add->next_edges()[0].function;
  EXPECT_STREQ(mm->name(), "MmBackward0");
  ASSERT_EQ(mm->next_edges().size(), 2u);
  EXPECT_STREQ(mm->next_edges()[0].function->name(), "AccumulateGrad");
  EXPECT_TRUE(x.grad_fn() == nullptr);
  out.backward();
  EXPECT_STREQ(out.grad_fn()->next_functions()[0].function->name(), "AddBackward0");  // structure survives
}

TEST(Grad, ReturnsGradientsWithoutTouchingGrad) {
  const Tensor x = tensor({1.0, 2.0}, kFloat64).requires_grad_();
  const Tensor y = tensor({3.0, -1.0}, kFloat64).requires_grad_();
  const Tensor out = (x * y).sum();
  const variable_list grads = autograd::grad({out}, {x, y}, {}, /*retain_graph=*/true);
  EXPECT_EQ(grads[0].to_vector<double>(), (std::vector<double>{3.0, -1.0}));
  EXPECT_EQ(grads[1].to_vector<double>(), (std::vector<double>{1.0, 2.0}));
  EXPECT_FALSE(x.grad().defined());
  // A non-leaf input gets the gradient with respect to itself.
  const Tensor h = x * 2.0;
  const Tensor g = autograd::grad({(h * h).sum()}, {h})[0];
  EXPECT_EQ(g.to_vector<double>(), (std::vector<double>{4.0, 8.0}));
  // Non-scalar outputs take grad_outputs.
  const Tensor v = autograd::grad({x * x}, {x}, {tensor({1.0, -1.0}, kFloat64)})[0];
  EXPECT_EQ(v.to_vector<double>(), (std::vector<double>{2.0, -4.0}));
}

TEST(Grad, UnusedInputsAndBadArguments) {
  const Tensor x = tensor({1.0}, kFloat64).requires_grad_();
  const Tensor unused = tensor({1.0}, kFloat64).requires_grad_();
  EXPECT_TRUE(throws_error_containing([&] { autograd::grad({(x * 2.0).sum()}, {unused}); },
                                      {"grad", "input 0", "appears to not have been used in the graph. Set allow_unused=True"}));
  EXPECT_TRUE(throws_error_containing([&] { autograd::grad({x * 2.0}, {}); }, {"grad requires non-empty inputs"}));
  const variable_list grads = autograd::grad({(x * 2.0).sum()}, {x, unused}, {}, std::nullopt, false, true);
  EXPECT_TRUE(grads[0].defined());
  EXPECT_FALSE(grads[1].defined());
  EXPECT_EQ(autograd::grad({x * 2.0}, {x})[0].item<double>(), 2.0);  // one element needs no grad_outputs
  EXPECT_TRUE(throws_error_containing([&] { autograd::grad({tensor({1.0, 2.0}, kFloat64).requires_grad_() * 2.0}, {x}); },
                                      {"grad", "grad can be implicitly created only for scalar outputs", "[2]"}));
  EXPECT_TRUE(throws_error_containing([&] { autograd::grad({tensor({1.0}, kFloat64)}, {x}); }, {"grad", "output 0"}));
}

TEST(Grad, ThirdDerivatives) {
  // f = x sin x: f'' = 2 cos x - x sin x, f''' = -3 sin x - x cos x.
  const Tensor x = tensor({0.3, -1.2, 2.0}, kFloat64).requires_grad_();
  const Tensor first = autograd::grad({(sin(x) * x).sum()}, {x}, {}, true, true)[0];
  const Tensor second = autograd::grad({first.sum()}, {x}, {}, true, true)[0];
  const Tensor third = autograd::grad({second.sum()}, {x})[0];
  const Tensor v = x.detach();
  EXPECT_TRUE(all_close(second.detach(), 2.0 * cos(v) - v * sin(v), 1e-14, 1e-15));
  EXPECT_TRUE(all_close(third, -3.0 * sin(v) - v * cos(v), 1e-14, 1e-15));
  // gradgradcheck of a gradient compares third derivatives with finite differences of the second.
  manual_seed(5);
  EXPECT_TRUE(passes_gradgradcheck(
      [](const variable_list& in) {
        const Tensor f = (tanh(in[0]) * exp(in[0]) / (1.0 + in[0] * in[0])).sum() + logsumexp(in[0], 0);
        return autograd::grad({f}, {in[0]}, {}, true, /*create_graph=*/true)[0];
      },
      {randn({4}, kFloat64).requires_grad_()}));
}

TEST(Grad, SecondOrderThroughCloneAndSummedGradients) {
  // clone's node, and the engine's sum of the two gradients that reach x, are recorded too.
  manual_seed(7);
  EXPECT_TRUE(passes_gradgradcheck(
      [](const variable_list& in) { return in[0].clone() * in[0].clone() * sin(in[0]); },
      {randn({3}, kFloat64).requires_grad_()}));
}

TEST(Backward, CreateGraphLeavesAGradThatIsDifferentiable) {
  const Tensor x = tensor({0.5, 2.0}, kFloat64).requires_grad_();
  pow(x, 3.0).sum().backward({}, {}, /*create_graph=*/true);
  const Tensor grad = x.grad();  // 3 x^2, with a graph
  ASSERT_TRUE(grad.requires_grad());
  EXPECT_EQ(grad.detach().to_vector<double>(), (std::vector<double>{0.75, 12.0}));
  EXPECT_EQ(autograd::grad({grad.sum()}, {x})[0].to_vector<double>(), (std::vector<double>{3.0, 12.0}));
  // x.grad()'s graph leads back to x, so the two keep each other alive until the grad is dropped
  // (PyTorch warns of the same cycle and recommends autograd::grad for higher-order gradients).
  x.zero_grad();
}

// y = scale * x^3, written as a custom op: forward saves x, backward returns 3 scale x^2 g.
struct Cube : autograd::Function<Cube> {
  static Tensor forward(AutogradContext* ctx, Tensor x, double scale) {
    ctx->save_for_backward({x});
    ctx->saved_data["scale"] = scale;
    ctx->saved_data["needs_x"] = ctx->needs_input_grad(0);
    return x * x * x * scale;
  }
  static variable_list backward(AutogradContext* ctx, variable_list grads) {
    const Tensor x = ctx->get_saved_variables()[0];
    const double scale = ctx->saved_data["scale"].toDouble();
    EXPECT_TRUE(ctx->saved_data["needs_x"].toBool());
    EXPECT_FALSE(ctx->needs_input_grad(1));
    return {grads[0] * 3.0 * x * x * scale, Tensor()};
  }
};

TEST(CustomFunction, ForwardBackwardAndGradcheck) {
  const Tensor x = tensor({0.5, -2.0}, kFloat64).requires_grad_();
  const Tensor y = Cube::apply(x, 2.0);
  EXPECT_EQ(y.to_vector<double>(), (std::vector<double>{0.25, -16.0}));
  EXPECT_EQ(std::string(y.grad_fn()->name()), "CubeBackward");
  y.sum().backward();
  EXPECT_EQ(x.grad().to_vector<double>(), (std::vector<double>{1.5, 24.0}));
  manual_seed(4);
  EXPECT_TRUE(passes_gradcheck([](const variable_list& in) { return Cube::apply(in[0], 0.5); },
                               {randn({3, 2}, kFloat64).requires_grad_()}));
  // Without an input that requires grad nothing is recorded.
  EXPECT_FALSE(Cube::apply(tensor({1.0}, kFloat64), 1.0).requires_grad());
}

TEST(CustomFunction, SecondDerivativeThroughTheUsersBackward) {
  // Cube's backward, 3 scale x^2 g, is written with ops that record under create_graph, so it can be
  // differentiated again: d2/dx2 (scale x^3) = 6 scale x.
  const Tensor x = tensor({0.5, -2.0, 1.5}, kFloat64).requires_grad_();
  const Tensor first = autograd::grad({Cube::apply(x, 2.0).sum()}, {x}, {}, true, true)[0];
  EXPECT_EQ(first.detach().to_vector<double>(), (std::vector<double>{1.5, 24.0, 13.5}));
  EXPECT_EQ(autograd::grad({first.sum()}, {x})[0].to_vector<double>(), (std::vector<double>{6.0, -24.0, 18.0}));
  manual_seed(6);
  EXPECT_TRUE(passes_gradgradcheck([](const variable_list& in) { return Cube::apply(in[0], 0.5); },
                                   {randn({3, 2}, kFloat64).requires_grad_()}));
}

struct WrongCount : autograd::Function<WrongCount> {
  static Tensor forward(AutogradContext*, Tensor x) { return x * 2.0; }
  static variable_list backward(AutogradContext*, variable_list grads) { return {grads[0], grads[0]}; }
};

struct ArgmaxIndex : autograd::Function<ArgmaxIndex> {
  static Tensor forward(AutogradContext* ctx, Tensor x) {
    Tensor index = argmax(x, 0);
    ctx->mark_non_differentiable({index});
    return index;
  }
  static variable_list backward(AutogradContext*, variable_list) { return {Tensor()}; }
};

TEST(CustomFunction, MisuseIsReported) {
  const Tensor x = tensor({1.0, 3.0}, kFloat64).requires_grad_();
  EXPECT_TRUE(throws_error_containing([&] { WrongCount::apply(x).sum().backward(); },
                                      {"function WrongCountBackward returned an incorrect number of gradients (expected 1, got 2)"}));
  EXPECT_FALSE(ArgmaxIndex::apply(x).requires_grad());
  // A saved input modified in place is caught when backward reads it.
  Tensor base = tensor({1.0, 2.0}, kFloat64).requires_grad_();
  Tensor h = base * 1.0;
  const Tensor y = Cube::apply(h, 1.0);
  h.add_(1.0);
  EXPECT_TRUE(throws_error_containing([&] { y.sum().backward(); }, {"modified by an inplace operation"}));
  // A second backward without retain_graph finds the graph freed.
  const Tensor z = Cube::apply(x, 1.0).sum();
  z.backward();
  EXPECT_TRUE(throws_error_containing([&] { z.backward(); }, {"second time"}));
}

// pytorch/examples' custom linear: forward(ctx, input, weight, bias = Tensor()) called with two
// arguments, a backward that returns three gradients, the extra one undefined. libtorch drops it.
struct LinearFunction : autograd::Function<LinearFunction> {
  static Tensor forward(AutogradContext* ctx, Tensor input, Tensor weight, Tensor bias = Tensor()) {
    ctx->save_for_backward({input, weight});
    ctx->saved_data["has_bias"] = bias.defined();
    Tensor output = input.mm(weight.t());
    return bias.defined() ? output + bias : output;
  }
  static variable_list backward(AutogradContext* ctx, variable_list grads) {
    const auto saved = ctx->get_saved_variables();
    const Tensor grad_input = grads[0].mm(saved[1]);
    const Tensor grad_weight = grads[0].t().mm(saved[0]);
    const Tensor grad_bias = ctx->saved_data["has_bias"].toBool() ? grads[0].sum(0) : Tensor();
    return {grad_input, grad_weight, grad_bias};
  }
};

TEST(CustomFunction, ExtraUndefinedGradientsAreDroppedAsLibtorch) {
  manual_seed(3);
  const Tensor x = randn({4, 3}, kFloat64).requires_grad_();
  const Tensor w = randn({2, 3}, kFloat64).requires_grad_();
  LinearFunction::apply(x, w).sum().backward();
  EXPECT_TRUE(all_close(w.grad(), ones({4, 2}, kFloat64).t().mm(x.detach()), 1e-12, 1e-12));
  EXPECT_TRUE(all_close(x.grad(), ones({4, 2}, kFloat64).mm(w.detach()), 1e-12, 1e-12));
  // Extra gradients that are defined are still an error, with libtorch's words.
  struct ExtraDefined : autograd::Function<ExtraDefined> {
    static Tensor forward(AutogradContext*, Tensor x) { return x * 2.0; }
    static variable_list backward(AutogradContext*, variable_list grads) { return {grads[0] * 2.0, grads[0]}; }
  };
  EXPECT_TRUE(throws_error_containing([&] { ExtraDefined::apply(x).sum().backward(); },
                                      {"returned an incorrect number of gradients (expected 1, got 2)"}));
  struct WrongShape : autograd::Function<WrongShape> {
    static Tensor forward(AutogradContext*, Tensor x) { return x * 2.0; }
    static variable_list backward(AutogradContext*, variable_list grads) { return {grads[0].sum(0)}; }
  };
  EXPECT_TRUE(throws_error_containing([&] { WrongShape::apply(x).sum().backward(); },
                                      {"Function WrongShapeBackward returned an invalid gradient at index 0 - got [3]",
                                       "but expected shape compatible with [4, 3]"}));
}

// A step function's derivative is 0, and PyTorch hands that 0 on (threshold_backward's, sgn's and
// max_pool's own derivatives are zeros_like(self)), so x.grad() is a defined tensor of zeros; where
// PyTorch's formula only compares its input (clamp, maximum, max), x gets no gradient at all.
// Checked with the same programs in PyTorch 1.13.
TEST(DoubleBackward, StepFunctionsHandZerosOnAsPyTorch) {
  manual_seed(11);
  const Tensor w1 = randn({4, 4}, kFloat64).requires_grad_();
  const Tensor w2 = randn({4, 4}, kFloat64).requires_grad_();
  struct Case {
    const char* name;
    std::function<Tensor(const Tensor&)> f;
    bool x_gets_zeros;
  };
  const std::vector<Case> cases = {
      {"relu", [](const Tensor& h) { return relu(h); }, true},
      {"relu_", [](const Tensor& h) { return (h * 1.0).relu_(); }, true},
      {"leaky_relu", [](const Tensor& h) { return leaky_relu(h, 0.1); }, true},
      {"abs", [](const Tensor& h) { return abs(h); }, true},
      {"norm(1)", [](const Tensor& h) { return h.norm(1) * ones({4, 4}, kFloat64); }, true},
      {"max_pool2d", [](const Tensor& h) { return max_pool2d(h.view({1, 1, 4, 4}), 1).view({4, 4}); }, true},
      {"clamp", [](const Tensor& h) { return clamp(h, -0.5, 0.5); }, false},
      {"maximum", [](const Tensor& h) { return maximum(h, h.t()); }, false},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    const Tensor x = randn({4, 4}, kFloat64).requires_grad_();
    const Tensor y = (c.f(x.mm(w1)).mm(w2)).sum();
    const Tensor gx = autograd::grad({y}, {x}, {}, true, true)[0];
    (gx * gx).sum().backward();
    if (c.x_gets_zeros) {
      ASSERT_TRUE(x.grad().defined());
      EXPECT_TRUE(all_close(x.grad(), zeros({4, 4}, kFloat64), 0.0, 0.0));
    } else {
      EXPECT_FALSE(x.grad().defined());
    }
    EXPECT_TRUE(w1.grad().defined());
    w1.zero_grad();
    w2.zero_grad();
  }
  // The second derivative itself is unchanged: gradgradcheck through relu and abs away from the kinks.
  EXPECT_TRUE(passes_gradgradcheck([](const variable_list& in) { return relu(in[0]) * in[0] + abs(in[0]); },
                                   {tensor({0.5, -1.5, 2.0}, kFloat64).requires_grad_()}));
}

TEST(IValue, HoldsWhatContextsSave) {
  autograd::IValue number = 3;
  EXPECT_EQ(number.toInt(), 3);
  EXPECT_EQ(number.toDouble(), 3.0);
  EXPECT_TRUE(throws_error_containing([&] { number.toBool(); }, {"toBool", "an int"}));
  autograd::IValue t = tensor({1.0}, kFloat64);
  EXPECT_TRUE(t.toTensor().defined());
  EXPECT_EQ(autograd::IValue("name").toStringRef(), "name");
}

TEST(Anomaly, ANaNGradientNamesTheNodeAndTheForwardOp) {
  {
    autograd::DetectAnomalyGuard detect;
    const Tensor x = zeros({1}, TensorOptions().dtype(kFloat64).requires_grad(true));
    const Tensor y = sqrt(x).sum();
    EXPECT_TRUE(throws_error_containing([&] { y.backward(); },
                                        {"SqrtBackward0", "NaN or infinite", "sqrt", "[1]"}));
  }
  EXPECT_FALSE(autograd::AnomalyMode::is_enabled());
  // Off by default: the same backward just produces inf, as in PyTorch.
  const Tensor x = zeros({1}, TensorOptions().dtype(kFloat64).requires_grad(true));
  sqrt(x).sum().backward();
  EXPECT_TRUE(std::isinf(x.grad().item<double>()));
}

TEST(ToDot, ShowsTheWholeGraphAfterAPlainBackward) {
  Tensor w = tensor({1.0, 2.0}, kFloat64).requires_grad_();
  w.set_name("w");
  Tensor hidden = exp(w);
  hidden.retain_grad();
  const Tensor loss = (hidden * w).sum();
  loss.backward();
  const std::string dot = to_dot(loss);
  EXPECT_NE(dot.find("ExpBackward0"), std::string::npos);
  EXPECT_NE(dot.find("MulBackward0"), std::string::npos);
  EXPECT_NE(dot.find("w\\n[2] float64\\ngrad [2] norm"), std::string::npos);
  EXPECT_NE(dot.find("ExpBackward0\\n[2]\\nretain_grad()\\ngrad [2] norm"), std::string::npos);  // the retained tensor
}

// ---- Hessian-vector products and gradient penalties against PyTorch (tests/golden/hvp.json) --------

// The composites of tests/golden/make_golden_hvp.py, written with xgrad's ops.
Tensor tanh_cubic_over_exp(const variable_list& in) {
  const Tensor& x = in[0];
  return (tanh(x) * pow(x, 3.0) / (1.0 + exp(x))).sum();
}

Tensor logsumexp_norm(const variable_list& in) {
  const Tensor &x = in[0], &w = in[1];
  return logsumexp(x * w, 1).sum() + norm(sin(x) - w, 2) + abs(x - w).mean();
}

Tensor std_max_sqrt(const variable_list& in) {
  const Tensor& x = in[0];
  const Tensor values = std::get<0>(max(x, 1));
  return (sqrt(x * x + 1.0) * std(x, 0, true, true)).sum() + pow(values, 2.0).sum() + var(log1p(pow(x, 2.0))) +
         pow(clamp(x, -0.8, 0.8), 3.0).sum() + cos(permute(expand(unsqueeze(x, 0), {2, 3, 4}), {2, 0, 1})).sum();
}

// One score per row of x: the f whose gradient the penalties measure.
Tensor smooth_score(const Tensor& x, const Tensor& w) { return tanh(x * w).mean(1) + log1p(exp(x - w)).sum(1) / 4.0; }

Tensor gradient_of_score(const variable_list& in) {
  return autograd::grad({smooth_score(in[0], in[1]).sum()}, {in[0]}, {}, true, /*create_graph=*/true)[0];
}

// ||d f / d x||^2.
Tensor penalty_squared_norm(const variable_list& in) { return pow(norm(gradient_of_score(in)), 2.0); }

// WGAN-GP's: each row's gradient norm pulled towards 1.
Tensor penalty_unit_norm(const variable_list& in) { return pow(norm(gradient_of_score(in), 2, 1) - 1.0, 2.0).mean(); }

const std::map<std::string, std::function<Tensor(const variable_list&)>>& composites() {
  static const std::map<std::string, std::function<Tensor(const variable_list&)>> all = {
      {"tanh_cubic_over_exp", tanh_cubic_over_exp},
      {"logsumexp_norm", logsumexp_norm},
      {"std_max_sqrt", std_max_sqrt},
      {"penalty_squared_norm", penalty_squared_norm},
      {"penalty_unit_norm", penalty_unit_norm}};
  return all;
}

variable_list golden_tensors(const Json& list) {
  variable_list tensors;
  for (const Json& t : list) tensors.push_back(golden_tensor(t));
  return tensors;
}

::testing::AssertionResult all_match_golden(const variable_list& actual, const Json& expected, const char* what) {
  if (actual.size() != expected.size())
    return ::testing::AssertionFailure() << what << ": " << actual.size() << " tensors, expected " << expected.size();
  for (std::size_t i = 0; i < actual.size(); ++i) {
    ::testing::AssertionResult same = matches_golden(actual[i].detach(), golden_tensor(expected[i]));
    if (!same) return same << " (" << what << " " << i << ")";
  }
  return ::testing::AssertionSuccess();
}

TEST(HigherOrderFixtures, HessianVectorProductsAndGradientPenaltiesMatchPyTorch) {
  const Json& cases = golden_file("hvp.json")["cases"];
  ASSERT_EQ(cases.size(), 5u);
  for (const Json& fixture : cases) {
    SCOPED_TRACE(fixture["name"].get<std::string>());
    variable_list inputs = golden_tensors(fixture["inputs"]);
    for (Tensor& input : inputs) input.requires_grad_();
    const Tensor value = composites().at(fixture["fn"].get<std::string>())(inputs);
    EXPECT_TRUE(matches_golden(value.detach(), golden_tensor(fixture["value"])));
    if (fixture["kind"] == "penalty") {
      // The penalty's gradient differentiates smooth_score's recorded backward.
      EXPECT_TRUE(all_match_golden(autograd::grad({value}, inputs), fixture["grads"], "gradient"));
      continue;
    }
    const variable_list grads = autograd::grad({value}, inputs, {}, true, /*create_graph=*/true);
    EXPECT_TRUE(all_match_golden(grads, fixture["grads"], "gradient"));
    const variable_list vectors = golden_tensors(fixture["vectors"]);
    Tensor dot = (grads[0] * vectors[0]).sum();
    for (std::size_t i = 1; i < grads.size(); ++i) dot = dot + (grads[i] * vectors[i]).sum();
    EXPECT_TRUE(all_match_golden(autograd::grad({dot}, inputs), fixture["hvp"], "Hessian-vector product"));
  }
}

}  // namespace
}  // namespace xgrad

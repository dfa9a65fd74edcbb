// Autograd for teaching: retained gradients, hooks, grad_fn inspection, autograd::grad, custom
// Functions and anomaly detection. Expected behaviour is PyTorch 1.13's (checked with the same
// programs in Python).
#include <gtest/gtest.h>

#include <cmath>
#include <string>
#include <vector>

#include <xgrad/xgrad.hpp>

#include "compare.hpp"

namespace xgrad {
namespace {

using autograd::AutogradContext;
using autograd::variable_list;
using testing::all_close;
using testing::passes_gradcheck;
using testing::throws_error_containing;

TEST(RetainGrad, ANonLeafKeepsTheChainRuleValue) {
  const Tensor x = tensor({0.5, -1.0, 2.0}).requires_grad_();
  Tensor hidden = tanh(x);
  hidden.retain_grad();
  EXPECT_TRUE(hidden.retains_grad());
  (hidden * hidden).sum().backward();
  // d/dh sum(h^2) = 2h; the leaf then gets 2h (1 - h^2).
  EXPECT_TRUE(all_close(hidden.grad(), hidden.detach() * 2.0, 1e-15, 0.0));
  EXPECT_TRUE(all_close(x.grad(), hidden.detach() * 2.0 * (1.0 - hidden.detach() * hidden.detach()), 1e-15, 0.0));
  const Tensor not_retained = tanh(x);
  EXPECT_FALSE(not_retained.grad().defined());
  EXPECT_TRUE(throws_error_containing([] { tensor({1.0}).retain_grad(); }, {"retain_grad", "requires_grad"}));
}

// PyTorch 1.13 runs a tensor's hooks in registration order, retain_grad's included: registered
// before a doubling hook it keeps the plain gradient, after it the doubled one.
TEST(Hooks, RunInRegistrationOrderAndMayReplaceTheGradient) {
  const Tensor x = tensor({0.5, -1.0}).requires_grad_();
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
  const Tensor x = tensor({1.0, 2.0}).requires_grad_();
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
  Tensor w = tensor({1.0, 2.0}).requires_grad_();
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
  EXPECT_TRUE(throws_error_containing([&] { w.remove_hook(7); }, {"remove_hook", "7"}));
}

TEST(Hooks, BadHooksAreErrorsAndTheEngineRecovers) {
  Tensor w = tensor({1.0, 2.0}).requires_grad_();
  EXPECT_TRUE(throws_error_containing([] { tensor({1.0}).register_hook([](Tensor g) { return g; }); },
                                      {"register_hook", "doesn't require gradient"}));
  const unsigned bad = w.register_hook([](Tensor) { return tensor({1.0, 2.0, 3.0}); });
  EXPECT_TRUE(throws_error_containing([&] { (w * 2.0).sum().backward(); }, {"hook", "[2]", "[3]"}));
  w.remove_hook(bad);
  w.zero_grad();
  (w * 2.0).sum().backward();
  EXPECT_EQ(w.grad().to_vector<double>(), (std::vector<double>{2.0, 2.0}));
}

TEST(GradFn, NamesAndNextFunctionsAsPyTorch) {
  const Tensor x = tensor({{1.0, 2.0}}).requires_grad_();
  const Tensor w = tensor({{3.0}, {4.0}}).requires_grad_();
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
  const Tensor x = tensor({1.0, 2.0}).requires_grad_();
  const Tensor y = tensor({3.0, -1.0}).requires_grad_();
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
  const Tensor v = autograd::grad({x * x}, {x}, {tensor({1.0, -1.0})})[0];
  EXPECT_EQ(v.to_vector<double>(), (std::vector<double>{2.0, -4.0}));
}

TEST(Grad, UnusedInputsAndBadArguments) {
  const Tensor x = tensor({1.0}).requires_grad_();
  const Tensor unused = tensor({1.0}).requires_grad_();
  EXPECT_TRUE(throws_error_containing([&] { autograd::grad({(x * 2.0).sum()}, {unused}); },
                                      {"grad", "input 0", "not have been used", "allow_unused"}));
  const variable_list grads = autograd::grad({(x * 2.0).sum()}, {x, unused}, {}, std::nullopt, false, true);
  EXPECT_TRUE(grads[0].defined());
  EXPECT_FALSE(grads[1].defined());
  EXPECT_EQ(autograd::grad({x * 2.0}, {x})[0].item<double>(), 2.0);  // one element needs no grad_outputs
  EXPECT_TRUE(throws_error_containing([&] { autograd::grad({tensor({1.0, 2.0}).requires_grad_() * 2.0}, {x}); },
                                      {"grad", "one element", "[2]"}));
  EXPECT_TRUE(throws_error_containing([&] { autograd::grad({tensor({1.0})}, {x}); }, {"grad", "output 0"}));
}

TEST(Grad, CreateGraphThroughAnOpWithoutRecordedBackwardIsAnError) {
  const Tensor x = tensor({1.0}).requires_grad_();
  EXPECT_TRUE(throws_error_containing([&] { autograd::grad({exp(x).sum()}, {x}, {}, std::nullopt, true); },
                                      {"create_graph", "Backward0"}));
  // The engine is usable afterwards, and grad mode is back on.
  EXPECT_TRUE(GradMode::is_enabled());
  EXPECT_TRUE(autograd::grad({exp(x).sum()}, {x})[0].defined());
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
  const Tensor x = tensor({0.5, -2.0}).requires_grad_();
  const Tensor y = Cube::apply(x, 2.0);
  EXPECT_EQ(y.to_vector<double>(), (std::vector<double>{0.25, -16.0}));
  EXPECT_EQ(std::string(y.grad_fn()->name()), "CubeBackward");
  y.sum().backward();
  EXPECT_EQ(x.grad().to_vector<double>(), (std::vector<double>{1.5, 24.0}));
  manual_seed(4);
  EXPECT_TRUE(passes_gradcheck([](const variable_list& in) { return Cube::apply(in[0], 0.5); },
                               {randn({3, 2}, kFloat64).requires_grad_()}));
  // Without an input that requires grad nothing is recorded.
  EXPECT_FALSE(Cube::apply(tensor({1.0}), 1.0).requires_grad());
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
  const Tensor x = tensor({1.0, 3.0}).requires_grad_();
  EXPECT_TRUE(throws_error_containing([&] { WrongCount::apply(x).sum().backward(); },
                                      {"WrongCountBackward", "2 gradients", "1 arguments"}));
  EXPECT_FALSE(ArgmaxIndex::apply(x).requires_grad());
  // A saved input modified in place is caught when backward reads it.
  Tensor base = tensor({1.0, 2.0}).requires_grad_();
  Tensor h = base * 1.0;
  const Tensor y = Cube::apply(h, 1.0);
  h.add_(1.0);
  EXPECT_TRUE(throws_error_containing([&] { y.sum().backward(); }, {"modified by an inplace operation"}));
  // A second backward without retain_graph finds the graph freed.
  const Tensor z = Cube::apply(x, 1.0).sum();
  z.backward();
  EXPECT_TRUE(throws_error_containing([&] { z.backward(); }, {"second time"}));
}

TEST(IValue, HoldsWhatContextsSave) {
  autograd::IValue number = 3;
  EXPECT_EQ(number.toInt(), 3);
  EXPECT_EQ(number.toDouble(), 3.0);
  EXPECT_TRUE(throws_error_containing([&] { number.toBool(); }, {"toBool", "an int"}));
  autograd::IValue t = tensor({1.0});
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
  Tensor w = tensor({1.0, 2.0}).requires_grad_();
  w.set_name("w");
  Tensor hidden = exp(w);
  hidden.retain_grad();
  const Tensor loss = (hidden * w).sum();
  loss.backward();
  const std::string dot = to_dot(loss);
  EXPECT_NE(dot.find("ExpBackward0"), std::string::npos);
  EXPECT_NE(dot.find("MulBackward0"), std::string::npos);
  EXPECT_NE(dot.find("w\\n[2] float64\\ngrad [2] norm"), std::string::npos);
  EXPECT_NE(dot.find("ExpBackward0\\n[2]\\ngrad [2] norm"), std::string::npos);  // the retained tensor
}

}  // namespace
}  // namespace xgrad

// The reverse-mode engine: ordering, accumulation, graph lifetime. Values are small enough to check
// by hand; every expected number has its derivation beside it.
#include <gtest/gtest.h>

#include <cmath>
#include <thread>
#include <vector>

#include <xgrad/core/node.hpp>

#include "compare.hpp"

namespace xgrad {
namespace {

using testing::throws_error_containing;

Tensor scalar64(double value) { return full({1}, value, kFloat64).requires_grad_(); }

TEST(Engine, DiamondSumsBothPaths) {
  Tensor a = scalar64(3.0);
  Tensor b = a + a;  // b = 2a
  Tensor c = b * b;  // c = 4a^2, dc/da = 8a = 24 (both uses of a and of b must be summed)
  c.backward();
  EXPECT_DOUBLE_EQ(a.grad().item<double>(), 24.0);
}

TEST(Engine, GradientsAccumulateAcrossBackwardCalls) {
  Tensor a = scalar64(2.0);
  (a * 3.0).backward();
  (a * 3.0).backward();
  EXPECT_DOUBLE_EQ(a.grad().item<double>(), 6.0);
  a.zero_grad();
  EXPECT_FALSE(a.grad().defined());
  (a * a).backward();  // d a^2 = 2a
  EXPECT_DOUBLE_EQ(a.grad().item<double>(), 4.0);
}

// As PyTorch's AccumulateGrad: outside create_graph the second pass adds into the grad tensor the
// first one left, so a handle taken on it sees the sum (and its version moves on).
TEST(Engine, AccumulationAddsIntoTheExistingGradTensor) {
  Tensor a = scalar64(2.0);
  (a * 3.0).backward();
  const Tensor first = a.grad();
  const auto version = first._version();
  (a * 4.0).backward();
  EXPECT_DOUBLE_EQ(first.item<double>(), 7.0);  // 3 + 4, in the tensor taken after the first pass
  EXPECT_EQ(a.grad().data_ptr<double>(), first.data_ptr<double>());
  EXPECT_GT(first._version(), version);
}

// Backward from a leaf with its own grad as the upstream: the sum must read the old values whole.
TEST(Engine, AccumulatingAGradOntoItselfDoublesIt) {
  Tensor a = scalar64(2.0);
  (a * 3.0).backward();
  a.backward(a.grad());
  EXPECT_DOUBLE_EQ(a.grad().item<double>(), 6.0);
}

// Under create_graph the sum is a new tensor recorded in the graph; the first gradient is untouched.
TEST(Engine, CreateGraphAccumulationMakesANewRecordedSum) {
  Tensor a = scalar64(2.0);
  (a * a).backward({}, /*retain_graph=*/true, /*create_graph=*/true);  // 2a = 4
  const Tensor first = a.grad();
  (a * a).backward({}, /*retain_graph=*/true, /*create_graph=*/true);
  EXPECT_DOUBLE_EQ(first.item<double>(), 4.0);
  EXPECT_DOUBLE_EQ(a.grad().item<double>(), 8.0);
  EXPECT_TRUE(a.grad().requires_grad());
  a.zero_grad();  // the grad refers back to a through its graph
}

TEST(Engine, RetainGraphAllowsASecondBackward) {
  Tensor a = scalar64(2.0);
  Tensor y = exp(a * a);
  y.backward({}, /*retain_graph=*/true);
  const double once = a.grad().item<double>();  // 2a exp(a^2)
  EXPECT_NEAR(once, 4.0 * std::exp(4.0), 1e-9);
  y.backward();
  EXPECT_NEAR(a.grad().item<double>(), 2 * once, 1e-9);
}

TEST(Engine, SecondBackwardThroughAFreedGraphThrows) {
  Tensor a = scalar64(2.0);
  Tensor y = exp(a * a);
  y.backward();
  EXPECT_TRUE(throws_error_containing([&] { y.backward(); }, {"backward", "second time", "retain_graph"}));
  (a * 2.0).backward();  // the engine still works
  EXPECT_NEAR(a.grad().item<double>(), 4.0 * std::exp(4.0) + 2.0, 1e-9);
}

TEST(Engine, NoGradGuardRecordsNothing) {
  Tensor a = scalar64(1.0);
  {
    NoGradGuard no_grad;
    Tensor y = a * 2.0;
    EXPECT_FALSE(y.requires_grad());
    EXPECT_EQ(y.grad_fn(), nullptr);
    {
      NoGradGuard nested;
    }
    EXPECT_FALSE((a * 2.0).requires_grad());  // the inner guard restored "off", not "on"
  }
  EXPECT_TRUE((a * 2.0).requires_grad());
}

TEST(Engine, NothingIsRecordedForInputsThatNeedNoGrad) {
  Tensor y = ones({2}) * 3.0 + ones({2});
  EXPECT_FALSE(y.requires_grad());
  EXPECT_EQ(y.grad_fn(), nullptr);
}

TEST(Engine, DetachCutsTheGraph) {
  Tensor a = scalar64(3.0);
  Tensor y = a * a.detach();  // only the first factor is differentiated: dy/da = a.detach() = 3
  y.backward();
  EXPECT_DOUBLE_EQ(a.grad().item<double>(), 3.0);
  EXPECT_FALSE(a.detach().requires_grad());
}

TEST(Engine, HundredThousandOpChainNeedsNoRecursion) {
  Tensor a = scalar64(1.0);
  Tensor x = a;
  for (int i = 0; i < 100000; ++i) x = x * 1.0 + 0.0;
  x.backward();
  EXPECT_DOUBLE_EQ(a.grad().item<double>(), 1.0);
  // Dropping an un-backwarded chain of that depth must not recurse either.
  Tensor y = a;
  for (int i = 0; i < 100000; ++i) y = y * y.detach();
  y = Tensor();
}

// loss = tanh(2a)^2, where nothing but the loss's graph holds the tanh node.
struct LossAndHiddenNode {
  Tensor loss;
  std::weak_ptr<Node> hidden_node;
};
LossAndHiddenNode square_of_hidden(const Tensor& a) {
  Tensor hidden = tanh(a * 2.0);
  return {hidden * hidden, hidden.grad_fn()};
}

TEST(Engine, BackwardFreesSavedValuesButKeepsTheStructure) {
  // Named members rather than a structured binding: C++17 lambdas cannot capture one (clang).
  LossAndHiddenNode graph = square_of_hidden(scalar64(0.5));
  Tensor& loss = graph.loss;
  const std::weak_ptr<Node>& hidden_node = graph.hidden_node;
  EXPECT_FALSE(hidden_node.expired());  // the loss's graph keeps it
  EXPECT_FALSE(hidden_node.lock()->released());
  loss.backward();
  ASSERT_FALSE(hidden_node.expired());  // still reachable: to_dot and next_functions can walk it
  EXPECT_TRUE(hidden_node.lock()->released());
  EXPECT_TRUE(throws_error_containing([&] { loss.backward(); }, {"second time", "retain_graph"}));
  loss = Tensor();
  EXPECT_TRUE(hidden_node.expired());  // dropping the output frees the graph: no cycle
}

TEST(Engine, RetainedGraphStaysAlive) {
  auto [loss, hidden_node] = square_of_hidden(scalar64(0.5));
  loss.backward({}, true);
  EXPECT_FALSE(hidden_node.expired());
  loss = Tensor();
  EXPECT_TRUE(hidden_node.expired());  // and no cycle keeps it once the output is gone
}

TEST(Engine, GradOutputSeedsNonScalarBackward) {
  Tensor a = tensor({1.0, 2.0, 3.0}, kFloat64).requires_grad_();
  Tensor y = a * a;
  Tensor upstream = tensor({0.5, -1.0, 2.0}, kFloat64);
  y.backward(upstream);  // dy_i/da_i = 2 a_i, times upstream
  EXPECT_EQ(a.grad().to_vector<double>(), (std::vector<double>{1.0, -4.0, 12.0}));
  EXPECT_EQ(upstream.to_vector<double>(), (std::vector<double>{0.5, -1.0, 2.0}));  // not aliased
}

TEST(Engine, SharedLeafGradientsDoNotAlias) {
  Tensor a = tensor({1.0}, kFloat64).requires_grad_();
  Tensor b = tensor({2.0}, kFloat64).requires_grad_();
  (a + b).backward();  // the same upstream reaches both leaves
  a.grad().mutable_data<double>()[0] = 100.0;
  EXPECT_DOUBLE_EQ(b.grad().item<double>(), 1.0);
}

// A hook may run a backward pass of its own, through nodes the outer pass is still walking (here
// the AccumulateGrad of the shared leaf w): each call keeps its own pending counts and gradients.
TEST(Engine, ABackwardInsideAHookDuringAnotherBackward) {
  const Tensor w = tensor({1.0, 2.0}, kFloat64).requires_grad_();
  const Tensor h = w * 3.0;
  Tensor inner_grad;
  h.register_hook([&](const Tensor& g) {
    // Hooks run with grad mode as the pass has it (off without create_graph), as in PyTorch.
    AutoGradMode enable_grad(true);
    (w * w).sum().backward();  // adds 2 w = [2, 4] into w.grad() before the outer pass reaches w
    inner_grad = w.grad().clone();
    return g;
  });
  (h * w).sum().backward();  // d/dw (3 w . w) = 6 w = [6, 12]
  EXPECT_EQ(inner_grad.to_vector<double>(), (std::vector<double>{2.0, 4.0}));
  EXPECT_EQ(w.grad().to_vector<double>(), (std::vector<double>{8.0, 16.0}));
}

// Two threads run backward at once, each on a graph of its own, many times over; every gradient
// must come out as if each had run alone.
TEST(Engine, TwoThreadsRunBackwardOnSeparateGraphs) {
  constexpr int kSteps = 200;
  auto train = [](double scale, std::vector<double>& last) {
    const Tensor w = tensor({1.0, -2.0, 3.0}, kFloat64).requires_grad_();
    for (int step = 0; step < kSteps; ++step) {
      w.zero_grad();
      Tensor loss = ((w * scale).tanh() * w).sum() + (w * w).sum();
      loss.backward();
      last = w.grad().to_vector<double>();
    }
  };
  std::vector<double> alone_a, alone_b, threaded_a, threaded_b;
  train(0.5, alone_a);
  train(-1.5, alone_b);
  std::thread first([&] { train(0.5, threaded_a); });
  std::thread second([&] { train(-1.5, threaded_b); });
  first.join();
  second.join();
  EXPECT_EQ(threaded_a, alone_a);
  EXPECT_EQ(threaded_b, alone_b);
}

TEST(Gradcheck, PassesForACorrectGradientAndReportsTheWorstEntry) {
  manual_seed(1);
  Tensor x = randn({2, 3}, kFloat64).requires_grad_();
  auto result = gradcheck([](const std::vector<Tensor>& in) { return tanh(in[0]) * in[0]; }, {x});
  EXPECT_TRUE(result.passed) << result.report;
  EXPECT_TRUE(static_cast<bool>(result));
  EXPECT_LT(result.max_abs_error, 1e-8);
  EXPECT_NE(result.report.find("input 0"), std::string::npos);
}

// x^2 whose recorded formula and fused loop can each be made wrong by a factor: the engine runs the
// loop without create_graph and the formula under it, and gradcheck must catch either one.
struct SquareBackward final : Node {
  SquareBackward(const Tensor& x, double formula_factor, double fused_factor)
      : x(x, /*is_output=*/false), formula_factor(formula_factor), fused_factor(fused_factor) {}
  const char* name() const override { return "SquareBackward"; }
  gradient_list backward(const Tensor& grad) override { return {grad * x.unpack(*this) * formula_factor}; }
  gradient_list fused_backward(const Tensor& grad) override {
    return {(grad * x.unpack(*this) * fused_factor).detach()};
  }
  SavedTensor x;
  double formula_factor, fused_factor;
};

Tensor square_with(const Tensor& x, double formula_factor, double fused_factor) {
  Tensor out = (x * x).detach();
  record(out, std::make_shared<SquareBackward>(x, formula_factor, fused_factor), {&x});
  return out;
}

TEST(Engine, RunsTheFusedBackwardWithoutCreateGraphAndTheRecordedFormulaUnderIt) {
  const Tensor x = tensor({3.0}, kFloat64).requires_grad_();
  square_with(x, 2.0, 20.0).backward();
  EXPECT_DOUBLE_EQ(x.grad().item<double>(), 60.0);  // the loop's 20 x
  x.zero_grad();
  square_with(x, 2.0, 20.0).backward({}, /*retain_graph=*/false, /*create_graph=*/true);
  EXPECT_DOUBLE_EQ(x.grad().item<double>(), 6.0);  // the formula's 2 x
  // That recorded grad reaches x through the node's saved x: dropped, as PyTorch advises after a
  // backward with create_graph into a leaf, so that no cycle outlives the test.
  x.zero_grad();
}

TEST(Gradcheck, ChecksTheRecordedFormulaAndTheFusedBackwardBoth) {
  const Tensor x = tensor({0.5, -1.5, 2.0}, kFloat64).requires_grad_();
  const auto square = [](double formula_factor, double fused_factor) {
    return [=](const std::vector<Tensor>& in) { return square_with(in[0], formula_factor, fused_factor); };
  };
  EXPECT_TRUE(gradcheck(square(2.0, 2.0), {x}).passed);
  const GradcheckResult wrong_loop = gradcheck(square(2.0, 3.0), {x});
  EXPECT_FALSE(wrong_loop.passed);
  EXPECT_NE(wrong_loop.report.find("fused backward"), std::string::npos) << wrong_loop.report;
  const GradcheckResult wrong_formula = gradcheck(square(3.0, 2.0), {x});
  EXPECT_FALSE(wrong_formula.passed);
  EXPECT_NE(wrong_formula.report.find("recorded formula"), std::string::npos) << wrong_formula.report;
}

TEST(Gradcheck, RejectsFloat32Inputs) {
  Tensor x = randn({2}).requires_grad_();
  EXPECT_TRUE(throws_error_containing([&] { gradcheck([](const std::vector<Tensor>& in) { return in[0]; }, {x}); },
                                      {"gradcheck", "float32", "float64"}));
}

TEST(ToDot, ShowsOpsLeavesAndGradients) {
  Tensor w = tensor({1.0, 2.0}, kFloat64).requires_grad_();
  w.set_name("w");
  Tensor loss = sum(exp(w) * w);
  const std::string before = to_dot(loss);
  EXPECT_NE(before.find("digraph"), std::string::npos);
  EXPECT_NE(before.find("ExpBackward"), std::string::npos);
  EXPECT_NE(before.find("w\\n[2] float64"), std::string::npos);
  EXPECT_EQ(before.find("grad [2]"), std::string::npos);
  loss.backward({}, true);
  EXPECT_NE(to_dot(loss).find("grad [2] norm"), std::string::npos);
}

}  // namespace
}  // namespace xgrad

// SavedTensor: what a node keeps for backward. Versions are checked when it is unpacked, a saved
// tensor's later history cannot lead back to the node that saved it (no reference cycle, so no
// leak when backward never runs), and a saved output rejoins the graph under create_graph.
#include <gtest/gtest.h>

#include <memory>
#include <vector>

#include <xgrad/xgrad.hpp>

#include "compare.hpp"

namespace xgrad {
namespace {

using autograd::AutogradContext;
using autograd::variable_list;
using namespace xgrad::testing;

Tensor leaf(std::vector<double> values) { return tensor(values, kFloat64).requires_grad_(); }

// b = a * a saves a; a.add_(b) then makes a's new history run through b's node. Had the node kept
// a's own handle, a -> AddBackward -> MulBackward -> a would keep all three alive after the last
// user handle is gone.
TEST(SavedTensor, AnInputModifiedInPlaceLaterClosesNoCycle) {
  const Tensor x = leaf({1.0, 2.0});
  std::weak_ptr<Node> mul_node;
  {
    Tensor a = x + x;
    const Tensor b = a * a;
    mul_node = b.grad_fn();
    a.add_(b);
    EXPECT_STREQ(a.grad_fn()->name(), "AddBackward0");
  }
  EXPECT_TRUE(mul_node.expired());
}

TEST(SavedTensor, AViewWhoseBaseIsModifiedInPlaceLaterClosesNoCycle) {
  const Tensor x = leaf({1.0, 2.0, 3.0});
  std::weak_ptr<Node> mul_node;
  {
    Tensor y = x * 1.0;
    const Tensor w = y[0] * y[0];
    mul_node = w.grad_fn();
    y.add_(w.sum());
  }
  EXPECT_TRUE(mul_node.expired());
}

// A tensor outside any graph may get a history later, through an in-place op with an input that
// has one.
TEST(SavedTensor, AConstantThatGetsAHistoryLaterClosesNoCycle) {
  const Tensor x = leaf({1.0, 2.0});
  std::weak_ptr<Node> mul_node;
  {
    Tensor c = tensor({3.0, 4.0}, kFloat64);
    const Tensor b = x * c;
    mul_node = b.grad_fn();
    c.add_(b);
    EXPECT_TRUE(c.requires_grad());
  }
  EXPECT_TRUE(mul_node.expired());
}

TEST(SavedTensor, ASavedInputChangedInPlaceIsReportedWithItsNode) {
  const Tensor x = leaf({1.0, 2.0});
  Tensor a = x + x;
  const Tensor b = a * a;
  a.add_(b);
  EXPECT_TRUE(throws_error_containing([&] { b.sum().backward(); },
                                      {"modified by an inplace operation", "MulBackward0", "version 1",
                                       "expected version 0"}));
  // The engine keeps working, and a's new history gives the right gradient once nothing it saved
  // was changed: d/dx (2x + (2x)^2) = 2 + 8x.
  const Tensor c = x + x;
  const Tensor d = c + c * c;
  d.sum().backward();
  EXPECT_TRUE(all_close(x.grad(), tensor({10.0, 18.0}, kFloat64), 1e-12, 1e-12));
}

// exp saves its output. Under create_graph the output comes back with ExpBackward0 as grad_fn, so
// d/dx of the gradient exp(x) is exp(x) again.
TEST(SavedTensor, ASavedOutputRejoinsTheGraphThroughItsNode) {
  const Tensor x = leaf({0.25, -1.0});
  const Tensor y = exp(x);
  const Tensor g = autograd::grad({y.sum()}, {x}, {}, /*retain_graph=*/true, /*create_graph=*/true)[0];
  ASSERT_TRUE(g.requires_grad());
  const Tensor gg = autograd::grad({g.sum()}, {x})[0];
  EXPECT_TRUE(all_close(gg, exp(x).detach(), 1e-12, 1e-12));
  EXPECT_TRUE(passes_gradgradcheck([](const std::vector<Tensor>& in) { return exp(in[0]); }, {x}));
}

// A custom Function that saves its own output: kept without history (no cycle), and under
// create_graph unpacked with the custom node as grad_fn, as in PyTorch.
struct ExpFunction : autograd::Function<ExpFunction> {
  static Tensor forward(AutogradContext* ctx, Tensor x) {
    Tensor y = exp(x);
    ctx->save_for_backward({y});
    return y;
  }
  static variable_list backward(AutogradContext* ctx, variable_list grads) {
    return {grads[0] * ctx->get_saved_variables()[0]};
  }
};

TEST(SavedTensor, ACustomFunctionsSavedOutputClosesNoCycleAndRejoinsUnderCreateGraph) {
  const Tensor x = leaf({0.5, 1.5});
  std::weak_ptr<Node> node;
  {
    const Tensor y = ExpFunction::apply(x);
    node = y.grad_fn();
  }
  EXPECT_TRUE(node.expired());
  EXPECT_TRUE(passes_gradcheck([](const std::vector<Tensor>& in) { return ExpFunction::apply(in[0]); }, {x}));
  EXPECT_TRUE(passes_gradgradcheck([](const std::vector<Tensor>& in) { return ExpFunction::apply(in[0]); }, {x}));
}

TEST(SavedTensor, ACustomFunctionsSavedInputChangedInPlaceIsReported) {
  const Tensor x = leaf({0.5, 1.5});
  Tensor h = x * 2.0;
  const Tensor y = ExpFunction::apply(h) * h;  // MulBackward0 saves h
  h.mul_(3.0);
  EXPECT_TRUE(throws_error_containing([&] { y.sum().backward(); }, {"modified by an inplace operation"}));
}

}  // namespace
}  // namespace xgrad

// TraceGuard and the GraphObserver hook it stands on: what is printed, in which order, and that
// nothing is printed or recorded once the guard is gone.
#include <gtest/gtest.h>

#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "compare.hpp"

namespace xgrad {
namespace {

std::vector<std::string> lines_of(const std::string& text) {
  std::vector<std::string> lines;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  return lines;
}

// Remembers the names of the nodes the engine ran, in order.
struct NameLog final : autograd::GraphObserver {
  void ran(const std::shared_ptr<Node>& node, const Tensor&, const gradient_list&) override {
    names.push_back(node->name());
  }
  void recorded(const std::shared_ptr<Node>& node, const Tensor&) override { recorded_names.push_back(node->name()); }
  void backward_begins(bool) override { ++passes; }
  std::vector<std::string> names, recorded_names;
  int passes = 0;
};

TEST(TraceGuard, PrintsOneLinePerNodeInTheEnginesOrder) {
  Tensor x = tensor({1.0, 2.0}, kFloat64).requires_grad_();
  x.set_name("x");
  Tensor y = (x * x).sum();  // dy/dx = 2x = [2, 4]
  std::ostringstream out;
  {
    autograd::TraceGuard trace(out);
    y.backward();
  }
  const std::vector<std::string> lines = lines_of(out.str());
  ASSERT_EQ(lines.size(), 3u) << out.str();
  EXPECT_EQ(lines[0], "[backward] SumBackward0  grad_output [] {1}  ->  [2]");
  EXPECT_EQ(lines[1], "[backward] MulBackward0  grad_output [2] {1, 1}  ->  [2], [2]");
  // x is read twice by the product: its AccumulateGrad receives the sum of both, 2x.
  EXPECT_EQ(lines[2], "[backward] AccumulateGrad (leaf x)  grad [2] {2, 4}  ->  x.grad()");
}

TEST(TraceGuard, ShowsAFewValuesAndMarksInputsWithoutGradient) {
  Tensor w = ones({3, 3}, kFloat64).requires_grad_();
  Tensor c = full({3, 3}, 2.0, kFloat64);  // needs no gradient
  std::ostringstream out;
  autograd::TraceGuard trace(out, 2);
  (w * c).sum().backward();
  const std::vector<std::string> lines = lines_of(out.str());
  ASSERT_EQ(lines.size(), 3u) << out.str();
  EXPECT_EQ(lines[1], "[backward] MulBackward0  grad_output [3, 3] {1, 1, ...}  ->  [3, 3], -");
  EXPECT_EQ(lines[2], "[backward] AccumulateGrad (leaf)  grad [3, 3] {2, 2, ...}  ->  leaf.grad()");
}

TEST(TraceGuard, PrintsNanAndInfinityAsSuch) {
  Tensor x = tensor({0.0, -1.0}, kFloat64).requires_grad_();
  std::ostringstream out;
  autograd::TraceGuard trace(out);
  log(x).sum().backward();  // d log(x) = 1/x: inf at 0; log(-1) is NaN but its gradient -1 is finite
  EXPECT_NE(out.str().find("grad [2] {inf, -1}"), std::string::npos) << out.str();
}

TEST(TraceGuard, IsSilentOnceDestroyedAndOnOtherThreads) {
  Tensor x = tensor({1.0}, kFloat64).requires_grad_();
  std::ostringstream out;
  {
    autograd::TraceGuard trace(out);
    std::thread other([&] { (tensor({2.0}, kFloat64).requires_grad_() * 3.0).sum().backward(); });
    other.join();
  }
  (x * 2.0).sum().backward();
  EXPECT_EQ(out.str(), "");
  EXPECT_EQ(autograd::GraphObserver::innermost(), nullptr);
}

TEST(GraphObserver, NestedObserversAllHearAndUnlinkInAnyOrder) {
  Tensor x = tensor({1.0}, kFloat64).requires_grad_();
  auto outer = std::make_unique<NameLog>();
  auto inner = std::make_unique<NameLog>();
  Tensor y = (x * 2.0).exp().sum();
  y.backward();
  const std::vector<std::string> expected = {"SumBackward0", "ExpBackward0", "MulBackward0", "AccumulateGrad"};
  EXPECT_EQ(outer->names, expected);
  EXPECT_EQ(inner->names, expected);
  EXPECT_EQ(outer->recorded_names, (std::vector<std::string>{"MulBackward0", "ExpBackward0", "SumBackward0"}));
  EXPECT_EQ(outer->passes, 1);
  outer.reset();  // not the innermost: unlinked from the middle of the chain
  EXPECT_EQ(autograd::GraphObserver::innermost(), inner.get());
  EXPECT_EQ(inner->outer(), nullptr);
  inner.reset();
  EXPECT_EQ(autograd::GraphObserver::innermost(), nullptr);
}

TEST(GraphObserver, SeesCustomFunctionsAndAutogradGrad) {
  struct Twice : autograd::Function<Twice> {
    static Tensor forward(autograd::AutogradContext*, Tensor x) { return x * 2.0; }
    static autograd::variable_list backward(autograd::AutogradContext*, autograd::variable_list g) {
      return {g[0] * 2.0};
    }
  };
  Tensor x = tensor({1.0, 2.0}, kFloat64).requires_grad_();
  NameLog seen;
  Tensor y = Twice::apply(x).sum();
  autograd::grad({y}, {x});
  ASSERT_EQ(seen.recorded_names.size(), 2u);
  EXPECT_EQ(seen.recorded_names[0], "TwiceBackward");
  // autograd::grad reaches the leaf's AccumulateGrad without running it; the observer hears of it.
  EXPECT_EQ(seen.names, (std::vector<std::string>{"SumBackward0", "TwiceBackward", "AccumulateGrad"}));
  std::ostringstream out;
  autograd::TraceGuard trace(out);
  autograd::grad({Twice::apply(x).sum()}, {x});
  EXPECT_NE(out.str().find("[backward] AccumulateGrad (leaf)  grad [2] {2, 2}  ->  returned by autograd::grad"),
            std::string::npos) << out.str();
}

}  // namespace
}  // namespace xgrad

// The losses against PyTorch 1.13 (tests/golden/losses.json, made by tests/golden/make_golden.py):
// every case's output, input gradient and, for floating targets, target gradient, in float32 and
// float64. Then gradcheck in float64, second derivatives (create_graph) against finite differences
// and against PyTorch (tests/golden/hvp_losses.json), and the quirks worth pinning by name.
#include <gtest/gtest.h>

#include <cmath>
#include <functional>
#include <limits>
#include <string>
#include <vector>

#include <xgrad/xgrad.hpp>

#include "compare.hpp"
#include "create_graph_checks.hpp"
#include "golden.hpp"

// OpenBLAS's thread setting, which also decides how many threads a big cross_entropy uses.
extern "C" {
int openblas_get_num_threads(void);
void openblas_set_num_threads(int threads);
}

namespace xgrad {
namespace {

using testing::all_close;
using testing::create_graph_keeps_the_gradients;
using testing::expect_differentiable_twice;
using testing::FnOfInputs;
using testing::golden_cases;
using testing::golden_tensor;
using testing::Inputs;
using testing::Json;
using testing::leaf;
using testing::matches_golden;
using testing::passes_third_order_check;

// The keyword arguments of one fixture case, with PyTorch's defaults for those it leaves out.
struct LossArgs {
  Tensor weight, pos_weight;
  std::int64_t ignore_index = -100;
  Reduction reduction = kMean;
  double label_smoothing = 0.0;
  bool log_target = false;
};

LossArgs loss_args(const Json& options) {
  LossArgs args;
  if (options.contains("weight")) args.weight = golden_tensor(options["weight"]);
  if (options.contains("pos_weight")) args.pos_weight = golden_tensor(options["pos_weight"]);
  args.ignore_index = options.value("ignore_index", std::int64_t{-100});
  args.reduction = testing::golden_reduction(options);
  args.label_smoothing = options.value("label_smoothing", 0.0);
  args.log_target = options.value("log_target", false);
  return args;
}

using LossFn = std::function<Tensor(const Tensor& input, const Tensor& target, const LossArgs& args)>;

// Every fixture case of `fn`: forward, backward with the recorded upstream gradient, and the three
// recorded results. Returns how many cases ran.
std::size_t check_golden_cases(const std::string& fn, const LossFn& loss) {
  const std::vector<Json> cases = golden_cases("losses.json", fn);
  for (const Json& entry : cases) {
    SCOPED_TRACE(entry.at("name").get<std::string>());
    Tensor input = golden_tensor(entry.at("input")).requires_grad_();
    Tensor target = golden_tensor(entry.at("target"));
    const bool has_grad_target = entry.contains("grad_target");
    if (has_grad_target) target.requires_grad_();
    const Tensor output = loss(input, target, loss_args(entry.at("options")));
    EXPECT_TRUE(matches_golden(output, golden_tensor(entry.at("output"))));
    output.backward(golden_tensor(entry.at("upstream")));
    EXPECT_TRUE(matches_golden(input.grad(), golden_tensor(entry.at("grad_input"))));
    if (has_grad_target) EXPECT_TRUE(matches_golden(target.grad(), golden_tensor(entry.at("grad_target"))));
  }
  return cases.size();
}

TEST(LossGolden, NllLoss) {
  const std::size_t count = check_golden_cases("nll_loss", [](const Tensor& x, const Tensor& y, const LossArgs& a) {
    return nll_loss(x, y, a.weight, a.reduction, a.ignore_index);
  });
  EXPECT_GE(count, 80u);
}

TEST(LossGolden, CrossEntropy) {
  const std::size_t count =
      check_golden_cases("cross_entropy", [](const Tensor& x, const Tensor& y, const LossArgs& a) {
        return cross_entropy_loss(x, y, a.weight, a.reduction, a.ignore_index, a.label_smoothing);
      });
  EXPECT_GE(count, 200u);
}

TEST(LossGolden, BinaryCrossEntropy) {
  const std::size_t count =
      check_golden_cases("binary_cross_entropy", [](const Tensor& x, const Tensor& y, const LossArgs& a) {
        return binary_cross_entropy(x, y, a.weight, a.reduction);
      });
  EXPECT_GE(count, 38u);
}

TEST(LossGolden, BinaryCrossEntropyWithLogits) {
  const std::size_t count = check_golden_cases(
      "binary_cross_entropy_with_logits", [](const Tensor& x, const Tensor& y, const LossArgs& a) {
        return binary_cross_entropy_with_logits(x, y, a.weight, a.pos_weight, a.reduction);
      });
  EXPECT_GE(count, 72u);
}

TEST(LossGolden, KlDiv) {
  const std::size_t count = check_golden_cases("kl_div", [](const Tensor& x, const Tensor& y, const LossArgs& a) {
    return kl_div(x, y, a.reduction, a.log_target);
  });
  EXPECT_GE(count, 24u);
}

TEST(LossGolden, MseLoss) {
  const std::size_t count = check_golden_cases("mse_loss", [](const Tensor& x, const Tensor& y, const LossArgs& a) {
    return mse_loss(x, y, a.reduction);
  });
  EXPECT_GE(count, 12u);
}

// ---- gradcheck in float64 (random upstream gradients, so reduction none checks every element) ----

constexpr Reduction kReductions[] = {kNone, kSum, kMean};

std::string trace_name(Reduction reduction, const std::string& what) {
  return what + " / " + reduction_name(reduction);
}

TEST(LossGradcheck, NllLoss) {
  manual_seed(101);
  const Tensor weight = tensor({0.5, 2.0, 1.0, 1.5}, kFloat64);
  const Tensor nc = randn({5, 4}, kFloat64).requires_grad_();
  const Tensor nc_target = tensor({0, 3, 1, 1, 2});
  const Tensor ncd = randn({2, 4, 3}, kFloat64).requires_grad_();
  const Tensor ncd_target = tensor({{0, 3, 1}, {2, 2, 0}});
  for (Reduction reduction : kReductions) {
    SCOPED_TRACE(reduction_name(reduction));
    const auto plain = gradcheck(
        [&](const std::vector<Tensor>& in) { return nll_loss(in[0], nc_target, Tensor(), reduction, -100); }, {nc});
    EXPECT_TRUE(plain.passed) << plain.report;
    const auto weighted = gradcheck(
        [&](const std::vector<Tensor>& in) { return nll_loss(in[0], nc_target, weight, reduction, 1); }, {nc});
    EXPECT_TRUE(weighted.passed) << weighted.report;
    const auto k_dim = gradcheck(
        [&](const std::vector<Tensor>& in) { return nll_loss(in[0], ncd_target, weight, reduction, 2); }, {ncd});
    EXPECT_TRUE(k_dim.passed) << k_dim.report;
  }
}

TEST(LossGradcheck, CrossEntropyWithClassIndices) {
  manual_seed(102);
  const Tensor weight = tensor({0.5, 2.0, 1.0, 1.5, 0.7}, kFloat64);
  struct Case {
    std::string what;
    Tensor input, target;
  };
  const std::vector<Case> cases = {
      {"C", randn({5}, kFloat64).requires_grad_(), full({}, 3.0, kInt64)},
      {"NC", randn({4, 5}, kFloat64).requires_grad_(), tensor({1, 0, 4, 1})},
      {"NCd1", randn({2, 5, 3}, kFloat64).requires_grad_(), tensor({{0, 4, 1}, {1, 1, 3}})},
      {"NCd1d2", randn({2, 5, 2, 2}, kFloat64).requires_grad_(), tensor({{{0, 4}, {1, 2}}, {{1, 1}, {3, 0}}})}};
  for (const Case& c : cases)
    for (Reduction reduction : kReductions)
      for (double smoothing : {0.0, 0.3}) {
        SCOPED_TRACE(trace_name(reduction, c.what + " label_smoothing " + std::to_string(smoothing)));
        const auto plain = gradcheck(
            [&](const std::vector<Tensor>& in) {
              return cross_entropy_loss(in[0], c.target, Tensor(), reduction, -100, smoothing);
            },
            {c.input});
        EXPECT_TRUE(plain.passed) << plain.report;
        const auto weighted_ignoring = gradcheck(
            [&](const std::vector<Tensor>& in) { return cross_entropy_loss(in[0], c.target, weight, reduction, 1, smoothing); },
            {c.input});
        EXPECT_TRUE(weighted_ignoring.passed) << weighted_ignoring.report;
      }
}

TEST(LossGradcheck, CrossEntropyWithProbabilitiesDifferentiatesBoth) {
  manual_seed(103);
  const Tensor weight = tensor({0.5, 2.0, 1.0, 1.5}, kFloat64);
  for (const Shape& shape : std::vector<Shape>{{4}, {3, 4}, {2, 4, 3}}) {
    const Tensor input = randn(shape, kFloat64).requires_grad_();
    const Tensor target = softmax(randn(shape, kFloat64), shape.size() == 1 ? 0 : 1).requires_grad_();
    for (Reduction reduction : kReductions)
      for (double smoothing : {0.0, 0.2}) {
        SCOPED_TRACE(trace_name(reduction, shape_str(shape) + " label_smoothing " + std::to_string(smoothing)));
        const auto result = gradcheck(
            [&](const std::vector<Tensor>& in) { return cross_entropy_loss(in[0], in[1], weight, reduction, -100, smoothing); },
            {input, target});
        EXPECT_TRUE(result.passed) << result.report;
      }
  }
}

TEST(LossGradcheck, BinaryCrossEntropyWithBroadcastWeight) {
  manual_seed(104);
  const Tensor input = (rand({4, 3}, kFloat64) * 0.8 + 0.1).requires_grad_();  // away from 0 and 1
  const Tensor target = rand({4, 3}, kFloat64).requires_grad_();
  for (const Tensor& weight : {Tensor(), tensor({0.5, 2.0, 1.5}, kFloat64), rand({4, 1}, kFloat64) + 0.5})
    for (Reduction reduction : kReductions) {
      SCOPED_TRACE(trace_name(reduction, weight.defined() ? "weight " + shape_str(weight.shape()) : "no weight"));
      const auto result = gradcheck(
          [&](const std::vector<Tensor>& in) { return binary_cross_entropy(in[0], in[1], weight, reduction); },
          {input, target});
      EXPECT_TRUE(result.passed) << result.report;
    }
}

TEST(LossGradcheck, BinaryCrossEntropyWithLogitsWeightAndPosWeight) {
  manual_seed(105);
  const Tensor input = (randn({4, 3}, kFloat64) * 3.0).requires_grad_();
  const Tensor target = rand({4, 3}, kFloat64).requires_grad_();
  const Tensor weight = tensor({0.5, 2.0, 1.5}, kFloat64);
  const Tensor pos_weight = tensor({3.0, 0.5, 1.0}, kFloat64);
  for (Reduction reduction : kReductions)
    for (bool use_weight : {false, true})
      for (bool use_pos_weight : {false, true}) {
        SCOPED_TRACE(trace_name(reduction, std::string("weight ") + (use_weight ? "yes" : "no") + ", pos_weight " +
                                               (use_pos_weight ? "yes" : "no")));
        const auto result = gradcheck(
            [&](const std::vector<Tensor>& in) {
              return binary_cross_entropy_with_logits(in[0], in[1], use_weight ? weight : Tensor(),
                                                      use_pos_weight ? pos_weight : Tensor(), reduction);
            },
            {input, target});
        EXPECT_TRUE(result.passed) << result.report;
      }
}

TEST(LossGradcheck, KlDivBothTargetForms) {
  manual_seed(106);
  const Tensor input = log_softmax(randn({3, 5}, kFloat64), 1).requires_grad_();
  const Tensor probabilities = softmax(randn({3, 5}, kFloat64), 1).requires_grad_();
  const Tensor log_probabilities = log_softmax(randn({3, 5}, kFloat64), 1).requires_grad_();
  for (Reduction reduction : {kNone, kSum, kMean, kBatchMean})
    for (bool log_target : {false, true}) {
      SCOPED_TRACE(trace_name(reduction, log_target ? "log_target" : "probability target"));
      const Tensor& target = log_target ? log_probabilities : probabilities;
      const auto result = gradcheck(
          [&](const std::vector<Tensor>& in) { return kl_div(in[0], in[1], reduction, log_target); }, {input, target});
      EXPECT_TRUE(result.passed) << result.report;
    }
}

TEST(LossGradcheck, MseLoss) {
  manual_seed(107);
  const Tensor input = randn({3, 4}, kFloat64).requires_grad_();
  const Tensor target = randn({3, 4}, kFloat64).requires_grad_();
  for (Reduction reduction : kReductions) {
    SCOPED_TRACE(reduction_name(reduction));
    const auto result =
        gradcheck([&](const std::vector<Tensor>& in) { return mse_loss(in[0], in[1], reduction); }, {input, target});
    EXPECT_TRUE(result.passed) << result.report;
  }
}

// ---- Second derivatives (create_graph) -------------------------------------------------------------
// With create_graph each loss's Backward computes its gradient from recorded ops rather than its
// fused loops: expect_differentiable_twice (tests/support/create_graph_checks.hpp) checks that the
// first derivatives stay the fused path's, the second ones by finite differences, and the recorded
// backward as a function of its upstream.

TEST(LossCreateGraph, NllLoss) {
  manual_seed(121);
  const Tensor weight = tensor({0.5, 2.0, 1.0, 1.5}, kFloat64);
  const Tensor nc_target = tensor({0, 3, 1, 1, 2});
  const Tensor ncd_target = tensor({{0, 3, 1}, {2, 2, 0}});
  for (Reduction reduction : kReductions) {
    SCOPED_TRACE(reduction_name(reduction));
    expect_differentiable_twice([&](const Inputs& in) { return nll_loss(in[0], nc_target, Tensor(), reduction, -100); },
                                {leaf({5, 4})});
    expect_differentiable_twice([&](const Inputs& in) { return nll_loss(in[0], nc_target, weight, reduction, 1); },
                                {leaf({5, 4})});
    expect_differentiable_twice([&](const Inputs& in) { return nll_loss(in[0], ncd_target, weight, reduction, 2); },
                                {leaf({2, 4, 3})});
    expect_differentiable_twice(
        [&](const Inputs& in) { return nll_loss(in[0], full({}, 2.0, kInt64), weight, reduction, -100); }, {leaf({4})});
  }
}

// A loss of kNone feeding a product with a second input: the upstream each loss element receives
// is that input, so d(gradient)/d(that input) is the recorded backward's dependence on its upstream.
TEST(LossCreateGraph, NllLossGradientDependsOnAnUpstreamThatDependsOnInputs) {
  manual_seed(122);
  const Tensor target = tensor({0, 3, 1, 1, 2});
  expect_differentiable_twice(
      [&](const Inputs& in) { return matmul(nll_loss(in[0], target, tensor({0.5, 2.0, 1.0, 1.5}, kFloat64), kNone, 1), in[1]); },
      {leaf({5, 4}), leaf({5})});
}

TEST(LossCreateGraph, CrossEntropyWithClassIndices) {
  manual_seed(123);
  const Tensor weight = tensor({0.5, 2.0, 1.0, 1.5, 0.7}, kFloat64);
  struct Case {
    std::string what;
    Shape shape;
    Tensor target;
  };
  const std::vector<Case> cases = {{"C", {5}, full({}, 3.0, kInt64)},
                                   {"NC", {4, 5}, tensor({1, 0, 4, 1})},
                                   {"NCd1", {2, 5, 3}, tensor({{0, 4, 1}, {1, 1, 3}})},
                                   {"NCd1d2", {2, 5, 2, 2}, tensor({{{0, 4}, {1, 2}}, {{1, 1}, {3, 0}}})}};
  for (const Case& c : cases)
    for (Reduction reduction : kReductions)
      for (double smoothing : {0.0, 0.3}) {
        SCOPED_TRACE(trace_name(reduction, c.what + " label_smoothing " + std::to_string(smoothing)));
        expect_differentiable_twice(
            [&](const Inputs& in) { return cross_entropy_loss(in[0], c.target, Tensor(), reduction, -100, smoothing); },
            {leaf(c.shape)});
        expect_differentiable_twice(
            [&](const Inputs& in) { return cross_entropy_loss(in[0], c.target, weight, reduction, 1, smoothing); },
            {leaf(c.shape)});
      }
}

TEST(LossCreateGraph, CrossEntropyGradientDependsOnAnUpstreamThatDependsOnInputs) {
  manual_seed(124);
  const Tensor target = tensor({1, 0, 4, 1});
  expect_differentiable_twice(
      [&](const Inputs& in) {
        return matmul(cross_entropy_loss(in[0], target, tensor({0.5, 2.0, 1.0, 1.5, 0.7}, kFloat64), kNone, 0, 0.2), in[1]);
      },
      {leaf({4, 5}), leaf({4})});
}

TEST(LossCreateGraph, CrossEntropyWithProbabilities) {
  manual_seed(125);
  const Tensor weight = tensor({0.5, 2.0, 1.0, 1.5}, kFloat64);
  for (const Shape& shape : std::vector<Shape>{{4}, {3, 4}, {2, 4, 3}}) {
    const std::int64_t class_dim = shape.size() == 1 ? 0 : 1;
    for (Reduction reduction : kReductions)
      for (double smoothing : {0.0, 0.2})
        for (const Tensor& w : {Tensor(), weight}) {
          SCOPED_TRACE(trace_name(reduction, shape_str(shape) + " label_smoothing " + std::to_string(smoothing) +
                                                 (w.defined() ? " weight" : "")));
          const Tensor target = softmax(randn(shape, kFloat64), class_dim).requires_grad_();
          expect_differentiable_twice(
              [&](const Inputs& in) { return cross_entropy_loss(in[0], in[1], w, reduction, -100, smoothing); },
              {leaf(shape), target});
        }
  }
  // Only the target requires grad.
  const Tensor target = softmax(randn({3, 4}, kFloat64), 1).requires_grad_();
  const Tensor logits = randn({3, 4}, kFloat64);
  expect_differentiable_twice(
      [&](const Inputs& in) { return cross_entropy_loss(logits, in[0], weight, kMean, -100, 0.1); }, {target});
}

TEST(LossCreateGraph, BinaryCrossEntropy) {
  manual_seed(126);
  for (const Tensor& weight : {Tensor(), tensor({0.5, 2.0, 1.5}, kFloat64), rand({4, 1}, kFloat64) + 0.5})
    for (Reduction reduction : kReductions) {
      SCOPED_TRACE(trace_name(reduction, weight.defined() ? "weight " + shape_str(weight.shape()) : "no weight"));
      const Tensor input = (rand({4, 3}, kFloat64) * 0.8 + 0.1).requires_grad_();  // away from 0 and 1
      expect_differentiable_twice(
          [&](const Inputs& in) { return binary_cross_entropy(in[0], in[1], weight, reduction); },
          {input, rand({4, 3}, kFloat64).requires_grad_()});
    }
}

TEST(LossCreateGraph, BinaryCrossEntropyWithLogits) {
  manual_seed(127);
  const Tensor weight = tensor({0.5, 2.0, 1.5}, kFloat64);
  const Tensor pos_weight = tensor({3.0, 0.5, 1.0}, kFloat64);
  for (Reduction reduction : kReductions)
    for (bool use_weight : {false, true})
      for (bool use_pos_weight : {false, true}) {
        SCOPED_TRACE(trace_name(reduction, std::string("weight ") + (use_weight ? "yes" : "no") + ", pos_weight " +
                                               (use_pos_weight ? "yes" : "no")));
        expect_differentiable_twice(
            [&](const Inputs& in) {
              return binary_cross_entropy_with_logits(in[0], in[1], use_weight ? weight : Tensor(),
                                                      use_pos_weight ? pos_weight : Tensor(), reduction);
            },
            {(randn({4, 3}, kFloat64) * 3.0).requires_grad_(), rand({4, 3}, kFloat64).requires_grad_()});
      }
}

TEST(LossCreateGraph, BinaryCrossEntropyWithLogitsStaysFiniteForHugeLogits) {
  // The target gradient with pos_weight needs log sigmoid(x): recorded, it must not become
  // log(0) = -inf for a logit of -1000, nor lose its derivative sigmoid(-x) at x = 0.
  const Tensor logits = tensor({1000.0, -1000.0, 0.0, -30.0}, kFloat64).requires_grad_();
  const Tensor target = tensor({0.2, 0.7, 0.5, 1.0}, kFloat64).requires_grad_();
  const FnOfInputs loss = [](const Inputs& in) {
    return binary_cross_entropy_with_logits(in[0], in[1], Tensor(), tensor({3.0}, kFloat64), kNone);
  };
  EXPECT_TRUE(create_graph_keeps_the_gradients(loss, {logits, target}));
  const Inputs first = autograd::grad({loss({logits, target})}, {target}, {ones({4}, kFloat64)}, true, true);
  // d/dx of d loss/d y = (1 - p) sigmoid(-x) - 1, p = 3
  const Tensor second = autograd::grad({first[0]}, {logits}, {ones({4}, kFloat64)})[0];
  EXPECT_TRUE(all_close(second, tensor({-1.0, -3.0, -2.0, -3.0}, kFloat64), 1e-12, 1e-12));
}

TEST(LossCreateGraph, KlDiv) {
  manual_seed(128);
  for (Reduction reduction : {kNone, kSum, kMean, kBatchMean})
    for (bool log_target : {false, true}) {
      SCOPED_TRACE(trace_name(reduction, log_target ? "log_target" : "probability target"));
      const Tensor target = log_target ? log_softmax(randn({3, 5}, kFloat64), 1) : softmax(randn({3, 5}, kFloat64), 1);
      expect_differentiable_twice([&](const Inputs& in) { return kl_div(in[0], in[1], reduction, log_target); },
                                  {log_softmax(randn({3, 5}, kFloat64), 1).requires_grad_(), target.requires_grad_()});
    }
}

TEST(LossCreateGraph, MseLoss) {
  manual_seed(129);
  for (Reduction reduction : kReductions) {
    SCOPED_TRACE(reduction_name(reduction));
    expect_differentiable_twice([&](const Inputs& in) { return mse_loss(in[0], in[1], reduction); },
                                {leaf({3, 4}), leaf({3, 4})});
    expect_differentiable_twice([&](const Inputs& in) { return mse_loss(in[0], in[1], reduction); },
                                {leaf({3, 4}), randn({3, 4}, kFloat64)});
  }
}

// The recorded backward of every loss is made of ops that record their own backward in turn.
TEST(LossCreateGraph, ThirdDerivatives) {
  manual_seed(131);
  const Tensor weight = tensor({0.5, 2.0, 1.0, 1.5}, kFloat64);
  const Tensor labels = tensor({{0, 3, 1}, {2, 2, 0}});
  const Tensor probabilities = softmax(randn({2, 4, 3}, kFloat64), 1).requires_grad_();
  const Tensor unit = (rand({2, 4, 3}, kFloat64) * 0.8 + 0.1).requires_grad_();
  const Tensor per_class = tensor({2.0, 1.0, 0.5}, kFloat64);
  struct Case {
    std::string name;
    testing::FnOfInputs loss;
    Inputs inputs;
  };
  const std::vector<Case> cases = {
      {"nll_loss", [&](const Inputs& in) { return nll_loss(log_softmax(in[0], 1), labels, weight, kMean, 2); },
       {leaf({2, 4, 3})}},
      {"cross_entropy indices",
       [&](const Inputs& in) { return cross_entropy_loss(in[0], labels, weight, kNone, 2, 0.1); }, {leaf({2, 4, 3})}},
      {"cross_entropy probabilities",
       [&](const Inputs& in) { return cross_entropy_loss(in[0], in[1], weight, kSum, -100, 0.1); },
       {leaf({2, 4, 3}), probabilities}},
      {"binary_cross_entropy", [&](const Inputs& in) { return binary_cross_entropy(in[0], in[1], per_class, kMean); },
       {unit, probabilities}},
      {"binary_cross_entropy_with_logits",
       [&](const Inputs& in) { return binary_cross_entropy_with_logits(in[0], in[1], Tensor(), per_class, kMean); },
       {leaf({2, 4, 3}), probabilities}},
      {"kl_div", [&](const Inputs& in) { return kl_div(log_softmax(in[0], 1), in[1], kBatchMean, false); },
       {leaf({2, 4, 3}), probabilities}},
      {"kl_div log_target", [&](const Inputs& in) { return kl_div(in[0], in[1], kSum, true); },
       {leaf({2, 4, 3}), leaf({2, 4, 3})}},
      {"mse_loss", [&](const Inputs& in) { return mse_loss(in[0], in[1], kMean); }, {leaf({2, 4, 3}), leaf({2, 4, 3})}},
  };
  for (const Case& c : cases)
    for (std::size_t k = 0; k < c.inputs.size(); ++k) {
      SCOPED_TRACE(c.name + ", derivatives of the gradient of input " + std::to_string(k));
      EXPECT_TRUE(passes_third_order_check(c.loss, c.inputs, k));
    }
}

// The recorded backward builds its constants and scales in the input's dtype.
TEST(LossCreateGraph, Float32GradientsMatchTheFusedPath) {
  manual_seed(130);
  const auto leaf32 = [](const Shape& shape) { return randn(shape).requires_grad_(); };
  const Tensor weight = tensor({0.5f, 2.0f, 1.0f, 1.5f});
  const Tensor labels = tensor({{0, 3, 1}, {2, 2, 0}});
  const Tensor probabilities = softmax(randn({2, 4, 3}), 1).requires_grad_();
  const Tensor unit = (rand({2, 4, 3}) * 0.8f + 0.1f).requires_grad_();
  const std::vector<std::pair<std::string, FnOfInputs>> losses = {
      {"nll_loss", [&](const Inputs& in) { return nll_loss(in[0], labels, weight, kMean, 2); }},
      {"cross_entropy indices",
       [&](const Inputs& in) { return cross_entropy_loss(in[0], labels, weight, kNone, 2, 0.1); }},
      {"cross_entropy probabilities",
       [&](const Inputs& in) { return cross_entropy_loss(in[0], probabilities, weight, kSum, -100, 0.1); }},
      {"binary_cross_entropy",
       [&](const Inputs& in) { return binary_cross_entropy(softmax(in[0], 1), unit, Tensor(), kMean); }},
      {"binary_cross_entropy_with_logits",
       [&](const Inputs& in) {
         return binary_cross_entropy_with_logits(in[0], unit, Tensor(), tensor({2.0f, 1.0f, 0.5f}), kMean);
       }},
      {"kl_div", [&](const Inputs& in) { return kl_div(log_softmax(in[0], 1), probabilities, kBatchMean, false); }},
      {"mse_loss", [&](const Inputs& in) { return mse_loss(in[0], unit, kMean); }},
  };
  for (const auto& [name, loss] : losses) {
    SCOPED_TRACE(name);
    EXPECT_TRUE(create_graph_keeps_the_gradients(loss, {leaf32({2, 4, 3})}, 1e-5));
  }
}

TEST(LossCreateGraph, EdgeValuesAreTheFusedPathsToo) {
  // BCE at exactly 0 and 1 (gradients of about 1e12 and infinite target gradients), kl_div's NaN
  // target gradient at a zero target, and an all-ignored mean's zero gradient.
  const Tensor unit = tensor({0.0, 1.0, 0.0, 1.0}, kFloat64).requires_grad_();
  const Tensor label = tensor({1.0, 0.0, 0.0, 1.0}, kFloat64).requires_grad_();
  EXPECT_TRUE(create_graph_keeps_the_gradients(
      [](const Inputs& in) { return binary_cross_entropy(in[0], in[1], Tensor(), kNone); }, {unit, label}));
  const Tensor log_probabilities = tensor({-1.2, -0.4, -2.0}, kFloat64).requires_grad_();
  const Tensor with_zero = tensor({0.0, 0.7, 0.3}, kFloat64).requires_grad_();
  const Tensor kl = kl_div(log_probabilities, with_zero, kSum, false);
  const Tensor target_grad = autograd::grad({kl}, {with_zero}, {}, true, true)[0];
  EXPECT_TRUE(std::isnan(target_grad.to_vector<double>()[0]));
  EXPECT_TRUE(create_graph_keeps_the_gradients([](const Inputs& in) { return kl_div(in[0], in[1], kSum, false); },
                                               {log_probabilities, with_zero}));
  const Tensor logits = tensor({{0.2, -1.0, 0.5}, {1.0, 2.0, -0.5}}, kFloat64).requires_grad_();
  const Tensor all_ignored = tensor({-100, -100});
  for (double smoothing : {0.0, 0.1}) {
    const Tensor loss = cross_entropy_loss(logits, all_ignored, tensor({1.0, 2.0, 3.0}, kFloat64), kMean, -100, smoothing);
    EXPECT_TRUE(all_close(autograd::grad({loss}, {logits}, {}, true, true)[0], zeros({2, 3}, kFloat64), 0.0, 0.0));
  }
  const Tensor nll = nll_loss(logits, all_ignored, Tensor(), kMean, -100);
  EXPECT_TRUE(all_close(autograd::grad({nll}, {logits}, {}, true, true)[0], zeros({2, 3}, kFloat64), 0.0, 0.0));
}

// A linear layer and a loss, differentiated twice as PyTorch does it (tests/golden/hvp_losses.json):
// a gradient penalty sum((d loss / d x)^2) and a Hessian-vector product in (x, W, b).
TEST(LossGolden, GradientPenaltyAndHessianVectorProductThroughLinear) {
  const Json& cases = testing::golden_file("hvp_losses.json").at("cases");
  ASSERT_GE(cases.size(), 10u);
  const char* names[] = {"x", "W", "b"};
  for (const Json& c : cases) {
    SCOPED_TRACE(c.at("name").get<std::string>());
    const LossArgs a = loss_args(c.at("options"));
    const Tensor target = golden_tensor(c.at("target"));
    const std::string loss = c.at("loss").get<std::string>();
    const auto loss_of = [&](const Tensor& z) {
      if (loss == "cross_entropy")
        return cross_entropy_loss(z, target, a.weight, a.reduction, a.ignore_index, a.label_smoothing);
      if (loss == "mse_loss") return mse_loss(z, target, a.reduction);
      if (loss == "binary_cross_entropy") return binary_cross_entropy(softmax(z, 1), target, a.weight, a.reduction);
      if (loss == "binary_cross_entropy_with_logits")
        return binary_cross_entropy_with_logits(z, target, a.weight, a.pos_weight, a.reduction);
      if (loss == "kl_div") return kl_div(log_softmax(z, 1), target, a.reduction, a.log_target);
      throw Error("unknown loss " + loss);
    };
    Inputs params, v;
    for (const char* name : names) {
      params.push_back(golden_tensor(c.at(name)).requires_grad_());
      v.push_back(golden_tensor(c.at("v").at(name)));
    }
    const Tensor value = loss_of(linear(params[0], params[1], params[2]));
    EXPECT_TRUE(matches_golden(value, golden_tensor(c.at("loss_value"))));
    const Inputs grads = autograd::grad({value}, params, {}, /*retain_graph=*/true, /*create_graph=*/true);
    const Tensor penalty = sum(grads[0] * grads[0]);
    EXPECT_TRUE(matches_golden(penalty, golden_tensor(c.at("penalty"))));
    const Inputs penalty_grads = autograd::grad({penalty}, params, {}, /*retain_graph=*/true);
    const Inputs hvp = autograd::grad({sum(grads[0] * v[0]) + sum(grads[1] * v[1]) + sum(grads[2] * v[2])}, params);
    for (std::size_t i = 0; i < params.size(); ++i) {
      SCOPED_TRACE(names[i]);
      EXPECT_TRUE(matches_golden(grads[i], golden_tensor(c.at("grads").at(names[i]))));
      // PyTorch's own double backward of binary_cross_entropy adds 1e-12 to x and 1 - x in its
      // denominator, where xgrad differentiates the first derivative exactly: second derivatives
      // may differ by about that much in absolute terms.
      EXPECT_TRUE(all_close(penalty_grads[i], golden_tensor(c.at("penalty_grads").at(names[i])), 1e-9, 1e-11));
      EXPECT_TRUE(all_close(hvp[i], golden_tensor(c.at("hvp").at(names[i])), 1e-9, 1e-11));
    }
  }
}

// ---- The float32 SIMD kernels of cross_entropy -----------------------------------------------------
// The fixtures have at most 5 classes, so they never fill one SIMD batch of 8: these compare the
// float32 kernels on long rows against the plain float64 loops.

// The float32 result against float64 arithmetic on the same (float32-representable) numbers, so
// what is left is float32 rounding and the kernels' exp: a few 1e-7 of the logits' and the
// upstream's unit scale (a loss lse - x_t near 0 keeps the absolute, not the relative, error).
void expect_float32_matches_float64(const Tensor& logits_in, const Tensor& target, const Tensor& weight_in,
                                    double smoothing) {
  const auto representable = [](const Tensor& t) { return to_dtype(to_dtype(t, kFloat32), kFloat64); };
  Tensor logits32 = to_dtype(logits_in, kFloat32).requires_grad_();
  Tensor logits64 = representable(logits_in).requires_grad_();
  const Tensor weight64 = weight_in.defined() ? representable(weight_in) : Tensor();
  const Tensor weight32 = weight_in.defined() ? to_dtype(weight_in, kFloat32) : Tensor();
  for (Reduction reduction : kReductions) {
    SCOPED_TRACE(trace_name(reduction, "label_smoothing " + std::to_string(smoothing)));
    logits32.zero_grad();
    logits64.zero_grad();
    const Tensor loss32 = cross_entropy_loss(logits32, target, weight32, reduction, -100, smoothing);
    const Tensor loss64 = cross_entropy_loss(logits64, target, weight64, reduction, -100, smoothing);
    EXPECT_TRUE(all_close(to_dtype(loss32, kFloat64), loss64, 2e-6, 2e-6));
    const Tensor upstream = representable(randn(loss64.shape(), kFloat64));
    loss32.backward(to_dtype(upstream, kFloat32));
    loss64.backward(upstream);
    EXPECT_TRUE(all_close(to_dtype(logits32.grad(), kFloat64), logits64.grad(), 2e-6, 2e-6));
  }
}

TEST(CrossEntropyKernels, Float32MatchesFloat64OnLongRows) {
  manual_seed(108);
  for (std::size_t classes : {8u, 13u, 1000u}) {
    SCOPED_TRACE(std::to_string(classes) + " classes");
    const std::size_t batch = 6;
    std::vector<std::int64_t> labels(batch);
    for (std::size_t i = 0; i < batch; ++i) labels[i] = static_cast<std::int64_t>(random_index(classes));
    const Tensor target = from_buffer(labels.data(), {batch});
    const Tensor logits = randn({batch, classes}, kFloat64) * 3.0;
    const Tensor weight = rand({classes}, kFloat64) + 0.5;
    expect_float32_matches_float64(logits, target, Tensor(), 0.0);
    expect_float32_matches_float64(logits, target, weight, 0.1);
  }
}

TEST(CrossEntropyKernels, SoftmaxInTheGradientIsAccurateToAFewUlps) {
  // With upstream 1 the gradient of a non-target class is its softmax probability; logits spread over
  // [-6, 6] put the exp arguments all over the kernels' range.
  std::vector<float> values(40);
  for (std::size_t c = 0; c < values.size(); ++c) values[c] = -6.0f + 0.3f * static_cast<float>(c);
  Tensor logits32 = from_buffer(values.data(), {1, 40}).requires_grad_();
  Tensor logits64 = to_dtype(logits32.detach(), kFloat64).requires_grad_();
  cross_entropy_loss(logits32, tensor({0}), Tensor(), kSum, -100, 0.0).backward();
  cross_entropy_loss(logits64, tensor({0}), Tensor(), kSum, -100, 0.0).backward();
  EXPECT_TRUE(all_close(to_dtype(logits32.grad(), kFloat64), logits64.grad(), 1e-6, 0.0));
}

TEST(CrossEntropyKernels, RowsSplitOverThreadsGiveIdenticalResults) {
  // Big inputs split their rows over xgrad's thread count (on its pool); each row is computed
  // exactly as on one thread, so the results must agree bit for bit.
  manual_seed(111);
  const std::size_t batch = 700, classes = 1000;  // 700k scores: two blocks, each above the split's minimum
  std::vector<std::int64_t> labels(batch);
  for (std::size_t i = 0; i < batch; ++i) labels[i] = i % 7 == 0 ? -100 : static_cast<std::int64_t>(i % classes);
  const Tensor target = from_buffer(labels.data(), {batch});
  const Tensor logits = randn({batch, classes}) * 20.0f;
  const auto run = [&](int threads) {
    const int previous = openblas_get_num_threads();
    openblas_set_num_threads(threads);
    Tensor x = logits.detach().clone().requires_grad_();
    const Tensor losses = cross_entropy_loss(x, target, Tensor(), kNone, -100, 0.1);
    losses.backward(ones({batch}));
    openblas_set_num_threads(previous);
    return std::make_pair(losses, x.grad());
  };
  const auto [losses_one, grad_one] = run(1);
  const auto [losses_two, grad_two] = run(2);
  EXPECT_TRUE(all_close(losses_two, losses_one, 0.0, 0.0));
  EXPECT_TRUE(all_close(grad_two, grad_one, 0.0, 0.0));
}

TEST(CrossEntropyKernels, ExtremeLogitsInLongRows) {
  // Logits of 1e4, -1e4 and -inf in rows of 16: the largest dominates, e^(-2e4) is exactly 0, and a
  // masked (-inf) class gets probability and gradient 0, not NaN.
  std::vector<float> values(2 * 16, 0.0f);
  values[3] = 1e4f;
  values[5] = 1e4f - 1.0f;
  values[9] = -1e4f;
  values[16 + 0] = -std::numeric_limits<float>::infinity();
  values[16 + 7] = 2.0f;
  const Tensor logits = from_buffer(values.data(), {2, 16}).requires_grad_();
  const Tensor loss = cross_entropy_loss(logits, tensor({5, 7}), Tensor(), kNone, -100, 0.0);
  const std::vector<float> losses = loss.to_vector<float>();
  // lse - x_5 with lse = 1e4 + log(1 + e^-1); float32 resolves 1e4 only to 1e-3.
  EXPECT_NEAR(losses[0], 1.0 + std::log1p(std::exp(-1.0)), 1e-3);
  EXPECT_NEAR(losses[1], std::log(14.0 + std::exp(2.0)) - 2.0, 1e-5);
  loss.backward(ones({2}));
  const std::vector<float> grad = logits.grad().to_vector<float>();
  EXPECT_EQ(grad[9], 0.0f);
  EXPECT_EQ(grad[16 + 0], 0.0f);
  EXPECT_NEAR(grad[3], 1.0 / (1.0 + std::exp(-1.0)), 1e-3);
  for (float g : grad) EXPECT_TRUE(std::isfinite(g));
}

TEST(CrossEntropyKernels, NanLogitPoisonsOnlyItsRow) {
  std::vector<float> values(2 * 9, 0.5f);
  values[4] = std::numeric_limits<float>::quiet_NaN();
  const Tensor losses = cross_entropy_loss(from_buffer(values.data(), {2, 9}), tensor({0, 0}), Tensor(), kNone, -100, 0.0);
  EXPECT_TRUE(std::isnan(losses.to_vector<float>()[0]));
  EXPECT_NEAR(losses.to_vector<float>()[1], std::log(9.0), 1e-6);
}

// ---- PyTorch's behaviour, pinned by name -------------------------------------------------------------

TEST(LossQuirks, AllIgnoredMeanIsNanButTheGradientIsZero) {
  Tensor logits = tensor({{0.2, -1.0, 0.5}, {1.0, 2.0, -0.5}}, kFloat64).requires_grad_();
  const Tensor all_ignored = tensor({-100, -100});
  const Tensor nll = nll_loss(logits, all_ignored, Tensor(), kMean, -100);
  EXPECT_TRUE(std::isnan(nll.item<double>()));
  nll.backward();
  EXPECT_TRUE(all_close(logits.grad(), zeros({2, 3}, kFloat64), 0.0, 0.0));
  logits.zero_grad();
  const Tensor smoothed = cross_entropy_loss(logits, all_ignored, tensor({1.0, 2.0, 3.0}, kFloat64), kMean, -100, 0.1);
  EXPECT_TRUE(std::isnan(smoothed.item<double>()));
  smoothed.backward();
  EXPECT_TRUE(all_close(logits.grad(), zeros({2, 3}, kFloat64), 0.0, 0.0));
  EXPECT_EQ(cross_entropy_loss(logits, all_ignored, Tensor(), kSum, -100, 0.0).item<double>(), 0.0);
}

TEST(LossQuirks, IgnoreIndexMayBeARealClass) {
  const Tensor logits = tensor({{0.2, -1.0, 0.5}, {1.0, 2.0, -0.5}, {0.0, 0.3, 0.1}}, kFloat64);
  const Tensor target = tensor({1, 0, 1});
  const Tensor losses = cross_entropy_loss(logits, target, Tensor(), kNone, 1, 0.0);
  EXPECT_EQ(losses.to_vector<double>()[0], 0.0);
  EXPECT_EQ(losses.to_vector<double>()[2], 0.0);
  // The mean is over the one sample left.
  EXPECT_DOUBLE_EQ(cross_entropy_loss(logits, target, Tensor(), kMean, 1, 0.0).item<double>(), losses.to_vector<double>()[1]);
}

TEST(LossQuirks, ClassIndexMeanDividesBySummedTargetWeights) {
  const Tensor logits = tensor({{0.2, -1.0, 0.5}, {1.0, 2.0, -0.5}, {0.0, 0.3, 0.1}}, kFloat64);
  const Tensor target = tensor({2, 0, 2});
  const Tensor weight = tensor({4.0, 1.0, 0.5}, kFloat64);
  for (double smoothing : {0.0, 0.25}) {
    const double sum = cross_entropy_loss(logits, target, weight, kSum, -100, smoothing).item<double>();
    const double mean = cross_entropy_loss(logits, target, weight, kMean, -100, smoothing).item<double>();
    EXPECT_DOUBLE_EQ(mean, sum / (0.5 + 4.0 + 0.5)) << "label_smoothing " << smoothing;
  }
}

TEST(LossQuirks, ProbabilityTargetMeanDividesByPositionsWhateverTheWeights) {
  manual_seed(109);
  const Tensor logits = randn({2, 4, 3}, kFloat64);
  const Tensor target = softmax(randn({2, 4, 3}, kFloat64), 1);
  const Tensor weight = tensor({4.0, 1.0, 0.5, 2.0}, kFloat64);
  const double sum = cross_entropy_loss(logits, target, weight, kSum, -100, 0.1).item<double>();
  const double mean = cross_entropy_loss(logits, target, weight, kMean, -100, 0.1).item<double>();
  EXPECT_DOUBLE_EQ(mean, sum / 6.0);  // N * d1 = 2 * 3
}

TEST(LossQuirks, LabelSmoothingIsAMixOfNllAndTheUniformTarget) {
  const Tensor logits = tensor({{0.2, -1.0, 0.5, 0.0}, {1.0, 2.0, -0.5, 0.3}}, kFloat64);
  const Tensor target = tensor({2, 1});
  const double e = 0.3;
  const double nll = cross_entropy_loss(logits, target, Tensor(), kMean, -100, 0.0).item<double>();
  const double uniform = -mean(log_softmax(logits, 1)).item<double>();  // mean over rows and classes
  EXPECT_NEAR(cross_entropy_loss(logits, target, Tensor(), kMean, -100, e).item<double>(), (1 - e) * nll + e * uniform,
              1e-14);
}

TEST(LossQuirks, BinaryCrossEntropyAtExactlyZeroAndOne) {
  const Tensor input = tensor({0.0, 1.0, 0.0, 1.0}, kFloat64).requires_grad_();
  const Tensor target = tensor({1.0, 0.0, 0.0, 1.0}, kFloat64).requires_grad_();
  const Tensor losses = binary_cross_entropy(input, target, Tensor(), kNone);
  EXPECT_TRUE(all_close(losses, tensor({100.0, 100.0, 0.0, 0.0}, kFloat64), 0.0, 0.0));  // log clamped at -100
  losses.backward(ones({4}, kFloat64));
  const std::vector<double> grad = input.grad().to_vector<double>();
  EXPECT_NEAR(grad[0], -1e12, 1e4);  // (x - y) / float(1e-12)
  EXPECT_NEAR(grad[1], 1e12, 1e4);
  EXPECT_EQ(grad[2], 0.0);
  EXPECT_EQ(grad[3], 0.0);
  const std::vector<double> grad_target = target.grad().to_vector<double>();
  EXPECT_EQ(grad_target[0], std::numeric_limits<double>::infinity());  // log(1 - x) - log(x), unclamped
  EXPECT_EQ(grad_target[1], -std::numeric_limits<double>::infinity());
}

TEST(LossQuirks, KlDivZeroTargetGivesZeroLossButNanTargetGradient) {
  const Tensor input = tensor({-1.2, -0.4, -2.0}, kFloat64).requires_grad_();
  const Tensor target = tensor({0.0, 0.7, 0.3}, kFloat64).requires_grad_();
  const Tensor losses = kl_div(input, target, kNone, false);
  EXPECT_EQ(losses.to_vector<double>()[0], 0.0);
  losses.backward(ones({3}, kFloat64));
  EXPECT_TRUE(std::isnan(target.grad().to_vector<double>()[0]));
  EXPECT_NEAR(target.grad().to_vector<double>()[1], std::log(0.7) + 1.0 + 0.4, 1e-15);
  EXPECT_EQ(input.grad().to_vector<double>()[0], 0.0);
}

TEST(LossQuirks, KlDivBatchMeanDividesByTheFirstDimension) {
  manual_seed(110);
  const Tensor input = log_softmax(randn({4, 5}, kFloat64), 1);
  const Tensor target = softmax(randn({4, 5}, kFloat64), 1);
  const double sum = kl_div(input, target, kSum, false).item<double>();
  EXPECT_DOUBLE_EQ(kl_div(input, target, kBatchMean, false).item<double>(), sum / 4.0);
  EXPECT_DOUBLE_EQ(kl_div(input, target, kMean, false).item<double>(), sum / 20.0);
  EXPECT_GT(sum, 0.0);  // a KL divergence between different distributions
}

TEST(LossQuirks, BinaryCrossEntropyWithLogitsIsStableForHugeLogits) {
  const Tensor logits = tensor({1000.0, -1000.0, 1000.0, -1000.0}, kFloat64);
  const Tensor target = tensor({1.0, 0.0, 0.0, 1.0}, kFloat64);
  EXPECT_TRUE(all_close(binary_cross_entropy_with_logits(logits, target, Tensor(), Tensor(), kNone),
                        tensor({0.0, 0.0, 1000.0, 1000.0}, kFloat64), 0.0, 0.0));
  // pos_weight scales only the positive term: 3 * 1000 for the confidently wrong positive.
  EXPECT_TRUE(all_close(binary_cross_entropy_with_logits(logits, target, Tensor(), tensor({3.0}, kFloat64), kNone),
                        tensor({0.0, 0.0, 1000.0, 3000.0}, kFloat64), 0.0, 0.0));
}

// ---- The graph a loss records ------------------------------------------------------------------

TEST(LossGraph, CrossEntropyIsOneFusedNode) {
  const Tensor logits = tensor({{0.2, -1.0, 0.5}}, kFloat64).requires_grad_();
  const Tensor loss = cross_entropy_loss(logits, tensor({2}), Tensor(), kMean, -100, 0.0);
  ASSERT_TRUE(loss.grad_fn());
  EXPECT_STREQ(loss.grad_fn()->name(), "NllLossBackward0");
  ASSERT_EQ(loss.grad_fn()->next_edges().size(), 1u);
  EXPECT_STREQ(loss.grad_fn()->next_edges()[0].function->name(), "AccumulateGrad");  // no log_softmax node between
}

TEST(LossGraph, NothingIsRecordedWithoutGrad) {
  const Tensor logits = tensor({{0.2, -1.0, 0.5}}, kFloat64).requires_grad_();
  {
    NoGradGuard no_grad;
    EXPECT_FALSE(cross_entropy_loss(logits, tensor({2}), Tensor(), kMean, -100, 0.0).requires_grad());
    EXPECT_FALSE(mse_loss(logits, zeros({1, 3}, kFloat64), kMean).requires_grad());
  }
  EXPECT_FALSE(nll_loss(logits.detach(), tensor({2}), Tensor(), kSum, -100).requires_grad());
}

TEST(LossGraph, OnlyTheTargetMayRequireGrad) {
  const Tensor input = tensor({0.2, -1.0, 0.5}, kFloat64);
  const Tensor target = tensor({1.0, 0.0, 2.0}, kFloat64).requires_grad_();
  mse_loss(input, target, kSum).backward();
  EXPECT_FALSE(input.grad().defined());
  EXPECT_TRUE(all_close(target.grad(), tensor({1.6, 2.0, 3.0}, kFloat64), 1e-15, 0.0));  // -2 (x - y)
}

TEST(LossGraph, RetainedGraphGivesTheSameGradientTwice) {
  Tensor logits = tensor({{0.2, -1.0, 0.5}, {1.0, 2.0, -0.5}}, kFloat64).requires_grad_();
  const Tensor loss = cross_entropy_loss(logits, tensor({2, 1}), tensor({1.0, 2.0, 0.5}, kFloat64), kMean, -100, 0.2);
  loss.backward({}, /*retain_graph=*/true);
  const Tensor first = logits.grad().clone();
  logits.zero_grad();
  loss.backward();
  EXPECT_TRUE(all_close(logits.grad(), first, 0.0, 0.0));
}

}  // namespace
}  // namespace xgrad

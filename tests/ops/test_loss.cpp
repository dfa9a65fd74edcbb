// The losses against PyTorch 1.13 (tests/golden/losses.json, made by tests/golden/make_golden.py):
// every case's output, input gradient and, for floating targets, target gradient, in float32 and
// float64. Then gradcheck in float64 and the quirks worth pinning by name.
#include <gtest/gtest.h>

#include <cmath>
#include <functional>
#include <string>

#include <xgrad/xgrad.hpp>

#include "compare.hpp"
#include "golden.hpp"

namespace xgrad {
namespace {

using testing::golden_cases;
using testing::golden_tensor;
using testing::Json;
using testing::matches_golden;

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
    return nll_loss(x, y, a.weight, a.ignore_index, a.reduction);
  });
  EXPECT_GE(count, 80u);
}

TEST(LossGolden, CrossEntropy) {
  const std::size_t count =
      check_golden_cases("cross_entropy", [](const Tensor& x, const Tensor& y, const LossArgs& a) {
        return cross_entropy(x, y, a.weight, a.ignore_index, a.reduction, a.label_smoothing);
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

}  // namespace
}  // namespace xgrad

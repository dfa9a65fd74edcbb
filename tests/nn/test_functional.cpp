// nn::functional: the numbers worked through in the teaching material, the options structs (defaults,
// chaining, unpacking, checked against the PyTorch fixtures) and every bad input the losses reject.
#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <string>

#include <xgrad/xgrad.hpp>

#include "compare.hpp"
#include "golden.hpp"

namespace xgrad {
namespace {

namespace F = nn::functional;
using testing::all_close;
using testing::throws_error_containing;

// The 4-decimal numbers of the worked examples.
::testing::AssertionResult close_to_4_places(const Tensor& actual, const Tensor& expected) {
  return all_close(actual, expected, 0.0, 5e-5);
}

Tensor seed_logits() { return tensor({{1.f, 2.f, 3.f}, {2.f, 4.f, 6.f}}); }

// ---- The worked examples -----------------------------------------------------------------------

TEST(FunctionalSeed, SoftmaxRows) {
  EXPECT_TRUE(close_to_4_places(F::softmax(seed_logits(), F::SoftmaxFuncOptions(1)),
                                tensor({{0.0900f, 0.2447f, 0.6652f}, {0.0159f, 0.1173f, 0.8668f}})));
}

TEST(FunctionalSeed, LogSoftmaxRows) {
  EXPECT_TRUE(close_to_4_places(F::log_softmax(seed_logits(), 1),
                                tensor({{-2.4076f, -1.4076f, -0.4076f}, {-4.1429f, -2.1429f, -0.1429f}})));
}

TEST(FunctionalSeed, NllLossOnRawLogitsIsMinusTheMeanTargetLogit) {
  // nll_loss does not normalise: -(3 + 6) / 2.
  EXPECT_FLOAT_EQ(F::nll_loss(seed_logits(), tensor({2, 2})).item<float>(), -4.5f);
}

TEST(FunctionalSeed, CrossEntropyValueAndGradient) {
  Tensor logits = seed_logits().requires_grad_();
  const Tensor target = tensor({2, 1});
  const Tensor loss = F::cross_entropy(logits, target);
  EXPECT_NEAR(loss.item<float>(), 1.2753f, 5e-5);
  EXPECT_FLOAT_EQ(loss.item<float>(), F::nll_loss(F::log_softmax(logits, 1), target).item<float>());
  loss.backward();
  // (softmax - one_hot) / N
  EXPECT_TRUE(close_to_4_places(logits.grad(), tensor({{0.0450f, 0.1224f, -0.1674f}, {0.0079f, -0.4413f, 0.4334f}})));
}

TEST(FunctionalSeed, CrossEntropyEqualsTheHandWrittenFormula) {
  const Tensor logits = tensor({{-1.0606, 1.5613, 1.2007, -0.2481},
                                {-1.9652, -0.4367, -0.0645, -0.5104},
                                {0.1011, -0.5904, 0.0243, 0.1002}}, kFloat64);
  const Tensor target = tensor({0, 2, 1});
  const Tensor one_hot = tensor({{1.0, 0.0, 0.0, 0.0}, {0.0, 0.0, 1.0, 0.0}, {0.0, 1.0, 0.0, 0.0}}, kFloat64);
  const Tensor exps = exp(logits);
  const Tensor probabilities = exps / sum(exps, 1, /*keepdim=*/true);
  const Tensor by_hand = mean(-sum(one_hot * log(probabilities), 1));

  const double loss = F::cross_entropy(logits, target).item<double>();
  EXPECT_NEAR(loss, 2.0373472850337726, 1e-15);
  EXPECT_NEAR(loss, by_hand.item<double>(), 1e-14);
}

TEST(FunctionalSeed, BinaryCrossEntropyOfSigmoidEqualsTheLogitsForm) {
  const Tensor logits = tensor({1.237228f, -0.960399f, 1.541529f});
  const Tensor target = tensor({1.f, 0.f, 1.f});
  const float from_probabilities = F::binary_cross_entropy(F::sigmoid(logits), target).item<float>();
  const float from_logits = F::binary_cross_entropy_with_logits(logits, target).item<float>();
  EXPECT_NEAR(from_probabilities, 0.257606f, 1e-6);
  EXPECT_NEAR(from_logits, 0.257606f, 1e-6);
}

// ---- Options structs ---------------------------------------------------------------------------

TEST(FunctionalOptions, DefaultsArePyTorchs) {
  EXPECT_FALSE(nn::NLLLossOptions().weight().defined());
  EXPECT_EQ(nn::NLLLossOptions().ignore_index(), -100);
  EXPECT_EQ(nn::NLLLossOptions().reduction(), kMean);
  EXPECT_EQ(nn::CrossEntropyLossOptions().ignore_index(), -100);
  EXPECT_EQ(nn::CrossEntropyLossOptions().label_smoothing(), 0.0);
  EXPECT_EQ(nn::BCELossOptions().reduction(), kMean);
  EXPECT_FALSE(nn::BCEWithLogitsLossOptions().pos_weight().defined());
  EXPECT_FALSE(nn::KLDivLossOptions().log_target());
  EXPECT_EQ(nn::KLDivLossOptions().reduction(), kMean);
  EXPECT_EQ(nn::MSELossOptions().reduction(), kMean);
  EXPECT_EQ(nn::SoftmaxOptions(-1).dim(), -1);
  EXPECT_EQ(nn::LogSoftmaxOptions(0).dim(), 0);
}

TEST(FunctionalOptions, SettersChainAndGettersReadBack) {
  const Tensor w = tensor({1.f, 2.f, 3.f});
  const auto options =
      nn::CrossEntropyLossOptions().weight(w).ignore_index(2).reduction(kSum).label_smoothing(0.1);
  EXPECT_EQ(options.weight().impl(), w.impl());
  EXPECT_EQ(options.ignore_index(), 2);
  EXPECT_EQ(options.reduction(), kSum);
  EXPECT_EQ(options.label_smoothing(), 0.1);
  const auto bce = nn::BCEWithLogitsLossOptions().pos_weight(w).weight(w).reduction(kNone);
  EXPECT_EQ(bce.pos_weight().impl(), w.impl());
  EXPECT_EQ(bce.reduction(), kNone);
  EXPECT_TRUE(nn::KLDivLossOptions().log_target(true).reduction(kBatchMean).log_target());
}

TEST(FunctionalOptions, EveryOptionReachesTheLoss) {
  const Tensor logits = tensor({{0.5, -1.0, 2.0}, {1.5, 0.2, -0.3}, {0.0, 0.1, 0.2}}, kFloat64);
  const Tensor target = tensor({2, 0, 1});
  const Tensor weight = tensor({0.5, 2.0, 1.5}, kFloat64);
  const auto options = nn::CrossEntropyLossOptions().weight(weight).ignore_index(0).reduction(kNone).label_smoothing(0.2);
  EXPECT_TRUE(all_close(F::cross_entropy(logits, target, options), cross_entropy_loss(logits, target, weight, kNone, 0, 0.2),
                        0.0, 0.0));
  const auto nll = nn::NLLLossOptions().weight(weight).ignore_index(1).reduction(kSum);
  EXPECT_DOUBLE_EQ(F::nll_loss(logits, target, nll).item<double>(),
                   nll_loss(logits, target, weight, kSum, 1).item<double>());
  // The ignored sample 0 contributes nothing: only -(w[2] * 2.0 + w[0] * 1.5) remains.
  EXPECT_DOUBLE_EQ(F::nll_loss(logits, target, nn::NLLLossOptions().weight(weight).ignore_index(1).reduction(kSum))
                       .item<double>(),
                   -(1.5 * 2.0 + 0.5 * 1.5));
}

TEST(FunctionalOptions, ActivationsMatchTheOps) {
  const Tensor x = tensor({{-1.f, 0.5f}, {2.f, -0.25f}});
  EXPECT_TRUE(all_close(F::relu(x), tensor({{0.f, 0.5f}, {2.f, 0.f}}), 0.0, 0.0));
  EXPECT_TRUE(all_close(F::sigmoid(x), sigmoid(x), 0.0, 0.0));
  EXPECT_TRUE(all_close(F::softmax(x, 0), softmax(x, 0), 0.0, 0.0));
  EXPECT_TRUE(all_close(F::log_softmax(x, F::LogSoftmaxFuncOptions(-1)), log_softmax(x, -1), 0.0, 0.0));
}

// Each fixture case through the functional form and an options struct built from its options, so a
// field the functional form forgot to unpack shows up as a wrong value.
TEST(FunctionalOptions, MatchThePyTorchFixtures) {
  std::size_t cases = 0;
  for (const char* fn : {"nll_loss", "cross_entropy", "binary_cross_entropy", "binary_cross_entropy_with_logits",
                         "kl_div", "mse_loss"}) {
    for (const testing::Json& entry : testing::golden_cases("losses.json", fn)) {
      SCOPED_TRACE(entry.at("name").get<std::string>());
      const testing::Json& options = entry.at("options");
      Tensor input = testing::golden_tensor(entry.at("input")).requires_grad_();
      const Tensor target = testing::golden_tensor(entry.at("target"));
      const Tensor weight = options.contains("weight") ? testing::golden_tensor(options["weight"]) : Tensor();
      const Reduction reduction = testing::golden_reduction(options);
      const std::int64_t ignore_index = options.value("ignore_index", std::int64_t{-100});
      const std::string name = fn;
      Tensor output;
      if (name == "nll_loss") {
        output = F::nll_loss(input, target,
                             nn::NLLLossOptions().weight(weight).ignore_index(ignore_index).reduction(reduction));
      } else if (name == "cross_entropy") {
        output = F::cross_entropy(input, target,
                                  nn::CrossEntropyLossOptions()
                                      .weight(weight)
                                      .ignore_index(ignore_index)
                                      .reduction(reduction)
                                      .label_smoothing(options.value("label_smoothing", 0.0)));
      } else if (name == "binary_cross_entropy") {
        output = F::binary_cross_entropy(input, target, nn::BCELossOptions().weight(weight).reduction(reduction));
      } else if (name == "binary_cross_entropy_with_logits") {
        const Tensor pos_weight =
            options.contains("pos_weight") ? testing::golden_tensor(options["pos_weight"]) : Tensor();
        output = F::binary_cross_entropy_with_logits(
            input, target, nn::BCEWithLogitsLossOptions().weight(weight).pos_weight(pos_weight).reduction(reduction));
      } else if (name == "kl_div") {
        output = F::kl_div(input, target,
                           nn::KLDivLossOptions().reduction(reduction).log_target(options.value("log_target", false)));
      } else {
        output = F::mse_loss(input, target, nn::MSELossOptions().reduction(reduction));
      }
      EXPECT_TRUE(testing::matches_golden(output, testing::golden_tensor(entry.at("output"))));
      output.backward(testing::golden_tensor(entry.at("upstream")));
      EXPECT_TRUE(testing::matches_golden(input.grad(), testing::golden_tensor(entry.at("grad_input"))));
      ++cases;
    }
  }
  EXPECT_GE(cases, 450u);
}

TEST(FunctionalOptions, DefaultOptionsAreTheMean) {
  const Tensor x = tensor({1.0, 2.0, 4.0}, kFloat64);
  const Tensor y = tensor({0.0, 0.0, 0.0}, kFloat64);
  EXPECT_DOUBLE_EQ(F::mse_loss(x, y).item<double>(), 7.0);
  EXPECT_DOUBLE_EQ(F::mse_loss(x, y, nn::MSELossOptions().reduction(kSum)).item<double>(), 21.0);
  EXPECT_EQ(F::mse_loss(x, y, nn::MSELossOptions().reduction(kNone)).shape(), Shape{3});
}

// ---- Bad input ---------------------------------------------------------------------------------

TEST(FunctionalErrors, TargetOutOfRangeOrNegative) {
  const Tensor logits = zeros({2, 3});
  EXPECT_TRUE(throws_error_containing([&] { F::cross_entropy(logits, tensor({0, 3})); },
                                      {"cross_entropy: target value 3 out of range for 3 classes at index 1"}));
  EXPECT_TRUE(throws_error_containing([&] { F::nll_loss(logits, tensor({-1, 0})); },
                                      {"nll_loss: target value -1 out of range for 3 classes at index 0"}));
  // A negative ignore_index other than the target's value does not excuse it.
  EXPECT_TRUE(throws_error_containing(
      [&] { F::cross_entropy(logits, tensor({0, -2}), nn::CrossEntropyLossOptions().ignore_index(-1)); },
      {"target value -2 out of range", "at index 1"}));
  // K-dim targets name the position.
  EXPECT_TRUE(throws_error_containing([&] { F::nll_loss(zeros({2, 3, 2}), tensor({{0, 1}, {5, 0}})); },
                                      {"target value 5 out of range for 3 classes at index [1, 0]"}));
}

TEST(FunctionalErrors, ShapeMismatches) {
  EXPECT_TRUE(throws_error_containing([] { F::cross_entropy(zeros({4, 3}), tensor({0, 1, 2, 0, 1})); },
                                      {"cross_entropy", "batch size 4", "target batch size 5", "[4, 3]", "[5]"}));
  EXPECT_TRUE(throws_error_containing([] { F::nll_loss(zeros({2, 3, 4}), zeros({2, 5}, kInt64)); },
                                      {"nll_loss", "target shape [2, 5]", "[2, 3, 4]", "expected [2, 4]"}));
  EXPECT_TRUE(throws_error_containing([] { F::cross_entropy(zeros({4}), tensor({1, 2})); },
                                      {"cross_entropy", "target shape [2]", "expected []"}));
  EXPECT_TRUE(throws_error_containing([] { F::cross_entropy(zeros({}), zeros({}, kInt64)); },
                                      {"cross_entropy", "0-dim"}));
}

TEST(FunctionalErrors, WeightNotOfSizeC) {
  EXPECT_TRUE(throws_error_containing(
      [] { F::cross_entropy(zeros({2, 3}), tensor({0, 1}), nn::CrossEntropyLossOptions().weight(ones({4}))); },
      {"cross_entropy: weight must have one entry per class (3), got shape [4]"}));
  EXPECT_TRUE(throws_error_containing(
      [] { F::nll_loss(zeros({2, 3}), tensor({0, 1}), nn::NLLLossOptions().weight(ones({1, 3}))); },
      {"nll_loss", "weight", "[1, 3]"}));
}

TEST(FunctionalErrors, FloatTargetForNll) {
  EXPECT_TRUE(throws_error_containing([] { F::nll_loss(zeros({2, 3}), zeros({2})); },
                                      {"nll_loss: target must hold int64 class indices, got float32", "[2]"}));
}

TEST(FunctionalErrors, ProbabilityTargets) {
  EXPECT_TRUE(throws_error_containing([] { F::cross_entropy(zeros({4, 3}), zeros({4})); },
                                      {"cross_entropy", "class probabilities", "input's shape [4, 3]", "got [4]"}));
  EXPECT_TRUE(throws_error_containing([] { F::cross_entropy(zeros({4, 3}), zeros({4, 3}, kInt64)); },
                                      {"cross_entropy", "[4, 3]", "must be floating point, got int64"}));
  EXPECT_TRUE(throws_error_containing(
      [] { F::cross_entropy(zeros({4, 3}), zeros({4, 3}), nn::CrossEntropyLossOptions().ignore_index(1)); },
      {"cross_entropy: ignore_index 1 is not supported with class-probability targets"}));
  EXPECT_TRUE(throws_error_containing([] { F::cross_entropy(zeros({4, 3}), zeros({4, 3}, kFloat64)); },
                                      {"cross_entropy", "float32", "float64"}));
}

TEST(FunctionalErrors, LabelSmoothingOutsideUnitInterval) {
  for (double smoothing : {-0.1, 1.5, std::nan("")}) {
    EXPECT_TRUE(throws_error_containing(
        [&] {
          F::cross_entropy(zeros({2, 3}), tensor({0, 1}), nn::CrossEntropyLossOptions().label_smoothing(smoothing));
        },
        {"cross_entropy: label_smoothing must be in [0, 1], got"}));
  }
}

TEST(FunctionalErrors, BinaryCrossEntropy) {
  EXPECT_TRUE(throws_error_containing([] { F::binary_cross_entropy(full({2, 3}, 0.5), zeros({3})); },
                                      {"binary_cross_entropy: target shape [3] must match input shape [2, 3]"}));
  EXPECT_TRUE(throws_error_containing([] { F::binary_cross_entropy(tensor({0.5f, 0.2f, 1.5f}), zeros({3})); },
                                      {"binary_cross_entropy", "[0, 1]", "1.5", "at index 2"}));
  EXPECT_TRUE(throws_error_containing([] { F::binary_cross_entropy(tensor({-0.5f}), zeros({1})); },
                                      {"binary_cross_entropy", "-0.5"}));
  EXPECT_TRUE(throws_error_containing(
      [] { F::binary_cross_entropy(tensor({std::numeric_limits<float>::quiet_NaN()}), zeros({1})); },
      {"binary_cross_entropy", "nan"}));
  EXPECT_TRUE(throws_error_containing(
      [] { F::binary_cross_entropy(full({2, 3}, 0.5), zeros({2, 3}), nn::BCELossOptions().weight(ones({2}))); },
      {"binary_cross_entropy: weight of shape [2] does not broadcast to the input shape [2, 3]"}));
}

TEST(FunctionalErrors, BinaryCrossEntropyWithLogits) {
  const auto call = [](Tensor pos_weight) {
    F::binary_cross_entropy_with_logits(zeros({2, 3}), zeros({2, 3}),
                                        nn::BCEWithLogitsLossOptions().pos_weight(std::move(pos_weight)));
  };
  EXPECT_TRUE(throws_error_containing([&] { call(ones({4})); },
                                      {"binary_cross_entropy_with_logits: pos_weight of shape [4] does not broadcast "
                                       "to the input shape [2, 3]"}));
  EXPECT_TRUE(throws_error_containing([&] { call(ones({1, 2, 3})); }, {"pos_weight of shape [1, 2, 3]"}));
  EXPECT_TRUE(throws_error_containing([&] { call(ones({3}, kFloat64)); }, {"pos_weight", "float64", "float32"}));
  EXPECT_TRUE(throws_error_containing([] { F::binary_cross_entropy_with_logits(zeros({2, 3}), zeros({3, 2})); },
                                      {"target shape [3, 2] must match input shape [2, 3]"}));
}

TEST(FunctionalErrors, MixedDtypesAndIntegerInputs) {
  EXPECT_TRUE(throws_error_containing([] { F::mse_loss(zeros({3}), zeros({3}, kFloat64)); },
                                      {"mse_loss", "float32", "float64"}));
  EXPECT_TRUE(throws_error_containing([] { F::kl_div(zeros({3}, kFloat64), zeros({3})); },
                                      {"kl_div", "float64", "float32"}));
  EXPECT_TRUE(throws_error_containing(
      [] { F::nll_loss(zeros({2, 3}), tensor({0, 1}), nn::NLLLossOptions().weight(ones({3}, kFloat64))); },
      {"nll_loss", "weight", "float64", "float32"}));
  EXPECT_TRUE(throws_error_containing([] { F::cross_entropy(zeros({2, 3}, kInt64), tensor({0, 1})); },
                                      {"cross_entropy", "int64"}));
  EXPECT_TRUE(throws_error_containing([] { F::mse_loss(zeros({3}), Tensor()); }, {"mse_loss", "defined"}));
}

TEST(FunctionalErrors, BatchMeanIsOnlyForKlDiv) {
  EXPECT_TRUE(throws_error_containing(
      [] { F::mse_loss(zeros({3}), zeros({3}), nn::MSELossOptions().reduction(kBatchMean)); },
      {"mse_loss: reduction batchmean is only defined for kl_div"}));
  EXPECT_TRUE(throws_error_containing(
      [] { F::cross_entropy(zeros({2, 3}), tensor({0, 1}), nn::CrossEntropyLossOptions().reduction(kBatchMean)); },
      {"cross_entropy", "batchmean"}));
}

TEST(FunctionalErrors, SoftmaxDimOutOfRange) {
  EXPECT_TRUE(throws_error_containing([] { F::softmax(zeros({2, 3}), 2); }, {"softmax", "dim 2", "[2, 3]"}));
  EXPECT_TRUE(throws_error_containing([] { F::log_softmax(zeros({2, 3}), -3); }, {"log_softmax", "-3", "[2, 3]"}));
}

}  // namespace
}  // namespace xgrad

// BatchNorm1d / BatchNorm2d and F::batch_norm: PyTorch's training runs (outputs, running
// statistics and num_batches_tracked after each batch, momentum=None included) and evaluation
// outputs, the names of parameters and buffers, train/eval behaviour, resets, printing and errors.
#include <gtest/gtest.h>

#include <optional>
#include <string>
#include <vector>

#include "compare.hpp"
#include "golden.hpp"

namespace xgrad {
namespace {

namespace F = nn::functional;
using testing::all_close;
using testing::golden_cases;
using testing::golden_tensor;
using testing::Json;
using testing::matches_golden;
using testing::printed;
using testing::throws_error_containing;

nn::BatchNormOptions options_of(const Json& c) {
  const Json& o = c.at("options");
  nn::BatchNormOptions options(c.at("num_features").get<std::int64_t>());
  options.eps(o.at("eps")).affine(o.at("affine")).track_running_stats(o.at("track_running_stats"));
  options.momentum(o.at("momentum").is_null() ? std::nullopt : std::optional<double>(o.at("momentum").get<double>()));
  return options;
}

// Runs the case's batches through `module` in training mode, then its evaluation input.
template <class Module>
void expect_run_matches(Module& module, const Json& c) {
  if (c.at("dtype") == "float64") module->to(kFloat64);
  module->train();
  const bool tracks = c.at("options").at("track_running_stats");
  for (std::size_t step = 0; step < c.at("train_inputs").size(); ++step) {
    SCOPED_TRACE("step " + std::to_string(step));
    EXPECT_TRUE(matches_golden(module(golden_tensor(c.at("train_inputs")[step])),
                               golden_tensor(c.at("train_outputs")[step])));
    if (!tracks) continue;
    EXPECT_TRUE(matches_golden(module->running_mean, golden_tensor(c.at("running_mean")[step])));
    EXPECT_TRUE(matches_golden(module->running_var, golden_tensor(c.at("running_var")[step])));
    EXPECT_EQ(module->num_batches_tracked.template item<std::int64_t>(),
              c.at("num_batches_tracked")[step].get<std::int64_t>());
  }
  module->eval();
  EXPECT_TRUE(matches_golden(module(golden_tensor(c.at("eval_input"))), golden_tensor(c.at("eval_output"))));
}

TEST(BatchNormModule, TrainingRunsMatchPyTorch) {
  const std::vector<Json> cases = golden_cases("norm.json", "batchnorm_module");
  ASSERT_EQ(cases.size(), 10u);
  for (const Json& c : cases) {
    SCOPED_TRACE(c.at("name").get<std::string>());
    if (c.at("module") == "BatchNorm1d") {
      nn::BatchNorm1d bn(options_of(c));
      expect_run_matches(bn, c);
    } else {
      nn::BatchNorm2d bn(options_of(c));
      expect_run_matches(bn, c);
    }
  }
}

TEST(BatchNormModule, ParametersAndBuffersUnderPyTorchsNames) {
  nn::BatchNorm2d bn(nn::BatchNorm2dOptions(4).eps(1e-5).momentum(0.1).affine(true).track_running_stats(true));
  EXPECT_EQ(bn->named_parameters().keys(), (std::vector<std::string>{"weight", "bias"}));
  EXPECT_EQ(bn->named_buffers().keys(), (std::vector<std::string>{"running_mean", "running_var", "num_batches_tracked"}));
  EXPECT_TRUE(all_close(bn->weight, ones({4}), 0.0, 0.0));
  EXPECT_TRUE(all_close(bn->bias, zeros({4}), 0.0, 0.0));
  EXPECT_TRUE(all_close(bn->running_mean, zeros({4}), 0.0, 0.0));
  EXPECT_TRUE(all_close(bn->running_var, ones({4}), 0.0, 0.0));
  EXPECT_EQ(bn->num_batches_tracked.dtype(), kInt64);
  EXPECT_EQ(bn->num_batches_tracked.dim(), 0);
  EXPECT_TRUE(bn->weight.requires_grad());
  EXPECT_FALSE(bn->running_mean.requires_grad());
  // Converting the module converts the floating buffers; the counter stays int64.
  bn->to(kFloat64);
  EXPECT_EQ(bn->running_var.dtype(), kFloat64);
  EXPECT_EQ(bn->num_batches_tracked.dtype(), kInt64);

  nn::BatchNorm1d bare(nn::BatchNorm1dOptions(3).affine(false).track_running_stats(false));
  EXPECT_TRUE(bare->parameters().empty());
  EXPECT_TRUE(bare->buffers().empty());
  EXPECT_FALSE(bare->weight.defined());
  EXPECT_FALSE(bare->running_mean.defined());
}

TEST(BatchNormModule, InsideASequentialUnderItsIndex) {
  nn::Sequential net(nn::Linear(2, 3), nn::BatchNorm1d(3));
  EXPECT_EQ(net->named_buffers().keys(),
            (std::vector<std::string>{"1.running_mean", "1.running_var", "1.num_batches_tracked"}));
  EXPECT_EQ(net->named_parameters().keys(), (std::vector<std::string>{"0.weight", "0.bias", "1.weight", "1.bias"}));
}

TEST(BatchNormModule, EvalUsesRunningStatisticsAndLeavesThemAlone) {
  manual_seed(1);
  nn::BatchNorm1d bn(2);
  const Tensor x = randn({8, 2}) * 3.0 + 1.0;
  bn(x);
  const Tensor mean_after_train = bn->running_mean.clone();
  bn->eval();
  EXPECT_FALSE(bn->is_training());
  const Tensor y = bn(x);
  EXPECT_TRUE(all_close(bn->running_mean, mean_after_train, 0.0, 0.0));
  EXPECT_EQ(bn->num_batches_tracked.item<std::int64_t>(), 1);
  const Tensor expected = (x - bn->running_mean) / (bn->running_var + 1e-5).sqrt();
  EXPECT_TRUE(all_close(y, expected, 1e-5, 1e-6));
  // A single sample is fine in evaluation mode.
  EXPECT_EQ(bn(randn({1, 2})).sizes().vec(), (Shape{1, 2}));
}

TEST(BatchNormModule, WithoutRunningStatisticsEvalStillUsesTheBatch) {
  nn::BatchNorm1d bn(nn::BatchNorm1dOptions(2).track_running_stats(false));
  bn->eval();
  const Tensor x = tensor({{1.0f, 10.0f}, {3.0f, 20.0f}});
  EXPECT_TRUE(all_close(bn(x), tensor({{-1.0f, -1.0f}, {1.0f, 1.0f}}), 1e-4, 1e-4));
}

TEST(BatchNormModule, CumulativeAverageWithMomentumNone) {
  nn::BatchNorm1d bn(nn::BatchNorm1dOptions(1).momentum(std::nullopt));
  bn(tensor({{1.0f}, {3.0f}}));   // mean 2
  bn(tensor({{5.0f}, {9.0f}}));   // mean 7
  bn(tensor({{0.0f}, {0.0f}}));   // mean 0
  EXPECT_NEAR(bn->running_mean.item<double>(), 3.0, 1e-6);  // (2 + 7 + 0) / 3
  EXPECT_EQ(bn->num_batches_tracked.item<std::int64_t>(), 3);
}

TEST(BatchNormModule, GradientsReachWeightAndBias) {
  manual_seed(2);
  nn::BatchNorm2d bn(3);
  const Tensor x = randn({2, 3, 4, 4}, requires_grad());
  const Tensor y = bn(x);
  EXPECT_STREQ(y.grad_fn()->name(), "NativeBatchNormBackward0");
  (y * y).sum().backward();
  EXPECT_EQ(bn->weight.grad().sizes().vec(), (Shape{3}));
  EXPECT_EQ(bn->bias.grad().sizes().vec(), (Shape{3}));
  EXPECT_EQ(x.grad().sizes().vec(), (Shape{2, 3, 4, 4}));
}

TEST(BatchNormModule, Resets) {
  nn::BatchNorm1d bn(2);
  bn(randn({4, 2}) + 5.0);
  {
    NoGradGuard no_grad;
    bn->weight.fill_(3.0);
  }
  const Tensor weight = bn->weight;
  bn->reset_running_stats();
  EXPECT_TRUE(all_close(bn->running_mean, zeros({2}), 0.0, 0.0));
  EXPECT_TRUE(all_close(bn->running_var, ones({2}), 0.0, 0.0));
  EXPECT_EQ(bn->num_batches_tracked.item<std::int64_t>(), 0);
  EXPECT_TRUE(all_close(bn->weight, full({2}, 3.0), 0.0, 0.0));
  bn->reset_parameters();
  EXPECT_TRUE(all_close(weight, ones({2}), 0.0, 0.0));  // in place: the old handle sees it
  bn->reset();
  EXPECT_TRUE(all_close(bn->bias, zeros({2}), 0.0, 0.0));
}

TEST(BatchNormModule, PrettyPrint) {
  EXPECT_EQ(printed(*nn::BatchNorm2d(nn::BatchNorm2dOptions(4).eps(1e-5).momentum(0.1).affine(true)
                                         .track_running_stats(true))),
            "BatchNorm2d(4, eps=1e-05, momentum=0.1, affine=true, track_running_stats=true)");
  EXPECT_EQ(printed(*nn::BatchNorm1d(nn::BatchNorm1dOptions(3).eps(1e-3).momentum(std::nullopt).affine(false)
                                         .track_running_stats(false))),
            "BatchNorm1d(3, eps=0.001, momentum=None, affine=false, track_running_stats=false)");
}

TEST(BatchNormModule, BadInputsChangeNothing) {
  nn::BatchNorm1d bn1(3);
  EXPECT_TRUE(throws_error_containing([&] { bn1(randn({2, 3, 4, 5})); },
                                      {"BatchNorm1d", "expected 2D or 3D input (got 4D input", "[2, 3, 4, 5]"}));
  EXPECT_TRUE(throws_error_containing([&] { bn1(randn({3})); }, {"expected 2D or 3D input (got 1D input"}));
  nn::BatchNorm2d bn2(3);
  EXPECT_TRUE(throws_error_containing([&] { bn2(randn({2, 3, 4})); },
                                      {"BatchNorm2d", "expected 4D input (got 3D input"}));
  EXPECT_TRUE(throws_error_containing([&] { bn2(randn({2, 4, 3, 3})); },
                                      {"weight should contain 4 elements not 3", "[2, 4, 3, 3]"}));
  EXPECT_TRUE(throws_error_containing([&] { bn1(randn({1, 3})); },
                                      {"Expected more than 1 value per channel when training", "[1, 3]"}));
  EXPECT_EQ(bn1->num_batches_tracked.item<std::int64_t>(), 0);
  EXPECT_EQ(bn2->num_batches_tracked.item<std::int64_t>(), 0);
  EXPECT_TRUE(all_close(bn2->running_mean, zeros({3}), 0.0, 0.0));
  EXPECT_TRUE(throws_error_containing([] { nn::BatchNorm1d(0); }, {"BatchNorm", "num_features", "0"}));
}

TEST(BatchNormFunctional, OptionsReachTheOp) {
  manual_seed(3);
  const Tensor x = randn({6, 3});
  const Tensor w = randn({3}), b = randn({3});
  Tensor rm = zeros({3}), rv = ones({3});
  const Tensor y = F::batch_norm(x, rm, rv, F::BatchNormFuncOptions().weight(w).bias(b).training(true).momentum(0.2)
                                                .eps(1e-3));
  Tensor rm2 = zeros({3}), rv2 = ones({3});
  EXPECT_TRUE(all_close(y, batch_norm(x, w, b, rm2, rv2, true, 0.2, 1e-3), 0.0, 0.0));
  EXPECT_TRUE(all_close(rm, rm2, 0.0, 0.0));
  // training defaults to false: the running statistics are used and kept.
  const Tensor eval = F::batch_norm(x, rm, rv);
  EXPECT_TRUE(all_close(eval, batch_norm(x, {}, {}, rm2, rv2, false, 0.1, 1e-5), 0.0, 0.0));
  EXPECT_TRUE(all_close(rm, rm2, 0.0, 0.0));
  EXPECT_TRUE(throws_error_containing(
      [&] { F::batch_norm(x, rm, rv, F::BatchNormFuncOptions().training(true).momentum(std::nullopt)); },
      {"batch_norm", "momentum"}));
  EXPECT_TRUE(throws_error_containing([&] { F::batch_norm(randn({1, 3}), {}, {}, F::BatchNormFuncOptions().training(true)); },
                                      {"Expected more than 1 value per channel when training"}));
}

}  // namespace
}  // namespace xgrad

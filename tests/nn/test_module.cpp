// Module, Linear, Sequential: shapes, names, initialisation, gradients, copies and modes.
#include <gtest/gtest.h>

#include <cmath>
#include <memory>
#include <sstream>

#include "compare.hpp"

namespace xgrad {
namespace {

using testing::all_close;
using testing::throws_error_containing;

std::vector<std::string> names_of(const nn::Module& module) {
  std::vector<std::string> names;
  for (const auto& named : module.named_parameters()) names.push_back(named.first);
  return names;
}

TEST(Linear, ParametersHaveLibtorchShapesAndNames) {
  nn::Linear layer(3, 5);
  EXPECT_EQ(layer.weight.shape(), (Shape{5, 3}));
  EXPECT_EQ(layer.bias.shape(), (Shape{5}));
  EXPECT_EQ(names_of(layer), (std::vector<std::string>{"weight", "bias"}));
  for (const Tensor& parameter : layer.parameters()) {
    EXPECT_TRUE(parameter.requires_grad());
    EXPECT_TRUE(parameter.is_leaf());
    EXPECT_EQ(parameter.dtype(), kFloat32);
  }
  EXPECT_EQ(layer.weight.name(), "weight");
}

TEST(Linear, WithoutBiasHasOnlyAWeight) {
  nn::Linear layer(nn::LinearOptions(4, 2).bias(false));
  EXPECT_FALSE(layer.bias.defined());
  EXPECT_EQ(names_of(layer), (std::vector<std::string>{"weight"}));
  EXPECT_EQ(layer(ones({7, 4})).shape(), (Shape{7, 2}));
}

TEST(Linear, ForwardIsInputTimesWeightTransposedPlusBias) {
  nn::Linear layer(nn::LinearOptions(3, 2).dtype(kFloat64));
  const Tensor x = tensor({{1.0, -2.0, 0.5}, {0.0, 3.0, -1.0}, {2.0, 2.0, 2.0}, {-1.0, 0.0, 4.0}});
  const Tensor expected = matmul(x, transpose(layer.weight, 0, 1)) + layer.bias;
  EXPECT_TRUE(all_close(layer(x), expected, 1e-12, 1e-12));
  EXPECT_EQ(layer(tensor({1.0, 2.0, 3.0})).shape(), (Shape{2}));
}

TEST(Linear, InitIsUniformWithinOneOverSqrtInFeatures) {
  manual_seed(11);
  nn::Linear layer(16, 400);
  const double bound = 1.0 / std::sqrt(16.0);
  for (const Tensor& parameter : layer.parameters()) {
    const auto values = parameter.to_vector<float>();
    const auto [low, high] = std::minmax_element(values.begin(), values.end());
    EXPECT_GE(*low, -bound);
    EXPECT_LE(*high, bound);
    // 400+ samples of a uniform distribution come close to both ends and centre near zero.
    EXPECT_LT(*low, -0.9 * bound);
    EXPECT_GT(*high, 0.9 * bound);
    double mean = 0.0;
    for (float v : values) mean += v / values.size();
    EXPECT_NEAR(mean, 0.0, 0.25 * bound);
  }
}

TEST(Linear, InitFollowsTheGlobalSeed) {
  manual_seed(5);
  nn::Linear first(3, 4);
  manual_seed(5);
  nn::Linear again(3, 4);
  nn::Linear different(3, 4);
  EXPECT_EQ(first.weight.to_vector<float>(), again.weight.to_vector<float>());
  EXPECT_EQ(first.bias.to_vector<float>(), again.bias.to_vector<float>());
  EXPECT_NE(first.weight.to_vector<float>(), different.weight.to_vector<float>());
}

TEST(Linear, GradientsPassGradcheck) {
  nn::Linear layer(nn::LinearOptions(3, 4).dtype(kFloat64));
  const Tensor x = randn({5, 3}, kFloat64).requires_grad_(true);
  // gradcheck perturbs the tensors it is given in place, so perturbing layer.weight moves the layer.
  const auto result = gradcheck([&](const std::vector<Tensor>& in) { return layer(in[0]); },
                                {x, layer.weight, layer.bias});
  EXPECT_TRUE(result.passed) << result.report;
}

TEST(Linear, BadOptionsAndInputsAreErrors) {
  EXPECT_TRUE(throws_error_containing([] { nn::Linear(0, 3); }, {"Linear", "in_features=0"}));
  EXPECT_TRUE(throws_error_containing([] { nn::Linear(nn::LinearOptions(2, 3).dtype(kInt64)); }, {"Linear", "int64"}));
  nn::Linear layer(3, 2);
  EXPECT_TRUE(throws_error_containing([&] { layer(ones({4, 5})); }, {"[4, 5]"}));
}

TEST(Sequential, NamesFollowPositionsAsInPyTorch) {
  nn::Sequential net{nn::Linear(2, 4), nn::ReLU(), nn::Linear(nn::LinearOptions(4, 3).bias(true)), nn::Tanh()};
  EXPECT_EQ(net.size(), 4u);
  EXPECT_EQ(names_of(net), (std::vector<std::string>{"0.weight", "0.bias", "2.weight", "2.bias"}));
  // The same labels appear on the tensors, for to_dot.
  for (const auto& [name, parameter] : net.named_parameters()) EXPECT_EQ(parameter.name(), name);
  EXPECT_EQ(net.parameters().size(), 4u);
  EXPECT_STREQ(net[1].name(), "ReLU");
}

TEST(Sequential, NestedModulesGetDottedPaths) {
  nn::Sequential inner{nn::Linear(3, 3), nn::ReLU()};
  nn::Sequential outer{nn::Linear(2, 3), inner, nn::Linear(3, 1)};
  EXPECT_EQ(names_of(outer), (std::vector<std::string>{"0.weight", "0.bias", "1.0.weight", "1.0.bias", "2.weight",
                                                       "2.bias"}));
  EXPECT_EQ(outer(ones({4, 2})).shape(), (Shape{4, 1}));
}

TEST(Sequential, ForwardAppliesEveryModuleInOrder) {
  nn::Sequential net{nn::Linear(nn::LinearOptions(3, 4).dtype(kFloat64)), nn::ReLU(),
                     nn::Linear(nn::LinearOptions(4, 2).dtype(kFloat64)), nn::Sigmoid()};
  auto& first = dynamic_cast<nn::Linear&>(net[0]);
  auto& second = dynamic_cast<nn::Linear&>(net[2]);
  const Tensor x = randn({6, 3}, kFloat64);
  const Tensor expected = sigmoid(linear(relu(linear(x, first.weight, first.bias)), second.weight, second.bias));
  EXPECT_TRUE(all_close(net(x), expected, 1e-12, 1e-12));
  EXPECT_TRUE(all_close(net.forward(x), expected, 1e-12, 1e-12));
  EXPECT_TRUE(all_close(nn::Sequential{}(x), x, 0, 0));
}

TEST(Sequential, GradientsOfAllParametersPassGradcheck) {
  nn::Sequential net{nn::Linear(nn::LinearOptions(2, 3).dtype(kFloat64)), nn::Tanh(),
                     nn::Linear(nn::LinearOptions(3, 2).dtype(kFloat64))};
  std::vector<Tensor> inputs{randn({4, 2}, kFloat64).requires_grad_(true)};
  for (const Tensor& parameter : net.parameters()) inputs.push_back(parameter);
  const auto result = gradcheck([&](const std::vector<Tensor>& in) { return net(in[0]); }, inputs);
  EXPECT_TRUE(result.passed) << result.report;
}

TEST(Sequential, IndexOutOfRangeIsAnError) {
  nn::Sequential net{nn::Linear(2, 2)};
  EXPECT_TRUE(throws_error_containing([&] { net[3]; }, {"Sequential", "index 3", "1 modules"}));
}

TEST(Module, CopiesShareParameters) {
  nn::Linear original(2, 2);
  nn::Linear copy = original;
  nn::init::constant_(copy.weight, 0.5);
  EXPECT_EQ(original.weight.to_vector<float>(), (std::vector<float>{0.5f, 0.5f, 0.5f, 0.5f}));

  nn::Sequential net{original};
  nn::init::zeros_(original.bias);
  EXPECT_EQ(net.named_parameters()[1].second.to_vector<float>(), (std::vector<float>{0.0f, 0.0f}));
}

TEST(Module, ASharedLayerIsListedOnce) {
  auto shared = std::make_shared<nn::Linear>(2, 2);
  nn::Sequential net;
  net.push_back(shared);
  net.push_back(nn::ReLU());
  net.push_back(shared);
  EXPECT_EQ(net.parameters().size(), 2u);
  EXPECT_EQ(net.size(), 3u);
}

// A user-defined module, written as the comment in nn/module.hpp shows.
struct TwoLayer : nn::Module {
  TwoLayer()
      : scale(register_parameter("scale", ones({1}))),
        fc1(register_module("fc1", std::make_shared<nn::Linear>(2, 8))),
        fc2(register_module("fc2", std::make_shared<nn::Linear>(8, 3))) {}
  const char* name() const override { return "TwoLayer"; }
  Tensor forward(const Tensor& x) override { return fc2->forward(relu(fc1->forward(x))) * scale; }
  Tensor scale;
  std::shared_ptr<nn::Linear> fc1, fc2;
};

TEST(Module, UserModulesRegisterParametersAndChildren) {
  TwoLayer model;
  EXPECT_EQ(names_of(model), (std::vector<std::string>{"scale", "fc1.weight", "fc1.bias", "fc2.weight", "fc2.bias"}));
  EXPECT_EQ(model.fc1->weight.name(), "fc1.weight");
  EXPECT_EQ(model(ones({5, 2})).shape(), (Shape{5, 3}));
  std::ostringstream out;
  out << model;
  EXPECT_EQ(out.str(),
            "TwoLayer(\n"
            "  (fc1): Linear(in_features=2, out_features=8, bias=true)\n"
            "  (fc2): Linear(in_features=8, out_features=3, bias=true)\n"
            ")");
}

TEST(Module, BaseForwardIsAnErrorNamingTheModule) {
  struct NoForward : nn::Module {
    const char* name() const override { return "NoForward"; }
  } module;
  EXPECT_TRUE(throws_error_containing([&] { module(ones({2})); }, {"NoForward", "forward"}));
}

TEST(Module, TrainAndEvalReachEveryDescendant) {
  nn::Sequential net{nn::Linear(2, 2), nn::Sequential{nn::ReLU()}};
  EXPECT_TRUE(net.is_training());
  net.eval();
  EXPECT_FALSE(net.is_training());
  EXPECT_FALSE(net[0].is_training());
  EXPECT_FALSE(dynamic_cast<nn::Sequential&>(net[1])[0].is_training());
  net.train();
  EXPECT_TRUE(dynamic_cast<nn::Sequential&>(net[1])[0].is_training());
}

TEST(Module, ZeroGradDropsEveryGradient) {
  nn::Sequential net{nn::Linear(2, 3), nn::Linear(3, 1)};
  sum(net(ones({4, 2}))).backward();
  for (const Tensor& parameter : net.parameters()) EXPECT_TRUE(parameter.grad().defined());
  net.zero_grad();
  for (const Tensor& parameter : net.parameters()) EXPECT_FALSE(parameter.grad().defined());
}

TEST(Module, ToConvertsParametersInPlace) {
  nn::Sequential net{nn::Linear(2, 3)};
  const std::vector<float> before = net.parameters()[0].to_vector<float>();
  const Tensor held = net.parameters()[0];  // e.g. by an optimiser
  net.to(kFloat64);
  EXPECT_EQ(held.dtype(), kFloat64);
  const std::vector<double> after = held.to_vector<double>();
  for (std::size_t i = 0; i < before.size(); ++i) EXPECT_EQ(after[i], static_cast<double>(before[i]));
  EXPECT_EQ(net(ones({1, 2}, kFloat64)).dtype(), kFloat64);
  EXPECT_TRUE(throws_error_containing([&] { net.to(kInt64); }, {"Sequential", "int64"}));
}

TEST(Module, PrintsLikePyTorch) {
  nn::Sequential net{nn::Linear(2, 4), nn::ReLU(), nn::Linear(nn::LinearOptions(4, 1).bias(false))};
  std::ostringstream out;
  out << net;
  EXPECT_EQ(out.str(),
            "Sequential(\n"
            "  (0): Linear(in_features=2, out_features=4, bias=true)\n"
            "  (1): ReLU()\n"
            "  (2): Linear(in_features=4, out_features=1, bias=false)\n"
            ")");
}

TEST(Activation, ModulesApplyTheirFunction) {
  const Tensor x = tensor({{-1.0, 0.5, 2.0}, {3.0, -0.25, 0.0}});
  EXPECT_TRUE(all_close(nn::ReLU()(x), relu(x), 0, 0));
  EXPECT_TRUE(all_close(nn::Tanh()(x), tanh(x), 0, 0));
  EXPECT_TRUE(all_close(nn::Sigmoid()(x), sigmoid(x), 0, 0));
  EXPECT_TRUE(all_close(nn::Softmax(nn::SoftmaxOptions(1))(x), softmax(x, 1), 0, 0));
  EXPECT_TRUE(all_close(nn::Softmax(0)(x), softmax(x, 0), 0, 0));
  EXPECT_TRUE(all_close(nn::LogSoftmax(nn::LogSoftmaxOptions(-1))(x), log_softmax(x, 1), 0, 0));
  EXPECT_TRUE(nn::ReLU().parameters().empty());
  std::ostringstream out;
  out << nn::Sequential{nn::Tanh(), nn::Softmax(1), nn::LogSoftmax(0)};
  EXPECT_EQ(out.str(), "Sequential(\n  (0): Tanh()\n  (1): Softmax(dim=1)\n  (2): LogSoftmax(dim=0)\n)");
}

TEST(Activation, SoftmaxDimOutOfRangeIsAnError) {
  EXPECT_TRUE(throws_error_containing([] { nn::Softmax(2)(ones({2, 3})); }, {"softmax", "[2, 3]"}));
}

namespace F = nn::functional;

TEST(LossModules, CallTheFunctionalFormWithTheirOptions) {
  const Tensor logits = tensor({{1.0, 2.0, 3.0}, {2.0, 4.0, 6.0}, {0.5, -1.0, 0.0}});
  const Tensor classes = tensor({2, 1, 1});
  const Tensor probabilities = sigmoid(tensor({{0.3, -0.2, 1.0}, {2.0, 0.1, -1.5}, {0.0, 0.7, 0.2}}));
  const auto ce = nn::CrossEntropyLossOptions().ignore_index(1).reduction(kSum).label_smoothing(0.2);
  EXPECT_TRUE(all_close(nn::CrossEntropyLoss(ce)(logits, classes), F::cross_entropy(logits, classes, ce), 0, 0));
  EXPECT_TRUE(all_close(nn::CrossEntropyLoss()(logits, classes), F::cross_entropy(logits, classes), 0, 0));
  const auto nll = nn::NLLLossOptions().weight(tensor({1.0, 2.0, 0.5})).reduction(kNone);
  EXPECT_TRUE(all_close(nn::NLLLoss(nll)(logits, classes), F::nll_loss(logits, classes, nll), 0, 0));
  const auto bce = nn::BCELossOptions().reduction(kSum);
  EXPECT_TRUE(all_close(nn::BCELoss(bce)(probabilities, probabilities * 0.5),
                        F::binary_cross_entropy(probabilities, probabilities * 0.5, bce), 0, 0));
  const auto bcel = nn::BCEWithLogitsLossOptions().pos_weight(tensor({2.0, 1.0, 0.5}));
  EXPECT_TRUE(all_close(nn::BCEWithLogitsLoss(bcel)(logits, probabilities),
                        F::binary_cross_entropy_with_logits(logits, probabilities, bcel), 0, 0));
  const auto kl = nn::KLDivLossOptions().reduction(kBatchMean).log_target(true);
  EXPECT_TRUE(all_close(nn::KLDivLoss(kl)(log_softmax(logits, 1), log_softmax(-logits, 1)),
                        F::kl_div(log_softmax(logits, 1), log_softmax(-logits, 1), kl), 0, 0));
  const auto mse = nn::MSELossOptions().reduction(kNone);
  EXPECT_TRUE(all_close(nn::MSELoss(mse)(logits, probabilities), F::mse_loss(logits, probabilities, mse), 0, 0));
}

TEST(LossModules, OptionsCanChangeAfterConstruction) {
  nn::CrossEntropyLoss criterion;
  const Tensor logits = tensor({{1.0, 2.0, 3.0}, {2.0, 4.0, 6.0}});
  const Tensor target = tensor({2, 1});
  EXPECT_NEAR(criterion(logits, target).item<double>(), 1.2753, 1e-4);
  criterion.options.reduction(kSum);
  EXPECT_NEAR(criterion(logits, target).item<double>(), 2.5505, 1e-4);
}

TEST(LossModules, HaveNoOneInputForward) {
  nn::MSELoss loss;
  nn::Module& as_module = loss;
  EXPECT_TRUE(throws_error_containing([&] { as_module(ones({2})); }, {"MSELoss", "(input, target)"}));
  nn::Sequential net{nn::Linear(2, 2), nn::CrossEntropyLoss()};
  EXPECT_TRUE(throws_error_containing([&] { net(ones({1, 2})); }, {"CrossEntropyLoss", "forward"}));
}

TEST(Init, InitialisersFillInPlaceWithinTheirBounds) {
  Tensor w = zeros({30, 20}, kFloat64);
  const double* storage = w.data<double>();
  nn::init::xavier_uniform_(w);
  const double xavier = std::sqrt(6.0 / 50.0);
  for (double v : w.to_vector<double>()) EXPECT_LE(std::abs(v), xavier);
  nn::init::kaiming_uniform_(w);
  const double kaiming = std::sqrt(6.0 / 20.0);
  double largest = 0.0;
  for (double v : w.to_vector<double>()) largest = std::max(largest, std::abs(v));
  EXPECT_LE(largest, kaiming);
  EXPECT_GT(largest, xavier);  // the wider bound is actually used
  nn::init::normal_(w, 3.0, 0.0);
  EXPECT_EQ(w.to_vector<double>().front(), 3.0);
  nn::init::ones_(w);
  EXPECT_EQ(w.to_vector<double>().back(), 1.0);
  EXPECT_EQ(w.data<double>(), storage);
  EXPECT_TRUE(throws_error_containing([] { nn::init::xavier_uniform_(zeros({5})); }, {"xavier_uniform_", "[5]"}));
  EXPECT_TRUE(throws_error_containing([] { nn::init::uniform_(zeros({5}), 1.0, 0.0); }, {"uniform_", "low 1"}));
}

}  // namespace
}  // namespace xgrad

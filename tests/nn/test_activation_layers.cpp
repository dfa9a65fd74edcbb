// The parametrised activation modules (LeakyReLU, GELU, ELU, SiLU, Softplus) and the regression
// loss modules (L1Loss, SmoothL1Loss, HuberLoss): options with libtorch's defaults and chaining, the
// functional forms F::..., that module, functional and op agree, pretty_print, holders in a
// Sequential, and the inplace option (ReLU, LeakyReLU, ELU) overwriting the input. The values themselves are checked against PyTorch
// in tests/ops/test_activation.cpp and tests/ops/test_loss_regression.cpp.
#include <gtest/gtest.h>

#include <string>

#include <xgrad/xgrad.hpp>

#include "compare.hpp"

namespace xgrad {
namespace {

namespace F = nn::functional;
using testing::printed;
using testing::throws_error_containing;

::testing::AssertionResult same_values(const Tensor& a, const Tensor& b) { return testing::all_close(a, b, 0.0, 0.0); }

// ---- activation options ---------------------------------------------------------------------------

TEST(ActivationOptions, DefaultsAreLibtorchs) {
  EXPECT_FALSE(nn::ReLUOptions().inplace());
  EXPECT_TRUE(nn::ReLUOptions(true).inplace());
  EXPECT_EQ(nn::LeakyReLUOptions().negative_slope(), 0.01);
  EXPECT_FALSE(nn::LeakyReLUOptions().inplace());
  EXPECT_EQ(nn::GELUOptions().approximate(), "none");
  EXPECT_EQ(nn::ELUOptions().alpha(), 1.0);
  EXPECT_FALSE(nn::ELUOptions().inplace());
  EXPECT_EQ(nn::SoftplusOptions().beta(), 1.0);
  EXPECT_EQ(nn::SoftplusOptions().threshold(), 20.0);
}

TEST(ActivationOptions, SettersChain) {
  EXPECT_EQ(nn::LeakyReLUOptions().negative_slope(0.2).inplace(false).negative_slope(), 0.2);
  EXPECT_EQ(nn::GELUOptions().approximate("tanh").approximate(), "tanh");
  EXPECT_EQ(nn::ELUOptions().alpha(0.5).alpha(), 0.5);
  const auto softplus = nn::SoftplusOptions().beta(2).threshold(10);
  EXPECT_EQ(softplus.beta(), 2.0);
  EXPECT_EQ(softplus.threshold(), 10.0);
}

// ---- functional forms -------------------------------------------------------------------------------

TEST(ActivationFunctional, UnpacksTheOptionsIntoTheOp) {
  const Tensor x = randn({3, 4}) * 3.0;
  EXPECT_TRUE(same_values(F::leaky_relu(x), leaky_relu(x, 0.01)));
  EXPECT_TRUE(same_values(F::leaky_relu(x, F::LeakyReLUFuncOptions().negative_slope(0.2)), leaky_relu(x, 0.2)));
  EXPECT_TRUE(same_values(F::gelu(x), gelu(x)));
  EXPECT_TRUE(same_values(F::gelu(x, F::GELUFuncOptions().approximate("tanh")), gelu(x, "tanh")));
  EXPECT_TRUE(same_values(F::elu(x), elu(x)));
  EXPECT_TRUE(same_values(F::elu(x, F::ELUFuncOptions().alpha(0.5)), elu(x, 0.5)));
  EXPECT_TRUE(same_values(F::silu(x), silu(x)));
  EXPECT_TRUE(same_values(F::softplus(x), softplus(x)));
  EXPECT_TRUE(same_values(F::softplus(x, F::SoftplusFuncOptions().beta(2).threshold(3)), softplus(x, 2, 3)));
  EXPECT_FALSE(same_values(F::gelu(x, F::GELUFuncOptions().approximate("tanh")), gelu(x)));
}

// inplace(true) writes the result into the input, as libtorch does, and returns the input itself.
TEST(ActivationFunctional, InplaceOverwritesTheInput) {
  const Tensor x = randn({3, 4}) * 3.0;
  const std::vector<std::pair<std::function<Tensor(const Tensor&)>, Tensor>> cases = {
      {[](const Tensor& h) { return F::relu(h, F::ReLUFuncOptions().inplace(true)); }, relu(x)},
      {[](const Tensor& h) { return F::leaky_relu(h, F::LeakyReLUFuncOptions().negative_slope(0.2).inplace(true)); },
       leaky_relu(x, 0.2)},
      {[](const Tensor& h) { return F::elu(h, F::ELUFuncOptions().alpha(0.5).inplace(true)); }, elu(x, 0.5)},
  };
  for (const auto& [apply, expected] : cases) {
    const Tensor h = x.clone();
    const Tensor result = apply(h);
    EXPECT_TRUE(same_values(result, expected));
    EXPECT_TRUE(same_values(h, expected));
    EXPECT_EQ(h._version(), 1);
  }
  EXPECT_TRUE(same_values(F::relu(x, F::ReLUFuncOptions()), relu(x)));
  EXPECT_TRUE(same_values(x, x.clone()));  // out of place: the input is untouched
}

TEST(ActivationFunctional, RejectsBadOptions) {
  EXPECT_TRUE(throws_error_containing([] { F::gelu(randn({3}), F::GELUFuncOptions().approximate("exact")); },
                                      {"gelu", "none or tanh", "exact"}));
}

// ---- activation modules -------------------------------------------------------------------------------

TEST(ActivationModules, ForwardIsTheFunctionalForm) {
  const Tensor x = randn({2, 5}) * 4.0;
  EXPECT_TRUE(same_values(nn::LeakyReLU()(x), leaky_relu(x)));
  EXPECT_TRUE(same_values(nn::LeakyReLU(nn::LeakyReLUOptions().negative_slope(0.3))(x), leaky_relu(x, 0.3)));
  EXPECT_TRUE(same_values(nn::GELU()(x), gelu(x)));
  EXPECT_TRUE(same_values(nn::GELU(nn::GELUOptions().approximate("tanh"))->forward(x), gelu(x, "tanh")));
  EXPECT_TRUE(same_values(nn::ELU(nn::ELUOptions().alpha(0.7))(x), elu(x, 0.7)));
  EXPECT_TRUE(same_values(nn::SiLU()(x), silu(x)));
  EXPECT_TRUE(same_values(nn::Softplus(nn::SoftplusOptions().beta(0.5).threshold(4))(x), softplus(x, 0.5, 4)));
}

TEST(ActivationModules, OptionsAreLiveMembers) {
  nn::LeakyReLU act;
  const Tensor x = tensor({-2.0f, 3.0f});
  act->options.negative_slope(0.5);
  EXPECT_EQ(act(x).to_vector<float>(), (std::vector<float>{-1.0f, 3.0f}));
}

TEST(ActivationModules, PrettyPrintLikeLibtorch) {
  EXPECT_EQ(printed(*nn::ReLU()), "ReLU()");
  EXPECT_EQ(printed(*nn::ReLU(true)), "ReLU(inplace=true)");
  EXPECT_EQ(printed(*nn::LeakyReLU(nn::LeakyReLUOptions().inplace(true))), "LeakyReLU(negative_slope=0.01, inplace=true)");
  EXPECT_EQ(printed(*nn::ELU(nn::ELUOptions().inplace(true))), "ELU(alpha=1, inplace=true)");
  EXPECT_EQ(printed(*nn::LeakyReLU()), "LeakyReLU(negative_slope=0.01)");
  EXPECT_EQ(printed(*nn::LeakyReLU(nn::LeakyReLUOptions().negative_slope(0.2))), "LeakyReLU(negative_slope=0.2)");
  EXPECT_EQ(printed(*nn::GELU()), "GELU()");
  EXPECT_EQ(printed(*nn::GELU(nn::GELUOptions().approximate("tanh"))), "GELU(approximate=tanh)");
  EXPECT_EQ(printed(*nn::ELU()), "ELU(alpha=1)");
  EXPECT_EQ(printed(*nn::ELU(nn::ELUOptions().alpha(0.5))), "ELU(alpha=0.5)");
  EXPECT_EQ(printed(*nn::SiLU()), "SiLU()");
  EXPECT_EQ(printed(*nn::Softplus()), "Softplus(beta=1, threshold=20)");
  EXPECT_EQ(printed(*nn::Softplus(nn::SoftplusOptions().beta(2).threshold(10.5))), "Softplus(beta=2, threshold=10.5)");
}

TEST(ActivationModules, RunInASequentialAndTrain) {
  manual_seed(3);
  nn::Sequential net(nn::Linear(3, 8), nn::GELU(), nn::Linear(8, 8), nn::LeakyReLU(), nn::Linear(8, 8), nn::ELU(),
                     nn::Linear(8, 8), nn::SiLU(), nn::Linear(8, 1), nn::Softplus());
  EXPECT_EQ(printed(*net),
            "Sequential(\n"
            "  (0): Linear(in_features=3, out_features=8, bias=true)\n"
            "  (1): GELU()\n"
            "  (2): Linear(in_features=8, out_features=8, bias=true)\n"
            "  (3): LeakyReLU(negative_slope=0.01)\n"
            "  (4): Linear(in_features=8, out_features=8, bias=true)\n"
            "  (5): ELU(alpha=1)\n"
            "  (6): Linear(in_features=8, out_features=8, bias=true)\n"
            "  (7): SiLU()\n"
            "  (8): Linear(in_features=8, out_features=1, bias=true)\n"
            "  (9): Softplus(beta=1, threshold=20)\n"
            ")");
  const Tensor x = randn({16, 3}), y = randn({16, 1}).abs();
  optim::SGD sgd(net->parameters(), 0.05);
  double first = 0.0, last = 0.0;
  for (int step = 0; step < 60; ++step) {
    sgd.zero_grad();
    const Tensor loss = nn::SmoothL1Loss()(net->forward(x), y);
    loss.backward();
    sgd.step();
    (step == 0 ? first : last) = loss.item<double>();
  }
  EXPECT_LT(last, first);
}

TEST(ActivationModules, RejectBadOptionsWhenBuilt) {
  EXPECT_TRUE(throws_error_containing([] { nn::GELU(nn::GELUOptions().approximate("erf")); },
                                      {"GELU", "none or tanh", "erf"}));
}

// A network whose activations run in place (each overwrites the Linear output before it, which no
// node saved) computes the same loss and gradients as the same network out of place.
TEST(ActivationModules, InplaceNetworkMatchesOutOfPlace) {
  manual_seed(4);
  auto build = [](bool inplace) {
    return nn::Sequential(nn::Linear(3, 8), nn::ReLU(inplace), nn::Linear(8, 8),
                          nn::LeakyReLU(nn::LeakyReLUOptions().negative_slope(0.1).inplace(inplace)),
                          nn::Linear(8, 8), nn::ELU(nn::ELUOptions().alpha(0.7).inplace(inplace)), nn::Linear(8, 1));
  };
  nn::Sequential in_place = build(true), out_of_place = build(false);
  {
    NoGradGuard no_grad;
    const auto from = out_of_place->parameters(), to = in_place->parameters();
    for (std::size_t i = 0; i < from.size(); ++i) to[i].copy_(from[i]);
  }
  const Tensor x = randn({16, 3});
  const Tensor loss = in_place->forward(x).pow(2).mean(), expected = out_of_place->forward(x).pow(2).mean();
  EXPECT_TRUE(same_values(loss, expected));
  loss.backward();
  expected.backward();
  const auto grads = in_place->parameters(), expected_grads = out_of_place->parameters();
  for (std::size_t i = 0; i < grads.size(); ++i) EXPECT_TRUE(same_values(grads[i].grad(), expected_grads[i].grad())) << i;
}

// The spellings of libtorch programs: ATen free functions as Functional steps with bound arguments.
TEST(ActivationModules, FreeFunctionsAsFunctionalSteps) {
  const Tensor x = randn({2, 3}) * 2.0;
  EXPECT_TRUE(same_values(nn::Functional(xgrad::leaky_relu, 0.2)(x), leaky_relu(x, 0.2)));
  EXPECT_TRUE(same_values(nn::Functional(xgrad::gelu, "tanh")(x), gelu(x, "tanh")));
  EXPECT_TRUE(same_values(nn::Functional(xgrad::silu)(x), silu(x)));
  EXPECT_TRUE(same_values(nn::Functional(xgrad::softplus, 2, 10)(x), softplus(x, 2, 10)));
  EXPECT_TRUE(same_values(nn::Functional(xgrad::elu, 0.5, 1, 1)(x), elu(x, 0.5)));
}

// ---- regression losses ------------------------------------------------------------------------------------

TEST(RegressionLossOptions, DefaultsAndConversionFromAReduction) {
  EXPECT_EQ(nn::L1LossOptions().reduction(), kMean);
  EXPECT_EQ(nn::SmoothL1LossOptions().reduction(), kMean);
  EXPECT_EQ(nn::SmoothL1LossOptions().beta(), 1.0);
  EXPECT_EQ(nn::HuberLossOptions().reduction(), kMean);
  EXPECT_EQ(nn::HuberLossOptions().delta(), 1.0);
  EXPECT_EQ(nn::L1LossOptions(kNone).reduction(), kNone);
  const nn::SmoothL1LossOptions smooth = nn::SmoothL1LossOptions(kSum).beta(0.5);
  EXPECT_EQ(smooth.reduction(), kSum);
  EXPECT_EQ(smooth.beta(), 0.5);
  const nn::HuberLossOptions huber = nn::HuberLossOptions().reduction(kNone).delta(0.25);
  EXPECT_EQ(huber.reduction(), kNone);
  EXPECT_EQ(huber.delta(), 0.25);
}

TEST(RegressionLossFunctional, UnpacksTheOptionsIntoTheOp) {
  const Tensor x = randn({4, 3}) * 2.0, y = randn({4, 3});
  EXPECT_TRUE(same_values(F::l1_loss(x, y), l1_loss(x, y)));
  EXPECT_TRUE(same_values(F::l1_loss(x, y, kNone), l1_loss(x, y, kNone)));
  EXPECT_TRUE(same_values(F::l1_loss(x, y, F::L1LossFuncOptions().reduction(kSum)), l1_loss(x, y, kSum)));
  EXPECT_TRUE(same_values(F::smooth_l1_loss(x, y), smooth_l1_loss(x, y)));
  // Python's F.smooth_l1_loss(x, y, beta=0.5): the options' beta is used (libtorch 1.13 ignores it).
  EXPECT_TRUE(same_values(F::smooth_l1_loss(x, y, F::SmoothL1LossFuncOptions().beta(0.5)),
                          smooth_l1_loss(x, y, kMean, 0.5)));
  EXPECT_FALSE(same_values(F::smooth_l1_loss(x, y, F::SmoothL1LossFuncOptions().beta(0.5)), smooth_l1_loss(x, y)));
  // libtorch's four-argument form: the explicit beta.
  EXPECT_TRUE(same_values(F::smooth_l1_loss(x, y, F::SmoothL1LossFuncOptions(kSum), 0.25),
                          smooth_l1_loss(x, y, kSum, 0.25)));
  EXPECT_TRUE(same_values(F::huber_loss(x, y), huber_loss(x, y)));
  EXPECT_TRUE(same_values(F::huber_loss(x, y, F::HuberLossFuncOptions().delta(0.5).reduction(kNone)),
                          huber_loss(x, y, kNone, 0.5)));
}

TEST(RegressionLossModules, ForwardIsTheFunctionalForm) {
  const Tensor x = randn({5}) * 2.0, y = randn({5});
  EXPECT_TRUE(same_values(nn::L1Loss()(x, y), l1_loss(x, y)));
  EXPECT_TRUE(same_values(nn::L1Loss(kSum)(x, y), l1_loss(x, y, kSum)));
  EXPECT_TRUE(same_values(nn::SmoothL1Loss(nn::SmoothL1LossOptions().reduction(kNone).beta(0.3))(x, y),
                          smooth_l1_loss(x, y, kNone, 0.3)));
  EXPECT_TRUE(same_values(nn::HuberLoss(nn::HuberLossOptions().delta(0.5))->forward(x, y), huber_loss(x, y, kMean, 0.5)));
  nn::HuberLoss criterion;
  criterion->options.reduction(kSum);
  EXPECT_TRUE(same_values(criterion(x, y), huber_loss(x, y, kSum)));
  EXPECT_EQ(printed(*nn::SmoothL1Loss()), "SmoothL1Loss()");
  EXPECT_EQ(printed(*nn::L1Loss()), "L1Loss()");
  EXPECT_EQ(printed(*nn::HuberLoss()), "HuberLoss()");
}

TEST(RegressionLossModules, ErrorsNameTheOp) {
  EXPECT_TRUE(throws_error_containing([] { nn::SmoothL1Loss(nn::SmoothL1LossOptions().beta(-1))(ones({2}), ones({2})); },
                                      {"smooth_l1_loss", "beta"}));
  EXPECT_TRUE(throws_error_containing([] { nn::HuberLoss(nn::HuberLossOptions().delta(0))(ones({2}), ones({2})); },
                                      {"huber_loss", "delta"}));
  EXPECT_TRUE(throws_error_containing([] { nn::L1Loss()(ones({2}), ones({2, 1})); }, {"l1_loss", "[2, 1]", "[2]"}));
}

}  // namespace
}  // namespace xgrad

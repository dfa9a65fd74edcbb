// LayerNorm and GroupNorm modules and F::layer_norm / F::group_norm: parameters, names and printing
// as libtorch's, PyTorch's values and every gradient with PyTorch's parameters loaded, gradcheck
// and double backward through the modules, and the constructor's errors.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "compare.hpp"
#include "golden.hpp"
#include "module_fixture.hpp"

namespace xgrad {
namespace {

namespace F = nn::functional;
using testing::all_close;
using testing::expect_module_matches;
using testing::fixture_inputs;
using testing::golden_cases;
using Inputs = std::vector<Tensor>;
using testing::Json;
using testing::leaf;
using testing::load_fixture_parameters;
using testing::passes_gradcheck;
using testing::passes_gradgradcheck;
using testing::printed;
using testing::throws_error_containing;

TEST(LayerNormModule, ParametersAndPrinting) {
  nn::LayerNorm ln(nn::LayerNormOptions({8}));
  EXPECT_EQ(ln->named_parameters().keys(), (std::vector<std::string>{"weight", "bias"}));
  EXPECT_TRUE(all_close(ln->weight, ones({8}), 0, 0));
  EXPECT_TRUE(all_close(ln->bias, zeros({8}), 0, 0));
  EXPECT_EQ(printed(*ln), "LayerNorm([8], elementwise_affine=true, eps=1e-05)");
  nn::LayerNorm plain(nn::LayerNormOptions({2, 3}).elementwise_affine(false).eps(1e-3));
  EXPECT_TRUE(plain->parameters().empty());
  EXPECT_EQ(printed(*plain), "LayerNorm([2, 3], elementwise_affine=false, eps=0.001)");
  const Tensor h = ln(randn({2, 5, 8}));
  EXPECT_TRUE(all_close(h.mean(-1), zeros({2, 5}), 0, 1e-5));
}

TEST(GroupNormModule, ParametersAndPrinting) {
  nn::GroupNorm gn(nn::GroupNormOptions(2, 6));
  EXPECT_EQ(gn->named_parameters().keys(), (std::vector<std::string>{"weight", "bias"}));
  EXPECT_EQ(gn->weight.sizes(), IntArrayRef({6}));
  EXPECT_EQ(printed(*gn), "GroupNorm(2, 6, eps=1e-05, affine=true)");
  EXPECT_TRUE(nn::GroupNorm(nn::GroupNormOptions(3, 3).affine(false))->parameters().empty());
  EXPECT_TRUE(throws_error_containing([] { nn::GroupNorm(nn::GroupNormOptions(4, 6)); },
                                      {"GroupNorm", "num_channels must be divisible by num_groups"}));
  EXPECT_TRUE(throws_error_containing([&] { gn(randn({2, 4, 3})); }, {"group_norm", "[2, 4, 3]"}));
}

TEST(NormalizationModules, MatchPyTorch) {
  for (const std::string fn : {"LayerNorm", "GroupNorm"}) {
    const std::vector<Json> cases = golden_cases("attention.json", fn);
    ASSERT_FALSE(cases.empty());
    for (const Json& c : cases) {
      SCOPED_TRACE(c.at("name").get<std::string>());
      const Json& config = c.at("config");
      std::shared_ptr<nn::Module> module;
      std::function<Tensor(const Tensor&)> forward;
      if (fn == "LayerNorm") {
        nn::LayerNorm ln(nn::LayerNormOptions(config.at("normalized_shape").get<std::vector<std::int64_t>>())
                             .eps(config.at("eps")));
        module = ln.ptr();
        forward = [ln](const Tensor& x) mutable { return ln(x); };
      } else {
        nn::GroupNorm gn(nn::GroupNormOptions(config.at("num_groups"), config.at("num_channels")));
        module = gn.ptr();
        forward = [gn](const Tensor& x) mutable { return gn(x); };
      }
      ASSERT_TRUE(load_fixture_parameters(*module, c));
      const auto inputs = fixture_inputs(c);
      expect_module_matches(*module, c, {forward(inputs.at("input"))}, inputs);
    }
  }
}

TEST(NormalizationModules, GradcheckAndDoubleBackward) {
  nn::LayerNorm ln(nn::LayerNormOptions({4}));
  ln->to(kFloat64);
  {
    NoGradGuard no_grad;
    ln->weight.copy_(randn({4}, kFloat64));
    ln->bias.copy_(randn({4}, kFloat64));
  }
  const auto layer = [&](const Inputs& in) { return ln(in[0]); };
  EXPECT_TRUE(passes_gradcheck(layer, {leaf({3, 4})}));
  EXPECT_TRUE(passes_gradgradcheck(layer, {leaf({3, 4})}));
  const auto functional = [](const Inputs& in) {
    return F::layer_norm(in[0], F::LayerNormFuncOptions({4}).weight(in[1]).bias(in[2]).eps(1e-3));
  };
  EXPECT_TRUE(passes_gradcheck(functional, {leaf({2, 4}), leaf({4}), leaf({4})}));
  EXPECT_TRUE(passes_gradgradcheck(functional, {leaf({2, 4}), leaf({4}), leaf({4})}));
  const auto grouped = [](const Inputs& in) {
    return F::group_norm(in[0], F::GroupNormFuncOptions(2).weight(in[1]).bias(in[2]));
  };
  EXPECT_TRUE(passes_gradcheck(grouped, {leaf({2, 4, 3}), leaf({4}), leaf({4})}));
  EXPECT_TRUE(passes_gradgradcheck(grouped, {leaf({2, 4, 3}), leaf({4}), leaf({4})}));
}

}  // namespace
}  // namespace xgrad

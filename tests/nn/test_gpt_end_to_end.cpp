// The end-to-end check of issue "sequence models", in the manner of llm.c's test_gpt2: examples/char_gpt's
// model with weights written by PyTorch (tests/golden/make_golden_gpt.py) must reproduce PyTorch's
// logits, loss, every parameter's gradient, and the losses of ten AdamW steps with nanoGPT's
// parameter groups and gradient clipping.
#include <gtest/gtest.h>

#include <cmath>
#include <string>

#include <xgrad/xgrad.hpp>

#include "compare.hpp"
#include "golden.hpp"
#include "model.hpp"

namespace xgrad::testing {
namespace {

constexpr double kTolerance = 1e-4;  // absolute, float32

char_gpt::GPTConfig fixture_config() {
  const Json& config = golden_file("gpt.json")["config"];
  char_gpt::GPTConfig c;
  c.vocab_size = config["vocab_size"];
  c.block_size = config["block_size"];
  c.n_layer = config["n_layer"];
  c.n_head = config["n_head"];
  c.n_embd = config["n_embd"];
  return c;
}

double largest_difference(const Tensor& a, const Tensor& b) { return (a - b).abs().max().item<double>(); }

class GptEndToEnd : public ::testing::Test {
 protected:
  GptEndToEnd() : model(fixture_config()) { xgrad::load(*model, golden_path("gpt/weights.npz")); }

  const Json& fixture = golden_file("gpt.json");
  char_gpt::GPT model;
  Tensor idx = golden_tensor(fixture["idx"]);
  Tensor targets = golden_tensor(fixture["targets"]);
};

TEST_F(GptEndToEnd, LogitsAndLossMatchPyTorch) {
  const Tensor logits = model->forward(idx);
  EXPECT_EQ(logits.sizes(), golden_tensor(fixture["logits"]).sizes());
  EXPECT_LT(largest_difference(logits, golden_tensor(fixture["logits"])), kTolerance);
  EXPECT_NEAR(model->loss(logits, targets).item<double>(), fixture["loss"].get<double>(), kTolerance);
}

TEST_F(GptEndToEnd, EveryParameterGradientMatchesPyTorch) {
  model->loss(model->forward(idx), targets).backward();
  // grads.npz holds each gradient under its parameter's name: loaded into a second model, its
  // parameters are PyTorch's gradients.
  char_gpt::GPT expected(fixture_config());
  xgrad::load(*expected, golden_path("gpt/grads.npz"));
  const auto expected_grads = expected->named_parameters();
  int compared = 0;
  for (const auto& named : model->named_parameters()) {
    const Tensor& grad = named.value().grad();
    ASSERT_TRUE(grad.defined()) << named.key();
    EXPECT_LT(largest_difference(grad, expected_grads[named.key()]), kTolerance) << named.key();
    ++compared;
  }
  EXPECT_EQ(compared, static_cast<int>(expected_grads.size()));
}

TEST_F(GptEndToEnd, TenAdamWStepsMatchPyTorchLosses) {
  const Json& adamw = fixture["adamw"];
  auto [decay, no_decay] = model->decay_groups();
  const auto options = [&](double weight_decay) {
    return std::make_unique<optim::AdamWOptions>(optim::AdamWOptions(adamw["lr"].get<double>())
                                                     .betas({adamw["betas"][0], adamw["betas"][1]})
                                                     .eps(adamw["eps"].get<double>())
                                                     .weight_decay(weight_decay));
  };
  std::vector<optim::OptimizerParamGroup> groups;
  groups.emplace_back(decay, options(adamw["weight_decay"].get<double>()));
  groups.emplace_back(no_decay, options(0.0));
  optim::AdamW optimizer(std::move(groups));

  const Json& expected = fixture["step_losses"];
  for (std::size_t step = 0; step < expected.size(); ++step) {
    optimizer.zero_grad();
    const Tensor loss = model->loss(model->forward(idx), targets);
    loss.backward();
    nn::utils::clip_grad_norm_(model->parameters(), fixture["clip"].get<double>());
    optimizer.step();
    EXPECT_NEAR(loss.item<double>(), expected[step].get<double>(), kTolerance) << "step " << step;
  }
}

}  // namespace
}  // namespace xgrad::testing

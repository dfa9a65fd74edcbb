#pragma once
// tests/golden/optim.json (format: tests/golden/README.md): PyTorch's optimiser trajectories on a
// tiny MLP, replayed with xgrad's optimisers.
#include <memory>
#include <string>
#include <vector>

#include "golden.hpp"

namespace xgrad::testing {

// The fixture's model, Linear(2,4)-ReLU-Linear(4,3), written with plain tensors: params holds
// "0.weight", "0.bias", "2.weight", "2.bias" (PyTorch's names, in its order) as leaves in `dtype`.
struct GoldenMlp {
  GoldenMlp(const Json& fixture, Dtype dtype);
  // cross_entropy(model(x), y)
  Tensor loss() const;
  // The parameter PyTorch names `name`.
  const Tensor& param(const std::string& name) const;

  std::vector<std::string> names{"0.weight", "0.bias", "2.weight", "2.bias"};
  std::vector<Tensor> params;
  Tensor x, y;
};

// Options for the optimiser named `optimizer` ("SGD", "Adam", "AdamW", "RMSprop", "Adagrad") from a
// fixture's options object, which lists every field.
std::unique_ptr<optim::OptimizerOptions> golden_options(const std::string& optimizer, const Json& options);
// That optimiser over `groups`, with defaults from `options`.
std::unique_ptr<optim::Optimizer> make_golden_optimizer(const std::string& optimizer,
                                                        std::vector<optim::OptimizerParamGroup> groups,
                                                        const Json& options);

// Whether every state tensor of `state` and its step count are PyTorch's (a fixture "state" entry):
// a slot PyTorch has no key for must be undefined, and SGD, which has no "step", must count none.
::testing::AssertionResult matches_golden_state(const optim::ParamState& state, const Json& expected);

// Replays every run of optim.json's "runs" whose optimiser is `optimizer`: after each step the loss
// (before the step) and the parameters must match, and after the last step the state. Returns the
// number of runs replayed.
std::size_t expect_golden_runs(const std::string& optimizer);

// A parameter or state tensor after some steps against PyTorch's: matches_golden in float64 (1e-9
// relative); in float32, 1e-4 of the tensor's largest magnitude. float32 trajectories drift apart
// step by step from last-bit differences (PyTorch's kernels fuse multiply-adds, and its forward and
// backward sum in other orders); the worst run, centered RMSprop with momentum and weight decay,
// grows from 8e-8 after one step to 2e-5 after six, and the same rule replayed in numpy float32
// from PyTorch's own gradients drifts likewise (1e-6). float64 shows the arithmetic is PyTorch's.
::testing::AssertionResult matches_trajectory(const Tensor& actual, const Tensor& expected);

// The loss tolerance: 1e-9 relative in float64, 1e-5 in float32.
double loss_tolerance(const Tensor& like, double expected);

}  // namespace xgrad::testing

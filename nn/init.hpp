#pragma once
// Parameter initialisers, as torch::nn::init: each overwrites a tensor's values in place, outside the
// graph, drawing from the global generator (manual_seed). They return the tensor for chaining.
#include "../core/tensor.hpp"

namespace xgrad::nn::init {

// Uniform samples in [low, high).
Tensor uniform_(Tensor tensor, double low = 0.0, double high = 1.0);
// Normal samples with the given mean and standard deviation.
Tensor normal_(Tensor tensor, double mean = 0.0, double std = 1.0);
// Every element set to value.
Tensor constant_(Tensor tensor, double value);
Tensor zeros_(Tensor tensor);
Tensor ones_(Tensor tensor);

// For a weight of shape [out, in, ...]: fan_in = in * (product of the rest), fan_out = out * (same).
// Glorot: uniform in +-gain * sqrt(6 / (fan_in + fan_out)), keeps activations' variance in both
// directions for tanh-like layers.
Tensor xavier_uniform_(Tensor tensor, double gain = 1.0);
// He: uniform in +-sqrt(6 / ((1 + a^2) fan_in)) for a leaky ReLU of slope a (a = 0 for ReLU).
// torch.nn.Linear uses a = sqrt(5), which works out to +-1 / sqrt(fan_in).
Tensor kaiming_uniform_(Tensor tensor, double a = 0.0);

}  // namespace xgrad::nn::init

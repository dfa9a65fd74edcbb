#pragma once
// Parameter initialisers, as torch::nn::init: each overwrites a tensor's values in place, outside the
// graph (as under a NoGradGuard, so a parameter that requires grad may be passed), drawing from the
// global generator (manual_seed). The tensor's version is bumped like any in-place op's. They
// return the tensor for chaining. Signatures and defaults are libtorch's.
#include <cstdint>
#include <tuple>
#include <variant>

#include <xgrad/core/enum.hpp>
#include <xgrad/core/scalar.hpp>
#include <xgrad/core/tensor.hpp>

namespace xgrad::nn::init {

// The nonlinearity a layer feeds, for calculate_gain and the kaiming initialisers.
using NonlinearityType =
    std::variant<enumtype::kLinear, enumtype::kConv1D, enumtype::kConv2D, enumtype::kConv3D,
                 enumtype::kConvTranspose1D, enumtype::kConvTranspose2D, enumtype::kConvTranspose3D,
                 enumtype::kSigmoid, enumtype::kTanh, enumtype::kReLU, enumtype::kLeakyReLU>;
// Which fan the kaiming initialisers preserve the variance of: kFanIn the forward pass's
// activations, kFanOut the backward pass's gradients.
using FanModeType = std::variant<enumtype::kFanIn, enumtype::kFanOut>;

// The factor by which the nonlinearity shrinks the standard deviation of its input, which an
// initialiser undoes: 1 for kLinear, the convolutions and kSigmoid; 5/3 for kTanh; sqrt(2) for
// kReLU; sqrt(2 / (1 + param^2)) for kLeakyReLU with negative slope param.
double calculate_gain(NonlinearityType nonlinearity, double param = 0.01);

// For a weight of shape [out, in, k1, k2, ...]: fan_in = in * k1 * k2 ..., fan_out = out * k1 * k2 ...
// (the inputs and outputs each output and input element is connected to). An Error for fewer than
// 2 dimensions.
std::tuple<std::int64_t, std::int64_t> _calculate_fan_in_and_fan_out(const Tensor& tensor);

// Uniform samples in [low, high).
Tensor uniform_(Tensor tensor, double low = 0, double high = 1);
// Normal samples with the given mean and standard deviation.
Tensor normal_(Tensor tensor, double mean = 0, double std = 1);
// Every element set to value.
Tensor constant_(Tensor tensor, Scalar value);
Tensor zeros_(Tensor tensor);
Tensor ones_(Tensor tensor);
// The identity matrix (2-D tensors only; a non-square one gets ones on its main diagonal).
Tensor eye_(Tensor matrix);
// The identity of a convolution: weight [out, in, k...] (3 to 5 dimensions) zero except a 1 at the
// kernel's centre for output channel i and input channel i, i < min(out, in), so the layer passes
// its first channels through unchanged.
Tensor dirac_(Tensor tensor);

// Glorot: keeps activations' and gradients' variance for tanh-like layers,
// std = gain sqrt(2 / (fan_in + fan_out)); uniform in +-sqrt(3) std, or normal with that std.
Tensor xavier_uniform_(Tensor tensor, double gain = 1.0);
Tensor xavier_normal_(Tensor tensor, double gain = 1.0);

// He: std = calculate_gain(nonlinearity, a) / sqrt(fan), fan chosen by mode; uniform in
// +-sqrt(3) std, or normal with that std. With the defaults (a leaky ReLU of slope a = 0, i.e. ReLU)
// the uniform bound is sqrt(6 / fan_in); torch.nn.Linear's a = sqrt(5) gives 1 / sqrt(fan_in).
Tensor kaiming_uniform_(Tensor tensor, double a = 0, FanModeType mode = kFanIn,
                        NonlinearityType nonlinearity = kLeakyReLU);
Tensor kaiming_normal_(Tensor tensor, double a = 0, FanModeType mode = kFanIn,
                       NonlinearityType nonlinearity = kLeakyReLU);

}  // namespace xgrad::nn::init

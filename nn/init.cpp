#include <xgrad/nn/init.hpp>

#include <algorithm>
#include <cmath>

#include <xgrad/core/factory.hpp>
#include <xgrad/core/grad_mode.hpp>
#include <xgrad/core/tensor_impl.hpp>

namespace xgrad::nn::init {

namespace {

void check_floating(const Tensor& tensor, const char* op) {
  check(tensor.defined(), op, ": called on an undefined tensor");
  check(is_floating(tensor.dtype()), op, ": expected a float32 or float64 tensor, got ", dtype_name(tensor.dtype()));
}

struct Fans {
  double in;
  double out;
};

Fans fans_of(const Tensor& tensor, const char* op) {
  check(tensor.dim() >= 2, op, ": Fan in and fan out can not be computed for tensor with fewer than 2 dimensions, ",
        "got shape ", shape_str(tensor.shape()));
  const Shape shape = tensor.shape();
  // The product of the kernel dimensions, without dividing numel() by the first two sizes (which may be 0).
  double receptive_field = 1.0;
  for (std::size_t d = 2; d < shape.size(); ++d) receptive_field *= static_cast<double>(shape[d]);
  return {static_cast<double>(shape[1]) * receptive_field, static_cast<double>(shape[0]) * receptive_field};
}

// The standard deviation the kaiming initialisers aim for.
double kaiming_std(const Tensor& tensor, double a, const FanModeType& mode, const NonlinearityType& nonlinearity,
                   const char* op) {
  const Fans fans = fans_of(tensor, op);
  const double fan = std::holds_alternative<enumtype::kFanIn>(mode) ? fans.in : fans.out;
  return calculate_gain(nonlinearity, a) / std::sqrt(fan);
}

double xavier_std(const Tensor& tensor, double gain, const char* op) {
  const Fans fans = fans_of(tensor, op);
  return gain * std::sqrt(2.0 / (fans.in + fans.out));
}

}  // namespace

double calculate_gain(NonlinearityType nonlinearity, double param) {
  if (std::holds_alternative<enumtype::kTanh>(nonlinearity)) return 5.0 / 3.0;
  if (std::holds_alternative<enumtype::kReLU>(nonlinearity)) return std::sqrt(2.0);
  if (std::holds_alternative<enumtype::kLeakyReLU>(nonlinearity)) return std::sqrt(2.0 / (1.0 + param * param));
  return 1.0;  // kLinear, the convolutions and kSigmoid
}

std::tuple<std::int64_t, std::int64_t> _calculate_fan_in_and_fan_out(const Tensor& tensor) {
  check(tensor.defined(), "_calculate_fan_in_and_fan_out: called on an undefined tensor");
  const Fans fans = fans_of(tensor, "_calculate_fan_in_and_fan_out");
  return {static_cast<std::int64_t>(fans.in), static_cast<std::int64_t>(fans.out)};
}

// Each initialiser writes through the tensor's own in-place op, with recording off as in libtorch,
// so a parameter that requires grad may be initialised and its version counter moves on.

Tensor uniform_(Tensor tensor, double low, double high) {
  check_floating(tensor, "uniform_");
  check(low <= high, "uniform_: low ", low, " is greater than high ", high);
  NoGradGuard no_grad;
  tensor.uniform_(low, high);
  return tensor;
}

Tensor normal_(Tensor tensor, double mean, double std) {
  check_floating(tensor, "normal_");
  check(std >= 0.0, "normal_: std must be non-negative, got ", std);
  NoGradGuard no_grad;
  tensor.normal_(mean, std);
  return tensor;
}

Tensor constant_(Tensor tensor, Scalar value) {
  check_floating(tensor, "constant_");
  NoGradGuard no_grad;
  tensor.fill_(value);
  return tensor;
}

Tensor zeros_(Tensor tensor) { return constant_(std::move(tensor), 0.0); }
Tensor ones_(Tensor tensor) { return constant_(std::move(tensor), 1.0); }

Tensor eye_(Tensor matrix) {
  check_floating(matrix, "eye_");
  check(matrix.dim() == 2, "eye_: Only tensors with 2 dimensions are supported, got shape ", shape_str(matrix.shape()));
  NoGradGuard no_grad;
  matrix.copy_(eye(matrix.size(0), matrix.size(1), matrix.dtype()));
  return matrix;
}

Tensor dirac_(Tensor tensor) {
  check_floating(tensor, "dirac_");
  const std::int64_t dims = tensor.dim();
  check(dims >= 3 && dims <= 5, "dirac_: Only tensors with 3, 4, or 5 dimensions are supported, got shape ",
        shape_str(tensor.shape()));
  const Shape shape = tensor.shape();
  Tensor values = zeros(shape, tensor.dtype());
  // Row-major offset of [c, c, k1 / 2, k2 / 2, ...]: the centre of the kernel joining channel c to itself.
  std::int64_t kernel_size = 1, centre = 0;
  for (std::int64_t d = dims - 1; d >= 2; --d) {
    centre += (shape[d] / 2) * kernel_size;
    kernel_size *= shape[d];
  }
  const std::int64_t channels = std::min(shape[0], shape[1]);
  visit_floating(tensor.dtype(), "dirac_", [&](auto tag) {
    using T = decltype(tag);
    T* data = values.mutable_data<T>();
    for (std::int64_t c = 0; c < channels; ++c) data[(c * shape[1] + c) * kernel_size + centre] = T(1);
  });
  NoGradGuard no_grad;
  tensor.copy_(values);
  return tensor;
}

Tensor xavier_uniform_(Tensor tensor, double gain) {
  check_floating(tensor, "xavier_uniform_");
  const double bound = std::sqrt(3.0) * xavier_std(tensor, gain, "xavier_uniform_");
  if (tensor.numel() == 0) return tensor;  // fans of 0: nothing to draw (PyTorch warns, then does nothing)
  return uniform_(std::move(tensor), -bound, bound);
}

Tensor xavier_normal_(Tensor tensor, double gain) {
  check_floating(tensor, "xavier_normal_");
  const double deviation = xavier_std(tensor, gain, "xavier_normal_");
  if (tensor.numel() == 0) return tensor;
  return normal_(std::move(tensor), 0.0, deviation);
}

Tensor kaiming_uniform_(Tensor tensor, double a, FanModeType mode, NonlinearityType nonlinearity) {
  check_floating(tensor, "kaiming_uniform_");
  const double bound = std::sqrt(3.0) * kaiming_std(tensor, a, mode, nonlinearity, "kaiming_uniform_");
  if (tensor.numel() == 0) return tensor;
  return uniform_(std::move(tensor), -bound, bound);
}

Tensor kaiming_normal_(Tensor tensor, double a, FanModeType mode, NonlinearityType nonlinearity) {
  check_floating(tensor, "kaiming_normal_");
  const double deviation = kaiming_std(tensor, a, mode, nonlinearity, "kaiming_normal_");
  if (tensor.numel() == 0) return tensor;
  return normal_(std::move(tensor), 0.0, deviation);
}

}  // namespace xgrad::nn::init

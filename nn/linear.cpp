#include "nn/linear.hpp"

#include <cmath>
#include <ostream>

#include "core/error.hpp"
#include "core/factory.hpp"
#include "nn/init.hpp"
#include "ops/linalg.hpp"

namespace xgrad::nn {

Linear::Linear(std::int64_t in_features, std::int64_t out_features)
    : Linear(LinearOptions(in_features, out_features)) {}

Linear::Linear(const LinearOptions& options) : options(options) {
  check(options.in_features() > 0 && options.out_features() > 0,
        "Linear: in_features and out_features must be positive, got in_features=", options.in_features(),
        " and out_features=", options.out_features());
  check(is_floating(options.dtype()), "Linear: parameters must be float32 or float64, got ",
        dtype_name(options.dtype()));
  const auto in = static_cast<std::size_t>(options.in_features());
  const auto out = static_cast<std::size_t>(options.out_features());
  weight = register_parameter("weight", zeros({out, in}, options.dtype()));
  if (options.bias()) bias = register_parameter("bias", zeros({out}, options.dtype()));
  reset_parameters();
}

void Linear::reset_parameters() {
  // libtorch: kaiming_uniform_(weight, a = sqrt(5)) and the bias uniform in the same bound, which
  // both come to +-1/sqrt(in_features): small enough that a deep stack starts near linear.
  const double bound = 1.0 / std::sqrt(static_cast<double>(options.in_features()));
  init::uniform_(weight, -bound, bound);
  if (bias.defined()) init::uniform_(bias, -bound, bound);
}

Tensor Linear::forward(const Tensor& input) { return linear(input, weight, bias); }

void Linear::pretty_print(std::ostream& out) const {
  out << "Linear(in_features=" << options.in_features() << ", out_features=" << options.out_features()
      << ", bias=" << (options.bias() ? "true" : "false") << ')';
}

}  // namespace xgrad::nn

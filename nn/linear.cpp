#include <xgrad/nn/linear.hpp>

#include <cmath>
#include <ostream>

#include <xgrad/core/error.hpp>
#include <xgrad/core/factory.hpp>
#include <xgrad/nn/init.hpp>
#include <xgrad/ops/linalg.hpp>
#include <xgrad/ops/shape.hpp>

namespace xgrad::nn {

LinearImpl::LinearImpl(const LinearOptions& options) : options(options) {
  check(options.in_features() > 0 && options.out_features() > 0,
        "Linear: in_features and out_features must be positive, got in_features=", options.in_features(),
        " and out_features=", options.out_features());
  check(is_floating(options.dtype()), "Linear: parameters must be float32 or float64, got ",
        dtype_name(options.dtype()));
  weight = register_parameter("weight", zeros({options.out_features(), options.in_features()}, options.dtype()));
  // Without a bias the name is still taken, by an undefined tensor, as in libtorch.
  bias = options.bias() ? register_parameter("bias", zeros({options.out_features()}, options.dtype()))
                        : register_parameter("bias", Tensor(), false);
  reset_parameters();
}

void LinearImpl::reset_parameters() {
  // libtorch: kaiming_uniform_(weight, a = sqrt(5)) and the bias uniform in the same bound, which
  // both come to +-1/sqrt(in_features): small enough that a deep stack starts near linear.
  const double bound = 1.0 / std::sqrt(static_cast<double>(options.in_features()));
  init::uniform_(weight, -bound, bound);
  if (bias.defined()) init::uniform_(bias, -bound, bound);
}

Tensor LinearImpl::forward(const Tensor& input) { return linear(input, weight, bias); }

void LinearImpl::pretty_print(std::ostream& out) const {
  out << "Linear(in_features=" << options.in_features() << ", out_features=" << options.out_features()
      << ", bias=" << (options.bias() ? "true" : "false") << ')';
}

Tensor IdentityImpl::forward(const Tensor& input) { return input; }

Tensor FlattenImpl::forward(const Tensor& input) { return flatten(input, options.start_dim(), options.end_dim()); }

void FlattenImpl::pretty_print(std::ostream& out) const {
  out << "Flatten(start_dim=" << options.start_dim() << ", end_dim=" << options.end_dim() << ')';
}

}  // namespace xgrad::nn

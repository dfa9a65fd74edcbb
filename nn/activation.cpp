#include "nn/activation.hpp"

#include <ostream>

#include "core/error.hpp"
#include "nn/functional_activation.hpp"

#include "ops/elementwise.hpp"
#include "ops/softmax.hpp"

namespace xgrad::nn {

Tensor ReLUImpl::forward(const Tensor& input) { return relu(input); }
Tensor TanhImpl::forward(const Tensor& input) { return tanh(input); }
Tensor SigmoidImpl::forward(const Tensor& input) { return sigmoid(input); }

Tensor SoftmaxImpl::forward(const Tensor& input) { return softmax(input, options.dim()); }
void SoftmaxImpl::pretty_print(std::ostream& out) const { out << "Softmax(dim=" << options.dim() << ')'; }

Tensor LogSoftmaxImpl::forward(const Tensor& input) { return log_softmax(input, options.dim()); }
void LogSoftmaxImpl::pretty_print(std::ostream& out) const { out << "LogSoftmax(dim=" << options.dim() << ')'; }

namespace F = functional;

namespace {

// libtorch's pretty_print shows inplace only when it is true; xgrad rejects true when the module is
// built (and F:: rejects it when called, should the option be changed later).
void reject_inplace(bool inplace, const char* module) {
  check(!inplace, module, ": inplace=true is not supported (xgrad computes activations out of place)");
}

}  // namespace

LeakyReLUImpl::LeakyReLUImpl(const LeakyReLUOptions& options) : options(options) {
  reject_inplace(options.inplace(), "LeakyReLU");
}
Tensor LeakyReLUImpl::forward(const Tensor& input) { return F::leaky_relu(input, options); }
void LeakyReLUImpl::pretty_print(std::ostream& out) const {
  out << "LeakyReLU(negative_slope=" << options.negative_slope() << ')';
}

GELUImpl::GELUImpl(GELUOptions options) : options(std::move(options)) {
  const std::string& approximate = this->options.approximate();
  check(approximate == "none" || approximate == "tanh", "GELU: approximate must be either none or tanh, got \"",
        approximate, '"');
}
Tensor GELUImpl::forward(const Tensor& input) { return F::gelu(input, options); }
// libtorch 1.13 prints GELU() whatever the approximation; Python shows approximate='tanh'. Here the
// approximation is shown when it is not the default, in libtorch's key=value style.
void GELUImpl::pretty_print(std::ostream& out) const {
  out << "GELU(";
  if (options.approximate() != "none") out << "approximate=" << options.approximate();
  out << ')';
}

ELUImpl::ELUImpl(const ELUOptions& options) : options(options) { reject_inplace(options.inplace(), "ELU"); }
Tensor ELUImpl::forward(const Tensor& input) { return F::elu(input, options); }
void ELUImpl::pretty_print(std::ostream& out) const { out << "ELU(alpha=" << options.alpha() << ')'; }

Tensor SiLUImpl::forward(const Tensor& input) { return F::silu(input); }

Tensor SoftplusImpl::forward(const Tensor& input) { return F::softplus(input, options); }
void SoftplusImpl::pretty_print(std::ostream& out) const {
  out << "Softplus(beta=" << options.beta() << ", threshold=" << options.threshold() << ')';
}

}  // namespace xgrad::nn

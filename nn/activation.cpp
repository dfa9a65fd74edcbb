#include <xgrad/nn/activation.hpp>

#include <ostream>

#include <xgrad/core/error.hpp>
#include <xgrad/nn/functional_activation.hpp>

#include <xgrad/ops/elementwise.hpp>
#include <xgrad/ops/softmax.hpp>

namespace xgrad::nn {

namespace F = functional;

Tensor ReLUImpl::forward(const Tensor& input) { return F::relu(input, options); }
Tensor TanhImpl::forward(const Tensor& input) { return tanh(input); }
Tensor SigmoidImpl::forward(const Tensor& input) { return sigmoid(input); }

Tensor SoftmaxImpl::forward(const Tensor& input) { return softmax(input, options.dim()); }
void SoftmaxImpl::pretty_print(std::ostream& out) const { out << "Softmax(dim=" << options.dim() << ')'; }

Tensor LogSoftmaxImpl::forward(const Tensor& input) { return log_softmax(input, options.dim()); }
void LogSoftmaxImpl::pretty_print(std::ostream& out) const { out << "LogSoftmax(dim=" << options.dim() << ')'; }

namespace {

// libtorch's pretty_print shows inplace only when it is true, after the other options.
void print_inplace(std::ostream& out, bool inplace, const char* separator) {
  if (inplace) out << separator << "inplace=true";
}

}  // namespace

void ReLUImpl::pretty_print(std::ostream& out) const {
  out << "ReLU(";
  print_inplace(out, options.inplace(), "");
  out << ')';
}

LeakyReLUImpl::LeakyReLUImpl(const LeakyReLUOptions& options) : options(options) {}
Tensor LeakyReLUImpl::forward(const Tensor& input) { return F::leaky_relu(input, options); }
void LeakyReLUImpl::pretty_print(std::ostream& out) const {
  out << "LeakyReLU(negative_slope=" << options.negative_slope();
  print_inplace(out, options.inplace(), ", ");
  out << ')';
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

ELUImpl::ELUImpl(const ELUOptions& options) : options(options) {}
Tensor ELUImpl::forward(const Tensor& input) { return F::elu(input, options); }
void ELUImpl::pretty_print(std::ostream& out) const {
  out << "ELU(alpha=" << options.alpha();
  print_inplace(out, options.inplace(), ", ");
  out << ')';
}

Tensor SiLUImpl::forward(const Tensor& input) { return F::silu(input); }

Tensor SoftplusImpl::forward(const Tensor& input) { return F::softplus(input, options); }
void SoftplusImpl::pretty_print(std::ostream& out) const {
  out << "Softplus(beta=" << options.beta() << ", threshold=" << options.threshold() << ')';
}

}  // namespace xgrad::nn

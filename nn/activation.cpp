#include "nn/activation.hpp"

#include <ostream>

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

}  // namespace xgrad::nn

#include "nn/activation.hpp"

#include <ostream>

#include "ops/elementwise.hpp"
#include "ops/softmax.hpp"

namespace xgrad::nn {

Tensor ReLU::forward(const Tensor& input) { return relu(input); }
Tensor Tanh::forward(const Tensor& input) { return tanh(input); }
Tensor Sigmoid::forward(const Tensor& input) { return sigmoid(input); }

Tensor Softmax::forward(const Tensor& input) { return softmax(input, options.dim()); }
void Softmax::pretty_print(std::ostream& out) const { out << "Softmax(dim=" << options.dim() << ')'; }

Tensor LogSoftmax::forward(const Tensor& input) { return log_softmax(input, options.dim()); }
void LogSoftmax::pretty_print(std::ostream& out) const { out << "LogSoftmax(dim=" << options.dim() << ')'; }

}  // namespace xgrad::nn

// The Tensor methods of libtorch's spelling (x.sum(), x.view({-1, 4}), x.add_(y)) for the ops of
// elementwise, reduce, linalg, shape and softmax. Each forwards to the free function that holds the
// op's forward and derivative, so there is one implementation whichever spelling a program uses.
// Methods of the other op families sit at the end of their own .cpp files.
#include <xgrad/core/tensor.hpp>

#include <xgrad/core/error.hpp>
#include <xgrad/ops/elementwise.hpp>
#include <xgrad/ops/linalg.hpp>
#include <xgrad/ops/reduce.hpp>
#include <xgrad/ops/shape.hpp>
#include <xgrad/ops/softmax.hpp>

namespace xgrad {

Tensor Tensor::to(Dtype dtype) const { return to_dtype(*this, dtype); }
Tensor Tensor::to(const TensorOptions& options) const {
  check_cpu(options.device(), "to");
  // As libtorch, which has no meaning for it yet: use requires_grad_() on the result instead.
  check(!options.requires_grad(), "to: Operators taking TensorOptions cannot take a TensorOptions with "
        "options.requires_grad set as true. This isn't implemented yet. (call requires_grad_() on the result)");
  return options.has_dtype() ? to_dtype(*this, options.dtype()) : *this;
}
Tensor Tensor::to(Device device) const {
  check_cpu(device, "to");
  return *this;
}

Tensor Tensor::add(const Tensor& other, const Scalar& alpha) const {
  return alpha.toDouble() == 1.0 ? *this + other : *this + other * alpha.toDouble();
}
Tensor Tensor::add(const Scalar& other, const Scalar& alpha) const {
  return *this + other.toDouble() * alpha.toDouble();
}
Tensor Tensor::sub(const Tensor& other, const Scalar& alpha) const {
  return alpha.toDouble() == 1.0 ? *this - other : *this - other * alpha.toDouble();
}
Tensor Tensor::sub(const Scalar& other, const Scalar& alpha) const {
  return *this - other.toDouble() * alpha.toDouble();
}
Tensor Tensor::mul(const Tensor& other) const { return *this * other; }
Tensor Tensor::mul(const Scalar& other) const { return *this * other.toDouble(); }
Tensor Tensor::div(const Tensor& other) const { return *this / other; }
Tensor Tensor::div(const Scalar& other) const { return *this / other.toDouble(); }
Tensor Tensor::neg() const { return -*this; }
Tensor Tensor::pow(const Scalar& exponent) const { return xgrad::pow(*this, exponent.toDouble()); }
Tensor Tensor::exp() const { return xgrad::exp(*this); }
Tensor Tensor::log() const { return xgrad::log(*this); }
Tensor Tensor::log1p() const { return xgrad::log1p(*this); }
Tensor Tensor::sqrt() const { return xgrad::sqrt(*this); }
Tensor Tensor::abs() const { return xgrad::abs(*this); }
Tensor Tensor::sign() const { return xgrad::sign(*this); }
Tensor Tensor::sgn() const { return xgrad::sgn(*this); }
Tensor Tensor::tanh() const { return xgrad::tanh(*this); }
Tensor Tensor::sigmoid() const { return xgrad::sigmoid(*this); }
Tensor Tensor::relu() const { return xgrad::relu(*this); }

Tensor Tensor::sum() const { return xgrad::sum(*this); }
Tensor Tensor::sum(std::int64_t dim, bool keepdim) const { return xgrad::sum(*this, dim, keepdim); }
Tensor Tensor::mean() const { return xgrad::mean(*this); }
Tensor Tensor::mean(std::int64_t dim, bool keepdim) const { return xgrad::mean(*this, dim, keepdim); }
Tensor Tensor::logsumexp(std::int64_t dim, bool keepdim) const { return xgrad::logsumexp(*this, dim, keepdim); }
Tensor Tensor::softmax(std::int64_t dim) const { return xgrad::softmax(*this, dim); }
Tensor Tensor::log_softmax(std::int64_t dim) const { return xgrad::log_softmax(*this, dim); }
Tensor Tensor::argmax(std::optional<std::int64_t> dim, bool keepdim) const { return xgrad::argmax(*this, dim, keepdim); }

Tensor Tensor::matmul(const Tensor& other) const { return xgrad::matmul(*this, other); }
Tensor Tensor::mm(const Tensor& other) const { return xgrad::mm(*this, other); }
Tensor Tensor::t() const { return xgrad::t(*this); }
Tensor Tensor::transpose(std::int64_t dim0, std::int64_t dim1) const { return xgrad::transpose(*this, dim0, dim1); }

Tensor Tensor::reshape(IntArrayRef shape) const { return xgrad::reshape(*this, shape); }
Tensor Tensor::view(IntArrayRef shape) const { return xgrad::view(*this, shape); }
Tensor Tensor::flatten(std::int64_t start_dim, std::int64_t end_dim) const {
  return xgrad::flatten(*this, start_dim, end_dim);
}
Tensor Tensor::unsqueeze(std::int64_t dim) const { return xgrad::unsqueeze(*this, dim); }
Tensor Tensor::squeeze() const { return xgrad::squeeze(*this); }
Tensor Tensor::squeeze(std::int64_t dim) const { return xgrad::squeeze(*this, dim); }
Tensor Tensor::gather(std::int64_t dim, const Tensor& index) const { return xgrad::gather(*this, dim, index); }

}  // namespace xgrad

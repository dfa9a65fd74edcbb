// In-place ops (x.add_(y), x *= 2, w.uniform_(-a, a)), with PyTorch's two autograd rules:
//
// 1. A leaf that requires grad may only be changed while a NoGradGuard is alive. Otherwise the
//    optimiser's step would itself be recorded, and the leaf's gradient would no longer be the
//    derivative with respect to the value the forward pass used.
// 2. Every in-place op bumps the storage's version counter. A node that saved a tensor for its
//    backward remembers the version it saw (core/saved_tensor.hpp); if the values changed since,
//    backward throws "modified by an inplace operation" instead of computing a wrong gradient.
//
// Each op computes its result with the ordinary (out-of-place, differentiable) op and writes it
// into the tensor's own storage, so every handle on that storage (detach()ed copies included) sees
// the new values. When the op is recorded, the tensor's history moves onto the new node, as
// PyTorch's rebase_history does: `h = x * 2; h.mul_(w)` leaves h with a MulBackward0 whose edges
// lead back to the old h's node. The op then reads a private copy of the old values, so its own
// backward never sees them overwritten (PyTorch saves the original self the same way).
#include <xgrad/ops/inplace_impl.hpp>

#include <algorithm>
#include <limits>

#include <xgrad/core/factory.hpp>
#include <xgrad/core/grad_mode.hpp>
#include <xgrad/core/tensor_impl.hpp>
#include <xgrad/core/view_impl.hpp>
#include <xgrad/ops/elementwise.hpp>
#include <xgrad/ops/indexing.hpp>
#include <xgrad/ops/reduce.hpp>
#include <xgrad/ops/shape.hpp>

namespace xgrad {

namespace {

// In-place methods are const, like libtorch's: the handle stays as it is; its storage and graph
// node change.
Tensor& mutable_handle(const Tensor& tensor) { return const_cast<Tensor&>(tensor); }

void check_inplace_allowed(const Tensor& self, const char* op) {
  if (!self.defined()) throw Error(concat(op, ": called on an undefined tensor"));
  check_view_writable(self, op);
  if (GradMode::is_enabled() && self.is_leaf() && self.requires_grad())
    throw Error(concat(op, ": a leaf Variable that requires grad is being used in an in-place operation (shape ",
                       shape_str(self.shape()), "); do it inside a NoGradGuard, or on a detach()ed copy"));
}

bool records(const Tensor& self, const Tensor& other = Tensor()) {
  return GradMode::is_enabled() && (self.requires_grad() || other.requires_grad());
}

// The old values of `self` in a storage of their own, with self's place in the graph: what the op
// reads when it is recorded, so that overwriting self cannot corrupt what its node saved.
Tensor snapshot(const Tensor& self) {
  auto impl = make_cached_shared<TensorImpl>();
  impl->storage = make_cached_shared<Storage>(dense_values(self));
  impl->grad_fn = self.grad_fn();
  impl->requires_grad = self.requires_grad();
  return Tensor(std::move(impl));
}

// Writes `result` into self's storage, bumps the version and, if result was recorded, makes self
// the output of result's node. A result that does not depend on self's old value (fill_, copy_)
// and requires no grad ends self's history.
Tensor& commit(Tensor& self, const Tensor& result, const char* op) {
  if (!has_shape(result, self.shape()))
    throw Error(concat(op, ": the result's shape ", shape_str(result.shape()), " does not match the tensor's shape ",
                       shape_str(self.shape()), " (an in-place op cannot broadcast the tensor it writes to)"));
  if (result.dtype() != self.dtype())
    throw Error(concat(op, ": the result's dtype ", dtype_name(result.dtype()), " cannot be written into a ",
                       dtype_name(self.dtype()), " tensor"));
  // A view passes its values on to its base, and the base's history with them.
  if (self.is_view()) {
    write_through_view(self, result, op);
    return self;
  }
  visit_any_dtype(self.dtype(), [&](auto tag) {
    using T = decltype(tag);
    const Array<T>& source = array<T>(result);
    if (is_whole(*self.impl())) std::copy(source.data(), source.data() + source.size(), mutable_array<T>(self).data());
    else strided::scatter(self.impl()->storage->elements<T>(), self.impl()->strided->layout, source.data());
  });
  self.impl()->storage->bump_version();
  TensorImpl& impl = *self.impl();
  if (result.requires_grad() && GradMode::is_enabled()) {
    impl.grad_fn = result.grad_fn();
    impl.requires_grad = true;
  } else if (!self.is_leaf() && GradMode::is_enabled()) {
    defer_destruction(std::move(impl.grad_fn));
    impl.requires_grad = false;
  }
  return self;
}

// Applies a binary op in place: self = op(self, other).
template <class Op>
Tensor& binary_inplace(Tensor& self, const Tensor& other, const char* name, Op op) {
  check_inplace_allowed(self, name);
  if (!records(self, other)) return commit(self, op(self, other), name);
  const Tensor old = snapshot(self);
  return commit(self, op(old, other.impl() == self.impl() ? old : other), name);
}

// Applies a unary op in place: self = op(self).
template <class Op>
Tensor& unary_inplace(Tensor& self, const char* name, Op op) {
  check_inplace_allowed(self, name);
  return commit(self, op(records(self) ? snapshot(self) : self), name);
}

}  // namespace

Tensor& apply_in_place(Tensor& self, const char* op, const std::function<Tensor(const Tensor&)>& compute) {
  return unary_inplace(self, op, compute);
}

Tensor& Tensor::add_(const Tensor& other, const Scalar& alpha) const {
  return binary_inplace(mutable_handle(*this), other, "add_", [&](const Tensor& a, const Tensor& b) { return a.add(b, alpha); });
}
Tensor& Tensor::add_(const Scalar& other, const Scalar& alpha) const {
  return unary_inplace(mutable_handle(*this), "add_", [&](const Tensor& a) { return a.add(other, alpha); });
}
Tensor& Tensor::sub_(const Tensor& other, const Scalar& alpha) const {
  return binary_inplace(mutable_handle(*this), other, "sub_", [&](const Tensor& a, const Tensor& b) { return a.sub(b, alpha); });
}
Tensor& Tensor::sub_(const Scalar& other, const Scalar& alpha) const {
  return unary_inplace(mutable_handle(*this), "sub_", [&](const Tensor& a) { return a.sub(other, alpha); });
}
Tensor& Tensor::mul_(const Tensor& other) const {
  return binary_inplace(mutable_handle(*this), other, "mul_", [](const Tensor& a, const Tensor& b) { return a * b; });
}
Tensor& Tensor::mul_(const Scalar& other) const {
  return unary_inplace(mutable_handle(*this), "mul_", [&](const Tensor& a) { return a * other.toDouble(); });
}
Tensor& Tensor::div_(const Tensor& other) const {
  return binary_inplace(mutable_handle(*this), other, "div_", [](const Tensor& a, const Tensor& b) { return a / b; });
}
Tensor& Tensor::div_(const Scalar& other) const {
  return unary_inplace(mutable_handle(*this), "div_", [&](const Tensor& a) { return a / other.toDouble(); });
}

Tensor& Tensor::clamp_(std::optional<Scalar> min, std::optional<Scalar> max) const {
  return unary_inplace(mutable_handle(*this), "clamp_", [&](const Tensor& a) { return xgrad::clamp(a, min, max); });
}

Tensor& Tensor::relu_() const {
  return unary_inplace(mutable_handle(*this), "relu_", [](const Tensor& a) { return xgrad::relu(a); });
}
Tensor& relu_(Tensor& x) { return x.relu_(); }

Tensor& Tensor::masked_fill_(const Tensor& mask, const Scalar& value) const {
  return unary_inplace(mutable_handle(*this), "masked_fill_",
                       [&](const Tensor& a) { return xgrad::masked_fill(a, mask, value); });
}

Tensor& Tensor::fill_(const Scalar& value) const {
  check_inplace_allowed(mutable_handle(*this), "fill_");
  return commit(mutable_handle(*this), full(sizes(), value, dtype()), "fill_");
}

Tensor& Tensor::zero_() const {
  check_inplace_allowed(mutable_handle(*this), "zero_");
  return commit(mutable_handle(*this), zeros(sizes(), dtype()), "zero_");
}

Tensor& Tensor::copy_(const Tensor& src) const {
  check_inplace_allowed(mutable_handle(*this), "copy_");
  if (!src.defined()) throw Error("copy_: the source is an undefined tensor");
  const Shape shape = this->shape();
  const Tensor converted = to_dtype(src, dtype());
  return commit(mutable_handle(*this), has_shape(converted, shape) ? converted.clone() : broadcast_to(converted, shape), "copy_");
}

Tensor& Tensor::uniform_(double from, double to) const {
  check_inplace_allowed(mutable_handle(*this), "uniform_");
  return commit(mutable_handle(*this), uniform(sizes(), from, to, dtype()), "uniform_");
}

namespace {

// The largest whole number a dtype holds with every smaller one: random_()'s default upper bound.
std::int64_t largest_exact_integer(Dtype dtype) {
  switch (dtype) {
    case Dtype::Float32: return std::int64_t{1} << 24;
    case Dtype::Float64: return std::int64_t{1} << 53;
    case Dtype::UInt8: return 255;
    case Dtype::Bool: return 1;
    case Dtype::Int64: break;
  }
  return std::numeric_limits<std::int64_t>::max() - 1;
}

}  // namespace

Tensor& Tensor::random_(std::int64_t from, std::optional<std::int64_t> to) const {
  check_inplace_allowed(mutable_handle(*this), "random_");
  const std::int64_t end = to ? *to : largest_exact_integer(dtype()) + 1;
  check(from < end, "random_: expects 'from' to be less than 'to', but got from=", from, " >= to=", end);
  return commit(mutable_handle(*this), randint(from, end, sizes(), dtype()), "random_");
}
Tensor& Tensor::random_(std::int64_t to) const { return random_(0, to); }
Tensor& Tensor::random_() const { return random_(0, std::nullopt); }

const Tensor& Tensor::resize_(IntArrayRef sizes) const {
  check(defined(), "resize_: called on an undefined tensor");
  check(!requires_grad(), "resize_: cannot resize variables that require grad (shape ", shape_str(shape()), ")");
  check_whole(*impl(), "resize_");
  for (const std::int64_t size : sizes)
    check(size >= 0, "resize_: sizes must be non-negative, got ", shape_str(sizes.vec()));
  visit_any_dtype(dtype(), [&](auto tag) {
    using T = decltype(tag);
    Array<T>& values = mutable_array<T>(*this);
    Array<T> resized = Array<T>::from_shape(sizes.vec());
    const std::size_t kept = std::min(values.size(), resized.size());
    std::copy(values.data(), values.data() + kept, resized.data());
    std::fill(resized.data() + kept, resized.data() + resized.size(), T(0));
    values = std::move(resized);
    return 0;
  });
  impl()->storage->bump_version();
  return *this;
}

Tensor& Tensor::normal_(double mean, double std) const {
  check_inplace_allowed(mutable_handle(*this), "normal_");
  if (!(std >= 0)) throw Error(concat("normal_: std must be non-negative, got ", std));
  return commit(mutable_handle(*this), randn(sizes(), dtype()) * std + mean, "normal_");
}

}  // namespace xgrad

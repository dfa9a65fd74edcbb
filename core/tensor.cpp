#include <xgrad/core/tensor.hpp>

#include <iomanip>
#include <ostream>
#include <sstream>
#include <type_traits>

#include <xgrad/core/engine.hpp>
#include <xgrad/core/factory.hpp>
#include <xgrad/core/tensor_impl.hpp>
#include <xgrad/core/view_impl.hpp>

namespace xgrad {

namespace {

const StorageVariant& storage_of(const Tensor& tensor, const char* op) {
  if (!tensor.defined()) throw Error(concat(op, ": called on an undefined tensor"));
  return *tensor.impl()->storage;
}

}  // namespace

Tensor::Tensor(std::shared_ptr<TensorImpl> impl) : impl_(std::move(impl)) {}

Shape Tensor::shape() const {
  storage_of(*this, "shape");
  if (impl_->strided) return to_shape(impl_->strided->layout.sizes);
  return std::visit([](const auto& a) { return to_shape(a.shape()); }, storage_of(*this, "shape"));
}

IntArrayRef Tensor::sizes() const { return IntArrayRef(shape()); }

std::int64_t Tensor::dim() const {
  storage_of(*this, "dim");
  if (impl_->strided) return static_cast<std::int64_t>(impl_->strided->layout.sizes.size());
  return std::visit([](const auto& a) { return static_cast<std::int64_t>(a.dimension()); }, storage_of(*this, "dim"));
}

std::int64_t Tensor::numel() const {
  storage_of(*this, "numel");
  if (impl_->strided) return impl_->strided->layout.numel();
  return std::visit([](const auto& a) { return static_cast<std::int64_t>(a.size()); }, storage_of(*this, "numel"));
}

std::int64_t Tensor::size(std::int64_t dim) const {
  const std::int64_t rank = this->dim();
  if (dim < -rank || dim >= rank)
    throw Error(concat("size: dim ", dim, " out of range for a tensor of shape ", shape_str(shape())));
  const auto axis = static_cast<std::size_t>(dim < 0 ? dim + rank : dim);
  if (impl_->strided) return impl_->strided->layout.sizes[axis];
  return std::visit([&](const auto& a) { return static_cast<std::int64_t>(a.shape()[axis]); },
                    storage_of(*this, "size"));
}

std::int64_t Tensor::_version() const {
  storage_of(*this, "_version");
  return static_cast<std::int64_t>(impl_->storage->version);
}

TensorOptions Tensor::options() const { return TensorOptions(dtype()).requires_grad(requires_grad()); }

// The variant's alternatives are listed in Dtype's order (checked in tensor_impl.hpp), so the dtype is
// the active index: no visit on a call that every op makes several times.
TypeMeta Tensor::dtype() const { return static_cast<Dtype>(storage_of(*this, "dtype").index()); }

namespace {
// A view's history may be stale after an in-place op elsewhere on its storage (core/view.cpp).
inline void refresh_history(TensorImpl& impl) {
  if (impl.strided && impl.strided->base) refresh_view_history(impl);
}
}  // namespace

bool Tensor::requires_grad() const {
  if (!defined()) return false;
  refresh_history(*impl_);
  return impl_->requires_grad;
}

Tensor& Tensor::requires_grad_(bool requires_grad) const {
  check(defined(), "requires_grad_: called on an undefined tensor");
  check(!requires_grad || is_floating(dtype()),
        "requires_grad_: only floating point tensors can require gradients, got dtype ", dtype_name(dtype()));
  check(is_leaf(), "requires_grad_: can only change the flag of a leaf tensor; use detach() on the result of ",
        impl_->grad_fn ? impl_->grad_fn->name() : "an op");
  impl_->requires_grad = requires_grad;
  return const_cast<Tensor&>(*this);
}

bool Tensor::is_leaf() const {
  if (!defined()) return true;
  refresh_history(*impl_);
  return impl_->grad_fn == nullptr;
}

Tensor Tensor::grad() const { return defined() ? impl_->grad : Tensor(); }

const std::shared_ptr<Node>& Tensor::grad_fn() const {
  static const std::shared_ptr<Node> none;
  if (!defined()) return none;
  refresh_history(*impl_);
  return impl_->grad_fn;
}

void Tensor::backward(const Tensor& gradient, std::optional<bool> retain_graph, bool create_graph) const {
  // Called once per training step: messages (which format shapes) are built only on failure.
  check(defined(), "backward: called on an undefined tensor");
  if (!requires_grad())
    throw Error(concat("backward: tensor of shape ", shape_str(shape()),
                       " does not require grad and has no grad_fn (did every input have requires_grad false, or "
                       "was it computed under NoGradGuard?)"));
  Tensor seed = gradient;
  if (!seed.defined()) {
    if (numel() != 1)
      throw Error(concat("backward: grad can be implicitly created only for scalar outputs (got shape ",
                         shape_str(shape()), "); pass a gradient of that shape"));
    seed = visit_floating(dtype(), "backward", [&](auto tag) {
      using T = decltype(tag);
      Array<T> one = Array<T>::from_shape(array<T>(*this).shape());  // the output's shape, no Shape built
      one.fill(T(1));
      return make_tensor(std::move(one));
    });
  }
  if (!has_shape(seed, shape_of(*this)))
    throw Error(concat("backward: gradient shape ", shape_str(seed.shape()), " does not match the tensor's shape ",
                       shape_str(shape())));
  check(seed.dtype() == dtype(), "backward: gradient dtype ", dtype_name(seed.dtype()),
        " does not match the tensor's dtype ", dtype_name(dtype()));
  Engine::Options options;
  options.keep_graph = retain_graph.value_or(create_graph);
  options.create_graph = create_graph;
  const Engine::Root root{gradient_edge(*this), std::move(seed)};
  Engine::execute(&root, 1, options);
}

void Tensor::retain_grad() const {
  check(defined(), "retain_grad: called on an undefined tensor");
  check(requires_grad(), "retain_grad: can't retain_grad on a tensor that has requires_grad=False (shape ",
        shape_str(shape()), ")");
  if (is_leaf() || impl_->retains_grad) return;  // a leaf keeps its gradient anyway
  impl_->retains_grad = true;
  impl_->grad_fn->set_retained_output(impl_);
  // Weak: the hook lives in the grad_fn, which the tensor owns.
  add_hook([self = std::weak_ptr<TensorImpl>(impl_)](const Tensor& grad) {
    if (const std::shared_ptr<TensorImpl> tensor = self.lock())
      tensor->grad = tensor->grad.defined() ? sum_of_gradients(tensor->grad, grad) : grad.clone();
    return Tensor();
  });
}

bool Tensor::retains_grad() const { return defined() && impl_->retains_grad; }

unsigned Tensor::add_hook(std::function<Tensor(const Tensor&)> hook) const {
  check(defined(), "register_hook: called on an undefined tensor");
  check(requires_grad(), "register_hook: cannot register a hook on a tensor that doesn't require gradient (shape ",
        shape_str(shape()), ")");
  std::vector<Node::TensorHook>& hooks = impl_->grad_fn ? impl_->grad_fn->tensor_hooks() : impl_->hooks;
  hooks.push_back(std::move(hook));
  return static_cast<unsigned>(hooks.size() - 1);
}

void Tensor::remove_hook(unsigned handle) const {
  check(defined(), "remove_hook: called on an undefined tensor");
  std::vector<Node::TensorHook>& hooks = impl_->grad_fn ? impl_->grad_fn->tensor_hooks() : impl_->hooks;
  check(handle < hooks.size(), "remove_hook: Invalid index: no hook with handle ", handle);
  hooks[handle] = nullptr;
}

void Tensor::zero_grad() const {
  if (defined()) impl_->grad = Tensor();
}

Tensor Tensor::detach() const {
  storage_of(*this, "detach");
  auto impl = make_cached_shared<TensorImpl>();
  impl->storage = impl_->storage;
  if (impl_->strided) {
    // Not a view (PyTorch's detach() has no _base), but the same elements of the same storage.
    impl->strided = make_cached_unique<TensorImpl::Strided>();
    impl->strided->layout = impl_->strided->layout;
    impl->strided->whole = impl_->strided->whole;
  }
  return Tensor(std::move(impl));
}

namespace {

// d clone(x) = g
struct CloneBackward final : Node {
  const char* name() const override { return "CloneBackward0"; }
  const char* formula() const override { return "d clone(x) = g"; }
  gradient_list backward(const Tensor& grad) override { return {grad}; }
};

}  // namespace

Tensor Tensor::clone() const {
  auto impl = make_cached_shared<TensorImpl>();
  storage_of(*this, "clone");
  impl->storage = make_cached_shared<Storage>(dense_values(*this));
  Tensor out(std::move(impl));
  if (any_requires_grad({this})) record(out, make_node<CloneBackward>(), {this});
  return out;
}

double Tensor::item_double() const {
  check(defined() && numel() == 1, "item: expected a tensor with one element, got shape ",
        defined() ? shape_str(shape()) : "undefined");
  return visit_any_dtype(dtype(), [&](auto tag) { return static_cast<double>(*data<decltype(tag)>()); });
}

std::int64_t Tensor::item_int64() const {
  check(defined() && numel() == 1, "item: expected a tensor with one element, got shape ",
        defined() ? shape_str(shape()) : "undefined");
  return visit_any_dtype(dtype(), [&](auto tag) { return static_cast<std::int64_t>(*data<decltype(tag)>()); });
}

Scalar Tensor::item() const {
  switch (storage_of(*this, "item"), dtype()) {
    case Dtype::Float32:
    case Dtype::Float64: return Scalar(item_double());
    case Dtype::Bool: return Scalar(item_int64() != 0);
    default: return Scalar(item_int64());
  }
}

const void* Tensor::data_ptr(Dtype expected) const {
  check(defined(), "data: called on an undefined tensor");
  // Every kernel reads its inputs through here: the message's arguments are made only on failure.
  if (dtype() != expected)
    throw Error(concat("data: tensor has dtype ", dtype_name(dtype()), ", requested ", dtype_name(expected)));
  if (!impl_->strided || impl_->strided->whole || !impl_->strided->layout.is_contiguous())
    return std::visit([](const auto& a) { return static_cast<const void*>(a.data()); }, dense_values(*this));
  // A contiguous view is read in place: a read hands out no writable pointer, so nothing escapes.
  return first_element();
}

void* Tensor::first_element() const {
  // An empty view may have an offset past its storage, which may be no buffer at all.
  const std::int64_t offset = impl_->strided && numel() > 0 ? impl_->strided->layout.offset : 0;
  Storage& storage = *impl_->storage;
  return visit_any_dtype(dtype(), [&](auto tag) -> void* { return storage.elements<decltype(tag)>() + offset; });
}

void* Tensor::storage_ptr(Dtype expected) const {
  check(defined(), "data_ptr: called on an undefined tensor");
  if (dtype() != expected)
    throw Error(concat("data_ptr: tensor has dtype ", dtype_name(dtype()), ", requested ", dtype_name(expected)));
  // The caller may write through the pointer, now or later: views of this storage must gather again.
  impl_->storage->escaped.store(true, std::memory_order_relaxed);
  return first_element();
}

void* Tensor::contiguous_storage_ptr(Dtype expected) const {
  check(defined(), "mutable_data: called on an undefined tensor");
  if (!is_contiguous())  // not check(): its message would be built on every optimiser step
    throw Error(concat("mutable_data: the tensor is not contiguous (shape ", shape_str(shape()), ", strides ",
                       shape_str(strides()), "); write through contiguous() and copy_ back, or use data_ptr with "
                       "strides()"));
  return storage_ptr(expected);
}

std::vector<std::int64_t> Tensor::strides() const {
  storage_of(*this, "strides");
  return to_shape(layout_of(*impl_).strides);
}

std::int64_t Tensor::stride(std::int64_t dim) const {
  const std::int64_t rank = this->dim();
  if (dim < -rank || dim >= rank)
    throw Error(concat("stride: dim ", dim, " out of range for a tensor of shape ", shape_str(shape())));
  return strides()[static_cast<std::size_t>(dim < 0 ? dim + rank : dim)];
}

std::int64_t Tensor::storage_offset() const {
  storage_of(*this, "storage_offset");
  return impl_->strided ? impl_->strided->layout.offset : 0;
}

bool Tensor::is_contiguous() const {
  storage_of(*this, "is_contiguous");
  return !impl_->strided || impl_->strided->layout.is_contiguous();
}

bool Tensor::is_view() const { return defined() && impl_->strided && impl_->strided->base; }

Tensor Tensor::_base() const {
  return is_view() ? Tensor(impl_->strided->base) : Tensor();
}

bool Tensor::is_same(const Tensor& other) const { return impl_ == other.impl_; }

bool Tensor::is_alias_of(const Tensor& other) const {
  return defined() && other.defined() && impl_->storage == other.impl_->storage;
}

const std::string& Tensor::name() const {
  static const std::string unnamed;
  return defined() ? impl_->name : unnamed;
}

Tensor& Tensor::set_name(std::string name) {
  check(defined(), "set_name: called on an undefined tensor");
  impl_->name = std::move(name);
  return *this;
}

std::ostream& operator<<(std::ostream& out, const Tensor& tensor) { return out << tensor.to_string(); }

}  // namespace xgrad

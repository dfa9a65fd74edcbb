#include <xgrad/core/saved_tensor.hpp>

#include <xgrad/core/grad_mode.hpp>
#include <xgrad/core/node.hpp>
#include <xgrad/core/tensor_impl.hpp>

namespace xgrad {

namespace {

// The same elements in a handle of their own, with the grad_fn `tensor` has now. A view's alias is
// not a view (it has no base), so a later in-place op on the base cannot give it a new history.
Tensor alias_with_current_history(const Tensor& tensor) {
  Tensor alias = tensor.detach();
  TensorImpl& impl = *alias.impl();
  impl.grad_fn = tensor.grad_fn();
  impl.requires_grad = tensor.requires_grad();
  return alias;
}

}  // namespace

SavedTensor::SavedTensor(const Tensor& tensor, bool is_output) : is_output_(is_output) {
  if (!tensor.defined()) return;
  version_ = tensor.impl()->storage->version;
  if (is_output) data_ = tensor.detach();
  else if (tensor.is_leaf() && tensor.requires_grad()) data_ = tensor;
  else data_ = alias_with_current_history(tensor);
}

Tensor SavedTensor::unpack(Node& saved_by) const {
  if (!data_.defined()) return data_;
  const Storage& storage = *data_.impl()->storage;
  if (storage.version != version_)
    throw Error(concat("backward: one of the variables needed for gradient computation has been modified by an "
                       "inplace operation: [", dtype_name(data_.dtype()), " ", shape_str(data_.shape()),
                       "], saved by ", saved_by.name(), ", is at version ", storage.version, "; expected version ",
                       version_, " instead"));
  if (!is_output_ || !GradMode::is_enabled()) return data_;
  // Under create_graph the output rejoins the graph through the node that made it.
  Tensor output = data_.detach();
  output.impl()->grad_fn = saved_by.shared_from_this();
  output.impl()->requires_grad = true;
  return output;
}

}  // namespace xgrad

// Views: tensors that share a storage (TensorImpl::Strided), and how autograd follows writes
// through them. See core/view_impl.hpp.
#include <xgrad/core/view_impl.hpp>

#include <xgrad/core/factory.hpp>
#include <xgrad/core/grad_mode.hpp>

namespace xgrad {

namespace {

template <class T>
const T* dense_data(const Tensor& t) {
  return array<T>(t).data();
}

class GatherLayoutBackward;
class ScatterAddLayoutBackward;

// The names a pair of adjoint primitives carries: the forward view op's ("SelectBackward0") for
// gather, its derivative's ("SelectBackwardBackward0") for scatter-add.
struct PairNames {
  const char* gather;
  const char* scatter;
};

Tensor gather_layout(const Tensor& x, const strided::Layout& layout, PairNames names);
Tensor scatter_add_layout(const Tensor& grad, const Shape& sizes, const strided::Layout& layout, PairNames names);
Tensor zero_layout(const Tensor& grad, const strided::Layout& layout);

// d gather(x, L) = scatter_add(g, x.sizes, L)
class GatherLayoutBackward final : public Node {
 public:
  GatherLayoutBackward(PairNames names, Shape input_sizes, strided::Layout layout)
      : names_(names), input_sizes_(std::move(input_sizes)), layout_(std::move(layout)) {}
  const char* name() const override { return names_.gather; }
  // The view op's own derivative, in the words every picking view shares.
  const char* formula() const override { return kAsStridedView.formula; }
  gradient_list backward(const Tensor& grad) override {
    return {scatter_add_layout(grad, input_sizes_, layout_, names_)};
  }

 private:
  PairNames names_;
  Shape input_sizes_;
  strided::Layout layout_;
};

// d scatter_add(g, sizes, L) = gather(gg, L): scatter-add is linear in g, and gather reads back
// exactly the elements it added to.
class ScatterAddLayoutBackward final : public Node {
 public:
  ScatterAddLayoutBackward(PairNames names, strided::Layout layout) : names_(names), layout_(std::move(layout)) {}
  const char* name() const override { return names_.scatter; }
  const char* formula() const override {
    return "d (zeros with g added at the view's elements)/d g = gg read at the view's elements";
  }
  gradient_list backward(const Tensor& grad) override { return {gather_layout(grad, layout_, names_)}; }

 private:
  PairNames names_;
  strided::Layout layout_;
};

Tensor gather_layout(const Tensor& x, const strided::Layout& layout, PairNames names) {
  Tensor out = visit_any_dtype(x.dtype(), [&](auto tag) {
    using T = decltype(tag);
    Array<T> values = Array<T>::from_shape(layout.sizes);
    strided::gather(dense_data<T>(x), layout, values.data());
    return make_tensor(std::move(values));
  });
  if (any_requires_grad({&x}))
    record(out, make_node<GatherLayoutBackward>(names, x.shape(), layout), {&x});
  return out;
}

Tensor scatter_add_layout(const Tensor& grad, const Shape& sizes, const strided::Layout& layout, PairNames names) {
  Tensor out = visit_any_dtype(grad.dtype(), [&](auto tag) {
    using T = decltype(tag);
    Array<T> values = Array<T>::from_shape(to_xshape(sizes));
    values.fill(T(0));
    strided::scatter_add(values.data(), layout, dense_data<T>(grad));
    return make_tensor(std::move(values));
  });
  if (any_requires_grad({&grad})) record(out, make_node<ScatterAddLayoutBackward>(names, layout), {&grad});
  return out;
}

// d zero_layout(g, L) = zero_layout(gg, L)
class ZeroLayoutBackward final : public Node {
 public:
  explicit ZeroLayoutBackward(strided::Layout layout) : layout_(std::move(layout)) {}
  const char* name() const override { return "CopySlicesBackward"; }
  const char* formula() const override { return "d (g with the view's elements zeroed) = gg with them zeroed"; }
  gradient_list backward(const Tensor& grad) override { return {zero_layout(grad, layout_)}; }

 private:
  strided::Layout layout_;
};

// d base_after_write = (d old_base where the view does not reach, d result where it does)
class CopySlices final : public Node {
 public:
  explicit CopySlices(strided::Layout layout) : layout_(std::move(layout)) {}
  // libtorch's name for the class (its name() is the demangled type).
  const char* name() const override { return "torch::autograd::CopySlices"; }
  const char* formula() const override {
    return "d (base with a view written)/d old base = g, zero where the view was written\n"
           "d (base with a view written)/d written values = g where the view was written";
  }
  gradient_list backward(const Tensor& grad) override {
    gradient_list grads(2);
    if (needs_input_grad(0)) grads[0] = zero_layout(grad, layout_);
    // Named as no view op names it: the written elements, read back as as_strided would.
    if (needs_input_grad(1))
      grads[1] = gather_layout(grad, layout_, {kAsStridedView.name, kAsStridedView.backward_name});
    return grads;
  }

 private:
  strided::Layout layout_;
};

strided::Layout relative_to(const strided::Layout& view, const strided::Layout& base) {
  strided::Layout layout = view;
  layout.offset -= base.offset;
  return layout;
}

void check_inside_storage(const TensorImpl& impl, const char* op) {
  // An empty view reads and writes nothing, wherever its offset points (x[1:] of an empty x).
  if (impl.strided->layout.numel() == 0) return;
  const auto [low, high] = impl.strided->layout.extent();
  if (low < 0 || high > impl.storage->numel())
    throw Error(concat(op, ": the view (sizes ", shape_str(impl.strided->layout.sizes), ", strides ",
                       shape_str(impl.strided->layout.strides), ", offset ", impl.strided->layout.offset,
                       ") reaches outside its storage of ", impl.storage->numel(),
                       " elements (was its base resized?)"));
}

Tensor zero_layout(const Tensor& grad, const strided::Layout& layout) {
  Tensor out = visit_any_dtype(grad.dtype(), [&](auto tag) {
    using T = decltype(tag);
    Array<T> values = array<T>(grad);
    Array<T> zeros = Array<T>::from_shape(layout.sizes);
    zeros.fill(T(0));
    strided::scatter(values.data(), layout, zeros.data());
    return make_tensor(std::move(values));
  });
  if (any_requires_grad({&grad})) record(out, make_node<ZeroLayoutBackward>(layout), {&grad});
  return out;
}

}  // namespace

const PickingViewOp kAsStridedView{"AsStridedBackward0", "AsStridedBackwardBackward0",
                                   "d view of x = zeros with g added at the elements the view reads"};

gradient_list StridedViewBackward::backward(const Tensor& grad) {
  return {scatter_add_layout(grad, input_sizes_, layout_, {op_.name, op_.backward_name})};
}

Tensor make_view(const Tensor& x, strided::Layout layout, const char* multi_output_op) {
  const TensorImpl& source = *x.impl();
  const Storage& storage = *source.storage;
  auto impl = make_cached_shared<TensorImpl>();
  impl->storage = source.storage;
  impl->strided = make_cached_unique<TensorImpl::Strided>();
  TensorImpl::Strided& view = *impl->strided;
  view.base = source.strided && source.strided->base ? source.strided->base : x.impl_ptr();
  view.multi_output_op = multi_output_op;
  view.grad_fn_version = storage.version;
  // A view that is exactly its storage's array (x.view(x.sizes()), a squeeze with nothing to
  // squeeze) reads and writes the array itself.
  if (!storage.external && layout.offset == 0 && layout.is_contiguous()) {
    std::visit([&](const auto& a) {
      view.whole = a.dimension() == layout.sizes.size() &&
                   std::equal(layout.sizes.begin(), layout.sizes.end(), a.shape().begin(),
                              [](std::int64_t s, std::size_t t) { return static_cast<std::size_t>(s) == t; });
    }, static_cast<const StorageVariant&>(storage));
  }
  view.layout = std::move(layout);
  return Tensor(std::move(impl));
}

strided::Layout layout_in_base(const TensorImpl& view, const char* op) {
  const strided::Layout base = layout_of(*view.strided->base);
  if (!base.is_contiguous())
    throw Error(concat(op, ": autograd through a view of a non-contiguous tensor (sizes ", shape_str(base.sizes),
                       ", strides ", shape_str(base.strides), ") is not supported; call contiguous() on it first"));
  return relative_to(view.strided->layout, base);
}

void refresh_view_history(TensorImpl& view) {
  TensorImpl::Strided& strided = *view.strided;
  const std::uint64_t version = view.storage->version;
  if (strided.grad_fn_version == version) return;
  strided.grad_fn_version = version;
  const Tensor base(strided.base);
  if (!base.impl()->grad_fn && !base.impl()->requires_grad) {
    // The base is outside any graph. If the view had a history, an in-place op that wrote values no
    // gradient flows through (fill_, zero_, copy_ of a constant) has just ended the base's, and the
    // view's old one describes values that are gone: it ends too.
    if (view.grad_fn) {
      defer_destruction(std::move(view.grad_fn));
      view.requires_grad = false;
    }
    return;
  }
  // A view made without history (under NoGradGuard) of a leaf keeps having none.
  if (!base.impl()->grad_fn && !view.grad_fn) return;
  auto node = make_node<StridedViewBackward>(kAsStridedView, base.shape(),
                                                    layout_in_base(view, kAsStridedView.name));
  node->set_next_edges({{gradient_edge(base), 0}});
  node->output_shape.assign(strided.layout.sizes);
  node->output_dtype = static_cast<Dtype>(view.storage->index());
  defer_destruction(std::move(view.grad_fn));
  view.grad_fn = std::move(node);
  view.requires_grad = true;
}

void check_view_writable(const Tensor& view, const char* op) {
  const TensorImpl& impl = *view.impl();
  if (!impl.strided) return;
  if (impl.strided->layout.may_overlap())
    throw Error(concat(op, ": unsupported operation: more than one element of the written-to tensor refers to a "
                           "single memory location (sizes ", shape_str(impl.strided->layout.sizes), ", strides ",
                       shape_str(impl.strided->layout.strides), "). Please clone() the tensor before performing the "
                       "operation."));
  check_inside_storage(impl, op);
  if (!impl.strided->base || !GradMode::is_enabled()) return;
  const TensorImpl& base = *impl.strided->base;
  if (!base.grad_fn && base.requires_grad)
    throw Error(concat(op, ": a view of a leaf Variable that requires grad is being used in an in-place operation. "
                           "(view shape ", shape_str(impl.strided->layout.sizes), ", leaf shape ",
                       shape_str(layout_of(base).sizes), "; do it inside a NoGradGuard)"));
  if (impl.strided->multi_output_op && view.requires_grad())
    throw Error(concat(op, ": Output 0 of ", impl.strided->multi_output_op,
                       " is a view and is being modified inplace. This view is the output of a function that returns "
                       "multiple views. Such functions do not allow the output views to be modified inplace. You "
                       "should replace the inplace operation by an out-of-place one."));
}

void write_through_view(const Tensor& view, const Tensor& result, const char* op) {
  TensorImpl& impl = *view.impl();
  check_inside_storage(impl, op);
  visit_any_dtype(view.dtype(), [&](auto tag) {
    using T = decltype(tag);
    strided::scatter(impl.storage->elements<T>(), impl.strided->layout, dense_data<T>(result));
  });
  impl.storage->bump_version();
  if (!GradMode::is_enabled() || !impl.strided->base) return;
  Tensor base(impl.strided->base);
  if (!result.requires_grad() && !base.requires_grad()) return;
  record(base, make_node<CopySlices>(layout_in_base(impl, op)), {&base, &result});
}

}  // namespace xgrad

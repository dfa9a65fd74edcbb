#pragma once
// Library-internal: the autograd side of views (tensors sharing a storage, TensorImpl::Strided).
//
// A view's gradient is its base's gradient restricted to the elements the view reads. Three
// recorded primitives carry it, each the adjoint of another, so that double backward through any
// of them is again one of them:
//   gather_layout(x, L)            the elements of x at layout L, as a dense tensor
//   scatter_add_layout(g, sizes, L) zeros of `sizes` with g added at layout L (gather's adjoint)
//   zero_layout(g, L)              g with the elements at L set to zero (its own adjoint)
// A layout here is relative to a dense tensor of the given sizes (offset 0, row-major), not to a
// storage. They are core/view.cpp's own: StridedViewBackward below and CopySlices use them. Their
// nodes record under the view op's name ("SelectBackward0": gather is that op, densely) and its
// derivative's ("SelectBackwardBackward0").
#include <xgrad/core/node.hpp>
#include <xgrad/core/tensor_impl.hpp>

namespace xgrad {

// A view op that picks elements: PyTorch's names for its node ("SelectBackward0") and for its
// derivative's ("SelectBackwardBackward0"), and its derivative in words. One static constant per
// op, which the node points to.
struct PickingViewOp {
  const char* name;
  const char* backward_name;
  const char* formula;
};

// as_strided's, which is also the node of a view whose base was changed in place.
extern const PickingViewOp kAsStridedView;

// d view(x) = g scattered (added) back to the elements of x the view reads: the backward of every
// view op that picks elements (select, narrow, diagonal, unfold, as_strided, ...). `layout` places
// the view in x laid out densely.
class StridedViewBackward final : public Node {
 public:
  StridedViewBackward(const PickingViewOp& op, Shape input_sizes, strided::Layout layout)
      : op_(op), input_sizes_(std::move(input_sizes)), layout_(std::move(layout)) {}
  const char* name() const override { return op_.name; }
  const char* formula() const override { return op_.formula; }
  gradient_list backward(const Tensor& grad) override;

 private:
  const PickingViewOp& op_;
  Shape input_sizes_;
  strided::Layout layout_;
};

// A new tensor sharing x's storage, at `layout` (relative to the storage). Its base is x's base
// (or x itself); multi_output_op names the op when it returned several views (unbind, split).
Tensor make_view(const Tensor& x, strided::Layout layout, const char* multi_output_op = nullptr);

// Where `view` sits inside its base laid out densely; Error when the base is not contiguous.
strided::Layout layout_in_base(const TensorImpl& view, const char* op);

// After an in-place op on a view's base or on another view of it, the view's old grad_fn
// describes values that are gone: PyTorch then makes a new one, AsStridedBackward0 from the base's
// current history. Called by Tensor's autograd accessors; cheap when nothing changed.
void refresh_view_history(TensorImpl& view);

// Writes `result` (dense, the view's shape and dtype) into the elements of `view`, and, when the
// write is recorded, gives the base a CopySlices node: the base's old history for the elements
// the view does not cover, result's for those it does (PyTorch's rebase_history).
void write_through_view(const Tensor& view, const Tensor& result, const char* op);

// The errors PyTorch raises before an in-place op on a view: a view of a leaf that requires grad,
// an output of a multi-output view op, a view whose elements overlap.
void check_view_writable(const Tensor& view, const char* op);

}  // namespace xgrad

#pragma once
// Library-internal: moving elements between a strided layout (sizes, strides and an offset into a
// flat buffer, as a view describes its place in its storage) and a dense row-major block.
//
// A view is read by gathering it into a dense block, written by scattering a dense block into it,
// and a view's gradient is a scatter-add (an element read twice through an expanded or overlapping
// view gets both contributions). The walk keeps one counter per dimension and moves along the
// innermost dimension with its stride, so the cost is one add per element.
#include <cstddef>
#include <cstdint>
#include <vector>

#include <xgrad/kernels/buffer_cache.hpp>

namespace xgrad::strided {

// A view's sizes or strides. Their memory comes from the buffer cache: a training step makes views
// (flatten, transposes, the saved inputs of its ops) every time.
using Dims = cached_vector<std::int64_t>;

// Where a view's elements sit in a flat buffer: element (i0, i1, ...) is at
// offset + i0 * strides[0] + i1 * strides[1] + ...
struct Layout {
  Dims sizes;
  Dims strides;
  std::int64_t offset = 0;

  std::int64_t numel() const;
  // The row-major strides of `sizes` (Dims or a Shape, and the same type back): the layout of a
  // dense block.
  template <class Sizes>
  static Sizes contiguous_strides(const Sizes& sizes) {
    Sizes strides(sizes.size());
    std::int64_t step = 1;
    for (std::size_t d = sizes.size(); d-- > 0;) {
      strides[d] = step;
      step *= sizes[d] > 1 ? sizes[d] : 1;
    }
    return strides;
  }
  // Row-major and gap-free (dimensions of size 1 may have any stride), as PyTorch's is_contiguous.
  bool is_contiguous() const;
  // The lowest and one past the highest buffer position an element of the layout occupies;
  // {offset, offset} when it has no elements.
  std::pair<std::int64_t, std::int64_t> extent() const;
  // True when two different positions (i0, i1, ...) can land on one element (a stride-0 dimension
  // of expand, an as_strided with overlapping windows). Exact for layouts whose dimensions, sorted
  // by stride, each step past the span of the smaller ones; others are reported as overlapping,
  // which is what PyTorch does too.
  bool may_overlap() const;
};

// dense[k] = buffer[position of the k-th element of `layout` in row-major order]
template <class T>
void gather(const T* buffer, const Layout& layout, T* dense);
// buffer[position of the k-th element] = dense[k]
template <class T>
void scatter(T* buffer, const Layout& layout, const T* dense);
// The buffer position of each element of `layout`, in row-major order.
std::vector<std::int64_t> positions(const Layout& layout);
// buffer[position of the k-th element] += dense[k]
template <class T>
void scatter_add(T* buffer, const Layout& layout, const T* dense);

}  // namespace xgrad::strided

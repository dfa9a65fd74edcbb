#pragma once
// View ops beyond the reshapes and picks of ops/shape.hpp and ops/indexing.hpp. Like those, each
// returns a view: a tensor sharing x's storage (a write through either is seen by the other),
// created without copying an element. Negative dims count from the end.
#include <cstdint>
#include <optional>
#include <vector>

#include <xgrad/core/tensor.hpp>

namespace xgrad {

// x's elements read at the given sizes and strides, from storage offset storage_offset (default:
// x's own), as libtorch's as_strided. Error when the layout reaches outside x's storage.
// d/dx = g added back at the elements read (AsStridedBackward0).
Tensor as_strided(const Tensor& x, IntArrayRef size, IntArrayRef stride,
                  std::optional<std::int64_t> storage_offset = std::nullopt);
// The diagonal of the (dim1, dim2) planes, offset above (> 0) or below (< 0) the main one, as the
// last dim of the result.
Tensor diagonal(const Tensor& x, std::int64_t offset = 0, std::int64_t dim1 = 0, std::int64_t dim2 = 1);
// Every window of `size` elements along dim, `step` apart, as a new last dim of length size.
Tensor unfold(const Tensor& x, std::int64_t dim, std::int64_t size, std::int64_t step);
// x split along dim into `chunks` pieces of ceil(size / chunks) elements (the last may be smaller,
// and there may be fewer pieces), as torch.chunk.
std::vector<Tensor> chunk(const Tensor& x, std::int64_t chunks, std::int64_t dim = 0);
// Pieces of split_size elements along dim (the last may be smaller), as torch.split.
std::vector<Tensor> split(const Tensor& x, std::int64_t split_size, std::int64_t dim = 0);
// Pieces of the given sizes along dim, which must add up to its size.
std::vector<Tensor> split_with_sizes(const Tensor& x, IntArrayRef split_sizes, std::int64_t dim = 0);
// x.select(dim, i) for every i.
std::vector<Tensor> unbind(const Tensor& x, std::int64_t dim = 0);
// view(x, other.sizes()).
Tensor view_as(const Tensor& x, const Tensor& other);

}  // namespace xgrad

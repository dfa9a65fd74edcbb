#pragma once
// Row gathering, the fast path of stacking a batch from a tensor-backed dataset.
#include <cstddef>
#include <cstdint>

#include <xgrad/core/tensor.hpp>
#include <xgrad/data/array_ref.hpp>

namespace xgrad::data::datasets {

// The rows source[indices[0]], source[indices[1]], ... copied into one new tensor of shape
// (indices.size(), source.sizes()[1:]) and source's dtype: what stack() of the selected rows gives,
// without a tensor per row. An index >= source.size(0) throws Error naming `dataset`.
Tensor gather_rows(const Tensor& source, ArrayRef<std::size_t> indices, const char* dataset);

// Throws Error naming `dataset` unless index < size.
void check_index(std::size_t index, std::size_t size, const char* dataset);

}  // namespace xgrad::data::datasets

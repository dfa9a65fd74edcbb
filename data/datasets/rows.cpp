#include <xgrad/data/datasets/rows.hpp>

#include <cstring>
#include <vector>

#include <xgrad/core/error.hpp>
#include <xgrad/core/factory.hpp>
#include <xgrad/core/tensor_impl.hpp>
#include <xgrad/kernels/thread_pool.hpp>

namespace xgrad::data::datasets {

namespace {

// Bytes of rows a thread must copy before a second one joins (some microseconds of copying).
constexpr double kMinGatheredBytesPerThread = 64.0 * 1024.0;

}  // namespace

void check_index(std::size_t index, std::size_t size, const char* dataset) {
  if (index >= size) throw Error(concat(dataset, ": index ", index, " out of range for ", size, " examples"));
}

Tensor gather_rows(const Tensor& source, ArrayRef<std::size_t> indices, const char* dataset) {
  check(source.dim() >= 1, dataset, ": cannot take rows of a 0-dim tensor");
  const auto rows = static_cast<std::size_t>(source.size(0));
  for (const std::size_t index : indices) check_index(index, rows, dataset);
  if (source.requires_grad()) {
    // Keep the graph, as data[i] would: index_select is differentiable.
    std::vector<std::int64_t> positions(indices.begin(), indices.end());
    return source.index_select(0, from_buffer(positions.data(), {static_cast<std::int64_t>(positions.size())}));
  }
  Shape shape = source.shape();
  shape[0] = static_cast<std::int64_t>(indices.size());
  return visit_any_dtype(source.dtype(), [&](auto tag) {
    using T = decltype(tag);
    const Array<T>& from = array<T>(source);
    const std::size_t row_size = rows == 0 ? 0 : from.size() / rows;
    Array<T> out = Array<T>::from_shape(to_xshape(shape));
    if (row_size > 0) {
      // The rows of a shuffled batch lie anywhere in the dataset, so the copy mostly waits on memory:
      // blocks of rows on xgrad's threads wait side by side.
      const auto count = static_cast<std::int64_t>(indices.size());
      const double bytes = static_cast<double>(indices.size() * row_size * sizeof(T));
      const auto copy_rows = [&](std::int64_t first, std::int64_t last) {
        for (auto i = static_cast<std::size_t>(first); i < static_cast<std::size_t>(last); ++i)
          std::memcpy(out.data() + i * row_size, from.data() + indices[i] * row_size, row_size * sizeof(T));
      };
      thread_pool::for_item_blocks(count, bytes, kMinGatheredBytesPerThread, copy_rows);
    }
    return make_tensor(std::move(out));
  });
}

}  // namespace xgrad::data::datasets

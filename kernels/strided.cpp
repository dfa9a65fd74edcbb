#include <xgrad/kernels/strided.hpp>

#include <algorithm>
#include <numeric>
#include <utility>

namespace xgrad::strided {

std::int64_t Layout::numel() const {
  return std::accumulate(sizes.begin(), sizes.end(), std::int64_t{1}, std::multiplies<>());
}

bool Layout::is_contiguous() const {
  if (numel() == 0) return true;
  std::int64_t expected = 1;
  for (std::size_t d = sizes.size(); d-- > 0;) {
    if (sizes[d] == 0) return true;
    if (sizes[d] == 1) continue;
    if (strides[d] != expected) return false;
    expected *= sizes[d];
  }
  return true;
}

std::pair<std::int64_t, std::int64_t> Layout::extent() const {
  if (numel() == 0) return {offset, offset};
  std::int64_t low = offset, high = offset;
  for (std::size_t d = 0; d < sizes.size(); ++d) {
    const std::int64_t reach = (sizes[d] - 1) * strides[d];
    if (reach < 0) low += reach;
    else high += reach;
  }
  return {low, high + 1};
}

bool Layout::may_overlap() const {
  cached_vector<std::pair<std::int64_t, std::int64_t>> dims;  // (|stride|, size) of the dims that move
  for (std::size_t d = 0; d < sizes.size(); ++d) {
    if (sizes[d] == 0) return false;
    if (sizes[d] == 1) continue;
    if (strides[d] == 0) return true;
    dims.emplace_back(strides[d] < 0 ? -strides[d] : strides[d], sizes[d]);
  }
  std::sort(dims.begin(), dims.end());
  std::int64_t span = 0;  // the furthest the smaller dims reach
  for (const auto& [stride, size] : dims) {
    if (stride <= span) return true;
    span += (size - 1) * stride;
  }
  return false;
}

namespace {

// Calls visit(position, k) for the k-th element of the layout in row-major order, walking the
// innermost dimension as a run.
template <class Visit>
void walk(const Layout& layout, Visit visit) {
  const std::size_t rank = layout.sizes.size();
  const std::int64_t count = layout.numel();
  if (count == 0) return;
  if (rank == 0) {
    visit(layout.offset, 0, 1, 0);
    return;
  }
  const std::int64_t inner = layout.sizes[rank - 1];
  const std::int64_t inner_stride = layout.strides[rank - 1];
  Dims index(rank, 0);
  std::int64_t position = layout.offset;
  for (std::int64_t k = 0; k < count; k += inner) {
    visit(position, k, inner, inner_stride);
    // Carry into the outer dimensions.
    for (std::size_t d = rank - 1; d-- > 0;) {
      position += layout.strides[d];
      if (++index[d] < layout.sizes[d]) break;
      position -= layout.strides[d] * layout.sizes[d];
      index[d] = 0;
    }
  }
}

}  // namespace

template <class T>
void gather(const T* buffer, const Layout& layout, T* dense) {
  walk(layout, [&](std::int64_t at, std::int64_t k, std::int64_t n, std::int64_t step) {
    T* out = dense + k;
    if (step == 1) std::copy_n(buffer + at, n, out);
    else
      for (std::int64_t i = 0; i < n; ++i) out[i] = buffer[at + i * step];
  });
}

template <class T>
void scatter(T* buffer, const Layout& layout, const T* dense) {
  walk(layout, [&](std::int64_t at, std::int64_t k, std::int64_t n, std::int64_t step) {
    const T* in = dense + k;
    if (step == 1) std::copy_n(in, n, buffer + at);
    else
      for (std::int64_t i = 0; i < n; ++i) buffer[at + i * step] = in[i];
  });
}

std::vector<std::int64_t> positions(const Layout& layout) {
  std::vector<std::int64_t> out(static_cast<std::size_t>(layout.numel()));
  walk(layout, [&](std::int64_t at, std::int64_t k, std::int64_t n, std::int64_t step) {
    for (std::int64_t i = 0; i < n; ++i) out[static_cast<std::size_t>(k + i)] = at + i * step;
  });
  return out;
}

template <class T>
void scatter_add(T* buffer, const Layout& layout, const T* dense) {
  walk(layout, [&](std::int64_t at, std::int64_t k, std::int64_t n, std::int64_t step) {
    const T* in = dense + k;
    for (std::int64_t i = 0; i < n; ++i) buffer[at + i * step] += in[i];
  });
}

// The element types of Storage.
template void gather<float>(const float*, const Layout&, float*);
template void scatter<float>(float*, const Layout&, const float*);
template void scatter_add<float>(float*, const Layout&, const float*);
template void gather<double>(const double*, const Layout&, double*);
template void scatter<double>(double*, const Layout&, const double*);
template void scatter_add<double>(double*, const Layout&, const double*);
template void gather<std::int64_t>(const std::int64_t*, const Layout&, std::int64_t*);
template void scatter<std::int64_t>(std::int64_t*, const Layout&, const std::int64_t*);
template void scatter_add<std::int64_t>(std::int64_t*, const Layout&, const std::int64_t*);
template void gather<bool>(const bool*, const Layout&, bool*);
template void scatter<bool>(bool*, const Layout&, const bool*);
template void scatter_add<bool>(bool*, const Layout&, const bool*);
template void gather<std::uint8_t>(const std::uint8_t*, const Layout&, std::uint8_t*);
template void scatter<std::uint8_t>(std::uint8_t*, const Layout&, const std::uint8_t*);
template void scatter_add<std::uint8_t>(std::uint8_t*, const Layout&, const std::uint8_t*);

}  // namespace xgrad::strided

#pragma once
// Library-internal: max pooling with 2 x 2 windows at stride 2 and no padding, the pooling of
// nearly every small CNN, for ops/pool.cpp. Each window gives its first largest value in row-major
// order, or its last NaN, and that value's position in its plane (h * W + w): what PyTorch's CPU
// kernel and ops/pool.cpp's general loop give.
#include <cstdint>

namespace xgrad::max_pool_2x2 {

// The sizes of `planes` input planes of in_h x in_w and their out_h x out_w outputs, with
// 2 * out_h <= in_h and 2 * out_w <= in_w (a trailing odd row or column is never read).
struct Planes {
  std::int64_t planes, in_h, in_w, out_h, out_w;
};

// y[p, oh, ow] = max of x[p, 2oh .. 2oh+1, 2ow .. 2ow+1], index[p, oh, ow] = where it sits.
void forward(const Planes& s, const float* x, float* y, std::int64_t* index);
void forward(const Planes& s, const double* x, double* y, std::int64_t* index);

}  // namespace xgrad::max_pool_2x2

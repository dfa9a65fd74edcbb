#include <xgrad/kernels/max_pool_2x2.hpp>

#include <algorithm>
#include <cmath>
#include <limits>

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#include <immintrin.h>
#define XGRAD_MAX_POOL_AVX512 1
#endif

namespace xgrad::max_pool_2x2 {

namespace {

// One window, a b in the top row and c d below, whose top-left element sits at ia and bottom-left
// at ic. Without NaN it is decided as two independent pairs and a final comparison (the lower pair
// wins only when strictly larger, so the first maximum still wins): a chain of two comparisons
// where a scan of the four waits on four in a row.
template <class T>
void max_of_four(T a, T b, T c, T d, std::int64_t ia, std::int64_t ic, T& value, std::int64_t& index) {
  if (std::isnan(a) || std::isnan(b) || std::isnan(c) || std::isnan(d)) {
    const T candidates[4] = {a, b, c, d};
    const std::int64_t positions[4] = {ia, ia + 1, ic, ic + 1};
    index = ia;
    value = -std::numeric_limits<T>::infinity();
    for (int i = 0; i < 4; ++i)
      if (candidates[i] > value || std::isnan(candidates[i])) {
        value = candidates[i];
        index = positions[i];
      }
    return;
  }
  const bool top_right = b > a, bottom_right = d > c;
  const T top = top_right ? b : a, bottom = bottom_right ? d : c;
  const bool lower = bottom > top;
  value = lower ? bottom : top;
  index = lower ? ic + bottom_right : ia + top_right;
}

// One output row from the input rows `top` and `bottom`; top_at is top[0]'s position in its plane.
// The first loop is max_of_four without its NaN test, written so that a compiler makes every choice
// a vector select; a row that held a NaN is done again by max_of_four.
template <class T>
void row(const T* top, const T* bottom, std::int64_t out_w, std::int64_t top_at, std::int64_t in_w, T* out,
         std::int64_t* index) {
  int nans = 0;  // a count, not a bool: GCC vectorises an integer sum, not a bool's |=
  for (std::int64_t ow = 0; ow < out_w; ++ow) {
    const T a = top[2 * ow], b = top[2 * ow + 1], c = bottom[2 * ow], d = bottom[2 * ow + 1];
    nans += (a != a) + (b != b) + (c != c) + (d != d);
    const bool top_right = b > a, bottom_right = d > c;
    const T upper = top_right ? b : a, lower = bottom_right ? d : c;
    const bool below = lower > upper;
    out[ow] = below ? lower : upper;
    index[ow] = top_at + 2 * ow + (below ? in_w + bottom_right : top_right);
  }
  if (nans == 0) return;
  for (std::int64_t ow = 0; ow < out_w; ++ow)
    max_of_four(top[2 * ow], top[2 * ow + 1], bottom[2 * ow], bottom[2 * ow + 1], top_at + 2 * ow,
                top_at + in_w + 2 * ow, out[ow], index[ow]);
}

template <class T, class Row>
void each_row(const Planes& s, const T* x, T* y, std::int64_t* index, const Row& row) {
  for (std::int64_t plane = 0; plane < s.planes; ++plane)
    for (std::int64_t oh = 0; oh < s.out_h; ++oh) {
      const std::int64_t top_at = 2 * oh * s.in_w, o = (plane * s.out_h + oh) * s.out_w;
      const T* top = x + plane * s.in_h * s.in_w + top_at;
      row(top, top + s.in_w, s.out_w, top_at, s.in_w, y + o, index + o);
    }
}

#ifdef XGRAD_MAX_POOL_AVX512
// Sixteen windows at a time in AVX-512 registers, with masked loads and stores for the end of a
// row: the rows of small CNNs are 4 to 16 windows long, too short for a compiler's vector loop,
// and a branch per comparison is mispredicted on half of the windows of random data. A chunk that
// holds a NaN is redone by max_of_four.
__attribute__((target("avx512f"))) void row_avx512(const float* top, const float* bottom, std::int64_t out_w,
                                                    std::int64_t top_at, std::int64_t in_w, float* out,
                                                    std::int64_t* index) {
  const __m512i evens = _mm512_setr_epi32(0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30);
  const __m512i odds = _mm512_add_epi32(evens, _mm512_set1_epi32(1));
  const __m512i one = _mm512_set1_epi32(1), below_left = _mm512_set1_epi32(static_cast<int>(in_w));
  const __m512i below_right = _mm512_add_epi32(below_left, one);
  for (std::int64_t first = 0; first < out_w; first += 16) {
    const std::int64_t count = std::min<std::int64_t>(16, out_w - first);
    const auto lanes = static_cast<__mmask16>((1u << count) - 1u);
    // 2 * count inputs per row: the first 16 and the rest.
    const auto low = static_cast<__mmask16>(count >= 8 ? 0xffffu : (1u << (2 * count)) - 1u);
    const auto high = static_cast<__mmask16>(count > 8 ? (1u << (2 * count - 16)) - 1u : 0u);
    const float* t = top + 2 * first;
    const float* b = bottom + 2 * first;
    const __m512i t0 = _mm512_castps_si512(_mm512_maskz_loadu_ps(low, t));
    const __m512i t1 = _mm512_castps_si512(_mm512_maskz_loadu_ps(high, t + 16));
    const __m512i b0 = _mm512_castps_si512(_mm512_maskz_loadu_ps(low, b));
    const __m512i b1 = _mm512_castps_si512(_mm512_maskz_loadu_ps(high, b + 16));
    const __m512 top_left = _mm512_castsi512_ps(_mm512_permutex2var_epi32(t0, evens, t1));
    const __m512 top_right = _mm512_castsi512_ps(_mm512_permutex2var_epi32(t0, odds, t1));
    const __m512 bottom_left = _mm512_castsi512_ps(_mm512_permutex2var_epi32(b0, evens, b1));
    const __m512 bottom_right = _mm512_castsi512_ps(_mm512_permutex2var_epi32(b0, odds, b1));
    const __mmask16 nan = _mm512_cmp_ps_mask(top_left, top_right, _CMP_UNORD_Q) |
                          _mm512_cmp_ps_mask(bottom_left, bottom_right, _CMP_UNORD_Q);
    if ((nan & lanes) != 0) {
      row(t, b, count, top_at + 2 * first, in_w, out + first, index + first);
      continue;
    }
    const __mmask16 right_above = _mm512_cmp_ps_mask(top_right, top_left, _CMP_GT_OQ);
    const __mmask16 right_below = _mm512_cmp_ps_mask(bottom_right, bottom_left, _CMP_GT_OQ);
    const __m512 upper = _mm512_mask_blend_ps(right_above, top_left, top_right);
    const __m512 lower = _mm512_mask_blend_ps(right_below, bottom_left, bottom_right);
    const __mmask16 below = _mm512_cmp_ps_mask(lower, upper, _CMP_GT_OQ);
    _mm512_mask_storeu_ps(out + first, lanes, _mm512_mask_blend_ps(below, upper, lower));
    // Position in the plane: top_at + 2 * (first + lane) + (0, 1, in_w or in_w + 1).
    const __m512i step = _mm512_maskz_mov_epi32(right_above, one);
    const __m512i step_below = _mm512_mask_mov_epi32(below_left, right_below, below_right);
    const __m512i column =
        _mm512_slli_epi32(_mm512_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15), 1);
    const __m512i offset = _mm512_add_epi32(column, _mm512_mask_mov_epi32(step, below, step_below));
    // (The zero-masking forms: GCC 12's unmasked ones start from an "undefined" vector, which
    // -Wmaybe-uninitialized reports.)
    const __m512i start = _mm512_set1_epi64(top_at + 2 * first);
    const __m512i offset_low = _mm512_maskz_cvtepi32_epi64(0xff, _mm512_maskz_extracti64x4_epi64(0xff, offset, 0));
    const __m512i offset_high = _mm512_maskz_cvtepi32_epi64(0xff, _mm512_maskz_extracti64x4_epi64(0xff, offset, 1));
    _mm512_mask_storeu_epi64(index + first, static_cast<__mmask8>(lanes), _mm512_add_epi64(start, offset_low));
    _mm512_mask_storeu_epi64(index + first + 8, static_cast<__mmask8>(lanes >> 8),
                             _mm512_add_epi64(start, offset_high));
  }
}

bool has_avx512() {
  static const bool supported = __builtin_cpu_supports("avx512f");
  return supported;
}
#endif

}  // namespace

void forward(const Planes& s, const float* x, float* y, std::int64_t* index) {
#ifdef XGRAD_MAX_POOL_AVX512
  // Offsets within a row are computed in 32 bits.
  if (has_avx512() && s.in_w < (std::int64_t{1} << 29)) return each_row(s, x, y, index, row_avx512);
#endif
  each_row(s, x, y, index, row<float>);
}

void forward(const Planes& s, const double* x, double* y, std::int64_t* index) {
  each_row(s, x, y, index, row<double>);
}

}  // namespace xgrad::max_pool_2x2

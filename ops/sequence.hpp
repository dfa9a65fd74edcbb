#pragma once
// Ops for sequences: the masks, orderings, running totals and rearrangements that language models
// and attention use. Each is PyTorch 1.13's op of the same name, with its defaults, its gradient
// (and node name) and its errors; each gradient is itself made of recorded ops, so it can be
// differentiated again (create_graph).
//
// A dim may be negative and counts from the end; a 0-dim tensor accepts dim 0 and -1. Ops that only
// move elements (tril, triu, flip, roll, repeat, repeat_interleave, sort's values, topk's values,
// constant_pad_nd) work on every dtype and are differentiable for float32 and float64; indices are
// int64.
#include <cstdint>
#include <optional>
#include <tuple>

#include <xgrad/core/scalar.hpp>
#include <xgrad/core/tensor.hpp>

namespace xgrad {

// ---- masks of a matrix ----------------------------------------------------------------------------

// The lower (tril) or upper (triu) triangle of the last two dims, the rest zero: element (i, j)
// is kept when j - i <= diagonal (tril) or j - i >= diagonal (triu). diagonal = 0 is the main
// diagonal, > 0 above it, < 0 below. x needs at least 2 dims. d/dx = tril(g) / triu(g).
Tensor tril(const Tensor& x, std::int64_t diagonal = 0);
Tensor triu(const Tensor& x, std::int64_t diagonal = 0);

// ---- orderings ------------------------------------------------------------------------------------

// (values, indices) of x sorted along dim, ascending unless descending. NaN sorts above every
// number (last ascending, first descending). Equal values keep their order (a stable sort); PyTorch's
// default may order ties differently on rows of more than 16 elements, its stable=true does not.
// d/dx = g put back at the indices (SortBackward0).
std::tuple<Tensor, Tensor> sort(const Tensor& x, std::int64_t dim = -1, bool descending = false);
// libtorch's overload with the stable flag; the sort is stable either way (SortBackward1).
std::tuple<Tensor, Tensor> sort(const Tensor& x, std::optional<bool> stable, std::int64_t dim = -1,
                                bool descending = false);
// The indices of sort(x, dim, descending); not differentiable.
Tensor argsort(const Tensor& x, std::int64_t dim = -1, bool descending = false);
// The k largest (or smallest) elements along dim and their int64 indices, as torch.topk: sorted
// from the largest (smallest) on. Among equal values the lower index comes first. PyTorch leaves the
// order unspecified when sorted is false; here it is the sorted order either way. 0 <= k <= size
// of dim, else an Error. bool is refused, as in PyTorch. d/dx = g put back at the indices
// (TopkBackward0).
std::tuple<Tensor, Tensor> topk(const Tensor& x, std::int64_t k, std::int64_t dim = -1, bool largest = true,
                                bool sorted = true);

// ---- sampling -------------------------------------------------------------------------------------

// num_samples int64 category indices drawn for each row of probs (1-D [C], or 2-D [N, C] giving
// [num_samples] or [N, num_samples]), each with probability proportional to its weight, from the
// global generator (manual_seed). Weights are floating, finite, >= 0 with a positive sum per row.
// Without replacement a category is drawn at most once (num_samples <= C): each draw is proportional
// to the weights not drawn yet; once those are all zero, the remaining categories are drawn
// uniformly. Not differentiable. The draws differ from PyTorch's random stream, not in distribution.
Tensor multinomial(const Tensor& probs, std::int64_t num_samples, bool replacement = false);

// ---- running totals -------------------------------------------------------------------------------

// out[i] = x[0] + ... + x[i] along dim (cumsum) or x[0] * ... * x[i] (cumprod). An integer or bool
// x gives int64, as PyTorch; dtype converts x first. d cumsum/dx = g summed from the end
// (CumsumBackward0); d cumprod/dx_k = sum over i >= k of g_i * prod_{j <= i, j != k} x_j, exact at
// zeros of x too (CumprodBackward0).
Tensor cumsum(const Tensor& x, std::int64_t dim, std::optional<ScalarType> dtype = std::nullopt);
Tensor cumprod(const Tensor& x, std::int64_t dim, std::optional<ScalarType> dtype = std::nullopt);

// ---- rearrangements -------------------------------------------------------------------------------

// x reversed along each of dims (each dim at most once). A copy, as PyTorch's. d/dx = flip(g, dims).
Tensor flip(const Tensor& x, IntArrayRef dims);
// x shifted by shifts[i] places along dims[i], elements leaving one end entering at the other; with
// no dims, the flattened x shifted by shifts[0] and given its shape back. d/dx = roll(g, -shifts).
Tensor roll(const Tensor& x, IntArrayRef shifts, IntArrayRef dims = {});
// x tiled repeats[d] times along each dim, as torch.Tensor.repeat: repeats may have more entries
// than x has dims (x gains leading dims of size 1 first), never fewer. d/dx = g's tiles summed.
Tensor repeat(const Tensor& x, IntArrayRef repeats);
// Each element (each slice along dim) repeated `repeats` times in place, as torch.repeat_interleave:
// [a, b] with 2 gives [a, a, b, b]. Without dim, x is flattened first. repeats may be an int64
// tensor of one count per slice (or a single count), counts >= 0. output_size, when given, must be
// the result's size along dim. An index_select, so d/dx adds the copies' gradients
// (IndexSelectBackward0).
Tensor repeat_interleave(const Tensor& x, std::int64_t repeats, std::optional<std::int64_t> dim = std::nullopt,
                         std::optional<std::int64_t> output_size = std::nullopt);
Tensor repeat_interleave(const Tensor& x, const Tensor& repeats, std::optional<std::int64_t> dim = std::nullopt,
                         std::optional<std::int64_t> output_size = std::nullopt);
// The one-tensor form: for counts [2, 0, 1], the indices [0, 0, 2] (each index i repeats[i] times).
Tensor repeat_interleave(const Tensor& repeats, std::optional<std::int64_t> output_size = std::nullopt);

// ---- encodings and padding ------------------------------------------------------------------------

// int64 class indices [*] as int64 one-hot vectors [*, num_classes]; num_classes = -1 takes the
// largest index + 1. Indices must lie in [0, num_classes). Not differentiable.
Tensor one_hot(const Tensor& indices, std::int64_t num_classes = -1);
// x padded with `value` as torch.constant_pad_nd: pad lists (before, after) pairs from the last dim
// backwards ({left, right, top, bottom} pads the last two dims); a negative amount crops. The value
// takes x's dtype (1.5 pads an int64 tensor with 1). d/dx = g cropped back (ConstantPadNdBackward0).
Tensor constant_pad_nd(const Tensor& x, IntArrayRef pad, const Scalar& value = 0);

// ---- similarity -----------------------------------------------------------------------------------

// sum(x1 / n1 * x2 / n2) along dim, n = sqrt(max(sum x^2, eps^2)), after x1 and x2 broadcast, as
// PyTorch 1.13 computes it. Its clamp happens outside autograd: where it acts, the gradient still
// flows through sum x^2, with the square root's derivative taken at eps (so a zero vector x1 gets
// x2 / (||x2|| eps) times the upstream). Integer operands take the other's floating dtype;
// float32 with float64 gives float64.
Tensor cosine_similarity(const Tensor& x1, const Tensor& x2, std::int64_t dim = 1, double eps = 1e-8);

}  // namespace xgrad

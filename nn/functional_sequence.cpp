#include <xgrad/nn/functional_sequence.hpp>

#include <algorithm>
#include <vector>

#include <xgrad/core/error.hpp>
#include <xgrad/core/factory.hpp>
#include <xgrad/ops/elementwise.hpp>
#include <xgrad/ops/indexing.hpp>
#include <xgrad/ops/reduce.hpp>
#include <xgrad/ops/sequence.hpp>

namespace xgrad::nn::functional {

namespace {

const char* mode_name(const PadFuncOptions::mode_t& mode) {
  if (std::holds_alternative<enumtype::kReflect>(mode)) return "kReflect";
  if (std::holds_alternative<enumtype::kReplicate>(mode)) return "kReplicate";
  if (std::holds_alternative<enumtype::kCircular>(mode)) return "kCircular";
  return "kConstant";
}

// PyTorch's name for the mode in its messages.
const char* pytorch_mode_name(const PadFuncOptions::mode_t& mode) {
  if (std::holds_alternative<enumtype::kReflect>(mode)) return "reflect";
  if (std::holds_alternative<enumtype::kReplicate>(mode)) return "replicate";
  return "circular";
}

// For one dim of size n padded by (before, after), the input position each output position reads.
// reflect mirrors about the edge elements (..., x2, x1 | x0, x1, ...), replicate repeats them, and
// circular wraps around, after a negative amount has cropped the dim first, as PyTorch's
// _pad_circular does. Negative amounts crop in every mode.
std::vector<std::int64_t> source_positions(const PadFuncOptions::mode_t& mode, std::int64_t n, std::int64_t before,
                                           std::int64_t after) {
  std::vector<std::int64_t> positions(static_cast<std::size_t>(n + before + after));
  const auto out = static_cast<std::int64_t>(positions.size());
  if (std::holds_alternative<enumtype::kCircular>(mode)) {
    const std::int64_t first = std::max<std::int64_t>(-before, 0);
    const std::int64_t kept = n - first - std::max<std::int64_t>(-after, 0);
    const std::int64_t lead = std::max<std::int64_t>(before, 0);
    for (std::int64_t j = 0; j < out; ++j)
      positions[static_cast<std::size_t>(j)] = first + ((j - lead) % kept + kept) % kept;
    return positions;
  }
  const bool reflect = std::holds_alternative<enumtype::kReflect>(mode);
  for (std::int64_t j = 0; j < out; ++j) {
    const std::int64_t i = j - before;
    positions[static_cast<std::size_t>(j)] =
        reflect ? (i < 0 ? -i : (i >= n ? 2 * (n - 1) - i : i)) : std::clamp<std::int64_t>(i, 0, n - 1);
  }
  return positions;
}

// reflect, replicate and circular padding as one index_select per padded dim: its backward adds
// each output's gradient back onto the input element it read, which is each mode's derivative.
Tensor pad_by_positions(const Tensor& input, const PadFuncOptions& options) {
  const std::vector<std::int64_t>& amounts = options.pad();
  const auto& mode = options.mode();
  const std::int64_t pairs = static_cast<std::int64_t>(amounts.size() / 2);
  const std::int64_t rank = input.dim();
  // PyTorch's dispatch: 1, 2 or 3 padded dims, on an input with one or two more (channels, batch).
  // libtorch 1.13 pads circularly only a batched input; later PyTorch, as here, unbatched ones too.
  if (amounts.size() > 6 || (rank != pairs + 1 && rank != pairs + 2))
    throw Error(concat("pad: Only 2D, 3D, 4D, 5D padding with non-constant padding are supported for now (mode ",
                       mode_name(mode), ", pad ", shape_str(amounts), ", input of shape ", shape_str(input.shape()),
                       ")"));
  if (options.value() != 0)
    throw Error(concat("pad: Padding mode \"", pytorch_mode_name(mode), "\" doesn't take in value argument (value ",
                       options.value(), ")"));
  if (!std::holds_alternative<enumtype::kCircular>(mode) && !is_floating(input.dtype()))
    throw Error(concat("pad: mode ", mode_name(mode), " needs a floating point input (float32 or float64), got ",
                       dtype_name(input.dtype()), ", as PyTorch's reflection and replication kernels"));
  Tensor out = input;
  for (std::int64_t pair = 0; pair < pairs; ++pair) {
    const std::int64_t dim = rank - 1 - pair;
    const std::int64_t n = input.size(dim);
    const std::int64_t before = amounts[static_cast<std::size_t>(2 * pair)];
    const std::int64_t after = amounts[static_cast<std::size_t>(2 * pair + 1)];
    if (std::holds_alternative<enumtype::kReflect>(mode) && (before >= n || after >= n))
      throw Error(concat("pad: Argument #4: Padding size should be less than the corresponding input dimension, but "
                         "got: padding (", before, ", ", after, ") at dimension ", dim, " of input ",
                         shape_str(input.shape())));
    if (std::holds_alternative<enumtype::kCircular>(mode) && (before > n || after > n))
      throw Error(concat("pad: Padding value causes wrapping around more than once (padding (", before, ", ", after,
                         ") at dimension ", dim, " of input ", shape_str(input.shape()), ")"));
    const std::int64_t kept = n - std::max<std::int64_t>(-before, 0) - std::max<std::int64_t>(-after, 0);
    if (n + before + after < 1 || kept < 1)
      throw Error(concat("pad: input dimension ", dim, " of size ", n, " is too small for padding (", before, ", ",
                         after, ") in mode ", mode_name(mode), ": the output size would be ", n + before + after,
                         " (input of shape ", shape_str(input.shape()), ")"));
    std::vector<std::int64_t> positions = source_positions(mode, n, before, after);
    out = index_select(out, dim, from_buffer(positions.data(), {static_cast<std::int64_t>(positions.size())}));
  }
  return out;
}

}  // namespace

Tensor one_hot(const Tensor& tensor, std::int64_t num_classes) { return xgrad::one_hot(tensor, num_classes); }

Tensor pad(const Tensor& input, const PadFuncOptions& options) {
  check(input.defined(), "pad: input is an undefined tensor");
  const std::vector<std::int64_t>& amounts = options.pad();
  if (amounts.size() % 2 != 0)
    throw Error(concat("pad: Padding length must be divisible by 2, got ", amounts.size(), " amounts ",
                       shape_str(amounts)));
  if (static_cast<std::int64_t>(amounts.size() / 2) > input.dim())
    throw Error(concat("pad: Padding length too large: ", amounts.size(), " amounts ", shape_str(amounts),
                       " for an input of shape ", shape_str(input.shape())));
  if (!std::holds_alternative<enumtype::kConstant>(options.mode())) return pad_by_positions(input, options);
  return constant_pad_nd(input, amounts, options.value());
}

Tensor normalize(const Tensor& input, NormalizeFuncOptions options) {
  check(input.defined(), "normalize: input is an undefined tensor");
  const Tensor denominator = norm(input, options.p(), options.dim(), true).clamp_min(options.eps()).expand_as(input);
  return input / denominator;
}

Tensor cosine_similarity(const Tensor& x1, const Tensor& x2, const CosineSimilarityFuncOptions& options) {
  return xgrad::cosine_similarity(x1, x2, options.dim(), options.eps());
}

}  // namespace xgrad::nn::functional

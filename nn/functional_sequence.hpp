#pragma once
// The functional forms for sequences, as torch::nn::functional's:
//
//   namespace F = xgrad::nn::functional;
//   Tensor targets = F::one_hot(tokens, vocabulary);                        // int64 [*, vocabulary]
//   Tensor padded = F::pad(x, F::PadFuncOptions({0, 2}).value(-1.0));        // 2 more at the end
//   Tensor unit = F::normalize(x, F::NormalizeFuncOptions().p(2).dim(-1));
//   Tensor cos = F::cosine_similarity(a, b, F::CosineSimilarityFuncOptions().dim(-1));
//
// Options have libtorch's names and defaults; the ops behind them are in ops/sequence.hpp.
#include <cstdint>
#include <variant>
#include <vector>

#include <xgrad/core/arg.hpp>
#include <xgrad/core/enum.hpp>
#include <xgrad/core/tensor.hpp>

namespace xgrad::nn {

// F::pad's options: pad lists (before, after) amounts from the last dim backwards, as
// {left, right} or {left, right, top, bottom}; mode (kConstant, or kReflect, kReplicate, kCircular
// for 1 to 3 padded dims of an input with one or two more); value, the fill of kConstant (0).
class PadFuncOptions {
 public:
  using mode_t = std::variant<enumtype::kConstant, enumtype::kReflect, enumtype::kReplicate, enumtype::kCircular>;
  PadFuncOptions(std::vector<std::int64_t> pad) : pad_(std::move(pad)) {}  // NOLINT(google-explicit-constructor)
  XGRAD_ARG(std::vector<std::int64_t>, pad);
  XGRAD_ARG(mode_t, mode) = kConstant;
  XGRAD_ARG(double, value) = 0;
};

// F::normalize's options: the norm's exponent p (2), the dim it runs along (1), and eps (1e-12),
// the smallest norm divided by.
class NormalizeFuncOptions {
 public:
  XGRAD_ARG(double, p) = 2.0;
  XGRAD_ARG(std::int64_t, dim) = 1;
  XGRAD_ARG(double, eps) = 1e-12;
};

// F::cosine_similarity's options: dim (1) and eps (1e-8), the smallest norm divided by.
class CosineSimilarityOptions {
 public:
  XGRAD_ARG(std::int64_t, dim) = 1;
  XGRAD_ARG(double, eps) = 1e-8;
};

namespace functional {

using PadFuncOptions = nn::PadFuncOptions;
using NormalizeFuncOptions = nn::NormalizeFuncOptions;
using CosineSimilarityFuncOptions = nn::CosineSimilarityOptions;

// int64 class indices [*] as int64 one-hot rows [*, num_classes]; -1 infers the class count from
// the largest index.
Tensor one_hot(const Tensor& tensor, std::int64_t num_classes = -1);
// x padded by options.pad(): with options.value() (constant_pad_nd), or by mirroring, repeating or
// wrapping x's own elements. Errors name the pad and shape: an odd number of amounts, more pairs
// than x has dims, a crop past a dim's size, and PyTorch's limits of the other modes.
Tensor pad(const Tensor& input, const PadFuncOptions& options);
// input / max(||input||_p along dim, eps), the norm kept as a dim of size 1 (libtorch's formula,
// so the gradient is that of its norm, clamp_min and division).
Tensor normalize(const Tensor& input, NormalizeFuncOptions options = {});
// The cosine of the angle between x1 and x2 along dim (see xgrad::cosine_similarity).
Tensor cosine_similarity(const Tensor& x1, const Tensor& x2, const CosineSimilarityFuncOptions& options = {});

}  // namespace functional

}  // namespace xgrad::nn

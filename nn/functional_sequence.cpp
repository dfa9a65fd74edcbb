#include <xgrad/nn/functional_sequence.hpp>

#include <xgrad/core/error.hpp>
#include <xgrad/ops/elementwise.hpp>
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

}  // namespace

Tensor one_hot(const Tensor& tensor, std::int64_t num_classes) { return xgrad::one_hot(tensor, num_classes); }

Tensor pad(const Tensor& input, const PadFuncOptions& options) {
  check(input.defined(), "pad: input is an undefined tensor");
  const std::vector<std::int64_t>& amounts = options.pad();
  if (!std::holds_alternative<enumtype::kConstant>(options.mode()))
    throw Error(concat("pad: mode ", mode_name(options.mode()), " is not implemented; xgrad pads with kConstant only"));
  if (amounts.size() % 2 != 0)
    throw Error(concat("pad: Padding length must be divisible by 2, got ", amounts.size(), " amounts ",
                       shape_str(amounts)));
  if (static_cast<std::int64_t>(amounts.size() / 2) > input.dim())
    throw Error(concat("pad: Padding length too large: ", amounts.size(), " amounts ", shape_str(amounts),
                       " for an input of shape ", shape_str(input.shape())));
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

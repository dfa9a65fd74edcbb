#pragma once
// How a loss turns per-element losses into its result, as PyTorch's `reduction=` argument.

namespace xgrad {

// None keeps the per-element losses; Mean and Sum reduce them to a scalar; BatchMean (kl_div only)
// divides the sum by the batch size, the mathematically correct KL divergence per sample.
enum class Reduction { None, Mean, Sum, BatchMean };
inline constexpr Reduction kNone = Reduction::None;
inline constexpr Reduction kMean = Reduction::Mean;
inline constexpr Reduction kSum = Reduction::Sum;
inline constexpr Reduction kBatchMean = Reduction::BatchMean;

const char* reduction_name(Reduction reduction);

}  // namespace xgrad

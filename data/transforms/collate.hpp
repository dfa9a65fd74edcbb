#pragma once
// A Collation turns a std::vector of examples into one batch object (Stack<> is the one xgrad has).
#include <vector>

#include <xgrad/data/example.hpp>
#include <xgrad/data/transforms/base.hpp>

namespace xgrad::data::transforms {

template <typename BatchType, typename T = std::vector<BatchType>>
using Collation = BatchTransform<T, BatchType>;

}  // namespace xgrad::data::transforms

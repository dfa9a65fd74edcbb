#include <xgrad/ops/embedding.hpp>

#include <algorithm>
#include <cmath>
#include <limits>
#include <vector>

#include <xgrad/core/factory.hpp>
#include <xgrad/core/tensor_impl.hpp>
#include <xgrad/ops/elementwise.hpp>

namespace xgrad {

namespace {

void check_lookup_arguments(const Tensor& weight, const Tensor& indices, const char* op) {
  check(weight.defined(), op, ": weight is an undefined tensor");
  check(indices.defined(), op, ": indices is an undefined tensor");
  if (weight.dim() != 2)
    throw Error(concat(op, ": weight must be 2-D (num_embeddings, embedding_dim), got shape ",
                       shape_str(weight.shape())));
  if (indices.dtype() != kInt64)
    throw Error(concat(op, ": indices must be int64 (kLong), got ", dtype_name(indices.dtype())));
  const std::int64_t rows = weight.size(0);
  const std::int64_t* index = array<std::int64_t>(indices).data();
  for (std::int64_t i = 0; i < indices.numel(); ++i)
    if (index[i] < 0 || index[i] >= rows)
      throw Error(concat(op, ": index ", index[i], " out of range for ", rows, " embeddings (weight of shape ",
                         shape_str(weight.shape()), ") at position ", i, " of indices of shape ",
                         shape_str(indices.shape())));
}

// What each looked-up row's gradient is multiplied by on its way back: 0 at padding_idx, else
// 1 / (how often its index occurs) with scale_grad_by_freq, else 1.
std::vector<double> row_factors(const Tensor& indices, std::int64_t num_weights, std::int64_t padding_idx,
                                bool scale_grad_by_freq) {
  const std::int64_t* index = array<std::int64_t>(indices).data();
  const auto count = static_cast<std::size_t>(indices.numel());
  std::vector<double> factors(count, 1.0);
  if (scale_grad_by_freq) {
    std::vector<std::int64_t> occurrences(static_cast<std::size_t>(num_weights), 0);
    for (std::size_t i = 0; i < count; ++i) ++occurrences[static_cast<std::size_t>(index[i])];
    for (std::size_t i = 0; i < count; ++i)
      factors[i] = 1.0 / static_cast<double>(occurrences[static_cast<std::size_t>(index[i])]);
  }
  for (std::size_t i = 0; i < count; ++i)
    if (index[i] == padding_idx) factors[i] = 0.0;
  return factors;
}

bool all_ones(const std::vector<double>& factors) {
  return std::all_of(factors.begin(), factors.end(), [](double f) { return f == 1.0; });
}

Shape lookup_shape(const Tensor& indices, std::int64_t dim) {
  Shape shape = indices.shape();
  shape.push_back(dim);
  return shape;
}

// The lookup without checks or recording: out[i, :] = weight[index[i], :].
Tensor gather_rows(const Tensor& weight, const Tensor& indices) {
  const std::int64_t dim = weight.size(1);
  const std::int64_t* index = array<std::int64_t>(indices).data();
  return visit_any_dtype(weight.dtype(), [&](auto tag) {
    using T = decltype(tag);
    Array<T> out = Array<T>::from_shape(to_xshape(lookup_shape(indices, dim)));
    const T* table = array<T>(weight).data();
    for (std::int64_t i = 0; i < indices.numel(); ++i)
      std::copy(table + index[i] * dim, table + (index[i] + 1) * dim, out.data() + i * dim);
    return make_tensor(std::move(out));
  });
}

// d/dg of the scatter below is a gather: gg's rows read back at the indices, times the same factors
// (0 at padding_idx, 1 / count with scale_grad_by_freq)
struct EmbeddingDenseBackwardBackward final : Node {
  EmbeddingDenseBackwardBackward(const Tensor& indices, std::int64_t padding_idx, bool scale_grad_by_freq)
      : indices(indices, /*is_output=*/false), padding_idx(padding_idx), scale_grad_by_freq(scale_grad_by_freq) {}
  const char* name() const override { return "EmbeddingDenseBackwardBackward0"; }
  const char* formula() const override {
    return "d (rows of g added at the indices)/d g = rows of gg read at the indices";
  }
  gradient_list backward(const Tensor& gg) override {
    const Tensor index = indices.unpack(*this);
    // embedding() is recorded when gg carries a graph, so this is differentiable once more.
    const Tensor gathered = embedding(gg, index);
    const std::vector<double> factors = row_factors(index, gg.size(0), padding_idx, scale_grad_by_freq);
    if (all_ones(factors)) return {gathered};
    Shape factor_shape = index.shape();
    factor_shape.push_back(1);
    return {gathered * from_buffer(factors.data(), factor_shape).to(gg.dtype())};
  }
  void release_saved() override { indices.reset(); }
  SavedTensor indices;
  std::int64_t padding_idx;
  bool scale_grad_by_freq;
};

// grad_weight[j, :] = sum over the positions i with indices[i] = j of factor_i grad[i, :]
Tensor embedding_dense_backward(const Tensor& grad, const Tensor& indices, std::int64_t num_weights,
                                std::int64_t padding_idx, bool scale_grad_by_freq) {
  const std::int64_t dim = grad.dim() > 0 ? grad.size(-1) : 0;
  const std::int64_t* index = array<std::int64_t>(indices).data();
  const std::vector<double> factors = row_factors(indices, num_weights, padding_idx, scale_grad_by_freq);
  Tensor out = visit_floating(grad.dtype(), "embedding backward", [&](auto tag) {
    using T = decltype(tag);
    Array<T> grad_weight = Array<T>::from_shape({static_cast<std::size_t>(num_weights), static_cast<std::size_t>(dim)});
    std::fill(grad_weight.begin(), grad_weight.end(), T(0));
    const T* g = array<T>(grad).data();
    T* target = grad_weight.data();
    for (std::int64_t i = 0; i < indices.numel(); ++i) {
      if (factors[static_cast<std::size_t>(i)] == 0.0) continue;
      const T factor = static_cast<T>(factors[static_cast<std::size_t>(i)]);
      T* row = target + index[i] * dim;
      const T* source = g + i * dim;
      for (std::int64_t k = 0; k < dim; ++k) row[k] += source[k] * factor;
    }
    return make_tensor(std::move(grad_weight));
  });
  if (any_requires_grad({&grad}))
    record(out, make_node<EmbeddingDenseBackwardBackward>(indices, padding_idx, scale_grad_by_freq), {&grad});
  return out;
}

// d embedding = the rows of g added into the rows they were read from (see embedding_dense_backward)
struct EmbeddingBackward final : Node {
  EmbeddingBackward(const Tensor& indices, std::int64_t num_weights, std::int64_t padding_idx,
                    bool scale_grad_by_freq)
      : indices(indices, /*is_output=*/false), num_weights(num_weights), padding_idx(padding_idx),
        scale_grad_by_freq(scale_grad_by_freq) {}
  const char* name() const override { return "EmbeddingBackward0"; }
  const char* formula() const override { return "d embedding(W, i)/d W = rows of g added at the indices"; }
  gradient_list backward(const Tensor& grad) override {
    // One scatter serves both paths: under create_graph it records its own (linear) backward.
    return {embedding_dense_backward(grad, indices.unpack(*this), num_weights, padding_idx, scale_grad_by_freq)};
  }
  void release_saved() override { indices.reset(); }
  SavedTensor indices;
  std::int64_t num_weights;
  std::int64_t padding_idx;
  bool scale_grad_by_freq;
};

// The norm_type-norm of n contiguous values, as torch.norm: inf the largest |x|, -inf the
// smallest, 0 the count of non-zeros.
template <class T>
double row_norm(const T* row, std::int64_t n, double p) {
  if (std::isinf(p)) {
    double best = p > 0 ? 0.0 : std::numeric_limits<double>::infinity();
    for (std::int64_t k = 0; k < n; ++k) {
      const double a = std::abs(static_cast<double>(row[k]));
      best = p > 0 ? std::max(best, a) : std::min(best, a);
    }
    return best;
  }
  double total = 0.0;
  for (std::int64_t k = 0; k < n; ++k) {
    const double a = std::abs(static_cast<double>(row[k]));
    total += p == 0.0 ? (a != 0.0 ? 1.0 : 0.0) : std::pow(a, p);
  }
  return p == 0.0 ? total : std::pow(total, 1.0 / p);
}

}  // namespace

Tensor embedding(const Tensor& weight, const Tensor& indices, std::int64_t padding_idx, bool scale_grad_by_freq,
                 bool sparse) {
  if (sparse)
    throw Error("embedding: sparse = true asks for a sparse gradient, and xgrad has no sparse tensors; "
                "pass sparse = false (the gradient is then a dense [num_embeddings, dim] tensor)");
  check_lookup_arguments(weight, indices, "embedding");
  Tensor out = gather_rows(weight, indices);
  if (any_requires_grad({&weight}))
    record(out, make_node<EmbeddingBackward>(indices, weight.size(0), padding_idx, scale_grad_by_freq),
           {&weight});
  return out;
}

Tensor embedding_renorm_(const Tensor& weight, const Tensor& indices, double max_norm, double norm_type) {
  check_lookup_arguments(weight, indices, "embedding_renorm_");
  if (!is_floating(weight.dtype()))
    throw Error(concat("embedding_renorm_: weight must be floating point, got ", dtype_name(weight.dtype())));
  const std::int64_t* index = array<std::int64_t>(indices).data();
  std::vector<std::int64_t> rows(index, index + indices.numel());
  std::sort(rows.begin(), rows.end());
  rows.erase(std::unique(rows.begin(), rows.end()), rows.end());
  const std::int64_t dim = weight.size(1);
  bool changed = false;
  visit_floating(weight.dtype(), "embedding_renorm_", [&](auto tag) {
    using T = decltype(tag);
    T* table = mutable_array<T>(weight).data();
    for (const std::int64_t r : rows) {
      T* row = table + r * dim;
      const double norm = row_norm(row, dim, norm_type);
      if (!(norm > max_norm)) continue;
      const T scale = static_cast<T>(max_norm / (norm + 1e-7));
      for (std::int64_t k = 0; k < dim; ++k) row[k] *= scale;
      changed = true;
    }
  });
  if (changed) weight.impl()->storage->bump_version();
  return weight;
}

}  // namespace xgrad

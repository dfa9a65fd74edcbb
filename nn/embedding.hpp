#pragma once
// The embedding layer, as torch::nn::Embedding, and its functional form: a learnable table of
// num_embeddings vectors of size embedding_dim, looked up by int64 indices.
//
//   nn::Embedding emb(10000, 64);               // weight (10000, 64), N(0, 1)
//   Tensor vectors = emb(tokens);               // tokens int64 (B, T) -> (B, T, 64)
//   nn::Embedding(nn::EmbeddingOptions(10, 3).padding_idx(0))   // row 0 zero and never trained
//   auto frozen = nn::Embedding::from_pretrained(table);        // a fixed table
//
// Formulas and gradients: ops/embedding.hpp.
#include <cstdint>
#include <iosfwd>
#include <optional>

#include <xgrad/core/arg.hpp>
#include <xgrad/core/tensor.hpp>
#include <xgrad/nn/module.hpp>
#include <xgrad/nn/module_holder.hpp>

namespace xgrad::nn {

// EmbeddingOptions(num_embeddings, embedding_dim) with padding_idx (none), max_norm (none),
// norm_type (2), scale_grad_by_freq (false), sparse (false) and _weight (undefined: a new table),
// as libtorch's. A negative padding_idx counts from the end.
class EmbeddingOptions {
 public:
  EmbeddingOptions(std::int64_t num_embeddings, std::int64_t embedding_dim)
      : num_embeddings_(num_embeddings), embedding_dim_(embedding_dim) {}

  XGRAD_ARG(std::int64_t, num_embeddings);
  XGRAD_ARG(std::int64_t, embedding_dim);
  // The row that stays zero and gets no gradient (a "no token here" entry).
  XGRAD_ARG(std::optional<std::int64_t>, padding_idx);
  // Rows looked up whose norm exceeds max_norm are scaled down to it, in place, before each lookup.
  XGRAD_ARG(std::optional<double>, max_norm);
  // The p of the norm max_norm bounds.
  XGRAD_ARG(double, norm_type) = 2.0;
  // Divide each row's gradient by how often its index occurs in the batch.
  XGRAD_ARG(bool, scale_grad_by_freq) = false;
  // Sparse gradients; xgrad has none, so true is an Error when the layer is made.
  XGRAD_ARG(bool, sparse) = false;
  // A table to use as the weight instead of a new N(0, 1) one (shape (num_embeddings, embedding_dim)).
  XGRAD_ARG(Tensor, _weight);
};

// Embedding::from_pretrained's options: freeze (true: the table does not train) and the lookup
// options of EmbeddingOptions.
class EmbeddingFromPretrainedOptions {
  XGRAD_ARG(bool, freeze) = true;
  XGRAD_ARG(std::optional<std::int64_t>, padding_idx);
  XGRAD_ARG(std::optional<double>, max_norm);
  XGRAD_ARG(double, norm_type) = 2.0;
  XGRAD_ARG(bool, scale_grad_by_freq) = false;
  XGRAD_ARG(bool, sparse) = false;
};

// The parameter "weight" (num_embeddings, embedding_dim), drawn from N(0, 1) by the global
// generator with the padding_idx row set to zero, as libtorch does.
// forward: int64 indices of any shape -> (*indices.shape, embedding_dim).
class EmbeddingImpl : public Module {
 public:
  EmbeddingImpl(std::int64_t num_embeddings, std::int64_t embedding_dim)
      : EmbeddingImpl(EmbeddingOptions(num_embeddings, embedding_dim)) {}
  explicit EmbeddingImpl(const EmbeddingOptions& options);

  Tensor forward(const Tensor& indices);
  // New N(0, 1) values, the padding row zeroed, in place.
  void reset_parameters();
  void reset();
  // Embedding(num_embeddings=10, embedding_dim=3[, padding_idx=0, max_norm=..., norm_type=...,
  // scale_grad_by_freq=true]), libtorch's text.
  void pretty_print(std::ostream& out) const override;

  EmbeddingOptions options;  // padding_idx already counted from the start
  Tensor weight;
};

// The holder, with libtorch's from_pretrained.
class Embedding : public ModuleHolder<EmbeddingImpl> {
 public:
  using ModuleHolder<EmbeddingImpl>::ModuleHolder;
  using Impl = EmbeddingImpl;
  // A layer whose weight is `embeddings` (2-D, shared, not copied), trainable unless freeze.
  static Embedding from_pretrained(const Tensor& embeddings, const EmbeddingFromPretrainedOptions& options = {});
};

namespace functional {

// F::embedding's options: padding_idx, max_norm, norm_type, scale_grad_by_freq, sparse.
class EmbeddingFuncOptions {
  XGRAD_ARG(std::optional<std::int64_t>, padding_idx);
  XGRAD_ARG(std::optional<double>, max_norm);
  XGRAD_ARG(double, norm_type) = 2.0;
  XGRAD_ARG(bool, scale_grad_by_freq) = false;
  XGRAD_ARG(bool, sparse) = false;
};

// xgrad::embedding(weight, input, ...) with the options: a negative padding_idx counts from the
// end (outside [-num_embeddings, num_embeddings) is an Error), and with max_norm the rows looked
// up are first renormalised in place (xgrad::embedding_renorm_), outside the graph.
Tensor embedding(const Tensor& input, const Tensor& weight, const EmbeddingFuncOptions& options = {});

}  // namespace functional

}  // namespace xgrad::nn

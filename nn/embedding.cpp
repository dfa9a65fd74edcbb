#include <xgrad/nn/embedding.hpp>

#include <ostream>

#include <xgrad/core/error.hpp>
#include <xgrad/core/factory.hpp>
#include <xgrad/core/grad_mode.hpp>
#include <xgrad/nn/init.hpp>
#include <xgrad/ops/compare.hpp>
#include <xgrad/ops/embedding.hpp>
#include <xgrad/ops/shape.hpp>

namespace xgrad::nn {

namespace {

// padding_idx counted from the start: -1 is the last row. Outside [-rows, rows) is an Error.
std::optional<std::int64_t> padding_from_start(const std::optional<std::int64_t>& padding_idx, std::int64_t rows,
                                               const char* who) {
  if (!padding_idx) return std::nullopt;
  const std::int64_t index = *padding_idx;
  if (index < -rows || index >= rows)
    throw Error(concat(who, ": padding_idx ", index, " must be within num_embeddings (", rows,
                       " rows: from ", -rows, " to ", rows - 1, ")"));
  return index < 0 ? index + rows : index;
}

void check_not_sparse(bool sparse, const char* who) {
  if (sparse)
    throw Error(concat(who, ": sparse = true asks for sparse gradients, and xgrad has no sparse tensors; "
                            "leave sparse false (the gradient is then a dense (num_embeddings, dim) tensor)"));
}

}  // namespace

EmbeddingImpl::EmbeddingImpl(const EmbeddingOptions& options) : options(options) {
  check(options.num_embeddings() >= 0 && options.embedding_dim() >= 0,
        "Embedding: num_embeddings and embedding_dim must not be negative, got num_embeddings=",
        options.num_embeddings(), " and embedding_dim=", options.embedding_dim());
  check_not_sparse(options.sparse(), "Embedding");
  this->options.padding_idx(padding_from_start(options.padding_idx(), options.num_embeddings(), "Embedding"));
  const Shape shape{options.num_embeddings(), options.embedding_dim()};
  if (options._weight().defined()) {
    if (options._weight().shape() != shape)
      throw Error(concat("Embedding: Shape of _weight does not match num_embeddings and embedding_dim: _weight has "
                         "shape ", shape_str(options._weight().shape()), ", expected ", shape_str(shape)));
    weight = register_parameter("weight", options._weight());
  } else {
    weight = register_parameter("weight", xgrad::empty(shape));
    reset_parameters();
  }
}

void EmbeddingImpl::reset_parameters() {
  init::normal_(weight);
  if (!options.padding_idx()) return;
  NoGradGuard no_grad;
  const Tensor padding_row = unsqueeze(eq(arange(options.num_embeddings()), *options.padding_idx()), 1);
  weight.masked_fill_(padding_row, 0);
}

void EmbeddingImpl::reset() { reset_parameters(); }

Tensor EmbeddingImpl::forward(const Tensor& indices) {
  functional::EmbeddingFuncOptions lookup;
  lookup.padding_idx(options.padding_idx())
      .max_norm(options.max_norm())
      .norm_type(options.norm_type())
      .scale_grad_by_freq(options.scale_grad_by_freq());
  return functional::embedding(indices, weight, lookup);
}

void EmbeddingImpl::pretty_print(std::ostream& out) const {
  out << "Embedding(num_embeddings=" << options.num_embeddings() << ", embedding_dim=" << options.embedding_dim();
  if (options.padding_idx()) out << ", padding_idx=" << *options.padding_idx();
  if (options.max_norm()) out << ", max_norm=" << *options.max_norm();
  if (options.norm_type() != 2) out << ", norm_type=" << options.norm_type();
  if (options.scale_grad_by_freq()) out << ", scale_grad_by_freq=true";
  out << ')';
}

Embedding Embedding::from_pretrained(const Tensor& embeddings, const EmbeddingFromPretrainedOptions& options) {
  check(embeddings.defined() && embeddings.dim() == 2,
        "Embedding::from_pretrained: Embeddings parameter is expected to be 2-dimensional, got shape ",
        embeddings.defined() ? shape_str(embeddings.shape()) : std::string("(undefined)"));
  Embedding embedding(EmbeddingOptions(embeddings.size(0), embeddings.size(1))
                          ._weight(embeddings)
                          .padding_idx(options.padding_idx())
                          .max_norm(options.max_norm())
                          .norm_type(options.norm_type())
                          .scale_grad_by_freq(options.scale_grad_by_freq())
                          .sparse(options.sparse()));
  embedding->weight.requires_grad_(!options.freeze());
  return embedding;
}

namespace functional {

Tensor embedding(const Tensor& input, const Tensor& weight, const EmbeddingFuncOptions& options) {
  check(weight.defined() && weight.dim() == 2, "embedding: weight must be 2-D (num_embeddings, embedding_dim), got ",
        weight.defined() ? shape_str(weight.shape()) : std::string("an undefined tensor"));
  check_not_sparse(options.sparse(), "embedding");
  const std::optional<std::int64_t> padding = padding_from_start(options.padding_idx(), weight.size(0), "embedding");
  if (options.max_norm()) {
    NoGradGuard no_grad;
    embedding_renorm_(weight, input, *options.max_norm(), options.norm_type());
  }
  return xgrad::embedding(weight, input, padding.value_or(-1), options.scale_grad_by_freq(), options.sparse());
}

}  // namespace functional

}  // namespace xgrad::nn

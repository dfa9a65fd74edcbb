#include <xgrad/nn/transformer.hpp>

#include <limits>
#include <type_traits>

#include <xgrad/core/error.hpp>
#include <xgrad/core/factory.hpp>
#include <xgrad/core/grad_mode.hpp>
#include <xgrad/nn/init.hpp>
#include <xgrad/ops/activation.hpp>
#include <xgrad/ops/elementwise.hpp>
#include <xgrad/ops/sequence.hpp>

namespace xgrad::nn {

namespace {

Tensor activate(const activation_t& activation, const Tensor& x) {
  return std::visit(
      [&](const auto& f) -> Tensor {
        using F = std::decay_t<decltype(f)>;
        if constexpr (std::is_same_v<F, enumtype::kReLU>) return relu(x);
        else if constexpr (std::is_same_v<F, enumtype::kGELU>) return gelu(x);
        else return f(x);
      },
      activation);
}

// src of shape (T, B, d_model), (B, T, d_model) or (T, d_model), or an Error naming the module.
void check_sequence_input(const char* module, const char* name, const Tensor& x, std::int64_t d_model) {
  check(x.defined(), module, ": ", name, " is an undefined tensor");
  if (x.dim() != 2 && x.dim() != 3)
    throw Error(concat(module, ": expected ", name, " of shape (T, B, d_model), (B, T, d_model) with batch_first, or ",
                       "(T, d_model), got shape ", shape_str(x.shape())));
  if (x.size(-1) != d_model)
    throw Error(concat(module, ": ", name, " has ", x.size(-1), " features in its last dim, expected d_model=", d_model,
                       " (", name, " of shape ", shape_str(x.shape()), ")"));
}

// copy, a new layer of original's type and options, given the values of original's parameters,
// its dtype and its training mode: what Python's copy.deepcopy of a layer gives.
template <class Layer>
std::shared_ptr<Layer> copy_of(const Layer& original, std::shared_ptr<Layer> copy) {
  const auto parameters = original.named_parameters();
  if (!parameters.is_empty() && parameters.values().front().dtype() != kFloat32)
    copy->to(parameters.values().front().dtype());
  NoGradGuard no_grad;
  for (auto& item : copy->named_parameters()) item.value().copy_(parameters[item.key()]);
  copy->train(original.is_training());
  return copy;
}

}  // namespace

TransformerEncoderLayerImpl::TransformerEncoderLayerImpl(const TransformerEncoderLayerOptions& options)
    : options(options) {
  check(options.d_model() > 0 && options.nhead() > 0 && options.dim_feedforward() > 0,
        "TransformerEncoderLayer: d_model, nhead and dim_feedforward must be positive, got d_model=",
        options.d_model(), ", nhead=", options.nhead(), ", dim_feedforward=", options.dim_feedforward());
  const std::int64_t d = options.d_model();
  self_attn = register_module("self_attn", MultiheadAttention(MultiheadAttentionOptions(d, options.nhead())
                                                                  .dropout(options.dropout())
                                                                  .batch_first(options.batch_first())));
  linear1 = register_module("linear1", Linear(d, options.dim_feedforward()));
  dropout = register_module("dropout", Dropout(options.dropout()));
  linear2 = register_module("linear2", Linear(options.dim_feedforward(), d));
  norm1 = register_module("norm1", LayerNorm(LayerNormOptions({d}).eps(options.layer_norm_eps())));
  norm2 = register_module("norm2", LayerNorm(LayerNormOptions({d}).eps(options.layer_norm_eps())));
  dropout1 = register_module("dropout1", Dropout(options.dropout()));
  dropout2 = register_module("dropout2", Dropout(options.dropout()));
}

Tensor TransformerEncoderLayerImpl::self_attention_block(const Tensor& x, const Tensor& mask,
                                                         const Tensor& key_padding_mask) {
  return dropout1(std::get<0>(self_attn->forward(x, x, x, key_padding_mask, /*need_weights=*/false, mask)));
}

Tensor TransformerEncoderLayerImpl::feed_forward_block(const Tensor& x) {
  return dropout2(linear2(dropout(activate(options.activation(), linear1(x)))));
}

Tensor TransformerEncoderLayerImpl::forward(const Tensor& src, const Tensor& src_mask,
                                            const Tensor& src_key_padding_mask) {
  check_sequence_input("TransformerEncoderLayer", "src", src, options.d_model());
  Tensor x = src;
  if (options.norm_first()) {
    x = x + self_attention_block(norm1(x), src_mask, src_key_padding_mask);
    return x + feed_forward_block(norm2(x));
  }
  x = norm1(x + self_attention_block(x, src_mask, src_key_padding_mask));
  return norm2(x + feed_forward_block(x));
}

std::shared_ptr<TransformerEncoderLayerImpl> TransformerEncoderLayerImpl::clone_layer() const {
  return copy_of(*this, std::make_shared<TransformerEncoderLayerImpl>(options));
}

void TransformerEncoderLayerImpl::reset_parameters() {
  self_attn->_reset_parameters();
  linear1->reset_parameters();
  linear2->reset_parameters();
  norm1->reset_parameters();
  norm2->reset_parameters();
}

TransformerEncoderImpl::TransformerEncoderImpl(const TransformerEncoderOptions& options) : options(options) {
  check(!options.encoder_layer().is_empty(), "TransformerEncoder: encoder_layer is empty");
  check(options.num_layers() >= 0, "TransformerEncoder: num_layers must be non-negative, got ", options.num_layers());
  layers = register_module("layers", ModuleList());
  for (std::int64_t i = 0; i < options.num_layers(); ++i)
    layers->push_back(std::shared_ptr<Module>(options.encoder_layer()->clone_layer()));
  if (!options.norm().is_empty()) {
    norm = options.norm();
    register_module("norm", norm.ptr());
  }
}

Tensor TransformerEncoderImpl::forward(const Tensor& src, const Tensor& src_mask, const Tensor& src_key_padding_mask) {
  Tensor output = src;
  for (std::size_t i = 0; i < layers->size(); ++i)
    output = layers->at<TransformerEncoderLayerImpl>(i).forward(output, src_mask, src_key_padding_mask);
  return norm.is_empty() ? output : norm.forward(output);
}

TransformerDecoderLayerImpl::TransformerDecoderLayerImpl(const TransformerDecoderLayerOptions& options)
    : options(options) {
  check(options.d_model() > 0 && options.nhead() > 0 && options.dim_feedforward() > 0,
        "TransformerDecoderLayer: d_model, nhead and dim_feedforward must be positive, got d_model=",
        options.d_model(), ", nhead=", options.nhead(), ", dim_feedforward=", options.dim_feedforward());
  const std::int64_t d = options.d_model();
  const auto attention = [&] {
    return MultiheadAttention(
        MultiheadAttentionOptions(d, options.nhead()).dropout(options.dropout()).batch_first(options.batch_first()));
  };
  const auto norm = [&] { return LayerNorm(LayerNormOptions({d}).eps(options.layer_norm_eps())); };
  self_attn = register_module("self_attn", attention());
  multihead_attn = register_module("multihead_attn", attention());
  linear1 = register_module("linear1", Linear(d, options.dim_feedforward()));
  dropout = register_module("dropout", Dropout(options.dropout()));
  linear2 = register_module("linear2", Linear(options.dim_feedforward(), d));
  norm1 = register_module("norm1", norm());
  norm2 = register_module("norm2", norm());
  norm3 = register_module("norm3", norm());
  dropout1 = register_module("dropout1", Dropout(options.dropout()));
  dropout2 = register_module("dropout2", Dropout(options.dropout()));
  dropout3 = register_module("dropout3", Dropout(options.dropout()));
}

Tensor TransformerDecoderLayerImpl::forward(const Tensor& tgt, const Tensor& memory, const Tensor& tgt_mask,
                                            const Tensor& memory_mask, const Tensor& tgt_key_padding_mask,
                                            const Tensor& memory_key_padding_mask) {
  check_sequence_input("TransformerDecoderLayer", "tgt", tgt, options.d_model());
  check_sequence_input("TransformerDecoderLayer", "memory", memory, options.d_model());
  const auto self_attention = [&](const Tensor& x) {
    return dropout1(std::get<0>(self_attn->forward(x, x, x, tgt_key_padding_mask, false, tgt_mask)));
  };
  const auto cross_attention = [&](const Tensor& x) {
    return dropout2(
        std::get<0>(multihead_attn->forward(x, memory, memory, memory_key_padding_mask, false, memory_mask)));
  };
  const auto feed_forward = [&](const Tensor& x) {
    return dropout3(linear2(dropout(activate(options.activation(), linear1(x)))));
  };
  Tensor x = tgt;
  if (options.norm_first()) {
    x = x + self_attention(norm1(x));
    x = x + cross_attention(norm2(x));
    return x + feed_forward(norm3(x));
  }
  x = norm1(x + self_attention(x));
  x = norm2(x + cross_attention(x));
  return norm3(x + feed_forward(x));
}

std::shared_ptr<TransformerDecoderLayerImpl> TransformerDecoderLayerImpl::clone_layer() const {
  return copy_of(*this, std::make_shared<TransformerDecoderLayerImpl>(options));
}

TransformerDecoderImpl::TransformerDecoderImpl(const TransformerDecoderOptions& options) : options(options) {
  check(!options.decoder_layer().is_empty(), "TransformerDecoder: decoder_layer is empty");
  check(options.num_layers() >= 0, "TransformerDecoder: num_layers must be non-negative, got ", options.num_layers());
  layers = register_module("layers", ModuleList());
  for (std::int64_t i = 0; i < options.num_layers(); ++i)
    layers->push_back(std::shared_ptr<Module>(options.decoder_layer()->clone_layer()));
  if (!options.norm().is_empty()) {
    norm = options.norm();
    register_module("norm", norm.ptr());
  }
}

Tensor TransformerDecoderImpl::forward(const Tensor& tgt, const Tensor& memory, const Tensor& tgt_mask,
                                       const Tensor& memory_mask, const Tensor& tgt_key_padding_mask,
                                       const Tensor& memory_key_padding_mask) {
  Tensor output = tgt;
  for (std::size_t i = 0; i < layers->size(); ++i)
    output = layers->at<TransformerDecoderLayerImpl>(i).forward(output, memory, tgt_mask, memory_mask,
                                                                tgt_key_padding_mask, memory_key_padding_mask);
  return norm.is_empty() ? output : norm.forward(output);
}

namespace {

// An encoder or decoder layer's options from the Transformer's (both layer options have the same
// fields).
template <class LayerOptions>
LayerOptions layer_options(const TransformerOptions& options) {
  return LayerOptions(options.d_model(), options.nhead())
      .dim_feedforward(options.dim_feedforward())
      .dropout(options.dropout())
      .activation(options.activation())
      .layer_norm_eps(options.layer_norm_eps())
      .batch_first(options.batch_first())
      .norm_first(options.norm_first());
}

}  // namespace

TransformerImpl::TransformerImpl(const TransformerOptions& options) : options(options) {
  const LayerNormOptions norm_options = LayerNormOptions({options.d_model()}).eps(options.layer_norm_eps());
  encoder = register_module(
      "encoder", TransformerEncoder(TransformerEncoderOptions(layer_options<TransformerEncoderLayerOptions>(options),
                                                              options.num_encoder_layers())
                                        .norm(AnyModule(LayerNorm(norm_options)))));
  decoder = register_module(
      "decoder", TransformerDecoder(TransformerDecoderOptions(layer_options<TransformerDecoderLayerOptions>(options),
                                                              options.num_decoder_layers())
                                        .norm(AnyModule(LayerNorm(norm_options)))));
  // Python's _reset_parameters: every matrix re-drawn (the biases and norms keep theirs).
  NoGradGuard no_grad;
  for (Tensor& parameter : parameters())
    if (parameter.dim() > 1) init::xavier_uniform_(parameter);
}

Tensor TransformerImpl::forward(const Tensor& src, const Tensor& tgt, const Tensor& src_mask, const Tensor& tgt_mask,
                                const Tensor& memory_mask, const Tensor& src_key_padding_mask,
                                const Tensor& tgt_key_padding_mask, const Tensor& memory_key_padding_mask) {
  check_sequence_input("Transformer", "src", src, options.d_model());
  check_sequence_input("Transformer", "tgt", tgt, options.d_model());
  const std::int64_t batch_dim = options.batch_first() ? 0 : 1;
  if (src.dim() == 3 && tgt.dim() == 3 && src.size(batch_dim) != tgt.size(batch_dim))
    throw Error(concat("Transformer: the batch number of src and tgt must be equal (src ", shape_str(src.shape()),
                       ", tgt ", shape_str(tgt.shape()), ")"));
  const Tensor memory = encoder->forward(src, src_mask, src_key_padding_mask);
  return decoder->forward(tgt, memory, tgt_mask, memory_mask, tgt_key_padding_mask, memory_key_padding_mask);
}

Tensor TransformerImpl::generate_square_subsequent_mask(std::int64_t sz) {
  check(sz >= 0, "generate_square_subsequent_mask: sz must be non-negative, got ", sz);
  return triu(full({sz, sz}, -std::numeric_limits<double>::infinity()), 1);
}

}  // namespace xgrad::nn

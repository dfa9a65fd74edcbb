#pragma once
// Transformers, as torch::nn::TransformerEncoderLayer, TransformerEncoder, TransformerDecoderLayer,
// TransformerDecoder and Transformer, with the values and submodule names of Python's nn modules
// (torch 1.13), so a PyTorch state_dict saved as .npz loads (xgrad::load) and gives PyTorch's
// outputs.
//
//   nn::TransformerEncoderLayer layer(nn::TransformerEncoderLayerOptions(64, 4).dim_feedforward(256)
//                                         .dropout(0.1).activation(xgrad::kGELU));
//   nn::TransformerEncoder encoder(nn::TransformerEncoderOptions(layer, 6));  // six copies of layer
//   Tensor mask = nn::TransformerImpl::generate_square_subsequent_mask(T);     // causal
//   Tensor y = encoder->forward(x, mask);                                      // x (T, B, 64)
//
// One layer, post-norm (the default, Python's norm_first=false):
//   x = norm1(x + dropout1(self_attn(x, x, x, mask)))
//   x = norm2(x + dropout2(linear2(dropout(activation(linear1(x))))))
// and with norm_first(true) (pre-norm, as GPT-2):
//   x = x + dropout1(self_attn(norm1(x)));   x = x + dropout2(linear2(dropout(activation(linear1(norm2(x))))))
// A decoder layer adds attention from the target to the encoder's output (memory) between the two,
// with its own norm (norm2; the feed-forward block's is norm3). Masks as nn::MultiheadAttention's
// (Python's meaning: a bool src_mask is true where a position may not attend;
// src_key_padding_mask (B, T) true for padding).
#include <cstdint>
#include <functional>
#include <variant>

#include <xgrad/core/arg.hpp>
#include <xgrad/core/enum.hpp>
#include <xgrad/core/tensor.hpp>
#include <xgrad/nn/any_module.hpp>
#include <xgrad/nn/attention.hpp>
#include <xgrad/nn/dropout.hpp>
#include <xgrad/nn/linear.hpp>
#include <xgrad/nn/module.hpp>
#include <xgrad/nn/module_holder.hpp>
#include <xgrad/nn/module_list.hpp>
#include <xgrad/nn/normalization.hpp>

namespace xgrad::nn {

// The feed-forward activation, as libtorch's: kReLU, kGELU (exact, erf-based) or any function.
using activation_t = std::variant<enumtype::kReLU, enumtype::kGELU, std::function<Tensor(const Tensor&)>>;

// TransformerEncoderLayerOptions(d_model, nhead).dim_feedforward(2048).dropout(0.1).activation(kReLU),
// as libtorch's; layer_norm_eps(1e-5), batch_first(false) and norm_first(false) are Python's, as
// extensions.
class TransformerEncoderLayerOptions {
 public:
  TransformerEncoderLayerOptions(std::int64_t d_model, std::int64_t nhead) : d_model_(d_model), nhead_(nhead) {}

  XGRAD_ARG(std::int64_t, d_model);
  XGRAD_ARG(std::int64_t, nhead);
  XGRAD_ARG(std::int64_t, dim_feedforward) = 2048;
  XGRAD_ARG(double, dropout) = 0.1;
  XGRAD_ARG(activation_t, activation) = enumtype::kReLU{};
  XGRAD_ARG(double, layer_norm_eps) = 1e-5;
  // (B, T, d_model) inputs instead of (T, B, d_model).
  XGRAD_ARG(bool, batch_first) = false;
  // Layer norms before the attention and feed-forward blocks instead of after the residual sums.
  XGRAD_ARG(bool, norm_first) = false;
};

// Submodules under Python's names: self_attn, linear1, dropout, linear2, norm1, norm2, dropout1,
// dropout2.
class TransformerEncoderLayerImpl : public Module {
 public:
  TransformerEncoderLayerImpl(std::int64_t d_model, std::int64_t nhead)
      : TransformerEncoderLayerImpl(TransformerEncoderLayerOptions(d_model, nhead)) {}
  explicit TransformerEncoderLayerImpl(const TransformerEncoderLayerOptions& options);

  // src (T, B, d_model) (or (B, T, d_model) with batch_first, or unbatched (T, d_model)) -> the
  // same shape. src_mask (T, T) or (B nhead, T, T), src_key_padding_mask (B, T).
  Tensor forward(const Tensor& src, const Tensor& src_mask = {}, const Tensor& src_key_padding_mask = {});
  // A new layer with the same options and a copy of every parameter's value (Python's deepcopy,
  // libtorch's clone()): the same initial weights, separate tensors.
  std::shared_ptr<TransformerEncoderLayerImpl> clone_layer() const;
  void reset_parameters();

  TransformerEncoderLayerOptions options;
  MultiheadAttention self_attn = nullptr;
  Linear linear1 = nullptr;
  Dropout dropout = nullptr;
  Linear linear2 = nullptr;
  LayerNorm norm1 = nullptr;
  LayerNorm norm2 = nullptr;
  Dropout dropout1 = nullptr;
  Dropout dropout2 = nullptr;

 private:
  Tensor self_attention_block(const Tensor& x, const Tensor& mask, const Tensor& key_padding_mask);
  Tensor feed_forward_block(const Tensor& x);
};
XGRAD_MODULE(TransformerEncoderLayer);

// TransformerEncoderOptions(encoder_layer, num_layers).norm(AnyModule(LayerNorm(...))), as
// libtorch's; a layer's options instead of a layer build one first.
class TransformerEncoderOptions {
 public:
  TransformerEncoderOptions(TransformerEncoderLayer encoder_layer, std::int64_t num_layers)
      : encoder_layer_(std::move(encoder_layer)), num_layers_(num_layers) {}
  TransformerEncoderOptions(const TransformerEncoderLayerOptions& layer_options, std::int64_t num_layers)
      : encoder_layer_(TransformerEncoderLayer(layer_options)), num_layers_(num_layers) {}

  XGRAD_ARG(TransformerEncoderLayer, encoder_layer) = nullptr;
  XGRAD_ARG(std::int64_t, num_layers);
  // Applied after the last layer (e.g. a LayerNorm); empty for none.
  XGRAD_ARG(AnyModule, norm);
};

// num_layers copies of encoder_layer in a ModuleList "layers" (parameter names
// layers.0.self_attn.in_proj_weight, ...), then norm ("norm.weight") when given.
class TransformerEncoderImpl : public Module {
 public:
  TransformerEncoderImpl(TransformerEncoderLayer encoder_layer, std::int64_t num_layers)
      : TransformerEncoderImpl(TransformerEncoderOptions(std::move(encoder_layer), num_layers)) {}
  explicit TransformerEncoderImpl(const TransformerEncoderOptions& options);

  Tensor forward(const Tensor& src, const Tensor& src_mask = {}, const Tensor& src_key_padding_mask = {});

  TransformerEncoderOptions options;
  ModuleList layers = nullptr;
  AnyModule norm;
};
XGRAD_MODULE(TransformerEncoder);

// TransformerDecoderLayerOptions(d_model, nhead).dim_feedforward(2048).dropout(0.1).activation(kReLU),
// as libtorch's, with Python's layer_norm_eps, batch_first and norm_first as extensions.
class TransformerDecoderLayerOptions {
 public:
  TransformerDecoderLayerOptions(std::int64_t d_model, std::int64_t nhead) : d_model_(d_model), nhead_(nhead) {}

  XGRAD_ARG(std::int64_t, d_model);
  XGRAD_ARG(std::int64_t, nhead);
  XGRAD_ARG(std::int64_t, dim_feedforward) = 2048;
  XGRAD_ARG(double, dropout) = 0.1;
  XGRAD_ARG(activation_t, activation) = enumtype::kReLU{};
  XGRAD_ARG(double, layer_norm_eps) = 1e-5;
  XGRAD_ARG(bool, batch_first) = false;
  XGRAD_ARG(bool, norm_first) = false;
};

// Self-attention over the target, attention from the target to the encoder's output (memory), and
// the feed-forward block, each with a residual sum and a layer norm (Python's order, post-norm
// unless norm_first). Submodules under Python's names: self_attn, multihead_attn, linear1, dropout,
// linear2, norm1, norm2, norm3, dropout1, dropout2, dropout3.
class TransformerDecoderLayerImpl : public Module {
 public:
  TransformerDecoderLayerImpl(std::int64_t d_model, std::int64_t nhead)
      : TransformerDecoderLayerImpl(TransformerDecoderLayerOptions(d_model, nhead)) {}
  explicit TransformerDecoderLayerImpl(const TransformerDecoderLayerOptions& options);

  // tgt (T, B, d_model), memory (S, B, d_model) -> (T, B, d_model); tgt_mask (T, T), memory_mask
  // (T, S), tgt_key_padding_mask (B, T), memory_key_padding_mask (B, S).
  Tensor forward(const Tensor& tgt, const Tensor& memory, const Tensor& tgt_mask = {}, const Tensor& memory_mask = {},
                 const Tensor& tgt_key_padding_mask = {}, const Tensor& memory_key_padding_mask = {});
  // A new layer with the same options and copies of the parameters' values.
  std::shared_ptr<TransformerDecoderLayerImpl> clone_layer() const;

  TransformerDecoderLayerOptions options;
  MultiheadAttention self_attn = nullptr;
  MultiheadAttention multihead_attn = nullptr;
  Linear linear1 = nullptr;
  Dropout dropout = nullptr;
  Linear linear2 = nullptr;
  LayerNorm norm1 = nullptr;
  LayerNorm norm2 = nullptr;
  LayerNorm norm3 = nullptr;
  Dropout dropout1 = nullptr;
  Dropout dropout2 = nullptr;
  Dropout dropout3 = nullptr;
};
XGRAD_MODULE(TransformerDecoderLayer);

// TransformerDecoderOptions(decoder_layer, num_layers).norm(AnyModule(...)), as libtorch's.
class TransformerDecoderOptions {
 public:
  TransformerDecoderOptions(TransformerDecoderLayer decoder_layer, std::int64_t num_layers)
      : decoder_layer_(std::move(decoder_layer)), num_layers_(num_layers) {}
  TransformerDecoderOptions(const TransformerDecoderLayerOptions& layer_options, std::int64_t num_layers)
      : decoder_layer_(TransformerDecoderLayer(layer_options)), num_layers_(num_layers) {}

  XGRAD_ARG(TransformerDecoderLayer, decoder_layer) = nullptr;
  XGRAD_ARG(std::int64_t, num_layers);
  XGRAD_ARG(AnyModule, norm);
};

// num_layers copies of decoder_layer in a ModuleList "layers", then norm when given.
class TransformerDecoderImpl : public Module {
 public:
  TransformerDecoderImpl(TransformerDecoderLayer decoder_layer, std::int64_t num_layers)
      : TransformerDecoderImpl(TransformerDecoderOptions(std::move(decoder_layer), num_layers)) {}
  explicit TransformerDecoderImpl(const TransformerDecoderOptions& options);

  Tensor forward(const Tensor& tgt, const Tensor& memory, const Tensor& tgt_mask = {}, const Tensor& memory_mask = {},
                 const Tensor& tgt_key_padding_mask = {}, const Tensor& memory_key_padding_mask = {});

  TransformerDecoderOptions options;
  ModuleList layers = nullptr;
  AnyModule norm;
};
XGRAD_MODULE(TransformerDecoder);

// TransformerOptions(d_model = 512, nhead = 8, num_encoder_layers = 6, num_decoder_layers = 6)
// .dim_feedforward(2048).dropout(0.1).activation(kReLU), as libtorch's (custom_encoder and
// custom_decoder are not offered); layer_norm_eps, batch_first and norm_first as Python's.
class TransformerOptions {
 public:
  TransformerOptions() = default;
  TransformerOptions(std::int64_t d_model, std::int64_t nhead) : d_model_(d_model), nhead_(nhead) {}
  TransformerOptions(std::int64_t d_model, std::int64_t nhead, std::int64_t num_encoder_layers,
                     std::int64_t num_decoder_layers)
      : d_model_(d_model), nhead_(nhead), num_encoder_layers_(num_encoder_layers),
        num_decoder_layers_(num_decoder_layers) {}

  XGRAD_ARG(std::int64_t, d_model) = 512;
  XGRAD_ARG(std::int64_t, nhead) = 8;
  XGRAD_ARG(std::int64_t, num_encoder_layers) = 6;
  XGRAD_ARG(std::int64_t, num_decoder_layers) = 6;
  XGRAD_ARG(std::int64_t, dim_feedforward) = 2048;
  XGRAD_ARG(double, dropout) = 0.1;
  XGRAD_ARG(activation_t, activation) = enumtype::kReLU{};
  XGRAD_ARG(double, layer_norm_eps) = 1e-5;
  XGRAD_ARG(bool, batch_first) = false;
  XGRAD_ARG(bool, norm_first) = false;
};

// Python's nn.Transformer: encoder (TransformerEncoder with a final LayerNorm) and decoder
// (TransformerDecoder with a final LayerNorm), every matrix parameter re-drawn by xavier_uniform_.
class TransformerImpl : public Module {
 public:
  explicit TransformerImpl(const TransformerOptions& options = {});

  // src (S, B, d_model), tgt (T, B, d_model) -> (T, B, d_model): the decoder's output over the
  // encoder's memory of src.
  Tensor forward(const Tensor& src, const Tensor& tgt, const Tensor& src_mask = {}, const Tensor& tgt_mask = {},
                 const Tensor& memory_mask = {}, const Tensor& src_key_padding_mask = {},
                 const Tensor& tgt_key_padding_mask = {}, const Tensor& memory_key_padding_mask = {});
  // The (sz, sz) float32 causal mask: 0 on and below the diagonal, -inf above (Python's and
  // libtorch's).
  static Tensor generate_square_subsequent_mask(std::int64_t sz);

  TransformerOptions options;
  TransformerEncoder encoder = nullptr;
  TransformerDecoder decoder = nullptr;
};
XGRAD_MODULE(Transformer);

}  // namespace xgrad::nn

#pragma once
// The transformer encoder, as torch::nn::TransformerEncoderLayer and TransformerEncoder, with the
// values and submodule names of Python's nn.TransformerEncoderLayer (torch 1.13), so a PyTorch
// state_dict saved as .npz loads (xgrad::load) and gives PyTorch's outputs.
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
// Masks as nn::MultiheadAttention's (Python's meaning: a bool src_mask is true where a position may
// not attend; src_key_padding_mask (B, T) true for padding).
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

// Holds libtorch's static helper; the full Transformer (encoder and decoder) is not built yet.
class TransformerImpl : public Module {
 public:
  // The (sz, sz) float32 causal mask: 0 on and below the diagonal, -inf above (Python's and
  // libtorch's).
  static Tensor generate_square_subsequent_mask(std::int64_t sz);
};

}  // namespace xgrad::nn

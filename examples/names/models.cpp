#include "models.hpp"

#include "words.hpp"

namespace names {

namespace nn = xgrad::nn;
using xgrad::Tensor;

namespace {

constexpr std::int64_t kEmbedding = 64, kHidden = 128;

class Bigram : public NameModel {
 public:
  Bigram() : logits_(register_module("logits", nn::Embedding(kVocabulary, kVocabulary))) {}
  Tensor forward(const Tensor& x) override { return logits_->forward(x); }

 private:
  nn::Embedding logits_;
};

class Mlp : public NameModel {
 public:
  static constexpr std::int64_t kContext = 3;

  Mlp()
      : embedding_(register_module("embedding", nn::Embedding(kVocabulary, kEmbedding))),
        hidden_(register_module("hidden", nn::Linear(kContext * kEmbedding, kHidden))),
        readout_(register_module("readout", nn::Linear(kHidden, kVocabulary))) {}

  Tensor forward(const Tensor& x) override {
    const std::int64_t B = x.size(0), L = x.size(1);
    // The rows start with kContext - 1 more start marks, so that position t sees characters
    // t - 2, t - 1, t; unfold makes those windows as views.
    const Tensor padded = xgrad::cat({xgrad::zeros({B, kContext - 1}, xgrad::kLong), x}, 1);
    const Tensor windows = padded.unfold(1, kContext, 1);  // (B, L, kContext)
    const Tensor context = embedding_->forward(windows).reshape({B, L, kContext * kEmbedding});
    return readout_->forward(xgrad::tanh(hidden_->forward(context)));
  }

 private:
  nn::Embedding embedding_;
  nn::Linear hidden_, readout_;
};

// RNN, GRU or LSTM: the recurrent layer reads the embedded characters left to right, so the output
// at position t has seen positions 0..t only.
template <class Recurrent, class Options>
class Recurrence : public NameModel {
 public:
  Recurrence()
      : embedding_(register_module("embedding", nn::Embedding(kVocabulary, kEmbedding))),
        recurrent_(register_module("recurrent", Recurrent(Options(kEmbedding, kHidden).batch_first(true)))),
        readout_(register_module("readout", nn::Linear(kHidden, kVocabulary))) {}

  Tensor forward(const Tensor& x) override {
    return readout_->forward(std::get<0>(recurrent_->forward(embedding_->forward(x))));
  }

 private:
  nn::Embedding embedding_;
  Recurrent recurrent_;
  nn::Linear readout_;
};

class Transformer : public NameModel {
 public:
  explicit Transformer(std::int64_t length)
      : tokens_(register_module("tokens", nn::Embedding(kVocabulary, kEmbedding))),
        positions_(register_module("positions", nn::Embedding(length, kEmbedding))),
        encoder_(register_module(
            "encoder", nn::TransformerEncoder(nn::TransformerEncoderOptions(
                           nn::TransformerEncoderLayer(nn::TransformerEncoderLayerOptions(kEmbedding, 4)
                                                           .dim_feedforward(4 * kEmbedding)
                                                           .dropout(0.0)),
                           2)))),
        readout_(register_module("readout", nn::Linear(kEmbedding, kVocabulary))) {}

  Tensor forward(const Tensor& x) override {
    const std::int64_t L = x.size(1);
    const Tensor embedded = tokens_->forward(x) + positions_->forward(xgrad::arange(L));
    // The encoder takes (L, B, E), as libtorch's; the mask keeps each position from seeing later ones.
    const Tensor mask = nn::TransformerImpl::generate_square_subsequent_mask(L);
    return readout_->forward(encoder_->forward(embedded.transpose(0, 1), mask).transpose(0, 1));
  }

 private:
  nn::Embedding tokens_, positions_;
  nn::TransformerEncoder encoder_;
  nn::Linear readout_;
};

}  // namespace

std::shared_ptr<NameModel> make_model(const std::string& name, std::int64_t length) {
  if (name == "bigram") return std::make_shared<Bigram>();
  if (name == "mlp") return std::make_shared<Mlp>();
  if (name == "rnn") return std::make_shared<Recurrence<nn::RNN, nn::RNNOptions>>();
  if (name == "gru") return std::make_shared<Recurrence<nn::GRU, nn::GRUOptions>>();
  if (name == "lstm") return std::make_shared<Recurrence<nn::LSTM, nn::LSTMOptions>>();
  if (name == "transformer") return std::make_shared<Transformer>(length);
  throw xgrad::Error("names: unknown model " + name + " (bigram, mlp, rnn, gru, lstm or transformer)");
}

}  // namespace names

#pragma once
// makemore's ladder of models, each predicting every position's next character from the ones
// before it: x (B, L) int64 -> logits (B, L, 27).
//
//   bigram       a 27 x 27 table of logits: the previous character only
//   mlp          Bengio et al. 2003: the embeddings of the previous 3 characters, a tanh hidden layer
//   rnn gru lstm an embedding, a recurrent layer (nn::RNN / nn::GRU / nn::LSTM), a linear readout
//   transformer  an embedding plus positions, nn::TransformerEncoder with a causal mask, a readout
#include <memory>
#include <string>

#include <xgrad/xgrad.hpp>

namespace names {

class NameModel : public xgrad::nn::Module {
 public:
  virtual xgrad::Tensor forward(const xgrad::Tensor& x) = 0;
};

// name: bigram, mlp, rnn, gru, lstm or transformer; length: L, the longest row.
std::shared_ptr<NameModel> make_model(const std::string& name, std::int64_t length);

}  // namespace names

#pragma once
// One step of the recurrent cells, as ATen's free functions of the same names (torch::lstm_cell,
// torch::gru_cell, ...), which nn::RNNCell, nn::LSTMCell and nn::GRUCell call. Shapes:
//   input (B, I), hx (B, H), w_ih (G*H, I), w_hh (G*H, H), b_ih and b_hh (G*H) or undefined,
// with G the number of gates stacked in the weights, in PyTorch's order:
//   rnn:  G = 1   h' = tanh (or relu)(W_ih x + b_ih + W_hh h + b_hh)
//   lstm: G = 4   i, f, g, o = chunks of W_ih x + b_ih + W_hh h + b_hh
//                 c' = sigmoid(f) * c + sigmoid(i) * tanh(g),  h' = sigmoid(o) * tanh(c')
//   gru:  G = 3   r = sigmoid(W_ir x + b_ir + W_hr h + b_hr),  z likewise,
//                 n = tanh(W_in x + b_in + r * (W_hn h + b_hn)),  h' = (1 - z) * n + z * h
// Each is written with recorded ops (linear, chunk, sigmoid, tanh, mul, add), so gradients of any
// order follow from theirs. The multi-layer RNN, LSTM and GRU are nn/rnn.hpp.
#include <tuple>
#include <vector>

#include <xgrad/core/tensor.hpp>

namespace xgrad {

Tensor rnn_tanh_cell(const Tensor& input, const Tensor& hx, const Tensor& w_ih, const Tensor& w_hh,
                     const Tensor& b_ih = {}, const Tensor& b_hh = {});
Tensor rnn_relu_cell(const Tensor& input, const Tensor& hx, const Tensor& w_ih, const Tensor& w_hh,
                     const Tensor& b_ih = {}, const Tensor& b_hh = {});
// hx is {h, c}; returns (h', c').
std::tuple<Tensor, Tensor> lstm_cell(const Tensor& input, const std::vector<Tensor>& hx, const Tensor& w_ih,
                                     const Tensor& w_hh, const Tensor& b_ih = {}, const Tensor& b_hh = {});
Tensor gru_cell(const Tensor& input, const Tensor& hx, const Tensor& w_ih, const Tensor& w_hh,
                const Tensor& b_ih = {}, const Tensor& b_hh = {});

}  // namespace xgrad
